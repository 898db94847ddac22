//! The command table and the handlers of data commands.
//!
//! Every command Redoubt knows is one declarative [`CommandSpec`] (name, arity, flags, ACL
//! categories, key positions, docs) in the file of its group (`string.rs` holds GET/SET/...).
//! Data commands carry a handler that runs against a [`Keyspace`]: reads on the serving node
//! after a linearizable barrier, writes inside the state machine when their Raft entry is
//! applied. Connection and server commands (`Exec::Server`) are carried out by the connection
//! loop in `server/`. Handlers never touch the network, the clock or a random source of their
//! own: time and randomness come from [`Ctx`], so applying an entry is deterministic.

pub mod args;
pub mod hash;
pub mod keyspace;
pub mod list;
pub mod long_double;
pub mod server;
pub mod set;
pub mod string;
pub mod table;
pub mod zset;

use bytes::Bytes;
use redoubt_proto::resp::{Frame, Protocol};

use crate::store::{Keyspace, StoreError};

pub use server::ServerCmd;
pub use table::CommandTable;

/// Command flags, as Redis names them in COMMAND INFO.
pub mod flag {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const MOVABLE_KEYS: u32 = 1 << 15;
    pub const ALLOW_BUSY: u32 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;

    /// (flag, name) in the order Redis prints them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// Where a command's keys are: Redis's legacy (first, last, step); last -1 = last argument,
/// -2 = the one before. (0, 0, 0): no keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

impl KeySpec {
    pub const NONE: KeySpec = KeySpec {
        first: 0,
        last: 0,
        step: 0,
    };
    /// One key at argument 1.
    pub const ONE: KeySpec = KeySpec {
        first: 1,
        last: 1,
        step: 1,
    };
    /// Every argument from 1 on is a key.
    pub const ALL: KeySpec = KeySpec {
        first: 1,
        last: -1,
        step: 1,
    };
    pub const fn new(first: i32, last: i32, step: i32) -> KeySpec {
        KeySpec { first, last, step }
    }

    /// The argument positions holding keys in `argv` (argv[0] is the command name).
    pub fn positions(&self, argc: usize) -> Vec<usize> {
        if self.first <= 0 || self.step <= 0 {
            return Vec::new();
        }
        let argc = argc as i32;
        let last = if self.last < 0 {
            argc + self.last
        } else {
            self.last.min(argc - 1)
        };
        let mut out = Vec::new();
        let mut i = self.first;
        while i <= last && i < argc {
            out.push(i as usize);
            i += self.step;
        }
        out
    }
}

/// A data command's implementation.
pub type Handler = fn(&mut Ctx<'_>, &[Bytes]) -> Result<Frame, CmdError>;

/// How a command is carried out.
#[derive(Clone, Copy)]
pub enum Exec {
    /// Reads the keyspace only: served by the node after a linearizable barrier.
    Read(Handler),
    /// Changes the keyspace: proposed as a Raft entry and run by the state machine.
    Write(Handler),
    /// Connection, pub/sub, transaction and server commands: run on the serving node by the
    /// connection or by `admin/`, dispatched on the [`ServerCmd`].
    Server(ServerCmd),
    /// A command that is only a container of subcommands (CLIENT, CONFIG, ...): see
    /// `subcommands`. (COMMAND is both: it runs alone and has subcommands.)
    Container,
}

/// One entry of the command table.
pub struct CommandSpec {
    /// Lower-case name; subcommands are named `container|sub` as in Redis 7.
    pub name: &'static str,
    /// Docs group (COMMAND DOCS `group`): "string", "generic", "hash", "list", ...
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    /// Redis arity: N exact argument count including the name; -N at least N.
    pub arity: i32,
    pub flags: u32,
    /// Explicit ACL categories without '@' (e.g. "string", "keyspace", "dangerous"); the ones
    /// implied by flags (read, write, fast, slow, admin, pubsub, blocking) are added by the table.
    pub acl: &'static [&'static str],
    pub keys: KeySpec,
    pub exec: Exec,
    pub subcommands: &'static [CommandSpec],
}

/// The table's one builder: `CommandSpec::new(name, arity, exec)` then the optional parts.
impl CommandSpec {
    pub const fn new(name: &'static str, arity: i32, exec: Exec) -> CommandSpec {
        CommandSpec {
            name,
            group: "",
            summary: "",
            since: "",
            arity,
            flags: 0,
            acl: &[],
            keys: KeySpec::NONE,
            exec,
            subcommands: &[],
        }
    }

    pub const fn flags(mut self, flags: u32) -> CommandSpec {
        self.flags = flags;
        self
    }

    /// Explicit ACL categories (those implied by the flags are added by the table).
    pub const fn acl(mut self, acl: &'static [&'static str]) -> CommandSpec {
        self.acl = acl;
        self
    }

