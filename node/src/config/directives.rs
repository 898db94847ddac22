//! Every directive, declared once: its name, default, whether it is a secret, how its text
//! is checked into the [`Config`], what CONFIG GET shows and what CONFIG SET does. The config
//! file, `REDOUBT_*` variables, command-line flags, CONFIG GET / SET and INFO all read this
//! table, so a directive cannot be accepted by one and unknown to another.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::runtime::Runtime;
use super::{
    invalid, parse_bool, parse_u64, Config, ConfigError, DebugMode, LogLevel, PeerEntry,
    ReadConsistency, Secret, MAX_RAFT_ENTRY_SIZE,
};
use crate::store::DATABASES;

/// Checks a directive's text and stores it in the configuration being built.
pub type Load = fn(&mut Config, &str) -> Result<(), ConfigError>;

/// What CONFIG GET shows for a directive.
pub enum Show {
    /// The effective value, from the configuration and the live settings.
    Value(fn(&Config, &Runtime) -> String),
    /// The node knows it (requirepass: the cluster's default user; masterauth: the peer
    /// credentials in use), always redacted.
    Node,
    /// Not listed (start-up wiring: peers, TLS files, rename-command).
    Hidden,
}

/// What CONFIG SET does with a directive.
pub enum OnSet {
    /// Fixed at start ("can't set immutable config").
    Fixed,
    /// Checked by the directive's `load`, then applied to the live settings.
    Live(fn(&Runtime, &Config)),
    /// Carried out by the node: requirepass becomes an ACL entry through Raft, masterauth
    /// the credentials of the next peer calls.
    Node,
    /// Accepted for Redis clients and ignored (durability is not optional in Redoubt).
    Ignored,
}

/// One directive.
pub struct Directive {
    pub name: &'static str,
    /// The text used when no layer sets it.
    pub default: &'static str,
    /// Never echoed: not in errors, logs, CONFIG GET or MONITOR.
    pub secret: bool,
    /// Read from the file, environment and flags (false: Redis's names that CONFIG GET / SET
    /// answer for compatibility only).
    pub startup: bool,
    pub load: Load,
    pub show: Show,
    pub set: OnSet,
}

/// A directive the file, environment and flags may set.
const fn startup(name: &'static str, default: &'static str, load: Load) -> Directive {
    Directive {
        name,
        default,
        secret: false,
        startup: true,
        load,
        show: Show::Hidden,
        set: OnSet::Fixed,
    }
}

impl Directive {
    const fn show(mut self, f: fn(&Config, &Runtime) -> String) -> Directive {
        self.show = Show::Value(f);
        self
    }

    const fn live(mut self, apply: fn(&Runtime, &Config)) -> Directive {
        self.set = OnSet::Live(apply);
        self
    }

    const fn secret(mut self) -> Directive {
        self.secret = true;
        self.show = Show::Node;
        self.set = OnSet::Node;
        self
    }

    /// A name CONFIG GET / SET answer for Redis clients; not a Redoubt setting.
    const fn compat(mut self, set: OnSet) -> Directive {
        self.startup = false;
        self.set = set;
        self
    }
}

/// Directives read and checked at start by the TLS component itself (`tls::TlsConfig`).
const fn tls(name: &'static str) -> Directive {
    startup(name, "", |_, _| Ok(()))
}

