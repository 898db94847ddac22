//! Sorted set commands: ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD, ZCOUNT, ZLEXCOUNT, the
//! ZRANGE family (by rank, score and lex, REV, LIMIT, WITHSCORES, ZRANGESTORE), ZRANK,
//! ZREVRANK, ZPOPMIN, ZPOPMAX, ZREMRANGEBY*, ZRANDMEMBER and ZSCAN.
//!
//! A sorted set is its meta record (count) plus two member records per member: the score by
//! member (`'m' hash(member) member -> f64 bits`, for ZSCORE and ZSCAN) and the score order
//! index (`'s' score(ordered) member -> ""`, ties ordered by member bytes as Redis does).
//! Both records of a member always change together; this module never touches another type's
//! records.

use std::cmp::Ordering;

use bytes::Bytes;
use redoubt_proto::resp::{format_double, Frame, Protocol};

use super::args::{
    clamp_index_range, glob_match, is_kw, lower, parse_f64, parse_f64_opt, parse_i64, parse_i64_opt,
};
use super::flag::*;
use super::key_flag::*;
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec};
use crate::store::encoding::{
    decode_f64_ordered, encode_f64_ordered, hash_at, hashed_member_key, member_prefix,
};
use crate::store::txn::prefix_end;
use crate::store::{KeyType, Meta, Txn};

const SORTEDSET: &[&str] = &["sortedset"];
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, Exec::Write(zadd))
        .flags(WRITE | DENYOOM | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "sorted-set",
            "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
            "1.2.0",
        ),
    CommandSpec::new("zincrby", 4, Exec::Write(zincrby))
        .flags(WRITE | DENYOOM | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "sorted-set",
            "Increments the score of a member in a sorted set.",
            "1.2.0",
        ),
    CommandSpec::new("zrem", -3, Exec::Write(zrem))
        .flags(WRITE | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "sorted-set",
            "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
            "1.2.0",
        ),
    CommandSpec::new("zscore", 3, Exec::Read(zscore))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the score of a member in a sorted set.",
            "1.2.0",
        ),
    CommandSpec::new("zmscore", -3, Exec::Read(zmscore))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the score of one or more members in a sorted set.",
            "6.2.0",
        ),
    CommandSpec::new("zcard", 2, Exec::Read(zcard))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs(
            "sorted-set",
            "Returns the number of members in a sorted set.",
            "1.2.0",
        ),
    CommandSpec::new("zcount", 4, Exec::Read(zcount))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the count of members in a sorted set that have scores within a range.",
            "2.0.0",
        ),
    CommandSpec::new("zlexcount", 4, Exec::Read(zlexcount))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the number of members in a sorted set within a lexicographical range.",
            "2.8.9",
        ),
    CommandSpec::new("zrange", -4, Exec::Read(zrange))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a range of indexes.",
            "1.2.0",
        ),
    CommandSpec::new("zrangestore", -5, Exec::Write(zrangestore))
        .flags(WRITE | DENYOOM)
        .acl(SORTEDSET)
        .keys(&[
            KeySpec::index(1).flags(OW | UPDATE),
            KeySpec::index(2).flags(RO | ACCESS),
        ])
        .docs(
            "sorted-set",
            "Stores a range of members from sorted set in a key.",
            "6.2.0",
        ),
    CommandSpec::new("zrevrange", -4, Exec::Read(zrevrange))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a range of indexes in reverse order.",
            "1.2.0",
        ),
    CommandSpec::new("zrangebyscore", -4, Exec::Read(zrangebyscore))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a range of scores.",
            "1.0.5",
        ),
    CommandSpec::new("zrevrangebyscore", -4, Exec::Read(zrevrangebyscore))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a range of scores in reverse order.",
            "2.2.0",
        ),
    CommandSpec::new("zrangebylex", -4, Exec::Read(zrangebylex))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a lexicographical range.",
            "2.8.9",
        ),
    CommandSpec::new("zrevrangebylex", -4, Exec::Read(zrevrangebylex))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a lexicographical range in reverse order.",
            "2.8.9",
        ),
    CommandSpec::new("zrank", -3, Exec::Read(zrank))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the index of a member in a sorted set ordered by ascending scores.",
            "2.0.0",
        ),
    CommandSpec::new("zrevrank", -3, Exec::Read(zrevrank))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the index of a member in a sorted set ordered by descending scores.",
            "2.0.0",
        ),
    CommandSpec::new("zpopmin", -2, Exec::Write(zpopmin))
        .flags(WRITE | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "sorted-set",
            "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
            "5.0.0",
        ),
    CommandSpec::new("zpopmax", -2, Exec::Write(zpopmax))
        .flags(WRITE | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "sorted-set",
            "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
            "5.0.0",
        ),
    CommandSpec::new("zremrangebyscore", 4, Exec::Write(zremrangebyscore))
        .flags(WRITE)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "sorted-set",
            "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
            "1.2.0",
        ),
    CommandSpec::new("zremrangebyrank", 4, Exec::Write(zremrangebyrank))
        .flags(WRITE)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "sorted-set",
            "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
            "2.0.0",
        ),
    CommandSpec::new("zremrangebylex", 4, Exec::Write(zremrangebylex))
        .flags(WRITE)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "sorted-set",
            "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
            "2.8.9",
        ),
    CommandSpec::new("zrandmember", -2, Exec::Read(zrandmember))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns one or more random members from a sorted set.",
            "6.2.0",
        ),
    CommandSpec::new("zscan", -3, Exec::Read(zscan))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Iterates over members and scores of a sorted set.",
            "2.8.0",
        ),
];

const NAN_ERR: &str = "ERR resulting score is not a number (NaN)";
const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";

/// One member and its score.
type Entry = (Bytes, f64);

/// The smallest key above every key starting with `prefix` (our prefixes never end the key
/// space, so the fallback is never used).
fn upper(prefix: &[u8]) -> Vec<u8> {
    prefix_end(prefix).unwrap_or_else(|| vec![0xff; prefix.len() + 1])
}

/// `key` followed by a zero byte: the first key after `key` itself.
fn successor(key: &[u8]) -> Vec<u8> {
    let mut k = key.to_vec();
    k.push(0);
    k
}

/// Where the records of one sorted set live.
struct ZsetRecords {
    /// Prefix of the `member -> score` records.
    by_member: Vec<u8>,
    /// Prefix of the score order index.
    by_score: Vec<u8>,
}

impl ZsetRecords {
    fn of(ctx: &Ctx<'_>, key: &[u8]) -> ZsetRecords {
        let prefix = member_prefix(ctx.ks.db, key);
        ZsetRecords {
            by_member: [&prefix[..], b"m"].concat(),
            by_score: [&prefix[..], b"s"].concat(),
        }
    }

    fn score_key(&self, score: f64, member: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.by_score.len() + 8 + member.len());
        k.extend_from_slice(&self.by_score);
        k.extend_from_slice(&encode_f64_ordered(score));
        k.extend_from_slice(member);
        k
    }

    /// The index key prefix of every member with `score`.
    fn score_prefix(&self, score: f64) -> Vec<u8> {
        self.score_key(score, b"")
    }

    fn score_of(&self, txn: &Txn, member: &[u8]) -> Result<Option<f64>, CmdError> {
        Ok(txn
            .get(&hashed_member_key(&self.by_member, member))?
            .map(|v| f64::from_bits(hash_at(&v, 0))))
    }

    /// Gives `member` (whose current score is `old`, None if absent) the score `new`.
    fn set(
        &self,
        ctx: &mut Ctx<'_>,
        member: &[u8],
        old: Option<f64>,
        new: f64,
    ) -> Result<(), CmdError> {
        if let Some(old) = old {
            ctx.ks.txn.remove(self.score_key(old, member))?;
        }
        ctx.ks.txn.put(
            hashed_member_key(&self.by_member, member),
            new.to_bits().to_be_bytes().to_vec(),
        )?;
        ctx.ks.txn.put(self.score_key(new, member), Vec::new())?;
        Ok(())
    }

    fn remove(&self, ctx: &mut Ctx<'_>, member: &[u8], score: f64) -> Result<(), CmdError> {
        ctx.ks
            .txn
            .remove(hashed_member_key(&self.by_member, member))?;
        ctx.ks.txn.remove(self.score_key(score, member))?;
        Ok(())
    }

    /// The whole score index as a key range.
    fn all(&self) -> (Vec<u8>, Vec<u8>) {
        (self.by_score.clone(), upper(&self.by_score))
    }

    /// Members in score order (reversed with `rev`) with keys in `[start, end)`.
    fn entries<'t>(
        &self,
        txn: &'t Txn,
        start: &[u8],
        end: &[u8],
        rev: bool,
    ) -> impl Iterator<Item = Result<Entry, CmdError>> + 't {
        let skip = self.by_score.len();
        let range = (start < end).then(|| txn.range(start, Some(end), rev));
        range.into_iter().flatten().map(move |item| {
            let (k, _) = item?;
            let score = decode_f64_ordered(k.get(skip..).unwrap_or_default());
            let member = Bytes::copy_from_slice(k.get(skip + 8..).unwrap_or_default());
            Ok((member, score))
        })
    }
}

