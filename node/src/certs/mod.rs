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
//!
//! Layout: [`cli`] parses the command line (clap) and dispatches; `commands` runs the five
//! subcommands; `issue` makes and loads CAs and signs leaves; `files` writes files atomically
//! and checks names; `inspect` describes certificates and probes TLS ports.

use std::path::PathBuf;

use crate::tls::TlsError;

mod cli;
mod commands;
mod files;
mod inspect;
mod issue;
#[cfg(test)]
mod test_util;

pub use cli::{run, run_to};
pub use inspect::{describe_certificate, probe};
pub use issue::{verify_chain, CertificateAuthority, IssuedCert, LeafSpec, LeafUsage};

/// Validity of leaf certificates unless `--days` says otherwise.
pub const DEFAULT_LEAF_DAYS: u32 = 365;
/// Validity of a CA unless `--days` asks for more.
pub const DEFAULT_CA_DAYS: u32 = 3650;

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
