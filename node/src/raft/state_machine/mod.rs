//! The replicated state machine: the only writer of the keyspace.
//!
//! The keyspace lives in memory (Redis's model): the Raft log is its AOF and snapshots are its
//! RDB. The state machine applies a batch of committed entries in log order to the records in
//! place, running each command's handler, holding the view's lock exclusively for the batch: a
//! reader sees all of a batch or none of it. Readers hold the lock (shared) only to take an
//! O(1) clone of the records (a persistent map), a point-in-time view they then read without
//! it; a snapshot build does the same, so writes go on while it is written (they copy the few
//! tree nodes they change while a view is alive). Everything it does depends only on the
//! entry: time, randomness and the caller's identity travel inside it, so every node computes
//! the same records. After a restart the newest snapshot is loaded and openraft replays the
//! log after it.
//!
//! It is also the only writer of the ACL state, and it checks every command of every entry
//! against the ACL state as of that entry, so a permission revoked at index N binds every entry
//! after N whichever node accepted it.
//!
//! This file holds the state machine and what it shares with readers, the one publish path
//! (entries and installed snapshots both end in `publish`) and the openraft trait impls;
//! `apply.rs` applies entries (permission checks, running commands) and `snapshot.rs`
//! writes, reads and installs snapshots.

mod apply;
mod snapshot;

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, RwLock, RwLockWriteGuard, TryLockError};

use arc_swap::ArcSwap;
use futures::StreamExt;
use openraft::storage::{EntryResponder, RaftStateMachine};
use openraft::{OptionalSend, RaftSnapshotBuilder};
use tokio::sync::watch;

use self::snapshot::open_snapshot;
use super::{LogId, Snapshot, SnapshotMeta, TypeConfig};
use crate::acl::replicated::SeedFingerprints;
use crate::acl::AclState;
use crate::commands::CommandTable;
use crate::store::Records;
use crate::sync::RwLocked as _;

pub use apply::{apply_exec, AclView};
pub use snapshot::SnapshotDamaged;

type Membership = super::StoredMembership;

/// A snapshot as openraft hands it around: an open handle to its file. Opened once, it keeps
/// reading the snapshot it was opened on even when a newer one replaces the file.
pub type SnapshotFile = tokio::fs::File;

const SNAPSHOT_FILE: &str = "snapshot.bin";

/// The current snapshot's file under `snapshot_dir`.
pub fn snapshot_path(snapshot_dir: &std::path::Path) -> PathBuf {
    snapshot_dir.join(SNAPSHOT_FILE)
}
/// System records (keyspace tree) of the ACL state and of the seeds' fingerprints.
const ACL_RECORD: &str = "acl";
const ACL_SEEDS_RECORD: &str = "acl-seeds";

/// The state machine's data as of one log index: every record, the last applied log id and
/// the membership. Cloning it is O(1) (the records are a persistent map).
#[derive(Clone, Default)]
pub struct View {
    pub records: Records,
    pub applied: Option<LogId>,
    pub membership: Membership,
}

/// What the node shares between the state machine and its readers.
pub struct SharedState {
    /// The state as of the last applied batch. The state machine holds it exclusively while it
    /// applies a batch; readers and snapshot builds hold it shared only to clone it (O(1)).
    view: RwLock<View>,
    /// Last applied log index, for readers waiting to catch up (moves after `view`).
    pub applied_index: watch::Sender<u64>,
    /// The ACL state as of `applied_index` (published before the index moves).
    pub acl: ArcSwap<AclState>,
    /// Fingerprints of the config seeds applied (see `acl::replicated`).
    pub acl_seeds: ArcSwap<SeedFingerprints>,
    /// Bumped after every applied ACL change (the server closes connections of users that
    /// were deleted or disabled).
    pub acl_changes: watch::Sender<u64>,
    /// Number of ACL states published, moved with `acl` before the applied index: a reader
    /// tells whether the rules changed across a wait without touching `acl`'s reference count.
    pub acl_generation: std::sync::atomic::AtomicU64,
}

