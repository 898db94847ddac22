//! List commands: LPUSH/RPUSH and friends, LPOP/RPOP, LRANGE, LINDEX, LSET, LREM, LTRIM,
//! LINSERT, LPOS, LMOVE and RPOPLPUSH.
//!
//! A list is its meta record (count, `head` = sequence number of the first element, `tail` =
//! one past the last) plus one member record per element keyed by its sequence number, so
//! index `i` is sequence `head + i` (LINDEX/LSET are one lookup; pushes and pops at either end
//! touch one record). Sequence numbers always stay contiguous from `head` to `tail - 1`:
//! removing or inserting in the middle renumbers the cheaper side. This module never touches
//! another type's records.
//!
//! This file holds the command table and the helpers every handler shares; the record layout
//! and the sequence-number arithmetic are `records.rs`, and the handlers are grouped by
//! concern: `push_pop.rs` (both ends), `index.rs` (LLEN, LRANGE, LINDEX, LSET), `edit.rs`
//! (LREM, LTRIM, LINSERT: changes in the middle), `lpos.rs` and `lmove.rs` (LMOVE,
//! RPOPLPUSH).

mod edit;
mod index;
mod lmove;
mod lpos;
mod push_pop;
mod records;

use self::edit::{linsert, lrem, ltrim};
use self::index::{lindex, llen, lrange, lset};
use self::lmove::{lmove, rpoplpush};
use self::lpos::lpos;
use self::push_pop::{lpop, lpush, lpushx, rpop, rpush, rpushx};
use super::flag::*;
use super::key_flag::*;
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec};
use crate::store::{KeyType, Meta};

const LIST: &[&str] = &["list"];
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, Exec::Write(lpush))
        .flags(WRITE | DENYOOM | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "list",
            "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("rpush", -3, Exec::Write(rpush))
        .flags(WRITE | DENYOOM | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "list",
            "Appends one or more elements to a list. Creates the key if it doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("lpushx", -3, Exec::Write(lpushx))
        .flags(WRITE | DENYOOM | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "list",
            "Prepends one or more elements to a list only when the list exists.",
            "2.2.0",
        ),
    CommandSpec::new("rpushx", -3, Exec::Write(rpushx))
        .flags(WRITE | DENYOOM | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "list",
            "Appends an element to a list only when the list exists.",
            "2.2.0",
        ),
    CommandSpec::new("lpop", -2, Exec::Write(lpop))
        .flags(WRITE | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "list",
            "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
            "1.0.0",
        ),
    CommandSpec::new("rpop", -2, Exec::Write(rpop))
        .flags(WRITE | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "list",
            "Returns and removes the last elements of the list. Deletes the list if the last element was popped.",
            "1.0.0",
        ),
    CommandSpec::new("llen", 2, Exec::Read(llen))
        .flags(READONLY | FAST)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs("list", "Returns the length of a list.", "1.0.0"),
    CommandSpec::new("lrange", 4, Exec::Read(lrange))
        .flags(READONLY)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs("list", "Returns a range of elements from a list.", "1.0.0"),
    CommandSpec::new("lindex", 3, Exec::Read(lindex))
        .flags(READONLY)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "list",
            "Returns an element from a list by its index.",
            "1.0.0",
        ),
    CommandSpec::new("lset", 4, Exec::Write(lset))
        .flags(WRITE | DENYOOM)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "list",
            "Sets the value of an element in a list by its index.",
            "1.0.0",
        ),
    CommandSpec::new("lrem", 4, Exec::Write(lrem))
        .flags(WRITE)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "list",
            "Removes elements from a list. Deletes the list if the last element was removed.",
            "1.0.0",
        ),
    CommandSpec::new("ltrim", 4, Exec::Write(ltrim))
        .flags(WRITE)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "list",
            "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
            "1.0.0",
        ),
    CommandSpec::new("linsert", 5, Exec::Write(linsert))
        .flags(WRITE | DENYOOM)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "list",
            "Inserts an element before or after another element in a list.",
            "2.2.0",
        ),
    CommandSpec::new("lpos", -3, Exec::Read(lpos))
        .flags(READONLY)
        .acl(LIST)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "list",
            "Returns the index of matching elements in a list.",
            "6.0.6",
        ),
    CommandSpec::new("lmove", 5, Exec::Write(lmove))
        .flags(WRITE | DENYOOM)
        .acl(LIST)
        .keys(&[
            KeySpec::index(1).flags(RW | ACCESS | DELETE),
            KeySpec::index(2).flags(RW | INSERT),
        ])
        .docs(
            "list",
            "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
            "6.2.0",
        ),
    CommandSpec::new("rpoplpush", 3, Exec::Write(rpoplpush))
        .flags(WRITE | DENYOOM)
        .acl(LIST)
        .keys(&[
            KeySpec::index(1).flags(RW | ACCESS | DELETE),
            KeySpec::index(2).flags(RW | INSERT),
        ])
        .docs(
            "list",
            "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
            "1.2.0",
        ),
];

