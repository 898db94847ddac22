//! Looking at certificates: the `show` description of one certificate, and `probe`, which
//! handshakes with a TLS port and returns the certificate it serves.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConnection;
use rustls_pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use super::CertsError;
use crate::tls;

/// Connect, read and write timeout of a probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a probe listens, after its handshake, for the server refusing its certificate.
const REFUSAL_WAIT: Duration = Duration::from_millis(500);

/// The `show` lines of one certificate.
pub fn describe_certificate(der: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return vec!["unparseable certificate".to_string()];
    };
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, der.as_ref());
    vec![
        format!("subject: {}", cert.subject()),
        format!("issuer: {}", cert.issuer()),
        format!("serial: {}", crate::hex::encode(cert.raw_serial())),
        format!(
            "not-before: {}",
            tls::format_unix_time(cert.validity().not_before.timestamp())
        ),
        format!(
            "not-after: {}",
            tls::format_unix_time(cert.validity().not_after.timestamp())
        ),
        format!("san: {}", subject_alt_names(&cert).join(", ")),
        format!("ca: {}", if cert.is_ca() { "yes" } else { "no" }),
        format!(
            "node: {}",
            tls::identity::node_identity(der)
                .unwrap_or_else(|| "no (not a node certificate)".into())
        ),
        format!("sha256: {}", crate::hex::encode(fingerprint.as_ref())),
    ]
}

/// `DNS:name`, `IP:addr`, `email:addr` and `URI:uri` for each SAN (others are left out).
fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(d) => Some(format!("DNS:{d}")),
            GeneralName::IPAddress(bytes) => {
                let ip = match bytes.len() {
                    4 => <[u8; 4]>::try_from(*bytes)
                        .ok()
                        .map(|b| std::net::IpAddr::from(b).to_string()),
                    16 => <[u8; 16]>::try_from(*bytes)
                        .ok()
                        .map(|b| std::net::IpAddr::from(b).to_string()),
                    _ => None,
                };
                Some(format!("IP:{}", ip.unwrap_or_else(|| "?".into())))
            }
            GeneralName::RFC822Name(e) => Some(format!("email:{e}")),
            GeneralName::URI(u) => Some(format!("URI:{u}")),
            _ => None,
        })
        .collect()
}

/// Handshakes with `addr` (blocking, 5 s timeouts) and returns the leaf it served and the
/// negotiated protocol version.
pub fn probe(
    addr: &str,
    server_name: &str,
    ca: &Path,
    client_cert: Option<&(PathBuf, PathBuf)>,
) -> Result<(CertificateDer<'static>, String), CertsError> {
    let failed = |reason: String| CertsError::Probe {
        addr: addr.to_string(),
        reason,
    };
    let config = client_config(ca, client_cert, &failed)?;
    let name = rustls_pki_types::ServerName::try_from(server_name.to_string())
        .map_err(|e| failed(format!("bad server name '{server_name}': {e}")))?;
    let mut conn =
        ClientConnection::new(Arc::new(config), name).map_err(|e| failed(e.to_string()))?;
    let mut tcp = connect(addr).map_err(|e| failed(e.to_string()))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| failed(e.to_string()))?;
    }
    let served = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .cloned()
        .ok_or_else(|| failed("the server presented no certificate".into()))?;
    let protocol = conn
        .protocol_version()
        .map(|v| format!("{v:?}"))
        .unwrap_or_else(|| "?".into());
    await_refusal(&mut conn, &mut tcp).map_err(failed)?;
    conn.send_close_notify();
    let _ = conn.complete_io(&mut tcp);
    Ok((served, protocol))
}

