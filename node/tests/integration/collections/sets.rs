//! Set commands.

use std::collections::HashSet;

use super::{scan_all, set_of};
use crate::common::*;

#[tokio::test]
async fn sadd_srem_smembers_sismember_scard() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["SADD", "s", "a", "b", "c", "a"], Ok(int(3))),
            (&["SADD", "s", "a", "d"], Ok(int(1))),
            (&["SCARD", "s"], Ok(int(4))),
            (&["SCARD", "missing"], Ok(int(0))),
            (&["SISMEMBER", "s", "a"], Ok(int(1))),
            (&["SISMEMBER", "s", "zz"], Ok(int(0))),
            (&["SISMEMBER", "missing", "a"], Ok(int(0))),
            (
                &["SMISMEMBER", "s", "a", "zz", "d"],
                Ok(arr(vec![int(1), int(0), int(1)])),
            ),
        ],
    )
    .await;
    assert_eq!(
        sorted_strings(&q(&mut c, &["SMEMBERS", "s"]).await),
        ["a", "b", "c", "d"]
    );
    expect_each(
        &mut c,
        &[
            (&["SREM", "s", "a", "zz"], Ok(int(1))),
            (&["SREM", "s", "b", "c", "d"], Ok(int(3))),
            (&["EXISTS", "s"], Ok(int(0))),
            (&["SMEMBERS", "missing"], Ok(arr(vec![]))),
            (&["SREM", "missing", "a"], Ok(int(0))),
        ],
    )
    .await;
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
    expect_each(
        &mut c,
        &[
            (&["EXISTS", "s"], Ok(int(0))),
            (&["SPOP", "s"], Ok(nil())),
            (&["SRANDMEMBER", "s"], Ok(nil())),
            (
                &["SPOP", "s", "-1"],
                Err("ERR value is out of range, must be positive"),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn smove_between_sets() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["SADD", "a", "x", "y"], Ok(int(2))),
            (&["SADD", "b", "z"], Ok(int(1))),
            (&["SMOVE", "a", "b", "x"], Ok(int(1))),
            (&["SMOVE", "a", "b", "nope"], Ok(int(0))),
            (&["SISMEMBER", "b", "x"], Ok(int(1))),
            (&["SISMEMBER", "a", "x"], Ok(int(0))),
            (&["SMOVE", "a", "b", "y"], Ok(int(1))),
            (&["EXISTS", "a"], Ok(int(0))),
            (&["SMOVE", "missing", "b", "x"], Ok(int(0))),
            (&["SET", "str", "v"], Ok(ok())),
            (&["SMOVE", "b", "str", "z"], Err(WRONGTYPE)),
            (&["SCARD", "b"], Ok(int(3))),
        ],
    )
    .await;
}

#[tokio::test]
async fn set_algebra_and_store_variants() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["SADD", "k1", "a", "b", "c", "d"], Ok(int(4))),
            (&["SADD", "k2", "c"], Ok(int(1))),
            (&["SADD", "k3", "a", "c", "e"], Ok(int(3))),
            (&["SINTER", "k1", "k2", "k3"], Ok(bulks(&["c"]))),
        ],
    )
    .await;
    assert_eq!(
        sorted_strings(&q(&mut c, &["SUNION", "k1", "k2", "k3"]).await),
        ["a", "b", "c", "d", "e"]
    );
    assert_eq!(
        sorted_strings(&q(&mut c, &["SDIFF", "k1", "k2", "k3"]).await),
        ["b", "d"]
    );
    expect_each(
        &mut c,
        &[
            (&["SINTER", "k1", "missing"], Ok(arr(vec![]))),
            (&["SDIFF", "missing", "k1"], Ok(arr(vec![]))),
            (&["SINTERSTORE", "dst", "k1", "k3"], Ok(int(2))),
        ],
    )
    .await;
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
    expect_each(
        &mut c,
        &[
            (&["SINTERSTORE", "dst", "k1", "missing"], Ok(int(0))),
            (&["EXISTS", "dst"], Ok(int(0))),
            (&["SINTERCARD", "2", "k1", "k3"], Ok(int(2))),
            (&["SINTERCARD", "2", "k1", "k3", "LIMIT", "1"], Ok(int(1))),
            (
                &["SINTERCARD", "0", "k1"],
                Err("ERR numkeys should be greater than 0"),
            ),
            (
                &["SINTERCARD", "3", "k1", "k2"],
                Err("ERR Number of keys can't be greater than number of args"),
            ),
            (&["SET", "str", "v"], Ok(ok())),
            (&["SINTER", "k1", "str"], Err(WRONGTYPE)),
            (&["SUNION", "k1", "str"], Err(WRONGTYPE)),
            (&["SADD", "str", "a"], Err(WRONGTYPE)),
            // A store command overwrites a destination of any type.
            (&["SUNIONSTORE", "str", "k2"], Ok(int(1))),
            (&["TYPE", "str"], Ok(simple("set"))),
        ],
    )
    .await;
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
