//! Hash commands: HSET, HGET, HINCRBY, HGETALL, HSCAN, HRANDFIELD and the rest of the group.
//!
//! A hash is its meta record (`KeyType::Hash`, `count` = number of fields) plus one member
//! record per field: `member_prefix(db, key) + stable_hash(field) + field -> value`. Every
//! handler looks the key up first (expiry, WRONGTYPE), keeps `count` exact and ends a change
//! with `save_meta`; it never touches records of another type.
//!
//! The member helpers of `members.rs` (removing and reading members, SCAN arguments and
//! replies, random sampling) are shared with the set commands. HINCRBYFLOAT computes in the
//! emulated 80-bit `long double` of [`long_double`](super::long_double), as INCRBYFLOAT does.
//!
//! This file holds the command table and the field helpers every handler uses; the handlers
//! are grouped by concern: `fields.rs` (setting, reading and deleting fields, HGETALL/HKEYS/
//! HVALS), `incr.rs` (HINCRBY, HINCRBYFLOAT), `random.rs` (HRANDFIELD) and `scan.rs` (HSCAN).

mod fields;
mod incr;
mod members;
mod random;
mod scan;

use sled::IVec;

use self::fields::{
    hdel, hexists, hget, hgetall, hkeys, hlen, hmget, hmset, hset, hsetnx, hstrlen, hvals,
};
use self::incr::{hincrby, hincrbyfloat};
use self::random::hrandfield;
use self::scan::hscan;
use super::flag::*;
use super::key_flag::*;
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec};
use crate::store::encoding::{hashed_member_key, member_prefix};
use crate::store::{KeyType, Meta};

pub use super::args::parse_scan_cursor;
pub(super) use members::{
    distinct_picks, nth_member, parse_random_count, random_picks, read_members, scan_members,
};
pub use members::{remove_members, scan_reply, ScanArgs};

