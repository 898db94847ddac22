//! Certificate authorities and leaves, on rcgen: a new CA, a CA loaded from its files, and
//! the leaves it signs (each checked to chain before it is returned).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData,
    SerialNumber,
};
use rustls_pki_types::CertificateDer;
use x509_parser::extensions::ParsedExtension;

use super::CertsError;
use crate::config::Secret;
use crate::tls;

/// Certificates start this long before they are made, for clocks that lag.
const BACKDATE: Duration = Duration::from_secs(3600);

/// What a leaf certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafUsage {
    /// A node: serverAuth + clientAuth (its RESP TLS port and the peer channel, both ways).
    Node,
    /// A client: clientAuth only.
    Client,
}

/// The certificate to issue.
#[derive(Clone, Debug)]
pub struct LeafSpec {
    pub common_name: String,
    /// DNS names and IP addresses (an entry that parses as an IP becomes an IP SAN).
    pub sans: Vec<String>,
    pub usage: LeafUsage,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

impl LeafSpec {
    /// A node certificate: CN=name, SANs name, localhost, 127.0.0.1, ::1 and `extra_sans`.
    pub fn node(name: &str, extra_sans: &[String], days: u32) -> LeafSpec {
        let mut sans: Vec<String> = [name, "localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for san in extra_sans {
            if !sans.iter().any(|s| s.eq_ignore_ascii_case(san)) {
                sans.push(san.clone());
            }
        }
        let (not_before, not_after) = validity(days);
        LeafSpec {
            common_name: name.to_string(),
            sans,
            usage: LeafUsage::Node,
            not_before,
            not_after,
        }
    }

    /// A client certificate: CN=name, clientAuth, `sans` only.
    pub fn client(name: &str, sans: &[String], days: u32) -> LeafSpec {
        let (not_before, not_after) = validity(days);
        LeafSpec {
            common_name: name.to_string(),
            sans: sans.to_vec(),
            usage: LeafUsage::Client,
            not_before,
            not_after,
        }
    }
}

/// From an hour ago to `days` days from now.
fn validity(days: u32) -> (SystemTime, SystemTime) {
    let now = SystemTime::now();
    (
        now.checked_sub(BACKDATE).unwrap_or(now),
        now + Duration::from_secs(u64::from(days) * 86_400),
    )
}

/// A PEM certificate and its PEM key (the key never prints).
#[derive(Debug)]
pub struct IssuedCert {
    pub cert_pem: String,
    pub key_pem: Secret,
    /// The serial number, lowercase hex.
    pub serial: String,
}

/// A CA that can sign leaves: generated here or loaded from `ca.crt` / `ca.key`.
pub struct CertificateAuthority {
    params: CertificateParams,
    key: KeyPair,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("subject", &self.params.distinguished_name)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// A new self-signed CA (`O=Redoubt, CN=common_name`) valid for `days` days.
    pub fn generate(common_name: &str, days: u32) -> Result<CertificateAuthority, CertsError> {
        let failed = |e: rcgen::Error| CertsError::Generate {
            name: common_name.to_string(),
            reason: e.to_string(),
        };
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Redoubt");
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let (not_before, not_after) = validity(days);
        params.not_before = rcgen::date_time_ymd(1970, 1, 1) + since_epoch(not_before);
        params.not_after = rcgen::date_time_ymd(1970, 1, 1) + since_epoch(not_after);
        params.serial_number = Some(random_serial());
        let key = KeyPair::generate().map_err(failed)?;
        let cert = params.self_signed(&key).map_err(failed)?;
        Ok(CertificateAuthority {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            params,
            key,
        })
    }

