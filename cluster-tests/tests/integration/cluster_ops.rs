//! A healthy three-node cluster seen by clients: linearizable reads on every node, order of
//! pipelines through a follower, transactions and WATCH through a follower, pub/sub across
//! nodes. Real processes, real `redis` crate clients; each test starts its own cluster.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{PushKind, Value};
use redoubt_cluster_tests::cluster::{get, set, Cluster, ClusterOptions, LEADER_TIMEOUT};
use redoubt_cluster_tests::connection_config;
use redoubt_cluster_tests::raw::RawConn;

/// How long a published message may take to reach a subscriber on another node.
const MSG_WAIT: Duration = Duration::from_secs(5);

async fn started() -> (Cluster, usize) {
    let cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    (cluster, leader)
}

#[tokio::test]
async fn a_write_on_any_node_is_read_at_once_on_every_node() {
    let (cluster, _) = started().await;
    let ids = cluster.members();
    let mut clients = Vec::new();
    for id in &ids {
        clients.push((*id, cluster.client(*id).await));
    }
    for round in 0..15 {
        for w in 0..clients.len() {
            let writer = clients[w].0;
            // A fresh key, and one key everyone overwrites: a stale read of the latter returns the
            // previous value rather than nothing.
            let key = format!("k-{writer}-{round}");
            let value = format!("v-{writer}-{round}");
            set(&mut clients[w].1, writer, &key, &value).await;
            set(&mut clients[w].1, writer, "shared", &value).await;
            for (reader, c) in clients.iter_mut() {
                assert_eq!(
                    get(c, *reader, &key).await.as_deref(),
                    Some(value.as_str()),
                    "node {reader} does not see {key}, written on node {writer} before the read\n{}",
                    cluster.diagnostics()
                );
                assert_eq!(
                    get(c, *reader, "shared").await.as_deref(),
                    Some(value.as_str()),
                    "node {reader} reads a stale 'shared' after node {writer} wrote it\n{}",
                    cluster.diagnostics()
                );
            }
        }
    }
}

#[tokio::test]
async fn pipelined_writes_through_a_follower_keep_their_order() {
    let (cluster, leader) = started().await;
    let follower = cluster.followers().await[0];
    let mut f = cluster.client(follower).await;
    let mut pipe = redis::pipe();
    for i in 0..500 {
        pipe.cmd("RPUSH").arg("l").arg(i);
    }
    let lens: Vec<i64> = pipe
        .query_async(&mut f)
        .await
        .expect("RPUSH pipeline on a follower");
    assert_eq!(lens, (1..=500).collect::<Vec<i64>>());
    let mut l = cluster.client(leader).await;
    let items: Vec<String> = redis::cmd("LRANGE")
        .arg("l")
        .arg(0)
        .arg(-1)
        .query_async(&mut l)
        .await
        .expect("LRANGE on the leader");
    let expected: Vec<String> = (0..500).map(|i| i.to_string()).collect();
    assert_eq!(items, expected, "the list on the leader is out of order");

    let mut pipe = redis::pipe();
    for _ in 0..500 {
        pipe.cmd("INCR").arg("counter");
    }
    let replies: Vec<i64> = pipe
        .query_async(&mut f)
        .await
        .expect("INCR pipeline on a follower");
    assert_eq!(replies, (1..=500).collect::<Vec<i64>>());
    let n: i64 = redis::cmd("GET")
        .arg("counter")
        .query_async(&mut l)
        .await
        .expect("GET");
    assert_eq!(n, 500);
}

