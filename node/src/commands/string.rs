//! String commands: GET, SET and friends (counters, ranges, multi-key get/set).
//!
//! Values are the `value` of a string [`Meta`]; every change goes through `save_meta` or
//! `overwrite`, so expiry index, counters and WATCH versions stay right. INCRBYFLOAT computes
//! in an emulated 80-bit `long double` ([`long_double`]) so its digits are Redis's own.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::args::{is_kw, parse_i64};
use super::flag::*;
use super::key_flag::*;
use super::long_double::{self, Ld};
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec};
use crate::store::{KeyType, Meta};

/// Redis's default `proto-max-bulk-len`: the longest string SETRANGE/APPEND may build.
pub const MAX_STRING_LEN: u64 = 512 * 1024 * 1024;

const STRING: &[&str] = &["string"];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, Exec::Read(get))
        .flags(READONLY | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs("string", "Returns the string value of a key.", "1.0.0"),
    CommandSpec::new("set", -3, Exec::Write(set))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1)
            .flags(RW | ACCESS | UPDATE | VARIABLE_FLAGS)
            .notes("RW and ACCESS due to the optional `GET` argument")
            .variable(set_key_flags)])
        .docs(
            "string",
            "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("setnx", 3, Exec::Write(setnx))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(OW | INSERT)])
        .docs(
            "string",
            "Set the string value of a key only when the key doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("setex", 4, Exec::Write(setex))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(OW | UPDATE)])
        .docs(
            "string",
            "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
            "2.0.0",
        ),
    CommandSpec::new("psetex", 4, Exec::Write(psetex))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(OW | UPDATE)])
        .docs(
            "string",
            "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
            "2.6.0",
        ),
    CommandSpec::new("getset", 3, Exec::Write(getset))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Returns the previous string value of a key after setting it to a new value.",
            "1.0.0",
        ),
    CommandSpec::new("getdel", 2, Exec::Write(getdel))
        .flags(WRITE | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "string",
            "Returns the string value of a key after deleting the key.",
            "6.2.0",
        ),
    CommandSpec::new("getex", -2, Exec::Write(getex))
        .flags(WRITE | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1)
            .flags(RW | ACCESS | UPDATE)
            .notes("RW and UPDATE because it changes the TTL")])
        .docs(
            "string",
            "Returns the string value of a key after setting its expiration time.",
            "6.2.0",
        ),
    CommandSpec::new("mget", -2, Exec::Read(mget))
        .flags(READONLY | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RO | ACCESS)])
        .docs(
            "string",
            "Atomically returns the string values of one or more keys.",
            "1.0.0",
        ),
    CommandSpec::new("mset", -3, Exec::Write(mset))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1).range(-1, 2, 0).flags(OW | UPDATE)])
        .docs(
            "string",
            "Atomically creates or modifies the string values of one or more keys.",
            "1.0.1",
        ),
    CommandSpec::new("msetnx", -3, Exec::Write(msetnx))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1).range(-1, 2, 0).flags(OW | INSERT)])
        .docs(
            "string",
            "Atomically modifies the string values of one or more keys only when all keys don't exist.",
            "1.0.1",
        ),
    CommandSpec::new("append", 3, Exec::Write(append))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "string",
            "Appends a string to the value of a key. Creates the key if it doesn't exist.",
            "2.0.0",
        ),
    CommandSpec::new("strlen", 2, Exec::Read(strlen))
        .flags(READONLY | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs("string", "Returns the length of a string value.", "2.2.0"),
    CommandSpec::new("getrange", 4, Exec::Read(getrange))
        .flags(READONLY)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "string",
            "Returns a substring of the string stored at a key.",
            "2.4.0",
        ),
    CommandSpec::new("substr", 4, Exec::Read(getrange))
        .flags(READONLY)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "string",
            "Returns a substring from a string value.",
            "1.0.0",
        ),
    CommandSpec::new("setrange", 4, Exec::Write(setrange))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "string",
            "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
            "2.2.0",
        ),
    CommandSpec::new("incr", 2, Exec::Write(incr))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("decr", 2, Exec::Write(decr))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("incrby", 3, Exec::Write(incrby))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("decrby", 3, Exec::Write(decrby))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("incrbyfloat", 3, Exec::Write(incrbyfloat))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
            "2.6.0",
        ),
];

