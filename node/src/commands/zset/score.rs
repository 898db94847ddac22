//! Point reads and counts: ZSCORE, ZMSCORE, ZCARD, ZCOUNT and ZLEXCOUNT.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::interval::{LexRange, ScoreRange};
use super::lookup_zset;
use super::records::ZsetRecords;
use crate::commands::{CmdError, Ctx};

/// ZSCORE key member -> the member's score (a double), nil if absent.
pub(super) fn zscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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
pub(super) fn zmscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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
pub(super) fn zcard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let n = lookup_zset(ctx, &argv[1])?.map(|m| m.count).unwrap_or(0);
    Ok(Frame::Integer(n as i64))
}

/// ZCOUNT key min max -> the number of members with a score in [min, max] (`(` excludes).
pub(super) fn zcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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
pub(super) fn zlexcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let range = LexRange::parse(&argv[2], &argv[3])?;
    if lookup_zset(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Integer(0));
    }
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let n = range.collect(&ctx.ks.txn, &recs, false, 0, -1)?.len();
    Ok(Frame::Integer(n as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{err, int, TestDb};
    use crate::commands::zset::tests::{dbl, setup};

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
}
