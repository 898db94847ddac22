//! The command table: lookup by name (with `rename-command` applied) and the COMMAND replies.

use std::collections::HashMap;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::{flag, key_flag, BeginSearch, CommandSpec, Exec, FindKeys, KeySpec};

/// Every group's specs, in one list.
pub fn all_specs() -> impl Iterator<Item = &'static CommandSpec> {
    super::server::COMMANDS
        .iter()
        .chain(super::keyspace::COMMANDS)
        .chain(super::string::COMMANDS)
        .chain(super::hash::COMMANDS)
        .chain(super::list::COMMANDS)
        .chain(super::set::COMMANDS)
        .chain(super::zset::COMMANDS)
}

/// Name -> spec, as clients may call them on this node.
pub struct CommandTable {
    by_name: HashMap<Vec<u8>, &'static CommandSpec>,
    /// Canonical names, renames ignored: what Raft entries carry.
    canonical: HashMap<&'static str, &'static CommandSpec>,
}

impl CommandTable {
    /// The table with `renames` applied: `name -> new name`, an empty new name disables the
    /// command. Unknown names in `renames` are an error naming them.
    pub fn new(renames: &HashMap<String, String>) -> Result<CommandTable, String> {
        let mut by_name = HashMap::new();
        let mut canonical = HashMap::new();
        for spec in all_specs() {
            by_name.insert(spec.name.as_bytes().to_vec(), spec);
            canonical.insert(spec.name, spec);
        }
        for (old, new) in renames {
            let old_l = old.to_ascii_lowercase();
            let Some(spec) = by_name.remove(old_l.as_bytes()) else {
                return Err(format!("unknown command '{old}'"));
            };
            if !new.is_empty() {
                by_name.insert(new.to_ascii_lowercase().into_bytes(), spec);
            }
        }
        Ok(CommandTable { by_name, canonical })
    }

    /// The spec a client's command name refers to (case-insensitive).
    pub fn lookup(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        let mut buf = [0u8; 64];
        let lower = buf.get_mut(..name.len())?;
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.by_name.get(&*lower).copied()
    }

    /// The spec of a canonical name (as stored in a Raft entry).
    pub fn canonical(&self, name: &str) -> Option<&'static CommandSpec> {
        self.canonical.get(name).copied()
    }

    /// For a container command, the subcommand spec named by argv[1].
    pub fn subcommand(spec: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
        let sub = sub.to_ascii_lowercase();
        spec.subcommands.iter().find(|s| {
            s.name
                .split_once('|')
                .map(|(_, n)| n.as_bytes() == sub.as_slice())
                .unwrap_or(false)
        })
    }

    /// The spec a command line runs: for a command with subcommands, the one argv[1] names
    /// (a container called alone is a wrong-arity error; COMMAND alone runs itself).
    pub fn resolve(
        spec: &'static CommandSpec,
        argv: &[Bytes],
    ) -> Result<&'static CommandSpec, super::CmdError> {
        if !spec.has_subcommands() {
            return Ok(spec);
        }
        let Some(sub) = argv.get(1) else {
            return match spec.exec {
                Exec::Container => Err(super::CmdError::WrongArity(spec.name.to_string())),
                _ => Ok(spec),
            };
        };
        CommandTable::subcommand(spec, sub).ok_or_else(|| {
            super::CmdError::Other(format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                String::from_utf8_lossy(sub)
                    .chars()
                    .take(128)
                    .collect::<String>(),
                spec.name.to_ascii_uppercase()
            ))
        })
    }

    /// Visible commands (renamed-away ones excluded), sorted by name.
    pub fn visible(&self) -> Vec<&'static CommandSpec> {
        let mut v: Vec<_> = self.by_name.values().copied().collect();
        v.sort_by_key(|s| s.name);
        v.dedup_by_key(|s| s.name);
        v
    }

    pub fn count(&self) -> usize {
        self.visible().len()
    }
}

