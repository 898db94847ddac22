//! Applying rules to a user (Redis's `ACLSetUser`, `ACLStringSetUser`): user flags,
//! selectors spread over several arguments, the error texts of ACL SETUSER, and installing a
//! whole set of user definitions (ACL LOAD).

use std::collections::BTreeSet;

use bytes::Bytes;

use super::password::{parse_hash, shown};
use super::{RuleError, Selector, User};
use crate::acl::{hash_password, AclState};

impl User {
    /// One rule (`ACLSetUser`); selector contents were merged into one argument before.
    fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.skip_sanitize_payload = true;
        } else if is("sanitize-payload") {
            self.skip_sanitize_payload = false;
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if let Some(rest) = op.strip_prefix(b">") {
            self.add_password(hash_password(rest));
        } else if let Some(rest) = op.strip_prefix(b"#") {
            self.add_password(parse_hash(rest).ok_or(RuleError::BadHash)?);
        } else if let Some(rest) = op.strip_prefix(b"<") {
            self.remove_password(&hash_password(rest))?;
        } else if let Some(rest) = op.strip_prefix(b"!") {
            self.remove_password(&parse_hash(rest).ok_or(RuleError::BadHash)?)?;
        } else if op.len() >= 2 && op.starts_with(b"(") && op.ends_with(b")") {
            let inner = &op[1..op.len() - 1];
            let args = redoubt_proto::resp::split_args(inner).ok_or(RuleError::Syntax)?;
            let mut selector = Selector::default();
            for arg in &args {
                selector.apply(arg)?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.clear();
        } else if is("reset") {
            // resetpass resetkeys resetchannels off sanitize-payload clearselectors -@all
            // (acl-pubsub-default is resetchannels, Redis 7's default): a new user's state.
            self.nopass = false;
            self.passwords.clear();
            self.root.all_keys = false;
            self.root.keys.clear();
            self.root.all_channels = false;
            self.root.channels.clear();
            self.enabled = false;
            self.skip_sanitize_payload = false;
            self.selectors.clear();
            self.root.all_commands_base = false;
            self.root.command_rules.clear();
        } else {
            self.root.apply(op)?;
        }
        Ok(())
    }
}

/// `ACLStringHasSpaces`: C `isspace` or NUL.
pub(super) fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | 0))
}

/// `ACLMergeSelectorArguments`: a selector may be spread over several arguments, from one
/// starting with '(' to one ending with ')'; they are joined with spaces. Err(index of the
/// argument that opened a selector that never closes).
fn merge_selector_args(args: &[Bytes]) -> Result<Vec<Bytes>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, op) in args.iter().enumerate() {
        match open.as_mut() {
            None => {
                if op.first() == Some(&b'(') && op.last() != Some(&b')') {
                    open = Some((j, op.to_vec()));
                } else {
                    out.push(op.clone());
                }
            }
            Some((_, selector)) => {
                selector.push(b' ');
                selector.extend_from_slice(op);
                if op.last() == Some(&b')') {
                    out.push(Bytes::from(std::mem::take(selector)));
                    open = None;
                }
            }
        }
    }
    match open {
        Some((start, _)) => Err(start),
        None => Ok(out),
    }
}

/// Applies `rules` to `user` left to right (ACL SETUSER semantics). On error `user` may be
/// partly changed (callers work on a copy); the error is the full reply text.
pub fn apply_rules(user: &mut User, rules: &[Bytes]) -> Result<(), String> {
    if has_spaces(user.name.as_bytes()) {
        return Err("ERR Usernames can't contain spaces or null characters".to_string());
    }
    let merged = merge_selector_args(rules).map_err(|start| {
        let arg = rules.get(start).map(|a| shown(a)).unwrap_or_default();
        format!("ERR Unmatched parenthesis in acl selector starting at '{arg}'.")
    })?;
    for op in &merged {
        user.apply(op).map_err(|e| {
            format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                shown(op),
                e.text()
            )
        })?;
    }
    Ok(())
}

