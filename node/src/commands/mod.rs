//! The command table and the handlers of data commands.
//!
//! Every command Redoubt knows is one declarative [`CommandSpec`] (name, arity, flags, ACL
//! categories, key specs, docs) in the module of its group (`string/` holds GET/SET/...).
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

/// Key-spec flags, as Redis 7 names them (`CMD_KEY_*` in `src/commands/*.json`): how a
/// command uses the keys one key spec finds. ACL derives the permission a key needs from them
/// (`acl::check`), COMMAND INFO prints them.
pub mod key_flag {
    /// Read-only: the value or its metadata is read, never changed.
    pub const RO: u16 = 1 << 0;
    /// Read-write: the value may be read and changed.
    pub const RW: u16 = 1 << 1;
    /// Overwrite: the value is replaced without being read.
    pub const OW: u16 = 1 << 2;
    /// Remove: the key is deleted.
    pub const RM: u16 = 1 << 3;
    /// User data is returned, copied or used (not only existence, type, length or TTL).
    pub const ACCESS: u16 = 1 << 4;
    /// Existing data is changed (or overwritten).
    pub const UPDATE: u16 = 1 << 5;
    /// Data is added, nothing existing is changed.
    pub const INSERT: u16 = 1 << 6;
    /// Data is removed.
    pub const DELETE: u16 = 1 << 7;
    /// Not a key, only hashed like one (Redis's sharded channels).
    pub const NOT_KEY: u16 = 1 << 8;
    /// The spec may miss keys: Redis then asks the command's getkeys function.
    pub const INCOMPLETE: u16 = 1 << 9;
    /// The flags depend on the arguments: the spec's `variable` function gives them per line.
    pub const VARIABLE_FLAGS: u16 = 1 << 10;

    /// (flag, name) in the order and spelling of Redis's COMMAND INFO.
    pub const NAMES: &[(u16, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Where a key spec starts looking for keys (Redis's `begin_search`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// The first key is argument `index` (argv[0] is the command name).
    Index(u16),
    /// The first key follows `keyword`, searched from argument `startfrom` on (a negative
    /// `startfrom` counts from the end and searches backwards).
    Keyword {
        keyword: &'static str,
        startfrom: i16,
    },
}

/// How a key spec finds its keys from where the search began (Redis's `find_keys`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// `lastkey` relative to the first key (-1: the last argument, -2: the one before...),
    /// every `keystep`-th argument; with `lastkey` -1 and a `limit` N, only the first 1/N of
    /// the remaining arguments.
    Range {
        lastkey: i16,
        keystep: u16,
        limit: u16,
    },
    /// The number of keys is argument `keynumidx` (relative to the first), the keys start at
    /// `firstkey` (relative too), every `keystep`-th argument.
    Keynum {
        keynumidx: u16,
        firstkey: u16,
        keystep: u16,
    },
}

/// One Redis 7 key spec: where some of a command's keys are and how the command uses them.
/// A command declares all of its keys this way, once; COMMAND INFO (key specs and the legacy
/// first/last/step), COMMAND GETKEYS and the ACL key checks are derived from it.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    /// `key_flag` bits.
    pub flags: u16,
    /// Redis's `notes` ("" for none).
    pub notes: &'static str,
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
    /// For a `VARIABLE_FLAGS` spec, the flags a given line uses (Redis's getkeys function,
    /// e.g. `setGetKeys`).
    pub variable: Option<fn(&[Bytes]) -> u16>,
}

/// The builder of key specs, in the words of Redis's JSON: `KeySpec::index(1)` (one key at
/// argument 1) then `.range(..)` or `.keynum(..)`, `.flags(..)`, `.notes(..)`.
impl KeySpec {
    /// Keys begin at argument `pos`; alone, exactly that one key (range 0, 1, 0).
    pub const fn index(pos: u16) -> KeySpec {
        KeySpec {
            flags: 0,
            notes: "",
            begin_search: BeginSearch::Index(pos),
            find_keys: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            variable: None,
        }
    }

    /// Keys begin after `keyword`, searched from `startfrom`.
    pub const fn keyword(keyword: &'static str, startfrom: i16) -> KeySpec {
        let mut spec = KeySpec::index(0);
        spec.begin_search = BeginSearch::Keyword { keyword, startfrom };
        spec
    }

    pub const fn range(mut self, lastkey: i16, keystep: u16, limit: u16) -> KeySpec {
        self.find_keys = FindKeys::Range {
            lastkey,
            keystep,
            limit,
        };
        self
    }

    pub const fn keynum(mut self, keynumidx: u16, firstkey: u16, keystep: u16) -> KeySpec {
        self.find_keys = FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        };
        self
    }

    pub const fn flags(mut self, flags: u16) -> KeySpec {
        self.flags = flags;
        self
    }

