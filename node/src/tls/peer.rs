//! Inter-node mutual TLS: both sides present a node certificate from the cluster CA
//! (`peer-tls-ca-cert-file`); each refuses a peer without one, and a client certificate of the
//! same CA is not a node certificate (see [`super::identity::CertNames::node`]);
//! `peer-allowed-cn` pins the names a peer may carry. TLS 1.2 minimum, 1.3 preferred, ALPN `h2` (gRPC).
//!
//! The configurations read the current [`ReloadableCerts`] at every handshake: a certificate or
//! CA rotation applies to new connections without a restart. Never builds a configuration that
//! accepts a peer without a verified certificate.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::{ClientConfig, ServerConfig};

use super::reload::{CertPaths, CertWatcher, ReloadOutcome, ReloadableCerts};
use super::verify::{
    CurrentCertResolver, CurrentClientVerifier, CurrentServerVerifier, NamePolicy,
};
use super::TlsError;

const ALPN_H2: &[u8] = b"h2";

/// The peer channel's TLS: one certificate set, a server and a client configuration.
#[derive(Clone, Debug)]
pub struct PeerTls {
    certs: Arc<ReloadableCerts>,
    allowed_names: Vec<String>,
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

impl PeerTls {
    /// Loads the node's certificate and key and the cluster CA bundle (errors name the file).
    /// With a non-empty `allowed_names`, a peer's leaf certificate must carry one of them as
    /// CN or DNS SAN, in both directions.
    pub fn new(
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
        ca: impl Into<PathBuf>,
        allowed_names: Vec<String>,
    ) -> Result<PeerTls, TlsError> {
        let certs = ReloadableCerts::new(
            "peer",
            CertPaths {
                cert: cert.into(),
                key: key.into(),
                ca: Some(ca.into()),
            },
        )?;
        PeerTls::with_certs(certs, allowed_names)
    }

    /// Builds the configurations around an already loaded set (which must have a CA file).
    pub fn with_certs(
        certs: Arc<ReloadableCerts>,
        allowed_names: Vec<String>,
    ) -> Result<PeerTls, TlsError> {
        if certs.paths().ca.is_none() {
            return Err(TlsError::Config(
                "the peer channel needs a CA file (peer-tls-ca-cert-file)".into(),
            ));
        }
        // Our own certificate must be a node certificate too: peers refuse anything else, and
        // its node name is the identity this node is a member under.
        if let Some(name) = own_node_identity(&certs) {
            certs.pin_node_identity(name);
        } else {
            return Err(TlsError::Config(format!(
                "'{}' is not a node certificate (it needs a '{}<name>' URI name and serverAuth + \
                 clientAuth; issue one with 'redoubt certs issue --name <name>')",
                certs.paths().cert.display(),
                super::identity::NODE_URI_PREFIX
            )));
        }
        let names = NamePolicy {
            allowed: allowed_names.clone(),
            require_node: true,
        };
        let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
        let mut server = ServerConfig::builder_with_provider(certs.provider().clone())
            .with_protocol_versions(&versions)
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_client_cert_verifier(Arc::new(CurrentClientVerifier {
                certs: certs.clone(),
                mandatory: true,
                names: names.clone(),
            }))
            .with_cert_resolver(Arc::new(CurrentCertResolver {
                certs: certs.clone(),
            }));
        server.alpn_protocols = vec![ALPN_H2.to_vec()];
        // No session resumption: a resumed session skips certificate verification, so a CA
        // dropped from the bundle or a name removed from peer-allowed-cn would keep admitting
        // peers that resumed. Peer channels are long-lived; full handshakes cost nothing here.
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        server.send_tls13_tickets = 0;
        let mut client = ClientConfig::builder_with_provider(certs.provider().clone())
            .with_protocol_versions(&versions)
            .map_err(|e| TlsError::Config(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(CurrentServerVerifier {
                certs: certs.clone(),
                names,
            }))
            .with_client_cert_resolver(Arc::new(CurrentCertResolver {
                certs: certs.clone(),
            }));
        client.alpn_protocols = vec![ALPN_H2.to_vec()];
        client.resumption = rustls::client::Resumption::disabled();
        Ok(PeerTls {
            certs,
            allowed_names,
            server: Arc::new(server),
            client: Arc::new(client),
        })
    }

    /// For the peer listener: requires a client certificate chained to the current CA.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.server.clone()
    }

    /// For dialling peers: presents our certificate, verifies the server's against the CA.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        self.client.clone()
    }

    /// The certificate set both configurations read.
    pub fn certs(&self) -> &Arc<ReloadableCerts> {
        &self.certs
    }

    /// The node identity of the certificate this node presents now.
    pub fn node_identity(&self) -> Option<String> {
        own_node_identity(&self.certs)
    }

    pub fn allowed_names(&self) -> &[String] {
        &self.allowed_names
    }

    /// Re-reads the certificate, key and CA now (SIGHUP, admin).
    pub fn reload(&self) -> Result<ReloadOutcome, TlsError> {
        self.certs.reload()
    }

    /// Reloads on file change until the guard is dropped.
    pub fn watch(&self) -> Result<CertWatcher, TlsError> {
        self.certs.watch()
    }
}

fn own_node_identity(certs: &ReloadableCerts) -> Option<String> {
    super::identity::node_identity(certs.certified_key().cert.first()?)
}
