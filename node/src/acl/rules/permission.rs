//! What a selector allows: a command with its arguments, a key with the access it needs, a
//! channel or pattern (asked by `acl::check` and when subscribers lose a permission).

use bytes::Bytes;

use super::commands::categories_with_parent;
use super::{CommandRule, Selector, User};
use crate::commands::CommandSpec;

impl User {
    /// Whether some selector of the user lets it mention `channel` (`is_pattern`: a
    /// PSUBSCRIBE pattern, which must equal an allowed pattern). Redis's
    /// `ACLUserCheckChannelPerm`, for dropping subscribers whose permission was revoked.
    pub fn check_channel(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_selectors()
            .any(|s| s.all_channels || s.allows_channel(channel, is_pattern))
    }
}

impl Selector {
    /// Whether the command rules let `spec` run with these arguments (keys and channels
    /// aside). `spec` may be a `container|sub` spec.
    pub(in crate::acl) fn allows_command(&self, spec: &CommandSpec, argv: &[Bytes]) -> bool {
        let name = spec.name;
        let parent = name.split_once('|').map(|(p, _)| p);
        let mut categories: Option<Vec<&'static str>> = None;
        let mut allowed = self.all_commands_base;
        let mut first_arg_ok = false;
        for rule in &self.command_rules {
            let covers = match rule {
                CommandRule::Command { name: n, .. } => n == name || Some(n.as_str()) == parent,
                CommandRule::Category { name: c, .. } => categories
                    .get_or_insert_with(|| categories_with_parent(spec))
                    .contains(&c.as_str()),
                CommandRule::FirstArg { command, arg } => {
                    if command == name && argv.get(1).is_some_and(|a| a.eq_ignore_ascii_case(arg)) {
                        first_arg_ok = true;
                    }
                    false
                }
            };
            if covers {
                // Setting a command's bit also forgets its allowed first arguments.
                if let CommandRule::Command { allow, .. } | CommandRule::Category { allow, .. } =
                    rule
                {
                    allowed = *allow;
                }
                first_arg_ok = false;
            }
        }
        allowed || first_arg_ok
    }

    /// Whether a key pattern grants `key` with the needed access (`ACLSelectorCheckKey`;
    /// `allkeys` is checked by the caller).
    pub(in crate::acl) fn allows_key(&self, key: &[u8], read: bool, write: bool) -> bool {
        self.keys.iter().any(|k| {
            (k.read || !read)
                && (k.write || !write)
                && crate::commands::args::glob_match(&k.pattern, key, false)
        })
    }

    /// `ACLCheckChannelAgainstList`: a PSUBSCRIBE pattern must equal an allowed pattern, a
    /// channel name is matched against them (`allchannels` is checked by the caller).
    pub(in crate::acl) fn allows_channel(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.channels.iter().any(|c| {
            if is_pattern {
                c.as_slice() == channel
            } else {
                crate::commands::args::glob_match(c, channel, false)
            }
        })
    }
}
