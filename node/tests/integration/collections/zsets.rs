//! Sorted set commands.

use std::collections::HashSet;

use super::{scan_all, set_of};
use crate::common::*;

#[tokio::test]
async fn zadd_flags_nx_xx_gt_lt_ch_incr() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["ZADD", "z", "1", "a", "2", "b", "3", "c"], Ok(int(3))),
            (&["ZADD", "z", "10", "a"], Ok(int(0))),
            (&["ZSCORE", "z", "a"], Ok(b("10"))),
            (&["ZCARD", "z"], Ok(int(3))),
            (&["ZADD", "z", "CH", "11", "a", "4", "d"], Ok(int(2))),
            (&["ZADD", "z", "NX", "100", "a", "5", "e"], Ok(int(1))),
            (&["ZSCORE", "z", "a"], Ok(b("11"))),
            (&["ZADD", "z", "XX", "12", "a", "6", "f"], Ok(int(0))),
            (&["ZSCORE", "z", "a"], Ok(b("12"))),
            (&["ZSCORE", "z", "f"], Ok(nil())),
            (&["ZADD", "z", "GT", "CH", "1", "a"], Ok(int(0))),
            (&["ZADD", "z", "GT", "CH", "13", "a"], Ok(int(1))),
            (&["ZADD", "z", "LT", "CH", "20", "a"], Ok(int(0))),
            (&["ZADD", "z", "LT", "CH", "1", "a"], Ok(int(1))),
            (&["ZSCORE", "z", "a"], Ok(b("1"))),
            (&["ZADD", "z", "INCR", "5", "b"], Ok(b("7"))),
            (&["ZADD", "z", "NX", "INCR", "1", "b"], Ok(nil())),
            (&["ZADD", "z", "1.5", "h"], Ok(int(1))),
            (&["ZSCORE", "z", "h"], Ok(b("1.5"))),
            (&["ZADD", "z", "inf", "x", "-inf", "y"], Ok(int(2))),
            (&["ZSCORE", "z", "x"], Ok(b("inf"))),
            (&["ZSCORE", "z", "y"], Ok(b("-inf"))),
            (
                &["ZADD", "z", "XX", "NX", "1", "a"],
                Err("ERR XX and NX options at the same time are not compatible"),
            ),
            (
                &["ZADD", "z", "GT", "LT", "1", "a"],
                Err("ERR GT, LT, and/or NX options at the same time are not compatible"),
            ),
            (
                &["ZADD", "z", "GT", "NX", "1", "a"],
                Err("ERR GT, LT, and/or NX options at the same time are not compatible"),
            ),
            (
                &["ZADD", "z", "INCR", "1", "a", "2", "b"],
                Err("ERR INCR option supports a single increment-element pair"),
            ),
            (&["ZADD", "z", "abc", "a"], Err(NOT_FLOAT)),
            (&["ZADD", "z", "nan", "a"], Err(NOT_FLOAT)),
            (&["ZADD", "z", "1", "a", "2"], Err(SYNTAX)),
            (&["ZADD", "z", "1"], Err(&arity("zadd"))),
        ],
    )
    .await;
}

#[tokio::test]
async fn zadd_scores_use_the_shortest_round_trip_form() {
    let (_node, mut c) = start().await;
    // Redis 7.2 prints doubles the shortest way that reads back the same (fpconv).
    expect_each(
        &mut c,
        &[
            (
                &["ZADD", "z", "0.1", "a", "1e20", "b", "-0.5", "c"],
                Ok(int(3)),
            ),
            (&["ZSCORE", "z", "a"], Ok(b("0.1"))),
            (&["ZSCORE", "z", "b"], Ok(b("1e+20"))),
            (&["ZSCORE", "z", "c"], Ok(b("-0.5"))),
            (&["ZINCRBY", "z", "0.2", "a"], Ok(b("0.30000000000000004"))),
        ],
    )
    .await;
}

#[tokio::test]
async fn zincrby_and_zmscore() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["ZINCRBY", "z", "2", "a"], Ok(b("2"))),
            (&["ZINCRBY", "z", "-0.5", "a"], Ok(b("1.5"))),
            (&["ZINCRBY", "z", "abc", "a"], Err(NOT_FLOAT)),
            (&["ZINCRBY", "z", "inf", "a"], Ok(b("inf"))),
            (
                &["ZINCRBY", "z", "-inf", "a"],
                Err("ERR resulting score is not a number (NaN)"),
            ),
            (&["ZADD", "z", "3", "b"], Ok(int(1))),
            (
                &["ZMSCORE", "z", "b", "nope", "a"],
                Ok(arr(vec![b("3"), nil(), b("inf")])),
            ),
            (&["ZMSCORE", "missing", "a"], Ok(arr(vec![nil()]))),
        ],
    )
    .await;
}