fn lookup_zset(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Meta>, CmdError> {
    Ok(ctx.ks.lookup_typed(key, KeyType::ZSet)?)
}

/// A non-negative count; anything else is Redis's "must be positive" error.
fn parse_positive(arg: &[u8]) -> Result<u64, CmdError> {
    match parse_i64_opt(arg) {
        Some(v) if v >= 0 => Ok(v as u64),
        _ => Err(CmdError::other(
            "ERR value is out of range, must be positive",
        )),
    }
}

/// Members with optional scores, shaped as Redis replies: RESP3 pairs, RESP2 a flat array.
fn scored_reply(protocol: Protocol, items: Vec<Entry>, with_scores: bool) -> Frame {
    if !with_scores {
        return Frame::Array(items.into_iter().map(|(m, _)| Frame::Bulk(m)).collect());
    }
    if protocol == Protocol::Resp3 {
        Frame::Array(
            items
                .into_iter()
                .map(|(m, s)| Frame::Array(vec![Frame::Bulk(m), Frame::Double(s)]))
                .collect(),
        )
    } else {
        Frame::Array(
            items
                .into_iter()
                .flat_map(|(m, s)| [Frame::Bulk(m), Frame::Double(s)])
                .collect(),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Ranges

/// A score interval as ZRANGEBYSCORE takes it: `1.5`, `(1.5` (exclusive), `-inf`, `+inf`.
#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    min_ex: bool,
    max: f64,
    max_ex: bool,
}

/// strtod over the whole argument, as Redis's zslParseRange uses it: leading spaces allowed,
/// the empty string is 0, NaN refused.
fn parse_strtod(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() {
        return Some(0.0);
    }
    let start = arg
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    parse_f64_opt(arg.get(start..)?)
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let bound = |arg: &[u8]| match arg.strip_prefix(b"(") {
            Some(rest) => parse_strtod(rest).map(|v| (v, true)),
            None => parse_strtod(arg).map(|v| (v, false)),
        };
        match (bound(min), bound(max)) {
            (Some((min, min_ex)), Some((max, max_ex))) => Ok(ScoreRange {
                min,
                min_ex,
                max,
                max_ex,
            }),
            _ => Err(CmdError::other(NOT_FLOAT_RANGE)),
        }
    }

    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_ex || self.max_ex))
    }

    /// The index keys covering exactly this interval.
    fn keys(&self, recs: &ZsetRecords) -> (Vec<u8>, Vec<u8>) {
        if self.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let start = if self.min_ex {
            upper(&recs.score_prefix(self.min))
        } else {
            recs.score_prefix(self.min)
        };
        let end = if self.max_ex {
            recs.score_prefix(self.max)
        } else {
            upper(&recs.score_prefix(self.max))
        };
        (start, end)
    }
}

/// One end of a lex range: `-`, `+`, or a member.
#[derive(Clone, Debug, PartialEq)]
enum LexItem {
    Min,
    Max,
    Member(Bytes),
}

fn cmp_lex(a: &LexItem, b: &LexItem) -> Ordering {
    match (a, b) {
        (LexItem::Min, LexItem::Min) | (LexItem::Max, LexItem::Max) => Ordering::Equal,
        (LexItem::Min, _) | (_, LexItem::Max) => Ordering::Less,
        (LexItem::Max, _) | (_, LexItem::Min) => Ordering::Greater,
        (LexItem::Member(x), LexItem::Member(y)) => x.as_ref().cmp(y.as_ref()),
    }
}

/// A lex interval as ZRANGEBYLEX takes it: `[a` (inclusive), `(a` (exclusive), `-`, `+`.
#[derive(Clone, Debug)]
struct LexRange {
    min: LexItem,
    min_ex: bool,
    max: LexItem,
    max_ex: bool,
}