    pub const fn notes(mut self, notes: &'static str) -> KeySpec {
        self.notes = notes;
        self
    }

    /// The per-line flags of a `VARIABLE_FLAGS` spec.
    pub const fn variable(mut self, flags_of: fn(&[Bytes]) -> u16) -> KeySpec {
        self.variable = Some(flags_of);
        self
    }

    /// The flags this spec gives the keys of `argv`.
    pub fn flags_for(&self, argv: &[Bytes]) -> u16 {
        match self.variable {
            Some(flags_of) if self.flags & key_flag::VARIABLE_FLAGS != 0 => flags_of(argv),
            _ => self.flags,
        }
    }

    /// The argument positions holding this spec's keys in `argv` (argv[0] is the command
    /// name), as Redis's `getKeysUsingKeySpecs` finds them. Lenient where Redis would call
    /// the line invalid: a range or count reaching past the end stops at the last argument
    /// (so an ACL check sees every argument that could be a key), an unparsable or
    /// non-positive count gives none.
    pub fn positions(&self, argv: &[Bytes]) -> Vec<usize> {
        let argc = argv.len();
        let Some(first) = self.first_position(argv) else {
            return Vec::new();
        };
        let (first, last, step) = match self.find_keys {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey as usize
                } else if limit > 1 {
                    first + argc.saturating_sub(first) / usize::from(limit) - 1
                } else {
                    match argc.checked_sub(lastkey.unsigned_abs() as usize) {
                        Some(last) => last,
                        None => return Vec::new(),
                    }
                };
                (first, last, keystep)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let Some(count) = argv
                    .get(first + usize::from(keynumidx))
                    .and_then(|a| args::parse_i64_opt(a))
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|n| *n > 0)
                else {
                    return Vec::new();
                };
                let first = first + usize::from(firstkey);
                let span = (count - 1).saturating_mul(usize::from(keystep.max(1)));
                (first, first.saturating_add(span), keystep)
            }
        };
        let step = usize::from(step.max(1));
        (first..=last.min(argc.saturating_sub(1)))
            .step_by(step)
            .collect()
    }

    /// Where the search begins: the index, or the argument after the keyword.
    fn first_position(&self, argv: &[Bytes]) -> Option<usize> {
        match self.begin_search {
            BeginSearch::Index(pos) => Some(usize::from(pos)).filter(|p| *p > 0),
            BeginSearch::Keyword { keyword, startfrom } => {
                // Redis searches up to, not including, the last argument forwards and the
                // first one backwards: a key must follow the keyword.
                let argc = argv.len() as i64;
                let hit = |i: &i64| argv[*i as usize].eq_ignore_ascii_case(keyword.as_bytes());
                let found = if startfrom > 0 {
                    (i64::from(startfrom)..argc - 1).find(hit)
                } else {
                    let from = argc + i64::from(startfrom);
                    (2..=from.min(argc - 1)).rev().find(hit)
                };
                found.map(|i| i as usize + 1)
            }
        }
    }
}

/// One key of a command line: its argument index and the key-spec flags it is used with
/// (Redis's `keyReference`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRef {
    pub pos: usize,
    pub flags: u16,
}

/// Redis's legacy (first, last, step) key range of COMMAND INFO, derived from the key specs
/// (`populateCommandLegacyRangeSpec`); `last` -1 is the last argument. (0, 0, 0): none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LegacyRange {
    pub first: i32,
    pub last: i32,
    pub step: i32,
    /// Some keys are not in the range (keynum or keyword specs, gaps, steps): Redis's
    /// `movablekeys` flag.
    pub movable: bool,
}

impl LegacyRange {
    /// The argument positions the legacy range covers in a line of `argc` arguments.
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
        (self.first..=last)
            .step_by(self.step as usize)
            .map(|i| i as usize)
            .collect()
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

/// Where a Pub/Sub command names its channels, for ACL channel permissions (Redis checks
/// PUBLISH / SPUBLISH's first argument and every channel of SUBSCRIBE / SSUBSCRIBE /
/// PSUBSCRIBE; the UNSUBSCRIBE family is not checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channels {
    None,
    /// Argument 1 (PUBLISH channel message).
    First,
    /// Every argument from 1 on.
    All,
    /// Every argument from 1 on, each a pattern (PSUBSCRIBE).
    AllPatterns,
}

