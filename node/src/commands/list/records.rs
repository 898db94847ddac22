//! Where the elements of one list live ([`ListRecords`]): one record per element keyed by
//! its sequence number, kept contiguous from `head` to `tail - 1` by every change (pushes and
//! pops at either [`End`], inserts and removals that renumber the cheaper side).

use bytes::Bytes;

use crate::commands::args::is_kw;
use crate::commands::{CmdError, Ctx};
use crate::store::encoding::{encode_i64_ordered, member_prefix};
use crate::store::{Meta, StoreError};

/// Which end of a list.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Left,
    Right,
}

impl End {
    pub(super) fn parse(arg: &[u8]) -> Result<End, CmdError> {
        if is_kw(arg, "LEFT") {
            Ok(End::Left)
        } else if is_kw(arg, "RIGHT") {
            Ok(End::Right)
        } else {
            Err(CmdError::Syntax)
        }
    }
}

/// Where the records of one list live.
pub(super) struct ListRecords {
    prefix: Vec<u8>,
}

impl ListRecords {
    pub(super) fn of(ctx: &Ctx<'_>, key: &[u8]) -> ListRecords {
        ListRecords {
            prefix: member_prefix(ctx.ks.db, key),
        }
    }

    pub(super) fn seq_key(&self, seq: i64) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + 8);
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(&encode_i64_ordered(seq));
        k
    }

    pub(super) fn get(&self, ctx: &Ctx<'_>, seq: i64) -> Result<Bytes, CmdError> {
        match ctx.ks.txn.get(&self.seq_key(seq))? {
            Some(v) => Ok(Bytes::copy_from_slice(&v)),
            None => Err(StoreError::Corrupt("missing list element").into()),
        }
    }

    pub(super) fn put(&self, ctx: &mut Ctx<'_>, seq: i64, value: &[u8]) -> Result<(), CmdError> {
        ctx.ks.txn.put(self.seq_key(seq), value)?;
        Ok(())
    }

    pub(super) fn remove(&self, ctx: &mut Ctx<'_>, seq: i64) -> Result<(), CmdError> {
        ctx.ks.txn.remove(self.seq_key(seq))?;
        Ok(())
    }

    /// The elements at indexes `from..=to` (both within the list), in order.
    pub(super) fn elements(
        &self,
        ctx: &Ctx<'_>,
        meta: &Meta,
        from: i64,
        to: i64,
    ) -> Result<Vec<Bytes>, CmdError> {
        if from > to {
            return Ok(Vec::new());
        }
        let start = self.seq_key(meta.head + from);
        let end = self.seq_key(meta.head + to + 1);
        ctx.ks
            .txn
            .range(&start, Some(&end), false)
            .map(|item| {
                item.map(|(_, v)| Bytes::copy_from_slice(&v))
                    .map_err(CmdError::from)
            })
            .collect()
    }

    /// Adds `values` one by one at `end` (so LPUSH a b c gives c b a).
    pub(super) fn push(
        &self,
        ctx: &mut Ctx<'_>,
        meta: &mut Meta,
        values: &[Bytes],
        end: End,
    ) -> Result<(), CmdError> {
        for value in values {
            match end {
                End::Left => {
                    meta.head -= 1;
                    self.put(ctx, meta.head, value)?;
                }
                End::Right => {
                    self.put(ctx, meta.tail, value)?;
                    meta.tail += 1;
                }
            }
            meta.count += 1;
        }
        Ok(())
    }

    /// Removes and returns up to `n` elements from `end`, in pop order.
    pub(super) fn pop(
        &self,
        ctx: &mut Ctx<'_>,
        meta: &mut Meta,
        n: u64,
        end: End,
    ) -> Result<Vec<Bytes>, CmdError> {
        let n = n.min(meta.count);
        let mut out = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let seq = match end {
                End::Left => meta.head,
                End::Right => meta.tail - 1,
            };
            out.push(self.get(ctx, seq)?);
            self.remove(ctx, seq)?;
            match end {
                End::Left => meta.head += 1,
                End::Right => meta.tail -= 1,
            }
            meta.count -= 1;
        }
        Ok(out)
    }

    /// Inserts `value` so that it becomes index `at` (0..=count), shifting the shorter side.
    pub(super) fn insert_at(
        &self,
        ctx: &mut Ctx<'_>,
        meta: &mut Meta,
        at: i64,
        value: &[u8],
    ) -> Result<(), CmdError> {
        let count = meta.count as i64;
        if at <= count - at {
            // Move indexes 0..at one sequence down.
            let moved = self.elements(ctx, meta, 0, at - 1)?;
            let new_head = meta.head - 1;
            for (i, v) in moved.iter().enumerate() {
                self.put(ctx, new_head + i as i64, v)?;
            }
            self.put(ctx, new_head + at, value)?;
            meta.head = new_head;
        } else {
            // Move indexes at..count one sequence up.
            let moved = self.elements(ctx, meta, at, count - 1)?;
            for (i, v) in moved.iter().enumerate().rev() {
                self.put(ctx, meta.head + at + i as i64 + 1, v)?;
            }
            self.put(ctx, meta.head + at, value)?;
            meta.tail += 1;
        }
        meta.count += 1;
        Ok(())
    }

    /// Removes the elements at the sorted, distinct indexes `removed` from `all` (the whole
    /// list), renumbering the side that moves fewer elements.
    pub(super) fn remove_indexes(
        &self,
        ctx: &mut Ctx<'_>,
        meta: &mut Meta,
        all: &[Bytes],
        removed: &[usize],
    ) -> Result<(), CmdError> {
        let (Some(&first), Some(&last)) = (removed.first(), removed.last()) else {
            return Ok(());
        };
        let k = removed.len();
        let mut gone = vec![false; all.len()];
        for &i in removed {
            if let Some(g) = gone.get_mut(i) {
                *g = true;
            }
        }
        let cost_left = last + 1 - k;
        let cost_right = all.len().saturating_sub(first + k);
        if cost_left <= cost_right {
            // Keep everything after `last` in place; pack 0..=last towards it.
            let mut pos = last as i64;
            for idx in (0..=last).rev() {
                if gone.get(idx).copied().unwrap_or(true) {
                    continue;
                }
                if pos != idx as i64 {
                    if let Some(v) = all.get(idx) {
                        self.put(ctx, meta.head + pos, v)?;
                    }
                }
                pos -= 1;
            }
            for i in 0..k as i64 {
                self.remove(ctx, meta.head + i)?;
            }
            meta.head += k as i64;
        } else {
            // Keep everything before `first` in place; pack first.. towards it.
            let mut pos = first as i64;
            for idx in first..all.len() {
                if gone.get(idx).copied().unwrap_or(true) {
                    continue;
                }
                if pos != idx as i64 {
                    if let Some(v) = all.get(idx) {
                        self.put(ctx, meta.head + pos, v)?;
                    }
                }
                pos += 1;
            }
            for seq in meta.head + pos..meta.tail {
                self.remove(ctx, seq)?;
            }
            meta.tail -= k as i64;
        }
        meta.count -= k as u64;
        Ok(())
    }
}
