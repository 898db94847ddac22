//! Generic keyspace commands: existence, deletion, renaming, copying, expiry, KEYS/SCAN,
//! RANDOMKEY and the whole-database ones (DBSIZE, FLUSHDB, FLUSHALL).
//!
//! They work on any type through [`Keyspace`](crate::store::Keyspace)'s type-blind operations
//! (`lookup`, `delete`, `copy_key`, `set_expire`, `scan_hashed`); they never read or write
//! member records themselves.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::args::{glob_match, is_kw, parse_i64};
use super::flag::*;
use super::key_flag::*;
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec};
use crate::store::encoding::{
    meta_prefix, user_key_of_meta, TAG_COUNTERS, TAG_EXPIRY, TAG_MEMBER, TAG_META,
};
use crate::store::{Meta, DATABASES};

const KEYSPACE: &[&str] = &["keyspace"];
const KEYSPACE_DANGEROUS: &[&str] = &["keyspace", "dangerous"];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, Exec::Write(del))
        .flags(WRITE)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RM | DELETE)])
        .docs("generic", "Deletes one or more keys.", "1.0.0"),
    CommandSpec::new("unlink", -2, Exec::Write(del))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RM | DELETE)])
        .docs(
            "generic",
            "Asynchronously deletes one or more keys.",
            "4.0.0",
        ),
    CommandSpec::new("exists", -2, Exec::Read(exists))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RO)])
        .docs(
            "generic",
            "Determines whether one or more keys exist.",
            "1.0.0",
        ),
    CommandSpec::new("touch", -2, Exec::Read(exists))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RO)])
        .docs(
            "generic",
            "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
            "3.2.1",
        ),
    CommandSpec::new("type", 2, Exec::Read(key_type))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs(
            "generic",
            "Determines the type of value stored at a key.",
            "1.0.0",
        ),
    CommandSpec::new("rename", 3, Exec::Write(rename))
        .flags(WRITE)
        .acl(KEYSPACE)
        .keys(&[
            KeySpec::index(1).flags(RW | ACCESS | DELETE),
            KeySpec::index(2).flags(OW | UPDATE),
        ])
        .docs(
            "generic",
            "Renames a key and overwrites the destination.",
            "1.0.0",
        ),
    CommandSpec::new("renamenx", 3, Exec::Write(renamenx))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[
            KeySpec::index(1).flags(RW | ACCESS | DELETE),
            KeySpec::index(2).flags(OW | INSERT),
        ])
        .docs(
            "generic",
            "Renames a key only when the target key name doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("copy", -3, Exec::Write(copy))
        .flags(WRITE | DENYOOM)
        .acl(KEYSPACE)
        .keys(&[
            KeySpec::index(1).flags(RO | ACCESS),
            KeySpec::index(2).flags(OW | UPDATE),
        ])
        .docs(
            "generic",
            "Copies the value of a key to a new key.",
            "6.2.0",
        ),
    CommandSpec::new("move", 3, Exec::Write(move_key))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs("generic", "Moves a key to another database.", "1.0.0"),
    CommandSpec::new("keys", 2, Exec::Read(keys))
        .flags(READONLY)
        .acl(KEYSPACE_DANGEROUS)
        .docs(
            "generic",
            "Returns all key names that match a pattern.",
            "1.0.0",
        ),
    CommandSpec::new("scan", -2, Exec::Read(scan))
        .flags(READONLY)
        .acl(KEYSPACE)
        .docs(
            "generic",
            "Iterates over the key names in the database.",
            "2.8.0",
        ),
    CommandSpec::new("randomkey", 1, Exec::Read(randomkey))
        .flags(READONLY)
        .acl(KEYSPACE)
        .docs(
            "generic",
            "Returns a random key name from the database.",
            "1.0.0",
        ),
    CommandSpec::new("dbsize", 1, Exec::Read(dbsize))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .docs(
            "server",
            "Returns the number of keys in the database.",
            "1.0.0",
        ),
    CommandSpec::new("flushdb", -1, Exec::Write(flushdb))
        .flags(WRITE)
        .acl(KEYSPACE_DANGEROUS)
        .docs(
            "server",
            "Remove all keys from the current database.",
            "1.0.0",
        ),
    CommandSpec::new("flushall", -1, Exec::Write(flushall))
        .flags(WRITE)
        .acl(KEYSPACE_DANGEROUS)
        .docs("server", "Removes all keys from all databases.", "1.0.0"),
    CommandSpec::new("swapdb", 3, Exec::Write(swapdb))
        .flags(WRITE | FAST)
        .acl(KEYSPACE_DANGEROUS)
        .docs("server", "Swaps two Redis databases.", "4.0.0"),
    CommandSpec::new("expire", -3, Exec::Write(expire))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "generic",
            "Sets the expiration time of a key in seconds.",
            "1.0.0",
        ),
    CommandSpec::new("pexpire", -3, Exec::Write(pexpire))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "generic",
            "Sets the expiration time of a key in milliseconds.",
            "2.6.0",
        ),
    CommandSpec::new("expireat", -3, Exec::Write(expireat))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "generic",
            "Sets the expiration time of a key to a Unix timestamp.",
            "1.2.0",
        ),
    CommandSpec::new("pexpireat", -3, Exec::Write(pexpireat))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "generic",
            "Sets the expiration time of a key to a Unix milliseconds timestamp.",
            "2.6.0",
        ),
    CommandSpec::new("ttl", 2, Exec::Read(ttl))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "generic",
            "Returns the expiration time in seconds of a key.",
            "1.0.0",
        ),
    CommandSpec::new("pttl", 2, Exec::Read(pttl))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "generic",
            "Returns the expiration time in milliseconds of a key.",
            "2.6.0",
        ),
    CommandSpec::new("expiretime", 2, Exec::Read(expiretime))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "generic",
            "Returns the expiration time of a key as a Unix timestamp.",
            "7.0.0",
        ),
    CommandSpec::new("pexpiretime", 2, Exec::Read(pexpiretime))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "generic",
            "Returns the expiration time of a key as a Unix milliseconds timestamp.",
            "7.0.0",
        ),
    CommandSpec::new("persist", 2, Exec::Write(persist))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs("generic", "Removes the expiration time of a key.", "2.2.0"),
];

