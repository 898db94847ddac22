//! Hash commands.

use std::collections::HashSet;

use super::{scan_all, set_of};
use crate::common::*;

#[tokio::test]
async fn hset_hget_hmget_hlen_hexists_hstrlen() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["HSET", "h", "f1", "v1", "f2", "v2"], Ok(int(2))),
            (&["HSET", "h", "f1", "new", "f3", "v3"], Ok(int(1))),
            (&["HGET", "h", "f1"], Ok(b("new"))),
            (&["HGET", "h", "nope"], Ok(nil())),
            (&["HGET", "missing", "f"], Ok(nil())),
            (
                &["HMGET", "h", "f1", "nope", "f3"],
                Ok(arr(vec![b("new"), nil(), b("v3")])),
            ),
            (&["HMGET", "missing", "a", "b"], Ok(arr(vec![nil(), nil()]))),
            (&["HLEN", "h"], Ok(int(3))),
            (&["HLEN", "missing"], Ok(int(0))),
            (&["HSET", "h", "f"], Err(&arity("hset"))),
            (&["HSET", "h", "a", "1", "b"], Err(&arity("hset"))),
            (&["HMSET", "h", "a", "1", "b", "2"], Ok(ok())),
            (&["HLEN", "h"], Ok(int(5))),
            (&["HSTRLEN", "h", "f1"], Ok(int(3))),
            (&["HSTRLEN", "h", "nope"], Ok(int(0))),
            (&["HEXISTS", "h", "f1"], Ok(int(1))),
            (&["HEXISTS", "h", "nope"], Ok(int(0))),
            (&["HEXISTS", "missing", "f"], Ok(int(0))),
        ],
    )
    .await;
}

#[tokio::test]
async fn hdel_removes_fields_and_the_empty_hash() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["HSET", "h", "a", "1", "b", "2"], Ok(int(2))),
            (&["HDEL", "h", "a", "nope"], Ok(int(1))),
            (&["HDEL", "h", "b", "b"], Ok(int(1))),
            (&["EXISTS", "h"], Ok(int(0))),
            (&["HDEL", "missing", "a"], Ok(int(0))),
        ],
    )
    .await;
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
    expect_each(
        &mut c,
        &[
            (&["HINCRBY", "h", "n", "5"], Ok(int(5))),
            (&["HINCRBY", "h", "n", "-2"], Ok(int(3))),
            (&["HGET", "h", "n"], Ok(b("3"))),
            (&["HSET", "h", "s", "abc"], Ok(int(1))),
            (
                &["HINCRBY", "h", "s", "1"],
                Err("ERR hash value is not an integer"),
            ),
            (&["HINCRBY", "h", "n", "abc"], Err(NOT_INTEGER)),
            (&["HSET", "h", "big", "9223372036854775807"], Ok(int(1))),
            (
                &["HINCRBY", "h", "big", "1"],
                Err("ERR increment or decrement would overflow"),
            ),
            (&["HINCRBYFLOAT", "h", "f", "10.5"], Ok(b("10.5"))),
            (&["HINCRBYFLOAT", "h", "f", "0.1"], Ok(b("10.6"))),
            (
                &["HINCRBYFLOAT", "h", "s", "1"],
                Err("ERR hash value is not a float"),
            ),
            (&["HINCRBYFLOAT", "h", "f", "abc"], Err(NOT_FLOAT)),
            (&["HSET", "h", "e", "5.0e3"], Ok(int(1))),
            (&["HINCRBYFLOAT", "h", "e", "2.0e2"], Ok(b("5200"))),
        ],
    )
    .await;
}

#[tokio::test]
async fn hsetnx_sets_only_new_fields() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["HSETNX", "h", "f", "v"], Ok(int(1))),
            (&["HSETNX", "h", "f", "w"], Ok(int(0))),
            (&["HGET", "h", "f"], Ok(b("v"))),
        ],
    )
    .await;
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
    expect_each(
        &mut c,
        &[
            (&["SET", "s", "v"], Ok(ok())),
            (&["HSET", "s", "f", "v"], Err(WRONGTYPE)),
            (&["HGET", "s", "f"], Err(WRONGTYPE)),
            (&["HGETALL", "s"], Err(WRONGTYPE)),
            (&["HDEL", "s", "f"], Err(WRONGTYPE)),
            (&["HLEN", "s"], Err(WRONGTYPE)),
            (&["HINCRBY", "s", "f", "1"], Err(WRONGTYPE)),
        ],
    )
    .await;
}
