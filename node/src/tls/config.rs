//! The TLS directives of DESIGN.md §4, read once and validated together: a half-configured
//! TLS setup (a certificate without its key, client authentication without a CA, peer
//! certificates on a node with TLS turned off...) is refused at start with one line naming the
//! directive. Files are only opened by [`TlsConfig::load_client_tls`] /
//! [`TlsConfig::load_peer_tls`]; nothing here is ever logged with a value that could be secret
//! (these directives hold paths and names only).

use std::path::PathBuf;

use super::client::{AuthClients, CipherSuites, ClientTls, TlsProtocols};
use super::peer::PeerTls;
use super::TlsError;

/// `tls-auth-clients-user`: how a verified client certificate authenticates the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthClientsUser {
    /// The certificate authenticates nothing; clients still AUTH (the default).
    Off,
    /// The certificate's subject CN is the ACL user of the connection.
    CommonName,
}

/// What the peer channel uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerTlsMode {
    /// Mutual TLS with the `peer-tls-*` files.
    Mutual,
    /// `peer-tls no`: plaintext, for tests of the channel only.
    Disabled,
    /// `peer-tls yes` (the default) on a standalone node (no `peers`, no `join`) without peer
    /// certificates: the node has no peer to talk to and must not accept peers.
    Unconfigured,
}

/// The validated TLS directives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// `tls-port`; 0 disables the RESP TLS port.
    pub tls_port: u16,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    pub tls_ca_cert_file: Option<PathBuf>,
    /// `tls-auth-clients` (default yes, as Redis).
    pub tls_auth_clients: AuthClients,
    pub tls_auth_clients_user: AuthClientsUser,
    /// `tls-protocols` (default `TLSv1.2 TLSv1.3`).
    pub tls_protocols: TlsProtocols,
    /// `tls-ciphersuites` (default: ring's suites).
    pub tls_ciphersuites: Option<CipherSuites>,
    /// `peer-tls` (default yes).
    pub peer_tls: bool,
    pub peer_tls_cert_file: Option<PathBuf>,
    pub peer_tls_key_file: Option<PathBuf>,
    pub peer_tls_ca_cert_file: Option<PathBuf>,
    /// `peer-allowed-cn`: names (CN or DNS SAN) a peer certificate must carry; empty: any.
    pub peer_allowed_cn: Vec<String>,
    /// Whether the node talks to other nodes (`peers` or `join` is set).
    pub clustered: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            tls_port: 0,
            tls_cert_file: None,
            tls_key_file: None,
            tls_ca_cert_file: None,
            tls_auth_clients: AuthClients::Yes,
            tls_auth_clients_user: AuthClientsUser::Off,
            tls_protocols: TlsProtocols::default(),
            tls_ciphersuites: None,
            peer_tls: true,
            peer_tls_cert_file: None,
            peer_tls_key_file: None,
            peer_tls_ca_cert_file: None,
            peer_allowed_cn: Vec::new(),
            clustered: false,
        }
    }
}

/// Directives of the RESP TLS port that mean nothing without `tls-port`.
const CLIENT_TLS_DIRECTIVES: &[&str] = &[
    "tls-cert-file",
    "tls-key-file",
    "tls-ca-cert-file",
    "tls-auth-clients",
    "tls-auth-clients-user",
    "tls-protocols",
    "tls-ciphersuites",
];

fn invalid(directive: &str, value: &str, expected: &str) -> String {
    format!("invalid value for '{directive}': '{value}' ({expected})")
}

