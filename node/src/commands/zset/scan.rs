//! ZSCAN: cursor iteration over the `member -> score` records.

use bytes::Bytes;
use redoubt_proto::resp::{format_double, Frame};

use super::lookup_zset;
use super::records::ZsetRecords;
use crate::commands::args::{glob_match, is_kw, parse_i64};
use crate::commands::{CmdError, Ctx};
use crate::store::encoding::hash_at;

/// ZSCAN key cursor [MATCH pattern] [COUNT count] -> [next cursor, [member, score, ...]].
pub(super) fn zscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let cursor = std::str::from_utf8(&argv[2])
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| CmdError::other("ERR invalid cursor"))?;
    let empty_scan = || {
        Frame::Array(vec![
            Frame::Bulk(Bytes::from_static(b"0")),
            Frame::Array(Vec::new()),
        ])
    };
    if lookup_zset(ctx, &argv[1])?.is_none() {
        return Ok(empty_scan());
    }
    let mut count: usize = 10;
    let mut pattern: Option<&Bytes> = None;
    let mut j = 3;
    while let Some(opt) = argv.get(j) {
        let value = argv.get(j + 1);
        match value {
            Some(v) if is_kw(opt, "COUNT") => {
                let n = parse_i64(v)?;
                if n < 1 {
                    return Err(CmdError::Syntax);
                }
                count = usize::try_from(n).unwrap_or(usize::MAX);
            }
            Some(v) if is_kw(opt, "MATCH") => pattern = Some(v),
            _ => return Err(CmdError::Syntax),
        }
        j += 2;
    }
    let recs = ZsetRecords::of(ctx, &argv[1]);
    let page = ctx.ks.scan_hashed(&recs.by_member, cursor, count)?;
    let skip = recs.by_member.len() + 8;
    let mut items = Vec::with_capacity(page.items.len() * 2);
    for (k, v) in &page.items {
        let member = k.get(skip..).unwrap_or_default();
        if let Some(p) = pattern {
            if !glob_match(p, member, false) {
                continue;
            }
        }
        let score = f64::from_bits(hash_at(v, 0));
        items.push(Frame::Bulk(Bytes::copy_from_slice(member)));
        items.push(Frame::Bulk(Bytes::from(format_double(score))));
    }
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from(page.cursor.to_string())),
        Frame::Array(items),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

    #[test]
    fn zscan_walks_every_member() {
        let mut db = TestDb::new();
        let mut argv = vec!["zadd".to_string(), "z".to_string()];
        for i in 0..200 {
            argv.push(i.to_string());
            argv.push(format!("m{i}"));
        }
        let argv_ref: Vec<&str> = argv.iter().map(|s| s.as_str()).collect();
        assert_eq!(db.exec(&argv_ref), int(200));
        let mut cursor = "0".to_string();
        let mut seen = std::collections::BTreeMap::new();
        loop {
            let Frame::Array(reply) = db.exec(&["zscan", "z", &cursor, "COUNT", "7"]) else {
                panic!("not an array");
            };
            let [Frame::Bulk(next), Frame::Array(items)] = &reply[..] else {
                panic!("bad shape");
            };
            for pair in items.chunks(2) {
                let (Frame::Bulk(m), Frame::Bulk(s)) = (&pair[0], &pair[1]) else {
                    panic!("bad pair");
                };
                seen.insert(
                    String::from_utf8(m.to_vec()).expect("utf8"),
                    String::from_utf8(s.to_vec()).expect("utf8"),
                );
            }
            cursor = String::from_utf8(next.to_vec()).expect("utf8");
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 200);
        assert_eq!(seen.get("m42").map(String::as_str), Some("42"));
        let Frame::Array(reply) = db.exec(&["zscan", "z", "0", "MATCH", "m1?", "COUNT", "1000"])
        else {
            panic!("not an array");
        };
        assert_eq!(reply[0], bulk("0"));
        assert!(matches!(&reply[1], Frame::Array(items) if items.len() == 20));
        assert_eq!(
            db.exec(&["zscan", "nokey", "0"]),
            Frame::Array(vec![bulk("0"), arr(&[])])
        );
        assert_eq!(db.exec(&["zscan", "z", "abc"]), err("ERR invalid cursor"));
        assert_eq!(
            db.exec(&["zscan", "z", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["zscan", "z", "0", "MATCH"]),
            err("ERR syntax error")
        );
    }
}
