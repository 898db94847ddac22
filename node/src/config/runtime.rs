//! The settings CONFIG SET may change while the node runs, read by the parts that enforce
//! them (listeners, connections, the log filter). Each is declared in the directive table
//! ([`super::directives`]) with the function that applies it here.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use super::output_limits::OutputLimits;
use super::{Config, LogLevel};
use crate::sync::Locked as _;

/// Changes tracing's filter (CONFIG SET loglevel).
pub type SetLogFilter = Box<dyn Fn(&str) + Send + Sync>;

/// Live settings, initialised from the configuration.
pub struct Runtime {
    pub maxclients: AtomicU64,
    pub timeout: AtomicU64,
    pub proto_max_bulk_len: AtomicU64,
    pub client_query_buffer_limit: AtomicU64,
    pub client_output_buffer_limit: arc_swap::ArcSwap<OutputLimits>,
    pub protected_mode: AtomicBool,
    /// DEBUG SET-ACTIVE-EXPIRE (not a directive).
    pub active_expire: AtomicBool,
    loglevel: Mutex<LogLevel>,
    set_log_filter: SetLogFilter,
}

impl Runtime {
    pub fn new(config: &Config, set_log_filter: SetLogFilter) -> Runtime {
        Runtime {
            maxclients: AtomicU64::new(config.maxclients),
            timeout: AtomicU64::new(config.timeout),
            proto_max_bulk_len: AtomicU64::new(config.proto_max_bulk_len),
            client_query_buffer_limit: AtomicU64::new(config.client_query_buffer_limit),
            client_output_buffer_limit: arc_swap::ArcSwap::from_pointee(
                config.client_output_buffer_limit,
            ),
            protected_mode: AtomicBool::new(config.protected_mode),
            active_expire: AtomicBool::new(true),
            loglevel: Mutex::new(config.loglevel),
            set_log_filter,
        }
    }

    /// The current `client-output-buffer-limit`.
    pub fn output_limits(&self) -> OutputLimits {
        **self.client_output_buffer_limit.load()
    }

    pub fn loglevel(&self) -> LogLevel {
        *self.loglevel.locked()
    }

    /// Sets the log level and tracing's filter with it.
    pub fn set_loglevel(&self, level: LogLevel) {
        *self.loglevel.locked() = level;
        (self.set_log_filter)(&level.filter());
    }

    pub fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }

    pub fn set(v: &AtomicU64, n: u64) {
        v.store(n, Ordering::Relaxed)
    }
}
