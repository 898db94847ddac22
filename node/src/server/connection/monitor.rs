//! MONITOR's feed: each command line as Redis prints it, with secrets (AUTH and HELLO
//! credentials, ACL SETUSER passwords, CONFIG SET requirepass / masterauth) replaced.

use std::net::SocketAddr;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use crate::commands::args::{is_kw, lower};

/// MONITOR's line for one command: `+<time> [<db> <addr>] "arg" ...`.
pub(super) fn monitor_line(db: u8, addr: SocketAddr, argv: &[Bytes]) -> Frame {
    let now = crate::clock::since_epoch();
    let mut line = format!(
        "{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        db,
        addr
    );
    for a in argv {
        line.push_str(" \"");
        for &b in a.iter() {
            match b {
                b'\\' => line.push_str("\\\\"),
                b'"' => line.push_str("\\\""),
                b'\n' => line.push_str("\\n"),
                b'\r' => line.push_str("\\r"),
                b'\t' => line.push_str("\\t"),
                0x07 => line.push_str("\\a"),
                0x08 => line.push_str("\\b"),
                0x20..=0x7e => line.push(char::from(b)),
                _ => line.push_str(&format!("\\x{b:02x}")),
            }
        }
        line.push('"');
    }
    Frame::Simple(line)
}

/// A copy of `argv` with its secrets replaced, for MONITOR: passwords of ACL SETUSER and the
/// values of CONFIG SET requirepass/masterauth. None: nothing to hide.
pub(super) fn redact_secrets(name: &str, argv: &[Bytes]) -> Option<Vec<Bytes>> {
    let hidden = Bytes::from_static(b"(redacted)");
    match name {
        // As Redis shows them: each credential replaced, the rest kept.
        "auth" => Some(
            argv.iter()
                .enumerate()
                .map(|(i, a)| if i == 0 { a.clone() } else { hidden.clone() })
                .collect(),
        ),
        "hello" => {
            let mut out = argv.to_vec();
            let mut i = 2;
            while i < out.len() {
                if is_kw(&out[i], "AUTH") {
                    for j in i + 1..(i + 3).min(out.len()) {
                        out[j] = hidden.clone();
                    }
                    i += 3;
                } else {
                    i += 1;
                }
            }
            Some(out)
        }
        "acl|setuser" => Some(
            argv.iter()
                .enumerate()
                .map(|(i, a)| {
                    if i >= 3 && (a.starts_with(b">") || a.starts_with(b"<") || a.starts_with(b"("))
                    {
                        hidden.clone()
                    } else {
                        a.clone()
                    }
                })
                .collect(),
        ),
        "config|set" => Some(
            argv.iter()
                .enumerate()
                .map(|(i, a)| {
                    let secret_value = i >= 3
                        && i % 2 == 1
                        && matches!(lower(&argv[i - 1]).as_str(), "requirepass" | "masterauth");
                    if secret_value {
                        hidden.clone()
                    } else {
                        a.clone()
                    }
                })
                .collect(),
        ),
        _ => None,
    }
}
