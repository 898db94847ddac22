//! Real handshakes over 127.0.0.1 with certificates made by rcgen in the test: what the peer
//! channel and the RESP TLS port accept, refuse, and present after a reload.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::*;
use crate::certs::{CertificateAuthority, IssuedCert, LeafSpec, LeafUsage};

const DAY: Duration = Duration::from_secs(86_400);

/// A directory of PEM files and the CAs that signed them.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        Pki {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the CA certificate(s) as one bundle.
    fn write_ca(&self, file: &str, cas: &[&CertificateAuthority]) -> PathBuf {
        let bundle: String = cas.iter().map(|ca| ca.cert_pem().to_string()).collect();
        let path = self.path(file);
        write_atomically(&path, bundle.as_bytes());
        path
    }

    /// Writes `name.crt` / `name.key`; returns (cert, key) paths.
    fn write_leaf(&self, name: &str, issued: &IssuedCert) -> (PathBuf, PathBuf) {
        let (crt, key) = (
            self.path(&format!("{name}.crt")),
            self.path(&format!("{name}.key")),
        );
        write_atomically(&key, issued.key_pem.expose().as_bytes());
        write_atomically(&crt, issued.cert_pem.as_bytes());
        (crt, key)
    }
}

/// Rename over the target, as rotation scripts do.
fn write_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

fn new_ca(name: &str) -> CertificateAuthority {
    CertificateAuthority::generate(name, 30).expect("ca")
}

fn node_cert(ca: &CertificateAuthority, name: &str) -> IssuedCert {
    ca.issue(&LeafSpec::node(name, &[], 30)).expect("issue")
}

fn node_cert_valid(
    ca: &CertificateAuthority,
    name: &str,
    not_before: SystemTime,
    not_after: SystemTime,
) -> IssuedCert {
    ca.issue(&LeafSpec {
        common_name: name.to_string(),
        sans: vec![name.to_string(), "localhost".into()],
        usage: LeafUsage::Node,
        not_before,
        not_after,
    })
    .expect("issue")
}

fn der_of(issued: &IssuedCert) -> CertificateDer<'static> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).expect("pem")
}

/// A peer channel for `name`, its certificate from `ca`, trusting `trust`.
fn peer(pki: &Pki, name: &str, issued: &IssuedCert, trust: &Path, allowed: &[&str]) -> PeerTls {
    let (crt, key) = pki.write_leaf(name, issued);
    PeerTls::new(
        crt,
        key,
        trust,
        allowed.iter().map(|s| s.to_string()).collect(),
    )
    .expect("peer tls")
}

/// A client that trusts `ca_file` and presents no certificate.
fn anonymous_client(ca_file: &Path) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_ca_bundle(ca_file).expect("ca") {
        roots.add(cert).expect("root");
    }
    Arc::new(
        ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A client that trusts `ca_file` and presents `cert`/`key`.
fn client_with_cert(ca_file: &Path, cert: &Path, key: &Path) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in load_ca_bundle(ca_file).expect("ca") {
        roots.add(c).expect("root");
    }
    Arc::new(
        ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_client_auth_cert(
                load_cert_chain(cert).expect("chain"),
                load_private_key(key).expect("key"),
            )
            .expect("client auth"),
    )
}

/// What each side saw.
struct Outcome {
    /// The client's CN as the server read it, or the server's error.
    server: Result<Option<String>, String>,
    /// The certificate the server presented and the negotiated version and suite, or the
    /// client's error.
    client: Result<Served, String>,
}

struct Served {
    leaf: CertificateDer<'static>,
    version: Option<rustls::ProtocolVersion>,
    suite: Option<rustls::CipherSuite>,
    alpn: Option<Vec<u8>>,
}

