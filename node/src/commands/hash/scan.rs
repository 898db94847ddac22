//! HSCAN: cursor iteration over the fields of a hash.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::lookup_hash;
use super::members::{read_members, scan_members, scan_reply, ScanArgs};
use crate::commands::args::parse_scan_cursor;
use crate::commands::{CmdError, Ctx};

/// Redis's `hash-max-listpack-entries` / `hash-max-listpack-value` defaults: a hash this small
/// is one listpack in Redis, and HSCAN returns it whole with cursor 0.
const HASH_COMPACT_ENTRIES: u64 = 128;
const HASH_COMPACT_VALUE: usize = 64;

/// HSCAN key cursor [MATCH pattern] [COUNT count] -> [next cursor, [field, value, ...]].
/// Small hashes (a listpack in Redis) come whole with cursor 0.
pub(super) fn hscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let cursor = parse_scan_cursor(&argv[2])?;
    let Some(meta) = lookup_hash(ctx, key)? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = ScanArgs::parse(&argv[3..])?;
    let mut page = None;
    if meta.count <= HASH_COMPACT_ENTRIES {
        let pairs = read_members(ctx, key)?;
        if pairs
            .iter()
            .all(|(f, v)| f.len() <= HASH_COMPACT_VALUE && v.len() <= HASH_COMPACT_VALUE)
        {
            page = Some((0, pairs));
        }
    }
    let (next, pairs) = match page {
        Some(p) => p,
        None => scan_members(ctx, key, cursor, opts.count)?,
    };
    let mut out = Vec::with_capacity(pairs.len() * 2);
    for (field, value) in pairs {
        if opts.matches(&field) {
            out.push(Frame::Bulk(field));
            out.push(Frame::Bulk(value));
        }
    }
    Ok(scan_reply(next, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{arr, bulk, err, TestDb};

    #[test]
    fn hscan_walks_everything_once() {
        let mut db = TestDb::new();
        assert_eq!(
            db.exec(&["HSCAN", "nokey", "0"]),
            Frame::Array(vec![bulk("0"), arr(&[])])
        );
        db.exec(&["HSET", "small", "a", "1", "b", "2", "key:1", "3"]);
        assert_eq!(
            db.exec(&["HSCAN", "small", "0", "COUNT", "1", "MATCH", "key:*"]),
            Frame::Array(vec![bulk("0"), arr(&["key:1", "3"])])
        );
        for i in 0..300 {
            db.exec(&["HSET", "big", &format!("f{i}"), &i.to_string()]);
        }
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        loop {
            let Frame::Array(reply) = db.exec(&["HSCAN", "big", &cursor, "COUNT", "7"]) else {
                panic!("array");
            };
            let [Frame::Bulk(next), Frame::Array(items)] = &reply[..] else {
                panic!("shape");
            };
            for pair in items.chunks(2) {
                assert!(seen.insert(format!("{:?}", pair[0])));
            }
            cursor = String::from_utf8_lossy(next).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 300);
        assert_eq!(db.exec(&["HSCAN", "big", "x"]), err("ERR invalid cursor"));
        assert_eq!(
            db.exec(&["HSCAN", "big", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["HSCAN", "big", "0", "MATCH"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["HSCAN", "big", "0", "COUNT", "x"]),
            err("ERR value is not an integer or out of range")
        );
    }

    #[test]
    fn scan_cursor_parses_like_strtoul() {
        assert_eq!(parse_scan_cursor(b"0").ok(), Some(0));
        assert_eq!(
            parse_scan_cursor(b"18446744073709551615").ok(),
            Some(u64::MAX)
        );
        assert_eq!(parse_scan_cursor(b"+5").ok(), Some(5));
        assert_eq!(parse_scan_cursor(b"-1").ok(), Some(u64::MAX));
        assert_eq!(parse_scan_cursor(b"").ok(), Some(0));
        for bad in [&b" 1"[..], b"1x", b"18446744073709551616", b"-", b"1 "] {
            assert!(parse_scan_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
