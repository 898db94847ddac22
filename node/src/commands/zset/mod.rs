//! Sorted set commands: ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD, ZCOUNT, ZLEXCOUNT, the
//! ZRANGE family (by rank, score and lex, REV, LIMIT, WITHSCORES, ZRANGESTORE), ZRANK,
//! ZREVRANK, ZPOPMIN, ZPOPMAX, ZREMRANGEBY*, ZRANDMEMBER and ZSCAN.
//!
//! A sorted set is its meta record (count) plus two member records per member: the score by
//! member (`'m' hash(member) member -> f64 bits`, for ZSCORE and ZSCAN) and the score order
//! index (`'s' score(ordered) member -> ""`, ties ordered by member bytes as Redis does).
//! Both records of a member always change together; this module never touches another type's
//! records.
//!
//! This file holds the command table and what every handler shares (the reply shapes, the
//! error texts); the storage layout is `records.rs`, score/lex/rank selection `interval.rs`,
//! and the handlers are grouped by concern: `add.rs` (ZADD, ZINCRBY, ZREM), `score.rs` (point
//! reads and counts), `rank.rs`, `range.rs` (the ZRANGE family), `remove.rs` (pops and
//! ZREMRANGEBY*), `random.rs` (ZRANDMEMBER) and `scan.rs` (ZSCAN).

mod add;
mod interval;
mod random;
mod range;
mod rank;
mod records;
mod remove;
mod scan;
mod score;

use bytes::Bytes;
use redoubt_proto::resp::{Frame, Protocol};

use self::add::{zadd, zincrby, zrem};
use self::random::zrandmember;
use self::range::{
    zrange, zrangebylex, zrangebyscore, zrangestore, zrevrange, zrevrangebylex, zrevrangebyscore,
};
use self::rank::{zrank, zrevrank};
use self::remove::{zpopmax, zpopmin, zremrangebylex, zremrangebyrank, zremrangebyscore};
use self::scan::zscan;
use self::score::{zcard, zcount, zlexcount, zmscore, zscore};
use super::args::parse_i64_opt;
use super::flag::*;
use super::key_flag::*;
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec};
use crate::store::{KeyType, Meta};

const SORTEDSET: &[&str] = &["sortedset"];
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, Exec::Write(zadd))
        .flags(WRITE | DENYOOM | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | UPDATE)])
        .docs(
            "sorted-set",
            "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
            "1.2.0",
        ),
    CommandSpec::new("zincrby", 4, Exec::Write(zincrby))
        .flags(WRITE | DENYOOM | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | UPDATE)])
        .docs(
            "sorted-set",
            "Increments the score of a member in a sorted set.",
            "1.2.0",
        ),
    CommandSpec::new("zrem", -3, Exec::Write(zrem))
        .flags(WRITE | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "sorted-set",
            "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
            "1.2.0",
        ),
    CommandSpec::new("zscore", 3, Exec::Read(zscore))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the score of a member in a sorted set.",
            "1.2.0",
        ),
    CommandSpec::new("zmscore", -3, Exec::Read(zmscore))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the score of one or more members in a sorted set.",
            "6.2.0",
        ),
    CommandSpec::new("zcard", 2, Exec::Read(zcard))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO)])
        .docs(
            "sorted-set",
            "Returns the number of members in a sorted set.",
            "1.2.0",
        ),
    CommandSpec::new("zcount", 4, Exec::Read(zcount))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the count of members in a sorted set that have scores within a range.",
            "2.0.0",
        ),
    CommandSpec::new("zlexcount", 4, Exec::Read(zlexcount))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the number of members in a sorted set within a lexicographical range.",
            "2.8.9",
        ),
    CommandSpec::new("zrange", -4, Exec::Read(zrange))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a range of indexes.",
            "1.2.0",
        ),
    CommandSpec::new("zrangestore", -5, Exec::Write(zrangestore))
        .flags(WRITE | DENYOOM)
        .acl(SORTEDSET)
        .keys(&[
            KeySpec::index(1).flags(OW | UPDATE),
            KeySpec::index(2).flags(RO | ACCESS),
        ])
        .docs(
            "sorted-set",
            "Stores a range of members from sorted set in a key.",
            "6.2.0",
        ),
    CommandSpec::new("zrevrange", -4, Exec::Read(zrevrange))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a range of indexes in reverse order.",
            "1.2.0",
        ),
    CommandSpec::new("zrangebyscore", -4, Exec::Read(zrangebyscore))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a range of scores.",
            "1.0.5",
        ),
    CommandSpec::new("zrevrangebyscore", -4, Exec::Read(zrevrangebyscore))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a range of scores in reverse order.",
            "2.2.0",
        ),
    CommandSpec::new("zrangebylex", -4, Exec::Read(zrangebylex))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a lexicographical range.",
            "2.8.9",
        ),
    CommandSpec::new("zrevrangebylex", -4, Exec::Read(zrevrangebylex))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns members in a sorted set within a lexicographical range in reverse order.",
            "2.8.9",
        ),
    CommandSpec::new("zrank", -3, Exec::Read(zrank))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the index of a member in a sorted set ordered by ascending scores.",
            "2.0.0",
        ),
    CommandSpec::new("zrevrank", -3, Exec::Read(zrevrank))
        .flags(READONLY | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns the index of a member in a sorted set ordered by descending scores.",
            "2.0.0",
        ),
    CommandSpec::new("zpopmin", -2, Exec::Write(zpopmin))
        .flags(WRITE | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "sorted-set",
            "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
            "5.0.0",
        ),
    CommandSpec::new("zpopmax", -2, Exec::Write(zpopmax))
        .flags(WRITE | FAST)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | ACCESS | DELETE)])
        .docs(
            "sorted-set",
            "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
            "5.0.0",
        ),
    CommandSpec::new("zremrangebyscore", 4, Exec::Write(zremrangebyscore))
        .flags(WRITE)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "sorted-set",
            "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
            "1.2.0",
        ),
    CommandSpec::new("zremrangebyrank", 4, Exec::Write(zremrangebyrank))
        .flags(WRITE)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "sorted-set",
            "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
            "2.0.0",
        ),
    CommandSpec::new("zremrangebylex", 4, Exec::Write(zremrangebylex))
        .flags(WRITE)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RW | DELETE)])
        .docs(
            "sorted-set",
            "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
            "2.8.9",
        ),
    CommandSpec::new("zrandmember", -2, Exec::Read(zrandmember))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Returns one or more random members from a sorted set.",
            "6.2.0",
        ),
    CommandSpec::new("zscan", -3, Exec::Read(zscan))
        .flags(READONLY)
        .acl(SORTEDSET)
        .keys(&[KeySpec::index(1).flags(RO | ACCESS)])
        .docs(
            "sorted-set",
            "Iterates over members and scores of a sorted set.",
            "2.8.0",
        ),
];