/// DEL key [key ...] (and UNLINK) -> the number of keys that existed and were removed.
fn del(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let mut removed = 0;
    for key in &argv[1..] {
        if ctx.ks.delete(key)? {
            removed += 1;
        }
    }
    Ok(Frame::Integer(removed))
}

/// EXISTS key [key ...] (and TOUCH) -> how many of the keys exist (a repeated key counts
/// each time).
fn exists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let mut found = 0;
    for key in &argv[1..] {
        if ctx.ks.lookup(key)?.is_some() {
            found += 1;
        }
    }
    Ok(Frame::Integer(found))
}

/// TYPE key -> +string, +list, +set, +zset, +hash, or +none.
fn key_type(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let name = ctx.ks.lookup(&argv[1])?.map_or("none", |m| m.ty.name());
    Ok(Frame::Simple(name.to_string()))
}

/// Moves `src` (live, `meta`) to `dst` in the current db with its expiry.
fn move_record(ctx: &mut Ctx<'_>, src: &[u8], meta: &Meta, dst: &[u8]) -> Result<(), CmdError> {
    let db = ctx.ks.db;
    ctx.ks.copy_key(src, meta, db, dst, true)?;
    ctx.ks.delete(src)?;
    Ok(())
}

/// RENAME key newkey -> OK; the destination is overwritten, the expiry moves along.
fn rename(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (src, dst) = (&argv[1], &argv[2]);
    let meta = ctx.ks.lookup(src)?.ok_or(CmdError::NoSuchKey)?;
    if src != dst {
        move_record(ctx, src, &meta, dst)?;
    }
    Ok(Frame::ok())
}

/// RENAMENX key newkey -> 1 if renamed, 0 if newkey exists (or is key itself).
fn renamenx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (src, dst) = (&argv[1], &argv[2]);
    let meta = ctx.ks.lookup(src)?.ok_or(CmdError::NoSuchKey)?;
    if src == dst || ctx.ks.lookup(dst)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    move_record(ctx, src, &meta, dst)?;
    Ok(Frame::Integer(1))
}

