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

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn words(s: &str) -> Vec<Bytes> {
        s.split(' ').filter(|w| !w.is_empty()).map(b).collect()
    }

    const PATH: &str = "/etc/users.acl";

    #[test]
    fn parse_skips_blanks_and_comments() {
        let content =
            "\n# users\n  user alice on >pw ~a* +get  \r\n\n\tuser bob  off\t\n   \n# end";
        let defs = parse(PATH, content).expect("valid");
        assert_eq!(
            defs,
            vec![
                ("alice".to_string(), words("on >pw ~a* +get")),
                ("bob".to_string(), words("off")),
            ]
        );
        assert_eq!(parse(PATH, ""), Ok(vec![]));
        assert_eq!(
            parse(PATH, "user carol"),
            Ok(vec![("carol".to_string(), vec![])])
        );
        // Selectors stay as written; applying them merges them.
        assert_eq!(
            parse(PATH, "user dave (~x +get)"),
            Ok(vec![("dave".to_string(), words("(~x +get)"))])
        );
    }

    #[test]
    fn parse_errors_name_the_line() {
        assert_eq!(
            parse(PATH, "user alice on\nusr bob on"),
            Err(
                "/etc/users.acl:2: should start with user keyword followed by the username"
                    .to_string()
            )
        );
        assert_eq!(
            parse(PATH, "\n\n user"),
            Err(
                "/etc/users.acl:3: should start with user keyword followed by the username"
                    .to_string()
            )
        );
        assert!(
            parse(PATH, "USER alice on").is_err(),
            "the keyword is case-sensitive"
        );
        assert_eq!(
            parse(PATH, "user a\tb on"),
            Err("/etc/users.acl:1: username 'a\tb' contains invalid characters".to_string())
        );
        assert_eq!(
            parse(PATH, "user alice on\nuser bob on\nuser alice off"),
            Err("/etc/users.acl:3: Duplicate user 'alice' found".to_string())
        );
    }

    #[test]
    fn load_checks_every_rule() {
        let defs = load(
            PATH,
            "user alice on (~rw* +get)\nuser default on nopass ~* &* +@all",
        )
        .expect("valid");
        assert_eq!(defs.len(), 2);
        assert_eq!(
            load(PATH, "user alice on\nuser bob on +nosuch ~x"),
            Err(
                "/etc/users.acl:2: Error in ACL SETUSER modifier '+nosuch': Unknown command or \
                 category name in ACL"
                    .to_string()
            )
        );
        assert_eq!(
            load(PATH, "user alice on (~foo +get"),
            Err(
                "/etc/users.acl:1: Unmatched parenthesis in acl selector starting at '(~foo'."
                    .to_string()
            )
        );
        let e = load(PATH, "user alice on <hunter2").expect_err("refused");
        assert_eq!(
            e,
            "/etc/users.acl:1: Error in ACL SETUSER modifier '<redacted>': The password you are \
             trying to remove from the user does not exist"
        );
        // Parse errors come first, whatever the line.
        assert!(load(PATH, "user alice +nosuch\nbogus")
            .expect_err("refused")
            .starts_with("/etc/users.acl:2:"));
        // Each user is checked from scratch: removing a password defined on another line of
        // the same user is impossible, as there is only one line per user.
        assert!(load(PATH, "user alice >a\nuser bob <a").is_err());
    }

    #[test]
    fn redis_userwithselectors_fixture() {
        // tests/assets/userwithselectors.acl of Redis, as acl-v2.tcl reads it.
        let content = "user alice on (+get ~rw*)\nuser bob on (+set %W~w*) (+get %R~r*)\n";
        let defs = load(PATH, content).expect("valid");
        let state = AclState::from_definitions(&defs).expect("valid");
        assert_eq!(
            state.user("alice").map(User::describe),
            Some(
                "user alice on sanitize-payload resetchannels -@all (~rw* resetchannels -@all \
                 +get)"
                    .to_string()
            )
        );
        assert_eq!(
            state.user("bob").map(User::describe),
            Some(
                "user bob on sanitize-payload resetchannels -@all (%W~w* resetchannels -@all \
                 +set) (%R~r* resetchannels -@all +get)"
                    .to_string()
            )
        );
        assert_eq!(
            state.user("default"),
            Some(&User::default_user()),
            "not in the file"
        );
    }

    #[test]
    fn format_and_load_round_trip() {
        let mut state = AclState::new();
        state
            .set_user(
                "alice",
                &words(
                    "on >a >b %R~r* %W~w* ~rw* resetchannels &news:* +@all -@dangerous \
                     +config|get -debug +select|0 (~sel* +get &x) (allkeys allchannels -@all \
                     +@read)",
                ),
            )
            .expect("ok");
        state
            .set_user("bob", &words("skip-sanitize-payload nopass allkeys"))
            .expect("ok");
        state.set_user("carol", &[]).expect("ok");
        state
            .set_user("default", &words("resetpass >secret -flushall"))
            .expect("ok");
        let text = format(&state);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(text.ends_with('\n'));
        assert_eq!(
            lines[1],
            "user bob off nopass skip-sanitize-payload ~* resetchannels -@all"
        );
        assert_eq!(
            lines[2],
            "user carol off sanitize-payload resetchannels -@all"
        );
        assert!(lines[0].starts_with("user alice on sanitize-payload #"));
        assert!(lines[3].starts_with("user default on sanitize-payload #"));
        assert!(!text.contains("secret"));
        let defs = load("users.acl", &text).expect("the saved file loads");
        let again = AclState::from_definitions(&defs).expect("valid");
        assert_eq!(again, state);
        assert_eq!(format(&again), text);
        assert_eq!(
            format(&AclState::new()),
            "user default on nopass sanitize-payload ~* &* +@all\n"
        );
    }

    #[test]
    fn save_atomically_writes_0600_and_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("users.acl");
        // An existing file with looser permissions is replaced by a 0600 one.
        std::fs::write(&path, "old\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        save_atomically(&path, "user default on nopass ~* &* +@all\n").expect("saved");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "user default on nopass ~* &* +@all\n"
        );
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        save_atomically(&path, "second\n").expect("saved");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "second\n");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("readdir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("users.acl")]);
        // Errors are reported, not panics.
        assert!(save_atomically(&dir.path().join("missing/users.acl"), "x").is_err());
        assert!(save_atomically(Path::new("/"), "x").is_err());
        assert!(
            save_atomically(dir.path(), "x").is_err(),
            "a directory is not replaced"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("readdir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
