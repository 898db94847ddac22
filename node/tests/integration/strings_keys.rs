//! String commands (GET/SET and friends) and keyspace commands (DEL, EXPIRE, SCAN, SELECT...)
//! over real TCP, with Redis 7.2's replies and error texts.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::*;

fn in_range(v: &Value, lo: i64, hi: i64) -> bool {
    matches!(v, Value::Int(n) if (lo..=hi).contains(n))
}

async fn assert_ttl(c: &mut MultiplexedConnection, cmd: &str, key: &str, lo: i64, hi: i64) {
    let v = q(c, &[cmd, key]).await;
    assert!(
        in_range(&v, lo, hi),
        "{cmd} {key} = {v:?}, expected {lo}..={hi}"
    );
}

fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock")
}

// ---- strings ----

#[tokio::test]
async fn get_and_set_store_and_overwrite_values() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["GET", "k"], nil()).await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect(&mut c, &["GET", "k"], b("v")).await;
    expect(&mut c, &["SET", "k", "v2"], ok()).await;
    expect(&mut c, &["GET", "k"], b("v2")).await;
    expect(&mut c, &["SET", "empty", ""], ok()).await;
    expect(&mut c, &["GET", "empty"], b("")).await;
    // GET of another type is an error; SET replaces any type.
    expect(&mut c, &["RPUSH", "l", "a"], int(1)).await;
    expect_err(&mut c, &["GET", "l"], WRONGTYPE).await;
    expect(&mut c, &["SET", "l", "x"], ok()).await;
    expect(&mut c, &["GET", "l"], b("x")).await;
}

#[tokio::test]
async fn set_expiry_options_ex_px_exat_pxat_keepttl() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "k", "v", "EX", "100"], ok()).await;
    assert_ttl(&mut c, "TTL", "k", 99, 100).await;
    expect(&mut c, &["SET", "k", "v", "PX", "100000"], ok()).await;
    assert_ttl(&mut c, "PTTL", "k", 99_000, 100_000).await;
    expect(&mut c, &["SET", "k", "v2", "KEEPTTL"], ok()).await;
    assert_ttl(&mut c, "PTTL", "k", 1, 100_000).await;
    expect(&mut c, &["GET", "k"], b("v2")).await;
    // A plain SET clears the TTL.
    expect(&mut c, &["SET", "k", "v3"], ok()).await;
    expect(&mut c, &["TTL", "k"], int(-1)).await;
    let at = (unix_now().as_secs() + 100).to_string();
    expect(&mut c, &["SET", "k", "v", "EXAT", &at], ok()).await;
    assert_ttl(&mut c, "TTL", "k", 98, 100).await;
    let pat = (unix_now().as_millis() as u64 + 100_000).to_string();
    expect(&mut c, &["SET", "k", "v", "PXAT", &pat], ok()).await;
    assert_ttl(&mut c, "PTTL", "k", 98_000, 100_000).await;
    // Options are case-insensitive.
    expect(&mut c, &["SET", "k", "v", "ex", "50"], ok()).await;
    assert_ttl(&mut c, "TTL", "k", 49, 50).await;
}

#[tokio::test]
async fn set_nx_xx_and_get() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "n", "v", "NX"], ok()).await;
    expect(&mut c, &["SET", "n", "w", "NX"], nil()).await;
    expect(&mut c, &["GET", "n"], b("v")).await;
    expect(&mut c, &["SET", "m", "v", "XX"], nil()).await;
    expect(&mut c, &["GET", "m"], nil()).await;
    expect(&mut c, &["SET", "n", "w", "XX"], ok()).await;
    expect(&mut c, &["GET", "n"], b("w")).await;
    // GET returns the old value.
    expect(&mut c, &["SET", "n", "x", "GET"], b("w")).await;
    expect(&mut c, &["SET", "new", "y", "GET"], nil()).await;
    expect(&mut c, &["GET", "new"], b("y")).await;
    // NX + GET (7.0+): the old value, nothing set.
    expect(&mut c, &["SET", "n", "z", "NX", "GET"], b("x")).await;
    expect(&mut c, &["GET", "n"], b("x")).await;
    expect(&mut c, &["RPUSH", "l", "a"], int(1)).await;
    expect_err(&mut c, &["SET", "l", "v", "GET"], WRONGTYPE).await;
    expect(&mut c, &["LLEN", "l"], int(1)).await;
}

