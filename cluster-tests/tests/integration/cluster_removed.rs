//! A removed node stops receiving entries and does not come back on its own: restarting it
//! with its old configuration leaves it outside the group until RAFT.NODE ADD admits it again.

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redoubt_cluster_tests::cluster::{Cluster, ClusterOptions};

const LEADER_TIMEOUT: Duration = Duration::from_secs(10);

async fn set(c: &mut MultiplexedConnection, key: &str, value: &str) {
    let reply: String = redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query_async(c)
        .await
        .unwrap_or_else(|e| panic!("SET {key}: {e}"));
    assert_eq!(reply, "OK");
}

#[tokio::test]
async fn a_removed_node_does_not_rejoin_until_it_is_added_again() {
    let mut cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let removed = cluster.followers().await[0];
    let removed_addr = cluster.node(removed).raft_addr().to_string();
    let mut l = cluster.client(leader).await;
    set(&mut l, "before", "1").await;

    let reply: String = redis::cmd("RAFT.NODE")
        .arg("REMOVE")
        .arg(removed)
        .query_async(&mut l)
        .await
        .unwrap_or_else(|e| panic!("RAFT.NODE REMOVE: {e}\n{}", cluster.diagnostics()));
    assert_eq!(reply, "OK");
    cluster.forget(removed);

    // Restart it on its old data and configuration (it still lists the bootstrap peers).
    cluster.restart(removed);
    let applied_after_restart = cluster
        .raft_view(removed)
        .await
        .map(|v| v.applied_index)
        .unwrap_or(0);
    for i in 0..50 {
        set(&mut l, &format!("after-{i}"), "1").await;
    }
    // For a few seconds: the leader never lists it, and it receives none of the new entries.
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let m = cluster
            .raft_members(leader)
            .await
            .unwrap_or_else(|e| panic!("RAFT.INFO: {e}"));
        assert!(
            !m.contains_key(&removed),
            "node {removed} is a member again without RAFT.NODE ADD: {m:?}\n{}",
            cluster.diagnostics()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let leader_applied = cluster
        .raft_view(leader)
        .await
        .map(|v| v.applied_index)
        .unwrap_or(0);
    let removed_applied = cluster
        .raft_view(removed)
        .await
        .map(|v| v.applied_index)
        .unwrap_or(0);
    assert!(
        removed_applied <= applied_after_restart.max(leader_applied.saturating_sub(50)),
        "the removed node kept receiving entries: applied {removed_applied}, leader {leader_applied}"
    );
    assert_eq!(
        cluster.wait_for_leader(LEADER_TIMEOUT).await,
        leader,
        "the removed node disturbed the leadership"
    );

    // Added back explicitly, it catches up with everything written meanwhile.
    let reply: String = redis::cmd("RAFT.NODE")
        .arg("ADD")
        .arg(removed)
        .arg(&removed_addr)
        .query_async(&mut l)
        .await
        .unwrap_or_else(|e| panic!("RAFT.NODE ADD: {e}\n{}", cluster.diagnostics()));
    assert_eq!(reply, "OK");
    cluster.remember(removed);
    cluster
        .wait_caught_up(removed, Duration::from_secs(15))
        .await;
    let mut r = cluster.client(removed).await;
    let value: Option<String> = redis::cmd("GET")
        .arg("after-49")
        .query_async(&mut r)
        .await
        .unwrap_or_else(|e| panic!("GET on the re-added node: {e}"));
    assert_eq!(value.as_deref(), Some("1"));
}
