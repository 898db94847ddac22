//! What a client was told is written stays written: across kill -9, SIGTERM and repeated
//! restarts on the same data dir, with no write lost and none applied twice.

mod common;

use std::time::Duration;

use common::*;

async fn set_keys(c: &mut MultiplexedConnection, prefix: &str, n: usize) {
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET")
            .arg(format!("{prefix}{i}"))
            .arg(format!("value-{i}"));
    }
    let replies: Vec<Value> = pipe.query_async(c).await.expect("SET pipeline");
    assert!(replies.iter().all(|r| *r == ok()), "every SET acknowledged");
}

async fn assert_keys(c: &mut MultiplexedConnection, prefix: &str, n: usize) {
    let mut cmd = redis::cmd("MGET");
    for i in 0..n {
        cmd.arg(format!("{prefix}{i}"));
    }
    let got: Vec<Option<String>> = cmd.query_async(c).await.expect("MGET");
    for (i, v) in got.iter().enumerate() {
        assert_eq!(
            v.as_deref(),
            Some(format!("value-{i}").as_str()),
            "{prefix}{i} after restart"
        );
    }
}

#[tokio::test]
async fn two_hundred_keys_survive_kill_9() {
    let (mut node, mut c) = start().await;
    set_keys(&mut c, "k", 200).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    assert_keys(&mut c, "k", 200).await;
    expect(&mut c, &["DBSIZE"], int(200)).await;
}

#[tokio::test]
async fn two_hundred_keys_survive_a_sigterm_restart() {
    let (mut node, mut c) = start().await;
    set_keys(&mut c, "k", 200).await;
    let status = node.terminate();
    assert!(status.success(), "SIGTERM exits cleanly: {status}");
    node.restart();
    let mut c = node.client().await;
    assert_keys(&mut c, "k", 200).await;
    expect(&mut c, &["DBSIZE"], int(200)).await;
}

#[tokio::test]
async fn a_write_acknowledged_just_before_kill_9_is_kept() {
    let (mut node, mut c) = start().await;
    expect(&mut c, &["SET", "last", "v"], ok()).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    expect(&mut c, &["GET", "last"], b("v")).await;
    // Many concurrent writes, all acknowledged, then kill -9 at once.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let mut c = c.clone();
        tasks.push(tokio::spawn(async move {
            try_q(&mut c, &["SET", &format!("c{i}"), &format!("value-{i}")]).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task"), Ok(ok()));
    }
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    assert_keys(&mut c, "c", 50).await;
}

#[tokio::test]
async fn replaying_the_log_applies_each_write_once() {
    let (mut node, mut c) = start().await;
    let mut pipe = redis::pipe();
    for _ in 0..100 {
        pipe.cmd("INCR").arg("counter");
        pipe.cmd("RPUSH").arg("list").arg("x");
    }
    let _: Vec<Value> = pipe.query_async(&mut c).await.expect("pipeline");
    expect(&mut c, &["APPEND", "s", "ab"], int(2)).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    expect(&mut c, &["GET", "counter"], b("100")).await;
    expect(&mut c, &["LLEN", "list"], int(100)).await;
    expect(&mut c, &["GET", "s"], b("ab")).await;
    node.terminate();
    node.restart();
    let mut c = node.client().await;
    expect(&mut c, &["INCR", "counter"], int(101)).await;
    expect(&mut c, &["LLEN", "list"], int(100)).await;
}

#[tokio::test]
async fn collections_dbs_and_ttls_survive_a_restart() {
    let (mut node, mut c) = start().await;
    expect(&mut c, &["HSET", "h", "f1", "v1", "f2", "v2"], int(2)).await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["SADD", "s", "x", "y"], int(2)).await;
    expect(&mut c, &["ZADD", "z", "1", "a", "2.5", "b"], int(2)).await;
    expect(&mut c, &["SET", "ttl", "v", "EX", "100"], ok()).await;
    expect(&mut c, &["SET", "short", "v", "PX", "300"], ok()).await;
    expect(&mut c, &["SET", "gone", "v"], ok()).await;
    expect(&mut c, &["DEL", "gone"], int(1)).await;
    expect(&mut c, &["SELECT", "5"], ok()).await;
    expect(&mut c, &["SET", "in5", "five"], ok()).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    expect(&mut c, &["HGET", "h", "f2"], b("v2")).await;
    expect(&mut c, &["HLEN", "h"], int(2)).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["a", "b", "c"])).await;
    assert_eq!(
        sorted_strings(&q(&mut c, &["SMEMBERS", "s"]).await),
        ["x", "y"]
    );
    expect(
        &mut c,
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        bulks(&["a", "1", "b", "2.5"]),
    )
    .await;
    let ttl = as_int(&q(&mut c, &["TTL", "ttl"]).await);
    assert!((90..=100).contains(&ttl), "TTL after restart: {ttl}");
    expect(&mut c, &["EXISTS", "gone"], int(0)).await;
    let probe = c.clone();
    eventually(
        "the 300ms key expires after the restart",
        Duration::from_secs(5),
        || {
            let mut c = probe.clone();
            async move { try_q(&mut c, &["EXISTS", "short"]).await == Ok(int(0)) }
        },
    )
    .await;
    expect(&mut c, &["SELECT", "5"], ok()).await;
    expect(&mut c, &["GET", "in5"], b("five")).await;
}

#[tokio::test]
async fn writes_continue_across_several_restarts() {
    let (mut node, mut c) = start().await;
    set_keys(&mut c, "a", 20).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    set_keys(&mut c, "b", 20).await;
    node.terminate();
    node.restart();
    let mut c = node.client().await;
    set_keys(&mut c, "c", 20).await;
    expect(&mut c, &["FLUSHDB"], ok()).await;
    expect(&mut c, &["SET", "after-flush", "1"], ok()).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    expect(&mut c, &["KEYS", "*"], bulks(&["after-flush"])).await;
    set_keys(&mut c, "d", 20).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    assert_keys(&mut c, "d", 20).await;
    expect(&mut c, &["DBSIZE"], int(21)).await;
}
