//! Hashes, lists, sets and sorted sets over real TCP, with Redis 7.2's replies and errors.

use std::collections::HashSet;

use crate::common::*;

/// Iterates a SCAN-family command (`HSCAN key`, `SSCAN key`, `ZSCAN key`) to its end and
/// returns every item it produced, in order.
async fn scan_all(c: &mut MultiplexedConnection, cmd: &[&str], extra: &[&str]) -> Vec<String> {
    let mut items = Vec::new();
    let mut cursor = "0".to_string();
    for _ in 0..10_000 {
        let mut args: Vec<&str> = cmd.to_vec();
        args.push(&cursor);
        args.extend_from_slice(extra);
        let reply = q(c, &args).await;
        let Value::Array(parts) = reply else {
            panic!("{cmd:?} reply is not an array: {reply:?}")
        };
        assert_eq!(parts.len(), 2, "{cmd:?} replies [cursor, items]");
        let next = text(&parts[0]);
        items.extend(strings(&parts[1]));
        if next == "0" {
            return items;
        }
        cursor = next;
    }
    panic!("{cmd:?} did not finish");
}

fn set_of(items: &[&str]) -> HashSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---- hashes ----

#[tokio::test]
async fn hset_hget_hmget_hlen_hexists_hstrlen() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["HSET", "h", "f1", "v1", "f2", "v2"], int(2)).await;
    expect(&mut c, &["HSET", "h", "f1", "new", "f3", "v3"], int(1)).await;
    expect(&mut c, &["HGET", "h", "f1"], b("new")).await;
    expect(&mut c, &["HGET", "h", "nope"], nil()).await;
    expect(&mut c, &["HGET", "missing", "f"], nil()).await;
    expect(
        &mut c,
        &["HMGET", "h", "f1", "nope", "f3"],
        arr(vec![b("new"), nil(), b("v3")]),
    )
    .await;
    expect(
        &mut c,
        &["HMGET", "missing", "a", "b"],
        arr(vec![nil(), nil()]),
    )
    .await;
    expect(&mut c, &["HLEN", "h"], int(3)).await;
    expect(&mut c, &["HLEN", "missing"], int(0)).await;
    expect_err(&mut c, &["HSET", "h", "f"], &arity("hset")).await;
    expect_err(&mut c, &["HSET", "h", "a", "1", "b"], &arity("hset")).await;
    expect(&mut c, &["HMSET", "h", "a", "1", "b", "2"], ok()).await;
    expect(&mut c, &["HLEN", "h"], int(5)).await;
    expect(&mut c, &["HSTRLEN", "h", "f1"], int(3)).await;
    expect(&mut c, &["HSTRLEN", "h", "nope"], int(0)).await;
    expect(&mut c, &["HEXISTS", "h", "f1"], int(1)).await;
    expect(&mut c, &["HEXISTS", "h", "nope"], int(0)).await;
    expect(&mut c, &["HEXISTS", "missing", "f"], int(0)).await;
}

#[tokio::test]
async fn hdel_removes_fields_and_the_empty_hash() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["HSET", "h", "a", "1", "b", "2"], int(2)).await;
    expect(&mut c, &["HDEL", "h", "a", "nope"], int(1)).await;
    expect(&mut c, &["HDEL", "h", "b", "b"], int(1)).await;
    expect(&mut c, &["EXISTS", "h"], int(0)).await;
    expect(&mut c, &["HDEL", "missing", "a"], int(0)).await;
}

#[tokio::test]
async fn hgetall_hkeys_hvals() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"], int(3)).await;
    let all = strings(&q(&mut c, &["HGETALL", "h"]).await);
    assert_eq!(all.len(), 6);
    let mut pairs: Vec<(String, String)> = all
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [("a", "1"), ("b", "2"), ("c", "3")].map(|(k, v)| (k.to_string(), v.to_string()))
    );
    let keys = strings(&q(&mut c, &["HKEYS", "h"]).await);
    let vals = strings(&q(&mut c, &["HVALS", "h"]).await);
    // HKEYS and HVALS list the fields in the same order as HGETALL.
    let order: Vec<String> = all.iter().step_by(2).cloned().collect();
    assert_eq!(keys, order);
    let order: Vec<String> = all.iter().skip(1).step_by(2).cloned().collect();
    assert_eq!(vals, order);
    expect(&mut c, &["HGETALL", "missing"], arr(vec![])).await;
    expect(&mut c, &["HKEYS", "missing"], arr(vec![])).await;
}