/// A database index argument: an int, then within 0..DATABASES.
fn parse_db_index(arg: &[u8]) -> Result<u8, CmdError> {
    let n = parse_i64(arg)?;
    if i32::try_from(n).is_err() {
        return Err(CmdError::other(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    u8::try_from(n)
        .ok()
        .filter(|db| *db < DATABASES)
        .ok_or_else(|| CmdError::other("ERR DB index is out of range"))
}

/// Whether `key` is live in database `db` (the selected db is left as it was).
fn exists_in_db(ctx: &mut Ctx<'_>, db: u8, key: &[u8]) -> Result<bool, CmdError> {
    let selected = ctx.ks.db;
    ctx.ks.db = db;
    let found = ctx.ks.lookup(key);
    ctx.ks.db = selected;
    Ok(found?.is_some())
}

fn same_object() -> CmdError {
    CmdError::other("ERR source and destination objects are the same")
}

/// COPY source destination [DB destination-db] [REPLACE] -> 1 if copied, 0 if the source is
/// missing or the destination exists without REPLACE. The expiry is copied too.
fn copy(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (src, dst) = (&argv[1], &argv[2]);
    let mut dst_db = ctx.ks.db;
    let mut replace = false;
    let mut i = 3;
    while i < argv.len() {
        if is_kw(&argv[i], "REPLACE") {
            replace = true;
        } else if let (true, Some(db)) = (is_kw(&argv[i], "DB"), argv.get(i + 1)) {
            dst_db = parse_db_index(db)?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if dst_db == ctx.ks.db && src == dst {
        return Err(same_object());
    }
    let Some(meta) = ctx.ks.lookup(src)? else {
        return Ok(Frame::Integer(0));
    };
    if !replace && exists_in_db(ctx, dst_db, dst)? {
        return Ok(Frame::Integer(0));
    }
    ctx.ks.copy_key(src, &meta, dst_db, dst, true)?;
    Ok(Frame::Integer(1))
}

/// MOVE key db -> 1 if moved, 0 if the key is missing or exists in the target db.
fn move_key(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let dst_db = parse_db_index(&argv[2])?;
    if dst_db == ctx.ks.db {
        return Err(same_object());
    }
    let Some(meta) = ctx.ks.lookup(key)? else {
        return Ok(Frame::Integer(0));
    };
    if exists_in_db(ctx, dst_db, key)? {
        return Ok(Frame::Integer(0));
    }
    ctx.ks.copy_key(key, &meta, dst_db, key, true)?;
    ctx.ks.delete(key)?;
    Ok(Frame::Integer(1))
}

/// KEYS pattern -> every live key matching the glob pattern.
fn keys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let pattern = &argv[1];
    let match_all = &pattern[..] == b"*";
    let out = ctx
        .ks
        .all_keys()?
        .into_iter()
        .filter(|(key, _)| match_all || glob_match(pattern, key, false))
        .map(|(key, _)| Frame::Bulk(key))
        .collect();
    Ok(Frame::Array(out))
}

pub use super::args::parse_scan_cursor;

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] -> [next cursor, [key ...]]; the
/// cursor is a position in hash order (0 starts and ends), expired keys are skipped.
fn scan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let cursor = parse_scan_cursor(&argv[1])?;
    let mut count: usize = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let (opt, value) = match argv.get(i + 1) {
            Some(value) => (&argv[i], value),
            None => return Err(CmdError::Syntax),
        };
        if is_kw(opt, "COUNT") {
            let n = parse_i64(value)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is_kw(opt, "MATCH") {
            pattern = (&value[..] != b"*").then_some(&value[..]);
        } else if is_kw(opt, "TYPE") {
            type_name = Some(&value[..]);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let now = ctx.ks.now_ms;
    let page = ctx.ks.scan_hashed(&meta_prefix(ctx.ks.db), cursor, count)?;
    let mut keys = Vec::with_capacity(page.items.len());
    for (record_key, raw) in &page.items {
        let meta = Meta::decode(raw)?;
        if meta.is_expired(now) {
            continue;
        }
        let key = user_key_of_meta(record_key);
        if pattern.is_some_and(|p| !glob_match(p, key, false)) {
            continue;
        }
        // An unknown type name matches nothing (Redis 7.2 does not reject it yet).
        if type_name.is_some_and(|t| !t.eq_ignore_ascii_case(meta.ty.name().as_bytes())) {
            continue;
        }
        keys.push(Frame::Bulk(Bytes::copy_from_slice(key)));
    }
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from(page.cursor.to_string())),
        Frame::Array(keys),
    ]))
}

