//! Who may speak on the peer channel of a mutual-TLS cluster: a joiner with a certificate
//! from another CA, or with an expired certificate of the cluster's own CA, is refused at the
//! TLS handshake (and logged with the reason) while the cluster keeps taking writes; a client
//! without any certificate cannot even finish a handshake with the peer port.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redoubt_cluster_tests::cluster::{get, set, Cluster, ClusterOptions, LEADER_TIMEOUT};
use redoubt_cluster_tests::{certs_init, run_redoubt};

/// How long an intruder is watched: it must not become a member meanwhile.
const WATCH: Duration = Duration::from_secs(5);
/// How long the refusal may take to show in a log after the watch.
const LOG_TIMEOUT: Duration = Duration::from_secs(10);
/// The refusal line of the node that refused a peer (`node/src/cluster/mod.rs`).
const TLS_REFUSAL: &str = "refused a peer at the TLS handshake";

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// The peer certificate, key and CA of one node.
#[derive(Clone)]
struct PeerFiles {
    cert: PathBuf,
    key: PathBuf,
    ca: PathBuf,
}

impl PeerFiles {
    fn in_dir(dir: &Path, name: &str) -> PeerFiles {
        PeerFiles {
            cert: dir.join(format!("{name}.crt")),
            key: dir.join(format!("{name}.key")),
            ca: dir.join("ca.crt"),
        }
    }
}

/// Nodes 1..=3 use `node{id}` of `cluster_dir`; node 4 (the intruder) uses `intruder`.
fn tls_options(cluster_dir: &Path, intruder: PeerFiles) -> ClusterOptions {
    let dir = cluster_dir.to_path_buf();
    ClusterOptions::new().peer_tls(true).node_args(move |id| {
        let files = if id == 4 {
            intruder.clone()
        } else {
            PeerFiles::in_dir(&dir, &format!("node{id}"))
        };
        vec![
            ("peer-tls-cert-file".into(), path_str(&files.cert)),
            ("peer-tls-key-file".into(), path_str(&files.key)),
            ("peer-tls-ca-cert-file".into(), path_str(&files.ca)),
        ]
    })
}

