//! Hot-reloadable certificates: the current certificate chain + key (as a rustls
//! `CertifiedKey`) and the current trust roots (with the webpki verifiers built from them),
//! behind one `ArcSwap`.
//!
//! A reload re-reads every file and swaps only when all of them parse, the key matches the
//! certificate and the CA bundle makes usable trust roots; otherwise the old set stays in use and
//! the error is returned (and logged). Handshakes read the current set, so a rotation applies to
//! new connections without restarting a listener or touching connections in use.
//!
//! Reloads happen on [`ReloadableCerts::reload`] (SIGHUP, admin command) and, once
//! [`ReloadableCerts::watch`] is called, when the files' directories report a change or when a
//! periodic re-check finds different bytes. Never logs key material.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode, Watcher};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::{InconsistentKeys, RootCertStore};

use super::identity::{certificate_names, format_unix_time};
use super::pem::{self, CA_FILE, CERT_FILE};
use super::{crypto_provider, TlsError, DEFAULT_RECHECK_INTERVAL};
use crate::sync::Locked as _;

/// How long a burst of file events must be quiet before the files are re-read (a rotation
/// writes the certificate and the key one after the other).
const SETTLE: Duration = Duration::from_millis(250);

/// The files of one certificate set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The CA bundle that verifies the other side; None when nothing is verified.
    pub ca: Option<PathBuf>,
}

/// What is loaded now, for logs, INFO and scripts (no key material).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertSummary {
    /// `CN=node1, DNS=node1, ...` of the leaf certificate.
    pub subject: String,
    /// The leaf's serial number, lowercase hex.
    pub serial: String,
    /// The leaf's not-after time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_after: String,
    /// How many trust roots the CA bundle holds (0 without a CA file).
    pub trust_roots: usize,
}

impl std::fmt::Display for CertSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} serial {} not after {}, {} trust root(s)",
            self.subject, self.serial, self.not_after, self.trust_roots
        )
    }
}

/// What a reload did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// New files were loaded and are used by new handshakes.
    Reloaded(CertSummary),
    /// The files hold what is already loaded.
    Unchanged,
}

/// The trust roots and the webpki verifiers built from them (rebuilt at each reload, so a CA
/// rotation takes effect without a restart).
pub(crate) struct Trust {
    pub roots: Arc<RootCertStore>,
    pub client_verifier: Arc<dyn ClientCertVerifier>,
    pub server_verifier: Arc<WebPkiServerVerifier>,
}

/// One consistent set: certificate + key + trust.
pub(crate) struct CertState {
    pub certified_key: Arc<CertifiedKey>,
    pub trust: Option<Trust>,
    pub summary: CertSummary,
    fingerprint: [u8; 32],
}

/// The bytes of the files of one set, read together.
struct FileBytes {
    cert: Vec<u8>,
    key: Vec<u8>,
    ca: Option<Vec<u8>>,
}

impl FileBytes {
    fn fingerprint(&self) -> [u8; 32] {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [Some(&self.cert), Some(&self.key), self.ca.as_ref()] {
            match part {
                Some(bytes) => {
                    ctx.update(&(bytes.len() as u64).to_be_bytes());
                    ctx.update(bytes);
                }
                None => ctx.update(b"none"),
            }
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }
}

/// A certificate, its key and the trust roots, re-read from their files on demand or on change.
pub struct ReloadableCerts {
    label: String,
    paths: CertPaths,
    provider: Arc<CryptoProvider>,
    current: ArcSwap<CertState>,
    /// Fingerprint of the files at the last attempt (loaded or refused), so an unchanged broken
    /// set is reported once, not at every periodic check. Also serialises reloads.
    last_attempt: Mutex<[u8; 32]>,
    /// The node identity a reloaded certificate must keep (the peer set: a node is a member
    /// under its name, and a certificate naming another node would lock it out).
    node_pin: Mutex<Option<String>>,
}

impl std::fmt::Debug for ReloadableCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadableCerts")
            .field("label", &self.label)
            .field("paths", &self.paths)
            .field("current", &self.current.load().summary)
            .finish()
    }
}