/// ACL categories of a command: the explicit ones plus those implied by its flags, as Redis
/// computes them (setImplicitACLCategories).
pub fn acl_categories(spec: &CommandSpec) -> Vec<&'static str> {
    let mut cats: Vec<&'static str> = Vec::new();
    if spec.flags & flag::WRITE != 0 {
        cats.push("write");
    }
    if spec.flags & flag::READONLY != 0 && !spec.acl.contains(&"scripting") {
        cats.push("read");
    }
    if spec.flags & flag::ADMIN != 0 {
        cats.push("admin");
        if !spec.acl.contains(&"dangerous") {
            cats.push("dangerous");
        }
    }
    if spec.flags & flag::PUBSUB != 0 {
        cats.push("pubsub");
    }
    if spec.flags & flag::FAST != 0 {
        cats.push("fast");
    }
    if spec.flags & flag::BLOCKING != 0 {
        cats.push("blocking");
    }
    if spec.flags & flag::FAST == 0 {
        cats.push("slow");
    }
    for c in spec.acl {
        if !cats.contains(c) {
            cats.push(c);
        }
    }
    cats
}

fn flag_frames(spec: &CommandSpec) -> Vec<Frame> {
    let flags = spec.all_flags();
    flag::NAMES
        .iter()
        .filter(|(f, _)| flags & f != 0)
        .map(|(_, n)| Frame::Simple((*n).to_string()))
        .collect()
}

/// Key-spec flags as Redis prints them: a set of status strings ("RW", "access", ...).
pub fn key_flag_frame(flags: u16) -> Frame {
    Frame::Set(
        key_flag::NAMES
            .iter()
            .filter(|(f, _)| flags & f != 0)
            .map(|(_, n)| Frame::Simple((*n).to_string()))
            .collect(),
    )
}

/// A `{type, spec}` map of COMMAND INFO's key specs.
fn typed(kind: &'static str, fields: Vec<(&'static str, Frame)>) -> Frame {
    Frame::Map(vec![
        (Frame::bulk("type"), Frame::bulk(kind)),
        (
            Frame::bulk("spec"),
            Frame::Map(
                fields
                    .into_iter()
                    .map(|(k, v)| (Frame::bulk(k), v))
                    .collect(),
            ),
        ),
    ])
}

/// One key spec as Redis 7.2's COMMAND INFO prints it (`addReplyCommandKeySpecs`).
fn key_spec_frame(ks: &KeySpec) -> Frame {
    let int = |n: i64| Frame::Integer(n);
    let begin = match ks.begin_search {
        BeginSearch::Index(pos) => typed("index", vec![("index", int(pos.into()))]),
        BeginSearch::Keyword { keyword, startfrom } => typed(
            "keyword",
            vec![
                ("keyword", Frame::bulk(keyword)),
                ("startfrom", int(startfrom.into())),
            ],
        ),
    };
    let find = match ks.find_keys {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => typed(
            "range",
            vec![
                ("lastkey", int(lastkey.into())),
                ("keystep", int(keystep.into())),
                ("limit", int(limit.into())),
            ],
        ),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => typed(
            "keynum",
            vec![
                ("keynumidx", int(keynumidx.into())),
                ("firstkey", int(firstkey.into())),
                ("keystep", int(keystep.into())),
            ],
        ),
    };
    let mut fields = Vec::with_capacity(4);
    if !ks.notes.is_empty() {
        fields.push((Frame::bulk("notes"), Frame::bulk(ks.notes)));
    }
    fields.push((Frame::bulk("flags"), key_flag_frame(ks.flags)));
    fields.push((Frame::bulk("begin_search"), begin));
    fields.push((Frame::bulk("find_keys"), find));
    Frame::Map(fields)
}

/// One command's COMMAND INFO reply (10 fields, as Redis 7.2).
pub fn command_info(spec: &CommandSpec) -> Frame {
    let legacy = spec.legacy_range();
    Frame::Array(vec![
        Frame::bulk(spec.name),
        Frame::Integer(i64::from(spec.arity)),
        Frame::Set(flag_frames(spec)),
        Frame::Integer(i64::from(legacy.first)),
        Frame::Integer(i64::from(legacy.last)),
        Frame::Integer(i64::from(legacy.step)),
        Frame::Set(
            acl_categories(spec)
                .into_iter()
                .map(|c| Frame::Simple(format!("@{c}")))
                .collect(),
        ),
        Frame::Set(Vec::new()),
        Frame::Array(spec.keys.iter().map(key_spec_frame).collect()),
        Frame::Array(spec.subcommands.iter().map(command_info).collect()),
    ])
}