const HASH: &[&str] = &["hash"];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hdel", -3, Exec::Write(hdel))
        .flags(WRITE | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "hash",
            "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
            "2.0.0",
        ),
    CommandSpec::new("hexists", 3, Exec::Read(hexists))
        .flags(READONLY | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs(
            "hash",
            "Determines whether a field exists in a hash.",
            "2.0.0",
        ),
    CommandSpec::new("hget", 3, Exec::Read(hget))
        .flags(READONLY | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs("hash", "Returns the value of a field in a hash.", "2.0.0"),
    CommandSpec::new("hgetall", 2, Exec::Read(hgetall))
        .flags(READONLY)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs("hash", "Returns all fields and values in a hash.", "2.0.0"),
    CommandSpec::new("hincrby", 4, Exec::Write(hincrby))
        .flags(WRITE | DENYOOM | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "hash",
            "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
            "2.0.0",
        ),
    CommandSpec::new("hincrbyfloat", 4, Exec::Write(hincrbyfloat))
        .flags(WRITE | DENYOOM | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "hash",
            "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
            "2.6.0",
        ),
    CommandSpec::new("hkeys", 2, Exec::Read(hkeys))
        .flags(READONLY)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs("hash", "Returns all fields in a hash.", "2.0.0"),
    CommandSpec::new("hlen", 2, Exec::Read(hlen))
        .flags(READONLY | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs("hash", "Returns the number of fields in a hash.", "2.0.0"),
    CommandSpec::new("hmget", -3, Exec::Read(hmget))
        .flags(READONLY | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "hash",
            "Returns the values of all fields in a hash.",
            "2.0.0",
        ),
    CommandSpec::new("hmset", -4, Exec::Write(hmset))
        .flags(WRITE | DENYOOM | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs("hash", "Sets the values of multiple fields.", "2.0.0"),
    CommandSpec::new("hrandfield", -2, Exec::Read(hrandfield))
        .flags(READONLY)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "hash",
            "Returns one or more random fields from a hash.",
            "6.2.0",
        ),
    CommandSpec::new("hscan", -3, Exec::Read(hscan))
        .flags(READONLY)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "hash",
            "Iterates over fields and values of a hash.",
            "2.8.0",
        ),
    CommandSpec::new("hset", -4, Exec::Write(hset))
        .flags(WRITE | DENYOOM | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "hash",
            "Creates or modifies the value of a field in a hash.",
            "2.0.0",
        ),
    CommandSpec::new("hsetnx", 4, Exec::Write(hsetnx))
        .flags(WRITE | DENYOOM | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "hash",
            "Sets the value of a field in a hash only when the field doesn't exist.",
            "2.0.0",
        ),
    CommandSpec::new("hstrlen", 3, Exec::Read(hstrlen))
        .flags(READONLY | FAST)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs(
            "hash",
            "Returns the length of the value of a field.",
            "3.2.0",
        ),
    CommandSpec::new("hvals", 2, Exec::Read(hvals))
        .flags(READONLY)
        .acl(HASH)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs("hash", "Returns all values in a hash.", "2.0.0"),
];

/// The live hash at `key`: None when absent, WRONGTYPE for another type.
fn lookup_hash(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Meta>, CmdError> {
    Ok(ctx.ks.lookup_typed(key, KeyType::Hash)?)
}

fn field_key(ctx: &Ctx<'_>, key: &[u8], field: &[u8]) -> Vec<u8> {
    hashed_member_key(&member_prefix(ctx.ks.db, key), field)
}

/// The value of `field` of the (looked up) hash `key`.
fn field_value(ctx: &Ctx<'_>, key: &[u8], field: &[u8]) -> Result<Option<IVec>, CmdError> {
    Ok(ctx.ks.txn.get(&field_key(ctx, key, field))?)
}

/// Sets `field` to `value`, counting a new field in `meta`; true when the field is new.
fn put_field(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    meta: &mut Meta,
    field: &[u8],
    value: &[u8],
) -> Result<bool, CmdError> {
    let record = field_key(ctx, key, field);
    let is_new = ctx.ks.txn.get(&record)?.is_none();
    ctx.ks.txn.put(record, value)?;
    if is_new {
        meta.count += 1;
    }
    Ok(is_new)
}

#[cfg(test)]
mod tests {
    use redoubt_proto::resp::Frame;

    use crate::commands::testutil::{bulk, err, int, TestDb};

    pub(super) fn sorted(frame: Frame) -> Vec<Frame> {
        let Frame::Array(mut items) = frame else {
            panic!("not an array: {frame:?}");
        };
        items.sort_by_key(|f| format!("{f:?}"));
        items
    }

    #[test]
    fn wrong_type_and_expiry() {
        let mut db = TestDb::new();
        db.exec(&["SET", "s", "v"]);
        let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
        for cmd in [
            vec!["HSET", "s", "a", "1"],
            vec!["HMSET", "s", "a", "1"],
            vec!["HSETNX", "s", "a", "1"],
            vec!["HGET", "s", "a"],
            vec!["HMGET", "s", "a"],
            vec!["HDEL", "s", "a"],
            vec!["HLEN", "s"],
            vec!["HEXISTS", "s", "a"],
            vec!["HSTRLEN", "s", "a"],
            vec!["HGETALL", "s"],
            vec!["HKEYS", "s"],
            vec!["HVALS", "s"],
            vec!["HINCRBY", "s", "a", "1"],
            vec!["HINCRBYFLOAT", "s", "a", "1"],
            vec!["HRANDFIELD", "s"],
            vec!["HRANDFIELD", "s", "0"],
            vec!["HSCAN", "s", "0"],
        ] {
            assert_eq!(db.exec(&cmd), wrongtype, "{cmd:?}");
        }
        db.exec(&["HSET", "h", "a", "1"]);
        db.ks
            .set_expire(b"h", Some(db.ks.now_ms + 100))
            .expect("expire");
        assert_eq!(db.exec(&["HLEN", "h"]), int(1));
        db.advance_ms(100);
        assert_eq!(db.exec(&["HGET", "h", "a"]), Frame::Null);
        assert_eq!(db.exec(&["HLEN", "h"]), int(0));
        assert_eq!(db.exec(&["HSET", "h", "b", "2"]), int(1));
        assert_eq!(sorted(db.exec(&["HKEYS", "h"])), vec![bulk("b")]);
    }
}
