//! HRANDFIELD: random fields (with values), drawn from the deterministic [`Ctx`] random
//! source.

use bytes::Bytes;
use redoubt_proto::resp::{Frame, Protocol};

use super::lookup_hash;
use super::members::{nth_member, parse_random_count, random_picks, read_members};
use crate::commands::args::is_kw;
use crate::commands::{CmdError, Ctx};

/// HRANDFIELD key [count [WITHVALUES]] -> one field (nil when absent), or an array of fields
/// (negative count: may repeat); WITHVALUES adds values: RESP3 [field, value] pairs, RESP2 flat.
pub(super) fn hrandfield(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    if argv.len() == 2 {
        let Some(meta) = lookup_hash(ctx, key)? else {
            return Ok(Frame::Null);
        };
        let index = ctx.rng.below(meta.count);
        return Ok(match nth_member(ctx, key, index)? {
            Some((field, _)) => Frame::Bulk(field),
            None => Frame::Null,
        });
    }
    let count = parse_random_count(&argv[2])?;
    let with_values = match argv.len() {
        3 => false,
        4 if is_kw(&argv[3], "WITHVALUES") => true,
        _ => return Err(CmdError::Syntax),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::other("ERR value is out of range"));
    }
    if lookup_hash(ctx, key)?.is_none() || count == 0 {
        return Ok(Frame::Array(Vec::new()));
    }
    let pairs = read_members(ctx, key)?;
    let picks = random_picks(ctx.rng, pairs.len(), count)?;
    let mut out = Vec::with_capacity(if with_values {
        picks.len() * 2
    } else {
        picks.len()
    });
    for i in picks {
        let Some((field, value)) = pairs.get(i) else {
            continue;
        };
        if !with_values {
            out.push(Frame::Bulk(field.clone()));
        } else if ctx.protocol == Protocol::Resp3 {
            out.push(Frame::Array(vec![
                Frame::Bulk(field.clone()),
                Frame::Bulk(value.clone()),
            ]));
        } else {
            out.push(Frame::Bulk(field.clone()));
            out.push(Frame::Bulk(value.clone()));
        }
    }
    Ok(Frame::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::hash::tests::sorted;
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

    #[test]
    fn hrandfield_single_and_counts() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["HRANDFIELD", "nokey"]), Frame::Null);
        assert_eq!(db.exec(&["HRANDFIELD", "nokey", "3"]), arr(&[]));
        db.exec(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        let one = db.exec(&["HRANDFIELD", "h"]);
        assert!([bulk("a"), bulk("b"), bulk("c")].contains(&one));
        assert_eq!(db.exec(&["HRANDFIELD", "h", "0"]), arr(&[]));
        assert_eq!(
            sorted(db.exec(&["HRANDFIELD", "h", "10"])),
            vec![bulk("a"), bulk("b"), bulk("c")]
        );
        let Frame::Array(two) = db.exec(&["HRANDFIELD", "h", "2"]) else {
            panic!("array");
        };
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        let Frame::Array(many) = db.exec(&["HRANDFIELD", "h", "-20"]) else {
            panic!("array");
        };
        assert_eq!(many.len(), 20);
        let Frame::Array(flat) = db.exec(&["HRANDFIELD", "h", "-5", "WITHVALUES"]) else {
            panic!("array");
        };
        assert_eq!(flat.len(), 10);
        for pair in flat.chunks(2) {
            let Frame::Bulk(f) = &pair[0] else {
                panic!("bulk")
            };
            let want = match &f[..] {
                b"a" => "1",
                b"b" => "2",
                _ => "3",
            };
            assert_eq!(pair[1], bulk(want));
        }
        db.protocol = Protocol::Resp3;
        let Frame::Array(nested) = db.exec(&["HRANDFIELD", "h", "3", "withvalues"]) else {
            panic!("array");
        };
        assert_eq!(nested.len(), 3);
        assert!(nested
            .iter()
            .all(|p| matches!(p, Frame::Array(v) if v.len() == 2)));
        assert_eq!(
            db.exec(&["HRANDFIELD", "h", "1", "bad"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["HRANDFIELD", "h", "1", "withvalues", "x"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["HRANDFIELD", "h", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            db.exec(&["HRANDFIELD", "h", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(
            db.exec(&["HRANDFIELD", "h", "-9223372036854770000", "withvalues"]),
            err("ERR value is out of range")
        );
    }

    #[test]
    fn hrandfield_distinct_sampling_is_fast_on_large_hashes() {
        let mut db = TestDb::new();
        let mut argv = vec!["HSET".to_string(), "h".to_string()];
        for i in 0..5000 {
            argv.push(format!("f{i}"));
            argv.push(i.to_string());
        }
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        assert_eq!(db.exec(&refs), int(5000));
        let Frame::Array(picked) = db.exec(&["HRANDFIELD", "h", "4999"]) else {
            panic!("array");
        };
        let distinct: std::collections::HashSet<String> =
            picked.iter().map(|f| format!("{f:?}")).collect();
        assert_eq!(distinct.len(), 4999);
    }
}
