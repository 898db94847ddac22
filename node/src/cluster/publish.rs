//! PUBLISH fan-out: pub/sub is not in the log, so a message published on this node is sent to
//! every other member over the peer channel, through one bounded queue per peer.

use openraft::async_runtime::WatchReceiver as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use redoubt_proto::peer::PublishRequest;

use crate::state::pubsub::PublishQueue;
use crate::state::NodeState;
use crate::sync::Locked as _;

/// Delivers a PUBLISH to every other member (pub/sub is not in the log). Each peer has one
/// queue and one sender task, so the messages of a node reach every other node in the order
/// they were published there. A queue holds at most the `replica` class hard limit of
/// `client-output-buffer-limit` in message bytes (a peer that is down or slow): beyond, the
/// message is dropped for that peer, counted (INFO `pubsub_fanout_dropped`) and logged, as a
/// Redis Cluster bus message to an unreachable node is lost; failures are logged too.
pub fn fan_out_publish(server: &Arc<NodeState>, channel: Bytes, message: Bytes) {
    use std::sync::atomic::Ordering;
    let m = server.raft.openraft().metrics().borrow_watched().clone();
    let me = server.raft.id();
    let cap = server.output_limits().replica.hard;
    let cost = (channel.len() + message.len()) as u64;
    let mut queues = server.publish_queues.locked();
    for (id, node) in m.membership_config.membership().nodes() {
        if *id == me {
            continue;
        }
        let addr = node.addr.clone();
        let queue = queues.entry(addr.clone()).or_insert_with(|| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let bytes = Arc::new(std::sync::atomic::AtomicU64::new(0));
            tokio::spawn(send_publishes(
                server.clone(),
                addr.clone(),
                rx,
                bytes.clone(),
            ));
            PublishQueue { tx, bytes }
        });
        let queued = queue.bytes.load(Ordering::Relaxed);
        if cap > 0 && queued.saturating_add(cost) > cap {
            server
                .stats
                .pubsub_fanout_dropped
                .fetch_add(1, Ordering::Relaxed);
            crate::log_limited!(
                crate::logsafe::PEER_REFUSALS,
                format!("publish queue of {addr}"),
                peer = %addr, queued, "dropped a PUBLISH for a peer whose queue is full (client-output-buffer-limit replica)"
            );
            continue;
        }
        queue.bytes.fetch_add(cost, Ordering::Relaxed);
        if queue.tx.send((channel.clone(), message.clone())).is_err() {
            queues.remove(&addr);
        }
    }
}

/// Sends one peer its PUBLISH messages, in order.
async fn send_publishes(
    server: Arc<NodeState>,
    addr: String,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<(Bytes, Bytes)>,
    bytes: Arc<std::sync::atomic::AtomicU64>,
) {
    while let Some((channel, message)) = rx.recv().await {
        let cost = (channel.len() + message.len()) as u64;
        if let Ok(mut client) = server.transport.client(&addr) {
            let mut req = server
                .transport
                .request(PublishRequest { channel, message });
            req.set_timeout(Duration::from_secs(2));
            if let Err(e) = client.publish(req).await {
                tracing::debug!(peer = %addr, error = %e.message(), "publish fan-out failed");
            }
        }
        let _ = bytes.fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |b| Some(b.saturating_sub(cost)),
        );
    }
}
