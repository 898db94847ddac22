//! Passwords: checking one in constant time, `>`/`<`/`#`/`!` rules, hashing plaintext rules
//! before they reach the Raft log ([`hash_rule`]) and keeping plaintext out of error texts
//! ([`redact_hashed_error`]).

use bytes::Bytes;

use super::{RuleError, User};
use crate::acl::{hash_hex, hash_password, PasswordHash};

impl User {
    /// Whether `plain` is one of the user's passwords (or the user is `nopass`); compares
    /// hashes in constant time. Does not look at `enabled`.
    pub fn check_password(&self, plain: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let candidate = hash_password(plain);
        // Every stored hash is compared in full, whatever matched before: the time taken
        // depends only on how many passwords the user has.
        let mut found = 0u8;
        for stored in &self.passwords {
            let mut diff = 0u8;
            for (a, b) in stored.iter().zip(candidate.iter()) {
                diff |= a ^ b;
            }
            found |= u8::from(std::hint::black_box(diff) == 0);
        }
        found != 0
    }

    pub(super) fn add_password(&mut self, hash: PasswordHash) {
        if !self.passwords.contains(&hash) {
            self.passwords.push(hash);
        }
        self.nopass = false;
    }

    pub(super) fn remove_password(&mut self, hash: &PasswordHash) -> Result<(), RuleError> {
        let before = self.passwords.len();
        self.passwords.retain(|p| p != hash);
        if self.passwords.len() == before {
            return Err(RuleError::NoSuchPassword);
        }
        Ok(())
    }
}

