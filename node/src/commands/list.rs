//! List commands: LPUSH/RPUSH and friends, LPOP/RPOP, LRANGE, LINDEX, LSET, LREM, LTRIM,
//! LINSERT, LPOS, LMOVE and RPOPLPUSH.
//!
//! A list is its meta record (count, `head` = sequence number of the first element, `tail` =
//! one past the last) plus one member record per element keyed by its sequence number, so
//! index `i` is sequence `head + i` (LINDEX/LSET are one lookup; pushes and pops at either end
//! touch one record). Sequence numbers always stay contiguous from `head` to `tail - 1`:
//! removing or inserting in the middle renumbers the cheaper side. This module never touches
//! another type's records.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::args::{clamp_index_range, is_kw, parse_i64};
use super::flag::*;
use super::key_flag::*;
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec};
use crate::store::encoding::{encode_i64_ordered, member_prefix};
use crate::store::{KeyType, Meta, StoreError};

const LIST: &[&str] = &["list"];
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, Exec::Write(lpush))
        .flags(WRITE | DENYOOM | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "list",
            "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("rpush", -3, Exec::Write(rpush))
        .flags(WRITE | DENYOOM | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "list",
            "Appends one or more elements to a list. Creates the key if it doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("lpushx", -3, Exec::Write(lpushx))
        .flags(WRITE | DENYOOM | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "list",
            "Prepends one or more elements to a list only when the list exists.",
            "2.2.0",
        ),
    CommandSpec::new("rpushx", -3, Exec::Write(rpushx))
        .flags(WRITE | DENYOOM | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "list",
            "Appends an element to a list only when the list exists.",
            "2.2.0",
        ),
    CommandSpec::new("lpop", -2, Exec::Write(lpop))
        .flags(WRITE | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "list",
            "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
            "1.0.0",
        ),
    CommandSpec::new("rpop", -2, Exec::Write(rpop))
        .flags(WRITE | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "list",
            "Returns and removes the last elements of the list. Deletes the list if the last element was popped.",
            "1.0.0",
        ),
    CommandSpec::new("llen", 2, Exec::Read(llen))
        .flags(READONLY | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs("list", "Returns the length of a list.", "1.0.0"),
    CommandSpec::new("lrange", 4, Exec::Read(lrange))
        .flags(READONLY)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs("list", "Returns a range of elements from a list.", "1.0.0"),
    CommandSpec::new("lindex", 3, Exec::Read(lindex))
        .flags(READONLY)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "list",
            "Returns an element from a list by its index.",
            "1.0.0",
        ),
    CommandSpec::new("lset", 4, Exec::Write(lset))
        .flags(WRITE | DENYOOM)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "list",
            "Sets the value of an element in a list by its index.",
            "1.0.0",
        ),
    CommandSpec::new("lrem", 4, Exec::Write(lrem))
        .flags(WRITE)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "list",
            "Removes elements from a list. Deletes the list if the last element was removed.",
            "1.0.0",
        ),
    CommandSpec::new("ltrim", 4, Exec::Write(ltrim))
        .flags(WRITE)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "list",
            "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
            "1.0.0",
        ),
    CommandSpec::new("linsert", 5, Exec::Write(linsert))
        .flags(WRITE | DENYOOM)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "list",
            "Inserts an element before or after another element in a list.",
            "2.2.0",
        ),
    CommandSpec::new("lpos", -3, Exec::Read(lpos))
        .flags(READONLY)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "list",
            "Returns the index of matching elements in a list.",
            "6.0.6",
        ),
    CommandSpec::new("lmove", 5, Exec::Write(lmove))
        .flags(WRITE | DENYOOM)
        .acl(LIST)
        .keys(&[
            KeySpec::index(1).flags(RW | ACCESS | DELETE),
            KeySpec::index(2).flags(RW | INSERT),
        ])
        .docs(
            "list",
            "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
            "6.2.0",
        ),
    CommandSpec::new("rpoplpush", 3, Exec::Write(rpoplpush))
        .flags(WRITE | DENYOOM)
        .acl(LIST)
        .keys(&[
            KeySpec::index(1).flags(RW | ACCESS | DELETE),
            KeySpec::index(2).flags(RW | INSERT),
        ])
        .docs(
            "list",
            "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
            "1.2.0",
        ),
];

/// Which end of a list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Left,
    Right,
}

impl End {
    fn parse(arg: &[u8]) -> Result<End, CmdError> {
        if is_kw(arg, "LEFT") {
            Ok(End::Left)
        } else if is_kw(arg, "RIGHT") {
            Ok(End::Right)
        } else {
            Err(CmdError::Syntax)
        }
    }
}

/// Where the records of one list live.
struct ListRecords {
    prefix: Vec<u8>,
}

