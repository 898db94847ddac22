//! Adding, removing and testing members: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD
//! and SMOVE.

use bytes::Bytes;
use redoubt_proto::resp::Frame;
use sled::IVec;

use super::{bulks, contains, intset_order, lookup_set, member_key, members_of};
use crate::commands::hash::remove_members;
use crate::commands::{CmdError, Ctx};
use crate::store::{KeyType, Meta};

/// SADD key member [member ...] -> number of members added.
pub(super) fn sadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let mut meta = lookup_set(ctx, key)?.unwrap_or_else(|| Meta::new(KeyType::Set));
    let mut added: u64 = 0;
    for member in &argv[2..] {
        let record = member_key(ctx, key, member);
        if ctx.ks.txn.get(&record)?.is_none() {
            ctx.ks.txn.put(record, IVec::default())?;
            added += 1;
        }
    }
    if added > 0 {
        meta.count += added;
        ctx.ks.save_meta(key, &mut meta)?;
    }
    Ok(Frame::Integer(added as i64))
}

/// SREM key member [member ...] -> number of members removed; the set goes when emptied.
pub(super) fn srem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let Some(mut meta) = lookup_set(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let removed = remove_members(ctx, key, &mut meta, &argv[2..])?;
    Ok(Frame::Integer(removed as i64))
}

/// SMEMBERS key -> set of members (RESP2: array).
pub(super) fn smembers(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_set(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Set(Vec::new()));
    }
    let mut members = members_of(ctx, &argv[1])?;
    intset_order(&mut members);
    Ok(Frame::Set(bulks(members)))
}

/// SISMEMBER key member -> 1 or 0.
pub(super) fn sismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_set(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Integer(0));
    }
    Ok(Frame::Integer(i64::from(contains(
        ctx, &argv[1], &argv[2],
    )?)))
}

/// SMISMEMBER key member [member ...] -> array of 1/0, one per member.
pub(super) fn smismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let exists = lookup_set(ctx, &argv[1])?.is_some();
    let mut out = Vec::with_capacity(argv.len() - 2);
    for member in &argv[2..] {
        let found = exists && contains(ctx, &argv[1], member)?;
        out.push(Frame::Integer(i64::from(found)));
    }
    Ok(Frame::Array(out))
}

/// SCARD key -> number of members.
pub(super) fn scard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let count = lookup_set(ctx, &argv[1])?.map_or(0, |m| m.count);
    Ok(Frame::Integer(count as i64))
}

