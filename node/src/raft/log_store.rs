//! The Raft log and Raft metadata (vote, committed, purged) on sled.
//!
//! Every entry is stored sealed with a checksum (`checksum::seal`) and checked when read: a
//! damaged entry is an error, never a wrong entry.
//!
//! Appends are acknowledged to openraft only after an fsync; a single flusher task drains every
//! append waiting at that moment into one `flush`, so concurrent clients share fsyncs (group
//! commit). This module never touches the keyspace.

use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::OptionalSend;
use tokio::sync::{mpsc, watch};

use super::checksum;
use super::{Entry, LogId, TypeConfig, Vote};

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
    flush_requests: mpsc::UnboundedSender<(u64, IOFlushed<TypeConfig>)>,
    /// Index of the last entry handed to `append`.
    appended: watch::Sender<u64>,
    /// Index of the last entry known to be on disk.
    flushed: watch::Sender<u64>,
    mark: Arc<DurableMark>,
}

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
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
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

fn write_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("writing the raft log: {e}"))
}

impl LogStore {
    /// Opens the log trees of `db` and starts the flusher task (needs a tokio runtime);
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
        let flusher_db = db.clone();
        let flusher_flushed = flushed.clone();
        let flusher_appended = appended.clone();
        let flusher_mark = mark.clone();
        std::thread::Builder::new()
            .name("redoubt-log-flush".into())
            .spawn(move || {
                flush_appends(
                    flusher_db,
                    rx,
                    flusher_flushed,
                    flusher_appended,
                    flusher_mark,
                )
            })
            .map_err(sled::Error::Io)?;
        Ok(LogStore {
            inner: Arc::new(LogInner {
                db: db.clone(),
                log,
                meta,
                flush_requests: tx,
                appended,
                flushed,
                mark,
            }),
        })
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> io::Result<Option<T>> {
        match self.inner.meta.get(key).map_err(read_err)? {
            Some(raw) => Ok(Some(postcard::from_bytes(&raw).map_err(read_err)?)),
            None => Ok(None),
        }
    }

    fn put_meta<T: serde::Serialize>(&self, key: &[u8], value: &T) -> io::Result<()> {
        let raw = postcard::to_allocvec(value).map_err(write_err)?;
        self.inner.meta.insert(key, raw).map_err(write_err)?;
        Ok(())
    }