/// SET's key flags for one line (Redis's `setGetKeys`): with GET the old value is read and
/// replaced (RW, ACCESS, UPDATE), without it only overwritten (OW, UPDATE).
fn set_key_flags(argv: &[Bytes]) -> u16 {
    if argv.iter().skip(3).any(|a| is_kw(a, "GET")) {
        RW | ACCESS | UPDATE
    } else {
        OW | UPDATE
    }
}

/// The live string value of `key`, WRONGTYPE for another type.
pub fn read_string(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Meta>, CmdError> {
    Ok(ctx.ks.lookup_typed(key, KeyType::String)?)
}

fn bulk_or_nil(meta: Option<Meta>) -> Frame {
    match meta {
        Some(meta) => Frame::Bulk(meta.value),
        None => Frame::Null,
    }
}

/// GET key -> bulk value or nil.
fn get(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    Ok(bulk_or_nil(read_string(ctx, &argv[1])?))
}

/// Which expiry option SET/GETEX were given.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireUnit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// The options of SET (`for_set`) or GETEX, parsed as Redis's
/// `parseExtendedStringArgumentsOrReply` does (same acceptance, same conflicts).
#[derive(Default)]
struct StringOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<(ExpireUnit, &'a [u8])>,
}

fn parse_string_options(argv: &[Bytes], for_set: bool) -> Result<StringOptions<'_>, CmdError> {
    let mut o = StringOptions::default();
    let first = if for_set { 3 } else { 2 };
    let mut i = first;
    while i < argv.len() {
        let a = &argv[i][..];
        let next = argv.get(i + 1).map(|b| &b[..]);
        // An expiry option may repeat itself (last wins) but not follow another kind.
        let expire_ok = |unit: ExpireUnit| {
            !o.keep_ttl && !o.persist && o.expire.is_none_or(|(u, _)| u == unit) && next.is_some()
        };
        let unit = if is_kw(a, "EX") {
            Some(ExpireUnit::Ex)
        } else if is_kw(a, "PX") {
            Some(ExpireUnit::Px)
        } else if is_kw(a, "EXAT") {
            Some(ExpireUnit::ExAt)
        } else if is_kw(a, "PXAT") {
            Some(ExpireUnit::PxAt)
        } else {
            None
        };
        if is_kw(a, "NX") && !o.xx && for_set {
            o.nx = true;
        } else if is_kw(a, "XX") && !o.nx && for_set {
            o.xx = true;
        } else if is_kw(a, "GET") && for_set {
            o.get = true;
        } else if is_kw(a, "KEEPTTL") && !o.persist && o.expire.is_none() && for_set {
            o.keep_ttl = true;
        } else if is_kw(a, "PERSIST") && !for_set && o.expire.is_none() && !o.keep_ttl {
            o.persist = true;
        } else if let (Some(unit), Some(value)) = (unit.filter(|u| expire_ok(*u)), next) {
            o.expire = Some((unit, value));
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

/// The absolute expiry in ms of a parsed EX/PX/EXAT/PXAT option, with Redis's checks.
fn option_expiry(
    ctx: &Ctx<'_>,
    expire: Option<(ExpireUnit, &[u8])>,
    cmd: &str,
) -> Result<Option<u64>, CmdError> {
    let Some((unit, value)) = expire else {
        return Ok(None);
    };
    let n = parse_i64(value)?;
    let kw = match unit {
        ExpireUnit::Ex => "EX",
        ExpireUnit::Px => "PX",
        ExpireUnit::ExAt => "EXAT",
        ExpireUnit::PxAt => "PXAT",
    };
    absolute_expiry(ctx, kw.as_bytes(), n, cmd).map(Some)
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ts-ms | KEEPTTL]
/// -> OK, nil when NX/XX prevented it, or the old value with GET.
fn set(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, value) = (&argv[1], &argv[2]);
    let opts = parse_string_options(argv, true)?;
    let expire = option_expiry(ctx, opts.expire, "set")?;
    let old = ctx.ks.lookup(key)?;
    if opts.get && old.as_ref().is_some_and(|m| m.ty != KeyType::String) {
        return Err(CmdError::WrongType);
    }
    let old_value = old
        .as_ref()
        .map(|m| Frame::Bulk(m.value.clone()))
        .unwrap_or(Frame::Null);
    if (opts.nx && old.is_some()) || (opts.xx && old.is_none()) {
        return Ok(if opts.get { old_value } else { Frame::Null });
    }
    let mut meta = Meta::string(value.clone());
    meta.expire_at = if opts.keep_ttl {
        old.as_ref().and_then(|m| m.expire_at)
    } else {
        expire
    };
    ctx.ks.overwrite(key, &mut meta)?;
    Ok(if opts.get { old_value } else { Frame::ok() })
}

/// SETNX key value -> 1 if the key was set, 0 if it already existed.
fn setnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if ctx.ks.lookup(&argv[1])?.is_some() {
        return Ok(Frame::Integer(0));
    }
    ctx.ks
        .overwrite(&argv[1], &mut Meta::string(argv[2].clone()))?;
    Ok(Frame::Integer(1))
}

/// SETEX key seconds value -> OK.
fn setex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_with_expiry(ctx, argv, b"EX", "setex")
}

