//! Channel and pattern subscriptions of this node's connections, and local delivery.
//!
//! Pub/sub is not replicated through the log: a message published on one node is delivered to
//! that node's subscribers here and fanned out to the other members over the peer channel
//! (`cluster::fan_out_publish`), where it is delivered the same way. Each delivery counts
//! against the subscriber's `client-output-buffer-limit` (pubsub class): a subscriber that does
//! not read is closed at its limit instead of making the node hold messages without end.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use redoubt_proto::resp::Frame;
use tokio::sync::mpsc::UnboundedSender;

use super::clients::ClientHandle;
use super::output::{frame_cost, Admission, Limit};
use crate::commands::args::glob_match;
use crate::sync::Locked as _;

type ClientId = u64;

/// Where a subscriber's messages go, and whose output they count against.
#[derive(Clone)]
pub struct Subscriber {
    pub tx: UnboundedSender<Frame>,
    pub handle: Arc<ClientHandle>,
}

impl Subscriber {
    /// Queues `frame` unless that takes the client over `limit`; then the client is closed.
    fn deliver(&self, frame: Frame, limit: Limit) -> bool {
        if self.handle.output.overflowed() {
            return false;
        }
        let cost = frame_cost(&frame);
        match self.handle.output.admit(cost, limit) {
            Admission::Queue => {
                if self.tx.send(frame).is_ok() {
                    true
                } else {
                    self.handle.output.release(cost);
                    false
                }
            }
            Admission::Close => {
                tracing::warn!(
                    client = %self.handle.addr,
                    queued = self.handle.output.queued(),
                    "closing a subscriber that reached its output buffer limit (client-output-buffer-limit pubsub)"
                );
                self.handle.kill.notify_one();
                false
            }
        }
    }
}

#[derive(Default)]
struct Subscriptions {
    channels: BTreeMap<Bytes, HashMap<ClientId, Subscriber>>,
    patterns: BTreeMap<Bytes, HashMap<ClientId, Subscriber>>,
}

/// The node's subscription registry.
#[derive(Default)]
pub struct PubSub {
    inner: Mutex<Subscriptions>,
}

impl PubSub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Subscriptions> {
        self.inner.locked()
    }

    pub fn subscribe(&self, client: ClientId, channel: Bytes, sub: Subscriber) {
        self.lock()
            .channels
            .entry(channel)
            .or_default()
            .insert(client, sub);
    }

    pub fn unsubscribe(&self, client: ClientId, channel: &Bytes) {
        let mut s = self.lock();
        if let Some(subs) = s.channels.get_mut(channel) {
            subs.remove(&client);
            if subs.is_empty() {
                s.channels.remove(channel);
            }
        }
    }

    pub fn psubscribe(&self, client: ClientId, pattern: Bytes, sub: Subscriber) {
        self.lock()
            .patterns
            .entry(pattern)
            .or_default()
            .insert(client, sub);
    }

    pub fn punsubscribe(&self, client: ClientId, pattern: &Bytes) {
        let mut s = self.lock();
        if let Some(subs) = s.patterns.get_mut(pattern) {
            subs.remove(&client);
            if subs.is_empty() {
                s.patterns.remove(pattern);
            }
        }
    }

    /// Every client's subscriptions: client -> (channels, patterns).
    pub fn by_client(&self) -> HashMap<ClientId, (Vec<Bytes>, Vec<Bytes>)> {
        let s = self.lock();
        let mut out: HashMap<ClientId, (Vec<Bytes>, Vec<Bytes>)> = HashMap::new();
        for (channel, subs) in &s.channels {
            for client in subs.keys() {
                out.entry(*client).or_default().0.push(channel.clone());
            }
        }
        for (pattern, subs) in &s.patterns {
            for client in subs.keys() {
                out.entry(*client).or_default().1.push(pattern.clone());
            }
        }
        out
    }

    /// Delivers `message` to local subscribers within `limit` (the pubsub class); returns how
    /// many received it.
    pub fn publish(&self, channel: &Bytes, message: &Bytes, limit: Limit) -> usize {
        let s = self.lock();
        let mut receivers = 0;
        if let Some(subs) = s.channels.get(channel) {
            for tx in subs.values() {
                let frame = Frame::Push(vec![
                    Frame::bulk("message"),
                    Frame::Bulk(channel.clone()),
                    Frame::Bulk(message.clone()),
                ]);
                if tx.deliver(frame, limit) {
                    receivers += 1;
                }
            }
        }
        for (pattern, subs) in &s.patterns {
            if !glob_match(pattern, channel, false) {
                continue;
            }
            for tx in subs.values() {
                let frame = Frame::Push(vec![
                    Frame::bulk("pmessage"),
                    Frame::Bulk(pattern.clone()),
                    Frame::Bulk(channel.clone()),
                    Frame::Bulk(message.clone()),
                ]);
                if tx.deliver(frame, limit) {
                    receivers += 1;
                }
            }
        }
        receivers
    }

    /// Active channels (with at least one subscriber) matching `pattern` (None: all).
    pub fn channels(&self, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.lock()
            .channels
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    pub fn numsub(&self, channel: &Bytes) -> usize {
        self.lock().channels.get(channel).map_or(0, HashMap::len)
    }

    pub fn numpat(&self) -> usize {
        self.lock().patterns.len()
    }

    pub fn channel_count(&self) -> usize {
        self.lock().channels.len()
    }
}

/// One peer's queue of PUBLISH messages to send, bounded in bytes.
pub struct PublishQueue {
    pub tx: tokio::sync::mpsc::UnboundedSender<(Bytes, Bytes)>,
    pub bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}