const NAN_ERR: &str = "ERR resulting score is not a number (NaN)";
const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";

/// One member and its score.
type Entry = (Bytes, f64);

fn lookup_zset(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Meta>, CmdError> {
    Ok(ctx.ks.lookup_typed(key, KeyType::ZSet)?)
}

/// A non-negative count; anything else is Redis's "must be positive" error.
fn parse_positive(arg: &[u8]) -> Result<u64, CmdError> {
    match parse_i64_opt(arg) {
        Some(v) if v >= 0 => Ok(v as u64),
        _ => Err(CmdError::other(
            "ERR value is out of range, must be positive",
        )),
    }
}

/// Members with optional scores, shaped as Redis replies: RESP3 pairs, RESP2 a flat array.
fn scored_reply(protocol: Protocol, items: Vec<Entry>, with_scores: bool) -> Frame {
    if !with_scores {
        return Frame::Array(items.into_iter().map(|(m, _)| Frame::Bulk(m)).collect());
    }
    if protocol == Protocol::Resp3 {
        Frame::Array(
            items
                .into_iter()
                .map(|(m, s)| Frame::Array(vec![Frame::Bulk(m), Frame::Double(s)]))
                .collect(),
        )
    } else {
        Frame::Array(
            items
                .into_iter()
                .flat_map(|(m, s)| [Frame::Bulk(m), Frame::Double(s)])
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{bulk, err, int, TestDb};

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    pub(super) fn dbl(v: f64) -> Frame {
        Frame::Double(v)
    }

    /// Flat [member, score, ...] as RESP2 WITHSCORES gives it.
    pub(super) fn scored(items: &[(&str, f64)]) -> Frame {
        Frame::Array(items.iter().flat_map(|(m, s)| [bulk(m), dbl(*s)]).collect())
    }

    pub(super) fn setup(db: &mut TestDb) {
        db.exec(&[
            "zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ]);
    }

    #[test]
    fn wrong_type_everywhere() {
        let mut db = TestDb::new();
        db.exec(&["set", "s", "v"]);
        for argv in [
            vec!["zadd", "s", "1", "a"],
            vec!["zincrby", "s", "1", "a"],
            vec!["zrem", "s", "a"],
            vec!["zscore", "s", "a"],
            vec!["zmscore", "s", "a"],
            vec!["zcard", "s"],
            vec!["zcount", "s", "0", "1"],
            vec!["zlexcount", "s", "-", "+"],
            vec!["zrange", "s", "0", "1"],
            vec!["zrangebyscore", "s", "0", "1"],
            vec!["zrangebylex", "s", "-", "+"],
            vec!["zrangestore", "d", "s", "0", "1"],
            vec!["zrank", "s", "a"],
            vec!["zrevrank", "s", "a"],
            vec!["zpopmin", "s"],
            vec!["zremrangebyrank", "s", "0", "1"],
            vec!["zrandmember", "s"],
            vec!["zscan", "s", "0"],
        ] {
            assert_eq!(db.exec(&argv), err(WRONGTYPE), "{argv:?}");
        }
    }

    #[test]
    fn expired_zset_is_gone() {
        let mut db = TestDb::new();
        setup(&mut db);
        let mut meta = db.ks.lookup(b"z").expect("lookup").expect("live");
        meta.expire_at = Some(db.ks.now_ms + 50);
        db.ks.save_meta(b"z", &mut meta).expect("save");
        assert_eq!(db.exec(&["zcard", "z"]), int(5));
        db.advance_ms(50);
        assert_eq!(db.exec(&["zcard", "z"]), int(0));
        assert_eq!(db.exec(&["zscore", "z", "a"]), Frame::Null);
        assert_eq!(db.exec(&["zadd", "z", "7", "q"]), int(1));
        assert_eq!(
            db.exec(&["zrange", "z", "0", "-1", "WITHSCORES"]),
            scored(&[("q", 7.0)])
        );
    }
}
