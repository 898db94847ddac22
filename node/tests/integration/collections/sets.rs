//! Set commands.

use std::collections::HashSet;

use super::{scan_all, set_of};
use crate::common::*;

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
