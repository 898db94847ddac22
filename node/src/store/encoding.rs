//! Byte layout of the keyspace tree.
//!
//! Everything of the keyspace lives in one sled tree so that one batch changes it atomically:
//!
//! ```text
//! 'k' db hash(key) key                       -> Meta (type, expiry, version, payload)
//! 'm' db hash(key) len(key) key  sub...      -> member records of a collection
//!        hash/set:  hash(field) field        -> value ("" for sets)
//!        list:      seq (order-preserving i64) -> element
//!        zset:      'm' hash(member) member  -> score (f64 bits)
//!                   's' score(ordered) member -> ""
//! 'e' db expire_at key                       -> ""   (expiry index)
//! 'c' db                                     -> key count, expiring key count
//! 't' db hash(key) key                       -> index the key went at (tombstone, for WATCH)
//! 'q' index db key                           -> ""   (tombstones, oldest first)
//! 'n'                                        -> number of 'q' records
//! 'f' db                                     -> index of the db's last FLUSHDB
//! 'r' name                                   -> replicated system records
//! ```
//!
//! Top-level keys and hash/set/zset members are ordered by a fixed 64-bit hash so that SCAN
//! cursors are stateless numbers (the hash to resume from) and the same on every node.

use bytes::Bytes;
use sled::IVec;

use super::StoreError;

pub const TAG_META: u8 = b'k';
pub const TAG_MEMBER: u8 = b'm';
pub const TAG_EXPIRY: u8 = b'e';
pub const TAG_COUNTERS: u8 = b'c';
pub const TAG_TOMBSTONE: u8 = b't';
pub const TAG_TOMBSTONE_QUEUE: u8 = b'q';
pub const TOMBSTONE_COUNT: &[u8] = b"n";
pub const TAG_FLUSHED: u8 = b'f';
/// Replicated system records (replication credentials...), outside every db.
pub const TAG_SYSTEM: u8 = b'r';

/// Key of a replicated system record.
pub fn system_key(name: &str) -> Vec<u8> {
    let mut k = vec![TAG_SYSTEM];
    k.extend_from_slice(name.as_bytes());
    k
}

/// A stable 64-bit hash (FNV-1a with a splitmix64 finaliser); never 0, so 0 can mean
/// "start"/"done" in SCAN cursors. It must never change: it orders data on disk.
pub fn stable_hash(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    if h == 0 {
        1
    } else {
        h
    }
}

pub fn meta_prefix(db: u8) -> Vec<u8> {
    vec![TAG_META, db]
}

