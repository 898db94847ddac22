//! Set commands: SADD, SREM, SMEMBERS, SPOP, SRANDMEMBER, SMOVE, the SINTER/SUNION/SDIFF
//! family (with their STORE variants and SINTERCARD) and SSCAN.
//!
//! A set is its meta record (`KeyType::Set`, `count` = number of members) plus one member
//! record per member: `member_prefix(db, key) + stable_hash(member) + member -> ""`. Every
//! handler looks its keys up first (expiry, WRONGTYPE), keeps `count` exact and ends a change
//! with `save_meta` (or `overwrite`/`delete` for STORE destinations). Random choices come from
//! `ctx.rng` only, so SPOP applies the same way on every node.

use std::collections::BTreeSet;

use bytes::Bytes;
use redoubt_proto::resp::Frame;
use sled::IVec;

use super::args::{is_kw, parse_i64, parse_i64_opt};
use super::flag::*;
use super::hash::{
    distinct_picks, nth_member, parse_random_count, parse_scan_cursor, random_picks, read_members,
    remove_members, scan_members, scan_reply, ScanArgs,
};
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

/// SADD key member [member ...] -> number of members added.
fn sadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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
fn srem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let Some(mut meta) = lookup_set(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let removed = remove_members(ctx, key, &mut meta, &argv[2..])?;
    Ok(Frame::Integer(removed as i64))
}

/// SMEMBERS key -> set of members (RESP2: array).
fn smembers(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_set(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Set(Vec::new()));
    }
    let mut members = members_of(ctx, &argv[1])?;
    intset_order(&mut members);
    Ok(Frame::Set(bulks(members)))
}

/// SISMEMBER key member -> 1 or 0.
fn sismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_set(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Integer(0));
    }
    Ok(Frame::Integer(i64::from(contains(
        ctx, &argv[1], &argv[2],
    )?)))
}

/// SMISMEMBER key member [member ...] -> array of 1/0, one per member.
fn smismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let exists = lookup_set(ctx, &argv[1])?.is_some();
    let mut out = Vec::with_capacity(argv.len() - 2);
    for member in &argv[2..] {
        let found = exists && contains(ctx, &argv[1], member)?;
        out.push(Frame::Integer(i64::from(found)));
    }
    Ok(Frame::Array(out))
}

/// SCARD key -> number of members.
fn scard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let count = lookup_set(ctx, &argv[1])?.map_or(0, |m| m.count);
    Ok(Frame::Integer(count as i64))
}

/// SPOP key [count] -> a removed random member (nil when absent), or with count a set of up
/// to count distinct removed members.
fn spop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if argv.len() == 3 {
        let count = parse_i64(&argv[2])?;
        let count = u64::try_from(count)
            .map_err(|_| CmdError::other("ERR value is out of range, must be positive"))?;
        return spop_count(ctx, key, count);
    }
    let Some(mut meta) = lookup_set(ctx, key)? else {
        return Ok(Frame::Null);
    };
    let index = ctx.rng.below(meta.count);
    let Some((member, _)) = nth_member(ctx, key, index)? else {
        return Ok(Frame::Null);
    };
    ctx.ks.txn.remove(member_key(ctx, key, &member))?;
    meta.count = meta.count.saturating_sub(1);
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Bulk(member))
}

fn spop_count(ctx: &mut Ctx<'_>, key: &[u8], count: u64) -> Result<Frame, CmdError> {
    let Some(mut meta) = lookup_set(ctx, key)? else {
        return Ok(Frame::Set(Vec::new()));
    };
    if count == 0 {
        return Ok(Frame::Set(Vec::new()));
    }
    let mut members = members_of(ctx, key)?;
    if count >= members.len() as u64 {
        intset_order(&mut members);
        ctx.ks.delete(key)?;
        return Ok(Frame::Set(bulks(members)));
    }
    let picks = distinct_picks(ctx.rng, members.len(), count as usize);
    let mut out = Vec::with_capacity(picks.len());
    for i in picks {
        let Some(member) = members.get(i) else {
            continue;
        };
        ctx.ks.txn.remove(member_key(ctx, key, member))?;
        out.push(Frame::Bulk(member.clone()));
    }
    meta.count = meta.count.saturating_sub(out.len() as u64);
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Set(out))
}