impl TlsConfig {
    /// Reads the directives through `get` (the final text of a directive, None when unset; an
    /// empty value counts as unset, as in Redis) and validates them together.
    pub fn from_directives(get: impl Fn(&str) -> Option<String>) -> Result<TlsConfig, String> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let path = |name: &str| get(name).map(PathBuf::from);
        let tls_port = tls_port_of(&get)?;
        let tls_auth_clients = match get("tls-auth-clients") {
            Some(v) => AuthClients::parse(&v)
                .ok_or_else(|| invalid("tls-auth-clients", &v, "expected yes, no or optional"))?,
            None => AuthClients::Yes,
        };
        let tls_auth_clients_user = match get("tls-auth-clients-user") {
            None => AuthClientsUser::Off,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "off" | "no" => AuthClientsUser::Off,
                "cn" => AuthClientsUser::CommonName,
                _ => return Err(invalid("tls-auth-clients-user", &v, "expected off or CN")),
            },
        };
        let tls_protocols = match get("tls-protocols") {
            Some(v) => TlsProtocols::parse(&v).map_err(|e| invalid("tls-protocols", &v, &e))?,
            None => TlsProtocols::default(),
        };
        let tls_ciphersuites = match get("tls-ciphersuites") {
            Some(v) => {
                Some(CipherSuites::parse(&v).map_err(|e| invalid("tls-ciphersuites", &v, &e))?)
            }
            None => None,
        };
        let peer_tls = match get("peer-tls") {
            None => true,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "yes" | "true" | "1" | "on" => true,
                "no" | "false" | "0" | "off" => false,
                _ => return Err(invalid("peer-tls", &v, "expected yes or no")),
            },
        };
        let peer_allowed_cn = get("peer-allowed-cn")
            .map(|v| {
                v.split([' ', ','])
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let config = TlsConfig {
            tls_port,
            tls_cert_file: path("tls-cert-file"),
            tls_key_file: path("tls-key-file"),
            tls_ca_cert_file: path("tls-ca-cert-file"),
            tls_auth_clients,
            tls_auth_clients_user,
            tls_protocols,
            tls_ciphersuites,
            peer_tls,
            peer_tls_cert_file: path("peer-tls-cert-file"),
            peer_tls_key_file: path("peer-tls-key-file"),
            peer_tls_ca_cert_file: path("peer-tls-ca-cert-file"),
            peer_allowed_cn,
            clustered: get("peers").is_some() || get("join").is_some(),
        };
        config.validate()?;
        Ok(config)
    }

    /// Refuses a half-configured TLS setup, naming the directive.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_client_tls()?;
        self.validate_peer_tls()
    }

    fn validate_client_tls(&self) -> Result<(), String> {
        let files = [
            ("tls-cert-file", self.tls_cert_file.is_some()),
            ("tls-key-file", self.tls_key_file.is_some()),
            ("tls-ca-cert-file", self.tls_ca_cert_file.is_some()),
        ];
        if self.tls_port == 0 {
            if let Some((name, _)) = files.iter().find(|(_, set)| *set) {
                return Err(format!("'{name}' is set but 'tls-port' is not"));
            }
            return Ok(());
        }
        match (self.tls_cert_file.is_some(), self.tls_key_file.is_some()) {
            (true, true) => {}
            (true, false) => return Err("'tls-cert-file' is set but 'tls-key-file' is not".into()),
            (false, true) => return Err("'tls-key-file' is set but 'tls-cert-file' is not".into()),
            (false, false) => {
                return Err(
                    "'tls-port' is set but 'tls-cert-file' and 'tls-key-file' are not".into(),
                )
            }
        }
        if self.tls_auth_clients != AuthClients::No && self.tls_ca_cert_file.is_none() {
            return Err(format!(
                "'tls-auth-clients' is {} but 'tls-ca-cert-file' is not set (set it, or tls-auth-clients no)",
                self.tls_auth_clients.name()
            ));
        }
        if self.tls_auth_clients_user != AuthClientsUser::Off
            && self.tls_auth_clients == AuthClients::No
        {
            return Err(
                "'tls-auth-clients-user' needs client certificates ('tls-auth-clients' yes or optional)"
                    .into(),
            );
        }
        if let Some(suites) = &self.tls_ciphersuites {
            let usable = (suites.names_tls13() && self.tls_protocols.tls13)
                || (suites.names_tls12() && self.tls_protocols.tls12);
            if !usable {
                return Err(format!(
                    "'tls-ciphersuites' names no suite of the versions in 'tls-protocols' ({})",
                    suites.names().join(":")
                ));
            }
        }
        Ok(())
    }

    fn validate_peer_tls(&self) -> Result<(), String> {
        let files = [
            ("peer-tls-cert-file", self.peer_tls_cert_file.is_some()),
            ("peer-tls-key-file", self.peer_tls_key_file.is_some()),
            (
                "peer-tls-ca-cert-file",
                self.peer_tls_ca_cert_file.is_some(),
            ),
        ];
        let any_set = files.iter().any(|(_, set)| *set);
        if !self.peer_tls {
            if let Some((name, _)) = files.iter().find(|(_, set)| *set) {
                return Err(format!("'{name}' is set but 'peer-tls' is no"));
            }
            if !self.peer_allowed_cn.is_empty() {
                return Err("'peer-allowed-cn' is set but 'peer-tls' is no".into());
            }
            return Ok(());
        }
        if any_set {
            if let Some((missing, _)) = files.iter().find(|(_, set)| !*set) {
                let (present, _) = files.iter().find(|(_, set)| *set).unwrap_or(&files[0]);
                return Err(format!("'{present}' is set but '{missing}' is not"));
            }
            return Ok(());
        }
        if self.clustered {
            return Err(
                "the node has peers ('peers' or 'join') but 'peer-tls-cert-file', \
                 'peer-tls-key-file' and 'peer-tls-ca-cert-file' are not set"
                    .into(),
            );
        }
        if !self.peer_allowed_cn.is_empty() {
            return Err("'peer-allowed-cn' is set but 'peer-tls-cert-file' is not".into());
        }
        Ok(())
    }

    /// What the peer channel uses.
    pub fn peer_mode(&self) -> PeerTlsMode {
        if !self.peer_tls {
            PeerTlsMode::Disabled
        } else if self.peer_tls_cert_file.is_some() {
            PeerTlsMode::Mutual
        } else {
            PeerTlsMode::Unconfigured
        }
    }

    /// Loads the RESP TLS port's certificates (None when `tls-port` is 0).
    pub fn load_client_tls(&self) -> Result<Option<ClientTls>, TlsError> {
        if self.tls_port == 0 {
            return Ok(None);
        }
        let (Some(cert), Some(key)) = (&self.tls_cert_file, &self.tls_key_file) else {
            return Err(TlsError::Config(
                "'tls-port' is set but 'tls-cert-file' and 'tls-key-file' are not".into(),
            ));
        };
        ClientTls::new(
            cert.clone(),
            key.clone(),
            self.tls_ca_cert_file.clone(),
            self.tls_auth_clients,
            self.tls_protocols,
            self.tls_ciphersuites.as_ref(),
        )
        .map(Some)
    }

    /// Loads the peer channel's certificates (None unless the mode is [`PeerTlsMode::Mutual`]).
    pub fn load_peer_tls(&self) -> Result<Option<PeerTls>, TlsError> {
        if self.peer_mode() != PeerTlsMode::Mutual {
            return Ok(None);
        }
        let (Some(cert), Some(key), Some(ca)) = (
            &self.peer_tls_cert_file,
            &self.peer_tls_key_file,
            &self.peer_tls_ca_cert_file,
        ) else {
            return Err(TlsError::Config(
                "peer TLS needs peer-tls-cert-file, peer-tls-key-file and peer-tls-ca-cert-file"
                    .into(),
            ));
        };
        PeerTls::new(
            cert.clone(),
            key.clone(),
            ca.clone(),
            self.peer_allowed_cn.clone(),
        )
        .map(Some)
    }
}

