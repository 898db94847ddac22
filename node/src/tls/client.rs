//! TLS of the RESP port (`tls-port`): the server configuration clients such as `redis-cli --tls`
//! meet, with Redis's knobs: `tls-auth-clients yes|no|optional`, `tls-protocols`,
//! `tls-ciphersuites`. Certificates reload like the peer channel's. Never offers a protocol
//! version or cipher suite that was not asked for, and never requires a client certificate
//! without a CA to check it against.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{CipherSuite, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};

use super::reload::{CertPaths, CertWatcher, ReloadOutcome, ReloadableCerts};
use super::verify::{CurrentCertResolver, CurrentClientVerifier, NamePolicy};
use super::TlsError;

/// `tls-auth-clients`: whether a client must present a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthClients {
    /// A certificate chained to `tls-ca-cert-file` is required (Redis's default).
    Yes,
    /// No certificate is requested.
    No,
    /// A certificate is requested; one that is presented must verify.
    Optional,
}

impl AuthClients {
    pub fn parse(s: &str) -> Option<AuthClients> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "yes" => AuthClients::Yes,
            "no" => AuthClients::No,
            "optional" => AuthClients::Optional,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            AuthClients::Yes => "yes",
            AuthClients::No => "no",
            AuthClients::Optional => "optional",
        }
    }
}

/// `tls-protocols`: which TLS versions are offered (rustls has no TLS 1.0/1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsProtocols {
    pub tls12: bool,
    pub tls13: bool,
}

impl Default for TlsProtocols {
    fn default() -> Self {
        TlsProtocols {
            tls12: true,
            tls13: true,
        }
    }
}

impl TlsProtocols {
    /// Parses Redis's syntax: `"TLSv1.2 TLSv1.3"` (case-insensitive, space or comma separated).
    pub fn parse(s: &str) -> Result<TlsProtocols, String> {
        let mut protocols = TlsProtocols {
            tls12: false,
            tls13: false,
        };
        for name in s.split([' ', ',']).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "tlsv1.2" => protocols.tls12 = true,
                "tlsv1.3" => protocols.tls13 = true,
                "tlsv1" | "tlsv1.1" => {
                    return Err(format!(
                        "{name} is not supported (only TLSv1.2 and TLSv1.3 are)"
                    ))
                }
                _ => {
                    return Err(format!(
                        "unknown protocol '{name}' (expected TLSv1.2 and/or TLSv1.3)"
                    ))
                }
            }
        }
        if !protocols.tls12 && !protocols.tls13 {
            return Err("expected TLSv1.2 and/or TLSv1.3".into());
        }
        Ok(protocols)
    }

    /// The rustls versions, TLS 1.3 first (preferred).
    pub fn versions(&self) -> Vec<&'static SupportedProtocolVersion> {
        let mut v = Vec::new();
        if self.tls13 {
            v.push(&rustls::version::TLS13);
        }
        if self.tls12 {
            v.push(&rustls::version::TLS12);
        }
        v
    }
}

/// `tls-ciphersuites`: IANA suite names (`TLS_AES_256_GCM_SHA384`, ...) separated by `:`, `,`
/// or spaces. TLS 1.3 names restrict the TLS 1.3 suites; TLS 1.2 names (e.g.
/// `TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384`) restrict the TLS 1.2 suites. A version whose
/// suites are not named keeps ring's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CipherSuites {
    suites: Vec<CipherSuite>,
}

impl CipherSuites {
    pub fn parse(s: &str) -> Result<CipherSuites, String> {
        let mut suites = Vec::new();
        for name in s.split([':', ',', ' ']).filter(|n| !n.is_empty()) {
            let found = rustls::crypto::ring::ALL_CIPHER_SUITES
                .iter()
                .find(|suite| suite_name(suite).eq_ignore_ascii_case(name));
            match found {
                Some(suite) if !suites.contains(&suite.suite()) => suites.push(suite.suite()),
                Some(_) => {}
                None => {
                    let known: Vec<String> = rustls::crypto::ring::ALL_CIPHER_SUITES
                        .iter()
                        .map(suite_name)
                        .collect();
                    return Err(format!(
                        "unknown cipher suite '{name}' (known: {})",
                        known.join(" ")
                    ));
                }
            }
        }
        if suites.is_empty() {
            return Err("expected at least one cipher suite name".into());
        }
        Ok(CipherSuites { suites })
    }

