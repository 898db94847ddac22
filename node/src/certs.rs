//! `redoubt certs ...`: makes, rotates and inspects the certificates of a cluster, on rcgen
//! (ECDSA P-256 keys).
//!
//! - `init`: a CA, one certificate per node (server and peer use) and a client certificate.
//! - `issue`: a new leaf from an existing CA (rotation, a new node).
//! - `new-ca`: a new CA (the first step of a CA roll).
//! - `show`: subject, SANs, serial and validity of a certificate file, for scripts.
//! - `probe`: the certificate a TLS port serves now (to check a rotation took effect).
//!
//! Files are written atomically (a temporary file renamed over the target, so a node watching
//! the directory never reads half a file); keys are created with mode 0600. This module never
//! overwrites an existing key without `--force`, and never prints or logs key material.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData,
    SerialNumber,
};
use rustls_pki_types::CertificateDer;
use x509_parser::extensions::{GeneralName, ParsedExtension};

use crate::config::Secret;
use crate::tls::{self, TlsError};

/// Validity of leaf certificates unless `--days` says otherwise.
pub const DEFAULT_LEAF_DAYS: u32 = 365;
/// Validity of a CA unless `--days` asks for more.
pub const DEFAULT_CA_DAYS: u32 = 3650;
/// Certificates start this long before they are made, for clocks that lag.
const BACKDATE: Duration = Duration::from_secs(3600);

/// A certificate-tool failure, printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error("{0}")]
    Usage(String),
    #[error("'{}' already exists; refusing to overwrite it without --force", .0.display())]
    Exists(PathBuf),
    #[error("cannot write '{}': {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read '{}': {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("CA '{}' cannot be used: {reason}", path.display())]
    BadCa { path: PathBuf, reason: String },
    #[error("cannot make the certificate for '{name}': {reason}")]
    Generate { name: String, reason: String },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("probe of '{addr}' failed: {reason}")]
    Probe { addr: String, reason: String },
}

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
        let serial_hex = tls_hex(serial.as_ref());
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

fn tls_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

