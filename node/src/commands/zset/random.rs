//! ZRANDMEMBER: random members, drawn from the deterministic [`Ctx`] random source.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::records::ZsetRecords;
use super::{lookup_zset, scored_reply, Entry};
use crate::commands::args::{is_kw, parse_i64};
use crate::commands::{CmdError, Ctx};

/// Above this many repeated picks a negative ZRANDMEMBER count is refused rather than
/// building a reply that cannot fit in memory.
const MAX_RANDOM_PICKS: u64 = 1 << 24;

/// ZRANDMEMBER key [count [WITHSCORES]] -> one random member (nil if none); with count, up to
/// count distinct members, or |count| members with repetitions when count is negative.
pub(super) fn zrandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use redoubt_proto::resp::Protocol;

    use crate::commands::testutil::{arr, err, TestDb};
    use crate::commands::zset::tests::setup;

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
}
