//! INFO: the sections Redis clients and tools read, rendered from the server's counters.
//! Never prints a secret.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use crate::state::NodeState;
use crate::store::DATABASES;

use crate::sync::Locked as _;
use crate::REDIS_VERSION;

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "errorstats",
    "keyspace",
];
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "commandstats",
    "errorstats",
    "keyspace",
];

/// Renders the requested sections (none: default; "all"/"everything": all).
pub fn render(server: &NodeState, args: &[Bytes]) -> String {
    let mut wanted: Vec<&str> = Vec::new();
    if args.is_empty() {
        wanted.extend(DEFAULT_SECTIONS);
    }
    for a in args {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "all" | "everything" => wanted.extend(ALL_SECTIONS),
            "default" => wanted.extend(DEFAULT_SECTIONS),
            other => {
                if let Some(s) = ALL_SECTIONS.iter().find(|s| **s == other) {
                    wanted.push(s);
                }
            }
        }
    }
    let mut out = String::new();
    for section in ALL_SECTIONS {
        if !wanted.contains(section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let title = {
            let mut t = section.to_string();
            if let Some(first) = t.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            t
        };
        let _ = write!(out, "# {title}\r\n");
        match *section {
            "server" => server_section(server, &mut out),
            "clients" => clients_section(server, &mut out),
            "memory" => memory_section(server, &mut out),
            "persistence" => persistence_section(server, &mut out),
            "stats" => stats_section(server, &mut out),
            "replication" => replication_section(server, &mut out),
            "cpu" => cpu_section(&mut out),
            "commandstats" => commandstats_section(server, &mut out),
            "errorstats" => errorstats_section(server, &mut out),
            "keyspace" => keyspace_section(server, &mut out),
            _ => {}
        }
    }
    out
}

fn line(out: &mut String, k: &str, v: impl std::fmt::Display) {
    let _ = write!(out, "{k}:{v}\r\n");
}

fn server_section(s: &NodeState, out: &mut String) {
    let uptime = s.started.elapsed().as_secs();
    let now = crate::clock::since_epoch();
    line(out, "redis_version", REDIS_VERSION);
    line(out, "redoubt_version", env!("CARGO_PKG_VERSION"));
    line(out, "redis_mode", "standalone");
    line(out, "os", std::env::consts::OS);
    line(out, "arch_bits", usize::BITS);
    line(out, "multiplexing_api", "epoll");
    line(out, "process_id", std::process::id());
    line(out, "run_id", &s.run_id);
    line(out, "tcp_port", s.config.port);
    line(out, "server_time_usec", now.as_micros());
    line(out, "uptime_in_seconds", uptime);
    line(out, "uptime_in_days", uptime / 86400);
    line(
        out,
        "executable",
        std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
    line(
        out,
        "config_file",
        s.config
            .config_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
}

fn clients_section(s: &NodeState, out: &mut String) {
    let clients = s.clients.list();
    let pubsub = clients
        .iter()
        .filter(|c| {
            let i = c.info();
            i.subscriptions + i.psubscriptions > 0
        })
        .count();
    line(out, "connected_clients", s.clients.admitted());
    line(
        out,
        "client_recent_max_output_buffer",
        clients.iter().map(|c| c.output.queued()).max().unwrap_or(0),
    );
    line(
        out,
        "maxclients",
        s.runtime.maxclients.load(Ordering::Relaxed),
    );
    line(out, "blocked_clients", 0);
    line(out, "pubsub_clients", pubsub);
}

fn memory_section(s: &NodeState, out: &mut String) {
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|t| {
            t.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0);
    line(out, "used_memory_rss", rss);
    line(out, "used_memory_disk", s.raft.storage_bytes());
    line(out, "maxmemory", 0);
}

fn persistence_section(s: &NodeState, out: &mut String) {
    line(out, "loading", 0);
    line(out, "aof_enabled", 1);
    line(out, "raft_log_entries", s.raft.log_entries());
}

fn stats_section(s: &NodeState, out: &mut String) {
    let st = &s.stats;
    let counters = |list: &[(&str, &std::sync::atomic::AtomicU64)], out: &mut String| {
        for (name, counter) in list {
            line(out, name, counter.load(Ordering::Relaxed));
        }
    };
    counters(
        &[
            ("total_connections_received", &st.connections_received),
            ("total_commands_processed", &st.commands_processed),
            ("total_net_input_bytes", &st.net_input_bytes),
            ("total_net_output_bytes", &st.net_output_bytes),
            ("rejected_connections", &st.rejected_connections),
            ("expired_keys", &st.expired_keys_proposed),
            (
                "client_output_buffer_limit_disconnections",
                &st.client_output_buffer_limit_disconnections,
            ),
            ("pubsub_fanout_dropped", &st.pubsub_fanout_dropped),
        ],
        out,
    );
    line(out, "pubsub_channels", s.pubsub.channel_count());
    line(out, "pubsub_patterns", s.pubsub.numpat());
    let auth = &s.auth;
    counters(
        &[
            ("total_error_replies", &st.error_replies),
            ("acl_access_denied_auth", &auth.denied_auth),
            ("acl_access_denied_cmd", &auth.denied_cmd),
            ("acl_access_denied_key", &auth.denied_key),
            ("acl_access_denied_channel", &auth.denied_channel),
        ],
        out,
    );
}

fn replication_section(s: &NodeState, out: &mut String) {
    let st = s.raft.status();
    line(out, "role", if st.leads() { "master" } else { "slave" });
    line(out, "connected_slaves", 0);
    line(out, "raft_node_id", st.node_id);
    line(out, "raft_state", st.role);
    line(out, "raft_term", st.term);
    line(
        out,
        "raft_leader_id",
        st.leader.map_or(String::new(), |(id, _)| id.to_string()),
    );
    line(out, "raft_last_log_index", st.last_log_index);
    line(out, "raft_applied_index", st.applied_index);
}

fn cpu_section(out: &mut String) {
    // /proc/self/stat fields 14 and 15: user and system time in clock ticks (100 Hz).
    let (user, sys) = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|t| {
            let after = t.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = after.split_whitespace().collect();
            Some((
                f.get(11)?.parse::<f64>().ok()?,
                f.get(12)?.parse::<f64>().ok()?,
            ))
        })
        .unwrap_or((0.0, 0.0));
    line(out, "used_cpu_sys", format!("{:.6}", sys / 100.0));
    line(out, "used_cpu_user", format!("{:.6}", user / 100.0));
}

fn commandstats_section(s: &NodeState, out: &mut String) {
    for (name, [calls, usec, rejected, failed]) in s.stats.commands.snapshot() {
        let per = if calls > 0 {
            usec as f64 / calls as f64
        } else {
            0.0
        };
        let _ = write!(
            out,
            "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={failed}\r\n"
        );
    }
}

fn errorstats_section(s: &NodeState, out: &mut String) {
    let errors = s.stats.errors.locked().clone();
    let mut codes: Vec<_> = errors.into_iter().collect();
    codes.sort();
    for (code, count) in codes {
        let _ = write!(out, "errorstat_{code}:count={count}\r\n");
    }
}

fn keyspace_section(s: &NodeState, out: &mut String) {
    let ks = s.raft.read_view(0, 0);
    for db in 0..DATABASES {
        if let Ok((keys, expires)) = ks.counters(db) {
            if keys > 0 {
                let _ = write!(out, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
            }
        }
    }
}