#[tokio::test]
async fn set_rejects_bad_option_combinations() {
    let (_node, mut c) = start().await;
    expect_err(&mut c, &["SET", "k", "v", "NX", "XX"], SYNTAX).await;
    expect_err(&mut c, &["SET", "k", "v", "EX", "10", "PX", "100"], SYNTAX).await;
    expect_err(&mut c, &["SET", "k", "v", "KEEPTTL", "EX", "10"], SYNTAX).await;
    expect_err(&mut c, &["SET", "k", "v", "EX"], SYNTAX).await;
    expect_err(&mut c, &["SET", "k", "v", "BOGUS"], SYNTAX).await;
    expect_err(
        &mut c,
        &["SET", "k", "v", "EX", "0"],
        "ERR invalid expire time in 'set' command",
    )
    .await;
    expect_err(
        &mut c,
        &["SET", "k", "v", "PX", "-5"],
        "ERR invalid expire time in 'set' command",
    )
    .await;
    expect_err(&mut c, &["SET", "k", "v", "EX", "abc"], NOT_INTEGER).await;
    expect(&mut c, &["EXISTS", "k"], int(0)).await;
}

#[tokio::test]
async fn setnx_setex_psetex_getset() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SETNX", "k", "v"], int(1)).await;
    expect(&mut c, &["SETNX", "k", "w"], int(0)).await;
    expect(&mut c, &["GET", "k"], b("v")).await;
    expect(&mut c, &["SETEX", "e", "100", "v"], ok()).await;
    assert_ttl(&mut c, "TTL", "e", 99, 100).await;
    expect_err(
        &mut c,
        &["SETEX", "e", "0", "v"],
        "ERR invalid expire time in 'setex' command",
    )
    .await;
    expect_err(&mut c, &["SETEX", "e", "x", "v"], NOT_INTEGER).await;
    expect(&mut c, &["PSETEX", "p", "100000", "v"], ok()).await;
    assert_ttl(&mut c, "PTTL", "p", 99_000, 100_000).await;
    expect_err(
        &mut c,
        &["PSETEX", "p", "-1", "v"],
        "ERR invalid expire time in 'psetex' command",
    )
    .await;
    expect(&mut c, &["GETSET", "k", "new"], b("v")).await;
    expect(&mut c, &["GET", "k"], b("new")).await;
    expect(&mut c, &["GETSET", "missing", "x"], nil()).await;
    expect(&mut c, &["GET", "missing"], b("x")).await;
    // GETSET clears the TTL.
    expect(&mut c, &["GETSET", "e", "z"], b("v")).await;
    expect(&mut c, &["TTL", "e"], int(-1)).await;
}

#[tokio::test]
async fn getdel_and_getex() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect(&mut c, &["GETDEL", "k"], b("v")).await;
    expect(&mut c, &["GETDEL", "k"], nil()).await;
    expect(&mut c, &["EXISTS", "k"], int(0)).await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect(&mut c, &["GETEX", "k"], b("v")).await;
    expect(&mut c, &["TTL", "k"], int(-1)).await;
    expect(&mut c, &["GETEX", "k", "EX", "100"], b("v")).await;
    assert_ttl(&mut c, "TTL", "k", 99, 100).await;
    expect(&mut c, &["GETEX", "k", "PX", "50000"], b("v")).await;
    assert_ttl(&mut c, "PTTL", "k", 49_000, 50_000).await;
    expect(&mut c, &["GETEX", "k", "PERSIST"], b("v")).await;
    expect(&mut c, &["TTL", "k"], int(-1)).await;
    expect(&mut c, &["GETEX", "missing", "EX", "10"], nil()).await;
    expect_err(&mut c, &["GETEX", "k", "EX", "10", "PX", "100"], SYNTAX).await;
    expect_err(
        &mut c,
        &["GETEX", "k", "EX", "0"],
        "ERR invalid expire time in 'getex' command",
    )
    .await;
    expect(&mut c, &["RPUSH", "l", "a"], int(1)).await;
    expect_err(&mut c, &["GETDEL", "l"], WRONGTYPE).await;
    expect_err(&mut c, &["GETEX", "l"], WRONGTYPE).await;
}

