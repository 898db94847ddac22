//! CONFIG GET / SET / RESETSTAT / REWRITE: the directives as clients see and change them.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::help;
use crate::commands::args::{glob_match, lower};
use crate::commands::server::ConfigCmd;
use crate::config::{directives, ConfigError, Directive, OnSet, Show, DIRECTIVES};
use crate::session::Session;
use crate::state::NodeState;

/// CONFIG GET / SET / RESETSTAT / REWRITE / HELP.
pub async fn run(s: &mut Session, cmd: ConfigCmd, argv: &[Bytes]) -> Frame {
    match cmd {
        ConfigCmd::Get => {
            let all = config_values(&s.node);
            let mut pairs = Vec::new();
            for (k, v) in &all {
                if argv[2..].iter().any(|p| glob_match(p, k.as_bytes(), true)) {
                    pairs.push((Frame::bulk(*k), Frame::bulk(v.clone())));
                }
            }
            Frame::Map(pairs)
        }
        ConfigCmd::Set => config_set(s, &argv[2..]).await,
        ConfigCmd::Resetstat => {
            s.node.stats.reset();
            Frame::ok()
        }
        ConfigCmd::Rewrite => {
            Frame::error("ERR CONFIG REWRITE is not supported: Redoubt's configuration file is TOML; edit it and restart")
        }
        ConfigCmd::Help => help(&[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "HELP",
            "    Print this help.",
        ]),
    }
}

/// CONFIG SET name value [name value ...]: every value is checked first with the same rules
/// as at start-up, then all are applied (all or nothing); requirepass, replicated as an ACL
/// entry, goes first and nothing else changes if it fails.
async fn config_set(s: &mut Session, pairs: &[Bytes]) -> Frame {
    if !pairs.len().is_multiple_of(2) {
        return Frame::error("ERR wrong number of arguments for 'config|set' command");
    }
    let fail = |name: &str, why: &str| {
        Frame::Error(format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
        ))
    };
    // The values as they would load, over the settings in force now.
    let mut checked = s.node.config.clone();
    checked.client_output_buffer_limit = s.node.output_limits();
    let mut changes: Vec<(&'static Directive, String)> = Vec::new();
    for pair in pairs.chunks(2) {
        let name = lower(&pair[0]);
        let value = String::from_utf8_lossy(&pair[1]).into_owned();
        let Some(d) = directives::find(&name) else {
            return Frame::Error(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            ));
        };
        if changes.iter().any(|(c, _)| c.name == d.name) {
            return fail(&name, "duplicate parameter");
        }
        if matches!(d.set, OnSet::Fixed) {
            return fail(&name, "can't set immutable config");
        }
        match (d.load)(&mut checked, &value) {
            Ok(()) => {}
            Err(ConfigError::NotAnInteger { .. }) => {
                return fail(&name, "argument couldn't be parsed into an integer")
            }
            Err(ConfigError::Invalid { expected, .. })
                if d.name == "client-output-buffer-limit" =>
            {
                return fail(&name, &expected)
            }
            Err(_) => return fail(&name, "argument must be a valid value"),
        }
        changes.push((d, value));
    }
    if let Some((_, value)) = changes.iter().find(|(d, _)| d.name == "requirepass") {
        let reply = super::acl::set_requirepass(s, value.as_bytes()).await;
        if reply.is_error() {
            return reply;
        }
    }
    for (d, _) in &changes {
        match d.set {
            OnSet::Live(apply) => apply(&s.node.runtime, &checked),
            OnSet::Node if d.name == "masterauth" => {
                s.node.transport.set_masterauth(checked.masterauth.clone())
            }
            OnSet::Node | OnSet::Ignored | OnSet::Fixed => {}
        }
    }
    Frame::ok()
}

/// CONFIG GET's view: every directive with its effective value (secrets redacted).
pub fn config_values(node: &NodeState) -> Vec<(&'static str, String)> {
    DIRECTIVES
        .iter()
        .filter_map(|d| {
            let value = match d.show {
                Show::Value(show) => show(&node.config, &node.runtime),
                Show::Node => redacted(secret_is_set(node, d.name)),
                Show::Hidden => return None,
            };
            Some((d.name, value))
        })
        .collect()
}

/// Whether a secret directive has a value in force: the cluster's default user has a
/// password (requirepass), the peer calls carry one (masterauth).
fn secret_is_set(node: &NodeState, name: &str) -> bool {
    match name {
        "requirepass" => !node.default_user_has_no_password(),
        "masterauth" => !node.transport.masterauth().is_empty(),
        _ => true,
    }
}

fn redacted(set: bool) -> String {
    if set {
        "<redacted>".into()
    } else {
        String::new()
    }
}