impl SharedState {
    /// A point-in-time copy of the state (O(1)): all of the last applied batch.
    pub fn view(&self) -> View {
        let guard = match self.view.try_read() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            // A batch is being applied: wait for it without holding up the runtime's other
            // tasks (heartbeats).
            Err(TryLockError::WouldBlock) => super::may_block(|| self.view.read_locked()),
        };
        guard.clone()
    }

    /// The state, exclusively (the state machine, applying a batch).
    fn write(&self) -> RwLockWriteGuard<'_, View> {
        match self.view.try_write() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => super::may_block(|| self.view.write_locked()),
        }
    }
}

/// The ACL state stored in `records` (a fresh one when none was ever written).
fn read_acl(records: &Records) -> io::Result<(AclState, SeedFingerprints)> {
    let get = |name: &str| records.get(crate::store::encoding::system_key(name).as_slice());
    let state = match get(ACL_RECORD) {
        Some(raw) => postcard::from_bytes(raw).map_err(read_sm_err)?,
        None => AclState::new(),
    };
    let seeds = match get(ACL_SEEDS_RECORD) {
        Some(raw) => postcard::from_bytes(raw).map_err(read_sm_err)?,
        None => SeedFingerprints::new(),
    };
    Ok((state, seeds))
}

/// The state machine handed to openraft.
pub struct StateMachine {
    shared: Arc<SharedState>,
    table: Arc<CommandTable>,
    snapshot_dir: PathBuf,
    /// Seed fingerprints as of the last applied entry.
    seeds: SeedFingerprints,
}

fn sm_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("writing the state machine: {e}"))
}

fn read_sm_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("reading the state machine: {e}"))
}

fn snap_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("snapshot: {e}"))
}

impl StateMachine {
    /// Opens the state machine from the snapshot under `snapshot_dir` (empty without one).
    /// A damaged snapshot file is an error ([`SnapshotDamaged`]): the caller decides whether
    /// the log can stand in for it.
    pub fn open(
        table: Arc<CommandTable>,
        snapshot_dir: PathBuf,
    ) -> Result<(StateMachine, Arc<SharedState>), SnapshotDamaged> {
        let data = snapshot::load_current(&snapshot_dir)?.unwrap_or_default();
        let applied = data.applied.map(|l| l.index).unwrap_or(0);
        let (acl, seeds) = read_acl(&data.records).map_err(SnapshotDamaged::from)?;
        let (applied_index, _) = watch::channel(applied);
        let (acl_changes, _) = watch::channel(0);
        let shared = Arc::new(SharedState {
            view: RwLock::new(data),
            applied_index,
            acl: ArcSwap::from_pointee(acl),
            acl_seeds: ArcSwap::from_pointee(seeds.clone()),
            acl_changes,
            acl_generation: std::sync::atomic::AtomicU64::new(0),
        });
        Ok((
            StateMachine {
                shared: shared.clone(),
                table,
                snapshot_dir,
                seeds,
            },
            shared,
        ))
    }

