//! ZADD (with its NX/XX/GT/LT/CH/INCR options), ZINCRBY and ZREM.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::records::ZsetRecords;
use super::{lookup_zset, NAN_ERR};
use crate::commands::args::{is_kw, parse_f64};
use crate::commands::{CmdError, Ctx};
use crate::store::{KeyType, Meta};

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
pub(super) fn zadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    zadd_generic(ctx, &argv[1], AddFlags::default(), &argv[2..])
}

/// ZINCRBY key increment member -> the member's new score.
pub(super) fn zincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let flags = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    zadd_generic(ctx, &argv[1], flags, &argv[2..])
}

/// ZREM key member [member ...] -> how many members were removed.
pub(super) fn zrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{arr, err, int, TestDb};
    use crate::commands::zset::tests::{dbl, scored};
    use crate::store::encoding::member_prefix;

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
}