#[tokio::test]
async fn incr_decr_family() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["INCR", "n"], int(1)).await;
    expect(&mut c, &["INCRBY", "n", "10"], int(11)).await;
    expect(&mut c, &["DECR", "n"], int(10)).await;
    expect(&mut c, &["DECRBY", "n", "3"], int(7)).await;
    expect(&mut c, &["INCRBY", "n", "-7"], int(0)).await;
    expect(&mut c, &["DECR", "fresh"], int(-1)).await;
    expect(&mut c, &["GET", "n"], b("0")).await;
    expect(&mut c, &["SET", "s", "abc"], ok()).await;
    expect_err(&mut c, &["INCR", "s"], NOT_INTEGER).await;
    expect(&mut c, &["SET", "s", " 1"], ok()).await;
    expect_err(&mut c, &["INCR", "s"], NOT_INTEGER).await;
    expect(&mut c, &["SET", "s", "1.5"], ok()).await;
    expect_err(&mut c, &["INCRBY", "s", "1"], NOT_INTEGER).await;
    expect_err(&mut c, &["INCRBY", "n", "abc"], NOT_INTEGER).await;
    expect(&mut c, &["SET", "big", "9223372036854775807"], ok()).await;
    expect_err(
        &mut c,
        &["INCR", "big"],
        "ERR increment or decrement would overflow",
    )
    .await;
    expect(&mut c, &["SET", "small", "-9223372036854775808"], ok()).await;
    expect_err(
        &mut c,
        &["DECR", "small"],
        "ERR increment or decrement would overflow",
    )
    .await;
    expect_err(
        &mut c,
        &["DECRBY", "n", "-9223372036854775808"],
        "ERR decrement would overflow",
    )
    .await;
    expect(&mut c, &["GET", "big"], b("9223372036854775807")).await;
    expect(&mut c, &["RPUSH", "l", "a"], int(1)).await;
    expect_err(&mut c, &["INCR", "l"], WRONGTYPE).await;
    // INCR keeps the TTL.
    expect(&mut c, &["SET", "t", "5", "EX", "100"], ok()).await;
    expect(&mut c, &["INCR", "t"], int(6)).await;
    assert_ttl(&mut c, "TTL", "t", 99, 100).await;
}

#[tokio::test]
async fn incrbyfloat_formats_like_redis() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "f", "10.50"], ok()).await;
    expect(&mut c, &["INCRBYFLOAT", "f", "0.1"], b("10.6")).await;
    expect(&mut c, &["INCRBYFLOAT", "f", "-5"], b("5.6")).await;
    expect(&mut c, &["GET", "f"], b("5.6")).await;
    expect(&mut c, &["SET", "f", "5.0e3"], ok()).await;
    expect(&mut c, &["INCRBYFLOAT", "f", "2.0e2"], b("5200")).await;
    expect(&mut c, &["INCRBYFLOAT", "new", "3"], b("3")).await;
    expect(&mut c, &["INCRBYFLOAT", "new", "0.25"], b("3.25")).await;
    expect_err(&mut c, &["INCRBYFLOAT", "f", "abc"], NOT_FLOAT).await;
    expect(&mut c, &["SET", "s", "abc"], ok()).await;
    expect_err(&mut c, &["INCRBYFLOAT", "s", "1"], NOT_FLOAT).await;
    expect_err(
        &mut c,
        &["INCRBYFLOAT", "f", "inf"],
        "ERR increment would produce NaN or Infinity",
    )
    .await;
    expect(&mut c, &["GET", "f"], b("5200")).await;
    expect(&mut c, &["RPUSH", "l", "a"], int(1)).await;
    expect_err(&mut c, &["INCRBYFLOAT", "l", "1"], WRONGTYPE).await;
}

#[tokio::test]
async fn append_and_strlen() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["APPEND", "a", "Hello"], int(5)).await;
    expect(&mut c, &["APPEND", "a", " World"], int(11)).await;
    expect(&mut c, &["GET", "a"], b("Hello World")).await;
    expect(&mut c, &["STRLEN", "a"], int(11)).await;
    expect(&mut c, &["STRLEN", "missing"], int(0)).await;
    expect(&mut c, &["SET", "n", "1"], ok()).await;
    expect(&mut c, &["APPEND", "n", "2"], int(2)).await;
    expect(&mut c, &["INCR", "n"], int(13)).await;
    expect(&mut c, &["RPUSH", "l", "a"], int(1)).await;
    expect_err(&mut c, &["APPEND", "l", "x"], WRONGTYPE).await;
    expect_err(&mut c, &["STRLEN", "l"], WRONGTYPE).await;
}

