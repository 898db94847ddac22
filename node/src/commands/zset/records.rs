//! Where the records of one sorted set live ([`ZsetRecords`]): the `member -> score` records
//! and the score order index, written and removed together, and the key arithmetic
//! ([`upper`], [`successor`]) used to bound walks over them.

use bytes::Bytes;

use super::Entry;
use crate::commands::{CmdError, Ctx};
use crate::store::encoding::{
    decode_f64_ordered, encode_f64_ordered, hash_at, hashed_member_key, member_prefix,
};
use crate::store::txn::prefix_end;
use crate::store::Txn;

/// The smallest key above every key starting with `prefix` (our prefixes never end the key
/// space, so the fallback is never used).
pub(super) fn upper(prefix: &[u8]) -> Vec<u8> {
    prefix_end(prefix).unwrap_or_else(|| vec![0xff; prefix.len() + 1])
}

/// `key` followed by a zero byte: the first key after `key` itself.
pub(super) fn successor(key: &[u8]) -> Vec<u8> {
    let mut k = key.to_vec();
    k.push(0);
    k
}

/// Where the records of one sorted set live.
pub(super) struct ZsetRecords {
    /// Prefix of the `member -> score` records.
    pub(super) by_member: Vec<u8>,
    /// Prefix of the score order index.
    by_score: Vec<u8>,
}

impl ZsetRecords {
    pub(super) fn of(ctx: &Ctx<'_>, key: &[u8]) -> ZsetRecords {
        let prefix = member_prefix(ctx.ks.db, key);
        ZsetRecords {
            by_member: [&prefix[..], b"m"].concat(),
            by_score: [&prefix[..], b"s"].concat(),
        }
    }

    pub(super) fn score_key(&self, score: f64, member: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.by_score.len() + 8 + member.len());
        k.extend_from_slice(&self.by_score);
        k.extend_from_slice(&encode_f64_ordered(score));
        k.extend_from_slice(member);
        k
    }

    /// The index key prefix of every member with `score`.
    pub(super) fn score_prefix(&self, score: f64) -> Vec<u8> {
        self.score_key(score, b"")
    }

    pub(super) fn score_of(&self, txn: &Txn, member: &[u8]) -> Result<Option<f64>, CmdError> {
        Ok(txn
            .get(&hashed_member_key(&self.by_member, member))?
            .map(|v| f64::from_bits(hash_at(&v, 0))))
    }

    /// Gives `member` (whose current score is `old`, None if absent) the score `new`.
    pub(super) fn set(
        &self,
        ctx: &mut Ctx<'_>,
        member: &[u8],
        old: Option<f64>,
        new: f64,
    ) -> Result<(), CmdError> {
        if let Some(old) = old {
            ctx.ks.txn.remove(self.score_key(old, member))?;
        }
        ctx.ks.txn.put(
            hashed_member_key(&self.by_member, member),
            new.to_bits().to_be_bytes().to_vec(),
        )?;
        ctx.ks.txn.put(self.score_key(new, member), Vec::new())?;
        Ok(())
    }

    pub(super) fn remove(
        &self,
        ctx: &mut Ctx<'_>,
        member: &[u8],
        score: f64,
    ) -> Result<(), CmdError> {
        ctx.ks
            .txn
            .remove(hashed_member_key(&self.by_member, member))?;
        ctx.ks.txn.remove(self.score_key(score, member))?;
        Ok(())
    }

    /// The whole score index as a key range.
    pub(super) fn all(&self) -> (Vec<u8>, Vec<u8>) {
        (self.by_score.clone(), upper(&self.by_score))
    }

    /// Members in score order (reversed with `rev`) with keys in `[start, end)`.
    pub(super) fn entries<'t>(
        &self,
        txn: &'t Txn,
        start: &[u8],
        end: &[u8],
        rev: bool,
    ) -> impl Iterator<Item = Result<Entry, CmdError>> + 't {
        let skip = self.by_score.len();
        let range = (start < end).then(|| txn.range(start, Some(end), rev));
        range.into_iter().flatten().map(move |item| {
            let (k, _) = item?;
            let score = decode_f64_ordered(k.get(skip..).unwrap_or_default());
            let member = Bytes::copy_from_slice(k.get(skip + 8..).unwrap_or_default());
            Ok((member, score))
        })
    }
}