impl Channels {
    /// The channel arguments of `argv` and whether each is a pattern.
    pub fn positions(self, argc: usize) -> Vec<(usize, bool)> {
        match self {
            Channels::None => Vec::new(),
            Channels::First => (argc > 1).then_some((1, false)).into_iter().collect(),
            Channels::All => (1..argc).map(|i| (i, false)).collect(),
            Channels::AllPatterns => (1..argc).map(|i| (i, true)).collect(),
        }
    }
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
    /// Where the keys are and how they are used: Redis 7's key specs, in Redis's order.
    pub keys: &'static [KeySpec],
    pub exec: Exec,
    pub subcommands: &'static [CommandSpec],
    /// Where a Pub/Sub command's channels are (ACL channel permissions).
    pub channels: Channels,
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
            keys: &[],
            exec,
            subcommands: &[],
            channels: Channels::None,
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

    /// The key specs (Redis's `key_specs`, same order).
    pub const fn keys(mut self, keys: &'static [KeySpec]) -> CommandSpec {
        self.keys = keys;
        self
    }

    pub const fn subcommands(mut self, subcommands: &'static [CommandSpec]) -> CommandSpec {
        self.subcommands = subcommands;
        self
    }

    /// Where its channels are (PUBLISH, SUBSCRIBE, PSUBSCRIBE...).
    pub const fn channels(mut self, channels: Channels) -> CommandSpec {
        self.channels = channels;
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

    /// The keys of `argv` (argv[0] is the name; a subcommand's line is the whole line) with
    /// the flags each is used with: every key spec in order, `NOT_KEY` ones skipped,
    /// `VARIABLE_FLAGS` resolved for this line (Redis's `getKeysFromCommandWithSpecs`).
    pub fn key_refs(&self, argv: &[Bytes]) -> Vec<KeyRef> {
        self.keys
            .iter()
            .filter(|ks| ks.flags & key_flag::NOT_KEY == 0)
            .flat_map(|ks| {
                let flags = ks.flags_for(argv);
                ks.positions(argv)
                    .into_iter()
                    .map(move |pos| KeyRef { pos, flags })
            })
            .collect()
    }

    /// Redis's legacy (first, last, step) derived from the key specs, and whether some keys
    /// fall outside it (`populateCommandLegacyRangeSpec`).
    pub fn legacy_range(&self) -> LegacyRange {
        let mut out = LegacyRange::default();
        let mut first = i32::MAX;
        let mut last: i32 = 0;
        for ks in self.keys {
            out.movable |= ks.flags & key_flag::INCOMPLETE != 0;
            let (
                BeginSearch::Index(pos),
                FindKeys::Range {
                    lastkey, keystep, ..
                },
            ) = (ks.begin_search, ks.find_keys)
            else {
                out.movable = true;
                continue;
            };
            let pos = i32::from(pos);
            // Only plain ranges (step 1) that follow on from the previous one (a single
            // spec is taken whatever its step).
            let single = self.keys.len() == 1;
            if !single && (keystep != 1 || (last != 0 && last != pos - 1)) {
                out.movable = true;
                continue;
            }
            let abs_last = if lastkey >= 0 {
                pos + i32::from(lastkey)
            } else {
                i32::from(lastkey)
            };
            first = first.min(pos);
            // Redis compares as unsigned: a negative (from the end) last wins.
            last = if (abs_last as u32) > (last as u32) {
                abs_last
            } else {
                last
            };
            if single {
                out.step = i32::from(keystep);
            }
        }
        if first == i32::MAX {
            // No plain range at all (no key specs: not movable either).
            return LegacyRange {
                movable: out.movable,
                ..LegacyRange::default()
            };
        }
        out.first = first;
        out.last = last;
        out.step = out.step.max(1);
        out
    }

    /// The command flags as COMMAND INFO prints them: the declared ones plus `movablekeys`
    /// when the key specs say so.
    pub fn all_flags(&self) -> u32 {
        if self.legacy_range().movable {
            self.flags | flag::MOVABLE_KEYS
        } else {
            self.flags
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
    #[error("NOAUTH Authentication required.")]
    NoAuth,
    /// An ACL refusal: the text after the code (the user, command, key or channel).
    #[error("NOPERM {0}")]
    NoPerm(String),
    /// Refused inside MULTI (it cannot be queued): the transaction will abort.
    #[error("ERR Command not allowed inside a transaction")]
    NotInMulti,
    #[error("EXECABORT Transaction discarded because of previous errors.")]
    ExecAbort,
    /// Retry later: the full text after the code.
    #[error("TRYAGAIN {0}")]
    TryAgain(String),
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
    use crate::store::{Records, Txn};

    pub struct TestDb {
        pub ks: Keyspace,
        pub rng: Rng,
        pub protocol: Protocol,
    }

    impl Default for TestDb {
        fn default() -> Self {
            Self::new()
        }
    }

    impl TestDb {
        pub fn new() -> TestDb {
            TestDb {
                ks: Keyspace::new(Txn::writable(Records::new()), 0, 1_700_000_000_000, 1),
                rng: Rng::new(42),
                protocol: Protocol::Resp2,
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
