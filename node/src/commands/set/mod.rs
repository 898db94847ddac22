//! Set commands: SADD, SREM, SMEMBERS, SPOP, SRANDMEMBER, SMOVE, the SINTER/SUNION/SDIFF
//! family (with their STORE variants and SINTERCARD) and SSCAN.
//!
//! A set is its meta record (`KeyType::Set`, `count` = number of members) plus one member
//! record per member: `member_prefix(db, key) + stable_hash(member) + member -> ""`. Every
//! handler looks its keys up first (expiry, WRONGTYPE), keeps `count` exact and ends a change
//! with `save_meta` (or `overwrite`/`delete` for STORE destinations). Random choices come from
//! `ctx.rng` only, so SPOP applies the same way on every node.
//!
//! This file holds the command table and the member helpers every handler shares (lookups,
//! membership, Redis's intset reply order); the handlers are grouped by concern:
//! `membership.rs` (SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SMOVE), `random.rs`
//! (SPOP, SRANDMEMBER), `algebra.rs` (the SINTER/SUNION/SDIFF family) and `scan.rs` (SSCAN).

mod algebra;
mod membership;
mod random;
mod scan;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use self::algebra::{sdiff, sdiffstore, sinter, sintercard, sinterstore, sunion, sunionstore};
use self::membership::{sadd, scard, sismember, smembers, smismember, smove, srem};
use self::random::{spop, srandmember};
use self::scan::sscan;
use super::args::parse_i64_opt;
use super::flag::*;
use super::hash::read_members;
use super::key_flag::*;
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec};
use crate::store::encoding::{hashed_member_key, member_prefix};
use crate::store::{KeyType, Meta};

const SET_CAT: &[&str] = &["set"];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, Exec::Write(sadd))
        .flags(WRITE | DENYOOM | FAST)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "set",
            "Adds one or more members to a set. Creates the key if it doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("scard", 2, Exec::Read(scard))
        .flags(READONLY | FAST)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs("set", "Returns the number of members in a set.", "1.0.0"),
    CommandSpec::new("sdiff", -2, Exec::Read(sdiff))
        .flags(READONLY)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RO | ACCESS)])
        .docs("set", "Returns the difference of multiple sets.", "1.0.0"),
    CommandSpec::new("sdiffstore", -3, Exec::Write(sdiffstore))
        .flags(WRITE | DENYOOM)
        .acl(SET_CAT)
        .keys(&[
            KeySpec::index(1).flags(OW | UPDATE),
            KeySpec::index(2).range(-1, 1, 0).flags(RO | ACCESS),
        ])
        .docs(
            "set",
            "Stores the difference of multiple sets in a key.",
            "1.0.0",
        ),
    CommandSpec::new("sinter", -2, Exec::Read(sinter))
        .flags(READONLY)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RO | ACCESS)])
        .docs("set", "Returns the intersect of multiple sets.", "1.0.0"),
    CommandSpec::new("sintercard", -3, Exec::Read(sintercard))
        .flags(READONLY)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).keynum(0, 1, 1).flags(RO | ACCESS)])
        .docs(
            "set",
            "Returns the number of members of the intersect of multiple sets.",
            "7.0.0",
        ),
    CommandSpec::new("sinterstore", -3, Exec::Write(sinterstore))
        .flags(WRITE | DENYOOM)
        .acl(SET_CAT)
        .keys(&[
            KeySpec::index(1).flags(RW | UPDATE),
            KeySpec::index(2).range(-1, 1, 0).flags(RO | ACCESS),
        ])
        .docs(
            "set",
            "Stores the intersect of multiple sets in a key.",
            "1.0.0",
        ),
    CommandSpec::new("sismember", 3, Exec::Read(sismember))
        .flags(READONLY | FAST)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs(
            "set",
            "Determines whether a member belongs to a set.",
            "1.0.0",
        ),
    CommandSpec::new("smembers", 2, Exec::Read(smembers))
        .flags(READONLY)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs("set", "Returns all members of a set.", "1.0.0"),
    CommandSpec::new("smismember", -3, Exec::Read(smismember))
        .flags(READONLY | FAST)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "set",
            "Determines whether multiple members belong to a set.",
            "6.2.0",
        ),
    CommandSpec::new("smove", 4, Exec::Write(smove))
        .flags(WRITE | FAST)
        .acl(SET_CAT)
        .keys(&[
            KeySpec::index(1).flags(RW | ACCESS | DELETE),
            KeySpec::index(2).flags(RW | INSERT),
        ])
        .docs("set", "Moves a member from one set to another.", "1.0.0"),
    CommandSpec::new("spop", -2, Exec::Write(spop))
        .flags(WRITE | FAST)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "set",
            "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
            "1.0.0",
        ),
    CommandSpec::new("srandmember", -2, Exec::Read(srandmember))
        .flags(READONLY)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "set",
            "Get one or multiple random members from a set",
            "1.0.0",
        ),
    CommandSpec::new("srem", -3, Exec::Write(srem))
        .flags(WRITE | FAST)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "set",
            "Removes one or more members from a set. Deletes the set if the last member was removed.",
            "1.0.0",
        ),
    CommandSpec::new("sscan", -3, Exec::Read(sscan))
        .flags(READONLY)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs("set", "Iterates over members of a set.", "2.8.0"),
    CommandSpec::new("sunion", -2, Exec::Read(sunion))
        .flags(READONLY)
        .acl(SET_CAT)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RO | ACCESS)])
        .docs("set", "Returns the union of multiple sets.", "1.0.0"),
    CommandSpec::new("sunionstore", -3, Exec::Write(sunionstore))
        .flags(WRITE | DENYOOM)
        .acl(SET_CAT)
        .keys(&[
            KeySpec::index(1).flags(OW | UPDATE),
            KeySpec::index(2).range(-1, 1, 0).flags(RO | ACCESS),
        ])
        .docs(
            "set",
            "Stores the union of multiple sets in a key.",
            "1.0.0",
        ),
];

