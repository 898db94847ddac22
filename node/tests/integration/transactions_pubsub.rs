//! MULTI/EXEC/WATCH/DISCARD and pub/sub over real TCP, with Redis 7.2's replies.

use std::time::Duration;

use crate::common::*;
use futures::StreamExt;

const MSG_WAIT: Duration = Duration::from_secs(5);

// ---- transactions ----

#[tokio::test]
async fn multi_exec_returns_every_reply_in_order() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(show(&raw.call(&[b"MULTI"]).await), "+OK\r\n");
    assert_eq!(show(&raw.call(&[b"SET", b"a", b"1"]).await), "+QUEUED\r\n");
    assert_eq!(show(&raw.call(&[b"INCR", b"a"]).await), "+QUEUED\r\n");
    assert_eq!(show(&raw.call(&[b"GET", b"a"]).await), "+QUEUED\r\n");
    assert_eq!(show(&raw.call(&[b"PING"]).await), "+QUEUED\r\n");
    assert_eq!(
        show(&raw.call(&[b"EXEC"]).await),
        "*4\r\n+OK\r\n:2\r\n$1\r\n2\r\n+PONG\r\n"
    );
    // The same through the client's atomic pipeline.
    let mut c = node.client().await;
    let (set, incr, get): (String, i64, String) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("b")
        .arg("10")
        .cmd("INCRBY")
        .arg("b")
        .arg(5)
        .cmd("GET")
        .arg("b")
        .query_async(&mut c)
        .await
        .expect("MULTI/EXEC pipeline");
    assert_eq!((set.as_str(), incr, get.as_str()), ("OK", 15, "15"));
}

#[tokio::test]
async fn a_failing_command_inside_exec_does_not_stop_the_others() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"SET", b"a", b"x"]).await;
    assert_eq!(show(&raw.call(&[b"INCR", b"a"]).await), "+QUEUED\r\n");
    raw.call(&[b"SET", b"b", b"2"]).await;
    assert_eq!(
        show(&raw.call(&[b"EXEC"]).await),
        "*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n"
    );
    assert_eq!(show(&raw.call(&[b"GET", b"b"]).await), "$1\r\n2\r\n");
}

#[tokio::test]
async fn a_queued_unknown_command_aborts_exec() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.call(&[b"MULTI"]).await;
    assert_eq!(show(&raw.call(&[b"SET", b"a", b"1"]).await), "+QUEUED\r\n");
    assert_eq!(
        show(&raw.call(&[b"NOSUCH", b"x"]).await),
        "-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n"
    );
    assert_eq!(
        show(&raw.call(&[b"EXEC"]).await),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(show(&raw.call(&[b"GET", b"a"]).await), "$-1\r\n");
    // Wrong arity while queueing aborts too.
    raw.call(&[b"MULTI"]).await;
    assert_eq!(
        show(&raw.call(&[b"GET"]).await),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    raw.call(&[b"SET", b"a", b"1"]).await;
    assert_eq!(
        show(&raw.call(&[b"EXEC"]).await),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(show(&raw.call(&[b"EXISTS", b"a"]).await), ":0\r\n");
}

#[tokio::test]
async fn watch_aborts_exec_when_another_client_changed_the_key() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    let mut other = node.client().await;
    expect(&mut other, &["SET", "k", "start"], ok()).await;
    assert_eq!(show(&raw.call(&[b"WATCH", b"k"]).await), "+OK\r\n");
    expect(&mut other, &["SET", "k", "changed"], ok()).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"SET", b"k", b"mine"]).await;
    assert_eq!(show(&raw.call(&[b"EXEC"]).await), "*-1\r\n");
    expect(&mut other, &["GET", "k"], b("changed")).await;
    // A watched key that did not exist and was created also aborts.
    raw.call(&[b"WATCH", b"fresh"]).await;
    expect(&mut other, &["RPUSH", "fresh", "x"], int(1)).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"DEL", b"fresh"]).await;
    assert_eq!(show(&raw.call(&[b"EXEC"]).await), "*-1\r\n");
    expect(&mut other, &["LLEN", "fresh"], int(1)).await;
}

