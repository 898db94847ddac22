//! Redis's `sdssplitargs`: splitting an inline request line (or an ACL selector's content)
//! into arguments, with its quoting and escapes.

use bytes::Bytes;

/// C `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Redis' `sdssplitargs`: splits an inline request line (or an ACL selector's content) into
/// arguments. Returns `None` on unbalanced quotes (or a closing quote not followed by a
/// space). Like the C original, which works on a NUL-terminated string, input after a NUL byte
/// is ignored.
pub fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let mut argv = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_c_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(argv);
        }
        let (arg, next) = split_one_arg(line, p)?;
        argv.push(Bytes::from(arg));
        p = next;
    }
}

/// One argument of [`split_args`] starting at `p` (not a space) in the NUL-free `line`: its
/// bytes (quotes and escapes resolved) and the position after it; `None` on unbalanced quotes
/// or a closing quote not followed by a space.
fn split_one_arg(line: &[u8], mut p: usize) -> Option<(Vec<u8>, usize)> {
    // The C string view: 0 past the end.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut current = Vec::new();
    let mut in_dq = false;
    let mut in_sq = false;
    loop {
        let c = at(p);
        let mut done = false;
        if in_dq {
            if c == b'\\' && at(p + 1) == b'x' {
                if let (Some(hi), Some(lo)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                    current.push(hi * 16 + lo);
                    p += 3;
                } else {
                    // "\x" without two hex digits: a plain escaped 'x'.
                    p += 1;
                    current.push(b'x');
                }
            } else if c == b'\\' && at(p + 1) != 0 {
                p += 1;
                current.push(match at(p) {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 0x08,
                    b'a' => 0x07,
                    other => other,
                });
            } else if c == b'"' {
                // The closing quote must be followed by a space or nothing at all.
                if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                    return None;
                }
                done = true;
            } else if c == 0 {
                // Unterminated quotes.
                return None;
            } else {
                current.push(c);
            }
        } else if in_sq {
            if c == b'\\' && at(p + 1) == b'\'' {
                p += 1;
                current.push(b'\'');
            } else if c == b'\'' {
                if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                    return None;
                }
                done = true;
            } else if c == 0 {
                return None;
            } else {
                current.push(c);
            }
        } else {
            match c {
                b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                b'"' => in_dq = true,
                b'\'' => in_sq = true,
                _ => current.push(c),
            }
        }
        if at(p) != 0 {
            p += 1;
        }
        if done {
            return Some((current, p));
        }
    }
}