/// See [`AclState::from_definitions`].
pub fn state_from_definitions(defs: &[(String, Vec<Bytes>)]) -> Result<AclState, String> {
    let mut state = AclState::new();
    let mut seen = BTreeSet::new();
    for (i, (name, rules)) in defs.iter().enumerate() {
        let n = i + 1;
        if !seen.insert(name.as_str()) {
            return Err(format!("ERR definition {n}: Duplicate user '{name}' found"));
        }
        // Every defined user starts from scratch, `default` included (Redis's ACL LOAD
        // creates each user anew): check the rules on a new user, then install the same
        // state through `reset`, which turns an existing user into a new one.
        let mut fresh = User::new(name);
        apply_rules(&mut fresh, rules).map_err(|e| {
            format!(
                "ERR definition {n}: {}",
                e.strip_prefix("ERR ").unwrap_or(&e)
            )
        })?;
        let mut with_reset = Vec::with_capacity(rules.len() + 1);
        with_reset.push(Bytes::from_static(b"reset"));
        with_reset.extend(rules.iter().cloned());
        state.set_user(name, &with_reset).map_err(|e| {
            format!(
                "ERR definition {n}: {}",
                e.strip_prefix("ERR ").unwrap_or(&e)
            )
        })?;
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redoubt_proto::resp::Frame;

    use crate::acl::rules::password::hash_rule;
    use crate::acl::rules::tests::{b, err, hex_of, r, user, user_with, FOOBAR_SHA256};

    #[test]
    fn flags() {
        let u = user("on");
        assert!(u.enabled);
        assert!(!user("on off").enabled);
        assert!(user("ON").enabled, "keywords are case-insensitive");
        let u = user("skip-sanitize-payload");
        assert_eq!(
            u.describe(),
            "user u off skip-sanitize-payload resetchannels -@all"
        );
        assert_eq!(
            user("skip-sanitize-payload sanitize-payload"),
            User::new("u")
        );
        // An empty rule does nothing.
        assert_eq!(user_with("u", &[b("")]).expect("ok"), User::new("u"));
    }

    #[test]
    fn all_or_nothing_through_acl_state() {
        let mut state = AclState::new();
        state.set_user("alice", &r("on >pw ~a +get")).expect("ok");
        let before = state.clone();
        let e = state
            .set_user("alice", &r("off resetkeys +nosuch"))
            .expect_err("refused");
        assert!(e.contains("'+nosuch'"), "{e}");
        assert_eq!(state, before);
        let e = state
            .set_user("bob", &r("on +nosuch"))
            .expect_err("refused");
        assert!(e.starts_with("ERR Error in ACL SETUSER modifier"), "{e}");
        assert!(state.user("bob").is_none());
        // A new user without rules exists with the new-user state.
        state.set_user("carol", &[]).expect("ok");
        assert_eq!(state.user("carol"), Some(&User::new("carol")));
    }

    #[test]
    fn usernames_with_spaces_are_refused() {
        for name in ["a a", "a\tb", "a\0", "x\n"] {
            assert_eq!(
                user_with(name, &[]).expect_err("refused"),
                "ERR Usernames can't contain spaces or null characters"
            );
        }
    }

    #[test]
    fn selectors_in_one_or_several_arguments() {
        let u = user_with("u", &[b("(~foo +get)")]).expect("ok");
        assert_eq!(u.selectors.len(), 1);
        assert_eq!(
            u.describe(),
            "user u off sanitize-payload resetchannels -@all (~foo resetchannels -@all +get)"
        );
        let split = user_with("u", &r("(~foo +get)")).expect("ok");
        assert_eq!(split, u);
        let split = user_with("u", &r("( ~foo +get )")).expect("ok");
        assert_eq!(split, u);
        // Redis's "Test flexible selector definition".
        let u = user_with(
            "selector-2",
            &[
                b("(~key1 +get )"),
                b("( ~key2 +get )"),
                b("( ~key3 +get)"),
                b("(~key4 +get)"),
            ],
        )
        .expect("ok");
        let u2 = user_with(
            "selector-2",
            &r("(~key1 +get ) ( ~key2 +get ) ( ~key3 +get) (~key4 +get)"),
        )
        .expect("ok");
        assert_eq!(u, u2);
        for (i, s) in u.selectors.iter().enumerate() {
            assert_eq!(
                s.getuser_fields()[1].1,
                Frame::bulk(format!("~key{}", i + 1))
            );
        }
        assert_eq!(
            err(&[b(" () ")]),
            "ERR Error in ACL SETUSER modifier ' () ': Syntax error"
        );
        assert_eq!(
            err(&r("on (")),
            "ERR Unmatched parenthesis in acl selector starting at '('."
        );
        assert_eq!(
            err(&r("(~foo +get")),
            "ERR Unmatched parenthesis in acl selector starting at '(~foo'."
        );
        assert_eq!(
            err(&r(")")),
            "ERR Error in ACL SETUSER modifier ')': Syntax error"
        );
        // An empty selector has no permissions.
        let u = user("reset ()");
        assert_eq!(u.selectors, vec![Selector::default()]);
        assert_eq!(u.selectors[0].describe(), "resetchannels -@all");
        let u = user("( )");
        assert_eq!(u.selectors.len(), 1);
    }

    #[test]
    fn reset_gives_a_new_users_state() {
        let u = user(&format!(
            "on >a #{FOOBAR_SHA256} nopass skip-sanitize-payload ~k* &c +@all -get (~x +set) reset"
        ));
        assert_eq!(u, User::new("u"));
        let mut d = User::default_user();
        apply_rules(&mut d, &r("reset")).expect("ok");
        assert_eq!(d, User::new("default"));
    }

    #[test]
    fn validate_rules_checks_grammar_only() {
        assert!(crate::acl::validate_rules(&r("on >a <b #c ~k +get (~x +set)")).is_err());
        assert!(crate::acl::validate_rules(&r(&format!(
            "on >a <b !{FOOBAR_SHA256} ~k +get (~x +set)"
        )))
        .is_ok());
        assert!(crate::acl::validate_rules(&r("+nosuch")).is_err());
        assert!(crate::acl::validate_rules(&r("(~x")).is_err());
    }

    #[test]
    fn definitions_replace_every_user_and_start_fresh() {
        let state = state_from_definitions(&[]).expect("ok");
        assert_eq!(state, AclState::new());
        let defs = vec![
            ("default".to_string(), r("on >pw ~* +@all")),
            ("alice".to_string(), r("on nopass (~a +get)")),
        ];
        let state = state_from_definitions(&defs).expect("ok");
        // `default` is built from scratch (no nopass, no &* left from the initial default).
        assert_eq!(
            state.user("default").map(User::describe),
            Some(format!(
                "user default on sanitize-payload #{} ~* resetchannels +@all",
                hex_of("pw")
            ))
        );
        assert_eq!(
            state.user("alice"),
            Some(&user_with("alice", &r("on nopass (~a +get)")).expect("ok"))
        );
        assert_eq!(state.users().count(), 2);
        // Without a definition of it, `default` is the initial one.
        let state = state_from_definitions(&defs[1..]).expect("ok");
        assert_eq!(state.user("default"), Some(&User::default_user()));

        let e = state_from_definitions(&[
            ("alice".to_string(), r("on")),
            ("bob".to_string(), r("on +nosuch")),
        ])
        .expect_err("refused");
        assert_eq!(
            e,
            "ERR definition 2: Error in ACL SETUSER modifier '+nosuch': Unknown command or \
             category name in ACL"
        );
        let e = state_from_definitions(&[
            ("alice".to_string(), r("on")),
            ("alice".to_string(), r("off")),
        ])
        .expect_err("refused");
        assert_eq!(e, "ERR definition 2: Duplicate user 'alice' found");
        let e = state_from_definitions(&[("a b".to_string(), r("on"))]).expect_err("refused");
        assert_eq!(
            e,
            "ERR definition 1: Usernames can't contain spaces or null characters"
        );
        let e = state_from_definitions(&[("x".to_string(), r("<secret"))]).expect_err("refused");
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn acl_state_round_trips_through_postcard() {
        let mut state = AclState::new();
        state
            .set_user(
                "alice",
                &r(
                    "on >a >b %R~r* %W~w* ~rw* &news:* +@all -@dangerous +config|get -debug \
                    +select|0 (~sel* +get resetchannels &x) (allkeys allchannels -@all +@read)",
                ),
            )
            .expect("ok");
        state
            .set_user("bob", &r("skip-sanitize-payload nopass allkeys"))
            .expect("ok");
        state.set_user("carol", &[]).expect("ok");
        let bytes = postcard::to_allocvec(&state).expect("serialize");
        let back: AclState = postcard::from_bytes(&bytes).expect("deserialize");
        assert_eq!(back, state);
        // Deterministic: the same state gives the same bytes.
        assert_eq!(postcard::to_allocvec(&back).expect("serialize"), bytes);
        assert!(postcard::from_bytes::<AclState>(&bytes[..bytes.len() / 2]).is_err());
    }

    #[test]
    fn no_panic_on_odd_rules() {
        let odd: &[&[u8]] = &[
            b"(",
            b")",
            b"()",
            b"((",
            b"))",
            b"(()",
            b"(\"",
            b"%",
            b"%R",
            b"~",
            b"&",
            b"+",
            b"-",
            b"+@",
            b"-@",
            b"#",
            b"!",
            b">",
            b"<",
            b"|",
            b"+|",
            b"+||",
            b"-|",
            b"+a|b|c",
            b"\xff",
            b"+\xff",
            b"+get|\xff",
            b"(\xff)",
            b"%\xff~",
            b"(+select|x y)",
            b"+select|a b",
        ];
        for rule in odd {
            let mut u = User::new("u");
            let _ = apply_rules(&mut u, &[Bytes::copy_from_slice(rule)]);
            let _ = u.describe();
            let _ = u.getuser_reply();
            let _ = hash_rule(&Bytes::copy_from_slice(rule));
            let _ = crate::acl::validate_rules(&[Bytes::copy_from_slice(rule)]);
        }
    }
}
