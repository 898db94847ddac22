//! Layered configuration: defaults < `redoubt.toml` < `REDOUBT_*` environment < `--flags`.
//!
//! Directive names are Redis's where Redis has one (`port`, `bind`, `proto-max-bulk-len`...).
//! Every value is checked here, once, at start: a bad one is reported in one line naming the
//! directive and the value. Secrets are wrapped in [`Secret`], whose Debug/Display print nothing.

pub mod directives;
pub mod output_limits;
pub mod runtime;

pub use directives::{Directive, OnSet, Show, DIRECTIVES};
pub use runtime::{Runtime, SetLogFilter};

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use config::{File, FileFormat};

/// A value that must never reach a log line, INFO or an error message.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `enable-debug-command`: who may run DEBUG.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DebugMode {
    #[default]
    No,
    Local,
    Yes,
}

impl DebugMode {
    pub fn name(self) -> &'static str {
        match self {
            DebugMode::No => "no",
            DebugMode::Local => "local",
            DebugMode::Yes => "yes",
        }
    }
}

/// Redis log levels, mapped onto tracing levels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    #[default]
    Notice,
    Warning,
    Nothing,
}

impl LogLevel {
    pub fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.to_ascii_lowercase().as_str() {
            "debug" => LogLevel::Debug,
            "verbose" => LogLevel::Verbose,
            "notice" => LogLevel::Notice,
            "warning" => LogLevel::Warning,
            "nothing" => LogLevel::Nothing,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "verbose",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
            LogLevel::Nothing => "nothing",
        }
    }

    /// The tracing filter for this level (dependencies stay at warn).
    pub fn filter(self) -> String {
        let ours = match self {
            LogLevel::Debug => "trace",
            LogLevel::Verbose => "debug",
            LogLevel::Notice => "info",
            LogLevel::Warning => "warn",
            LogLevel::Nothing => "off",
        };
        let deps = if self == LogLevel::Nothing {
            "off"
        } else {
            "warn"
        };
        format!("{deps},redoubt={ours},redoubt_node={ours}")
    }
}

/// Which reads a follower serves from its own state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadConsistency {
    #[default]
    Linearizable,
    Stale,
}

impl ReadConsistency {
    pub fn name(self) -> &'static str {
        match self {
            ReadConsistency::Linearizable => "linearizable",
            ReadConsistency::Stale => "stale",
        }
    }
}

/// One `peers` entry: a member's id, peer address and, optionally, the node name its
/// certificate carries (`id=name@host:port`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerEntry {
    pub id: u64,
    pub name: Option<String>,
    pub addr: String,
}

impl PeerEntry {
    fn parse(item: &str) -> Option<PeerEntry> {
        let (id, rest) = item.split_once('=')?;
        let id = id.parse::<u64>().ok().filter(|id| *id > 0)?;
        let (name, addr) = match rest.split_once('@') {
            Some((name, addr)) => {
                if !crate::tls::identity::valid_node_name(name) {
                    return None;
                }
                (Some(name.to_string()), addr)
            }
            None => (None, rest),
        };
        if !addr.contains(':') {
            return None;
        }
        Some(PeerEntry {
            id,
            name,
            addr: addr.to_string(),
        })
    }

    /// The node name: the one given, else the address's host when it is a name (a compose
    /// service name like `node1`), not an IP address.
    pub fn node_name(&self) -> Option<String> {
        if let Some(name) = &self.name {
            return Some(name.clone());
        }
        let host = match self.addr.rsplit_once(':') {
            Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
            None => &self.addr,
        };
        let is_ip = host.parse::<std::net::IpAddr>().is_ok();
        (!is_ip && crate::tls::identity::valid_node_name(host)).then(|| host.to_string())
    }
}

/// The largest `raft-max-entry-size`: an entry, with a batch of small requests, must fit in a
/// peer message (256 MB).
pub const MAX_RAFT_ENTRY_SIZE: u64 = 192 * 1024 * 1024;

