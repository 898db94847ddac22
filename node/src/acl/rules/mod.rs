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
//!
//! This file holds the user model (the types and the two users every state starts from); the
//! rest is split by concern: `parse.rs` (applying rules to a user, ACL SETUSER's grammar and
//! its errors), `selector.rs` (key, channel and command rules of a selector),
//! `password.rs` (password rules, their hashing before the log and the redaction of errors),
//! `describe.rs` (ACL LIST and ACL GETUSER), `permission.rs` (what a selector allows) and
//! `commands.rs` (the command table as ACL rules see it, ACL CAT).

mod commands;
mod describe;
mod parse;
mod password;
mod permission;
mod selector;

use serde::{Deserialize, Serialize};

use super::PasswordHash;

pub use commands::{categories, commands_in_category};
pub use parse::{apply_rules, state_from_definitions};
pub use password::{hash_rule, redact_hashed_error};

/// For the tests of `acl::check`, which build selectors against real command specs.
#[cfg(test)]
pub(super) use commands::lookup_command;

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

    /// Root selector first, then the `(...)` ones.
    pub(super) fn all_selectors(&self) -> impl Iterator<Item = &Selector> {
        std::iter::once(&self.root).chain(self.selectors.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    use crate::acl::rules::parse::apply_rules;
    use crate::acl::{hash_hex, hash_password};

    pub(super) fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    /// Rules from a space-separated string (no argument holds a space).
    pub(super) fn r(s: &str) -> Vec<Bytes> {
        s.split(' ').filter(|w| !w.is_empty()).map(b).collect()
    }

    pub(super) fn user_with(name: &str, rules: &[Bytes]) -> Result<User, String> {
        let mut u = User::new(name);
        apply_rules(&mut u, rules)?;
        Ok(u)
    }

    pub(super) fn user(rules: &str) -> User {
        user_with("u", &r(rules)).expect("valid rules")
    }

    pub(super) fn err(rules: &[Bytes]) -> String {
        user_with("u", rules).expect_err("rules must be refused")
    }

    pub(super) fn hex_of(plain: &str) -> String {
        hash_hex(&hash_password(plain.as_bytes()))
    }

    pub(super) const FOOBAR_SHA256: &str =
        "c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2";
}