/// One command's COMMAND DOCS entry (name, then a map).
pub fn command_docs(spec: &CommandSpec) -> Frame {
    let mut fields = vec![
        (Frame::bulk("summary"), Frame::bulk(spec.summary)),
        (Frame::bulk("since"), Frame::bulk(spec.since)),
        (Frame::bulk("group"), Frame::bulk(spec.group)),
    ];
    if !spec.subcommands.is_empty() {
        fields.push((
            Frame::bulk("subcommands"),
            Frame::Map(
                spec.subcommands
                    .iter()
                    .map(|s| match command_docs(s) {
                        Frame::Array(mut pair) if pair.len() == 2 => {
                            let docs = pair.pop().unwrap_or(Frame::Null);
                            let name = pair.pop().unwrap_or(Frame::Null);
                            (name, docs)
                        }
                        other => (Frame::bulk(s.name), other),
                    })
                    .collect(),
            ),
        ));
    }
    Frame::Array(vec![Frame::bulk(spec.name), Frame::Map(fields)])
}

/// Keys of a command line per its key specs (COMMAND GETKEYS); `argv[0]` is the command.
pub fn command_keys(spec: &CommandSpec, argv: &[Bytes]) -> Vec<Bytes> {
    spec.key_refs(argv)
        .into_iter()
        .filter_map(|k| argv.get(k.pos).cloned())
        .collect()
}

/// COMMAND GETKEYSANDFLAGS: each key with the flags this line uses it with, as Redis 7.2
/// replies (`[key, {flags}]` pairs). An empty reply means the command has no keys here.
pub fn command_keys_and_flags(spec: &CommandSpec, argv: &[Bytes]) -> Vec<Frame> {
    spec.key_refs(argv)
        .into_iter()
        .filter_map(|k| {
            let key = argv.get(k.pos)?.clone();
            Some(Frame::Array(vec![
                Frame::Bulk(key),
                key_flag_frame(k.flags),
            ]))
        })
        .collect()
}