impl ListRecords {
    fn of(ctx: &Ctx<'_>, key: &[u8]) -> ListRecords {
        ListRecords {
            prefix: member_prefix(ctx.ks.db, key),
        }
    }

    fn seq_key(&self, seq: i64) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + 8);
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(&encode_i64_ordered(seq));
        k
    }

    fn get(&self, ctx: &Ctx<'_>, seq: i64) -> Result<Bytes, CmdError> {
        match ctx.ks.txn.get(&self.seq_key(seq))? {
            Some(v) => Ok(Bytes::copy_from_slice(&v)),
            None => Err(StoreError::Corrupt("missing list element").into()),
        }
    }

    fn put(&self, ctx: &mut Ctx<'_>, seq: i64, value: &[u8]) -> Result<(), CmdError> {
        ctx.ks.txn.put(self.seq_key(seq), value)?;
        Ok(())
    }

    fn remove(&self, ctx: &mut Ctx<'_>, seq: i64) -> Result<(), CmdError> {
        ctx.ks.txn.remove(self.seq_key(seq))?;
        Ok(())
    }

    /// The elements at indexes `from..=to` (both within the list), in order.
    fn elements(
        &self,
        ctx: &Ctx<'_>,
        meta: &Meta,
        from: i64,
        to: i64,
    ) -> Result<Vec<Bytes>, CmdError> {
        if from > to {
            return Ok(Vec::new());
        }
        let start = self.seq_key(meta.head + from);
        let end = self.seq_key(meta.head + to + 1);
        ctx.ks
            .txn
            .range(&start, Some(&end), false)
            .map(|item| {
                item.map(|(_, v)| Bytes::copy_from_slice(&v))
                    .map_err(CmdError::from)
            })
            .collect()
    }

    /// Adds `values` one by one at `end` (so LPUSH a b c gives c b a).
    fn push(
        &self,
        ctx: &mut Ctx<'_>,
        meta: &mut Meta,
        values: &[Bytes],
        end: End,
    ) -> Result<(), CmdError> {
        for value in values {
            match end {
                End::Left => {
                    meta.head -= 1;
                    self.put(ctx, meta.head, value)?;
                }
                End::Right => {
                    self.put(ctx, meta.tail, value)?;
                    meta.tail += 1;
                }
            }
            meta.count += 1;
        }
        Ok(())
    }

    /// Removes and returns up to `n` elements from `end`, in pop order.
    fn pop(
        &self,
        ctx: &mut Ctx<'_>,
        meta: &mut Meta,
        n: u64,
        end: End,
    ) -> Result<Vec<Bytes>, CmdError> {
        let n = n.min(meta.count);
        let mut out = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let seq = match end {
                End::Left => meta.head,
                End::Right => meta.tail - 1,
            };
            out.push(self.get(ctx, seq)?);
            self.remove(ctx, seq)?;
            match end {
                End::Left => meta.head += 1,
                End::Right => meta.tail -= 1,
            }
            meta.count -= 1;
        }
        Ok(out)
    }

    /// Inserts `value` so that it becomes index `at` (0..=count), shifting the shorter side.
    fn insert_at(
        &self,
        ctx: &mut Ctx<'_>,
        meta: &mut Meta,
        at: i64,
        value: &[u8],
    ) -> Result<(), CmdError> {
        let count = meta.count as i64;
        if at <= count - at {
            // Move indexes 0..at one sequence down.
            let moved = self.elements(ctx, meta, 0, at - 1)?;
            let new_head = meta.head - 1;
            for (i, v) in moved.iter().enumerate() {
                self.put(ctx, new_head + i as i64, v)?;
            }
            self.put(ctx, new_head + at, value)?;
            meta.head = new_head;
        } else {
            // Move indexes at..count one sequence up.
            let moved = self.elements(ctx, meta, at, count - 1)?;
            for (i, v) in moved.iter().enumerate().rev() {
                self.put(ctx, meta.head + at + i as i64 + 1, v)?;
            }
            self.put(ctx, meta.head + at, value)?;
            meta.tail += 1;
        }
        meta.count += 1;
        Ok(())
    }

    /// Removes the elements at the sorted, distinct indexes `removed` from `all` (the whole
    /// list), renumbering the side that moves fewer elements.
    fn remove_indexes(
        &self,
        ctx: &mut Ctx<'_>,
        meta: &mut Meta,
        all: &[Bytes],
        removed: &[usize],
    ) -> Result<(), CmdError> {
        let (Some(&first), Some(&last)) = (removed.first(), removed.last()) else {
            return Ok(());
        };
        let k = removed.len();
        let mut gone = vec![false; all.len()];
        for &i in removed {
            if let Some(g) = gone.get_mut(i) {
                *g = true;
            }
        }
        let cost_left = last + 1 - k;
        let cost_right = all.len().saturating_sub(first + k);
        if cost_left <= cost_right {
            // Keep everything after `last` in place; pack 0..=last towards it.
            let mut pos = last as i64;
            for idx in (0..=last).rev() {
                if gone.get(idx).copied().unwrap_or(true) {
                    continue;
                }
                if pos != idx as i64 {
                    if let Some(v) = all.get(idx) {
                        self.put(ctx, meta.head + pos, v)?;
                    }
                }
                pos -= 1;
            }
            for i in 0..k as i64 {
                self.remove(ctx, meta.head + i)?;
            }
            meta.head += k as i64;
        } else {
            // Keep everything before `first` in place; pack first.. towards it.
            let mut pos = first as i64;
            for idx in first..all.len() {
                if gone.get(idx).copied().unwrap_or(true) {
                    continue;
                }
                if pos != idx as i64 {
                    if let Some(v) = all.get(idx) {
                        self.put(ctx, meta.head + pos, v)?;
                    }
                }
                pos += 1;
            }
            for seq in meta.head + pos..meta.tail {
                self.remove(ctx, seq)?;
            }
            meta.tail -= k as i64;
        }
        meta.count -= k as u64;
        Ok(())
    }
}

