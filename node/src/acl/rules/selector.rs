//! Selector rules (`ACLSetSelector`): key patterns with their read/write flags, channel
//! patterns, and command rules kept in Redis 7.2's `command_rules` order
//! (`ACLUpdateCommandRules`).

use super::commands::lookup_command;
use super::parse::has_spaces;
use super::{CommandRule, KeyPattern, RuleError, Selector, CATEGORIES};

impl Selector {
    /// One selector rule (`ACLSetSelector`): keys, channels and commands.
    pub(super) fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || op == b"&*" {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.all_commands_base = true;
            self.command_rules.clear();
        } else if is("nocommands") || is("-@all") {
            self.all_commands_base = false;
            self.command_rules.clear();
        } else if op.starts_with(b"~") || op.starts_with(b"%") {
            self.add_key_pattern(op)?;
        } else if let Some(pattern) = op.strip_prefix(b"&") {
            if self.all_channels {
                return Err(RuleError::ChannelAfterAllChannels);
            }
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
        } else if let Some(category) = op.strip_prefix(b"+@") {
            self.add_category_rule(category, true)?;
        } else if let Some(category) = op.strip_prefix(b"-@") {
            self.add_category_rule(category, false)?;
        } else if let Some(name) = op.strip_prefix(b"+") {
            self.allow_command(name)?;
        } else if let Some(name) = op.strip_prefix(b"-") {
            let spec = lookup_command(name).ok_or(RuleError::UnknownCommand)?;
            self.update_rules(CommandRule::Command {
                allow: false,
                name: spec.name.to_string(),
            });
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// `~pat`, `%R~pat`, `%W~pat`, `%RW~pat`.
    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.all_keys {
            return Err(RuleError::KeyAfterAllKeys);
        }
        let (read, write, pattern) = if let Some(pattern) = op.strip_prefix(b"~") {
            (true, true, pattern)
        } else {
            // '%' then R and/or W (each at most once, any case), then '~' and the pattern.
            let (mut read, mut write) = (false, false);
            let mut offset = 1;
            let mut ok = true;
            while let Some(&c) = op.get(offset) {
                offset += 1;
                match c.to_ascii_uppercase() {
                    b'R' if !read => read = true,
                    b'W' if !write => write = true,
                    b'~' => break,
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok || !(read || write) {
                return Err(RuleError::Syntax);
            }
            (read, write, op.get(offset..).unwrap_or_default())
        };
        if has_spaces(pattern) {
            return Err(RuleError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern == pattern) {
            Some(existing) => {
                existing.read |= read;
                existing.write |= write;
            }
            None => self.keys.push(KeyPattern {
                pattern: pattern.to_vec(),
                read,
                write,
            }),
        }
        Ok(())
    }

    fn add_category_rule(&mut self, category: &[u8], allow: bool) -> Result<(), RuleError> {
        let name = CATEGORIES
            .iter()
            .find(|c| category.eq_ignore_ascii_case(c.as_bytes()))
            .ok_or(RuleError::UnknownCommand)?;
        self.update_rules(CommandRule::Category {
            allow,
            name: (*name).to_string(),
        });
        Ok(())
    }

    /// `+cmd`, `+container|sub`, or the first-arg form `+cmd|arg`.
    fn allow_command(&mut self, name: &[u8]) -> Result<(), RuleError> {
        let Some(bar) = name.iter().rposition(|&c| c == b'|') else {
            let spec = lookup_command(name).ok_or(RuleError::UnknownCommand)?;
            self.update_rules(CommandRule::Command {
                allow: true,
                name: spec.name.to_string(),
            });
            return Ok(());
        };
        let (base, arg) = (&name[..bar], &name[bar + 1..]);
        let spec = lookup_command(base).ok_or(RuleError::UnknownCommand)?;
        if spec.name.contains('|') {
            return Err(RuleError::FirstArgOfSubcommand);
        }
        if arg.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !spec.subcommands.is_empty() {
            let sub = lookup_command(name).ok_or(RuleError::UnknownCommand)?;
            self.update_rules(CommandRule::Command {
                allow: true,
                name: sub.name.to_string(),
            });
        } else {
            // Redoubt refuses what Redis would store but could not describe back: a first
            // argument with spaces would not survive ACL LIST / ACL SAVE.
            if has_spaces(arg) {
                return Err(RuleError::Syntax);
            }
            self.update_rules(CommandRule::FirstArg {
                command: spec.name.to_string(),
                arg: arg.to_ascii_lowercase(),
            });
        }
        Ok(())
    }

    /// `ACLUpdateCommandRules`: drop the older rule for the same thing (and, for a whole
    /// command, its `command|...` rules), then append.
    fn update_rules(&mut self, rule: CommandRule) {
        let key = rule.key();
        self.command_rules.retain(|existing| {
            let k = existing.key();
            !(k == key || (k.len() > key.len() && k.starts_with(&key) && k[key.len()] == b'|'))
        });
        self.command_rules.push(rule);
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use redoubt_proto::resp::Frame;

    use crate::acl::rules::tests::{b, err, r, user, user_with};

    fn commands(rules: &str) -> String {
        user(rules).root.commands_description()
    }

    #[test]
    fn key_patterns() {
        assert_eq!(
            user("~foo:* ~bar").describe(),
            "user u off sanitize-payload ~foo:* ~bar resetchannels -@all"
        );
        assert_eq!(
            user("%R~r* %W~w*").root.describe(),
            "%R~r* %W~w* resetchannels -@all"
        );
        // Redis's "Test R+W is the same as all permissions".
        assert_eq!(
            user("%R~foo %W~foo %RW~bar").root.getuser_fields()[1].1,
            Frame::bulk("~foo ~bar")
        );
        assert_eq!(
            user("%rw~a %wR~b").root.describe(),
            "~a ~b resetchannels -@all"
        );
        assert_eq!(user("~a ~a ~b ~a").root.keys.len(), 2, "no duplicates");
        // '%R' without '~' is an empty pattern, as in Redis.
        assert_eq!(user("%R").root.describe(), "%R~ resetchannels -@all");
        assert_eq!(user("~a allkeys").root.describe(), "~* resetchannels -@all");
        assert_eq!(user("~a ~*").root.keys, Vec::new());
        assert!(user("~a ~*").root.all_keys);
        assert_eq!(
            user("allkeys resetkeys").root.describe(),
            "resetchannels -@all"
        );
        assert_eq!(
            user("~a resetkeys ~b").root.describe(),
            "~b resetchannels -@all"
        );
        // %RW~* is a pattern, not allkeys: more patterns may follow.
        assert_eq!(
            user("%RW~* ~x").root.describe(),
            "~* ~x resetchannels -@all"
        );
        for bad in ["%", "%~a", "%X~a", "%RR~a", "%RWR~a", "%R-~a"] {
            assert_eq!(
                err(&[b(bad)]),
                format!("ERR Error in ACL SETUSER modifier '{bad}': Syntax error"),
                "{bad}"
            );
        }
        assert!(err(&[b("~a b")]).ends_with("Syntax error"));
        assert!(err(&[Bytes::from_static(b"~a\0b")]).ends_with("Syntax error"));
        assert!(err(&[b("~a\tb")]).ends_with("Syntax error"));
        let eexist = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid \
                      and does not have any effect. Try 'resetkeys' to start with an empty list \
                      of patterns";
        assert_eq!(
            err(&r("allkeys ~foo")),
            format!("ERR Error in ACL SETUSER modifier '~foo': {eexist}")
        );
        assert_eq!(
            err(&r("~* %R~foo")),
            format!("ERR Error in ACL SETUSER modifier '%R~foo': {eexist}")
        );
        // ~* again after allkeys is fine.
        assert!(user("allkeys ~*").root.all_keys);
    }

    #[test]
    fn channel_patterns() {
        assert_eq!(
            user("&foo &bar:* &foo").root.describe(),
            "resetchannels &foo &bar:* -@all"
        );
        assert_eq!(user("&foo allchannels").root.describe(), "&* -@all");
        assert_eq!(user("&*").root.describe(), "&* -@all");
        assert_eq!(
            user("&* resetchannels").root.describe(),
            "resetchannels -@all"
        );
        assert_eq!(
            user("&a resetchannels &b").root.describe(),
            "resetchannels &b -@all"
        );
        let eisdir = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not \
                      valid and does not have any effect. Try 'resetchannels' to start with an \
                      empty list of channels";
        assert_eq!(
            err(&r("allchannels &foo")),
            format!("ERR Error in ACL SETUSER modifier '&foo': {eisdir}")
        );
        assert!(err(&[b("&a b")]).ends_with("Syntax error"));
        // Redis's "Validate subset of channels is prefixed with resetchannels flag".
        assert_eq!(
            user_with("hpuser", &r("on nopass resetchannels &foo +@all"))
                .expect("ok")
                .describe(),
            "user hpuser on nopass sanitize-payload resetchannels &foo +@all"
        );
    }

    #[test]
    fn command_rule_errors() {
        let unknown = |rule: &str| {
            format!(
                "ERR Error in ACL SETUSER modifier '{rule}': Unknown command or category name in \
                 ACL"
            )
        };
        for rule in [
            "+nosuch",
            "-nosuch",
            "+@nosuch",
            "-@nosuch",
            "+",
            "-",
            "+@",
            "+|",
            "+config|asdf",
            "-config|asdf",
            "+get|key1|key2",
            "-get|key1|key2",
            "-select|0",
            "+nosuch|x",
            "-config|get|x",
        ] {
            assert_eq!(err(&[b(rule)]), unknown(rule), "{rule}");
        }
        assert_eq!(
            err(&r("+config|get|appendonly")),
            "ERR Error in ACL SETUSER modifier '+config|get|appendonly': Allowing first-arg of a \
             subcommand is not supported"
        );
        assert_eq!(
            err(&r("+select|")),
            "ERR Error in ACL SETUSER modifier '+select|': Syntax error"
        );
        assert_eq!(
            err(&r("+config|")),
            "ERR Error in ACL SETUSER modifier '+config|': Syntax error"
        );
        for rule in ["bogus", "*", "@all", "=get"] {
            assert_eq!(
                err(&[b(rule)]),
                format!("ERR Error in ACL SETUSER modifier '{rule}': Syntax error")
            );
        }
        // First-arg forms are stored lower-case, as Redis describes them.
        assert_eq!(commands("+SELECT|Zero"), "-@all +select|zero");
    }

    #[test]
    fn selector_contents() {
        let u = user("(-@all +set resetchannels &channel2 %R~foo2 %W~bar2 ~baz2)");
        assert_eq!(
            u.selectors[0].describe(),
            "%R~foo2 %W~bar2 ~baz2 resetchannels &channel2 -@all +set"
        );
        let u = user("(allkeys allchannels allcommands -get)");
        assert_eq!(u.selectors[0].describe(), "~* &* +@all -get");
        // Only key, channel and command rules: user rules are syntax errors there.
        for inner in [
            "on",
            "off",
            "nopass",
            ">pw",
            "#x",
            "reset",
            "resetpass",
            "clearselectors",
        ] {
            let rule = format!("(~a {inner})");
            let e = err(&[b(&rule)]);
            assert!(e.ends_with("': Syntax error"), "{rule}: {e}");
        }
        assert!(err(&[b("(+nosuch)")]).ends_with("Unknown command or category name in ACL"));
        assert!(err(&[b("(&* &fail)")]).contains("'allchannels' flag"));
        assert!(err(&[b("(~* ~fail)")]).contains("'allkeys' flag"));
        // Quotes, as sdssplitargs reads them.
        let u = user_with("u", &[b("(~\"a\" '+get')")]).expect("ok");
        assert_eq!(u.selectors[0].describe(), "~a resetchannels -@all +get");
        let u = user_with("u", &[b("(~\"\\x41\\n\")")]);
        assert!(u.is_err(), "a pattern with a newline is refused");
        assert!(err(&[b("(~\"a +get)")]).ends_with("Syntax error"));
        assert!(err(&[b("(~\"a\"b)")]).ends_with("Syntax error"));
        // Several selectors keep their order; clearselectors drops them, not the root.
        let u = user("~root (~one) (~two) +get");
        assert_eq!(
            u.describe(),
            "user u off sanitize-payload ~root resetchannels -@all +get (~one resetchannels \
             -@all) (~two resetchannels -@all)"
        );
        let u = user("~root (~one) (~two) +get clearselectors");
        assert!(u.selectors.is_empty());
        assert_eq!(u.root.describe(), "~root resetchannels -@all +get");
    }
}
