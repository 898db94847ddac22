//! Several keys at once: MGET, MSET and MSETNX.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use crate::commands::{CmdError, Ctx};
use crate::store::{KeyType, Meta};

/// MGET key [key ...] -> one bulk or nil per key (nil also for keys of another type).
pub(super) fn mget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let mut out = Vec::with_capacity(argv.len() - 1);
    for key in &argv[1..] {
        out.push(match ctx.ks.lookup(key)? {
            Some(meta) if meta.ty == KeyType::String => Frame::Bulk(meta.value),
            _ => Frame::Null,
        });
    }
    Ok(Frame::Array(out))
}

/// The (key, value) pairs of MSET/MSETNX; an odd count is Redis's arity error.
fn key_value_pairs<'a>(
    argv: &'a [Bytes],
    cmd: &str,
) -> Result<Vec<(&'a Bytes, &'a Bytes)>, CmdError> {
    if argv.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(cmd.to_string()));
    }
    Ok(argv[1..].chunks_exact(2).map(|p| (&p[0], &p[1])).collect())
}

/// MSET key value [key value ...] -> OK; every key loses its expiry.
pub(super) fn mset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    for (key, value) in key_value_pairs(argv, "mset")? {
        ctx.ks.overwrite(key, &mut Meta::string(value.clone()))?;
    }
    Ok(Frame::ok())
}

/// MSETNX key value [key value ...] -> 1 if all keys were set, 0 (nothing set) if any existed.
pub(super) fn msetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let pairs = key_value_pairs(argv, "msetnx")?;
    for (key, _) in &pairs {
        if ctx.ks.lookup(key)?.is_some() {
            return Ok(Frame::Integer(0));
        }
    }
    for (key, value) in pairs {
        ctx.ks.overwrite(key, &mut Meta::string(value.clone()))?;
    }
    Ok(Frame::Integer(1))
}

#[cfg(test)]
mod tests {
    use redoubt_proto::resp::Frame;

    use crate::commands::string::tests::{db_with_list, ttl_ms};
    use crate::commands::testutil::{arr, bulk, err, int};

    #[test]
    fn mget_mset_msetnx() {
        let mut db = db_with_list("l");
        assert_eq!(
            db.exec(&["MSET", "a", "1", "b", "2", "a", "3"]),
            Frame::ok()
        );
        assert_eq!(
            db.exec(&["MGET", "a", "b", "c", "l"]),
            Frame::Array(vec![bulk("3"), bulk("2"), Frame::Null, Frame::Null])
        );
        assert_eq!(
            db.exec(&["MSET", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(
            db.exec(&["MSETNX", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'msetnx' command")
        );
        assert_eq!(db.exec(&["MSETNX", "x", "1", "a", "2"]), int(0));
        assert_eq!(db.exec(&["EXISTS", "x"]), int(0));
        assert_eq!(db.exec(&["MSETNX", "x", "1", "y", "2", "x", "3"]), int(1));
        assert_eq!(db.exec(&["MGET", "x", "y"]), arr(&["3", "2"]));
        db.exec(&["EXPIRE", "x", "100"]);
        db.exec(&["MSET", "x", "9"]);
        assert_eq!(ttl_ms(&mut db, "x"), None);
    }
}