#[tokio::test]
async fn hincrby_and_hincrbyfloat() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["HINCRBY", "h", "n", "5"], int(5)).await;
    expect(&mut c, &["HINCRBY", "h", "n", "-2"], int(3)).await;
    expect(&mut c, &["HGET", "h", "n"], b("3")).await;
    expect(&mut c, &["HSET", "h", "s", "abc"], int(1)).await;
    expect_err(
        &mut c,
        &["HINCRBY", "h", "s", "1"],
        "ERR hash value is not an integer",
    )
    .await;
    expect_err(&mut c, &["HINCRBY", "h", "n", "abc"], NOT_INTEGER).await;
    expect(&mut c, &["HSET", "h", "big", "9223372036854775807"], int(1)).await;
    expect_err(
        &mut c,
        &["HINCRBY", "h", "big", "1"],
        "ERR increment or decrement would overflow",
    )
    .await;
    expect(&mut c, &["HINCRBYFLOAT", "h", "f", "10.5"], b("10.5")).await;
    expect(&mut c, &["HINCRBYFLOAT", "h", "f", "0.1"], b("10.6")).await;
    expect_err(
        &mut c,
        &["HINCRBYFLOAT", "h", "s", "1"],
        "ERR hash value is not a float",
    )
    .await;
    expect_err(&mut c, &["HINCRBYFLOAT", "h", "f", "abc"], NOT_FLOAT).await;
    expect(&mut c, &["HSET", "h", "e", "5.0e3"], int(1)).await;
    expect(&mut c, &["HINCRBYFLOAT", "h", "e", "2.0e2"], b("5200")).await;
}

#[tokio::test]
async fn hsetnx_sets_only_new_fields() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["HSETNX", "h", "f", "v"], int(1)).await;
    expect(&mut c, &["HSETNX", "h", "f", "w"], int(0)).await;
    expect(&mut c, &["HGET", "h", "f"], b("v")).await;
}

#[tokio::test]
async fn hrandfield_picks_existing_fields() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"], int(3)).await;
    let fields = set_of(&["a", "b", "c"]);
    let one = text(&q(&mut c, &["HRANDFIELD", "h"]).await);
    assert!(fields.contains(&one), "{one}");
    let two = strings(&q(&mut c, &["HRANDFIELD", "h", "2"]).await);
    assert_eq!(two.len(), 2);
    assert!(
        two[0] != two[1] && two.iter().all(|f| fields.contains(f)),
        "{two:?}"
    );
    let all = strings(&q(&mut c, &["HRANDFIELD", "h", "10"]).await);
    assert_eq!(all.iter().cloned().collect::<HashSet<_>>(), fields);
    assert_eq!(all.len(), 3);
    let repeated = strings(&q(&mut c, &["HRANDFIELD", "h", "-5"]).await);
    assert_eq!(repeated.len(), 5);
    assert!(repeated.iter().all(|f| fields.contains(f)), "{repeated:?}");
    let with_values = strings(&q(&mut c, &["HRANDFIELD", "h", "2", "WITHVALUES"]).await);
    assert_eq!(with_values.len(), 4);
    for pair in with_values.chunks(2) {
        let want = match pair[0].as_str() {
            "a" => "1",
            "b" => "2",
            "c" => "3",
            other => panic!("unknown field {other}"),
        };
        assert_eq!(pair[1], want);
    }
    expect(&mut c, &["HRANDFIELD", "missing"], nil()).await;
    expect(&mut c, &["HRANDFIELD", "missing", "2"], arr(vec![])).await;
}