fn lookup_list(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Meta>, CmdError> {
    Ok(ctx.ks.lookup_typed(key, KeyType::List)?)
}

fn push_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    end: End,
    only_existing: bool,
) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let mut meta = match lookup_list(ctx, key)? {
        Some(meta) => meta,
        None if only_existing => return Ok(Frame::Integer(0)),
        None => Meta::new(KeyType::List),
    };
    let records = ListRecords::of(ctx, key);
    records.push(ctx, &mut meta, argv.get(2..).unwrap_or_default(), end)?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(meta.count as i64))
}

/// LPUSH key element [element ...] -> length after the push.
fn lpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    push_generic(ctx, argv, End::Left, false)
}

/// RPUSH key element [element ...] -> length after the push.
fn rpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    push_generic(ctx, argv, End::Right, false)
}

/// LPUSHX key element [element ...] -> length after the push, 0 if the key does not exist.
fn lpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    push_generic(ctx, argv, End::Left, true)
}

/// RPUSHX key element [element ...] -> length after the push, 0 if the key does not exist.
fn rpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    push_generic(ctx, argv, End::Right, true)
}

fn pop_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End) -> Result<Frame, CmdError> {
    if argv.len() > 3 {
        return Err(CmdError::WrongArity(super::args::lower(&argv[0])));
    }
    let count = match argv.get(2) {
        Some(arg) => Some(parse_positive(
            arg,
            "ERR value is out of range, must be positive",
        )?),
        None => None,
    };
    let key = &argv[1];
    let Some(mut meta) = lookup_list(ctx, key)? else {
        return Ok(if count.is_some() {
            Frame::NullArray
        } else {
            Frame::Null
        });
    };
    let records = ListRecords::of(ctx, key);
    let reply = match count {
        Some(0) => return Ok(Frame::Array(Vec::new())),
        Some(n) => Frame::Array(
            records
                .pop(ctx, &mut meta, n, end)?
                .into_iter()
                .map(Frame::Bulk)
                .collect(),
        ),
        None => records
            .pop(ctx, &mut meta, 1, end)?
            .into_iter()
            .next()
            .map(Frame::Bulk)
            .unwrap_or(Frame::Null),
    };
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(reply)
}

/// A non-negative integer argument; non-integers and negatives both answer `msg` (Redis's
/// getPositiveLongFromObjectOrReply with a message).
fn parse_positive(arg: &[u8], msg: &str) -> Result<u64, CmdError> {
    match super::args::parse_i64_opt(arg) {
        Some(v) if v >= 0 => Ok(v as u64),
        _ => Err(CmdError::other(msg)),
    }
}

/// LPOP key [count] -> the first element (nil if none), or with count an array of up to count
/// elements (nil array if the key does not exist).
fn lpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    pop_generic(ctx, argv, End::Left)
}

/// RPOP key [count] -> the last element (nil if none), or with count an array of up to count
/// elements (nil array if the key does not exist).
fn rpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    pop_generic(ctx, argv, End::Right)
}

/// LLEN key -> the number of elements (0 if the key does not exist).
fn llen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let len = lookup_list(ctx, &argv[1])?.map(|m| m.count).unwrap_or(0);
    Ok(Frame::Integer(len as i64))
}

