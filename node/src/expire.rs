//! Active expiry: the leader removes expired keys through the log, as a Redis master sends
//! DELs to its replicas. Followers never delete on their own (reads already hide expired
//! keys), so every node's keyspace changes only by applied entries.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::now_ms;
use crate::raft::Request;
use crate::state::NodeState;
use crate::store::DATABASES;

/// Keys proposed for deletion per database and tick at most.
const BATCH: usize = 500;

/// Every 100 ms while `DEBUG SET-ACTIVE-EXPIRE` leaves it on, until the node stops.
pub async fn run(node: Arc<NodeState>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if node.runtime.active_expire.load(Ordering::Relaxed) {
            propose_expired(&node).await;
        }
    }
}

/// Proposes deletion of expired keys in batches (only the leader does).
async fn propose_expired(node: &NodeState) {
    if !node.raft.is_leader() {
        return;
    }
    let now = now_ms();
    for db in 0..DATABASES {
        let keys = {
            let view = node.raft.read_view(db, now);
            match view.expired_keys(db, now, BATCH) {
                Ok(k) => k,
                Err(e) => {
                    tracing::error!(error = %e, "reading the expiry index failed");
                    return;
                }
            }
        };
        if keys.is_empty() {
            continue;
        }
        let n = keys.len() as u64;
        match node
            .raft
            .write(Request::Expire {
                db,
                keys,
                now_ms: now,
            })
            .await
        {
            Ok(_) => {
                node.stats
                    .expired_keys_proposed
                    .fetch_add(n, Ordering::Relaxed);
            }
            Err(e) => tracing::debug!(error = %e, "expiry proposal failed"),
        }
    }
}