#[tokio::test]
async fn getrange_and_substr() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "s", "This is a string"], ok()).await;
    expect(&mut c, &["GETRANGE", "s", "0", "3"], b("This")).await;
    expect(&mut c, &["GETRANGE", "s", "-3", "-1"], b("ing")).await;
    expect(&mut c, &["GETRANGE", "s", "0", "-1"], b("This is a string")).await;
    expect(&mut c, &["GETRANGE", "s", "10", "100"], b("string")).await;
    expect(&mut c, &["GETRANGE", "s", "5", "2"], b("")).await;
    expect(&mut c, &["GETRANGE", "missing", "0", "10"], b("")).await;
    expect(&mut c, &["SUBSTR", "s", "0", "3"], b("This")).await;
    expect_err(&mut c, &["GETRANGE", "s", "a", "1"], NOT_INTEGER).await;
    expect(&mut c, &["RPUSH", "l", "a"], int(1)).await;
    expect_err(&mut c, &["GETRANGE", "l", "0", "1"], WRONGTYPE).await;
}

#[tokio::test]
async fn setrange_pads_with_zero_bytes() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "key1", "Hello World"], ok()).await;
    expect(&mut c, &["SETRANGE", "key1", "6", "Redis"], int(11)).await;
    expect(&mut c, &["GET", "key1"], b("Hello Redis")).await;
    expect(&mut c, &["SETRANGE", "key2", "6", "Redis"], int(11)).await;
    expect(&mut c, &["GET", "key2"], b("\0\0\0\0\0\0Redis")).await;
    expect_err(
        &mut c,
        &["SETRANGE", "key3", "-1", "x"],
        "ERR offset is out of range",
    )
    .await;
    // An empty value on a missing key creates nothing.
    expect(&mut c, &["SETRANGE", "key3", "0", ""], int(0)).await;
    expect(&mut c, &["EXISTS", "key3"], int(0)).await;
    expect(&mut c, &["SETRANGE", "key1", "0", ""], int(11)).await;
    expect_err(
        &mut c,
        &["SETRANGE", "key1", "536870912", "x"],
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
    )
    .await;
    expect(&mut c, &["RPUSH", "l", "a"], int(1)).await;
    expect_err(&mut c, &["SETRANGE", "l", "0", "x"], WRONGTYPE).await;
}

#[tokio::test]
async fn mget_mset_msetnx() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["MSET", "a", "1", "b", "2"], ok()).await;
    expect(
        &mut c,
        &["MGET", "a", "b", "c"],
        arr(vec![b("1"), b("2"), nil()]),
    )
    .await;
    // A key of another type reads as nil in MGET.
    expect(&mut c, &["RPUSH", "l", "x"], int(1)).await;
    expect(&mut c, &["MGET", "a", "l"], arr(vec![b("1"), nil()])).await;
    expect_err(&mut c, &["MSET", "a", "1", "b"], &arity("mset")).await;
    // The last value of a repeated key wins.
    expect(&mut c, &["MSET", "d", "1", "d", "2"], ok()).await;
    expect(&mut c, &["GET", "d"], b("2")).await;
    expect(&mut c, &["MSETNX", "a", "9", "z", "9"], int(0)).await;
    expect(&mut c, &["GET", "z"], nil()).await;
    expect(&mut c, &["GET", "a"], b("1")).await;
    expect(&mut c, &["MSETNX", "y", "1", "z", "2"], int(1)).await;
    expect(&mut c, &["MGET", "y", "z"], bulks(&["1", "2"])).await;
}

// ---- keyspace ----

#[tokio::test]
async fn del_exists_unlink_and_type() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"], ok()).await;
    expect(&mut c, &["DEL", "a", "b", "nope"], int(2)).await;
    expect(&mut c, &["EXISTS", "a", "b", "c", "c"], int(2)).await;
    expect(&mut c, &["TYPE", "c"], simple("string")).await;
    expect(&mut c, &["TYPE", "missing"], simple("none")).await;
    q(&mut c, &["RPUSH", "l", "x"]).await;
    q(&mut c, &["HSET", "h", "f", "v"]).await;
    q(&mut c, &["SADD", "s", "m"]).await;
    q(&mut c, &["ZADD", "z", "1", "m"]).await;
    expect(&mut c, &["TYPE", "l"], simple("list")).await;
    expect(&mut c, &["TYPE", "h"], simple("hash")).await;
    expect(&mut c, &["TYPE", "s"], simple("set")).await;
    expect(&mut c, &["TYPE", "z"], simple("zset")).await;
    expect(&mut c, &["EXISTS", "l", "h", "s", "z", "missing"], int(4)).await;
    expect(&mut c, &["UNLINK", "c", "l", "nope"], int(2)).await;
    expect(&mut c, &["DEL", "h", "s", "z"], int(3)).await;
    expect(&mut c, &["DBSIZE"], int(0)).await;
    // Deleting a collection deletes all its members: a new one starts empty.
    expect(&mut c, &["HSET", "h", "g", "w"], int(1)).await;
    expect(&mut c, &["HLEN", "h"], int(1)).await;
}

