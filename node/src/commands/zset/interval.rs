//! Selecting members: score intervals ([`ScoreRange`], as ZRANGEBYSCORE takes them), lex
//! intervals ([`LexRange`], as ZRANGEBYLEX takes them) and rank windows, turned into walks
//! over the score index.

use std::cmp::Ordering;

use bytes::Bytes;

use super::records::{successor, upper, ZsetRecords};
use super::{Entry, NOT_FLOAT_RANGE, NOT_LEX_RANGE};
use crate::commands::args::parse_f64_opt;
use crate::commands::CmdError;
use crate::store::encoding::encode_f64_ordered;
use crate::store::Txn;

/// A score interval as ZRANGEBYSCORE takes it: `1.5`, `(1.5` (exclusive), `-inf`, `+inf`.
#[derive(Clone, Copy, Debug)]
pub(super) struct ScoreRange {
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
    pub(super) fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
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
    pub(super) fn keys(&self, recs: &ZsetRecords) -> (Vec<u8>, Vec<u8>) {
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
pub(super) struct LexRange {
    min: LexItem,
    min_ex: bool,
    max: LexItem,
    max_ex: bool,
}

impl LexRange {
    pub(super) fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
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
    pub(super) fn collect(
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
pub(super) fn collect_by_score(
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
pub(super) fn collect_by_rank(
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
