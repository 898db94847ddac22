//! All TLS and identity decisions of a node: which certificate it presents, which CA it trusts,
//! whether a client or a peer must present a certificate, which names a peer may carry, and
//! which protocol versions and cipher suites are offered.
//!
//! - [`TlsConfig`] reads and validates the `tls-*` / `peer-*` directives once, at start, and
//!   refuses half-configured TLS with one line naming the directive.
//! - [`ReloadableCerts`] holds the current certificate, key and trust roots behind an
//!   `ArcSwap`; it re-reads its files on change (directory watch plus a periodic check) or on
//!   [`ReloadableCerts::reload`], and swaps only a complete, consistent set.
//! - [`PeerTls`] is the inter-node mutual TLS (client certificate required, CA checked, node
//!   certificates only — a `redoubt://node/<name>` URI SAN with serverAuth + clientAuth — and
//!   optional name pinning); [`ClientTls`] is the RESP TLS port (`tls-auth-clients yes|no|optional`).
//! - [`peer_common_name`] names the certificate on the other end of an accepted connection;
//!   [`identity::peer_node_identity`] the node identity a peer's certificate carries.
//!
//! Rustls resolvers and verifiers read the current certificates at every handshake, so a
//! rotation applies to new connections without restarting listeners or dropping connections.
//!
//! This module never logs or returns key material: errors name files and reasons only. It uses
//! the ring crypto provider only (never aws-lc-rs).

mod client;
mod config;
pub mod identity;
mod peer;
mod pem;
mod reload;
mod verify;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

pub use client::{AuthClients, CipherSuites, ClientTls, TlsProtocols};
pub use config::{AuthClientsUser, PeerTlsMode, TlsConfig};
pub(crate) use identity::format_unix_time;
pub use identity::{certificate_common_name, certificate_names, peer_common_name, CertNames};
pub use peer::PeerTls;
pub use pem::{load_ca_bundle, load_cert_chain, load_private_key};
pub use reload::{CertPaths, CertSummary, CertWatcher, ReloadOutcome, ReloadableCerts};

/// How long the watcher waits for a burst of file events to settle, and how often it re-checks
/// the files when no event arrives (some filesystems and mounts never deliver events).
pub const DEFAULT_RECHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// A TLS problem: a file that cannot be used, or a configuration rustls refuses.
/// The text names the file and the reason, never key bytes.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} '{path}': {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} '{path}' holds no PEM certificate")]
    NoCertificate { what: &'static str, path: PathBuf },
    #[error("{what} '{path}' is not valid PEM: {reason}")]
    BadPem {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{what} '{path}' holds a certificate that cannot be used: {reason}")]
    BadCertificate {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("key file '{path}' holds no private key (expected a PEM PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY section)")]
    NoPrivateKey { path: PathBuf },
    #[error("key file '{path}' holds a private key that cannot be used (unsupported or damaged)")]
    BadPrivateKey { path: PathBuf },
    #[error("key file '{key}' does not match certificate '{cert}'")]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("CA file '{path}' cannot be used as trust roots: {reason}")]
    BadTrustRoots { path: PathBuf, reason: String },
    #[error("TLS configuration refused: {0}")]
    Config(String),
    #[error("cannot watch '{path}' for certificate changes: {reason}")]
    Watch { path: PathBuf, reason: String },
}

/// The crypto provider of every Redoubt TLS configuration: ring, with all its suites.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes ring the process-wide default rustls provider (for libraries that build their own
/// configurations). Installing twice is harmless: a provider already installed is kept.
pub fn install_default_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Re-reads every given certificate set on SIGHUP (as `kill -HUP` makes Redis re-read its
/// TLS files), logging the outcome of each: the task to run (the signal handler is installed
/// at once). Needs a tokio runtime.
pub fn reload_on_sighup(
    targets: Vec<Arc<ReloadableCerts>>,
) -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    Ok(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP received, re-reading certificates");
            for certs in &targets {
                // reload() logs its own outcome.
                let _ = certs.reload();
            }
        }
    })
}