/// The node's configuration, validated.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub config_file: Option<PathBuf>,
    pub bind: Vec<String>,
    pub port: u16,
    pub protected_mode: bool,
    pub dir: PathBuf,
    pub logfile: String,
    pub loglevel: LogLevel,
    pub maxclients: u64,
    pub timeout: u64,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    /// `min-free-disk`: below this many free bytes under `dir`, writes are refused (MISCONF).
    pub min_free_disk: u64,
    /// `client-output-buffer-limit`: per class, when a client's pending output closes it.
    pub client_output_buffer_limit: output_limits::OutputLimits,
    pub rename_command: HashMap<String, String>,
    pub enable_debug_command: DebugMode,
    pub node_id: u64,
    pub raft_addr: String,
    pub raft_advertise_addr: String,
    /// `bind-source-addr` (Redis 7): the local address outgoing peer connections are made
    /// from; None lets the kernel choose.
    pub bind_source_addr: Option<std::net::IpAddr>,
    pub raft_snapshot_logs: u64,
    /// `raft-max-entry-size`: the largest write a cluster of several nodes accepts (default
    /// 128mb, at most [`MAX_RAFT_ENTRY_SIZE`]).
    pub raft_max_entry_size: u64,
    pub read_consistency: ReadConsistency,
    pub requirepass: Secret,
    /// Users loaded at start and by ACL LOAD, written by ACL SAVE (Redis's format).
    pub aclfile: Option<PathBuf>,
    /// Most ACL LOG entries kept.
    pub acllog_max_len: u64,
    /// Failed AUTHs from one client address before its AUTHs are slowed (0: never).
    pub auth_max_failures: u64,
    /// How long (ms) each AUTH from such an address waits before it is checked.
    pub auth_failure_delay_ms: u64,
    /// Bootstrap members `id=[name@]host:port` (with `bootstrap = true` on one node).
    pub peers: Vec<PeerEntry>,
    pub bootstrap: bool,
    /// A member to ask for admission (a node joining a running cluster).
    pub join: Option<String>,
    /// Replication credentials presented to peers (`masteruser` / `masterauth`).
    pub masteruser: String,
    pub masterauth: Secret,
    /// `peer-tls = no` turns off TLS on the peer channel (tests of the channel only).
    pub peer_tls: bool,
    /// Every directive's final text value, for components that validate their own
    /// directives (TLS).
    pub raw: RawDirectives,
}

/// Directive values as text; Debug prints the names only (values may be secrets).
#[derive(Clone, Default)]
pub struct RawDirectives(HashMap<String, String>);

impl fmt::Debug for RawDirectives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        f.debug_set().entries(names).finish()
    }
}

/// A configuration problem, printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid value for '{directive}': '{value}' ({expected})")]
    Invalid {
        directive: String,
        value: String,
        expected: String,
    },
    #[error("invalid value for '{directive}': '{value}' (expected a non-negative integer)")]
    NotAnInteger { directive: String, value: String },
    #[error("unknown directive '{0}'")]
    Unknown(String),
    #[error("cannot read config file '{path}': {reason}")]
    File { path: String, reason: String },
    #[error("bad command line: {0}")]
    Args(String),
}

/// The replication user when `masteruser` is not set.
pub const DEFAULT_MASTERUSER: &str = "replicator";

impl Config {
    /// The final text of a directive (None when unset), secrets included: for components that
    /// validate their own directives.
    pub fn raw_value(&self, name: &str) -> Option<String> {
        self.raw.0.get(name).cloned()
    }
}

fn invalid(directive: &str, value: &str, expected: impl Into<String>) -> ConfigError {
    let shown = if directives::find(directive).is_some_and(|d| d.secret) {
        "<redacted>".to_string()
    } else {
        value.to_string()
    };
    ConfigError::Invalid {
        directive: directive.to_string(),
        value: shown,
        expected: expected.into(),
    }
}

pub fn parse_bool(directive: &str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" | "on" => Ok(true),
        "no" | "false" | "0" | "off" => Ok(false),
        _ => Err(invalid(directive, v, "expected yes or no")),
    }
}

