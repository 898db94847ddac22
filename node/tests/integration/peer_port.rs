//! The peer port as an attacker sees it (issue 8, part 1), against a three-node cluster over
//! mutual TLS with certificates from `redoubt certs init`. Each test dials the peer port with a
//! gRPC client of its own, presenting a chosen certificate and chosen credentials:
//! - the certificate every TLS *client* gets is refused at the handshake, so a Forward with
//!   `internal = true` can no longer create an admin user;
//! - only the configured replication user authenticates peers (not another `+psync` user, not
//!   `default` with the requirepass);
//! - a node certificate of the CA that is not a member's gets PERMISSION_DENIED on every call
//!   that acts as a member (Forward, ReadIndex, Publish, Remove, Elect, Raft RPCs);
//! - a member cannot speak for another member in Raft RPCs;
//! - credentials are checked before a request body is read (peak RSS stays flat while a
//!   150 MB body is offered without them).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::common::{all_files, contains_bytes};
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use openraft::raft::{AppendEntriesRequest, VoteRequest};
use redis::aio::MultiplexedConnection;
use redis::Value;
use redoubt_cluster_tests::cluster::{peer_tls_options, set, Cluster, LEADER_TIMEOUT};
use redoubt_cluster_tests::{certs_init, peak_rss_kib};
use redoubt_node::raft::Vote;
use redoubt_node::raft::{ExecRequest, TypeConfig};
use redoubt_proto::peer::peer_client::PeerClient;
use redoubt_proto::peer::{
    ElectRequest, ForwardRequest, PublishRequest, RaftMessage, ReadIndexRequest, RemoveRequest,
    SnapshotChunk, StatusRequest,
};
use redoubt_proto::resp::Protocol;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::Code;

const REPLICATOR: &str = "replicator";

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// `redoubt certs init`: CA, node1..node4 and the client certificate.
fn make_certs(dir: &Path) {
    certs_init(dir, &["node1", "node2", "node3", "node4"]);
}

async fn tls_cluster(certs: &Path) -> Cluster {
    let cluster = Cluster::start(3, peer_tls_options(certs));
    cluster.wait_for_leader(LEADER_TIMEOUT).await;
    cluster
}

/// A gRPC client of the peer port at `addr` presenting `<name>.crt` of `certs`.
fn peer_client(certs: &Path, name: &str, addr: &str) -> PeerClient<Channel> {
    redoubt_node::tls::install_default_crypto_provider();
    let load = |file: &str| -> PathBuf { certs.join(file) };
    let mut roots = rustls::RootCertStore::empty();
    for ca in redoubt_node::tls::load_ca_bundle(&load("ca.crt")).expect("ca.crt") {
        roots.add(ca).expect("a trust root");
    }
    let chain =
        redoubt_node::tls::load_cert_chain(&load(&format!("{name}.crt"))).expect("certificate");
    let key = redoubt_node::tls::load_private_key(&load(&format!("{name}.key"))).expect("key");
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .expect("client config");
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let target = addr.to_string();
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector_lazy(tower::service_fn(move |_: Uri| {
            let connector = connector.clone();
            let target = target.clone();
            async move {
                let tcp = tokio::net::TcpStream::connect(&target).await?;
                let name = rustls_pki_types::ServerName::try_from("127.0.0.1")
                    .map_err(std::io::Error::other)?;
                let tls = connector.connect(name, tcp).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }));
    PeerClient::new(channel)
        .max_encoding_message_size(512 * 1024 * 1024)
        .max_decoding_message_size(512 * 1024 * 1024)
}

/// An AppendEntries (no entries) from `leader`, as a peer message.
fn append_from(leader: u64) -> RaftMessage {
    let append = AppendEntriesRequest::<TypeConfig> {
        vote: Vote::new_committed(1000, leader),
        prev_log_id: None,
        entries: Vec::new(),
        leader_commit: None,
    };
    RaftMessage {
        payload: postcard::to_allocvec(&append).expect("encode").into(),
    }
}

/// A vote request from `candidate`, as a peer message.
fn vote_from(candidate: u64) -> RaftMessage {
    let vote = VoteRequest::<TypeConfig>::new(Vote::new(1000, candidate), None);
    RaftMessage {
        payload: postcard::to_allocvec(&vote).expect("encode").into(),
    }
}

fn with_credentials<T>(message: T, user: &str, password: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut()
        .insert("x-redoubt-user", user.parse().expect("ascii"));
    req.metadata_mut()
        .insert("x-redoubt-auth", password.parse().expect("ascii"));
    req.set_timeout(Duration::from_secs(30));
    req
}

fn line(args: &[&str]) -> Vec<Bytes> {
    args.iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect()
}

/// A Forward body: one request run as `user` (`internal`: no ACL check at apply).
fn forward_body(user: &str, internal: bool, command: &[&str]) -> ForwardRequest {
    let req = ExecRequest {
        db: 0,
        user: user.to_string(),
        internal,
        now_ms: 0,
        seed: 0,
        protocol: Protocol::Resp2,
        watches: Vec::new(),
        commands: vec![line(command)],
        multi: false,
    };
    ForwardRequest {
        request: postcard::to_allocvec(&vec![req]).expect("encode").into(),
    }
}

async fn acl_users(c: &mut MultiplexedConnection) -> Vec<String> {
    let v: Value = redis::cmd("ACL")
        .arg("USERS")
        .query_async(c)
        .await
        .expect("ACL USERS");
    match v {
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
                other => format!("{other:?}"),
            })
            .collect(),
        other => panic!("ACL USERS: {other:?}"),
    }
}