impl LexRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
        let item = |arg: &[u8]| -> Option<(LexItem, bool)> {
            match arg.first() {
                Some(b'+') if arg.len() == 1 => Some((LexItem::Max, true)),
                Some(b'-') if arg.len() == 1 => Some((LexItem::Min, true)),
                Some(b'(') => Some((LexItem::Member(Bytes::copy_from_slice(&arg[1..])), true)),
                Some(b'[') => Some((LexItem::Member(Bytes::copy_from_slice(&arg[1..])), false)),
                _ => None,
            }
        };
        match (item(min), item(max)) {
            (Some((min, min_ex)), Some((max, max_ex))) => Ok(LexRange {
                min,
                min_ex,
                max,
                max_ex,
            }),
            _ => Err(CmdError::other(NOT_LEX_RANGE)),
        }
    }

    fn is_empty(&self) -> bool {
        match cmp_lex(&self.min, &self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.min_ex || self.max_ex,
            Ordering::Less => false,
        }
    }

    fn gte_min(&self, member: &[u8]) -> bool {
        let c = cmp_lex(&LexItem::Member(Bytes::copy_from_slice(member)), &self.min);
        if self.min_ex {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    fn lte_max(&self, member: &[u8]) -> bool {
        let c = cmp_lex(&LexItem::Member(Bytes::copy_from_slice(member)), &self.max);
        if self.max_ex {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }

    /// Index keys to walk for this range. Lex ranges are meant for members of one score: when
    /// the whole set has one score, seek straight to the range; otherwise walk everything.
    fn keys(&self, txn: &Txn, recs: &ZsetRecords) -> Result<(Vec<u8>, Vec<u8>), CmdError> {
        let (all_start, all_end) = recs.all();
        let first = recs
            .entries(txn, &all_start, &all_end, false)
            .next()
            .transpose()?;
        let last = recs
            .entries(txn, &all_start, &all_end, true)
            .next()
            .transpose()?;
        let (Some((_, lo)), Some((_, hi))) = (first, last) else {
            return Ok((all_start, all_end));
        };
        if encode_f64_ordered(lo) != encode_f64_ordered(hi) {
            return Ok((all_start, all_end));
        }
        let base = recs.score_prefix(lo);
        let start = match &self.min {
            LexItem::Member(m) if self.min_ex => successor(&[&base[..], m].concat()),
            LexItem::Member(m) => [&base[..], m].concat(),
            _ => base.clone(),
        };
        let end = match &self.max {
            LexItem::Member(m) if self.max_ex => [&base[..], m].concat(),
            LexItem::Member(m) => successor(&[&base[..], m].concat()),
            _ => upper(&base),
        };
        Ok((start, end))
    }

    /// The members in this range, in index order (reversed with `rev`), after skipping
    /// `offset` of them and taking at most `limit` (negative: all).
    fn collect(
        &self,
        txn: &Txn,
        recs: &ZsetRecords,
        rev: bool,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Entry>, CmdError> {
        if self.is_empty() || offset < 0 || limit == 0 {
            return Ok(Vec::new());
        }
        let (start, end) = self.keys(txn, recs)?;
        let mut out = Vec::new();
        let mut skipped = 0;
        let mut entered = false;
        for item in recs.entries(txn, &start, &end, rev) {
            let (member, score) = item?;
            // Forward: skip until >= min, then take while <= max (reverse: the mirror image).
            let (enter, stay) = if rev {
                (self.lte_max(&member), self.gte_min(&member))
            } else {
                (self.gte_min(&member), self.lte_max(&member))
            };
            if !entered {
                if !enter {
                    continue;
                }
                entered = true;
            }
            if !stay {
                break;
            }
            if skipped < offset {
                skipped += 1;
                continue;
            }
            out.push((member, score));
            if limit > 0 && out.len() as i64 >= limit {
                break;
            }
        }
        Ok(out)
    }
}

/// Members in a score range, in order (reversed with `rev`), after `offset`, at most `limit`
/// (negative: all).
fn collect_by_score(
    txn: &Txn,
    recs: &ZsetRecords,
    range: &ScoreRange,
    rev: bool,
    offset: i64,
    limit: i64,
) -> Result<Vec<Entry>, CmdError> {
    if offset < 0 || limit == 0 {
        return Ok(Vec::new());
    }
    let (start, end) = range.keys(recs);
    let iter = recs.entries(txn, &start, &end, rev).skip(offset as usize);
    if limit > 0 {
        iter.take(limit as usize).collect()
    } else {
        iter.collect()
    }
}

/// Members at ranks `start..=end` (already clamped to a set of `len`) counted from the low end
/// (from the high end with `rev`), walking the index from whichever end is nearer.
fn collect_by_rank(
    txn: &Txn,
    recs: &ZsetRecords,
    len: i64,
    start: i64,
    end: i64,
    rev: bool,
) -> Result<Vec<Entry>, CmdError> {
    let (lo, hi) = recs.all();
    let n = (end - start + 1) as usize;
    let from_far_end = len - 1 - end;
    if start <= from_far_end {
        recs.entries(txn, &lo, &hi, rev)
            .skip(start as usize)
            .take(n)
            .collect()
    } else {
        let mut items: Vec<Entry> = recs
            .entries(txn, &lo, &hi, !rev)
            .skip(from_far_end as usize)
            .take(n)
            .collect::<Result<_, _>>()?;
        items.reverse();
        Ok(items)
    }
}

// ---------------------------------------------------------------------------------------------
// ZADD / ZINCRBY / ZREM

#[derive(Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// Reads the ZADD options at the front of `args` into `flags` and checks their combination;
/// returns the (score, member) pairs that follow them.
fn parse_add_args<'a>(
    flags: &mut AddFlags,
    args: &'a [Bytes],
) -> Result<Vec<(f64, &'a Bytes)>, CmdError> {
    let mut idx = 0;
    while let Some(opt) = args.get(idx) {
        if is_kw(opt, "NX") {
            flags.nx = true;
        } else if is_kw(opt, "XX") {
            flags.xx = true;
        } else if is_kw(opt, "CH") {
            flags.ch = true;
        } else if is_kw(opt, "INCR") {
            flags.incr = true;
        } else if is_kw(opt, "GT") {
            flags.gt = true;
        } else if is_kw(opt, "LT") {
            flags.lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let pairs = args.get(idx..).unwrap_or_default();
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        return Err(CmdError::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(CmdError::other(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CmdError::other(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && pairs.len() > 2 {
        return Err(CmdError::other(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut items = Vec::with_capacity(pairs.len() / 2);
    for pair in pairs.chunks_exact(2) {
        items.push((parse_f64(&pair[0])?, &pair[1]));
    }
    Ok(items)
}

/// ZADD and ZINCRBY: applies the (score, member) pairs after the options in `args` to `key`.
fn zadd_generic(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    mut flags: AddFlags,
    args: &[Bytes],
) -> Result<Frame, CmdError> {
    let items = parse_add_args(&mut flags, args)?;
    let existing = lookup_zset(ctx, key)?;
    if existing.is_none() && flags.xx {
        return Ok(if flags.incr {
            Frame::Null
        } else {
            Frame::Integer(0)
        });
    }
    let mut meta = existing.unwrap_or_else(|| Meta::new(KeyType::ZSet));
    let recs = ZsetRecords::of(ctx, key);
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last_score = 0.0;
    for (score, member) in items {
        match recs.score_of(&ctx.ks.txn, member)? {
            Some(current) => {
                if flags.nx {
                    continue;
                }
                let new = if flags.incr { score + current } else { score };
                if new.is_nan() {
                    return Err(CmdError::other(NAN_ERR));
                }
                if (flags.lt && new >= current) || (flags.gt && new <= current) {
                    continue;
                }
                processed += 1;
                last_score = new;
                if new != current {
                    recs.set(ctx, member, Some(current), new)?;
                    updated += 1;
                }
            }
            None if !flags.xx => {
                recs.set(ctx, member, None, score)?;
                meta.count += 1;
                added += 1;
                processed += 1;
                last_score = score;
            }
            None => {}
        }
    }
    if added + updated > 0 {
        ctx.ks.save_meta(key, &mut meta)?;
    }
    Ok(if flags.incr {
        if processed > 0 {
            Frame::Double(last_score)
        } else {
            Frame::Null
        }
    } else {
        Frame::Integer(if flags.ch { added + updated } else { added })
    })
}

/// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...] -> members added
/// (added or changed with CH); with INCR the new score, nil when the options prevented it.
fn zadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    zadd_generic(ctx, &argv[1], AddFlags::default(), &argv[2..])
}

/// ZINCRBY key increment member -> the member's new score.
fn zincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let flags = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    zadd_generic(ctx, &argv[1], flags, &argv[2..])
}

/// ZREM key member [member ...] -> how many members were removed.
fn zrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let Some(mut meta) = lookup_zset(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let recs = ZsetRecords::of(ctx, key);
    let mut removed = 0;
    for member in &argv[2..] {
        if let Some(score) = recs.score_of(&ctx.ks.txn, member)? {
            recs.remove(ctx, member, score)?;
            meta.count -= 1;
            removed += 1;
        }
    }
    if removed > 0 {
        ctx.ks.save_meta(key, &mut meta)?;
    }
    Ok(Frame::Integer(removed))
}

// ---------------------------------------------------------------------------------------------
// Point reads

/// ZSCORE key member -> the member's score (a double), nil if absent.
fn zscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_zset(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Null);
    }
    let recs = ZsetRecords::of(ctx, &argv[1]);
    Ok(recs
        .score_of(&ctx.ks.txn, &argv[2])?
        .map(Frame::Double)
        .unwrap_or(Frame::Null))
}

/// ZMSCORE key member [member ...] -> an array of scores, nil for absent members.
fn zmscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let exists = lookup_zset(ctx, &argv[1])?.is_some();
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let mut out = Vec::with_capacity(argv.len() - 2);
    for member in &argv[2..] {
        let score = if exists {
            recs.score_of(&ctx.ks.txn, member)?
        } else {
            None
        };
        out.push(score.map(Frame::Double).unwrap_or(Frame::Null));
    }
    Ok(Frame::Array(out))
}

/// ZCARD key -> the number of members (0 if the key does not exist).
fn zcard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let n = lookup_zset(ctx, &argv[1])?.map(|m| m.count).unwrap_or(0);
    Ok(Frame::Integer(n as i64))
}

/// ZCOUNT key min max -> the number of members with a score in [min, max] (`(` excludes).
fn zcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let range = ScoreRange::parse(&argv[2], &argv[3])?;
    if lookup_zset(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Integer(0));
    }
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let (start, end) = range.keys(&recs);
    let mut n = 0;
    for item in recs.entries(&ctx.ks.txn, &start, &end, false) {
        item?;
        n += 1;
    }
    Ok(Frame::Integer(n))
}

/// ZLEXCOUNT key min max -> the number of members in the lex range (`[a`, `(a`, `-`, `+`).
fn zlexcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let range = LexRange::parse(&argv[2], &argv[3])?;
    if lookup_zset(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Integer(0));
    }
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let n = range.collect(&ctx.ks.txn, &recs, false, 0, -1)?.len();
    Ok(Frame::Integer(n as i64))
}

/// The rank of `member` counted from the low end (high end with `rev`), with its score.
fn rank_of(
    txn: &Txn,
    recs: &ZsetRecords,
    member: &[u8],
    rev: bool,
) -> Result<Option<(i64, f64)>, CmdError> {
    let Some(score) = recs.score_of(txn, member)? else {
        return Ok(None);
    };
    let own = recs.score_key(score, member);
    let (lo, hi) = recs.all();
    let (start, end) = if rev {
        (successor(&own), hi)
    } else {
        (lo, own)
    };
    let mut rank = 0;
    for item in recs.entries(txn, &start, &end, false) {
        item?;
        rank += 1;
    }
    Ok(Some((rank, score)))
}

fn rank_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], rev: bool) -> Result<Frame, CmdError> {
    if argv.len() > 4 {
        return Err(CmdError::WrongArity(lower(&argv[0])));
    }
    let with_score = match argv.get(3) {
        Some(opt) if is_kw(opt, "WITHSCORE") => true,
        Some(_) => return Err(CmdError::Syntax),
        None => false,
    };
    let missing = if with_score {
        Frame::NullArray
    } else {
        Frame::Null
    };
    if lookup_zset(ctx, &argv[1])?.is_none() {
        return Ok(missing);
    }
    let recs = ZsetRecords::of(ctx, &argv[1]);
    Ok(match rank_of(&ctx.ks.txn, &recs, &argv[2], rev)? {
        Some((rank, score)) if with_score => {
            Frame::Array(vec![Frame::Integer(rank), Frame::Double(score)])
        }
        Some((rank, _)) => Frame::Integer(rank),
        None => missing,
    })
}