/// RANDOMKEY -> a random live key, or nil when the database is empty.
fn randomkey(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> Result<Frame, CmdError> {
    let point = ctx.rng.next_u64();
    Ok(match ctx.ks.key_at_or_after(point)? {
        Some(key) => Frame::Bulk(key),
        None => Frame::Null,
    })
}

/// DBSIZE -> the number of keys in the selected database.
fn dbsize(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (keys, _) = ctx.ks.counters(ctx.ks.db)?;
    Ok(Frame::Integer(i64::try_from(keys).unwrap_or(i64::MAX)))
}

/// The optional ASYNC|SYNC of FLUSHDB/FLUSHALL (both flush at once here).
fn check_flush_mode(argv: &[Bytes]) -> Result<(), CmdError> {
    match argv {
        [_] => Ok(()),
        [_, mode] if is_kw(mode, "ASYNC") || is_kw(mode, "SYNC") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

/// FLUSHDB [ASYNC | SYNC] -> OK; removes every key of the selected database.
fn flushdb(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    check_flush_mode(argv)?;
    let db = ctx.ks.db;
    ctx.ks.flush_db(db)?;
    Ok(Frame::ok())
}

/// FLUSHALL [ASYNC | SYNC] -> OK; removes every key of every database.
fn flushall(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    check_flush_mode(argv)?;
    for db in 0..DATABASES {
        ctx.ks.flush_db(db)?;
    }
    Ok(Frame::ok())
}

/// SWAPDB index1 index2 -> OK; the two databases exchange their contents (connections keep
/// their db number and see the other content).
fn swapdb(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let int_arg = |arg: &[u8], which: &str| {
        parse_i64(arg)
            .ok()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| CmdError::other(format!("ERR invalid {which} DB index")))
    };
    let first = int_arg(&argv[1], "first")?;
    let second = int_arg(&argv[2], "second")?;
    let db = |n: i32| u8::try_from(n).ok().filter(|d| *d < DATABASES);
    let (Some(a), Some(b)) = (db(first), db(second)) else {
        return Err(CmdError::other("ERR DB index is out of range"));
    };
    if a != b {
        swap_databases(ctx, a, b)?;
    }
    Ok(Frame::ok())
}

/// Moves every record of db `a` (meta, members, expiry index, counters: all keyed
/// `tag db ...`) to db `b` and back. Moved keys get this entry's version, so a WATCH on
/// either side sees the change.
fn swap_databases(ctx: &mut Ctx<'_>, a: u8, b: u8) -> Result<(), CmdError> {
    let version = ctx.ks.version;
    let mut moved = Vec::new();
    for tag in [TAG_META, TAG_MEMBER, TAG_EXPIRY, TAG_COUNTERS] {
        for (from, to) in [(a, b), (b, a)] {
            for item in ctx.ks.txn.prefix(&[tag, from], false) {
                let (old_key, raw) = item?;
                let mut new_key = old_key.to_vec();
                if let Some(db) = new_key.get_mut(1) {
                    *db = to;
                }
                let value = if tag == TAG_META {
                    let mut meta = Meta::decode(&raw)?;
                    meta.version = version;
                    meta.encode()
                } else {
                    raw.to_vec()
                };
                moved.push((old_key.to_vec(), new_key, value));
            }
        }
    }
    for (old_key, _, _) in &moved {
        ctx.ks.txn.remove(old_key.clone())?;
    }
    for (_, new_key, value) in moved {
        ctx.ks.txn.put(new_key, value)?;
    }
    Ok(())
}

/// EXPIRE key seconds [NX | XX | GT | LT] -> 1 if the expiry was set, 0 otherwise.
fn expire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let now = ctx.ks.now_ms as i64;
    set_expiry(ctx, argv, now, 1000, "expire")
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT] -> 1 if the expiry was set, 0 otherwise.
fn pexpire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let now = ctx.ks.now_ms as i64;
    set_expiry(ctx, argv, now, 1, "pexpire")
}

/// EXPIREAT key unix-seconds [NX | XX | GT | LT] -> 1 if the expiry was set, 0 otherwise.
fn expireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_expiry(ctx, argv, 0, 1000, "expireat")
}

/// PEXPIREAT key unix-ms [NX | XX | GT | LT] -> 1 if the expiry was set, 0 otherwise.
fn pexpireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_expiry(ctx, argv, 0, 1, "pexpireat")
}

/// Redis's `expireGenericCommand`: options, overflow checks, NX/XX/GT/LT conditions (no
/// expiry counts as infinite), and a time not in the future deletes the key.
fn set_expiry(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    base: i64,
    unit: i64,
    cmd: &str,
) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &argv[3..] {
        if is_kw(opt, "NX") {
            nx = true;
        } else if is_kw(opt, "XX") {
            xx = true;
        } else if is_kw(opt, "GT") {
            gt = true;
        } else if is_kw(opt, "LT") {
            lt = true;
        } else {
            return Err(CmdError::other(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::other(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::other(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let invalid = || CmdError::other(format!("ERR invalid expire time in '{cmd}' command"));
    let when = parse_i64(&argv[2])?
        .checked_mul(unit)
        .ok_or_else(invalid)?
        .checked_add(base)
        .ok_or_else(invalid)?;
    let Some(meta) = ctx.ks.lookup(key)? else {
        return Ok(Frame::Integer(0));
    };
    // No expiry: -1, as Redis's getExpire says; GT/LT treat it as infinite.
    let current = meta.expire_at.map(|at| at as i64);
    let refused = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c));
    if refused {
        return Ok(Frame::Integer(0));
    }
    if when <= ctx.ks.now_ms as i64 {
        ctx.ks.delete(key)?;
    } else {
        ctx.ks.set_expire(key, Some(when as u64))?;
    }
    Ok(Frame::Integer(1))
}

/// What TTL-like commands report: -2 absent, -1 no expiry, else the expiry as `f` says.
fn report_expiry(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl Fn(u64, u64) -> i64,
) -> Result<Frame, CmdError> {
    let now = ctx.ks.now_ms;
    Ok(Frame::Integer(match ctx.ks.lookup(key)? {
        None => -2,
        Some(Meta {
            expire_at: None, ..
        }) => -1,
        Some(Meta {
            expire_at: Some(at),
            ..
        }) => f(at, now),
    }))
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// TTL key -> seconds to live (rounded), -1 without expiry, -2 when absent.
fn ttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    report_expiry(ctx, &argv[1], |at, now| {
        clamp_i64(at.saturating_sub(now).saturating_add(500) / 1000)
    })
}

/// PTTL key -> milliseconds to live, -1 without expiry, -2 when absent.
fn pttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    report_expiry(ctx, &argv[1], |at, now| clamp_i64(at.saturating_sub(now)))
}

/// EXPIRETIME key -> the expiry as unix seconds, -1 without expiry, -2 when absent.
fn expiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    report_expiry(ctx, &argv[1], |at, _| {
        clamp_i64(at.saturating_add(500) / 1000)
    })
}

/// PEXPIRETIME key -> the expiry as unix ms, -1 without expiry, -2 when absent.
fn pexpiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    report_expiry(ctx, &argv[1], |at, _| clamp_i64(at))
}

