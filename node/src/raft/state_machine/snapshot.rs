//! Snapshots, the RDB of the keyspace: the file format (header, records, CRC-32), writing one
//! from a published view record by record, reading one in a single pass (at start and when one
//! is installed), and installing one received from the leader.
//!
//! Format: header length (u64 BE), header (postcard: last applied log id, membership), then
//! every record as key length (u32 BE), key, value length (u32 BE), value, and last the CRC-32
//! of everything before it. A snapshot is only ever read whole and checked before it replaces
//! anything; memory while reading is the records it holds, never the file twice.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sled::IVec;

use super::{read_acl, snap_err, Membership, StateMachine, View, SNAPSHOT_FILE};
use crate::raft::checksum::{Crc32, LEN as CRC_LEN};
use crate::raft::{LogId, Snapshot, SnapshotMeta};
use crate::store::Records;

/// Serialized snapshot: its metadata then every record of the keyspace.
#[derive(serde::Serialize, serde::Deserialize)]
struct SnapshotHeader {
    last_applied: Option<LogId>,
    membership: Membership,
}

impl SnapshotHeader {
    fn meta(self) -> SnapshotMeta {
        SnapshotMeta {
            last_log_id: self.last_applied,
            last_membership: self.membership,
        }
    }
}

/// Why the snapshot file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotDamaged {
    /// The file is there but its bytes are wrong (checksum, truncation, malformed).
    #[error("the snapshot file '{path}' is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
    /// It could not be read at all (permissions, I/O).
    #[error("cannot read the snapshot: {0}")]
    Io(#[from] io::Error),
}

/// Writes `view` as the snapshot file under `dir`, record by record through a buffer (never
/// the whole snapshot in memory), then moves it in place durably (file and folder synced: the
/// log it replaces may be purged as soon as this returns). Returns the file's path.
pub(super) fn write_file(dir: &Path, view: &View) -> io::Result<PathBuf> {
    struct Out {
        file: BufWriter<File>,
        crc: Crc32,
        unsynced: usize,
    }
    impl Out {
        fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.crc.update(bytes);
            self.file.write_all(bytes)?;
            self.unsynced += bytes.len();
            // Synced as it goes (Redis's rdb-save-incremental-fsync): one large flush at the
            // end would hold up the log's fsyncs behind it for as long as it takes.
            if self.unsynced >= SYNC_EVERY {
                self.file.flush()?;
                self.file.get_ref().sync_data()?;
                self.unsynced = 0;
            }
            Ok(())
        }
    }
    let (tmp, file) = temp_file(dir, "build")?;
    let mut out = Out {
        file: BufWriter::with_capacity(1024 * 1024, file),
        crc: Crc32::new(),
        unsynced: 0,
    };
    let header = postcard::to_allocvec(&SnapshotHeader {
        last_applied: view.applied,
        membership: view.membership.clone(),
    })
    .map_err(snap_err)?;
    out.put(&(header.len() as u64).to_be_bytes())?;
    out.put(&header)?;
    for (k, v) in view.records.iter() {
        out.put(&(k.len() as u32).to_be_bytes())?;
        out.put(k)?;
        out.put(&(v.len() as u32).to_be_bytes())?;
        out.put(v)?;
    }
    let sum = out.crc.finish().to_le_bytes();
    out.file.write_all(&sum)?;
    let file = out.file.into_inner().map_err(|e| e.into_error())?;
    move_in_place(dir, &tmp, file)
}

/// A new private file under `dir` (created 0700 if missing) to write a snapshot into, named
/// after `purpose` so that a build and an install never share one.
fn temp_file(dir: &Path, purpose: &str) -> io::Result<(PathBuf, File)> {
    crate::files::create_private_dir(dir).map_err(snap_err)?;
    let tmp = dir.join(format!("{SNAPSHOT_FILE}.{purpose}.tmp"));
    let file = crate::files::create_private(&tmp).map_err(snap_err)?;
    Ok((tmp, file))
}

/// Makes `tmp` (written through `file`) the current snapshot durably: the file is synced, moved
/// over the old one, and the folder synced, so that the log it covers may be purged as soon as
/// this returns. Returns the snapshot's path.
fn move_in_place(dir: &Path, tmp: &Path, file: File) -> io::Result<PathBuf> {
    file.sync_all()?;
    drop(file);
    let path = super::snapshot_path(dir);
    std::fs::rename(tmp, &path).map_err(snap_err)?;
    File::open(dir)?.sync_all()?;
    Ok(path)
}

