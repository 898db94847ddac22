//! Snapshots: the file format (header, records, CRC-32), building one from the committed
//! state record by record, checking one (at start and before installing), and installing one
//! received from the leader.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use super::{
    read_sm_err, snap_err, Membership, StateMachine, ACL_RECORD, ACL_SEEDS_RECORD, SNAPSHOT_FILE,
};
use crate::acl::replicated::SeedFingerprints;
use crate::acl::AclState;
use crate::raft::{LogId, Snapshot, SnapshotMeta};

/// Serialized snapshot: its metadata then every record of the keyspace tree.
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

impl StateMachine {
    pub(super) fn snapshot_path(&self) -> PathBuf {
        self.snapshot_dir.join(SNAPSHOT_FILE)
    }

    /// Writes the committed state (keyspace + applied pointers) as the snapshot file, record
    /// by record through a buffer (never the whole snapshot in memory), then moves it in place.
    /// Same format as [`for_each_record`] reads: header length, header, records, CRC-32.
    pub(super) fn build_file(&self) -> io::Result<()> {
        use std::io::Write;
        struct Out {
            file: std::io::BufWriter<std::fs::File>,
            crc: crate::raft::checksum::Crc32,
        }
        impl Out {
            fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
                self.crc.update(bytes);
                self.file.write_all(bytes)
            }
        }
        crate::files::create_private_dir(&self.snapshot_dir).map_err(snap_err)?;
        let tmp = self.snapshot_dir.join(format!("{SNAPSHOT_FILE}.tmp"));
        let mut out = Out {
            file: std::io::BufWriter::with_capacity(
                1024 * 1024,
                crate::files::create_private(&tmp).map_err(snap_err)?,
            ),
            crc: crate::raft::checksum::Crc32::new(),
        };
        {
            let _gate = self.shared.read_gate();
            let (last_applied, membership) = self.read_applied()?;
            let header = postcard::to_allocvec(&SnapshotHeader {
                last_applied,
                membership,
            })
            .map_err(snap_err)?;
            out.put(&(header.len() as u64).to_be_bytes())?;
            out.put(&header)?;
            for item in self.shared.keyspace.iter() {
                let (k, v) = item.map_err(read_sm_err)?;
                out.put(&(k.len() as u32).to_be_bytes())?;
                out.put(&k)?;
                out.put(&(v.len() as u32).to_be_bytes())?;
                out.put(&v)?;
            }
        }
        let sum = out.crc.finish().to_le_bytes();
        out.file.write_all(&sum)?;
        let file = out.file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, self.snapshot_path()).map_err(snap_err)?;
        Ok(())
    }
}

/// Checks the snapshot file under `snapshot_dir` at start. A damaged file is removed (the
/// data it was built from is intact, and a new snapshot is built from it): Ok(true) then.
pub fn check_snapshot_file(snapshot_dir: &std::path::Path) -> Result<bool, std::io::Error> {
    let path = snapshot_dir.join(SNAPSHOT_FILE);
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let checked = verify_snapshot_stream(&mut file)
        .and_then(|body| for_each_record(&mut file, body, |_, _| Ok(())));
    match checked {
        Ok(_) => Ok(false),
        Err(e) => {
            tracing::warn!(file = %path.display(), reason = %e, "the snapshot file is damaged: removing it; a new snapshot is built from the intact data");
            std::fs::remove_file(&path)?;
            Ok(true)
        }
    }
}

/// Checks the CRC-32 at the end of the snapshot in `file`, reading it in pieces; returns the
/// length of what it covers, and leaves the file rewound.
fn verify_snapshot_stream(file: &mut std::fs::File) -> io::Result<u64> {
    use std::io::{Read, Seek};
    let damaged = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "damaged snapshot (checksum mismatch)",
        )
    };
    let len = file.metadata()?.len();
    let body = len
        .checked_sub(crate::raft::checksum::LEN as u64)
        .ok_or_else(damaged)?;
    file.seek(io::SeekFrom::Start(0))?;
    let mut crc = crate::raft::checksum::Crc32::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut left = body;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(damaged());
        }
        crc.update(&buf[..n]);
        left -= n as u64;
    }
    let mut sum = [0u8; crate::raft::checksum::LEN];
    file.read_exact(&mut sum)?;
    file.seek(io::SeekFrom::Start(0))?;
    if crc.finish() == u32::from_le_bytes(sum) {
        Ok(body)
    } else {
        Err(damaged())
    }
}

/// Reads the snapshot in `file` (the first `body` bytes: header, then records) in pieces,
/// handing each keyspace record to `f`; returns the header.
fn for_each_record(
    file: &mut std::fs::File,
    body: u64,
    mut f: impl FnMut(&[u8], &[u8]) -> io::Result<()>,
) -> io::Result<SnapshotHeader> {
    use std::io::Read;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed snapshot");
    let mut r = std::io::BufReader::with_capacity(1024 * 1024, (&mut *file).take(body));
    let mut len8 = [0u8; 8];
    r.read_exact(&mut len8).map_err(|_| bad())?;
    let header_len = u64::from_be_bytes(len8);
    if header_len > MAX_SNAPSHOT_HEADER || header_len > body {
        return Err(bad());
    }
    let mut raw = vec![0u8; header_len as usize];
    r.read_exact(&mut raw).map_err(|_| bad())?;
    let header: SnapshotHeader = postcard::from_bytes(&raw).map_err(|_| bad())?;
    let mut pos = 8 + header_len;
    let (mut k, mut v) = (Vec::new(), Vec::new());
    let read_field = |r: &mut std::io::BufReader<_>, out: &mut Vec<u8>, pos: &mut u64| {
        let mut len4 = [0u8; 4];
        r.read_exact(&mut len4).map_err(|_| bad())?;
        let n = u64::from(u32::from_be_bytes(len4));
        if *pos + 4 + n > body {
            return Err(bad());
        }
        out.resize(n as usize, 0);
        r.read_exact(out).map_err(|_| bad())?;
        *pos += 4 + n;
        Ok::<(), io::Error>(())
    };
    while pos < body {
        read_field(&mut r, &mut k, &mut pos)?;
        read_field(&mut r, &mut v, &mut pos)?;
        f(&k, &v)?;
    }
    Ok(header)
}