/// One connection: handshake, then a ping/pong so a refusal on either side surfaces.
async fn exchange(server: Arc<ServerConfig>, client: Arc<ClientConfig>, name: &str) -> Outcome {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server_side = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut tls = TlsAcceptor::from(server)
            .accept(tcp)
            .await
            .map_err(|e| e.to_string())?;
        let cn = peer_common_name(&tls);
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        tls.write_all(b"pong").await.map_err(|e| e.to_string())?;
        tls.flush().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(cn)
    });
    let name = ServerName::try_from(name.to_string()).expect("server name");
    let client_side = async move {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let mut tls = TlsConnector::from(client)
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let session = tls.get_ref().1;
        let served = Served {
            leaf: session
                .peer_certificates()
                .and_then(|c| c.first())
                .cloned()
                .ok_or("no server certificate")?,
            version: session.protocol_version(),
            suite: session.negotiated_cipher_suite().map(|s| s.suite()),
            alpn: session.alpn_protocol().map(<[u8]>::to_vec),
        };
        tls.write_all(b"ping").await.map_err(|e| e.to_string())?;
        tls.flush().await.map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(served)
    };
    let client = tokio::time::timeout(Duration::from_secs(10), client_side)
        .await
        .unwrap_or_else(|_| Err("client timed out".into()));
    let server = match tokio::time::timeout(Duration::from_secs(10), server_side).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(format!("server task: {e}")),
        Err(_) => Err("server timed out".into()),
    };
    Outcome { server, client }
}

fn expect_refused(outcome: &Outcome, reason: &str) {
    match &outcome.server {
        Ok(_) => panic!("the server accepted; expected a refusal for '{reason}'"),
        Err(e) => assert!(
            e.contains(reason),
            "server error '{e}' does not say '{reason}'"
        ),
    }
    assert!(
        outcome.client.is_err(),
        "the client must not complete an exchange"
    );
}

#[tokio::test]
async fn mutual_tls_succeeds_with_certificates_from_the_cluster_ca() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let node1_cert = node_cert(&ca, "node1");
    let node1 = peer(&pki, "node1", &node1_cert, &ca_file, &[]);
    let node2 = peer(&pki, "node2", &node_cert(&ca, "node2"), &ca_file, &[]);
    let outcome = exchange(node1.server_config(), node2.client_config(), "node1").await;
    assert_eq!(
        outcome.server.expect("server accepts"),
        Some("node2".into())
    );
    let served = outcome.client.expect("client accepts");
    assert_eq!(served.leaf, der_of(&node1_cert));
    assert_eq!(served.version, Some(rustls::ProtocolVersion::TLSv1_3));
    assert_eq!(served.alpn.as_deref(), Some(&b"h2"[..]));
    // IP SANs work too (peers dialled by address).
    let outcome = exchange(node1.server_config(), node2.client_config(), "127.0.0.1").await;
    assert!(outcome.server.is_ok() && outcome.client.is_ok());
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let other = new_ca("Other CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let node1 = peer(&pki, "node1", &node_cert(&ca, "node1"), &ca_file, &[]);
    // Trusts the right CA (so it accepts the server) but carries a foreign certificate.
    let intruder = peer(&pki, "intruder", &node_cert(&other, "node2"), &ca_file, &[]);
    let outcome = exchange(node1.server_config(), intruder.client_config(), "node1").await;
    expect_refused(&outcome, "not signed by a trusted CA");
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_refused_by_the_client() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let other = new_ca("Other CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let other_file = pki.write_ca("other.crt", &[&other]);
    let impostor = peer(&pki, "node1", &node_cert(&other, "node1"), &other_file, &[]);
    let node2 = peer(&pki, "node2", &node_cert(&ca, "node2"), &ca_file, &[]);
    let outcome = exchange(impostor.server_config(), node2.client_config(), "node1").await;
    let e = outcome.client.err().expect("client refuses");
    assert!(e.contains("not signed by a trusted CA"), "{e}");
    assert!(outcome.server.is_err());
}

#[tokio::test]
async fn a_peer_without_a_client_certificate_is_refused() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let node1 = peer(&pki, "node1", &node_cert(&ca, "node1"), &ca_file, &[]);
    let outcome = exchange(node1.server_config(), anonymous_client(&ca_file), "node1").await;
    expect_refused(&outcome, "no certificates");
}