/// Loads the snapshot file under `dir`: None when there is none.
pub(super) fn load_current(dir: &Path) -> Result<Option<View>, SnapshotDamaged> {
    let path = super::snapshot_path(dir);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match read_snapshot(&mut file) {
        Ok((header, records)) => Ok(Some(View {
            records,
            applied: header.last_applied,
            membership: header.membership,
        })),
        Err(e) if is_damage(&e) => Err(SnapshotDamaged::Damaged {
            path,
            reason: e.to_string(),
        }),
        Err(e) => Err(e.into()),
    }
}

fn is_damage(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
    )
}

/// Counts the CRC-32 of everything read through it.
struct CrcReader<R> {
    inner: R,
    crc: Crc32,
}

impl<R: Read> Read for CrcReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads the snapshot in `file` in one pass: the header, every record into a fresh map, and
/// the CRC-32 at the end checked against what was read. Nothing outside is touched, so a
/// damaged file changes nothing. Lengths are checked against the file's size before anything
/// is allocated for them.
fn read_snapshot(file: &mut File) -> io::Result<(SnapshotHeader, Records)> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let len = file.metadata()?.len();
    let body = len
        .checked_sub(CRC_LEN as u64)
        .ok_or_else(|| bad("truncated snapshot"))?;
    file.seek(io::SeekFrom::Start(0))?;
    let mut r = CrcReader {
        inner: BufReader::with_capacity(1024 * 1024, (&mut *file).take(body)),
        crc: Crc32::new(),
    };
    let (header, mut pos) = read_header(&mut r, body)?;
    // One buffer for every field: each record is then allocated once, at its size.
    let mut buf = Vec::new();
    let mut field = |r: &mut CrcReader<_>, pos: &mut u64| -> io::Result<IVec> {
        let mut len4 = [0u8; 4];
        r.read_exact(&mut len4)?;
        let n = u64::from(u32::from_be_bytes(len4));
        if *pos + 4 + n > body {
            return Err(bad("malformed snapshot record (checksum mismatch?)"));
        }
        buf.resize(n as usize, 0);
        r.read_exact(&mut buf)?;
        *pos += 4 + n;
        Ok(IVec::from(buf.as_slice()))
    };
    let mut records = Records::new();
    while pos < body {
        let k = field(&mut r, &mut pos)?;
        let v = field(&mut r, &mut pos)?;
        records.insert(k, v);
    }
    let computed = r.crc.finish();
    drop(r);
    let mut sum = [0u8; CRC_LEN];
    file.read_exact(&mut sum)?;
    if computed != u32::from_le_bytes(sum) {
        return Err(bad("damaged snapshot (checksum mismatch)"));
    }
    Ok((header, records))
}

impl StateMachine {
    /// Replaces the state with the snapshot in `file` (received from the leader): read and
    /// checked whole first (a damaged one changes nothing), then kept durably as the current
    /// snapshot (openraft purges the log it covers once this returns), then published.
    pub(super) fn install_file(&mut self, meta: &SnapshotMeta, file: &mut File) -> io::Result<()> {
        let (_, records) = read_snapshot(file)?;
        let (acl, seeds) = read_acl(&records)?;
        file.seek(io::SeekFrom::Start(0))?;
        let (tmp, mut out) = temp_file(&self.snapshot_dir, "install")?;
        io::copy(file, &mut out)?;
        move_in_place(&self.snapshot_dir, &tmp, out)?;
        *self.shared.write() = View {
            records,
            applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
        };
        self.seeds = seeds.clone();
        self.publish(meta.last_log_id, Some((Arc::new(acl), seeds)));
        Ok(())
    }
}

/// The snapshot in `file`: its metadata, read from its header, and the handle (rewound). Only
/// the header is read; the whole file's checksum is checked where it is installed.
pub(super) fn open_snapshot(mut file: File) -> io::Result<Snapshot> {
    let len = file.metadata()?.len();
    let (header, _) = read_header(&mut file, len)?;
    file.seek(io::SeekFrom::Start(0))?;
    Ok(Snapshot {
        meta: header.meta(),
        snapshot: tokio::fs::File::from_std(file),
    })
}

/// Bytes of a snapshot written between two syncs while it is written.
const SYNC_EVERY: usize = 4 * 1024 * 1024;

/// Reads the header at the start of a snapshot of `body` bytes (records included); returns it
/// and the bytes it took. Its length is checked before anything is allocated for it.
fn read_header(r: &mut impl Read, body: u64) -> io::Result<(SnapshotHeader, u64)> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut len8 = [0u8; 8];
    r.read_exact(&mut len8)?;
    let header_len = u64::from_be_bytes(len8);
    if header_len > MAX_SNAPSHOT_HEADER || 8 + header_len > body {
        return Err(bad("malformed snapshot header (checksum mismatch?)"));
    }
    let mut raw = vec![0u8; header_len as usize];
    r.read_exact(&mut raw)?;
    let header = postcard::from_bytes(&raw).map_err(|_| bad("malformed snapshot header"))?;
    Ok((header, 8 + header_len))
}

