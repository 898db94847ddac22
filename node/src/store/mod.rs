//! The keyspace in memory: typed access to keys, their expiry and their members.
//!
//! [`Keyspace`] is what command handlers see. Through a writable [`Txn`] it is used only by the
//! state machine (the only writer of the keyspace); through a read-only one (a published
//! point-in-time view) by reads. It knows the record layout ([`encoding`]) and keeps the per-db
//! counters and the expiry index in step with every change; it never decides what a command
//! means. Durability is not its business: the Raft log and snapshots carry it.

pub mod encoding;
pub mod txn;

use bytes::Bytes;
use sled::IVec;

use encoding::*;
pub use encoding::{KeyType, Meta};
pub use txn::{Records, Txn};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("corrupt record: {0}")]
    Corrupt(&'static str),
    #[error("write through a read-only view")]
    ReadOnly,
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
}

/// Number of databases (SELECT 0..15).
pub const DATABASES: u8 = 16;

/// The bit a WATCH version carries when the key was absent or expired (log indexes never
/// reach it).
pub const GONE: u64 = 1 << 63;

/// Tombstones kept for WATCH (see `Keyspace::bury`).
pub const TOMBSTONES_MAX: u64 = 65_536;

/// The keyspace as one command sees it: the selected db, the time it runs at, and the log
/// index it runs as (0 for reads).
pub struct Keyspace {
    pub txn: Txn,
    pub db: u8,
    /// Wall-clock time of the request in unix ms: fixed by the proposer for writes so that every
    /// node decides expiry the same way.
    pub now_ms: u64,
    /// Log index of the entry being applied; becomes the version of every key it changes.
    pub version: u64,
}

/// What a SCAN-like walk returns: the next cursor (0: done) and the records visited.
pub struct ScanPage {
    pub cursor: u64,
    pub items: Vec<(IVec, IVec)>,
}

impl Keyspace {
    pub fn new(txn: Txn, db: u8, now_ms: u64, version: u64) -> Keyspace {
        Keyspace {
            txn,
            db,
            now_ms,
            version,
        }
    }

    /// The live record of `key`: None if absent or expired. Through a writable view an expired
    /// key is removed on the way (the write that follows starts from nothing).
    pub fn lookup(&mut self, key: &[u8]) -> Result<Option<Meta>, StoreError> {
        let Some(meta) = self.read_meta(&meta_key(self.db, key))? else {
            return Ok(None);
        };
        if meta.is_expired(self.now_ms) {
            if self.txn.is_writable() {
                self.remove_key_record(key, &meta)?;
                // Expired: to WATCH it was gone already (see `watch_version`).
                self.bury(key, meta.version)?;
            }
            return Ok(None);
        }
        Ok(Some(meta))
    }

    /// Like [`Keyspace::lookup`] but a key of another type is `WRONGTYPE`.
    pub fn lookup_typed(&mut self, key: &[u8], ty: KeyType) -> Result<Option<Meta>, StoreError> {
        match self.lookup(key)? {
            Some(meta) if meta.ty != ty => Err(StoreError::WrongType),
            other => Ok(other),
        }
    }

    /// Writes `meta` as the record of `key`, stamping the version and keeping the expiry index
    /// and counters right. A collection whose count reached 0 is deleted instead (as Redis
    /// removes empty collections).
    pub fn save_meta(&mut self, key: &[u8], meta: &mut Meta) -> Result<(), StoreError> {
        if meta.ty != KeyType::String && meta.count == 0 {
            self.delete(key)?;
            return Ok(());
        }
        let mkey = meta_key(self.db, key);
        let old = self.read_meta(&mkey)?;
        self.replace_meta(key, mkey, old.as_ref(), meta)
    }

    /// The record at `mkey` as stored (expired or not).
    fn read_meta(&self, mkey: &[u8]) -> Result<Option<Meta>, StoreError> {
        match self.txn.get(mkey)? {
            Some(raw) => Ok(Some(Meta::decode(&raw)?)),
            None => Ok(None),
        }
    }