#[tokio::test]
async fn zrange_by_rank_score_and_lex() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"], Ok(int(4))),
            (&["ZRANGE", "z", "0", "-1"], Ok(bulks(&["a", "b", "c", "d"]))),
            (&["ZRANGE", "z", "0", "-1", "WITHSCORES"], Ok(bulks(&["a", "1", "b", "2", "c", "3", "d", "4"]))),
            (&["ZRANGE", "z", "1", "2", "REV"], Ok(bulks(&["c", "b"]))),
            (&["ZREVRANGE", "z", "0", "1"], Ok(bulks(&["d", "c"]))),
            (&["ZREVRANGE", "z", "0", "0", "WITHSCORES"], Ok(bulks(&["d", "4"]))),
            (&["ZRANGE", "z", "(1", "3", "BYSCORE"], Ok(bulks(&["b", "c"]))),
            (&["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"], Ok(bulks(&["b", "c"]))),
            (&["ZRANGE", "z", "3", "1", "BYSCORE", "REV"], Ok(bulks(&["c", "b", "a"]))),
            (&["ZRANGEBYSCORE", "z", "(1", "(4"], Ok(bulks(&["b", "c"]))),
            (&["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", "0", "1", ], Ok(bulks(&["a", "1"]))),
            (&["ZREVRANGEBYSCORE", "z", "+inf", "(2"], Ok(bulks(&["d", "c"]))),
            (&["ZRANGE", "missing", "0", "-1"], Ok(arr(vec![]))),
            (&["ZRANGEBYSCORE", "z", "a", "b"], Err("ERR min or max is not a float")),
            (&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"], Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")),
            // Equal scores sort by member.
            (&["ZADD", "lex", "0", "d", "0", "b", "0", "a", "0", "c"], Ok(int(4))),
            (&["ZRANGE", "lex", "0", "-1"], Ok(bulks(&["a", "b", "c", "d"]))),
            (&["ZRANGEBYLEX", "lex", "-", "+"], Ok(bulks(&["a", "b", "c", "d"]))),
            (&["ZRANGEBYLEX", "lex", "[b", "(d"], Ok(bulks(&["b", "c"]))),
            (&["ZREVRANGEBYLEX", "lex", "+", "(b"], Ok(bulks(&["d", "c"]))),
            (&["ZRANGE", "lex", "[b", "[c", "BYLEX"], Ok(bulks(&["b", "c"]))),
            (&["ZRANGEBYLEX", "lex", "-", "+", "LIMIT", "1", "1"], Ok(bulks(&["b"]))),
            (&["ZRANGEBYLEX", "lex", "b", "c"], Err("ERR min or max not valid string range item")),
        ],
    )
    .await;
}

#[tokio::test]
async fn zcount_zlexcount_zrank_zrevrank() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (
                &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
                Ok(int(4)),
            ),
            (&["ZCOUNT", "z", "-inf", "+inf"], Ok(int(4))),
            (&["ZCOUNT", "z", "(1", "3"], Ok(int(2))),
            (&["ZCOUNT", "missing", "0", "1"], Ok(int(0))),
            (&["ZRANK", "z", "c"], Ok(int(2))),
            (&["ZREVRANK", "z", "c"], Ok(int(1))),
            (&["ZRANK", "z", "nope"], Ok(nil())),
            (&["ZRANK", "missing", "a"], Ok(nil())),
            (
                &["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"],
                Ok(int(4)),
            ),
            (&["ZLEXCOUNT", "lex", "-", "+"], Ok(int(4))),
            (&["ZLEXCOUNT", "lex", "[b", "[c"], Ok(int(2))),
        ],
    )
    .await;
}

#[tokio::test]
async fn zrank_withscore() {
    // New in Redis 7.2.
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["ZADD", "z", "1", "a", "2.5", "b"], Ok(int(2))),
            (
                &["ZRANK", "z", "b", "WITHSCORE"],
                Ok(arr(vec![int(1), b("2.5")])),
            ),
            (
                &["ZREVRANK", "z", "b", "WITHSCORE"],
                Ok(arr(vec![int(0), b("2.5")])),
            ),
            (&["ZRANK", "z", "nope", "WITHSCORE"], Ok(nil())),
        ],
    )
    .await;
}