#[tokio::test]
async fn watch_sees_a_key_created_and_deleted_again_and_a_key_that_expired() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    let mut other = node.client().await;
    // Absent at WATCH, created and deleted again before EXEC: Redis aborts.
    assert_eq!(show(&raw.call(&[b"WATCH", b"ghost"]).await), "+OK\r\n");
    expect(&mut other, &["SET", "ghost", "boo"], ok()).await;
    expect(&mut other, &["DEL", "ghost"], int(1)).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"SET", b"ghost", b"mine"]).await;
    assert_eq!(show(&raw.call(&[b"EXEC"]).await), "*-1\r\n");
    expect(&mut other, &["EXISTS", "ghost"], int(0)).await;
    // The same with a key deleted by another client's transaction and a FLUSHDB.
    expect(&mut other, &["SET", "held", "1"], ok()).await;
    raw.call(&[b"WATCH", b"held"]).await;
    expect(&mut other, &["FLUSHDB"], ok()).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"SET", b"held", b"2"]).await;
    assert_eq!(show(&raw.call(&[b"EXEC"]).await), "*-1\r\n");
    // Live at WATCH, expired before EXEC: aborts too.
    expect(&mut other, &["SET", "short", "1", "PX", "100"], ok()).await;
    raw.call(&[b"WATCH", b"short"]).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"SET", b"short", b"2"]).await;
    assert_eq!(show(&raw.call(&[b"EXEC"]).await), "*-1\r\n");
    // Deleted and gone for good but never touched after WATCH: EXEC runs.
    raw.call(&[b"WATCH", b"ghost"]).await;
    expect(&mut other, &["SET", "unrelated", "1"], ok()).await;
    expect(&mut other, &["DEL", "unrelated"], int(1)).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"SET", b"ghost", b"mine"]).await;
    assert_eq!(show(&raw.call(&[b"EXEC"]).await), "*1\r\n+OK\r\n");
}

#[tokio::test]
async fn watch_lets_exec_run_when_nothing_changed() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    let mut other = node.client().await;
    expect(&mut other, &["SET", "k", "1"], ok()).await;
    raw.call(&[b"WATCH", b"k", b"missing"]).await;
    // Changing another key does not matter.
    expect(&mut other, &["SET", "unrelated", "1"], ok()).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"INCR", b"k"]).await;
    assert_eq!(show(&raw.call(&[b"EXEC"]).await), "*1\r\n:2\r\n");
    // EXEC forgets the watches: a later change does not abort the next transaction.
    expect(&mut other, &["SET", "k", "5"], ok()).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"INCR", b"k"]).await;
    assert_eq!(show(&raw.call(&[b"EXEC"]).await), "*1\r\n:6\r\n");
    // UNWATCH too.
    raw.call(&[b"WATCH", b"k"]).await;
    assert_eq!(show(&raw.call(&[b"UNWATCH"]).await), "+OK\r\n");
    expect(&mut other, &["SET", "k", "9"], ok()).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"INCR", b"k"]).await;
    assert_eq!(show(&raw.call(&[b"EXEC"]).await), "*1\r\n:10\r\n");
}

