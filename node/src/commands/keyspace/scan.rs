//! Walking the key space: KEYS, SCAN (cursor, MATCH, COUNT, TYPE) and RANDOMKEY.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use crate::commands::args::{glob_match, is_kw, parse_i64, parse_scan_cursor};
use crate::commands::{CmdError, Ctx};
use crate::store::encoding::{meta_prefix, user_key_of_meta};
use crate::store::Meta;

/// KEYS pattern -> every live key matching the glob pattern.
pub(super) fn keys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let pattern = &argv[1];
    let match_all = &pattern[..] == b"*";
    let out = ctx
        .ks
        .all_keys()?
        .into_iter()
        .filter(|(key, _)| match_all || glob_match(pattern, key, false))
        .map(|(key, _)| Frame::Bulk(key))
        .collect();
    Ok(Frame::Array(out))
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] -> [next cursor, [key ...]]; the
/// cursor is a position in hash order (0 starts and ends), expired keys are skipped.
pub(super) fn scan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let cursor = parse_scan_cursor(&argv[1])?;
    let mut count: usize = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let (opt, value) = match argv.get(i + 1) {
            Some(value) => (&argv[i], value),
            None => return Err(CmdError::Syntax),
        };
        if is_kw(opt, "COUNT") {
            let n = parse_i64(value)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is_kw(opt, "MATCH") {
            pattern = (&value[..] != b"*").then_some(&value[..]);
        } else if is_kw(opt, "TYPE") {
            type_name = Some(&value[..]);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let now = ctx.ks.now_ms;
    let page = ctx.ks.scan_hashed(&meta_prefix(ctx.ks.db), cursor, count)?;
    let mut keys = Vec::with_capacity(page.items.len());
    for (record_key, raw) in &page.items {
        let meta = Meta::decode(raw)?;
        if meta.is_expired(now) {
            continue;
        }
        let key = user_key_of_meta(record_key);
        if pattern.is_some_and(|p| !glob_match(p, key, false)) {
            continue;
        }
        // An unknown type name matches nothing (Redis 7.2 does not reject it yet).
        if type_name.is_some_and(|t| !t.eq_ignore_ascii_case(meta.ty.name().as_bytes())) {
            continue;
        }
        keys.push(Frame::Bulk(Bytes::copy_from_slice(key)));
    }
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from(page.cursor.to_string())),
        Frame::Array(keys),
    ]))
}

/// RANDOMKEY -> a random live key, or nil when the database is empty.
pub(super) fn randomkey(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> Result<Frame, CmdError> {
    let point = ctx.rng.next_u64();
    Ok(match ctx.ks.key_at_or_after(point)? {
        Some(key) => Frame::Bulk(key),
        None => Frame::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::keyspace::tests::add_list;
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

    fn sorted_keys(frame: Frame) -> Vec<String> {
        let Frame::Array(items) = frame else {
            panic!("not an array: {frame:?}");
        };
        let mut keys: Vec<String> = items
            .into_iter()
            .map(|f| match f {
                Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn keys_with_patterns() {
        let mut db = TestDb::new();
        db.exec(&[
            "MSET", "foo_a", "1", "foo_b", "2", "foo_c", "3", "key_x", "4", "key_y", "5",
        ]);
        db.exec(&["SET", "foo_gone", "x", "PX", "1"]);
        db.advance_ms(1);
        assert_eq!(
            sorted_keys(db.exec(&["KEYS", "foo*"])),
            ["foo_a", "foo_b", "foo_c"]
        );
        assert_eq!(sorted_keys(db.exec(&["KEYS", "*"])).len(), 5);
        assert_eq!(sorted_keys(db.exec(&["KEYS", "key_[xz]"])), ["key_x"]);
        assert_eq!(db.exec(&["KEYS", "none*"]), arr(&[]));
    }

    #[test]
    fn scan_walks_everything_with_filters() {
        let mut db = TestDb::new();
        for i in 0..100 {
            db.exec(&["SET", &format!("key:{i}"), "v"]);
        }
        add_list(&mut db, "alist");
        db.exec(&["SET", "gone", "v", "PX", "1"]);
        db.advance_ms(1);
        let scan_all = |db: &mut TestDb, extra: &[&str]| {
            let mut cursor = "0".to_string();
            let mut seen = Vec::new();
            loop {
                let mut argv = vec!["SCAN", cursor.as_str()];
                argv.extend_from_slice(extra);
                let Frame::Array(parts) = db.exec(&argv) else {
                    panic!("scan reply")
                };
                let [Frame::Bulk(next), keys] = &parts[..] else {
                    panic!("scan shape")
                };
                seen.extend(sorted_keys(keys.clone()));
                cursor = String::from_utf8_lossy(next).into_owned();
                if cursor == "0" {
                    break;
                }
            }
            seen.sort();
            seen
        };
        let all = scan_all(&mut db, &["COUNT", "7"]);
        assert_eq!(all.len(), 101);
        assert!(!all.contains(&"gone".to_string()));
        assert_eq!(scan_all(&mut db, &["MATCH", "key:1*"]).len(), 11);
        assert_eq!(scan_all(&mut db, &["TYPE", "LIST"]), ["alist"]);
        assert!(scan_all(&mut db, &["TYPE", "string1"]).is_empty());
        assert_eq!(db.exec(&["SCAN", "abc"]), err("ERR invalid cursor"));
        assert_eq!(db.exec(&["SCAN", " 1"]), err("ERR invalid cursor"));
        assert_eq!(
            db.exec(&["SCAN", "18446744073709551616"]),
            err("ERR invalid cursor")
        );
        assert_eq!(
            db.exec(&["SCAN", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["SCAN", "0", "COUNT", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(db.exec(&["SCAN", "0", "MATCH"]), err("ERR syntax error"));
        assert_eq!(
            db.exec(&["SCAN", "0", "BOGUS", "1"]),
            err("ERR syntax error")
        );
        assert_eq!(parse_scan_cursor(b"-1").ok(), Some(u64::MAX));
        assert_eq!(parse_scan_cursor(b"").ok(), Some(0));
        assert_eq!(parse_scan_cursor(b"007").ok(), Some(7));
    }

    #[test]
    fn randomkey_and_dbsize() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["RANDOMKEY"]), Frame::Null);
        assert_eq!(db.exec(&["DBSIZE"]), int(0));
        db.exec(&["MSET", "a", "1", "b", "2"]);
        for _ in 0..10 {
            let key = db.exec(&["RANDOMKEY"]);
            assert!(key == bulk("a") || key == bulk("b"), "{key:?}");
        }
        assert_eq!(db.exec(&["DBSIZE"]), int(2));
    }
}