#[tokio::test]
async fn expired_and_not_yet_valid_certificates_are_refused() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let node1 = peer(&pki, "node1", &node_cert(&ca, "node1"), &ca_file, &[]);
    let now = SystemTime::now();

    let expired = node_cert_valid(&ca, "node2", now - 30 * DAY, now - DAY);
    let old = peer(&pki, "expired", &expired, &ca_file, &[]);
    let outcome = exchange(node1.server_config(), old.client_config(), "node1").await;
    expect_refused(&outcome, "expired");

    let future = node_cert_valid(&ca, "node2", now + DAY, now + 30 * DAY);
    let early = peer(&pki, "future", &future, &ca_file, &[]);
    let outcome = exchange(node1.server_config(), early.client_config(), "node1").await;
    expect_refused(&outcome, "not valid yet");

    // The client side checks dates too.
    let outcome = exchange(old.server_config(), node1.client_config(), "node2").await;
    let e = outcome
        .client
        .err()
        .expect("client refuses an expired server");
    assert!(e.contains("expired"), "{e}");
}

#[tokio::test]
async fn name_pinning_accepts_allowed_names_and_refuses_others() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let node1 = peer(
        &pki,
        "node1",
        &node_cert(&ca, "node1"),
        &ca_file,
        &["node2", "NODE3"],
    );
    let node2 = peer(
        &pki,
        "node2",
        &node_cert(&ca, "node2"),
        &ca_file,
        &["node1"],
    );
    let node3 = peer(&pki, "node3", &node_cert(&ca, "node3"), &ca_file, &[]);
    let stranger = peer(&pki, "node4", &node_cert(&ca, "node4"), &ca_file, &[]);

    let outcome = exchange(node1.server_config(), node2.client_config(), "node1").await;
    assert_eq!(outcome.server.expect("node2 allowed"), Some("node2".into()));
    assert!(outcome.client.is_ok());
    let outcome = exchange(node1.server_config(), node3.client_config(), "node1").await;
    assert!(outcome.server.is_ok(), "names compare case-insensitively");

    let outcome = exchange(node1.server_config(), stranger.client_config(), "node1").await;
    expect_refused(&outcome, "name not allowed");

    // The dialling side pins too: node2 only talks to node1.
    let outcome = exchange(node3.server_config(), node2.client_config(), "node3").await;
    let e = outcome.client.err().expect("node2 refuses node3");
    assert!(e.contains("name not allowed"), "{e}");
}

#[tokio::test]
async fn reload_presents_the_new_certificate_to_new_handshakes_only() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let first = node_cert(&ca, "node1");
    let node1 = peer(&pki, "node1", &first, &ca_file, &[]);
    let node2 = peer(&pki, "node2", &node_cert(&ca, "node2"), &ca_file, &[]);
    let served = exchange(node1.server_config(), node2.client_config(), "node1")
        .await
        .client
        .expect("first handshake");
    assert_eq!(served.leaf, der_of(&first));

    // A connection opened before the rotation keeps working after it.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = TlsAcceptor::from(node1.server_config());
    let echo = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut tls = acceptor.accept(tcp).await.expect("handshake");
        let mut buf = [0u8; 4];
        for _ in 0..2 {
            tls.read_exact(&mut buf).await.expect("read");
            tls.write_all(&buf).await.expect("write");
        }
    });
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut open = TlsConnector::from(node2.client_config())
        .connect(ServerName::try_from("node1").expect("name"), tcp)
        .await
        .expect("connect");
    open.write_all(b"one!").await.expect("write");
    let mut buf = [0u8; 4];
    open.read_exact(&mut buf).await.expect("read");

    let second = node_cert(&ca, "node1");
    assert_ne!(first.serial, second.serial);
    pki.write_leaf("node1", &second);
    match node1.reload().expect("reload") {
        ReloadOutcome::Reloaded(summary) => assert_eq!(summary.serial, second.serial),
        ReloadOutcome::Unchanged => panic!("the files changed"),
    }
    assert_eq!(node1.reload().expect("again"), ReloadOutcome::Unchanged);
    let served = exchange(node1.server_config(), node2.client_config(), "node1")
        .await
        .client
        .expect("handshake after reload");
    assert_eq!(served.leaf, der_of(&second));

    open.write_all(b"two!")
        .await
        .expect("write on the old connection");
    open.read_exact(&mut buf)
        .await
        .expect("read on the old connection");
    assert_eq!(&buf, b"two!");
    echo.await.expect("echo");
}

