//! The cluster helper with mutual TLS on the peer channel: certificates from `redoubt certs
//! init`, passed per node through `ClusterOptions::node_args`.

use std::path::Path;
use std::time::Duration;

use redoubt_cluster_tests::cluster::{Cluster, ClusterOptions, LEADER_TIMEOUT};
use redoubt_cluster_tests::run_redoubt;

/// A CA and certificates `node1..node{n}` in `dir`.
fn make_certs(dir: &Path, n: usize) {
    let names = (1..=n)
        .map(|i| format!("node{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let out = run_redoubt(
        &[
            "certs",
            "init",
            "--out",
            &dir.display().to_string(),
            "--nodes",
            &names,
        ],
        &[],
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "redoubt certs init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tls_options(dir: &Path) -> ClusterOptions {
    let dir = dir.to_path_buf();
    ClusterOptions::new().peer_tls(true).node_args(move |id| {
        let file = |name: &str| dir.join(name).display().to_string();
        vec![
            ("peer-tls-cert-file".into(), file(&format!("node{id}.crt"))),
            ("peer-tls-key-file".into(), file(&format!("node{id}.key"))),
            ("peer-tls-ca-cert-file".into(), file("ca.crt")),
        ]
    })
}

#[tokio::test]
async fn a_cluster_over_mutual_tls_replicates_and_admits_a_joiner() {
    let certs = tempfile::tempdir().expect("tempdir");
    make_certs(certs.path(), 4);
    let mut cluster = Cluster::start(3, tls_options(certs.path()));
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