#[tokio::test]
async fn rename_and_renamenx() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "a", "1"], ok()).await;
    expect(&mut c, &["RENAME", "a", "b"], ok()).await;
    expect(&mut c, &["GET", "b"], b("1")).await;
    expect(&mut c, &["EXISTS", "a"], int(0)).await;
    expect_err(&mut c, &["RENAME", "nope", "x"], "ERR no such key").await;
    expect_err(&mut c, &["RENAMENX", "nope", "x"], "ERR no such key").await;
    expect(&mut c, &["RENAMENX", "b", "c"], int(1)).await;
    expect(&mut c, &["SET", "d", "2"], ok()).await;
    expect(&mut c, &["RENAMENX", "c", "d"], int(0)).await;
    expect(&mut c, &["GET", "d"], b("2")).await;
    expect(&mut c, &["RENAME", "d", "d"], ok()).await;
    // RENAME overwrites the destination, whatever its type, and keeps the TTL.
    expect(&mut c, &["SET", "e", "v", "EX", "100"], ok()).await;
    expect(&mut c, &["RPUSH", "f", "x"], int(1)).await;
    expect(&mut c, &["RENAME", "e", "f"], ok()).await;
    expect(&mut c, &["GET", "f"], b("v")).await;
    assert_ttl(&mut c, "TTL", "f", 99, 100).await;
    // Collections move whole.
    expect(&mut c, &["HSET", "h", "f1", "v1", "f2", "v2"], int(2)).await;
    expect(&mut c, &["RENAME", "h", "h2"], ok()).await;
    expect(&mut c, &["HGET", "h2", "f2"], b("v2")).await;
    expect(&mut c, &["HLEN", "h2"], int(2)).await;
    expect(&mut c, &["EXISTS", "h"], int(0)).await;
}

#[tokio::test]
async fn keys_matches_glob_patterns() {
    let (_node, mut c) = start().await;
    expect(
        &mut c,
        &["MSET", "one", "1", "two", "2", "three", "3", "four", "4"],
        ok(),
    )
    .await;
    let got = q(&mut c, &["KEYS", "*o*"]).await;
    assert_eq!(sorted_strings(&got), ["four", "one", "two"]);
    expect(&mut c, &["KEYS", "t??"], bulks(&["two"])).await;
    let got = q(&mut c, &["KEYS", "*"]).await;
    assert_eq!(sorted_strings(&got), ["four", "one", "three", "two"]);
    let got = q(&mut c, &["KEYS", "[tf]*"]).await;
    assert_eq!(sorted_strings(&got), ["four", "three", "two"]);
    expect(&mut c, &["KEYS", "nomatch*"], arr(vec![])).await;
    expect(&mut c, &["KEYS", "f[^o]*"], arr(vec![])).await;
}

