//! Users and permissions: the ACL model, Redis's rule grammar, permission checks, ACL LOG and
//! the aclfile format.
//!
//! The ACL state ([`AclState`]) is replicated state: the state machine is its only writer and
//! changes it only by applying Raft entries, so every node enforces the same rules at the same
//! log index. Nothing here ever sees or stores a plaintext password except [`hash_rules`], which
//! turns `>pass` / `<pass` into `#sha256` / `!sha256` before a rule list enters the log.

pub mod check;
pub mod file;
pub mod log;
pub mod replicated;
pub mod rules;

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

pub use check::{key_access, Access, Denied};
pub use rules::{Selector, User};

/// The command a user must be allowed to run to make peer (replication) calls: the
/// `masteruser` of a cluster needs `+psync`, as a Redis replica's `masteruser` does.
pub const REPLICATION_COMMAND: &str = "psync";

/// SHA-256 of a password, as Redis keeps them.
pub type PasswordHash = [u8; 32];

/// SHA-256 of `plain`.
pub fn hash_password(plain: &[u8]) -> PasswordHash {
    let digest = ring::digest::digest(&ring::digest::SHA256, plain);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Lower-case hex of a hash (`#<hex>` in ACL LIST, GETUSER and the aclfile).
pub fn hash_hex(hash: &PasswordHash) -> String {
    crate::hex::encode(hash)
}

/// Every user, by name (sorted, as ACL LIST and ACL USERS print them). The `default` user always
/// exists.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AclState {
    users: BTreeMap<String, User>,
}

impl Default for AclState {
    fn default() -> Self {
        AclState::new()
    }
}

impl AclState {
    /// A fresh state: only `default`, `on nopass ~* &* +@all`.
    pub fn new() -> AclState {
        let mut users = BTreeMap::new();
        users.insert("default".to_string(), User::default_user());
        AclState { users }
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    /// Users sorted by name.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// ACL SETUSER: creates the user if missing (`off resetkeys resetchannels -@all`) and applies
    /// `rules` left to right. All or nothing: on an error the state is unchanged and the error is
    /// the full Redis reply text (e.g. "ERR Error in ACL SETUSER modifier '+nosuch': Unknown
    /// command or category name in ACL"). Password tokens are never echoed in errors.
    pub fn set_user(&mut self, name: &str, rules: &[Bytes]) -> Result<(), String> {
        let mut user = match self.users.get(name) {
            Some(u) => u.clone(),
            None => User::new(name),
        };
        rules::apply_rules(&mut user, rules)?;
        self.users.insert(name.to_string(), user);
        Ok(())
    }

    /// ACL DELUSER: removes the named users that exist and returns how many. `default` cannot
    /// be removed ("ERR The 'default' user cannot be removed"); then nothing is removed.
    pub fn del_users(&mut self, names: &[Bytes]) -> Result<i64, String> {
        if names.iter().any(|n| n.as_ref() == b"default") {
            return Err("ERR The 'default' user cannot be removed".to_string());
        }
        let mut n = 0;
        for name in names {
            if let Ok(name) = std::str::from_utf8(name) {
                if self.users.remove(name).is_some() {
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// A whole new state from (name, rules) definitions (ACL LOAD, aclfile at start): the
    /// `default` user starts as in [`AclState::new`] and is replaced by a definition of it;
    /// other users start as [`User::new`]. All or nothing; the error names the definition
    /// (1-based) that failed, as `file::parse` does for lines.
    pub fn from_definitions(defs: &[(String, Vec<Bytes>)]) -> Result<AclState, String> {
        rules::state_from_definitions(defs)
    }
}

/// For a rule list about to enter the Raft log: `>pass` becomes `#<sha256 hex>` and `<pass`
/// becomes `!<sha256 hex>`, wherever they appear. Every other token is unchanged.
pub fn hash_rules(rules: &[Bytes]) -> Vec<Bytes> {
    rules.iter().map(rules::hash_rule).collect()
}

/// Checks the grammar of a rule list without any state (tokens, selectors' parentheses,
/// command and category names, hash syntax), so a bad list is refused before it is proposed.
/// Errors are the same texts as [`AclState::set_user`] would give.
pub fn validate_rules(rules: &[Bytes]) -> Result<(), String> {
    let mut scratch = User::new("scratch");
    // `<pass` / `!hash` of a password the scratch user lacks is a state question, not grammar.
    let relaxed: Vec<Bytes> = rules
        .iter()
        .filter(|r| !r.starts_with(b"<") && !r.starts_with(b"!"))
        .cloned()
        .collect();
    rules::apply_rules(&mut scratch, &relaxed)
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    diff == 0
}