/// SMOVE source destination member -> 1 if moved, 0 if the member was not in source.
pub(super) fn smove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (src, dst, member) = (&argv[1], &argv[2], &argv[3]);
    let src_meta = ctx.ks.lookup(src)?;
    let dst_meta = ctx.ks.lookup(dst)?;
    let Some(mut src_meta) = src_meta else {
        return Ok(Frame::Integer(0));
    };
    if src_meta.ty != KeyType::Set || dst_meta.as_ref().is_some_and(|m| m.ty != KeyType::Set) {
        return Err(CmdError::WrongType);
    }
    if src == dst {
        return Ok(Frame::Integer(i64::from(contains(ctx, src, member)?)));
    }
    let src_record = member_key(ctx, src, member);
    if ctx.ks.txn.get(&src_record)?.is_none() {
        return Ok(Frame::Integer(0));
    }
    ctx.ks.txn.remove(src_record)?;
    src_meta.count = src_meta.count.saturating_sub(1);
    ctx.ks.save_meta(src, &mut src_meta)?;
    let mut dst_meta = dst_meta.unwrap_or_else(|| Meta::new(KeyType::Set));
    let dst_record = member_key(ctx, dst, member);
    if ctx.ks.txn.get(&dst_record)?.is_none() {
        ctx.ks.txn.put(dst_record, IVec::default())?;
        dst_meta.count += 1;
    }
    ctx.ks.save_meta(dst, &mut dst_meta)?;
    Ok(Frame::Integer(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::set::tests::{bulks_of, set, sorted, WRONGTYPE};
    use crate::commands::testutil::{err, int, TestDb};

    #[test]
    fn sadd_srem_scard_sismember() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SADD", "s", "a", "b", "a"]), int(2));
        assert_eq!(db.exec(&["SADD", "s", "b", "c"]), int(1));
        assert_eq!(db.exec(&["SCARD", "s"]), int(3));
        assert_eq!(db.exec(&["SCARD", "nokey"]), int(0));
        assert_eq!(db.exec(&["SISMEMBER", "s", "a"]), int(1));
        assert_eq!(db.exec(&["SISMEMBER", "s", "z"]), int(0));
        assert_eq!(db.exec(&["SISMEMBER", "nokey", "a"]), int(0));
        assert_eq!(
            db.exec(&["SMISMEMBER", "s", "a", "z", "c"]),
            Frame::Array(vec![int(1), int(0), int(1)])
        );
        assert_eq!(
            db.exec(&["SMISMEMBER", "nokey", "a"]),
            Frame::Array(vec![int(0)])
        );
        assert_eq!(
            db.exec(&["SMISMEMBER", "s"]),
            err("ERR wrong number of arguments for 'smismember' command")
        );
        assert_eq!(db.exec(&["SREM", "s", "a", "z", "a"]), int(1));
        assert_eq!(db.exec(&["SREM", "nokey", "a"]), int(0));
        assert_eq!(db.exec(&["SREM", "s", "b", "c"]), int(2));
        assert_eq!(db.ks.lookup(b"s").expect("lookup"), None);
    }

    #[test]
    fn smembers_is_a_set_and_orders_intsets() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SMEMBERS", "nokey"]), Frame::Set(Vec::new()));
        db.exec(&["SADD", "ints", "17", "-3", "5", "100", "0"]);
        assert_eq!(
            db.exec(&["SMEMBERS", "ints"]),
            set(&["-3", "0", "5", "17", "100"])
        );
        db.exec(&["SADD", "mixed", "b", "a", "1"]);
        assert_eq!(
            sorted(db.exec(&["SMEMBERS", "mixed"])),
            bulks_of(&["1", "a", "b"])
        );
    }

    #[test]
    fn smove_moves_and_checks_types() {
        let mut db = TestDb::new();
        db.exec(&["SADD", "src", "a", "b"]);
        db.exec(&["SADD", "dst", "c"]);
        assert_eq!(db.exec(&["SMOVE", "src", "dst", "a"]), int(1));
        assert_eq!(db.exec(&["SMOVE", "src", "dst", "zz"]), int(0));
        assert_eq!(sorted(db.exec(&["SMEMBERS", "dst"])), bulks_of(&["a", "c"]));
        assert_eq!(db.exec(&["SMOVE", "src", "new", "b"]), int(1));
        assert_eq!(db.ks.lookup(b"src").expect("lookup"), None);
        assert_eq!(db.exec(&["SMEMBERS", "new"]), set(&["b"]));
        assert_eq!(db.exec(&["SMOVE", "nokey", "dst", "a"]), int(0));
        assert_eq!(db.exec(&["SMOVE", "dst", "dst", "a"]), int(1));
        assert_eq!(db.exec(&["SMOVE", "dst", "dst", "zz"]), int(0));
        db.exec(&["SADD", "dst", "x"]);
        assert_eq!(db.exec(&["SMOVE", "new", "dst", "b"]), int(1));
        assert_eq!(db.exec(&["SCARD", "dst"]), int(4));
        db.exec(&["SET", "str", "v"]);
        assert_eq!(db.exec(&["SMOVE", "dst", "str", "a"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["SMOVE", "str", "dst", "a"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["SMOVE", "nokey", "str", "a"]), int(0));
        assert_eq!(db.exec(&["SCARD", "dst"]), int(4));
    }
}
