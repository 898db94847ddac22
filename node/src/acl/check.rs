//! Permission checks: may a user run a command line (command, keys, channels)?
//!
//! Redis 7.2's `ACLCheckAllUserCommandPerm`: each selector (root first) checks the command,
//! then every key the command touches against the patterns granting the access it needs,
//! then the Pub/Sub channels; the first selector that allows the line wins. Which keys a
//! command touches, and how, comes from the key specs each command declares in the table
//! (Redis's `src/commands/*.json`), reduced to the read/write permission ACL cares about.

use bytes::Bytes;

use super::User;
use crate::commands::{flag, key_flag, CommandSpec};

/// Why a command line is refused (Redis's ACL_DENIED_*), with the argument index at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

    /// The text after "-NOPERM " for a queued command that the rules in force at EXEC refuse
    /// (Redis 7's execCommand wording); the same whether the state machine refuses a data
    /// command at apply or the connection refuses a server command before running it.
    pub fn changed_since_queued_message(&self) -> String {
        let reason = match self {
            Denied::Command => "no permission to execute the command or subcommand",
            Denied::Key { .. } => "no permission to touch the specified keys",
            Denied::Channel { .. } => {
                "no permission to access one of the channels used as arguments"
            }
        };
        format!("ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}")
    }

    /// ACL DRYRUN's reply for a refusal: Redis's verbose texts, which name the key or channel
    /// ("User alice has no permissions to access the 'k' key"). `argv` is the line that was
    /// checked.
    pub fn dryrun_message(&self, user: &str, spec: &CommandSpec, argv: &[Bytes]) -> String {
        let arg = |index: usize| {
            argv.get(index)
                .map(|a| String::from_utf8_lossy(a).replace(['\r', '\n'], " "))
                .unwrap_or_default()
        };
        match *self {
            Denied::Command => self.message(user, spec),
            Denied::Key { index } => format!(
                "User {user} has no permissions to access the '{}' key",
                arg(index)
            ),
            Denied::Channel { index } => format!(
                "User {user} has no permissions to access the '{}' channel",
                arg(index)
            ),
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

/// How a command uses a key, reduced to what ACL needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Reads the key's value (needs %R or ~).
    pub read: bool,
    /// Changes the key (needs %W or ~).
    pub write: bool,
}

impl Access {
    /// The permission a key used with these key-spec flags needs, by Redis 7.2's rule
    /// (`ACLSelectorCheckKey`): `ACCESS` needs read, `INSERT`, `DELETE` or `UPDATE` need
    /// write. `RO`, `RW`, `OW` and `RM` add nothing: a key only looked at (EXISTS, TYPE, LLEN:
    /// `RO` alone) needs a pattern matching it, whatever its R/W.
    pub const fn of(flags: u16) -> Access {
        Access {
            read: flags & key_flag::ACCESS != 0,
            write: flags & (key_flag::INSERT | key_flag::DELETE | key_flag::UPDATE) != 0,
        }
    }
}

/// The keys of `argv` (argv[0] is the command, subcommand specs get the whole line) with the
/// access the command needs on each, derived from its key specs (`CommandSpec::key_refs`).
/// A command flagged `movablekeys` that declares no key spec fails closed: every argument
/// counts as a key, read for a read-only command, read and write otherwise.
pub fn key_access(spec: &CommandSpec, argv: &[Bytes]) -> Vec<(usize, Access)> {
    if spec.keys.is_empty() && spec.flags & flag::MOVABLE_KEYS != 0 {
        let access = Access {
            read: true,
            write: spec.flags & flag::READONLY == 0,
        };
        return (1..argv.len()).map(|i| (i, access)).collect();
    }
    spec.key_refs(argv)
        .into_iter()
        .map(|k| (k.pos, Access::of(k.flags)))
        .collect()
}

impl User {
    /// Whether this user holds the replication permission: on, and allowed to run PSYNC
    /// (`psync` is the table's spec of [`super::REPLICATION_COMMAND`]). Passwords are the
    /// caller's concern.
    pub fn may_replicate(&self, psync: &CommandSpec) -> bool {
        let probe = [
            Bytes::from_static(b"psync"),
            Bytes::from_static(b"?"),
            Bytes::from_static(b"-1"),
        ];
        self.enabled && self.check(psync, &probe).is_ok()
    }

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
                    let channels =
                        channels.get_or_insert_with(|| spec.channels.positions(argv.len()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::rules::{apply_rules, lookup_command};
    use crate::commands::key_flag::{ACCESS, DELETE, NOT_KEY, OW, RO, UPDATE};
    use crate::commands::table::all_specs;
    use crate::commands::{Exec, KeySpec};

    const R: Access = Access::of(RO | ACCESS);
    const W: Access = Access::of(OW | UPDATE);
    const RW: Access = Access::of(key_flag::RW | ACCESS | UPDATE);
    const NONE: Access = Access::of(RO);

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn argv(s: &str) -> Vec<Bytes> {
        s.split(' ').filter(|w| !w.is_empty()).map(b).collect()
    }

    fn user(rules: &str) -> User {
        let mut u = User::new("alice");
        let rules: Vec<Bytes> = argv(rules);
        apply_rules(&mut u, &rules).expect("valid rules");
        u
    }

    fn spec(name: &str) -> &'static CommandSpec {
        lookup_command(name.as_bytes()).unwrap_or_else(|| panic!("no command {name}"))
    }

    /// Checks a command line; container commands are resolved to their subcommand.
    fn run(u: &User, line: &str) -> Result<(), Denied> {
        let args = argv(line);
        let name = args[0].to_ascii_lowercase();
        let name = String::from_utf8_lossy(&name).to_string();
        let mut s = spec(&name);
        if !s.subcommands.is_empty() {
            if let Some(sub) = args.get(1) {
                let full = format!("{name}|{}", String::from_utf8_lossy(sub).to_lowercase());
                s = spec(&full);
            }
        }
        u.check(s, &args)
    }

    const fn fake(name: &'static str, flags: u32, keys: &'static [KeySpec]) -> CommandSpec {
        CommandSpec::new(name, -1, Exec::Server(crate::commands::ServerCmd::Ping))
            .flags(flags)
            .keys(keys)
            .docs("test", "test", "0")
    }

    #[test]
    fn default_user_runs_anything() {
        let d = User::default_user();
        for line in [
            "get k",
            "set k v",
            "config set x y",
            "publish c m",
            "psubscribe *",
            "flushall",
        ] {
            assert_eq!(run(&d, line), Ok(()), "{line}");
        }
    }

    #[test]
    fn command_permissions() {
        let u = User::new("alice");
        assert_eq!(run(&u, "ping"), Err(Denied::Command));
        assert_eq!(
            Denied::Command.message("alice", spec("ping")),
            "User alice has no permissions to run the 'ping' command"
        );
        assert_eq!(
            Denied::Command.message("alice", spec("client|kill")),
            "User alice has no permissions to run the 'client|kill' command"
        );
        // Commands that need no authentication are never refused by the command rules.
        for line in ["auth a b", "hello 3", "quit", "reset"] {
            assert_eq!(run(&u, line), Ok(()), "{line}");
        }
        let u = user("allkeys +get");
        assert_eq!(run(&u, "get k"), Ok(()));
        assert_eq!(run(&u, "GET k"), Ok(()));
        assert_eq!(run(&u, "set k v"), Err(Denied::Command));
        let u = user("allkeys +@all -ping");
        assert_eq!(run(&u, "incr k"), Ok(()));
        assert_eq!(run(&u, "ping"), Err(Denied::Command));
        let u = user("allkeys -@all +@set");
        assert_eq!(run(&u, "sadd s a"), Ok(()));
        assert_eq!(run(&u, "set k v"), Err(Denied::Command));
        let u = user("allkeys +@all -@string");
        assert_eq!(run(&u, "sadd s a"), Ok(()));
        assert_eq!(run(&u, "set k v"), Err(Denied::Command));
        // Later rules win over earlier ones.
        let u = user("allkeys -@all +@string -get");
        assert_eq!(run(&u, "get k"), Err(Denied::Command));
        assert_eq!(run(&u, "set k v"), Ok(()));
        let u = user("allkeys -@all -get +@string");
        assert_eq!(run(&u, "get k"), Ok(()));
    }

    #[test]
    fn subcommand_permissions() {
        let u = user("+@all -client|kill");
        assert_eq!(run(&u, "client kill x"), Err(Denied::Command));
        assert_eq!(run(&u, "client id"), Ok(()));
        let u = user("+@all -client +client|id +client|setname");
        assert_eq!(run(&u, "client id"), Ok(()));
        assert_eq!(run(&u, "client setname x"), Ok(()));
        assert_eq!(run(&u, "client kill x"), Err(Denied::Command));
        let u = user("-@all +config -config|set");
        assert_eq!(run(&u, "config get x"), Ok(()));
        assert_eq!(run(&u, "config set x y"), Err(Denied::Command));
        // A category covers the subcommands in it...
        let u = user("-@all +@admin");
        assert_eq!(run(&u, "config set x y"), Ok(()));
        assert_eq!(run(&u, "client kill x"), Ok(()));
        assert_eq!(run(&u, "client id"), Err(Denied::Command));
        // ... and a category holding the container covers all of them (containers are
        // @slow, as in Redis).
        let u = user("+@all -@slow allkeys");
        assert_eq!(run(&u, "client id"), Err(Denied::Command));
        assert_eq!(run(&u, "get k"), Ok(()));
        // A whole-command rule after a subcommand rule replaces it.
        let u = user("-@all +config|get -config");
        assert_eq!(run(&u, "config get x"), Err(Denied::Command));
    }

    #[test]
    fn first_arg_rules() {
        let u = user("-@all +select|0");
        assert_eq!(run(&u, "select 0"), Ok(()));
        assert_eq!(run(&u, "select 1"), Err(Denied::Command));
        let u = user("-@all +debug|object");
        assert_eq!(run(&u, "debug OBJECT k"), Ok(()));
        assert_eq!(run(&u, "debug segfault"), Err(Denied::Command));
        // A later rule touching the command forgets its first arguments.
        let u = user("-@all +select|0 -select");
        assert_eq!(run(&u, "select 0"), Err(Denied::Command));
        let u = user("-@all +select|0 -@connection");
        assert_eq!(run(&u, "select 0"), Err(Denied::Command));
        let u = user("-@all -@connection +select|0");
        assert_eq!(run(&u, "select 0"), Ok(()));
        let u = user("-@all +select|0 +@all");
        assert_eq!(run(&u, "select 5"), Ok(()));
    }

    #[test]
    fn key_patterns_and_flags() {
        let u = user("+@all ~foo:* ~bar:*");
        assert_eq!(run(&u, "set foo:1 a"), Ok(()));
        assert_eq!(run(&u, "set bar:2 b"), Ok(()));
        assert_eq!(run(&u, "set zap:3 c"), Err(Denied::Key { index: 1 }));
        assert_eq!(
            Denied::Key { index: 1 }.message("alice", spec("set")),
            "No permissions to access a key"
        );
        let u = user("+set");
        assert_eq!(run(&u, "set foo bar"), Err(Denied::Key { index: 1 }));
        // Redis's "Test separate read permission".
        let u = user("+@all %R~read*");
        assert_eq!(run(&u, "get readstr"), Ok(()));
        assert_eq!(run(&u, "set readstr bar"), Err(Denied::Key { index: 1 }));
        assert_eq!(run(&u, "get notread"), Err(Denied::Key { index: 1 }));
        // Redis's "Test separate write permission".
        let u = user("+@all %W~write*");
        assert_eq!(run(&u, "lpush writelist 10"), Ok(()));
        assert_eq!(run(&u, "get writestr"), Err(Denied::Key { index: 1 }));
        assert_eq!(run(&u, "lpush notwrite 10"), Err(Denied::Key { index: 1 }));
        assert_eq!(
            run(&u, "set writestr v"),
            Ok(()),
            "SET without GET only writes"
        );
        assert_eq!(run(&u, "set writestr v get"), Err(Denied::Key { index: 1 }));
        assert_eq!(
            run(&u, "set writestr v EX 10 GET"),
            Err(Denied::Key { index: 1 })
        );
        assert_eq!(run(&u, "incr writestr"), Err(Denied::Key { index: 1 }));
        // Redis's "Test separate read and write permissions".
        let u = user("+@all %R~read* %W~write*");
        assert_eq!(run(&u, "copy read write"), Ok(()));
        assert_eq!(run(&u, "copy write read"), Err(Denied::Key { index: 1 }));
        assert_eq!(run(&u, "rename read write"), Err(Denied::Key { index: 1 }));
        let u = user("+@all ~src* %W~dst*");
        assert_eq!(run(&u, "rename src1 dst1"), Ok(()));
        assert_eq!(run(&u, "lmove src1 dst1 left right"), Ok(()));
        assert_eq!(run(&u, "smove src1 dst1 m"), Ok(()));
        assert_eq!(run(&u, "sinterstore dst1 src1 src2"), Ok(()));
        assert_eq!(run(&u, "zrangestore dst1 src1 0 -1"), Ok(()));
        assert_eq!(
            run(&u, "sinterstore src1 dst1"),
            Err(Denied::Key { index: 2 })
        );
        // MSET checks keys, not values.
        let u = user("+@all %W~k*");
        assert_eq!(run(&u, "mset k1 v1 k2 v2"), Ok(()));
        assert_eq!(run(&u, "mset k1 v1 x2 v2"), Err(Denied::Key { index: 3 }));
        // Patterns are globs.
        let u = user("+@all ~user:[0-9]?");
        assert_eq!(run(&u, "get user:1a"), Ok(()));
        assert_eq!(run(&u, "get user:a1"), Err(Denied::Key { index: 1 }));
        // Commands without keys need no pattern.
        let u = user("+@all");
        assert_eq!(run(&u, "ping"), Ok(()));
        assert_eq!(run(&u, "dbsize"), Ok(()));
        assert_eq!(run(&u, "get k"), Err(Denied::Key { index: 1 }));
    }

    #[test]
    fn existence_and_cardinality_commands_take_either_flag() {
        let u = user("+@all %R~read* %W~write* %RW~rw*");
        for cmd in [
            "exists",
            "touch",
            "type",
            "strlen",
            "hlen",
            "llen",
            "scard",
            "zcard",
            "hexists",
            "hstrlen",
            "sismember",
        ] {
            let extra = if matches!(cmd, "hexists" | "hstrlen" | "sismember") {
                " foo"
            } else {
                ""
            };
            for key in ["read", "write", "rw"] {
                assert_eq!(
                    run(&u, &format!("{cmd} {key}{extra}")),
                    Ok(()),
                    "{cmd} {key}"
                );
            }
            assert_eq!(
                run(&u, &format!("{cmd} nothing{extra}")),
                Err(Denied::Key { index: 1 }),
                "{cmd}"
            );
        }
        // Intersection cardinality reads the values.
        assert_eq!(run(&u, "sintercard 2 read read"), Ok(()));
        assert_eq!(
            run(&u, "sintercard 2 write read"),
            Err(Denied::Key { index: 2 })
        );
        assert_eq!(
            run(&u, "sintercard 2 nothing read"),
            Err(Denied::Key { index: 2 })
        );
        assert_eq!(run(&u, "zcount write 0 1"), Err(Denied::Key { index: 1 }));
        assert_eq!(run(&u, "ttl write"), Err(Denied::Key { index: 1 }));
        assert_eq!(run(&u, "ttl read"), Ok(()));
    }

    #[test]
    fn numkeys_commands() {
        let s = spec("sintercard");
        let k = |line: &str| key_access(s, &argv(line));
        assert_eq!(k("sintercard 2 a b"), vec![(2, R), (3, R)]);
        assert_eq!(k("sintercard 1 a b LIMIT 1"), vec![(2, R)]);
        assert_eq!(k("sintercard 2 a LIMIT 1"), vec![(2, R), (3, R)]);
        assert_eq!(
            k("sintercard 5 a"),
            vec![(2, R)],
            "more keys than arguments"
        );
        assert_eq!(k("sintercard 0 a"), vec![]);
        assert_eq!(k("sintercard -1 a"), vec![]);
        assert_eq!(k("sintercard x a"), vec![]);
        assert_eq!(k("sintercard 99999999999999999999 a"), vec![]);
        assert_eq!(k("sintercard 9223372036854775807 a"), vec![(2, R)]);
        assert_eq!(k("sintercard"), vec![]);

        // Redis 7.2's key specs of commands the table does not have (yet).
        static ZUNIONSTORE: CommandSpec = fake(
            "zunionstore",
            flag::WRITE,
            &[
                KeySpec::index(1).flags(OW | UPDATE),
                KeySpec::index(2).keynum(0, 1, 1).flags(RO | ACCESS),
            ],
        );
        assert_eq!(
            key_access(&ZUNIONSTORE, &argv("zunionstore dst 2 a b WEIGHTS 1 2")),
            vec![(1, W), (3, R), (4, R)]
        );
        const POP: u16 = key_flag::RW | ACCESS | DELETE;
        static BLMPOP: CommandSpec = fake(
            "blmpop",
            flag::WRITE,
            &[KeySpec::index(2).keynum(0, 1, 1).flags(POP)],
        );
        assert_eq!(
            key_access(&BLMPOP, &argv("blmpop 0 2 a b LEFT")),
            vec![(3, RW), (4, RW)]
        );
        static LMPOP: CommandSpec = fake(
            "lmpop",
            flag::WRITE,
            &[KeySpec::index(1).keynum(0, 1, 1).flags(POP)],
        );
        assert_eq!(key_access(&LMPOP, &argv("lmpop 1 a LEFT")), vec![(2, RW)]);
        // A command flagged movablekeys without key specs fails closed: every argument is
        // a key.
        static MYSTERY: CommandSpec = fake("mystery", flag::READONLY | flag::MOVABLE_KEYS, &[]);
        assert_eq!(
            key_access(&MYSTERY, &argv("mystery a b")),
            vec![(1, R), (2, R)]
        );
        let u = user("+@all ~a");
        assert_eq!(
            u.check(&MYSTERY, &argv("mystery a b")),
            Err(Denied::Key { index: 2 })
        );
    }

    /// How each command of the table uses its keys, as Redis 7.2's key specs and ACL rule
    /// give it: a second check of the key specs declared in the table. A command with keys
    /// that is missing here fails the test below.
    const EXPECTED: &[&str] = &[
        // strings
        "get:R set:W setnx:W setex:W psetex:W getset:RW getdel:RW getex:RW mget:R mset:W",
        "msetnx:W append:W strlen:- getrange:R substr:R setrange:W incr:RW decr:RW incrby:RW",
        "decrby:RW incrbyfloat:RW",
        // keyspace
        "del:W unlink:W exists:- touch:- type:- rename:RW,W renamenx:RW,W copy:R,W move:RW",
        "expire:W pexpire:W expireat:W pexpireat:W ttl:R pttl:R expiretime:R pexpiretime:R",
        "persist:W",
        // hashes
        "hdel:W hexists:- hget:R hgetall:R hincrby:RW hincrbyfloat:RW hkeys:R hlen:- hmget:R",
        "hmset:W hrandfield:R hscan:R hset:W hsetnx:W hstrlen:- hvals:R",
        // lists
        "lpush:W rpush:W lpushx:W rpushx:W lpop:RW rpop:RW llen:- lrange:R lindex:R lset:W",
        "lrem:W ltrim:W linsert:W lpos:R lmove:RW,W rpoplpush:RW,W blpop:RW brpop:RW",
        "blmove:RW,W brpoplpush:RW,W",
        // sets
        "sadd:W scard:- sdiff:R sdiffstore:W,R sinter:R sintercard:numkeys sinterstore:W,R",
        "sismember:- smembers:R smismember:R smove:RW,W spop:RW srandmember:R srem:W sscan:R",
        "sunion:R sunionstore:W,R",
        // sorted sets
        "zadd:W zincrby:RW zrem:W zscore:R zmscore:R zcard:- zcount:R zlexcount:R zrange:R",
        "zrangestore:W,R zrevrange:R zrangebyscore:R zrevrangebyscore:R zrangebylex:R",
        "zrevrangebylex:R zrank:R zrevrank:R zpopmin:RW zpopmax:RW zremrangebyscore:W",
        "zremrangebyrank:W zremrangebylex:W zrandmember:R zscan:R bzpopmin:RW bzpopmax:RW",
        // transactions
        "watch:-",
    ];

    fn access_name(a: Access) -> &'static str {
        match (a.read, a.write) {
            (true, true) => "RW",
            (true, false) => "R",
            (false, true) => "W",
            (false, false) => "-",
        }
    }

    #[test]
    fn every_command_with_keys_has_a_deliberate_access() {
        let specs = all_specs().flat_map(|s| std::iter::once(s).chain(s.subcommands.iter()));
        for spec in specs {
            if spec.keys.is_empty() {
                continue;
            }
            let expected = EXPECTED
                .iter()
                .flat_map(|line| line.split(' '))
                .find_map(|w| w.split_once(':').filter(|(n, _)| *n == spec.name));
            let Some((_, expected)) = expected else {
                panic!(
                    "'{}' has keys but no deliberate ACL key access: add it to EXPECTED in \
                     acl/check.rs, as its key specs (Redis's) give it",
                    spec.name
                );
            };
            if expected == "numkeys" {
                continue;
            }
            // A line with three key-or-value arguments after the name.
            let line = [spec.name, "k1", "k2", "k3", "k4"];
            let args: Vec<Bytes> = line.iter().map(|s| b(s)).collect();
            let got = key_access(spec, &args);
            assert!(!got.is_empty(), "{}", spec.name);
            let parts: Vec<&str> = expected.split(',').collect();
            for (n, (_, access)) in got.iter().enumerate() {
                let want = parts.get(n).or(parts.last()).copied().unwrap_or_default();
                assert_eq!(access_name(*access), want, "{} key {}", spec.name, n + 1);
            }
        }
    }

    #[test]
    fn channels() {
        // Redis's "It's possible to allow publishing/subscribing to a subset of channels".
        let u = user("+@all resetchannels &foo:1 &bar:*");
        assert_eq!(run(&u, "publish foo:1 m"), Ok(()));
        assert_eq!(run(&u, "publish bar:2 m"), Ok(()));
        assert_eq!(
            run(&u, "publish zap:3 m"),
            Err(Denied::Channel { index: 1 })
        );
        assert_eq!(
            Denied::Channel { index: 1 }.message("alice", spec("publish")),
            "No permissions to access a channel"
        );
        assert_eq!(run(&u, "subscribe foo:1 bar:2"), Ok(()));
        assert_eq!(
            run(&u, "subscribe foo:1 zap:3 bar:2"),
            Err(Denied::Channel { index: 2 })
        );
        // Patterns are compared literally.
        assert_eq!(run(&u, "psubscribe foo:1"), Ok(()));
        assert_eq!(run(&u, "psubscribe bar:*"), Ok(()));
        assert_eq!(
            run(&u, "psubscribe bar:baz"),
            Err(Denied::Channel { index: 1 })
        );
        assert_eq!(run(&u, "subscribe bar:baz"), Ok(()));
        // Unsubscribing is never refused.
        assert_eq!(run(&u, "unsubscribe zap:3"), Ok(()));
        assert_eq!(run(&u, "punsubscribe zap:*"), Ok(()));
        let u = user("+@all");
        assert_eq!(run(&u, "publish c m"), Err(Denied::Channel { index: 1 }));
        assert_eq!(run(&u, "pubsub channels"), Ok(()));
        let u = user("+@all allchannels");
        assert_eq!(run(&u, "psubscribe *"), Ok(()));
        // Sharded Pub/Sub, when the table has it: Redis 7.2 declares the shard channels as
        // NOT_KEY key specs, which no key pattern is asked about.
        const SHARD: &[KeySpec] = &[KeySpec::index(1).range(-1, 1, 0).flags(NOT_KEY)];
        static SPUBLISH: CommandSpec = fake(
            "spublish",
            flag::PUBSUB,
            &[KeySpec::index(1).flags(NOT_KEY)],
        )
        .channels(crate::commands::Channels::First);
        static SSUBSCRIBE: CommandSpec =
            fake("ssubscribe", flag::PUBSUB, SHARD).channels(crate::commands::Channels::All);
        static SUNSUBSCRIBE: CommandSpec = fake("sunsubscribe", flag::PUBSUB, SHARD);
        let u = user("+@all resetchannels &channel");
        let sp = |line: &str| u.check(&SPUBLISH, &argv(line));
        assert_eq!(sp("spublish channel foo"), Ok(()));
        assert_eq!(
            sp("spublish otherchannel foo"),
            Err(Denied::Channel { index: 1 })
        );
        assert_eq!(u.check(&SSUBSCRIBE, &argv("ssubscribe channel")), Ok(()));
        assert_eq!(
            u.check(&SSUBSCRIBE, &argv("ssubscribe otherchannel foo")),
            Err(Denied::Channel { index: 1 })
        );
        assert_eq!(
            u.check(&SUNSUBSCRIBE, &argv("sunsubscribe otherchannel")),
            Ok(())
        );
        // check_channel, for dropping subscribers whose permissions went away.
        let u = user("resetchannels &foo:1 &bar:* (&baz)");
        assert!(u.check_channel(b"foo:1", false));
        assert!(u.check_channel(b"bar:x", false));
        assert!(u.check_channel(b"bar:*", true));
        assert!(!u.check_channel(b"bar:x", true));
        assert!(u.check_channel(b"baz", false));
        assert!(!u.check_channel(b"qux", false));
        assert!(User::default_user().check_channel(b"anything", true));
    }

    #[test]
    fn selectors_and_the_most_relevant_denial() {
        // Redis's "Test basic multiple selectors".
        let u = user("on -@all resetkeys nopass (+@write ~write::*) (+@read ~read::*)");
        assert_eq!(run(&u, "ping"), Err(Denied::Command));
        assert_eq!(run(&u, "set write::foo bar"), Ok(()));
        assert_eq!(run(&u, "get read::foo"), Ok(()));
        assert_eq!(run(&u, "get write::foo"), Err(Denied::Key { index: 1 }));
        assert_eq!(run(&u, "set read::foo bar"), Err(Denied::Key { index: 1 }));
        // Redis's "Test separate read and write permissions on different selectors are not
        // additive".
        let u = user("(%R~read* +@all) (%W~write* +@all)");
        assert_eq!(run(&u, "lpush writelist 10"), Ok(()));
        assert_eq!(run(&u, "get writestr"), Err(Denied::Key { index: 1 }));
        assert_eq!(run(&u, "get readstr"), Ok(()));
        assert_eq!(run(&u, "copy read write"), Err(Denied::Key { index: 2 }));
        assert_eq!(run(&u, "copy write read"), Err(Denied::Key { index: 1 }));
        // Redis's "Test ACL log correctly identifies the relevant item when selectors are
        // used".
        let u = user("on nopass +mget ~key (+mget ~key ~otherkey)");
        assert_eq!(run(&u, "get key"), Err(Denied::Command));
        assert_eq!(
            run(&u, "mget otherkey someotherkey"),
            Err(Denied::Key { index: 2 })
        );
        assert_eq!(
            run(&u, "mget key otherkey someotherkey"),
            Err(Denied::Key { index: 3 })
        );
        // A key denial beats a command denial, whatever the order of the selectors.
        let u = user("+get (-@all)");
        assert_eq!(run(&u, "get k"), Err(Denied::Key { index: 1 }));
        let u = user("-@all (+get)");
        assert_eq!(run(&u, "get k"), Err(Denied::Key { index: 1 }));
        // A channel denial beats a key denial; among equals the later argument.
        let ranked = |d: Denied| d.rank();
        assert!(ranked(Denied::Channel { index: 1 }) > ranked(Denied::Key { index: 9 }));
        assert!(ranked(Denied::Key { index: 1 }) > ranked(Denied::Command));
        assert!(ranked(Denied::Key { index: 3 }) > ranked(Denied::Key { index: 2 }));
        let u = user("+@all &a (+@all &a &b)");
        assert_eq!(
            run(&u, "subscribe a b c"),
            Err(Denied::Channel { index: 3 })
        );
        // The first selector that allows wins, even after denials.
        let u = user("-@all (+get ~nomatch) (+get ~k)");
        assert_eq!(run(&u, "get k"), Ok(()));
        // Disabled users are checked the same: `enabled` is the caller's business.
        let mut off = User::default_user();
        off.enabled = false;
        assert_eq!(run(&off, "get k"), Ok(()));
    }

    #[test]
    fn check_key_helper() {
        let u = user("%R~r* (%W~w*)");
        assert!(u.check_key(b"r1", R));
        assert!(!u.check_key(b"r1", W));
        assert!(u.check_key(b"w1", W));
        assert!(u.check_key(b"w1", NONE));
        assert!(!u.check_key(b"x", NONE));
        assert!(User::default_user().check_key(b"x", RW));
    }

    #[test]
    fn dryrun_messages_name_the_key_or_channel() {
        let u = user("+@all %R~read* %W~write* resetchannels &ok");
        let line = argv("set read v");
        let denied = u.check(spec("set"), &line).expect_err("refused");
        assert_eq!(
            denied.dryrun_message("command-test", spec("set"), &line),
            "User command-test has no permissions to access the 'read' key"
        );
        let line = argv("publish nope m");
        let denied = u.check(spec("publish"), &line).expect_err("refused");
        assert_eq!(
            denied.dryrun_message("u", spec("publish"), &line),
            "User u has no permissions to access the 'nope' channel"
        );
        let line = argv("ping");
        let denied = User::new("x")
            .check(spec("ping"), &line)
            .expect_err("refused");
        assert_eq!(
            denied.dryrun_message("x", spec("ping"), &line),
            "User x has no permissions to run the 'ping' command"
        );
        // Out-of-range indexes do not panic.
        assert_eq!(
            Denied::Key { index: 9 }.dryrun_message("x", spec("get"), &[]),
            "User x has no permissions to access the '' key"
        );
    }

    #[test]
    fn reasons() {
        assert_eq!(Denied::Command.reason(), "command");
        assert_eq!(Denied::Key { index: 1 }.reason(), "key");
        assert_eq!(Denied::Channel { index: 1 }.reason(), "channel");
    }

    #[test]
    fn no_panic_on_short_or_odd_lines() {
        let u = user("+@all ~a &c (%R~b)");
        let specs: Vec<&CommandSpec> = all_specs()
            .flat_map(|s| std::iter::once(s).chain(s.subcommands.iter()))
            .collect();
        for spec in specs {
            for line in [
                vec![],
                vec![b(spec.name)],
                argv("x 1"),
                argv("x -1 a b c d e"),
            ] {
                let _ = key_access(spec, &line);
                let _ = u.check(spec, &line);
                let _ = User::new("n").check(spec, &line);
            }
        }
    }
}