#[tokio::test]
async fn a_broken_reload_keeps_the_certificate_in_use() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let first = node_cert(&ca, "node1");
    let node1 = peer(&pki, "node1", &first, &ca_file, &[]);
    let node2 = peer(&pki, "node2", &node_cert(&ca, "node2"), &ca_file, &[]);
    let key_path = pki.path("node1.key");

    // A damaged key.
    write_atomically(
        &key_path,
        b"-----BEGIN PRIVATE KEY-----\nnot base64 at all\n",
    );
    let e = node1.reload().expect_err("damaged key");
    assert!(e.to_string().contains("node1.key"), "{e}");
    assert!(
        !e.to_string().contains("not base64"),
        "no key bytes in errors: {e}"
    );

    // A valid key that belongs to another certificate.
    let other = node_cert(&ca, "node1");
    write_atomically(&key_path, other.key_pem.expose().as_bytes());
    match node1.reload() {
        Err(TlsError::KeyMismatch { .. }) => {}
        other => panic!("expected a key mismatch, got {other:?}"),
    }

    // A missing CA file.
    std::fs::remove_file(&ca_file).expect("rm");
    let e = node1.reload().expect_err("missing CA");
    assert!(e.to_string().contains("ca.crt"), "{e}");

    assert_eq!(node1.certs().summary().serial, first.serial);
    pki.write_ca("ca.crt", &[&ca]);
    let served = exchange(node1.server_config(), node2.client_config(), "node1")
        .await
        .client
        .expect("still serving");
    assert_eq!(served.leaf, der_of(&first));
}

#[tokio::test]
async fn a_trust_bundle_with_two_cas_accepts_both_and_rotation_needs_no_restart() {
    let pki = Pki::new();
    let old_ca = new_ca("Old CA");
    let new_ca_ = new_ca("New CA");
    let ca_file = pki.write_ca("ca.crt", &[&old_ca]);
    let node1 = peer(&pki, "node1", &node_cert(&old_ca, "node1"), &ca_file, &[]);
    let both_file = pki.write_ca("both.crt", &[&old_ca, &new_ca_]);
    let from_old = peer(&pki, "node2", &node_cert(&old_ca, "node2"), &both_file, &[]);
    let from_new = peer(
        &pki,
        "node3",
        &node_cert(&new_ca_, "node3"),
        &both_file,
        &[],
    );

    let outcome = exchange(node1.server_config(), from_new.client_config(), "node1").await;
    expect_refused(&outcome, "not signed by a trusted CA");

    // Phase 1 of a CA roll: trust both, then reload.
    pki.write_ca("ca.crt", &[&old_ca, &new_ca_]);
    assert!(matches!(node1.reload(), Ok(ReloadOutcome::Reloaded(_))));
    assert_eq!(node1.certs().summary().trust_roots, 2);
    for client in [&from_old, &from_new] {
        let outcome = exchange(node1.server_config(), client.client_config(), "node1").await;
        assert!(outcome.server.is_ok(), "{:?}", outcome.server.err());
        assert!(outcome.client.is_ok(), "{:?}", outcome.client.err());
    }
}

#[tokio::test]
async fn the_watcher_reloads_when_files_change() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let node1 = peer(&pki, "node1", &node_cert(&ca, "node1"), &ca_file, &[]);
    let watcher = node1
        .certs()
        .watch_every(Duration::from_millis(300))
        .expect("watch");
    let second = node_cert(&ca, "node1");
    pki.write_leaf("node1", &second);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while node1.certs().summary().serial != second.serial {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the watcher did not reload"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(watcher);
}

