//! Who a certificate names: its subject common name(s), DNS and IP subject alternative names,
//! and the node identity of a node certificate. Used to tell node certificates from client
//! certificates on the peer port, to pin peers (`peer-allowed-cn`), to bind a Raft member to
//! its certificate, and to map a client certificate to an ACL user (`tls-auth-clients-user`).
//! Read-only: nothing here decides trust; chains are checked by the verifiers before these
//! names mean anything.

use std::net::IpAddr;

use rustls_pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;

/// The URI SAN prefix that marks a node certificate: `redoubt://node/<name>`.
pub const NODE_URI_PREFIX: &str = "redoubt://node/";

/// The SAN URI that marks `name`'s node certificate.
pub fn node_uri(name: &str) -> String {
    format!("{NODE_URI_PREFIX}{name}")
}

/// The names a certificate carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertNames {
    pub common_names: Vec<String>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    /// The node identity: the name of a `redoubt://node/<name>` URI SAN, present only when the
    /// certificate also allows both serverAuth and clientAuth (a node serves and dials peers).
    /// Client certificates never carry it, so they cannot be used on the peer port.
    pub node: Option<String>,
}

impl CertNames {
    /// True when the node name, a CN or a DNS SAN equals one of `allowed` (ASCII
    /// case-insensitive, as DNS).
    pub fn matches_any(&self, allowed: &[String]) -> bool {
        self.node
            .iter()
            .chain(&self.common_names)
            .chain(&self.dns_names)
            .any(|name| allowed.iter().any(|a| a.eq_ignore_ascii_case(name)))
    }

    /// `CN=a, DNS=b, DNS=c` for log lines and errors.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .node
            .iter()
            .map(|n| format!("node={n}"))
            .chain(self.common_names.iter().map(|n| format!("CN={n}")))
            .chain(self.dns_names.iter().map(|n| format!("DNS={n}")))
            .chain(self.ip_addresses.iter().map(|ip| format!("IP={ip}")))
            .collect();
        if parts.is_empty() {
            "no names".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// The names of a DER certificate; None when it does not parse.
pub fn certificate_names(der: &CertificateDer<'_>) -> Option<CertNames> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let common_names = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_string))
        .collect();
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    let mut node_names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => dns_names.push(dns.to_string()),
                GeneralName::URI(uri) => {
                    if let Some(node) = uri.strip_prefix(NODE_URI_PREFIX) {
                        node_names.push(node.to_string());
                    }
                }
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        ip_addresses.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    let node_usage = matches!(
        cert.extended_key_usage(),
        Ok(Some(eku)) if eku.value.server_auth && eku.value.client_auth
    );
    // Exactly one well-formed node name: a certificate naming two nodes names none.
    let node = match node_names.as_slice() {
        [one] if node_usage && valid_node_name(one) => Some(one.clone()),
        _ => None,
    };
    Some(CertNames {
        common_names,
        dns_names,
        ip_addresses,
        node,
    })
}

/// A node name: 1 to 64 characters of `[A-Za-z0-9._-]` (what `redoubt certs` accepts).
pub fn valid_node_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The node identity of a DER certificate (see [`CertNames::node`]).
pub fn node_identity(der: &CertificateDer<'_>) -> Option<String> {
    certificate_names(der)?.node
}

/// The node identity of the leaf certificate a peer presented on an accepted TLS connection.
pub fn peer_node_identity<IO>(conn: &tokio_rustls::server::TlsStream<IO>) -> Option<String> {
    let (_, session) = conn.get_ref();
    node_identity(session.peer_certificates()?.first()?)
}

/// The first subject CN of a DER certificate.
pub fn certificate_common_name(der: &CertificateDer<'_>) -> Option<String> {
    certificate_names(der)?.common_names.into_iter().next()
}

/// The CN of the leaf certificate the client presented on an accepted TLS connection (None when
/// it presented none). The chain was verified during the handshake.
pub fn peer_common_name<IO>(conn: &tokio_rustls::server::TlsStream<IO>) -> Option<String> {
    let (_, session) = conn.get_ref();
    let leaf = session.peer_certificates()?.first()?;
    certificate_common_name(leaf)
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) for a Unix time, as certificate dates are shown in logs and by
/// `redoubt certs show`.
pub(crate) fn format_unix_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (hour, minute, second) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Days to civil date (H. Hinnant, "chrono-compatible low-level date algorithms").
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}