pub fn meta_key(db: u8, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(10 + key.len());
    k.push(TAG_META);
    k.push(db);
    k.extend_from_slice(&stable_hash(key).to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// The user key inside a meta record key.
pub fn user_key_of_meta(meta_key: &[u8]) -> &[u8] {
    meta_key.get(10..).unwrap_or_default()
}

/// The hash part (SCAN order) of a meta record key or of a hashed member suffix.
pub fn hash_at(bytes: &[u8], at: usize) -> u64 {
    let mut buf = [0u8; 8];
    if let Some(slice) = bytes.get(at..at + 8) {
        buf.copy_from_slice(slice);
    }
    u64::from_be_bytes(buf)
}

/// Prefix of all member records of `key`.
pub fn member_prefix(db: u8, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(14 + key.len() + 16);
    k.push(TAG_MEMBER);
    k.push(db);
    k.extend_from_slice(&stable_hash(key).to_be_bytes());
    k.extend_from_slice(&(key.len() as u32).to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// Member record key for a hashed member (hash field, set member): prefix + hash + member.
pub fn hashed_member_key(prefix: &[u8], member: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 8 + member.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(&stable_hash(member).to_be_bytes());
    k.extend_from_slice(member);
    k
}

pub fn expiry_key(db: u8, at: u64, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(10 + key.len());
    k.push(TAG_EXPIRY);
    k.push(db);
    k.extend_from_slice(&at.to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// The tombstone of `key`: like its meta key under another tag.
pub fn tombstone_key(db: u8, key: &[u8]) -> Vec<u8> {
    let mut k = meta_key(db, key);
    k[0] = TAG_TOMBSTONE;
    k
}

/// The place of a tombstone in the oldest-first queue.
pub fn tombstone_queue_key(index: u64, db: u8, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(10 + key.len());
    k.push(TAG_TOMBSTONE_QUEUE);
    k.extend_from_slice(&index.to_be_bytes());
    k.push(db);
    k.extend_from_slice(key);
    k
}

pub fn flushed_key(db: u8) -> Vec<u8> {
    vec![TAG_FLUSHED, db]
}

pub fn counters_key(db: u8) -> Vec<u8> {
    vec![TAG_COUNTERS, db]
}

/// i64 as 8 bytes whose byte order is the numeric order.
pub fn encode_i64_ordered(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn decode_i64_ordered(b: &[u8]) -> i64 {
    (hash_at(b, 0) ^ (1 << 63)) as i64
}

/// f64 as 8 bytes whose byte order is the numeric order (-0.0 sorts as 0.0; no NaN here).
pub fn encode_f64_ordered(v: f64) -> [u8; 8] {
    let v = if v == 0.0 { 0.0 } else { v };
    let bits = v.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    ordered.to_be_bytes()
}

pub fn decode_f64_ordered(b: &[u8]) -> f64 {
    let ordered = hash_at(b, 0);
    let bits = if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    };
    f64::from_bits(bits)
}

/// The type of a value, as TYPE names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    String = 0,
    List = 1,
    Set = 2,
    ZSet = 3,
    Hash = 4,
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::Hash => "hash",
        }
    }

    fn from_byte(b: u8) -> Option<KeyType> {
        Some(match b {
            0 => KeyType::String,
            1 => KeyType::List,
            2 => KeyType::Set,
            3 => KeyType::ZSet,
            4 => KeyType::Hash,
            _ => return None,
        })
    }
}

/// The record of one key: its type, expiry, the log index that last changed it and its payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    pub ty: KeyType,
    /// Absolute expiry in unix milliseconds; None: persistent.
    pub expire_at: Option<u64>,
    /// Log index of the entry that last changed this key (WATCH compares it).
    pub version: u64,
    /// Number of members (collections).
    pub count: u64,
    /// Lists: sequence number of the first element and one past the last.
    pub head: i64,
    pub tail: i64,
    /// Strings: the value.
    pub value: Bytes,
}

impl Meta {
    pub fn new(ty: KeyType) -> Meta {
        Meta {
            ty,
            expire_at: None,
            version: 0,
            count: 0,
            head: 0,
            tail: 0,
            value: Bytes::new(),
        }
    }

    pub fn string(value: Bytes) -> Meta {
        Meta {
            value,
            ..Meta::new(KeyType::String)
        }
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        matches!(self.expire_at, Some(at) if at <= now_ms)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(17 + 24 + self.value.len());
        out.push(self.ty as u8);
        out.extend_from_slice(&self.expire_at.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.version.to_be_bytes());
        match self.ty {
            KeyType::String => out.extend_from_slice(&self.value),
            KeyType::List => {
                out.extend_from_slice(&self.count.to_be_bytes());
                out.extend_from_slice(&encode_i64_ordered(self.head));
                out.extend_from_slice(&encode_i64_ordered(self.tail));
            }
            KeyType::Set | KeyType::ZSet | KeyType::Hash => {
                out.extend_from_slice(&self.count.to_be_bytes())
            }
        }
        out
    }

    pub fn decode(raw: &IVec) -> Result<Meta, StoreError> {
        let bytes: &[u8] = raw;
        let ty = bytes
            .first()
            .and_then(|b| KeyType::from_byte(*b))
            .ok_or(StoreError::Corrupt("meta type"))?;
        if bytes.len() < 17 {
            return Err(StoreError::Corrupt("meta header"));
        }
        let expire = hash_at(bytes, 1);
        let mut meta = Meta::new(ty);
        meta.expire_at = (expire != 0).then_some(expire);
        meta.version = hash_at(bytes, 9);
        let payload = &bytes[17..];
        match ty {
            // Shares the record's bytes (a GET replies from them without a copy).
            KeyType::String => meta.value = Bytes::from_owner(raw.clone()).slice(17..),
            KeyType::List => {
                if payload.len() < 24 {
                    return Err(StoreError::Corrupt("list meta"));
                }
                meta.count = hash_at(payload, 0);
                meta.head = decode_i64_ordered(&payload[8..16]);
                meta.tail = decode_i64_ordered(&payload[16..24]);
            }
            _ => {
                if payload.len() < 8 {
                    return Err(StoreError::Corrupt("collection meta"));
                }
                meta.count = hash_at(payload, 0);
            }
        }
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_encodings_keep_numeric_order() {
        let ints = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        for w in ints.windows(2) {
            assert!(encode_i64_ordered(w[0]) < encode_i64_ordered(w[1]));
            assert_eq!(decode_i64_ordered(&encode_i64_ordered(w[0])), w[0]);
        }
        let floats = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -0.0001,
            0.0,
            1e-300,
            3.0,
            f64::INFINITY,
        ];
        for w in floats.windows(2) {
            assert!(encode_f64_ordered(w[0]) < encode_f64_ordered(w[1]), "{w:?}");
            assert_eq!(decode_f64_ordered(&encode_f64_ordered(w[1])), w[1]);
        }
        assert_eq!(encode_f64_ordered(-0.0), encode_f64_ordered(0.0));
    }

    #[test]
    fn meta_round_trips() {
        let mut m = Meta::new(KeyType::List);
        m.expire_at = Some(123);
        m.version = 9;
        m.count = 3;
        m.head = -2;
        m.tail = 1;
        assert_eq!(Meta::decode(&IVec::from(m.encode())).expect("decode"), m);
        let s = Meta::string(Bytes::from_static(b"hello"));
        assert_eq!(Meta::decode(&IVec::from(s.encode())).expect("decode"), s);
        assert!(Meta::decode(&IVec::from(&b"\x09"[..])).is_err());
    }

    #[test]
    fn hash_is_stable_and_never_zero() {
        assert_eq!(stable_hash(b"foo"), stable_hash(b"foo"));
        assert_ne!(stable_hash(b"foo"), stable_hash(b"bar"));
        assert_ne!(stable_hash(b""), 0);
    }
}