    /// True when a TLS 1.3 suite is named.
    pub fn names_tls13(&self) -> bool {
        rustls::crypto::ring::ALL_CIPHER_SUITES
            .iter()
            .any(|s| s.tls13().is_some() && self.suites.contains(&s.suite()))
    }

    /// True when a TLS 1.2 suite is named.
    pub fn names_tls12(&self) -> bool {
        rustls::crypto::ring::ALL_CIPHER_SUITES
            .iter()
            .any(|s| s.tls13().is_none() && self.suites.contains(&s.suite()))
    }

    /// The IANA names of the chosen suites.
    pub fn names(&self) -> Vec<String> {
        rustls::crypto::ring::ALL_CIPHER_SUITES
            .iter()
            .filter(|s| self.suites.contains(&s.suite()))
            .map(suite_name)
            .collect()
    }

    /// The ring provider with the chosen suites.
    fn provider(&self) -> CryptoProvider {
        let all = rustls::crypto::ring::ALL_CIPHER_SUITES;
        let is13 = |s: &SupportedCipherSuite| s.tls13().is_some();
        let named13 = all
            .iter()
            .any(|s| is13(s) && self.suites.contains(&s.suite()));
        let named12 = all
            .iter()
            .any(|s| !is13(s) && self.suites.contains(&s.suite()));
        let cipher_suites = all
            .iter()
            .filter(|s| {
                let named = if is13(s) { named13 } else { named12 };
                !named || self.suites.contains(&s.suite())
            })
            .copied()
            .collect();
        CryptoProvider {
            cipher_suites,
            ..rustls::crypto::ring::default_provider()
        }
    }
}

/// The IANA name of a suite (rustls spells TLS 1.3 suites `TLS13_...`).
fn suite_name(suite: &SupportedCipherSuite) -> String {
    let debug = format!("{:?}", suite.suite());
    match debug.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => debug,
    }
}

/// The RESP TLS port's configuration.
#[derive(Clone, Debug)]
pub struct ClientTls {
    certs: Arc<ReloadableCerts>,
    auth_clients: AuthClients,
    server: Arc<ServerConfig>,
}

impl ClientTls {
    /// Loads the certificate, key and (when given) the CA used to verify client certificates.
    /// `AuthClients::Yes` / `Optional` need a CA.
    pub fn new(
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
        ca: Option<PathBuf>,
        auth_clients: AuthClients,
        protocols: TlsProtocols,
        ciphersuites: Option<&CipherSuites>,
    ) -> Result<ClientTls, TlsError> {
        if auth_clients != AuthClients::No && ca.is_none() {
            return Err(TlsError::Config(format!(
                "tls-auth-clients {} needs tls-ca-cert-file",
                auth_clients.name()
            )));
        }
        let certs = ReloadableCerts::new(
            "client",
            CertPaths {
                cert: cert.into(),
                key: key.into(),
                ca,
            },
        )?;
        let provider = match ciphersuites {
            Some(suites) => Arc::new(suites.provider()),
            None => certs.provider().clone(),
        };
        let verifier: Arc<dyn rustls::server::danger::ClientCertVerifier> = match auth_clients {
            AuthClients::No => WebPkiClientVerifier::no_client_auth(),
            AuthClients::Yes | AuthClients::Optional => Arc::new(CurrentClientVerifier {
                certs: certs.clone(),
                mandatory: auth_clients == AuthClients::Yes,
                names: NamePolicy::default(),
            }),
        };
        let mut server = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&protocols.versions())
            .map_err(|e| {
                TlsError::Config(format!(
                    "tls-protocols and tls-ciphersuites do not fit together: {e}"
                ))
            })?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(Arc::new(CurrentCertResolver {
                certs: certs.clone(),
            }));
        // No session resumption: a resumed session skips certificate verification, so a CA
        // dropped from tls-ca-cert-file would keep admitting clients that resumed.
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        server.send_tls13_tickets = 0;
        Ok(ClientTls {
            certs,
            auth_clients,
            server: Arc::new(server),
        })
    }

    /// For the RESP TLS listener.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.server.clone()
    }

    pub fn auth_clients(&self) -> AuthClients {
        self.auth_clients
    }

    pub fn certs(&self) -> &Arc<ReloadableCerts> {
        &self.certs
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