    fn last_log_id(&self) -> io::Result<Option<LogId>> {
        match self.inner.log.last().map_err(read_err)? {
            Some((_, raw)) => Ok(Some(decode_entry(&raw)?.log_id)),
            None => Ok(None),
        }
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

    /// Number of entries currently in the log (for RAFT.INFO / INFO).
    pub fn len(&self) -> usize {
        self.inner.log.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.log.is_empty()
    }
}

/// Group commit: one fsync for every append queued while the previous one ran. Runs on a
/// thread of its own: an fsync blocks, and a dedicated thread wakes faster than a pool's.
fn flush_appends(
    db: sled::Db,
    mut rx: mpsc::UnboundedReceiver<(u64, IOFlushed<TypeConfig>)>,
    flushed: watch::Sender<u64>,
    appended: watch::Sender<u64>,
    mark: Arc<DurableMark>,
) {
    while let Some((first_index, first)) = rx.blocking_recv() {
        let mut last_index = first_index;
        let mut waiting = vec![first];
        while let Ok((index, more)) = rx.try_recv() {
            last_index = index;
            waiting.push(more);
        }
        let started = std::time::Instant::now();
        let result = db.flush();
        tracing::trace!(
            batch = waiting.len(),
            micros = started.elapsed().as_micros() as u64,
            "log flushed"
        );
        if result.is_ok() {
            flushed.send_replace(last_index);
            // Never above the log's end: a truncation may have happened meanwhile.
            mark.write(last_index.min(*appended.borrow()));
        }
        for callback in waiting {
            let outcome = match &result {
                Ok(_) => Ok(()),
                Err(e) => Err(io::Error::other(e.to_string())),
            };
            callback.io_completed(outcome);
        }
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
        Some((k, _)) => k.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0),
        None => 0,
    };
    let purged = match meta.get(KEY_PURGED).map_err(|e| e.to_string())? {
        Some(raw) => postcard::from_bytes::<LogId>(&raw)
            .map(|l| l.index)
            .map_err(|e| format!("raft meta: {e}"))?,
        None => 0,
    };
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
            let index = k
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .unwrap_or_default();
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
        let start = bound_to_start(range.start_bound()).to_be_bytes();
        let iter = match range.end_bound() {
            Bound::Included(e) => self.inner.log.range(start..=e.to_be_bytes()),
            Bound::Excluded(e) => self.inner.log.range(start..e.to_be_bytes()),
            Bound::Unbounded => self.inner.log.range(start..),
        };
        let mut out = Vec::new();
        for item in iter {
            let (_, raw) = item.map_err(read_err)?;
            out.push(decode_entry(&raw)?);
        }
        Ok(out)
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
    fn entries_within(&self, start: u64, end: u64, max_bytes: usize) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for item in self.inner.log.range(start.to_be_bytes()..end.to_be_bytes()) {
            let (_, raw) = item.map_err(read_err)?;
            if !out.is_empty() && bytes + raw.len() > max_bytes {
                break;
            }
            bytes += raw.len();
            out.push(decode_entry(&raw)?);
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
        let mut batch = sled::Batch::default();
        let mut last = None;
        for entry in entries {
            let raw = checksum::seal(postcard::to_allocvec(&entry).map_err(write_err)?);
            batch.insert(&entry.log_id.index.to_be_bytes(), raw);
            last = Some(entry.log_id.index);
        }
        self.inner.log.apply_batch(batch).map_err(write_err)?;
        let last = last.unwrap_or_else(|| *self.inner.appended.borrow());
        self.inner.appended.send_replace(last);
        tracing::trace!(index = last, "appended");
        if let Err(mpsc::error::SendError((_, callback))) =
            self.inner.flush_requests.send((last, callback))
        {
            // The flusher is gone (shutting down): flush here.
            let r = self
                .inner
                .db
                .flush_async()
                .await
                .map(|_| ())
                .map_err(io::Error::other);
            callback.io_completed(r);
        }
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> io::Result<()> {
        // Entries after `last_log_id` go; it stays (None: the whole log goes).
        let keep = last_log_id.map_or(0, |l| l.index);
        let mut batch = sled::Batch::default();
        for item in self.inner.log.range(keep.saturating_add(1).to_be_bytes()..) {
            let (k, _) = item.map_err(write_err)?;
            batch.remove(k);
        }
        self.inner.log.apply_batch(batch).map_err(write_err)?;
        self.inner.appended.send_replace(keep);
        self.inner.mark.write(keep);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> io::Result<()> {
        self.put_meta(KEY_PURGED, &log_id)?;
        let mut batch = sled::Batch::default();
        for item in self.inner.log.range(..=log_id.index.to_be_bytes()) {
            let (k, _) = item.map_err(write_err)?;
            batch.remove(k);
        }
        self.inner.log.apply_batch(batch).map_err(write_err)?;
        Ok(())
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

    #[test]
    fn replication_reads_are_capped_in_bytes_but_never_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new()
            .path(dir.path().join("db"))
            .open()
            .expect("sled");
        let store = LogStore::open(&db, dir.path()).expect("log store");
        // Ten entries of 1 MB, then one of 10 MB, then small ones.
        let mut sizes = vec![1024 * 1024; 10];
        sizes.push(10 * 1024 * 1024);
        sizes.extend([10; 5]);
        for (i, size) in sizes.iter().enumerate() {
            let raw =
                checksum::seal(postcard::to_allocvec(&entry(i as u64 + 1, *size)).expect("encode"));
            store
                .inner
                .log
                .insert((i as u64 + 1).to_be_bytes(), raw)
                .expect("insert");
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
}
