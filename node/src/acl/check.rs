//! Permission checks: may a user run a command line (command, keys, channels)?
//!
//! Redis 7.2's `ACLCheckAllUserCommandPerm`: each selector (root first) checks the command,
//! then every key the command touches against the patterns granting the access it needs,
//! then the Pub/Sub channels; the first selector that allows the line wins. Which keys a
//! command touches, and how, follows Redis's key specs (`src/commands/*.json`), reduced to
//! the read/write flags ACL cares about.

use bytes::Bytes;

use super::User;
use crate::commands::{flag, CommandSpec};

/// Why a command line is refused (Redis's ACL_DENIED_*), with the argument index at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    Command,
    Key { index: usize },
    Channel { index: usize },
}

impl Denied {
    /// The text after "-NOPERM " (and DRYRUN's reply): "User alice has no permissions to run
    /// the 'set' command", "No permissions to access a key", "No permissions to access a channel".
    pub fn message(&self, user: &str, spec: &CommandSpec) -> String {
        match self {
            Denied::Command => format!(
                "User {user} has no permissions to run the '{}' command",
                spec.full_name()
            ),
            Denied::Key { .. } => "No permissions to access a key".to_string(),
            Denied::Channel { .. } => "No permissions to access a channel".to_string(),
        }
    }

    /// ACL LOG `reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            Denied::Command => "command",
            Denied::Key { .. } => "key",
            Denied::Channel { .. } => "channel",
        }
    }

    /// Redis's ACL_DENIED_* value (the larger, the more relevant) and the argument index.
    fn rank(&self) -> (u8, usize) {
        match *self {
            Denied::Command => (1, 0),
            Denied::Key { index } => (2, index),
            Denied::Channel { index } => (4, index),
        }
    }
}

/// How a command uses a key (Redis key-spec flags reduced to what ACL needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Reads the key's value (needs %R or ~).
    pub read: bool,
    /// Changes the key (needs %W or ~).
    pub write: bool,
}

/// Key spec `ACCESS` (the value is returned or used): %R.
const R: Access = Access {
    read: true,
    write: false,
};
/// `INSERT`, `DELETE` or `UPDATE` without `ACCESS` (overwrite, add, remove): %W.
const W: Access = Access {
    read: false,
    write: true,
};
/// Read-modify-write (`ACCESS` and a change): both.
const RW: Access = Access {
    read: true,
    write: true,
};
/// `RO` without `ACCESS` (existence, type, cardinality): any pattern matching the key.
const NONE: Access = Access {
    read: false,
    write: false,
};

/// Read-only commands whose key specs lack `ACCESS`: they only look at existence, type,
/// length or TTL metadata... as Redis 7.2 flags them (acl-v2.tcl: "Existence test commands
/// are not marked as access", "Cardinality commands require some type of permission").
const NO_ACCESS: &[&str] = &[
    "exists",
    "touch",
    "type",
    "strlen",
    "hexists",
    "hlen",
    "hstrlen",
    "llen",
    "scard",
    "sismember",
    "zcard",
    "xlen",
    "watch",
];

/// Write commands whose key specs lack `ACCESS`: they overwrite, insert or delete without
/// returning or using the old value (`OW`/`RW`/`RM` with `UPDATE`/`INSERT`/`DELETE`).
const WRITE_ONLY: &[&str] = &[
    // strings
    "setnx",
    "setex",
    "psetex",
    "mset",
    "msetnx",
    "append",
    "setrange",
    // keyspace
    "del",
    "unlink",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "persist",
    // hashes
    "hset",
    "hsetnx",
    "hmset",
    "hdel",
    // lists
    "lpush",
    "rpush",
    "lpushx",
    "rpushx",
    "linsert",
    "lset",
    "lrem",
    "ltrim",
    // sets
    "sadd",
    "srem",
    // sorted sets
    "zadd",
    "zrem",
    "zremrangebyscore",
    "zremrangebyrank",
    "zremrangebylex",
];

/// The access a command needs on each of its keys when all are used alike: the lists above,
/// else `R` for read-only commands and read-modify-write for the rest (the safe default).
fn uniform_access(spec: &CommandSpec) -> Access {
    if NO_ACCESS.contains(&spec.name) {
        NONE
    } else if WRITE_ONLY.contains(&spec.name) {
        W
    } else if spec.flags & flag::READONLY != 0 {
        R
    } else {
        RW
    }
}

