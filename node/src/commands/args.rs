//! Parsing of command arguments with Redis's rules and error texts, and glob matching.

use bytes::Bytes;

use super::CmdError;

/// Strict integer parsing as Redis's string2ll: optional '-', digits, no '+', no spaces, no
/// leading zeros, must fit in i64.
pub fn parse_i64(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64_opt(arg).ok_or(CmdError::NotInteger)
}

pub fn parse_i64_opt(arg: &[u8]) -> Option<i64> {
    if arg.is_empty() || arg.len() > 20 {
        return None;
    }
    if arg == b"0" {
        return Some(0);
    }
    let (neg, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// A non-negative integer (counts, indexes that must not be negative).
pub fn parse_u64(arg: &[u8]) -> Result<u64, CmdError> {
    let v = parse_i64(arg)?;
    u64::try_from(v).map_err(|_| CmdError::NotInteger)
}

/// A float as Redis's strtod-based parsing: "inf", "-inf", "+inf", exponents; no spaces, no
/// NaN, nothing trailing.
pub fn parse_f64(arg: &[u8]) -> Result<f64, CmdError> {
    parse_f64_opt(arg).ok_or(CmdError::NotFloat)
}

pub fn parse_f64_opt(arg: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(arg).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            if lower.contains("inf") || lower.contains("nan") {
                return None;
            }
            let v = lower.parse::<f64>().ok()?;
            // strtod's ERANGE: Redis refuses overflow and underflow to zero.
            if v.is_infinite() {
                return None;
            }
            let mantissa = lower.split('e').next().unwrap_or("");
            if v == 0.0 && mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
                return None;
            }
            v
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Case-insensitive comparison of an argument with an ASCII keyword.
pub fn is_kw(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// Lower-cased argument as a String (for error messages and names).
pub fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

pub fn bulk_list(items: impl IntoIterator<Item = Bytes>) -> redoubt_proto::resp::Frame {
    redoubt_proto::resp::Frame::Array(
        items
            .into_iter()
            .map(redoubt_proto::resp::Frame::Bulk)
            .collect(),
    )
}

/// Redis's `parseScanCursorOrReply`: `strtoul` base 10 over the whole argument (a leading
/// sign is accepted, "-1" wraps around), no leading space, no overflow.
pub fn parse_scan_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::other("ERR invalid cursor");
    let (neg, digits) = match arg.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, arg),
    };
    if digits.is_empty() {
        // strtoul converts nothing: accepted only when the whole argument is empty.
        return if arg.is_empty() {
            Ok(0)
        } else {
            Err(invalid())
        };
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(invalid());
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// Redis's index normalisation (LRANGE, LTRIM, ZRANGE by rank...): the inclusive range
/// `start..=end` of a sequence of `len` elements, negative indexes counted from the end; None
/// when empty.
pub fn clamp_index_range(start: i64, end: i64, len: i64) -> Option<(i64, i64)> {
    let mut start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    };
    let end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    Some((start, end.min(len - 1)))
}

/// Glob-style matching with Redis's stringmatchlen rules: `*`, `?`, `[...]` with ranges and
/// `^` negation, `\` escapes.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    glob_inner(pattern, string, nocase, 0, &mut false)
}

/// `skip_longer` is Redis's `skipLongerMatches`: once the rest of a pattern after a `*` has
/// failed from every position, no earlier `*` can help by matching more, so the search stops
/// (without it, patterns like `a*a*a*...b` take exponential time).
/// A `[...]` class (after its `[`) against byte `c`: the pattern after the class when `c`
/// is in it (`[^...]`: not in it), None otherwise. A class without `]` runs to the end of the
/// pattern, as in Redis.
fn match_class(mut p: &[u8], c: u8, nocase: bool) -> Option<&[u8]> {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let not = p.first() == Some(&b'^');
    if not {
        p = &p[1..];
    }
    let mut matched = false;
    loop {
        match p.first() {
            None | Some(b']') => break,
            Some(b'\\') if p.len() >= 2 => {
                matched |= eq(p[1], c);
                p = &p[2..];
            }
            Some(_) if p.len() >= 3 && p[1] == b'-' => {
                let (mut start, mut end) = (p[0], p[2]);
                if start > end {
                    std::mem::swap(&mut start, &mut end);
                }
                matched |= if nocase {
                    let c = c.to_ascii_lowercase();
                    c >= start.to_ascii_lowercase() && c <= end.to_ascii_lowercase()
                } else {
                    c >= start && c <= end
                };
                p = &p[3..];
            }
            Some(&k) => {
                matched |= eq(k, c);
                p = &p[1..];
            }
        }
    }
    if matched == not {
        return None;
    }
    // Skip the closing bracket (a missing one ends the pattern).
    Some(p.get(1..).unwrap_or(&[]))
}

