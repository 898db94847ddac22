//! Hash commands: HSET, HGET, HINCRBY, HGETALL, HSCAN, HRANDFIELD and the rest of the group.
//!
//! A hash is its meta record (`KeyType::Hash`, `count` = number of fields) plus one member
//! record per field: `member_prefix(db, key) + stable_hash(field) + field -> value`. Every
//! handler looks the key up first (expiry, WRONGTYPE), keeps `count` exact and ends a change
//! with `save_meta`; it never touches records of another type.
//!
//! The member helpers at the bottom (reading members, SCAN arguments and replies, random
//! sampling, Redis's long double formatting) are shared with `set.rs`.

use bytes::Bytes;
use redoubt_proto::resp::{Frame, Protocol};
use sled::IVec;

use super::args::{glob_match, is_kw, parse_i64, parse_i64_opt};
use super::flag::*;
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec, Rng};
use crate::store::encoding::{hashed_member_key, member_prefix};
use crate::store::{KeyType, Meta};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "hdel",
        group: "hash",
        summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
        since: "2.0.0",
        arity: -3,
        flags: WRITE | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Write(hdel),
        subcommands: &[],
    },
    CommandSpec {
        name: "hexists",
        group: "hash",
        summary: "Determines whether a field exists in a hash.",
        since: "2.0.0",
        arity: 3,
        flags: READONLY | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Read(hexists),
        subcommands: &[],
    },
    CommandSpec {
        name: "hget",
        group: "hash",
        summary: "Returns the value of a field in a hash.",
        since: "2.0.0",
        arity: 3,
        flags: READONLY | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Read(hget),
        subcommands: &[],
    },
    CommandSpec {
        name: "hgetall",
        group: "hash",
        summary: "Returns all fields and values in a hash.",
        since: "2.0.0",
        arity: 2,
        flags: READONLY,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Read(hgetall),
        subcommands: &[],
    },
    CommandSpec {
        name: "hincrby",
        group: "hash",
        summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
        since: "2.0.0",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Write(hincrby),
        subcommands: &[],
    },
    CommandSpec {
        name: "hincrbyfloat",
        group: "hash",
        summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
        since: "2.6.0",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Write(hincrbyfloat),
        subcommands: &[],
    },
    CommandSpec {
        name: "hkeys",
        group: "hash",
        summary: "Returns all fields in a hash.",
        since: "2.0.0",
        arity: 2,
        flags: READONLY,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Read(hkeys),
        subcommands: &[],
    },
    CommandSpec {
        name: "hlen",
        group: "hash",
        summary: "Returns the number of fields in a hash.",
        since: "2.0.0",
        arity: 2,
        flags: READONLY | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Read(hlen),
        subcommands: &[],
    },
    CommandSpec {
        name: "hmget",
        group: "hash",
        summary: "Returns the values of all fields in a hash.",
        since: "2.0.0",
        arity: -3,
        flags: READONLY | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Read(hmget),
        subcommands: &[],
    },
    CommandSpec {
        name: "hmset",
        group: "hash",
        summary: "Sets the values of multiple fields.",
        since: "2.0.0",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Write(hmset),
        subcommands: &[],
    },
    CommandSpec {
        name: "hrandfield",
        group: "hash",
        summary: "Returns one or more random fields from a hash.",
        since: "6.2.0",
        arity: -2,
        flags: READONLY,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Read(hrandfield),
        subcommands: &[],
    },
    CommandSpec {
        name: "hscan",
        group: "hash",
        summary: "Iterates over fields and values of a hash.",
        since: "2.8.0",
        arity: -3,
        flags: READONLY,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Read(hscan),
        subcommands: &[],
    },
    CommandSpec {
        name: "hset",
        group: "hash",
        summary: "Creates or modifies the value of a field in a hash.",
        since: "2.0.0",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Write(hset),
        subcommands: &[],
    },
    CommandSpec {
        name: "hsetnx",
        group: "hash",
        summary: "Sets the value of a field in a hash only when the field doesn't exist.",
        since: "2.0.0",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Write(hsetnx),
        subcommands: &[],
    },
    CommandSpec {
        name: "hstrlen",
        group: "hash",
        summary: "Returns the length of the value of a field.",
        since: "3.2.0",
        arity: 3,
        flags: READONLY | FAST,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Read(hstrlen),
        subcommands: &[],
    },
    CommandSpec {
        name: "hvals",
        group: "hash",
        summary: "Returns all values in a hash.",
        since: "2.0.0",
        arity: 2,
        flags: READONLY,
        acl: &["hash"],
        keys: KeySpec::ONE,
        exec: Exec::Read(hvals),
        subcommands: &[],
    },
];

/// Redis's `hash-max-listpack-entries` / `hash-max-listpack-value` defaults: a hash this small
/// is one listpack in Redis, and HSCAN returns it whole with cursor 0.
const HASH_COMPACT_ENTRIES: u64 = 128;
const HASH_COMPACT_VALUE: usize = 64;

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

/// HSET key field value [field value ...] -> number of fields created.
fn hset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_fields(ctx, argv, "hset").map(Frame::Integer)
}

/// HMSET key field value [field value ...] -> OK (deprecated form of HSET).
fn hmset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_fields(ctx, argv, "hmset").map(|_| Frame::ok())
}

fn set_fields(ctx: &mut Ctx<'_>, argv: &[Bytes], name: &str) -> Result<i64, CmdError> {
    if argv.len() % 2 == 1 {
        return Err(CmdError::WrongArity(name.to_string()));
    }
    let key = &argv[1];
    let mut meta = lookup_hash(ctx, key)?.unwrap_or_else(|| Meta::new(KeyType::Hash));
    let mut created = 0;
    for pair in argv[2..].chunks_exact(2) {
        if put_field(ctx, key, &mut meta, &pair[0], &pair[1])? {
            created += 1;
        }
    }
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(created)
}

/// HSETNX key field value -> 1 if the field was set, 0 if it already existed.
fn hsetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, field) = (&argv[1], &argv[2]);
    let mut meta = lookup_hash(ctx, key)?.unwrap_or_else(|| Meta::new(KeyType::Hash));
    if meta.count > 0 && field_value(ctx, key, field)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    put_field(ctx, key, &mut meta, field, &argv[3])?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(1))
}

/// HGET key field -> bulk value or nil.
fn hget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Null);
    }
    Ok(match field_value(ctx, &argv[1], &argv[2])? {
        Some(v) => Frame::Bulk(Bytes::copy_from_slice(&v)),
        None => Frame::Null,
    })
}

