//! Set algebra: SINTER, SUNION, SDIFF, their STORE variants and SINTERCARD.

use std::collections::BTreeSet;

use bytes::Bytes;
use redoubt_proto::resp::Frame;
use sled::IVec;

use super::{bulks, intset_order, lookup_set};
use crate::commands::args::{is_kw, parse_i64_opt};
use crate::commands::{CmdError, Ctx};
use crate::store::encoding::{hashed_member_key, member_prefix};
use crate::store::{KeyType, Meta};

/// Looks up every key of a multi-set operation first, as Redis does: any key of another type
/// is WRONGTYPE, missing keys are empty sets (None).
fn lookup_sets(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Result<Vec<Option<Meta>>, CmdError> {
    keys.iter().map(|k| lookup_set(ctx, k)).collect()
}

/// Members of the intersection of `keys`, walking the smallest set and probing the others;
/// stops at `limit` members (0: no limit).
fn intersect(ctx: &mut Ctx<'_>, keys: &[Bytes], limit: usize) -> Result<Vec<Bytes>, CmdError> {
    let metas = lookup_sets(ctx, keys)?;
    let mut sets: Vec<(&Bytes, u64)> = Vec::with_capacity(keys.len());
    for (key, meta) in keys.iter().zip(&metas) {
        match meta {
            Some(m) => sets.push((key, m.count)),
            None => return Ok(Vec::new()),
        }
    }
    sets.sort_by_key(|(_, count)| *count);
    let Some(&(smallest, _)) = sets.first() else {
        return Ok(Vec::new());
    };
    let others: Vec<Vec<u8>> = sets
        .iter()
        .skip(1)
        .filter(|(k, _)| *k != smallest)
        .map(|(k, _)| member_prefix(ctx.ks.db, k))
        .collect();
    let prefix = member_prefix(ctx.ks.db, smallest);
    let mut out = Vec::new();
    for item in ctx.ks.txn.prefix(&prefix, false) {
        let (record, _) = item?;
        let member = record.get(prefix.len() + 8..).unwrap_or_default();
        let mut in_all = true;
        for other in &others {
            if ctx.ks.txn.get(&hashed_member_key(other, member))?.is_none() {
                in_all = false;
                break;
            }
        }
        if in_all {
            out.push(Bytes::copy_from_slice(member));
            if limit > 0 && out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// Members of the union of `keys`, each once, in storage order.
fn union(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Result<Vec<Bytes>, CmdError> {
    let metas = lookup_sets(ctx, keys)?;
    // Keyed by (hash, member): storage order, and each member once.
    let mut acc: BTreeSet<Vec<u8>> = BTreeSet::new();
    for (key, meta) in keys.iter().zip(&metas) {
        if meta.is_none() {
            continue;
        }
        let prefix = member_prefix(ctx.ks.db, key);
        for item in ctx.ks.txn.prefix(&prefix, false) {
            let (record, _) = item?;
            acc.insert(record.get(prefix.len()..).unwrap_or_default().to_vec());
        }
    }
    Ok(acc
        .into_iter()
        .map(|suffix| Bytes::copy_from_slice(suffix.get(8..).unwrap_or_default()))
        .collect())
}

/// Members of the first of `keys` that are in none of the others.
fn difference(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Result<Vec<Bytes>, CmdError> {
    let metas = lookup_sets(ctx, keys)?;
    let Some(Some(_)) = metas.first() else {
        return Ok(Vec::new());
    };
    let others: Vec<Vec<u8>> = keys
        .iter()
        .zip(&metas)
        .skip(1)
        .filter(|(_, m)| m.is_some())
        .map(|(k, _)| member_prefix(ctx.ks.db, k))
        .collect();
    let prefix = member_prefix(ctx.ks.db, &keys[0]);
    let mut out = Vec::new();
    for item in ctx.ks.txn.prefix(&prefix, false) {
        let (record, _) = item?;
        let member = record.get(prefix.len() + 8..).unwrap_or_default();
        let mut elsewhere = false;
        for other in &others {
            if ctx.ks.txn.get(&hashed_member_key(other, member))?.is_some() {
                elsewhere = true;
                break;
            }
        }
        if !elsewhere {
            out.push(Bytes::copy_from_slice(member));
        }
    }
    Ok(out)
}

/// Makes `dst` a set of exactly `members` (replacing whatever it held), or deletes it when
/// there are none; replies the number of members.
fn store_set(ctx: &mut Ctx<'_>, dst: &[u8], members: Vec<Bytes>) -> Result<Frame, CmdError> {
    if members.is_empty() {
        ctx.ks.delete(dst)?;
        return Ok(Frame::Integer(0));
    }
    let mut meta = Meta::new(KeyType::Set);
    meta.count = members.len() as u64;
    ctx.ks.overwrite(dst, &mut meta)?;
    let prefix = member_prefix(ctx.ks.db, dst);
    for member in &members {
        ctx.ks
            .txn
            .put(hashed_member_key(&prefix, member), IVec::default())?;
    }
    Ok(Frame::Integer(members.len() as i64))
}

fn set_reply(mut members: Vec<Bytes>) -> Frame {
    intset_order(&mut members);
    Frame::Set(bulks(members))
}

/// SINTER key [key ...] -> set of the members in every set.
pub(super) fn sinter(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    intersect(ctx, &argv[1..], 0).map(set_reply)
}

/// SUNION key [key ...] -> set of the members in any set.
pub(super) fn sunion(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    union(ctx, &argv[1..]).map(set_reply)
}

/// SDIFF key [key ...] -> set of the members of the first set in none of the others.
pub(super) fn sdiff(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    difference(ctx, &argv[1..]).map(set_reply)
}

/// SINTERSTORE destination key [key ...] -> size of the intersection stored at destination.
pub(super) fn sinterstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let members = intersect(ctx, &argv[2..], 0)?;
    store_set(ctx, &argv[1], members)
}

/// SUNIONSTORE destination key [key ...] -> size of the union stored at destination.
pub(super) fn sunionstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let members = union(ctx, &argv[2..])?;
    store_set(ctx, &argv[1], members)
}

/// SDIFFSTORE destination key [key ...] -> size of the difference stored at destination.
pub(super) fn sdiffstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let members = difference(ctx, &argv[2..])?;
    store_set(ctx, &argv[1], members)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit] -> size of the intersection, counting
/// stopped at limit (0: no limit).
pub(super) fn sintercard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let numkeys = parse_i64_opt(&argv[1])
        .filter(|n| *n > 0)
        .ok_or_else(|| CmdError::other("ERR numkeys should be greater than 0"))?;
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > argv.len() - 2 {
        return Err(CmdError::other(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let keys = &argv[2..2 + numkeys];
    let mut limit: usize = 0;
    let mut i = 2 + numkeys;
    while i < argv.len() {
        match argv.get(i + 1) {
            Some(value) if is_kw(&argv[i], "LIMIT") => {
                let n = parse_i64_opt(value)
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| CmdError::other("ERR LIMIT can't be negative"))?;
                limit = usize::try_from(n).unwrap_or(usize::MAX);
                i += 2;
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let members = intersect(ctx, keys, limit)?;
    Ok(Frame::Integer(members.len() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::set::tests::{bulks_of, set, sorted, WRONGTYPE};
    use crate::commands::testutil::{err, int, TestDb};

    #[test]
    fn sinter_sunion_sdiff() {
        let mut db = TestDb::new();
        db.exec(&["SADD", "a", "1", "2", "3", "x"]);
        db.exec(&["SADD", "b", "2", "3", "4", "x"]);
        db.exec(&["SADD", "c", "3", "x", "y"]);
        assert_eq!(
            sorted(db.exec(&["SINTER", "a", "b", "c"])),
            bulks_of(&["3", "x"])
        );
        assert_eq!(
            sorted(db.exec(&["SINTER", "a", "a"])),
            bulks_of(&["1", "2", "3", "x"])
        );
        assert_eq!(db.exec(&["SINTER", "a", "nokey"]), Frame::Set(Vec::new()));
        assert_eq!(
            sorted(db.exec(&["SUNION", "a", "b", "nokey"])),
            bulks_of(&["1", "2", "3", "4", "x"])
        );
        assert_eq!(sorted(db.exec(&["SDIFF", "a", "b"])), bulks_of(&["1"]));
        assert_eq!(
            sorted(db.exec(&["SDIFF", "a", "nokey", "c"])),
            bulks_of(&["1", "2"])
        );
        assert_eq!(db.exec(&["SDIFF", "nokey", "a"]), Frame::Set(Vec::new()));
        assert_eq!(db.exec(&["SDIFF", "a", "a"]), Frame::Set(Vec::new()));
        db.exec(&["SADD", "i1", "5", "3", "1"]);
        db.exec(&["SADD", "i2", "4", "2"]);
        assert_eq!(
            db.exec(&["SUNION", "i1", "i2"]),
            set(&["1", "2", "3", "4", "5"])
        );
        db.exec(&["SET", "str", "v"]);
        for cmd in [
            vec!["SINTER", "nokey", "str"],
            vec!["SUNION", "a", "str"],
            vec!["SDIFF", "nokey", "str"],
            vec!["SINTERSTORE", "d", "nokey", "str"],
            vec!["SUNIONSTORE", "d", "a", "str"],
            vec!["SDIFFSTORE", "d", "a", "str"],
            vec!["SINTERCARD", "2", "a", "str"],
        ] {
            assert_eq!(db.exec(&cmd), err(WRONGTYPE), "{cmd:?}");
        }
    }

    #[test]
    fn store_variants_overwrite_or_delete_destination() {
        let mut db = TestDb::new();
        db.exec(&["SADD", "a", "1", "2", "3"]);
        db.exec(&["SADD", "b", "2", "3", "4"]);
        db.exec(&["SET", "dst", "string"]);
        db.ks
            .set_expire(b"dst", Some(db.ks.now_ms + 10_000))
            .expect("expire");
        assert_eq!(db.exec(&["SINTERSTORE", "dst", "a", "b"]), int(2));
        assert_eq!(sorted(db.exec(&["SMEMBERS", "dst"])), bulks_of(&["2", "3"]));
        assert_eq!(
            db.ks
                .lookup(b"dst")
                .expect("lookup")
                .and_then(|m| m.expire_at),
            None
        );
        assert_eq!(db.exec(&["SUNIONSTORE", "dst", "a", "b"]), int(4));
        assert_eq!(db.exec(&["SCARD", "dst"]), int(4));
        assert_eq!(db.exec(&["SDIFFSTORE", "dst", "a", "b"]), int(1));
        assert_eq!(db.exec(&["SMEMBERS", "dst"]), set(&["1"]));
        // The destination may be one of the sources.
        assert_eq!(db.exec(&["SUNIONSTORE", "a", "a", "b"]), int(4));
        assert_eq!(db.exec(&["SCARD", "a"]), int(4));
        assert_eq!(db.exec(&["SINTERSTORE", "dst", "a", "nokey"]), int(0));
        assert_eq!(db.ks.lookup(b"dst").expect("lookup"), None);
        db.exec(&["SADD", "dst", "z"]);
        assert_eq!(db.exec(&["SDIFFSTORE", "dst", "b", "a"]), int(0));
        assert_eq!(db.ks.lookup(b"dst").expect("lookup"), None);
    }

    #[test]
    fn sintercard_counts_with_limit() {
        let mut db = TestDb::new();
        db.exec(&["SADD", "a", "1", "2", "3", "4"]);
        db.exec(&["SADD", "b", "2", "3", "4", "5"]);
        assert_eq!(db.exec(&["SINTERCARD", "2", "a", "b"]), int(3));
        assert_eq!(
            db.exec(&["SINTERCARD", "2", "a", "b", "LIMIT", "2"]),
            int(2)
        );
        assert_eq!(
            db.exec(&["SINTERCARD", "2", "a", "b", "limit", "0"]),
            int(3)
        );
        assert_eq!(db.exec(&["SINTERCARD", "1", "a"]), int(4));
        assert_eq!(db.exec(&["SINTERCARD", "2", "a", "nokey"]), int(0));
        assert_eq!(
            db.exec(&["SINTERCARD", "0", "a"]),
            err("ERR numkeys should be greater than 0")
        );
        assert_eq!(
            db.exec(&["SINTERCARD", "x", "a"]),
            err("ERR numkeys should be greater than 0")
        );
        assert_eq!(
            db.exec(&["SINTERCARD", "3", "a", "b"]),
            err("ERR Number of keys can't be greater than number of args")
        );
        assert_eq!(
            db.exec(&["SINTERCARD", "2", "a", "b", "LIMIT", "-1"]),
            err("ERR LIMIT can't be negative")
        );
        assert_eq!(
            db.exec(&["SINTERCARD", "2", "a", "b", "LIMIT"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["SINTERCARD", "1", "a", "b"]),
            err("ERR syntax error")
        );
    }
}
