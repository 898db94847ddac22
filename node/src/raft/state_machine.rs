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

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use futures::StreamExt;
use openraft::storage::{EntryResponder, RaftStateMachine};
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder};
use redoubt_proto::resp::Frame;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use tokio::sync::watch;

use arc_swap::ArcSwap;

use super::{ExecRequest, LogId, Reply, Request, Response, Snapshot, SnapshotMeta, TypeConfig};
use crate::acl::replicated::{self, SeedFingerprints};
use crate::acl::{AclState, Denied};
use crate::commands::{CmdError, CommandSpec, CommandTable, Ctx, Exec, Rng};
use crate::store::{Keyspace, Txn, DATABASES};
use crate::sync::RwLocked as _;

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

/// The ACL state while a batch of entries is applied: copied on the first change.
pub struct AclView {
    pub state: Arc<AclState>,
    pub seeds: SeedFingerprints,
    pub changed: bool,
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

    /// Applies a batch of committed entries in order and commits them (with the applied
    /// pointers) in one transaction; one response per entry.
    pub fn apply_entries(&mut self, entries: Vec<super::Entry>) -> io::Result<Vec<Response>> {
        let mut ks = Keyspace::new(Txn::writable(self.shared.keyspace.clone()), 0, 0, 0);
        let mut acl = AclView {
            state: self.shared.acl.load_full(),
            seeds: self.seeds.clone(),
            changed: false,
        };
        let mut replies = Vec::new();
        let mut last = None;
        let mut membership = None;
        for entry in entries {
            ks.version = entry.log_id.index;
            let reply = match &entry.payload {
                EntryPayload::Blank => Response::One(Reply::ok()),
                EntryPayload::Membership(m) => {
                    membership = Some(Membership::new(Some(entry.log_id), m.clone()));
                    Response::One(Reply::ok())
                }
                EntryPayload::Normal(Request::Exec(req)) => {
                    Response::One(apply_exec(&self.table, &mut ks, &mut acl, req))
                }
                EntryPayload::Normal(Request::Batch(reqs)) => Response::Batch(
                    reqs.iter()
                        .map(|req| apply_exec(&self.table, &mut ks, &mut acl, req))
                        .collect(),
                ),
                EntryPayload::Normal(Request::Expire { db, keys, now_ms }) => {
                    ks.db = *db;
                    ks.now_ms = *now_ms;
                    for key in keys {
                        // lookup through a writable view removes the key if it is expired.
                        ks.lookup(key).map_err(sm_err)?;
                    }
                    Response::One(Reply::ok())
                }
            };
            last = Some(entry.log_id);
            replies.push(reply);
        }
        let published = if acl.changed {
            let state = postcard::to_allocvec(&*acl.state).map_err(sm_err)?;
            let seeds = postcard::to_allocvec(&acl.seeds).map_err(sm_err)?;
            ks.txn
                .put(crate::store::encoding::system_key(ACL_RECORD), state)
                .map_err(sm_err)?;
            ks.txn
                .put(crate::store::encoding::system_key(ACL_SEEDS_RECORD), seeds)
                .map_err(sm_err)?;
            self.seeds = acl.seeds.clone();
            Some((acl.state, acl.seeds))
        } else {
            None
        };
        let t = std::time::Instant::now();
        self.commit(ks.txn.take_writes(), last, membership.as_ref(), published)?;
        tracing::trace!(
            entries = replies.len(),
            commit_us = t.elapsed().as_micros() as u64,
            "applied"
        );
        Ok(replies)
    }

    fn snapshot_path(&self) -> PathBuf {
        self.snapshot_dir.join(SNAPSHOT_FILE)
    }

