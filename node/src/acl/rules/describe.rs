//! Describing users back as Redis 7.2 does (`ACLDescribeUser`): the ACL LIST line and the
//! ACL GETUSER reply.

use redoubt_proto::resp::Frame;

use super::{CommandRule, KeyPattern, Selector, User};
use crate::acl::hash_hex;

impl CommandRule {
    fn describe(&self) -> String {
        let sign = match self {
            CommandRule::Command { allow, .. } | CommandRule::Category { allow, .. } => {
                if *allow {
                    '+'
                } else {
                    '-'
                }
            }
            CommandRule::FirstArg { .. } => '+',
        };
        format!("{sign}{}", String::from_utf8_lossy(&self.key()))
    }
}

impl User {
    /// The ACL LIST line, e.g. "user default on nopass sanitize-payload ~* &* +@all".
    pub fn describe(&self) -> String {
        let mut out = format!("user {} ", self.name);
        out.push_str(if self.enabled { "on " } else { "off " });
        if self.nopass {
            out.push_str("nopass ");
        }
        out.push_str(if self.skip_sanitize_payload {
            "skip-sanitize-payload "
        } else {
            "sanitize-payload "
        });
        for hash in &self.passwords {
            out.push('#');
            out.push_str(&hash_hex(hash));
            out.push(' ');
        }
        out.push_str(&self.root.describe());
        for selector in &self.selectors {
            out.push_str(" (");
            out.push_str(&selector.describe());
            out.push(')');
        }
        out
    }

    /// The ACL GETUSER reply (a map: flags, passwords, commands, keys, channels, selectors).
    pub fn getuser_reply(&self) -> Frame {
        let mut flags = vec![Frame::bulk(if self.enabled { "on" } else { "off" })];
        if self.nopass {
            flags.push(Frame::bulk("nopass"));
        }
        flags.push(Frame::bulk(if self.skip_sanitize_payload {
            "skip-sanitize-payload"
        } else {
            "sanitize-payload"
        }));
        let mut fields = vec![
            (Frame::bulk("flags"), Frame::Set(flags)),
            (
                Frame::bulk("passwords"),
                Frame::Array(
                    self.passwords
                        .iter()
                        .map(|h| Frame::bulk(hash_hex(h)))
                        .collect(),
                ),
            ),
        ];
        fields.extend(self.root.getuser_fields());
        fields.push((
            Frame::bulk("selectors"),
            Frame::Array(
                self.selectors
                    .iter()
                    .map(|s| Frame::Map(s.getuser_fields()))
                    .collect(),
            ),
        ));
        Frame::Map(fields)
    }
}

impl Selector {
    /// The selector part of an ACL LIST line: keys, channels, commands.
    pub(super) fn describe(&self) -> String {
        let mut out = String::new();
        if self.all_keys {
            out.push_str("~* ");
        } else {
            for k in &self.keys {
                out.push_str(&k.describe());
                out.push(' ');
            }
        }
        if self.all_channels {
            out.push_str("&* ");
        } else {
            out.push_str("resetchannels ");
            for c in &self.channels {
                out.push('&');
                out.push_str(&String::from_utf8_lossy(c));
                out.push(' ');
            }
        }
        out.push_str(&self.commands_description());
        out
    }

    /// `ACLDescribeSelectorCommandRules`: "+@all" or "-@all", then the rules.
    pub(super) fn commands_description(&self) -> String {
        let mut out = String::from(if self.all_commands_base {
            "+@all"
        } else {
            "-@all"
        });
        for rule in &self.command_rules {
            out.push(' ');
            out.push_str(&rule.describe());
        }
        out
    }

