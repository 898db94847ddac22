//! The aclfile: Redis's format, one `user <name> <rules...>` line per user.
//!
//! Reading follows Redis 7.2's `ACLLoadFromFile`: lines are trimmed, empty lines are skipped,
//! the rest split on single spaces; every line must be `user <name> ...`, names must not hold
//! spaces, a user is defined once. Redoubt also skips `#` comment lines (Redis refuses them
//! because ACL SAVE would drop them) and ignores runs of spaces instead of reading empty
//! arguments. Loading is all or nothing: the first bad line is reported.

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::rules::apply_rules;
use super::{AclState, User};

/// One `user` line: (line number, name, rules).
type Line = (usize, String, Vec<Bytes>);

fn parse_lines(path: &str, content: &str) -> Result<Vec<Line>, String> {
    let mut out: Vec<Line> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, line) in content.split('\n').enumerate() {
        let n = i + 1;
        let line = line.trim_matches([' ', '\t', '\r', '\n']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split(' ').filter(|w| !w.is_empty());
        let (Some("user"), Some(name)) = (words.next(), words.next()) else {
            return Err(format!(
                "{path}:{n}: should start with user keyword followed by the username"
            ));
        };
        if name
            .bytes()
            .any(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | 0))
        {
            return Err(format!(
                "{path}:{n}: username '{name}' contains invalid characters"
            ));
        }
        if !seen.insert(name.to_string()) {
            return Err(format!("{path}:{n}: Duplicate user '{name}' found"));
        }
        let rules = words
            .map(|w| w.trim_matches(['\t', '\r', '\n']))
            .filter(|w| !w.is_empty())
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        out.push((n, name.to_string(), rules));
    }
    Ok(out)
}

/// Parses an aclfile's content into (name, rules) definitions. Empty lines and lines starting
/// with '#' are skipped. Errors are Redis's texts prefixed with "<path>:<line>: ", e.g.
/// "/etc/users.acl:3: should start with user keyword". Duplicate users are an error.
pub fn parse(path: &str, content: &str) -> Result<Vec<(String, Vec<Bytes>)>, String> {
    Ok(parse_lines(path, content)?
        .into_iter()
        .map(|(_, name, rules)| (name, rules))
        .collect())
}

/// Parses and checks a whole aclfile (ACL LOAD, aclfile at start): the definitions of
/// [`parse`], each also applied to a fresh user (all or nothing); an error names the file and
/// the line, "<path>:<line>: <error as ACL SETUSER would give it, without the leading ERR>".
pub fn load(path: &str, content: &str) -> Result<Vec<(String, Vec<Bytes>)>, String> {
    let lines = parse_lines(path, content)?;
    for (n, name, rules) in &lines {
        let mut user = User::new(name);
        apply_rules(&mut user, rules)
            .map_err(|e| format!("{path}:{n}: {}", e.strip_prefix("ERR ").unwrap_or(&e)))?;
    }
    Ok(lines
        .into_iter()
        .map(|(_, name, rules)| (name, rules))
        .collect())
}

/// ACL SAVE's content: one `describe()` line per user, sorted by name, each ending in '\n'.
pub fn format(state: &AclState) -> String {
    let mut out = String::new();
    for user in state.users() {
        out.push_str(&user.describe());
        out.push('\n');
    }
    out
}

/// Writes `content` to `path` atomically (temporary file in the same directory, fsync,
/// rename), mode 0600.
pub fn save_atomically(path: &Path, content: &str) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let file_name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("'{}' is not a file path", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        // The umask may only have removed bits; make it exactly 0600 anyway.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(content.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
