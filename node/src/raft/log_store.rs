//! The Raft log and Raft metadata (vote, committed, purged) on sled.
//!
//! Every entry is stored sealed with a checksum (`checksum::seal`) and checked when read: a
//! damaged entry is an error, never a wrong entry.
//!
//! Every change to the log (append, truncate, purge) goes, in order, to one writer thread:
//! `append` returns as soon as its entries are queued, so the Raft core never waits for an
//! entry to be encoded and written (a large entry would otherwise stop its heartbeats). The
//! writer drains every change waiting at that moment, writes them, and makes them durable with
//! one `flush` before it acknowledges the appends to openraft (group commit: concurrent
//! clients share fsyncs). openraft reads an entry only once its append is acknowledged.
//! This module never touches the keyspace.

use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::OptionalSend;
use tokio::sync::{mpsc, watch};

use super::checksum;
use super::{Entry, LogId, TypeConfig, Vote};
use crate::sync::Locked as _;

const KEY_VOTE: &[u8] = b"vote";
const KEY_COMMITTED: &[u8] = b"committed";
const KEY_PURGED: &[u8] = b"purged";

/// Handle to the log; cheap to clone (the log reader is a clone).
#[derive(Clone)]
pub struct LogStore {
    inner: Arc<LogInner>,
}

struct LogInner {
    db: sled::Db,
    log: sled::Tree,
    meta: sled::Tree,
    writes: mpsc::UnboundedSender<LogWrite>,
    /// Entries handed to `append` that the writer has not written yet: readers see them
    /// (openraft may apply an entry it appended before the entry is durable).
    pending: Pending,
    /// Index of the last entry the writer wrote (not yet durable until `flushed` says so).
    appended: watch::Sender<u64>,
    /// Index of the last entry known to be on disk.
    flushed: watch::Sender<u64>,
}

/// Entries queued for the writer, by index.
type Pending = Arc<std::sync::Mutex<std::collections::BTreeMap<u64, Entry>>>;

/// A record, outside sled, of the highest log index sled has made durable. sled treats a
/// damaged message in its files as the torn end of its log and silently drops everything after
/// it; comparing its last index with this mark at start tells that loss from a clean stop.
/// Written after each flush (no fsync of its own: it is only ever behind what sled made
/// durable, never ahead) and lowered when the log is truncated.
pub struct DurableMark {
    file: std::sync::Mutex<std::fs::File>,
}

impl DurableMark {
    const FILE: &'static str = "durable-index";

    fn open(dir: &std::path::Path) -> io::Result<DurableMark> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(dir.join(Self::FILE))?;
        Ok(DurableMark {
            file: std::sync::Mutex::new(file),
        })
    }

    /// The mark left under `dir` (None: no file yet, a new or older data dir).
    pub fn read(dir: &std::path::Path) -> io::Result<Option<u64>> {
        match std::fs::read_to_string(dir.join(Self::FILE)) {
            Ok(s) if s.trim().is_empty() => Ok(None),
            Ok(s) => s.trim().parse().map(Some).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad {}: {s:?}", Self::FILE),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn write(&self, index: u64) {
        use std::io::{Seek, Write};
        let mut f = self.file.locked();
        // Fixed width: an overwrite in place never leaves a longer old tail.
        let text = format!("{index:020}\n");
        let r = f
            .seek(io::SeekFrom::Start(0))
            .and_then(|_| f.write_all(text.as_bytes()));
        if let Err(e) = r {
            tracing::warn!(error = %e, "cannot write the durable index mark");
        }
    }
}

fn read_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("reading the raft log: {e}"))
}

/// A record of the raft meta tree, decoded.
fn read_meta<T: serde::de::DeserializeOwned>(
    meta: &sled::Tree,
    key: &[u8],
) -> io::Result<Option<T>> {
    match meta.get(key).map_err(read_err)? {
        Some(raw) => Ok(Some(postcard::from_bytes(&raw).map_err(read_err)?)),
        None => Ok(None),
    }
}

/// The index a log record's key holds (None for a malformed key).
fn entry_index(key: &[u8]) -> Option<u64> {
    key.try_into().ok().map(u64::from_be_bytes)
}

fn write_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("writing the raft log: {e}"))
}