/// 64 lower-case hex digits -> hash.
pub(super) fn parse_hash(hex: &[u8]) -> Option<PasswordHash> {
    if hex.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// Whether a rule may carry a plaintext password: `>pass`, `<pass`, or a selector with such
/// a token (passwords are invalid there, but the text must not be echoed either).
fn may_hold_password(op: &[u8]) -> bool {
    let token_is_password = |t: &[u8]| {
        let t = t.strip_prefix(b"(").unwrap_or(t);
        t.starts_with(b">") || t.starts_with(b"<")
    };
    token_is_password(op)
        || (op.starts_with(b"(") && op.split(|c| c.is_ascii_whitespace()).any(token_is_password))
}

/// A rule as an error message may show it.
pub(super) fn shown(op: &[u8]) -> String {
    if may_hold_password(op) {
        return "<redacted>".to_string();
    }
    String::from_utf8_lossy(op).replace(['\r', '\n'], " ")
}

/// `>pass` -> `#hex(sha256(pass))`, `<pass` -> `!hex(sha256(pass))`, others unchanged.
/// Inside a one-argument selector (where passwords are invalid anyway) such tokens are
/// hashed too, so a plaintext never reaches the log whatever the rule.
pub fn hash_rule(rule: &Bytes) -> Bytes {
    if let Some(hashed) = hash_token(rule) {
        return Bytes::from(hashed);
    }
    if !rule.starts_with(b"(") || !may_hold_password(rule) {
        return rule.clone();
    }
    let tokens: Vec<&[u8]> = rule
        .split(|c| c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let last = tokens.len().saturating_sub(1);
    let mut out = Vec::with_capacity(rule.len() + 64);
    for (i, token) in tokens.iter().enumerate() {
        let mut core: &[u8] = token;
        let mut prefix: &[u8] = b"";
        let mut suffix: &[u8] = b"";
        if i == 0 {
            if let Some(rest) = core.strip_prefix(b"(") {
                prefix = b"(";
                core = rest;
            }
        }
        if i == last {
            if let Some(rest) = core.strip_suffix(b")") {
                suffix = b")";
                core = rest;
            }
        }
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(prefix);
        match hash_token(core) {
            Some(hashed) => out.extend_from_slice(&hashed),
            None => out.extend_from_slice(core),
        }
        out.extend_from_slice(suffix);
    }
    Bytes::from(out)
}

/// `>pass` / `<pass` hashed, None for any other token.
fn hash_token(token: &[u8]) -> Option<Vec<u8>> {
    let (mark, plain) = match token.split_first() {
        Some((b'>', plain)) => (b'#', plain),
        Some((b'<', plain)) => (b'!', plain),
        _ => return None,
    };
    let mut out = vec![mark];
    out.extend_from_slice(hash_hex(&hash_password(plain)).as_bytes());
    Some(out)
}

/// For the node that hashed a client's rules with [`hash_rules`](crate::acl::hash_rules) before
/// proposing them: `error`, the reply to the hashed rules, with a rule that was a plaintext
/// password in `original` (`<pass` is `!hash` in the log) shown as `<redacted>`, as the
/// error to `original` itself would show it.
pub fn redact_hashed_error(original: &[Bytes], error: &str) -> String {
    let hashed: Vec<String> = original
        .iter()
        .flat_map(|rule| {
            let after = hash_rule(rule);
            rule.split(|c| c.is_ascii_whitespace())
                .zip(after.split(|c| c.is_ascii_whitespace()))
                .filter(|(before, after)| before != after)
                .map(|(_, after)| {
                    let after = after.strip_prefix(b"(").unwrap_or(after);
                    let after = after.strip_suffix(b")").unwrap_or(after);
                    String::from_utf8_lossy(after).into_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    if hashed.is_empty() {
        return error.to_string();
    }
    for (prefix, end) in [
        ("ERR Error in ACL SETUSER modifier '", "': "),
        (
            "ERR Unmatched parenthesis in acl selector starting at '",
            "'.",
        ),
    ] {
        if let Some((shown, rest)) = error
            .strip_prefix(prefix)
            .and_then(|tail| tail.rfind(end).map(|at| tail.split_at(at)))
        {
            if hashed.iter().any(|h| shown.contains(h.as_str())) {
                return format!("{prefix}<redacted>{rest}");
            }
        }
    }
    error.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::rules::tests::{b, err, hex_of, r, user, user_with, FOOBAR_SHA256};
    use crate::acl::AclState;

    #[test]
    fn passwords_are_hashed_kept_in_order_and_deduplicated() {
        let u = user(">p1 >p2 >p1");
        assert_eq!(
            u.passwords,
            vec![hash_password(b"p1"), hash_password(b"p2")]
        );
        assert!(!u.nopass);
        assert_eq!(
            u.describe(),
            format!(
                "user u off sanitize-payload #{} #{} resetchannels -@all",
                hex_of("p1"),
                hex_of("p2")
            )
        );
        assert_eq!(hex_of("foobar"), FOOBAR_SHA256);
        let u = user(&format!("#{FOOBAR_SHA256}"));
        assert!(u.check_password(b"foobar"));
        // A hash and the same password in plain text are one password.
        let u = user(&format!("#{FOOBAR_SHA256} >foobar"));
        assert_eq!(u.passwords.len(), 1);
        // Removal by plain text or by hash.
        assert!(user(">a >b <a").passwords == vec![hash_password(b"b")]);
        assert!(user(&format!(">foobar !{FOOBAR_SHA256}"))
            .passwords
            .is_empty());
    }

    #[test]
    fn nopass_and_resetpass() {
        let u = user(">a nopass");
        assert!(u.nopass);
        assert!(u.passwords.is_empty());
        assert!(u.check_password(b"anything"));
        let u = user("nopass >a");
        assert!(!u.nopass, ">pass clears nopass");
        assert!(!u.check_password(b"anything"));
        assert!(u.check_password(b"a"));
        let u = user(&format!("nopass #{FOOBAR_SHA256}"));
        assert!(!u.nopass, "#hash clears nopass");
        let u = user(">a >b resetpass");
        assert!(!u.nopass && u.passwords.is_empty());
        let u = user("nopass resetpass");
        assert!(!u.nopass);
        assert!(!u.check_password(b""));
    }

    #[test]
    fn check_password_compares_every_hash() {
        let u = user(">one >two >three");
        assert!(u.check_password(b"one"));
        assert!(u.check_password(b"two"));
        assert!(u.check_password(b"three"));
        assert!(!u.check_password(b"four"));
        assert!(!u.check_password(b""));
        assert!(
            !User::new("x").check_password(b""),
            "no password, not nopass"
        );
        assert!(User::default_user().check_password(b"whatever"));
        // Binary passwords.
        let u = user_with("u", &[Bytes::from_static(b">\x00\xff pw")]).expect("ok");
        assert!(u.check_password(b"\x00\xff pw"));
    }

    #[test]
    fn password_errors_use_redis_texts() {
        let bad_hash = "ERR Error in ACL SETUSER modifier '#abc': The password hash must be \
                        exactly 64 characters and contain only lowercase hexadecimal characters";
        assert_eq!(err(&r("#abc")), bad_hash);
        let upper = FOOBAR_SHA256.to_uppercase();
        assert!(err(&[b(&format!("#{upper}"))]).contains("must be exactly 64 characters"));
        let short = &FOOBAR_SHA256[..63];
        assert!(err(&[b(&format!("#{short}"))]).contains("must be exactly 64 characters"));
        let q = format!("{}q", &FOOBAR_SHA256[..63]);
        assert!(err(&[b(&format!("#{q}"))]).contains("must be exactly 64 characters"));
        assert!(err(&[b(&format!("!{q}"))]).contains("must be exactly 64 characters"));
        assert_eq!(
            err(&[b(&format!("!{FOOBAR_SHA256}"))]),
            format!(
                "ERR Error in ACL SETUSER modifier '!{FOOBAR_SHA256}': The password you are \
                 trying to remove from the user does not exist"
            )
        );
    }

    #[test]
    fn plaintext_passwords_never_appear_in_errors() {
        let e = err(&r("<hunter2"));
        assert_eq!(
            e,
            "ERR Error in ACL SETUSER modifier '<redacted>': The password you are trying to \
             remove from the user does not exist"
        );
        let e = err(&[b("(~foo >hunter2)")]);
        assert_eq!(
            e,
            "ERR Error in ACL SETUSER modifier '<redacted>': Syntax error"
        );
        let e = err(&r("(>hunter2 ~foo"));
        assert_eq!(
            e,
            "ERR Unmatched parenthesis in acl selector starting at '<redacted>'."
        );
        let e = err(&r("(~foo <hunter2)"));
        assert!(!e.contains("hunter2"), "{e}");
        let e = err(&r("(<hunter2)"));
        assert!(!e.contains("hunter2"), "{e}");
        // Other rules are shown, with line breaks made spaces.
        assert_eq!(
            err(&[b("+no\r\nsuch")]),
            "ERR Error in ACL SETUSER modifier '+no  such': Unknown command or category name \
             in ACL"
        );
    }

    #[test]
    fn hash_rule_turns_plaintext_into_hashes() {
        assert_eq!(hash_rule(&b(">foobar")), b(&format!("#{FOOBAR_SHA256}")));
        assert_eq!(hash_rule(&b("<foobar")), b(&format!("!{FOOBAR_SHA256}")));
        assert_eq!(hash_rule(&b(">")), b(&format!("#{}", hex_of(""))));
        for same in ["~foo", "on", "#abc", "!abc", "(~foo +get)", "+@all", ""] {
            assert_eq!(hash_rule(&b(same)), b(same), "{same}");
        }
        assert_eq!(
            hash_rule(&b("(>foobar ~foo)")),
            b(&format!("(#{FOOBAR_SHA256} ~foo)"))
        );
        assert_eq!(
            hash_rule(&b("(~foo <foobar)")),
            b(&format!("(~foo !{FOOBAR_SHA256})"))
        );
        // Applying hashed rules gives the same user as the plaintext ones.
        let plain = r("on >a >b <a ~k +get");
        let hashed = crate::acl::hash_rules(&plain);
        assert!(hashed
            .iter()
            .all(|h| !h.starts_with(b">") && !h.starts_with(b"<")));
        assert_eq!(user_with("u", &hashed), user_with("u", &plain));
    }

    #[test]
    fn errors_of_hashed_rules_are_redacted_back() {
        let original = r("on <hunter2");
        let hashed = crate::acl::hash_rules(&original);
        let mut state = AclState::new();
        let e = state.set_user("x", &hashed).expect_err("no such password");
        assert!(e.contains(&hex_of("hunter2")), "{e}");
        assert_eq!(redact_hashed_error(&original, &e), err(&original));
        // Selectors holding a password, split over arguments or not.
        for original in [
            r("(~a >hunter2)"),
            vec![b("(~a >hunter2)")],
            r("(>hunter2 ~a"),
        ] {
            let hashed = crate::acl::hash_rules(&original);
            let e = user_with("u", &hashed).expect_err("refused");
            let shown = redact_hashed_error(&original, &e);
            assert!(!shown.contains(&hex_of("hunter2")), "{shown}");
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        let original = vec![b("(~a >hunter2)")];
        let e = user_with("u", &crate::acl::hash_rules(&original)).expect_err("refused");
        assert_eq!(redact_hashed_error(&original, &e), err(&original));
        // A hash given as such is shown, as Redis shows it.
        let zeros = format!("!{}", "0".repeat(64));
        let e = err(&[b(&zeros)]);
        assert_eq!(redact_hashed_error(&[b(&zeros)], &e), e);
        assert_eq!(redact_hashed_error(&r("+nosuch >pw"), "ERR x"), "ERR x");
        let e = err(&r(">pw +nosuch"));
        assert_eq!(redact_hashed_error(&r(">pw +nosuch"), &e), e);
    }
}