impl StateMachine {
    /// Replaces the keyspace (and the ACL state) with a snapshot's records, checked first.
    /// Replaces the keyspace (and the ACL state) with the records of the snapshot in `file`,
    /// read in pieces: its checksum is checked in a first pass, before anything is replaced.
    /// Then the file becomes the current snapshot (copied in pieces).
    pub(super) fn install_file(
        &mut self,
        meta: &SnapshotMeta,
        file: &mut std::fs::File,
    ) -> io::Result<()> {
        let body = verify_snapshot_stream(file)?;
        let mut batch = sled::Batch::default();
        for item in self.shared.keyspace.iter() {
            let (k, _) = item.map_err(read_sm_err)?;
            batch.remove(k);
        }
        let acl_key = crate::store::encoding::system_key(ACL_RECORD);
        let seeds_key = crate::store::encoding::system_key(ACL_SEEDS_RECORD);
        let mut acl = AclState::new();
        let mut seeds = SeedFingerprints::new();
        for_each_record(file, body, |k, v| {
            if k == acl_key.as_slice() {
                acl = postcard::from_bytes(v).map_err(snap_err)?;
            } else if k == seeds_key.as_slice() {
                seeds = postcard::from_bytes(v).map_err(snap_err)?;
            }
            batch.insert(k, v);
            Ok(())
        })?;
        self.commit(
            batch,
            meta.last_log_id,
            Some(&meta.last_membership),
            Some((Arc::new(acl), seeds.clone())),
        )?;
        self.seeds = seeds;
        // Keep the installed snapshot as the current one: it is the leader's snapshot file,
        // whose header carries this same meta (last log id, membership).
        use std::io::Seek;
        file.seek(io::SeekFrom::Start(0))?;
        crate::files::create_private_dir(&self.snapshot_dir).map_err(snap_err)?;
        let tmp = self.snapshot_dir.join(format!("{SNAPSHOT_FILE}.tmp"));
        let mut out = crate::files::create_private(&tmp).map_err(snap_err)?;
        std::io::copy(file, &mut out)?;
        out.sync_all()?;
        std::fs::rename(&tmp, self.snapshot_path()).map_err(snap_err)
    }
}

/// The snapshot in `file`: its metadata, read from its header, and the handle (rewound). Only
/// the header is read; the whole file's checksum is checked where it is installed.
pub(super) fn open_snapshot(mut file: std::fs::File) -> io::Result<Snapshot> {
    use std::io::{Read, Seek};
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("snapshot {what}"));
    let mut len8 = [0u8; 8];
    file.read_exact(&mut len8)?;
    let header_len = u64::from_be_bytes(len8);
    if header_len > MAX_SNAPSHOT_HEADER {
        return Err(bad("header too large"));
    }
    let mut raw = vec![0u8; header_len as usize];
    file.read_exact(&mut raw)?;
    let header: SnapshotHeader = postcard::from_bytes(&raw).map_err(|_| bad("header malformed"))?;
    file.seek(io::SeekFrom::Start(0))?;
    Ok(Snapshot {
        meta: header.meta(),
        snapshot: tokio::fs::File::from_std(file),
    })
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
        let (mut sm, _shared, _db) = open(src_dir.path());
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
        let (mut other, other_shared, _db2) = open(dst_dir.path());
        other
            .apply_entries(vec![exec_entry(1, &[&["set", "mine", "1"]])])
            .expect("apply");
        let before = dump(&other_shared.keyspace);
        let err = other
            .install_snapshot(&snapshot.meta, damaged)
            .await
            .expect_err("a damaged snapshot");
        assert!(err.to_string().contains("checksum"), "{err}");
        assert_eq!(dump(&other_shared.keyspace), before);
        let (applied, _) = other.applied_state().await.expect("applied");
        assert_eq!(applied.map(|l| l.index), Some(1));
    }

    #[tokio::test]
    async fn snapshot_round_trips_into_a_fresh_store() {
        let src_dir = tempfile::tempdir().expect("tmp");
        let (mut sm, shared, _db) = open(src_dir.path());
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
        let (mut fresh, fresh_shared, _db2) = open(dst_dir.path());
        fresh
            .install_snapshot(&snapshot.meta, snapshot.snapshot)
            .await
            .expect("install");
        assert_eq!(dump(&fresh_shared.keyspace), dump(&shared.keyspace));
        let (applied, _) = fresh.applied_state().await.expect("applied");
        assert_eq!(applied.map(|l| l.index), Some(2));
        let current = fresh
            .get_current_snapshot()
            .await
            .expect("current")
            .expect("some");
        assert_eq!(current.meta, snapshot.meta);
    }
}