#[tokio::test]
async fn client_tls_honours_tls_auth_clients() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let (crt, key) = pki.write_leaf("node1", &node_cert(&ca, "node1"));
    let alice = ca
        .issue(&LeafSpec::client("alice", &[], 30))
        .expect("client cert");
    let (alice_crt, alice_key) = pki.write_leaf("alice", &alice);
    let with_cert = client_with_cert(&ca_file, &alice_crt, &alice_key);
    let without = anonymous_client(&ca_file);
    let port = |auth| {
        ClientTls::new(
            crt.clone(),
            key.clone(),
            Some(ca_file.clone()),
            auth,
            TlsProtocols::default(),
            None,
        )
        .expect("client tls")
    };

    let yes = port(AuthClients::Yes);
    let outcome = exchange(yes.server_config(), with_cert.clone(), "localhost").await;
    assert_eq!(outcome.server.expect("cert accepted"), Some("alice".into()));
    let outcome = exchange(yes.server_config(), without.clone(), "localhost").await;
    expect_refused(&outcome, "no certificates");

    let optional = port(AuthClients::Optional);
    let outcome = exchange(optional.server_config(), without.clone(), "localhost").await;
    assert_eq!(outcome.server.expect("no cert is fine"), None);
    let outcome = exchange(optional.server_config(), with_cert.clone(), "localhost").await;
    assert_eq!(outcome.server.expect("cert read"), Some("alice".into()));

    let no = port(AuthClients::No);
    let outcome = exchange(no.server_config(), without, "localhost").await;
    assert_eq!(outcome.server.expect("no cert needed"), None);

    let e = ClientTls::new(
        crt,
        key,
        None,
        AuthClients::Yes,
        TlsProtocols::default(),
        None,
    )
    .expect_err("yes without a CA");
    assert!(e.to_string().contains("tls-ca-cert-file"), "{e}");
}

#[tokio::test]
async fn client_tls_offers_only_the_configured_protocols_and_suites() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let (crt, key) = pki.write_leaf("node1", &node_cert(&ca, "node1"));
    let client = anonymous_client(&ca_file);

    let tls12 = ClientTls::new(
        crt.clone(),
        key.clone(),
        None,
        AuthClients::No,
        TlsProtocols::parse("TLSv1.2").expect("protocols"),
        None,
    )
    .expect("client tls");
    let served = exchange(tls12.server_config(), client.clone(), "localhost")
        .await
        .client
        .expect("1.2 handshake");
    assert_eq!(served.version, Some(rustls::ProtocolVersion::TLSv1_2));

    let suites = CipherSuites::parse("TLS_CHACHA20_POLY1305_SHA256").expect("suites");
    let chacha = ClientTls::new(
        crt,
        key,
        None,
        AuthClients::No,
        TlsProtocols::parse("TLSv1.3").expect("protocols"),
        Some(&suites),
    )
    .expect("client tls");
    let served = exchange(chacha.server_config(), client, "localhost")
        .await
        .client
        .expect("1.3 handshake");
    assert_eq!(served.version, Some(rustls::ProtocolVersion::TLSv1_3));
    assert_eq!(
        served.suite,
        Some(rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256)
    );
}