// ---------------------------------------------------------------------------------------------
// Files

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `contents` to `path` through a temporary file in the same directory created with
/// `mode`, then renamed over `path` (atomic for readers). Without `force`, an existing `path`
/// is an error.
fn write_file(path: &Path, contents: &[u8], mode: u32, force: bool) -> Result<(), CertsError> {
    if !force && path.exists() {
        return Err(CertsError::Exists(path.to_path_buf()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(
        ".{file_name}.tmp-{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let write_error = |source| CertsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_error(e));
    }
    Ok(())
}

fn write_key(path: &Path, key: &Secret, force: bool) -> Result<(), CertsError> {
    write_file(path, key.expose().as_bytes(), 0o600, force)
}

fn write_cert(path: &Path, pem: &str, force: bool) -> Result<(), CertsError> {
    write_file(path, pem.as_bytes(), 0o644, force)
}

fn create_dir(dir: &Path) -> Result<(), CertsError> {
    std::fs::create_dir_all(dir).map_err(|source| CertsError::Write {
        path: dir.to_path_buf(),
        source,
    })
}

/// A name used as a file name and a CN: letters, digits, `.`, `_`, `-`.
fn check_name(what: &str, name: &str) -> Result<(), CertsError> {
    let ok = !name.starts_with('.') && crate::tls::identity::valid_node_name(name);
    if !ok {
        return Err(CertsError::Usage(format!(
            "invalid {what} '{name}' (1 to 64 letters, digits, '.', '_' and '-' only)"
        )));
    }
    if name == "ca" {
        return Err(CertsError::Usage(format!(
            "invalid {what} 'ca' (reserved for the CA's files)"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE: &str = "Usage: redoubt certs <command> [options]

Makes, rotates and inspects the certificates of a Redoubt cluster (ECDSA P-256).

Commands:
  init     a CA, a certificate per node and a client certificate
  issue    a new leaf certificate from an existing CA (rotation, a new node)
  new-ca   a new CA (the first step of a CA roll)
  show     print a certificate's subject, SANs, serial and validity
  probe    print the certificate a TLS port serves now

Run 'redoubt certs <command> --help' for a command's options.
";

const INIT_USAGE: &str = "Usage: redoubt certs init --out DIR --nodes NAME[,NAME...] [--client-name NAME] [--san NAME,...] [--days N] [--force]

Writes into DIR: ca.crt/ca.key (the cluster CA), NAME.crt/NAME.key for each node
(CN=NAME, SANs NAME, localhost, 127.0.0.1, ::1; serverAuth+clientAuth: the node's
RESP TLS and peer certificate) and client.crt/client.key (CN=client name, default
'client'; clientAuth). Keys are created with mode 0600.

An existing CA in DIR is reused to issue missing certificates; existing keys are
never overwritten without --force (which regenerates everything). When every file
exists, init says so and does nothing.

  --san LIST  extra DNS names / IP addresses for every node certificate
  --days N    validity of the leaf certificates in days (default 365; the CA gets
              at least 3650)
";

const ISSUE_USAGE: &str = "Usage: redoubt certs issue --ca-dir DIR --name NAME [--san NAME,...] [--client] [--out DIR] [--days N] [--force]

Issues NAME.crt/NAME.key, signed by DIR/ca.crt and DIR/ca.key, into --out (default
DIR). A node certificate (default) has CN=NAME, SANs NAME, localhost, 127.0.0.1, ::1
plus --san, and serverAuth+clientAuth; --client makes a clientAuth certificate with
the --san names only. Existing files are replaced only with --force (atomically:
a node watching the directory picks the new certificate up).
";

const NEW_CA_USAGE: &str = "Usage: redoubt certs new-ca --out DIR [--name CN] [--days N] [--force]

Writes a new self-signed CA, DIR/ca.crt and DIR/ca.key (mode 0600), valid for --days
(default 3650). For a CA roll: make the new CA in another directory, have nodes
trust both (a CA file holding both certificates), issue new leaves from the new
CA, then drop the old CA from the trust bundle.
";

const SHOW_USAGE: &str = "Usage: redoubt certs show FILE

Prints, for each certificate of the PEM file: subject, issuer, serial, not-before,
not-after (UTC, YYYY-MM-DDTHH:MM:SSZ), SANs, whether it is a CA, and the SHA-256
fingerprint of its DER encoding.
";

const PROBE_USAGE: &str =
    "Usage: redoubt certs probe HOST:PORT --ca FILE [--cert FILE --key FILE] [--server-name NAME]

Connects to a TLS port, verifies the served certificate against --ca (and the server
name: --server-name, default HOST), and prints that certificate as 'show' does, plus
the negotiated protocol. --cert/--key present a client certificate (needed by ports
that require one, such as the peer port).
";

/// Runs `redoubt certs ARGS...`; returns the process exit code (0 ok, 1 error). Errors are
/// one line on stderr.
pub fn run(args: &[String]) -> u8 {
    let mut out = std::io::stdout().lock();
    match run_to(args, &mut out) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("redoubt certs: {e}");
            1
        }
    }
}

/// One subcommand: its help text, its options and what it does.
struct Subcommand {
    usage: &'static str,
    flags: FlagSpec,
    execute: Execute,
}

type Execute = fn(&Flags, &mut dyn Write) -> Result<(), CertsError>;

fn subcommand(name: &str) -> Option<Subcommand> {
    let make = |usage: &'static str,
                values: &'static [&'static str],
                switches: &'static [&'static str],
                positional: usize,
                execute: Execute| Subcommand {
        usage,
        flags: FlagSpec {
            values,
            switches,
            positional,
        },
        execute,
    };
    Some(match name {
        "init" => make(
            INIT_USAGE,
            &["out", "nodes", "client-name", "san", "days"],
            &["force"],
            0,
            init_command,
        ),
        "issue" => make(
            ISSUE_USAGE,
            &["ca-dir", "name", "san", "out", "days"],
            &["client", "force"],
            0,
            issue_command,
        ),
        "new-ca" => make(
            NEW_CA_USAGE,
            &["out", "name", "days"],
            &["force"],
            0,
            new_ca_command,
        ),
        "show" => make(SHOW_USAGE, &[], &[], 1, show_command),
        "probe" => make(
            PROBE_USAGE,
            &["ca", "cert", "key", "server-name"],
            &[],
            1,
            probe_command,
        ),
        _ => return None,
    })
}

/// [`run`] writing its report to `out`.
pub fn run_to(args: &[String], out: &mut dyn Write) -> Result<(), CertsError> {
    let Some((command, rest)) = args.split_first() else {
        return print(out, USAGE);
    };
    if matches!(command.as_str(), "-h" | "--help" | "help") {
        return print(out, USAGE);
    }
    let Some(sub) = subcommand(command) else {
        return Err(CertsError::Usage(format!(
            "unknown command '{command}' (init, issue, new-ca, show, probe; see --help)"
        )));
    };
    if rest.iter().any(|a| a == "-h" || a == "--help") {
        return print(out, sub.usage);
    }
    let flags = Flags::parse(command, rest, &sub.flags)?;
    (sub.execute)(&flags, out)
}

fn print(out: &mut dyn Write, text: &str) -> Result<(), CertsError> {
    out.write_all(text.as_bytes())
        .map_err(|source| CertsError::Write {
            path: PathBuf::from("<stdout>"),
            source,
        })
}

struct FlagSpec {
    values: &'static [&'static str],
    switches: &'static [&'static str],
    positional: usize,
}

/// Parsed `--name value` / `--name=value` options, switches and positional arguments.
struct Flags {
    command: String,
    values: HashMap<String, String>,
    switches: Vec<String>,
    positional: Vec<String>,
}

impl Flags {
    fn parse(command: &str, args: &[String], spec: &FlagSpec) -> Result<Flags, CertsError> {
        let usage = |msg: String| CertsError::Usage(format!("{command}: {msg} (see --help)"));
        let mut flags = Flags {
            command: command.to_string(),
            values: HashMap::new(),
            switches: Vec::new(),
            positional: Vec::new(),
        };
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            let Some(name) = arg.strip_prefix("--") else {
                if flags.positional.len() < spec.positional {
                    flags.positional.push(arg.clone());
                    continue;
                }
                return Err(usage(format!("unexpected argument '{arg}'")));
            };
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (name, None),
            };
            if spec.switches.contains(&name) && inline.is_none() {
                flags.switches.push(name.to_string());
            } else if spec.values.contains(&name) {
                let value = match inline {
                    Some(v) => v,
                    None => {
                        let v = args
                            .get(i)
                            .ok_or_else(|| usage(format!("'--{name}' needs a value")))?;
                        i += 1;
                        v.clone()
                    }
                };
                flags.values.insert(name.to_string(), value);
            } else {
                return Err(usage(format!("unknown option '--{name}'")));
            }
        }
        if flags.positional.len() < spec.positional {
            return Err(usage("missing argument".into()));
        }
        Ok(flags)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    fn required(&self, name: &str) -> Result<&str, CertsError> {
        self.value(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            CertsError::Usage(format!(
                "{}: '--{name}' is required (see --help)",
                self.command
            ))
        })
    }

    fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    fn days(&self, default: u32) -> Result<u32, CertsError> {
        match self.value("days") {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=36_500).contains(d))
                .ok_or_else(|| {
                    CertsError::Usage(format!(
                        "{}: invalid value for '--days': '{v}' (expected 1..36500)",
                        self.command
                    ))
                }),
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.value(name)
            .unwrap_or("")
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

fn say(out: &mut dyn Write, line: String) -> Result<(), CertsError> {
    writeln!(out, "{line}").map_err(|source| CertsError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    })
}