/// ZRANK key member [WITHSCORE] -> the member's 0-based rank by ascending score (with its
/// score as [rank, score]), nil if absent.
fn zrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    rank_generic(ctx, argv, false)
}

/// ZREVRANK key member [WITHSCORE] -> the member's 0-based rank by descending score (with its
/// score as [rank, score]), nil if absent.
fn zrevrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    rank_generic(ctx, argv, true)
}

// ---------------------------------------------------------------------------------------------
// ZRANGE family

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// What a ZRANGE-like command asked for, parsed (Redis's zrangeGenericCommand).
enum RangeQuery {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

struct RangeRequest {
    query: RangeQuery,
    rev: bool,
    with_scores: bool,
    offset: i64,
    limit: i64,
}

/// Parses `argv[first..]` = `key min max [options]` of a ZRANGE-like command.
fn parse_range_request(
    argv: &[Bytes],
    first: usize,
    store: bool,
    mut kind: RangeKind,
    mut direction: Direction,
) -> Result<RangeRequest, CmdError> {
    let mut with_scores = false;
    let mut offset = 0;
    let mut limit = -1;
    let mut j = first + 3;
    while let Some(arg) = argv.get(j) {
        let left = argv.len() - j - 1;
        if !store && is_kw(arg, "WITHSCORES") {
            with_scores = true;
        } else if is_kw(arg, "LIMIT") && left >= 2 {
            offset = parse_i64(&argv[j + 1])?;
            limit = parse_i64(&argv[j + 2])?;
            j += 2;
        } else if direction == Direction::Auto && is_kw(arg, "REV") {
            direction = Direction::Reverse;
        } else if kind == RangeKind::Auto && is_kw(arg, "BYLEX") {
            kind = RangeKind::Lex;
        } else if kind == RangeKind::Auto && is_kw(arg, "BYSCORE") {
            kind = RangeKind::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = direction == Direction::Reverse;
    if kind == RangeKind::Auto {
        kind = RangeKind::Rank;
    }
    if limit != -1 && kind == RangeKind::Rank {
        return Err(CmdError::other(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if with_scores && kind == RangeKind::Lex {
        return Err(CmdError::other(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut lo, mut hi) = (&argv[first + 1], &argv[first + 2]);
    if rev && kind != RangeKind::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let query = match kind {
        RangeKind::Score => RangeQuery::Score(ScoreRange::parse(lo, hi)?),
        RangeKind::Lex => RangeQuery::Lex(LexRange::parse(lo, hi)?),
        _ => RangeQuery::Rank(parse_i64(lo)?, parse_i64(hi)?),
    };
    Ok(RangeRequest {
        query,
        rev,
        with_scores,
        offset,
        limit,
    })
}

/// Runs a parsed range request against the set `key` (None if the key does not exist).
fn run_range(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    req: &RangeRequest,
) -> Result<Option<Vec<Entry>>, CmdError> {
    let Some(meta) = lookup_zset(ctx, key)? else {
        return Ok(None);
    };
    let recs = ZsetRecords::of(ctx, key);
    let txn = &ctx.ks.txn;
    let len = meta.count as i64;
    let items = match &req.query {
        RangeQuery::Rank(start, end) => match clamp_index_range(*start, *end, len) {
            Some((start, end)) => collect_by_rank(txn, &recs, len, start, end, req.rev)?,
            None => Vec::new(),
        },
        RangeQuery::Score(range) => {
            if req.offset > 0 && req.offset >= len {
                Vec::new()
            } else {
                collect_by_score(txn, &recs, range, req.rev, req.offset, req.limit)?
            }
        }
        RangeQuery::Lex(range) => {
            if req.offset > 0 && req.offset >= len {
                Vec::new()
            } else {
                range.collect(txn, &recs, req.rev, req.offset, req.limit)?
            }
        }
    };
    Ok(Some(items))
}

fn range_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    kind: RangeKind,
    direction: Direction,
) -> Result<Frame, CmdError> {
    let req = parse_range_request(argv, 1, false, kind, direction)?;
    let items = run_range(ctx, &argv[1], &req)?.unwrap_or_default();
    Ok(scored_reply(ctx.protocol, items, req.with_scores))
}

/// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES] -> the
/// members in the range (with scores: RESP2 flat, RESP3 [member, score] pairs).
fn zrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Auto, Direction::Auto)
}

/// ZREVRANGE key start stop [WITHSCORES] -> members by rank from the highest score.
fn zrevrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Rank, Direction::Reverse)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] -> members with scores in range.
fn zrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Score, Direction::Forward)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] -> members with scores in
/// range, highest first.
fn zrevrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Score, Direction::Reverse)
}

/// ZRANGEBYLEX key min max [LIMIT offset count] -> members in the lex range.
fn zrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Lex, Direction::Forward)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count] -> members in the lex range, reversed.
fn zrevrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Lex, Direction::Reverse)
}

/// Replaces `dst` with a sorted set of `items` (deletes it when empty).
fn store_entries(ctx: &mut Ctx<'_>, dst: &[u8], items: &[Entry]) -> Result<(), CmdError> {
    ctx.ks.delete(dst)?;
    if items.is_empty() {
        return Ok(());
    }
    let recs = ZsetRecords::of(ctx, dst);
    let mut meta = Meta::new(KeyType::ZSet);
    for (member, score) in items {
        recs.set(ctx, member, None, *score)?;
        meta.count += 1;
    }
    ctx.ks.save_meta(dst, &mut meta)?;
    Ok(())
}

/// ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count] -> the number of
/// members stored in dst (dst is deleted when the range is empty).
fn zrangestore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let req = parse_range_request(argv, 2, true, RangeKind::Auto, Direction::Auto)?;
    let items = run_range(ctx, &argv[2], &req)?.unwrap_or_default();
    store_entries(ctx, &argv[1], &items)?;
    Ok(Frame::Integer(items.len() as i64))
}

// ---------------------------------------------------------------------------------------------
// Removal

fn pop_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], max: bool) -> Result<Frame, CmdError> {
    if argv.len() > 3 {
        return Err(CmdError::WrongArity(lower(&argv[0])));
    }
    let count = argv.get(2).map(|a| parse_positive(a)).transpose()?;
    let key = &argv[1];
    let Some(mut meta) = lookup_zset(ctx, key)? else {
        return Ok(Frame::Array(Vec::new()));
    };
    if count == Some(0) {
        return Ok(Frame::Array(Vec::new()));
    }
    let n = count.unwrap_or(1).min(meta.count) as usize;
    let recs = ZsetRecords::of(ctx, key);
    let (lo, hi) = recs.all();
    let popped: Vec<Entry> = recs
        .entries(&ctx.ks.txn, &lo, &hi, max)
        .take(n)
        .collect::<Result<_, _>>()?;
    for (member, score) in &popped {
        recs.remove(ctx, member, *score)?;
    }
    meta.count -= popped.len() as u64;
    ctx.ks.save_meta(key, &mut meta)?;
    // RESP3 with a count nests [member, score] pairs; otherwise a flat array.
    let shape = if count.is_some() {
        ctx.protocol
    } else {
        Protocol::Resp2
    };
    Ok(scored_reply(shape, popped, true))
}

/// ZPOPMIN key [count] -> [member, score, ...] of the lowest-scoring members, removed (RESP3
/// with count: [member, score] pairs).
fn zpopmin(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    pop_generic(ctx, argv, false)
}

/// ZPOPMAX key [count] -> [member, score, ...] of the highest-scoring members, removed (RESP3
/// with count: [member, score] pairs).
fn zpopmax(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    pop_generic(ctx, argv, true)
}

