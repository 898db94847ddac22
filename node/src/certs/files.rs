//! The files `redoubt certs` writes: atomic replacement (a node watching the directory never
//! reads half a file), keys created 0600, nothing replaced without `force`; and the names that
//! may become file names.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::CertsError;
use crate::config::Secret;

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

pub(super) fn write_key(path: &Path, key: &Secret, force: bool) -> Result<(), CertsError> {
    write_file(path, key.expose().as_bytes(), 0o600, force)
}

pub(super) fn write_cert(path: &Path, pem: &str, force: bool) -> Result<(), CertsError> {
    write_file(path, pem.as_bytes(), 0o644, force)
}

pub(super) fn create_dir(dir: &Path) -> Result<(), CertsError> {
    std::fs::create_dir_all(dir).map_err(|source| CertsError::Write {
        path: dir.to_path_buf(),
        source,
    })
}

/// A name used as a file name and a CN: letters, digits, `.`, `_`, `-`.
pub(super) fn check_name(what: &str, name: &str) -> Result<(), CertsError> {
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

/// Both files of a pair exist, neither does, or (an error) only one does.
pub(super) fn pair_state(cert: &Path, key: &Path) -> Result<bool, CertsError> {
    match (cert.exists(), key.exists()) {
        (true, true) => Ok(true),
        (false, false) => Ok(false),
        (_, true) => Err(CertsError::Exists(key.to_path_buf())),
        (true, false) => Err(CertsError::Exists(cert.to_path_buf())),
    }
}

/// Without `force`, the first of `paths` that exists is an error.
pub(super) fn refuse_existing(paths: &[&Path], force: bool) -> Result<(), CertsError> {
    if force {
        return Ok(());
    }
    match paths.iter().find(|p| p.exists()) {
        Some(path) => Err(CertsError::Exists(path.to_path_buf())),
        None => Ok(()),
    }
}
