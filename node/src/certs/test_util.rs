//! What the certs tests share: running the tool in-process and looking at its files.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rustls_pki_types::CertificateDer;

use super::run_to;
use crate::tls;

pub(super) fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The report of a run that must succeed.
pub(super) fn run_ok(list: &[&str]) -> String {
    let mut out = Vec::new();
    run_to(&args(list), &mut out).unwrap_or_else(|e| panic!("{list:?}: {e}"));
    String::from_utf8(out).expect("utf8")
}

/// The error of a run that must fail.
pub(super) fn run_err(list: &[&str]) -> String {
    let mut out = Vec::new();
    match run_to(&args(list), &mut out) {
        Ok(()) => panic!("{list:?} must fail"),
        Err(e) => e.to_string(),
    }
}

pub(super) fn cert_der(path: &Path) -> CertificateDer<'static> {
    tls::load_cert_chain(path).expect("cert parses").remove(0)
}

pub(super) fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}