#[tokio::test]
async fn hscan_visits_every_field_once() {
    let (_node, mut c) = start().await;
    let mut cmd = redis::cmd("HSET");
    cmd.arg("h");
    for i in 0..150 {
        cmd.arg(format!("f{i}")).arg(format!("v{i}"));
    }
    let added: i64 = cmd.query_async(&mut c).await.expect("HSET");
    assert_eq!(added, 150);
    let items = scan_all(&mut c, &["HSCAN", "h"], &["COUNT", "10"]).await;
    assert_eq!(items.len(), 300, "150 field/value pairs");
    let mut fields = HashSet::new();
    for pair in items.chunks(2) {
        let i = pair[0].strip_prefix('f').expect("a field");
        assert_eq!(pair[1], format!("v{i}"));
        assert!(fields.insert(pair[0].clone()), "{} twice", pair[0]);
    }
    let matched = scan_all(&mut c, &["HSCAN", "h"], &["MATCH", "f1?", "COUNT", "1000"]).await;
    let names: HashSet<String> = matched.iter().step_by(2).cloned().collect();
    assert_eq!(
        names,
        (10..20).map(|i| format!("f{i}")).collect::<HashSet<_>>()
    );
}

#[tokio::test]
async fn hash_commands_refuse_other_types() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "s", "v"], ok()).await;
    expect_err(&mut c, &["HSET", "s", "f", "v"], WRONGTYPE).await;
    expect_err(&mut c, &["HGET", "s", "f"], WRONGTYPE).await;
    expect_err(&mut c, &["HGETALL", "s"], WRONGTYPE).await;
    expect_err(&mut c, &["HDEL", "s", "f"], WRONGTYPE).await;
    expect_err(&mut c, &["HLEN", "s"], WRONGTYPE).await;
    expect_err(&mut c, &["HINCRBY", "s", "f", "1"], WRONGTYPE).await;
}

// ---- lists ----

#[tokio::test]
async fn push_pop_and_lrange() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["LPUSH", "l", "z"], int(4)).await;
    expect(&mut c, &["LPUSH", "l2", "a", "b", "c"], int(3)).await;
    expect(
        &mut c,
        &["LRANGE", "l2", "0", "-1"],
        bulks(&["c", "b", "a"]),
    )
    .await;
    expect(
        &mut c,
        &["LRANGE", "l", "0", "-1"],
        bulks(&["z", "a", "b", "c"]),
    )
    .await;
    expect(&mut c, &["LRANGE", "l", "1", "2"], bulks(&["a", "b"])).await;
    expect(&mut c, &["LRANGE", "l", "-2", "-1"], bulks(&["b", "c"])).await;
    expect(
        &mut c,
        &["LRANGE", "l", "-100", "100"],
        bulks(&["z", "a", "b", "c"]),
    )
    .await;
    expect(&mut c, &["LRANGE", "l", "5", "10"], arr(vec![])).await;
    expect(&mut c, &["LRANGE", "missing", "0", "-1"], arr(vec![])).await;
    expect(&mut c, &["LPOP", "l"], b("z")).await;
    expect(&mut c, &["RPOP", "l"], b("c")).await;
    expect(&mut c, &["LPOP", "l", "5"], bulks(&["a", "b"])).await;
    expect(&mut c, &["EXISTS", "l"], int(0)).await;
    expect(&mut c, &["LPOP", "l"], nil()).await;
    expect(&mut c, &["LPOP", "missing", "2"], nil()).await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["RPOP", "l", "2"], bulks(&["c", "b"])).await;
    expect_err(
        &mut c,
        &["LPOP", "l", "-1"],
        "ERR value is out of range, must be positive",
    )
    .await;
    expect(&mut c, &["LLEN", "l"], int(1)).await;
}