#[tokio::test]
async fn two_followers_pipelining_at_once_each_keep_their_order() {
    let (cluster, leader) = started().await;
    let followers = cluster.followers().await;
    let mut tasks = Vec::new();
    for f in followers.clone() {
        let mut c = cluster.client(f).await;
        tasks.push(tokio::spawn(async move {
            let mut pipe = redis::pipe();
            for i in 0..300 {
                pipe.cmd("RPUSH").arg("shared-list").arg(format!("{f}:{i}"));
                pipe.cmd("RPUSH").arg(format!("own-{f}")).arg(i);
            }
            let r: redis::RedisResult<Vec<i64>> = pipe.query_async(&mut c).await;
            r.map(|v| v.into_iter().skip(1).step_by(2).collect::<Vec<i64>>())
        }));
    }
    for (f, t) in followers.iter().zip(tasks) {
        let own_lens = t.await.expect("task").expect("pipeline on a follower");
        assert_eq!(own_lens, (1..=300).collect::<Vec<i64>>(), "node {f}");
    }
    let mut l = cluster.client(leader).await;
    let shared: Vec<String> = redis::cmd("LRANGE")
        .arg("shared-list")
        .arg(0)
        .arg(-1)
        .query_async(&mut l)
        .await
        .expect("LRANGE");
    assert_eq!(shared.len(), 600);
    for f in &followers {
        let mine: Vec<String> = shared
            .iter()
            .filter(|s| s.starts_with(&format!("{f}:")))
            .cloned()
            .collect();
        let expected: Vec<String> = (0..300).map(|i| format!("{f}:{i}")).collect();
        assert_eq!(
            mine, expected,
            "node {f}'s pushes are interleaved out of order"
        );
    }
}

#[tokio::test]
async fn pipelined_reads_on_a_follower_see_the_writes_before_them() {
    let (cluster, _) = started().await;
    let follower = cluster.followers().await[0];
    let mut f = cluster.client(follower).await;
    let mut pipe = redis::pipe();
    for i in 0..200 {
        pipe.cmd("RPUSH").arg("rl").arg(i);
        pipe.cmd("LLEN").arg("rl");
        pipe.cmd("SET").arg("rk").arg(i);
        pipe.cmd("GET").arg("rk");
    }
    let replies: Vec<Value> = pipe.query_async(&mut f).await.expect("pipeline");
    assert_eq!(replies.len(), 800);
    for i in 0..200usize {
        let llen = &replies[4 * i + 1];
        let got = &replies[4 * i + 3];
        assert_eq!(
            llen,
            &Value::Int(i as i64 + 1),
            "LLEN after the {}th RPUSH of the pipeline",
            i + 1
        );
        assert_eq!(
            got,
            &Value::BulkString(i.to_string().into_bytes()),
            "GET after SET rk {i} in the same pipeline"
        );
    }
}

#[tokio::test]
async fn multi_exec_through_a_follower_is_atomic_and_replicated() {
    let (cluster, leader) = started().await;
    let follower = cluster.followers().await[0];
    let mut f = cluster.client(follower).await;
    let (ok, n, a, len): (String, i64, String, i64) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("a")
        .arg("1")
        .cmd("INCRBY")
        .arg("n")
        .arg(5)
        .cmd("GET")
        .arg("a")
        .cmd("RPUSH")
        .arg("tl")
        .arg("x")
        .query_async(&mut f)
        .await
        .expect("MULTI/EXEC on a follower");
    assert_eq!((ok.as_str(), n, a.as_str(), len), ("OK", 5, "1", 1));
    let mut l = cluster.client(leader).await;
    assert_eq!(get(&mut l, leader, "a").await.as_deref(), Some("1"));
    assert_eq!(get(&mut l, leader, "n").await.as_deref(), Some("5"));
    // A queued command that fails at run time does not undo the others (Redis semantics).
    let result: redis::RedisResult<Value> = redis::pipe()
        .atomic()
        .cmd("INCR")
        .arg("a")
        .cmd("INCR")
        .arg("tl")
        .cmd("INCR")
        .arg("a")
        .query_async(&mut f)
        .await;
    // The redis crate reports EXEC's array with an error in it either as that array or as the
    // error itself; both are fine, anything else is not.
    match &result {
        Ok(Value::Array(items)) => {
            assert_eq!(items.len(), 3, "{items:?}");
            assert_eq!(items[0], Value::Int(2));
            assert!(matches!(items[1], Value::ServerError(_)), "{items:?}");
            assert_eq!(items[2], Value::Int(3));
        }
        Err(e) => assert!(e.to_string().contains("WRONGTYPE"), "{e}"),
        Ok(other) => panic!("EXEC with a failing command replied {other:?}"),
    }
    assert_eq!(get(&mut l, leader, "a").await.as_deref(), Some("3"));
}

