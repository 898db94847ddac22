//! Writing a value: SET (with its options), SETNX, SETEX and PSETEX.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::options::{absolute_expiry, option_expiry, parse_string_options};
use crate::commands::args::parse_i64;
use crate::commands::{CmdError, Ctx};
use crate::store::{KeyType, Meta};

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ts-ms | KEEPTTL]
/// -> OK, nil when NX/XX prevented it, or the old value with GET.
pub(super) fn set(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, value) = (&argv[1], &argv[2]);
    let opts = parse_string_options(argv, true)?;
    let expire = option_expiry(ctx, opts.expire, "set")?;
    let old = ctx.ks.lookup(key)?;
    if opts.get && old.as_ref().is_some_and(|m| m.ty != KeyType::String) {
        return Err(CmdError::WrongType);
    }
    let old_value = old
        .as_ref()
        .map(|m| Frame::Bulk(m.value.clone()))
        .unwrap_or(Frame::Null);
    if (opts.nx && old.is_some()) || (opts.xx && old.is_none()) {
        return Ok(if opts.get { old_value } else { Frame::Null });
    }
    let mut meta = Meta::string(value.clone());
    meta.expire_at = if opts.keep_ttl {
        old.as_ref().and_then(|m| m.expire_at)
    } else {
        expire
    };
    ctx.ks.overwrite(key, &mut meta)?;
    Ok(if opts.get { old_value } else { Frame::ok() })
}

/// SETNX key value -> 1 if the key was set, 0 if it already existed.
pub(super) fn setnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if ctx.ks.lookup(&argv[1])?.is_some() {
        return Ok(Frame::Integer(0));
    }
    ctx.ks
        .overwrite(&argv[1], &mut Meta::string(argv[2].clone()))?;
    Ok(Frame::Integer(1))
}

/// SETEX key seconds value -> OK.
pub(super) fn setex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_with_expiry(ctx, argv, b"EX", "setex")
}

/// PSETEX key milliseconds value -> OK.
pub(super) fn psetex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_with_expiry(ctx, argv, b"PX", "psetex")
}

fn set_with_expiry(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    unit: &[u8],
    cmd: &str,
) -> Result<Frame, CmdError> {
    let n = parse_i64(&argv[2])?;
    let at = absolute_expiry(ctx, unit, n, cmd)?;
    let mut meta = Meta::string(argv[3].clone());
    meta.expire_at = Some(at);
    ctx.ks.overwrite(&argv[1], &mut meta)?;
    Ok(Frame::ok())
}

#[cfg(test)]
mod tests {
    use redoubt_proto::resp::Frame;

    use crate::commands::string::tests::{db_with_list, ttl_ms, NOT_INT, WRONGTYPE};
    use crate::commands::testutil::{bulk, err, int, TestDb};

