//! SSCAN: cursor iteration over the members of a set.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::{
    intset_order, lookup_set, members_of, INTSET_MAX_ENTRIES, LISTPACK_MAX_ENTRIES,
    LISTPACK_MAX_VALUE,
};
use crate::commands::args::parse_i64_opt;
use crate::commands::hash::{parse_scan_cursor, scan_members, scan_reply, ScanArgs};
use crate::commands::{CmdError, Ctx};

/// SSCAN key cursor [MATCH pattern] [COUNT count] -> [next cursor, [member, ...]].
/// Small sets (an intset or listpack in Redis) come whole with cursor 0.
pub(super) fn sscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let cursor = parse_scan_cursor(&argv[2])?;
    let Some(meta) = lookup_set(ctx, key)? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = ScanArgs::parse(&argv[3..])?;
    let mut page = None;
    if meta.count <= INTSET_MAX_ENTRIES as u64 {
        let mut members = members_of(ctx, key)?;
        let all_ints = members.iter().all(|m| parse_i64_opt(m).is_some());
        let listpack = meta.count <= LISTPACK_MAX_ENTRIES
            && members.iter().all(|m| m.len() <= LISTPACK_MAX_VALUE);
        if all_ints || listpack {
            intset_order(&mut members);
            page = Some((0, members));
        }
    }
    let (next, members) = match page {
        Some(p) => p,
        None => {
            let (next, items) = scan_members(ctx, key, cursor, opts.count)?;
            (next, items.into_iter().map(|(m, _)| m).collect())
        }
    };
    let items = members
        .into_iter()
        .filter(|m| opts.matches(m))
        .map(Frame::Bulk)
        .collect();
    Ok(scan_reply(next, items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::set::tests::{bulks_of, sorted};
    use crate::commands::testutil::{arr, bulk, err, TestDb};

    #[test]
    fn sscan_small_and_large_sets() {
        let mut db = TestDb::new();
        assert_eq!(
            db.exec(&["SSCAN", "nokey", "0"]),
            Frame::Array(vec![bulk("0"), arr(&[])])
        );
        db.exec(&["SADD", "small", "1", "a", "11"]);
        assert_eq!(
            sorted_scan(db.exec(&["SSCAN", "small", "0", "MATCH", "*1*", "COUNT", "1"])),
            (String::from("0"), bulks_of(&["1", "11"]))
        );
        for i in 0..1000 {
            db.exec(&["SADD", "big", &format!("member:{i}")]);
        }
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        loop {
            let (next, items) = sorted_scan(db.exec(&["SSCAN", "big", &cursor, "COUNT", "50"]));
            for it in items {
                assert!(seen.insert(format!("{it:?}")));
            }
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        assert_eq!(db.exec(&["SSCAN", "big", "abc"]), err("ERR invalid cursor"));
        assert_eq!(
            db.exec(&["SSCAN", "big", "0", "COUNT", "-1"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["SSCAN", "big", "0", "FOO", "bar"]),
            err("ERR syntax error")
        );
    }

    fn sorted_scan(frame: Frame) -> (String, Vec<Frame>) {
        let Frame::Array(reply) = frame else {
            panic!("array");
        };
        let [Frame::Bulk(cursor), items] = &reply[..] else {
            panic!("shape");
        };
        (
            String::from_utf8_lossy(cursor).into_owned(),
            sorted(items.clone()),
        )
    }
}