    /// Writes the committed state (keyspace + applied pointers) as the snapshot file, record
    /// by record through a buffer (never the whole snapshot in memory), then moves it in place.
    /// Same format as [`for_each_record`] reads: header length, header, records, CRC-32.
    fn build_file(&self) -> io::Result<()> {
        use std::io::Write;
        struct Out {
            file: std::io::BufWriter<std::fs::File>,
            crc: super::checksum::Crc32,
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
            crc: super::checksum::Crc32::new(),
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
        .checked_sub(super::checksum::LEN as u64)
        .ok_or_else(damaged)?;
    file.seek(io::SeekFrom::Start(0))?;
    let mut crc = super::checksum::Crc32::new();
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
    let mut sum = [0u8; super::checksum::LEN];
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

/// Applies one client request to the keyspace; the reply goes back to the proposer.
pub fn apply_exec(
    table: &CommandTable,
    ks: &mut Keyspace,
    acl: &mut AclView,
    req: &ExecRequest,
) -> Reply {
    ks.now_ms = req.now_ms;
    let mut rng = Rng::new(req.seed);
    if req.multi {
        for w in &req.watches {
            ks.db = w.db;
            match ks.watch_version(&w.key) {
                Ok(v) if v == w.version => {}
                Ok(_) => {
                    return Reply {
                        frame: Frame::NullArray,
                        db: req.db,
                    }
                }
                Err(e) => {
                    return Reply {
                        frame: CmdError::from(e).to_frame(),
                        db: req.db,
                    }
                }
            }
        }
    }
    ks.db = req.db;
    let mut frames = Vec::with_capacity(req.commands.len());
    for argv in &req.commands {
        frames.push(run_one(table, ks, acl, &mut rng, req, argv));
    }
    let frame = if req.multi {
        Frame::Array(frames)
    } else {
        frames.pop().unwrap_or(Frame::Null)
    };
    Reply { frame, db: ks.db }
}

/// The spec an entry's command line refers to (subcommand specs for containers).
fn entry_spec(table: &CommandTable, argv: &[Bytes]) -> Option<&'static CommandSpec> {
    let name = std::str::from_utf8(argv.first()?).ok()?;
    CommandTable::resolve(table.canonical(name)?, argv).ok()
}

/// Whether the request's user may run `argv` under the ACL state of this entry; the refusal as
/// the client hears it otherwise.
fn permitted(
    acl: &AclState,
    req: &ExecRequest,
    spec: &CommandSpec,
    argv: &[Bytes],
) -> Result<(), Frame> {
    if req.internal {
        return Ok(());
    }
    let denied = match acl.user(&req.user) {
        Some(user) if user.enabled => match user.check(spec, argv) {
            Ok(()) => return Ok(()),
            Err(d) => d,
        },
        // Deleted or disabled since the command was accepted: nothing it may run.
        _ => Denied::Command,
    };
    let text = if req.multi {
        denied.changed_since_queued_message()
    } else {
        denied.message(&req.user, spec)
    };
    Err(Frame::Error(format!("NOPERM {text}")))
}

fn run_one(
    table: &CommandTable,
    ks: &mut Keyspace,
    acl: &mut AclView,
    rng: &mut Rng,
    req: &ExecRequest,
    argv: &[Bytes],
) -> Frame {
    let Some(name) = argv.first().and_then(|n| std::str::from_utf8(n).ok()) else {
        return Frame::error("ERR empty command");
    };
    // Seeds are no client command: only a node proposes them (internal), unchecked.
    let seed_line = name == "acl" && argv.get(1).is_some_and(|s| s.as_ref() == b"seed");
    let spec = match entry_spec(table, argv) {
        Some(spec) => {
            if let Err(frame) = permitted(&acl.state, req, spec, argv) {
                return frame;
            }
            Some(spec)
        }
        None if seed_line => None,
        None => return Frame::error(format!("ERR unknown command '{name}'")),
    };
    if replicated::is_acl_change(argv) {
        let mut next = (*acl.state).clone();
        let mut seeds = acl.seeds.clone();
        let frame = replicated::apply(&mut next, &mut seeds, argv, req.internal);
        if !frame.is_error() && (next != *acl.state || seeds != acl.seeds) {
            acl.state = Arc::new(next);
            acl.seeds = seeds;
            acl.changed = true;
        }
        return frame;
    }
    if name == "select" {
        // SELECT inside MULTI changes the db of the commands after it.
        return match argv
            .get(1)
            .and_then(|a| crate::commands::args::parse_i64_opt(a))
        {
            Some(db) if (0..i64::from(DATABASES)).contains(&db) => {
                ks.db = db as u8;
                Frame::ok()
            }
            Some(_) => Frame::error("ERR DB index is out of range"),
            None => Frame::error("ERR value is not an integer or out of range"),
        };
    }
    let Some(spec) = spec else {
        return Frame::error(format!("ERR unknown command '{name}'"));
    };
    let handler = match spec.exec {
        Exec::Read(h) | Exec::Write(h) => h,
        _ => return Frame::error(format!("ERR '{name}' cannot run in the state machine")),
    };
    let mut ctx = Ctx {
        ks,
        rng,
        protocol: req.protocol,
    };
    handler(&mut ctx, argv).unwrap_or_else(|e| e.to_frame())
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

impl StateMachine {
    /// Replaces the keyspace (and the ACL state) with a snapshot's records, checked first.
    /// Replaces the keyspace (and the ACL state) with the records of the snapshot in `file`,
    /// read in pieces: its checksum is checked in a first pass, before anything is replaced.
    /// Then the file becomes the current snapshot (copied in pieces).
    fn install_file(&mut self, meta: &SnapshotMeta, file: &mut std::fs::File) -> io::Result<()> {
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
fn open_snapshot(mut file: std::fs::File) -> io::Result<Snapshot> {
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
    use std::collections::HashMap;

    use crate::raft::Entry;
    use redoubt_proto::resp::Protocol;

    use super::*;

    fn open(dir: &std::path::Path) -> (StateMachine, Arc<SharedState>, sled::Db) {
        let db = sled::Config::new()
            .path(dir.join("data"))
            .open()
            .expect("sled");
        let table = Arc::new(CommandTable::new(&HashMap::new()).expect("table"));
        let (sm, shared) = StateMachine::open(&db, table, dir.join("snapshots")).expect("sm");
        (sm, shared, db)
    }

    fn exec_entry(index: u64, commands: &[&[&str]]) -> Entry {
        user_entry(
            index,
            "default",
            true,
            commands.iter().map(|c| line(c)).collect(),
        )
    }

    fn dump(tree: &sled::Tree) -> Vec<(Vec<u8>, Vec<u8>)> {
        tree.iter()
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("iter"))
            .collect()
    }

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

    #[tokio::test]
    async fn applying_the_same_entries_gives_the_same_bytes() {
        let entries = || {
            vec![
                exec_entry(1, &[&["set", "k", "v", "ex", "100"], &["set", "n", "10"]]),
                exec_entry(2, &[&["set", "k2", "v2"], &["del", "n"]]),
            ]
        };
        let a = tempfile::tempdir().expect("tmp");
        let b = tempfile::tempdir().expect("tmp");
        let (mut sm_a, shared_a, _da) = open(a.path());
        let (mut sm_b, shared_b, _db) = open(b.path());
        sm_a.apply_entries(entries()).expect("apply a");
        sm_b.apply_entries(entries()).expect("apply b");
        assert_eq!(dump(&shared_a.keyspace), dump(&shared_b.keyspace));
        assert!(!dump(&shared_a.keyspace).is_empty());
    }

    fn user_entry(index: u64, user: &str, multi: bool, commands: Vec<Vec<Bytes>>) -> Entry {
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

    fn line(args: &[&str]) -> Vec<Bytes> {
        args.iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    fn setuser(rules: &[&str]) -> Vec<Bytes> {
        let mut l = line(&["acl", "setuser"]);
        l.extend(crate::acl::hash_rules(&line(rules)));
        l
    }

    fn frames(replies: Vec<Response>) -> Vec<Frame> {
        replies
            .into_iter()
            .map(|r| match r {
                Response::One(r) => r.frame,
                Response::Batch(_) => panic!("unexpected batch"),
            })
            .collect()
    }

    #[tokio::test]
    async fn writes_are_checked_against_the_acl_state_of_their_entry() {
        let dir = tempfile::tempdir().expect("tmp");
        let (mut sm, shared, _db) = open(dir.path());
        let replies = sm
            .apply_entries(vec![
                user_entry(
                    1,
                    "default",
                    false,
                    vec![setuser(&["u", "on", ">pw", "~*", "+@all"])],
                ),
                user_entry(2, "u", false, vec![line(&["set", "before", "1"])]),
                // Both in one batch: the revocation binds the write after it.
                user_entry(3, "default", false, vec![setuser(&["u", "-set"])]),
                user_entry(4, "u", false, vec![line(&["set", "after", "1"])]),
                user_entry(
                    5,
                    "u",
                    true,
                    vec![line(&["get", "before"]), line(&["set", "after", "2"])],
                ),
                user_entry(6, "nobody", false, vec![line(&["get", "before"])]),
            ])
            .expect("apply");
        let f = frames(replies);
        assert_eq!(f[0], Frame::ok());
        assert_eq!(f[1], Frame::ok());
        assert_eq!(f[2], Frame::ok());
        assert_eq!(
            f[3],
            Frame::error("NOPERM User u has no permissions to run the 'set' command")
        );
        let Frame::Array(tx) = &f[4] else {
            panic!("EXEC reply: {:?}", f[4])
        };
        assert_eq!(tx[0], Frame::bulk("1"));
        assert!(
            matches!(&tx[1], Frame::Error(e) if e.starts_with("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand")),
            "{:?}",
            tx[1]
        );
        assert!(
            matches!(&f[5], Frame::Error(e) if e.starts_with("NOPERM")),
            "{:?}",
            f[5]
        );
        let mut ks = Keyspace::new(
            Txn::read_only(shared.keyspace.clone()),
            0,
            1_700_000_000_000,
            0,
        );
        assert!(ks.lookup(b"before").expect("lookup").is_some());
        assert!(ks.lookup(b"after").expect("lookup").is_none());
        let acl = shared.acl.load();
        let u = acl.user("u").expect("user u");
        assert!(u.check_password(b"pw"));
        assert!(!u.check_password(b"other"));
    }

    #[tokio::test]
    async fn no_plaintext_password_reaches_the_store_and_snapshots_carry_the_acl() {
        let dir = tempfile::tempdir().expect("tmp");
        let (mut sm, shared, _db) = open(dir.path());
        sm.apply_entries(vec![user_entry(
            1,
            "default",
            false,
            vec![setuser(&["alice", "on", ">s3cr3t-plain", "~k*", "+get"])],
        )])
        .expect("apply");
        for (k, v) in dump(&shared.keyspace) {
            let hay = [k, v].concat();
            assert!(!hay.windows(12).any(|w| w == b"s3cr3t-plain"));
        }
        let mut builder = sm.get_snapshot_builder().await;
        let snapshot = builder.build_snapshot().await.expect("build");
        let dst = tempfile::tempdir().expect("tmp");
        let (mut fresh, fresh_shared, _db2) = open(dst.path());
        fresh
            .install_snapshot(&snapshot.meta, snapshot.snapshot)
            .await
            .expect("install");
        assert_eq!(**fresh_shared.acl.load(), **shared.acl.load());
        assert!(fresh_shared.acl.load().user("alice").is_some());
    }

    #[tokio::test]
    async fn a_seed_applies_once_per_fingerprint() {
        use crate::acl::replicated::{seed_command, Seed};
        let dir = tempfile::tempdir().expect("tmp");
        let (mut sm, shared, _db) = open(dir.path());
        let seed = Seed {
            source: "requirepass".into(),
            fingerprint: crate::acl::hash_password(b"one"),
            replace_all: false,
            defs: vec![(
                "default".into(),
                crate::acl::hash_rules(&line(&["resetpass", ">one"])),
            )],
        };
        let seed_entry = |index: u64| {
            let mut entry =
                user_entry(index, "", false, vec![seed_command(&seed).expect("encode")]);
            if let EntryPayload::Normal(Request::Exec(req)) = &mut entry.payload {
                req.internal = true;
            }
            entry
        };
        sm.apply_entries(vec![seed_entry(1)]).expect("apply");
        assert!(shared
            .acl
            .load()
            .user("default")
            .expect("default")
            .check_password(b"one"));
        // CONFIG SET requirepass two, then the same seed again (a restart): two stays.
        let mut set = line(&["config", "set", "requirepass"]);
        set.push(crate::acl::replicated::requirepass_command(b"two")[3].clone());
        sm.apply_entries(vec![
            user_entry(2, "default", false, vec![set]),
            seed_entry(3),
        ])
        .expect("apply");
        let acl = shared.acl.load();
        let default = acl.user("default").expect("default");
        assert!(default.check_password(b"two"));
        assert!(!default.check_password(b"one"));
        // A client cannot send a seed.
        let forged = sm
            .apply_entries(vec![user_entry(
                4,
                "default",
                false,
                vec![seed_command(&seed).expect("encode")],
            )])
            .expect("apply");
        assert!(frames(forged)[0].is_error());
    }
}