    /// Writes `meta` over `old` (the record stored at `mkey`, if any): the expiry index and the
    /// counters are touched only when they change.
    fn replace_meta(
        &mut self,
        key: &[u8],
        mkey: Vec<u8>,
        old: Option<&Meta>,
        meta: &mut Meta,
    ) -> Result<(), StoreError> {
        let old_expiry = old.and_then(|o| o.expire_at);
        if old_expiry != meta.expire_at {
            if let Some(at) = old_expiry {
                self.txn.remove(expiry_key(self.db, at, key))?;
            }
            if let Some(at) = meta.expire_at {
                self.txn
                    .put(expiry_key(self.db, at, key), IVec::default())?;
            }
        }
        if old.is_none() || old_expiry.is_some() != meta.expire_at.is_some() {
            let (mut keys, mut expires) = self.counters(self.db)?;
            if old.is_none() {
                keys += 1;
            }
            if old_expiry.is_some() {
                expires = expires.saturating_sub(1);
            }
            if meta.expire_at.is_some() {
                expires += 1;
            }
            self.put_counters(self.db, keys, expires)?;
        }
        meta.version = self.version;
        self.txn.put(mkey, meta.encode())?;
        Ok(())
    }

    /// Makes `meta` the record of `key` whatever it held before (SET, *STORE destinations):
    /// members of an old collection are removed first.
    pub fn overwrite(&mut self, key: &[u8], meta: &mut Meta) -> Result<(), StoreError> {
        if meta.ty != KeyType::String && meta.count == 0 {
            self.delete(key)?;
            return Ok(());
        }
        let mkey = meta_key(self.db, key);
        let mut old = self.read_meta(&mkey)?;
        if let Some(o) = &old {
            // A collection (or an expired one) goes with its members; an expired string is
            // simply replaced.
            if o.ty != KeyType::String || meta.ty != KeyType::String {
                self.remove_key_record(key, o)?;
                old = None;
            }
        }
        self.replace_meta(key, mkey, old.as_ref(), meta)
    }

    /// Deletes `key` if it is live. Returns whether it was.
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, StoreError> {
        let Some(meta) = self.read_meta(&meta_key(self.db, key))? else {
            return Ok(false);
        };
        let live = !meta.is_expired(self.now_ms);
        self.remove_key_record(key, &meta)?;
        self.bury(key, if live { self.version } else { meta.version })?;
        Ok(live)
    }

    /// Remembers that `key` of the selected db went (a tombstone holding `index`), so that a
    /// WATCH taken while it existed, or before it was created and deleted again, sees the
    /// change. Only the newest [`TOMBSTONES_MAX`] are kept (oldest first out): a WATCH that
    /// spans more deletions than that may miss a key created and deleted meanwhile.
    fn bury(&mut self, key: &[u8], index: u64) -> Result<(), StoreError> {
        self.txn
            .put(tombstone_key(self.db, key), index.to_be_bytes().to_vec())?;
        self.txn
            .put(tombstone_queue_key(index, self.db, key), IVec::default())?;
        let mut count = self
            .txn
            .get(TOMBSTONE_COUNT)?
            .map(|raw| hash_at(&raw, 0))
            .unwrap_or(0)
            + 1;
        while count > TOMBSTONES_MAX {
            let oldest = self
                .txn
                .prefix(&[TAG_TOMBSTONE_QUEUE], false)
                .next()
                .transpose()?;
            let Some((queued, _)) = oldest else {
                break;
            };
            let (at, db) = (hash_at(&queued, 1), queued.get(9).copied().unwrap_or(0));
            let stone = tombstone_key(db, queued.get(10..).unwrap_or_default());
            if self.txn.get(&stone)?.map(|raw| hash_at(&raw, 0)) == Some(at) {
                self.txn.remove(stone)?;
            }
            self.txn.remove(queued.to_vec())?;
            count -= 1;
        }
        self.txn
            .put(TOMBSTONE_COUNT.to_vec(), count.to_be_bytes().to_vec())
    }

