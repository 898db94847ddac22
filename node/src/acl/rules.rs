//! The user model and Redis's ACL rule grammar (ACL SETUSER), and how users are described
//! (ACL LIST, ACL GETUSER).

use bytes::Bytes;
use redoubt_proto::resp::Frame;
use serde::{Deserialize, Serialize};

use super::{AclState, PasswordHash};

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
}

/// Commands, key patterns and channel patterns (the root selector or a `(...)` one).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Selector {
    // helper: fields
}

impl User {
    /// A new user as ACL SETUSER creates it: `off resetkeys resetchannels -@all`.
    pub fn new(name: &str) -> User {
        todo!("helper {name}")
    }

    /// The `default` user of a fresh state: `on nopass ~* &* +@all`.
    pub fn default_user() -> User {
        todo!("helper")
    }

    /// Whether `plain` is one of the user's passwords (or the user is `nopass`); compares
    /// hashes in constant time. Does not look at `enabled`.
    pub fn check_password(&self, plain: &[u8]) -> bool {
        todo!("helper {}", plain.len())
    }

    /// The ACL LIST line, e.g. "user default on nopass sanitize-payload ~* &* +@all".
    pub fn describe(&self) -> String {
        todo!("helper")
    }

    /// The ACL GETUSER reply (a map: flags, passwords, commands, keys, channels, selectors).
    pub fn getuser_reply(&self) -> Frame {
        todo!("helper")
    }
}

/// Applies `rules` to `user` left to right (ACL SETUSER semantics). On error `user` may be
/// partly changed (callers work on a copy); the error is the full reply text.
pub fn apply_rules(user: &mut User, rules: &[Bytes]) -> Result<(), String> {
    todo!("helper {} {}", user.name, rules.len())
}

/// `>pass` -> `#hex(sha256(pass))`, `<pass` -> `!hex(sha256(pass))`, others unchanged.
pub fn hash_rule(rule: &Bytes) -> Bytes {
    todo!("helper {}", rule.len())
}

/// See [`AclState::from_definitions`].
pub fn state_from_definitions(defs: &[(String, Vec<Bytes>)]) -> Result<AclState, String> {
    todo!("helper {}", defs.len())
}

/// ACL CAT: every category name, in Redis's order.
pub fn categories() -> Vec<&'static str> {
    todo!("helper")
}

/// ACL CAT <category>: the commands (and `container|sub` subcommands) in it, or None for an
/// unknown category.
pub fn commands_in_category(category: &str) -> Option<Vec<&'static str>> {
    todo!("helper {category}")
}
