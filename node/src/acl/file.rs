//! The aclfile: Redis's format, one `user <name> <rules...>` line per user.

use bytes::Bytes;

use super::AclState;

/// Parses an aclfile's content into (name, rules) definitions. Empty lines and lines starting
/// with '#' are skipped. Errors are Redis's texts prefixed with "<path>:<line>: ", e.g.
/// "/etc/users.acl:3: should start with user keyword". Duplicate users are an error.
pub fn parse(path: &str, content: &str) -> Result<Vec<(String, Vec<Bytes>)>, String> {
    todo!("helper {path} {}", content.len())
}

/// Parses and checks a whole aclfile (ACL LOAD, aclfile at start): the definitions of
/// [`parse`], each also applied to a fresh user (all or nothing); an error names the file and
/// the line, "<path>:<line>: <error as ACL SETUSER would give it, without the leading ERR>".
pub fn load(path: &str, content: &str) -> Result<Vec<(String, Vec<Bytes>)>, String> {
    todo!("helper {path} {}", content.len())
}

/// ACL SAVE's content: one `describe()` line per user, sorted by name, each ending in '\n'.
pub fn format(state: &AclState) -> String {
    todo!("helper {}", state.users().count())
}

/// Writes `content` to `path` atomically (temporary file in the same directory, fsync,
/// rename), mode 0600.
pub fn save_atomically(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    todo!("helper {} {}", path.display(), content.len())
}
