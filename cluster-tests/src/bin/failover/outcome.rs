//! What a repetition measured, shared with the tasks that fill it in.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What `rtt150` measured in one repetition.
#[derive(Clone, Debug)]
pub struct RttNumbers {
    pub before_wps: f64,
    pub during_wps: f64,
    pub leader_before: usize,
    pub leader_after: usize,
    pub term_before: Option<u64>,
    pub term_after: Option<u64>,
}

/// What one repetition measured. Filled as it goes, so that what was measured before a panic
/// (e.g. in `verify`) is kept.
#[derive(Debug, Default)]
pub struct Outcome {
    /// One longest gap per fault event (one, or one per transfer).
    pub gaps: Vec<Duration>,
    /// Short descriptions of what went wrong.
    pub failures: Vec<String>,
    /// RAFT.TRANSFER answered OK / sent.
    pub transfers_ok: usize,
    pub transfers_sent: usize,
    pub rtt: Option<RttNumbers>,
    /// Human-readable details for the per-repetition line.
    pub detail: Vec<String>,
}

pub type Shared = Arc<Mutex<Outcome>>;

pub fn with<R>(out: &Shared, f: impl FnOnce(&mut Outcome) -> R) -> R {
    f(&mut out.lock().unwrap_or_else(|p| p.into_inner()))
}