/// `Redoubt CA <date> <random>`: CAs of one cluster must have distinct names, or a verifier
/// that trusts the old CA only finds it by name and reports a bad signature.
fn ca_common_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let date = tls::format_unix_time(i64::try_from(secs).unwrap_or(0));
    let suffix: [u8; 4] = rand::random();
    format!("Redoubt CA {} {}", &date[..10], tls_hex(&suffix))
}

/// Both files of a pair exist, neither does, or (an error) only one does.
fn pair_state(cert: &Path, key: &Path) -> Result<bool, CertsError> {
    match (cert.exists(), key.exists()) {
        (true, true) => Ok(true),
        (false, false) => Ok(false),
        (_, true) => Err(CertsError::Exists(key.to_path_buf())),
        (true, false) => Err(CertsError::Exists(cert.to_path_buf())),
    }
}

fn init_command(flags: &Flags, out: &mut dyn Write) -> Result<(), CertsError> {
    let dir = PathBuf::from(flags.required("out")?);
    let nodes = flags.list("nodes");
    if nodes.is_empty() {
        return Err(CertsError::Usage(
            "init: '--nodes' is required (see --help)".into(),
        ));
    }
    let client_name = flags.value("client-name").unwrap_or("client").to_string();
    for node in &nodes {
        check_name("node name", node)?;
        if node == "client" {
            return Err(CertsError::Usage(
                "init: invalid node name 'client' (client.crt is the client certificate)".into(),
            ));
        }
    }
    check_name("client name", &client_name)?;
    let days = flags.days(DEFAULT_LEAF_DAYS)?;
    let force = flags.switch("force");
    let extra_sans = flags.list("san");
    create_dir(&dir)?;

    let ca_crt = dir.join("ca.crt");
    let ca_key = dir.join("ca.key");
    let mut leaves: Vec<(String, LeafSpec)> = nodes
        .iter()
        .map(|n| (n.clone(), LeafSpec::node(n, &extra_sans, days)))
        .collect();
    leaves.push((
        "client".to_string(),
        LeafSpec::client(&client_name, &[], days),
    ));

    // Which files are there decides what is made (without --force nothing is overwritten).
    let ca_exists = !force && pair_state(&ca_crt, &ca_key)?;
    let mut missing = Vec::new();
    for (file, spec) in &leaves {
        let (crt, key) = (
            dir.join(format!("{file}.crt")),
            dir.join(format!("{file}.key")),
        );
        if force || !pair_state(&crt, &key)? {
            missing.push((file.clone(), spec.clone()));
        } else if !ca_exists {
            // A leaf from a CA that is gone would not chain to the new one.
            return Err(CertsError::Exists(key));
        }
    }
    if ca_exists && missing.is_empty() {
        return say(
            out,
            format!(
                "certificates already exist in {} (ca, {}, client); nothing to do (use --force to replace them)",
                dir.display(),
                nodes.join(", ")
            ),
        );
    }
    let ca = if ca_exists {
        say(out, format!("using the existing CA {}", ca_crt.display()))?;
        CertificateAuthority::load(&ca_crt, &ca_key)?
    } else {
        let ca = CertificateAuthority::generate(&ca_common_name(), days.max(DEFAULT_CA_DAYS))?;
        write_key(&ca_key, &ca.key_pem(), force)?;
        write_cert(&ca_crt, ca.cert_pem(), force)?;
        say(
            out,
            format!("wrote {} and {}", ca_crt.display(), ca_key.display()),
        )?;
        ca
    };
    for (file, spec) in &missing {
        let issued = ca.issue(spec)?;
        let (crt, key) = (
            dir.join(format!("{file}.crt")),
            dir.join(format!("{file}.key")),
        );
        write_key(&key, &issued.key_pem, force)?;
        write_cert(&crt, &issued.cert_pem, force)?;
        say(
            out,
            format!(
                "wrote {} and {} (CN={}, serial {})",
                crt.display(),
                key.display(),
                spec.common_name,
                issued.serial
            ),
        )?;
    }
    Ok(())
}