impl LogStore {
    /// Opens the log trees of `db` and starts the writer thread;
    /// `dir` holds the durable index mark.
    pub fn open(db: &sled::Db, dir: &std::path::Path) -> Result<LogStore, sled::Error> {
        let mark = Arc::new(DurableMark::open(dir).map_err(sled::Error::Io)?);
        let log = db.open_tree("raft_log")?;
        let meta = db.open_tree("raft_meta")?;
        let (tx, rx) = mpsc::unbounded_channel();
        let last = log
            .last()?
            .map(|(k, _)| crate::store::encoding::hash_at(&k, 0))
            .unwrap_or(0);
        let (appended, _) = watch::channel(last);
        let (flushed, _) = watch::channel(last);
        let pending: Pending = Arc::default();
        let writer = LogWriter {
            pending: pending.clone(),
            db: db.clone(),
            log: log.clone(),
            meta: meta.clone(),
            flushed: flushed.clone(),
            appended: appended.clone(),
            mark: mark.clone(),
            // Leftovers of a purge cut short by a stop go first.
            purge_to: read_meta::<LogId>(&meta, KEY_PURGED)
                .map_err(sled::Error::Io)?
                .map_or(0, |l| l.index),
        };
        std::thread::Builder::new()
            .name("redoubt-log-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(sled::Error::Io)?;
        Ok(LogStore {
            inner: Arc::new(LogInner {
                db: db.clone(),
                log,
                meta,
                writes: tx,
                pending,
                appended,
                flushed,
            }),
        })
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> io::Result<Option<T>> {
        read_meta(&self.inner.meta, key)
    }

    fn put_meta<T: serde::Serialize>(&self, key: &[u8], value: &T) -> io::Result<()> {
        let raw = postcard::to_allocvec(value).map_err(write_err)?;
        self.inner.meta.insert(key, raw).map_err(write_err)?;
        Ok(())
    }

    fn last_log_id(&self) -> io::Result<Option<LogId>> {
        let queued = self
            .inner
            .pending
            .locked()
            .last_key_value()
            .map(|(_, e)| e.log_id);
        if queued.is_some() {
            return Ok(queued);
        }
        match self.inner.log.last().map_err(read_err)? {
            Some((_, raw)) => Ok(Some(decode_entry(&raw)?.log_id)),
            None => Ok(None),
        }
    }

    /// The index of the last entry purged from the log (None: the log holds every entry).
    pub fn purged_index(&self) -> io::Result<Option<u64>> {
        Ok(self.get_meta::<LogId>(KEY_PURGED)?.map(|l| l.index))
    }

    /// The last committed index openraft saved (0 if none).
    pub fn committed_index(&self) -> u64 {
        self.get_meta::<Option<LogId>>(KEY_COMMITTED)
            .ok()
            .flatten()
            .flatten()
            .map_or(0, |l| l.index)
    }

    /// Watches the index of the last appended entry.
    pub fn appended_index(&self) -> watch::Receiver<u64> {
        self.inner.appended.subscribe()
    }

    /// Watches the index of the last entry known to be durable.
    pub fn flushed_index(&self) -> watch::Receiver<u64> {
        self.inner.flushed.subscribe()
    }

    /// Number of entries currently in the log, purged ones excluded (for RAFT.INFO / INFO):
    /// from its ends, without walking it.
    pub fn len(&self) -> usize {
        let index = |kv: Option<(sled::IVec, sled::IVec)>| kv.and_then(|(k, _)| entry_index(&k));
        let (Ok(first), Ok(last)) = (self.inner.log.first(), self.inner.log.last()) else {
            return 0;
        };
        let (Some(first), Some(last)) = (index(first), index(last)) else {
            return 0;
        };
        let purged = self.purged_index().ok().flatten().unwrap_or(0);
        let first = first.max(purged.saturating_add(1));
        if last < first {
            return 0;
        }
        usize::try_from(last - first + 1).unwrap_or(usize::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A change to the log, in the order openraft made it.
enum LogWrite {
    Append(Vec<Entry>, IOFlushed<TypeConfig>),
    /// Remove every entry after this index.
    TruncateAfter(u64, tokio::sync::oneshot::Sender<io::Result<()>>),
    /// Remove every entry up to this log id (recorded as purged).
    Purge(LogId, tokio::sync::oneshot::Sender<io::Result<()>>),
}

/// The one writer of the log. Runs on a thread of its own: encoding a large entry and an fsync
/// both block, and a dedicated thread wakes faster than a pool's.
struct LogWriter {
    pending: Pending,
    db: sled::Db,
    log: sled::Tree,
    meta: sled::Tree,
    /// Index of the last entry known to be on disk.
    flushed: watch::Sender<u64>,
    appended: watch::Sender<u64>,
    mark: Arc<DurableMark>,
    /// Entries up to here are purged (recorded) but may still be on disk: they are removed a
    /// slice at a time between appends, so purging a long log never holds up a write.
    purge_to: u64,
}

/// Entries removed per slice of a purge.
const PURGE_SLICE: usize = 1024;

impl LogWriter {
    fn run(mut self, mut rx: mpsc::UnboundedReceiver<LogWrite>) {
        loop {
            let first = match rx.try_recv() {
                Ok(change) => change,
                Err(mpsc::error::TryRecvError::Disconnected) => return,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if self.purge_slice() {
                        continue;
                    }
                    match rx.blocking_recv() {
                        Some(change) => change,
                        None => return,
                    }
                }
            };
            let mut changes = vec![first];
            while let Ok(more) = rx.try_recv() {
                changes.push(more);
            }
            let mut waiting = Vec::new();
            for change in changes {
                match change {
                    LogWrite::Append(entries, callback) => {
                        let written = self.insert(entries);
                        waiting.push((callback, written));
                    }
                    LogWrite::TruncateAfter(keep, done) => {
                        let _ = done.send(self.truncate_after(keep));
                    }
                    LogWrite::Purge(log_id, done) => {
                        let _ = done.send(self.purge(&log_id));
                    }
                }
            }
            if waiting.is_empty() {
                continue;
            }
            let started = std::time::Instant::now();
            let flushed = self.db.flush();
            tracing::trace!(
                batch = waiting.len(),
                micros = started.elapsed().as_micros() as u64,
                "log flushed"
            );
            if flushed.is_ok() {
                let last = *self.appended.borrow();
                self.flushed.send_replace(last);
                self.mark.write(last);
            }
            for (callback, written) in waiting {
                let outcome = match (&written, &flushed) {
                    (Err(e), _) => Err(io::Error::other(e.to_string())),
                    (Ok(()), Err(e)) => Err(io::Error::other(e.to_string())),
                    (Ok(()), Ok(_)) => Ok(()),
                };
                callback.io_completed(outcome);
            }
        }
    }

    fn insert(&self, entries: Vec<Entry>) -> io::Result<()> {
        // One insert per entry, not a sled batch: a batch adds a manifest record of its own
        // (another write to sync at the next flush), and entries need no atomicity among
        // themselves: sled recovers a prefix of its log, and a prefix of the log is a log.
        let mut last = None;
        for entry in &entries {
            let raw = checksum::seal(postcard::to_allocvec(entry).map_err(write_err)?);
            self.log
                .insert(entry.log_id.index.to_be_bytes(), raw)
                .map_err(write_err)?;
            last = Some(entry.log_id.index);
        }
        // Readers find them in the log now. Only these very entries leave the queue: one at
        // the same index queued since (after a truncation) stays.
        {
            let mut pending = self.pending.locked();
            for entry in &entries {
                if pending.get(&entry.log_id.index).map(|p| p.log_id) == Some(entry.log_id) {
                    pending.remove(&entry.log_id.index);
                }
            }
        }
        if let Some(last) = last {
            self.appended.send_replace(last);
            tracing::trace!(index = last, "appended");
        }
        Ok(())
    }

    fn truncate_after(&self, keep: u64) -> io::Result<()> {
        let mut batch = sled::Batch::default();
        for item in self.log.range(keep.saturating_add(1).to_be_bytes()..) {
            let (k, _) = item.map_err(write_err)?;
            batch.remove(k);
        }
        self.log.apply_batch(batch).map_err(write_err)?;
        self.appended.send_replace(keep);
        self.mark.write(keep);
        Ok(())
    }

    /// Records the purge; the entries go a slice at a time ([`LogWriter::purge_slice`]).
    /// Nothing reads entries at or below the purged index once it is recorded.
    fn purge(&mut self, log_id: &LogId) -> io::Result<()> {
        let raw = postcard::to_allocvec(log_id).map_err(write_err)?;
        self.meta.insert(KEY_PURGED, raw).map_err(write_err)?;
        self.purge_to = self.purge_to.max(log_id.index);
        Ok(())
    }

    /// Removes up to [`PURGE_SLICE`] purged entries still on disk; whether it removed any.
    fn purge_slice(&mut self) -> bool {
        if self.purge_to == 0 {
            return false;
        }
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in self
            .log
            .range(..=self.purge_to.to_be_bytes())
            .take(PURGE_SLICE)
        {
            match item {
                Ok((k, _)) => batch.remove(k),
                Err(e) => {
                    tracing::warn!(error = %e, "removing purged log entries");
                    break;
                }
            }
            n += 1;
        }
        if n == 0 {
            self.purge_to = 0;
            return false;
        }
        if let Err(e) = self.log.apply_batch(batch) {
            tracing::warn!(error = %e, "removing purged log entries");
            self.purge_to = 0;
            return false;
        }
        true
    }
}

/// A stored entry, once its checksum matches.
fn decode_entry(raw: &[u8]) -> io::Result<Entry> {
    let bytes = checksum::unseal(raw).map_err(read_err)?;
    postcard::from_bytes(bytes).map_err(read_err)
}

/// Reads every entry of the log in `db` and checks it (at start: damaged data is refused
/// before it is served), and that the log still reaches the durable mark left under `dir`.
/// The error names the first damaged entry or the entries lost.
pub fn verify(db: &sled::Db, dir: &std::path::Path) -> Result<u64, String> {
    let log = db.open_tree("raft_log").map_err(|e| e.to_string())?;
    let meta = db.open_tree("raft_meta").map_err(|e| e.to_string())?;
    let last = match log.last().map_err(|e| e.to_string())? {
        Some((k, _)) => entry_index(&k).unwrap_or(0),
        None => 0,
    };
    let purged = read_meta::<LogId>(&meta, KEY_PURGED)
        .map_err(|e| format!("raft meta: {e}"))?
        .map_or(0, |l| l.index);
    let end = last.max(purged);
    if let Some(mark) = DurableMark::read(dir).map_err(|e| e.to_string())? {
        if end < mark {
            return Err(format!(
                "the raft log ends at entry {end} but entries up to {mark} were on disk: its files lost data"
            ));
        }
    }
    let mut n = 0;
    for item in log.iter() {
        let (k, raw) = item.map_err(|e| format!("raft log: {e}"))?;
        if decode_entry(&raw).is_err() {
            let index = entry_index(&k).unwrap_or_default();
            return Err(format!(
                "raft log entry {index} is damaged (checksum mismatch)"
            ));
        }
        n += 1;
    }
    Ok(n)
}

fn bound_to_start(b: Bound<&u64>) -> u64 {
    match b {
        Bound::Included(x) => *x,
        Bound::Excluded(x) => x.saturating_add(1),
        Bound::Unbounded => 0,
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> io::Result<Vec<Entry>> {
        let start = bound_to_start(range.start_bound());
        let end = match range.end_bound() {
            Bound::Included(e) => e.saturating_add(1),
            Bound::Excluded(e) => *e,
            Bound::Unbounded => u64::MAX,
        };
        self.entries_within(start, end, usize::MAX)
    }

    async fn read_vote(&mut self) -> io::Result<Option<Vote>> {
        self.get_meta(KEY_VOTE)
    }

    /// What replication sends in one AppendEntries: capped in bytes (see [`MAX_APPEND_BYTES`]).
    async fn limited_get_log_entries(&mut self, start: u64, end: u64) -> io::Result<Vec<Entry>> {
        self.entries_within(start, end, MAX_APPEND_BYTES)
    }
}

/// Bytes of entries one AppendEntries carries at most (a single larger entry still goes, alone):
/// a follower far behind is caught up in calls of bounded size, each with a timeout that grows
/// with its bytes (see `network::append_timeout`), and neither side holds more than this per
/// call.
pub const MAX_APPEND_BYTES: usize = 4 * 1024 * 1024;

impl LogStore {
    /// Entries from `start` to `end` (exclusive), stopping once they add up to `max_bytes`;
    /// never empty when the range is not.
    /// Entries still queued for the writer override the written ones at the same index.
    fn entries_within(&self, start: u64, end: u64, max_bytes: usize) -> io::Result<Vec<Entry>> {
        if start >= end {
            return Ok(Vec::new());
        }
        let mut queued: std::collections::BTreeMap<u64, Entry> = self
            .inner
            .pending
            .locked()
            .range(start..end)
            .map(|(i, e)| (*i, e.clone()))
            .collect();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut next = start;
        let mut take = |entry: Entry, size: usize, out: &mut Vec<Entry>| {
            if !out.is_empty() && bytes.saturating_add(size) > max_bytes {
                return false;
            }
            bytes = bytes.saturating_add(size);
            out.push(entry);
            true
        };
        for item in self.inner.log.range(start.to_be_bytes()..end.to_be_bytes()) {
            let (k, raw) = item.map_err(read_err)?;
            let index = entry_index(&k).unwrap_or(next);
            // Queued entries before this one come first.
            while next < index {
                let Some(entry) = queued.remove(&next) else {
                    break;
                };
                let size = super::entry_size(&entry);
                if !take(entry, size, &mut out) {
                    return Ok(out);
                }
                next += 1;
            }
            let entry = match queued.remove(&index) {
                Some(newer) => newer,
                None => super::heavy(raw.len(), || decode_entry(&raw))?,
            };
            if !take(entry, raw.len(), &mut out) {
                return Ok(out);
            }
            next = index + 1;
        }
        for (_, entry) in queued.into_iter().filter(|(i, _)| *i >= next) {
            let size = super::entry_size(&entry);
            if !take(entry, size, &mut out) {
                break;
            }
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> io::Result<LogState<TypeConfig>> {
        let last_purged_log_id: Option<LogId> = self.get_meta(KEY_PURGED)?;
        let last_log_id = self.last_log_id()?.or(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> io::Result<()> {
        self.put_meta(KEY_VOTE, vote)?;
        self.inner
            .db
            .flush_async()
            .await
            .map_err(|e| io::Error::other(format!("saving the vote: {e}")))?;
        Ok(())
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> io::Result<()> {
        self.put_meta(KEY_COMMITTED, &committed)
    }

    async fn read_committed(&mut self) -> io::Result<Option<LogId>> {
        Ok(self.get_meta::<Option<LogId>>(KEY_COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<TypeConfig>) -> io::Result<()>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        {
            // Cheap copies: argument bytes are shared.
            let mut pending = self.inner.pending.locked();
            for entry in &entries {
                pending.insert(entry.log_id.index, entry.clone());
            }
        }
        if let Err(mpsc::error::SendError(LogWrite::Append(entries, callback))) =
            self.inner.writes.send(LogWrite::Append(entries, callback))
        {
            // The writer is gone (shutting down): nothing more is written.
            let _ = entries;
            callback.io_completed(Err(io::Error::other("the log writer stopped")));
        }
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> io::Result<()> {
        // Entries after `last_log_id` go; it stays (None: the whole log goes).
        let keep = last_log_id.map_or(0, |l| l.index);
        self.inner.pending.locked().retain(|i, _| *i <= keep);
        self.ordered(|done| LogWrite::TruncateAfter(keep, done))
            .await
    }

    async fn purge(&mut self, log_id: LogId) -> io::Result<()> {
        self.ordered(|done| LogWrite::Purge(log_id, done)).await
    }
}

impl LogStore {
    /// Queues a change behind the appends already queued and waits until it is done.
    async fn ordered(
        &self,
        change: impl FnOnce(tokio::sync::oneshot::Sender<io::Result<()>>) -> LogWrite,
    ) -> io::Result<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner
            .writes
            .send(change(tx))
            .map_err(|_| io::Error::other("the log writer stopped"))?;
        rx.await
            .map_err(|_| io::Error::other("the log writer stopped"))?
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use openraft::EntryPayload;

    use super::*;
    use crate::raft::{ExecRequest, Request};

    fn entry(index: u64, value_len: usize) -> Entry {
        Entry {
            log_id: LogId::new(openraft::vote::RaftLeaderId::new(1, 1), index),
            payload: EntryPayload::Normal(Request::Exec(ExecRequest {
                db: 0,
                user: "default".into(),
                internal: false,
                now_ms: 0,
                seed: 0,
                protocol: redoubt_proto::resp::Protocol::Resp2,
                watches: Vec::new(),
                commands: vec![vec![
                    Bytes::from_static(b"set"),
                    Bytes::from_static(b"k"),
                    Bytes::from(vec![b'v'; value_len]),
                ]],
                multi: false,
            })),
        }
    }

    /// A log store in a fresh directory (kept alive by the returned guard and db).
    fn temp_store() -> (tempfile::TempDir, sled::Db, LogStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new()
            .path(dir.path().join("db"))
            .open()
            .expect("sled");
        let store = LogStore::open(&db, dir.path()).expect("log store");
        (dir, db, store)
    }

    /// Writes `entry(index, value_len)` straight into the log tree, as the writer would.
    fn write_raw(store: &LogStore, index: u64, value_len: usize) {
        let raw = checksum::seal(postcard::to_allocvec(&entry(index, value_len)).expect("encode"));
        store
            .inner
            .log
            .insert(index.to_be_bytes(), raw)
            .expect("insert");
    }

    #[test]
    fn replication_reads_are_capped_in_bytes_but_never_empty() {
        let (_dir, _db, store) = temp_store();
        // Ten entries of 1 MB, then one of 10 MB, then small ones.
        let mut sizes = vec![1024 * 1024; 10];
        sizes.push(10 * 1024 * 1024);
        sizes.extend([10; 5]);
        for (i, size) in sizes.iter().enumerate() {
            write_raw(&store, i as u64 + 1, *size);
        }
        let cap = 4 * 1024 * 1024;
        let first = store.entries_within(1, 17, cap).expect("read");
        assert_eq!(first.len(), 3, "3 entries of 1 MB fit under 4 MB, not 4");
        let big = store.entries_within(11, 17, cap).expect("read");
        assert_eq!(big.len(), 1, "an entry larger than the cap goes alone");
        assert_eq!(big[0].log_id.index, 11);
        let small = store.entries_within(12, 17, cap).expect("read");
        assert_eq!(small.len(), 5);
        assert!(store.entries_within(17, 17, cap).expect("read").is_empty());
    }

    #[test]
    fn entries_queued_for_the_writer_are_read_over_the_written_ones() {
        let (_dir, _db, store) = temp_store();
        // Written: 1..=4 with values of 10 bytes; queued: 3..=5 with values of 20 bytes
        // (a newer leader's entries at 3 and 4, as after a truncation).
        for i in 1..=4u64 {
            write_raw(&store, i, 10);
        }
        {
            let mut pending = store.inner.pending.lock().expect("lock");
            for i in 3..=5u64 {
                pending.insert(i, entry(i, 20));
            }
        }
        let value_len = |e: &Entry| match &e.payload {
            EntryPayload::Normal(Request::Exec(r)) => r.commands[0][2].len(),
            _ => 0,
        };
        let all = store.entries_within(1, 100, usize::MAX).expect("read");
        let seen: Vec<(u64, usize)> = all.iter().map(|e| (e.log_id.index, value_len(e))).collect();
        assert_eq!(seen, vec![(1, 10), (2, 10), (3, 20), (4, 20), (5, 20)]);
        let tail = store.entries_within(4, 6, usize::MAX).expect("read");
        assert_eq!(tail.len(), 2);
        assert_eq!(store.last_log_id().expect("last").map(|l| l.index), Some(5));
    }

    #[tokio::test]
    async fn a_purge_is_recorded_at_once_and_its_entries_go_a_slice_at_a_time() {
        let (_dir, _db, mut store) = temp_store();
        for index in 1..=3000 {
            write_raw(&store, index, 10);
        }
        assert_eq!(store.len(), 3000);
        let purged = entry(2500, 0).log_id;
        RaftLogStorage::purge(&mut store, purged)
            .await
            .expect("purge");
        // Recorded: the log starts after it for every reader at once...
        assert_eq!(store.len(), 500);
        let state = store.get_log_state().await.expect("state");
        assert_eq!(state.last_purged_log_id, Some(purged));
        assert_eq!(state.last_log_id.map(|l| l.index), Some(3000));
        // ...and the entries leave the disk in slices between writes.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while store
            .inner
            .log
            .first()
            .expect("first")
            .map(|(k, _)| k.to_vec())
            != Some(2501u64.to_be_bytes().to_vec())
        {
            assert!(std::time::Instant::now() < deadline, "purged entries stay");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let kept = store.entries_within(2501, 3001, usize::MAX).expect("read");
        assert_eq!(kept.len(), 500);
    }
}
