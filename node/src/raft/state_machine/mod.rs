//! The replicated state machine: the only writer of the keyspace.
//!
//! It applies committed entries in log order, running each command's handler over a write
//! overlay, and commits a whole batch of entries together with `last_applied` and the membership
//! in one sled transaction. Everything it does depends only on the entry: time, randomness and
//! the caller's identity travel inside it, so every node produces the same bytes. Readers on the
//! serving node see either all of a batch or none of it (the apply gate).
//!
//! It is also the only writer of the ACL state, and it checks every command of every entry
//! against the ACL state as of that entry, so a permission revoked at index N binds every entry
//! after N whichever node accepted it.
//!
//! This file holds the state machine and what it shares with readers, the one commit path
//! (entries and installed snapshots both end in `commit`) and the openraft trait impls;
//! `apply.rs` applies entries (permission checks, running commands) and `snapshot.rs`
//! builds, checks and installs snapshots.

mod apply;
mod snapshot;

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwap;
use futures::StreamExt;
use openraft::storage::{EntryResponder, RaftStateMachine};
use openraft::{OptionalSend, RaftSnapshotBuilder};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use tokio::sync::watch;

use self::snapshot::open_snapshot;
use super::{LogId, Snapshot, SnapshotMeta, TypeConfig};
use crate::acl::replicated::SeedFingerprints;
use crate::acl::AclState;
use crate::commands::CommandTable;
use crate::sync::RwLocked as _;

pub use apply::{apply_exec, AclView};
pub use snapshot::check_snapshot_file;

type Membership = super::StoredMembership;

/// A snapshot as openraft hands it around: an open handle to its file. Opened once, it keeps
/// reading the snapshot it was opened on even when a newer one replaces the file.
pub type SnapshotFile = tokio::fs::File;

const KEY_APPLIED: &[u8] = b"last_applied";
const KEY_MEMBERSHIP: &[u8] = b"membership";
const SNAPSHOT_FILE: &str = "snapshot.bin";
/// System records (keyspace tree) of the ACL state and of the seeds' fingerprints.
const ACL_RECORD: &str = "acl";
const ACL_SEEDS_RECORD: &str = "acl-seeds";

/// What the node shares between the state machine and its readers.
pub struct SharedState {
    pub keyspace: sled::Tree,
    pub sm_meta: sled::Tree,
    /// Readers hold it shared while they run a command; the state machine holds it exclusively
    /// while it commits a batch, so a read never sees half of one.
    pub apply_gate: RwLock<()>,
    /// Last applied log index, for readers waiting to catch up.
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
    /// The apply gate, shared (readers). Waiting for it (a batch or a snapshot build holds it
    /// exclusively) never blocks a runtime worker that other tasks (heartbeats) need.
    pub fn read_gate(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        match self.apply_gate.try_read() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                super::may_block(|| self.apply_gate.read_locked())
            }
        }
    }

    /// The apply gate, exclusive (the state machine, committing a batch).
    fn write_gate(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        match self.apply_gate.try_write() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                super::may_block(|| self.apply_gate.write_locked())
            }
        }
    }
}

/// The ACL state stored in `keyspace` (a fresh one when none was ever written).
fn read_acl(keyspace: &sled::Tree) -> io::Result<(AclState, SeedFingerprints)> {
    let get = |name: &str| {
        keyspace
            .get(crate::store::encoding::system_key(name))
            .map_err(read_sm_err)
    };
    let state = match get(ACL_RECORD)? {
        Some(raw) => postcard::from_bytes(&raw).map_err(read_sm_err)?,
        None => AclState::new(),
    };
    let seeds = match get(ACL_SEEDS_RECORD)? {
        Some(raw) => postcard::from_bytes(&raw).map_err(read_sm_err)?,
        None => SeedFingerprints::new(),
    };
    Ok((state, seeds))
}

