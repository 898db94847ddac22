//! Reading and writing by index: LLEN, LRANGE, LINDEX and LSET.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::lookup_list;
use super::records::ListRecords;
use crate::commands::args::{clamp_index_range, parse_i64};
use crate::commands::{CmdError, Ctx};

/// LLEN key -> the number of elements (0 if the key does not exist).
pub(super) fn llen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let len = lookup_list(ctx, &argv[1])?.map(|m| m.count).unwrap_or(0);
    Ok(Frame::Integer(len as i64))
}

/// LRANGE key start stop -> the elements from start to stop inclusive (negative: from the
/// end), an empty array when out of range or missing.
pub(super) fn lrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let start = parse_i64(&argv[2])?;
    let end = parse_i64(&argv[3])?;
    let Some(meta) = lookup_list(ctx, &argv[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let Some((from, to)) = clamp_index_range(start, end, meta.count as i64) else {
        return Ok(Frame::Array(Vec::new()));
    };
    let records = ListRecords::of(ctx, &argv[1]);
    let items = records.elements(ctx, &meta, from, to)?;
    Ok(Frame::Array(items.into_iter().map(Frame::Bulk).collect()))
}

/// The index `index` (negative: from the end) of a list of `len` as 0-based, None if outside.
fn normalize_index(index: i64, len: u64) -> Option<i64> {
    let len = len as i64;
    let i = if index < 0 {
        len.checked_add(index)?
    } else {
        index
    };
    (0..len).contains(&i).then_some(i)
}

/// LINDEX key index -> the element at index (negative: from the end), nil if out of range.
pub(super) fn lindex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let Some(meta) = lookup_list(ctx, &argv[1])? else {
        return Ok(Frame::Null);
    };
    let index = parse_i64(&argv[2])?;
    let Some(i) = normalize_index(index, meta.count) else {
        return Ok(Frame::Null);
    };
    let records = ListRecords::of(ctx, &argv[1]);
    Ok(Frame::Bulk(records.get(ctx, meta.head + i)?))
}

/// LSET key index element -> OK; "no such key" for a missing key, "index out of range" outside.
pub(super) fn lset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let Some(mut meta) = lookup_list(ctx, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    let index = parse_i64(&argv[2])?;
    let Some(i) = normalize_index(index, meta.count) else {
        return Err(CmdError::IndexOutOfRange);
    };
    let records = ListRecords::of(ctx, key);
    records.put(ctx, meta.head + i, &argv[3])?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::list::tests::list;
    use crate::commands::testutil::{arr, bulk, err, TestDb};

    #[test]
    fn index_and_set() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "b", "c"]);
        db.exec(&["lpush", "l", "z"]);
        assert_eq!(db.exec(&["lindex", "l", "0"]), bulk("z"));
        assert_eq!(db.exec(&["lindex", "l", "-1"]), bulk("c"));
        assert_eq!(db.exec(&["lindex", "l", "4"]), Frame::Null);
        assert_eq!(db.exec(&["lindex", "l", "-5"]), Frame::Null);
        assert_eq!(db.exec(&["lindex", "nokey", "0"]), Frame::Null);
        assert_eq!(
            db.exec(&["lindex", "l", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(db.exec(&["lset", "l", "1", "A"]), Frame::ok());
        assert_eq!(db.exec(&["lset", "l", "-1", "C"]), Frame::ok());
        assert_eq!(list(&mut db, "l"), arr(&["z", "A", "b", "C"]));
        assert_eq!(
            db.exec(&["lset", "l", "4", "x"]),
            err("ERR index out of range")
        );
        assert_eq!(
            db.exec(&["lset", "nokey", "0", "x"]),
            err("ERR no such key")
        );
    }
}