#[tokio::test]
async fn scan_returns_every_key_exactly_once() {
    let (_node, mut c) = start().await;
    let mut pipe = redis::pipe();
    for i in 0..500 {
        pipe.cmd("SET").arg(format!("k:{i}")).arg(i).ignore();
    }
    for i in 0..100 {
        pipe.cmd("SET").arg(format!("other:{i}")).arg(i).ignore();
    }
    let () = pipe.query_async(&mut c).await.expect("fill");
    let mut seen = Vec::new();
    let mut cursor = "0".to_string();
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 1000, "SCAN did not finish");
        let reply = q(&mut c, &["SCAN", &cursor, "MATCH", "k:*", "COUNT", "37"]).await;
        let Value::Array(parts) = reply else {
            panic!("SCAN reply is not an array: {reply:?}")
        };
        assert_eq!(parts.len(), 2, "SCAN replies [cursor, keys]");
        cursor = text(&parts[0]);
        seen.extend(strings(&parts[1]));
        if cursor == "0" {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a key was returned twice");
    let want: HashSet<String> = (0..500).map(|i| format!("k:{i}")).collect();
    let got: HashSet<String> = seen.into_iter().collect();
    assert_eq!(got, want);
    // Without MATCH every key comes back; TYPE filters.
    let mut all = HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = q(&mut c, &["SCAN", &cursor, "COUNT", "100"]).await;
        let Value::Array(parts) = reply else {
            panic!("not an array")
        };
        cursor = text(&parts[0]);
        all.extend(strings(&parts[1]));
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(all.len(), 600);
    q(&mut c, &["RPUSH", "list1", "x"]).await;
    let mut lists = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = q(&mut c, &["SCAN", &cursor, "TYPE", "list", "COUNT", "1000"]).await;
        let Value::Array(parts) = reply else {
            panic!("not an array")
        };
        cursor = text(&parts[0]);
        lists.extend(strings(&parts[1]));
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(lists, ["list1"]);
    expect_err(&mut c, &["SCAN", "abc"], "ERR invalid cursor").await;
    expect_err(&mut c, &["SCAN", "0", "COUNT", "0"], SYNTAX).await;
}

#[tokio::test]
async fn expire_ttl_pttl_persist() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect(&mut c, &["TTL", "k"], int(-1)).await;
    expect(&mut c, &["PTTL", "k"], int(-1)).await;
    expect(&mut c, &["TTL", "missing"], int(-2)).await;
    expect(&mut c, &["PTTL", "missing"], int(-2)).await;
    expect(&mut c, &["EXPIRE", "k", "100"], int(1)).await;
    assert_ttl(&mut c, "TTL", "k", 99, 100).await;
    assert_ttl(&mut c, "PTTL", "k", 99_000, 100_000).await;
    expect(&mut c, &["PERSIST", "k"], int(1)).await;
    expect(&mut c, &["PERSIST", "k"], int(0)).await;
    expect(&mut c, &["PERSIST", "missing"], int(0)).await;
    expect(&mut c, &["TTL", "k"], int(-1)).await;
    expect(&mut c, &["EXPIRE", "missing", "10"], int(0)).await;
    expect(&mut c, &["PEXPIRE", "k", "100000"], int(1)).await;
    assert_ttl(&mut c, "PTTL", "k", 99_000, 100_000).await;
    expect_err(&mut c, &["EXPIRE", "k", "abc"], NOT_INTEGER).await;
    // NX / XX / GT / LT (7.0+).
    expect(&mut c, &["EXPIRE", "k", "200", "NX"], int(0)).await;
    expect(&mut c, &["PERSIST", "k"], int(1)).await;
    expect(&mut c, &["EXPIRE", "k", "100", "XX"], int(0)).await;
    expect(&mut c, &["EXPIRE", "k", "100", "NX"], int(1)).await;
    expect(&mut c, &["EXPIRE", "k", "50", "GT"], int(0)).await;
    expect(&mut c, &["EXPIRE", "k", "200", "GT"], int(1)).await;
    expect(&mut c, &["EXPIRE", "k", "300", "LT"], int(0)).await;
    expect(&mut c, &["EXPIRE", "k", "10", "LT"], int(1)).await;
    assert_ttl(&mut c, "TTL", "k", 9, 10).await;
    expect_err(
        &mut c,
        &["EXPIRE", "k", "10", "NX", "XX"],
        "ERR NX and XX, GT or LT options at the same time are not compatible",
    )
    .await;
    expect_err(
        &mut c,
        &["EXPIRE", "k", "10", "GT", "LT"],
        "ERR GT and LT options at the same time are not compatible",
    )
    .await;
    // A TTL of 0 or less deletes the key at once.
    expect(&mut c, &["EXPIRE", "k", "0"], int(1)).await;
    expect(&mut c, &["EXISTS", "k"], int(0)).await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect(&mut c, &["PEXPIRE", "k", "-1"], int(1)).await;
    expect(&mut c, &["GET", "k"], nil()).await;
}