#[tokio::test]
async fn discard_and_misplaced_transaction_commands() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"SET", b"a", b"1"]).await;
    assert_eq!(show(&raw.call(&[b"DISCARD"]).await), "+OK\r\n");
    assert_eq!(show(&raw.call(&[b"GET", b"a"]).await), "$-1\r\n");
    assert_eq!(
        show(&raw.call(&[b"DISCARD"]).await),
        "-ERR DISCARD without MULTI\r\n"
    );
    assert_eq!(
        show(&raw.call(&[b"EXEC"]).await),
        "-ERR EXEC without MULTI\r\n"
    );
    raw.call(&[b"MULTI"]).await;
    assert_eq!(
        show(&raw.call(&[b"MULTI"]).await),
        "-ERR MULTI calls can not be nested\r\n"
    );
    assert_eq!(
        show(&raw.call(&[b"WATCH", b"a"]).await),
        "-ERR WATCH inside MULTI is not allowed\r\n"
    );
    // Neither error aborts the transaction.
    raw.call(&[b"SET", b"a", b"2"]).await;
    assert_eq!(show(&raw.call(&[b"EXEC"]).await), "*1\r\n+OK\r\n");
}

#[tokio::test]
async fn queued_writes_are_invisible_until_exec() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    let mut other = node.client().await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"SET", b"a", b"1"]).await;
    raw.call(&[b"SELECT", b"1"]).await;
    raw.call(&[b"SET", b"b", b"2"]).await;
    expect(&mut other, &["GET", "a"], nil()).await;
    assert_eq!(
        show(&raw.call(&[b"EXEC"]).await),
        "*3\r\n+OK\r\n+OK\r\n+OK\r\n"
    );
    expect(&mut other, &["GET", "a"], b("1")).await;
    expect(&mut other, &["GET", "b"], nil()).await;
    // SELECT inside the transaction moved the connection to db 1.
    assert_eq!(show(&raw.call(&[b"GET", b"b"]).await), "$1\r\n2\r\n");
}