/// The keys of `argv` (argv[0] is the command, subcommand specs get the whole line) with how
/// the command uses each, from the table's key positions.
pub fn key_access(spec: &CommandSpec, argv: &[Bytes]) -> Vec<(usize, Access)> {
    let positions = || spec.keys.positions(argv.len());
    match spec.name {
        // SET is RW+ACCESS with GET, an overwrite without (Redis's setGetKeys).
        "set" => {
            let get = argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
            positions()
                .into_iter()
                .map(|i| (i, if get { RW } else { W }))
                .collect()
        }
        // Source then destination.
        "rename" | "renamenx" | "lmove" | "rpoplpush" | "smove" | "blmove" | "brpoplpush" => {
            by_position(positions(), |i| if i == 1 { RW } else { W })
        }
        "copy" => by_position(positions(), |i| if i == 1 { R } else { W }),
        // Destination first, then the sources.
        "sinterstore" | "sunionstore" | "sdiffstore" | "zrangestore" => {
            by_position(positions(), |i| if i == 1 { W } else { R })
        }
        // numkeys key [key ...]
        "sintercard" | "zintercard" | "zunion" | "zinter" | "zdiff" => numkeys(argv, 1, R),
        "lmpop" | "zmpop" => numkeys(argv, 1, RW),
        "blmpop" | "bzmpop" => numkeys(argv, 2, RW),
        "zunionstore" | "zinterstore" | "zdiffstore" => {
            let mut keys = Vec::new();
            if argv.len() > 1 {
                keys.push((1, W));
            }
            keys.extend(numkeys(argv, 2, R));
            keys
        }
        _ if spec.flags & flag::MOVABLE_KEYS != 0 => {
            // A command with keys the table cannot place and this function does not know:
            // fail closed, every argument counts as a key.
            let access = uniform_access(spec);
            (1..argv.len()).map(|i| (i, access)).collect()
        }
        _ => {
            let access = uniform_access(spec);
            positions().into_iter().map(|i| (i, access)).collect()
        }
    }
}

fn by_position(positions: Vec<usize>, access: impl Fn(usize) -> Access) -> Vec<(usize, Access)> {
    positions.into_iter().map(|i| (i, access(i))).collect()
}

/// Keys after a `numkeys` argument at `at`. An unparsable or non-positive count gives no keys
/// (the command refuses it anyway, as Redis's key-spec extraction does); a count larger than
/// the arguments left gives all of them (Redis gives none there and lets the command fail:
/// here every argument that could be a key is checked).
fn numkeys(argv: &[Bytes], at: usize, access: Access) -> Vec<(usize, Access)> {
    let Some(n) = argv
        .get(at)
        .and_then(|a| crate::commands::args::parse_i64_opt(a))
        .filter(|n| *n > 0)
    else {
        return Vec::new();
    };
    let first = at + 1;
    let end = usize::try_from(n)
        .unwrap_or(usize::MAX)
        .saturating_add(first)
        .min(argv.len());
    (first..end).map(|i| (i, access)).collect()
}

/// The channel arguments of a Pub/Sub command and whether each is a pattern (PSUBSCRIBE):
/// PUBLISH / SPUBLISH (argument 1), SUBSCRIBE / SSUBSCRIBE / PSUBSCRIBE (all). The
/// UNSUBSCRIBE family is not checked, as in Redis.
fn channel_args(spec: &CommandSpec, argv: &[Bytes]) -> Vec<(usize, bool)> {
    match spec.name {
        "publish" | "spublish" => (argv.len() > 1).then_some((1, false)).into_iter().collect(),
        "subscribe" | "ssubscribe" => (1..argv.len()).map(|i| (i, false)).collect(),
        "psubscribe" => (1..argv.len()).map(|i| (i, true)).collect(),
        _ => Vec::new(),
    }
}

impl User {
    /// Whether this user may run `argv` (already resolved to `spec`, a subcommand spec for
    /// containers): root selector first, then each selector; the first that allows wins,
    /// otherwise the most relevant denial as Redis picks it.
    pub fn check(&self, spec: &CommandSpec, argv: &[Bytes]) -> Result<(), Denied> {
        let mut keys: Option<Vec<(usize, Access)>> = None;
        let mut channels: Option<Vec<(usize, bool)>> = None;
        let mut relevant = Denied::Command;
        for selector in self.all_selectors() {
            let verdict = (|| {
                if spec.flags & flag::NO_AUTH == 0 && !selector.allows_command(spec, argv) {
                    return Err(Denied::Command);
                }
                if !selector.all_keys {
                    let keys = keys.get_or_insert_with(|| key_access(spec, argv));
                    for &(index, access) in keys.iter() {
                        let key = argv.get(index).map(|k| k.as_ref()).unwrap_or_default();
                        if !selector.allows_key(key, access.read, access.write) {
                            return Err(Denied::Key { index });
                        }
                    }
                }
                if !selector.all_channels {
                    let channels = channels.get_or_insert_with(|| channel_args(spec, argv));
                    for &(index, is_pattern) in channels.iter() {
                        let channel = argv.get(index).map(|c| c.as_ref()).unwrap_or_default();
                        if !selector.allows_channel(channel, is_pattern) {
                            return Err(Denied::Channel { index });
                        }
                    }
                }
                Ok(())
            })();
            match verdict {
                Ok(()) => return Ok(()),
                // Redis: a key or channel denial beats a command one, a channel one beats a
                // key one; among equals the later argument is reported.
                Err(denied) if denied.rank() > relevant.rank() => relevant = denied,
                Err(_) => {}
            }
        }
        Err(relevant)
    }

    /// Whether some selector lets this user access `key` with `access`, whatever the
    /// command (Redis's `ACLUserCheckKeyPerm`).
    pub fn check_key(&self, key: &[u8], access: Access) -> bool {
        self.all_selectors()
            .any(|s| s.all_keys || s.allows_key(key, access.read, access.write))
    }
}