fn issue_command(flags: &Flags, out: &mut dyn Write) -> Result<(), CertsError> {
    let ca_dir = PathBuf::from(flags.required("ca-dir")?);
    let name = flags.required("name")?.to_string();
    check_name("name", &name)?;
    let out_dir = flags
        .value("out")
        .map(PathBuf::from)
        .unwrap_or_else(|| ca_dir.clone());
    let days = flags.days(DEFAULT_LEAF_DAYS)?;
    let force = flags.switch("force");
    let sans = flags.list("san");
    let spec = if flags.switch("client") {
        LeafSpec::client(&name, &sans, days)
    } else {
        LeafSpec::node(&name, &sans, days)
    };
    let crt = out_dir.join(format!("{name}.crt"));
    let key = out_dir.join(format!("{name}.key"));
    if !force {
        for path in [&key, &crt] {
            if path.exists() {
                return Err(CertsError::Exists(path.clone()));
            }
        }
    }
    let ca = CertificateAuthority::load(&ca_dir.join("ca.crt"), &ca_dir.join("ca.key"))?;
    create_dir(&out_dir)?;
    let issued = ca.issue(&spec)?;
    write_key(&key, &issued.key_pem, force)?;
    write_cert(&crt, &issued.cert_pem, force)?;
    say(
        out,
        format!(
            "wrote {} and {} (CN={name}, serial {})",
            crt.display(),
            key.display(),
            issued.serial
        ),
    )
}

