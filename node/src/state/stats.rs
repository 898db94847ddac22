//! Counters for INFO: connections, commands (calls, time, rejections, failures) and errors.

use crate::sync::Locked as _;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Per-command and per-error counters for INFO.
#[derive(Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub error_replies: AtomicU64,
    pub expired_keys_proposed: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// PUBLISH messages not sent to a peer because its queue was full.
    pub pubsub_fanout_dropped: AtomicU64,
    /// Clients closed by client-output-buffer-limit.
    pub client_output_buffer_limit_disconnections: AtomicU64,
    /// name -> (calls, usec, rejected, failed)
    pub commands: Mutex<HashMap<String, [u64; 4]>>,
    /// error code -> count
    pub errors: Mutex<HashMap<String, u64>>,
}

impl Stats {
    pub fn record_command(&self, name: &str, usec: u64, failed: bool) {
        let mut m = self.commands.locked();
        if !m.contains_key(name) {
            m.insert(name.to_string(), [0; 4]);
        }
        let Some(e) = m.get_mut(name) else {
            return;
        };
        e[0] += 1;
        e[1] += usec;
        if failed {
            e[3] += 1;
        }
    }

    pub fn record_rejected(&self, name: &str) {
        let mut m = self.commands.locked();
        m.entry(name.to_string()).or_insert([0; 4])[2] += 1;
    }

    pub fn record_error(&self, text: &str) {
        self.error_replies.fetch_add(1, Ordering::Relaxed);
        let code = text.split(' ').next().unwrap_or("ERR").to_string();
        *self.errors.locked().entry(code).or_insert(0) += 1;
    }

    pub fn reset(&self) {
        self.commands.locked().clear();
        self.errors.locked().clear();
        self.error_replies.store(0, Ordering::Relaxed);
        self.commands_processed.store(0, Ordering::Relaxed);
        self.connections_received.store(0, Ordering::Relaxed);
        self.rejected_connections.store(0, Ordering::Relaxed);
    }
}