fn glob_inner(
    mut p: &[u8],
    mut s: &[u8],
    nocase: bool,
    depth: usize,
    skip_longer: &mut bool,
) -> bool {
    // Bound the recursion as Redis does against pathological patterns.
    if depth > 1000 {
        return false;
    }
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for i in 0..=s.len() {
                    if glob_inner(&p[1..], &s[i..], nocase, depth + 1, skip_longer) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s = &s[1..];
                p = &p[1..];
            }
            b'[' => {
                let Some(rest) = match_class(&p[1..], s[0], nocase) else {
                    return false;
                };
                p = rest;
                s = &s[1..];
            }
            b'\\' if p.len() >= 2 => {
                if !eq(p[1], s[0]) {
                    return false;
                }
                p = &p[2..];
                s = &s[1..];
            }
            c => {
                if !eq(c, s[0]) {
                    return false;
                }
                p = &p[1..];
                s = &s[1..];
            }
        }
    }
    if s.is_empty() {
        while p.first() == Some(&b'*') {
            p = &p[1..];
        }
    }
    p.is_empty() && s.is_empty()
}

/// A cursor over a command's arguments, for commands with options (`CLIENT KILL ID 5 SKIPME
/// no`, `HELLO 3 AUTH u p SETNAME n`): options are read in order instead of by index.
pub struct ArgCursor<'a> {
    args: &'a [Bytes],
    at: usize,
}

impl<'a> ArgCursor<'a> {
    /// Starts at `args[from]`.
    pub fn new(args: &'a [Bytes], from: usize) -> ArgCursor<'a> {
        ArgCursor { args, at: from }
    }

    /// The next argument, if any.
    pub fn next_arg(&mut self) -> Option<&'a Bytes> {
        let arg = self.args.get(self.at)?;
        self.at += 1;
        Some(arg)
    }

    /// The next argument without moving past it.
    pub fn peek(&self) -> Option<&'a Bytes> {
        self.args.get(self.at)
    }

    /// Moves past the next argument when it is `keyword` (case-insensitive).
    pub fn eat_kw(&mut self, keyword: &str) -> bool {
        if self.peek().is_some_and(|a| is_kw(a, keyword)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// The arguments not read yet.
    pub fn remaining(&self) -> &'a [Bytes] {
        self.args.get(self.at..).unwrap_or(&[])
    }

    /// How many arguments are left.
    pub fn left(&self) -> usize {
        self.remaining().len()
    }

    /// The value after an option keyword: a syntax error when it is missing.
    pub fn value(&mut self) -> Result<&'a Bytes, CmdError> {
        self.next_arg().ok_or(CmdError::Syntax)
    }

    pub fn is_done(&self) -> bool {
        self.at >= self.args.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_reads_options_in_order() {
        let args: Vec<Bytes> = ["HELLO", "3", "auth", "u", "p"]
            .iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect();
        let mut c = ArgCursor::new(&args, 1);
        assert_eq!(c.next_arg().map(|a| &a[..]), Some(&b"3"[..]));
        assert!(!c.eat_kw("SETNAME"));
        assert!(c.eat_kw("AUTH"));
        assert_eq!(c.left(), 2);
        assert_eq!(c.value().map(|a| &a[..]).ok(), Some(&b"u"[..]));
        assert_eq!(c.value().map(|a| &a[..]).ok(), Some(&b"p"[..]));
        assert!(c.is_done());
        assert!(matches!(c.value(), Err(CmdError::Syntax)));
        assert!(c.remaining().is_empty());
    }

    #[test]
    fn integers_parse_strictly() {
        assert_eq!(parse_i64_opt(b"0"), Some(0));
        assert_eq!(parse_i64_opt(b"-12"), Some(-12));
        assert_eq!(parse_i64_opt(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64_opt(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"-0",
            b"9223372036854775808",
            b"1a",
            b"-",
        ] {
            assert_eq!(parse_i64_opt(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn floats_parse_like_strtod() {
        assert_eq!(parse_f64_opt(b"1.5"), Some(1.5));
        assert_eq!(parse_f64_opt(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64_opt(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64_opt(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64_opt(b".5"), Some(0.5));
        for bad in [&b"nan"[..], b" 1", b"1 ", b"abc", b"", b"1e400", b"1e-400"] {
            assert_eq!(parse_f64_opt(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn glob_matches_like_redis() {
        assert!(glob_match(b"*", b"anything", false));
        assert!(glob_match(b"h?llo", b"hello", false));
        assert!(glob_match(b"h[ae]llo", b"hallo", false));
        assert!(!glob_match(b"h[^e]llo", b"hello", false));
        assert!(glob_match(b"h[a-b]llo", b"hbllo", false));
        assert!(glob_match(b"user:*:name", b"user:42:name", false));
        assert!(!glob_match(b"user:*:name", b"user:42:age", false));
        assert!(glob_match(b"h\\*llo", b"h*llo", false));
        assert!(glob_match(b"HELLO", b"hello", true));
        assert!(!glob_match(b"a", b"", false));
        assert!(glob_match(b"", b"", false));
    }
}