/// LRANGE key start stop -> the elements from start to stop inclusive (negative: from the
/// end), an empty array when out of range or missing.
fn lrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let start = parse_i64(&argv[2])?;
    let end = parse_i64(&argv[3])?;
    let Some(meta) = lookup_list(ctx, &argv[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let Some((from, to)) = clamp_index_range(start, end, meta.count as i64) else {
        return Ok(Frame::Array(Vec::new()));
    };
    let records = ListRecords::of(ctx, &argv[1]);
    let items = records.elements(ctx, &meta, from, to)?;
    Ok(Frame::Array(items.into_iter().map(Frame::Bulk).collect()))
}

/// The index `index` (negative: from the end) of a list of `len` as 0-based, None if outside.
fn normalize_index(index: i64, len: u64) -> Option<i64> {
    let len = len as i64;
    let i = if index < 0 {
        len.checked_add(index)?
    } else {
        index
    };
    (0..len).contains(&i).then_some(i)
}

/// LINDEX key index -> the element at index (negative: from the end), nil if out of range.
fn lindex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let Some(meta) = lookup_list(ctx, &argv[1])? else {
        return Ok(Frame::Null);
    };
    let index = parse_i64(&argv[2])?;
    let Some(i) = normalize_index(index, meta.count) else {
        return Ok(Frame::Null);
    };
    let records = ListRecords::of(ctx, &argv[1]);
    Ok(Frame::Bulk(records.get(ctx, meta.head + i)?))
}

/// LSET key index element -> OK; "no such key" for a missing key, "index out of range" outside.
fn lset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let Some(mut meta) = lookup_list(ctx, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    let index = parse_i64(&argv[2])?;
    let Some(i) = normalize_index(index, meta.count) else {
        return Err(CmdError::IndexOutOfRange);
    };
    let records = ListRecords::of(ctx, key);
    records.put(ctx, meta.head + i, &argv[3])?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::ok())
}

/// LREM key count element -> how many were removed: the first count matches from the head
/// (count > 0), from the tail (count < 0) or all of them (0).
fn lrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let count = parse_i64(&argv[2])?;
    let element = &argv[3];
    let Some(mut meta) = lookup_list(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let records = ListRecords::of(ctx, key);
    let all = records.elements(ctx, &meta, 0, meta.count as i64 - 1)?;
    let limit = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
    };
    let mut removed: Vec<usize> = if count >= 0 {
        all.iter()
            .enumerate()
            .filter(|(_, v)| *v == element)
            .map(|(i, _)| i)
            .take(limit)
            .collect()
    } else {
        all.iter()
            .enumerate()
            .rev()
            .filter(|(_, v)| *v == element)
            .map(|(i, _)| i)
            .take(limit)
            .collect()
    };
    removed.sort_unstable();
    if removed.is_empty() {
        return Ok(Frame::Integer(0));
    }
    records.remove_indexes(ctx, &mut meta, &all, &removed)?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(removed.len() as i64))
}

/// LTRIM key start stop -> OK; keeps only the elements from start to stop inclusive.
fn ltrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let start = parse_i64(&argv[2])?;
    let end = parse_i64(&argv[3])?;
    let Some(mut meta) = lookup_list(ctx, key)? else {
        return Ok(Frame::ok());
    };
    let len = meta.count as i64;
    let (ltrim, rtrim) = match clamp_index_range(start, end, len) {
        Some((from, to)) => (from, len - to - 1),
        None => (len, 0),
    };
    if ltrim == 0 && rtrim == 0 {
        return Ok(Frame::ok());
    }
    let records = ListRecords::of(ctx, key);
    for seq in meta.head..meta.head + ltrim {
        records.remove(ctx, seq)?;
    }
    for seq in meta.tail - rtrim..meta.tail {
        records.remove(ctx, seq)?;
    }
    meta.head += ltrim;
    meta.tail -= rtrim;
    meta.count -= (ltrim + rtrim) as u64;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::ok())
}

/// LINSERT key BEFORE|AFTER pivot element -> the new length, -1 if the pivot is not found,
/// 0 if the key does not exist.
fn linsert(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let after = if is_kw(&argv[2], "AFTER") {
        true
    } else if is_kw(&argv[2], "BEFORE") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let (pivot, element) = (&argv[3], &argv[4]);
    let Some(mut meta) = lookup_list(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let records = ListRecords::of(ctx, key);
    let start = records.seq_key(meta.head);
    let end = records.seq_key(meta.tail);
    let mut found = None;
    for (i, item) in ctx.ks.txn.range(&start, Some(&end), false).enumerate() {
        let (_, v) = item?;
        if v.as_ref() == pivot.as_ref() {
            found = Some(i as i64);
            break;
        }
    }
    let Some(i) = found else {
        return Ok(Frame::Integer(-1));
    };
    records.insert_at(ctx, &mut meta, if after { i + 1 } else { i }, element)?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(meta.count as i64))
}

/// The options of LPOS.
struct LposArgs {
    /// Which match to start from (negative: counted from the tail); never 0.
    rank: i64,
    /// COUNT: how many matches to return (0: all); None without COUNT.
    count: Option<u64>,
    /// MAXLEN: how many elements to compare at most (0: no limit).
    maxlen: u64,
}

