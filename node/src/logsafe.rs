//! Client-supplied text in log lines. A user name, client name or command comes from the
//! network and may hold newlines, ANSI escapes or other control characters; written raw, it
//! could forge log lines or drive a terminal. [`Escaped`] shows such text with every control
//! character, backslash, quote and non-ASCII byte escaped, and cut to a bounded length.

use std::fmt;

/// Longest client-supplied string shown in a log line (bytes of input).
pub const MAX_LOGGED: usize = 128;

/// Displays bytes as printable ASCII: `\n`, `\r`, `\t`, `\\`, `\"` and `\xNN` for anything else
/// outside printable ASCII; at most [`MAX_LOGGED`] input bytes, then `...(N more bytes)`.
pub struct Escaped<T: AsRef<[u8]>>(pub T);

impl<T: AsRef<[u8]>> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0.as_ref();
        for &b in bytes.iter().take(MAX_LOGGED) {
            match b {
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                b'\t' => f.write_str("\\t")?,
                b'\\' => f.write_str("\\\\")?,
                b'"' => f.write_str("\\\"")?,
                0x20..=0x7e => fmt::Write::write_char(f, char::from(b))?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        if bytes.len() > MAX_LOGGED {
            write!(f, "...({} more bytes)", bytes.len() - MAX_LOGGED)?;
        }
        Ok(())
    }
}

impl<T: AsRef<[u8]>> fmt::Debug for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_escapes_never_pass_raw() {
        let forged = "alice\n2026-01-01T00:00:00Z INFO admin logged in\x1b[2J\r\t\"\\é";
        let shown = Escaped(forged).to_string();
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert_eq!(
            shown,
            "alice\\n2026-01-01T00:00:00Z INFO admin logged in\\x1b[2J\\r\\t\\\"\\\\\\xc3\\xa9"
        );
    }

    #[test]
    fn long_input_is_cut() {
        let long = "x".repeat(MAX_LOGGED + 10);
        let shown = Escaped(&long).to_string();
        assert_eq!(
            shown,
            format!("{}...(10 more bytes)", "x".repeat(MAX_LOGGED))
        );
    }
}