#[tokio::test]
async fn lpushx_and_rpushx_need_an_existing_list() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["LPUSHX", "l", "a"], int(0)).await;
    expect(&mut c, &["RPUSHX", "l", "a"], int(0)).await;
    expect(&mut c, &["EXISTS", "l"], int(0)).await;
    expect(&mut c, &["RPUSH", "l", "a"], int(1)).await;
    expect(&mut c, &["LPUSHX", "l", "b", "c"], int(3)).await;
    expect(&mut c, &["RPUSHX", "l", "d"], int(4)).await;
    expect(
        &mut c,
        &["LRANGE", "l", "0", "-1"],
        bulks(&["c", "b", "a", "d"]),
    )
    .await;
}

#[tokio::test]
async fn llen_lindex_lset() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["LLEN", "l"], int(3)).await;
    expect(&mut c, &["LLEN", "missing"], int(0)).await;
    expect(&mut c, &["LINDEX", "l", "0"], b("a")).await;
    expect(&mut c, &["LINDEX", "l", "-1"], b("c")).await;
    expect(&mut c, &["LINDEX", "l", "5"], nil()).await;
    expect(&mut c, &["LINDEX", "missing", "0"], nil()).await;
    expect_err(&mut c, &["LINDEX", "l", "x"], NOT_INTEGER).await;
    expect(&mut c, &["LSET", "l", "1", "B"], ok()).await;
    expect(&mut c, &["LSET", "l", "-1", "C"], ok()).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["a", "B", "C"])).await;
    expect_err(&mut c, &["LSET", "l", "5", "x"], "ERR index out of range").await;
    expect_err(&mut c, &["LSET", "missing", "0", "x"], "ERR no such key").await;
}

#[tokio::test]
async fn lrem_by_count_and_direction() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "a", "c", "a"], int(5)).await;
    expect(&mut c, &["LREM", "l", "2", "a"], int(2)).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["b", "c", "a"])).await;
    expect(&mut c, &["RPUSH", "l", "a"], int(4)).await;
    expect(&mut c, &["LREM", "l", "-1", "a"], int(1)).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["b", "c", "a"])).await;
    expect(&mut c, &["LREM", "l", "0", "a"], int(1)).await;
    expect(&mut c, &["LREM", "l", "0", "zz"], int(0)).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["b", "c"])).await;
    expect(&mut c, &["LREM", "l", "0", "b"], int(1)).await;
    expect(&mut c, &["LREM", "l", "0", "c"], int(1)).await;
    expect(&mut c, &["EXISTS", "l"], int(0)).await;
}

#[tokio::test]
async fn ltrim_keeps_a_range() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"], int(5)).await;
    expect(&mut c, &["LTRIM", "l", "1", "-2"], ok()).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["b", "c", "d"])).await;
    expect(&mut c, &["LTRIM", "l", "5", "10"], ok()).await;
    expect(&mut c, &["EXISTS", "l"], int(0)).await;
    expect(&mut c, &["LTRIM", "missing", "0", "1"], ok()).await;
}

#[tokio::test]
async fn linsert_before_and_after() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "l", "a", "c"], int(2)).await;
    expect(&mut c, &["LINSERT", "l", "BEFORE", "c", "b"], int(3)).await;
    expect(&mut c, &["LINSERT", "l", "after", "c", "d"], int(4)).await;
    expect(
        &mut c,
        &["LRANGE", "l", "0", "-1"],
        bulks(&["a", "b", "c", "d"]),
    )
    .await;
    expect(&mut c, &["LINSERT", "l", "BEFORE", "zz", "x"], int(-1)).await;
    expect(&mut c, &["LINSERT", "missing", "BEFORE", "a", "x"], int(0)).await;
    expect_err(&mut c, &["LINSERT", "l", "MIDDLE", "a", "x"], SYNTAX).await;
}

