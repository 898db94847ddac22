//! A follower far behind catches up by a streamed snapshot (issue 9, part 1). It writes a lot:
//! it holds [`crate::LARGE_WRITES`] so that it never shares the machine with the other
//! large-write tests. `REDOUBT_TEST_BACKLOG_MB=500` (release build) gives the issue's figure:
//!
//! ```sh
//! REDOUBT_TEST_BACKLOG_MB=500 cargo test --release -p redoubt-cluster-tests --test integration \
//!     a_follower_behind_a_large_backlog_catches_up_by_snapshot -- --nocapture
//! ```

use std::time::Duration;

use redoubt_cluster_tests::cluster::{set, Cluster, ClusterOptions, LEADER_TIMEOUT};

/// `REDOUBT_TEST_BACKLOG_MB` (default 96) megabytes of writes while a follower is down; it
/// comes back and catches up by a streamed snapshot (the log behind it is purged), then
/// small writes work everywhere. Run by hand with 500 for the issue's figure.
#[tokio::test]
async fn a_follower_behind_a_large_backlog_catches_up_by_snapshot() {
    let _alone = crate::LARGE_WRITES.lock().await;
    let backlog_mb: usize = std::env::var("REDOUBT_TEST_BACKLOG_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96);
    let mut cluster = Cluster::start(3, ClusterOptions::new().arg("raft-snapshot-logs", "200"));
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let behind = cluster.followers().await[0];
    let behind_index = cluster
        .raft_view(behind)
        .await
        .expect("RAFT view")
        .applied_index;
    cluster.stop(behind);
    let mut c = cluster.client(leader).await;
    let chunk = vec![b'b'; 1024 * 1024];
    for i in 0..backlog_mb {
        redis::cmd("SET")
            .arg(format!("backlog:{i}"))
            .arg(&chunk)
            .query_async::<()>(&mut c)
            .await
            .unwrap_or_else(|e| panic!("backlog write {i}: {e}"));
    }
    // Small writes until the leader's log is purged past what the stopped node has: it can
    // only catch up from a snapshot then (openraft keeps 1000 entries behind a snapshot).
    let mut small = 0;
    loop {
        let info = cluster.raft_info(leader).await.expect("RAFT.INFO");
        let purged: u64 = redoubt_cluster_tests::cluster::parse_info(&info)
            .get("purged_index")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if purged > behind_index + 1 {
            break;
        }
        assert!(
            small < 20_000,
            "the log is not purged (at {purged})\n{info}"
        );
        for _ in 0..100 {
            set(&mut c, leader, &format!("small{small}"), "s").await;
            small += 1;
        }
    }
    cluster.restart(behind);
    let caught = cluster
        .wait_caught_up(behind, Duration::from_secs(120))
        .await;
    let rss = |id: usize| {
        cluster
            .node(id)
            .pid()
            .map_or(0, |pid| redoubt_cluster_tests::peak_rss_kib(pid) / 1024)
    };
    println!(
        "node {behind} caught up to {caught} after {backlog_mb} MB of writes; peak RSS: leader \
         {} MiB, node {behind} {} MiB",
        rss(leader),
        rss(behind)
    );
    let log = cluster.node(behind).log();
    let mut b = cluster.client(behind).await;
    let size: i64 = redis::cmd("DBSIZE")
        .query_async(&mut b)
        .await
        .expect("DBSIZE");
    assert!(size >= backlog_mb as i64, "DBSIZE {size} on node {behind}");
    let len: i64 = redis::cmd("STRLEN")
        .arg(format!("backlog:{}", backlog_mb - 1))
        .query_async(&mut b)
        .await
        .expect("STRLEN");
    assert_eq!(len, 1024 * 1024);
    cluster.small_writes_work_everywhere("after-backlog").await;
    assert!(
        !log.contains("panicked"),
        "node {behind} logged a panic:\n{log}"
    );
}