impl ReloadableCerts {
    /// Loads the files once; an error here is a start-up error naming the file.
    /// `label` ("peer", "client") names the set in log lines.
    pub fn new(label: &str, paths: CertPaths) -> Result<Arc<ReloadableCerts>, TlsError> {
        let provider = crypto_provider();
        let bytes = read_files(&paths)?;
        let state = build_state(&paths, &provider, &bytes)?;
        let fingerprint = state.fingerprint;
        tracing::info!(certs = %label, cert = %paths.cert.display(), loaded = %state.summary, "certificates loaded");
        warn_if_not_current(label, &state);
        Ok(Arc::new(ReloadableCerts {
            label: label.to_string(),
            paths,
            provider,
            current: ArcSwap::from_pointee(state),
            last_attempt: Mutex::new(fingerprint),
            node_pin: Mutex::new(None),
        }))
    }

    /// From now on a reload is refused unless the new certificate carries node identity
    /// `name`.
    pub fn pin_node_identity(&self, name: String) {
        *self.node_pin.locked() = Some(name);
    }

    fn check_pin(&self, state: &CertState) -> Result<(), TlsError> {
        let pin = self.node_pin.locked().clone();
        let Some(pin) = pin else {
            return Ok(());
        };
        let presented = state
            .certified_key
            .cert
            .first()
            .and_then(super::identity::node_identity);
        if presented.as_deref() == Some(pin.as_str()) {
            return Ok(());
        }
        Err(TlsError::Config(format!(
            "'{}' names node '{}' but this node is '{pin}' (a node's identity cannot change by \
             reload: issue the certificate with --name {pin})",
            self.paths.cert.display(),
            presented.unwrap_or_else(|| "none: not a node certificate".into())
        )))
    }

    /// Re-reads the files now (SIGHUP, admin command). Swaps only a complete, consistent set;
    /// on error the old set stays in use and the error (naming the file) is returned and logged.
    pub fn reload(&self) -> Result<ReloadOutcome, TlsError> {
        self.reload_files(true)
    }

    /// The watcher's check: like [`reload`](Self::reload), but a set that was already refused
    /// is not re-tried (nor re-logged) until its files change again.
    pub(crate) fn reload_if_changed(&self) {
        let _ = self.reload_files(false);
    }

    fn reload_files(&self, explicit: bool) -> Result<ReloadOutcome, TlsError> {
        let mut last_attempt = self.last_attempt.locked();
        let bytes = match read_files(&self.paths) {
            Ok(bytes) => bytes,
            Err(e) => {
                let marker = error_fingerprint(&e);
                if explicit || *last_attempt != marker {
                    tracing::warn!(certs = %self.label, error = %e, "certificate reload failed; keeping the certificates in use");
                }
                *last_attempt = marker;
                return Err(e);
            }
        };
        let fingerprint = bytes.fingerprint();
        if fingerprint == self.current.load().fingerprint {
            *last_attempt = fingerprint;
            if explicit {
                tracing::info!(certs = %self.label, "certificate files unchanged");
            }
            return Ok(ReloadOutcome::Unchanged);
        }
        if !explicit && *last_attempt == fingerprint {
            // Already refused; wait for the files to change again.
            return Ok(ReloadOutcome::Unchanged);
        }
        *last_attempt = fingerprint;
        match build_state(&self.paths, &self.provider, &bytes)
            .and_then(|state| self.check_pin(&state).map(|()| state))
        {
            Ok(state) => {
                let summary = state.summary.clone();
                warn_if_not_current(&self.label, &state);
                self.current.store(Arc::new(state));
                tracing::info!(certs = %self.label, loaded = %summary, "certificates reloaded");
                Ok(ReloadOutcome::Reloaded(summary))
            }
            Err(e) => {
                tracing::warn!(certs = %self.label, error = %e, "certificate reload refused; keeping the certificates in use");
                Err(e)
            }
        }
    }

    /// The certificate chain and key new handshakes present.
    pub fn certified_key(&self) -> Arc<CertifiedKey> {
        self.current.load().certified_key.clone()
    }

