//! Quorum loss as a client sees it: a clear, retryable error, never openraft's text (which
//! showed the membership with every peer's address in Rust debug form: `ERR raft: not enough
//! for a quorum, cluster: {voters: ... BasicNode { addr: ...`).

use std::time::{Duration, Instant};

use redoubt_cluster_tests::cluster::{Cluster, ClusterOptions, LEADER_TIMEOUT};

#[tokio::test]
async fn a_leader_without_quorum_answers_tryagain_without_addresses() {
    let mut cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let mut c = cluster.client(leader).await;
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query_async(&mut c)
        .await
        .expect("SET with a quorum");
    for id in (1..=3).filter(|&id| id != leader) {
        cluster.kill9(id);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let error = loop {
        match redis::cmd("GET")
            .arg("k")
            .query_async::<Option<String>>(&mut c)
            .await
        {
            // Until the leader notices, a read may still pass (its lease).
            Ok(_) => {
                assert!(
                    Instant::now() < deadline,
                    "reads never failed without a quorum"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => break e,
        }
    };
    let text = format!("{error}");
    assert_eq!(error.code(), Some("TRYAGAIN"), "{text}");
    for leak in ["addr", "127.0.0.1", "Member", "voters:", "{"] {
        assert!(!text.contains(leak), "the error shows {leak:?}: {text}");
    }
}