#[tokio::test]
async fn lpos_rank_count_maxlen() {
    let (_node, mut c) = start().await;
    expect(
        &mut c,
        &["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"],
        int(8),
    )
    .await;
    expect(&mut c, &["LPOS", "l", "c"], int(2)).await;
    expect(&mut c, &["LPOS", "l", "c", "RANK", "2"], int(6)).await;
    expect(&mut c, &["LPOS", "l", "c", "RANK", "-1"], int(7)).await;
    expect(
        &mut c,
        &["LPOS", "l", "c", "COUNT", "2"],
        arr(vec![int(2), int(6)]),
    )
    .await;
    expect(
        &mut c,
        &["LPOS", "l", "c", "COUNT", "0"],
        arr(vec![int(2), int(6), int(7)]),
    )
    .await;
    expect(
        &mut c,
        &["LPOS", "l", "c", "RANK", "-1", "COUNT", "2"],
        arr(vec![int(7), int(6)]),
    )
    .await;
    expect(&mut c, &["LPOS", "l", "c", "MAXLEN", "2"], nil()).await;
    expect(&mut c, &["LPOS", "l", "zz"], nil()).await;
    expect(&mut c, &["LPOS", "l", "zz", "COUNT", "1"], arr(vec![])).await;
    expect(&mut c, &["LPOS", "missing", "a"], nil()).await;
    expect_err(
        &mut c,
        &["LPOS", "l", "c", "RANK", "0"],
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
    )
    .await;
    expect_err(
        &mut c,
        &["LPOS", "l", "c", "COUNT", "-1"],
        "ERR COUNT can't be negative",
    )
    .await;
}

#[tokio::test]
async fn lmove_and_rpoplpush() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "src", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["LMOVE", "src", "dst", "LEFT", "RIGHT"], b("a")).await;
    expect(&mut c, &["LMOVE", "src", "dst", "RIGHT", "LEFT"], b("c")).await;
    expect(&mut c, &["LRANGE", "src", "0", "-1"], bulks(&["b"])).await;
    expect(&mut c, &["LRANGE", "dst", "0", "-1"], bulks(&["c", "a"])).await;
    expect(&mut c, &["RPOPLPUSH", "src", "dst"], b("b")).await;
    expect(&mut c, &["EXISTS", "src"], int(0)).await;
    expect(
        &mut c,
        &["LRANGE", "dst", "0", "-1"],
        bulks(&["b", "c", "a"]),
    )
    .await;
    expect(&mut c, &["RPOPLPUSH", "missing", "dst"], nil()).await;
    // The same list on both sides rotates it.
    expect(&mut c, &["LMOVE", "dst", "dst", "LEFT", "RIGHT"], b("b")).await;
    expect(
        &mut c,
        &["LRANGE", "dst", "0", "-1"],
        bulks(&["c", "a", "b"]),
    )
    .await;
    expect_err(&mut c, &["LMOVE", "dst", "x", "UP", "DOWN"], SYNTAX).await;
    expect(&mut c, &["SET", "s", "v"], ok()).await;
    expect_err(&mut c, &["LMOVE", "dst", "s", "LEFT", "LEFT"], WRONGTYPE).await;
    expect(&mut c, &["LLEN", "dst"], int(3)).await;
}

#[tokio::test]
async fn list_commands_refuse_other_types() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "s", "v"], ok()).await;
    expect_err(&mut c, &["LPUSH", "s", "a"], WRONGTYPE).await;
    expect_err(&mut c, &["RPUSH", "s", "a"], WRONGTYPE).await;
    expect_err(&mut c, &["LRANGE", "s", "0", "-1"], WRONGTYPE).await;
    expect_err(&mut c, &["LLEN", "s"], WRONGTYPE).await;
    expect_err(&mut c, &["LPOP", "s"], WRONGTYPE).await;
}

// ---- sets ----

