//! The keyspace's records in memory, and the view one command works on.
//!
//! [`Records`] is a persistent ordered map (`imbl::OrdMap`): cloning it is O(1) and the clone
//! is a point-in-time view that later writes never change (they copy the few tree nodes they
//! touch). The state machine owns the working copy and changes it in place through a writable
//! [`Txn`]; after each batch it publishes a clone, which readers and snapshots use without a
//! lock. This module never decides what to write.

use std::ops::Bound;

use sled::IVec;

use super::StoreError;

/// Every record of the keyspace, ordered by key (see `encoding` for the layout).
pub type Records = imbl::OrdMap<IVec, IVec>;

/// A view of the keyspace's records: writable (the state machine's working copy) or read-only
/// (a published point-in-time view).
pub struct Txn {
    map: Records,
    writable: bool,
}

impl Txn {
    /// A view that only reads; a write through it is a bug and is refused.
    pub fn read_only(map: Records) -> Txn {
        Txn {
            map,
            writable: false,
        }
    }

    /// A view whose writes change `map` at once (later reads see them).
    pub fn writable(map: Records) -> Txn {
        Txn {
            map,
            writable: true,
        }
    }

    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The records, leaving this view empty.
    pub fn take_records(&mut self) -> Records {
        std::mem::take(&mut self.map)
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        Ok(self.map.get(key).cloned())
    }

    pub fn put(&mut self, key: Vec<u8>, value: impl Into<IVec>) -> Result<(), StoreError> {
        if !self.writable {
            return Err(StoreError::ReadOnly);
        }
        self.map.insert(IVec::from(key), value.into());
        Ok(())
    }

    pub fn remove(&mut self, key: Vec<u8>) -> Result<(), StoreError> {
        if !self.writable {
            return Err(StoreError::ReadOnly);
        }
        self.map.remove(key.as_slice());
        Ok(())
    }

    /// Records with keys in `[start, end)` (end `None`: unbounded); `reverse` walks from the
    /// end.
    pub fn range(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> Range<'_> {
        let hi = match end {
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        };
        let iter = self
            .map
            .range::<(Bound<&[u8]>, Bound<&[u8]>), [u8]>((Bound::Included(start), hi));
        Range {
            inner: if reverse {
                Box::new(iter.rev())
            } else {
                Box::new(iter)
            },
        }
    }

    /// All records whose key starts with `prefix`.
    pub fn prefix(&self, prefix: &[u8], reverse: bool) -> Range<'_> {
        let end = prefix_end(prefix);
        self.range(prefix, end.as_deref(), reverse)
    }
}

/// The smallest key greater than every key starting with `prefix` (None: no such key).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Records of a range, in key order (or reversed). Items are results so that handlers read
/// them the same way whatever holds the records.
pub struct Range<'a> {
    inner: Box<dyn Iterator<Item = (&'a IVec, &'a IVec)> + 'a>,
}

impl Iterator for Range<'_> {
    type Item = Result<(IVec, IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(k, v)| Ok((k.clone(), v.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(iter: Range<'_>) -> Vec<Vec<u8>> {
        iter.map(|r| r.expect("ok").0.to_vec()).collect()
    }

    #[test]
    fn ranges_walk_both_ways_and_a_published_view_never_changes() {
        let mut txn = Txn::writable(Records::new());
        for k in [&b"a"[..], b"b", b"c", b"e", b"f"] {
            txn.put(k.to_vec(), b"v".to_vec()).expect("put");
        }
        let published = txn.take_records();
        let mut txn = Txn::writable(published.clone());
        txn.remove(b"e".to_vec()).expect("remove");
        txn.put(b"c".to_vec(), b"new".to_vec()).expect("put");
        assert_eq!(
            keys(txn.range(b"b", Some(b"f"), false)),
            vec![b"b".to_vec(), b"c".to_vec()]
        );
        assert_eq!(
            keys(txn.prefix(b"", true)),
            vec![b"f".to_vec(), b"c".to_vec(), b"b".to_vec(), b"a".to_vec()]
        );
        assert_eq!(txn.get(b"c").expect("get").as_deref(), Some(&b"new"[..]));
        let old = Txn::read_only(published);
        assert_eq!(old.get(b"c").expect("get").as_deref(), Some(&b"v"[..]));
        assert_eq!(keys(old.prefix(b"", false)).len(), 5);
    }

    #[test]
    fn read_only_view_refuses_writes() {
        let mut txn = Txn::read_only(Records::new());
        assert!(txn.put(b"a".to_vec(), b"b".to_vec()).is_err());
    }

    #[test]
    fn prefix_end_skips_trailing_ff() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff]), None);
    }
}
