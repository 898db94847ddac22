//! String commands: GET, SET and friends (counters, ranges, multi-key get/set).
//!
//! Values are the `value` of a string [`Meta`]; every change goes through `save_meta` or
//! `overwrite`, so expiry index, counters and WATCH versions stay right. INCRBYFLOAT computes
//! in an emulated 80-bit `long double` ([`long_double`](super::long_double)) so its digits are
//! Redis's own.
//!
//! This file holds the command table (with SET's key-flag function) and the string lookup
//! every handler shares; the handlers are grouped by concern: `options.rs` (the SET/GETEX
//! options and expiry arithmetic), `set.rs` (SET, SETNX, SETEX, PSETEX), `get.rs` (GET,
//! GETSET, GETDEL, GETEX), `multi.rs` (MGET, MSET, MSETNX), `range.rs` (APPEND, STRLEN,
//! GETRANGE, SETRANGE) and `counter.rs` (INCR and friends, INCRBYFLOAT).

mod counter;
mod get;
mod multi;
mod options;
mod range;
mod set;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use self::counter::{decr, decrby, incr, incrby, incrbyfloat};
use self::get::{get, getdel, getex, getset};
use self::multi::{mget, mset, msetnx};
use self::range::{append, getrange, setrange, strlen};
use self::set::{psetex, set, setex, setnx};
use super::args::is_kw;
use super::flag::*;
use super::key_flag::*;
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec};
use crate::store::{KeyType, Meta};

pub use options::absolute_expiry;

/// Redis's default `proto-max-bulk-len`: the longest string SETRANGE/APPEND may build.
pub const MAX_STRING_LEN: u64 = 512 * 1024 * 1024;

const STRING: &[&str] = &["string"];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, Exec::Read(get))
        .flags(READONLY | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs("string", "Returns the string value of a key.", "1.0.0"),
    CommandSpec::new("set", -3, Exec::Write(set))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1)
            .flags(RW | ACCESS | UPDATE | VARIABLE_FLAGS)
            .notes("RW and ACCESS due to the optional `GET` argument")
            .variable(set_key_flags)])
        .docs(
            "string",
            "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("setnx", 3, Exec::Write(setnx))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(OW | INSERT)])
        .docs(
            "string",
            "Set the string value of a key only when the key doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("setex", 4, Exec::Write(setex))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(OW | UPDATE)])
        .docs(
            "string",
            "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
            "2.0.0",
        ),
    CommandSpec::new("psetex", 4, Exec::Write(psetex))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(OW | UPDATE)])
        .docs(
            "string",
            "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
            "2.6.0",
        ),
    CommandSpec::new("getset", 3, Exec::Write(getset))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Returns the previous string value of a key after setting it to a new value.",
            "1.0.0",
        ),
    CommandSpec::new("getdel", 2, Exec::Write(getdel))
        .flags(WRITE | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "string",
            "Returns the string value of a key after deleting the key.",
            "6.2.0",
        ),
    CommandSpec::new("getex", -2, Exec::Write(getex))
        .flags(WRITE | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1)
            .flags(RW | ACCESS | UPDATE)
            .notes("RW and UPDATE because it changes the TTL")])
        .docs(
            "string",
            "Returns the string value of a key after setting its expiration time.",
            "6.2.0",
        ),
    CommandSpec::new("mget", -2, Exec::Read(mget))
        .flags(READONLY | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RO | ACCESS)])
        .docs(
            "string",
            "Atomically returns the string values of one or more keys.",
            "1.0.0",
        ),
    CommandSpec::new("mset", -3, Exec::Write(mset))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1).range(-1, 2, 0).flags(OW | UPDATE)])
        .docs(
            "string",
            "Atomically creates or modifies the string values of one or more keys.",
            "1.0.1",
        ),
    CommandSpec::new("msetnx", -3, Exec::Write(msetnx))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1).range(-1, 2, 0).flags(OW | INSERT)])
        .docs(
            "string",
            "Atomically modifies the string values of one or more keys only when all keys don't exist.",
            "1.0.1",
        ),
    CommandSpec::new("append", 3, Exec::Write(append))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | INSERT)])
        .docs(
            "string",
            "Appends a string to the value of a key. Creates the key if it doesn't exist.",
            "2.0.0",
        ),
    CommandSpec::new("strlen", 2, Exec::Read(strlen))
        .flags(READONLY | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs("string", "Returns the length of a string value.", "2.2.0"),
    CommandSpec::new("getrange", 4, Exec::Read(getrange))
        .flags(READONLY)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "string",
            "Returns a substring of the string stored at a key.",
            "2.4.0",
        ),
    CommandSpec::new("substr", 4, Exec::Read(getrange))
        .flags(READONLY)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "string",
            "Returns a substring from a string value.",
            "1.0.0",
        ),
    CommandSpec::new("setrange", 4, Exec::Write(setrange))
        .flags(WRITE | DENYOOM)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "string",
            "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
            "2.2.0",
        ),
    CommandSpec::new("incr", 2, Exec::Write(incr))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("decr", 2, Exec::Write(decr))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("incrby", 3, Exec::Write(incrby))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("decrby", 3, Exec::Write(decrby))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("incrbyfloat", 3, Exec::Write(incrbyfloat))
        .flags(WRITE | DENYOOM | FAST)
        .acl(STRING)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "string",
            "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
            "2.6.0",
        ),
];

/// SET's key flags for one line (Redis's `setGetKeys`): with GET the old value is read and
/// replaced (RW, ACCESS, UPDATE), without it only overwritten (OW, UPDATE).
fn set_key_flags(argv: &[Bytes]) -> u16 {
    if argv.iter().skip(3).any(|a| is_kw(a, "GET")) {
        RW | ACCESS | UPDATE
    } else {
        OW | UPDATE
    }
}

/// The live string value of `key`, WRONGTYPE for another type.
pub fn read_string(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Meta>, CmdError> {
    Ok(ctx.ks.lookup_typed(key, KeyType::String)?)
}

fn bulk_or_nil(meta: Option<Meta>) -> Frame {
    match meta {
        Some(meta) => Frame::Bulk(meta.value),
        None => Frame::Null,
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testutil::TestDb;

    pub(super) const WRONGTYPE: &str =
        "WRONGTYPE Operation against a key holding the wrong kind of value";

    pub(super) const NOT_INT: &str = "ERR value is not an integer or out of range";

    pub(super) fn db_with_list(key: &str) -> TestDb {
        let mut db = TestDb::new();
        let mut meta = crate::store::Meta::new(crate::store::KeyType::List);
        meta.count = 1;
        meta.tail = 1;
        db.ks
            .save_meta(key.as_bytes(), &mut meta)
            .expect("save list");
        db
    }

    pub(super) fn ttl_ms(db: &mut TestDb, key: &str) -> Option<u64> {
        let now = db.ks.now_ms;
        db.ks
            .lookup(key.as_bytes())
            .expect("lookup")
            .and_then(|m| m.expire_at)
            .map(|at| at - now)
    }
}
