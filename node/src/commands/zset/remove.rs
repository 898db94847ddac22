//! Removing members by position or interval: ZPOPMIN, ZPOPMAX, ZREMRANGEBYSCORE,
//! ZREMRANGEBYRANK and ZREMRANGEBYLEX.

use bytes::Bytes;
use redoubt_proto::resp::{Frame, Protocol};

use super::interval::{collect_by_rank, collect_by_score, LexRange, ScoreRange};
use super::records::ZsetRecords;
use super::{lookup_zset, parse_positive, scored_reply, Entry};
use crate::commands::args::{clamp_index_range, lower, parse_i64};
use crate::commands::{CmdError, Ctx};
use crate::store::Meta;

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
pub(super) fn zpopmin(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    pop_generic(ctx, argv, false)
}

/// ZPOPMAX key [count] -> [member, score, ...] of the highest-scoring members, removed (RESP3
/// with count: [member, score] pairs).
pub(super) fn zpopmax(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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
pub(super) fn zremrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let range = ScoreRange::parse(&argv[2], &argv[3])?;
    let Some(meta) = lookup_zset(ctx, &argv[1])? else {
        return Ok(Frame::Integer(0));
    };
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let items = collect_by_score(&ctx.ks.txn, &recs, &range, false, 0, -1)?;
    remove_entries(ctx, &argv[1], meta, &items)
}

/// ZREMRANGEBYRANK key start stop -> how many members at ranks start..=stop were removed.
pub(super) fn zremrangebyrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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
pub(super) fn zremrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let range = LexRange::parse(&argv[2], &argv[3])?;
    let Some(meta) = lookup_zset(ctx, &argv[1])? else {
        return Ok(Frame::Integer(0));
    };
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let items = range.collect(&ctx.ks.txn, &recs, false, 0, -1)?;
    remove_entries(ctx, &argv[1], meta, &items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};
    use crate::commands::zset::tests::{dbl, scored, setup};

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
}
