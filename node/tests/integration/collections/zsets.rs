//! Sorted set commands.

use std::collections::HashSet;

use super::{scan_all, set_of};
use crate::common::*;

#[tokio::test]
async fn zadd_flags_nx_xx_gt_lt_ch_incr() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"], int(3)).await;
    expect(&mut c, &["ZADD", "z", "10", "a"], int(0)).await;
    expect(&mut c, &["ZSCORE", "z", "a"], b("10")).await;
    expect(&mut c, &["ZCARD", "z"], int(3)).await;
    expect(&mut c, &["ZADD", "z", "CH", "11", "a", "4", "d"], int(2)).await;
    expect(&mut c, &["ZADD", "z", "NX", "100", "a", "5", "e"], int(1)).await;
    expect(&mut c, &["ZSCORE", "z", "a"], b("11")).await;
    expect(&mut c, &["ZADD", "z", "XX", "12", "a", "6", "f"], int(0)).await;
    expect(&mut c, &["ZSCORE", "z", "a"], b("12")).await;
    expect(&mut c, &["ZSCORE", "z", "f"], nil()).await;
    expect(&mut c, &["ZADD", "z", "GT", "CH", "1", "a"], int(0)).await;
    expect(&mut c, &["ZADD", "z", "GT", "CH", "13", "a"], int(1)).await;
    expect(&mut c, &["ZADD", "z", "LT", "CH", "20", "a"], int(0)).await;
    expect(&mut c, &["ZADD", "z", "LT", "CH", "1", "a"], int(1)).await;
    expect(&mut c, &["ZSCORE", "z", "a"], b("1")).await;
    expect(&mut c, &["ZADD", "z", "INCR", "5", "b"], b("7")).await;
    expect(&mut c, &["ZADD", "z", "NX", "INCR", "1", "b"], nil()).await;
    expect(&mut c, &["ZADD", "z", "1.5", "h"], int(1)).await;
    expect(&mut c, &["ZSCORE", "z", "h"], b("1.5")).await;
    expect(&mut c, &["ZADD", "z", "inf", "x", "-inf", "y"], int(2)).await;
    expect(&mut c, &["ZSCORE", "z", "x"], b("inf")).await;
    expect(&mut c, &["ZSCORE", "z", "y"], b("-inf")).await;
    expect_err(
        &mut c,
        &["ZADD", "z", "XX", "NX", "1", "a"],
        "ERR XX and NX options at the same time are not compatible",
    )
    .await;
    expect_err(
        &mut c,
        &["ZADD", "z", "GT", "LT", "1", "a"],
        "ERR GT, LT, and/or NX options at the same time are not compatible",
    )
    .await;
    expect_err(
        &mut c,
        &["ZADD", "z", "GT", "NX", "1", "a"],
        "ERR GT, LT, and/or NX options at the same time are not compatible",
    )
    .await;
    expect_err(
        &mut c,
        &["ZADD", "z", "INCR", "1", "a", "2", "b"],
        "ERR INCR option supports a single increment-element pair",
    )
    .await;
    expect_err(&mut c, &["ZADD", "z", "abc", "a"], NOT_FLOAT).await;
    expect_err(&mut c, &["ZADD", "z", "nan", "a"], NOT_FLOAT).await;
    expect_err(&mut c, &["ZADD", "z", "1", "a", "2"], SYNTAX).await;
    expect_err(&mut c, &["ZADD", "z", "1"], &arity("zadd")).await;
}

#[tokio::test]
async fn zadd_scores_use_the_shortest_round_trip_form() {
    let (_node, mut c) = start().await;
    // Redis 7.2 prints doubles the shortest way that reads back the same (fpconv).
    expect(
        &mut c,
        &["ZADD", "z", "0.1", "a", "1e20", "b", "-0.5", "c"],
        int(3),
    )
    .await;
    expect(&mut c, &["ZSCORE", "z", "a"], b("0.1")).await;
    expect(&mut c, &["ZSCORE", "z", "b"], b("1e+20")).await;
    expect(&mut c, &["ZSCORE", "z", "c"], b("-0.5")).await;
    expect(
        &mut c,
        &["ZINCRBY", "z", "0.2", "a"],
        b("0.30000000000000004"),
    )
    .await;
}