/// WATCH on a follower, then MULTI ... EXEC there, with `interloper` writing the watched key in
/// between (or not).
async fn watch_round(
    cluster: &Cluster,
    follower: usize,
    interloper: Option<usize>,
    key: &str,
) -> Value {
    // A connection of its own: WATCH state belongs to the connection.
    let mut f = cluster.client(follower).await;
    let _: String = redis::cmd("WATCH")
        .arg(key)
        .query_async(&mut f)
        .await
        .expect("WATCH on a follower");
    let _: Option<String> = redis::cmd("GET")
        .arg(key)
        .query_async(&mut f)
        .await
        .expect("GET");
    if let Some(other) = interloper {
        let mut o = cluster.client(other).await;
        set(&mut o, other, key, &format!("from-{other}")).await;
    }
    redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(key)
        .arg("from-transaction")
        .ignore()
        .cmd("GET")
        .arg(key)
        .query_async(&mut f)
        .await
        .expect("EXEC on a follower")
}

#[tokio::test]
async fn watch_on_a_follower_sees_writes_made_on_other_nodes() {
    let (cluster, leader) = started().await;
    let followers = cluster.followers().await;
    let (follower, other_follower) = (followers[0], followers[1]);
    let mut l = cluster.client(leader).await;
    for (i, interloper) in [leader, other_follower, follower].into_iter().enumerate() {
        let key = format!("w{i}");
        set(&mut l, leader, &key, "initial").await;
        let result = watch_round(&cluster, follower, Some(interloper), &key).await;
        assert_eq!(
            result,
            Value::Nil,
            "EXEC on node {follower} ran although node {interloper} wrote the watched key"
        );
        assert_eq!(
            get(&mut l, leader, &key).await,
            Some(format!("from-{interloper}"))
        );
        // Nobody writes in between: the transaction runs.
        let result = watch_round(&cluster, follower, None, &key).await;
        assert_eq!(
            result,
            Value::Array(vec![Value::BulkString(b"from-transaction".to_vec())]),
            "EXEC on node {follower} aborted although nobody wrote the watched key"
        );
        assert_eq!(
            get(&mut l, leader, &key).await.as_deref(),
            Some("from-transaction")
        );
    }
}

#[tokio::test]
async fn watch_on_a_follower_right_after_a_write_elsewhere_does_not_abort() {
    // A write acknowledged before WATCH is not a change "after" WATCH: EXEC must run, even when
    // the follower has not applied that write yet when WATCH arrives.
    let (cluster, leader) = started().await;
    let follower = cluster.followers().await[0];
    let mut l = cluster.client(leader).await;
    let mut f = cluster.client(follower).await;
    let mut aborted = Vec::new();
    for i in 0..40 {
        let key = format!("fresh{}", i % 4);
        set(&mut l, leader, &key, &format!("leader-{i}")).await;
        let _: String = redis::cmd("WATCH")
            .arg(&key)
            .query_async(&mut f)
            .await
            .expect("WATCH");
        let result: Value = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(format!("tx-{i}"))
            .query_async(&mut f)
            .await
            .expect("EXEC");
        if result == Value::Nil {
            aborted.push(i);
        }
    }
    assert!(
        aborted.is_empty(),
        "EXEC aborted in rounds {aborted:?} although the only write to the watched key was \
         acknowledged before WATCH"
    );
}

/// A RESP3 connection to `url` whose pushes (pub/sub messages) go to the returned channel.
async fn push_connection(
    url: &str,
) -> (
    MultiplexedConnection,
    tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let config = connection_config().set_push_sender(tx);
    let url = format!("{url}?protocol=resp3");
    let c = redis::Client::open(url.as_str())
        .expect("url")
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap_or_else(|e| panic!("RESP3 connection to {url}: {e}"));
    (c, rx)
}