#[tokio::test]
async fn sadd_srem_smembers_sismember_scard() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SADD", "s", "a", "b", "c", "a"], int(3)).await;
    expect(&mut c, &["SADD", "s", "a", "d"], int(1)).await;
    expect(&mut c, &["SCARD", "s"], int(4)).await;
    expect(&mut c, &["SCARD", "missing"], int(0)).await;
    expect(&mut c, &["SISMEMBER", "s", "a"], int(1)).await;
    expect(&mut c, &["SISMEMBER", "s", "zz"], int(0)).await;
    expect(&mut c, &["SISMEMBER", "missing", "a"], int(0)).await;
    expect(
        &mut c,
        &["SMISMEMBER", "s", "a", "zz", "d"],
        arr(vec![int(1), int(0), int(1)]),
    )
    .await;
    assert_eq!(
        sorted_strings(&q(&mut c, &["SMEMBERS", "s"]).await),
        ["a", "b", "c", "d"]
    );
    expect(&mut c, &["SREM", "s", "a", "zz"], int(1)).await;
    expect(&mut c, &["SREM", "s", "b", "c", "d"], int(3)).await;
    expect(&mut c, &["EXISTS", "s"], int(0)).await;
    expect(&mut c, &["SMEMBERS", "missing"], arr(vec![])).await;
    expect(&mut c, &["SREM", "missing", "a"], int(0)).await;
}

#[tokio::test]
async fn spop_and_srandmember() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SADD", "s", "a", "b", "c", "d", "e"], int(5)).await;
    let members = set_of(&["a", "b", "c", "d", "e"]);
    let one = text(&q(&mut c, &["SRANDMEMBER", "s"]).await);
    assert!(members.contains(&one));
    let three = strings(&q(&mut c, &["SRANDMEMBER", "s", "3"]).await);
    assert_eq!(three.iter().collect::<HashSet<_>>().len(), 3, "{three:?}");
    assert!(three.iter().all(|m| members.contains(m)));
    let all: HashSet<String> = strings(&q(&mut c, &["SRANDMEMBER", "s", "10"]).await)
        .into_iter()
        .collect();
    assert_eq!(all, members);
    let seven = strings(&q(&mut c, &["SRANDMEMBER", "s", "-7"]).await);
    assert_eq!(seven.len(), 7);
    assert!(seven.iter().all(|m| members.contains(m)));
    expect(&mut c, &["SCARD", "s"], int(5)).await;
    let popped = text(&q(&mut c, &["SPOP", "s"]).await);
    assert!(members.contains(&popped));
    expect(&mut c, &["SISMEMBER", "s", &popped], int(0)).await;
    expect(&mut c, &["SCARD", "s"], int(4)).await;
    let two = strings(&q(&mut c, &["SPOP", "s", "2"]).await);
    assert_eq!(two.iter().collect::<HashSet<_>>().len(), 2);
    expect(&mut c, &["SCARD", "s"], int(2)).await;
    let rest = strings(&q(&mut c, &["SPOP", "s", "10"]).await);
    assert_eq!(rest.len(), 2);
    let mut everything: HashSet<String> = rest.into_iter().chain(two).collect();
    everything.insert(popped);
    assert_eq!(everything, members, "SPOP returned each member once");
    expect(&mut c, &["EXISTS", "s"], int(0)).await;
    expect(&mut c, &["SPOP", "s"], nil()).await;
    expect(&mut c, &["SRANDMEMBER", "s"], nil()).await;
    expect_err(
        &mut c,
        &["SPOP", "s", "-1"],
        "ERR value is out of range, must be positive",
    )
    .await;
}

#[tokio::test]
async fn smove_between_sets() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SADD", "a", "x", "y"], int(2)).await;
    expect(&mut c, &["SADD", "b", "z"], int(1)).await;
    expect(&mut c, &["SMOVE", "a", "b", "x"], int(1)).await;
    expect(&mut c, &["SMOVE", "a", "b", "nope"], int(0)).await;
    expect(&mut c, &["SISMEMBER", "b", "x"], int(1)).await;
    expect(&mut c, &["SISMEMBER", "a", "x"], int(0)).await;
    expect(&mut c, &["SMOVE", "a", "b", "y"], int(1)).await;
    expect(&mut c, &["EXISTS", "a"], int(0)).await;
    expect(&mut c, &["SMOVE", "missing", "b", "x"], int(0)).await;
    expect(&mut c, &["SET", "str", "v"], ok()).await;
    expect_err(&mut c, &["SMOVE", "b", "str", "z"], WRONGTYPE).await;
    expect(&mut c, &["SCARD", "b"], int(3)).await;
}