/// Parses `[RANK rank] [COUNT num-matches] [MAXLEN len]`, the options of LPOS.
fn parse_lpos_args(opts: &[Bytes]) -> Result<LposArgs, CmdError> {
    let mut rank: i64 = 1;
    let mut count: Option<u64> = None;
    let mut maxlen: u64 = 0;
    let mut j = 0;
    while j < opts.len() {
        let opt = &opts[j];
        let value = opts.get(j + 1);
        match value {
            Some(v) if is_kw(opt, "RANK") => {
                rank = parse_i64(v)?;
                if rank == i64::MIN {
                    return Err(CmdError::other(format!(
                        "ERR value is out of range, value must between {} and {}",
                        -i64::MAX,
                        i64::MAX
                    )));
                }
                if rank == 0 {
                    return Err(CmdError::other(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                         second ... or use negative to start from the end of the list",
                    ));
                }
            }
            Some(v) if is_kw(opt, "COUNT") => {
                count = Some(parse_positive(v, "ERR COUNT can't be negative")?);
            }
            Some(v) if is_kw(opt, "MAXLEN") => {
                maxlen = parse_positive(v, "ERR MAXLEN can't be negative")?;
            }
            _ => return Err(CmdError::Syntax),
        }
        j += 2;
    }
    Ok(LposArgs {
        rank,
        count,
        maxlen,
    })
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] -> the index of the first
/// match (nil if none) or, with COUNT, an array of the indexes of up to num-matches matches.
fn lpos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let element = &argv[2];
    let LposArgs {
        rank,
        count,
        maxlen,
    } = parse_lpos_args(&argv[3..])?;
    let Some(meta) = lookup_list(ctx, &argv[1])? else {
        return Ok(if count.is_some() {
            Frame::Array(Vec::new())
        } else {
            Frame::Null
        });
    };
    let from_tail = rank < 0;
    let rank = rank.unsigned_abs();
    let len = meta.count;
    let records = ListRecords::of(ctx, &argv[1]);
    let start = records.seq_key(meta.head);
    let end = records.seq_key(meta.tail);
    let mut matches: u64 = 0;
    let mut found = Vec::new();
    for (scanned, item) in ctx.ks.txn.range(&start, Some(&end), from_tail).enumerate() {
        let scanned = scanned as u64;
        if maxlen != 0 && scanned >= maxlen {
            break;
        }
        let (_, v) = item?;
        if v.as_ref() != element.as_ref() {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        let index = if from_tail {
            len - scanned - 1
        } else {
            scanned
        };
        found.push(Frame::Integer(index as i64));
        match count {
            None => break,
            Some(c) if c != 0 && found.len() as u64 >= c => break,
            Some(_) => {}
        }
    }
    Ok(match count {
        Some(_) => Frame::Array(found),
        None => found.into_iter().next().unwrap_or(Frame::Null),
    })
}

/// Pops one element from `src` at `from` and pushes it to `dst` at `to`; nil if `src` is
/// missing. The destination's type is checked before anything moves.
fn move_generic(
    ctx: &mut Ctx<'_>,
    src: &Bytes,
    dst: &Bytes,
    from: End,
    to: End,
) -> Result<Frame, CmdError> {
    let Some(mut src_meta) = lookup_list(ctx, src)? else {
        return Ok(Frame::Null);
    };
    lookup_list(ctx, dst)?;
    let src_records = ListRecords::of(ctx, src);
    let Some(value) = src_records
        .pop(ctx, &mut src_meta, 1, from)?
        .into_iter()
        .next()
    else {
        return Ok(Frame::Null);
    };
    ctx.ks.save_meta(src, &mut src_meta)?;
    // Looked up again: with src == dst the pop above changed it.
    let mut dst_meta = lookup_list(ctx, dst)?.unwrap_or_else(|| Meta::new(KeyType::List));
    let dst_records = ListRecords::of(ctx, dst);
    dst_records.push(ctx, &mut dst_meta, std::slice::from_ref(&value), to)?;
    ctx.ks.save_meta(dst, &mut dst_meta)?;
    Ok(Frame::Bulk(value))
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT -> the moved element, nil if source is empty.
fn lmove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let from = End::parse(&argv[3])?;
    let to = End::parse(&argv[4])?;
    move_generic(ctx, &argv[1], &argv[2], from, to)
}

