//! The command table: lookup by name (with `rename-command` applied) and the COMMAND replies.

use std::collections::HashMap;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::{flag, CommandSpec, Exec};

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
    flag::NAMES
        .iter()
        .filter(|(f, _)| spec.flags & f != 0)
        .map(|(_, n)| Frame::Simple((*n).to_string()))
        .collect()
}

fn key_spec_frames(spec: &CommandSpec) -> Vec<Frame> {
    if spec.keys.first <= 0 {
        return Vec::new();
    }
    let write = spec.flags & flag::WRITE != 0;
    let access = if write { "RW" } else { "RO" };
    let kind = if write { "UPDATE" } else { "ACCESS" };
    let limit = 0;
    vec![Frame::Map(vec![
        (
            Frame::bulk("flags"),
            Frame::Set(vec![
                Frame::Simple(access.into()),
                Frame::Simple(kind.into()),
            ]),
        ),
        (
            Frame::bulk("begin_search"),
            Frame::Map(vec![
                (Frame::bulk("type"), Frame::bulk("index")),
                (
                    Frame::bulk("spec"),
                    Frame::Map(vec![(
                        Frame::bulk("index"),
                        Frame::Integer(i64::from(spec.keys.first)),
                    )]),
                ),
            ]),
        ),
        (
            Frame::bulk("find_keys"),
            Frame::Map(vec![
                (Frame::bulk("type"), Frame::bulk("range")),
                (
                    Frame::bulk("spec"),
                    Frame::Map(vec![
                        (
                            Frame::bulk("lastkey"),
                            Frame::Integer(i64::from(if spec.keys.last < 0 {
                                spec.keys.last
                            } else {
                                spec.keys.last - spec.keys.first
                            })),
                        ),
                        (
                            Frame::bulk("keystep"),
                            Frame::Integer(i64::from(spec.keys.step)),
                        ),
                        (Frame::bulk("limit"), Frame::Integer(limit)),
                    ]),
                ),
            ]),
        ),
    ])]
}

/// One command's COMMAND INFO reply (10 fields, as Redis 7.2).
pub fn command_info(spec: &CommandSpec) -> Frame {
    Frame::Array(vec![
        Frame::bulk(spec.name),
        Frame::Integer(i64::from(spec.arity)),
        Frame::Set(flag_frames(spec)),
        Frame::Integer(i64::from(spec.keys.first)),
        Frame::Integer(i64::from(spec.keys.last)),
        Frame::Integer(i64::from(spec.keys.step)),
        Frame::Set(
            acl_categories(spec)
                .into_iter()
                .map(|c| Frame::Simple(format!("@{c}")))
                .collect(),
        ),
        Frame::Set(Vec::new()),
        Frame::Array(key_spec_frames(spec)),
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

/// Keys of a command line per the table (COMMAND GETKEYS, ACL key checks).
pub fn command_keys(spec: &CommandSpec, argv: &[Bytes]) -> Vec<Bytes> {
    spec.keys
        .positions(argv.len())
        .into_iter()
        .filter_map(|i| argv.get(i).cloned())
        .collect()
}

/// Whether `spec` runs a handler (data command).
pub fn is_data_command(spec: &CommandSpec) -> bool {
    matches!(spec.exec, Exec::Read(_) | Exec::Write(_))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn key_positions_follow_first_last_step() {
        assert_eq!(KeySpecTest::positions(1, -1, 2, 5), vec![1, 3]);
        assert_eq!(KeySpecTest::positions(1, -1, 1, 4), vec![1, 2, 3]);
        assert_eq!(KeySpecTest::positions(1, 1, 1, 3), vec![1]);
        assert_eq!(KeySpecTest::positions(1, -2, 1, 4), vec![1, 2]);
    }

    struct KeySpecTest;
    impl KeySpecTest {
        fn positions(first: i32, last: i32, step: i32, argc: usize) -> Vec<usize> {
            super::super::KeySpec::new(first, last, step).positions(argc)
        }
    }
}