#[test]
fn loading_errors_name_the_file() {
    let pki = Pki::new();
    let missing = pki.path("missing.crt");
    let e = load_cert_chain(&missing).expect_err("missing");
    assert!(e.to_string().contains("missing.crt"), "{e}");

    let empty = pki.path("empty.crt");
    std::fs::write(&empty, "nothing here\n").expect("write");
    let e = load_cert_chain(&empty).expect_err("empty");
    assert!(e.to_string().contains("empty.crt") && e.to_string().contains("no PEM certificate"));

    let e = load_private_key(&empty).expect_err("no key");
    assert!(e.to_string().contains("empty.crt") && e.to_string().contains("no private key"));

    let ca = new_ca("Cluster CA");
    let (crt, _) = pki.write_leaf("node1", &node_cert(&ca, "node1"));
    let other = node_cert(&ca, "node1");
    let (_, other_key) = pki.write_leaf("other", &other);
    let e = PeerTls::new(
        crt.clone(),
        other_key,
        pki.write_ca("ca.crt", &[&ca]),
        vec![],
    )
    .expect_err("mismatch");
    assert!(
        e.to_string().contains("does not match") && e.to_string().contains("node1.crt"),
        "{e}"
    );
    let e = ReloadableCerts::new(
        "test",
        CertPaths {
            cert: crt,
            key: pki.path("node1.key"),
            ca: Some(empty),
        },
    )
    .expect_err("bad CA file");
    assert!(e.to_string().contains("CA file"), "{e}");
}

#[test]
fn dates_are_formatted_in_utc() {
    assert_eq!(format_unix_time(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_unix_time(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(format_unix_time(4_102_444_799), "2099-12-31T23:59:59Z");
}

#[tokio::test]
async fn the_peer_channel_refuses_client_certificates_and_accepts_node_certificates() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let node1 = peer(&pki, "node1", &node_cert(&ca, "node1"), &ca_file, &[]);
    // The certificate every TLS client gets, from the same CA: refused by what it is.
    let client = ca
        .issue(&LeafSpec::client("client", &[], 30))
        .expect("client cert");
    let (crt, key) = pki.write_leaf("client", &client);
    let outcome = exchange(
        node1.server_config(),
        client_with_cert(&ca_file, &crt, &key),
        "node1",
    )
    .await;
    expect_refused(&outcome, "not a node certificate");
    // A node certificate with the same CA passes, and says which node it is.
    let node2 = node_cert(&ca, "node2");
    let (crt, key) = pki.write_leaf("node2", &node2);
    let outcome = exchange(
        node1.server_config(),
        client_with_cert(&ca_file, &crt, &key),
        "node1",
    )
    .await;
    assert!(outcome.server.is_ok(), "{:?}", outcome.server.err());
    assert_eq!(
        identity::node_identity(&der_of(&node2)).as_deref(),
        Some("node2")
    );
    assert_eq!(identity::node_identity(&der_of(&client)), None);
    // A peer channel cannot be configured with a client certificate either.
    let (crt, key) = pki.write_leaf("client", &client);
    let e = PeerTls::new(crt, key, &ca_file, Vec::new()).expect_err("a client certificate");
    assert!(e.to_string().contains("is not a node certificate"), "{e}");
}

#[tokio::test]
async fn a_reload_cannot_change_the_node_identity() {
    let pki = Pki::new();
    let ca = new_ca("Cluster CA");
    let ca_file = pki.write_ca("ca.crt", &[&ca]);
    let first = node_cert(&ca, "node1");
    let node1 = peer(&pki, "node1", &first, &ca_file, &[]);
    // Another node's certificate written over node1's files: refused, node1's kept.
    let other = node_cert(&ca, "node2");
    write_atomically(&pki.path("node1.key"), other.key_pem.expose().as_bytes());
    write_atomically(&pki.path("node1.crt"), other.cert_pem.as_bytes());
    let e = node1.reload().expect_err("another identity");
    assert!(e.to_string().contains("names node 'node2'"), "{e}");
    assert_eq!(node1.certs().summary().serial, first.serial);
    // A new certificate under the same name (rotation) is taken.
    let renewed = node_cert(&ca, "node1");
    write_atomically(&pki.path("node1.key"), renewed.key_pem.expose().as_bytes());
    write_atomically(&pki.path("node1.crt"), renewed.cert_pem.as_bytes());
    assert!(matches!(node1.reload(), Ok(ReloadOutcome::Reloaded(_))));
    assert_eq!(node1.certs().summary().serial, renewed.serial);
}
