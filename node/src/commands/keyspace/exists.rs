//! Existence and deletion: DEL, UNLINK, EXISTS, TOUCH and TYPE.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use crate::commands::{CmdError, Ctx};

/// DEL key [key ...] (and UNLINK) -> the number of keys that existed and were removed.
pub(super) fn del(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let mut removed = 0;
    for key in &argv[1..] {
        if ctx.ks.delete(key)? {
            removed += 1;
        }
    }
    Ok(Frame::Integer(removed))
}

/// EXISTS key [key ...] (and TOUCH) -> how many of the keys exist (a repeated key counts
/// each time).
pub(super) fn exists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let mut found = 0;
    for key in &argv[1..] {
        if ctx.ks.lookup(key)?.is_some() {
            found += 1;
        }
    }
    Ok(Frame::Integer(found))
}

/// TYPE key -> +string, +list, +set, +zset, +hash, or +none.
pub(super) fn key_type(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let name = ctx.ks.lookup(&argv[1])?.map_or("none", |m| m.ty.name());
    Ok(Frame::Simple(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::keyspace::tests::add_list;
    use crate::commands::testutil::{err, int, TestDb};

    #[test]
    fn del_unlink_exists_touch() {
        let mut db = TestDb::new();
        db.exec(&["MSET", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(db.exec(&["EXISTS", "a", "a", "x"]), int(2));
        assert_eq!(db.exec(&["TOUCH", "a", "b", "x"]), int(2));
        assert_eq!(db.exec(&["DEL", "a", "x", "a"]), int(1));
        assert_eq!(db.exec(&["UNLINK", "b", "c"]), int(2));
        assert_eq!(db.exec(&["EXISTS", "a", "b", "c"]), int(0));
        db.exec(&["SET", "e", "v", "PX", "10"]);
        db.advance_ms(10);
        assert_eq!(db.exec(&["DEL", "e"]), int(0));
        assert_eq!(db.exec(&["DBSIZE"]), int(0));
        assert_eq!(
            db.exec(&["DEL"]),
            err("ERR wrong number of arguments for 'del' command")
        );
    }

    #[test]
    fn type_names_every_kind() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["TYPE", "nope"]), Frame::Simple("none".into()));
        db.exec(&["SET", "s", "v"]);
        add_list(&mut db, "l");
        assert_eq!(db.exec(&["TYPE", "s"]), Frame::Simple("string".into()));
        assert_eq!(db.exec(&["TYPE", "l"]), Frame::Simple("list".into()));
    }
}
