//! Permission checks: may a user run a command line (command, keys, channels)?

use bytes::Bytes;

use super::User;
use crate::commands::CommandSpec;

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
}

/// How a command uses a key (Redis key-spec flags reduced to what ACL needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Reads the key's value (needs %R or ~).
    pub read: bool,
    /// Changes the key (needs %W or ~).
    pub write: bool,
}

/// The keys of `argv` (argv[0] is the command, subcommand specs get the whole line) with how
/// the command uses each, from the table's key positions.
pub fn key_access(spec: &CommandSpec, argv: &[Bytes]) -> Vec<(usize, Access)> {
    todo!("helper: {} {}", spec.name, argv.len())
}

impl User {
    /// Whether this user may run `argv` (already resolved to `spec`, a subcommand spec for
    /// containers): root selector first, then each selector; the first that allows wins,
    /// otherwise the most relevant denial as Redis picks it.
    pub fn check(&self, spec: &CommandSpec, argv: &[Bytes]) -> Result<(), Denied> {
        todo!("helper: {} {}", spec.name, argv.len())
    }
}
