//! RESP over TLS against a real `redoubt` process: client certificates on the TLS port
//! (`tls-auth-clients yes`) and the certificate's CN naming the ACL user
//! (`tls-auth-clients-user CN`). The certificates are made by the binary itself
//! (`redoubt certs init` / `redoubt certs issue --client`); the client is tokio-rustls with
//! the ring provider, talking raw RESP.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use redoubt_cluster_tests::raw::{encode_cmd, reply_len};
use redoubt_cluster_tests::{free_port, run_redoubt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

const PASSWORD: &str = "tls-clients-test-pw";
/// How long a TLS client waits for the handshake or a reply before the test fails.
const WAIT: Duration = Duration::from_secs(5);
/// The CN of the certificate `certs issue --client` makes for a user that does not exist.
const STRANGER: &str = "stranger";

/// A directory of certificates made by `redoubt certs`: `ca.crt`, `node1.crt|key` (the
/// server's), `client.crt|key` (from `init`) and `stranger.crt|key` (from `issue --client`).
struct Certs {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Certs {
    fn make() -> Certs {
        let dir = tempfile::Builder::new()
            .prefix("redoubt-tls-clients-")
            .tempdir()
            .expect("create a tempdir for certificates");
        let path = dir.path().join("certs");
        let out = path.display().to_string();
        certs_cmd(&["certs", "init", "--out", &out, "--nodes", "node1"]);
        certs_cmd(&[
            "certs", "issue", "--ca-dir", &out, "--name", STRANGER, "--client",
        ]);
        Certs { _dir: dir, path }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    fn file_arg(&self, name: &str) -> String {
        self.file(name).display().to_string()
    }

    /// The `(cert, key)` pair named `name`.
    fn pair(&self, name: &str) -> (PathBuf, PathBuf) {
        (
            self.file(&format!("{name}.crt")),
            self.file(&format!("{name}.key")),
        )
    }

    /// A node serving RESP over TLS with node1's certificate, requiring client certificates
    /// signed by the CA, plus `extra` directives.
    fn node(&self, extra: &[(&str, &str)]) -> (NodeProcess, u16) {
        let tls_port = free_port();
        let mut opts = NodeOptions::new()
            .arg("tls-port", tls_port.to_string())
            .arg("tls-cert-file", self.file_arg("node1.crt"))
            .arg("tls-key-file", self.file_arg("node1.key"))
            .arg("tls-ca-cert-file", self.file_arg("ca.crt"))
            .arg("tls-auth-clients", "yes");
        for (name, value) in extra {
            opts = opts.arg(*name, *value);
        }
        (NodeProcess::start(opts), tls_port)
    }
}

/// Runs `redoubt <args>`, which must succeed.
fn certs_cmd(args: &[&str]) -> String {
    let out = run_redoubt(args, &[], Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "redoubt {args:?} failed ({}): stdout {stdout:?}, stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The subject CN of a certificate file, as `redoubt certs show` prints it.
fn common_name(cert: &Path) -> String {
    let shown = certs_cmd(&["certs", "show", &cert.display().to_string()]);
    let subject = shown
        .lines()
        .find_map(|l| l.strip_prefix("subject: "))
        .unwrap_or_else(|| panic!("no subject line in `certs show` output: {shown:?}"));
    subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .unwrap_or_else(|| panic!("no CN in the subject {subject:?}"))
        .to_string()
}

fn tls_config(ca: &Path, client: Option<&(PathBuf, PathBuf)>) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("read ca.crt") {
        roots
            .add(cert.expect("a PEM certificate in ca.crt"))
            .expect("ca.crt is a usable trust root");
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default protocol versions")
    .with_root_certificates(roots);
    match client {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .expect("read the client certificate")
                .collect::<Result<Vec<_>, _>>()
                .expect("a PEM client certificate");
            let key = PrivateKeyDer::from_pem_file(key).expect("read the client key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("a usable client certificate")
        }
        None => builder.with_no_client_auth(),
    }
}

/// A RESP connection over TLS.
struct TlsConn {
    stream: TlsStream<TcpStream>,
    buf: Vec<u8>,
}

impl TlsConn {
    /// Connects to 127.0.0.1:`port` (verifying the server as `localhost` against `ca`) and
    /// completes the client side of the handshake, presenting `client` if given. With
    /// TLS 1.3 the server's verdict on the client certificate arrives after this returns.
    async fn connect(
        port: u16,
        ca: &Path,
        client: Option<&(PathBuf, PathBuf)>,
    ) -> Result<TlsConn, String> {
        let connector = TlsConnector::from(Arc::new(tls_config(ca, client)));
        let tcp = connect_tcp(port).await?;
        let name = ServerName::try_from("localhost").expect("a valid server name");
        match tokio::time::timeout(WAIT, connector.connect(name, tcp)).await {
            Err(_) => Err(format!("TLS handshake timed out after {WAIT:?}")),
            Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
            Ok(Ok(stream)) => Ok(TlsConn {
                stream,
                buf: Vec::new(),
            }),
        }
    }

    /// Sends a command and reads one complete reply; Err says why there is none.
    async fn call(&mut self, args: &[&str]) -> Result<String, String> {
        let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let write = async {
            self.stream.write_all(&encode_cmd(&bytes)).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(WAIT, write).await {
            Err(_) => return Err(format!("writing {args:?} timed out")),
            Ok(Err(e)) => return Err(format!("writing {args:?} failed: {e}")),
            Ok(Ok(())) => {}
        }
        self.read_reply().await
    }

    async fn read_reply(&mut self) -> Result<String, String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(n) = reply_len(&self.buf) {
                let reply: Vec<u8> = self.buf.drain(..n).collect();
                return Ok(String::from_utf8_lossy(&reply).into_owned());
            }
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => {
                    return Err(format!(
                        "timeout: no complete reply within {WAIT:?}; got so far {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ))
                }
                Ok(Ok(0)) => {
                    return Err(format!(
                        "closed: the server closed the connection; got so far {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ))
                }
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => return Err(format!("read failed: {e}")),
            }
        }
    }

    /// Sends a command that must succeed at the transport level; its reply.
    async fn must_call(&mut self, args: &[&str]) -> String {
        match self.call(args).await {
            Ok(r) => r,
            Err(e) => panic!("TLS {args:?}: {e}"),
        }
    }

    /// Waits (at most `within`) for the server to end the connection, without sending
    /// anything; returns the bytes read before the end. Panics if it stays open.
    async fn wait_closed(&mut self, within: Duration) -> String {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => panic!(
                    "the server did not close the TLS connection within {within:?}; read {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
                // EOF, close_notify or a reset: closed either way.
                Ok(Ok(0)) | Ok(Err(_)) => {
                    return String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned()
                }
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// A TCP connection to the TLS port, retried briefly while the listener comes up (the
/// harness only waits for the plaintext port).
async fn connect_tcp(port: u16) -> Result<TcpStream, String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(s) => return Ok(s),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(format!("cannot connect to the TLS port {port}: {e}"))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Connects with a client certificate; the handshake must succeed.
async fn tls_client(port: u16, certs: &Certs, pair: &(PathBuf, PathBuf)) -> TlsConn {
    match TlsConn::connect(port, &certs.file("ca.crt"), Some(pair)).await {
        Ok(c) => c,
        Err(e) => panic!("TLS client with {}: {e}", pair.0.display()),
    }
}

/// A plaintext connection authenticated as `default`.
async fn admin(node: &NodeProcess) -> MultiplexedConnection {
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}/", node.port());
    match redoubt_cluster_tests::connect(&url).await {
        Ok(c) => c,
        Err(e) => panic!(
            "AUTH default over the plaintext port: {e}\n{}",
            node.diagnostics()
        ),
    }
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

#[tokio::test]
async fn tls_port_requires_a_client_certificate() {
    let certs = Certs::make();
    let (node, tls_port) = certs.node(&[]);
    let ca = certs.file("ca.crt");

    let mut with_cert = tls_client(tls_port, &certs, &certs.pair("client")).await;
    assert_eq!(
        with_cert.must_call(&["PING"]).await,
        "+PONG\r\n",
        "PING over TLS with the CA-signed client certificate"
    );

    // Without a certificate: the handshake fails, or (TLS 1.3, where the client finishes
    // first) the server's alert / close comes on the first read. Never a reply.
    match TlsConn::connect(tls_port, &ca, None).await {
        Err(e) => assert!(
            e.starts_with("TLS handshake failed"),
            "a client without a certificate was not refused but: {e}"
        ),
        Ok(mut conn) => match conn.call(&["PING"]).await {
            Ok(reply) => panic!(
                "a TLS client without a certificate got a reply to PING: {reply:?}\n{}",
                node.diagnostics()
            ),
            Err(e) => assert!(
                !e.starts_with("timeout"),
                "a TLS client without a certificate was neither refused nor answered: {e}"
            ),
        },
    }

    // The certified client is unaffected, and so is a new one.
    assert_eq!(with_cert.must_call(&["PING"]).await, "+PONG\r\n");
    let mut again = tls_client(tls_port, &certs, &certs.pair("client")).await;
    assert_eq!(again.must_call(&["PING"]).await, "+PONG\r\n");
}

#[tokio::test]
async fn certificate_cn_names_the_acl_user() {
    let certs = Certs::make();
    let pair = certs.pair("client");
    let cn = common_name(&pair.0);
    assert_eq!(cn, "client", "`certs init` names its client certificate");
    let (node, tls_port) =
        certs.node(&[("requirepass", PASSWORD), ("tls-auth-clients-user", "CN")]);
    let mut plain = admin(&node).await;
    expect(
        &mut plain,
        &["ACL", "SETUSER", &cn, "on", "nopass", "~app:*", "+@all"],
        ok(),
    )
    .await;

    let mut tls = tls_client(tls_port, &certs, &pair).await;
    assert_eq!(
        tls.must_call(&["ACL", "WHOAMI"]).await,
        bulk(&cn),
        "ACL WHOAMI over TLS names the certificate's CN"
    );
    assert_eq!(
        tls.must_call(&["SET", "app:1", "x"]).await,
        "+OK\r\n",
        "SET of a key the user may write"
    );
    assert_eq!(
        tls.must_call(&["SET", "other", "x"]).await,
        "-NOPERM No permissions to access a key\r\n",
        "SET of a key outside ~app:*"
    );
    expect(&mut plain, &["GET", "app:1"], b("x")).await;

    // Turning the user off closes its connections, the certificate-authenticated one too.
    expect(&mut plain, &["ACL", "SETUSER", &cn, "off"], ok()).await;
    let left = tls.wait_closed(WAIT).await;
    assert_eq!(
        left, "",
        "the TLS connection got bytes before it was closed"
    );
    expect(&mut plain, &["PING"], simple("PONG")).await;
}

#[tokio::test]
async fn certificate_of_an_unknown_user_is_not_authenticated() {
    let certs = Certs::make();
    let pair = certs.pair(STRANGER);
    assert_eq!(
        common_name(&pair.0),
        STRANGER,
        "`certs issue --client --name` sets the CN"
    );
    let (node, tls_port) =
        certs.node(&[("requirepass", PASSWORD), ("tls-auth-clients-user", "CN")]);
    let mut plain = admin(&node).await;
    expect(&mut plain, &["ACL", "WHOAMI"], b("default")).await;

    let mut tls = tls_client(tls_port, &certs, &pair).await;
    assert_eq!(
        tls.must_call(&["PING"]).await,
        "-NOAUTH Authentication required.\r\n",
        "PING with the certificate of a user that does not exist"
    );
    assert_eq!(
        tls.must_call(&["AUTH", "default", PASSWORD]).await,
        "+OK\r\n",
        "AUTH default over TLS"
    );
    assert_eq!(tls.must_call(&["PING"]).await, "+PONG\r\n");
    assert_eq!(tls.must_call(&["ACL", "WHOAMI"]).await, bulk("default"));
}

// ---- maxclients on the TLS port ----

/// `connected_clients` in an INFO clients reply.
fn connected_clients(info: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no connected_clients in INFO clients: {info:?}"))
}

/// Waits until the node counts `n` connections, asking over `admin`.
async fn wait_connected(admin: &mut MultiplexedConnection, n: u64, node: &NodeProcess) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let info = text(&q(admin, &["INFO", "clients"]).await);
        if connected_clients(&info) == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node does not count {n} connections:\n{info}\n{}",
            node.diagnostics()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the node counts `n` connections, asking over a TLS connection.
async fn wait_connected_tls(conn: &mut TlsConn, n: u64, node: &NodeProcess) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let info = conn.must_call(&["INFO", "clients"]).await;
        if connected_clients(&info) == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node does not count {n} connections:\n{info}\n{}",
            node.diagnostics()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A TLS client with the CA-signed certificate that has run AUTH.
async fn tls_authenticated(port: u16, certs: &Certs) -> TlsConn {
    let mut conn = tls_client(port, certs, &certs.pair("client")).await;
    assert_eq!(conn.must_call(&["AUTH", PASSWORD]).await, "+OK\r\n");
    conn
}

/// What became of a TLS client the server may refuse.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// AUTH and PING answered.
    Served,
    /// The handshake failed or the connection was closed before any reply.
    Refused,
}

/// Completes a TLS handshake over an open TCP connection and runs AUTH + PING. A wait
/// without a verdict (neither served nor closed) fails the test.
async fn try_serve(tcp: TcpStream, connector: TlsConnector) -> Outcome {
    let name = ServerName::try_from("localhost").expect("a valid server name");
    let stream = match tokio::time::timeout(WAIT, connector.connect(name, tcp)).await {
        Err(_) => panic!("a TLS handshake neither completed nor failed within {WAIT:?}"),
        Ok(Err(_)) => return Outcome::Refused,
        Ok(Ok(s)) => s,
    };
    let mut conn = TlsConn {
        stream,
        buf: Vec::new(),
    };
    match conn.call(&["AUTH", PASSWORD]).await {
        Ok(reply) => {
            assert_eq!(reply, "+OK\r\n", "AUTH over TLS");
            assert_eq!(conn.must_call(&["PING"]).await, "+PONG\r\n");
            Outcome::Served
        }
        Err(e) if e.starts_with("timeout") => {
            panic!("a TLS client was neither served nor closed: {e}")
        }
        Err(_) => Outcome::Refused,
    }
}

#[tokio::test]
async fn tls_clients_count_against_maxclients_from_accept() {
    let certs = Certs::make();
    let (node, tls_port) = certs.node(&[("requirepass", PASSWORD), ("maxclients", "3")]);
    let connector = TlsConnector::from(Arc::new(tls_config(
        &certs.file("ca.crt"),
        Some(&certs.pair("client")),
    )));
    let mut first = tls_authenticated(tls_port, &certs).await;
    // The harness's readiness probe may still hold a place: wait until only `first` does.
    wait_connected_tls(&mut first, 1, &node).await;
    let mut second = tls_authenticated(tls_port, &certs).await;
    let third = tls_authenticated(tls_port, &certs).await;
    // A fourth is closed without being served.
    let tcp = connect_tcp(tls_port).await.expect("TCP to the TLS port");
    assert_eq!(
        try_serve(tcp, connector.clone()).await,
        Outcome::Refused,
        "a 4th TLS client with maxclients 3\n{}",
        node.diagnostics()
    );
    // Once one leaves, a new one gets in.
    drop(third);
    wait_connected_tls(&mut first, 2, &node).await;
    let tcp = connect_tcp(tls_port).await.expect("TCP to the TLS port");
    assert_eq!(try_serve(tcp, connector.clone()).await, Outcome::Served);
    wait_connected_tls(&mut first, 2, &node).await;

    // Many TLS clients at once, each connected before any starts its handshake: they are
    // counted when accepted, so one place is left for them, not one each.
    let mut tcps = Vec::new();
    for _ in 0..27 {
        tcps.push(connect_tcp(tls_port).await.expect("TCP to the TLS port"));
    }
    let outcomes = futures::future::join_all(
        tcps.into_iter()
            .map(|tcp| try_serve(tcp, connector.clone())),
    )
    .await;
    let served = outcomes.iter().filter(|o| **o == Outcome::Served).count();
    assert_eq!(
        served,
        1,
        "TLS clients served past maxclients 3 (two were connected): {outcomes:?}\n{}",
        node.diagnostics()
    );
    // The clients already in are unaffected.
    assert_eq!(first.must_call(&["PING"]).await, "+PONG\r\n");
    assert_eq!(second.must_call(&["PING"]).await, "+PONG\r\n");
}

#[tokio::test]
async fn connections_waiting_for_a_tls_handshake_hold_client_places() {
    let certs = Certs::make();
    // maxclients 4: the plaintext admin that watches INFO, and three places to fill.
    let (node, tls_port) = certs.node(&[("requirepass", PASSWORD), ("maxclients", "4")]);
    let mut admin = admin(&node).await;
    wait_connected(&mut admin, 1, &node).await;
    // Three TCP connections to the TLS port that never start a handshake.
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(connect_tcp(tls_port).await.expect("TCP to the TLS port"));
    }
    wait_connected(&mut admin, 4, &node).await;
    // They take the last places: a plaintext client is refused, as Redis refuses it.
    let mut plain = RawConn::connect(node.port()).await;
    let got = plain.read_until_closed(WAIT).await;
    assert_eq!(show(&got), "-ERR max number of clients reached\r\n");
    // And a TLS client is closed unserved.
    let connector = TlsConnector::from(Arc::new(tls_config(
        &certs.file("ca.crt"),
        Some(&certs.pair("client")),
    )));
    let tcp = connect_tcp(tls_port).await.expect("TCP to the TLS port");
    assert_eq!(try_serve(tcp, connector.clone()).await, Outcome::Refused);
    expect(&mut admin, &["PING"], simple("PONG")).await;
    // Once they close, their places are free again.
    drop(silent);
    wait_connected(&mut admin, 1, &node).await;
    let mut plain = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&plain.call(&[b"AUTH", PASSWORD.as_bytes()]).await),
        "+OK\r\n"
    );
    assert_eq!(show(&plain.call(&[b"PING"]).await), "+PONG\r\n");
    let tcp = connect_tcp(tls_port).await.expect("TCP to the TLS port");
    assert_eq!(try_serve(tcp, connector).await, Outcome::Served);
}