fn u64_at_least(name: &str, v: &str, min: u64, expected: &'static str) -> Result<u64, ConfigError> {
    let n = parse_u64(name, v)?;
    if n < min {
        return Err(invalid(name, v, expected));
    }
    Ok(n)
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn num(n: u64) -> String {
    n.to_string()
}

/// The table, in CONFIG GET's order.
pub const DIRECTIVES: &[Directive] = &[
    startup("bind", "127.0.0.1 -::1", |c, v| {
        c.bind = v
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if c.bind.is_empty() {
            return Err(invalid("bind", "", "expected at least one address"));
        }
        Ok(())
    })
    .show(|c, _| c.bind.join(" ")),
    startup("port", "6379", |c, v| {
        c.port = v
            .parse::<u16>()
            .map_err(|_| invalid("port", v, "expected a port number 0..65535"))?;
        Ok(())
    })
    .show(|c, _| c.port.to_string()),
    startup("protected-mode", "yes", |c, v| {
        c.protected_mode = parse_bool("protected-mode", v)?;
        Ok(())
    })
    .show(|_, rt| yes_no(rt.protected_mode.load(std::sync::atomic::Ordering::Relaxed)))
    .live(|rt, c| {
        rt.protected_mode
            .store(c.protected_mode, std::sync::atomic::Ordering::Relaxed)
    }),
    startup("dir", ".", |c, v| {
        c.dir = PathBuf::from(v);
        Ok(())
    })
    .show(|c, _| c.dir.display().to_string()),
    startup("logfile", "", |c, v| {
        c.logfile = v.to_string();
        Ok(())
    })
    .show(|c, _| c.logfile.clone()),
    startup("loglevel", "notice", |c, v| {
        c.loglevel = LogLevel::parse(v).ok_or_else(|| {
            invalid(
                "loglevel",
                v,
                "expected debug, verbose, notice, warning or nothing",
            )
        })?;
        Ok(())
    })
    .show(|_, rt| rt.loglevel().name().to_string())
    .live(|rt, c| rt.set_loglevel(c.loglevel)),
    startup("maxclients", "10000", |c, v| {
        c.maxclients = u64_at_least("maxclients", v, 1, "expected at least 1")?;
        Ok(())
    })
    .show(|_, rt| num(Runtime::get(&rt.maxclients)))
    .live(|rt, c| Runtime::set(&rt.maxclients, c.maxclients)),
    startup("timeout", "0", |c, v| {
        c.timeout = parse_u64("timeout", v)?;
        Ok(())
    })
    .show(|_, rt| num(Runtime::get(&rt.timeout)))
    .live(|rt, c| Runtime::set(&rt.timeout, c.timeout)),
    startup("proto-max-bulk-len", "512mb", |c, v| {
        c.proto_max_bulk_len = u64_at_least(
            "proto-max-bulk-len",
            v,
            1024 * 1024,
            "expected at least 1mb",
        )?;
        Ok(())
    })
    .show(|_, rt| num(Runtime::get(&rt.proto_max_bulk_len)))
    .live(|rt, c| Runtime::set(&rt.proto_max_bulk_len, c.proto_max_bulk_len)),
    startup("client-query-buffer-limit", "1gb", |c, v| {
        c.client_query_buffer_limit = parse_u64("client-query-buffer-limit", v)?;
        Ok(())
    })
    .show(|_, rt| num(Runtime::get(&rt.client_query_buffer_limit)))
    .live(|rt, c| Runtime::set(&rt.client_query_buffer_limit, c.client_query_buffer_limit)),
    startup(
        "client-output-buffer-limit",
        "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60",
        |c, v| {
            // Relative to the limits in force: classes `v` does not name keep theirs.
            c.client_output_buffer_limit = c
                .client_output_buffer_limit
                .updated(v)
                .map_err(|why| invalid("client-output-buffer-limit", v, why))?;
            Ok(())
        },
    )
    .show(|_, rt| rt.output_limits().render())
    .live(|rt, c| {
        rt.client_output_buffer_limit
            .store(std::sync::Arc::new(c.client_output_buffer_limit))
    }),
    startup("min-free-disk", "64mb", |c, v| {
        c.min_free_disk = parse_u64("min-free-disk", v)?;
        Ok(())
    })
    .show(|c, _| num(c.min_free_disk)),
    startup("rename-command", "", |_, _| Ok(())),
    startup("enable-debug-command", "no", |c, v| {
        c.enable_debug_command = match v.to_ascii_lowercase().as_str() {
            "no" => DebugMode::No,
            "local" => DebugMode::Local,
            "yes" => DebugMode::Yes,
            _ => {
                return Err(invalid(
                    "enable-debug-command",
                    v,
                    "expected no, local or yes",
                ))
            }
        };
        Ok(())
    })
    .show(|c, _| c.enable_debug_command.name().to_string()),
    startup("databases", "", |_, _| Ok(()))
        .show(|_, _| DATABASES.to_string())
        .compat(OnSet::Fixed),
    startup("requirepass", "", |c, v| {
        c.requirepass = Secret::new(v);
        Ok(())
    })
    .secret(),
    startup("masteruser", super::DEFAULT_MASTERUSER, |c, v| {
        if v == "default" || v.is_empty() || v.contains([' ', '\0']) {
            return Err(invalid(
                "masteruser",
                v,
                "the replication user must be a dedicated ACL user, not 'default'",
            ));
        }
        c.masteruser = v.to_string();
        Ok(())
    })
    .show(|c, _| c.masteruser.clone()),
    startup("masterauth", "", |c, v| {
        c.masterauth = Secret::new(v);
        Ok(())
    })
    .secret(),
    startup("aclfile", "", |c, v| {
        c.aclfile = Some(v).filter(|s| !s.is_empty()).map(PathBuf::from);
        Ok(())
    })
    .show(|c, _| {
        c.aclfile
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }),
    startup("acllog-max-len", "128", |c, v| {
        c.acllog_max_len = parse_u64("acllog-max-len", v)?;
        Ok(())
    })
    .show(|c, _| num(c.acllog_max_len)),
    startup("auth-max-failures", "0", |c, v| {
        c.auth_max_failures = parse_u64("auth-max-failures", v)?;
        Ok(())
    })
    .show(|c, _| num(c.auth_max_failures)),
    startup("auth-failure-delay", "1000", |c, v| {
        c.auth_failure_delay_ms = parse_u64("auth-failure-delay", v)?.min(60_000);
        Ok(())
    })
    .show(|c, _| num(c.auth_failure_delay_ms)),
    startup("save", "", |_, _| Ok(()))
        .show(|_, _| String::new())
        .compat(OnSet::Ignored),
    startup("appendonly", "", |_, _| Ok(()))
        .show(|_, _| "yes".into())
        .compat(OnSet::Ignored),
    startup("appendfsync", "", |_, _| Ok(()))
        .show(|_, _| "always".into())
        .compat(OnSet::Ignored),
    startup("node-id", "1", |c, v| {
        c.node_id = u64_at_least("node-id", v, 1, "expected a positive integer")?;
        Ok(())
    })
    .show(|c, _| num(c.node_id)),
    startup("raft-addr", "127.0.0.1:16379", |c, v| {
        if v.parse::<SocketAddr>().is_err() {
            return Err(invalid(
                "raft-addr",
                v,
                "expected host:port with an IP address",
            ));
        }
        c.raft_addr = v.to_string();
        Ok(())
    })
    .show(|c, _| c.raft_addr.clone()),
    // Empty: the same as raft-addr (filled in by `Config::check_together`).
    startup("raft-advertise-addr", "", |c, v| {
        c.raft_advertise_addr = v.to_string();
        Ok(())
    })
    .show(|c, _| c.raft_advertise_addr.clone()),
    startup("bind-source-addr", "", |c, v| {
        c.bind_source_addr = match v {
            "" => None,
            s => Some(
                s.parse::<IpAddr>()
                    .map_err(|_| invalid("bind-source-addr", s, "expected an IP address"))?,
            ),
        };
        Ok(())
    })
    .show(|c, _| {
        c.bind_source_addr
            .map(|a| a.to_string())
            .unwrap_or_default()
    }),
    startup("raft-snapshot-logs", "100000", |c, v| {
        c.raft_snapshot_logs = parse_u64("raft-snapshot-logs", v)?.max(1);
        Ok(())
    })
    .show(|c, _| num(c.raft_snapshot_logs)),
    startup("raft-max-entry-size", "128mb", |c, v| {
        let n = u64_at_least(
            "raft-max-entry-size",
            v,
            1024 * 1024,
            "expected at least 1mb",
        )?;
        // Entries travel in peer messages of at most 256 MB (MAX_PEER_MESSAGE).
        if n > MAX_RAFT_ENTRY_SIZE {
            return Err(invalid("raft-max-entry-size", v, "expected at most 192mb"));
        }
        c.raft_max_entry_size = n;
        Ok(())
    })
    .show(|c, _| num(c.raft_max_entry_size)),
    startup("read-consistency", "linearizable", |c, v| {
        c.read_consistency = match v.to_ascii_lowercase().as_str() {
            "linearizable" => ReadConsistency::Linearizable,
            "stale" => ReadConsistency::Stale,
            _ => {
                return Err(invalid(
                    "read-consistency",
                    v,
                    "expected linearizable or stale",
                ))
            }
        };
        Ok(())
    })
    .show(|c, _| c.read_consistency.name().to_string()),
    startup("peers", "", |c, v| {
        c.peers = v
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(|item| {
                PeerEntry::parse(item).ok_or_else(|| {
                    invalid(
                        "peers",
                        item,
                        "expected id=host:port or id=name@host:port entries",
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(())
    }),
    startup("bootstrap", "no", |c, v| {
        c.bootstrap = parse_bool("bootstrap", v)?;
        Ok(())
    }),
    startup("join", "", |c, v| {
        if !v.is_empty() && !v.contains(':') {
            return Err(invalid("join", v, "expected host:port of a member"));
        }
        c.join = Some(v).filter(|s| !s.is_empty()).map(str::to_string);
        Ok(())
    }),
    startup("peer-tls", "yes", |c, v| {
        c.peer_tls = parse_bool("peer-tls", v)?;
        Ok(())
    }),
    tls("peer-tls-cert-file"),
    tls("peer-tls-key-file"),
    tls("peer-tls-ca-cert-file"),
    tls("peer-allowed-cn"),
    tls("tls-port"),
    tls("tls-cert-file"),
    tls("tls-key-file"),
    tls("tls-ca-cert-file"),
    tls("tls-auth-clients"),
    tls("tls-auth-clients-user"),
    tls("tls-protocols"),
    tls("tls-ciphersuites"),
];

/// The directive called `name` (lower-case), if any.
pub fn find(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| d.name == name)
}

/// Whether the file, environment and flags may set `name`.
pub fn is_startup(name: &str) -> bool {
    find(name).is_some_and(|d| d.startup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_loads_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        let mut c = Config::default();
        for d in DIRECTIVES {
            assert!(names.insert(d.name), "duplicate {}", d.name);
            assert_eq!(d.name, d.name.to_ascii_lowercase());
            (d.load)(&mut c, d.default).unwrap_or_else(|e| panic!("{}: {e}", d.name));
        }
    }

    #[test]
    fn what_config_get_shows_loads_back_to_the_same_value() {
        let config = Config::load(None, &[], &[]).expect("defaults");
        let rt = Runtime::new(&config, Box::new(|_| {}));
        for d in DIRECTIVES.iter().filter(|d| d.startup) {
            let Show::Value(show) = d.show else { continue };
            let shown = show(&config, &rt);
            let mut again = config.clone();
            (d.load)(&mut again, &shown).unwrap_or_else(|e| panic!("{}: {e}", d.name));
            assert_eq!(show(&again, &rt), shown, "{}", d.name);
        }
    }

    #[test]
    fn loglevel_set_is_what_get_answers() {
        let config = Config::load(None, &[], &[]).expect("defaults");
        let rt = Runtime::new(&config, Box::new(|_| {}));
        let d = find("loglevel").expect("loglevel");
        for level in ["debug", "verbose", "notice", "warning", "nothing"] {
            let mut c = config.clone();
            (d.load)(&mut c, level).expect("valid");
            let OnSet::Live(apply) = d.set else {
                panic!("loglevel is settable")
            };
            apply(&rt, &c);
            let Show::Value(show) = d.show else {
                panic!("loglevel is shown")
            };
            assert_eq!(show(&c, &rt), level);
        }
    }

    #[test]
    fn secrets_are_never_shown_by_value() {
        for d in DIRECTIVES.iter().filter(|d| d.secret) {
            assert!(matches!(d.show, Show::Node), "{}", d.name);
        }
    }
}