/// The next pub/sub message (channel, payload) from a push channel, skipping other pushes.
async fn next_message(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>,
) -> (String, String) {
    let deadline = tokio::time::Instant::now() + MSG_WAIT;
    loop {
        let push = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(p)) => p,
            Ok(None) => panic!("the subscriber's connection ended"),
            Err(_) => panic!("no message within {MSG_WAIT:?}"),
        };
        if push.kind != PushKind::Message {
            continue;
        }
        let text = |v: &Value| match v {
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            other => format!("{other:?}"),
        };
        assert_eq!(push.data.len(), 2, "message push: {:?}", push.data);
        return (text(&push.data[0]), text(&push.data[1]));
    }
}

#[tokio::test]
async fn publish_on_any_node_reaches_subscribers_on_another_node() {
    let (cluster, _) = started().await;
    // RESP3 subscriber (redis crate) and a RESP2 subscriber (raw) on node 3.
    let (mut sub, mut pushes) = push_connection(&cluster.node(3).url()).await;
    sub.subscribe("news").await.expect("SUBSCRIBE on node 3");
    let mut raw = RawConn::connect(cluster.node(3).port()).await;
    let confirm = raw.call(&[b"SUBSCRIBE", b"news"]).await;
    assert_eq!(confirm, b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");

    let mut expected = BTreeSet::new();
    for publisher in [1usize, 2, 3] {
        let mut p = cluster.client(publisher).await;
        let message = format!("from-{publisher}");
        let receivers: i64 = redis::cmd("PUBLISH")
            .arg("news")
            .arg(&message)
            .query_async(&mut p)
            .await
            .unwrap_or_else(|e| panic!("PUBLISH on node {publisher}: {e}"));
        // Redis Cluster's count: subscribers on the node that received the PUBLISH.
        let local = if publisher == 3 { 2 } else { 0 };
        assert_eq!(receivers, local, "PUBLISH reply on node {publisher}");
        expected.insert(message);
    }
    let mut got = BTreeSet::new();
    let mut raw_got = BTreeSet::new();
    for _ in 0..expected.len() {
        let (channel, payload) = next_message(&mut pushes).await;
        assert_eq!(channel, "news");
        got.insert(payload);
        let frame = match raw.try_read_reply(MSG_WAIT).await {
            Ok(f) => f,
            Err(e) => panic!("RESP2 subscriber on node 3: {e}\n{}", cluster.diagnostics()),
        };
        let text = String::from_utf8_lossy(&frame).into_owned();
        assert!(
            text.starts_with("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n"),
            "{text:?}"
        );
        raw_got.insert(text.rsplit("\r\n").nth(1).unwrap_or_default().to_string());
    }
    assert_eq!(got, expected, "RESP3 subscriber");
    assert_eq!(raw_got, expected, "RESP2 subscriber");
}

#[tokio::test]
async fn messages_of_one_publisher_arrive_in_order_on_another_node() {
    // Redis delivers one connection's messages in order, across a cluster too (one bus link).
    let (cluster, _) = started().await;
    let (mut sub, mut pushes) = push_connection(&cluster.node(3).url()).await;
    sub.subscribe("seq").await.expect("SUBSCRIBE");
    let mut p = cluster.client(1).await;
    let n = 300;
    for i in 0..n {
        let _: i64 = redis::cmd("PUBLISH")
            .arg("seq")
            .arg(i)
            .query_async(&mut p)
            .await
            .expect("PUBLISH");
    }
    let started = Instant::now();
    let mut got = Vec::new();
    for _ in 0..n {
        let (_, payload) = next_message(&mut pushes).await;
        got.push(payload.parse::<i64>().expect("a number"));
    }
    let expected: Vec<i64> = (0..n).collect();
    if got != expected {
        let first_bad = got
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "messages published in order on node 1 arrived out of order on node 3 (first \
             difference at position {first_bad}: {:?})",
            &got[first_bad..(first_bad + 10).min(got.len())]
        );
    }
    println!(
        "{n} messages delivered across nodes in {:?}",
        started.elapsed()
    );
}