#[tokio::test]
async fn concurrent_incr_from_many_clients_loses_no_update() {
    let node = NodeProcess::start_default();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let mut c = node.client().await;
        tasks.push(tokio::spawn(async move {
            for _ in 0..50 {
                q(&mut c, &["INCR", "counter"]).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("an INCR task");
    }
    let mut c = node.client().await;
    expect(&mut c, &["GET", "counter"], b("500")).await;
}

#[tokio::test]
async fn watch_retries_serialize_concurrent_read_modify_write() {
    let node = NodeProcess::start_default();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let mut c = node.client().await;
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            let mut attempts = 0;
            while done < 10 {
                attempts += 1;
                assert!(attempts < 10_000, "no progress");
                q(&mut c, &["WATCH", "counter"]).await;
                let current = match q(&mut c, &["GET", "counter"]).await {
                    Value::Nil => 0,
                    v => text(&v).parse::<i64>().expect("a number"),
                };
                q(&mut c, &["MULTI"]).await;
                q(&mut c, &["SET", "counter", &(current + 1).to_string()]).await;
                match q(&mut c, &["EXEC"]).await {
                    Value::Nil => {}
                    Value::Array(replies) => {
                        assert_eq!(replies, vec![ok()]);
                        done += 1;
                    }
                    other => panic!("EXEC replied {other:?}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("a WATCH task");
    }
    let mut c = node.client().await;
    expect(&mut c, &["GET", "counter"], b("50")).await;
}

// ---- pub/sub ----

async fn next_message(
    stream: &mut (impl futures::Stream<Item = redis::Msg> + Unpin),
) -> redis::Msg {
    match tokio::time::timeout(MSG_WAIT, stream.next()).await {
        Ok(Some(m)) => m,
        Ok(None) => panic!("the pub/sub connection ended"),
        Err(_) => panic!("no message within {MSG_WAIT:?}"),
    }
}

#[tokio::test]
async fn a_subscriber_receives_what_another_connection_publishes() {
    let (node, mut publisher) = start().await;
    let mut sub = node
        .redis_client()
        .get_async_pubsub()
        .await
        .expect("pubsub connection");
    sub.subscribe("news").await.expect("SUBSCRIBE");
    expect(&mut publisher, &["PUBLISH", "news", "hello"], int(1)).await;
    expect(&mut publisher, &["PUBLISH", "nobody-listens", "x"], int(0)).await;
    expect(&mut publisher, &["PUBLISH", "news", "second"], int(1)).await;
    let mut stream = sub.on_message();
    let m = next_message(&mut stream).await;
    assert_eq!(m.get_channel_name(), "news");
    assert_eq!(m.get_payload::<String>().expect("payload"), "hello");
    let m = next_message(&mut stream).await;
    assert_eq!(m.get_payload::<String>().expect("payload"), "second");
}

#[tokio::test]
async fn publish_counts_channel_and_pattern_receivers() {
    let (node, mut publisher) = start().await;
    let mut s1 = node
        .redis_client()
        .get_async_pubsub()
        .await
        .expect("pubsub");
    let mut s2 = node
        .redis_client()
        .get_async_pubsub()
        .await
        .expect("pubsub");
    let mut p1 = node
        .redis_client()
        .get_async_pubsub()
        .await
        .expect("pubsub");
    s1.subscribe("ch").await.expect("SUBSCRIBE");
    s2.subscribe("ch").await.expect("SUBSCRIBE");
    p1.psubscribe("c*").await.expect("PSUBSCRIBE");
    expect(&mut publisher, &["PUBLISH", "ch", "m"], int(3)).await;
    expect(&mut publisher, &["PUBLISH", "cx", "m"], int(1)).await;
    let m = next_message(&mut s1.on_message()).await;
    assert_eq!(m.get_payload::<String>().expect("payload"), "m");
    let m = next_message(&mut s2.on_message()).await;
    assert_eq!(m.get_channel_name(), "ch");
    let mut pstream = p1.on_message();
    let m = next_message(&mut pstream).await;
    assert_eq!(m.get_channel_name(), "ch");
    assert_eq!(m.get_pattern::<String>().expect("pattern"), "c*");
    let m = next_message(&mut pstream).await;
    assert_eq!(m.get_channel_name(), "cx");
}

#[tokio::test]
async fn psubscribe_matches_glob_patterns_only() {
    let (node, mut publisher) = start().await;
    let mut sub = node
        .redis_client()
        .get_async_pubsub()
        .await
        .expect("pubsub");
    sub.psubscribe("news.*").await.expect("PSUBSCRIBE");
    expect(&mut publisher, &["PUBLISH", "sport", "no"], int(0)).await;
    expect(&mut publisher, &["PUBLISH", "news", "no"], int(0)).await;
    expect(&mut publisher, &["PUBLISH", "news.tech", "yes"], int(1)).await;
    let mut stream = sub.on_message();
    let m = next_message(&mut stream).await;
    assert_eq!(m.get_channel_name(), "news.tech");
    assert_eq!(m.get_pattern::<String>().expect("pattern"), "news.*");
    assert_eq!(m.get_payload::<String>().expect("payload"), "yes");
}

#[tokio::test]
async fn pubsub_channels_numsub_numpat() {
    let (node, mut c) = start().await;
    let mut a = node
        .redis_client()
        .get_async_pubsub()
        .await
        .expect("pubsub");
    let mut b2 = node
        .redis_client()
        .get_async_pubsub()
        .await
        .expect("pubsub");
    a.subscribe("alpha").await.expect("SUBSCRIBE");
    a.subscribe("beta").await.expect("SUBSCRIBE");
    b2.subscribe("alpha").await.expect("SUBSCRIBE");
    b2.psubscribe("x*").await.expect("PSUBSCRIBE");
    b2.psubscribe("y*").await.expect("PSUBSCRIBE");
    assert_eq!(
        sorted_strings(&q(&mut c, &["PUBSUB", "CHANNELS"]).await),
        ["alpha", "beta"]
    );
    expect(&mut c, &["PUBSUB", "CHANNELS", "a*"], bulks(&["alpha"])).await;
    expect(
        &mut c,
        &["PUBSUB", "NUMSUB", "alpha", "beta", "gamma"],
        arr(vec![
            b("alpha"),
            int(2),
            b("beta"),
            int(1),
            b("gamma"),
            int(0),
        ]),
    )
    .await;
    expect(&mut c, &["PUBSUB", "NUMSUB"], arr(vec![])).await;
    expect(&mut c, &["PUBSUB", "NUMPAT"], int(2)).await;
    // A subscriber that goes away no longer counts.
    drop(b2);
    let probe = c.clone();
    eventually(
        "NUMSUB alpha drops to 1 and NUMPAT to 0",
        Duration::from_secs(5),
        || {
            let mut c = probe.clone();
            async move {
                try_q(&mut c, &["PUBSUB", "NUMSUB", "alpha"]).await
                    == Ok(arr(vec![b("alpha"), int(1)]))
                    && try_q(&mut c, &["PUBSUB", "NUMPAT"]).await == Ok(int(0))
            }
        },
    )
    .await;
    a.unsubscribe("beta").await.expect("UNSUBSCRIBE");
    expect(&mut c, &["PUBSUB", "CHANNELS"], bulks(&["alpha"])).await;
}

#[tokio::test]
async fn subscribe_replies_and_subscribed_mode_on_the_wire() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.send_cmd(&[b"SUBSCRIBE", b"a", b"b"]).await;
    assert_eq!(
        show(&raw.read_reply().await),
        "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    assert_eq!(
        show(&raw.read_reply().await),
        "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
    );
    assert_eq!(
        show(&raw.call(&[b"GET", b"k"]).await),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(
        show(&raw.call(&[b"PING"]).await),
        "*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    );
    raw.send_cmd(&[b"PSUBSCRIBE", b"p.*"]).await;
    assert_eq!(
        show(&raw.read_reply().await),
        "*3\r\n$10\r\npsubscribe\r\n$3\r\np.*\r\n:3\r\n"
    );
    let mut publisher = node.client().await;
    expect(&mut publisher, &["PUBLISH", "a", "hello"], int(1)).await;
    assert_eq!(
        show(&raw.read_reply().await),
        "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n"
    );
    expect(&mut publisher, &["PUBLISH", "p.x", "hi"], int(1)).await;
    assert_eq!(
        show(&raw.read_reply().await),
        "*4\r\n$8\r\npmessage\r\n$3\r\np.*\r\n$3\r\np.x\r\n$2\r\nhi\r\n"
    );
    raw.send_cmd(&[b"UNSUBSCRIBE", b"a"]).await;
    assert_eq!(
        show(&raw.read_reply().await),
        "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n"
    );
    raw.send_cmd(&[b"PUNSUBSCRIBE"]).await;
    assert_eq!(
        show(&raw.read_reply().await),
        "*3\r\n$12\r\npunsubscribe\r\n$3\r\np.*\r\n:1\r\n"
    );
    raw.send_cmd(&[b"UNSUBSCRIBE"]).await;
    assert_eq!(
        show(&raw.read_reply().await),
        "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"
    );
    // Out of subscribed mode: normal commands again.
    assert_eq!(show(&raw.call(&[b"PING"]).await), "+PONG\r\n");
    raw.send_cmd(&[b"UNSUBSCRIBE"]).await;
    assert_eq!(
        show(&raw.read_reply().await),
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    );
}

#[tokio::test]
async fn resp3_subscribers_get_push_frames_and_may_run_commands() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.call(&[b"HELLO", b"3"]).await;
    raw.send_cmd(&[b"SUBSCRIBE", b"a"]).await;
    assert_eq!(
        show(&raw.read_reply().await),
        ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    assert_eq!(show(&raw.call(&[b"GET", b"k"]).await), "_\r\n");
    let mut publisher = node.client().await;
    expect(&mut publisher, &["PUBLISH", "a", "x"], int(1)).await;
    assert_eq!(
        show(&raw.read_reply().await),
        ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n"
    );
}
