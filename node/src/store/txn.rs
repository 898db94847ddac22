//! A write overlay over one sled tree.
//!
//! The state machine applies a batch of Raft entries into a [`Txn`]: every write lands in an
//! in-memory overlay that later reads (of the same entry or of the next entries of the batch)
//! see, and the whole overlay is committed at once with `last_applied`. Reads served to clients
//! use a read-only `Txn` straight over the tree. This module never decides what to write.

use std::collections::BTreeMap;
use std::ops::Bound;

use sled::IVec;

use super::StoreError;

/// A view of the keyspace tree plus pending writes.
pub struct Txn {
    tree: sled::Tree,
    overlay: BTreeMap<Vec<u8>, Option<IVec>>,
    writable: bool,
}

impl Txn {
    /// A view that only reads; a write through it is a bug and is refused.
    pub fn read_only(tree: sled::Tree) -> Txn {
        Txn {
            tree,
            overlay: BTreeMap::new(),
            writable: false,
        }
    }

    /// A view whose writes are buffered until [`Txn::take_writes`].
    pub fn writable(tree: sled::Tree) -> Txn {
        Txn {
            tree,
            overlay: BTreeMap::new(),
            writable: true,
        }
    }

    pub fn is_writable(&self) -> bool {
        self.writable
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        if let Some(pending) = self.overlay.get(key) {
            return Ok(pending.clone());
        }
        Ok(self.tree.get(key)?)
    }

    pub fn put(&mut self, key: Vec<u8>, value: impl Into<IVec>) -> Result<(), StoreError> {
        if !self.writable {
            return Err(StoreError::ReadOnly);
        }
        self.overlay.insert(key, Some(value.into()));
        Ok(())
    }

    pub fn remove(&mut self, key: Vec<u8>) -> Result<(), StoreError> {
        if !self.writable {
            return Err(StoreError::ReadOnly);
        }
        self.overlay.insert(key, None);
        Ok(())
    }

    /// Pending writes, in key order, leaving the overlay empty.
    pub fn take_writes(&mut self) -> sled::Batch {
        let mut batch = sled::Batch::default();
        for (key, value) in std::mem::take(&mut self.overlay) {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        batch
    }

    pub fn has_writes(&self) -> bool {
        !self.overlay.is_empty()
    }

    /// Entries with keys in `[start, end)` (end `None`: unbounded), merged from the overlay and
    /// the tree; `reverse` walks from the end.
    pub fn range(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> MergedRange<'_> {
        let lo = Bound::Included(start.to_vec());
        let hi = match end {
            Some(end) => Bound::Excluded(end.to_vec()),
            None => Bound::Unbounded,
        };
        let tree_iter = self.tree.range::<Vec<u8>, _>((lo.clone(), hi.clone()));
        let overlay_iter = self.overlay.range::<Vec<u8>, _>((lo, hi));
        MergedRange {
            tree: if reverse {
                Box::new(tree_iter.rev())
            } else {
                Box::new(tree_iter)
            },
            overlay: if reverse {
                Box::new(overlay_iter.rev())
            } else {
                Box::new(overlay_iter)
            },
            tree_next: None,
            overlay_next: None,
            reverse,
            started: false,
        }
    }

    /// All entries whose key starts with `prefix`.
    pub fn prefix(&self, prefix: &[u8], reverse: bool) -> MergedRange<'_> {
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

type TreeIter<'a> = Box<dyn Iterator<Item = sled::Result<(IVec, IVec)>> + 'a>;
type OverlayIter<'a> = Box<dyn Iterator<Item = (&'a Vec<u8>, &'a Option<IVec>)> + 'a>;

/// Iterator merging overlay and tree; overlay entries win and deletions hide tree entries.
pub struct MergedRange<'a> {
    tree: TreeIter<'a>,
    overlay: OverlayIter<'a>,
    tree_next: Option<(IVec, IVec)>,
    overlay_next: Option<(&'a Vec<u8>, &'a Option<IVec>)>,
    reverse: bool,
    started: bool,
}

impl<'a> MergedRange<'a> {
    fn fill(&mut self) -> Result<(), StoreError> {
        if self.tree_next.is_none() {
            if let Some(item) = self.tree.next() {
                self.tree_next = Some(item?);
            }
        }
        if self.overlay_next.is_none() {
            self.overlay_next = self.overlay.next();
        }
        Ok(())
    }
}

impl<'a> Iterator for MergedRange<'a> {
    type Item = Result<(IVec, IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.started = true;
        loop {
            if let Err(e) = self.fill() {
                return Some(Err(e));
            }
            let take_overlay = match (&self.tree_next, &self.overlay_next) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((tk, _)), Some((ok, _))) => {
                    let ord = tk.as_ref().cmp(ok.as_slice());
                    if ord == std::cmp::Ordering::Equal {
                        // The overlay shadows the tree's entry.
                        self.tree_next = None;
                        true
                    } else if self.reverse {
                        ord == std::cmp::Ordering::Less
                    } else {
                        ord == std::cmp::Ordering::Greater
                    }
                }
            };
            if take_overlay {
                let (key, value) = self.overlay_next.take()?;
                match value {
                    Some(value) => return Some(Ok((IVec::from(key.as_slice()), value.clone()))),
                    None => continue,
                }
            }
            return self.tree_next.take().map(Ok);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> sled::Tree {
        let db = sled::Config::new().temporary(true).open().expect("open");
        db.open_tree("t").expect("tree")
    }

    fn keys(iter: MergedRange<'_>) -> Vec<Vec<u8>> {
        iter.map(|r| r.expect("ok").0.to_vec()).collect()
    }

    #[test]
    fn overlay_shadows_and_hides_tree_entries_in_both_directions() {
        let t = tree();
        for k in [b"a", b"c", b"e"] {
            t.insert(k, b"tree").expect("insert");
        }
        let mut txn = Txn::writable(t);
        txn.put(b"b".to_vec(), b"new".to_vec()).expect("put");
        txn.put(b"c".to_vec(), b"over".to_vec()).expect("put");
        txn.remove(b"e".to_vec()).expect("remove");
        assert_eq!(
            keys(txn.prefix(b"", false)),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        assert_eq!(
            keys(txn.prefix(b"", true)),
            vec![b"c".to_vec(), b"b".to_vec(), b"a".to_vec()]
        );
        assert_eq!(txn.get(b"c").expect("get").as_deref(), Some(&b"over"[..]));
        assert_eq!(txn.get(b"e").expect("get"), None);
    }

    #[test]
    fn read_only_view_refuses_writes() {
        let mut txn = Txn::read_only(tree());
        assert!(txn.put(b"a".to_vec(), b"b".to_vec()).is_err());
    }

    #[test]
    fn prefix_end_skips_trailing_ff() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff]), None);
    }
}