    /// The trust roots new handshakes verify against (None without a CA file).
    pub fn trust_roots(&self) -> Option<Arc<RootCertStore>> {
        self.current.load().trust.as_ref().map(|t| t.roots.clone())
    }

    /// What is loaded now.
    pub fn summary(&self) -> CertSummary {
        self.current.load().summary.clone()
    }

    pub fn paths(&self) -> &CertPaths {
        &self.paths
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn state(&self) -> arc_swap::Guard<Arc<CertState>> {
        self.current.load()
    }

    pub(crate) fn provider(&self) -> &Arc<CryptoProvider> {
        &self.provider
    }

    /// Watches the files' directories and re-checks every [`DEFAULT_RECHECK_INTERVAL`];
    /// reloads when the bytes change. Stops when the returned guard is dropped.
    pub fn watch(self: &Arc<Self>) -> Result<CertWatcher, TlsError> {
        self.watch_every(DEFAULT_RECHECK_INTERVAL)
    }

    /// [`watch`](Self::watch) with another periodic re-check interval.
    pub fn watch_every(self: &Arc<Self>, recheck: Duration) -> Result<CertWatcher, TlsError> {
        let (tx, rx) = mpsc::channel::<WatchMessage>();
        let events = tx.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event {
                if is_change(&event.kind) {
                    let _ = events.send(WatchMessage::Changed);
                }
            }
        });
        // Without file events (no inotify, a full watch table) the periodic check still works.
        let watcher = match watcher {
            Ok(mut watcher) => {
                for dir in self.watched_dirs() {
                    if let Err(e) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
                        tracing::warn!(certs = %self.label, dir = %dir.display(), error = %e,
                            "cannot watch a certificate directory; relying on the periodic check");
                    }
                }
                Some(watcher)
            }
            Err(e) => {
                tracing::warn!(certs = %self.label, error = %e,
                    "file events unavailable; relying on the periodic certificate check");
                None
            }
        };
        let certs = Arc::downgrade(self);
        let label = self.label.clone();
        std::thread::Builder::new()
            .name(format!("cert-watch-{label}"))
            .spawn(move || {
                let _watcher = watcher;
                watch_loop(&certs, &rx, recheck);
            })
            .map_err(|e| TlsError::Watch {
                path: self.paths.cert.clone(),
                reason: e.to_string(),
            })?;
        Ok(CertWatcher { stop: tx })
    }

    fn watched_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = [Some(&self.paths.cert), Some(&self.paths.key)]
            .into_iter()
            .chain([self.paths.ca.as_ref()])
            .flatten()
            .map(|p| directory_of(p))
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }
}

/// Stops the watcher thread when dropped: keep it for as long as the certificates should follow
/// their files.
#[derive(Debug)]
#[must_use = "dropping the watcher stops watching the certificate files"]
pub struct CertWatcher {
    stop: mpsc::Sender<WatchMessage>,
}

impl Drop for CertWatcher {
    fn drop(&mut self) {
        let _ = self.stop.send(WatchMessage::Stop);
    }
}

enum WatchMessage {
    Changed,
    Stop,
}

