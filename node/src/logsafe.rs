//! Log lines the network cannot forge or flood.
//!
//! - A user name, client name or command comes from the network and may hold newlines, ANSI
//!   escapes or other control characters; written raw, it could forge log lines or drive a
//!   terminal. [`Escaped`] shows such text with every control character, backslash, quote and
//!   non-ASCII byte escaped, and cut to a bounded length.
//! - An event anyone can repeat (a failed AUTH, a refused handshake) is logged through a
//!   [`LogLimiter`]: the first few per key and window are written, the rest are counted and
//!   summarised once per window ("N more ... from KEY in the last 10 s"). The limiter holds a
//!   bounded number of keys, so a flood from many addresses cannot grow it either.

use crate::sync::Locked as _;
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest client-supplied string shown in a log line (bytes of input).
pub const MAX_LOGGED: usize = 128;

/// Displays bytes as printable ASCII: `\n`, `\r`, `\t`, `\\`, `\"` and `\xNN` for anything else
/// outside printable ASCII; at most [`MAX_LOGGED`] input bytes, then `...(N more bytes)`.
pub struct Escaped<T: AsRef<[u8]>>(pub T);

impl<T: AsRef<[u8]>> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0.as_ref();
        for &b in bytes.iter().take(MAX_LOGGED) {
            match b {
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                b'\t' => f.write_str("\\t")?,
                b'\\' => f.write_str("\\\\")?,
                b'"' => f.write_str("\\\"")?,
                0x20..=0x7e => fmt::Write::write_char(f, char::from(b))?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        if bytes.len() > MAX_LOGGED {
            write!(f, "...({} more bytes)", bytes.len() - MAX_LOGGED)?;
        }
        Ok(())
    }
}

impl<T: AsRef<[u8]>> fmt::Debug for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Events logged per key and window before the rest are only counted.
pub const LOG_BURST: u32 = 3;
/// The window of a [`LogLimiter`].
pub const LOG_WINDOW: Duration = Duration::from_secs(10);
/// Keys a limiter tracks; beyond, every new key shares one overflow key.
const MAX_KEYS: usize = 1024;
const OVERFLOW_KEY: &str = "(many sources)";

/// Rate-limits one kind of log event per key (e.g. "client address + user").
pub struct LogLimiter {
    /// What is counted, for summaries: "failed AUTHs".
    what: &'static str,
    burst: u32,
    window: Duration,
    keys: Mutex<HashMap<String, Window>>,
    /// Summaries found by [`LogLimiter::admit_deferred`], for the next drain.
    pending: Mutex<Vec<Suppressed>>,
}

struct Window {
    started: Instant,
    logged: u32,
    suppressed: u64,
}

/// A summary of events that were counted but not logged.
#[derive(Debug, PartialEq, Eq)]
pub struct Suppressed {
    pub what: &'static str,
    pub key: String,
    pub count: u64,
    pub window: Duration,
}

impl fmt::Display for Suppressed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} more {} from {} in the last {} s (not logged one by one)",
            self.count,
            self.what,
            self.key,
            self.window.as_secs()
        )
    }
}

impl LogLimiter {
    pub fn new(what: &'static str) -> LogLimiter {
        LogLimiter::with_limits(what, LOG_BURST, LOG_WINDOW)
    }

