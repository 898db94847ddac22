//! CONFIG GET / SET / RESETSTAT / REWRITE: the directives as clients see and change them.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::help;
use crate::commands::args::{glob_match, lower};
use crate::commands::server::ConfigCmd;
use crate::config::{LogLevel, ReadConsistency};
use crate::session::Session;
use crate::state::NodeState;
use crate::store::DATABASES;
use crate::sync::Locked as _;

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

async fn config_set(s: &mut Session, pairs: &[Bytes]) -> Frame {
    if !pairs.len().is_multiple_of(2) {
        return Frame::error("ERR wrong number of arguments for 'config|set' command");
    }
    let fail = |name: &str, why: &str| {
        Frame::Error(format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
        ))
    };
    // Check everything first: CONFIG SET applies all or nothing.
    let mut changes: Vec<(String, String)> = Vec::new();
    for pair in pairs.chunks(2) {
        let name = lower(&pair[0]);
        let value = String::from_utf8_lossy(&pair[1]).into_owned();
        if changes.iter().any(|(n, _)| *n == name) {
            return fail(&name, "duplicate parameter");
        }
        let ok = match name.as_str() {
            "timeout" | "maxclients" | "proto-max-bulk-len" | "client-query-buffer-limit" => {
                match crate::config::parse_memory(&value) {
                    Some(n) if name == "maxclients" && n == 0 => false,
                    Some(n) if name == "proto-max-bulk-len" && n < 1024 * 1024 => false,
                    Some(_) => true,
                    None => return fail(&name, "argument couldn't be parsed into an integer"),
                }
            }
            "protected-mode" => crate::config::parse_bool(&name, &value).is_ok(),
            "client-output-buffer-limit" => {
                if let Err(why) = s.node.output_limits().updated(&value) {
                    return fail(&name, &why);
                }
                true
            }
            "loglevel" => LogLevel::parse(&value).is_some(),
            "requirepass" | "masterauth" => true,
            "save" | "appendonly" | "appendfsync" => true,
            n if crate::config::DIRECTIVES.contains(&n) || n == "databases" => {
                return fail(&name, "can't set immutable config");
            }
            _ => {
                return Frame::Error(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                ))
            }
        };
        if !ok {
            return fail(&name, "argument must be a valid value");
        }
        changes.push((name, value));
    }
    // The replicated part first: if it fails, nothing changed.
    if let Some(i) = pairs.chunks(2).position(|p| lower(&p[0]) == "requirepass") {
        let reply = super::acl::set_requirepass(s, &pairs[i * 2 + 1]).await;
        if reply.is_error() {
            return reply;
        }
    }
    let rt = &s.node.runtime;
    for (name, value) in changes {
        let n = crate::config::parse_memory(&value).unwrap_or(0);
        match name.as_str() {
            "timeout" => rt.timeout.store(n, Ordering::Relaxed),
            "maxclients" => rt.maxclients.store(n, Ordering::Relaxed),
            "proto-max-bulk-len" => rt.proto_max_bulk_len.store(n, Ordering::Relaxed),
            "client-query-buffer-limit" => rt.client_query_buffer_limit.store(n, Ordering::Relaxed),
            "client-output-buffer-limit" => {
                if let Ok(limits) = s.node.output_limits().updated(&value) {
                    rt.client_output_buffer_limit
                        .store(std::sync::Arc::new(limits));
                }
            }
            "protected-mode" => rt.protected_mode.store(
                crate::config::parse_bool(&name, &value).unwrap_or(true),
                Ordering::Relaxed,
            ),
            "loglevel" => {
                if let Some(level) = LogLevel::parse(&value) {
                    *rt.loglevel.locked() = level;
                    (s.node.set_log_filter)(&level.filter());
                }
            }
            "masterauth" => s
                .node
                .transport
                .set_masterauth(crate::config::Secret::new(value)),
            // Durability is not optional in Redoubt: accepted for client compatibility.
            _ => {}
        }
    }
    Frame::ok()
}

/// CONFIG GET's view: every directive with its effective value (secrets redacted).
pub fn config_values(server: &NodeState) -> Vec<(&'static str, String)> {
    let c = &server.config;
    let rt = &server.runtime;
    vec![
        ("bind", c.bind.join(" ")),
        ("port", c.port.to_string()),
        (
            "protected-mode",
            yes_no(rt.protected_mode.load(Ordering::Relaxed)),
        ),
        ("dir", c.dir.display().to_string()),
        ("logfile", c.logfile.clone()),
        ("loglevel", rt.loglevel.locked().name().to_string()),
        (
            "maxclients",
            rt.maxclients.load(Ordering::Relaxed).to_string(),
        ),
        ("timeout", rt.timeout.load(Ordering::Relaxed).to_string()),
        (
            "proto-max-bulk-len",
            rt.proto_max_bulk_len.load(Ordering::Relaxed).to_string(),
        ),
        (
            "client-query-buffer-limit",
            rt.client_query_buffer_limit
                .load(Ordering::Relaxed)
                .to_string(),
        ),
        (
            "client-output-buffer-limit",
            server.output_limits().render(),
        ),
        ("min-free-disk", c.min_free_disk.to_string()),
        (
            "enable-debug-command",
            c.enable_debug_command.name().to_string(),
        ),
        ("databases", DATABASES.to_string()),
        (
            "requirepass",
            // The cluster's default user, not this node's start-up value; never the secret.
            if server.default_user_has_no_password() {
                String::new()
            } else {
                "<redacted>".into()
            },
        ),
        ("masteruser", c.masteruser.clone()),
        (
            "masterauth",
            if server.transport.masterauth().is_empty() {
                String::new()
            } else {
                "<redacted>".into()
            },
        ),
        (
            "aclfile",
            c.aclfile
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        ("acllog-max-len", c.acllog_max_len.to_string()),
        ("auth-max-failures", c.auth_max_failures.to_string()),
        ("auth-failure-delay", c.auth_failure_delay_ms.to_string()),
        ("save", String::new()),
        ("appendonly", "yes".into()),
        ("appendfsync", "always".into()),
        ("node-id", c.node_id.to_string()),
        ("raft-addr", c.raft_addr.clone()),
        ("raft-advertise-addr", c.raft_advertise_addr.clone()),
        (
            "bind-source-addr",
            c.bind_source_addr
                .map(|a| a.to_string())
                .unwrap_or_default(),
        ),
        ("raft-snapshot-logs", c.raft_snapshot_logs.to_string()),
        ("raft-max-entry-size", c.raft_max_entry_size.to_string()),
        (
            "read-consistency",
            match c.read_consistency {
                ReadConsistency::Linearizable => "linearizable".into(),
                ReadConsistency::Stale => "stale".into(),
            },
        ),
    ]
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}