/// RPOPLPUSH source destination -> the element moved from source's tail to destination's head.
fn rpoplpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    move_generic(ctx, &argv[1], &argv[2], End::Right, End::Left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    fn list(db: &mut TestDb, key: &str) -> Frame {
        db.exec(&["lrange", key, "0", "-1"])
    }

    /// Checks the layout invariant: count == tail - head and every seq in between present.
    fn assert_contiguous(db: &mut TestDb, key: &str) {
        let meta = db.ks.lookup(key.as_bytes()).expect("lookup");
        let Some(meta) = meta else { return };
        assert_eq!(meta.count as i64, meta.tail - meta.head);
        let prefix = member_prefix(0, key.as_bytes());
        let n = db.ks.txn.prefix(&prefix, false).count();
        assert_eq!(n as u64, meta.count);
        for seq in meta.head..meta.tail {
            let mut k = prefix.clone();
            k.extend_from_slice(&encode_i64_ordered(seq));
            assert!(
                db.ks.txn.get(&k).expect("get").is_some(),
                "seq {seq} missing"
            );
        }
    }

    #[test]
    fn push_and_range_keep_order() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["rpush", "l", "a", "b"]), int(2));
        assert_eq!(db.exec(&["lpush", "l", "x", "y"]), int(4));
        assert_eq!(list(&mut db, "l"), arr(&["y", "x", "a", "b"]));
        assert_eq!(db.exec(&["llen", "l"]), int(4));
        assert_eq!(db.exec(&["lrange", "l", "1", "2"]), arr(&["x", "a"]));
        assert_eq!(db.exec(&["lrange", "l", "-2", "100"]), arr(&["a", "b"]));
        assert_eq!(db.exec(&["lrange", "l", "-100", "0"]), arr(&["y"]));
        assert_eq!(db.exec(&["lrange", "l", "3", "1"]), arr(&[]));
        assert_eq!(db.exec(&["lrange", "l", "5", "10"]), arr(&[]));
        assert_eq!(db.exec(&["lrange", "nokey", "0", "-1"]), arr(&[]));
        assert_eq!(
            db.exec(&["lrange", "l", "a", "1"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(db.exec(&["llen", "nokey"]), int(0));
        assert_contiguous(&mut db, "l");
    }

    #[test]
    fn pushx_needs_an_existing_list() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["lpushx", "l", "a"]), int(0));
        assert_eq!(db.exec(&["rpushx", "l", "a"]), int(0));
        assert_eq!(db.exec(&["llen", "l"]), int(0));
        db.exec(&["rpush", "l", "a"]);
        assert_eq!(db.exec(&["lpushx", "l", "b", "c"]), int(3));
        assert_eq!(db.exec(&["rpushx", "l", "d"]), int(4));
        assert_eq!(list(&mut db, "l"), arr(&["c", "b", "a", "d"]));
    }

    #[test]
    fn pop_with_and_without_count() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "b", "c", "d"]);
        assert_eq!(db.exec(&["lpop", "l"]), bulk("a"));
        assert_eq!(db.exec(&["rpop", "l"]), bulk("d"));
        assert_eq!(db.exec(&["lpop", "l", "0"]), arr(&[]));
        assert_eq!(db.exec(&["rpop", "l", "5"]), arr(&["c", "b"]));
        assert_eq!(db.exec(&["llen", "l"]), int(0));
        assert!(db.ks.lookup(b"l").expect("lookup").is_none());
        assert_eq!(db.exec(&["lpop", "l"]), Frame::Null);
        assert_eq!(db.exec(&["lpop", "l", "2"]), Frame::NullArray);
        assert_eq!(db.exec(&["rpop", "l", "0"]), Frame::NullArray);
        assert_eq!(
            db.exec(&["lpop", "l", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            db.exec(&["lpop", "l", "x"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            db.exec(&["lpop", "l", "1", "2"]),
            err("ERR wrong number of arguments for 'lpop' command")
        );
        db.exec(&["rpush", "l", "a", "b", "c"]);
        assert_eq!(db.exec(&["lpop", "l", "2"]), arr(&["a", "b"]));
        assert_contiguous(&mut db, "l");
    }

    #[test]
    fn index_and_set() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "b", "c"]);
        db.exec(&["lpush", "l", "z"]);
        assert_eq!(db.exec(&["lindex", "l", "0"]), bulk("z"));
        assert_eq!(db.exec(&["lindex", "l", "-1"]), bulk("c"));
        assert_eq!(db.exec(&["lindex", "l", "4"]), Frame::Null);
        assert_eq!(db.exec(&["lindex", "l", "-5"]), Frame::Null);
        assert_eq!(db.exec(&["lindex", "nokey", "0"]), Frame::Null);
        assert_eq!(
            db.exec(&["lindex", "l", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(db.exec(&["lset", "l", "1", "A"]), Frame::ok());
        assert_eq!(db.exec(&["lset", "l", "-1", "C"]), Frame::ok());
        assert_eq!(list(&mut db, "l"), arr(&["z", "A", "b", "C"]));
        assert_eq!(
            db.exec(&["lset", "l", "4", "x"]),
            err("ERR index out of range")
        );
        assert_eq!(
            db.exec(&["lset", "nokey", "0", "x"]),
            err("ERR no such key")
        );
    }

    #[test]
    fn lrem_from_head_tail_and_all() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "x", "b", "x", "c", "x", "d", "x"]);
        assert_eq!(db.exec(&["lrem", "l", "1", "x"]), int(1));
        assert_eq!(
            list(&mut db, "l"),
            arr(&["a", "b", "x", "c", "x", "d", "x"])
        );
        assert_contiguous(&mut db, "l");
        assert_eq!(db.exec(&["lrem", "l", "-2", "x"]), int(2));
        assert_eq!(list(&mut db, "l"), arr(&["a", "b", "x", "c", "d"]));
        assert_contiguous(&mut db, "l");
        db.exec(&["rpush", "l", "x", "x"]);
        db.exec(&["lpush", "l", "x"]);
        assert_eq!(db.exec(&["lrem", "l", "0", "x"]), int(4));
        assert_eq!(list(&mut db, "l"), arr(&["a", "b", "c", "d"]));
        assert_contiguous(&mut db, "l");
        assert_eq!(db.exec(&["lrem", "l", "0", "nothere"]), int(0));
        assert_eq!(db.exec(&["lrem", "nokey", "0", "x"]), int(0));
        assert_eq!(
            db.exec(&["lrem", "l", "z", "x"]),
            err("ERR value is not an integer or out of range")
        );
        db.exec(&["rpush", "only", "x", "x"]);
        assert_eq!(db.exec(&["lrem", "only", "0", "x"]), int(2));
        assert!(db.ks.lookup(b"only").expect("lookup").is_none());
    }

    #[test]
    fn lrem_renumbers_either_side() {
        for (at, name) in [(1, "near head"), (8, "near tail")] {
            let mut db = TestDb::new();
            let items: Vec<String> = (0..10).map(|i| i.to_string()).collect();
            let mut argv = vec!["rpush", "l"];
            argv.extend(items.iter().map(|s| s.as_str()));
            db.exec(&argv);
            let target = items[at].clone();
            assert_eq!(db.exec(&["lrem", "l", "0", &target]), int(1), "{name}");
            let expect: Vec<&str> = items
                .iter()
                .filter(|s| **s != target)
                .map(|s| s.as_str())
                .collect();
            assert_eq!(list(&mut db, "l"), arr(&expect), "{name}");
            assert_contiguous(&mut db, "l");
            assert_eq!(db.exec(&["lindex", "l", "-1"]), bulk("9"));
        }
    }

    #[test]
    fn ltrim_keeps_a_range() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "b", "c", "d", "e"]);
        assert_eq!(db.exec(&["ltrim", "l", "1", "-2"]), Frame::ok());
        assert_eq!(list(&mut db, "l"), arr(&["b", "c", "d"]));
        assert_contiguous(&mut db, "l");
        assert_eq!(db.exec(&["ltrim", "l", "0", "100"]), Frame::ok());
        assert_eq!(list(&mut db, "l"), arr(&["b", "c", "d"]));
        assert_eq!(db.exec(&["ltrim", "l", "2", "1"]), Frame::ok());
        assert!(db.ks.lookup(b"l").expect("lookup").is_none());
        assert_eq!(db.exec(&["ltrim", "nokey", "0", "1"]), Frame::ok());
        assert_eq!(
            db.exec(&["ltrim", "l", "x", "1"]),
            err("ERR value is not an integer or out of range")
        );
    }

    #[test]
    fn linsert_before_and_after() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "b", "c", "d", "e"]);
        assert_eq!(db.exec(&["linsert", "l", "before", "b", "X"]), int(6));
        assert_eq!(db.exec(&["linsert", "l", "AFTER", "d", "Y"]), int(7));
        assert_eq!(db.exec(&["linsert", "l", "after", "e", "Z"]), int(8));
        assert_eq!(db.exec(&["linsert", "l", "before", "a", "W"]), int(9));
        assert_eq!(
            list(&mut db, "l"),
            arr(&["W", "a", "X", "b", "c", "d", "Y", "e", "Z"])
        );
        assert_contiguous(&mut db, "l");
        assert_eq!(db.exec(&["linsert", "l", "before", "nope", "Q"]), int(-1));
        assert_eq!(db.exec(&["linsert", "nokey", "before", "a", "Q"]), int(0));
        assert_eq!(
            db.exec(&["linsert", "l", "middle", "a", "Q"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn lpos_options() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
        assert_eq!(db.exec(&["lpos", "l", "c"]), int(2));
        assert_eq!(db.exec(&["lpos", "l", "c", "RANK", "2"]), int(6));
        assert_eq!(db.exec(&["lpos", "l", "c", "RANK", "-1"]), int(7));
        assert_eq!(db.exec(&["lpos", "l", "c", "RANK", "-2"]), int(6));
        assert_eq!(
            db.exec(&["lpos", "l", "c", "COUNT", "0"]),
            Frame::Array(vec![int(2), int(6), int(7)])
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "COUNT", "2"]),
            Frame::Array(vec![int(2), int(6)])
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "COUNT", "0", "RANK", "-1"]),
            Frame::Array(vec![int(7), int(6), int(2)])
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "COUNT", "0", "MAXLEN", "7"]),
            Frame::Array(vec![int(2), int(6)])
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "RANK", "-1", "MAXLEN", "1"]),
            int(7)
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "RANK", "-1", "MAXLEN", "1", "RANK", "-4"]),
            Frame::Null
        );
        assert_eq!(db.exec(&["lpos", "l", "x"]), Frame::Null);
        assert_eq!(db.exec(&["lpos", "l", "x", "COUNT", "1"]), arr(&[]));
        assert_eq!(db.exec(&["lpos", "nokey", "x"]), Frame::Null);
        assert_eq!(db.exec(&["lpos", "nokey", "x", "COUNT", "0"]), arr(&[]));
        assert_eq!(
            db.exec(&["lpos", "l", "c", "RANK", "0"]),
            err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "COUNT", "-1"]),
            err("ERR COUNT can't be negative")
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "MAXLEN", "-1"]),
            err("ERR MAXLEN can't be negative")
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "RANK"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "FOO", "1"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "RANK", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
    }

    #[test]
    fn lmove_between_lists_and_rotation() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "src", "a", "b", "c"]);
        assert_eq!(
            db.exec(&["lmove", "src", "dst", "LEFT", "RIGHT"]),
            bulk("a")
        );
        assert_eq!(
            db.exec(&["lmove", "src", "dst", "right", "left"]),
            bulk("c")
        );
        assert_eq!(list(&mut db, "dst"), arr(&["c", "a"]));
        assert_eq!(list(&mut db, "src"), arr(&["b"]));
        assert_eq!(db.exec(&["rpoplpush", "src", "dst"]), bulk("b"));
        assert!(db.ks.lookup(b"src").expect("lookup").is_none());
        assert_eq!(db.exec(&["rpoplpush", "src", "dst"]), Frame::Null);
        assert_eq!(list(&mut db, "dst"), arr(&["b", "c", "a"]));
        assert_eq!(db.exec(&["rpoplpush", "dst", "dst"]), bulk("a"));
        assert_eq!(list(&mut db, "dst"), arr(&["a", "b", "c"]));
        assert_eq!(
            db.exec(&["lmove", "dst", "dst", "LEFT", "RIGHT"]),
            bulk("a")
        );
        assert_eq!(list(&mut db, "dst"), arr(&["b", "c", "a"]));
        db.exec(&["rpush", "one", "x"]);
        assert_eq!(db.exec(&["rpoplpush", "one", "one"]), bulk("x"));
        assert_eq!(list(&mut db, "one"), arr(&["x"]));
        assert_eq!(
            db.exec(&["lmove", "dst", "x", "UP", "LEFT"]),
            err("ERR syntax error")
        );
        assert_contiguous(&mut db, "dst");
    }

    #[test]
    fn wrong_type_everywhere() {
        let mut db = TestDb::new();
        db.exec(&["set", "s", "v"]);
        db.exec(&["rpush", "l", "a"]);
        for argv in [
            vec!["lpush", "s", "a"],
            vec!["rpushx", "s", "a"],
            vec!["lpop", "s"],
            vec!["llen", "s"],
            vec!["lrange", "s", "0", "1"],
            vec!["lindex", "s", "0"],
            vec!["lset", "s", "0", "a"],
            vec!["lrem", "s", "0", "a"],
            vec!["ltrim", "s", "0", "1"],
            vec!["linsert", "s", "before", "a", "b"],
            vec!["lpos", "s", "a"],
            vec!["lmove", "s", "l", "left", "left"],
            vec!["rpoplpush", "l", "s"],
        ] {
            assert_eq!(db.exec(&argv), err(WRONGTYPE), "{argv:?}");
        }
        // The source was not popped when the destination had the wrong type.
        assert_eq!(list(&mut db, "l"), arr(&["a"]));
        // A missing source answers nil before the destination's type is looked at.
        assert_eq!(db.exec(&["rpoplpush", "nokey", "s"]), Frame::Null);
    }

    #[test]
    fn expired_list_is_gone() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "b"]);
        let mut meta = db.ks.lookup(b"l").expect("lookup").expect("live");
        meta.expire_at = Some(db.ks.now_ms + 100);
        db.ks.save_meta(b"l", &mut meta).expect("save");
        assert_eq!(db.exec(&["llen", "l"]), int(2));
        db.advance_ms(100);
        assert_eq!(db.exec(&["llen", "l"]), int(0));
        assert_eq!(db.exec(&["lrange", "l", "0", "-1"]), arr(&[]));
        assert_eq!(db.exec(&["rpush", "l", "c"]), int(1));
        assert_eq!(list(&mut db, "l"), arr(&["c"]));
        assert_contiguous(&mut db, "l");
    }
}
