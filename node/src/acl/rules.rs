//! The user model and Redis's ACL rule grammar (ACL SETUSER), and how users are described
//! (ACL LIST, ACL GETUSER).
//!
//! The semantics are Redis 7.2's (`acl.c`: `ACLSetUser`, `ACLSetSelector`,
//! `ACLDescribeUser`, `ACLStringSetUser`):
//!
//! * A user has flags (`on`/`off`, `nopass`, `sanitize-payload`), password hashes, a root
//!   selector and any number of `(...)` selectors.
//! * A selector keeps its command permissions the way Redis 7.2 shows them: a base (`+@all` or
//!   `-@all`) and the ordered list of command rules applied since (`command_rules`). A new rule
//!   for the same command (or the whole container of a `container|sub` rule) replaces the older
//!   one, as `ACLUpdateCommandRules` does. The permission of a command is the sign of the last
//!   rule that covers it, or the base: exactly what Redis's bitmap ends up holding, but it stays
//!   right when the command table grows (no stale bitmap in the replicated state).
//! * Key patterns carry read/write flags (`%R~`, `%W~`, `~`), channel patterns are plain.
//!
//! Errors are Redis's texts; a rule that may hold a plaintext password (`>pass`, `<pass`, or
//! a selector containing one) is shown as `<redacted>`.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use bytes::Bytes;
use redoubt_proto::resp::Frame;
use serde::{Deserialize, Serialize};

use super::{hash_hex, hash_password, AclState, PasswordHash};
use crate::commands::table::{acl_categories, all_specs};
use crate::commands::CommandSpec;

/// Redis 7.2's ACL categories, in ACL CAT's order.
const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// One user.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub enabled: bool,
    pub nopass: bool,
    /// Password hashes in the order they were added, no duplicates.
    pub passwords: Vec<PasswordHash>,
    pub root: Selector,
    pub selectors: Vec<Selector>,
    /// Redis's `skip-sanitize-payload` flag (`sanitize-payload`, the default, when false).
    /// Redoubt has no RESTORE, so it only matters for describing the user faithfully.
    skip_sanitize_payload: bool,
}

/// Commands, key patterns and channel patterns (the root selector or a `(...)` one).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Selector {
    /// The command rules start from `+@all` (Redis's "future commands" bit), else `-@all`.
    pub(super) all_commands_base: bool,
    /// Command rules applied after the base, in Redis's `command_rules` order.
    pub(super) command_rules: Vec<CommandRule>,
    /// `allkeys` / `~*`: every key, whatever the patterns.
    pub(super) all_keys: bool,
    pub(super) keys: Vec<KeyPattern>,
    /// `allchannels` / `&*`.
    pub(super) all_channels: bool,
    pub(super) channels: Vec<Vec<u8>>,
}

/// A key pattern and the access it grants.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct KeyPattern {
    pub(super) pattern: Vec<u8>,
    pub(super) read: bool,
    pub(super) write: bool,
}

/// One command rule, as Redis keeps it in `command_rules` (names lower-case).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(super) enum CommandRule {
    /// `+name` / `-name`: a command, a container with all its subcommands, or one
    /// `container|sub` subcommand (canonical table names).
    Command { allow: bool, name: String },
    /// `+@category` / `-@category`.
    Category { allow: bool, name: String },
    /// `+command|arg`: the command is also allowed when its first argument is `arg` (Redis's
    /// deprecated first-arg form, for commands without subcommands, e.g. `+select|0`).
    FirstArg { command: String, arg: Vec<u8> },
}

impl CommandRule {
    /// The rule without its sign, as `ACLSelectorRemoveCommandRule` compares them.
    fn key(&self) -> Vec<u8> {
        match self {
            CommandRule::Command { name, .. } => name.as_bytes().to_vec(),
            CommandRule::Category { name, .. } => {
                let mut k = b"@".to_vec();
                k.extend_from_slice(name.as_bytes());
                k
            }
            CommandRule::FirstArg { command, arg } => {
                let mut k = command.as_bytes().to_vec();
                k.push(b'|');
                k.extend_from_slice(arg);
                k
            }
        }
    }

    fn describe(&self) -> String {
        let sign = match self {
            CommandRule::Command { allow, .. } | CommandRule::Category { allow, .. } => {
                if *allow {
                    '+'
                } else {
                    '-'
                }
            }
            CommandRule::FirstArg { .. } => '+',
        };
        format!("{sign}{}", String::from_utf8_lossy(&self.key()))
    }
}

/// Why a rule was refused (Redis's errno values of `ACLSetUser`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuleError {
    /// EINVAL
    Syntax,
    /// ENOENT
    UnknownCommand,
    /// EEXIST
    KeyAfterAllKeys,
    /// EISDIR
    ChannelAfterAllChannels,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// ECHILD
    FirstArgOfSubcommand,
}

impl RuleError {
    /// `ACLSetUserStringError`.
    fn text(self) -> &'static str {
        match self {
            RuleError::Syntax => "Syntax error",
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::KeyAfterAllKeys => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and \
                 does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelAfterAllChannels => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid \
                 and does not have any effect. Try 'resetchannels' to start with an empty list of \
                 channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase \
                 hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => {
                "Allowing first-arg of a subcommand is not supported"
            }
        }
    }
}

