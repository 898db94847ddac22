//! Giving a value another name: RENAME and RENAMENX within a database, COPY and MOVE
//! across databases.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use crate::commands::args::{is_kw, parse_i64};
use crate::commands::{CmdError, Ctx};
use crate::store::{Meta, DATABASES};

/// Moves `src` (live, `meta`) to `dst` in the current db with its expiry.
fn move_record(ctx: &mut Ctx<'_>, src: &[u8], meta: &Meta, dst: &[u8]) -> Result<(), CmdError> {
    let db = ctx.ks.db;
    ctx.ks.copy_key(src, meta, db, dst, true)?;
    ctx.ks.delete(src)?;
    Ok(())
}

/// RENAME key newkey -> OK; the destination is overwritten, the expiry moves along.
pub(super) fn rename(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (src, dst) = (&argv[1], &argv[2]);
    let meta = ctx.ks.lookup(src)?.ok_or(CmdError::NoSuchKey)?;
    if src != dst {
        move_record(ctx, src, &meta, dst)?;
    }
    Ok(Frame::ok())
}

/// RENAMENX key newkey -> 1 if renamed, 0 if newkey exists (or is key itself).
pub(super) fn renamenx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (src, dst) = (&argv[1], &argv[2]);
    let meta = ctx.ks.lookup(src)?.ok_or(CmdError::NoSuchKey)?;
    if src == dst || ctx.ks.lookup(dst)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    move_record(ctx, src, &meta, dst)?;
    Ok(Frame::Integer(1))
}

