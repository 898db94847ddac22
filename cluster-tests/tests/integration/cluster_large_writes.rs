//! Large writes in a cluster (issue 9, part 1). Under openraft 0.9 each AppendEntries had one
//! heartbeat (100 ms), so a 24-48 MB value was resent forever and wedged replication; now the
//! timeout grows with the payload, a 64 MB value replicates and a follower far behind catches
//! up (by log or by a streamed snapshot). A write above `raft-max-entry-size` is still refused
//! up front in a cluster; a single node replicates nothing and takes any size.

use redoubt_cluster_tests::cluster::{get, set, Cluster, ClusterOptions, LEADER_TIMEOUT};
use redoubt_cluster_tests::{NodeOptions, NodeProcess};

async fn set_value(
    c: &mut redis::aio::MultiplexedConnection,
    value: &[u8],
) -> redis::RedisResult<()> {
    redis::cmd("SET").arg("big").arg(value).query_async(c).await
}

#[tokio::test]
async fn a_cluster_refuses_an_entry_too_large_to_replicate_and_keeps_working() {
    let cluster = Cluster::start(3, ClusterOptions::new().arg("raft-max-entry-size", "4mb"));
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let value = vec![b'x'; 5 * 1024 * 1024];
    for id in 1..=3 {
        let mut c = cluster.client(id).await;
        let e = set_value(&mut c, &value)
            .await
            .expect_err("a 5 MB write with a 4 MB limit");
        let text = format!("{e}");
        assert!(text.contains("raft-max-entry-size"), "node {id}: {text}");
        // The same node keeps serving writes, and they replicate.
        set(&mut c, id, &format!("small{id}"), "v").await;
    }
    let mut c = cluster.client(leader).await;
    let ok = vec![b'y'; 3 * 1024 * 1024];
    set_value(&mut c, &ok).await.expect("a 3 MB write");
    for id in 1..=3 {
        let mut c = cluster.client(id).await;
        assert_eq!(get(&mut c, id, "small1").await.as_deref(), Some("v"));
    }
    let limit: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("raft-max-entry-size")
        .query_async(&mut c)
        .await
        .expect("CONFIG GET");
    assert_eq!(limit, vec!["raft-max-entry-size", "4194304"]);
}

#[tokio::test]
async fn a_single_node_takes_a_write_above_the_limit() {
    let node = NodeProcess::start(NodeOptions::new().arg("raft-max-entry-size", "1mb"));
    let mut c = node.client().await;
    let value = vec![b'z'; 2 * 1024 * 1024];
    set_value(&mut c, &value)
        .await
        .expect("no replication, no limit");
    let len: i64 = redis::cmd("STRLEN")
        .arg("big")
        .query_async(&mut c)
        .await
        .expect("STRLEN");
    assert_eq!(len, 2 * 1024 * 1024);
}

async fn strlen(c: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("STRLEN")
        .arg(key)
        .query_async(c)
        .await
        .expect("STRLEN")
}

#[tokio::test]
async fn a_64mb_value_replicates_and_small_writes_follow_on_every_node() {
    let _alone = crate::LARGE_WRITES.lock().await;
    let cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let term_before = cluster.raft_view(leader).await.expect("raft view").term;
    let follower = cluster.followers().await[0];
    // Sent to a follower: forwarded to the leader, then replicated to both followers. SET is
    // idempotent: on a busy machine an election may cut one attempt short (its outcome is
    // then unknown), so it is sent again; a wedge would fail every attempt.
    let mut c = cluster.client(follower).await;
    let value = vec![b'v'; 64 * 1024 * 1024];
    let mut attempts = Vec::new();
    for _ in 0..3 {
        match set_value(&mut c, &value).await {
            Ok(()) => break,
            Err(e) => attempts.push(e.to_string()),
        }
    }
    assert!(
        attempts.len() < 3,
        "a 64 MB SET failed 3 times: {attempts:?}\n{}",
        cluster.diagnostics()
    );
    drop(value);
    cluster.small_writes_work_everywhere("after-64mb").await;
    for id in cluster.ids() {
        let mut c = cluster.client(id).await;
        assert_eq!(strlen(&mut c, "big").await, 64 * 1024 * 1024, "node {id}");
    }
    let now = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let term_after = cluster.raft_view(now).await.expect("raft view").term;
    println!("64 MB SET: failed attempts {attempts:?}; term {term_before} -> {term_after}");
    // A wedge shows as elections without end (terms 2 -> 373 under openraft 0.9); on a busy
    // 2-core machine one or two elections while 64 MB is decoded can happen.
    assert!(
        term_after <= term_before + 5,
        "elections kept coming: term {term_before} -> {term_after}"
    );
}
