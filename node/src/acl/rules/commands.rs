//! The command table as ACL rules see it: commands by name (`ACLLookupCommand`), their
//! categories, and ACL CAT.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::CATEGORIES;
use crate::commands::table::{acl_categories, all_specs};
use crate::commands::CommandSpec;

/// The categories of `spec` and, for a subcommand, of its container: a category rule applied
/// to a container covers all its subcommands (Redis's `ACLChangeSelectorPerm`).
pub(super) fn categories_with_parent(spec: &CommandSpec) -> Vec<&'static str> {
    let mut cats = acl_categories(spec);
    if let Some(parent) = spec
        .name
        .split_once('|')
        .and_then(|(p, _)| lookup_command(p.as_bytes()))
    {
        cats.extend(acl_categories(parent));
    }
    cats
}

/// Top-level specs by name.
fn command_index() -> &'static HashMap<&'static str, &'static CommandSpec> {
    static INDEX: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    INDEX.get_or_init(|| all_specs().map(|s| (s.name, s)).collect())
}

/// A command of the original table (renames do not matter to ACLs) by name, any case:
/// `name` or `container|sub` (Redis's `ACLLookupCommand`, strict: `cmd|x` for a command
/// without subcommands is no command).
pub(in crate::acl) fn lookup_command(name: &[u8]) -> Option<&'static CommandSpec> {
    let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    let mut parts = name.split('|');
    let base = command_index().get(parts.next()?).copied()?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(_), None) => base.subcommands.iter().find(|s| s.name == name),
        (Some(_), Some(_)) => None,
    }
}

/// ACL CAT: every category name, in Redis's order.
pub fn categories() -> Vec<&'static str> {
    CATEGORIES.to_vec()
}

/// ACL CAT <category>: the commands (and `container|sub` subcommands) in it, or None for an
/// unknown category.
pub fn commands_in_category(category: &str) -> Option<Vec<&'static str>> {
    let category = *CATEGORIES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(category))?;
    let mut out = Vec::new();
    for spec in all_specs() {
        if acl_categories(spec).contains(&category) {
            out.push(spec.name);
        }
        for sub in spec.subcommands {
            if acl_categories(sub).contains(&category) {
                out.push(sub.name);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_their_commands() {
        let cats = categories();
        assert_eq!(cats.len(), 21);
        assert_eq!(cats.first(), Some(&"keyspace"));
        assert_eq!(cats.last(), Some(&"scripting"));
        let string = commands_in_category("string").expect("known");
        assert!(string.contains(&"get") && string.contains(&"incrbyfloat"));
        assert!(!string.contains(&"hset"));
        assert_eq!(commands_in_category("STRING"), Some(string));
        let admin = commands_in_category("admin").expect("known");
        assert!(admin.contains(&"config|set") && admin.contains(&"client|kill"));
        assert!(!admin.contains(&"get"));
        let keyspace = commands_in_category("keyspace").expect("known");
        assert!(keyspace.contains(&"del") && !keyspace.contains(&"set"));
        assert!(commands_in_category("nosuch").is_none());
        assert!(commands_in_category("all").is_none());
        // Every category a table command names is one Redis knows.
        for spec in all_specs() {
            for s in std::iter::once(spec).chain(spec.subcommands) {
                for c in acl_categories(s) {
                    assert!(CATEGORIES.contains(&c), "{}: unknown category {c}", s.name);
                }
            }
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_strict() {
        assert_eq!(lookup_command(b"GET").map(|s| s.name), Some("get"));
        assert_eq!(
            lookup_command(b"Config|Get").map(|s| s.name),
            Some("config|get")
        );
        assert!(lookup_command(b"config").is_some());
        assert!(lookup_command(b"get|x").is_none());
        assert!(lookup_command(b"config|get|x").is_none());
        assert!(lookup_command(b"\xff").is_none());
        assert!(lookup_command(b"").is_none());
    }
}