/// PSETEX key milliseconds value -> OK.
fn psetex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_with_expiry(ctx, argv, b"PX", "psetex")
}

fn set_with_expiry(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    unit: &[u8],
    cmd: &str,
) -> Result<Frame, CmdError> {
    let n = parse_i64(&argv[2])?;
    let at = absolute_expiry(ctx, unit, n, cmd)?;
    let mut meta = Meta::string(argv[3].clone());
    meta.expire_at = Some(at);
    ctx.ks.overwrite(&argv[1], &mut meta)?;
    Ok(Frame::ok())
}

/// GETSET key value -> the old value (or nil); the new value has no expiry.
fn getset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let old = read_string(ctx, &argv[1])?;
    ctx.ks
        .overwrite(&argv[1], &mut Meta::string(argv[2].clone()))?;
    Ok(bulk_or_nil(old))
}

/// GETDEL key -> the value (or nil), and the key is deleted.
fn getdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let old = read_string(ctx, &argv[1])?;
    if old.is_some() {
        ctx.ks.delete(&argv[1])?;
    }
    Ok(bulk_or_nil(old))
}

/// GETEX key [EX s | PX ms | EXAT ts | PXAT ts-ms | PERSIST] -> the value (or nil), after
/// changing the key's expiry as asked (an absolute time in the past deletes it).
fn getex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let opts = parse_string_options(argv, false)?;
    let expire = option_expiry(ctx, opts.expire, "getex")?;
    let Some(mut meta) = read_string(ctx, key)? else {
        return Ok(Frame::Null);
    };
    let reply = Frame::Bulk(meta.value.clone());
    match expire {
        Some(at) if at <= ctx.ks.now_ms => {
            ctx.ks.delete(key)?;
        }
        Some(at) => {
            meta.expire_at = Some(at);
            ctx.ks.save_meta(key, &mut meta)?;
        }
        None if opts.persist && meta.expire_at.is_some() => {
            meta.expire_at = None;
            ctx.ks.save_meta(key, &mut meta)?;
        }
        None => {}
    }
    Ok(reply)
}

/// MGET key [key ...] -> one bulk or nil per key (nil also for keys of another type).
fn mget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let mut out = Vec::with_capacity(argv.len() - 1);
    for key in &argv[1..] {
        out.push(match ctx.ks.lookup(key)? {
            Some(meta) if meta.ty == KeyType::String => Frame::Bulk(meta.value),
            _ => Frame::Null,
        });
    }
    Ok(Frame::Array(out))
}

/// The (key, value) pairs of MSET/MSETNX; an odd count is Redis's arity error.
fn key_value_pairs<'a>(
    argv: &'a [Bytes],
    cmd: &str,
) -> Result<Vec<(&'a Bytes, &'a Bytes)>, CmdError> {
    if argv.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(cmd.to_string()));
    }
    Ok(argv[1..].chunks_exact(2).map(|p| (&p[0], &p[1])).collect())
}

/// MSET key value [key value ...] -> OK; every key loses its expiry.
fn mset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    for (key, value) in key_value_pairs(argv, "mset")? {
        ctx.ks.overwrite(key, &mut Meta::string(value.clone()))?;
    }
    Ok(Frame::ok())
}

/// MSETNX key value [key value ...] -> 1 if all keys were set, 0 (nothing set) if any existed.
fn msetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let pairs = key_value_pairs(argv, "msetnx")?;
    for (key, _) in &pairs {
        if ctx.ks.lookup(key)?.is_some() {
            return Ok(Frame::Integer(0));
        }
    }
    for (key, value) in pairs {
        ctx.ks.overwrite(key, &mut Meta::string(value.clone()))?;
    }
    Ok(Frame::Integer(1))
}

