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
    /// Per command: calls, usec, rejected, failed.
    pub commands: CommandCounters,
    /// error code -> count
    pub errors: Mutex<HashMap<String, u64>>,
}

impl Stats {
    pub fn record_command(&self, name: &str, usec: u64, failed: bool) {
        self.commands.add(name, [1, usec, 0, u64::from(failed)]);
    }

    pub fn record_rejected(&self, name: &str) {
        self.commands.add(name, [0, 0, 1, 0]);
    }

    pub fn record_error(&self, text: &str) {
        self.error_replies.fetch_add(1, Ordering::Relaxed);
        let code = text.split(' ').next().unwrap_or("ERR").to_string();
        *self.errors.locked().entry(code).or_insert(0) += 1;
    }

    pub fn reset(&self) {
        self.commands.reset();
        self.errors.locked().clear();
        self.error_replies.store(0, Ordering::Relaxed);
        self.commands_processed.store(0, Ordering::Relaxed);
        self.connections_received.store(0, Ordering::Relaxed);
        self.rejected_connections.store(0, Ordering::Relaxed);
    }
}

/// Counters of every command in the table, one slot of atomics each: counting a call takes no
/// lock (the map of slots never changes after start).
pub struct CommandCounters {
    slots: HashMap<&'static str, [AtomicU64; 4]>,
    /// A name outside the table (none today): counted under a lock rather than lost.
    others: Mutex<HashMap<String, [u64; 4]>>,
}

impl Default for CommandCounters {
    fn default() -> Self {
        let mut slots = HashMap::new();
        for spec in crate::commands::table::all_specs() {
            slots.insert(spec.name, Default::default());
            for sub in spec.subcommands {
                slots.insert(sub.name, Default::default());
            }
        }
        CommandCounters {
            slots,
            others: Mutex::default(),
        }
    }
}

impl CommandCounters {
    fn add(&self, name: &str, by: [u64; 4]) {
        match self.slots.get(name) {
            Some(slot) => {
                for (counter, n) in slot.iter().zip(by) {
                    if n != 0 {
                        counter.fetch_add(n, Ordering::Relaxed);
                    }
                }
            }
            None => {
                let mut others = self.others.locked();
                let entry = others.entry(name.to_string()).or_insert([0; 4]);
                for (counter, n) in entry.iter_mut().zip(by) {
                    *counter += n;
                }
            }
        }
    }

    /// (name, [calls, usec, rejected, failed]) of every command called or rejected, by name.
    pub fn snapshot(&self) -> Vec<(String, [u64; 4])> {
        let mut out: Vec<(String, [u64; 4])> = self
            .slots
            .iter()
            .map(|(name, slot)| {
                let values = [0, 1, 2, 3].map(|i| slot[i].load(Ordering::Relaxed));
                (name.to_string(), values)
            })
            .chain(self.others.locked().iter().map(|(n, v)| (n.clone(), *v)))
            .filter(|(_, [calls, _, rejected, _])| *calls > 0 || *rejected > 0)
            .collect();
        out.sort();
        out
    }

    fn reset(&self) {
        for slot in self.slots.values() {
            for counter in slot {
                counter.store(0, Ordering::Relaxed);
            }
        }
        self.others.locked().clear();
    }
}