pub fn parse_u64(directive: &str, v: &str) -> Result<u64, ConfigError> {
    parse_memory(v).ok_or_else(|| ConfigError::NotAnInteger {
        directive: directive.to_string(),
        value: v.to_string(),
    })
}

/// Integers with Redis's memory units (1k, 1kb, 1m, 1mb, 1g, 1gb).
pub fn parse_memory(v: &str) -> Option<u64> {
    let lower = v.trim().to_ascii_lowercase();
    let units: &[(&str, u64)] = &[
        ("kb", 1024),
        ("mb", 1024 * 1024),
        ("gb", 1024 * 1024 * 1024),
        ("k", 1000),
        ("m", 1_000_000),
        ("g", 1_000_000_000),
        ("b", 1),
    ];
    for (suffix, mul) in units {
        if let Some(n) = lower.strip_suffix(suffix) {
            return n.parse::<u64>().ok()?.checked_mul(*mul);
        }
    }
    lower.parse().ok()
}

/// The config file named on the command line, and the `--directive value` overrides in order.
pub type ParsedArgs = (Option<PathBuf>, Vec<(String, String)>);

/// Reads the command line: `[--config FILE] [--directive value]...` (also `--directive=value`).
/// Returns the config file and the overrides in order.
pub fn parse_args(args: &[String]) -> Result<ParsedArgs, ConfigError> {
    let mut file = None;
    let mut overrides = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let Some(name) = arg.strip_prefix("--") else {
            if i == 0 && !arg.starts_with('-') {
                // `redoubt redoubt.toml`, as `redis-server redis.conf`.
                file = Some(PathBuf::from(arg));
                i += 1;
                continue;
            }
            return Err(ConfigError::Args(format!("unexpected argument '{arg}'")));
        };
        let (name, value) = match name.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => {
                let Some(v) = args.get(i + 1) else {
                    return Err(ConfigError::Args(format!("'--{name}' needs a value")));
                };
                i += 1;
                (name.to_string(), v.clone())
            }
        };
        if name == "config" {
            file = Some(PathBuf::from(value));
        } else {
            overrides.push((name.to_ascii_lowercase().replace('_', "-"), value));
        }
        i += 1;
    }
    Ok((file, overrides))
}

/// `REDOUBT_<NAME>` variables as (directive, value).
pub fn env_overrides() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::env::vars()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("REDOUBT_")?;
            Some((name.to_ascii_lowercase().replace('_', "-"), v))
        })
        .filter(|(k, _)| directives::is_startup(k))
        .collect();
    out.sort();
    out
}

impl Config {
    /// Loads the layers and validates every directive.
    pub fn load(
        file: Option<&Path>,
        env: &[(String, String)],
        flags: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            builder = builder.add_source(File::from_str(&text, FileFormat::Toml));
        }
        let layered = builder.build().map_err(|e| ConfigError::File {
            path: file.map(|p| p.display().to_string()).unwrap_or_default(),
            reason: e.to_string(),
        })?;
        let mut values: HashMap<String, String> = HashMap::new();
        let mut renames: HashMap<String, String> = HashMap::new();
        for (key, value) in layered
            .try_deserialize::<HashMap<String, config::Value>>()
            .map_err(|e| ConfigError::File {
                path: file.map(|p| p.display().to_string()).unwrap_or_default(),
                reason: e.to_string(),
            })?
        {
            let key = key.replace('_', "-");
            if !directives::is_startup(&key) {
                return Err(ConfigError::Unknown(key));
            }
            if key == "rename-command" {
                let table = value.into_table().map_err(|_| {
                    invalid(
                        "rename-command",
                        "?",
                        "expected a table like { CONFIG = \"\" }",
                    )
                })?;
                for (old, new) in table {
                    let new = new.into_string().map_err(|_| {
                        invalid("rename-command", &old, "expected a string as the new name")
                    })?;
                    renames.insert(old.to_ascii_lowercase(), new);
                }
                continue;
            }
            let text = match value.clone().into_array() {
                Ok(items) => items
                    .into_iter()
                    .map(|v| v.into_string().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(" "),
                Err(_) => value
                    .into_string()
                    .map_err(|_| invalid(&key, "?", "expected a string or number"))?,
            };
            values.insert(key, text);
        }
        // A bad value in the file is an error even when a later layer overrides it.
        Config::from_values(file.map(Path::to_path_buf), &values, renames.clone())?;
        for (key, value) in env.iter().chain(flags) {
            if !directives::is_startup(key) {
                return Err(ConfigError::Unknown(key.clone()));
            }
            if key == "rename-command" {
                // `OLD=NEW` or `OLD NEW`; an empty NEW disables the command.
                let (old, new) = value
                    .split_once('=')
                    .or_else(|| value.split_once(' '))
                    .unwrap_or((value.as_str(), ""));
                let new = new.trim().trim_matches('"').trim_matches('\'');
                renames.insert(old.trim().to_ascii_lowercase(), new.to_string());
                continue;
            }
            values.insert(key.clone(), value.clone());
        }
        Config::from_values(file.map(Path::to_path_buf), &values, renames)
    }

