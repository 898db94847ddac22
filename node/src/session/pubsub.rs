//! The session's subscriptions: which channels and patterns it listens to (the node-wide
//! registry is `state::pubsub`; messages reach the client through `push_tx`).

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::Session;
use crate::state::pubsub::Subscriber;

impl Session {
    /// Channels plus patterns subscribed to.
    pub fn sub_count(&self) -> i64 {
        (self.channels.len() + self.patterns.len()) as i64
    }

    fn update_sub_info(&self) {
        let (c, p) = (self.channels.len(), self.patterns.len());
        self.handle.update(|i| {
            i.subscriptions = c;
            i.psubscriptions = p;
        });
    }

    fn subscriber(&self) -> Subscriber {
        Subscriber {
            tx: self.push_tx.clone(),
            handle: self.handle.clone(),
        }
    }

    /// (P)SUBSCRIBE: one confirmation per name.
    pub fn subscribe(&mut self, pattern: bool, names: &[Bytes]) -> Vec<Frame> {
        let mut replies = Vec::with_capacity(names.len());
        let kind = if pattern { "psubscribe" } else { "subscribe" };
        for name in names {
            if pattern {
                if self.patterns.insert(name.clone()) {
                    self.node
                        .pubsub
                        .psubscribe(self.handle.id, name.clone(), self.subscriber());
                }
            } else if self.channels.insert(name.clone()) {
                self.node
                    .pubsub
                    .subscribe(self.handle.id, name.clone(), self.subscriber());
            }
            let frame = Frame::Push(vec![
                Frame::bulk(kind),
                Frame::Bulk(name.clone()),
                Frame::Integer(self.sub_count()),
            ]);
            replies.push(frame);
        }
        self.update_sub_info();
        replies
    }

    /// (P)UNSUBSCRIBE: one confirmation per name (all current ones when none is given).
    pub fn unsubscribe(&mut self, pattern: bool, names: &[Bytes]) -> Vec<Frame> {
        let mut replies = Vec::new();
        let kind = if pattern {
            "punsubscribe"
        } else {
            "unsubscribe"
        };
        let targets: Vec<Bytes> = if names.is_empty() {
            if pattern {
                self.patterns.iter().cloned().collect()
            } else {
                self.channels.iter().cloned().collect()
            }
        } else {
            names.to_vec()
        };
        if targets.is_empty() {
            let frame = Frame::Push(vec![
                Frame::bulk(kind),
                Frame::Null,
                Frame::Integer(self.sub_count()),
            ]);
            replies.push(frame);
        }
        for name in targets {
            if pattern {
                if self.patterns.remove(&name) {
                    self.node.pubsub.punsubscribe(self.handle.id, &name);
                }
            } else if self.channels.remove(&name) {
                self.node.pubsub.unsubscribe(self.handle.id, &name);
            }
            let frame = Frame::Push(vec![
                Frame::bulk(kind),
                Frame::Bulk(name),
                Frame::Integer(self.sub_count()),
            ]);
            replies.push(frame);
        }
        self.update_sub_info();
        replies
    }

    /// Leaves every channel and pattern (RESET, close).
    pub fn unsubscribe_all(&mut self) {
        for ch in std::mem::take(&mut self.channels) {
            self.node.pubsub.unsubscribe(self.handle.id, &ch);
        }
        for p in std::mem::take(&mut self.patterns) {
            self.node.pubsub.punsubscribe(self.handle.id, &p);
        }
    }
}
