//! The ZRANGE family: ZRANGE (by rank, score or lex, REV, LIMIT, WITHSCORES), ZREVRANGE,
//! ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX and ZRANGESTORE, with the
//! parsing of their arguments (Redis's zrangeGenericCommand).

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::interval::{collect_by_rank, collect_by_score, LexRange, ScoreRange};
use super::records::ZsetRecords;
use super::{lookup_zset, scored_reply, Entry};
use crate::commands::args::{clamp_index_range, is_kw, parse_i64};
use crate::commands::{CmdError, Ctx};
use crate::store::{KeyType, Meta};

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
pub(super) fn zrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Auto, Direction::Auto)
}

/// ZREVRANGE key start stop [WITHSCORES] -> members by rank from the highest score.
pub(super) fn zrevrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Rank, Direction::Reverse)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] -> members with scores in range.
pub(super) fn zrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Score, Direction::Forward)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] -> members with scores in
/// range, highest first.
pub(super) fn zrevrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Score, Direction::Reverse)
}

/// ZRANGEBYLEX key min max [LIMIT offset count] -> members in the lex range.
pub(super) fn zrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    range_generic(ctx, argv, RangeKind::Lex, Direction::Forward)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count] -> members in the lex range, reversed.
pub(super) fn zrevrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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
pub(super) fn zrangestore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let req = parse_range_request(argv, 2, true, RangeKind::Auto, Direction::Auto)?;
    let items = run_range(ctx, &argv[2], &req)?.unwrap_or_default();
    store_entries(ctx, &argv[1], &items)?;
    Ok(Frame::Integer(items.len() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use redoubt_proto::resp::Protocol;

    use crate::commands::testutil::{arr, bulk, err, int, TestDb};
    use crate::commands::zset::tests::{dbl, scored, setup};

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
}