/// HMGET key field [field ...] -> array of values, nil for missing fields.
fn hmget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let exists = lookup_hash(ctx, &argv[1])?.is_some();
    let mut out = Vec::with_capacity(argv.len() - 2);
    for field in &argv[2..] {
        let value = if exists {
            field_value(ctx, &argv[1], field)?
        } else {
            None
        };
        out.push(match value {
            Some(v) => Frame::Bulk(Bytes::copy_from_slice(&v)),
            None => Frame::Null,
        });
    }
    Ok(Frame::Array(out))
}

/// HDEL key field [field ...] -> number of fields removed; the hash goes when emptied.
fn hdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let Some(mut meta) = lookup_hash(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let mut removed: u64 = 0;
    for field in &argv[2..] {
        let record = field_key(ctx, key, field);
        if ctx.ks.txn.get(&record)?.is_some() {
            ctx.ks.txn.remove(record)?;
            removed += 1;
        }
    }
    if removed > 0 {
        meta.count = meta.count.saturating_sub(removed);
        ctx.ks.save_meta(key, &mut meta)?;
    }
    Ok(Frame::Integer(removed as i64))
}

/// HLEN key -> number of fields.
fn hlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let count = lookup_hash(ctx, &argv[1])?.map_or(0, |m| m.count);
    Ok(Frame::Integer(count as i64))
}

/// HEXISTS key field -> 1 or 0.
fn hexists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Integer(0));
    }
    let found = field_value(ctx, &argv[1], &argv[2])?.is_some();
    Ok(Frame::Integer(i64::from(found)))
}

/// HSTRLEN key field -> length of the value, 0 when missing.
fn hstrlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Integer(0));
    }
    let len = field_value(ctx, &argv[1], &argv[2])?.map_or(0, |v| v.len());
    Ok(Frame::Integer(len as i64))
}

/// HGETALL key -> map of field to value (RESP2: flat array).
fn hgetall(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Map(Vec::new()));
    }
    let pairs = read_members(ctx, &argv[1])?;
    Ok(Frame::Map(
        pairs
            .into_iter()
            .map(|(f, v)| (Frame::Bulk(f), Frame::Bulk(v)))
            .collect(),
    ))
}

/// HKEYS key -> array of fields.
fn hkeys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Array(Vec::new()));
    }
    let pairs = read_members(ctx, &argv[1])?;
    Ok(Frame::Array(
        pairs.into_iter().map(|(f, _)| Frame::Bulk(f)).collect(),
    ))
}

/// HVALS key -> array of values.
fn hvals(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Array(Vec::new()));
    }
    let pairs = read_members(ctx, &argv[1])?;
    Ok(Frame::Array(
        pairs.into_iter().map(|(_, v)| Frame::Bulk(v)).collect(),
    ))
}

/// HINCRBY key field increment -> the new integer value.
fn hincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, field) = (&argv[1], &argv[2]);
    let incr = parse_i64(&argv[3])?;
    let mut meta = lookup_hash(ctx, key)?.unwrap_or_else(|| Meta::new(KeyType::Hash));
    let current = match field_value(ctx, key, field)? {
        Some(v) => {
            parse_i64_opt(&v).ok_or_else(|| CmdError::other("ERR hash value is not an integer"))?
        }
        None => 0,
    };
    let value = current.checked_add(incr).ok_or(CmdError::Overflow)?;
    put_field(ctx, key, &mut meta, field, value.to_string().as_bytes())?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(value))
}

/// HINCRBYFLOAT key field increment -> the new value as a bulk string, computed and formatted
/// as Redis does with a long double (`%.17Lf`, trailing zeros removed).
fn hincrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, field, incr_arg) = (&argv[1], &argv[2], &argv[3]);
    let incr = long_double::parse(incr_arg).ok_or(CmdError::NotFloat)?;
    if !incr.is_finite() {
        return Err(CmdError::other("ERR value is NaN or Infinity"));
    }
    let mut meta = lookup_hash(ctx, key)?.unwrap_or_else(|| Meta::new(KeyType::Hash));
    let current = match field_value(ctx, key, field)? {
        Some(v) => long_double::parse(&v)
            .ok_or_else(|| CmdError::other("ERR hash value is not a float"))?,
        None => long_double::ExtFloat::ZERO,
    };
    let sum = current.add(&incr);
    if !sum.is_finite() {
        return Err(CmdError::other(
            "ERR increment would produce NaN or Infinity",
        ));
    }
    let text = sum.to_human_string();
    put_field(ctx, key, &mut meta, field, text.as_bytes())?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Bulk(Bytes::from(text)))
}

/// HRANDFIELD key [count [WITHVALUES]] -> one field (nil when absent), or an array of fields
/// (negative count: may repeat); WITHVALUES adds values: RESP3 [field, value] pairs, RESP2 flat.
fn hrandfield(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    if argv.len() == 2 {
        let Some(meta) = lookup_hash(ctx, key)? else {
            return Ok(Frame::Null);
        };
        let index = ctx.rng.below(meta.count);
        return Ok(match nth_member(ctx, key, index)? {
            Some((field, _)) => Frame::Bulk(field),
            None => Frame::Null,
        });
    }
    let count = parse_random_count(&argv[2])?;
    let with_values = match argv.len() {
        3 => false,
        4 if is_kw(&argv[3], "WITHVALUES") => true,
        _ => return Err(CmdError::Syntax),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::other("ERR value is out of range"));
    }
    if lookup_hash(ctx, key)?.is_none() || count == 0 {
        return Ok(Frame::Array(Vec::new()));
    }
    let pairs = read_members(ctx, key)?;
    let picks = random_picks(ctx.rng, pairs.len(), count)?;
    let mut out = Vec::with_capacity(if with_values {
        picks.len() * 2
    } else {
        picks.len()
    });
    for i in picks {
        let Some((field, value)) = pairs.get(i) else {
            continue;
        };
        if !with_values {
            out.push(Frame::Bulk(field.clone()));
        } else if ctx.protocol == Protocol::Resp3 {
            out.push(Frame::Array(vec![
                Frame::Bulk(field.clone()),
                Frame::Bulk(value.clone()),
            ]));
        } else {
            out.push(Frame::Bulk(field.clone()));
            out.push(Frame::Bulk(value.clone()));
        }
    }
    Ok(Frame::Array(out))
}