/// A snapshot header holds a log id and the membership: never near this.
const MAX_SNAPSHOT_HEADER: u64 = 16 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::storage::RaftStateMachine;
    use openraft::RaftSnapshotBuilder;

    use crate::raft::state_machine::tests::{dump, exec_entry, open};

    #[tokio::test]
    async fn a_damaged_snapshot_is_refused_before_anything_is_replaced() {
        let src_dir = tempfile::tempdir().expect("tmp");
        let (mut sm, _shared) = open(src_dir.path());
        sm.apply_entries(vec![exec_entry(1, &[&["set", "a", "1"]])])
            .expect("apply");
        let mut builder = sm.get_snapshot_builder().await;
        let snapshot = builder.build_snapshot().await.expect("build");
        let mut bytes = std::fs::read(src_dir.path().join("snapshots").join(SNAPSHOT_FILE))
            .expect("snapshot file");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        let damaged_path = src_dir.path().join("damaged.bin");
        std::fs::write(&damaged_path, &bytes).expect("write");
        let damaged = tokio::fs::File::open(&damaged_path).await.expect("open");

        let dst_dir = tempfile::tempdir().expect("tmp");
        let (mut other, other_shared) = open(dst_dir.path());
        other
            .apply_entries(vec![exec_entry(1, &[&["set", "mine", "1"]])])
            .expect("apply");
        let before = dump(&other_shared);
        let err = other
            .install_snapshot(&snapshot.meta, damaged)
            .await
            .expect_err("a damaged snapshot");
        assert!(err.to_string().contains("checksum"), "{err}");
        assert_eq!(dump(&other_shared), before);
        let (applied, _) = other.applied_state().await.expect("applied");
        assert_eq!(applied.map(|l| l.index), Some(1));
    }

    #[tokio::test]
    async fn snapshot_round_trips_into_a_fresh_store() {
        let src_dir = tempfile::tempdir().expect("tmp");
        let (mut sm, shared) = open(src_dir.path());
        let replies = sm
            .apply_entries(vec![
                exec_entry(1, &[&["set", "a", "1"], &["set", "b", "2", "px", "100000"]]),
                exec_entry(2, &[&["select", "3"], &["set", "c", "3"]]),
            ])
            .expect("apply");
        assert_eq!(replies.len(), 2);
        let mut builder = sm.get_snapshot_builder().await;
        let snapshot = builder.build_snapshot().await.expect("build");
        assert_eq!(snapshot.meta.last_log_id.map(|l| l.index), Some(2));

        let dst_dir = tempfile::tempdir().expect("tmp");
        let (mut fresh, fresh_shared) = open(dst_dir.path());
        fresh
            .install_snapshot(&snapshot.meta, snapshot.snapshot)
            .await
            .expect("install");
        assert_eq!(dump(&fresh_shared), dump(&shared));
        let (applied, _) = fresh.applied_state().await.expect("applied");
        assert_eq!(applied.map(|l| l.index), Some(2));
        let current = fresh
            .get_current_snapshot()
            .await
            .expect("current")
            .expect("some");
        assert_eq!(current.meta, snapshot.meta);
    }

    #[tokio::test]
    async fn a_restart_loads_the_newest_snapshot_and_writes_go_on_while_one_is_written() {
        let dir = tempfile::tempdir().expect("tmp");
        let (mut sm, shared) = open(dir.path());
        sm.apply_entries(vec![exec_entry(
            1,
            &[&["set", "a", "1"], &["rpush", "l", "x", "y"]],
        )])
        .expect("apply");
        let mut builder = sm.get_snapshot_builder().await;
        // The builder works on the view published so far: a write applied meanwhile is not in
        // this snapshot, and is not held up by it.
        let at_build = dump(&shared);
        sm.apply_entries(vec![exec_entry(2, &[&["set", "b", "2"]])])
            .expect("apply");
        let snapshot = builder.build_snapshot().await.expect("build");
        assert_eq!(snapshot.meta.last_log_id.map(|l| l.index), Some(1));
        drop(sm);
        let (mut restarted, restarted_shared) = open(dir.path());
        assert_eq!(dump(&restarted_shared), at_build);
        let (applied, _) = restarted.applied_state().await.expect("applied");
        assert_eq!(applied.map(|l| l.index), Some(1));
    }
}