fn lookup_list(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Meta>, CmdError> {
    Ok(ctx.ks.lookup_typed(key, KeyType::List)?)
}

/// A non-negative integer argument; non-integers and negatives both answer `msg` (Redis's
/// getPositiveLongFromObjectOrReply with a message).
fn parse_positive(arg: &[u8], msg: &str) -> Result<u64, CmdError> {
    match super::args::parse_i64_opt(arg) {
        Some(v) if v >= 0 => Ok(v as u64),
        _ => Err(CmdError::other(msg)),
    }
}

#[cfg(test)]
mod tests {
    use redoubt_proto::resp::Frame;

    use crate::commands::testutil::{arr, err, int, TestDb};
    use crate::store::encoding::{encode_i64_ordered, member_prefix};

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    pub(super) fn list(db: &mut TestDb, key: &str) -> Frame {
        db.exec(&["lrange", key, "0", "-1"])
    }

    /// Checks the layout invariant: count == tail - head and every seq in between present.
    pub(super) fn assert_contiguous(db: &mut TestDb, key: &str) {
        let meta = db.ks.lookup(key.as_bytes()).expect("lookup");
        let Some(meta) = meta else { return };
        assert_eq!(meta.count as i64, meta.tail - meta.head);
        let prefix = member_prefix(0, key.as_bytes());
        let n = db.ks.txn.prefix(&prefix, false).count();
        assert_eq!(n as u64, meta.count);
        for seq in meta.head..meta.tail {
            let mut k = prefix.clone();
            k.extend_from_slice(&encode_i64_ordered(seq));
            assert!(
                db.ks.txn.get(&k).expect("get").is_some(),
                "seq {seq} missing"
            );
        }
    }

    #[test]
    fn wrong_type_everywhere() {
        let mut db = TestDb::new();
        db.exec(&["set", "s", "v"]);
        db.exec(&["rpush", "l", "a"]);
        for argv in [
            vec!["lpush", "s", "a"],
            vec!["rpushx", "s", "a"],
            vec!["lpop", "s"],
            vec!["llen", "s"],
            vec!["lrange", "s", "0", "1"],
            vec!["lindex", "s", "0"],
            vec!["lset", "s", "0", "a"],
            vec!["lrem", "s", "0", "a"],
            vec!["ltrim", "s", "0", "1"],
            vec!["linsert", "s", "before", "a", "b"],
            vec!["lpos", "s", "a"],
            vec!["lmove", "s", "l", "left", "left"],
            vec!["rpoplpush", "l", "s"],
        ] {
            assert_eq!(db.exec(&argv), err(WRONGTYPE), "{argv:?}");
        }
        // The source was not popped when the destination had the wrong type.
        assert_eq!(list(&mut db, "l"), arr(&["a"]));
        // A missing source answers nil before the destination's type is looked at.
        assert_eq!(db.exec(&["rpoplpush", "nokey", "s"]), Frame::Null);
    }

    #[test]
    fn expired_list_is_gone() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "b"]);
        let mut meta = db.ks.lookup(b"l").expect("lookup").expect("live");
        meta.expire_at = Some(db.ks.now_ms + 100);
        db.ks.save_meta(b"l", &mut meta).expect("save");
        assert_eq!(db.exec(&["llen", "l"]), int(2));
        db.advance_ms(100);
        assert_eq!(db.exec(&["llen", "l"]), int(0));
        assert_eq!(db.exec(&["lrange", "l", "0", "-1"]), arr(&[]));
        assert_eq!(db.exec(&["rpush", "l", "c"]), int(1));
        assert_eq!(list(&mut db, "l"), arr(&["c"]));
        assert_contiguous(&mut db, "l");
    }
}