#[tokio::test]
async fn expireat_and_expiretime() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect(&mut c, &["EXPIRETIME", "k"], int(-1)).await;
    expect(&mut c, &["PEXPIRETIME", "k"], int(-1)).await;
    expect(&mut c, &["EXPIRETIME", "missing"], int(-2)).await;
    let at = unix_now().as_secs() as i64 + 100;
    expect(&mut c, &["EXPIREAT", "k", &at.to_string()], int(1)).await;
    expect(&mut c, &["EXPIRETIME", "k"], int(at)).await;
    expect(&mut c, &["PEXPIRETIME", "k"], int(at * 1000)).await;
    assert_ttl(&mut c, "TTL", "k", 98, 100).await;
    let pat = unix_now().as_millis() as i64 + 50_000;
    expect(&mut c, &["PEXPIREAT", "k", &pat.to_string()], int(1)).await;
    expect(&mut c, &["PEXPIRETIME", "k"], int(pat)).await;
    // A time in the past deletes the key.
    expect(&mut c, &["EXPIREAT", "k", "1"], int(1)).await;
    expect(&mut c, &["EXISTS", "k"], int(0)).await;
    expect(&mut c, &["EXPIREAT", "missing", &at.to_string()], int(0)).await;
}

#[tokio::test]
async fn expired_keys_disappear() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect(&mut c, &["PEXPIRE", "k", "50"], int(1)).await;
    expect(&mut c, &["SET", "p", "v", "PX", "50"], ok()).await;
    expect(&mut c, &["HSET", "h", "f", "v"], int(1)).await;
    expect(&mut c, &["PEXPIRE", "h", "50"], int(1)).await;
    expect(&mut c, &["SET", "stays", "v"], ok()).await;
    let c2 = c.clone();
    eventually(
        "GET k returns nil after PEXPIRE 50",
        Duration::from_secs(3),
        || {
            let mut c = c2.clone();
            async move { try_q(&mut c, &["GET", "k"]).await == Ok(nil()) }
        },
    )
    .await;
    // Never read, yet gone (active expiry): DBSIZE and KEYS no longer count them.
    eventually("DBSIZE drops to 1", Duration::from_secs(5), || {
        let mut c = c2.clone();
        async move { try_q(&mut c, &["DBSIZE"]).await == Ok(int(1)) }
    })
    .await;
    expect(&mut c, &["KEYS", "*"], bulks(&["stays"])).await;
    expect(&mut c, &["HGETALL", "h"], arr(vec![])).await;
    expect(&mut c, &["TTL", "p"], int(-2)).await;
}

#[tokio::test]
async fn copy_duplicates_values_and_ttls() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "a", "1"], ok()).await;
    expect(&mut c, &["COPY", "a", "b"], int(1)).await;
    expect(&mut c, &["GET", "b"], b("1")).await;
    expect(&mut c, &["SET", "a", "2"], ok()).await;
    expect(&mut c, &["COPY", "a", "b"], int(0)).await;
    expect(&mut c, &["GET", "b"], b("1")).await;
    expect(&mut c, &["COPY", "a", "b", "REPLACE"], int(1)).await;
    expect(&mut c, &["GET", "b"], b("2")).await;
    expect(&mut c, &["COPY", "nope", "x"], int(0)).await;
    expect_err(
        &mut c,
        &["COPY", "a", "a"],
        "ERR source and destination objects are the same",
    )
    .await;
    expect(&mut c, &["HSET", "h", "f1", "v1", "f2", "v2"], int(2)).await;
    expect(&mut c, &["COPY", "h", "h2"], int(1)).await;
    let got = q(&mut c, &["HGETALL", "h2"]).await;
    assert_eq!(sorted_strings(&got), ["f1", "f2", "v1", "v2"]);
    // The copy is independent.
    expect(&mut c, &["HDEL", "h", "f1"], int(1)).await;
    expect(&mut c, &["HLEN", "h2"], int(2)).await;
    expect(&mut c, &["SET", "t", "v", "EX", "100"], ok()).await;
    expect(&mut c, &["COPY", "t", "t2"], int(1)).await;
    assert_ttl(&mut c, "TTL", "t2", 99, 100).await;
    // To another db.
    expect(&mut c, &["COPY", "a", "c", "DB", "1"], int(1)).await;
    expect(&mut c, &["EXISTS", "c"], int(0)).await;
    expect(&mut c, &["SELECT", "1"], ok()).await;
    expect(&mut c, &["GET", "c"], b("2")).await;
    expect(&mut c, &["SELECT", "0"], ok()).await;
}