    pub const fn keys(mut self, keys: KeySpec) -> CommandSpec {
        self.keys = keys;
        self
    }

    pub const fn subcommands(mut self, subcommands: &'static [CommandSpec]) -> CommandSpec {
        self.subcommands = subcommands;
        self
    }

    /// COMMAND DOCS: group, one-line summary, the Redis version that introduced it.
    pub const fn docs(
        mut self,
        group: &'static str,
        summary: &'static str,
        since: &'static str,
    ) -> CommandSpec {
        self.group = group;
        self.summary = summary;
        self.since = since;
        self
    }

    /// Whether argv[1] names a subcommand (a container, or COMMAND).
    pub fn has_subcommands(&self) -> bool {
        !self.subcommands.is_empty()
    }

    pub fn is_write(&self) -> bool {
        matches!(self.exec, Exec::Write(_))
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }

    /// The name as Redis prints it in errors ("get", "client|setname" -> "client|setname").
    pub fn full_name(&self) -> &'static str {
        self.name
    }
}

/// What a handler runs with.
pub struct Ctx<'a> {
    pub ks: &'a mut Keyspace,
    /// Deterministic randomness: seeded by the proposer for writes.
    pub rng: &'a mut Rng,
    /// Protocol of the client that sent the command (some replies differ in shape).
    pub protocol: Protocol,
}

/// A small deterministic PRNG (splitmix64): the same seed gives the same choices on every node,
/// whatever version of any crate is linked.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for sampling members.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// A command's failure, turned into a RESP error in one place ([`CmdError::to_frame`]).
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR syntax error")]
    Syntax,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR value is not a valid float")]
    NotFloat,
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    #[error("ERR no such key")]
    NoSuchKey,
    #[error("ERR index out of range")]
    IndexOutOfRange,
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(String),
    /// Any other error, full text with its code ("ERR ...", "NOPERM ...").
    #[error("{0}")]
    Other(String),
    #[error("ERR internal storage error")]
    Store(StoreError),
}

impl CmdError {
    pub fn other(text: impl Into<String>) -> CmdError {
        CmdError::Other(text.into())
    }

    pub fn to_frame(&self) -> Frame {
        if let CmdError::Store(e) = self {
            tracing::error!(error = %e, "storage error while running a command");
        }
        Frame::Error(self.to_string())
    }
}

impl From<StoreError> for CmdError {
    fn from(e: StoreError) -> CmdError {
        match e {
            StoreError::WrongType => CmdError::WrongType,
            other => CmdError::Store(other),
        }
    }
}

/// Runs commands straight against a temporary keyspace, for handler unit tests.
#[cfg(test)]
pub mod testutil {
    use super::*;
    use crate::store::Txn;

    pub struct TestDb {
        pub ks: Keyspace,
        pub rng: Rng,
        pub protocol: Protocol,
        _db: sled::Db,
    }

    impl Default for TestDb {
        fn default() -> Self {
            Self::new()
        }
    }

    impl TestDb {
        pub fn new() -> TestDb {
            let db = sled::Config::new().temporary(true).open().expect("sled");
            let tree = db.open_tree("keyspace").expect("tree");
            TestDb {
                ks: Keyspace::new(Txn::writable(tree), 0, 1_700_000_000_000, 1),
                rng: Rng::new(42),
                protocol: Protocol::Resp2,
                _db: db,
            }
        }

        /// Runs one command line as the state machine would (reads and writes alike); each call
        /// is a new log index. Arity is checked like the server does.
        pub fn exec(&mut self, argv: &[&str]) -> Frame {
            let argv: Vec<Bytes> = argv
                .iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect();
            self.exec_bytes(&argv)
        }

        pub fn exec_bytes(&mut self, argv: &[Bytes]) -> Frame {
            let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
            let Some(spec) = table::all_specs().find(|s| s.name == name) else {
                panic!("no such command {name}");
            };
            if !spec.arity_ok(argv.len()) {
                return CmdError::WrongArity(name).to_frame();
            }
            let handler = match spec.exec {
                Exec::Read(h) | Exec::Write(h) => h,
                _ => panic!("{name} is not a data command"),
            };
            self.ks.version += 1;
            let mut ctx = Ctx {
                ks: &mut self.ks,
                rng: &mut self.rng,
                protocol: self.protocol,
            };
            handler(&mut ctx, argv).unwrap_or_else(|e| e.to_frame())
        }

        /// Moves the clock (for expiry tests).
        pub fn advance_ms(&mut self, ms: u64) {
            self.ks.now_ms += ms;
        }
    }

    pub fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    pub fn int(i: i64) -> Frame {
        Frame::Integer(i)
    }

    pub fn err(s: &str) -> Frame {
        Frame::Error(s.to_string())
    }

    pub fn arr(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
    }
}