fn watch_loop(certs: &Weak<ReloadableCerts>, rx: &mpsc::Receiver<WatchMessage>, recheck: Duration) {
    loop {
        match rx.recv_timeout(recheck) {
            Ok(WatchMessage::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(WatchMessage::Changed) => loop {
                // Let a burst of writes settle before reading.
                match rx.recv_timeout(SETTLE) {
                    Ok(WatchMessage::Changed) => continue,
                    Ok(WatchMessage::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    Err(RecvTimeoutError::Timeout) => break,
                }
            },
            Err(RecvTimeoutError::Timeout) => {}
        }
        match certs.upgrade() {
            Some(certs) => certs.reload_if_changed(),
            None => return,
        }
    }
}

/// Events that can mean new bytes (our own reads open the files: those are not changes).
fn is_change(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Access(AccessKind::Open(_))
            | EventKind::Access(AccessKind::Read)
            | EventKind::Access(AccessKind::Close(AccessMode::Read))
    )
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn read_files(paths: &CertPaths) -> Result<FileBytes, TlsError> {
    Ok(FileBytes {
        cert: pem::read_file(CERT_FILE, &paths.cert)?,
        key: pem::read_file("key file", &paths.key)?,
        ca: match &paths.ca {
            Some(ca) => Some(pem::read_file(CA_FILE, ca)?),
            None => None,
        },
    })
}

fn error_fingerprint(e: &TlsError) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, e.to_string().as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Parses and cross-checks one set of files; nothing is swapped here.
fn build_state(
    paths: &CertPaths,
    provider: &Arc<CryptoProvider>,
    bytes: &FileBytes,
) -> Result<CertState, TlsError> {
    let chain = pem::parse_certificates(CERT_FILE, &paths.cert, &bytes.cert)?;
    let key = pem::parse_private_key(&paths.key, &bytes.key)?;
    let signing_key =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|_| TlsError::BadPrivateKey {
                path: paths.key.clone(),
            })?;
    let certified_key = CertifiedKey::new(chain, signing_key);
    match certified_key.keys_match() {
        Ok(()) => {}
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            return Err(TlsError::KeyMismatch {
                cert: paths.cert.clone(),
                key: paths.key.clone(),
            })
        }
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => {
            return Err(TlsError::BadPrivateKey {
                path: paths.key.clone(),
            })
        }
        Err(e) => {
            return Err(TlsError::BadCertificate {
                what: CERT_FILE,
                path: paths.cert.clone(),
                reason: e.to_string(),
            })
        }
    }
    let trust = match (&paths.ca, &bytes.ca) {
        (Some(ca_path), Some(ca_bytes)) => Some(build_trust(ca_path, provider, ca_bytes)?),
        _ => None,
    };
    let summary = summarize(&certified_key, trust.as_ref());
    Ok(CertState {
        certified_key: Arc::new(certified_key),
        trust,
        summary,
        fingerprint: bytes.fingerprint(),
    })
}

fn build_trust(
    path: &Path,
    provider: &Arc<CryptoProvider>,
    bytes: &[u8],
) -> Result<Trust, TlsError> {
    let certs = pem::parse_certificates(CA_FILE, path, bytes)?;
    let roots = Arc::new(pem::trust_roots(path, &certs)?);
    let refused = |e: rustls::server::VerifierBuilderError| TlsError::BadTrustRoots {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let client_verifier =
        WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(refused)?;
    let server_verifier =
        WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(refused)?;
    Ok(Trust {
        roots,
        client_verifier,
        server_verifier,
    })
}

fn summarize(key: &CertifiedKey, trust: Option<&Trust>) -> CertSummary {
    let trust_roots = trust.map(|t| t.roots.len()).unwrap_or(0);
    let Some(leaf) = key.cert.first() else {
        return CertSummary {
            subject: "no certificate".into(),
            serial: String::new(),
            not_after: String::new(),
            trust_roots,
        };
    };
    let subject = certificate_names(leaf)
        .map(|n| n.describe())
        .unwrap_or_else(|| "unparseable".into());
    let (serial, not_after) = match x509_parser::parse_x509_certificate(leaf.as_ref()) {
        Ok((_, cert)) => (
            crate::hex::encode(cert.raw_serial()),
            format_unix_time(cert.validity().not_after.timestamp()),
        ),
        Err(_) => (String::new(), String::new()),
    };
    CertSummary {
        subject,
        serial,
        not_after,
        trust_roots,
    }
}

/// Loading an expired certificate is allowed (the operator may be mid-rotation) but said loudly.
fn warn_if_not_current(label: &str, state: &CertState) {
    let Some(leaf) = state.certified_key.cert.first() else {
        return;
    };
    if let Ok((_, cert)) = x509_parser::parse_x509_certificate(leaf.as_ref()) {
        if !cert.validity().is_valid() {
            tracing::warn!(certs = %label, loaded = %state.summary,
                "the loaded certificate is outside its validity period; handshakes will fail");
        }
    }
}