/// Removes `items` (members of `key` with their scores) and saves the meta.
fn remove_entries(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    mut meta: Meta,
    items: &[Entry],
) -> Result<Frame, CmdError> {
    if items.is_empty() {
        return Ok(Frame::Integer(0));
    }
    let recs = ZsetRecords::of(ctx, key);
    for (member, score) in items {
        recs.remove(ctx, member, *score)?;
    }
    meta.count -= items.len() as u64;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(items.len() as i64))
}

/// ZREMRANGEBYSCORE key min max -> how many members with a score in range were removed.
fn zremrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let range = ScoreRange::parse(&argv[2], &argv[3])?;
    let Some(meta) = lookup_zset(ctx, &argv[1])? else {
        return Ok(Frame::Integer(0));
    };
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let items = collect_by_score(&ctx.ks.txn, &recs, &range, false, 0, -1)?;
    remove_entries(ctx, &argv[1], meta, &items)
}

/// ZREMRANGEBYRANK key start stop -> how many members at ranks start..=stop were removed.
fn zremrangebyrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let start = parse_i64(&argv[2])?;
    let end = parse_i64(&argv[3])?;
    let Some(meta) = lookup_zset(ctx, &argv[1])? else {
        return Ok(Frame::Integer(0));
    };
    let len = meta.count as i64;
    let Some((start, end)) = clamp_index_range(start, end, len) else {
        return Ok(Frame::Integer(0));
    };
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let items = collect_by_rank(&ctx.ks.txn, &recs, len, start, end, false)?;
    remove_entries(ctx, &argv[1], meta, &items)
}

/// ZREMRANGEBYLEX key min max -> how many members in the lex range were removed.
fn zremrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let range = LexRange::parse(&argv[2], &argv[3])?;
    let Some(meta) = lookup_zset(ctx, &argv[1])? else {
        return Ok(Frame::Integer(0));
    };
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let items = range.collect(&ctx.ks.txn, &recs, false, 0, -1)?;
    remove_entries(ctx, &argv[1], meta, &items)
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER / ZSCAN

/// Above this many repeated picks a negative ZRANDMEMBER count is refused rather than
/// building a reply that cannot fit in memory.
const MAX_RANDOM_PICKS: u64 = 1 << 24;