    /// Publishes what a batch (or an installed snapshot) changed, once the view holds it: the
    /// ACL state, then the applied index (in that order: whoever waits for the index sees
    /// both). Applying entries and installing a snapshot both end here.
    fn publish(&self, applied: Option<LogId>, acl: Option<(Arc<AclState>, SeedFingerprints)>) {
        // The ACL state moves before the applied index does: whoever waits for the index
        // (a read barrier before AUTH or ACL LIST) sees the change.
        let acl_changed = acl.is_some();
        if let Some((acl, seeds)) = acl {
            self.shared.acl.store(acl);
            self.shared.acl_seeds.store(Arc::new(seeds));
            self.shared
                .acl_generation
                .fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        if let Some(applied) = applied {
            self.shared.applied_index.send_replace(applied.index);
        }
        if acl_changed {
            self.shared.acl_changes.send_modify(|n| *n += 1);
        }
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = SnapshotFile;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> io::Result<(Option<LogId>, Membership)> {
        let view = self.shared.view();
        Ok((view.applied, view.membership))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> io::Result<()>
    where
        Strm: futures::Stream<Item = io::Result<EntryResponder<TypeConfig>>> + Unpin + OptionalSend,
    {
        let mut batch = Vec::new();
        let mut responders = Vec::new();
        while let Some(item) = entries.next().await {
            let (entry, responder) = item?;
            batch.push(entry);
            responders.push(responder);
        }
        let bytes = batch.iter().map(super::entry_size).sum();
        let replies = super::heavy(bytes, || self.apply_entries(batch))?;
        // Replies leave once the whole batch is published (and readable).
        for (responder, reply) in responders.into_iter().zip(replies) {
            if let Some(responder) = responder {
                responder.send(reply);
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        // The state as of now (openraft asks between two batches): an O(1) copy.
        SnapshotBuilder {
            view: Arc::new(self.shared.view()),
            snapshot_dir: self.snapshot_dir.clone(),
        }
    }

    /// Installs a snapshot received from the leader (the peer service streamed it into a file;
    /// `snapshot` is that file). Its checksum is checked before anything is replaced.
    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: SnapshotFile,
    ) -> io::Result<()> {
        let mut file = snapshot.into_std().await;
        super::may_block(|| self.install_file(meta, &mut file))
    }

    async fn get_current_snapshot(&mut self) -> io::Result<Option<Snapshot>> {
        let file = match std::fs::File::open(snapshot_path(&self.snapshot_dir)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        open_snapshot(file).map(Some)
    }
}

/// Builds a snapshot of the state as of the moment openraft asked for it: a point-in-time copy
/// that later writes do not change, so writes go on while the file is written.
pub struct SnapshotBuilder {
    view: Arc<View>,
    snapshot_dir: PathBuf,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = SnapshotFile;

    async fn build_snapshot(&mut self) -> io::Result<Snapshot> {
        let view = self.view.clone();
        let dir = self.snapshot_dir.clone();
        let path = tokio::task::spawn_blocking(move || snapshot::write_file(&dir, &view))
            .await
            .map_err(snap_err)??;
        open_snapshot(std::fs::File::open(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    use bytes::Bytes;
    use openraft::EntryPayload;
    use redoubt_proto::resp::Protocol;

    use crate::raft::{Entry, ExecRequest, Request};

    pub(super) fn open(dir: &std::path::Path) -> (StateMachine, Arc<SharedState>) {
        let table = Arc::new(CommandTable::new(&HashMap::new()).expect("table"));
        StateMachine::open(table, dir.join("snapshots")).expect("sm")
    }

    pub(super) fn exec_entry(index: u64, commands: &[&[&str]]) -> Entry {
        user_entry(
            index,
            "default",
            true,
            commands.iter().map(|c| line(c)).collect(),
        )
    }

    /// Every record of the published view.
    pub(super) fn dump(shared: &SharedState) -> Vec<(Vec<u8>, Vec<u8>)> {
        shared
            .view()
            .records
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect()
    }

    pub(super) fn user_entry(
        index: u64,
        user: &str,
        multi: bool,
        commands: Vec<Vec<Bytes>>,
    ) -> Entry {
        Entry {
            log_id: LogId::new(openraft::vote::RaftLeaderId::new(1, 1), index),
            payload: EntryPayload::Normal(Request::Exec(ExecRequest {
                db: 0,
                user: user.into(),
                internal: false,
                now_ms: 1_700_000_000_000,
                seed: index,
                protocol: Protocol::Resp2,
                watches: Vec::new(),
                commands,
                multi,
            })),
        }
    }

    pub(super) fn line(args: &[&str]) -> Vec<Bytes> {
        args.iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }
}