#[tokio::test]
async fn zincrby_and_zmscore() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["ZINCRBY", "z", "2", "a"], b("2")).await;
    expect(&mut c, &["ZINCRBY", "z", "-0.5", "a"], b("1.5")).await;
    expect_err(&mut c, &["ZINCRBY", "z", "abc", "a"], NOT_FLOAT).await;
    expect(&mut c, &["ZINCRBY", "z", "inf", "a"], b("inf")).await;
    expect_err(
        &mut c,
        &["ZINCRBY", "z", "-inf", "a"],
        "ERR resulting score is not a number (NaN)",
    )
    .await;
    expect(&mut c, &["ZADD", "z", "3", "b"], int(1)).await;
    expect(
        &mut c,
        &["ZMSCORE", "z", "b", "nope", "a"],
        arr(vec![b("3"), nil(), b("inf")]),
    )
    .await;
    expect(&mut c, &["ZMSCORE", "missing", "a"], arr(vec![nil()])).await;
}

#[tokio::test]
async fn zrange_by_rank_score_and_lex() {
    let (_node, mut c) = start().await;
    expect(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
        int(4),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGE", "z", "0", "-1"],
        bulks(&["a", "b", "c", "d"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        bulks(&["a", "1", "b", "2", "c", "3", "d", "4"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGE", "z", "1", "2", "REV"],
        bulks(&["c", "b"]),
    )
    .await;
    expect(&mut c, &["ZREVRANGE", "z", "0", "1"], bulks(&["d", "c"])).await;
    expect(
        &mut c,
        &["ZREVRANGE", "z", "0", "0", "WITHSCORES"],
        bulks(&["d", "4"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGE", "z", "(1", "3", "BYSCORE"],
        bulks(&["b", "c"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"],
        bulks(&["b", "c"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGE", "z", "3", "1", "BYSCORE", "REV"],
        bulks(&["c", "b", "a"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGEBYSCORE", "z", "(1", "(4"],
        bulks(&["b", "c"]),
    )
    .await;
    expect(
        &mut c,
        &[
            "ZRANGEBYSCORE",
            "z",
            "-inf",
            "+inf",
            "WITHSCORES",
            "LIMIT",
            "0",
            "1",
        ],
        bulks(&["a", "1"]),
    )
    .await;
    expect(
        &mut c,
        &["ZREVRANGEBYSCORE", "z", "+inf", "(2"],
        bulks(&["d", "c"]),
    )
    .await;
    expect(&mut c, &["ZRANGE", "missing", "0", "-1"], arr(vec![])).await;
    expect_err(
        &mut c,
        &["ZRANGEBYSCORE", "z", "a", "b"],
        "ERR min or max is not a float",
    )
    .await;
    expect_err(
        &mut c,
        &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    )
    .await;
    // Equal scores sort by member.
    expect(
        &mut c,
        &["ZADD", "lex", "0", "d", "0", "b", "0", "a", "0", "c"],
        int(4),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGE", "lex", "0", "-1"],
        bulks(&["a", "b", "c", "d"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGEBYLEX", "lex", "-", "+"],
        bulks(&["a", "b", "c", "d"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGEBYLEX", "lex", "[b", "(d"],
        bulks(&["b", "c"]),
    )
    .await;
    expect(
        &mut c,
        &["ZREVRANGEBYLEX", "lex", "+", "(b"],
        bulks(&["d", "c"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGE", "lex", "[b", "[c", "BYLEX"],
        bulks(&["b", "c"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGEBYLEX", "lex", "-", "+", "LIMIT", "1", "1"],
        bulks(&["b"]),
    )
    .await;
    expect_err(
        &mut c,
        &["ZRANGEBYLEX", "lex", "b", "c"],
        "ERR min or max not valid string range item",
    )
    .await;
}

#[tokio::test]
async fn zcount_zlexcount_zrank_zrevrank() {
    let (_node, mut c) = start().await;
    expect(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
        int(4),
    )
    .await;
    expect(&mut c, &["ZCOUNT", "z", "-inf", "+inf"], int(4)).await;
    expect(&mut c, &["ZCOUNT", "z", "(1", "3"], int(2)).await;
    expect(&mut c, &["ZCOUNT", "missing", "0", "1"], int(0)).await;
    expect(&mut c, &["ZRANK", "z", "c"], int(2)).await;
    expect(&mut c, &["ZREVRANK", "z", "c"], int(1)).await;
    expect(&mut c, &["ZRANK", "z", "nope"], nil()).await;
    expect(&mut c, &["ZRANK", "missing", "a"], nil()).await;
    expect(
        &mut c,
        &["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"],
        int(4),
    )
    .await;
    expect(&mut c, &["ZLEXCOUNT", "lex", "-", "+"], int(4)).await;
    expect(&mut c, &["ZLEXCOUNT", "lex", "[b", "[c"], int(2)).await;
}

#[tokio::test]
async fn zrank_withscore() {
    // New in Redis 7.2.
    let (_node, mut c) = start().await;
    expect(&mut c, &["ZADD", "z", "1", "a", "2.5", "b"], int(2)).await;
    expect(
        &mut c,
        &["ZRANK", "z", "b", "WITHSCORE"],
        arr(vec![int(1), b("2.5")]),
    )
    .await;
    expect(
        &mut c,
        &["ZREVRANK", "z", "b", "WITHSCORE"],
        arr(vec![int(0), b("2.5")]),
    )
    .await;
    expect(&mut c, &["ZRANK", "z", "nope", "WITHSCORE"], nil()).await;
}

#[tokio::test]
async fn zrem_zpopmin_zpopmax() {
    let (_node, mut c) = start().await;
    expect(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
        int(4),
    )
    .await;
    expect(&mut c, &["ZREM", "z", "a", "nope"], int(1)).await;
    expect(&mut c, &["ZPOPMIN", "z"], bulks(&["b", "2"])).await;
    expect(&mut c, &["ZPOPMAX", "z"], bulks(&["d", "4"])).await;
    expect(&mut c, &["ZPOPMIN", "z", "5"], bulks(&["c", "3"])).await;
    expect(&mut c, &["EXISTS", "z"], int(0)).await;
    expect(&mut c, &["ZPOPMIN", "missing"], arr(vec![])).await;
    expect(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"], int(3)).await;
    expect(&mut c, &["ZPOPMAX", "z", "2"], bulks(&["c", "3", "b", "2"])).await;
    expect(&mut c, &["ZREM", "z", "a"], int(1)).await;
    expect(&mut c, &["EXISTS", "z"], int(0)).await;
}

#[tokio::test]
async fn zremrangebyscore_rank_lex() {
    let (_node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
        int(5),
    )
    .await;
    expect(&mut c, &["ZREMRANGEBYSCORE", "z", "(1", "2"], int(1)).await;
    expect(&mut c, &["ZREMRANGEBYRANK", "z", "0", "0"], int(1)).await;
    expect(&mut c, &["ZRANGE", "z", "0", "-1"], bulks(&["c", "d", "e"])).await;
    expect(&mut c, &["ZREMRANGEBYRANK", "z", "-2", "-1"], int(2)).await;
    expect(&mut c, &["ZRANGE", "z", "0", "-1"], bulks(&["c"])).await;
    expect(
        &mut c,
        &["ZADD", "lex", "0", "a", "0", "b", "0", "c"],
        int(3),
    )
    .await;
    expect(&mut c, &["ZREMRANGEBYLEX", "lex", "[a", "(c"], int(2)).await;
    expect(&mut c, &["ZRANGE", "lex", "0", "-1"], bulks(&["c"])).await;
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
    expect(&mut c, &["ZRANDMEMBER", "missing"], nil()).await;
    expect(&mut c, &["ZRANGESTORE", "dst", "z", "0", "1"], int(2)).await;
    expect(
        &mut c,
        &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        bulks(&["a", "1", "b", "2"]),
    )
    .await;
    expect(
        &mut c,
        &["ZRANGESTORE", "dst", "z", "(1", "+inf", "BYSCORE"],
        int(2),
    )
    .await;
    expect(&mut c, &["ZRANGE", "dst", "0", "-1"], bulks(&["b", "c"])).await;
    expect(&mut c, &["ZRANGESTORE", "dst", "z", "10", "20"], int(0)).await;
    expect(&mut c, &["EXISTS", "dst"], int(0)).await;
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
    expect(&mut c, &["SET", "s", "v"], ok()).await;
    expect_err(&mut c, &["ZADD", "s", "1", "a"], WRONGTYPE).await;
    expect_err(&mut c, &["ZSCORE", "s", "a"], WRONGTYPE).await;
    expect_err(&mut c, &["ZRANGE", "s", "0", "-1"], WRONGTYPE).await;
    expect_err(&mut c, &["ZCARD", "s"], WRONGTYPE).await;
    expect(&mut c, &["SADD", "set", "a"], int(1)).await;
    expect_err(&mut c, &["ZINCRBY", "set", "1", "a"], WRONGTYPE).await;
}