/// The state machine handed to openraft.
pub struct StateMachine {
    shared: Arc<SharedState>,
    table: Arc<CommandTable>,
    snapshot_dir: PathBuf,
    db: sled::Db,
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
    pub fn open(
        db: &sled::Db,
        table: Arc<CommandTable>,
        snapshot_dir: PathBuf,
    ) -> Result<(StateMachine, Arc<SharedState>), sled::Error> {
        let keyspace = db.open_tree("keyspace")?;
        let sm_meta = db.open_tree("sm_meta")?;
        let applied = match sm_meta.get(KEY_APPLIED)? {
            Some(raw) => postcard::from_bytes::<Option<LogId>>(&raw)
                .ok()
                .flatten()
                .map(|l| l.index)
                .unwrap_or(0),
            None => 0,
        };
        let (applied_index, _) = watch::channel(applied);
        let (acl, seeds) = read_acl(&keyspace)
            .map_err(|e| sled::Error::Io(io::Error::new(io::ErrorKind::InvalidData, e)))?;
        let (acl_changes, _) = watch::channel(0);
        let shared = Arc::new(SharedState {
            keyspace,
            sm_meta,
            apply_gate: RwLock::new(()),
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
                db: db.clone(),
                seeds,
            },
            shared,
        ))
    }

    fn read_applied(&self) -> io::Result<(Option<LogId>, Membership)> {
        let applied = match self.shared.sm_meta.get(KEY_APPLIED).map_err(read_sm_err)? {
            Some(raw) => postcard::from_bytes(&raw).map_err(read_sm_err)?,
            None => None,
        };
        let membership = match self
            .shared
            .sm_meta
            .get(KEY_MEMBERSHIP)
            .map_err(read_sm_err)?
        {
            Some(raw) => postcard::from_bytes(&raw).map_err(read_sm_err)?,
            None => Membership::default(),
        };
        Ok((applied, membership))
    }

    /// Commits `batch` (keyspace writes) with the new applied pointers in one transaction,
    /// under the gate. Applying entries and installing a snapshot both end here.
    fn commit(
        &self,
        batch: sled::Batch,
        applied: Option<LogId>,
        membership: Option<&Membership>,
        acl: Option<(Arc<AclState>, SeedFingerprints)>,
    ) -> io::Result<()> {
        let applied_raw = postcard::to_allocvec(&applied).map_err(sm_err)?;
        let membership_raw = match membership {
            Some(m) => Some(postcard::to_allocvec(m).map_err(sm_err)?),
            None => None,
        };
        let _gate = self.shared.write_gate();
        (&self.shared.keyspace, &self.shared.sm_meta)
            .transaction(|(keyspace, meta)| {
                keyspace.apply_batch(&batch)?;
                meta.insert(KEY_APPLIED, applied_raw.as_slice())?;
                if let Some(m) = &membership_raw {
                    meta.insert(KEY_MEMBERSHIP, m.as_slice())?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|e: TransactionError<()>| match e {
                TransactionError::Storage(e) => sm_err(e),
                TransactionError::Abort(()) => sm_err("transaction aborted"),
            })?;
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
        if let Some(applied) = &applied {
            self.shared.applied_index.send_replace(applied.index);
        }
        if acl_changed {
            self.shared.acl_changes.send_modify(|n| *n += 1);
        }
        Ok(())
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = SnapshotFile;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> io::Result<(Option<LogId>, Membership)> {
        self.read_applied()
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
        // Replies leave once the whole batch is committed (and readable).
        for (responder, reply) in responders.into_iter().zip(replies) {
            if let Some(responder) = responder {
                responder.send(reply);
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            sm: StateMachine {
                shared: self.shared.clone(),
                table: self.table.clone(),
                snapshot_dir: self.snapshot_dir.clone(),
                db: self.db.clone(),
                seeds: self.seeds.clone(),
            },
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
        super::may_block(|| self.install_file(meta, &mut file))?;
        self.db.flush_async().await.map_err(sm_err)?;
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> io::Result<Option<Snapshot>> {
        let file = match std::fs::File::open(self.snapshot_path()) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        open_snapshot(file).map(Some)
    }
}

/// Builds snapshots from the committed state machine.
pub struct SnapshotBuilder {
    sm: StateMachine,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = SnapshotFile;

    async fn build_snapshot(&mut self) -> io::Result<Snapshot> {
        // The state machine must be durable before the log it replaces can be purged.
        self.sm.db.flush_async().await.map_err(sm_err)?;
        super::heavy(usize::MAX, || self.sm.build_file())?;
        open_snapshot(std::fs::File::open(self.sm.snapshot_path())?)
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

    pub(super) fn open(dir: &std::path::Path) -> (StateMachine, Arc<SharedState>, sled::Db) {
        let db = sled::Config::new()
            .path(dir.join("data"))
            .open()
            .expect("sled");
        let table = Arc::new(CommandTable::new(&HashMap::new()).expect("table"));
        let (sm, shared) = StateMachine::open(&db, table, dir.join("snapshots")).expect("sm");
        (sm, shared, db)
    }

    pub(super) fn exec_entry(index: u64, commands: &[&[&str]]) -> Entry {
        user_entry(
            index,
            "default",
            true,
            commands.iter().map(|c| line(c)).collect(),
        )
    }

    pub(super) fn dump(tree: &sled::Tree) -> Vec<(Vec<u8>, Vec<u8>)> {
        tree.iter()
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("iter"))
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