#[tokio::test]
async fn set_algebra_and_store_variants() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SADD", "k1", "a", "b", "c", "d"], int(4)).await;
    expect(&mut c, &["SADD", "k2", "c"], int(1)).await;
    expect(&mut c, &["SADD", "k3", "a", "c", "e"], int(3)).await;
    expect(&mut c, &["SINTER", "k1", "k2", "k3"], bulks(&["c"])).await;
    assert_eq!(
        sorted_strings(&q(&mut c, &["SUNION", "k1", "k2", "k3"]).await),
        ["a", "b", "c", "d", "e"]
    );
    assert_eq!(
        sorted_strings(&q(&mut c, &["SDIFF", "k1", "k2", "k3"]).await),
        ["b", "d"]
    );
    expect(&mut c, &["SINTER", "k1", "missing"], arr(vec![])).await;
    expect(&mut c, &["SDIFF", "missing", "k1"], arr(vec![])).await;
    expect(&mut c, &["SINTERSTORE", "dst", "k1", "k3"], int(2)).await;
    assert_eq!(
        sorted_strings(&q(&mut c, &["SMEMBERS", "dst"]).await),
        ["a", "c"]
    );
    expect(&mut c, &["SUNIONSTORE", "dst", "k2", "k3"], int(3)).await;
    assert_eq!(
        sorted_strings(&q(&mut c, &["SMEMBERS", "dst"]).await),
        ["a", "c", "e"]
    );
    expect(&mut c, &["SDIFFSTORE", "dst", "k1", "k3"], int(2)).await;
    assert_eq!(
        sorted_strings(&q(&mut c, &["SMEMBERS", "dst"]).await),
        ["b", "d"]
    );
    // An empty result deletes the destination.
    expect(&mut c, &["SINTERSTORE", "dst", "k1", "missing"], int(0)).await;
    expect(&mut c, &["EXISTS", "dst"], int(0)).await;
    expect(&mut c, &["SINTERCARD", "2", "k1", "k3"], int(2)).await;
    expect(
        &mut c,
        &["SINTERCARD", "2", "k1", "k3", "LIMIT", "1"],
        int(1),
    )
    .await;
    expect_err(
        &mut c,
        &["SINTERCARD", "0", "k1"],
        "ERR numkeys should be greater than 0",
    )
    .await;
    expect_err(
        &mut c,
        &["SINTERCARD", "3", "k1", "k2"],
        "ERR Number of keys can't be greater than number of args",
    )
    .await;
    expect(&mut c, &["SET", "str", "v"], ok()).await;
    expect_err(&mut c, &["SINTER", "k1", "str"], WRONGTYPE).await;
    expect_err(&mut c, &["SUNION", "k1", "str"], WRONGTYPE).await;
    expect_err(&mut c, &["SADD", "str", "a"], WRONGTYPE).await;
    // A store command overwrites a destination of any type.
    expect(&mut c, &["SUNIONSTORE", "str", "k2"], int(1)).await;
    expect(&mut c, &["TYPE", "str"], simple("set")).await;
}

#[tokio::test]
async fn sscan_visits_every_member_once() {
    let (_node, mut c) = start().await;
    let mut cmd = redis::cmd("SADD");
    cmd.arg("s");
    for i in 0..200 {
        cmd.arg(format!("m{i}"));
    }
    let added: i64 = cmd.query_async(&mut c).await.expect("SADD");
    assert_eq!(added, 200);
    let items = scan_all(&mut c, &["SSCAN", "s"], &["COUNT", "20"]).await;
    let unique: HashSet<&String> = items.iter().collect();
    assert_eq!(unique.len(), items.len(), "a member was returned twice");
    assert_eq!(items.len(), 200);
    let matched = scan_all(&mut c, &["SSCAN", "s"], &["MATCH", "m1?", "COUNT", "1000"]).await;
    assert_eq!(
        matched.into_iter().collect::<HashSet<_>>(),
        (10..20).map(|i| format!("m{i}")).collect()
    );
}

// ---- sorted sets ----

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