    pub fn with_limits(what: &'static str, burst: u32, window: Duration) -> LogLimiter {
        LogLimiter {
            what,
            burst,
            window,
            keys: Mutex::new(HashMap::new()),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// As [`LogLimiter::admit`], but a summary waits for [`LogLimiter::drain_ended`] (for
    /// callers that must not log themselves, such as a tracing filter).
    pub fn admit_deferred(&self, key: &str) -> bool {
        let (log, summary) = self.admit(key);
        if let Some(summary) = summary {
            self.pending.locked().push(summary);
        }
        log
    }

    /// Whether this event for `key` should be logged now; when its key's previous window ended
    /// with events counted but not logged, their summary comes first (log it too).
    pub fn admit(&self, key: &str) -> (bool, Option<Suppressed>) {
        self.admit_at(key, Instant::now())
    }

    fn admit_at(&self, key: &str, now: Instant) -> (bool, Option<Suppressed>) {
        let mut keys = self.keys.locked();
        let key = if keys.len() >= MAX_KEYS && !keys.contains_key(key) {
            OVERFLOW_KEY
        } else {
            key
        };
        let mut summary = None;
        let window = keys.entry(key.to_string()).or_insert(Window {
            started: now,
            logged: 0,
            suppressed: 0,
        });
        if now.duration_since(window.started) >= self.window {
            if window.suppressed > 0 {
                summary = Some(self.summary(key, window.suppressed));
            }
            *window = Window {
                started: now,
                logged: 0,
                suppressed: 0,
            };
        }
        if window.logged < self.burst {
            window.logged += 1;
            (true, summary)
        } else {
            window.suppressed += 1;
            (false, summary)
        }
    }

    /// Summaries of the windows that have ended, and forgets those keys (call it periodically:
    /// a burst followed by silence is still reported).
    pub fn drain_ended(&self) -> Vec<Suppressed> {
        self.drain_ended_at(Instant::now())
    }

    fn drain_ended_at(&self, now: Instant) -> Vec<Suppressed> {
        let mut out = std::mem::take(&mut *self.pending.locked());
        let mut keys = self.keys.locked();
        keys.retain(|key, w| {
            if now.duration_since(w.started) < self.window {
                return true;
            }
            if w.suppressed > 0 {
                out.push(Suppressed {
                    what: self.what,
                    key: key.clone(),
                    count: w.suppressed,
                    window: self.window,
                });
            }
            false
        });
        out
    }

    fn summary(&self, key: &str, count: u64) -> Suppressed {
        Suppressed {
            what: self.what,
            key: key.to_string(),
            count,
            window: self.window,
        }
    }
}

/// Failed AUTHs, per client address and user name.
pub static AUTH_FAILURES: std::sync::LazyLock<LogLimiter> =
    std::sync::LazyLock::new(|| LogLimiter::new("failed AUTHs"));
/// Failed TLS handshakes on the RESP TLS port, per client address.
pub static CLIENT_HANDSHAKES: std::sync::LazyLock<LogLimiter> =
    std::sync::LazyLock::new(|| LogLimiter::new("failed TLS handshakes"));
/// Refused peer connections and calls, per peer address.
pub static PEER_REFUSALS: std::sync::LazyLock<LogLimiter> =
    std::sync::LazyLock::new(|| LogLimiter::new("refused peer connections or calls"));
/// Certificates refused by a verifier, per certificate set and side.
pub static CERT_REFUSALS: std::sync::LazyLock<LogLimiter> =
    std::sync::LazyLock::new(|| LogLimiter::new("refused certificates"));
/// Warnings and errors of libraries (openraft repeats one per failed RPC), per call site.
pub static LIBRARY_REPEATS: std::sync::LazyLock<LogLimiter> = std::sync::LazyLock::new(|| {
    LogLimiter::with_limits("repeated warnings or errors", 5, LOG_WINDOW)
});

/// Logs `line` through `limiter` under `key`: written unless this key has had its burst in
/// this window; a pending summary of the previous window is written first.
#[macro_export]
macro_rules! log_limited {
    ($limiter:expr, $key:expr, $($event:tt)+) => {{
        let (log, summary) = $limiter.admit(&$key);
        if let Some(summary) = summary {
            tracing::warn!("{summary}");
        }
        if log {
            tracing::warn!($($event)+);
        }
    }};
}

/// Summaries of every limiter's ended windows (the node logs them as windows end).
pub fn drain_summaries() -> Vec<Suppressed> {
    [
        &*AUTH_FAILURES,
        &*CLIENT_HANDSHAKES,
        &*PEER_REFUSALS,
        &*CERT_REFUSALS,
        &*LIBRARY_REPEATS,
    ]
    .iter()
    .flat_map(|l| l.drain_ended())
    .collect()
}

/// Logs the summaries of ended windows (checked every second), until the process ends.
pub async fn report_summaries() {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        for summary in drain_summaries() {
            tracing::warn!("{summary}");
        }
    }
}

/// A tracing filter that lets a library's warnings and errors through at most
/// [`LIBRARY_REPEATS`]' burst per call site and window (a peer that is down makes openraft log
/// an error per failed RPC, thousands a minute). Our own events pass.
pub fn library_flood_filter(meta: &tracing::Metadata<'_>) -> bool {
    if meta.target().starts_with("redoubt") || *meta.level() > tracing::Level::WARN {
        return true;
    }
    let key = format!(
        "{}:{}",
        meta.file().unwrap_or(meta.target()),
        meta.line().unwrap_or(0)
    );
    LIBRARY_REPEATS.admit_deferred(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_logged_then_counted_then_summarised() {
        let limiter = LogLimiter::with_limits("failed AUTHs", 3, Duration::from_secs(10));
        let t0 = Instant::now();
        let logged = (0..20_000)
            .filter(|_| limiter.admit_at("10.0.0.1 user \"bob\"", t0).0)
            .count();
        assert_eq!(logged, 3);
        // Another key has its own budget.
        assert!(limiter.admit_at("10.0.0.2 user \"bob\"", t0).0);
        assert!(
            limiter.drain_ended_at(t0).is_empty(),
            "the window is not over"
        );
        let ended = limiter.drain_ended_at(t0 + Duration::from_secs(10));
        assert_eq!(
            ended,
            vec![Suppressed {
                what: "failed AUTHs",
                key: "10.0.0.1 user \"bob\"".into(),
                count: 19_997,
                window: Duration::from_secs(10),
            }]
        );
        assert_eq!(
            ended[0].to_string(),
            "19997 more failed AUTHs from 10.0.0.1 user \"bob\" in the last 10 s (not logged one by one)"
        );
        // Drained keys start afresh.
        assert!(
            limiter
                .admit_at("10.0.0.1 user \"bob\"", t0 + Duration::from_secs(11))
                .0
        );
    }

    #[test]
    fn the_next_event_after_a_window_carries_its_summary() {
        let limiter = LogLimiter::with_limits("refused handshakes", 1, Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(limiter.admit_at("a", t0), (true, None));
        assert!(!limiter.admit_at("a", t0).0);
        let (log, summary) = limiter.admit_at("a", t0 + Duration::from_secs(10));
        assert!(log);
        assert_eq!(summary.map(|s| s.count), Some(1));
    }

    #[test]
    fn many_keys_share_one_overflow_key() {
        let limiter = LogLimiter::with_limits("x", 1, Duration::from_secs(10));
        let t0 = Instant::now();
        let logged = (0..(MAX_KEYS + 500))
            .filter(|i| limiter.admit_at(&format!("k{i}"), t0).0)
            .count();
        assert_eq!(logged, MAX_KEYS + 1);
        assert!(limiter.keys.lock().unwrap().len() <= MAX_KEYS + 1);
    }

    #[test]
    fn control_characters_and_escapes_never_pass_raw() {
        let forged = "alice\n2026-01-01T00:00:00Z INFO admin logged in\x1b[2J\r\t\"\\é";
        let shown = Escaped(forged).to_string();
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert_eq!(
            shown,
            "alice\\n2026-01-01T00:00:00Z INFO admin logged in\\x1b[2J\\r\\t\\\"\\\\\\xc3\\xa9"
        );
    }

    #[test]
    fn long_input_is_cut() {
        let long = "x".repeat(MAX_LOGGED + 10);
        let shown = Escaped(&long).to_string();
        assert_eq!(
            shown,
            format!("{}...(10 more bytes)", "x".repeat(MAX_LOGGED))
        );
    }
}
