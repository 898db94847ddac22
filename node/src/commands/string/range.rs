//! Lengths and substrings: APPEND, STRLEN, GETRANGE (SUBSTR) and SETRANGE, within Redis's
//! `proto-max-bulk-len` ([`MAX_STRING_LEN`]).

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::{read_string, MAX_STRING_LEN};
use crate::commands::args::parse_i64;
use crate::commands::{CmdError, Ctx};
use crate::store::Meta;

/// Redis's `checkStringLength`: a string of `size + append` bytes must fit the bulk limit.
fn check_string_length(size: u64, append: u64) -> Result<(), CmdError> {
    match size.checked_add(append) {
        Some(total) if total <= MAX_STRING_LEN => Ok(()),
        _ => Err(CmdError::other(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        )),
    }
}

/// APPEND key value -> the new length; creates the key, keeps its expiry.
pub(super) fn append(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, tail) = (&argv[1], &argv[2]);
    let mut meta = match read_string(ctx, key)? {
        Some(meta) => {
            check_string_length(meta.value.len() as u64, tail.len() as u64)?;
            let mut value = Vec::with_capacity(meta.value.len() + tail.len());
            value.extend_from_slice(&meta.value);
            value.extend_from_slice(tail);
            Meta {
                value: Bytes::from(value),
                ..meta
            }
        }
        None => Meta::string(tail.clone()),
    };
    let len = meta.value.len();
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(len as i64))
}

/// STRLEN key -> the length of the value, 0 when absent.
pub(super) fn strlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let len = read_string(ctx, &argv[1])?.map_or(0, |m| m.value.len());
    Ok(Frame::Integer(len as i64))
}

/// GETRANGE key start end (and SUBSTR) -> the bytes from start to end inclusive; negative
/// indexes count from the end; "" when absent or the range is empty.
pub(super) fn getrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let mut start = parse_i64(&argv[2])?;
    let mut end = parse_i64(&argv[3])?;
    let Some(meta) = read_string(ctx, &argv[1])? else {
        return Ok(Frame::Bulk(Bytes::new()));
    };
    let value = meta.value;
    let len = value.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Ok(Frame::Bulk(Bytes::new()));
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0).min(len - 1);
    if start > end || len == 0 {
        return Ok(Frame::Bulk(Bytes::new()));
    }
    Ok(Frame::Bulk(value.slice(start as usize..=end as usize)))
}

/// SETRANGE key offset value -> the new length; pads with zero bytes, keeps the expiry.
pub(super) fn setrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, patch) = (&argv[1], &argv[3]);
    let offset = parse_i64(&argv[2])?;
    let Ok(offset) = u64::try_from(offset) else {
        return Err(CmdError::other("ERR offset is out of range"));
    };
    let existing = read_string(ctx, key)?;
    if patch.is_empty() {
        return Ok(Frame::Integer(existing.map_or(0, |m| m.value.len() as i64)));
    }
    check_string_length(offset, patch.len() as u64)?;
    // Fits in usize: bounded by MAX_STRING_LEN just above.
    let offset = offset as usize;
    let mut meta = existing.unwrap_or_else(|| Meta::string(Bytes::new()));
    let mut value = meta.value.to_vec();
    let needed = offset + patch.len();
    if value.len() < needed {
        value.resize(needed, 0);
    }
    value[offset..needed].copy_from_slice(patch);
    let len = value.len();
    meta.value = Bytes::from(value);
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(len as i64))
}

#[cfg(test)]
mod tests {
    use redoubt_proto::resp::Frame;

    use crate::commands::string::tests::{db_with_list, ttl_ms, NOT_INT, WRONGTYPE};
    use crate::commands::testutil::{bulk, err, int, TestDb};

    #[test]
    fn append_and_strlen() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["STRLEN", "k"]), int(0));
        assert_eq!(db.exec(&["APPEND", "k", "foo"]), int(3));
        db.exec(&["PEXPIRE", "k", "1000"]);
        assert_eq!(db.exec(&["APPEND", "k", "bar"]), int(6));
        assert_eq!(db.exec(&["GET", "k"]), bulk("foobar"));
        assert_eq!(ttl_ms(&mut db, "k"), Some(1000));
        assert_eq!(db.exec(&["STRLEN", "k"]), int(6));
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["APPEND", "l", "x"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["STRLEN", "l"]), err(WRONGTYPE));
    }

    #[test]
    fn getrange_and_substr() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["GETRANGE", "k", "0", "-1"]), bulk(""));
        db.exec(&["SET", "k", "Hello World"]);
        let cases = [
            ("0", "3", "Hell"),
            ("0", "-1", "Hello World"),
            ("-4", "-1", "orld"),
            ("5", "3", ""),
            ("5", "5000", " World"),
            ("-5000", "10000", "Hello World"),
            ("-1", "-5", ""),
            ("0", "-100", "H"),
            ("-9223372036854775808", "9223372036854775807", "Hello World"),
        ];
        for (s, e, want) in cases {
            assert_eq!(db.exec(&["GETRANGE", "k", s, e]), bulk(want), "{s} {e}");
        }
        assert_eq!(db.exec(&["SUBSTR", "k", "6", "-1"]), bulk("World"));
        db.exec(&["SET", "e", ""]);
        assert_eq!(db.exec(&["GETRANGE", "e", "0", "-1"]), bulk(""));
        assert_eq!(db.exec(&["GETRANGE", "k", "a", "1"]), err(NOT_INT));
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["GETRANGE", "l", "0", "1"]), err(WRONGTYPE));
    }

    #[test]
    fn setrange_pads_and_checks_limits() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SETRANGE", "k", "0", ""]), int(0));
        assert_eq!(db.exec(&["EXISTS", "k"]), int(0));
        assert_eq!(db.exec(&["SETRANGE", "k", "1", "foo"]), int(4));
        assert_eq!(
            db.exec(&["GET", "k"]),
            Frame::Bulk(bytes::Bytes::from_static(b"\0foo"))
        );
        assert_eq!(db.exec(&["SETRANGE", "k", "0", "b"]), int(4));
        assert_eq!(
            db.exec(&["GET", "k"]),
            Frame::Bulk(bytes::Bytes::from_static(b"bfoo"))
        );
        assert_eq!(db.exec(&["SETRANGE", "k", "10", ""]), int(4));
        assert_eq!(
            db.exec(&["SETRANGE", "k", "-1", "x"]),
            err("ERR offset is out of range")
        );
        let too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
        assert_eq!(
            db.exec(&["SETRANGE", "k", "536870908", "world"]),
            err(too_big)
        );
        assert_eq!(
            db.exec(&["SETRANGE", "n", "9223372036854775807", "A"]),
            err(too_big)
        );
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["SETRANGE", "l", "0", "x"]), err(WRONGTYPE));
    }
}