/// Redis's `checkStringLength`: a string of `size + append` bytes must fit the bulk limit.
fn check_string_length(size: u64, append: u64) -> Result<(), CmdError> {
    match size.checked_add(append) {
        Some(total) if total <= MAX_STRING_LEN => Ok(()),
        _ => Err(CmdError::other(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        )),
    }
}

/// APPEND key value -> the new length; creates the key, keeps its expiry.
fn append(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, tail) = (&argv[1], &argv[2]);
    let mut meta = match read_string(ctx, key)? {
        Some(meta) => {
            check_string_length(meta.value.len() as u64, tail.len() as u64)?;
            let mut value = Vec::with_capacity(meta.value.len() + tail.len());
            value.extend_from_slice(&meta.value);
            value.extend_from_slice(tail);
            Meta {
                value: Bytes::from(value),
                ..meta
            }
        }
        None => Meta::string(tail.clone()),
    };
    let len = meta.value.len();
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(len as i64))
}

/// STRLEN key -> the length of the value, 0 when absent.
fn strlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let len = read_string(ctx, &argv[1])?.map_or(0, |m| m.value.len());
    Ok(Frame::Integer(len as i64))
}

/// GETRANGE key start end (and SUBSTR) -> the bytes from start to end inclusive; negative
/// indexes count from the end; "" when absent or the range is empty.
fn getrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let mut start = parse_i64(&argv[2])?;
    let mut end = parse_i64(&argv[3])?;
    let Some(meta) = read_string(ctx, &argv[1])? else {
        return Ok(Frame::Bulk(Bytes::new()));
    };
    let value = meta.value;
    let len = value.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Ok(Frame::Bulk(Bytes::new()));
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0).min(len - 1);
    if start > end || len == 0 {
        return Ok(Frame::Bulk(Bytes::new()));
    }
    Ok(Frame::Bulk(value.slice(start as usize..=end as usize)))
}

/// SETRANGE key offset value -> the new length; pads with zero bytes, keeps the expiry.
fn setrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, patch) = (&argv[1], &argv[3]);
    let offset = parse_i64(&argv[2])?;
    let Ok(offset) = u64::try_from(offset) else {
        return Err(CmdError::other("ERR offset is out of range"));
    };
    let existing = read_string(ctx, key)?;
    if patch.is_empty() {
        return Ok(Frame::Integer(existing.map_or(0, |m| m.value.len() as i64)));
    }
    check_string_length(offset, patch.len() as u64)?;
    // Fits in usize: bounded by MAX_STRING_LEN just above.
    let offset = offset as usize;
    let mut meta = existing.unwrap_or_else(|| Meta::string(Bytes::new()));
    let mut value = meta.value.to_vec();
    let needed = offset + patch.len();
    if value.len() < needed {
        value.resize(needed, 0);
    }
    value[offset..needed].copy_from_slice(patch);
    let len = value.len();
    meta.value = Bytes::from(value);
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(len as i64))
}

/// Adds `delta` to the integer value of `key` (0 when absent), keeping its expiry.
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], delta: i64) -> Result<Frame, CmdError> {
    let existing = read_string(ctx, key)?;
    let current = match &existing {
        Some(meta) => parse_i64(&meta.value)?,
        None => 0,
    };
    let next = current.checked_add(delta).ok_or(CmdError::Overflow)?;
    let mut meta = existing.unwrap_or_else(|| Meta::string(Bytes::new()));
    meta.value = Bytes::from(next.to_string());
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(next))
}

/// INCR key -> the value after adding 1.
fn incr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    incr_by(ctx, &argv[1], 1)
}

/// DECR key -> the value after subtracting 1.
fn decr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    incr_by(ctx, &argv[1], -1)
}

/// INCRBY key increment -> the value after adding the increment.
fn incrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let delta = parse_i64(&argv[2])?;
    incr_by(ctx, &argv[1], delta)
}

/// DECRBY key decrement -> the value after subtracting the decrement.
fn decrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let delta = parse_i64(&argv[2])?;
    let Some(negated) = delta.checked_neg() else {
        return Err(CmdError::other("ERR decrement would overflow"));
    };
    incr_by(ctx, &argv[1], negated)
}

/// INCRBYFLOAT key increment -> bulk string of the new value, computed and printed as Redis
/// does (long double, `%.17Lf` with trailing zeros trimmed); keeps the expiry.
fn incrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let existing = read_string(ctx, key)?;
    let current = match &existing {
        Some(m) => long_double::parse(&m.value).ok_or(CmdError::NotFloat)?,
        None => Ld::ZERO,
    };
    let incr = long_double::parse(&argv[2]).ok_or(CmdError::NotFloat)?;
    let formatted = long_double::increment(current, incr)?;
    let mut meta = existing.unwrap_or_else(|| Meta::string(Bytes::new()));
    meta.value = Bytes::from(formatted);
    let reply = Frame::Bulk(meta.value.clone());
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(reply)
}

