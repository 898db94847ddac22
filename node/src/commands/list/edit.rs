//! Changes in the middle of a list: LREM, LTRIM and LINSERT (each renumbers the cheaper
//! side to keep sequence numbers contiguous).

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::lookup_list;
use super::records::ListRecords;
use crate::commands::args::{clamp_index_range, is_kw, parse_i64};
use crate::commands::{CmdError, Ctx};

/// LREM key count element -> how many were removed: the first count matches from the head
/// (count > 0), from the tail (count < 0) or all of them (0).
pub(super) fn lrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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
pub(super) fn ltrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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
pub(super) fn linsert(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::list::tests::{assert_contiguous, list};
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

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
}
