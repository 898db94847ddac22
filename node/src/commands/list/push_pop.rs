//! Both ends of a list: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP and RPOP.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::records::{End, ListRecords};
use super::{lookup_list, parse_positive};
use crate::commands::{CmdError, Ctx};
use crate::store::{KeyType, Meta};

fn push_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    end: End,
    only_existing: bool,
) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let mut meta = match lookup_list(ctx, key)? {
        Some(meta) => meta,
        None if only_existing => return Ok(Frame::Integer(0)),
        None => Meta::new(KeyType::List),
    };
    let records = ListRecords::of(ctx, key);
    records.push(ctx, &mut meta, argv.get(2..).unwrap_or_default(), end)?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(meta.count as i64))
}

/// LPUSH key element [element ...] -> length after the push.
pub(super) fn lpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    push_generic(ctx, argv, End::Left, false)
}

/// RPUSH key element [element ...] -> length after the push.
pub(super) fn rpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    push_generic(ctx, argv, End::Right, false)
}

/// LPUSHX key element [element ...] -> length after the push, 0 if the key does not exist.
pub(super) fn lpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    push_generic(ctx, argv, End::Left, true)
}

/// RPUSHX key element [element ...] -> length after the push, 0 if the key does not exist.
pub(super) fn rpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    push_generic(ctx, argv, End::Right, true)
}

fn pop_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End) -> Result<Frame, CmdError> {
    if argv.len() > 3 {
        return Err(CmdError::WrongArity(crate::commands::args::lower(&argv[0])));
    }
    let count = match argv.get(2) {
        Some(arg) => Some(parse_positive(
            arg,
            "ERR value is out of range, must be positive",
        )?),
        None => None,
    };
    let key = &argv[1];
    let Some(mut meta) = lookup_list(ctx, key)? else {
        return Ok(if count.is_some() {
            Frame::NullArray
        } else {
            Frame::Null
        });
    };
    let records = ListRecords::of(ctx, key);
    let reply = match count {
        Some(0) => return Ok(Frame::Array(Vec::new())),
        Some(n) => Frame::Array(
            records
                .pop(ctx, &mut meta, n, end)?
                .into_iter()
                .map(Frame::Bulk)
                .collect(),
        ),
        None => records
            .pop(ctx, &mut meta, 1, end)?
            .into_iter()
            .next()
            .map(Frame::Bulk)
            .unwrap_or(Frame::Null),
    };
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(reply)
}

/// LPOP key [count] -> the first element (nil if none), or with count an array of up to count
/// elements (nil array if the key does not exist).
pub(super) fn lpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    pop_generic(ctx, argv, End::Left)
}

/// RPOP key [count] -> the last element (nil if none), or with count an array of up to count
/// elements (nil array if the key does not exist).
pub(super) fn rpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    pop_generic(ctx, argv, End::Right)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::list::tests::{assert_contiguous, list};
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

    #[test]
    fn push_and_range_keep_order() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["rpush", "l", "a", "b"]), int(2));
        assert_eq!(db.exec(&["lpush", "l", "x", "y"]), int(4));
        assert_eq!(list(&mut db, "l"), arr(&["y", "x", "a", "b"]));
        assert_eq!(db.exec(&["llen", "l"]), int(4));
        assert_eq!(db.exec(&["lrange", "l", "1", "2"]), arr(&["x", "a"]));
        assert_eq!(db.exec(&["lrange", "l", "-2", "100"]), arr(&["a", "b"]));
        assert_eq!(db.exec(&["lrange", "l", "-100", "0"]), arr(&["y"]));
        assert_eq!(db.exec(&["lrange", "l", "3", "1"]), arr(&[]));
        assert_eq!(db.exec(&["lrange", "l", "5", "10"]), arr(&[]));
        assert_eq!(db.exec(&["lrange", "nokey", "0", "-1"]), arr(&[]));
        assert_eq!(
            db.exec(&["lrange", "l", "a", "1"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(db.exec(&["llen", "nokey"]), int(0));
        assert_contiguous(&mut db, "l");
    }

    #[test]
    fn pushx_needs_an_existing_list() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["lpushx", "l", "a"]), int(0));
        assert_eq!(db.exec(&["rpushx", "l", "a"]), int(0));
        assert_eq!(db.exec(&["llen", "l"]), int(0));
        db.exec(&["rpush", "l", "a"]);
        assert_eq!(db.exec(&["lpushx", "l", "b", "c"]), int(3));
        assert_eq!(db.exec(&["rpushx", "l", "d"]), int(4));
        assert_eq!(list(&mut db, "l"), arr(&["c", "b", "a", "d"]));
    }

    #[test]
    fn pop_with_and_without_count() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "b", "c", "d"]);
        assert_eq!(db.exec(&["lpop", "l"]), bulk("a"));
        assert_eq!(db.exec(&["rpop", "l"]), bulk("d"));
        assert_eq!(db.exec(&["lpop", "l", "0"]), arr(&[]));
        assert_eq!(db.exec(&["rpop", "l", "5"]), arr(&["c", "b"]));
        assert_eq!(db.exec(&["llen", "l"]), int(0));
        assert!(db.ks.lookup(b"l").expect("lookup").is_none());
        assert_eq!(db.exec(&["lpop", "l"]), Frame::Null);
        assert_eq!(db.exec(&["lpop", "l", "2"]), Frame::NullArray);
        assert_eq!(db.exec(&["rpop", "l", "0"]), Frame::NullArray);
        assert_eq!(
            db.exec(&["lpop", "l", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            db.exec(&["lpop", "l", "x"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            db.exec(&["lpop", "l", "1", "2"]),
            err("ERR wrong number of arguments for 'lpop' command")
        );
        db.exec(&["rpush", "l", "a", "b", "c"]);
        assert_eq!(db.exec(&["lpop", "l", "2"]), arr(&["a", "b"]));
        assert_contiguous(&mut db, "l");
    }
}