impl User {
    /// A new user as ACL SETUSER creates it: `off resetkeys resetchannels -@all`.
    pub fn new(name: &str) -> User {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            passwords: Vec::new(),
            root: Selector::default(),
            selectors: Vec::new(),
            skip_sanitize_payload: false,
        }
    }

    /// The `default` user of a fresh state: `on nopass ~* &* +@all`.
    pub fn default_user() -> User {
        let mut user = User::new("default");
        user.enabled = true;
        user.nopass = true;
        user.root.all_keys = true;
        user.root.all_channels = true;
        user.root.all_commands_base = true;
        user
    }

    /// Whether `plain` is one of the user's passwords (or the user is `nopass`); compares
    /// hashes in constant time. Does not look at `enabled`.
    pub fn check_password(&self, plain: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let candidate = hash_password(plain);
        // Every stored hash is compared in full, whatever matched before: the time taken
        // depends only on how many passwords the user has.
        let mut found = 0u8;
        for stored in &self.passwords {
            let mut diff = 0u8;
            for (a, b) in stored.iter().zip(candidate.iter()) {
                diff |= a ^ b;
            }
            found |= u8::from(std::hint::black_box(diff) == 0);
        }
        found != 0
    }

    /// Whether some selector of the user lets it mention `channel` (`is_pattern`: a
    /// PSUBSCRIBE pattern, which must equal an allowed pattern). Redis's
    /// `ACLUserCheckChannelPerm`, for dropping subscribers whose permission was revoked.
    pub fn check_channel(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_selectors()
            .any(|s| s.all_channels || s.allows_channel(channel, is_pattern))
    }

    /// Root selector first, then the `(...)` ones.
    pub(super) fn all_selectors(&self) -> impl Iterator<Item = &Selector> {
        std::iter::once(&self.root).chain(self.selectors.iter())
    }

    /// The ACL LIST line, e.g. "user default on nopass sanitize-payload ~* &* +@all".
    pub fn describe(&self) -> String {
        let mut out = format!("user {} ", self.name);
        out.push_str(if self.enabled { "on " } else { "off " });
        if self.nopass {
            out.push_str("nopass ");
        }
        out.push_str(if self.skip_sanitize_payload {
            "skip-sanitize-payload "
        } else {
            "sanitize-payload "
        });
        for hash in &self.passwords {
            out.push('#');
            out.push_str(&hash_hex(hash));
            out.push(' ');
        }
        out.push_str(&self.root.describe());
        for selector in &self.selectors {
            out.push_str(" (");
            out.push_str(&selector.describe());
            out.push(')');
        }
        out
    }

    /// The ACL GETUSER reply (a map: flags, passwords, commands, keys, channels, selectors).
    pub fn getuser_reply(&self) -> Frame {
        let mut flags = vec![Frame::bulk(if self.enabled { "on" } else { "off" })];
        if self.nopass {
            flags.push(Frame::bulk("nopass"));
        }
        flags.push(Frame::bulk(if self.skip_sanitize_payload {
            "skip-sanitize-payload"
        } else {
            "sanitize-payload"
        }));
        let mut fields = vec![
            (Frame::bulk("flags"), Frame::Set(flags)),
            (
                Frame::bulk("passwords"),
                Frame::Array(
                    self.passwords
                        .iter()
                        .map(|h| Frame::bulk(hash_hex(h)))
                        .collect(),
                ),
            ),
        ];
        fields.extend(self.root.getuser_fields());
        fields.push((
            Frame::bulk("selectors"),
            Frame::Array(
                self.selectors
                    .iter()
                    .map(|s| Frame::Map(s.getuser_fields()))
                    .collect(),
            ),
        ));
        Frame::Map(fields)
    }

    /// One rule (`ACLSetUser`); selector contents were merged into one argument before.
    fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.skip_sanitize_payload = true;
        } else if is("sanitize-payload") {
            self.skip_sanitize_payload = false;
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if let Some(rest) = op.strip_prefix(b">") {
            self.add_password(hash_password(rest));
        } else if let Some(rest) = op.strip_prefix(b"#") {
            self.add_password(parse_hash(rest).ok_or(RuleError::BadHash)?);
        } else if let Some(rest) = op.strip_prefix(b"<") {
            self.remove_password(&hash_password(rest))?;
        } else if let Some(rest) = op.strip_prefix(b"!") {
            self.remove_password(&parse_hash(rest).ok_or(RuleError::BadHash)?)?;
        } else if op.len() >= 2 && op.starts_with(b"(") && op.ends_with(b")") {
            let inner = &op[1..op.len() - 1];
            let args = redoubt_proto::resp::split_args(inner).ok_or(RuleError::Syntax)?;
            let mut selector = Selector::default();
            for arg in &args {
                selector.apply(arg)?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.clear();
        } else if is("reset") {
            // resetpass resetkeys resetchannels off sanitize-payload clearselectors -@all
            // (acl-pubsub-default is resetchannels, Redis 7's default): a new user's state.
            self.nopass = false;
            self.passwords.clear();
            self.root.all_keys = false;
            self.root.keys.clear();
            self.root.all_channels = false;
            self.root.channels.clear();
            self.enabled = false;
            self.skip_sanitize_payload = false;
            self.selectors.clear();
            self.root.all_commands_base = false;
            self.root.command_rules.clear();
        } else {
            self.root.apply(op)?;
        }
        Ok(())
    }

    fn add_password(&mut self, hash: PasswordHash) {
        if !self.passwords.contains(&hash) {
            self.passwords.push(hash);
        }
        self.nopass = false;
    }

    fn remove_password(&mut self, hash: &PasswordHash) -> Result<(), RuleError> {
        let before = self.passwords.len();
        self.passwords.retain(|p| p != hash);
        if self.passwords.len() == before {
            return Err(RuleError::NoSuchPassword);
        }
        Ok(())
    }
}