/// A database index argument: an int, then within 0..DATABASES.
fn parse_db_index(arg: &[u8]) -> Result<u8, CmdError> {
    let n = parse_i64(arg)?;
    if i32::try_from(n).is_err() {
        return Err(CmdError::other(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    u8::try_from(n)
        .ok()
        .filter(|db| *db < DATABASES)
        .ok_or_else(|| CmdError::other("ERR DB index is out of range"))
}

/// Whether `key` is live in database `db` (the selected db is left as it was).
fn exists_in_db(ctx: &mut Ctx<'_>, db: u8, key: &[u8]) -> Result<bool, CmdError> {
    let selected = ctx.ks.db;
    ctx.ks.db = db;
    let found = ctx.ks.lookup(key);
    ctx.ks.db = selected;
    Ok(found?.is_some())
}

fn same_object() -> CmdError {
    CmdError::other("ERR source and destination objects are the same")
}

/// COPY source destination [DB destination-db] [REPLACE] -> 1 if copied, 0 if the source is
/// missing or the destination exists without REPLACE. The expiry is copied too.
pub(super) fn copy(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (src, dst) = (&argv[1], &argv[2]);
    let mut dst_db = ctx.ks.db;
    let mut replace = false;
    let mut i = 3;
    while i < argv.len() {
        if is_kw(&argv[i], "REPLACE") {
            replace = true;
        } else if let (true, Some(db)) = (is_kw(&argv[i], "DB"), argv.get(i + 1)) {
            dst_db = parse_db_index(db)?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if dst_db == ctx.ks.db && src == dst {
        return Err(same_object());
    }
    let Some(meta) = ctx.ks.lookup(src)? else {
        return Ok(Frame::Integer(0));
    };
    if !replace && exists_in_db(ctx, dst_db, dst)? {
        return Ok(Frame::Integer(0));
    }
    ctx.ks.copy_key(src, &meta, dst_db, dst, true)?;
    Ok(Frame::Integer(1))
}

/// MOVE key db -> 1 if moved, 0 if the key is missing or exists in the target db.
pub(super) fn move_key(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let dst_db = parse_db_index(&argv[2])?;
    if dst_db == ctx.ks.db {
        return Err(same_object());
    }
    let Some(meta) = ctx.ks.lookup(key)? else {
        return Ok(Frame::Integer(0));
    };
    if exists_in_db(ctx, dst_db, key)? {
        return Ok(Frame::Integer(0));
    }
    ctx.ks.copy_key(key, &meta, dst_db, key, true)?;
    ctx.ks.delete(key)?;
    Ok(Frame::Integer(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::keyspace::tests::{add_list, select};
    use crate::commands::testutil::{bulk, err, int, TestDb};

    #[test]
    fn rename_and_renamenx() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["RENAME", "nope", "x"]), err("ERR no such key"));
        assert_eq!(db.exec(&["RENAMENX", "nope", "x"]), err("ERR no such key"));
        assert_eq!(db.exec(&["RENAME", "nope", "nope"]), err("ERR no such key"));
        db.exec(&["SET", "a", "1", "EX", "100"]);
        db.exec(&["SET", "b", "2"]);
        assert_eq!(db.exec(&["RENAME", "a", "a"]), Frame::ok());
        assert_eq!(db.exec(&["RENAMENX", "a", "a"]), int(0));
        assert_eq!(db.exec(&["RENAMENX", "a", "b"]), int(0));
        assert_eq!(db.exec(&["RENAME", "a", "b"]), Frame::ok());
        assert_eq!(db.exec(&["GET", "b"]), bulk("1"));
        assert_eq!(db.exec(&["EXISTS", "a"]), int(0));
        assert_eq!(db.exec(&["TTL", "b"]), int(100));
        db.exec(&["SET", "t", "x", "EX", "50"]);
        db.exec(&["SET", "p", "y"]);
        assert_eq!(db.exec(&["RENAME", "p", "t"]), Frame::ok());
        assert_eq!(db.exec(&["TTL", "t"]), int(-1));
        add_list(&mut db, "l");
        assert_eq!(db.exec(&["RENAMENX", "l", "l2"]), int(1));
        assert_eq!(db.exec(&["TYPE", "l2"]), Frame::Simple("list".into()));
        assert_eq!(db.exec(&["DBSIZE"]), int(3));
    }

    #[test]
    fn copy_within_and_across_databases() {
        let mut db = TestDb::new();
        db.exec(&["SET", "src", "v", "EX", "100"]);
        assert_eq!(db.exec(&["COPY", "src", "dst"]), int(1));
        assert_eq!(db.exec(&["GET", "dst"]), bulk("v"));
        assert_eq!(db.exec(&["TTL", "dst"]), int(100));
        db.exec(&["SET", "src", "w"]);
        assert_eq!(db.exec(&["COPY", "src", "dst"]), int(0));
        assert_eq!(db.exec(&["COPY", "src", "dst", "REPLACE"]), int(1));
        assert_eq!(db.exec(&["GET", "dst"]), bulk("w"));
        assert_eq!(db.exec(&["TTL", "dst"]), int(-1));
        assert_eq!(db.exec(&["COPY", "nope", "dst"]), int(0));
        assert_eq!(
            db.exec(&["COPY", "src", "src"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(db.exec(&["COPY", "src", "src", "DB", "1"]), int(1));
        assert_eq!(
            db.exec(&["COPY", "src", "x", "DB", "notanumber"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            db.exec(&["COPY", "src", "x", "DB", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            db.exec(&["COPY", "src", "x", "DB", "-1"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            db.exec(&["COPY", "src", "x", "BOGUS"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["COPY", "src", "x", "DB"]),
            err("ERR syntax error")
        );
        select(&mut db, 1);
        assert_eq!(db.exec(&["GET", "src"]), bulk("w"));
        assert_eq!(db.exec(&["DBSIZE"]), int(1));
    }

    #[test]
    fn move_between_databases() {
        let mut db = TestDb::new();
        db.exec(&["SET", "k", "v", "PX", "5000"]);
        assert_eq!(
            db.exec(&["MOVE", "k", "0"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(
            db.exec(&["MOVE", "k", "notanumber"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            db.exec(&["MOVE", "k", "99"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            db.exec(&["MOVE", "k", "99999999999"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        assert_eq!(db.exec(&["MOVE", "nope", "1"]), int(0));
        assert_eq!(db.exec(&["MOVE", "k", "1"]), int(1));
        assert_eq!(db.exec(&["EXISTS", "k"]), int(0));
        db.exec(&["SET", "k", "again"]);
        assert_eq!(db.exec(&["MOVE", "k", "1"]), int(0));
        select(&mut db, 1);
        assert_eq!(db.exec(&["GET", "k"]), bulk("v"));
        assert_eq!(db.exec(&["PTTL", "k"]), int(5000));
    }
}