    #[test]
    fn get_and_set_basics() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["GET", "k"]), Frame::Null);
        assert_eq!(db.exec(&["SET", "k", "v"]), Frame::ok());
        assert_eq!(db.exec(&["GET", "k"]), bulk("v"));
        assert_eq!(db.exec(&["SET", "e", ""]), Frame::ok());
        assert_eq!(db.exec(&["GET", "e"]), bulk(""));
        assert_eq!(
            db.exec(&["GET"]),
            err("ERR wrong number of arguments for 'get' command")
        );
    }

    #[test]
    fn set_nx_xx_get_options() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SET", "k", "1", "XX"]), Frame::Null);
        assert_eq!(db.exec(&["SET", "k", "1", "NX"]), Frame::ok());
        assert_eq!(db.exec(&["SET", "k", "2", "NX"]), Frame::Null);
        assert_eq!(db.exec(&["SET", "k", "2", "XX", "GET"]), bulk("1"));
        assert_eq!(db.exec(&["SET", "k", "3", "NX", "GET"]), bulk("2"));
        assert_eq!(db.exec(&["GET", "k"]), bulk("2"));
        assert_eq!(db.exec(&["SET", "new", "x", "GET"]), Frame::Null);
        assert_eq!(
            db.exec(&["SET", "k", "1", "NX", "XX"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["SET", "k", "1", "BOGUS"]),
            err("ERR syntax error")
        );
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["SET", "l", "v", "GET"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["SET", "l", "v"]), Frame::ok());
        assert_eq!(db.exec(&["GET", "l"]), bulk("v"));
    }

    #[test]
    fn set_expiry_options() {
        let mut db = TestDb::new();
        db.exec(&["SET", "k", "v", "EX", "10"]);
        assert_eq!(ttl_ms(&mut db, "k"), Some(10_000));
        db.exec(&["SET", "k", "v", "PX", "1500"]);
        assert_eq!(ttl_ms(&mut db, "k"), Some(1500));
        let at = (db.ks.now_ms / 1000 + 100).to_string();
        db.exec(&["SET", "k", "v", "EXAT", &at]);
        assert_eq!(
            db.ks.lookup(b"k").expect("l").and_then(|m| m.expire_at),
            Some(at.parse::<u64>().expect("n") * 1000)
        );
        let pat = (db.ks.now_ms + 777).to_string();
        db.exec(&["SET", "k", "v", "PXAT", &pat]);
        assert_eq!(ttl_ms(&mut db, "k"), Some(777));
        db.exec(&["SET", "k", "w", "KEEPTTL"]);
        assert_eq!(ttl_ms(&mut db, "k"), Some(777));
        db.exec(&["SET", "k", "w"]);
        assert_eq!(ttl_ms(&mut db, "k"), None);
        // The same expiry option may repeat; two different ones may not.
        assert_eq!(
            db.exec(&["SET", "k", "v", "EX", "1", "EX", "5"]),
            Frame::ok()
        );
        assert_eq!(ttl_ms(&mut db, "k"), Some(5000));
        assert_eq!(
            db.exec(&["SET", "k", "v", "EX", "1", "PX", "5"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["SET", "k", "v", "EX", "1", "KEEPTTL"]),
            err("ERR syntax error")
        );
        assert_eq!(db.exec(&["SET", "k", "v", "EX"]), err("ERR syntax error"));
        let bad = "ERR invalid expire time in 'set' command";
        assert_eq!(db.exec(&["SET", "k", "v", "EX", "0"]), err(bad));
        assert_eq!(
            db.exec(&["SET", "k", "v", "EX", "-9999999999999999"]),
            err(bad)
        );
        assert_eq!(
            db.exec(&["SET", "k", "v", "EX", "10000000000000000"]),
            err(bad)
        );
        assert_eq!(
            db.exec(&["SET", "k", "v", "PX", "9223372036854775807"]),
            err(bad)
        );
        assert_eq!(db.exec(&["SET", "k", "v", "EX", "abc"]), err(NOT_INT));
        db.advance_ms(5000);
        assert_eq!(db.exec(&["GET", "k"]), Frame::Null);
    }

    #[test]
    fn setnx_setex_psetex() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SETNX", "k", "a"]), int(1));
        assert_eq!(db.exec(&["SETNX", "k", "b"]), int(0));
        assert_eq!(db.exec(&["GET", "k"]), bulk("a"));
        db.exec(&["SET", "v", "x", "PX", "10"]);
        db.advance_ms(10);
        assert_eq!(db.exec(&["SETNX", "v", "y"]), int(1));
        assert_eq!(db.exec(&["SETEX", "s", "10", "val"]), Frame::ok());
        assert_eq!(ttl_ms(&mut db, "s"), Some(10_000));
        assert_eq!(db.exec(&["GET", "s"]), bulk("val"));
        assert_eq!(db.exec(&["PSETEX", "p", "100", "val"]), Frame::ok());
        assert_eq!(ttl_ms(&mut db, "p"), Some(100));
        assert_eq!(
            db.exec(&["SETEX", "s", "-10", "v"]),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            db.exec(&["PSETEX", "s", "0", "v"]),
            err("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(db.exec(&["SETEX", "s", "x", "v"]), err(NOT_INT));
    }
}