/// Trusts the certificates of `ca`, presents `client_cert` if any, and asks for h2. Files
/// that cannot be loaded are reported as such; rustls' refusals through `failed`.
fn client_config(
    ca: &Path,
    client_cert: Option<&(PathBuf, PathBuf)>,
    failed: &dyn Fn(String) -> CertsError,
) -> Result<rustls::ClientConfig, CertsError> {
    let other = |e: rustls::Error| failed(e.to_string());
    let mut roots = rustls::RootCertStore::empty();
    for cert in tls::load_ca_bundle(ca)? {
        roots.add(cert).map_err(other)?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_root_certificates(roots);
    let mut config = match client_cert {
        Some((cert, key)) => builder
            .with_client_auth_cert(tls::load_cert_chain(cert)?, tls::load_private_key(key)?)
            .map_err(|e| failed(format!("client certificate: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    // The peer port speaks gRPC and insists on h2; the RESP port ignores ALPN.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// A TCP connection to `addr` with the probe's timeouts.
fn connect(addr: &str) -> std::io::Result<TcpStream> {
    let socket_addr = std::net::ToSocketAddrs::to_socket_addrs(addr)?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let tcp = TcpStream::connect_timeout(&socket_addr, PROBE_TIMEOUT)?;
    tcp.set_read_timeout(Some(PROBE_TIMEOUT))?;
    tcp.set_write_timeout(Some(PROBE_TIMEOUT))?;
    Ok(tcp)
}

/// With TLS 1.3 our side of the handshake ends before the server has checked our
/// certificate: a refusal arrives afterwards as an alert. Listens briefly for it; silence,
/// the server's first application data or a plain close mean accepted.
fn await_refusal(conn: &mut ClientConnection, tcp: &mut TcpStream) -> Result<(), String> {
    while conn.wants_write() {
        conn.write_tls(tcp).map_err(|e| e.to_string())?;
    }
    tcp.set_read_timeout(Some(REFUSAL_WAIT))
        .map_err(|e| e.to_string())?;
    let until = Instant::now() + REFUSAL_WAIT;
    while Instant::now() < until {
        match conn.read_tls(tcp) {
            // Closed without an alert: the handshake was accepted (a refusal sends one).
            Ok(0) => break,
            Ok(_) => {
                conn.process_new_packets()
                    .map_err(|e| format!("the server refused the connection: {e}"))?;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::run_to;
    use super::super::test_util::{args, cert_der, run_ok};
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn probe_reports_the_certificate_a_peer_port_serves() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path").to_string();
        run_ok(&["init", "--out", &d, "--nodes", "node1"]);
        let path = |f: &str| dir.path().join(f);
        let peer = tls::PeerTls::new(path("node1.crt"), path("node1.key"), path("ca.crt"), vec![])
            .expect("peer tls");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let acceptor = tokio_rustls::TlsAcceptor::from(peer.server_config());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = acceptor.accept(tcp).await;
            }
        });
        let probe = |who: &'static str| {
            let (addr, d) = (addr.clone(), d.clone());
            tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                let list = [
                    "probe",
                    addr.as_str(),
                    "--ca",
                    &format!("{d}/ca.crt"),
                    "--cert",
                    &format!("{d}/{who}.crt"),
                    "--key",
                    &format!("{d}/{who}.key"),
                    "--server-name",
                    "node1",
                ];
                run_to(&args(&list), &mut out).map(|()| String::from_utf8_lossy(&out).into_owned())
            })
        };
        // The peer port admits node certificates only: the client certificate is refused.
        let refused = probe("client").await.expect("join");
        assert!(
            refused.is_err(),
            "the client certificate was admitted: {refused:?}"
        );
        let report = probe("node1").await.expect("join").expect("probe");
        let served = describe_certificate(&cert_der(&path("node1.crt")));
        assert!(
            report.contains(&served[2]),
            "serial of node1.crt in {report}"
        );
        assert!(report.contains("protocol: TLSv1_3"), "{report}");
    }

    #[test]
    fn host_of_strips_the_port_and_brackets() {
        assert_eq!(crate::net::host_of("node1:16379"), "node1");
        assert_eq!(crate::net::host_of("[::1]:6379"), "::1");
        assert_eq!(crate::net::host_of("127.0.0.1"), "127.0.0.1");
    }
}
