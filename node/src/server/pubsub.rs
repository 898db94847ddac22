//! Channel and pattern subscriptions of this node's connections, and local delivery.
//!
//! Pub/sub is not replicated through the log: a message is delivered to the subscribers of
//! the node where it was published.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use bytes::Bytes;
use redoubt_proto::resp::Frame;
use tokio::sync::mpsc::UnboundedSender;

use crate::commands::args::glob_match;

type ClientId = u64;

#[derive(Default)]
struct Subscriptions {
    channels: BTreeMap<Bytes, HashMap<ClientId, UnboundedSender<Frame>>>,
    patterns: BTreeMap<Bytes, HashMap<ClientId, UnboundedSender<Frame>>>,
}

/// The node's subscription registry.
#[derive(Default)]
pub struct PubSub {
    inner: Mutex<Subscriptions>,
}

impl PubSub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Subscriptions> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn subscribe(&self, client: ClientId, channel: Bytes, tx: UnboundedSender<Frame>) {
        self.lock()
            .channels
            .entry(channel)
            .or_default()
            .insert(client, tx);
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

    pub fn psubscribe(&self, client: ClientId, pattern: Bytes, tx: UnboundedSender<Frame>) {
        self.lock()
            .patterns
            .entry(pattern)
            .or_default()
            .insert(client, tx);
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

    /// Delivers `message` to local subscribers; returns how many received it.
    pub fn publish(&self, channel: &Bytes, message: &Bytes) -> usize {
        let s = self.lock();
        let mut receivers = 0;
        if let Some(subs) = s.channels.get(channel) {
            for tx in subs.values() {
                let frame = Frame::Push(vec![
                    Frame::bulk("message"),
                    Frame::Bulk(channel.clone()),
                    Frame::Bulk(message.clone()),
                ]);
                if tx.send(frame).is_ok() {
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
                if tx.send(frame).is_ok() {
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