/// Turns an EX/PX/EXAT/PXAT argument into absolute unix ms, with Redis's checks and error text
/// (`ERR invalid expire time in 'set' command`).
pub fn absolute_expiry(ctx: &Ctx<'_>, unit: &[u8], n: i64, cmd: &str) -> Result<u64, CmdError> {
    let invalid = || CmdError::other(format!("ERR invalid expire time in '{cmd}' command"));
    if n <= 0 {
        return Err(invalid());
    }
    let ms = if is_kw(unit, "EX") || is_kw(unit, "EXAT") {
        n.checked_mul(1000).ok_or_else(invalid)?
    } else {
        n
    };
    let at = if is_kw(unit, "EX") || is_kw(unit, "PX") {
        ms.checked_add(ctx.ks.now_ms as i64).ok_or_else(invalid)?
    } else {
        ms
    };
    u64::try_from(at).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};
    use redoubt_proto::resp::Frame;

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    const NOT_INT: &str = "ERR value is not an integer or out of range";

    fn db_with_list(key: &str) -> TestDb {
        let mut db = TestDb::new();
        let mut meta = crate::store::Meta::new(crate::store::KeyType::List);
        meta.count = 1;
        meta.tail = 1;
        db.ks
            .save_meta(key.as_bytes(), &mut meta)
            .expect("save list");
        db
    }

    fn ttl_ms(db: &mut TestDb, key: &str) -> Option<u64> {
        let now = db.ks.now_ms;
        db.ks
            .lookup(key.as_bytes())
            .expect("lookup")
            .and_then(|m| m.expire_at)
            .map(|at| at - now)
    }

    #[test]
    fn get_and_set_basics() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["GET", "k"]), Frame::Null);
        assert_eq!(db.exec(&["SET", "k", "v"]), Frame::ok());
        assert_eq!(db.exec(&["GET", "k"]), bulk("v"));
        assert_eq!(db.exec(&["SET", "e", ""]), Frame::ok());
        assert_eq!(db.exec(&["GET", "e"]), bulk(""));
        assert_eq!(
            db.exec(&["GET"]),
            err("ERR wrong number of arguments for 'get' command")
        );
    }

    #[test]
    fn set_nx_xx_get_options() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SET", "k", "1", "XX"]), Frame::Null);
        assert_eq!(db.exec(&["SET", "k", "1", "NX"]), Frame::ok());
        assert_eq!(db.exec(&["SET", "k", "2", "NX"]), Frame::Null);
        assert_eq!(db.exec(&["SET", "k", "2", "XX", "GET"]), bulk("1"));
        assert_eq!(db.exec(&["SET", "k", "3", "NX", "GET"]), bulk("2"));
        assert_eq!(db.exec(&["GET", "k"]), bulk("2"));
        assert_eq!(db.exec(&["SET", "new", "x", "GET"]), Frame::Null);
        assert_eq!(
            db.exec(&["SET", "k", "1", "NX", "XX"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["SET", "k", "1", "BOGUS"]),
            err("ERR syntax error")
        );
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["SET", "l", "v", "GET"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["SET", "l", "v"]), Frame::ok());
        assert_eq!(db.exec(&["GET", "l"]), bulk("v"));
    }

    #[test]
    fn set_expiry_options() {
        let mut db = TestDb::new();
        db.exec(&["SET", "k", "v", "EX", "10"]);
        assert_eq!(ttl_ms(&mut db, "k"), Some(10_000));
        db.exec(&["SET", "k", "v", "PX", "1500"]);
        assert_eq!(ttl_ms(&mut db, "k"), Some(1500));
        let at = (db.ks.now_ms / 1000 + 100).to_string();
        db.exec(&["SET", "k", "v", "EXAT", &at]);
        assert_eq!(
            db.ks.lookup(b"k").expect("l").and_then(|m| m.expire_at),
            Some(at.parse::<u64>().expect("n") * 1000)
        );
        let pat = (db.ks.now_ms + 777).to_string();
        db.exec(&["SET", "k", "v", "PXAT", &pat]);
        assert_eq!(ttl_ms(&mut db, "k"), Some(777));
        db.exec(&["SET", "k", "w", "KEEPTTL"]);
        assert_eq!(ttl_ms(&mut db, "k"), Some(777));
        db.exec(&["SET", "k", "w"]);
        assert_eq!(ttl_ms(&mut db, "k"), None);
        // The same expiry option may repeat; two different ones may not.
        assert_eq!(
            db.exec(&["SET", "k", "v", "EX", "1", "EX", "5"]),
            Frame::ok()
        );
        assert_eq!(ttl_ms(&mut db, "k"), Some(5000));
        assert_eq!(
            db.exec(&["SET", "k", "v", "EX", "1", "PX", "5"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["SET", "k", "v", "EX", "1", "KEEPTTL"]),
            err("ERR syntax error")
        );
        assert_eq!(db.exec(&["SET", "k", "v", "EX"]), err("ERR syntax error"));
        let bad = "ERR invalid expire time in 'set' command";
        assert_eq!(db.exec(&["SET", "k", "v", "EX", "0"]), err(bad));
        assert_eq!(
            db.exec(&["SET", "k", "v", "EX", "-9999999999999999"]),
            err(bad)
        );
        assert_eq!(
            db.exec(&["SET", "k", "v", "EX", "10000000000000000"]),
            err(bad)
        );
        assert_eq!(
            db.exec(&["SET", "k", "v", "PX", "9223372036854775807"]),
            err(bad)
        );
        assert_eq!(db.exec(&["SET", "k", "v", "EX", "abc"]), err(NOT_INT));
        db.advance_ms(5000);
        assert_eq!(db.exec(&["GET", "k"]), Frame::Null);
    }

    #[test]
    fn setnx_setex_psetex() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SETNX", "k", "a"]), int(1));
        assert_eq!(db.exec(&["SETNX", "k", "b"]), int(0));
        assert_eq!(db.exec(&["GET", "k"]), bulk("a"));
        db.exec(&["SET", "v", "x", "PX", "10"]);
        db.advance_ms(10);
        assert_eq!(db.exec(&["SETNX", "v", "y"]), int(1));
        assert_eq!(db.exec(&["SETEX", "s", "10", "val"]), Frame::ok());
        assert_eq!(ttl_ms(&mut db, "s"), Some(10_000));
        assert_eq!(db.exec(&["GET", "s"]), bulk("val"));
        assert_eq!(db.exec(&["PSETEX", "p", "100", "val"]), Frame::ok());
        assert_eq!(ttl_ms(&mut db, "p"), Some(100));
        assert_eq!(
            db.exec(&["SETEX", "s", "-10", "v"]),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            db.exec(&["PSETEX", "s", "0", "v"]),
            err("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(db.exec(&["SETEX", "s", "x", "v"]), err(NOT_INT));
    }

    #[test]
    fn getset_getdel_getex() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["GETSET", "k", "a"]), Frame::Null);
        db.exec(&["EXPIRE", "k", "100"]);
        assert_eq!(db.exec(&["GETSET", "k", "b"]), bulk("a"));
        assert_eq!(ttl_ms(&mut db, "k"), None);
        assert_eq!(db.exec(&["GETDEL", "k"]), bulk("b"));
        assert_eq!(db.exec(&["GETDEL", "k"]), Frame::Null);
        assert_eq!(db.exec(&["EXISTS", "k"]), int(0));

        db.exec(&["SET", "g", "v"]);
        assert_eq!(db.exec(&["GETEX", "g", "EX", "10"]), bulk("v"));
        assert_eq!(ttl_ms(&mut db, "g"), Some(10_000));
        assert_eq!(db.exec(&["GETEX", "g", "PX", "500"]), bulk("v"));
        assert_eq!(ttl_ms(&mut db, "g"), Some(500));
        assert_eq!(db.exec(&["GETEX", "g"]), bulk("v"));
        assert_eq!(ttl_ms(&mut db, "g"), Some(500));
        assert_eq!(db.exec(&["GETEX", "g", "PERSIST"]), bulk("v"));
        assert_eq!(ttl_ms(&mut db, "g"), None);
        let at = (db.ks.now_ms + 2000).to_string();
        assert_eq!(db.exec(&["GETEX", "g", "PXAT", &at]), bulk("v"));
        assert_eq!(ttl_ms(&mut db, "g"), Some(2000));
        let past = (db.ks.now_ms / 1000 - 10).to_string();
        assert_eq!(db.exec(&["GETEX", "g", "EXAT", &past]), bulk("v"));
        assert_eq!(db.exec(&["EXISTS", "g"]), int(0));
        assert_eq!(db.exec(&["GETEX", "missing", "EX", "1"]), Frame::Null);
        assert_eq!(db.exec(&["GETEX", "g", "NX"]), err("ERR syntax error"));
        assert_eq!(
            db.exec(&["GETEX", "g", "EX", "1", "PERSIST"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["GETEX", "g", "EX", "0"]),
            err("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(
            db.exec(&["GETEX"]),
            err("ERR wrong number of arguments for 'getex' command")
        );
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["GETSET", "l", "x"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["GETDEL", "l"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["GETEX", "l"]), err(WRONGTYPE));
    }

    #[test]
    fn mget_mset_msetnx() {
        let mut db = db_with_list("l");
        assert_eq!(
            db.exec(&["MSET", "a", "1", "b", "2", "a", "3"]),
            Frame::ok()
        );
        assert_eq!(
            db.exec(&["MGET", "a", "b", "c", "l"]),
            Frame::Array(vec![bulk("3"), bulk("2"), Frame::Null, Frame::Null])
        );
        assert_eq!(
            db.exec(&["MSET", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(
            db.exec(&["MSETNX", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'msetnx' command")
        );
        assert_eq!(db.exec(&["MSETNX", "x", "1", "a", "2"]), int(0));
        assert_eq!(db.exec(&["EXISTS", "x"]), int(0));
        assert_eq!(db.exec(&["MSETNX", "x", "1", "y", "2", "x", "3"]), int(1));
        assert_eq!(db.exec(&["MGET", "x", "y"]), arr(&["3", "2"]));
        db.exec(&["EXPIRE", "x", "100"]);
        db.exec(&["MSET", "x", "9"]);
        assert_eq!(ttl_ms(&mut db, "x"), None);
    }

    #[test]
    fn append_and_strlen() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["STRLEN", "k"]), int(0));
        assert_eq!(db.exec(&["APPEND", "k", "foo"]), int(3));
        db.exec(&["PEXPIRE", "k", "1000"]);
        assert_eq!(db.exec(&["APPEND", "k", "bar"]), int(6));
        assert_eq!(db.exec(&["GET", "k"]), bulk("foobar"));
        assert_eq!(ttl_ms(&mut db, "k"), Some(1000));
        assert_eq!(db.exec(&["STRLEN", "k"]), int(6));
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["APPEND", "l", "x"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["STRLEN", "l"]), err(WRONGTYPE));
    }

    #[test]
    fn getrange_and_substr() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["GETRANGE", "k", "0", "-1"]), bulk(""));
        db.exec(&["SET", "k", "Hello World"]);
        let cases = [
            ("0", "3", "Hell"),
            ("0", "-1", "Hello World"),
            ("-4", "-1", "orld"),
            ("5", "3", ""),
            ("5", "5000", " World"),
            ("-5000", "10000", "Hello World"),
            ("-1", "-5", ""),
            ("0", "-100", "H"),
            ("-9223372036854775808", "9223372036854775807", "Hello World"),
        ];
        for (s, e, want) in cases {
            assert_eq!(db.exec(&["GETRANGE", "k", s, e]), bulk(want), "{s} {e}");
        }
        assert_eq!(db.exec(&["SUBSTR", "k", "6", "-1"]), bulk("World"));
        db.exec(&["SET", "e", ""]);
        assert_eq!(db.exec(&["GETRANGE", "e", "0", "-1"]), bulk(""));
        assert_eq!(db.exec(&["GETRANGE", "k", "a", "1"]), err(NOT_INT));
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["GETRANGE", "l", "0", "1"]), err(WRONGTYPE));
    }

    #[test]
    fn setrange_pads_and_checks_limits() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SETRANGE", "k", "0", ""]), int(0));
        assert_eq!(db.exec(&["EXISTS", "k"]), int(0));
        assert_eq!(db.exec(&["SETRANGE", "k", "1", "foo"]), int(4));
        assert_eq!(
            db.exec(&["GET", "k"]),
            Frame::Bulk(bytes::Bytes::from_static(b"\0foo"))
        );
        assert_eq!(db.exec(&["SETRANGE", "k", "0", "b"]), int(4));
        assert_eq!(
            db.exec(&["GET", "k"]),
            Frame::Bulk(bytes::Bytes::from_static(b"bfoo"))
        );
        assert_eq!(db.exec(&["SETRANGE", "k", "10", ""]), int(4));
        assert_eq!(
            db.exec(&["SETRANGE", "k", "-1", "x"]),
            err("ERR offset is out of range")
        );
        let too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
        assert_eq!(
            db.exec(&["SETRANGE", "k", "536870908", "world"]),
            err(too_big)
        );
        assert_eq!(
            db.exec(&["SETRANGE", "n", "9223372036854775807", "A"]),
            err(too_big)
        );
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["SETRANGE", "l", "0", "x"]), err(WRONGTYPE));
    }

    #[test]
    fn integer_counters() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["INCR", "n"]), int(1));
        assert_eq!(db.exec(&["INCRBY", "n", "10"]), int(11));
        assert_eq!(db.exec(&["DECR", "n"]), int(10));
        assert_eq!(db.exec(&["DECRBY", "n", "20"]), int(-10));
        assert_eq!(db.exec(&["GET", "n"]), bulk("-10"));
        assert_eq!(db.exec(&["DECR", "absent"]), int(-1));
        db.exec(&["SET", "big", "17179869184"]);
        assert_eq!(
            db.exec(&["INCRBY", "big", "17179869184"]),
            int(34_359_738_368)
        );
        db.exec(&["PEXPIRE", "n", "5000"]);
        db.exec(&["INCR", "n"]);
        assert_eq!(ttl_ms(&mut db, "n"), Some(5000));
        for bad in [" 1", "1 ", "a", "1.5", "01", ""] {
            db.exec(&["SET", "s", bad]);
            assert_eq!(db.exec(&["INCR", "s"]), err(NOT_INT), "{bad:?}");
        }
        db.exec(&["SET", "m", "9223372036854775807"]);
        assert_eq!(
            db.exec(&["INCR", "m"]),
            err("ERR increment or decrement would overflow")
        );
        db.exec(&["SET", "m", "0"]);
        assert_eq!(
            db.exec(&["DECRBY", "m", "-9223372036854775808"]),
            err("ERR decrement would overflow")
        );
        assert_eq!(db.exec(&["INCRBY", "m", "x"]), err(NOT_INT));
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["INCR", "l"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["INCRBY", "l", "x"]), err(NOT_INT));
    }

    #[test]
    fn incrbyfloat_matches_redis_digits() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "1"]), bulk("1"));
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "0.25"]), bulk("1.25"));
        assert_eq!(db.exec(&["GET", "f"]), bulk("1.25"));
        db.exec(&["SET", "f", "10.50"]);
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "-5"]), bulk("5.6"));
        db.exec(&["SET", "f", "5.0e3"]);
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "2.0e5"]), bulk("205000"));
        db.exec(&["SET", "f", "0.1"]);
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "0.2"]), bulk("0.3"));
        db.exec(&["SET", "f", "1"]);
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "-1.1"]), bulk("-0.1"));
        db.exec(&["SET", "f", "10000000000"]);
        assert_eq!(
            db.exec(&["INCRBYFLOAT", "f", "0.1"]),
            bulk("10000000000.09999999962747097")
        );
        assert_eq!(
            db.exec(&["INCRBYFLOAT", "f", "0x10"]),
            bulk("10000000016.09999999962747097")
        );
        db.exec(&["SET", "f", "17179869184"]);
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "1.5"]), bulk("17179869185.5"));
        db.exec(&["DEL", "f"]);
        db.exec(&["INCRBYFLOAT", "f", "0.024390243902439025"]);
        assert_eq!(
            db.exec(&["INCRBYFLOAT", "f", "-0.024390243902439025"]),
            bulk("0")
        );
        db.exec(&["SET", "f", "0"]);
        let nan = "ERR increment would produce NaN or Infinity";
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "+inf"]), err(nan));
        assert_eq!(db.exec(&["GET", "f"]), bulk("0"));
        let bad = "ERR value is not a valid float";
        for v in [" 1", "1 ", " 1 ", "abc", "1\u{0}2", "nan"] {
            db.exec(&["SET", "s", v]);
            assert_eq!(db.exec(&["INCRBYFLOAT", "s", "1"]), err(bad), "{v:?}");
        }
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "x"]), err(bad));
        db.exec(&["SET", "f", "1"]);
        db.exec(&["PEXPIRE", "f", "3000"]);
        db.exec(&["INCRBYFLOAT", "f", "1"]);
        assert_eq!(ttl_ms(&mut db, "f"), Some(3000));
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["INCRBYFLOAT", "l", "x"]), err(WRONGTYPE));
    }
}