    /// Removes the record, members and expiry entry of a physically present key.
    fn remove_key_record(&mut self, key: &[u8], meta: &Meta) -> Result<(), StoreError> {
        if meta.ty != KeyType::String {
            self.remove_members(&member_prefix(self.db, key))?;
        }
        let (keys, mut expires) = self.counters(self.db)?;
        if let Some(at) = meta.expire_at {
            self.txn.remove(expiry_key(self.db, at, key))?;
            expires = expires.saturating_sub(1);
        }
        self.put_counters(self.db, keys.saturating_sub(1), expires)?;
        self.txn.remove(meta_key(self.db, key))?;
        Ok(())
    }

    fn remove_members(&mut self, prefix: &[u8]) -> Result<(), StoreError> {
        let keys: Vec<IVec> = self
            .txn
            .prefix(prefix, false)
            .map(|r| r.map(|(k, _)| k))
            .collect::<Result<_, _>>()?;
        for k in keys {
            self.txn.remove(k.to_vec())?;
        }
        Ok(())
    }

    /// Sets or clears the expiry of a live key; false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<u64>) -> Result<bool, StoreError> {
        let Some(mut meta) = self.lookup(key)? else {
            return Ok(false);
        };
        meta.expire_at = at;
        self.save_meta(key, &mut meta)?;
        Ok(true)
    }

    /// Copies `src` (a live record) with all its members to `dst` in `dst_db`, replacing what
    /// `dst` held. Used by RENAME, COPY and MOVE.
    pub fn copy_key(
        &mut self,
        src: &[u8],
        meta: &Meta,
        dst_db: u8,
        dst: &[u8],
        keep_ttl: bool,
    ) -> Result<(), StoreError> {
        let src_db = self.db;
        let src_prefix = member_prefix(src_db, src);
        let members: Vec<(IVec, IVec)> = if meta.ty == KeyType::String {
            Vec::new()
        } else {
            self.txn
                .prefix(&src_prefix, false)
                .collect::<Result<_, _>>()?
        };
        self.db = dst_db;
        let result = (|| {
            self.delete(dst)?;
            let dst_prefix = member_prefix(dst_db, dst);
            for (k, v) in members {
                let mut nk = dst_prefix.clone();
                nk.extend_from_slice(&k[src_prefix.len()..]);
                self.txn.put(nk, v)?;
            }
            let mut copy = meta.clone();
            if !keep_ttl {
                copy.expire_at = None;
            }
            self.save_meta(dst, &mut copy)
        })();
        self.db = src_db;
        result
    }

    /// Removes every key of `db`.
    pub fn flush_db(&mut self, db: u8) -> Result<(), StoreError> {
        for tag in [TAG_META, TAG_MEMBER, TAG_EXPIRY, TAG_TOMBSTONE] {
            self.remove_members(&[tag, db])?;
        }
        self.put_counters(db, 0, 0)?;
        // One mark for the whole db instead of a tombstone per key (see `watch_version`).
        self.txn
            .put(flushed_key(db), self.version.to_be_bytes().to_vec())
    }

    /// (keys, keys with an expiry) of `db`, expired-but-not-yet-removed keys included.
    pub fn counters(&self, db: u8) -> Result<(u64, u64), StoreError> {
        Ok(match self.txn.get(&counters_key(db))? {
            Some(raw) if raw.len() == 16 => (hash_at(&raw, 0), hash_at(&raw, 8)),
            _ => (0, 0),
        })
    }

    fn put_counters(&mut self, db: u8, keys: u64, expires: u64) -> Result<(), StoreError> {
        let mut v = Vec::with_capacity(16);
        v.extend_from_slice(&keys.to_be_bytes());
        v.extend_from_slice(&expires.to_be_bytes());
        self.txn.put(counters_key(db), v)
    }

    /// Walks records laid out as `prefix + hash(8) + name` from `cursor` (a hash; 0 = start),
    /// visiting about `count` of them; never stops between two records of the same hash.
    pub fn scan_hashed(
        &self,
        prefix: &[u8],
        cursor: u64,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        let mut start = prefix.to_vec();
        start.extend_from_slice(&cursor.to_be_bytes());
        let end = txn::prefix_end(prefix);
        let mut items = Vec::new();
        let mut last_hash = None;
        for item in self.txn.range(&start, end.as_deref(), false) {
            let (k, v) = item?;
            let h = hash_at(&k, prefix.len());
            if items.len() >= count.max(1) && last_hash != Some(h) {
                return Ok(ScanPage { cursor: h, items });
            }
            last_hash = Some(h);
            items.push((k, v));
        }
        Ok(ScanPage { cursor: 0, items })
    }

    /// A live key chosen from `point` (a random hash): the first key at or after it, wrapping.
    pub fn key_at_or_after(&mut self, point: u64) -> Result<Option<Bytes>, StoreError> {
        let prefix = meta_prefix(self.db);
        let mut start = prefix.clone();
        start.extend_from_slice(&point.to_be_bytes());
        let end = txn::prefix_end(&prefix);
        for from in [start, prefix.clone()] {
            let mut expired_seen = 0;
            for item in self.txn.range(&from, end.as_deref(), false) {
                let (k, v) = item?;
                if Meta::decode(&v)?.is_expired(self.now_ms) {
                    expired_seen += 1;
                    if expired_seen > 100 {
                        break;
                    }
                    continue;
                }
                return Ok(Some(Bytes::copy_from_slice(user_key_of_meta(&k))));
            }
        }
        Ok(None)
    }

    /// Every live key of the selected db, in SCAN order, for KEYS.
    pub fn all_keys(&self) -> Result<Vec<(Bytes, Meta)>, StoreError> {
        let mut out = Vec::new();
        for item in self.txn.prefix(&meta_prefix(self.db), false) {
            let (k, v) = item?;
            let meta = Meta::decode(&v)?;
            if !meta.is_expired(self.now_ms) {
                out.push((Bytes::copy_from_slice(user_key_of_meta(&k)), meta));
            }
        }
        Ok(out)
    }

    /// Keys of `db` whose expiry is at or before `now_ms`, at most `limit`.
    pub fn expired_keys(
        &self,
        db: u8,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<Bytes>, StoreError> {
        let prefix = [TAG_EXPIRY, db];
        let mut end = prefix.to_vec();
        end.extend_from_slice(&now_ms.saturating_add(1).to_be_bytes());
        let mut out = Vec::new();
        for item in self.txn.range(&prefix, Some(&end), false) {
            let (k, _) = item?;
            out.push(Bytes::copy_from_slice(k.get(10..).unwrap_or_default()));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The version of `key` for WATCH: its last change index, 0 when absent or expired.
    ///
    /// A live key gives the index that last changed it. A key that is gone gives [`GONE`] plus
    /// the index it went at (its tombstone, or the last FLUSHDB of its db); an expired one
    /// gives `GONE` plus its last change, whether or not it was removed yet. So EXEC aborts
    /// (the version differs) when a watched key was changed, created, deleted, created and
    /// deleted again, or expired since WATCH; not when a key already expired at WATCH is then
    /// removed (Redis 7 does the same). Unlike Redis, a FLUSHDB also aborts transactions
    /// watching keys that did not exist. Never changes anything (expired keys stay).
    pub fn watch_version(&self, key: &[u8]) -> Result<u64, StoreError> {
        if let Some(meta) = self.read_meta(&meta_key(self.db, key))? {
            return Ok(if meta.is_expired(self.now_ms) {
                GONE | meta.version
            } else {
                meta.version
            });
        }
        let index_of = |raw: Option<IVec>| raw.map(|raw| hash_at(&raw, 0)).unwrap_or(0);
        let stone = index_of(self.txn.get(&tombstone_key(self.db, key))?);
        let flushed = index_of(self.txn.get(&flushed_key(self.db))?);
        Ok(GONE | stone.max(flushed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyspace(now: u64) -> Keyspace {
        Keyspace::new(Txn::writable(Records::new()), 0, now, 1)
    }

    #[test]
    fn counters_follow_creates_deletes_and_expiry() {
        let mut ks = keyspace(1000);
        ks.save_meta(b"a", &mut Meta::string(Bytes::from_static(b"1")))
            .expect("save");
        let mut b = Meta::string(Bytes::from_static(b"2"));
        b.expire_at = Some(5000);
        ks.save_meta(b"b", &mut b).expect("save");
        assert_eq!(ks.counters(0).expect("c"), (2, 1));
        assert_eq!(
            ks.expired_keys(0, 5000, 10).expect("e"),
            vec![Bytes::from_static(b"b")]
        );
        assert!(ks.set_expire(b"b", None).expect("persist"));
        assert_eq!(ks.counters(0).expect("c"), (2, 0));
        assert!(ks.expired_keys(0, 5000, 10).expect("e").is_empty());
        assert!(ks.delete(b"a").expect("del"));
        assert_eq!(ks.counters(0).expect("c"), (1, 0));
    }

    #[test]
    fn expired_key_is_absent_and_removed_on_write() {
        let mut ks = keyspace(10_000);
        let mut m = Meta::string(Bytes::from_static(b"v"));
        m.expire_at = Some(9_000);
        ks.save_meta(b"k", &mut m).expect("save");
        assert!(ks.lookup(b"k").expect("lookup").is_none());
        assert_eq!(ks.counters(0).expect("c"), (0, 0));
    }

    #[test]
    fn scan_visits_every_key_once_across_pages() {
        let mut ks = keyspace(0);
        for i in 0..500 {
            let k = format!("key:{i}");
            ks.save_meta(k.as_bytes(), &mut Meta::string(Bytes::from_static(b"x")))
                .expect("save");
        }
        let mut cursor = 0;
        let mut seen = std::collections::HashSet::new();
        loop {
            let page = ks.scan_hashed(&meta_prefix(0), cursor, 10).expect("scan");
            for (k, _) in page.items {
                assert!(seen.insert(k.to_vec()), "duplicate");
            }
            cursor = page.cursor;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 500);
    }

    #[test]
    fn watch_versions_change_on_every_removal_and_tombstones_stay_bounded() {
        let mut ks = keyspace(1_000);
        let absent = ks.watch_version(b"k").expect("version");
        assert_eq!(absent, GONE);
        ks.version = 5;
        ks.save_meta(b"k", &mut Meta::string(Bytes::from_static(b"v")))
            .expect("save");
        assert_eq!(ks.watch_version(b"k").expect("version"), 5);
        ks.version = 6;
        assert!(ks.delete(b"k").expect("del"));
        // Created and deleted again: not what a WATCH before index 5 saw.
        assert_eq!(ks.watch_version(b"k").expect("version"), GONE | 6);
        // Expired: gone at once, and the same after its removal.
        let mut m = Meta::string(Bytes::from_static(b"v"));
        m.expire_at = Some(2_000);
        ks.version = 7;
        ks.save_meta(b"e", &mut m).expect("save");
        ks.now_ms = 3_000;
        assert_eq!(ks.watch_version(b"e").expect("version"), GONE | 7);
        ks.version = 8;
        assert!(ks.lookup(b"e").expect("lookup").is_none());
        assert_eq!(ks.watch_version(b"e").expect("version"), GONE | 7);
        // Only the newest tombstones stay.
        for i in 0..TOMBSTONES_MAX + 10 {
            let key = format!("t{i}");
            ks.version = 100 + i;
            ks.save_meta(key.as_bytes(), &mut Meta::string(Bytes::from_static(b"x")))
                .expect("save");
            ks.delete(key.as_bytes()).expect("del");
        }
        let stones = ks.txn.prefix(&[encoding::TAG_TOMBSTONE], false).count() as u64;
        assert_eq!(stones, TOMBSTONES_MAX);
        assert_eq!(ks.watch_version(b"t0").expect("version"), GONE);
        let last = format!("t{}", TOMBSTONES_MAX + 9);
        assert_eq!(
            ks.watch_version(last.as_bytes()).expect("version"),
            GONE | (100 + TOMBSTONES_MAX + 9)
        );
        // FLUSHDB: one mark for the db.
        ks.version = 1_000_000;
        ks.flush_db(0).expect("flush");
        assert_eq!(ks.watch_version(b"k").expect("version"), GONE | 1_000_000);
        assert_eq!(
            ks.txn.prefix(&[encoding::TAG_TOMBSTONE, 0], false).count(),
            0
        );
    }
}