/// Asserts a call failed with `code` (the attack was refused, not merely answered).
fn assert_refused<T: std::fmt::Debug>(what: &str, result: Result<T, tonic::Status>, code: Code) {
    match result {
        Ok(v) => panic!("{what}: served ({v:?}), expected {code:?}"),
        Err(status) => assert_eq!(status.code(), code, "{what}: {status:?}"),
    }
}

async fn eventually_logged(cluster: &Cluster, id: usize, text: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if cluster.node(id).log().contains(text) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node {id} never logged {text:?}:\n{}",
            cluster.node(id).log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_client_certificate_cannot_reach_the_peer_service() {
    let certs = tempfile::tempdir().expect("tempdir");
    make_certs(certs.path());
    let cluster = tls_cluster(certs.path()).await;
    let leader = cluster.leader().await;
    let mut c = cluster.client(leader).await;
    let addr = cluster.node(leader).raft_addr().to_string();

    // The reproduction: the client certificate and the replication credentials.
    let mut client = peer_client(certs.path(), "client", &addr);
    let attack = client
        .forward(with_credentials(
            forward_body(
                "default",
                true,
                &["acl", "setuser", "pwned", "on", "nopass", "+@all", "~*"],
            ),
            REPLICATOR,
            cluster.masterauth(),
        ))
        .await;
    assert!(
        attack.is_err(),
        "the client certificate was served: {attack:?}"
    );
    assert!(
        !acl_users(&mut c).await.contains(&"pwned".to_string()),
        "the attack created a user"
    );
    eventually_logged(&cluster, leader, "not a node certificate").await;

    // The same call with a member's node certificate is served: the refusal was the
    // certificate's kind, not a broken client.
    let mut member = peer_client(certs.path(), &format!("node{leader}"), &addr);
    member
        .status(with_credentials(
            StatusRequest {},
            REPLICATOR,
            cluster.masterauth(),
        ))
        .await
        .expect("a member's status call");
}

#[tokio::test]
async fn only_the_replication_user_authenticates_peers() {
    let certs = tempfile::tempdir().expect("tempdir");
    make_certs(certs.path());
    let cluster = tls_cluster(certs.path()).await;
    let leader = cluster.leader().await;
    let mut c = cluster.client(leader).await;
    // A user that may PSYNC (+@all holds it) but is not the replication user.
    let _: Value = redis::cmd("ACL")
        .arg(&["SETUSER", "evil", "on", ">evil-pw", "+@all", "~*"])
        .query_async(&mut c)
        .await
        .expect("ACL SETUSER evil");
    let addr = cluster.node(leader).raft_addr().to_string();
    // A member's own certificate: only the credentials differ.
    let mut client = peer_client(certs.path(), &format!("node{leader}"), &addr);
    let evil = client
        .forward(with_credentials(
            forward_body("default", true, &["set", "evil-was-here", "1"]),
            "evil",
            "evil-pw",
        ))
        .await;
    assert_refused("forward as a +psync user", evil, Code::Unauthenticated);

    let _: Value = redis::cmd("CONFIG")
        .arg(&["SET", "requirepass", "default-pw"])
        .query_async(&mut c)
        .await
        .expect("CONFIG SET requirepass");
    let default = client
        .forward(with_credentials(
            forward_body("default", true, &["set", "evil-was-here", "1"]),
            "default",
            "default-pw",
        ))
        .await;
    assert_refused("forward as default", default, Code::Unauthenticated);

    // The replication user is served.
    client
        .status(with_credentials(
            StatusRequest {},
            REPLICATOR,
            cluster.masterauth(),
        ))
        .await
        .expect("status with the replication credentials");
    let _: Value = redis::cmd("AUTH")
        .arg("default-pw")
        .query_async(&mut c)
        .await
        .expect("AUTH");
    let v: Value = redis::cmd("EXISTS")
        .arg("evil-was-here")
        .query_async(&mut c)
        .await
        .expect("EXISTS");
    assert_eq!(v, Value::Int(0), "a refused forward wrote");
    eventually_logged(&cluster, leader, "wrong replication credentials").await;
}

#[tokio::test]
async fn a_node_certificate_that_is_not_a_members_gets_no_member_call() {
    let certs = tempfile::tempdir().expect("tempdir");
    make_certs(certs.path());
    let cluster = tls_cluster(certs.path()).await;
    let leader = cluster.leader().await;
    let mut c = cluster.client(leader).await;
    let addr = cluster.node(leader).raft_addr().to_string();
    let mut intruder = peer_client(certs.path(), "node4", &addr);
    let auth = cluster.masterauth().to_string();

    let r = intruder
        .forward(with_credentials(
            forward_body(
                "default",
                true,
                &["acl", "setuser", "pwned", "on", "nopass", "+@all", "~*"],
            ),
            REPLICATOR,
            &auth,
        ))
        .await;
    assert_refused("forward internal", r, Code::PermissionDenied);
    let r = intruder
        .forward(with_credentials(
            forward_body("default", false, &["set", "forged", "1"]),
            REPLICATOR,
            &auth,
        ))
        .await;
    assert_refused("forward with a forged user", r, Code::PermissionDenied);
    let r = intruder
        .read_index(with_credentials(ReadIndexRequest {}, REPLICATOR, &auth))
        .await;
    assert_refused("read_index", r, Code::PermissionDenied);
    let r = intruder
        .publish(with_credentials(
            PublishRequest {
                channel: Bytes::from_static(b"news"),
                message: Bytes::from_static(b"forged"),
            },
            REPLICATOR,
            &auth,
        ))
        .await;
    assert_refused("publish", r, Code::PermissionDenied);
    let victim = if leader == 3 { 2 } else { 3 };
    let r = intruder
        .remove(with_credentials(
            RemoveRequest {
                node_id: victim as u64,
            },
            REPLICATOR,
            &auth,
        ))
        .await;
    assert_refused("remove", r, Code::PermissionDenied);
    let r = intruder
        .elect(with_credentials(
            ElectRequest { transfer_to: 0 },
            REPLICATOR,
            &auth,
        ))
        .await;
    assert_refused("elect", r, Code::PermissionDenied);
    // Raft RPCs: as itself (not a member) a vote is refused; as leader 1..3 it is not them.
    let r = intruder
        .vote(with_credentials(vote_from(4), REPLICATOR, &auth))
        .await;
    assert_refused("vote as a non-member", r, Code::PermissionDenied);
    let r = intruder
        .append_entries(with_credentials(
            append_from(leader as u64),
            REPLICATOR,
            &auth,
        ))
        .await;
    assert_refused("append_entries as the leader", r, Code::PermissionDenied);

    // Nothing changed: no user, no key, all three still members, same leader.
    assert!(!acl_users(&mut c).await.contains(&"pwned".to_string()));
    let v: Value = redis::cmd("EXISTS")
        .arg("forged")
        .query_async(&mut c)
        .await
        .expect("EXISTS");
    assert_eq!(v, Value::Int(0));
    let members = cluster.raft_members(leader).await.expect("RAFT.INFO");
    assert_eq!(members.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(
        cluster.leader().await,
        leader,
        "the intruder moved leadership"
    );
    set(&mut c, leader, "after", "1").await;
    eventually_logged(&cluster, leader, "not a member of this cluster").await;
}

#[tokio::test]
async fn a_member_cannot_speak_for_another_member() {
    let certs = tempfile::tempdir().expect("tempdir");
    make_certs(certs.path());
    let cluster = tls_cluster(certs.path()).await;
    let leader = cluster.leader().await;
    let followers = cluster.followers().await;
    let (impostor, target) = (followers[0], followers[1]);
    let addr = cluster.node(target).raft_addr().to_string();
    // The impostor's own certificate, claiming to be the leader (AppendEntries) or a candidate
    // that is another member (Vote).
    let mut client = peer_client(certs.path(), &format!("node{impostor}"), &addr);
    let auth = cluster.masterauth().to_string();
    let r = client
        .append_entries(with_credentials(
            append_from(leader as u64),
            REPLICATOR,
            &auth,
        ))
        .await;
    assert_refused(
        "append_entries as another member",
        r,
        Code::PermissionDenied,
    );
    let r = client
        .vote(with_credentials(
            vote_from(leader as u64),
            REPLICATOR,
            &auth,
        ))
        .await;
    assert_refused("vote as another member", r, Code::PermissionDenied);
    let r = client
        .pre_vote(with_credentials(
            vote_from(leader as u64),
            REPLICATOR,
            &auth,
        ))
        .await;
    assert_refused("pre_vote as another member", r, Code::PermissionDenied);
    // Told to stand by a "leader" that is not the caller: refused, nobody stands.
    let transfer = openraft::raft::TransferLeaderRequest::<TypeConfig>::new(
        Vote::new_committed(1000, leader as u64),
        target as u64,
        None,
    );
    let r = client
        .transfer_leader(with_credentials(
            RaftMessage {
                payload: postcard::to_allocvec(&transfer).expect("encode").into(),
            },
            REPLICATOR,
            &auth,
        ))
        .await;
    assert_refused(
        "transfer_leader as another member",
        r,
        Code::PermissionDenied,
    );
    // A snapshot claiming to come from the leader: refused on its first chunk.
    let meta = redoubt_node::raft::SnapshotMeta {
        last_log_id: None,
        last_membership: Default::default(),
    };
    let header = postcard::to_allocvec(&(Vote::new_committed(1000, leader as u64), meta, 4u64))
        .expect("encode");
    let chunks = futures::stream::iter(vec![
        SnapshotChunk {
            header: header.into(),
            data: Bytes::new(),
        },
        SnapshotChunk {
            header: Bytes::new(),
            data: Bytes::from_static(b"junk"),
        },
    ]);
    let r = client
        .install_snapshot(with_credentials(chunks, REPLICATOR, &auth))
        .await;
    assert_refused(
        "install_snapshot as another member",
        r,
        Code::PermissionDenied,
    );
    eventually_logged(&cluster, target, &format!("claims to be node {leader}")).await;
    // The cluster did not notice: the same leader, writes through every node.
    assert_eq!(cluster.leader().await, leader);
    for id in 1..=3 {
        let mut c = cluster.client(id).await;
        set(&mut c, id, &format!("k{id}"), "v").await;
    }
}

#[tokio::test]
async fn credentials_are_checked_before_a_body_is_read() {
    let certs = tempfile::tempdir().expect("tempdir");
    make_certs(certs.path());
    let cluster = tls_cluster(certs.path()).await;
    let leader = cluster.leader().await;
    let pid = cluster.node(leader).pid().expect("pid");
    let addr = cluster.node(leader).raft_addr().to_string();
    let mut client = peer_client(certs.path(), &format!("node{leader}"), &addr);
    let before = peak_rss_kib(pid);
    // Three calls of 150 MB each with a wrong password (today's main buffered each body
    // before looking at the credentials: peak RSS grew by hundreds of MB).
    let body = vec![b'x'; 150 * 1024 * 1024];
    for _ in 0..3 {
        let r = client
            .forward(with_credentials(
                ForwardRequest {
                    request: Bytes::from(body.clone()),
                },
                REPLICATOR,
                "wrong-password",
            ))
            .await;
        assert_refused("forward with a wrong password", r, Code::Unauthenticated);
    }
    let grown_mib = peak_rss_kib(pid).saturating_sub(before) / 1024;
    assert!(
        grown_mib < 64,
        "peak RSS of node {leader} grew by {grown_mib} MiB while refusing unauthenticated bodies"
    );
}

#[tokio::test]
async fn a_node_on_a_members_address_with_another_identity_receives_nothing() {
    use redoubt_cluster_tests::{NodeOptions, NodeProcess};
    let certs = tempfile::tempdir().expect("tempdir");
    make_certs(certs.path());
    let mut cluster = tls_cluster(certs.path()).await;
    let leader = cluster.leader().await;
    let victim = (1..=3).find(|&id| id != leader).expect("a follower");
    let victim_addr = cluster.node(victim).raft_addr().to_string();
    let leader_addr = cluster.node(leader).raft_addr().to_string();
    cluster.kill9(victim);
    // node4's certificate (of the cluster's CA, with the replication password) now listens on
    // the victim's address, as a fresh node waiting to be contacted.
    let file = |name: &str| path_str(&certs.path().join(name));
    let impostor = NodeProcess::start(
        NodeOptions::new()
            .raft_addr(victim_addr.clone())
            .arg("node-id", victim.to_string())
            .arg("masterauth", cluster.masterauth())
            .arg("peers", format!("{leader}=node{leader}@{leader_addr}"))
            .arg("peer-tls-cert-file", file("node4.crt"))
            .arg("peer-tls-key-file", file("node4.key"))
            .arg("peer-tls-ca-cert-file", file("ca.crt")),
    );
    let mut c = cluster.client(leader).await;
    for i in 0..20 {
        set(&mut c, leader, &format!("secret{i}"), "classified").await;
    }
    // The leader keeps dialling the victim's address and refuses what answers there.
    eventually_logged(&cluster, leader, "presents node 'node4'").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Nothing of the cluster's data reached the impostor's files (log or keyspace).
    for (path, bytes) in all_files(impostor.dir()) {
        assert!(
            !contains_bytes(&bytes, b"classified"),
            "the impostor received the cluster's data: {}",
            path.display()
        );
    }
}
