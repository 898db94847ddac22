//! Generic keyspace commands: existence, deletion, renaming, copying, expiry, KEYS/SCAN,
//! RANDOMKEY and the whole-database ones (DBSIZE, FLUSHDB, FLUSHALL).
//!
//! They work on any type through [`Keyspace`](crate::store::Keyspace)'s type-blind operations
//! (`lookup`, `delete`, `copy_key`, `set_expire`, `scan_hashed`); they never read or write
//! member records themselves.
//!
//! This file holds the command table; the handlers are grouped by concern: `exists.rs`
//! (DEL, UNLINK, EXISTS, TOUCH, TYPE), `rename.rs` (RENAME, RENAMENX, COPY, MOVE), `scan.rs`
//! (KEYS, SCAN, RANDOMKEY), `db.rs` (DBSIZE, FLUSHDB, FLUSHALL, SWAPDB) and `expire.rs`
//! (the EXPIRE family, TTL reports, PERSIST).

mod db;
mod exists;
mod expire;
mod rename;
mod scan;

use self::db::{dbsize, flushall, flushdb, swapdb};
use self::exists::{del, exists, key_type};
use self::expire::{
    expire, expireat, expiretime, persist, pexpire, pexpireat, pexpiretime, pttl, ttl,
};
use self::rename::{copy, move_key, rename, renamenx};
use self::scan::{keys, randomkey, scan};
use super::flag::*;
use super::key_flag::*;
use super::{CommandSpec, Exec, KeySpec};

pub use super::args::parse_scan_cursor;

const KEYSPACE: &[&str] = &["keyspace"];
const KEYSPACE_DANGEROUS: &[&str] = &["keyspace", "dangerous"];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, Exec::Write(del))
        .flags(WRITE)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RM | DELETE)])
        .docs("generic", "Deletes one or more keys.", "1.0.0"),
    CommandSpec::new("unlink", -2, Exec::Write(del))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RM | DELETE)])
        .docs(
            "generic",
            "Asynchronously deletes one or more keys.",
            "4.0.0",
        ),
    CommandSpec::new("exists", -2, Exec::Read(exists))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RO)])
        .docs(
            "generic",
            "Determines whether one or more keys exist.",
            "1.0.0",
        ),
    CommandSpec::new("touch", -2, Exec::Read(exists))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(RO)])
        .docs(
            "generic",
            "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
            "3.2.1",
        ),
    CommandSpec::new("type", 2, Exec::Read(key_type))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs(
            "generic",
            "Determines the type of value stored at a key.",
            "1.0.0",
        ),
    CommandSpec::new("rename", 3, Exec::Write(rename))
        .flags(WRITE)
        .acl(KEYSPACE)
        .keys(&[
            KeySpec::index(1).flags(RW | ACCESS | DELETE),
            KeySpec::index(2).flags(OW | UPDATE),
        ])
        .docs(
            "generic",
            "Renames a key and overwrites the destination.",
            "1.0.0",
        ),
    CommandSpec::new("renamenx", 3, Exec::Write(renamenx))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[
            KeySpec::index(1).flags(RW | ACCESS | DELETE),
            KeySpec::index(2).flags(OW | INSERT),
        ])
        .docs(
            "generic",
            "Renames a key only when the target key name doesn't exist.",
            "1.0.0",
        ),
    CommandSpec::new("copy", -3, Exec::Write(copy))
        .flags(WRITE | DENYOOM)
        .acl(KEYSPACE)
        .keys(&[
            KeySpec::index(1).flags(RO | ACCESS),
            KeySpec::index(2).flags(OW | UPDATE),
        ])
        .docs(
            "generic",
            "Copies the value of a key to a new key.",
            "6.2.0",
        ),
    CommandSpec::new("move", 3, Exec::Write(move_key))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs("generic", "Moves a key to another database.", "1.0.0"),
    CommandSpec::new("keys", 2, Exec::Read(keys))
        .flags(READONLY)
        .acl(KEYSPACE_DANGEROUS)
        .docs(
            "generic",
            "Returns all key names that match a pattern.",
            "1.0.0",
        ),
    CommandSpec::new("scan", -2, Exec::Read(scan))
        .flags(READONLY)
        .acl(KEYSPACE)
        .docs(
            "generic",
            "Iterates over the key names in the database.",
            "2.8.0",
        ),
    CommandSpec::new("randomkey", 1, Exec::Read(randomkey))
        .flags(READONLY)
        .acl(KEYSPACE)
        .docs(
            "generic",
            "Returns a random key name from the database.",
            "1.0.0",
        ),
    CommandSpec::new("dbsize", 1, Exec::Read(dbsize))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .docs(
            "server",
            "Returns the number of keys in the database.",
            "1.0.0",
        ),
    CommandSpec::new("flushdb", -1, Exec::Write(flushdb))
        .flags(WRITE)
        .acl(KEYSPACE_DANGEROUS)
        .docs(
            "server",
            "Remove all keys from the current database.",
            "1.0.0",
        ),
    CommandSpec::new("flushall", -1, Exec::Write(flushall))
        .flags(WRITE)
        .acl(KEYSPACE_DANGEROUS)
        .docs("server", "Removes all keys from all databases.", "1.0.0"),
    CommandSpec::new("swapdb", 3, Exec::Write(swapdb))
        .flags(WRITE | FAST)
        .acl(KEYSPACE_DANGEROUS)
        .docs("server", "Swaps two Redis databases.", "4.0.0"),
    CommandSpec::new("expire", -3, Exec::Write(expire))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "generic",
            "Sets the expiration time of a key in seconds.",
            "1.0.0",
        ),
    CommandSpec::new("pexpire", -3, Exec::Write(pexpire))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "generic",
            "Sets the expiration time of a key in milliseconds.",
            "2.6.0",
        ),
    CommandSpec::new("expireat", -3, Exec::Write(expireat))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "generic",
            "Sets the expiration time of a key to a Unix timestamp.",
            "1.2.0",
        ),
    CommandSpec::new("pexpireat", -3, Exec::Write(pexpireat))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "generic",
            "Sets the expiration time of a key to a Unix milliseconds timestamp.",
            "2.6.0",
        ),
    CommandSpec::new("ttl", 2, Exec::Read(ttl))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "generic",
            "Returns the expiration time in seconds of a key.",
            "1.0.0",
        ),
    CommandSpec::new("pttl", 2, Exec::Read(pttl))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "generic",
            "Returns the expiration time in milliseconds of a key.",
            "2.6.0",
        ),
    CommandSpec::new("expiretime", 2, Exec::Read(expiretime))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "generic",
            "Returns the expiration time of a key as a Unix timestamp.",
            "7.0.0",
        ),
    CommandSpec::new("pexpiretime", 2, Exec::Read(pexpiretime))
        .flags(READONLY | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "generic",
            "Returns the expiration time of a key as a Unix milliseconds timestamp.",
            "7.0.0",
        ),
    CommandSpec::new("persist", 2, Exec::Write(persist))
        .flags(WRITE | FAST)
        .acl(KEYSPACE)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs("generic", "Removes the expiration time of a key.", "2.2.0"),
];

#[cfg(test)]
mod tests {
    use crate::commands::testutil::TestDb;
    use crate::store::{KeyType, Meta};

    pub(super) fn add_list(db: &mut TestDb, key: &str) {
        let mut meta = Meta::new(KeyType::List);
        meta.count = 1;
        meta.tail = 1;
        db.ks
            .save_meta(key.as_bytes(), &mut meta)
            .expect("save list");
    }

    pub(super) fn select(db: &mut TestDb, n: u8) {
        db.ks.db = n;
    }
}