fn new_ca_command(flags: &Flags, out: &mut dyn Write) -> Result<(), CertsError> {
    let dir = PathBuf::from(flags.required("out")?);
    let days = flags.days(DEFAULT_CA_DAYS)?;
    let force = flags.switch("force");
    let name = flags
        .value("name")
        .map(str::to_string)
        .unwrap_or_else(ca_common_name);
    let (crt, key) = (dir.join("ca.crt"), dir.join("ca.key"));
    if !force {
        for path in [&key, &crt] {
            if path.exists() {
                return Err(CertsError::Exists(path.clone()));
            }
        }
    }
    create_dir(&dir)?;
    let ca = CertificateAuthority::generate(&name, days)?;
    write_key(&key, &ca.key_pem(), force)?;
    write_cert(&crt, ca.cert_pem(), force)?;
    say(
        out,
        format!("wrote {} and {} (CN={name})", crt.display(), key.display()),
    )
}

fn show_command(flags: &Flags, out: &mut dyn Write) -> Result<(), CertsError> {
    let path = PathBuf::from(&flags.positional[0]);
    let certs = tls::load_cert_chain(&path)?;
    for (i, cert) in certs.iter().enumerate() {
        if i > 0 {
            say(out, String::new())?;
        }
        for line in describe_certificate(cert) {
            say(out, line)?;
        }
    }
    Ok(())
}

/// The `show` lines of one certificate.
pub fn describe_certificate(der: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return vec!["unparseable certificate".to_string()];
    };
    let mut sans = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => sans.push(format!("DNS:{d}")),
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
                    sans.push(format!("IP:{}", ip.unwrap_or_else(|| "?".into())));
                }
                GeneralName::RFC822Name(e) => sans.push(format!("email:{e}")),
                GeneralName::URI(u) => sans.push(format!("URI:{u}")),
                _ => {}
            }
        }
    }
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, der.as_ref());
    vec![
        format!("subject: {}", cert.subject()),
        format!("issuer: {}", cert.issuer()),
        format!("serial: {}", tls_hex(cert.raw_serial())),
        format!(
            "not-before: {}",
            tls::format_unix_time(cert.validity().not_before.timestamp())
        ),
        format!(
            "not-after: {}",
            tls::format_unix_time(cert.validity().not_after.timestamp())
        ),
        format!("san: {}", sans.join(", ")),
        format!("ca: {}", if cert.is_ca() { "yes" } else { "no" }),
        format!(
            "node: {}",
            tls::identity::node_identity(der)
                .unwrap_or_else(|| "no (not a node certificate)".into())
        ),
        format!("sha256: {}", tls_hex(fingerprint.as_ref())),
    ]
}

