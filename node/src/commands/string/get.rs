//! Reading a value, possibly changing it on the way: GET, GETSET, GETDEL and GETEX.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::options::{option_expiry, parse_string_options};
use super::{bulk_or_nil, read_string};
use crate::commands::{CmdError, Ctx};
use crate::store::Meta;

/// GET key -> bulk value or nil.
pub(super) fn get(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    Ok(bulk_or_nil(read_string(ctx, &argv[1])?))
}

/// GETSET key value -> the old value (or nil); the new value has no expiry.
pub(super) fn getset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let old = read_string(ctx, &argv[1])?;
    ctx.ks
        .overwrite(&argv[1], &mut Meta::string(argv[2].clone()))?;
    Ok(bulk_or_nil(old))
}

/// GETDEL key -> the value (or nil), and the key is deleted.
pub(super) fn getdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let old = read_string(ctx, &argv[1])?;
    if old.is_some() {
        ctx.ks.delete(&argv[1])?;
    }
    Ok(bulk_or_nil(old))
}

/// GETEX key [EX s | PX ms | EXAT ts | PXAT ts-ms | PERSIST] -> the value (or nil), after
/// changing the key's expiry as asked (an absolute time in the past deletes it).
pub(super) fn getex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let opts = parse_string_options(argv, false)?;
    let expire = option_expiry(ctx, opts.expire, "getex")?;
    let Some(mut meta) = read_string(ctx, key)? else {
        return Ok(Frame::Null);
    };
    let reply = Frame::Bulk(meta.value.clone());
    match expire {
        Some(at) if at <= ctx.ks.now_ms => {
            ctx.ks.delete(key)?;
        }
        Some(at) => {
            meta.expire_at = Some(at);
            ctx.ks.save_meta(key, &mut meta)?;
        }
        None if opts.persist && meta.expire_at.is_some() => {
            meta.expire_at = None;
            ctx.ks.save_meta(key, &mut meta)?;
        }
        None => {}
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use redoubt_proto::resp::Frame;

    use crate::commands::string::tests::{db_with_list, ttl_ms, WRONGTYPE};
    use crate::commands::testutil::{bulk, err, int, TestDb};

    #[test]
    fn getset_getdel_getex() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["GETSET", "k", "a"]), Frame::Null);
        db.exec(&["EXPIRE", "k", "100"]);
        assert_eq!(db.exec(&["GETSET", "k", "b"]), bulk("a"));
        assert_eq!(ttl_ms(&mut db, "k"), None);
        assert_eq!(db.exec(&["GETDEL", "k"]), bulk("b"));
        assert_eq!(db.exec(&["GETDEL", "k"]), Frame::Null);
        assert_eq!(db.exec(&["EXISTS", "k"]), int(0));

        db.exec(&["SET", "g", "v"]);
        assert_eq!(db.exec(&["GETEX", "g", "EX", "10"]), bulk("v"));
        assert_eq!(ttl_ms(&mut db, "g"), Some(10_000));
        assert_eq!(db.exec(&["GETEX", "g", "PX", "500"]), bulk("v"));
        assert_eq!(ttl_ms(&mut db, "g"), Some(500));
        assert_eq!(db.exec(&["GETEX", "g"]), bulk("v"));
        assert_eq!(ttl_ms(&mut db, "g"), Some(500));
        assert_eq!(db.exec(&["GETEX", "g", "PERSIST"]), bulk("v"));
        assert_eq!(ttl_ms(&mut db, "g"), None);
        let at = (db.ks.now_ms + 2000).to_string();
        assert_eq!(db.exec(&["GETEX", "g", "PXAT", &at]), bulk("v"));
        assert_eq!(ttl_ms(&mut db, "g"), Some(2000));
        let past = (db.ks.now_ms / 1000 - 10).to_string();
        assert_eq!(db.exec(&["GETEX", "g", "EXAT", &past]), bulk("v"));
        assert_eq!(db.exec(&["EXISTS", "g"]), int(0));
        assert_eq!(db.exec(&["GETEX", "missing", "EX", "1"]), Frame::Null);
        assert_eq!(db.exec(&["GETEX", "g", "NX"]), err("ERR syntax error"));
        assert_eq!(
            db.exec(&["GETEX", "g", "EX", "1", "PERSIST"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["GETEX", "g", "EX", "0"]),
            err("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(
            db.exec(&["GETEX"]),
            err("ERR wrong number of arguments for 'getex' command")
        );
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["GETSET", "l", "x"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["GETDEL", "l"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["GETEX", "l"]), err(WRONGTYPE));
    }
}
