//! Bounded output per client: `client-output-buffer-limit` as Redis has it.
//!
//! A client that does not read its socket makes us hold what we owe it. Replies are bounded by
//! the connection itself (it stops reading requests while a write is blocked), but messages
//! pushed to a subscriber by other connections (PUBLISH, here or on a peer) pile up without
//! end. [`OutputMeter`] counts a client's bytes queued and not yet written; [`Limit`] says when
//! that count closes the client: at once above the hard limit, or after staying above the soft
//! limit for its seconds. A message that would cross the limit is not queued: the client is
//! closed instead (as Redis does), so memory stays bounded by the limit.
//!
//! Classes: `normal` (default `0 0 0`: no limit), `pubsub` (`32mb 8mb 60`: subscribed clients)
//! and `replica` (`256mb 64mb 60`, alias `slave`): Redoubt has no Redis replicas, and uses that
//! class's hard limit for each peer's queue of PUBLISH messages to fan out.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use redoubt_proto::resp::Frame;

pub use crate::config::output_limits::{Class, Limit, OutputLimits};

/// Bytes a client is owed and not yet sent, and whether its limit closed it.
#[derive(Debug, Default)]
pub struct OutputMeter {
    queued: AtomicU64,
    /// When the count went above the soft limit (unix ms; 0: it is not above).
    soft_since_ms: AtomicU64,
    overflowed: AtomicBool,
}

/// What a meter says about more output.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Queue it.
    Queue,
    /// Do not queue it: the client is over its limit and must be closed.
    Close,
}

impl OutputMeter {
    /// Bytes queued now (CLIENT LIST `omem`).
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Whether a limit closed (or is closing) the client.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }

    /// Counts `bytes` more if `limit` allows them; once it does not, every later call says
    /// Close too (the client is on its way out).
    pub fn admit(&self, bytes: u64, limit: Limit) -> Admission {
        if self.overflowed() {
            return Admission::Close;
        }
        let total = self.queued.load(Ordering::Relaxed).saturating_add(bytes);
        if self.over(total, limit) {
            self.overflowed.store(true, Ordering::Relaxed);
            return Admission::Close;
        }
        self.queued.fetch_add(bytes, Ordering::Relaxed);
        Admission::Queue
    }

    /// Checks the count as it is (for output the connection produces itself).
    pub fn check(&self, extra: u64, limit: Limit) -> Admission {
        let total = self.queued().saturating_add(extra);
        if self.overflowed() || self.over(total, limit) {
            self.overflowed.store(true, Ordering::Relaxed);
            Admission::Close
        } else {
            Admission::Queue
        }
    }

    /// Counts `bytes` the connection itself is writing (already checked with `check`).
    pub fn hold(&self, bytes: u64) {
        self.queued.fetch_add(bytes, Ordering::Relaxed);
    }

    /// `bytes` were written (or dropped).
    pub fn release(&self, bytes: u64) {
        let _ = self
            .queued
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |q| {
                Some(q.saturating_sub(bytes))
            });
    }

    fn over(&self, total: u64, limit: Limit) -> bool {
        if limit.hard > 0 && total > limit.hard {
            return true;
        }
        if limit.soft == 0 || total <= limit.soft {
            self.soft_since_ms.store(0, Ordering::Relaxed);
            return false;
        }
        let now = crate::clock::now_ms().max(1);
        let since =
            match self
                .soft_since_ms
                .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => now,
                Err(since) => since,
            };
        now.saturating_sub(since) >= limit.soft_seconds.saturating_mul(1000)
    }
}

/// About how many bytes `frame` takes in a client's output (its payload plus framing).
pub fn frame_cost(frame: &Frame) -> u64 {
    match frame {
        Frame::Bulk(b) => b.len() as u64 + 16,
        Frame::Array(items) | Frame::Push(items) => 16 + items.iter().map(frame_cost).sum::<u64>(),
        _ => 32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_render_and_update_by_class() {
        let d = OutputLimits::default();
        assert_eq!(
            d.render(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        let u = d
            .updated("pubsub 1mb 512kb 5 replica 0 0 0")
            .expect("valid");
        assert_eq!(
            u.pubsub,
            Limit {
                hard: 1024 * 1024,
                soft: 512 * 1024,
                soft_seconds: 5
            }
        );
        assert_eq!(u.replica, Limit::NONE);
        assert_eq!(u.normal, d.normal);
        assert!(d.updated("pubsub 1mb 1mb").is_err());
        assert!(d.updated("bogus 1 1 1").is_err());
        assert!(d.updated("pubsub x 1 1").is_err());
    }

    #[test]
    fn the_hard_limit_closes_before_queueing_past_it() {
        let m = OutputMeter::default();
        let limit = Limit {
            hard: 100,
            soft: 0,
            soft_seconds: 0,
        };
        assert_eq!(m.admit(60, limit), Admission::Queue);
        assert_eq!(m.admit(60, limit), Admission::Close);
        assert_eq!(m.queued(), 60, "the refused bytes were not counted");
        m.release(60);
        assert_eq!(m.admit(1, limit), Admission::Close, "closing stays closing");
    }

    #[test]
    fn the_soft_limit_closes_after_its_seconds() {
        let m = OutputMeter::default();
        let immediate = Limit {
            hard: 0,
            soft: 10,
            soft_seconds: 0,
        };
        assert_eq!(m.admit(5, immediate), Admission::Queue);
        assert_eq!(m.admit(10, immediate), Admission::Close);
        let m = OutputMeter::default();
        let patient = Limit {
            hard: 0,
            soft: 10,
            soft_seconds: 3600,
        };
        assert_eq!(m.admit(50, patient), Admission::Queue);
        assert_eq!(m.admit(50, patient), Admission::Queue);
        m.release(95);
        assert_eq!(m.admit(1, patient), Admission::Queue, "back under soft");
    }
}
