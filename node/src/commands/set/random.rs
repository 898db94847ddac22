//! Random members: SPOP (removing them) and SRANDMEMBER, drawn from the deterministic
//! [`Ctx`] random source so SPOP applies the same way on every node.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::{bulks, intset_order, lookup_set, member_key, members_of};
use crate::commands::args::parse_i64;
use crate::commands::hash::{distinct_picks, nth_member, parse_random_count, random_picks};
use crate::commands::{CmdError, Ctx};

/// SPOP key [count] -> a removed random member (nil when absent), or with count a set of up
/// to count distinct removed members.
pub(super) fn spop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if argv.len() == 3 {
        let count = parse_i64(&argv[2])?;
        let count = u64::try_from(count)
            .map_err(|_| CmdError::other("ERR value is out of range, must be positive"))?;
        return spop_count(ctx, key, count);
    }
    let Some(mut meta) = lookup_set(ctx, key)? else {
        return Ok(Frame::Null);
    };
    let index = ctx.rng.below(meta.count);
    let Some((member, _)) = nth_member(ctx, key, index)? else {
        return Ok(Frame::Null);
    };
    ctx.ks.txn.remove(member_key(ctx, key, &member))?;
    meta.count = meta.count.saturating_sub(1);
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Bulk(member))
}

fn spop_count(ctx: &mut Ctx<'_>, key: &[u8], count: u64) -> Result<Frame, CmdError> {
    let Some(mut meta) = lookup_set(ctx, key)? else {
        return Ok(Frame::Set(Vec::new()));
    };
    if count == 0 {
        return Ok(Frame::Set(Vec::new()));
    }
    let mut members = members_of(ctx, key)?;
    if count >= members.len() as u64 {
        intset_order(&mut members);
        ctx.ks.delete(key)?;
        return Ok(Frame::Set(bulks(members)));
    }
    let picks = distinct_picks(ctx.rng, members.len(), count as usize);
    let mut out = Vec::with_capacity(picks.len());
    for i in picks {
        let Some(member) = members.get(i) else {
            continue;
        };
        ctx.ks.txn.remove(member_key(ctx, key, member))?;
        out.push(Frame::Bulk(member.clone()));
    }
    meta.count = meta.count.saturating_sub(out.len() as u64);
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Set(out))
}

/// SRANDMEMBER key [count] -> a random member (nil when absent), or an array of members:
/// count > 0 distinct (at most all), count < 0 exactly |count| that may repeat.
pub(super) fn srandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if argv.len() == 2 {
        let Some(meta) = lookup_set(ctx, key)? else {
            return Ok(Frame::Null);
        };
        let index = ctx.rng.below(meta.count);
        return Ok(match nth_member(ctx, key, index)? {
            Some((member, _)) => Frame::Bulk(member),
            None => Frame::Null,
        });
    }
    let count = parse_random_count(&argv[2])?;
    if lookup_set(ctx, key)?.is_none() || count == 0 {
        return Ok(Frame::Array(Vec::new()));
    }
    let mut members = members_of(ctx, key)?;
    if count > 0 && count as u64 >= members.len() as u64 {
        intset_order(&mut members);
        return Ok(Frame::Array(bulks(members)));
    }
    let picks = random_picks(ctx.rng, members.len(), count)?;
    Ok(Frame::Array(
        picks
            .into_iter()
            .filter_map(|i| members.get(i).cloned().map(Frame::Bulk))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::set::tests::{bulks_of, sorted};
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

    #[test]
    fn spop_single_and_count() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SPOP", "nokey"]), Frame::Null);
        assert_eq!(db.exec(&["SPOP", "nokey", "3"]), Frame::Set(Vec::new()));
        db.exec(&["SADD", "s", "a", "b", "c", "d", "e"]);
        let Frame::Bulk(one) = db.exec(&["SPOP", "s"]) else {
            panic!("bulk");
        };
        assert_eq!(
            db.exec(&["SISMEMBER", "s", std::str::from_utf8(&one).expect("utf8")]),
            int(0)
        );
        assert_eq!(db.exec(&["SCARD", "s"]), int(4));
        assert_eq!(db.exec(&["SPOP", "s", "0"]), Frame::Set(Vec::new()));
        let Frame::Set(two) = db.exec(&["SPOP", "s", "2"]) else {
            panic!("set");
        };
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        assert_eq!(db.exec(&["SCARD", "s"]), int(2));
        let Frame::Set(rest) = db.exec(&["SPOP", "s", "10"]) else {
            panic!("set");
        };
        assert_eq!(rest.len(), 2);
        assert_eq!(db.ks.lookup(b"s").expect("lookup"), None);
        db.exec(&["SADD", "s", "a"]);
        assert_eq!(
            db.exec(&["SPOP", "s", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            db.exec(&["SPOP", "s", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(db.exec(&["SPOP", "s", "1", "2"]), err("ERR syntax error"));
    }

    #[test]
    fn spop_is_deterministic_for_a_seed() {
        let run = || {
            let mut db = TestDb::new();
            for i in 0..50 {
                db.exec(&["SADD", "s", &format!("m{i}")]);
            }
            (db.exec(&["SPOP", "s"]), db.exec(&["SPOP", "s", "7"]))
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn srandmember_counts() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["SRANDMEMBER", "nokey"]), Frame::Null);
        assert_eq!(db.exec(&["SRANDMEMBER", "nokey", "5"]), arr(&[]));
        db.exec(&["SADD", "s", "a", "b", "c"]);
        assert!([bulk("a"), bulk("b"), bulk("c")].contains(&db.exec(&["SRANDMEMBER", "s"])));
        assert_eq!(db.exec(&["SRANDMEMBER", "s", "0"]), arr(&[]));
        assert_eq!(
            sorted(db.exec(&["SRANDMEMBER", "s", "10"])),
            bulks_of(&["a", "b", "c"])
        );
        let Frame::Array(two) = db.exec(&["SRANDMEMBER", "s", "2"]) else {
            panic!("array");
        };
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        let Frame::Array(many) = db.exec(&["SRANDMEMBER", "s", "-10"]) else {
            panic!("array");
        };
        assert_eq!(many.len(), 10);
        assert_eq!(db.exec(&["SCARD", "s"]), int(3));
        assert_eq!(
            db.exec(&["SRANDMEMBER", "s", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(
            db.exec(&["SRANDMEMBER", "s", "1", "2"]),
            err("ERR syntax error")
        );
        db.exec(&["SADD", "ints", "3", "1", "2"]);
        assert_eq!(
            db.exec(&["SRANDMEMBER", "ints", "3"]),
            arr(&["1", "2", "3"])
        );
    }

    #[test]
    fn srandmember_distinct_on_large_set() {
        let mut db = TestDb::new();
        let mut argv = vec!["SADD".to_string(), "s".to_string()];
        argv.extend((0..5000).map(|i| format!("m{i}")));
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        assert_eq!(db.exec(&refs), int(5000));
        let Frame::Array(picked) = db.exec(&["SRANDMEMBER", "s", "4990"]) else {
            panic!("array");
        };
        let distinct: std::collections::HashSet<String> =
            picked.iter().map(|f| format!("{f:?}")).collect();
        assert_eq!(distinct.len(), 4990);
        let Frame::Set(popped) = db.exec(&["SPOP", "s", "4000"]) else {
            panic!("set");
        };
        assert_eq!(popped.len(), 4000);
        assert_eq!(db.exec(&["SCARD", "s"]), int(1000));
    }
}