/// Redis's `set-max-intset-entries`: a set of at most this many integers is an intset there,
/// whose replies come in numeric order.
const INTSET_MAX_ENTRIES: usize = 512;
/// Redis's `set-max-listpack-entries` / `-value`: such a set is one listpack there and SSCAN
/// returns it whole with cursor 0.
const LISTPACK_MAX_ENTRIES: u64 = 128;
const LISTPACK_MAX_VALUE: usize = 64;

/// The live set at `key`: None when absent, WRONGTYPE for another type.
fn lookup_set(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Meta>, CmdError> {
    Ok(ctx.ks.lookup_typed(key, KeyType::Set)?)
}

fn member_key(ctx: &Ctx<'_>, key: &[u8], member: &[u8]) -> Vec<u8> {
    hashed_member_key(&member_prefix(ctx.ks.db, key), member)
}

/// Whether `member` is in the (looked up) set `key`.
fn contains(ctx: &Ctx<'_>, key: &[u8], member: &[u8]) -> Result<bool, CmdError> {
    Ok(ctx.ks.txn.get(&member_key(ctx, key, member))?.is_some())
}

/// The members of the (looked up) set `key`, in storage order.
fn members_of(ctx: &Ctx<'_>, key: &[u8]) -> Result<Vec<Bytes>, CmdError> {
    Ok(read_members(ctx, key)?
        .into_iter()
        .map(|(m, _)| m)
        .collect())
}

/// Orders members as Redis replies with them when it would hold them as an intset (at most
/// 512 members, all integers): numerically. Other sets keep storage order.
fn intset_order(members: &mut [Bytes]) {
    if members.len() > INTSET_MAX_ENTRIES {
        return;
    }
    let mut numbered = Vec::with_capacity(members.len());
    for m in members.iter() {
        match parse_i64_opt(m) {
            Some(n) => numbered.push((n, m.clone())),
            None => return,
        }
    }
    numbered.sort_by_key(|(n, _)| *n);
    for (slot, (_, m)) in members.iter_mut().zip(numbered) {
        *slot = m;
    }
}

fn bulks(members: Vec<Bytes>) -> Vec<Frame> {
    members.into_iter().map(Frame::Bulk).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{bulk, err, int, TestDb};

    pub(super) fn sorted(frame: Frame) -> Vec<Frame> {
        let items = match frame {
            Frame::Array(items) | Frame::Set(items) => items,
            other => panic!("not a collection: {other:?}"),
        };
        let mut items = items;
        items.sort_by_key(|f| format!("{f:?}"));
        items
    }

    pub(super) fn bulks_of(items: &[&str]) -> Vec<Frame> {
        let mut v: Vec<Frame> = items.iter().map(|s| bulk(s)).collect();
        v.sort_by_key(|f| format!("{f:?}"));
        v
    }

    pub(super) fn set(items: &[&str]) -> Frame {
        Frame::Set(items.iter().map(|s| bulk(s)).collect())
    }

    pub(super) const WRONGTYPE: &str =
        "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn wrong_type_and_expiry() {
        let mut db = TestDb::new();
        db.exec(&["SET", "str", "v"]);
        for cmd in [
            vec!["SADD", "str", "a"],
            vec!["SREM", "str", "a"],
            vec!["SMEMBERS", "str"],
            vec!["SISMEMBER", "str", "a"],
            vec!["SMISMEMBER", "str", "a"],
            vec!["SCARD", "str"],
            vec!["SPOP", "str"],
            vec!["SPOP", "str", "2"],
            vec!["SRANDMEMBER", "str"],
            vec!["SRANDMEMBER", "str", "2"],
            vec!["SSCAN", "str", "0"],
        ] {
            assert_eq!(db.exec(&cmd), err(WRONGTYPE), "{cmd:?}");
        }
        db.exec(&["SADD", "s", "a", "b"]);
        db.ks
            .set_expire(b"s", Some(db.ks.now_ms + 50))
            .expect("expire");
        assert_eq!(db.exec(&["SCARD", "s"]), int(2));
        db.advance_ms(50);
        assert_eq!(db.exec(&["SCARD", "s"]), int(0));
        assert_eq!(db.exec(&["SMEMBERS", "s"]), Frame::Set(Vec::new()));
        assert_eq!(db.exec(&["SADD", "s", "c"]), int(1));
        assert_eq!(db.exec(&["SMEMBERS", "s"]), set(&["c"]));
    }
}
