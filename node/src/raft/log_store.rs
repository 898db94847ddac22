//! The Raft log and Raft metadata (vote, committed, purged) on sled.
//!
//! Appends are acknowledged to openraft only after an fsync; a single flusher task drains every
//! append waiting at that moment into one `flush`, so concurrent clients share fsyncs (group
//! commit). This module never touches the keyspace.

use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{Entry, LogId, OptionalSend, StorageError, StorageIOError, Vote};
use tokio::sync::{mpsc, watch};

use super::TypeConfig;

type NodeId = u64;

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
    flush_requests: mpsc::UnboundedSender<(u64, LogFlushed<TypeConfig>)>,
    /// Index of the last entry handed to `append`.
    appended: watch::Sender<u64>,
    /// Index of the last entry known to be on disk.
    flushed: watch::Sender<u64>,
}

fn read_err(e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageIOError::read_logs(&e).into()
}

fn write_err(e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageIOError::write_logs(&e).into()
}

impl LogStore {
    /// Opens the log trees of `db` and starts the flusher task (needs a tokio runtime).
    pub fn open(db: &sled::Db) -> Result<LogStore, sled::Error> {
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
        std::thread::Builder::new()
            .name("redoubt-log-flush".into())
            .spawn(move || flush_appends(flusher_db, rx, flusher_flushed))
            .map_err(sled::Error::Io)?;
        Ok(LogStore {
            inner: Arc::new(LogInner {
                db: db.clone(),
                log,
                meta,
                flush_requests: tx,
                appended,
                flushed,
            }),
        })
    }

    fn get_meta<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, StorageError<NodeId>> {
        match self.inner.meta.get(key).map_err(read_err)? {
            Some(raw) => Ok(Some(postcard::from_bytes(&raw).map_err(read_err)?)),
            None => Ok(None),
        }
    }

    fn put_meta<T: serde::Serialize>(
        &self,
        key: &[u8],
        value: &T,
    ) -> Result<(), StorageError<NodeId>> {
        let raw = postcard::to_allocvec(value).map_err(write_err)?;
        self.inner.meta.insert(key, raw).map_err(write_err)?;
        Ok(())
    }

    fn last_log_id(&self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        match self.inner.log.last().map_err(read_err)? {
            Some((_, raw)) => {
                let entry: Entry<TypeConfig> = postcard::from_bytes(&raw).map_err(read_err)?;
                Ok(Some(entry.log_id))
            }
            None => Ok(None),
        }
    }

    /// The last committed index openraft saved (0 if none).
    pub fn committed_index(&self) -> u64 {
        self.get_meta::<Option<LogId<NodeId>>>(KEY_COMMITTED)
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
    mut rx: mpsc::UnboundedReceiver<(u64, LogFlushed<TypeConfig>)>,
    flushed: watch::Sender<u64>,
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
        }
        for callback in waiting {
            let outcome = match &result {
                Ok(_) => Ok(()),
                Err(e) => Err(io::Error::other(e.to_string())),
            };
            callback.log_io_completed(outcome);
        }
    }
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
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        let start = bound_to_start(range.start_bound()).to_be_bytes();
        let iter = match range.end_bound() {
            Bound::Included(e) => self.inner.log.range(start..=e.to_be_bytes()),
            Bound::Excluded(e) => self.inner.log.range(start..e.to_be_bytes()),
            Bound::Unbounded => self.inner.log.range(start..),
        };
        let mut out = Vec::new();
        for item in iter {
            let (_, raw) = item.map_err(read_err)?;
            out.push(postcard::from_bytes(&raw).map_err(read_err)?);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let last_purged_log_id: Option<LogId<NodeId>> = self.get_meta(KEY_PURGED)?;
        let last_log_id = self.last_log_id()?.or(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        self.put_meta(KEY_VOTE, vote)?;
        self.inner
            .db
            .flush_async()
            .await
            .map_err(|e| StorageError::from(StorageIOError::write_vote(&e)))?;
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        self.get_meta(KEY_VOTE)
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId<NodeId>>,
    ) -> Result<(), StorageError<NodeId>> {
        self.put_meta(KEY_COMMITTED, &committed)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        Ok(self
            .get_meta::<Option<LogId<NodeId>>>(KEY_COMMITTED)?
            .flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut batch = sled::Batch::default();
        let mut last = None;
        for entry in entries {
            let raw = postcard::to_allocvec(&entry).map_err(write_err)?;
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
            callback.log_io_completed(r);
        }
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let mut batch = sled::Batch::default();
        for item in self.inner.log.range(log_id.index.to_be_bytes()..) {
            let (k, _) = item.map_err(write_err)?;
            batch.remove(k);
        }
        self.inner.log.apply_batch(batch).map_err(write_err)?;
        self.inner
            .appended
            .send_replace(log_id.index.saturating_sub(1));
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
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