/// SRANDMEMBER key [count] -> a random member (nil when absent), or an array of members:
/// count > 0 distinct (at most all), count < 0 exactly |count| that may repeat.
fn srandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if argv.len() == 2 {
        let Some(meta) = lookup_set(ctx, key)? else {
            return Ok(Frame::Null);
        };
        let index = ctx.rng.below(meta.count);
        return Ok(match nth_member(ctx, key, index)? {
            Some((member, _)) => Frame::Bulk(member),
            None => Frame::Null,
        });
    }
    let count = parse_random_count(&argv[2])?;
    if lookup_set(ctx, key)?.is_none() || count == 0 {
        return Ok(Frame::Array(Vec::new()));
    }
    let mut members = members_of(ctx, key)?;
    if count > 0 && count as u64 >= members.len() as u64 {
        intset_order(&mut members);
        return Ok(Frame::Array(bulks(members)));
    }
    let picks = random_picks(ctx.rng, members.len(), count)?;
    Ok(Frame::Array(
        picks
            .into_iter()
            .filter_map(|i| members.get(i).cloned().map(Frame::Bulk))
            .collect(),
    ))
}

/// SMOVE source destination member -> 1 if moved, 0 if the member was not in source.
fn smove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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
fn sinter(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    intersect(ctx, &argv[1..], 0).map(set_reply)
}

/// SUNION key [key ...] -> set of the members in any set.
fn sunion(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    union(ctx, &argv[1..]).map(set_reply)
}

/// SDIFF key [key ...] -> set of the members of the first set in none of the others.
fn sdiff(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    difference(ctx, &argv[1..]).map(set_reply)
}

/// SINTERSTORE destination key [key ...] -> size of the intersection stored at destination.
fn sinterstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let members = intersect(ctx, &argv[2..], 0)?;
    store_set(ctx, &argv[1], members)
}

/// SUNIONSTORE destination key [key ...] -> size of the union stored at destination.
fn sunionstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let members = union(ctx, &argv[2..])?;
    store_set(ctx, &argv[1], members)
}

/// SDIFFSTORE destination key [key ...] -> size of the difference stored at destination.
fn sdiffstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let members = difference(ctx, &argv[2..])?;
    store_set(ctx, &argv[1], members)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit] -> size of the intersection, counting
/// stopped at limit (0: no limit).
fn sintercard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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