    /// Loads a CA from its PEM certificate and key (any CA whose subject is made of
    /// single-valued UTF8/Printable/IA5 attributes, as rcgen and openssl make them).
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<CertificateAuthority, CertsError> {
        let bad = |reason: String| CertsError::BadCa {
            path: cert_path.to_path_buf(),
            reason,
        };
        let chain = tls::load_cert_chain(cert_path)?;
        let cert_der = chain
            .into_iter()
            .next()
            .ok_or_else(|| bad("no certificate".into()))?;
        let key_text = std::fs::read_to_string(key_path).map_err(|source| CertsError::Read {
            path: key_path.to_path_buf(),
            source,
        })?;
        // rcgen's error text cannot quote the key, but say nothing more than "unusable".
        let key = KeyPair::from_pem(&key_text).map_err(|_| CertsError::BadCa {
            path: key_path.to_path_buf(),
            reason: "the key file holds no usable private key".into(),
        })?;
        drop(key_text);
        let (_, parsed) = x509_parser::parse_x509_certificate(cert_der.as_ref())
            .map_err(|e| bad(e.to_string()))?;
        if !parsed.is_ca() {
            return Err(bad(
                "not a CA certificate (basicConstraints CA:FALSE)".into()
            ));
        }
        if parsed.public_key().subject_public_key.data.as_ref() != key.der_bytes() {
            return Err(CertsError::BadCa {
                path: key_path.to_path_buf(),
                reason: format!("the key does not match '{}'", cert_path.display()),
            });
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name_of(parsed.subject()).map_err(bad)?;
        params.key_identifier_method = parsed
            .iter_extensions()
            .find_map(|ext| match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => {
                    Some(KeyIdMethod::PreSpecified(id.0.to_vec()))
                }
                _ => None,
            })
            .unwrap_or(KeyIdMethod::Sha256);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert_pem = std::fs::read_to_string(cert_path).map_err(|source| CertsError::Read {
            path: cert_path.to_path_buf(),
            source,
        })?;
        let cert_pem = first_pem_block(&cert_pem).unwrap_or(cert_pem);
        Ok(CertificateAuthority {
            params,
            key,
            cert_pem,
            cert_der,
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The CA's private key as PEM, to write `ca.key`.
    pub fn key_pem(&self) -> Secret {
        Secret::new(self.key.serialize_pem())
    }

    /// Signs a new leaf with a fresh key; checks that it chains to this CA before returning it.
    pub fn issue(&self, spec: &LeafSpec) -> Result<IssuedCert, CertsError> {
        let failed = |reason: String| CertsError::Generate {
            name: spec.common_name.clone(),
            reason,
        };
        let mut params =
            CertificateParams::new(spec.sans.clone()).map_err(|e| failed(e.to_string()))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, spec.common_name.as_str());
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if spec.usage == LeafUsage::Node {
            // The node marker: what tells a node certificate from a client certificate on the
            // peer port, and the identity a Raft member is bound to.
            let uri = rcgen::string::Ia5String::try_from(crate::tls::identity::node_uri(
                &spec.common_name,
            ))
            .map_err(|e| failed(e.to_string()))?;
            params.subject_alt_names.push(rcgen::SanType::URI(uri));
        }
        params.extended_key_usages = match spec.usage {
            LeafUsage::Node => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            LeafUsage::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
        };
        params.use_authority_key_identifier_extension = true;
        params.not_before = rcgen::date_time_ymd(1970, 1, 1) + since_epoch(spec.not_before);
        params.not_after = rcgen::date_time_ymd(1970, 1, 1) + since_epoch(spec.not_after);
        let serial = random_serial();
        let serial_hex = crate::hex::encode(serial.as_ref());
        params.serial_number = Some(serial);
        let key = KeyPair::generate().map_err(|e| failed(e.to_string()))?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(|e| failed(e.to_string()))?;
        // Checked at its own start time: a deliberately expired certificate (tests) still
        // has to chain.
        let at = rustls_pki_types::UnixTime::since_unix_epoch(
            since_epoch(spec.not_before) + Duration::from_secs(1),
        );
        self.check_issued(cert.der(), at)
            .map_err(|reason| failed(format!("self-check failed: {reason}")))?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: Secret::new(key.serialize_pem()),
            serial: serial_hex,
        })
    }

    /// The leaf's issuer must be byte-for-byte our subject, and its signature must verify
    /// with our key (every leaf we make allows clientAuth, so the client verifier checks both).
    fn check_issued(
        &self,
        leaf: &CertificateDer<'_>,
        at: rustls_pki_types::UnixTime,
    ) -> Result<(), String> {
        let (_, ca) = x509_parser::parse_x509_certificate(self.cert_der.as_ref())
            .map_err(|e| e.to_string())?;
        let (_, cert) =
            x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|e| e.to_string())?;
        if cert.issuer().as_raw() != ca.subject().as_raw() {
            return Err("the CA subject could not be reproduced in the issuer field".into());
        }
        verify_chain_at(&self.cert_der, leaf, at).map_err(|e| e.to_string())
    }
}

/// Checks that `leaf` chains to `ca` (signature, validity, clientAuth use) with rustls' webpki.
pub fn verify_chain(
    ca: &CertificateDer<'static>,
    leaf: &CertificateDer<'_>,
) -> Result<(), rustls::Error> {
    verify_chain_at(ca, leaf, rustls_pki_types::UnixTime::now())
}

fn verify_chain_at(
    ca: &CertificateDer<'static>,
    leaf: &CertificateDer<'_>,
    at: rustls_pki_types::UnixTime,
) -> Result<(), rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone())?;
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        tls::crypto_provider(),
    )
    .build()
    .map_err(|e| rustls::Error::General(e.to_string()))?;
    verifier.verify_client_cert(leaf, &[], at).map(|_| ())
}

/// The time since the epoch, for rcgen's dates (`date_time_ymd(1970, 1, 1) + since_epoch(t)`,
/// without naming the `time` crate).
fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    // Positive and of full length.
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&bytes)
}

fn first_pem_block(text: &str) -> Option<String> {
    let start = text.find("-----BEGIN CERTIFICATE-----")?;
    let end_marker = "-----END CERTIFICATE-----";
    let end = text[start..].find(end_marker)? + start + end_marker.len();
    Some(format!("{}\n", &text[start..end]))
}

/// An rcgen distinguished name equal (in DER) to `name`.
fn distinguished_name_of(
    name: &x509_parser::x509::X509Name<'_>,
) -> Result<DistinguishedName, String> {
    use x509_parser::asn1_rs::Tag;
    let mut dn = DistinguishedName::new();
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else {
            return Err("multi-valued subject attributes are not supported".into());
        };
        let oid: Vec<u64> = attr
            .attr_type()
            .iter()
            .ok_or("subject attribute with an unsupported type")?
            .collect();
        let ty = DnType::from_oid(&oid);
        if dn.get(&ty).is_some() {
            return Err("repeated subject attributes are not supported".into());
        }
        let text = std::str::from_utf8(attr.attr_value().data)
            .map_err(|_| "subject attribute is not text")?
            .to_string();
        let value = match attr.attr_value().header.tag() {
            Tag::Utf8String => DnValue::Utf8String(text),
            Tag::PrintableString => {
                DnValue::PrintableString(text.try_into().map_err(|e: rcgen::Error| e.to_string())?)
            }
            Tag::Ia5String => {
                DnValue::Ia5String(text.try_into().map_err(|e: rcgen::Error| e.to_string())?)
            }
            other => {
                return Err(format!(
                    "subject attribute of type {other} is not supported"
                ))
            }
        };
        dn.push(ty, value);
    }
    Ok(dn)
}
