//! A write too large to replicate safely is refused up front in a cluster (issue 9, part 1):
//! openraft 0.9 gives each AppendEntries one heartbeat (100 ms), so a 24-48 MB value used to
//! be resent forever and wedge replication. The limit is `raft-max-entry-size`; a single node
//! replicates nothing and takes any size.

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