impl Selector {
    /// One selector rule (`ACLSetSelector`): keys, channels and commands.
    fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || op == b"&*" {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.all_commands_base = true;
            self.command_rules.clear();
        } else if is("nocommands") || is("-@all") {
            self.all_commands_base = false;
            self.command_rules.clear();
        } else if op.starts_with(b"~") || op.starts_with(b"%") {
            self.add_key_pattern(op)?;
        } else if let Some(pattern) = op.strip_prefix(b"&") {
            if self.all_channels {
                return Err(RuleError::ChannelAfterAllChannels);
            }
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
        } else if let Some(category) = op.strip_prefix(b"+@") {
            self.add_category_rule(category, true)?;
        } else if let Some(category) = op.strip_prefix(b"-@") {
            self.add_category_rule(category, false)?;
        } else if let Some(name) = op.strip_prefix(b"+") {
            self.allow_command(name)?;
        } else if let Some(name) = op.strip_prefix(b"-") {
            let spec = lookup_command(name).ok_or(RuleError::UnknownCommand)?;
            self.update_rules(CommandRule::Command {
                allow: false,
                name: spec.name.to_string(),
            });
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// `~pat`, `%R~pat`, `%W~pat`, `%RW~pat`.
    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.all_keys {
            return Err(RuleError::KeyAfterAllKeys);
        }
        let (read, write, pattern) = if let Some(pattern) = op.strip_prefix(b"~") {
            (true, true, pattern)
        } else {
            // '%' then R and/or W (each at most once, any case), then '~' and the pattern.
            let (mut read, mut write) = (false, false);
            let mut offset = 1;
            let mut ok = true;
            while let Some(&c) = op.get(offset) {
                offset += 1;
                match c.to_ascii_uppercase() {
                    b'R' if !read => read = true,
                    b'W' if !write => write = true,
                    b'~' => break,
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok || !(read || write) {
                return Err(RuleError::Syntax);
            }
            (read, write, op.get(offset..).unwrap_or_default())
        };
        if has_spaces(pattern) {
            return Err(RuleError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern == pattern) {
            Some(existing) => {
                existing.read |= read;
                existing.write |= write;
            }
            None => self.keys.push(KeyPattern {
                pattern: pattern.to_vec(),
                read,
                write,
            }),
        }
        Ok(())
    }

    fn add_category_rule(&mut self, category: &[u8], allow: bool) -> Result<(), RuleError> {
        let name = CATEGORIES
            .iter()
            .find(|c| category.eq_ignore_ascii_case(c.as_bytes()))
            .ok_or(RuleError::UnknownCommand)?;
        self.update_rules(CommandRule::Category {
            allow,
            name: (*name).to_string(),
        });
        Ok(())
    }

    /// `+cmd`, `+container|sub`, or the first-arg form `+cmd|arg`.
    fn allow_command(&mut self, name: &[u8]) -> Result<(), RuleError> {
        let Some(bar) = name.iter().rposition(|&c| c == b'|') else {
            let spec = lookup_command(name).ok_or(RuleError::UnknownCommand)?;
            self.update_rules(CommandRule::Command {
                allow: true,
                name: spec.name.to_string(),
            });
            return Ok(());
        };
        let (base, arg) = (&name[..bar], &name[bar + 1..]);
        let spec = lookup_command(base).ok_or(RuleError::UnknownCommand)?;
        if spec.name.contains('|') {
            return Err(RuleError::FirstArgOfSubcommand);
        }
        if arg.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !spec.subcommands.is_empty() {
            let sub = lookup_command(name).ok_or(RuleError::UnknownCommand)?;
            self.update_rules(CommandRule::Command {
                allow: true,
                name: sub.name.to_string(),
            });
        } else {
            // Redoubt refuses what Redis would store but could not describe back: a first
            // argument with spaces would not survive ACL LIST / ACL SAVE.
            if has_spaces(arg) {
                return Err(RuleError::Syntax);
            }
            self.update_rules(CommandRule::FirstArg {
                command: spec.name.to_string(),
                arg: arg.to_ascii_lowercase(),
            });
        }
        Ok(())
    }

    /// `ACLUpdateCommandRules`: drop the older rule for the same thing (and, for a whole
    /// command, its `command|...` rules), then append.
    fn update_rules(&mut self, rule: CommandRule) {
        let key = rule.key();
        self.command_rules.retain(|existing| {
            let k = existing.key();
            !(k == key || (k.len() > key.len() && k.starts_with(&key) && k[key.len()] == b'|'))
        });
        self.command_rules.push(rule);
    }

    /// The selector part of an ACL LIST line: keys, channels, commands.
    fn describe(&self) -> String {
        let mut out = String::new();
        if self.all_keys {
            out.push_str("~* ");
        } else {
            for k in &self.keys {
                out.push_str(&k.describe());
                out.push(' ');
            }
        }
        if self.all_channels {
            out.push_str("&* ");
        } else {
            out.push_str("resetchannels ");
            for c in &self.channels {
                out.push('&');
                out.push_str(&String::from_utf8_lossy(c));
                out.push(' ');
            }
        }
        out.push_str(&self.commands_description());
        out
    }

    /// `ACLDescribeSelectorCommandRules`: "+@all" or "-@all", then the rules.
    fn commands_description(&self) -> String {
        let mut out = String::from(if self.all_commands_base {
            "+@all"
        } else {
            "-@all"
        });
        for rule in &self.command_rules {
            out.push(' ');
            out.push_str(&rule.describe());
        }
        out
    }

    /// `commands`, `keys`, `channels` of ACL GETUSER.
    fn getuser_fields(&self) -> Vec<(Frame, Frame)> {
        let keys = if self.all_keys {
            "~*".to_string()
        } else {
            self.keys
                .iter()
                .map(KeyPattern::describe)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let channels = if self.all_channels {
            "&*".to_string()
        } else {
            self.channels
                .iter()
                .map(|c| format!("&{}", String::from_utf8_lossy(c)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        vec![
            (
                Frame::bulk("commands"),
                Frame::bulk(self.commands_description()),
            ),
            (Frame::bulk("keys"), Frame::bulk(keys)),
            (Frame::bulk("channels"), Frame::bulk(channels)),
        ]
    }

    /// Whether the command rules let `spec` run with these arguments (keys and channels
    /// aside). `spec` may be a `container|sub` spec.
    pub(super) fn allows_command(&self, spec: &CommandSpec, argv: &[Bytes]) -> bool {
        let name = spec.name;
        let parent = name.split_once('|').map(|(p, _)| p);
        let mut categories: Option<Vec<&'static str>> = None;
        let mut allowed = self.all_commands_base;
        let mut first_arg_ok = false;
        for rule in &self.command_rules {
            let covers = match rule {
                CommandRule::Command { name: n, .. } => n == name || Some(n.as_str()) == parent,
                CommandRule::Category { name: c, .. } => categories
                    .get_or_insert_with(|| categories_with_parent(spec))
                    .contains(&c.as_str()),
                CommandRule::FirstArg { command, arg } => {
                    if command == name && argv.get(1).is_some_and(|a| a.eq_ignore_ascii_case(arg)) {
                        first_arg_ok = true;
                    }
                    false
                }
            };
            if covers {
                // Setting a command's bit also forgets its allowed first arguments.
                if let CommandRule::Command { allow, .. } | CommandRule::Category { allow, .. } =
                    rule
                {
                    allowed = *allow;
                }
                first_arg_ok = false;
            }
        }
        allowed || first_arg_ok
    }

    /// Whether a key pattern grants `key` with the needed access (`ACLSelectorCheckKey`;
    /// `allkeys` is checked by the caller).
    pub(super) fn allows_key(&self, key: &[u8], read: bool, write: bool) -> bool {
        self.keys.iter().any(|k| {
            (k.read || !read)
                && (k.write || !write)
                && crate::commands::args::glob_match(&k.pattern, key, false)
        })
    }

    /// `ACLCheckChannelAgainstList`: a PSUBSCRIBE pattern must equal an allowed pattern, a
    /// channel name is matched against them (`allchannels` is checked by the caller).
    pub(super) fn allows_channel(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.channels.iter().any(|c| {
            if is_pattern {
                c.as_slice() == channel
            } else {
                crate::commands::args::glob_match(c, channel, false)
            }
        })
    }
}

impl KeyPattern {
    fn describe(&self) -> String {
        let prefix = match (self.read, self.write) {
            (true, false) => "%R~",
            (false, true) => "%W~",
            _ => "~",
        };
        format!("{prefix}{}", String::from_utf8_lossy(&self.pattern))
    }
}

/// The categories of `spec` and, for a subcommand, of its container: a category rule applied
/// to a container covers all its subcommands (Redis's `ACLChangeSelectorPerm`).
fn categories_with_parent(spec: &CommandSpec) -> Vec<&'static str> {
    let mut cats = acl_categories(spec);
    if let Some(parent) = spec
        .name
        .split_once('|')
        .and_then(|(p, _)| lookup_command(p.as_bytes()))
    {
        cats.extend(acl_categories(parent));
    }
    cats
}

/// Top-level specs by name.
fn command_index() -> &'static HashMap<&'static str, &'static CommandSpec> {
    static INDEX: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    INDEX.get_or_init(|| all_specs().map(|s| (s.name, s)).collect())
}

/// A command of the original table (renames do not matter to ACLs) by name, any case:
/// `name` or `container|sub` (Redis's `ACLLookupCommand`, strict: `cmd|x` for a command
/// without subcommands is no command).
pub(super) fn lookup_command(name: &[u8]) -> Option<&'static CommandSpec> {
    let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    let mut parts = name.split('|');
    let base = command_index().get(parts.next()?).copied()?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(_), None) => base.subcommands.iter().find(|s| s.name == name),
        (Some(_), Some(_)) => None,
    }
}

/// `ACLStringHasSpaces`: C `isspace` or NUL.
fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | 0))
}

/// 64 lower-case hex digits -> hash.
fn parse_hash(hex: &[u8]) -> Option<PasswordHash> {
    if hex.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// `ACLMergeSelectorArguments`: a selector may be spread over several arguments, from one
/// starting with '(' to one ending with ')'; they are joined with spaces. Err(index of the
/// argument that opened a selector that never closes).
fn merge_selector_args(args: &[Bytes]) -> Result<Vec<Bytes>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, op) in args.iter().enumerate() {
        match open.as_mut() {
            None => {
                if op.first() == Some(&b'(') && op.last() != Some(&b')') {
                    open = Some((j, op.to_vec()));
                } else {
                    out.push(op.clone());
                }
            }
            Some((_, selector)) => {
                selector.push(b' ');
                selector.extend_from_slice(op);
                if op.last() == Some(&b')') {
                    out.push(Bytes::from(std::mem::take(selector)));
                    open = None;
                }
            }
        }
    }
    match open {
        Some((start, _)) => Err(start),
        None => Ok(out),
    }
}

/// Whether a rule may carry a plaintext password: `>pass`, `<pass`, or a selector with such
/// a token (passwords are invalid there, but the text must not be echoed either).
fn may_hold_password(op: &[u8]) -> bool {
    let token_is_password = |t: &[u8]| {
        let t = t.strip_prefix(b"(").unwrap_or(t);
        t.starts_with(b">") || t.starts_with(b"<")
    };
    token_is_password(op)
        || (op.starts_with(b"(") && op.split(|c| c.is_ascii_whitespace()).any(token_is_password))
}

/// A rule as an error message may show it.
fn shown(op: &[u8]) -> String {
    if may_hold_password(op) {
        return "<redacted>".to_string();
    }
    String::from_utf8_lossy(op).replace(['\r', '\n'], " ")
}

