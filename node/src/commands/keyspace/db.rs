//! Whole databases: DBSIZE, FLUSHDB, FLUSHALL and SWAPDB.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use crate::commands::args::{is_kw, parse_i64};
use crate::commands::{CmdError, Ctx};
use crate::store::encoding::{TAG_COUNTERS, TAG_EXPIRY, TAG_MEMBER, TAG_META};
use crate::store::{Meta, DATABASES};

/// DBSIZE -> the number of keys in the selected database.
pub(super) fn dbsize(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (keys, _) = ctx.ks.counters(ctx.ks.db)?;
    Ok(Frame::Integer(i64::try_from(keys).unwrap_or(i64::MAX)))
}

/// The optional ASYNC|SYNC of FLUSHDB/FLUSHALL (both flush at once here).
fn check_flush_mode(argv: &[Bytes]) -> Result<(), CmdError> {
    match argv {
        [_] => Ok(()),
        [_, mode] if is_kw(mode, "ASYNC") || is_kw(mode, "SYNC") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

/// FLUSHDB [ASYNC | SYNC] -> OK; removes every key of the selected database.
pub(super) fn flushdb(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    check_flush_mode(argv)?;
    let db = ctx.ks.db;
    ctx.ks.flush_db(db)?;
    Ok(Frame::ok())
}

/// FLUSHALL [ASYNC | SYNC] -> OK; removes every key of every database.
pub(super) fn flushall(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    check_flush_mode(argv)?;
    for db in 0..DATABASES {
        ctx.ks.flush_db(db)?;
    }
    Ok(Frame::ok())
}

/// SWAPDB index1 index2 -> OK; the two databases exchange their contents (connections keep
/// their db number and see the other content).
pub(super) fn swapdb(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let int_arg = |arg: &[u8], which: &str| {
        parse_i64(arg)
            .ok()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| CmdError::other(format!("ERR invalid {which} DB index")))
    };
    let first = int_arg(&argv[1], "first")?;
    let second = int_arg(&argv[2], "second")?;
    let db = |n: i32| u8::try_from(n).ok().filter(|d| *d < DATABASES);
    let (Some(a), Some(b)) = (db(first), db(second)) else {
        return Err(CmdError::other("ERR DB index is out of range"));
    };
    if a != b {
        swap_databases(ctx, a, b)?;
    }
    Ok(Frame::ok())
}

/// Moves every record of db `a` (meta, members, expiry index, counters: all keyed
/// `tag db ...`) to db `b` and back. Moved keys get this entry's version, so a WATCH on
/// either side sees the change.
fn swap_databases(ctx: &mut Ctx<'_>, a: u8, b: u8) -> Result<(), CmdError> {
    let version = ctx.ks.version;
    let mut moved = Vec::new();
    for tag in [TAG_META, TAG_MEMBER, TAG_EXPIRY, TAG_COUNTERS] {
        for (from, to) in [(a, b), (b, a)] {
            for item in ctx.ks.txn.prefix(&[tag, from], false) {
                let (old_key, raw) = item?;
                let mut new_key = old_key.to_vec();
                if let Some(db) = new_key.get_mut(1) {
                    *db = to;
                }
                let value = if tag == TAG_META {
                    let mut meta = Meta::decode(&raw)?;
                    meta.version = version;
                    meta.encode()
                } else {
                    raw.to_vec()
                };
                moved.push((old_key.to_vec(), new_key, value));
            }
        }
    }
    for (old_key, _, _) in &moved {
        ctx.ks.txn.remove(old_key.clone())?;
    }
    for (_, new_key, value) in moved {
        ctx.ks.txn.put(new_key, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::keyspace::tests::{add_list, select};
    use crate::commands::testutil::{bulk, err, int, TestDb};

    #[test]
    fn flushdb_and_flushall() {
        let mut db = TestDb::new();
        db.exec(&["SET", "a", "1"]);
        select(&mut db, 3);
        db.exec(&["SET", "b", "1"]);
        assert_eq!(db.exec(&["FLUSHDB", "ASYNC"]), Frame::ok());
        assert_eq!(db.exec(&["DBSIZE"]), int(0));
        db.exec(&["SET", "b", "1"]);
        select(&mut db, 0);
        assert_eq!(db.exec(&["DBSIZE"]), int(1));
        assert_eq!(db.exec(&["FLUSHALL", "BOGUS"]), err("ERR syntax error"));
        assert_eq!(
            db.exec(&["FLUSHDB", "SYNC", "ASYNC"]),
            err("ERR syntax error")
        );
        assert_eq!(db.exec(&["FLUSHALL", "sync"]), Frame::ok());
        assert_eq!(db.exec(&["DBSIZE"]), int(0));
        select(&mut db, 3);
        assert_eq!(db.exec(&["DBSIZE"]), int(0));
        assert_eq!(db.exec(&["GET", "b"]), Frame::Null);
    }

    #[test]
    fn swapdb_exchanges_contents_and_counters() {
        let mut db = TestDb::new();
        db.exec(&["SET", "a", "in0", "EX", "100"]);
        db.exec(&["SET", "shared", "zero"]);
        add_list(&mut db, "l");
        select(&mut db, 1);
        db.exec(&["SET", "b", "in1"]);
        db.exec(&["SET", "shared", "one"]);
        assert_eq!(db.exec(&["SWAPDB", "0", "1"]), Frame::ok());
        assert_eq!(db.exec(&["DBSIZE"]), int(3));
        assert_eq!(db.exec(&["GET", "a"]), bulk("in0"));
        assert_eq!(db.exec(&["TTL", "a"]), int(100));
        assert_eq!(db.exec(&["GET", "shared"]), bulk("zero"));
        assert_eq!(db.exec(&["TYPE", "l"]), Frame::Simple("list".into()));
        assert_eq!(db.exec(&["GET", "b"]), Frame::Null);
        select(&mut db, 0);
        assert_eq!(db.exec(&["DBSIZE"]), int(2));
        assert_eq!(db.exec(&["GET", "b"]), bulk("in1"));
        assert_eq!(db.exec(&["GET", "shared"]), bulk("one"));
        assert_eq!(db.exec(&["SWAPDB", "3", "3"]), Frame::ok());
        assert_eq!(
            db.exec(&["SWAPDB", "44", "45"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            db.exec(&["SWAPDB", "0", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            db.exec(&["SWAPDB", "1", "a"]),
            err("ERR invalid second DB index")
        );
        assert_eq!(
            db.exec(&["SWAPDB", "a", "1"]),
            err("ERR invalid first DB index")
        );
    }
}
