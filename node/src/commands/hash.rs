//! Hash commands: HSET, HGET, HINCRBY, HGETALL, HSCAN, HRANDFIELD and the rest of the group.
//!
//! A hash is its meta record (`KeyType::Hash`, `count` = number of fields) plus one member
//! record per field: `member_prefix(db, key) + stable_hash(field) + field -> value`. Every
//! handler looks the key up first (expiry, WRONGTYPE), keeps `count` exact and ends a change
//! with `save_meta`; it never touches records of another type.
//!
//! The member helpers at the bottom (reading members, SCAN arguments and replies, random
//! sampling) are shared with `set.rs`. HINCRBYFLOAT computes in the emulated 80-bit `long
//! double` of [`long_double`], as INCRBYFLOAT does.

use bytes::Bytes;
use redoubt_proto::resp::{Frame, Protocol};
use sled::IVec;

use super::args::{glob_match, is_kw, parse_i64, parse_i64_opt};
use super::flag::*;
use super::key_flag::*;
use super::long_double::{self, Ld};
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec, Rng};
use crate::store::encoding::{hashed_member_key, member_prefix};
use crate::store::{KeyType, Meta};

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
    let removed = remove_members(ctx, key, &mut meta, &argv[2..])?;
    Ok(Frame::Integer(removed as i64))
}

/// Removes the named members of the (looked up) hash or set `key` — both keep one record per
/// `prefix + hash(name) + name` — and saves the shrunk count (an emptied key goes). Returns
/// how many of them existed.
pub fn remove_members(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    meta: &mut Meta,
    names: &[Bytes],
) -> Result<u64, CmdError> {
    let mut removed: u64 = 0;
    for name in names {
        let record = field_key(ctx, key, name);
        if ctx.ks.txn.get(&record)?.is_some() {
            ctx.ks.txn.remove(record)?;
            removed += 1;
        }
    }
    if removed > 0 {
        meta.count = meta.count.saturating_sub(removed);
        ctx.ks.save_meta(key, meta)?;
    }
    Ok(removed)
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
        None => Ld::ZERO,
    };
    let text = long_double::increment(current, incr)?;
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

pub use super::args::parse_scan_cursor;

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