/// HSCAN key cursor [MATCH pattern] [COUNT count] -> [next cursor, [field, value, ...]].
/// Small hashes (a listpack in Redis) come whole with cursor 0.
fn hscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let cursor = parse_scan_cursor(&argv[2])?;
    let Some(meta) = lookup_hash(ctx, key)? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = ScanArgs::parse(&argv[3..])?;
    let mut page = None;
    if meta.count <= HASH_COMPACT_ENTRIES {
        let pairs = read_members(ctx, key)?;
        if pairs
            .iter()
            .all(|(f, v)| f.len() <= HASH_COMPACT_VALUE && v.len() <= HASH_COMPACT_VALUE)
        {
            page = Some((0, pairs));
        }
    }
    let (next, pairs) = match page {
        Some(p) => p,
        None => scan_members(ctx, key, cursor, opts.count)?,
    };
    let mut out = Vec::with_capacity(pairs.len() * 2);
    for (field, value) in pairs {
        if opts.matches(&field) {
            out.push(Frame::Bulk(field));
            out.push(Frame::Bulk(value));
        }
    }
    Ok(scan_reply(next, out))
}

// ---------------------------------------------------------------------------------------------
// Member helpers shared by the hash and set commands.
// ---------------------------------------------------------------------------------------------

/// The member name inside a hashed member record key (`prefix + hash(8) + name`).
fn member_name(record: &[u8], prefix_len: usize) -> Bytes {
    Bytes::copy_from_slice(record.get(prefix_len + 8..).unwrap_or_default())
}

/// Every (name, value) of the collection `key` in storage order; the caller has looked it up.
pub(super) fn read_members(ctx: &Ctx<'_>, key: &[u8]) -> Result<Vec<(Bytes, Bytes)>, CmdError> {
    let prefix = member_prefix(ctx.ks.db, key);
    let mut out = Vec::new();
    for item in ctx.ks.txn.prefix(&prefix, false) {
        let (k, v) = item?;
        out.push((member_name(&k, prefix.len()), Bytes::copy_from_slice(&v)));
    }
    Ok(out)
}

/// The `index`-th (name, value) of the collection `key` in storage order.
pub(super) fn nth_member(
    ctx: &Ctx<'_>,
    key: &[u8],
    index: u64,
) -> Result<Option<(Bytes, Bytes)>, CmdError> {
    let prefix = member_prefix(ctx.ks.db, key);
    let index = usize::try_from(index).unwrap_or(usize::MAX);
    match ctx.ks.txn.prefix(&prefix, false).nth(index) {
        Some(item) => {
            let (k, v) = item?;
            Ok(Some((
                member_name(&k, prefix.len()),
                Bytes::copy_from_slice(&v),
            )))
        }
        None => Ok(None),
    }
}

/// One SCAN page of the collection `key` from `cursor`: (next cursor, (name, value)s).
pub(super) fn scan_members(
    ctx: &Ctx<'_>,
    key: &[u8],
    cursor: u64,
    count: usize,
) -> Result<(u64, Vec<(Bytes, Bytes)>), CmdError> {
    let prefix = member_prefix(ctx.ks.db, key);
    let page = ctx.ks.scan_hashed(&prefix, cursor, count)?;
    let items = page
        .items
        .iter()
        .map(|(k, v)| (member_name(k, prefix.len()), Bytes::copy_from_slice(v)))
        .collect();
    Ok((page.cursor, items))
}

/// A SCAN cursor as Redis's strtoul-based parsing reads it; "ERR invalid cursor" otherwise.
pub fn parse_scan_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::other("ERR invalid cursor");
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        // strtoul("") stops at the end: cursor 0; a lone sign is left unparsed.
        return if arg.is_empty() {
            Ok(0)
        } else {
            Err(invalid())
        };
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(invalid());
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// MATCH/COUNT options of HSCAN/SSCAN/ZSCAN.
pub struct ScanArgs {
    pub pattern: Option<Bytes>,
    pub count: usize,
}

impl ScanArgs {
    /// Parses the options after the cursor as Redis's scanGenericCommand does.
    pub fn parse(opts: &[Bytes]) -> Result<ScanArgs, CmdError> {
        let mut out = ScanArgs {
            pattern: None,
            count: 10,
        };
        let mut i = 0;
        while i < opts.len() {
            let value = opts.get(i + 1);
            match value {
                Some(v) if is_kw(&opts[i], "COUNT") => {
                    let n = parse_i64(v)?;
                    if n < 1 {
                        return Err(CmdError::Syntax);
                    }
                    out.count = usize::try_from(n).unwrap_or(usize::MAX);
                }
                Some(v) if is_kw(&opts[i], "MATCH") => {
                    out.pattern = (&v[..] != b"*").then(|| v.clone());
                }
                _ => return Err(CmdError::Syntax),
            }
            i += 2;
        }
        Ok(out)
    }

    pub fn matches(&self, name: &[u8]) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, name, false))
    }
}

/// `[cursor, items]`, the reply of every SCAN-like command.
pub fn scan_reply(cursor: u64, items: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(cursor.to_string())),
        Frame::Array(items),
    ])
}