    fn from_values(
        config_file: Option<PathBuf>,
        v: &HashMap<String, String>,
        rename_command: HashMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let mut config = Config {
            config_file,
            rename_command,
            raw: RawDirectives(v.clone()),
            ..Config::default()
        };
        for d in DIRECTIVES.iter().filter(|d| d.startup) {
            let text = v.get(d.name).map(String::as_str).unwrap_or(d.default);
            (d.load)(&mut config, text)?;
        }
        config.check_together()?;
        Ok(config)
    }

    /// Rules that involve several directives.
    fn check_together(&mut self) -> Result<(), ConfigError> {
        if self.raft_advertise_addr.is_empty() {
            self.raft_advertise_addr = self.raft_addr.clone();
        }
        if self.bootstrap && self.peers.is_empty() {
            return Err(invalid("bootstrap", "yes", "bootstrap needs 'peers'"));
        }
        if (!self.peers.is_empty() || self.join.is_some()) && self.masterauth.is_empty() {
            return Err(invalid(
                "masterauth",
                "",
                "a node with 'peers' or 'join' needs the replication password",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("redoubt.toml");
        std::fs::write(
            &path,
            "port = 7000\ntimeout = 5\nloglevel = \"warning\"\n[rename-command]\nCONFIG = \"\"\n",
        )
        .expect("write");
        let c = Config::load(
            Some(&path),
            &flags(&[("port", "7001"), ("timeout", "6")]),
            &flags(&[("port", "7002")]),
        )
        .expect("config");
        assert_eq!(c.port, 7002);
        assert_eq!(c.timeout, 6);
        assert_eq!(c.loglevel, LogLevel::Warning);
        assert_eq!(c.rename_command.get("config").map(String::as_str), Some(""));
    }

    #[test]
    fn bad_values_name_the_directive_and_value() {
        let e = Config::load(None, &[], &flags(&[("port", "abc")])).expect_err("bad port");
        assert_eq!(
            e.to_string(),
            "invalid value for 'port': 'abc' (expected a port number 0..65535)"
        );
        let e = Config::load(None, &[], &flags(&[("nosuch", "1")])).expect_err("unknown");
        assert_eq!(e.to_string(), "unknown directive 'nosuch'");
        let e =
            Config::load(None, &[], &flags(&[("enable-debug-command", "maybe")])).expect_err("x");
        assert!(e.to_string().contains("enable-debug-command"));
    }

    #[test]
    fn secrets_are_not_echoed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert!(!invalid("requirepass", "hunter2", "x")
            .to_string()
            .contains("hunter2"));
    }

    #[test]
    fn args_accept_both_forms() {
        let args: Vec<String> = ["--config", "a.toml", "--port", "1", "--dir=/x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (file, o) = parse_args(&args).expect("args");
        assert_eq!(file, Some(PathBuf::from("a.toml")));
        assert_eq!(o, flags(&[("port", "1"), ("dir", "/x")]));
        assert!(parse_args(&["--port".to_string()]).is_err());
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1mb"), Some(1024 * 1024));
        assert_eq!(parse_memory("512"), Some(512));
        assert_eq!(parse_memory("x"), None);
    }
}
