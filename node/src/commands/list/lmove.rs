//! Moving an element between lists (or rotating one): LMOVE and RPOPLPUSH.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::lookup_list;
use super::records::{End, ListRecords};
use crate::commands::{CmdError, Ctx};
use crate::store::{KeyType, Meta};

/// Pops one element from `src` at `from` and pushes it to `dst` at `to`; nil if `src` is
/// missing. The destination's type is checked before anything moves.
fn move_generic(
    ctx: &mut Ctx<'_>,
    src: &Bytes,
    dst: &Bytes,
    from: End,
    to: End,
) -> Result<Frame, CmdError> {
    let Some(mut src_meta) = lookup_list(ctx, src)? else {
        return Ok(Frame::Null);
    };
    lookup_list(ctx, dst)?;
    let src_records = ListRecords::of(ctx, src);
    let Some(value) = src_records
        .pop(ctx, &mut src_meta, 1, from)?
        .into_iter()
        .next()
    else {
        return Ok(Frame::Null);
    };
    ctx.ks.save_meta(src, &mut src_meta)?;
    // Looked up again: with src == dst the pop above changed it.
    let mut dst_meta = lookup_list(ctx, dst)?.unwrap_or_else(|| Meta::new(KeyType::List));
    let dst_records = ListRecords::of(ctx, dst);
    dst_records.push(ctx, &mut dst_meta, std::slice::from_ref(&value), to)?;
    ctx.ks.save_meta(dst, &mut dst_meta)?;
    Ok(Frame::Bulk(value))
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT -> the moved element, nil if source is empty.
pub(super) fn lmove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let from = End::parse(&argv[3])?;
    let to = End::parse(&argv[4])?;
    move_generic(ctx, &argv[1], &argv[2], from, to)
}

/// RPOPLPUSH source destination -> the element moved from source's tail to destination's head.
pub(super) fn rpoplpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    move_generic(ctx, &argv[1], &argv[2], End::Right, End::Left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::list::tests::{assert_contiguous, list};
    use crate::commands::testutil::{arr, bulk, err, TestDb};

    #[test]
    fn lmove_between_lists_and_rotation() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "src", "a", "b", "c"]);
        assert_eq!(
            db.exec(&["lmove", "src", "dst", "LEFT", "RIGHT"]),
            bulk("a")
        );
        assert_eq!(
            db.exec(&["lmove", "src", "dst", "right", "left"]),
            bulk("c")
        );
        assert_eq!(list(&mut db, "dst"), arr(&["c", "a"]));
        assert_eq!(list(&mut db, "src"), arr(&["b"]));
        assert_eq!(db.exec(&["rpoplpush", "src", "dst"]), bulk("b"));
        assert!(db.ks.lookup(b"src").expect("lookup").is_none());
        assert_eq!(db.exec(&["rpoplpush", "src", "dst"]), Frame::Null);
        assert_eq!(list(&mut db, "dst"), arr(&["b", "c", "a"]));
        assert_eq!(db.exec(&["rpoplpush", "dst", "dst"]), bulk("a"));
        assert_eq!(list(&mut db, "dst"), arr(&["a", "b", "c"]));
        assert_eq!(
            db.exec(&["lmove", "dst", "dst", "LEFT", "RIGHT"]),
            bulk("a")
        );
        assert_eq!(list(&mut db, "dst"), arr(&["b", "c", "a"]));
        db.exec(&["rpush", "one", "x"]);
        assert_eq!(db.exec(&["rpoplpush", "one", "one"]), bulk("x"));
        assert_eq!(list(&mut db, "one"), arr(&["x"]));
        assert_eq!(
            db.exec(&["lmove", "dst", "x", "UP", "LEFT"]),
            err("ERR syntax error")
        );
        assert_contiguous(&mut db, "dst");
    }
}
