//! ZRANK and ZREVRANK: a member's position in score order.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::lookup_zset;
use super::records::{successor, ZsetRecords};
use crate::commands::args::{is_kw, lower};
use crate::commands::{CmdError, Ctx};
use crate::store::Txn;

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
pub(super) fn zrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    rank_generic(ctx, argv, false)
}

/// ZREVRANK key member [WITHSCORE] -> the member's 0-based rank by descending score (with its
/// score as [rank, score]), nil if absent.
pub(super) fn zrevrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    rank_generic(ctx, argv, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{err, int, TestDb};
    use crate::commands::zset::tests::{dbl, setup};

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
}