#[tokio::test]
async fn dbsize_flushdb_flushall_and_select_isolate_dbs() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["DBSIZE"], int(0)).await;
    expect(&mut c, &["MSET", "a", "1", "b", "2"], ok()).await;
    expect(&mut c, &["DBSIZE"], int(2)).await;
    expect(&mut c, &["SELECT", "1"], ok()).await;
    expect(&mut c, &["DBSIZE"], int(0)).await;
    expect(&mut c, &["GET", "a"], nil()).await;
    expect(&mut c, &["SET", "a", "other"], ok()).await;
    expect(&mut c, &["SELECT", "0"], ok()).await;
    expect(&mut c, &["GET", "a"], b("1")).await;
    expect(&mut c, &["FLUSHDB"], ok()).await;
    expect(&mut c, &["DBSIZE"], int(0)).await;
    expect(&mut c, &["SELECT", "1"], ok()).await;
    expect(&mut c, &["DBSIZE"], int(1)).await;
    expect(&mut c, &["GET", "a"], b("other")).await;
    expect(&mut c, &["SELECT", "15"], ok()).await;
    expect(&mut c, &["SET", "x", "1"], ok()).await;
    expect(&mut c, &["FLUSHALL"], ok()).await;
    expect(&mut c, &["DBSIZE"], int(0)).await;
    expect(&mut c, &["SELECT", "1"], ok()).await;
    expect(&mut c, &["DBSIZE"], int(0)).await;
    expect_err(&mut c, &["SELECT", "16"], "ERR DB index is out of range").await;
    expect_err(&mut c, &["SELECT", "-1"], "ERR DB index is out of range").await;
    expect_err(&mut c, &["SELECT", "abc"], NOT_INTEGER).await;
    expect(&mut c, &["FLUSHDB", "ASYNC"], ok()).await;
    expect(&mut c, &["FLUSHALL", "SYNC"], ok()).await;
}

#[tokio::test]
async fn select_is_per_connection() {
    let (node, mut c) = start().await;
    expect(&mut c, &["SELECT", "3"], ok()).await;
    expect(&mut c, &["SET", "k", "db3"], ok()).await;
    let mut other = node.client().await;
    expect(&mut other, &["GET", "k"], nil()).await;
    let mut db3 = redoubt_cluster_tests::connect(&format!("redis://127.0.0.1:{}/3", node.port()))
        .await
        .expect("connect to db 3");
    expect(&mut db3, &["GET", "k"], b("db3")).await;
}

#[tokio::test]
async fn move_between_dbs() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "a", "1"], ok()).await;
    expect(&mut c, &["MOVE", "a", "1"], int(1)).await;
    expect(&mut c, &["EXISTS", "a"], int(0)).await;
    expect(&mut c, &["MOVE", "a", "1"], int(0)).await;
    expect(&mut c, &["SET", "a", "2"], ok()).await;
    // The destination has it already: nothing moves.
    expect(&mut c, &["MOVE", "a", "1"], int(0)).await;
    expect_err(
        &mut c,
        &["MOVE", "a", "0"],
        "ERR source and destination objects are the same",
    )
    .await;
    expect_err(&mut c, &["MOVE", "a", "99"], "ERR DB index is out of range").await;
    expect(&mut c, &["SELECT", "1"], ok()).await;
    expect(&mut c, &["GET", "a"], b("1")).await;
}

#[tokio::test]
async fn swapdb_exchanges_two_dbs() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "a", "in0"], ok()).await;
    expect(&mut c, &["SELECT", "1"], ok()).await;
    expect(&mut c, &["SET", "b", "in1"], ok()).await;
    expect(&mut c, &["SWAPDB", "0", "1"], ok()).await;
    expect(&mut c, &["GET", "a"], b("in0")).await;
    expect(&mut c, &["GET", "b"], nil()).await;
    expect(&mut c, &["SELECT", "0"], ok()).await;
    expect(&mut c, &["GET", "b"], b("in1")).await;
    expect_err(
        &mut c,
        &["SWAPDB", "0", "16"],
        "ERR DB index is out of range",
    )
    .await;
}

#[tokio::test]
async fn randomkey_and_touch() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RANDOMKEY"], nil()).await;
    expect(&mut c, &["SET", "only", "1"], ok()).await;
    expect(&mut c, &["RANDOMKEY"], b("only")).await;
    expect(&mut c, &["TOUCH", "only", "missing"], int(1)).await;
}