/// Whether `spec` runs a handler (data command).
pub fn is_data_command(spec: &CommandSpec) -> bool {
    matches!(spec.exec, Exec::Read(_) | Exec::Write(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{KeyRef, LegacyRange};

    #[test]
    fn pubsub_commands_declare_their_channels() {
        use crate::commands::Channels;
        for spec in all_specs() {
            let expected = match spec.name {
                "publish" => Channels::First,
                "subscribe" => Channels::All,
                "psubscribe" => Channels::AllPatterns,
                _ => Channels::None,
            };
            assert_eq!(spec.channels, expected, "{}", spec.name);
            if spec.channels != Channels::None {
                assert!(spec.flags & flag::PUBSUB != 0, "{}", spec.name);
            }
        }
    }

    #[test]
    fn every_spec_is_well_formed_and_unique() {
        let mut names = std::collections::HashSet::new();
        for spec in all_specs() {
            assert!(names.insert(spec.name), "duplicate {}", spec.name);
            assert_eq!(spec.name, spec.name.to_ascii_lowercase());
            assert!(spec.arity != 0, "{}", spec.name);
            assert!(!spec.summary.is_empty(), "{} has no summary", spec.name);
            let write = spec.flags & flag::WRITE != 0;
            if let Exec::Write(_) = spec.exec {
                assert!(write, "{} writes but lacks the write flag", spec.name);
            }
            if let Exec::Read(_) = spec.exec {
                assert!(!write, "{} reads but has the write flag", spec.name);
            }
            if let Exec::Container = spec.exec {
                assert!(!spec.subcommands.is_empty(), "{}", spec.name);
            }
        }
    }

    #[test]
    fn rename_command_hides_and_renames() {
        let mut renames = HashMap::new();
        renames.insert("flushall".to_string(), String::new());
        renames.insert("get".to_string(), "fetch".to_string());
        let t = CommandTable::new(&renames).expect("table");
        assert!(t.lookup(b"FLUSHALL").is_none());
        assert!(t.lookup(b"get").is_none());
        assert_eq!(t.lookup(b"FETCH").map(|s| s.name), Some("get"));
        assert!(t.canonical("get").is_some());
        renames.insert("nosuch".to_string(), String::new());
        assert!(CommandTable::new(&renames).is_err());
    }

    fn argv(line: &str) -> Vec<Bytes> {
        line.split(' ')
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn every_spec() -> impl Iterator<Item = &'static CommandSpec> {
        all_specs().flat_map(|s| std::iter::once(s).chain(s.subcommands.iter()))
    }

    const ACCESS_KIND: u16 = key_flag::RO | key_flag::RW | key_flag::OW | key_flag::RM;
    const WRITE_KIND: u16 = key_flag::UPDATE | key_flag::INSERT | key_flag::DELETE;

    /// Write commands that deliberately declare no key: they work on whole databases.
    const KEYLESS_WRITES: &[&str] = &["flushdb", "flushall", "swapdb"];
    /// Read-only commands that deliberately declare no key: they look at the whole database.
    const KEYLESS_READS: &[&str] = &["keys", "scan", "randomkey", "dbsize"];

    #[test]
    fn every_key_spec_has_redis_flags() {
        for spec in every_spec() {
            for ks in spec.keys {
                let name = spec.name;
                let kind = ks.flags & ACCESS_KIND;
                assert!(
                    kind.count_ones() == 1,
                    "{name}: a key spec needs exactly one of RO, RW, OW, RM"
                );
                if kind == key_flag::RO {
                    assert_eq!(ks.flags & WRITE_KIND, 0, "{name}: RO key spec that writes");
                } else {
                    assert_ne!(ks.flags & WRITE_KIND, 0, "{name}: UPDATE/INSERT/DELETE?");
                }
                if kind == key_flag::RM {
                    assert_ne!(ks.flags & key_flag::DELETE, 0, "{name}: RM without DELETE");
                }
                let variable = ks.flags & key_flag::VARIABLE_FLAGS != 0;
                assert_eq!(variable, ks.variable.is_some(), "{name}: VARIABLE_FLAGS");
                assert_eq!(
                    ks.flags & key_flag::INCOMPLETE,
                    0,
                    "{name}: key_refs has no getkeys"
                );
            }
        }
    }

    #[test]
    fn write_commands_write_keys_and_read_commands_do_not() {
        for spec in every_spec() {
            let writes_a_key = spec
                .keys
                .iter()
                .any(|ks| ks.flags & key_flag::RO == 0 && ks.flags & WRITE_KIND != 0);
            if spec.flags & flag::WRITE != 0 {
                assert!(
                    writes_a_key || KEYLESS_WRITES.contains(&spec.name),
                    "{}: a write command without a written key",
                    spec.name
                );
            } else {
                assert!(!writes_a_key, "{}: writes a key, lacks the flag", spec.name);
            }
            if spec.flags & flag::READONLY != 0 {
                assert!(
                    !spec.keys.is_empty() || KEYLESS_READS.contains(&spec.name),
                    "{}: a read-only command without a key spec",
                    spec.name
                );
            }
            // movablekeys is derived from the key specs, never declared.
            assert_eq!(spec.flags & flag::MOVABLE_KEYS, 0, "{}", spec.name);
        }
    }

    /// A line of `argc` arguments for `spec`, numbers where a keynum spec counts its keys.
    fn sample_line(spec: &CommandSpec, argc: usize) -> Vec<Bytes> {
        let mut line: Vec<Bytes> = (0..argc).map(|i| Bytes::from(format!("a{i}"))).collect();
        line[0] = Bytes::from_static(spec.name.as_bytes());
        for ks in spec.keys {
            if let (BeginSearch::Index(pos), FindKeys::Keynum { keynumidx, .. }) =
                (ks.begin_search, ks.find_keys)
            {
                let at = usize::from(pos + keynumidx);
                if at < argc {
                    line[at] = Bytes::from((argc - at - 1).to_string());
                }
            }
        }
        line
    }

    #[test]
    fn legacy_range_agrees_with_the_key_specs() {
        for spec in every_spec() {
            let legacy = spec.legacy_range();
            let min = spec.arity.unsigned_abs() as usize;
            let max = if spec.arity < 0 { min + 5 } else { min };
            for argc in min..=max {
                let line = sample_line(spec, argc);
                let from_specs: Vec<usize> = spec.key_refs(&line).iter().map(|k| k.pos).collect();
                let from_legacy = legacy.positions(argc);
                if legacy.movable {
                    assert!(
                        from_legacy.iter().all(|p| from_specs.contains(p)),
                        "{} argc {argc}: legacy {from_legacy:?}, specs {from_specs:?}",
                        spec.name
                    );
                } else {
                    assert_eq!(from_legacy, from_specs, "{} argc {argc}", spec.name);
                }
                assert!(from_specs.iter().all(|p| *p < argc), "{}", spec.name);
            }
            if spec.keys.is_empty() {
                assert_eq!(legacy, LegacyRange::default(), "{}", spec.name);
            } else if !legacy.movable {
                assert!(legacy.first > 0, "{}", spec.name);
            }
        }
    }

    #[test]
    fn key_positions_and_flags() {
        let get = |name: &str| every_spec().find(|s| s.name == name).expect(name);
        let refs = |name: &str, line: &str| get(name).key_refs(&argv(line));
        let at = |pos, flags| KeyRef { pos, flags };
        use key_flag::*;
        assert_eq!(refs("set", "set k v"), vec![at(1, OW | UPDATE)]);
        assert_eq!(
            refs("set", "set k v EX 10 get"),
            vec![at(1, RW | ACCESS | UPDATE)]
        );
        assert_eq!(
            refs("set", "set get v"),
            vec![at(1, OW | UPDATE)],
            "only from argument 3"
        );
        assert_eq!(
            refs("mset", "mset a 1 b 2"),
            vec![at(1, OW | UPDATE), at(3, OW | UPDATE)]
        );
        assert_eq!(
            refs("sdiffstore", "sdiffstore d a b"),
            vec![at(1, OW | UPDATE), at(2, RO | ACCESS), at(3, RO | ACCESS)]
        );
        let card =
            |line: &str| -> Vec<usize> { refs("sintercard", line).iter().map(|k| k.pos).collect() };
        assert_eq!(card("sintercard 2 a b LIMIT 1"), vec![2, 3]);
        assert_eq!(card("sintercard 1 a b"), vec![2]);
        assert_eq!(
            card("sintercard 5 a"),
            vec![2],
            "a count past the end stops there"
        );
        assert_eq!(card("sintercard 0 a"), Vec::<usize>::new());
        assert_eq!(card("sintercard x a"), Vec::<usize>::new());
        assert_eq!(
            command_keys(get("sintercard"), &argv("sintercard 2 a b")),
            vec![Bytes::from("a"), Bytes::from("b")]
        );
        assert_eq!(
            command_keys_and_flags(get("set"), &argv("set k v")),
            vec![Frame::Array(vec![
                Frame::bulk("k"),
                Frame::Set(vec![
                    Frame::Simple("OW".into()),
                    Frame::Simple("update".into())
                ]),
            ])]
        );
    }

    #[test]
    fn keyword_and_limited_range_specs() {
        // Redis's MIGRATE-style `KEYS` keyword searched backwards, XREAD-style `STREAMS`
        // keyword with half of the rest (limit 2), GEORADIUS-style STORE keyword.
        let positions = |ks: KeySpec, line: &str| ks.positions(&argv(line));
        let keys = KeySpec::keyword("KEYS", -2).range(-1, 1, 0);
        assert_eq!(positions(keys, "migrate h p \"\" 0 5 KEYS a b"), vec![7, 8]);
        assert_eq!(positions(keys, "migrate h p k 0 5"), Vec::<usize>::new());
        let streams = KeySpec::keyword("STREAMS", 1).range(-1, 1, 2);
        assert_eq!(
            positions(streams, "xread COUNT 2 STREAMS s1 s2 0 0"),
            vec![4, 5]
        );
        let store = KeySpec::keyword("STORE", 6).range(0, 1, 0);
        assert_eq!(positions(store, "georadius k 1 2 3 m STORE d"), vec![7]);
        assert_eq!(
            positions(store, "georadius k 1 2 3 m STORE"),
            Vec::<usize>::new()
        );
    }

    fn m(pairs: Vec<(&'static str, Frame)>) -> Frame {
        Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Frame::bulk(k), v))
                .collect(),
        )
    }

    fn flags(names: &[&str]) -> Frame {
        Frame::Set(names.iter().map(|n| Frame::Simple(n.to_string())).collect())
    }

    fn index(pos: i64) -> Frame {
        m(vec![
            ("type", Frame::bulk("index")),
            ("spec", m(vec![("index", Frame::Integer(pos))])),
        ])
    }

    fn range(lastkey: i64, keystep: i64) -> Frame {
        let spec = vec![
            ("lastkey", Frame::Integer(lastkey)),
            ("keystep", Frame::Integer(keystep)),
            ("limit", Frame::Integer(0)),
        ];
        m(vec![("type", Frame::bulk("range")), ("spec", m(spec))])
    }

    fn key_spec(names: &[&str], begin: Frame, find: Frame) -> Frame {
        m(vec![
            ("flags", flags(names)),
            ("begin_search", begin),
            ("find_keys", find),
        ])
    }

    /// COMMAND INFO's legacy triple and key specs, as Redis 7.2 replies them (RESP3).
    fn info_keys(name: &str) -> (Vec<Frame>, Frame) {
        let spec = every_spec().find(|s| s.name == name).expect(name);
        let Frame::Array(fields) = command_info(spec) else {
            panic!("{name}: not an array");
        };
        (fields[3..6].to_vec(), fields[8].clone())
    }

    #[test]
    fn command_info_key_specs_match_redis() {
        let ints = |v: [i64; 3]| v.map(Frame::Integer).to_vec();
        let get = key_spec(&["RO", "access"], index(1), range(0, 1));
        assert_eq!(info_keys("get"), (ints([1, 1, 1]), Frame::Array(vec![get])));
        let set = m(vec![
            (
                "notes",
                Frame::bulk("RW and ACCESS due to the optional `GET` argument"),
            ),
            (
                "flags",
                flags(&["RW", "access", "update", "variable_flags"]),
            ),
            ("begin_search", index(1)),
            ("find_keys", range(0, 1)),
        ]);
        assert_eq!(info_keys("set"), (ints([1, 1, 1]), Frame::Array(vec![set])));
        let mset = key_spec(&["OW", "update"], index(1), range(-1, 2));
        assert_eq!(
            info_keys("mset"),
            (ints([1, -1, 2]), Frame::Array(vec![mset]))
        );
        let rename = vec![
            key_spec(&["RW", "access", "delete"], index(1), range(0, 1)),
            key_spec(&["OW", "update"], index(2), range(0, 1)),
        ];
        assert_eq!(info_keys("rename"), (ints([1, 2, 1]), Frame::Array(rename)));
        let sdiffstore = vec![
            key_spec(&["OW", "update"], index(1), range(0, 1)),
            key_spec(&["RO", "access"], index(2), range(-1, 1)),
        ];
        assert_eq!(
            info_keys("sdiffstore"),
            (ints([1, -1, 1]), Frame::Array(sdiffstore))
        );
        let keynum = m(vec![
            ("type", Frame::bulk("keynum")),
            (
                "spec",
                m(vec![
                    ("keynumidx", Frame::Integer(0)),
                    ("firstkey", Frame::Integer(1)),
                    ("keystep", Frame::Integer(1)),
                ]),
            ),
        ]);
        let sintercard = key_spec(&["RO", "access"], index(1), keynum);
        assert_eq!(
            info_keys("sintercard"),
            (ints([0, 0, 0]), Frame::Array(vec![sintercard]))
        );
        let watch = key_spec(&["RO"], index(1), range(-1, 1));
        assert_eq!(
            info_keys("watch"),
            (ints([1, -1, 1]), Frame::Array(vec![watch]))
        );
        assert_eq!(info_keys("ping"), (ints([0, 0, 0]), Frame::Array(vec![])));
        let Frame::Array(info) =
            command_info(every_spec().find(|s| s.name == "sintercard").unwrap())
        else {
            panic!()
        };
        assert_eq!(info[2], flags(&["readonly", "movablekeys"]));
    }

    #[test]
    fn legacy_positions_follow_first_last_step() {
        let range = |first, last, step| LegacyRange {
            first,
            last,
            step,
            movable: false,
        };
        assert_eq!(range(1, -1, 2).positions(5), vec![1, 3]);
        assert_eq!(range(1, -1, 1).positions(4), vec![1, 2, 3]);
        assert_eq!(range(1, 1, 1).positions(3), vec![1]);
        assert_eq!(range(1, -2, 1).positions(4), vec![1, 2]);
        assert_eq!(range(0, 0, 0).positions(4), Vec::<usize>::new());
    }
}