/// PERSIST key -> 1 if an expiry was removed, 0 if the key is absent or had none.
fn persist(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    match ctx.ks.lookup(key)? {
        Some(meta) if meta.expire_at.is_some() => {
            ctx.ks.set_expire(key, None)?;
            Ok(Frame::Integer(1))
        }
        _ => Ok(Frame::Integer(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};
    use crate::store::KeyType;

    fn sorted_keys(frame: Frame) -> Vec<String> {
        let Frame::Array(items) = frame else {
            panic!("not an array: {frame:?}");
        };
        let mut keys: Vec<String> = items
            .into_iter()
            .map(|f| match f {
                Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect();
        keys.sort();
        keys
    }

    fn add_list(db: &mut TestDb, key: &str) {
        let mut meta = Meta::new(KeyType::List);
        meta.count = 1;
        meta.tail = 1;
        db.ks
            .save_meta(key.as_bytes(), &mut meta)
            .expect("save list");
    }

    fn select(db: &mut TestDb, n: u8) {
        db.ks.db = n;
    }

    #[test]
    fn del_unlink_exists_touch() {
        let mut db = TestDb::new();
        db.exec(&["MSET", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(db.exec(&["EXISTS", "a", "a", "x"]), int(2));
        assert_eq!(db.exec(&["TOUCH", "a", "b", "x"]), int(2));
        assert_eq!(db.exec(&["DEL", "a", "x", "a"]), int(1));
        assert_eq!(db.exec(&["UNLINK", "b", "c"]), int(2));
        assert_eq!(db.exec(&["EXISTS", "a", "b", "c"]), int(0));
        db.exec(&["SET", "e", "v", "PX", "10"]);
        db.advance_ms(10);
        assert_eq!(db.exec(&["DEL", "e"]), int(0));
        assert_eq!(db.exec(&["DBSIZE"]), int(0));
        assert_eq!(
            db.exec(&["DEL"]),
            err("ERR wrong number of arguments for 'del' command")
        );
    }

    #[test]
    fn type_names_every_kind() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["TYPE", "nope"]), Frame::Simple("none".into()));
        db.exec(&["SET", "s", "v"]);
        add_list(&mut db, "l");
        assert_eq!(db.exec(&["TYPE", "s"]), Frame::Simple("string".into()));
        assert_eq!(db.exec(&["TYPE", "l"]), Frame::Simple("list".into()));
    }

    #[test]
    fn rename_and_renamenx() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["RENAME", "nope", "x"]), err("ERR no such key"));
        assert_eq!(db.exec(&["RENAMENX", "nope", "x"]), err("ERR no such key"));
        assert_eq!(db.exec(&["RENAME", "nope", "nope"]), err("ERR no such key"));
        db.exec(&["SET", "a", "1", "EX", "100"]);
        db.exec(&["SET", "b", "2"]);
        assert_eq!(db.exec(&["RENAME", "a", "a"]), Frame::ok());
        assert_eq!(db.exec(&["RENAMENX", "a", "a"]), int(0));
        assert_eq!(db.exec(&["RENAMENX", "a", "b"]), int(0));
        assert_eq!(db.exec(&["RENAME", "a", "b"]), Frame::ok());
        assert_eq!(db.exec(&["GET", "b"]), bulk("1"));
        assert_eq!(db.exec(&["EXISTS", "a"]), int(0));
        assert_eq!(db.exec(&["TTL", "b"]), int(100));
        db.exec(&["SET", "t", "x", "EX", "50"]);
        db.exec(&["SET", "p", "y"]);
        assert_eq!(db.exec(&["RENAME", "p", "t"]), Frame::ok());
        assert_eq!(db.exec(&["TTL", "t"]), int(-1));
        add_list(&mut db, "l");
        assert_eq!(db.exec(&["RENAMENX", "l", "l2"]), int(1));
        assert_eq!(db.exec(&["TYPE", "l2"]), Frame::Simple("list".into()));
        assert_eq!(db.exec(&["DBSIZE"]), int(3));
    }

    #[test]
    fn copy_within_and_across_databases() {
        let mut db = TestDb::new();
        db.exec(&["SET", "src", "v", "EX", "100"]);
        assert_eq!(db.exec(&["COPY", "src", "dst"]), int(1));
        assert_eq!(db.exec(&["GET", "dst"]), bulk("v"));
        assert_eq!(db.exec(&["TTL", "dst"]), int(100));
        db.exec(&["SET", "src", "w"]);
        assert_eq!(db.exec(&["COPY", "src", "dst"]), int(0));
        assert_eq!(db.exec(&["COPY", "src", "dst", "REPLACE"]), int(1));
        assert_eq!(db.exec(&["GET", "dst"]), bulk("w"));
        assert_eq!(db.exec(&["TTL", "dst"]), int(-1));
        assert_eq!(db.exec(&["COPY", "nope", "dst"]), int(0));
        assert_eq!(
            db.exec(&["COPY", "src", "src"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(db.exec(&["COPY", "src", "src", "DB", "1"]), int(1));
        assert_eq!(
            db.exec(&["COPY", "src", "x", "DB", "notanumber"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            db.exec(&["COPY", "src", "x", "DB", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            db.exec(&["COPY", "src", "x", "DB", "-1"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            db.exec(&["COPY", "src", "x", "BOGUS"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["COPY", "src", "x", "DB"]),
            err("ERR syntax error")
        );
        select(&mut db, 1);
        assert_eq!(db.exec(&["GET", "src"]), bulk("w"));
        assert_eq!(db.exec(&["DBSIZE"]), int(1));
    }

    #[test]
    fn move_between_databases() {
        let mut db = TestDb::new();
        db.exec(&["SET", "k", "v", "PX", "5000"]);
        assert_eq!(
            db.exec(&["MOVE", "k", "0"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(
            db.exec(&["MOVE", "k", "notanumber"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            db.exec(&["MOVE", "k", "99"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            db.exec(&["MOVE", "k", "99999999999"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        assert_eq!(db.exec(&["MOVE", "nope", "1"]), int(0));
        assert_eq!(db.exec(&["MOVE", "k", "1"]), int(1));
        assert_eq!(db.exec(&["EXISTS", "k"]), int(0));
        db.exec(&["SET", "k", "again"]);
        assert_eq!(db.exec(&["MOVE", "k", "1"]), int(0));
        select(&mut db, 1);
        assert_eq!(db.exec(&["GET", "k"]), bulk("v"));
        assert_eq!(db.exec(&["PTTL", "k"]), int(5000));
    }

    #[test]
    fn keys_with_patterns() {
        let mut db = TestDb::new();
        db.exec(&[
            "MSET", "foo_a", "1", "foo_b", "2", "foo_c", "3", "key_x", "4", "key_y", "5",
        ]);
        db.exec(&["SET", "foo_gone", "x", "PX", "1"]);
        db.advance_ms(1);
        assert_eq!(
            sorted_keys(db.exec(&["KEYS", "foo*"])),
            ["foo_a", "foo_b", "foo_c"]
        );
        assert_eq!(sorted_keys(db.exec(&["KEYS", "*"])).len(), 5);
        assert_eq!(sorted_keys(db.exec(&["KEYS", "key_[xz]"])), ["key_x"]);
        assert_eq!(db.exec(&["KEYS", "none*"]), arr(&[]));
    }

    #[test]
    fn scan_walks_everything_with_filters() {
        let mut db = TestDb::new();
        for i in 0..100 {
            db.exec(&["SET", &format!("key:{i}"), "v"]);
        }
        add_list(&mut db, "alist");
        db.exec(&["SET", "gone", "v", "PX", "1"]);
        db.advance_ms(1);
        let scan_all = |db: &mut TestDb, extra: &[&str]| {
            let mut cursor = "0".to_string();
            let mut seen = Vec::new();
            loop {
                let mut argv = vec!["SCAN", cursor.as_str()];
                argv.extend_from_slice(extra);
                let Frame::Array(parts) = db.exec(&argv) else {
                    panic!("scan reply")
                };
                let [Frame::Bulk(next), keys] = &parts[..] else {
                    panic!("scan shape")
                };
                seen.extend(sorted_keys(keys.clone()));
                cursor = String::from_utf8_lossy(next).into_owned();
                if cursor == "0" {
                    break;
                }
            }
            seen.sort();
            seen
        };
        let all = scan_all(&mut db, &["COUNT", "7"]);
        assert_eq!(all.len(), 101);
        assert!(!all.contains(&"gone".to_string()));
        assert_eq!(scan_all(&mut db, &["MATCH", "key:1*"]).len(), 11);
        assert_eq!(scan_all(&mut db, &["TYPE", "LIST"]), ["alist"]);
        assert!(scan_all(&mut db, &["TYPE", "string1"]).is_empty());
        assert_eq!(db.exec(&["SCAN", "abc"]), err("ERR invalid cursor"));
        assert_eq!(db.exec(&["SCAN", " 1"]), err("ERR invalid cursor"));
        assert_eq!(
            db.exec(&["SCAN", "18446744073709551616"]),
            err("ERR invalid cursor")
        );
        assert_eq!(
            db.exec(&["SCAN", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["SCAN", "0", "COUNT", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(db.exec(&["SCAN", "0", "MATCH"]), err("ERR syntax error"));
        assert_eq!(
            db.exec(&["SCAN", "0", "BOGUS", "1"]),
            err("ERR syntax error")
        );
        assert_eq!(parse_scan_cursor(b"-1").ok(), Some(u64::MAX));
        assert_eq!(parse_scan_cursor(b"").ok(), Some(0));
        assert_eq!(parse_scan_cursor(b"007").ok(), Some(7));
    }

    #[test]
    fn randomkey_and_dbsize() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["RANDOMKEY"]), Frame::Null);
        assert_eq!(db.exec(&["DBSIZE"]), int(0));
        db.exec(&["MSET", "a", "1", "b", "2"]);
        for _ in 0..10 {
            let key = db.exec(&["RANDOMKEY"]);
            assert!(key == bulk("a") || key == bulk("b"), "{key:?}");
        }
        assert_eq!(db.exec(&["DBSIZE"]), int(2));
    }

    #[test]
    fn flushdb_and_flushall() {
        let mut db = TestDb::new();
        db.exec(&["SET", "a", "1"]);
        select(&mut db, 3);
        db.exec(&["SET", "b", "1"]);
        assert_eq!(db.exec(&["FLUSHDB", "ASYNC"]), Frame::ok());
        assert_eq!(db.exec(&["DBSIZE"]), int(0));
        db.exec(&["SET", "b", "1"]);
        select(&mut db, 0);
        assert_eq!(db.exec(&["DBSIZE"]), int(1));
        assert_eq!(db.exec(&["FLUSHALL", "BOGUS"]), err("ERR syntax error"));
        assert_eq!(
            db.exec(&["FLUSHDB", "SYNC", "ASYNC"]),
            err("ERR syntax error")
        );
        assert_eq!(db.exec(&["FLUSHALL", "sync"]), Frame::ok());
        assert_eq!(db.exec(&["DBSIZE"]), int(0));
        select(&mut db, 3);
        assert_eq!(db.exec(&["DBSIZE"]), int(0));
        assert_eq!(db.exec(&["GET", "b"]), Frame::Null);
    }

    #[test]
    fn swapdb_exchanges_contents_and_counters() {
        let mut db = TestDb::new();
        db.exec(&["SET", "a", "in0", "EX", "100"]);
        db.exec(&["SET", "shared", "zero"]);
        add_list(&mut db, "l");
        select(&mut db, 1);
        db.exec(&["SET", "b", "in1"]);
        db.exec(&["SET", "shared", "one"]);
        assert_eq!(db.exec(&["SWAPDB", "0", "1"]), Frame::ok());
        assert_eq!(db.exec(&["DBSIZE"]), int(3));
        assert_eq!(db.exec(&["GET", "a"]), bulk("in0"));
        assert_eq!(db.exec(&["TTL", "a"]), int(100));
        assert_eq!(db.exec(&["GET", "shared"]), bulk("zero"));
        assert_eq!(db.exec(&["TYPE", "l"]), Frame::Simple("list".into()));
        assert_eq!(db.exec(&["GET", "b"]), Frame::Null);
        select(&mut db, 0);
        assert_eq!(db.exec(&["DBSIZE"]), int(2));
        assert_eq!(db.exec(&["GET", "b"]), bulk("in1"));
        assert_eq!(db.exec(&["GET", "shared"]), bulk("one"));
        assert_eq!(db.exec(&["SWAPDB", "3", "3"]), Frame::ok());
        assert_eq!(
            db.exec(&["SWAPDB", "44", "45"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            db.exec(&["SWAPDB", "0", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            db.exec(&["SWAPDB", "1", "a"]),
            err("ERR invalid second DB index")
        );
        assert_eq!(
            db.exec(&["SWAPDB", "a", "1"]),
            err("ERR invalid first DB index")
        );
    }

    #[test]
    fn expire_family_and_ttl_reports() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["EXPIRE", "nope", "10"]), int(0));
        db.exec(&["SET", "k", "v"]);
        assert_eq!(db.exec(&["TTL", "k"]), int(-1));
        assert_eq!(db.exec(&["PTTL", "k"]), int(-1));
        assert_eq!(db.exec(&["EXPIRETIME", "k"]), int(-1));
        assert_eq!(db.exec(&["TTL", "nope"]), int(-2));
        assert_eq!(db.exec(&["PEXPIRETIME", "nope"]), int(-2));
        assert_eq!(db.exec(&["EXPIRE", "k", "10"]), int(1));
        assert_eq!(db.exec(&["TTL", "k"]), int(10));
        assert_eq!(db.exec(&["PTTL", "k"]), int(10_000));
        db.advance_ms(1400);
        assert_eq!(db.exec(&["TTL", "k"]), int(9));
        db.advance_ms(200);
        assert_eq!(db.exec(&["TTL", "k"]), int(8));
        assert_eq!(db.exec(&["PEXPIRE", "k", "1500"]), int(1));
        assert_eq!(db.exec(&["PTTL", "k"]), int(1500));
        let at = db.ks.now_ms / 1000 + 1000;
        assert_eq!(db.exec(&["EXPIREAT", "k", &at.to_string()]), int(1));
        assert_eq!(db.exec(&["EXPIRETIME", "k"]), int(at as i64));
        assert_eq!(db.exec(&["PEXPIRETIME", "k"]), int((at * 1000) as i64));
        let pat = db.ks.now_ms + 123;
        assert_eq!(db.exec(&["PEXPIREAT", "k", &pat.to_string()]), int(1));
        assert_eq!(db.exec(&["PTTL", "k"]), int(123));
        db.advance_ms(123);
        assert_eq!(db.exec(&["TTL", "k"]), int(-2));
        db.exec(&["SET", "k", "v"]);
        assert_eq!(db.exec(&["EXPIRE", "k", "-1"]), int(1));
        assert_eq!(db.exec(&["EXISTS", "k"]), int(0));
        db.exec(&["SET", "k", "v"]);
        assert_eq!(db.exec(&["PEXPIREAT", "k", "-9223372036854770000"]), int(1));
        assert_eq!(db.exec(&["TTL", "k"]), int(-2));
        db.exec(&["SET", "k", "v"]);
        assert_eq!(db.exec(&["PEXPIREAT", "k", "9223372036854770000"]), int(1));
        assert_eq!(
            db.exec(&["PEXPIRETIME", "k"]),
            int(9_223_372_036_854_770_000)
        );
    }

    #[test]
    fn expire_overflow_and_option_errors() {
        let mut db = TestDb::new();
        db.exec(&["SET", "foo", "bar"]);
        let bad = "ERR invalid expire time in 'expire' command";
        for n in [
            "9223370399119966",
            "9223372036854776",
            "10000000000000000",
            "-9223372036854776",
            "-9999999999999999",
        ] {
            assert_eq!(db.exec(&["EXPIRE", "foo", n]), err(bad), "{n}");
        }
        assert_eq!(
            db.exec(&["PEXPIRE", "foo", "9223372036854770000"]),
            err("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(
            db.exec(&["EXPIRE", "foo", ""]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(db.exec(&["TTL", "foo"]), int(-1));
        assert_eq!(
            db.exec(&["EXPIRE", "foo", "200", "AB"]),
            err("ERR Unsupported option AB")
        );
        let nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
        assert_eq!(db.exec(&["EXPIRE", "foo", "200", "NX", "XX"]), err(nx));
        assert_eq!(db.exec(&["EXPIRE", "foo", "200", "NX", "GT"]), err(nx));
        assert_eq!(db.exec(&["EXPIRE", "foo", "200", "LT", "NX"]), err(nx));
        assert_eq!(
            db.exec(&["EXPIRE", "foo", "200", "GT", "LT"]),
            err("ERR GT and LT options at the same time are not compatible")
        );
        // Options are checked before the time.
        assert_eq!(
            db.exec(&["EXPIRE", "foo", "x", "ZZ"]),
            err("ERR Unsupported option ZZ")
        );
    }

    #[test]
    fn expire_conditions() {
        let mut db = TestDb::new();
        db.exec(&["SET", "foo", "bar"]);
        assert_eq!(db.exec(&["EXPIRE", "foo", "100", "XX"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "foo", "100", "GT"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "foo", "100", "LT"]), int(1));
        assert_eq!(db.exec(&["TTL", "foo"]), int(100));
        assert_eq!(db.exec(&["EXPIRE", "foo", "200", "NX"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "foo", "200", "XX"]), int(1));
        assert_eq!(db.exec(&["EXPIRE", "foo", "100", "GT"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "foo", "300", "GT"]), int(1));
        assert_eq!(db.exec(&["EXPIRE", "foo", "400", "LT"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "foo", "50", "lt", "xx"]), int(1));
        assert_eq!(db.exec(&["TTL", "foo"]), int(50));
        assert_eq!(db.exec(&["EXPIRE", "foo", "-10", "LT"]), int(1));
        assert_eq!(db.exec(&["TTL", "foo"]), int(-2));
        db.exec(&["SET", "foo", "bar"]);
        assert_eq!(db.exec(&["EXPIRE", "foo", "-10", "LT"]), int(1));
        assert_eq!(db.exec(&["EXISTS", "foo"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "none", "100", "NX"]), int(0));
    }

    #[test]
    fn persist_removes_expiry() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["PERSIST", "nope"]), int(0));
        db.exec(&["SET", "k", "v"]);
        assert_eq!(db.exec(&["PERSIST", "k"]), int(0));
        db.exec(&["EXPIRE", "k", "10"]);
        assert_eq!(db.exec(&["PERSIST", "k"]), int(1));
        assert_eq!(db.exec(&["TTL", "k"]), int(-1));
        db.advance_ms(20_000);
        assert_eq!(db.exec(&["GET", "k"]), bulk("v"));
    }
}