/// `tls-port` (0: off), refused when client TLS files are set without it or when it is
/// `port` itself.
fn tls_port_of(get: &dyn Fn(&str) -> Option<String>) -> Result<u16, String> {
    let tls_port = match get("tls-port") {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| invalid("tls-port", &p, "expected a port number 0..65535"))?,
        None => 0,
    };
    if tls_port == 0 {
        if let Some(name) = CLIENT_TLS_DIRECTIVES.iter().find(|n| get(n).is_some()) {
            return Err(format!(
                "'{name}' is set but 'tls-port' is not (set tls-port to serve RESP over TLS, or remove {name})"
            ));
        }
    }
    if let (Some(port), true) = (get("port"), tls_port != 0) {
        if port.parse::<u16>().ok() == Some(tls_port) {
            return Err(invalid(
                "tls-port",
                &tls_port.to_string(),
                "must differ from 'port'",
            ));
        }
    }
    Ok(tls_port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<TlsConfig, String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TlsConfig::from_directives(|name| map.get(name).cloned())
    }

    #[test]
    fn no_tls_directives_is_a_plain_standalone_node() {
        let c = parse(&[]).expect("defaults");
        assert_eq!(c.tls_port, 0);
        assert_eq!(c.peer_mode(), PeerTlsMode::Unconfigured);
        assert_eq!(c.tls_auth_clients, AuthClients::Yes);
    }

    #[test]
    fn full_client_and_peer_setup_is_accepted() {
        let c = parse(&[
            ("tls-port", "6390"),
            ("tls-cert-file", "n.crt"),
            ("tls-key-file", "n.key"),
            ("tls-ca-cert-file", "ca.crt"),
            ("tls-auth-clients", "optional"),
            ("tls-auth-clients-user", "CN"),
            ("tls-protocols", "TLSv1.3"),
            (
                "tls-ciphersuites",
                "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
            ),
            ("peer-tls-cert-file", "n.crt"),
            ("peer-tls-key-file", "n.key"),
            ("peer-tls-ca-cert-file", "ca.crt"),
            ("peer-allowed-cn", "node1, node2 node3"),
            ("peers", "1=a:1 2=b:2"),
        ])
        .expect("valid");
        assert_eq!(c.tls_auth_clients, AuthClients::Optional);
        assert_eq!(c.tls_auth_clients_user, AuthClientsUser::CommonName);
        assert!(!c.tls_protocols.tls12 && c.tls_protocols.tls13);
        assert_eq!(c.peer_allowed_cn, vec!["node1", "node2", "node3"]);
        assert_eq!(c.peer_mode(), PeerTlsMode::Mutual);
    }

    #[test]
    fn half_configured_tls_is_refused_naming_the_directive() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("tls-port", "6390"), ("tls-cert-file", "a")],
                "'tls-key-file'",
            ),
            (
                &[("tls-port", "6390"), ("tls-key-file", "a")],
                "'tls-cert-file'",
            ),
            (&[("tls-port", "6390")], "'tls-cert-file'"),
            (
                &[
                    ("tls-port", "6390"),
                    ("tls-cert-file", "a"),
                    ("tls-key-file", "b"),
                ],
                "'tls-ca-cert-file' is not set",
            ),
            (
                &[("tls-cert-file", "a"), ("tls-key-file", "b")],
                "'tls-port' is not",
            ),
            (
                &[
                    ("tls-port", "6390"),
                    ("tls-cert-file", "a"),
                    ("tls-key-file", "b"),
                    ("tls-auth-clients", "no"),
                    ("tls-auth-clients-user", "CN"),
                ],
                "'tls-auth-clients-user'",
            ),
            (&[("peer-tls-cert-file", "a")], "'peer-tls-key-file' is not"),
            (
                &[("peer-tls-cert-file", "a"), ("peer-tls-key-file", "b")],
                "'peer-tls-ca-cert-file' is not",
            ),
            (&[("peers", "1=a:1")], "'peer-tls-cert-file'"),
            (&[("join", "a:1")], "'peer-tls-cert-file'"),
            (
                &[("peer-tls", "no"), ("peer-tls-cert-file", "a")],
                "'peer-tls' is no",
            ),
            (&[("peer-allowed-cn", "node1")], "'peer-allowed-cn'"),
            (
                &[("tls-auth-clients", "maybe"), ("tls-port", "1")],
                "'tls-auth-clients'",
            ),
            (&[("tls-port", "6379"), ("port", "6379")], "'tls-port'"),
        ];
        for (pairs, expected) in cases {
            let e = parse(pairs).expect_err(&format!("{pairs:?} must be refused"));
            assert!(e.contains(expected), "{pairs:?}: '{e}' lacks {expected}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
    }

    #[test]
    fn peer_tls_no_allows_a_cluster_without_certificates() {
        let c = parse(&[("peer-tls", "no"), ("peers", "1=a:1")]).expect("valid");
        assert_eq!(c.peer_mode(), PeerTlsMode::Disabled);
    }

    #[test]
    fn protocols_and_ciphersuites_are_checked() {
        let base = [
            ("tls-port", "6390"),
            ("tls-cert-file", "a"),
            ("tls-key-file", "b"),
            ("tls-auth-clients", "no"),
        ];
        let with = |extra: (&str, &str)| {
            let mut v = base.to_vec();
            v.push(extra);
            parse(&v)
        };
        assert!(with(("tls-protocols", "TLSv1.1"))
            .expect_err("1.1")
            .contains("not supported"));
        assert!(with(("tls-protocols", "SSLv3"))
            .expect_err("ssl")
            .contains("'tls-protocols'"));
        assert!(with(("tls-ciphersuites", "TLS_NOPE"))
            .expect_err("unknown")
            .contains("unknown cipher suite 'TLS_NOPE'"));
        let mut v = base.to_vec();
        v.push(("tls-protocols", "TLSv1.2"));
        v.push(("tls-ciphersuites", "TLS_AES_128_GCM_SHA256"));
        assert!(parse(&v)
            .expect_err("mismatch")
            .contains("'tls-ciphersuites'"));
        let c = with(("tls-ciphersuites", "tls_aes_128_gcm_sha256")).expect("case-insensitive");
        assert_eq!(
            c.tls_ciphersuites.map(|s| s.names()),
            Some(vec!["TLS_AES_128_GCM_SHA256".to_string()])
        );
    }
}