#[tokio::test]
async fn zrem_zpopmin_zpopmax() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (
                &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
                Ok(int(4)),
            ),
            (&["ZREM", "z", "a", "nope"], Ok(int(1))),
            (&["ZPOPMIN", "z"], Ok(bulks(&["b", "2"]))),
            (&["ZPOPMAX", "z"], Ok(bulks(&["d", "4"]))),
            (&["ZPOPMIN", "z", "5"], Ok(bulks(&["c", "3"]))),
            (&["EXISTS", "z"], Ok(int(0))),
            (&["ZPOPMIN", "missing"], Ok(arr(vec![]))),
            (&["ZADD", "z", "1", "a", "2", "b", "3", "c"], Ok(int(3))),
            (&["ZPOPMAX", "z", "2"], Ok(bulks(&["c", "3", "b", "2"]))),
            (&["ZREM", "z", "a"], Ok(int(1))),
            (&["EXISTS", "z"], Ok(int(0))),
        ],
    )
    .await;
}

#[tokio::test]
async fn zremrangebyscore_rank_lex() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (
                &[
                    "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
                ],
                Ok(int(5)),
            ),
            (&["ZREMRANGEBYSCORE", "z", "(1", "2"], Ok(int(1))),
            (&["ZREMRANGEBYRANK", "z", "0", "0"], Ok(int(1))),
            (&["ZRANGE", "z", "0", "-1"], Ok(bulks(&["c", "d", "e"]))),
            (&["ZREMRANGEBYRANK", "z", "-2", "-1"], Ok(int(2))),
            (&["ZRANGE", "z", "0", "-1"], Ok(bulks(&["c"]))),
            (&["ZADD", "lex", "0", "a", "0", "b", "0", "c"], Ok(int(3))),
            (&["ZREMRANGEBYLEX", "lex", "[a", "(c"], Ok(int(2))),
            (&["ZRANGE", "lex", "0", "-1"], Ok(bulks(&["c"]))),
        ],
    )
    .await;
}

#[tokio::test]
async fn zrandmember_zrangestore_zscan() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"], int(3)).await;
    let members = set_of(&["a", "b", "c"]);
    assert!(members.contains(&text(&q(&mut c, &["ZRANDMEMBER", "z"]).await)));
    let with_scores = strings(&q(&mut c, &["ZRANDMEMBER", "z", "2", "WITHSCORES"]).await);
    assert_eq!(with_scores.len(), 4);
    for pair in with_scores.chunks(2) {
        let want = match pair[0].as_str() {
            "a" => "1",
            "b" => "2",
            "c" => "3",
            other => panic!("unknown member {other}"),
        };
        assert_eq!(pair[1], want);
    }
    let five = strings(&q(&mut c, &["ZRANDMEMBER", "z", "-5"]).await);
    assert_eq!(five.len(), 5);
    assert!(five.iter().all(|m| members.contains(m)));
    expect_each(
        &mut c,
        &[
            (&["ZRANDMEMBER", "missing"], Ok(nil())),
            (&["ZRANGESTORE", "dst", "z", "0", "1"], Ok(int(2))),
            (
                &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
                Ok(bulks(&["a", "1", "b", "2"])),
            ),
            (
                &["ZRANGESTORE", "dst", "z", "(1", "+inf", "BYSCORE"],
                Ok(int(2)),
            ),
            (&["ZRANGE", "dst", "0", "-1"], Ok(bulks(&["b", "c"]))),
            (&["ZRANGESTORE", "dst", "z", "10", "20"], Ok(int(0))),
            (&["EXISTS", "dst"], Ok(int(0))),
        ],
    )
    .await;
    let mut cmd = redis::cmd("ZADD");
    cmd.arg("big");
    for i in 0..120 {
        cmd.arg(i).arg(format!("m{i}"));
    }
    let added: i64 = cmd.query_async(&mut c).await.expect("ZADD");
    assert_eq!(added, 120);
    let items = scan_all(&mut c, &["ZSCAN", "big"], &["COUNT", "10"]).await;
    assert_eq!(items.len(), 240);
    let mut seen = HashSet::new();
    for pair in items.chunks(2) {
        let i = pair[0].strip_prefix('m').expect("a member");
        assert_eq!(pair[1], i, "score of {}", pair[0]);
        assert!(seen.insert(pair[0].clone()), "{} twice", pair[0]);
    }
}

#[tokio::test]
async fn zset_commands_refuse_other_types() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["SET", "s", "v"], Ok(ok())),
            (&["ZADD", "s", "1", "a"], Err(WRONGTYPE)),
            (&["ZSCORE", "s", "a"], Err(WRONGTYPE)),
            (&["ZRANGE", "s", "0", "-1"], Err(WRONGTYPE)),
            (&["ZCARD", "s"], Err(WRONGTYPE)),
            (&["SADD", "set", "a"], Ok(int(1))),
            (&["ZINCRBY", "set", "1", "a"], Err(WRONGTYPE)),
        ],
    )
    .await;
}
