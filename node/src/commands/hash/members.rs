//! Member helpers shared by the hash and set commands (both keep one hashed member record per
//! field or member): removing and reading members in storage order, SCAN arguments and replies
//! ([`ScanArgs`], [`scan_reply`]) and the random sampling of HRANDFIELD/SRANDMEMBER.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::field_key;
use crate::commands::args::{glob_match, is_kw, parse_i64};
use crate::commands::{CmdError, Ctx, Rng};
use crate::store::encoding::member_prefix;
use crate::store::Meta;

/// Removes the named members of the (looked up) hash or set `key` — both keep one record per
/// `prefix + hash(name) + name` — and saves the shrunk count (an emptied key goes). Returns
/// how many of them existed.
pub fn remove_members(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    meta: &mut Meta,
    names: &[Bytes],
) -> Result<u64, CmdError> {
    let mut removed: u64 = 0;
    for name in names {
        let record = field_key(ctx, key, name);
        if ctx.ks.txn.get(&record)?.is_some() {
            ctx.ks.txn.remove(record)?;
            removed += 1;
        }
    }
    if removed > 0 {
        meta.count = meta.count.saturating_sub(removed);
        ctx.ks.save_meta(key, meta)?;
    }
    Ok(removed)
}

/// The member name inside a hashed member record key (`prefix + hash(8) + name`).
fn member_name(record: &[u8], prefix_len: usize) -> Bytes {
    Bytes::copy_from_slice(record.get(prefix_len + 8..).unwrap_or_default())
}

/// Every (name, value) of the collection `key` in storage order; the caller has looked it up.
pub(in crate::commands) fn read_members(
    ctx: &Ctx<'_>,
    key: &[u8],
) -> Result<Vec<(Bytes, Bytes)>, CmdError> {
    let prefix = member_prefix(ctx.ks.db, key);
    let mut out = Vec::new();
    for item in ctx.ks.txn.prefix(&prefix, false) {
        let (k, v) = item?;
        out.push((member_name(&k, prefix.len()), Bytes::copy_from_slice(&v)));
    }
    Ok(out)
}

/// The `index`-th (name, value) of the collection `key` in storage order.
pub(in crate::commands) fn nth_member(
    ctx: &Ctx<'_>,
    key: &[u8],
    index: u64,
) -> Result<Option<(Bytes, Bytes)>, CmdError> {
    let prefix = member_prefix(ctx.ks.db, key);
    let index = usize::try_from(index).unwrap_or(usize::MAX);
    match ctx.ks.txn.prefix(&prefix, false).nth(index) {
        Some(item) => {
            let (k, v) = item?;
            Ok(Some((
                member_name(&k, prefix.len()),
                Bytes::copy_from_slice(&v),
            )))
        }
        None => Ok(None),
    }
}

/// One SCAN page of the collection `key` from `cursor`: (next cursor, (name, value)s).
pub(in crate::commands) fn scan_members(
    ctx: &Ctx<'_>,
    key: &[u8],
    cursor: u64,
    count: usize,
) -> Result<(u64, Vec<(Bytes, Bytes)>), CmdError> {
    let prefix = member_prefix(ctx.ks.db, key);
    let page = ctx.ks.scan_hashed(&prefix, cursor, count)?;
    let items = page
        .items
        .iter()
        .map(|(k, v)| (member_name(k, prefix.len()), Bytes::copy_from_slice(v)))
        .collect();
    Ok((page.cursor, items))
}

/// MATCH/COUNT options of HSCAN/SSCAN/ZSCAN.
pub struct ScanArgs {
    pub pattern: Option<Bytes>,
    pub count: usize,
}

impl ScanArgs {
    /// Parses the options after the cursor as Redis's scanGenericCommand does.
    pub fn parse(opts: &[Bytes]) -> Result<ScanArgs, CmdError> {
        let mut out = ScanArgs {
            pattern: None,
            count: 10,
        };
        let mut i = 0;
        while i < opts.len() {
            let value = opts.get(i + 1);
            match value {
                Some(v) if is_kw(&opts[i], "COUNT") => {
                    let n = parse_i64(v)?;
                    if n < 1 {
                        return Err(CmdError::Syntax);
                    }
                    out.count = usize::try_from(n).unwrap_or(usize::MAX);
                }
                Some(v) if is_kw(&opts[i], "MATCH") => {
                    out.pattern = (&v[..] != b"*").then(|| v.clone());
                }
                _ => return Err(CmdError::Syntax),
            }
            i += 2;
        }
        Ok(out)
    }

    pub fn matches(&self, name: &[u8]) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, name, false))
    }
}

/// `[cursor, items]`, the reply of every SCAN-like command.
pub fn scan_reply(cursor: u64, items: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(cursor.to_string())),
        Frame::Array(items),
    ])
}

/// The count of HRANDFIELD/SRANDMEMBER: an integer in -LONG_MAX..=LONG_MAX.
pub(in crate::commands) fn parse_random_count(arg: &[u8]) -> Result<i64, CmdError> {
    let n = parse_i64(arg)?;
    if n == i64::MIN {
        return Err(CmdError::other(format!(
            "ERR value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    Ok(n)
}

/// Most elements a random-sampling reply may hold: Redis would stream a reply of any length
/// (and drop the client at its output buffer limit); we refuse instead of allocating it.
const MAX_RANDOM_REPLY: u64 = 1 << 24;

/// Indexes into `n` members (n > 0) as HRANDFIELD/SRANDMEMBER pick them for `count`:
/// negative: |count| independent picks that may repeat; count >= n: all of them in order;
/// otherwise `count` distinct picks (a partial Fisher-Yates shuffle: O(n), never O(n^2)).
pub(in crate::commands) fn random_picks(
    rng: &mut Rng,
    n: usize,
    count: i64,
) -> Result<Vec<usize>, CmdError> {
    if n == 0 || count == 0 {
        return Ok(Vec::new());
    }
    if count < 0 {
        let m = count.unsigned_abs();
        if m > MAX_RANDOM_REPLY {
            return Err(CmdError::other("ERR value is out of range"));
        }
        return Ok((0..m).map(|_| rng.below(n as u64) as usize).collect());
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count >= n {
        return Ok((0..n).collect());
    }
    Ok(distinct_picks(rng, n, count))
}

/// `count` (< n) distinct indexes into `n`, in random order.
pub(in crate::commands) fn distinct_picks(rng: &mut Rng, n: usize, count: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..count.min(n) {
        let j = i + rng.below((n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(count);
    idx
}