/// SSCAN key cursor [MATCH pattern] [COUNT count] -> [next cursor, [member, ...]].
/// Small sets (an intset or listpack in Redis) come whole with cursor 0.
fn sscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let cursor = parse_scan_cursor(&argv[2])?;
    let Some(meta) = lookup_set(ctx, key)? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = ScanArgs::parse(&argv[3..])?;
    let mut page = None;
    if meta.count <= INTSET_MAX_ENTRIES as u64 {
        let mut members = members_of(ctx, key)?;
        let all_ints = members.iter().all(|m| parse_i64_opt(m).is_some());
        let listpack = meta.count <= LISTPACK_MAX_ENTRIES
            && members.iter().all(|m| m.len() <= LISTPACK_MAX_VALUE);
        if all_ints || listpack {
            intset_order(&mut members);
            page = Some((0, members));
        }
    }
    let (next, members) = match page {
        Some(p) => p,
        None => {
            let (next, items) = scan_members(ctx, key, cursor, opts.count)?;
            (next, items.into_iter().map(|(m, _)| m).collect())
        }
    };
    let items = members
        .into_iter()
        .filter(|m| opts.matches(m))
        .map(Frame::Bulk)
        .collect();
    Ok(scan_reply(next, items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

    fn sorted(frame: Frame) -> Vec<Frame> {
        let items = match frame {
            Frame::Array(items) | Frame::Set(items) => items,
            other => panic!("not a collection: {other:?}"),
        };
        let mut items = items;
        items.sort_by_key(|f| format!("{f:?}"));
        items
    }

    fn bulks_of(items: &[&str]) -> Vec<Frame> {
        let mut v: Vec<Frame> = items.iter().map(|s| bulk(s)).collect();
        v.sort_by_key(|f| format!("{f:?}"));
        v
    }

    fn set(items: &[&str]) -> Frame {
        Frame::Set(items.iter().map(|s| bulk(s)).collect())
    }

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

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
    fn spop_single_and_count() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SPOP", "nokey"]), Frame::Null);
        assert_eq!(db.exec(&["SPOP", "nokey", "3"]), Frame::Set(Vec::new()));
        db.exec(&["SADD", "s", "a", "b", "c", "d", "e"]);
        let Frame::Bulk(one) = db.exec(&["SPOP", "s"]) else {
            panic!("bulk");
        };
        assert_eq!(
            db.exec(&["SISMEMBER", "s", std::str::from_utf8(&one).expect("utf8")]),
            int(0)
        );
        assert_eq!(db.exec(&["SCARD", "s"]), int(4));
        assert_eq!(db.exec(&["SPOP", "s", "0"]), Frame::Set(Vec::new()));
        let Frame::Set(two) = db.exec(&["SPOP", "s", "2"]) else {
            panic!("set");
        };
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        assert_eq!(db.exec(&["SCARD", "s"]), int(2));
        let Frame::Set(rest) = db.exec(&["SPOP", "s", "10"]) else {
            panic!("set");
        };
        assert_eq!(rest.len(), 2);
        assert_eq!(db.ks.lookup(b"s").expect("lookup"), None);
        db.exec(&["SADD", "s", "a"]);
        assert_eq!(
            db.exec(&["SPOP", "s", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            db.exec(&["SPOP", "s", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(db.exec(&["SPOP", "s", "1", "2"]), err("ERR syntax error"));
    }

    #[test]
    fn spop_is_deterministic_for_a_seed() {
        let run = || {
            let mut db = TestDb::new();
            for i in 0..50 {
                db.exec(&["SADD", "s", &format!("m{i}")]);
            }
            (db.exec(&["SPOP", "s"]), db.exec(&["SPOP", "s", "7"]))
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn srandmember_counts() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SRANDMEMBER", "nokey"]), Frame::Null);
        assert_eq!(db.exec(&["SRANDMEMBER", "nokey", "5"]), arr(&[]));
        db.exec(&["SADD", "s", "a", "b", "c"]);
        assert!([bulk("a"), bulk("b"), bulk("c")].contains(&db.exec(&["SRANDMEMBER", "s"])));
        assert_eq!(db.exec(&["SRANDMEMBER", "s", "0"]), arr(&[]));
        assert_eq!(
            sorted(db.exec(&["SRANDMEMBER", "s", "10"])),
            bulks_of(&["a", "b", "c"])
        );
        let Frame::Array(two) = db.exec(&["SRANDMEMBER", "s", "2"]) else {
            panic!("array");
        };
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        let Frame::Array(many) = db.exec(&["SRANDMEMBER", "s", "-10"]) else {
            panic!("array");
        };
        assert_eq!(many.len(), 10);
        assert_eq!(db.exec(&["SCARD", "s"]), int(3));
        assert_eq!(
            db.exec(&["SRANDMEMBER", "s", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(
            db.exec(&["SRANDMEMBER", "s", "1", "2"]),
            err("ERR syntax error")
        );
        db.exec(&["SADD", "ints", "3", "1", "2"]);
        assert_eq!(
            db.exec(&["SRANDMEMBER", "ints", "3"]),
            arr(&["1", "2", "3"])
        );
    }

    #[test]
    fn srandmember_distinct_on_large_set() {
        let mut db = TestDb::new();
        let mut argv = vec!["SADD".to_string(), "s".to_string()];
        argv.extend((0..5000).map(|i| format!("m{i}")));
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        assert_eq!(db.exec(&refs), int(5000));
        let Frame::Array(picked) = db.exec(&["SRANDMEMBER", "s", "4990"]) else {
            panic!("array");
        };
        let distinct: std::collections::HashSet<String> =
            picked.iter().map(|f| format!("{f:?}")).collect();
        assert_eq!(distinct.len(), 4990);
        let Frame::Set(popped) = db.exec(&["SPOP", "s", "4000"]) else {
            panic!("set");
        };
        assert_eq!(popped.len(), 4000);
        assert_eq!(db.exec(&["SCARD", "s"]), int(1000));
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

    #[test]
    fn sscan_small_and_large_sets() {
        let mut db = TestDb::new();
        assert_eq!(
            db.exec(&["SSCAN", "nokey", "0"]),
            Frame::Array(vec![bulk("0"), arr(&[])])
        );
        db.exec(&["SADD", "small", "1", "a", "11"]);
        assert_eq!(
            sorted_scan(db.exec(&["SSCAN", "small", "0", "MATCH", "*1*", "COUNT", "1"])),
            (String::from("0"), bulks_of(&["1", "11"]))
        );
        for i in 0..1000 {
            db.exec(&["SADD", "big", &format!("member:{i}")]);
        }
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        loop {
            let (next, items) = sorted_scan(db.exec(&["SSCAN", "big", &cursor, "COUNT", "50"]));
            for it in items {
                assert!(seen.insert(format!("{it:?}")));
            }
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        assert_eq!(db.exec(&["SSCAN", "big", "abc"]), err("ERR invalid cursor"));
        assert_eq!(
            db.exec(&["SSCAN", "big", "0", "COUNT", "-1"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["SSCAN", "big", "0", "FOO", "bar"]),
            err("ERR syntax error")
        );
    }

    fn sorted_scan(frame: Frame) -> (String, Vec<Frame>) {
        let Frame::Array(reply) = frame else {
            panic!("array");
        };
        let [Frame::Bulk(cursor), items] = &reply[..] else {
            panic!("shape");
        };
        (
            String::from_utf8_lossy(cursor).into_owned(),
            sorted(items.clone()),
        )
    }

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
