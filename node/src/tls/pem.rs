//! The one TLS loader: PEM certificate chains, private keys and CA bundles, with errors that
//! name the file. Key bytes never reach an error or a log line (PEM errors about a key file are
//! reported without their details, which can quote the file).

use std::path::Path;

use rustls::RootCertStore;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsError;

pub(crate) const CERT_FILE: &str = "certificate file";
pub(crate) const CA_FILE: &str = "CA file";

/// Reads a PEM certificate chain (leaf first, then intermediates).
pub fn load_cert_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read_file(CERT_FILE, path)?;
    parse_certificates(CERT_FILE, path, &bytes)
}

/// Reads the first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read_file("key file", path)?;
    parse_private_key(path, &bytes)
}

/// Reads a CA bundle: every certificate of the file becomes a trust root.
pub fn load_ca_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read_file(CA_FILE, path)?;
    let certs = parse_certificates(CA_FILE, path, &bytes)?;
    trust_roots(path, &certs)?;
    Ok(certs)
}

pub(crate) fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

/// Every CERTIFICATE section of `bytes`, each checked to be a parseable X.509 certificate.
pub(crate) fn parse_certificates(
    what: &'static str,
    path: &Path,
    bytes: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| TlsError::BadPem {
            what,
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            what,
            path: path.to_path_buf(),
        });
    }
    for cert in &certs {
        x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|e| {
            TlsError::BadCertificate {
                what,
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
    }
    Ok(certs)
}

pub(crate) fn parse_private_key(
    path: &Path,
    bytes: &[u8],
) -> Result<PrivateKeyDer<'static>, TlsError> {
    match PrivateKeyDer::from_pem_slice(bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) => Err(TlsError::NoPrivateKey {
            path: path.to_path_buf(),
        }),
        // The details of a PEM error can quote the file: say only that it is damaged.
        Err(_) => Err(TlsError::BadPem {
            what: "key file",
            path: path.to_path_buf(),
            reason: "a PEM section is damaged".to_string(),
        }),
    }
}

/// A root store holding every certificate of a CA bundle.
pub(crate) fn trust_roots(
    path: &Path,
    certs: &[CertificateDer<'static>],
) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert.clone())
            .map_err(|e| TlsError::BadTrustRoots {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
    }
    Ok(roots)
}