/// ZRANDMEMBER key [count [WITHSCORES]] -> one random member (nil if none); with count, up to
/// count distinct members, or |count| members with repetitions when count is negative.
fn zrandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let Some(count_arg) = argv.get(2) else {
        let Some(meta) = lookup_zset(ctx, key)? else {
            return Ok(Frame::Null);
        };
        let recs = ZsetRecords::of(ctx, key);
        let pick = ctx.rng.below(meta.count) as usize;
        let (lo, hi) = recs.all();
        let chosen = recs
            .entries(&ctx.ks.txn, &lo, &hi, false)
            .nth(pick)
            .transpose()?;
        return Ok(chosen.map(|(m, _)| Frame::Bulk(m)).unwrap_or(Frame::Null));
    };
    let l = parse_i64(count_arg)?;
    if l == i64::MIN {
        return Err(CmdError::other(format!(
            "ERR value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    let with_scores = match argv.len() {
        3 => false,
        4 if is_kw(&argv[3], "WITHSCORES") => true,
        _ => return Err(CmdError::Syntax),
    };
    let unique = l >= 0;
    let count = l.unsigned_abs();
    if !unique && (count > MAX_RANDOM_PICKS || (with_scores && l < -(i64::MAX / 2))) {
        return Err(CmdError::other("ERR value is out of range"));
    }
    let Some(meta) = lookup_zset(ctx, key)? else {
        return Ok(Frame::Array(Vec::new()));
    };
    if count == 0 {
        return Ok(Frame::Array(Vec::new()));
    }
    let recs = ZsetRecords::of(ctx, key);
    let (lo, hi) = recs.all();
    let all: Vec<Entry> = recs
        .entries(&ctx.ks.txn, &lo, &hi, false)
        .collect::<Result<_, _>>()?;
    let size = all.len().min(meta.count as usize) as u64;
    let picked: Vec<Entry> = if !unique || count == 1 {
        (0..count)
            .filter_map(|_| all.get(ctx.rng.below(size) as usize).cloned())
            .collect()
    } else if count >= size {
        all
    } else {
        // Partial Fisher-Yates: the first `count` slots become a uniform random sample.
        let mut order: Vec<usize> = (0..all.len()).collect();
        for i in 0..count as usize {
            let j = i + ctx.rng.below((order.len() - i) as u64) as usize;
            order.swap(i, j);
        }
        order
            .iter()
            .take(count as usize)
            .filter_map(|&i| all.get(i).cloned())
            .collect()
    };
    Ok(scored_reply(ctx.protocol, picked, with_scores))
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count] -> [next cursor, [member, score, ...]].
fn zscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let cursor = std::str::from_utf8(&argv[2])
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| CmdError::other("ERR invalid cursor"))?;
    let empty_scan = || {
        Frame::Array(vec![
            Frame::Bulk(Bytes::from_static(b"0")),
            Frame::Array(Vec::new()),
        ])
    };
    if lookup_zset(ctx, &argv[1])?.is_none() {
        return Ok(empty_scan());
    }
    let mut count: usize = 10;
    let mut pattern: Option<&Bytes> = None;
    let mut j = 3;
    while let Some(opt) = argv.get(j) {
        let value = argv.get(j + 1);
        match value {
            Some(v) if is_kw(opt, "COUNT") => {
                let n = parse_i64(v)?;
                if n < 1 {
                    return Err(CmdError::Syntax);
                }
                count = usize::try_from(n).unwrap_or(usize::MAX);
            }
            Some(v) if is_kw(opt, "MATCH") => pattern = Some(v),
            _ => return Err(CmdError::Syntax),
        }
        j += 2;
    }
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let page = ctx.ks.scan_hashed(&recs.by_member, cursor, count)?;
    let skip = recs.by_member.len() + 8;
    let mut items = Vec::with_capacity(page.items.len() * 2);
    for (k, v) in &page.items {
        let member = k.get(skip..).unwrap_or_default();
        if let Some(p) = pattern {
            if !glob_match(p, member, false) {
                continue;
            }
        }
        let score = f64::from_bits(hash_at(v, 0));
        items.push(Frame::Bulk(Bytes::copy_from_slice(member)));
        items.push(Frame::Bulk(Bytes::from(format_double(score))));
    }
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from(page.cursor.to_string())),
        Frame::Array(items),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    fn dbl(v: f64) -> Frame {
        Frame::Double(v)
    }

    /// Flat [member, score, ...] as RESP2 WITHSCORES gives it.
    fn scored(items: &[(&str, f64)]) -> Frame {
        Frame::Array(items.iter().flat_map(|(m, s)| [bulk(m), dbl(*s)]).collect())
    }

    fn setup(db: &mut TestDb) {
        db.exec(&[
            "zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ]);
    }

    #[test]
    fn zadd_adds_updates_and_counts() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["zadd", "z", "1", "a", "2", "b"]), int(2));
        assert_eq!(
            db.exec(&["zadd", "z", "3", "a", "2", "b", "1", "c"]),
            int(1)
        );
        assert_eq!(
            db.exec(&["zadd", "z", "CH", "4", "a", "2", "b", "1", "d"]),
            int(2)
        );
        assert_eq!(db.exec(&["zcard", "z"]), int(4));
        assert_eq!(db.exec(&["zscore", "z", "a"]), dbl(4.0));
        assert_eq!(db.exec(&["zscore", "z", "nope"]), Frame::Null);
        assert_eq!(db.exec(&["zscore", "nokey", "a"]), Frame::Null);
        assert_eq!(db.exec(&["zcard", "nokey"]), int(0));
        assert_eq!(
            db.exec(&["zadd", "z", "x", "a"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(
            db.exec(&["zadd", "z", "nan", "a"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(
            db.exec(&["zadd", "z", "1"]),
            err("ERR wrong number of arguments for 'zadd' command")
        );
        assert_eq!(
            db.exec(&["zadd", "z", "1", "a", "2"]),
            err("ERR syntax error")
        );
        assert_eq!(db.exec(&["zadd", "z", "NX", "1"]), err("ERR syntax error"));
        assert_eq!(db.exec(&["zadd", "z", "-inf", "m", "+inf", "n"]), int(2));
        assert_eq!(
            db.exec(&["zrange", "z", "0", "-1", "WITHSCORES"]),
            scored(&[
                ("m", f64::NEG_INFINITY),
                ("c", 1.0),
                ("d", 1.0),
                ("b", 2.0),
                ("a", 4.0),
                ("n", f64::INFINITY)
            ])
        );
    }

    #[test]
    fn zadd_option_rules() {
        let mut db = TestDb::new();
        db.exec(&["zadd", "z", "10", "a"]);
        assert_eq!(
            db.exec(&["zadd", "z", "NX", "XX", "1", "a"]),
            err("ERR XX and NX options at the same time are not compatible")
        );
        for opts in [["NX", "GT"], ["NX", "LT"], ["GT", "LT"]] {
            assert_eq!(
                db.exec(&["zadd", "z", opts[0], opts[1], "1", "a"]),
                err("ERR GT, LT, and/or NX options at the same time are not compatible")
            );
        }
        assert_eq!(
            db.exec(&["zadd", "z", "INCR", "1", "a", "2", "b"]),
            err("ERR INCR option supports a single increment-element pair")
        );
        assert_eq!(db.exec(&["zadd", "z", "NX", "1", "a", "2", "b"]), int(1));
        assert_eq!(db.exec(&["zscore", "z", "a"]), dbl(10.0));
        assert_eq!(db.exec(&["zadd", "z", "XX", "5", "a", "3", "c"]), int(0));
        assert_eq!(db.exec(&["zscore", "z", "a"]), dbl(5.0));
        assert_eq!(db.exec(&["zscore", "z", "c"]), Frame::Null);
        assert_eq!(
            db.exec(&["zadd", "z", "GT", "CH", "4", "a", "9", "b"]),
            int(1)
        );
        assert_eq!(db.exec(&["zscore", "z", "a"]), dbl(5.0));
        assert_eq!(db.exec(&["zscore", "z", "b"]), dbl(9.0));
        assert_eq!(
            db.exec(&["zadd", "z", "LT", "CH", "4", "a", "9", "b", "1", "new"]),
            int(2)
        );
        assert_eq!(db.exec(&["zscore", "z", "a"]), dbl(4.0));
        assert_eq!(db.exec(&["zadd", "z", "XX", "GT", "1", "new2"]), int(0));
        assert_eq!(db.exec(&["zadd", "nokey", "XX", "1", "a"]), int(0));
        assert_eq!(db.exec(&["zcard", "nokey"]), int(0));
    }

    #[test]
    fn zadd_incr_and_zincrby() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["zadd", "z", "INCR", "1.5", "a"]), dbl(1.5));
        assert_eq!(db.exec(&["zadd", "z", "INCR", "1", "a"]), dbl(2.5));
        assert_eq!(db.exec(&["zadd", "z", "NX", "INCR", "1", "a"]), Frame::Null);
        assert_eq!(db.exec(&["zadd", "z", "XX", "INCR", "1", "b"]), Frame::Null);
        assert_eq!(
            db.exec(&["zadd", "z", "GT", "INCR", "-1", "a"]),
            Frame::Null
        );
        assert_eq!(
            db.exec(&["zadd", "nokey", "XX", "INCR", "1", "b"]),
            Frame::Null
        );
        assert_eq!(db.exec(&["zincrby", "z", "10", "a"]), dbl(12.5));
        assert_eq!(db.exec(&["zincrby", "z", "-2", "new"]), dbl(-2.0));
        assert_eq!(
            db.exec(&["zincrby", "z", "x", "a"]),
            err("ERR value is not a valid float")
        );
        db.exec(&["zadd", "z", "+inf", "inf"]);
        assert_eq!(
            db.exec(&["zincrby", "z", "-inf", "inf"]),
            err("ERR resulting score is not a number (NaN)")
        );
        assert_eq!(db.exec(&["zscore", "z", "inf"]), dbl(f64::INFINITY));
        assert_eq!(
            db.exec(&["zrange", "z", "0", "-1"]),
            arr(&["new", "a", "inf"])
        );
    }

    #[test]
    fn zrem_and_delete_when_empty() {
        let mut db = TestDb::new();
        db.exec(&["zadd", "z", "1", "a", "2", "b"]);
        assert_eq!(db.exec(&["zrem", "z", "a", "x", "a"]), int(1));
        assert_eq!(db.exec(&["zrem", "nokey", "a"]), int(0));
        assert_eq!(db.exec(&["zrem", "z", "b"]), int(1));
        assert!(db.ks.lookup(b"z").expect("lookup").is_none());
        let prefix = member_prefix(0, b"z");
        assert_eq!(db.ks.txn.prefix(&prefix, false).count(), 0);
    }

    #[test]
    fn zmscore_and_counts() {
        let mut db = TestDb::new();
        setup(&mut db);
        assert_eq!(
            db.exec(&["zmscore", "z", "a", "x", "e"]),
            Frame::Array(vec![dbl(1.0), Frame::Null, dbl(5.0)])
        );
        assert_eq!(
            db.exec(&["zmscore", "nokey", "a", "b"]),
            Frame::Array(vec![Frame::Null, Frame::Null])
        );
        assert_eq!(db.exec(&["zcount", "z", "2", "4"]), int(3));
        assert_eq!(db.exec(&["zcount", "z", "(2", "(4"]), int(1));
        assert_eq!(db.exec(&["zcount", "z", "-inf", "+inf"]), int(5));
        assert_eq!(db.exec(&["zcount", "z", "4", "2"]), int(0));
        assert_eq!(db.exec(&["zcount", "z", "(3", "3"]), int(0));
        assert_eq!(db.exec(&["zcount", "nokey", "0", "1"]), int(0));
        assert_eq!(
            db.exec(&["zcount", "z", "x", "1"]),
            err("ERR min or max is not a float")
        );
        assert_eq!(
            db.exec(&["zcount", "z", "1", "(nan"]),
            err("ERR min or max is not a float")
        );
    }

    #[test]
    fn zrange_by_rank() {
        let mut db = TestDb::new();
        setup(&mut db);
        assert_eq!(
            db.exec(&["zrange", "z", "0", "-1"]),
            arr(&["a", "b", "c", "d", "e"])
        );
        assert_eq!(db.exec(&["zrange", "z", "1", "2"]), arr(&["b", "c"]));
        assert_eq!(db.exec(&["zrange", "z", "-2", "100"]), arr(&["d", "e"]));
        assert_eq!(db.exec(&["zrange", "z", "3", "1"]), arr(&[]));
        assert_eq!(db.exec(&["zrange", "z", "-1", "-1", "REV"]), arr(&["a"]));
        assert_eq!(db.exec(&["zrevrange", "z", "0", "1"]), arr(&["e", "d"]));
        assert_eq!(
            db.exec(&["zrevrange", "z", "3", "-1", "WITHSCORES"]),
            scored(&[("b", 2.0), ("a", 1.0)])
        );
        assert_eq!(
            db.exec(&["zrange", "z", "0", "1", "WITHSCORES"]),
            scored(&[("a", 1.0), ("b", 2.0)])
        );
        assert_eq!(db.exec(&["zrange", "nokey", "0", "-1"]), arr(&[]));
        assert_eq!(
            db.exec(&["zrange", "z", "a", "1"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            db.exec(&["zrange", "z", "0", "1", "LIMIT", "0", "1"]),
            err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        );
        assert_eq!(
            db.exec(&["zrange", "z", "0", "1", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["zrevrange", "z", "0", "1", "REV"]),
            err("ERR syntax error")
        );
        db.protocol = Protocol::Resp3;
        assert_eq!(
            db.exec(&["zrange", "z", "0", "1", "WITHSCORES"]),
            Frame::Array(vec![
                Frame::Array(vec![bulk("a"), dbl(1.0)]),
                Frame::Array(vec![bulk("b"), dbl(2.0)]),
            ])
        );
        // Ranks near the far end read the index from that end.
        assert_eq!(db.exec(&["zrange", "z", "-2", "-1"]), arr(&["d", "e"]));
        assert_eq!(db.exec(&["zrevrange", "z", "-2", "-1"]), arr(&["b", "a"]));
    }

    #[test]
    fn zrange_by_score() {
        let mut db = TestDb::new();
        setup(&mut db);
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "2", "4"]),
            arr(&["b", "c", "d"])
        );
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "(2", "4"]),
            arr(&["c", "d"])
        );
        assert_eq!(db.exec(&["zrangebyscore", "z", "(2", "(4"]), arr(&["c"]));
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "-inf", "+inf", "LIMIT", "1", "2"]),
            arr(&["b", "c"])
        );
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "-inf", "+inf", "LIMIT", "2", "-1"]),
            arr(&["c", "d", "e"])
        );
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "-inf", "+inf", "LIMIT", "-1", "2"]),
            arr(&[])
        );
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "-inf", "+inf", "LIMIT", "10", "2"]),
            arr(&[])
        );
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "-inf", "+inf", "LIMIT", "0", "0"]),
            arr(&[])
        );
        assert_eq!(db.exec(&["zrangebyscore", "z", "4", "2"]), arr(&[]));
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "1", "2", "WITHSCORES"]),
            scored(&[("a", 1.0), ("b", 2.0)])
        );
        assert_eq!(
            db.exec(&["zrevrangebyscore", "z", "4", "2"]),
            arr(&["d", "c", "b"])
        );
        assert_eq!(
            db.exec(&["zrevrangebyscore", "z", "+inf", "(3", "LIMIT", "1", "5"]),
            arr(&["d"])
        );
        assert_eq!(
            db.exec(&["zrange", "z", "(4", "2", "BYSCORE", "REV"]),
            arr(&["c", "b"])
        );
        assert_eq!(
            db.exec(&["zrange", "z", "2", "5", "BYSCORE", "LIMIT", "1", "2"]),
            arr(&["c", "d"])
        );
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "a", "2"]),
            err("ERR min or max is not a float")
        );
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "1", "2", "LIMIT", "1"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["zrangebyscore", "z", "1", "2", "BYSCORE"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn zrange_by_lex() {
        let mut db = TestDb::new();
        db.exec(&[
            "zadd", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f",
        ]);
        assert_eq!(
            db.exec(&["zrangebylex", "z", "-", "+"]),
            arr(&["a", "b", "c", "d", "e", "f"])
        );
        assert_eq!(
            db.exec(&["zrangebylex", "z", "[b", "(e"]),
            arr(&["b", "c", "d"])
        );
        assert_eq!(
            db.exec(&["zrangebylex", "z", "(b", "[e"]),
            arr(&["c", "d", "e"])
        );
        assert_eq!(
            db.exec(&["zrangebylex", "z", "[bb", "+"]),
            arr(&["c", "d", "e", "f"])
        );
        assert_eq!(
            db.exec(&["zrangebylex", "z", "-", "+", "LIMIT", "2", "2"]),
            arr(&["c", "d"])
        );
        assert_eq!(
            db.exec(&["zrevrangebylex", "z", "+", "[d"]),
            arr(&["f", "e", "d"])
        );
        assert_eq!(
            db.exec(&["zrevrangebylex", "z", "(d", "-", "LIMIT", "1", "10"]),
            arr(&["b", "a"])
        );
        assert_eq!(
            db.exec(&["zrange", "z", "[e", "[c", "BYLEX", "REV"]),
            arr(&["e", "d", "c"])
        );
        assert_eq!(db.exec(&["zrangebylex", "z", "+", "-"]), arr(&[]));
        assert_eq!(db.exec(&["zrangebylex", "z", "-", "-"]), arr(&[]));
        assert_eq!(db.exec(&["zrangebylex", "z", "(c", "[c"]), arr(&[]));
        assert_eq!(db.exec(&["zrangebylex", "z", "[c", "[c"]), arr(&["c"]));
        assert_eq!(db.exec(&["zlexcount", "z", "[b", "[d"]), int(3));
        assert_eq!(db.exec(&["zlexcount", "z", "-", "+"]), int(6));
        assert_eq!(db.exec(&["zlexcount", "nokey", "-", "+"]), int(0));
        assert_eq!(
            db.exec(&["zrangebylex", "z", "a", "+"]),
            err("ERR min or max not valid string range item")
        );
        assert_eq!(
            db.exec(&["zlexcount", "z", "-", "+x"]),
            err("ERR min or max not valid string range item")
        );
        assert_eq!(
            db.exec(&["zrangebylex", "z", "-", "+", "WITHSCORES"]),
            err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        );
        // Mixed scores: the index is walked in order.
        db.exec(&["zadd", "m", "1", "b", "2", "a", "3", "c"]);
        assert_eq!(
            db.exec(&["zrangebylex", "m", "[b", "+"]),
            arr(&["b", "a", "c"])
        );
    }

    #[test]
    fn zrangestore_stores_and_deletes() {
        let mut db = TestDb::new();
        setup(&mut db);
        assert_eq!(db.exec(&["zrangestore", "dst", "z", "1", "2"]), int(2));
        assert_eq!(
            db.exec(&["zrange", "dst", "0", "-1", "WITHSCORES"]),
            scored(&[("b", 2.0), ("c", 3.0)])
        );
        assert_eq!(
            db.exec(&["zrangestore", "dst", "z", "5", "+inf", "BYSCORE"]),
            int(1)
        );
        assert_eq!(db.exec(&["zrange", "dst", "0", "-1"]), arr(&["e"]));
        assert_eq!(
            db.exec(&[
                "zrangestore",
                "dst",
                "z",
                "+inf",
                "4",
                "BYSCORE",
                "REV",
                "LIMIT",
                "0",
                "1"
            ]),
            int(1)
        );
        assert_eq!(db.exec(&["zrange", "dst", "0", "-1"]), arr(&["e"]));
        assert_eq!(db.exec(&["zrangestore", "dst", "z", "10", "20"]), int(0));
        assert!(db.ks.lookup(b"dst").expect("lookup").is_none());
        db.exec(&["set", "str", "x"]);
        assert_eq!(db.exec(&["zrangestore", "str", "z", "0", "0"]), int(1));
        assert_eq!(db.exec(&["zrange", "str", "0", "-1"]), arr(&["a"]));
        assert_eq!(db.exec(&["zrangestore", "z", "z", "0", "1"]), int(2));
        assert_eq!(db.exec(&["zrange", "z", "0", "-1"]), arr(&["a", "b"]));
        assert_eq!(
            db.exec(&["zrangestore", "dst", "z", "0", "1", "WITHSCORES"]),
            err("ERR syntax error")
        );
        assert_eq!(db.exec(&["zrangestore", "dst", "str2", "0", "1"]), int(0));
    }

    #[test]
    fn zrank_and_zrevrank() {
        let mut db = TestDb::new();
        setup(&mut db);
        assert_eq!(db.exec(&["zrank", "z", "a"]), int(0));
        assert_eq!(db.exec(&["zrank", "z", "c"]), int(2));
        assert_eq!(db.exec(&["zrevrank", "z", "a"]), int(4));
        assert_eq!(db.exec(&["zrevrank", "z", "e"]), int(0));
        assert_eq!(db.exec(&["zrank", "z", "x"]), Frame::Null);
        assert_eq!(db.exec(&["zrank", "nokey", "x"]), Frame::Null);
        assert_eq!(
            db.exec(&["zrank", "z", "d", "WITHSCORE"]),
            Frame::Array(vec![int(3), dbl(4.0)])
        );
        assert_eq!(
            db.exec(&["zrevrank", "z", "d", "withscore"]),
            Frame::Array(vec![int(1), dbl(4.0)])
        );
        assert_eq!(db.exec(&["zrank", "z", "x", "WITHSCORE"]), Frame::NullArray);
        assert_eq!(
            db.exec(&["zrank", "nokey", "x", "WITHSCORE"]),
            Frame::NullArray
        );
        assert_eq!(
            db.exec(&["zrank", "z", "a", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["zrank", "z", "a", "WITHSCORE", "x"]),
            err("ERR wrong number of arguments for 'zrank' command")
        );
    }

    #[test]
    fn zpop_min_and_max() {
        let mut db = TestDb::new();
        setup(&mut db);
        assert_eq!(db.exec(&["zpopmin", "z"]), scored(&[("a", 1.0)]));
        assert_eq!(db.exec(&["zpopmax", "z"]), scored(&[("e", 5.0)]));
        assert_eq!(
            db.exec(&["zpopmin", "z", "2"]),
            scored(&[("b", 2.0), ("c", 3.0)])
        );
        assert_eq!(db.exec(&["zpopmin", "z", "0"]), arr(&[]));
        assert_eq!(
            db.exec(&["zpopmax", "z", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            db.exec(&["zpopmax", "z", "1", "2"]),
            err("ERR wrong number of arguments for 'zpopmax' command")
        );
        db.protocol = Protocol::Resp3;
        db.exec(&["zadd", "z", "9", "x"]);
        assert_eq!(
            db.exec(&["zpopmax", "z", "10"]),
            Frame::Array(vec![
                Frame::Array(vec![bulk("x"), dbl(9.0)]),
                Frame::Array(vec![bulk("d"), dbl(4.0)]),
            ])
        );
        assert!(db.ks.lookup(b"z").expect("lookup").is_none());
        assert_eq!(db.exec(&["zpopmin", "z"]), arr(&[]));
        db.exec(&["zadd", "z", "1", "a"]);
        assert_eq!(db.exec(&["zpopmin", "z"]), scored(&[("a", 1.0)]));
    }

    #[test]
    fn zremrange_by_score_rank_and_lex() {
        let mut db = TestDb::new();
        setup(&mut db);
        assert_eq!(db.exec(&["zremrangebyscore", "z", "(1", "3"]), int(2));
        assert_eq!(db.exec(&["zrange", "z", "0", "-1"]), arr(&["a", "d", "e"]));
        assert_eq!(db.exec(&["zremrangebyrank", "z", "-1", "-1"]), int(1));
        assert_eq!(db.exec(&["zrange", "z", "0", "-1"]), arr(&["a", "d"]));
        assert_eq!(db.exec(&["zremrangebyrank", "z", "5", "10"]), int(0));
        assert_eq!(
            db.exec(&["zremrangebyscore", "z", "x", "1"]),
            err("ERR min or max is not a float")
        );
        assert_eq!(db.exec(&["zremrangebyrank", "z", "0", "-1"]), int(2));
        assert!(db.ks.lookup(b"z").expect("lookup").is_none());
        db.exec(&["zadd", "l", "0", "a", "0", "b", "0", "c", "0", "d"]);
        assert_eq!(db.exec(&["zremrangebylex", "l", "(a", "[c"]), int(2));
        assert_eq!(db.exec(&["zrange", "l", "0", "-1"]), arr(&["a", "d"]));
        assert_eq!(
            db.exec(&["zremrangebylex", "l", "x", "[c"]),
            err("ERR min or max not valid string range item")
        );
        assert_eq!(db.exec(&["zremrangebylex", "nokey", "-", "+"]), int(0));
        assert_eq!(db.exec(&["zcard", "l"]), int(2));
    }

    #[test]
    fn zrandmember_counts() {
        let mut db = TestDb::new();
        setup(&mut db);
        let members = ["a", "b", "c", "d", "e"];
        match db.exec(&["zrandmember", "z"]) {
            Frame::Bulk(b) => assert!(members.contains(&std::str::from_utf8(&b).expect("utf8"))),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(db.exec(&["zrandmember", "nokey"]), Frame::Null);
        assert_eq!(db.exec(&["zrandmember", "nokey", "3"]), arr(&[]));
        assert_eq!(db.exec(&["zrandmember", "z", "0"]), arr(&[]));
        assert_eq!(db.exec(&["zrandmember", "z", "10"]), arr(&members));
        match db.exec(&["zrandmember", "z", "3"]) {
            Frame::Array(items) => {
                let mut seen: Vec<Frame> = items.clone();
                seen.sort_by_key(|f| format!("{f:?}"));
                seen.dedup();
                assert_eq!(seen.len(), 3);
            }
            other => panic!("unexpected {other:?}"),
        }
        match db.exec(&["zrandmember", "z", "-20", "WITHSCORES"]) {
            Frame::Array(items) => assert_eq!(items.len(), 40),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            db.exec(&["zrandmember", "z", "1", "FOO"]),
            err("ERR syntax error")
        );
        assert!(
            matches!(db.exec(&["zrandmember", "z", "-9223372036854775808"]), Frame::Error(e) if e.contains("value is out of range"))
        );
        assert!(
            matches!(db.exec(&["zrandmember", "z", "-9223372036854770000", "WITHSCORES"]), Frame::Error(e) if e.contains("value is out of range"))
        );
        db.protocol = Protocol::Resp3;
        match db.exec(&["zrandmember", "z", "-3", "WITHSCORES"]) {
            Frame::Array(items) => {
                assert_eq!(items.len(), 3);
                assert!(items
                    .iter()
                    .all(|p| matches!(p, Frame::Array(pair) if pair.len() == 2)));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn zscan_walks_every_member() {
        let mut db = TestDb::new();
        let mut argv = vec!["zadd".to_string(), "z".to_string()];
        for i in 0..200 {
            argv.push(i.to_string());
            argv.push(format!("m{i}"));
        }
        let argv_ref: Vec<&str> = argv.iter().map(|s| s.as_str()).collect();
        assert_eq!(db.exec(&argv_ref), int(200));
        let mut cursor = "0".to_string();
        let mut seen = std::collections::BTreeMap::new();
        loop {
            let Frame::Array(reply) = db.exec(&["zscan", "z", &cursor, "COUNT", "7"]) else {
                panic!("not an array");
            };
            let [Frame::Bulk(next), Frame::Array(items)] = &reply[..] else {
                panic!("bad shape");
            };
            for pair in items.chunks(2) {
                let (Frame::Bulk(m), Frame::Bulk(s)) = (&pair[0], &pair[1]) else {
                    panic!("bad pair");
                };
                seen.insert(
                    String::from_utf8(m.to_vec()).expect("utf8"),
                    String::from_utf8(s.to_vec()).expect("utf8"),
                );
            }
            cursor = String::from_utf8(next.to_vec()).expect("utf8");
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 200);
        assert_eq!(seen.get("m42").map(String::as_str), Some("42"));
        let Frame::Array(reply) = db.exec(&["zscan", "z", "0", "MATCH", "m1?", "COUNT", "1000"])
        else {
            panic!("not an array");
        };
        assert_eq!(reply[0], bulk("0"));
        assert!(matches!(&reply[1], Frame::Array(items) if items.len() == 20));
        assert_eq!(
            db.exec(&["zscan", "nokey", "0"]),
            Frame::Array(vec![bulk("0"), arr(&[])])
        );
        assert_eq!(db.exec(&["zscan", "z", "abc"]), err("ERR invalid cursor"));
        assert_eq!(
            db.exec(&["zscan", "z", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["zscan", "z", "0", "MATCH"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn wrong_type_everywhere() {
        let mut db = TestDb::new();
        db.exec(&["set", "s", "v"]);
        for argv in [
            vec!["zadd", "s", "1", "a"],
            vec!["zincrby", "s", "1", "a"],
            vec!["zrem", "s", "a"],
            vec!["zscore", "s", "a"],
            vec!["zmscore", "s", "a"],
            vec!["zcard", "s"],
            vec!["zcount", "s", "0", "1"],
            vec!["zlexcount", "s", "-", "+"],
            vec!["zrange", "s", "0", "1"],
            vec!["zrangebyscore", "s", "0", "1"],
            vec!["zrangebylex", "s", "-", "+"],
            vec!["zrangestore", "d", "s", "0", "1"],
            vec!["zrank", "s", "a"],
            vec!["zrevrank", "s", "a"],
            vec!["zpopmin", "s"],
            vec!["zremrangebyrank", "s", "0", "1"],
            vec!["zrandmember", "s"],
            vec!["zscan", "s", "0"],
        ] {
            assert_eq!(db.exec(&argv), err(WRONGTYPE), "{argv:?}");
        }
    }

    #[test]
    fn expired_zset_is_gone() {
        let mut db = TestDb::new();
        setup(&mut db);
        let mut meta = db.ks.lookup(b"z").expect("lookup").expect("live");
        meta.expire_at = Some(db.ks.now_ms + 50);
        db.ks.save_meta(b"z", &mut meta).expect("save");
        assert_eq!(db.exec(&["zcard", "z"]), int(5));
        db.advance_ms(50);
        assert_eq!(db.exec(&["zcard", "z"]), int(0));
        assert_eq!(db.exec(&["zscore", "z", "a"]), Frame::Null);
        assert_eq!(db.exec(&["zadd", "z", "7", "q"]), int(1));
        assert_eq!(
            db.exec(&["zrange", "z", "0", "-1", "WITHSCORES"]),
            scored(&[("q", 7.0)])
        );
    }
}