fn probe_command(flags: &Flags, out: &mut dyn Write) -> Result<(), CertsError> {
    let addr = flags.positional[0].clone();
    let ca = PathBuf::from(flags.required("ca")?);
    let client_cert = match (flags.value("cert"), flags.value("key")) {
        (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
        (None, None) => None,
        _ => {
            return Err(CertsError::Usage(
                "probe: '--cert' and '--key' go together (see --help)".into(),
            ))
        }
    };
    let host = flags
        .value("server-name")
        .map(str::to_string)
        .unwrap_or_else(|| host_of(&addr));
    let (served, protocol) = probe(&addr, &host, &ca, client_cert.as_ref())?;
    for line in describe_certificate(&served) {
        say(out, line)?;
    }
    say(out, format!("protocol: {protocol}"))
}

fn host_of(addr: &str) -> String {
    let host = match addr.rsplit_once(':') {
        Some((h, _)) => h,
        None => addr,
    };
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
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
    let roots = {
        let mut roots = rustls::RootCertStore::empty();
        for cert in tls::load_ca_bundle(ca)? {
            roots.add(cert).map_err(|e| failed(e.to_string()))?;
        }
        roots
    };
    let builder = rustls::ClientConfig::builder_with_provider(tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| failed(e.to_string()))?
        .with_root_certificates(roots);
    let mut config = match client_cert {
        Some((cert, key)) => builder
            .with_client_auth_cert(tls::load_cert_chain(cert)?, tls::load_private_key(key)?)
            .map_err(|e| failed(format!("client certificate: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    // The peer port speaks gRPC and insists on h2; the RESP port ignores ALPN.
    config.alpn_protocols = vec![b"h2".to_vec()];
    let name = rustls_pki_types::ServerName::try_from(server_name.to_string())
        .map_err(|e| failed(format!("bad server name '{server_name}': {e}")))?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| failed(e.to_string()))?;
    let socket_addr = std::net::ToSocketAddrs::to_socket_addrs(addr)
        .map_err(|e| failed(e.to_string()))?
        .next()
        .ok_or_else(|| failed("no address".into()))?;
    let timeout = Duration::from_secs(5);
    let mut tcp = std::net::TcpStream::connect_timeout(&socket_addr, timeout)
        .map_err(|e| failed(e.to_string()))?;
    tcp.set_read_timeout(Some(timeout))
        .and_then(|()| tcp.set_write_timeout(Some(timeout)))
        .map_err(|e| failed(e.to_string()))?;
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
    // With TLS 1.3 our side of the handshake ends before the server has checked our
    // certificate: a refusal arrives afterwards as an alert. Listen briefly for it; silence,
    // the server's first application data or a plain close mean accepted.
    while conn.wants_write() {
        conn.write_tls(&mut tcp)
            .map_err(|e| failed(e.to_string()))?;
    }
    let listen = Duration::from_millis(500);
    tcp.set_read_timeout(Some(listen))
        .map_err(|e| failed(e.to_string()))?;
    let until = std::time::Instant::now() + listen;
    while std::time::Instant::now() < until {
        match conn.read_tls(&mut tcp) {
            // Closed without an alert: the handshake was accepted (a refusal sends one).
            Ok(0) => break,
            Ok(_) => {
                conn.process_new_packets()
                    .map_err(|e| failed(format!("the server refused the connection: {e}")))?;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            Err(e) => return Err(failed(e.to_string())),
        }
    }
    conn.send_close_notify();
    let _ = conn.complete_io(&mut tcp);
    Ok((served, protocol))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn run_ok(list: &[&str]) -> String {
        let mut out = Vec::new();
        run_to(&args(list), &mut out).unwrap_or_else(|e| panic!("{list:?}: {e}"));
        String::from_utf8(out).expect("utf8")
    }

    fn run_err(list: &[&str]) -> String {
        let mut out = Vec::new();
        match run_to(&args(list), &mut out) {
            Ok(()) => panic!("{list:?} must fail"),
            Err(e) => e.to_string(),
        }
    }

    fn cert_der(path: &Path) -> CertificateDer<'static> {
        tls::load_cert_chain(path).expect("cert parses").remove(0)
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn init_makes_a_ca_node_and_client_certificates_that_chain() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        let report = run_ok(&["init", "--out", d, "--nodes", "node1,node2,node3"]);
        assert!(report.contains("ca.crt"), "{report}");
        let ca = cert_der(&dir.path().join("ca.crt"));
        for name in ["node1", "node2", "node3", "client"] {
            let leaf = cert_der(&dir.path().join(format!("{name}.crt")));
            verify_chain(&ca, &leaf).unwrap_or_else(|e| panic!("{name} chains: {e}"));
            tls::load_private_key(&dir.path().join(format!("{name}.key"))).expect("key parses");
            assert_eq!(mode(&dir.path().join(format!("{name}.key"))), 0o600);
        }
        assert_eq!(mode(&dir.path().join("ca.key")), 0o600);
        let node1 =
            tls::certificate_names(&cert_der(&dir.path().join("node1.crt"))).expect("names");
        assert_eq!(node1.common_names, vec!["node1"]);
        assert_eq!(node1.dns_names, vec!["node1", "localhost"]);
        assert_eq!(node1.ip_addresses.len(), 2);
        let client = cert_der(&dir.path().join("client.crt"));
        assert_eq!(
            tls::certificate_common_name(&client).as_deref(),
            Some("client")
        );
        // The node certificate works as a server certificate for its names.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca).expect("root");
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            tls::crypto_provider(),
        )
        .build()
        .expect("verifier");
        for host in ["node1", "localhost", "127.0.0.1", "::1"] {
            let name = rustls_pki_types::ServerName::try_from(host).expect("name");
            rustls::client::danger::ServerCertVerifier::verify_server_cert(
                verifier.as_ref(),
                &cert_der(&dir.path().join("node1.crt")),
                &[],
                &name,
                &[],
                rustls_pki_types::UnixTime::now(),
            )
            .unwrap_or_else(|e| panic!("node1 valid for {host}: {e}"));
        }
    }

    #[test]
    fn init_never_overwrites_a_key_without_force() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        run_ok(&[
            "init",
            "--out",
            d,
            "--nodes",
            "node1",
            "--client-name",
            "alice",
        ]);
        let key_before = std::fs::read(dir.path().join("node1.key")).expect("key");
        // Everything there: nothing to do, success.
        let report = run_ok(&[
            "init",
            "--out",
            d,
            "--nodes",
            "node1",
            "--client-name",
            "alice",
        ]);
        assert!(report.contains("nothing to do"), "{report}");
        // A key without its certificate: refused, naming the key.
        std::fs::remove_file(dir.path().join("node1.crt")).expect("rm");
        let e = run_err(&["init", "--out", d, "--nodes", "node1"]);
        assert!(e.contains("node1.key") && e.contains("--force"), "{e}");
        assert_eq!(
            std::fs::read(dir.path().join("node1.key")).expect("key"),
            key_before
        );
        // A new CA would orphan existing leaves: refused too.
        std::fs::remove_file(dir.path().join("ca.crt")).expect("rm");
        std::fs::remove_file(dir.path().join("ca.key")).expect("rm");
        let e = run_err(&["init", "--out", d, "--nodes", "node1"]);
        assert!(e.contains("already exists"), "{e}");
        // --force regenerates everything, keys still 0600.
        run_ok(&["init", "--out", d, "--nodes", "node1", "--force"]);
        assert_ne!(
            std::fs::read(dir.path().join("node1.key")).expect("key"),
            key_before
        );
        assert_eq!(mode(&dir.path().join("node1.key")), 0o600);
        let ca = cert_der(&dir.path().join("ca.crt"));
        verify_chain(&ca, &cert_der(&dir.path().join("node1.crt"))).expect("chains");
    }

    #[test]
    fn init_reuses_the_ca_for_a_new_node() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        run_ok(&["init", "--out", d, "--nodes", "node1"]);
        let ca_before = std::fs::read(dir.path().join("ca.crt")).expect("ca");
        let report = run_ok(&["init", "--out", d, "--nodes", "node1,node4"]);
        assert!(report.contains("existing CA"), "{report}");
        assert_eq!(
            std::fs::read(dir.path().join("ca.crt")).expect("ca"),
            ca_before
        );
        let ca = cert_der(&dir.path().join("ca.crt"));
        verify_chain(&ca, &cert_der(&dir.path().join("node4.crt"))).expect("chains");
    }

    #[test]
    fn issue_signs_a_new_leaf_from_the_existing_ca() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        run_ok(&["init", "--out", d, "--nodes", "node1"]);
        let ca = cert_der(&dir.path().join("ca.crt"));
        let old = cert_der(&dir.path().join("node1.crt"));
        let e = run_err(&["issue", "--ca-dir", d, "--name", "node1"]);
        assert!(e.contains("node1.key"), "{e}");
        run_ok(&[
            "issue",
            "--ca-dir",
            d,
            "--name",
            "node1",
            "--san",
            "node1.example",
            "--force",
        ]);
        let new = cert_der(&dir.path().join("node1.crt"));
        assert_ne!(old, new);
        verify_chain(&ca, &new).expect("chains to the same CA");
        let names = tls::certificate_names(&new).expect("names");
        assert!(names.dns_names.contains(&"node1.example".to_string()));
        assert_eq!(mode(&dir.path().join("node1.key")), 0o600);
        // Into another directory, a client certificate.
        let other = dir.path().join("out");
        let o = other.to_str().expect("utf8");
        run_ok(&[
            "issue", "--ca-dir", d, "--name", "bob", "--client", "--out", o, "--days", "2",
        ]);
        verify_chain(&ca, &cert_der(&other.join("bob.crt"))).expect("client chains");
        let show = run_ok(&["show", other.join("bob.crt").to_str().expect("utf8")]);
        assert!(show.contains("subject: CN=bob"), "{show}");
        assert!(show.contains("ca: no"), "{show}");
    }

    #[test]
    fn new_ca_and_show_report_what_scripts_compare() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        run_ok(&["new-ca", "--out", d, "--name", "Test CA"]);
        assert_eq!(mode(&dir.path().join("ca.key")), 0o600);
        let e = run_err(&["new-ca", "--out", d]);
        assert!(e.contains("ca.key"), "{e}");
        let show = run_ok(&["show", dir.path().join("ca.crt").to_str().expect("utf8")]);
        for field in [
            "subject: O=Redoubt, CN=Test CA",
            "serial: ",
            "not-before: ",
            "not-after: ",
            "ca: yes",
            "sha256: ",
        ] {
            assert!(show.contains(field), "{field} missing in {show}");
        }
        run_ok(&["issue", "--ca-dir", d, "--name", "n1"]);
        let ca = cert_der(&dir.path().join("ca.crt"));
        verify_chain(&ca, &cert_der(&dir.path().join("n1.crt"))).expect("chains");
    }

    #[test]
    fn bad_arguments_are_one_line_errors() {
        for (list, expected) in [
            (&["init", "--nodes", "a"][..], "'--out' is required"),
            (
                &["init", "--out", "/tmp/x", "--nodes", "../evil"][..],
                "invalid node name",
            ),
            (
                &["init", "--out", "/tmp/x", "--nodes", "a", "--days", "0"][..],
                "'--days'",
            ),
            (&["issue", "--name", "a"][..], "'--ca-dir' is required"),
            (&["frobnicate"][..], "unknown command"),
            (&["show"][..], "missing argument"),
            (&["init", "--bogus"][..], "unknown option '--bogus'"),
        ] {
            let e = run_err(list);
            assert!(e.contains(expected), "{list:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(run_ok(&["init", "--help"]).contains("Usage: redoubt certs init"));
        assert!(run_ok(&["--help"]).contains("Commands:"));
    }

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
    fn issue_from_a_missing_ca_names_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        let e = run_err(&["issue", "--ca-dir", d, "--name", "n1"]);
        assert!(e.contains("ca.crt"), "{e}");
    }
}
