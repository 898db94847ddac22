//! Files at rest: `dir` holds the dataset, the Raft log and the users' password hashes, so
//! what Redoubt writes there is readable by its own user only (files 0600, folders 0700).
//!
//! Three layers: the process umask (0077, set before anything creates a file, so sled's files,
//! snapshots and the logfile are born private), explicit modes where Redoubt creates a file or
//! folder itself, and a check at start. The check never changes `dir` itself (the operator
//! chose it, as Redis leaves its `dir` alone): it warns when group or others may enter it. What
//! Redoubt owns inside (`data/`, `snapshots/`) it tightens, saying so in the log, since a
//! release before this one created those with the default umask.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Bits a private file or folder must not have: any access by group or others.
const SHARED_BITS: u32 = 0o077;
/// The folders under `dir` that only Redoubt writes.
const OWNED: [&str; 2] = ["data", "snapshots"];

/// Makes every file and folder the process creates from now on private to its user.
pub fn restrict_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(SHARED_BITS));
}

/// Creates `dir` (and missing parents) 0700, or checks an existing one: a warning when group
/// or others have access to it, and the files Redoubt owns inside made private again.
pub fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o7777;
            if mode & SHARED_BITS != 0 {
                tracing::warn!(
                    path = %dir.display(),
                    mode = %format!("{mode:04o}"),
                    "dir is accessible by group or others; it holds the dataset and the users' password hashes: chmod 700 it"
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private_dir(dir)?,
        Err(e) => return Err(e),
    }
    for name in OWNED {
        tighten_tree(&dir.join(name));
    }
    Ok(())
}

/// Creates `path` and its missing parents with mode 0700 (whatever the umask).
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(path)
}

/// Writes `data` to `path` (replaced if present) as a 0600 file.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut file = create_private(path)?;
    file.write_all(data)?;
    file.sync_all()
}

/// Creates (or empties) `path` as a 0600 file, for writing.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // A file left by an earlier run keeps its mode on open: set it.
    file.set_permissions(Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Removes group and other access from `root` and everything under it (folders 0700, files
/// 0600), logging each change. Symbolic links are left alone, never followed. A path that
/// cannot be read or changed is logged and skipped: the node still starts.
fn tighten_tree(root: &Path) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot check permissions");
                continue;
            }
        };
        let want = if meta.is_dir() {
            match std::fs::read_dir(&path) {
                Ok(entries) => stack.extend(entries.flatten().map(|e| e.path())),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot list folder")
                }
            }
            0o700
        } else if meta.is_file() {
            0o600
        } else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & SHARED_BITS == 0 {
            continue;
        }
        match std::fs::set_permissions(&path, Permissions::from_mode(want)) {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                was = %format!("{mode:04o}"),
                now = %format!("{want:04o}"),
                "made a file of Redoubt's private"
            ),
            Err(e) => tracing::warn!(
                path = %path.display(),
                mode = %format!("{mode:04o}"),
                error = %e,
                "cannot make a file of Redoubt's private"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p)
            .expect("stat")
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn owned_files_are_tightened_and_dir_is_left_alone() {
        let t = tempfile::tempdir().expect("tmp");
        let dir = t.path().join("d");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, Permissions::from_mode(0o755)).expect("chmod");
        let data = dir.join("data");
        std::fs::create_dir_all(data.join("blobs")).expect("mkdir");
        std::fs::write(data.join("db"), b"x").expect("write");
        for (p, m) in [
            (&data, 0o755),
            (&data.join("blobs"), 0o750),
            (&data.join("db"), 0o644),
        ] {
            std::fs::set_permissions(p, Permissions::from_mode(m)).expect("chmod");
        }
        std::os::unix::fs::symlink("/etc/hostname", data.join("link")).expect("symlink");
        prepare_dir(&dir).expect("prepare");
        assert_eq!(mode(&dir), 0o755, "dir itself is the operator's");
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("blobs")), 0o700);
        assert_eq!(mode(&data.join("db")), 0o600);
    }

    #[test]
    fn a_missing_dir_is_created_private() {
        let t = tempfile::tempdir().expect("tmp");
        let dir = t.path().join("a/b");
        prepare_dir(&dir).expect("prepare");
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        std::fs::write(&file, b"old").expect("write");
        std::fs::set_permissions(&file, Permissions::from_mode(0o644)).expect("chmod");
        write_private(&file, b"new").expect("write_private");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).expect("read"), b"new");
    }
}
