//! The cluster helper with mutual TLS on the peer channel: certificates from `redoubt certs
//! init`, passed per node through `ClusterOptions::node_args`.

use std::path::Path;

use redoubt_cluster_tests::certs_init;
use redoubt_cluster_tests::cluster::{peer_tls_options, Cluster, LEADER_TIMEOUT};

/// A CA and certificates `node1..node{n}` in `dir`.
fn make_certs(dir: &Path, n: usize) {
    let names: Vec<String> = (1..=n).map(|i| format!("node{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    certs_init(dir, &names);
}

#[tokio::test]
async fn a_cluster_over_mutual_tls_replicates_and_admits_a_joiner() {
    let certs = tempfile::tempdir().expect("tempdir");
    make_certs(certs.path(), 4);
    let mut cluster = Cluster::start(3, peer_tls_options(certs.path()));
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let follower = cluster.followers().await[0];
    let mut f = cluster.client(follower).await;
    let ok: String = redis::cmd("SET")
        .arg("k")
        .arg("over-tls")
        .query_async(&mut f)
        .await
        .expect("SET on a follower (forwarded over TLS)");
    assert_eq!(ok, "OK");
    for id in cluster.members() {
        let mut c = cluster.client(id).await;
        let v: Option<String> = redis::cmd("GET")
            .arg("k")
            .query_async(&mut c)
            .await
            .expect("GET");
        assert_eq!(v.as_deref(), Some("over-tls"), "node {id}");
    }
    let id = cluster.add_node_via_join().await;
    let mut c = cluster.client(id).await;
    let v: Option<String> = redis::cmd("GET")
        .arg("k")
        .query_async(&mut c)
        .await
        .expect("GET on the joined node");
    assert_eq!(v.as_deref(), Some("over-tls"));
    let log = cluster.node(leader).log();
    assert!(
        log.contains("tls=true"),
        "the leader does not say it serves peers over TLS:\n{log}"
    );
}