/// Starts node 4 with `--join` to the leader and, for [`WATCH`], checks that it never becomes
/// a member while SETs through a follower keep succeeding; then waits (bounded) for a
/// cluster node to log the TLS refusal, and returns that line.
async fn intruder_is_refused(cluster: &Cluster, what: &str) -> String {
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let follower = cluster.followers().await[0];
    let mut f = cluster.client(follower).await;
    set(&mut f, follower, "before", "1").await;
    let target = cluster.node(leader).raft_addr().to_string();
    let intruder = cluster.start_joiner(4, &target, cluster.masterauth());

    let watch_until = Instant::now() + WATCH;
    let mut round = 0;
    while Instant::now() < watch_until {
        set(&mut f, follower, &format!("during-{round}"), "v").await;
        for id in cluster.members() {
            let members = cluster
                .raft_members(id)
                .await
                .unwrap_or_else(|e| panic!("RAFT.INFO on node {id}: {e}"));
            assert!(
                !members.contains_key(&4),
                "node 4 with {what} is a member according to node {id}: {members:?}\n{}\n\
                 ===== node 4 (intruder) =====\n{}",
                cluster.diagnostics(),
                intruder.diagnostics()
            );
        }
        round += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(round > 0);
    assert_eq!(
        cluster.wait_for_leader(LEADER_TIMEOUT).await,
        leader,
        "the leader changed while node 4 tried to join"
    );
    set(&mut f, follower, "after", "1").await;
    for id in cluster.members() {
        let mut c = cluster.client(id).await;
        // Reads on a follower may lag the forwarded write a little: poll, bounded.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if get(&mut c, id, "after").await.as_deref() == Some("1") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node {id} does not see the write made after the intrusion attempt\n{}",
                cluster.diagnostics()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    let deadline = Instant::now() + LOG_TIMEOUT;
    loop {
        let found = cluster.ids().into_iter().find_map(|id| {
            cluster
                .node(id)
                .log()
                .lines()
                .find(|l| l.contains(TLS_REFUSAL))
                .map(|l| format!("node {id}: {l}"))
        });
        if let Some(line) = found {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no cluster node logged '{TLS_REFUSAL}' for node 4 with {what}\n{}\n\
             ===== node 4 (intruder) =====\n{}",
            cluster.diagnostics(),
            intruder.diagnostics()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_joiner_with_a_certificate_from_another_ca_is_refused() {
    let certs = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    certs_init(certs.path(), &["node1", "node2", "node3"]);
    certs_init(other.path(), &["node4"]);
    let cluster = Cluster::start(
        3,
        tls_options(certs.path(), PeerFiles::in_dir(other.path(), "node4")),
    );
    // The intruder, trusting only its own CA, usually aborts first (it rejects the cluster
    // node's server certificate), so the cluster node's reason may be the intruder's alert
    // rather than "not signed by a trusted CA": only the refusal itself is asserted.
    let line = intruder_is_refused(&cluster, "a certificate from another CA").await;
    println!("refusal: {line}");
}

/// A node certificate (CN=`name`, SANs name, localhost, 127.0.0.1, `redoubt://node/name`)
/// signed by the CA in `dir`,
/// valid from 30 days ago until yesterday, written as `<name>-expired.crt/.key`.
fn expired_cert(dir: &Path, name: &str) -> PeerFiles {
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca_pem = std::fs::read_to_string(dir.join("ca.crt")).expect("read ca.crt");
    let ca_key_pem = std::fs::read_to_string(dir.join("ca.key")).expect("read ca.key");
    let ca_key = KeyPair::from_pem(&ca_key_pem).expect("parse ca.key");
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).expect("parse ca.crt");

    let sans = vec![name.to_string(), "localhost".into(), "127.0.0.1".into()];
    let mut params = CertificateParams::new(sans).expect("certificate params");
    // The node marker, as `redoubt certs` writes it: only its validity is wrong.
    params.subject_alt_names.push(rcgen::SanType::URI(
        format!("redoubt://node/{name}")
            .try_into()
            .expect("an IA5 URI"),
    ));
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970");
    let day = Duration::from_secs(24 * 3600);
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + (since_epoch - 30 * day);
    params.not_after = epoch + (since_epoch - day);
    let key = KeyPair::generate().expect("generate a key");
    let cert = params.signed_by(&key, &issuer).expect("sign");

    let files = PeerFiles {
        cert: dir.join(format!("{name}-expired.crt")),
        key: dir.join(format!("{name}-expired.key")),
        ca: dir.join("ca.crt"),
    };
    std::fs::write(&files.cert, cert.pem()).expect("write the certificate");
    std::fs::write(&files.key, key.serialize_pem()).expect("write the key");
    files
}

#[tokio::test]
async fn a_joiner_with_an_expired_certificate_of_the_cluster_ca_is_refused() {
    let certs = tempfile::tempdir().expect("tempdir");
    certs_init(certs.path(), &["node1", "node2", "node3"]);
    let expired = expired_cert(certs.path(), "node4");
    let cluster = Cluster::start(3, tls_options(certs.path(), expired));
    let line = intruder_is_refused(&cluster, "an expired certificate").await;
    println!("refusal: {line}");
    assert!(
        line.contains("expired"),
        "the refusal does not say the certificate expired: {line}"
    );
}

#[tokio::test]
async fn the_peer_port_refuses_a_client_without_a_certificate() {
    let certs = tempfile::tempdir().expect("tempdir");
    certs_init(certs.path(), &["node1", "node2", "node3"]);
    let node1 = PeerFiles::in_dir(certs.path(), "node1");
    let cluster = Cluster::start(3, tls_options(certs.path(), node1.clone()));
    cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let addr = cluster.node(1).raft_addr().to_string();
    let ca = path_str(&node1.ca);
    let probe = |extra: &[&str]| {
        let mut args = vec!["certs", "probe", addr.as_str(), "--ca", ca.as_str()];
        args.extend_from_slice(extra);
        run_redoubt(&args, &[], Duration::from_secs(30))
    };

    let without = probe(&[]);
    // Node 1 itself refuses the handshake (whatever the probe makes of it).
    let deadline = Instant::now() + LOG_TIMEOUT;
    let refusal = loop {
        let log = cluster.node(1).log();
        if let Some(l) = log.lines().find(|l| l.contains(TLS_REFUSAL)) {
            break l.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "node 1 did not log '{TLS_REFUSAL}' for a client without a certificate:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    println!("node 1: {refusal}");
    assert!(
        refusal.contains("no certificates"),
        "node 1's refusal does not say the client sent no certificate: {refusal}"
    );
    let text = |o: &std::process::Output| {
        format!(
            "{}\nstdout:\n{}\nstderr:\n{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    println!("probe without a client certificate: {}", text(&without));
    assert!(
        !without.status.success(),
        "probing the peer port without a client certificate succeeded: {}\n{}",
        text(&without),
        cluster.diagnostics()
    );

    let (cert, key) = (path_str(&node1.cert), path_str(&node1.key));
    let with = probe(&["--cert", &cert, "--key", &key]);
    assert!(
        with.status.success(),
        "probing the peer port with node 1's certificate failed: {}",
        text(&with)
    );

    // The cluster still takes writes through a follower.
    let follower = cluster.followers().await[0];
    let mut f = cluster.client(follower).await;
    for i in 0..3 {
        set(&mut f, follower, &format!("k{i}"), "v").await;
    }
    let leader = cluster.leader().await;
    let mut l = cluster.client(leader).await;
    assert_eq!(get(&mut l, leader, "k2").await.as_deref(), Some("v"));
}