/// The count of HRANDFIELD/SRANDMEMBER: an integer in -LONG_MAX..=LONG_MAX.
pub(super) fn parse_random_count(arg: &[u8]) -> Result<i64, CmdError> {
    let n = parse_i64(arg)?;
    if n == i64::MIN {
        return Err(CmdError::other(format!(
            "ERR value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    Ok(n)
}

/// Most elements a random-sampling reply may hold: Redis would stream a reply of any length
/// (and drop the client at its output buffer limit); we refuse instead of allocating it.
const MAX_RANDOM_REPLY: u64 = 1 << 24;

/// Indexes into `n` members (n > 0) as HRANDFIELD/SRANDMEMBER pick them for `count`:
/// negative: |count| independent picks that may repeat; count >= n: all of them in order;
/// otherwise `count` distinct picks (a partial Fisher-Yates shuffle: O(n), never O(n^2)).
pub(super) fn random_picks(rng: &mut Rng, n: usize, count: i64) -> Result<Vec<usize>, CmdError> {
    if n == 0 || count == 0 {
        return Ok(Vec::new());
    }
    if count < 0 {
        let m = count.unsigned_abs();
        if m > MAX_RANDOM_REPLY {
            return Err(CmdError::other("ERR value is out of range"));
        }
        return Ok((0..m).map(|_| rng.below(n as u64) as usize).collect());
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count >= n {
        return Ok((0..n).collect());
    }
    Ok(distinct_picks(rng, n, count))
}

/// `count` (< n) distinct indexes into `n`, in random order.
pub(super) fn distinct_picks(rng: &mut Rng, n: usize, count: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..count.min(n) {
        let j = i + rng.below((n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(count);
    idx
}

/// Formats `v` as Redis formats a long double for humans (`%.17Lf`, trailing zeros and a
/// trailing '.' removed, no "-0"): `10.6`, `3`, `inf`. For f64 input the shortest round-trip
/// digits are used, so values an f64 cannot hold exactly print without binary noise.
pub fn format_long_double(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Display never uses an exponent for f64.
    let text = format!("{}", v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let digits = format!("{int}{frac}");
    long_double::human_from_digits(v.is_sign_negative(), digits.into_bytes(), frac.len())
}

/// Adds two float strings as Redis's INCRBYFLOAT/HINCRBYFLOAT do with an x87 long double,
/// formatted as they reply: None if an operand is not a valid float or the sum is not finite.
pub fn long_double_add(a: &[u8], b: &[u8]) -> Option<String> {
    let sum = long_double::parse(a)?.add(&long_double::parse(b)?);
    sum.is_finite().then(|| sum.to_human_string())
}

/// Just enough of the x87 80-bit extended float (a 64-bit mantissa) that Redis's long double
/// arithmetic uses: correctly rounded parsing (strtold), addition, and `%.17Lf` printing, so
/// HINCRBYFLOAT replies byte for byte like Redis (`1000 + 0.1` is `1000.09999999999999998`).
pub mod long_double {
    use std::cmp::Ordering;

    /// Longest float argument Redis accepts (MAX_LONG_DOUBLE_CHARS).
    const MAX_CHARS: usize = 5 * 1024;
    /// Binary exponent range of the x87 format: values are mant * 2^exp with a normalised
    /// 64-bit mantissa; below MIN_EXP the format is subnormal.
    const MIN_EXP: i64 = -16445;
    const MAX_EXP: i64 = 16384 - 64;

    /// A finite extended float `(-1)^neg * mant * 2^exp`, or an infinity.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct ExtFloat {
        neg: bool,
        mant: u64,
        exp: i64,
        inf: bool,
    }

    impl ExtFloat {
        pub const ZERO: ExtFloat = ExtFloat {
            neg: false,
            mant: 0,
            exp: 0,
            inf: false,
        };

        fn infinity(neg: bool) -> ExtFloat {
            ExtFloat {
                neg,
                mant: 0,
                exp: 0,
                inf: true,
            }
        }

        pub fn is_finite(&self) -> bool {
            !self.inf
        }

        /// Rounds `big * 2^exp` (any size) to 64 bits, half to even.
        fn from_big(neg: bool, big: &Big, exp: i64, sticky_in: bool) -> ExtFloat {
            let bits = big.bit_len() as i64;
            if bits == 0 {
                return ExtFloat {
                    neg,
                    ..ExtFloat::ZERO
                };
            }
            // Keep 64 bits, or fewer when the result is subnormal.
            let mut shift = bits - 64;
            if exp + shift < MIN_EXP {
                shift = MIN_EXP - exp;
            }
            let (mut mant, round, sticky) = if shift > 0 {
                let s = shift as usize;
                let mant = big.bits_from(s);
                let round = big.bit(s - 1);
                let sticky = sticky_in || big.any_below(s - 1);
                (mant, round, sticky)
            } else {
                (big.low_u64() << ((-shift) as u32), false, sticky_in)
            };
            let mut e = exp + shift;
            if round && (sticky || mant & 1 == 1) {
                let (m, carry) = mant.overflowing_add(1);
                mant = m;
                if carry {
                    mant = 1 << 63;
                    e += 1;
                }
            }
            if mant != 0 && e > MAX_EXP {
                return ExtFloat::infinity(neg);
            }
            ExtFloat {
                neg,
                mant,
                exp: e,
                inf: false,
            }
        }

        /// The sum, rounded once as the FPU does.
        pub fn add(&self, other: &ExtFloat) -> ExtFloat {
            if self.inf || other.inf {
                if self.inf && other.inf && self.neg != other.neg {
                    // NaN: reported like an infinity (not finite) by callers.
                    return ExtFloat::infinity(false);
                }
                return if self.inf { *self } else { *other };
            }
            if self.mant == 0 {
                return if other.mant == 0 {
                    ExtFloat {
                        neg: self.neg && other.neg,
                        ..ExtFloat::ZERO
                    }
                } else {
                    *other
                };
            }
            if other.mant == 0 {
                return *self;
            }
            // Align on the smaller exponent, but never widen past what can change rounding:
            // a much smaller operand only contributes a sticky bit.
            let (hi, lo) = if self.exp >= other.exp {
                (self, other)
            } else {
                (other, self)
            };
            let gap = hi.exp - lo.exp;
            let (lo_big, lo_exp, sticky) = if gap > 130 {
                // Shift the small one right to 2 bits below the big one's last bit.
                let base = hi.exp - 2;
                let s = (base - lo.exp) as u32;
                let kept = if s >= 64 { 0 } else { lo.mant >> s };
                let lost = s >= 64 || lo.mant & ((1u64 << s) - 1) != 0;
                (Big::from_u64(kept), base, lost)
            } else {
                (Big::from_u64(lo.mant), lo.exp, false)
            };
            let mut hi_big = Big::from_u64(hi.mant);
            hi_big.shl((hi.exp - lo_exp) as usize);
            if hi.neg == lo.neg {
                hi_big.add(&lo_big);
                ExtFloat::from_big(hi.neg, &hi_big, lo_exp, sticky)
            } else {
                // Subtraction: with a sticky remainder the exact difference is a little less
                // than hi - kept; borrow one unit in the lowest place so rounding sees it.
                let mut lo_big = lo_big;
                match hi_big.cmp(&lo_big) {
                    Ordering::Equal if !sticky => ExtFloat::ZERO,
                    Ordering::Less => {
                        lo_big.sub(&hi_big);
                        ExtFloat::from_big(lo.neg, &lo_big, lo_exp, sticky)
                    }
                    _ => {
                        hi_big.sub(&lo_big);
                        if sticky {
                            // Make room for the borrow: two more bits, minus one, sticky.
                            hi_big.shl(2);
                            hi_big.sub(&Big::from_u64(1));
                            ExtFloat::from_big(hi.neg, &hi_big, lo_exp - 2, true)
                        } else {
                            ExtFloat::from_big(hi.neg, &hi_big, lo_exp, false)
                        }
                    }
                }
            }
        }

        /// `%.17Lf`, then trailing zeros (and a trailing '.') removed and "-0" made "0": what
        /// Redis's ld2string(LD_STR_HUMAN) produces.
        pub fn to_human_string(&self) -> String {
            if self.inf {
                return if self.neg { "-inf" } else { "inf" }.to_owned();
            }
            // value * 10^17 = mant * 2^exp * 10^17, rounded half to even to an integer.
            let mut big = Big::from_u64(self.mant);
            big.mul_pow10(17);
            let digits = if self.exp >= 0 {
                big.shl(self.exp as usize);
                big.to_decimal()
            } else {
                let s = (-self.exp) as usize;
                let mut q = big.shr_copy(s);
                let round = s >= 1 && big.bit(s - 1);
                let sticky = s >= 2 && big.any_below(s - 1);
                if round && (sticky || q.bit(0)) {
                    q.add(&Big::from_u64(1));
                }
                q.to_decimal()
            };
            human_from_digits(self.neg, digits.into_bytes(), 17)
        }
    }

    /// strtold as Redis's string2ld uses it: the whole argument must be a decimal float
    /// (optional sign, digits with an optional '.', optional exponent), "inf"/"infinity";
    /// no spaces, no NaN; a result that overflows or underflows to zero is refused.
    pub fn parse(arg: &[u8]) -> Option<ExtFloat> {
        if arg.is_empty() || arg.len() >= MAX_CHARS {
            return None;
        }
        let (neg, rest) = match arg[0] {
            b'-' => (true, &arg[1..]),
            b'+' => (false, &arg[1..]),
            _ => (false, arg),
        };
        if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
            return Some(ExtFloat::infinity(neg));
        }
        let mut digits: Vec<u8> = Vec::new();
        let mut frac_digits: i64 = 0;
        let mut seen_digit = false;
        let mut seen_dot = false;
        let mut i = 0;
        while let Some(&c) = rest.get(i) {
            if c.is_ascii_digit() {
                seen_digit = true;
                if !(digits.is_empty() && c == b'0') {
                    digits.push(c - b'0');
                }
                if seen_dot {
                    frac_digits += 1;
                }
            } else if c == b'.' && !seen_dot {
                seen_dot = true;
            } else {
                break;
            }
            i += 1;
        }
        if !seen_digit {
            return None;
        }
        let mut exp10: i64 = 0;
        if i < rest.len() {
            let c = rest[i];
            if c != b'e' && c != b'E' {
                return None;
            }
            let e = &rest[i + 1..];
            let (eneg, ed) = match e.first() {
                Some(b'-') => (true, &e[1..]),
                Some(b'+') => (false, &e[1..]),
                _ => (false, e),
            };
            if ed.is_empty() || !ed.iter().all(u8::is_ascii_digit) {
                return None;
            }
            for &d in ed {
                // Saturate: anything this large over- or underflows anyway.
                exp10 = (exp10 * 10 + i64::from(d - b'0')).min(1_000_000);
            }
            if eneg {
                exp10 = -exp10;
            }
        }
        let exp10 = exp10 - frac_digits;
        if digits.is_empty() {
            return Some(ExtFloat {
                neg,
                ..ExtFloat::ZERO
            });
        }
        // Quick range checks: beyond these the value surely over/underflows.
        let magnitude = digits.len() as i64 + exp10;
        if magnitude > 4940 {
            return None;
        }
        if magnitude < -4960 {
            return None;
        }
        let mut big = Big::from_decimal_digits(&digits);
        let value = if exp10 >= 0 {
            big.mul_pow10(exp10 as usize);
            ExtFloat::from_big(neg, &big, 0, false)
        } else {
            // value = big / 10^-exp10: scale up by 2^k so the quotient has 66+ bits.
            let mut den = Big::from_u64(1);
            den.mul_pow10((-exp10) as usize);
            let k = (den.bit_len() as i64 - big.bit_len() as i64 + 66).max(0);
            big.shl(k as usize);
            let (q, rem_nonzero) = big.div_small_quotient(&den);
            ExtFloat::from_big(neg, &q, -k, rem_nonzero)
        };
        if value.inf || value.mant == 0 {
            return None;
        }
        Some(value)
    }

    /// Rounds the decimal `digits` (ASCII or 0-9 values accepted) with `scale` fractional
    /// places to 17 places and prints it the LD_STR_HUMAN way.
    pub fn human_from_digits(neg: bool, digits: Vec<u8>, scale: usize) -> String {
        let mut d: Vec<u8> = digits
            .into_iter()
            .map(|c| if c >= b'0' { c - b'0' } else { c })
            .collect();
        let mut scale = scale;
        while d.len() <= scale {
            d.insert(0, 0);
        }
        if scale > 17 {
            let drop = scale - 17;
            let keep = d.len() - drop;
            let round_up = d.get(keep).is_some_and(|&c| c >= 5);
            d.truncate(keep);
            scale = 17;
            if round_up {
                let mut i = d.len();
                loop {
                    if i == 0 {
                        d.insert(0, 1);
                        break;
                    }
                    i -= 1;
                    if d[i] == 9 {
                        d[i] = 0;
                    } else {
                        d[i] += 1;
                        break;
                    }
                }
            }
        }
        let split = d.len() - scale;
        let (int, frac) = d.split_at(split);
        let int_start = int.iter().position(|&c| c != 0).unwrap_or(int.len());
        let int = &int[int_start..];
        let frac_end = frac.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
        let frac = &frac[..frac_end];
        let mut out = String::with_capacity(int.len() + frac.len() + 3);
        if neg && !(int.is_empty() && frac.is_empty()) {
            out.push('-');
        }
        if int.is_empty() {
            out.push('0');
        }
        out.extend(int.iter().map(|&c| char::from(b'0' + c)));
        if !frac.is_empty() {
            out.push('.');
            out.extend(frac.iter().map(|&c| char::from(b'0' + c)));
        }
        out
    }

    /// A small unsigned big integer, little-endian 32-bit limbs.
    #[derive(Clone, Debug)]
    struct Big(Vec<u32>);

    impl Big {
        fn from_u64(v: u64) -> Big {
            let mut b = Big(vec![v as u32, (v >> 32) as u32]);
            b.trim();
            b
        }

        fn from_decimal_digits(digits: &[u8]) -> Big {
            let mut b = Big(Vec::new());
            for chunk in digits.chunks(9) {
                let mut v: u32 = 0;
                for &d in chunk {
                    v = v * 10 + u32::from(d);
                }
                b.mul_small(10u32.pow(chunk.len() as u32));
                b.add(&Big::from_u64(u64::from(v)));
            }
            b
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        fn bit_len(&self) -> usize {
            match self.0.last() {
                Some(&top) => self.0.len() * 32 - top.leading_zeros() as usize,
                None => 0,
            }
        }

        fn bit(&self, i: usize) -> bool {
            self.0.get(i / 32).is_some_and(|l| (l >> (i % 32)) & 1 == 1)
        }

        /// Whether any bit below position `i` is set.
        fn any_below(&self, i: usize) -> bool {
            let full = i / 32;
            if self.0.iter().take(full).any(|&l| l != 0) {
                return true;
            }
            let rem = i % 32;
            rem > 0
                && self
                    .0
                    .get(full)
                    .is_some_and(|l| l & ((1u32 << rem) - 1) != 0)
        }

        /// The 64 bits starting at bit `s` (the caller knows the rest above is zero).
        fn bits_from(&self, s: usize) -> u64 {
            let mut v: u64 = 0;
            for k in 0..64 {
                if self.bit(s + k) {
                    v |= 1 << k;
                }
            }
            v
        }

        fn low_u64(&self) -> u64 {
            let lo = u64::from(self.0.first().copied().unwrap_or(0));
            let hi = u64::from(self.0.get(1).copied().unwrap_or(0));
            lo | (hi << 32)
        }

        fn mul_small(&mut self, m: u32) {
            let mut carry: u64 = 0;
            for l in self.0.iter_mut() {
                let v = u64::from(*l) * u64::from(m) + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry > 0 {
                self.0.push(carry as u32);
            }
            self.trim();
        }

        fn mul_pow10(&mut self, mut n: usize) {
            while n >= 9 {
                self.mul_small(1_000_000_000);
                n -= 9;
            }
            if n > 0 {
                self.mul_small(10u32.pow(n as u32));
            }
        }

        fn add(&mut self, other: &Big) {
            if self.0.len() < other.0.len() {
                self.0.resize(other.0.len(), 0);
            }
            let mut carry: u64 = 0;
            for (i, l) in self.0.iter_mut().enumerate() {
                let v = u64::from(*l) + u64::from(other.0.get(i).copied().unwrap_or(0)) + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry > 0 {
                self.0.push(carry as u32);
            }
        }

        /// self -= other (other <= self).
        fn sub(&mut self, other: &Big) {
            let mut borrow: i64 = 0;
            for (i, l) in self.0.iter_mut().enumerate() {
                let mut v =
                    i64::from(*l) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
                borrow = 0;
                if v < 0 {
                    v += 1 << 32;
                    borrow = 1;
                }
                *l = v as u32;
            }
            self.trim();
        }

        fn shl(&mut self, n: usize) {
            if self.0.is_empty() {
                return;
            }
            let (limbs, bits) = (n / 32, n % 32);
            if bits > 0 {
                let mut carry = 0u32;
                for l in self.0.iter_mut() {
                    let v = (*l << bits) | carry;
                    carry = *l >> (32 - bits);
                    *l = v;
                }
                if carry > 0 {
                    self.0.push(carry);
                }
            }
            if limbs > 0 {
                self.0.splice(0..0, std::iter::repeat_n(0, limbs));
            }
        }

        fn shr_copy(&self, n: usize) -> Big {
            let (limbs, bits) = (n / 32, n % 32);
            let src = self.0.get(limbs..).unwrap_or_default();
            let mut out = Vec::with_capacity(src.len());
            for (i, &l) in src.iter().enumerate() {
                let mut v = l >> bits;
                if bits > 0 {
                    if let Some(&next) = src.get(i + 1) {
                        v |= next << (32 - bits);
                    }
                }
                out.push(v);
            }
            let mut b = Big(out);
            b.trim();
            b
        }

        fn cmp(&self, other: &Big) -> Ordering {
            self.0
                .len()
                .cmp(&other.0.len())
                .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
        }

        /// (self / den, remainder != 0) for a quotient known to be small (< 2^70 or so):
        /// binary long division, one quotient bit at a time.
        fn div_small_quotient(&self, den: &Big) -> (Big, bool) {
            let mut rem = self.clone();
            let mut q = Big(Vec::new());
            let top = self.bit_len().saturating_sub(den.bit_len());
            for bit in (0..=top).rev() {
                let mut shifted = den.clone();
                shifted.shl(bit);
                if rem.cmp(&shifted) != Ordering::Less {
                    rem.sub(&shifted);
                    let mut one = Big::from_u64(1);
                    one.shl(bit);
                    q.add(&one);
                }
            }
            (q, !rem.0.is_empty())
        }

        fn to_decimal(&self) -> String {
            let mut limbs = self.0.clone();
            let mut chunks: Vec<u32> = Vec::new();
            while !limbs.is_empty() {
                let mut rem: u64 = 0;
                for l in limbs.iter_mut().rev() {
                    let v = (rem << 32) | u64::from(*l);
                    *l = (v / 1_000_000_000) as u32;
                    rem = v % 1_000_000_000;
                }
                while limbs.last() == Some(&0) {
                    limbs.pop();
                }
                chunks.push(rem as u32);
            }
            let mut s = String::new();
            match chunks.pop() {
                Some(top) => s.push_str(&top.to_string()),
                None => s.push('0'),
            }
            for c in chunks.iter().rev() {
                s.push_str(&format!("{c:09}"));
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

    fn sorted(frame: Frame) -> Vec<Frame> {
        let Frame::Array(mut items) = frame else {
            panic!("not an array: {frame:?}");
        };
        items.sort_by_key(|f| format!("{f:?}"));
        items
    }

    #[test]
    fn hset_hget_count_new_fields_and_check_arity() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["HSET", "h", "a", "1", "b", "2"]), int(2));
        assert_eq!(db.exec(&["HSET", "h", "a", "10", "c", "3"]), int(1));
        assert_eq!(db.exec(&["HSET", "h", "d", "4", "d", "5"]), int(1));
        assert_eq!(db.exec(&["HGET", "h", "a"]), bulk("10"));
        assert_eq!(db.exec(&["HGET", "h", "d"]), bulk("5"));
        assert_eq!(db.exec(&["HGET", "h", "zz"]), Frame::Null);
        assert_eq!(db.exec(&["HGET", "nokey", "a"]), Frame::Null);
        assert_eq!(db.exec(&["HLEN", "h"]), int(4));
        assert_eq!(
            db.exec(&["HSET", "h", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(
            db.exec(&["HSET", "h", "a"]),
            err("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(db.exec(&["HMSET", "h", "x", "1", "y", "2"]), Frame::ok());
        assert_eq!(
            db.exec(&["HMSET", "h", "x", "1", "y"]),
            err("ERR wrong number of arguments for 'hmset' command")
        );
        assert_eq!(db.exec(&["HLEN", "h"]), int(6));
        assert_eq!(db.exec(&["HLEN", "nokey"]), int(0));
    }

    #[test]
    fn hsetnx_only_sets_missing_fields() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["HSETNX", "h", "a", "1"]), int(1));
        assert_eq!(db.exec(&["HSETNX", "h", "a", "2"]), int(0));
        assert_eq!(db.exec(&["HGET", "h", "a"]), bulk("1"));
        assert_eq!(db.exec(&["HLEN", "h"]), int(1));
    }

    #[test]
    fn hmget_hexists_hstrlen() {
        let mut db = TestDb::new();
        db.exec(&["HSET", "h", "a", "hello", "b", ""]);
        assert_eq!(
            db.exec(&["HMGET", "h", "a", "x", "b"]),
            Frame::Array(vec![bulk("hello"), Frame::Null, bulk("")])
        );
        assert_eq!(
            db.exec(&["HMGET", "nokey", "a", "b"]),
            Frame::Array(vec![Frame::Null, Frame::Null])
        );
        assert_eq!(db.exec(&["HEXISTS", "h", "a"]), int(1));
        assert_eq!(db.exec(&["HEXISTS", "h", "x"]), int(0));
        assert_eq!(db.exec(&["HEXISTS", "nokey", "x"]), int(0));
        assert_eq!(db.exec(&["HSTRLEN", "h", "a"]), int(5));
        assert_eq!(db.exec(&["HSTRLEN", "h", "b"]), int(0));
        assert_eq!(db.exec(&["HSTRLEN", "h", "x"]), int(0));
        assert_eq!(db.exec(&["HSTRLEN", "nokey", "x"]), int(0));
    }

    #[test]
    fn hdel_counts_and_deletes_emptied_hash() {
        let mut db = TestDb::new();
        db.exec(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(db.exec(&["HDEL", "h", "a", "a", "zz"]), int(1));
        assert_eq!(db.exec(&["HLEN", "h"]), int(2));
        assert_eq!(db.exec(&["HDEL", "h", "b", "c"]), int(2));
        assert_eq!(db.exec(&["HLEN", "h"]), int(0));
        assert_eq!(db.ks.lookup(b"h").expect("lookup"), None);
        assert_eq!(db.exec(&["HDEL", "nokey", "a"]), int(0));
    }

    #[test]
    fn hgetall_hkeys_hvals() {
        let mut db = TestDb::new();
        db.exec(&["HSET", "h", "a", "1", "b", "2"]);
        let Frame::Map(pairs) = db.exec(&["HGETALL", "h"]) else {
            panic!("HGETALL is not a map");
        };
        let mut pairs: Vec<(Frame, Frame)> = pairs;
        pairs.sort_by_key(|(k, _)| format!("{k:?}"));
        assert_eq!(pairs, vec![(bulk("a"), bulk("1")), (bulk("b"), bulk("2"))]);
        assert_eq!(db.exec(&["HGETALL", "nokey"]), Frame::Map(Vec::new()));
        assert_eq!(sorted(db.exec(&["HKEYS", "h"])), vec![bulk("a"), bulk("b")]);
        assert_eq!(sorted(db.exec(&["HVALS", "h"])), vec![bulk("1"), bulk("2")]);
        assert_eq!(db.exec(&["HKEYS", "nokey"]), arr(&[]));
        assert_eq!(db.exec(&["HVALS", "nokey"]), arr(&[]));
    }

    #[test]
    fn hincrby_parses_checks_and_overflows() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["HINCRBY", "h", "n", "5"]), int(5));
        assert_eq!(db.exec(&["HINCRBY", "h", "n", "-7"]), int(-2));
        assert_eq!(db.exec(&["HGET", "h", "n"]), bulk("-2"));
        assert_eq!(
            db.exec(&["HINCRBY", "h", "n", "x"]),
            err("ERR value is not an integer or out of range")
        );
        db.exec(&[
            "HSET",
            "h",
            "s",
            " 11",
            "big",
            "9223372036854775807",
            "f",
            "1.5",
        ]);
        assert_eq!(
            db.exec(&["HINCRBY", "h", "s", "1"]),
            err("ERR hash value is not an integer")
        );
        assert_eq!(
            db.exec(&["HINCRBY", "h", "f", "1"]),
            err("ERR hash value is not an integer")
        );
        assert_eq!(
            db.exec(&["HINCRBY", "h", "big", "1"]),
            err("ERR increment or decrement would overflow")
        );
        db.exec(&["HSET", "h", "tmp", "17179869184"]);
        assert_eq!(
            db.exec(&["HINCRBY", "h", "tmp", "17179869184"]),
            int(34359738368)
        );
    }

    #[test]
    fn hincrbyfloat_formats_like_a_long_double() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["HINCRBYFLOAT", "h", "f", "10.5"]), bulk("10.5"));
        assert_eq!(db.exec(&["HINCRBYFLOAT", "h", "f", "0.1"]), bulk("10.6"));
        assert_eq!(db.exec(&["HINCRBYFLOAT", "h", "f", "-5"]), bulk("5.6"));
        assert_eq!(db.exec(&["HGET", "h", "f"]), bulk("5.6"));
        db.exec(&["HSET", "h", "g", "5.0e3"]);
        assert_eq!(db.exec(&["HINCRBYFLOAT", "h", "g", "2.0e2"]), bulk("5200"));
        db.exec(&["HSET", "h", "t", "17179869184"]);
        assert_eq!(
            db.exec(&["HINCRBYFLOAT", "h", "t", "1.5"]),
            bulk("17179869185.5")
        );
        db.exec(&["HSET", "h", "k", "1000"]);
        assert_eq!(
            db.exec(&["HINCRBYFLOAT", "h", "k", "0.1"]),
            bulk("1000.09999999999999998")
        );
        db.exec(&["HSET", "h", "z", "0.1"]);
        assert_eq!(db.exec(&["HINCRBYFLOAT", "h", "z", "-0.1"]), bulk("0"));
        db.exec(&["HSET", "h", "sp", " 1", "sp2", "1 ", "nul", "1\u{0}2"]);
        for f in ["sp", "sp2", "nul"] {
            assert_eq!(
                db.exec(&["HINCRBYFLOAT", "h", f, "1"]),
                err("ERR hash value is not a float")
            );
        }
        assert_eq!(
            db.exec(&["HINCRBYFLOAT", "h", "f", "abc"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(
            db.exec(&["HINCRBYFLOAT", "new", "f", "+inf"]),
            err("ERR value is NaN or Infinity")
        );
        assert_eq!(db.ks.lookup(b"new").expect("lookup"), None);
        db.exec(&["HSET", "h", "inf", "inf"]);
        assert_eq!(
            db.exec(&["HINCRBYFLOAT", "h", "inf", "1"]),
            err("ERR increment would produce NaN or Infinity")
        );
    }

    #[test]
    fn long_double_matches_x87_printf() {
        // Reference values printed by C's printf("%.17Lf") on x86-64, as Redis formats.
        let cases = [
            ("10.5", "0.1", "10.6"),
            ("0.1", "0.2", "0.3"),
            ("3.0", "1.1", "4.1"),
            ("123456.789", "0.001", "123456.78999999999999915"),
            ("1e20", "1", "100000000000000000000"),
            ("17179869184", "1.5", "17179869185.5"),
            ("1", "-1.1", "-0.1"),
            ("0.024390243902439025", "-0.024390243902439025", "0"),
            ("1.5", "1.5", "3"),
            ("-0", "0", "0"),
        ];
        for (a, b, want) in cases {
            assert_eq!(
                long_double_add(a.as_bytes(), b.as_bytes()).as_deref(),
                Some(want),
                "{a} + {b}"
            );
        }
        assert_eq!(long_double_add(b"1e5000", b"0"), None);
        assert_eq!(long_double_add(b"nan", b"0"), None);
        assert_eq!(long_double_add(b"1e-5000", b"0"), None);
        assert_eq!(long_double_add(b"", b"0"), None);
        assert_eq!(long_double_add(b".5", b"1."), Some("1.5".to_string()));
        assert_eq!(format_long_double(10.6), "10.6");
        assert_eq!(format_long_double(-0.0), "0");
        assert_eq!(format_long_double(1e20), "100000000000000000000");
        assert_eq!(format_long_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_long_double(1e-20), "0");
        assert_eq!(
            format_long_double(0.123_456_789_012_345_68),
            "0.12345678901234568"
        );
    }

    #[test]
    fn hrandfield_single_and_counts() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["HRANDFIELD", "nokey"]), Frame::Null);
        assert_eq!(db.exec(&["HRANDFIELD", "nokey", "3"]), arr(&[]));
        db.exec(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        let one = db.exec(&["HRANDFIELD", "h"]);
        assert!([bulk("a"), bulk("b"), bulk("c")].contains(&one));
        assert_eq!(db.exec(&["HRANDFIELD", "h", "0"]), arr(&[]));
        assert_eq!(
            sorted(db.exec(&["HRANDFIELD", "h", "10"])),
            vec![bulk("a"), bulk("b"), bulk("c")]
        );
        let Frame::Array(two) = db.exec(&["HRANDFIELD", "h", "2"]) else {
            panic!("array");
        };
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        let Frame::Array(many) = db.exec(&["HRANDFIELD", "h", "-20"]) else {
            panic!("array");
        };
        assert_eq!(many.len(), 20);
        let Frame::Array(flat) = db.exec(&["HRANDFIELD", "h", "-5", "WITHVALUES"]) else {
            panic!("array");
        };
        assert_eq!(flat.len(), 10);
        for pair in flat.chunks(2) {
            let Frame::Bulk(f) = &pair[0] else {
                panic!("bulk")
            };
            let want = match &f[..] {
                b"a" => "1",
                b"b" => "2",
                _ => "3",
            };
            assert_eq!(pair[1], bulk(want));
        }
        db.protocol = Protocol::Resp3;
        let Frame::Array(nested) = db.exec(&["HRANDFIELD", "h", "3", "withvalues"]) else {
            panic!("array");
        };
        assert_eq!(nested.len(), 3);
        assert!(nested
            .iter()
            .all(|p| matches!(p, Frame::Array(v) if v.len() == 2)));
        assert_eq!(
            db.exec(&["HRANDFIELD", "h", "1", "bad"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["HRANDFIELD", "h", "1", "withvalues", "x"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["HRANDFIELD", "h", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            db.exec(&["HRANDFIELD", "h", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(
            db.exec(&["HRANDFIELD", "h", "-9223372036854770000", "withvalues"]),
            err("ERR value is out of range")
        );
    }

    #[test]
    fn hrandfield_distinct_sampling_is_fast_on_large_hashes() {
        let mut db = TestDb::new();
        let mut argv = vec!["HSET".to_string(), "h".to_string()];
        for i in 0..5000 {
            argv.push(format!("f{i}"));
            argv.push(i.to_string());
        }
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        assert_eq!(db.exec(&refs), int(5000));
        let Frame::Array(picked) = db.exec(&["HRANDFIELD", "h", "4999"]) else {
            panic!("array");
        };
        let distinct: std::collections::HashSet<String> =
            picked.iter().map(|f| format!("{f:?}")).collect();
        assert_eq!(distinct.len(), 4999);
    }

    #[test]
    fn hscan_walks_everything_once() {
        let mut db = TestDb::new();
        assert_eq!(
            db.exec(&["HSCAN", "nokey", "0"]),
            Frame::Array(vec![bulk("0"), arr(&[])])
        );
        db.exec(&["HSET", "small", "a", "1", "b", "2", "key:1", "3"]);
        assert_eq!(
            db.exec(&["HSCAN", "small", "0", "COUNT", "1", "MATCH", "key:*"]),
            Frame::Array(vec![bulk("0"), arr(&["key:1", "3"])])
        );
        for i in 0..300 {
            db.exec(&["HSET", "big", &format!("f{i}"), &i.to_string()]);
        }
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        loop {
            let Frame::Array(reply) = db.exec(&["HSCAN", "big", &cursor, "COUNT", "7"]) else {
                panic!("array");
            };
            let [Frame::Bulk(next), Frame::Array(items)] = &reply[..] else {
                panic!("shape");
            };
            for pair in items.chunks(2) {
                assert!(seen.insert(format!("{:?}", pair[0])));
            }
            cursor = String::from_utf8_lossy(next).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 300);
        assert_eq!(db.exec(&["HSCAN", "big", "x"]), err("ERR invalid cursor"));
        assert_eq!(
            db.exec(&["HSCAN", "big", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["HSCAN", "big", "0", "MATCH"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["HSCAN", "big", "0", "COUNT", "x"]),
            err("ERR value is not an integer or out of range")
        );
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

    #[test]
    fn scan_cursor_parses_like_strtoul() {
        assert_eq!(parse_scan_cursor(b"0").ok(), Some(0));
        assert_eq!(
            parse_scan_cursor(b"18446744073709551615").ok(),
            Some(u64::MAX)
        );
        assert_eq!(parse_scan_cursor(b"+5").ok(), Some(5));
        assert_eq!(parse_scan_cursor(b"-1").ok(), Some(u64::MAX));
        assert_eq!(parse_scan_cursor(b"").ok(), Some(0));
        for bad in [&b" 1"[..], b"1x", b"18446744073709551616", b"-", b"1 "] {
            assert!(parse_scan_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