    /// `commands`, `keys`, `channels` of ACL GETUSER.
    pub(super) fn getuser_fields(&self) -> Vec<(Frame, Frame)> {
        let keys = if self.all_keys {
            "~*".to_string()
        } else {
            self.keys
                .iter()
                .map(KeyPattern::describe)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let channels = if self.all_channels {
            "&*".to_string()
        } else {
            self.channels
                .iter()
                .map(|c| format!("&{}", String::from_utf8_lossy(c)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        vec![
            (
                Frame::bulk("commands"),
                Frame::bulk(self.commands_description()),
            ),
            (Frame::bulk("keys"), Frame::bulk(keys)),
            (Frame::bulk("channels"), Frame::bulk(channels)),
        ]
    }
}

impl KeyPattern {
    fn describe(&self) -> String {
        let prefix = match (self.read, self.write) {
            (true, false) => "%R~",
            (false, true) => "%W~",
            _ => "~",
        };
        format!("{prefix}{}", String::from_utf8_lossy(&self.pattern))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    use crate::acl::rules::parse::apply_rules;
    use crate::acl::rules::tests::{b, r, user, user_with, FOOBAR_SHA256};
    use crate::acl::rules::CATEGORIES;
    use crate::acl::AclState;

    #[test]
    fn new_and_default_users_describe_as_redis_7_2() {
        assert_eq!(
            User::new("bob").describe(),
            "user bob off sanitize-payload resetchannels -@all"
        );
        assert_eq!(
            User::default_user().describe(),
            "user default on nopass sanitize-payload ~* &* +@all"
        );
        assert_eq!(AclState::new().user("default"), Some(&User::default_user()));
    }

    #[test]
    fn command_rules_are_described_as_redis_7_2_keeps_them() {
        // Redis's "ACL GETUSER provides correct results", step by step.
        let mut u = User::new("adv-test");
        let mut step = |rules: &str, want: &str| {
            apply_rules(&mut u, &r(rules)).expect("valid");
            assert_eq!(u.root.commands_description(), want, "after {rules}");
        };
        step("+@all -@hash -@slow +hget", "+@all -@hash -@slow +hget");
        step("-@hash", "+@all -@slow +hget -@hash");
        step("+@hash", "+@all -@slow +hget +@hash");
        step("-@all", "-@all");
        step("-@string -@slow +@all", "+@all");
        step("-@all +@HASH +@hash +@HaSh", "-@all +@hash");
        step("-@all +HGET +hget +hGeT", "-@all +hget");
        step(
            "-@all +@hash +@slow +@set +@set +@slow +@hash",
            "-@all +@set +@slow +@hash",
        );
        step("-@all +hget -hset +hset -hget", "-@all +hset -hget");
        step(
            "-@all +client|list +client|list +config|get +config",
            "-@all +client|list +config",
        );
        step(
            "-@all +select|0 +select|0 +debug|segfault +debug",
            "-@all +select|0 +debug",
        );
        step("-@all -@dangerous", "-@all -@dangerous");
        step(
            "-@all +config +config|get -config|set +config",
            "-@all +config",
        );
        // Aliases.
        step("allcommands", "+@all");
        step("nocommands", "-@all");
        step("+@ALL", "+@all");
        // Subcommand rules.
        step("+@all -client|kill", "+@all -client|kill");
        step(
            "-@all +acl +config -config|set",
            "-@all +acl +config -config|set",
        );
        step(
            "+@all -client +client|id +client|setname",
            "+@all -client +client|id +client|setname",
        );
        step("+@all +client|id", "+@all +client|id");
        step("-client", "+@all -client");
        // Each category alone.
        for cat in CATEGORIES {
            step(&format!("+@all -@{cat}"), &format!("+@all -@{cat}"));
            step(&format!("-@all +@{cat}"), &format!("-@all +@{cat}"));
        }
    }

    #[test]
    fn getuser_reply_matches_redis() {
        // Redis's "Test ACL GETUSER response information".
        let u = user_with(
            "selector-info",
            &r("-@all +get resetchannels &channel1 %R~foo1 %W~bar1 ~baz1 \
                (-@all +set resetchannels &channel2 %R~foo2 %W~bar2 ~baz2)"),
        )
        .expect("ok");
        let selector = Frame::Map(vec![
            (Frame::bulk("commands"), Frame::bulk("-@all +set")),
            (Frame::bulk("keys"), Frame::bulk("%R~foo2 %W~bar2 ~baz2")),
            (Frame::bulk("channels"), Frame::bulk("&channel2")),
        ]);
        assert_eq!(
            u.getuser_reply(),
            Frame::Map(vec![
                (
                    Frame::bulk("flags"),
                    Frame::Set(vec![Frame::bulk("off"), Frame::bulk("sanitize-payload")])
                ),
                (Frame::bulk("passwords"), Frame::Array(vec![])),
                (Frame::bulk("commands"), Frame::bulk("-@all +get")),
                (Frame::bulk("keys"), Frame::bulk("%R~foo1 %W~bar1 ~baz1")),
                (Frame::bulk("channels"), Frame::bulk("&channel1")),
                (Frame::bulk("selectors"), Frame::Array(vec![selector])),
            ])
        );
        let d = User::default_user().getuser_reply();
        assert_eq!(
            d,
            Frame::Map(vec![
                (
                    Frame::bulk("flags"),
                    Frame::Set(vec![
                        Frame::bulk("on"),
                        Frame::bulk("nopass"),
                        Frame::bulk("sanitize-payload")
                    ])
                ),
                (Frame::bulk("passwords"), Frame::Array(vec![])),
                (Frame::bulk("commands"), Frame::bulk("+@all")),
                (Frame::bulk("keys"), Frame::bulk("~*")),
                (Frame::bulk("channels"), Frame::bulk("&*")),
                (Frame::bulk("selectors"), Frame::Array(vec![])),
            ])
        );
        let u = user(">foobar");
        let Frame::Map(fields) = u.getuser_reply() else {
            panic!("a map");
        };
        assert_eq!(
            fields[1],
            (
                Frame::bulk("passwords"),
                Frame::Array(vec![Frame::bulk(FOOBAR_SHA256)])
            )
        );
        // An empty keys / channels field is an empty string.
        let Frame::Map(fields) = User::new("x").getuser_reply() else {
            panic!("a map");
        };
        assert_eq!(fields[3], (Frame::bulk("keys"), Frame::bulk("")));
        assert_eq!(fields[4], (Frame::bulk("channels"), Frame::bulk("")));
    }

    #[test]
    fn describe_then_reapply_gives_the_same_user() {
        for rules in [
            "on >a ~k* %R~r* &c +@all -@dangerous +config|get -debug +select|0",
            "off nopass allkeys allchannels -@all +@read -keys (~x +set) (%W~y &z)",
            "skip-sanitize-payload resetchannels -@all +client|id +client|setname",
            "",
        ] {
            let u = user(rules);
            let line = u.describe();
            let words: Vec<Bytes> = line.split(' ').skip(2).map(b).collect();
            let again = user_with("u", &words).expect("described rules apply");
            assert_eq!(again, u, "{line}");
        }
    }
}