/// Applies `rules` to `user` left to right (ACL SETUSER semantics). On error `user` may be
/// partly changed (callers work on a copy); the error is the full reply text.
pub fn apply_rules(user: &mut User, rules: &[Bytes]) -> Result<(), String> {
    if has_spaces(user.name.as_bytes()) {
        return Err("ERR Usernames can't contain spaces or null characters".to_string());
    }
    let merged = merge_selector_args(rules).map_err(|start| {
        let arg = rules.get(start).map(|a| shown(a)).unwrap_or_default();
        format!("ERR Unmatched parenthesis in acl selector starting at '{arg}'.")
    })?;
    for op in &merged {
        user.apply(op).map_err(|e| {
            format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                shown(op),
                e.text()
            )
        })?;
    }
    Ok(())
}

/// `>pass` -> `#hex(sha256(pass))`, `<pass` -> `!hex(sha256(pass))`, others unchanged.
/// Inside a one-argument selector (where passwords are invalid anyway) such tokens are
/// hashed too, so a plaintext never reaches the log whatever the rule.
pub fn hash_rule(rule: &Bytes) -> Bytes {
    if let Some(hashed) = hash_token(rule) {
        return Bytes::from(hashed);
    }
    if !rule.starts_with(b"(") || !may_hold_password(rule) {
        return rule.clone();
    }
    let tokens: Vec<&[u8]> = rule
        .split(|c| c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let last = tokens.len().saturating_sub(1);
    let mut out = Vec::with_capacity(rule.len() + 64);
    for (i, token) in tokens.iter().enumerate() {
        let mut core: &[u8] = token;
        let mut prefix: &[u8] = b"";
        let mut suffix: &[u8] = b"";
        if i == 0 {
            if let Some(rest) = core.strip_prefix(b"(") {
                prefix = b"(";
                core = rest;
            }
        }
        if i == last {
            if let Some(rest) = core.strip_suffix(b")") {
                suffix = b")";
                core = rest;
            }
        }
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(prefix);
        match hash_token(core) {
            Some(hashed) => out.extend_from_slice(&hashed),
            None => out.extend_from_slice(core),
        }
        out.extend_from_slice(suffix);
    }
    Bytes::from(out)
}

/// `>pass` / `<pass` hashed, None for any other token.
fn hash_token(token: &[u8]) -> Option<Vec<u8>> {
    let (mark, plain) = match token.split_first() {
        Some((b'>', plain)) => (b'#', plain),
        Some((b'<', plain)) => (b'!', plain),
        _ => return None,
    };
    let mut out = vec![mark];
    out.extend_from_slice(hash_hex(&hash_password(plain)).as_bytes());
    Some(out)
}

/// For the node that hashed a client's rules with [`hash_rules`](super::hash_rules) before
/// proposing them: `error`, the reply to the hashed rules, with a rule that was a plaintext
/// password in `original` (`<pass` is `!hash` in the log) shown as `<redacted>`, as the
/// error to `original` itself would show it.
pub fn redact_hashed_error(original: &[Bytes], error: &str) -> String {
    let hashed: Vec<String> = original
        .iter()
        .flat_map(|rule| {
            let after = hash_rule(rule);
            rule.split(|c| c.is_ascii_whitespace())
                .zip(after.split(|c| c.is_ascii_whitespace()))
                .filter(|(before, after)| before != after)
                .map(|(_, after)| {
                    let after = after.strip_prefix(b"(").unwrap_or(after);
                    let after = after.strip_suffix(b")").unwrap_or(after);
                    String::from_utf8_lossy(after).into_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    if hashed.is_empty() {
        return error.to_string();
    }
    for (prefix, end) in [
        ("ERR Error in ACL SETUSER modifier '", "': "),
        (
            "ERR Unmatched parenthesis in acl selector starting at '",
            "'.",
        ),
    ] {
        if let Some((shown, rest)) = error
            .strip_prefix(prefix)
            .and_then(|tail| tail.rfind(end).map(|at| tail.split_at(at)))
        {
            if hashed.iter().any(|h| shown.contains(h.as_str())) {
                return format!("{prefix}<redacted>{rest}");
            }
        }
    }
    error.to_string()
}

/// See [`AclState::from_definitions`].
pub fn state_from_definitions(defs: &[(String, Vec<Bytes>)]) -> Result<AclState, String> {
    let mut state = AclState::new();
    let mut seen = BTreeSet::new();
    for (i, (name, rules)) in defs.iter().enumerate() {
        let n = i + 1;
        if !seen.insert(name.as_str()) {
            return Err(format!("ERR definition {n}: Duplicate user '{name}' found"));
        }
        // Every defined user starts from scratch, `default` included (Redis's ACL LOAD
        // creates each user anew): check the rules on a new user, then install the same
        // state through `reset`, which turns an existing user into a new one.
        let mut fresh = User::new(name);
        apply_rules(&mut fresh, rules).map_err(|e| {
            format!(
                "ERR definition {n}: {}",
                e.strip_prefix("ERR ").unwrap_or(&e)
            )
        })?;
        let mut with_reset = Vec::with_capacity(rules.len() + 1);
        with_reset.push(Bytes::from_static(b"reset"));
        with_reset.extend(rules.iter().cloned());
        state.set_user(name, &with_reset).map_err(|e| {
            format!(
                "ERR definition {n}: {}",
                e.strip_prefix("ERR ").unwrap_or(&e)
            )
        })?;
    }
    Ok(state)
}

/// ACL CAT: every category name, in Redis's order.
pub fn categories() -> Vec<&'static str> {
    CATEGORIES.to_vec()
}

/// ACL CAT <category>: the commands (and `container|sub` subcommands) in it, or None for an
/// unknown category.
pub fn commands_in_category(category: &str) -> Option<Vec<&'static str>> {
    let category = *CATEGORIES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(category))?;
    let mut out = Vec::new();
    for spec in all_specs() {
        if acl_categories(spec).contains(&category) {
            out.push(spec.name);
        }
        for sub in spec.subcommands {
            if acl_categories(sub).contains(&category) {
                out.push(sub.name);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    /// Rules from a space-separated string (no argument holds a space).
    fn r(s: &str) -> Vec<Bytes> {
        s.split(' ').filter(|w| !w.is_empty()).map(b).collect()
    }

    fn user_with(name: &str, rules: &[Bytes]) -> Result<User, String> {
        let mut u = User::new(name);
        apply_rules(&mut u, rules)?;
        Ok(u)
    }

    fn user(rules: &str) -> User {
        user_with("u", &r(rules)).expect("valid rules")
    }

    fn err(rules: &[Bytes]) -> String {
        user_with("u", rules).expect_err("rules must be refused")
    }

    fn hex_of(plain: &str) -> String {
        hash_hex(&hash_password(plain.as_bytes()))
    }

    fn commands(rules: &str) -> String {
        user(rules).root.commands_description()
    }

    const FOOBAR_SHA256: &str = "c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2";

    #[test]
    fn new_and_default_users_describe_as_redis_7_2() {
        assert_eq!(
            User::new("bob").describe(),
            "user bob off sanitize-payload resetchannels -@all"
        );
        assert_eq!(
            User::default_user().describe(),
            "user default on nopass sanitize-payload ~* &* +@all"
        );
        assert_eq!(AclState::new().user("default"), Some(&User::default_user()));
    }

    #[test]
    fn flags() {
        let u = user("on");
        assert!(u.enabled);
        assert!(!user("on off").enabled);
        assert!(user("ON").enabled, "keywords are case-insensitive");
        let u = user("skip-sanitize-payload");
        assert_eq!(
            u.describe(),
            "user u off skip-sanitize-payload resetchannels -@all"
        );
        assert_eq!(
            user("skip-sanitize-payload sanitize-payload"),
            User::new("u")
        );
        // An empty rule does nothing.
        assert_eq!(user_with("u", &[b("")]).expect("ok"), User::new("u"));
    }

    #[test]
    fn passwords_are_hashed_kept_in_order_and_deduplicated() {
        let u = user(">p1 >p2 >p1");
        assert_eq!(
            u.passwords,
            vec![hash_password(b"p1"), hash_password(b"p2")]
        );
        assert!(!u.nopass);
        assert_eq!(
            u.describe(),
            format!(
                "user u off sanitize-payload #{} #{} resetchannels -@all",
                hex_of("p1"),
                hex_of("p2")
            )
        );
        assert_eq!(hex_of("foobar"), FOOBAR_SHA256);
        let u = user(&format!("#{FOOBAR_SHA256}"));
        assert!(u.check_password(b"foobar"));
        // A hash and the same password in plain text are one password.
        let u = user(&format!("#{FOOBAR_SHA256} >foobar"));
        assert_eq!(u.passwords.len(), 1);
        // Removal by plain text or by hash.
        assert!(user(">a >b <a").passwords == vec![hash_password(b"b")]);
        assert!(user(&format!(">foobar !{FOOBAR_SHA256}"))
            .passwords
            .is_empty());
    }

    #[test]
    fn nopass_and_resetpass() {
        let u = user(">a nopass");
        assert!(u.nopass);
        assert!(u.passwords.is_empty());
        assert!(u.check_password(b"anything"));
        let u = user("nopass >a");
        assert!(!u.nopass, ">pass clears nopass");
        assert!(!u.check_password(b"anything"));
        assert!(u.check_password(b"a"));
        let u = user(&format!("nopass #{FOOBAR_SHA256}"));
        assert!(!u.nopass, "#hash clears nopass");
        let u = user(">a >b resetpass");
        assert!(!u.nopass && u.passwords.is_empty());
        let u = user("nopass resetpass");
        assert!(!u.nopass);
        assert!(!u.check_password(b""));
    }

    #[test]
    fn check_password_compares_every_hash() {
        let u = user(">one >two >three");
        assert!(u.check_password(b"one"));
        assert!(u.check_password(b"two"));
        assert!(u.check_password(b"three"));
        assert!(!u.check_password(b"four"));
        assert!(!u.check_password(b""));
        assert!(
            !User::new("x").check_password(b""),
            "no password, not nopass"
        );
        assert!(User::default_user().check_password(b"whatever"));
        // Binary passwords.
        let u = user_with("u", &[Bytes::from_static(b">\x00\xff pw")]).expect("ok");
        assert!(u.check_password(b"\x00\xff pw"));
    }

    #[test]
    fn password_errors_use_redis_texts() {
        let bad_hash = "ERR Error in ACL SETUSER modifier '#abc': The password hash must be \
                        exactly 64 characters and contain only lowercase hexadecimal characters";
        assert_eq!(err(&r("#abc")), bad_hash);
        let upper = FOOBAR_SHA256.to_uppercase();
        assert!(err(&[b(&format!("#{upper}"))]).contains("must be exactly 64 characters"));
        let short = &FOOBAR_SHA256[..63];
        assert!(err(&[b(&format!("#{short}"))]).contains("must be exactly 64 characters"));
        let q = format!("{}q", &FOOBAR_SHA256[..63]);
        assert!(err(&[b(&format!("#{q}"))]).contains("must be exactly 64 characters"));
        assert!(err(&[b(&format!("!{q}"))]).contains("must be exactly 64 characters"));
        assert_eq!(
            err(&[b(&format!("!{FOOBAR_SHA256}"))]),
            format!(
                "ERR Error in ACL SETUSER modifier '!{FOOBAR_SHA256}': The password you are \
                 trying to remove from the user does not exist"
            )
        );
    }

    #[test]
    fn plaintext_passwords_never_appear_in_errors() {
        let e = err(&r("<hunter2"));
        assert_eq!(
            e,
            "ERR Error in ACL SETUSER modifier '<redacted>': The password you are trying to \
             remove from the user does not exist"
        );
        let e = err(&[b("(~foo >hunter2)")]);
        assert_eq!(
            e,
            "ERR Error in ACL SETUSER modifier '<redacted>': Syntax error"
        );
        let e = err(&r("(>hunter2 ~foo"));
        assert_eq!(
            e,
            "ERR Unmatched parenthesis in acl selector starting at '<redacted>'."
        );
        let e = err(&r("(~foo <hunter2)"));
        assert!(!e.contains("hunter2"), "{e}");
        let e = err(&r("(<hunter2)"));
        assert!(!e.contains("hunter2"), "{e}");
        // Other rules are shown, with line breaks made spaces.
        assert_eq!(
            err(&[b("+no\r\nsuch")]),
            "ERR Error in ACL SETUSER modifier '+no  such': Unknown command or category name \
             in ACL"
        );
    }

    #[test]
    fn key_patterns() {
        assert_eq!(
            user("~foo:* ~bar").describe(),
            "user u off sanitize-payload ~foo:* ~bar resetchannels -@all"
        );
        assert_eq!(
            user("%R~r* %W~w*").root.describe(),
            "%R~r* %W~w* resetchannels -@all"
        );
        // Redis's "Test R+W is the same as all permissions".
        assert_eq!(
            user("%R~foo %W~foo %RW~bar").root.getuser_fields()[1].1,
            Frame::bulk("~foo ~bar")
        );
        assert_eq!(
            user("%rw~a %wR~b").root.describe(),
            "~a ~b resetchannels -@all"
        );
        assert_eq!(user("~a ~a ~b ~a").root.keys.len(), 2, "no duplicates");
        // '%R' without '~' is an empty pattern, as in Redis.
        assert_eq!(user("%R").root.describe(), "%R~ resetchannels -@all");
        assert_eq!(user("~a allkeys").root.describe(), "~* resetchannels -@all");
        assert_eq!(user("~a ~*").root.keys, Vec::new());
        assert!(user("~a ~*").root.all_keys);
        assert_eq!(
            user("allkeys resetkeys").root.describe(),
            "resetchannels -@all"
        );
        assert_eq!(
            user("~a resetkeys ~b").root.describe(),
            "~b resetchannels -@all"
        );
        // %RW~* is a pattern, not allkeys: more patterns may follow.
        assert_eq!(
            user("%RW~* ~x").root.describe(),
            "~* ~x resetchannels -@all"
        );
        for bad in ["%", "%~a", "%X~a", "%RR~a", "%RWR~a", "%R-~a"] {
            assert_eq!(
                err(&[b(bad)]),
                format!("ERR Error in ACL SETUSER modifier '{bad}': Syntax error"),
                "{bad}"
            );
        }
        assert!(err(&[b("~a b")]).ends_with("Syntax error"));
        assert!(err(&[Bytes::from_static(b"~a\0b")]).ends_with("Syntax error"));
        assert!(err(&[b("~a\tb")]).ends_with("Syntax error"));
        let eexist = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid \
                      and does not have any effect. Try 'resetkeys' to start with an empty list \
                      of patterns";
        assert_eq!(
            err(&r("allkeys ~foo")),
            format!("ERR Error in ACL SETUSER modifier '~foo': {eexist}")
        );
        assert_eq!(
            err(&r("~* %R~foo")),
            format!("ERR Error in ACL SETUSER modifier '%R~foo': {eexist}")
        );
        // ~* again after allkeys is fine.
        assert!(user("allkeys ~*").root.all_keys);
    }

    #[test]
    fn channel_patterns() {
        assert_eq!(
            user("&foo &bar:* &foo").root.describe(),
            "resetchannels &foo &bar:* -@all"
        );
        assert_eq!(user("&foo allchannels").root.describe(), "&* -@all");
        assert_eq!(user("&*").root.describe(), "&* -@all");
        assert_eq!(
            user("&* resetchannels").root.describe(),
            "resetchannels -@all"
        );
        assert_eq!(
            user("&a resetchannels &b").root.describe(),
            "resetchannels &b -@all"
        );
        let eisdir = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not \
                      valid and does not have any effect. Try 'resetchannels' to start with an \
                      empty list of channels";
        assert_eq!(
            err(&r("allchannels &foo")),
            format!("ERR Error in ACL SETUSER modifier '&foo': {eisdir}")
        );
        assert!(err(&[b("&a b")]).ends_with("Syntax error"));
        // Redis's "Validate subset of channels is prefixed with resetchannels flag".
        assert_eq!(
            user_with("hpuser", &r("on nopass resetchannels &foo +@all"))
                .expect("ok")
                .describe(),
            "user hpuser on nopass sanitize-payload resetchannels &foo +@all"
        );
    }

    #[test]
    fn command_rules_are_described_as_redis_7_2_keeps_them() {
        // Redis's "ACL GETUSER provides correct results", step by step.
        let mut u = User::new("adv-test");
        let mut step = |rules: &str, want: &str| {
            apply_rules(&mut u, &r(rules)).expect("valid");
            assert_eq!(u.root.commands_description(), want, "after {rules}");
        };
        step("+@all -@hash -@slow +hget", "+@all -@hash -@slow +hget");
        step("-@hash", "+@all -@slow +hget -@hash");
        step("+@hash", "+@all -@slow +hget +@hash");
        step("-@all", "-@all");
        step("-@string -@slow +@all", "+@all");
        step("-@all +@HASH +@hash +@HaSh", "-@all +@hash");
        step("-@all +HGET +hget +hGeT", "-@all +hget");
        step(
            "-@all +@hash +@slow +@set +@set +@slow +@hash",
            "-@all +@set +@slow +@hash",
        );
        step("-@all +hget -hset +hset -hget", "-@all +hset -hget");
        step(
            "-@all +client|list +client|list +config|get +config",
            "-@all +client|list +config",
        );
        step(
            "-@all +select|0 +select|0 +debug|segfault +debug",
            "-@all +select|0 +debug",
        );
        step("-@all -@dangerous", "-@all -@dangerous");
        step(
            "-@all +config +config|get -config|set +config",
            "-@all +config",
        );
        // Aliases.
        step("allcommands", "+@all");
        step("nocommands", "-@all");
        step("+@ALL", "+@all");
        // Subcommand rules.
        step("+@all -client|kill", "+@all -client|kill");
        step(
            "-@all +acl +config -config|set",
            "-@all +acl +config -config|set",
        );
        step(
            "+@all -client +client|id +client|setname",
            "+@all -client +client|id +client|setname",
        );
        step("+@all +client|id", "+@all +client|id");
        step("-client", "+@all -client");
        // Each category alone.
        for cat in CATEGORIES {
            step(&format!("+@all -@{cat}"), &format!("+@all -@{cat}"));
            step(&format!("-@all +@{cat}"), &format!("-@all +@{cat}"));
        }
    }

    #[test]
    fn command_rule_errors() {
        let unknown = |rule: &str| {
            format!(
                "ERR Error in ACL SETUSER modifier '{rule}': Unknown command or category name in \
                 ACL"
            )
        };
        for rule in [
            "+nosuch",
            "-nosuch",
            "+@nosuch",
            "-@nosuch",
            "+",
            "-",
            "+@",
            "+|",
            "+config|asdf",
            "-config|asdf",
            "+get|key1|key2",
            "-get|key1|key2",
            "-select|0",
            "+nosuch|x",
            "-config|get|x",
        ] {
            assert_eq!(err(&[b(rule)]), unknown(rule), "{rule}");
        }
        assert_eq!(
            err(&r("+config|get|appendonly")),
            "ERR Error in ACL SETUSER modifier '+config|get|appendonly': Allowing first-arg of a \
             subcommand is not supported"
        );
        assert_eq!(
            err(&r("+select|")),
            "ERR Error in ACL SETUSER modifier '+select|': Syntax error"
        );
        assert_eq!(
            err(&r("+config|")),
            "ERR Error in ACL SETUSER modifier '+config|': Syntax error"
        );
        for rule in ["bogus", "*", "@all", "=get"] {
            assert_eq!(
                err(&[b(rule)]),
                format!("ERR Error in ACL SETUSER modifier '{rule}': Syntax error")
            );
        }
        // First-arg forms are stored lower-case, as Redis describes them.
        assert_eq!(commands("+SELECT|Zero"), "-@all +select|zero");
    }

    #[test]
    fn all_or_nothing_through_acl_state() {
        let mut state = AclState::new();
        state.set_user("alice", &r("on >pw ~a +get")).expect("ok");
        let before = state.clone();
        let e = state
            .set_user("alice", &r("off resetkeys +nosuch"))
            .expect_err("refused");
        assert!(e.contains("'+nosuch'"), "{e}");
        assert_eq!(state, before);
        let e = state
            .set_user("bob", &r("on +nosuch"))
            .expect_err("refused");
        assert!(e.starts_with("ERR Error in ACL SETUSER modifier"), "{e}");
        assert!(state.user("bob").is_none());
        // A new user without rules exists with the new-user state.
        state.set_user("carol", &[]).expect("ok");
        assert_eq!(state.user("carol"), Some(&User::new("carol")));
    }

    #[test]
    fn usernames_with_spaces_are_refused() {
        for name in ["a a", "a\tb", "a\0", "x\n"] {
            assert_eq!(
                user_with(name, &[]).expect_err("refused"),
                "ERR Usernames can't contain spaces or null characters"
            );
        }
    }

    #[test]
    fn selectors_in_one_or_several_arguments() {
        let u = user_with("u", &[b("(~foo +get)")]).expect("ok");
        assert_eq!(u.selectors.len(), 1);
        assert_eq!(
            u.describe(),
            "user u off sanitize-payload resetchannels -@all (~foo resetchannels -@all +get)"
        );
        let split = user_with("u", &r("(~foo +get)")).expect("ok");
        assert_eq!(split, u);
        let split = user_with("u", &r("( ~foo +get )")).expect("ok");
        assert_eq!(split, u);
        // Redis's "Test flexible selector definition".
        let u = user_with(
            "selector-2",
            &[
                b("(~key1 +get )"),
                b("( ~key2 +get )"),
                b("( ~key3 +get)"),
                b("(~key4 +get)"),
            ],
        )
        .expect("ok");
        let u2 = user_with(
            "selector-2",
            &r("(~key1 +get ) ( ~key2 +get ) ( ~key3 +get) (~key4 +get)"),
        )
        .expect("ok");
        assert_eq!(u, u2);
        for (i, s) in u.selectors.iter().enumerate() {
            assert_eq!(
                s.getuser_fields()[1].1,
                Frame::bulk(format!("~key{}", i + 1))
            );
        }
        assert_eq!(
            err(&[b(" () ")]),
            "ERR Error in ACL SETUSER modifier ' () ': Syntax error"
        );
        assert_eq!(
            err(&r("on (")),
            "ERR Unmatched parenthesis in acl selector starting at '('."
        );
        assert_eq!(
            err(&r("(~foo +get")),
            "ERR Unmatched parenthesis in acl selector starting at '(~foo'."
        );
        assert_eq!(
            err(&r(")")),
            "ERR Error in ACL SETUSER modifier ')': Syntax error"
        );
        // An empty selector has no permissions.
        let u = user("reset ()");
        assert_eq!(u.selectors, vec![Selector::default()]);
        assert_eq!(u.selectors[0].describe(), "resetchannels -@all");
        let u = user("( )");
        assert_eq!(u.selectors.len(), 1);
    }

    #[test]
    fn selector_contents() {
        let u = user("(-@all +set resetchannels &channel2 %R~foo2 %W~bar2 ~baz2)");
        assert_eq!(
            u.selectors[0].describe(),
            "%R~foo2 %W~bar2 ~baz2 resetchannels &channel2 -@all +set"
        );
        let u = user("(allkeys allchannels allcommands -get)");
        assert_eq!(u.selectors[0].describe(), "~* &* +@all -get");
        // Only key, channel and command rules: user rules are syntax errors there.
        for inner in [
            "on",
            "off",
            "nopass",
            ">pw",
            "#x",
            "reset",
            "resetpass",
            "clearselectors",
        ] {
            let rule = format!("(~a {inner})");
            let e = err(&[b(&rule)]);
            assert!(e.ends_with("': Syntax error"), "{rule}: {e}");
        }
        assert!(err(&[b("(+nosuch)")]).ends_with("Unknown command or category name in ACL"));
        assert!(err(&[b("(&* &fail)")]).contains("'allchannels' flag"));
        assert!(err(&[b("(~* ~fail)")]).contains("'allkeys' flag"));
        // Quotes, as sdssplitargs reads them.
        let u = user_with("u", &[b("(~\"a\" '+get')")]).expect("ok");
        assert_eq!(u.selectors[0].describe(), "~a resetchannels -@all +get");
        let u = user_with("u", &[b("(~\"\\x41\\n\")")]);
        assert!(u.is_err(), "a pattern with a newline is refused");
        assert!(err(&[b("(~\"a +get)")]).ends_with("Syntax error"));
        assert!(err(&[b("(~\"a\"b)")]).ends_with("Syntax error"));
        // Several selectors keep their order; clearselectors drops them, not the root.
        let u = user("~root (~one) (~two) +get");
        assert_eq!(
            u.describe(),
            "user u off sanitize-payload ~root resetchannels -@all +get (~one resetchannels \
             -@all) (~two resetchannels -@all)"
        );
        let u = user("~root (~one) (~two) +get clearselectors");
        assert!(u.selectors.is_empty());
        assert_eq!(u.root.describe(), "~root resetchannels -@all +get");
    }

    #[test]
    fn reset_gives_a_new_users_state() {
        let u = user(&format!(
            "on >a #{FOOBAR_SHA256} nopass skip-sanitize-payload ~k* &c +@all -get (~x +set) reset"
        ));
        assert_eq!(u, User::new("u"));
        let mut d = User::default_user();
        apply_rules(&mut d, &r("reset")).expect("ok");
        assert_eq!(d, User::new("default"));
    }

    #[test]
    fn getuser_reply_matches_redis() {
        // Redis's "Test ACL GETUSER response information".
        let u = user_with(
            "selector-info",
            &r("-@all +get resetchannels &channel1 %R~foo1 %W~bar1 ~baz1 \
                (-@all +set resetchannels &channel2 %R~foo2 %W~bar2 ~baz2)"),
        )
        .expect("ok");
        let selector = Frame::Map(vec![
            (Frame::bulk("commands"), Frame::bulk("-@all +set")),
            (Frame::bulk("keys"), Frame::bulk("%R~foo2 %W~bar2 ~baz2")),
            (Frame::bulk("channels"), Frame::bulk("&channel2")),
        ]);
        assert_eq!(
            u.getuser_reply(),
            Frame::Map(vec![
                (
                    Frame::bulk("flags"),
                    Frame::Set(vec![Frame::bulk("off"), Frame::bulk("sanitize-payload")])
                ),
                (Frame::bulk("passwords"), Frame::Array(vec![])),
                (Frame::bulk("commands"), Frame::bulk("-@all +get")),
                (Frame::bulk("keys"), Frame::bulk("%R~foo1 %W~bar1 ~baz1")),
                (Frame::bulk("channels"), Frame::bulk("&channel1")),
                (Frame::bulk("selectors"), Frame::Array(vec![selector])),
            ])
        );
        let d = User::default_user().getuser_reply();
        assert_eq!(
            d,
            Frame::Map(vec![
                (
                    Frame::bulk("flags"),
                    Frame::Set(vec![
                        Frame::bulk("on"),
                        Frame::bulk("nopass"),
                        Frame::bulk("sanitize-payload")
                    ])
                ),
                (Frame::bulk("passwords"), Frame::Array(vec![])),
                (Frame::bulk("commands"), Frame::bulk("+@all")),
                (Frame::bulk("keys"), Frame::bulk("~*")),
                (Frame::bulk("channels"), Frame::bulk("&*")),
                (Frame::bulk("selectors"), Frame::Array(vec![])),
            ])
        );
        let u = user(">foobar");
        let Frame::Map(fields) = u.getuser_reply() else {
            panic!("a map");
        };
        assert_eq!(
            fields[1],
            (
                Frame::bulk("passwords"),
                Frame::Array(vec![Frame::bulk(FOOBAR_SHA256)])
            )
        );
        // An empty keys / channels field is an empty string.
        let Frame::Map(fields) = User::new("x").getuser_reply() else {
            panic!("a map");
        };
        assert_eq!(fields[3], (Frame::bulk("keys"), Frame::bulk("")));
        assert_eq!(fields[4], (Frame::bulk("channels"), Frame::bulk("")));
    }

    #[test]
    fn hash_rule_turns_plaintext_into_hashes() {
        assert_eq!(hash_rule(&b(">foobar")), b(&format!("#{FOOBAR_SHA256}")));
        assert_eq!(hash_rule(&b("<foobar")), b(&format!("!{FOOBAR_SHA256}")));
        assert_eq!(hash_rule(&b(">")), b(&format!("#{}", hex_of(""))));
        for same in ["~foo", "on", "#abc", "!abc", "(~foo +get)", "+@all", ""] {
            assert_eq!(hash_rule(&b(same)), b(same), "{same}");
        }
        assert_eq!(
            hash_rule(&b("(>foobar ~foo)")),
            b(&format!("(#{FOOBAR_SHA256} ~foo)"))
        );
        assert_eq!(
            hash_rule(&b("(~foo <foobar)")),
            b(&format!("(~foo !{FOOBAR_SHA256})"))
        );
        // Applying hashed rules gives the same user as the plaintext ones.
        let plain = r("on >a >b <a ~k +get");
        let hashed = crate::acl::hash_rules(&plain);
        assert!(hashed
            .iter()
            .all(|h| !h.starts_with(b">") && !h.starts_with(b"<")));
        assert_eq!(user_with("u", &hashed), user_with("u", &plain));
    }

    #[test]
    fn errors_of_hashed_rules_are_redacted_back() {
        let original = r("on <hunter2");
        let hashed = crate::acl::hash_rules(&original);
        let mut state = AclState::new();
        let e = state.set_user("x", &hashed).expect_err("no such password");
        assert!(e.contains(&hex_of("hunter2")), "{e}");
        assert_eq!(redact_hashed_error(&original, &e), err(&original));
        // Selectors holding a password, split over arguments or not.
        for original in [
            r("(~a >hunter2)"),
            vec![b("(~a >hunter2)")],
            r("(>hunter2 ~a"),
        ] {
            let hashed = crate::acl::hash_rules(&original);
            let e = user_with("u", &hashed).expect_err("refused");
            let shown = redact_hashed_error(&original, &e);
            assert!(!shown.contains(&hex_of("hunter2")), "{shown}");
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        let original = vec![b("(~a >hunter2)")];
        let e = user_with("u", &crate::acl::hash_rules(&original)).expect_err("refused");
        assert_eq!(redact_hashed_error(&original, &e), err(&original));
        // A hash given as such is shown, as Redis shows it.
        let zeros = format!("!{}", "0".repeat(64));
        let e = err(&[b(&zeros)]);
        assert_eq!(redact_hashed_error(&[b(&zeros)], &e), e);
        assert_eq!(redact_hashed_error(&r("+nosuch >pw"), "ERR x"), "ERR x");
        let e = err(&r(">pw +nosuch"));
        assert_eq!(redact_hashed_error(&r(">pw +nosuch"), &e), e);
    }

    #[test]
    fn validate_rules_checks_grammar_only() {
        assert!(crate::acl::validate_rules(&r("on >a <b #c ~k +get (~x +set)")).is_err());
        assert!(crate::acl::validate_rules(&r(&format!(
            "on >a <b !{FOOBAR_SHA256} ~k +get (~x +set)"
        )))
        .is_ok());
        assert!(crate::acl::validate_rules(&r("+nosuch")).is_err());
        assert!(crate::acl::validate_rules(&r("(~x")).is_err());
    }

    #[test]
    fn definitions_replace_every_user_and_start_fresh() {
        let state = state_from_definitions(&[]).expect("ok");
        assert_eq!(state, AclState::new());
        let defs = vec![
            ("default".to_string(), r("on >pw ~* +@all")),
            ("alice".to_string(), r("on nopass (~a +get)")),
        ];
        let state = state_from_definitions(&defs).expect("ok");
        // `default` is built from scratch (no nopass, no &* left from the initial default).
        assert_eq!(
            state.user("default").map(User::describe),
            Some(format!(
                "user default on sanitize-payload #{} ~* resetchannels +@all",
                hex_of("pw")
            ))
        );
        assert_eq!(
            state.user("alice"),
            Some(&user_with("alice", &r("on nopass (~a +get)")).expect("ok"))
        );
        assert_eq!(state.users().count(), 2);
        // Without a definition of it, `default` is the initial one.
        let state = state_from_definitions(&defs[1..]).expect("ok");
        assert_eq!(state.user("default"), Some(&User::default_user()));

        let e = state_from_definitions(&[
            ("alice".to_string(), r("on")),
            ("bob".to_string(), r("on +nosuch")),
        ])
        .expect_err("refused");
        assert_eq!(
            e,
            "ERR definition 2: Error in ACL SETUSER modifier '+nosuch': Unknown command or \
             category name in ACL"
        );
        let e = state_from_definitions(&[
            ("alice".to_string(), r("on")),
            ("alice".to_string(), r("off")),
        ])
        .expect_err("refused");
        assert_eq!(e, "ERR definition 2: Duplicate user 'alice' found");
        let e = state_from_definitions(&[("a b".to_string(), r("on"))]).expect_err("refused");
        assert_eq!(
            e,
            "ERR definition 1: Usernames can't contain spaces or null characters"
        );
        let e = state_from_definitions(&[("x".to_string(), r("<secret"))]).expect_err("refused");
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn acl_state_round_trips_through_postcard() {
        let mut state = AclState::new();
        state
            .set_user(
                "alice",
                &r(
                    "on >a >b %R~r* %W~w* ~rw* &news:* +@all -@dangerous +config|get -debug \
                    +select|0 (~sel* +get resetchannels &x) (allkeys allchannels -@all +@read)",
                ),
            )
            .expect("ok");
        state
            .set_user("bob", &r("skip-sanitize-payload nopass allkeys"))
            .expect("ok");
        state.set_user("carol", &[]).expect("ok");
        let bytes = postcard::to_allocvec(&state).expect("serialize");
        let back: AclState = postcard::from_bytes(&bytes).expect("deserialize");
        assert_eq!(back, state);
        // Deterministic: the same state gives the same bytes.
        assert_eq!(postcard::to_allocvec(&back).expect("serialize"), bytes);
        assert!(postcard::from_bytes::<AclState>(&bytes[..bytes.len() / 2]).is_err());
    }

    #[test]
    fn describe_then_reapply_gives_the_same_user() {
        for rules in [
            "on >a ~k* %R~r* &c +@all -@dangerous +config|get -debug +select|0",
            "off nopass allkeys allchannels -@all +@read -keys (~x +set) (%W~y &z)",
            "skip-sanitize-payload resetchannels -@all +client|id +client|setname",
            "",
        ] {
            let u = user(rules);
            let line = u.describe();
            let words: Vec<Bytes> = line.split(' ').skip(2).map(b).collect();
            let again = user_with("u", &words).expect("described rules apply");
            assert_eq!(again, u, "{line}");
        }
    }

    #[test]
    fn categories_and_their_commands() {
        let cats = categories();
        assert_eq!(cats.len(), 21);
        assert_eq!(cats.first(), Some(&"keyspace"));
        assert_eq!(cats.last(), Some(&"scripting"));
        let string = commands_in_category("string").expect("known");
        assert!(string.contains(&"get") && string.contains(&"incrbyfloat"));
        assert!(!string.contains(&"hset"));
        assert_eq!(commands_in_category("STRING"), Some(string));
        let admin = commands_in_category("admin").expect("known");
        assert!(admin.contains(&"config|set") && admin.contains(&"client|kill"));
        assert!(!admin.contains(&"get"));
        let keyspace = commands_in_category("keyspace").expect("known");
        assert!(keyspace.contains(&"del") && !keyspace.contains(&"set"));
        assert!(commands_in_category("nosuch").is_none());
        assert!(commands_in_category("all").is_none());
        // Every category a table command names is one Redis knows.
        for spec in all_specs() {
            for s in std::iter::once(spec).chain(spec.subcommands) {
                for c in acl_categories(s) {
                    assert!(CATEGORIES.contains(&c), "{}: unknown category {c}", s.name);
                }
            }
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_strict() {
        assert_eq!(lookup_command(b"GET").map(|s| s.name), Some("get"));
        assert_eq!(
            lookup_command(b"Config|Get").map(|s| s.name),
            Some("config|get")
        );
        assert!(lookup_command(b"config").is_some());
        assert!(lookup_command(b"get|x").is_none());
        assert!(lookup_command(b"config|get|x").is_none());
        assert!(lookup_command(b"\xff").is_none());
        assert!(lookup_command(b"").is_none());
    }

    #[test]
    fn no_panic_on_odd_rules() {
        let odd: &[&[u8]] = &[
            b"(",
            b")",
            b"()",
            b"((",
            b"))",
            b"(()",
            b"(\"",
            b"%",
            b"%R",
            b"~",
            b"&",
            b"+",
            b"-",
            b"+@",
            b"-@",
            b"#",
            b"!",
            b">",
            b"<",
            b"|",
            b"+|",
            b"+||",
            b"-|",
            b"+a|b|c",
            b"\xff",
            b"+\xff",
            b"+get|\xff",
            b"(\xff)",
            b"%\xff~",
            b"(+select|x y)",
            b"+select|a b",
        ];
        for rule in odd {
            let mut u = User::new("u");
            let _ = apply_rules(&mut u, &[Bytes::copy_from_slice(rule)]);
            let _ = u.describe();
            let _ = u.getuser_reply();
            let _ = hash_rule(&Bytes::copy_from_slice(rule));
            let _ = crate::acl::validate_rules(&[Bytes::copy_from_slice(rule)]);
        }
    }
}
