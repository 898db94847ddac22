//! Key patterns (~, %R~, %W~) and channel patterns (&) on real commands.

use std::time::Duration;

use crate::acl_common::*;
use crate::common::*;

/// %R~ / %W~ / ~ patterns on real commands (port of acl-v2.tcl "Test separate read/write
/// permission" and the brief's COPY / SINTERSTORE cases).
#[tokio::test]
async fn key_patterns_by_access() {
    let (node, mut c) = start().await;
    expect(&mut c, &["SET", "ro:str", "bar"], ok()).await;
    expect(&mut c, &["SADD", "ro:a", "x", "y"], int(2)).await;
    expect(&mut c, &["SADD", "ro:b", "y", "z"], int(2)).await;
    expect(
        &mut c,
        &[
            "ACL", "SETUSER", "kp", "on", ">kppw", "+@all", "&*", "%R~ro:*", "%W~wo:*", "%RW~rw:*",
        ],
        ok(),
    )
    .await;
    assert_eq!(
        field_text(&getuser(&mut c, "kp").await, "keys"),
        "%R~ro:* %W~wo:* ~rw:*"
    );
    let mut u = login(&node, "kp", "kppw").await;
    expect(&mut u, &["PING"], simple("PONG")).await;
    // Read-only pattern: reads yes, writes no.
    expect(&mut u, &["GET", "ro:str"], b("bar")).await;
    expect(&mut u, &["SMEMBERS", "ro:nothing"], arr(vec![])).await;
    expect_err(&mut u, &["SET", "ro:str", "v"], NOPERM_KEY).await;
    expect_err(&mut u, &["DEL", "ro:str"], NOPERM_KEY).await;
    expect_err(&mut u, &["APPEND", "ro:str", "x"], NOPERM_KEY).await;
    // Write-only pattern: inserts yes, reads no.
    expect(&mut u, &["LPUSH", "wo:list", "10"], int(1)).await;
    expect_err(&mut u, &["GET", "wo:str"], NOPERM_KEY).await;
    expect_err(&mut u, &["LRANGE", "wo:list", "0", "-1"], NOPERM_KEY).await;
    // Neither.
    expect_err(&mut u, &["GET", "other"], NOPERM_KEY).await;
    expect_err(&mut u, &["LPUSH", "notwrite", "10"], NOPERM_KEY).await;
    // ~ is both.
    expect(&mut u, &["SET", "rw:x", "1"], ok()).await;
    expect(&mut u, &["GET", "rw:x"], b("1")).await;
    // Multi-key commands: every key is checked.
    expect(&mut u, &["MGET", "ro:str", "rw:x"], bulks(&["bar", "1"])).await;
    expect_err(&mut u, &["MGET", "ro:str", "other"], NOPERM_KEY).await;
    // COPY reads its source and writes its destination.
    expect(&mut u, &["COPY", "ro:str", "wo:copy"], int(1)).await;
    expect_err(&mut u, &["COPY", "wo:copy", "ro:copy2"], NOPERM_KEY).await;
    expect_err(&mut u, &["COPY", "ro:str", "ro:copy3"], NOPERM_KEY).await;
    expect(&mut c, &["GET", "wo:copy"], b("bar")).await;
    // SINTERSTORE likewise: destination written, sources read.
    expect(&mut u, &["SINTERSTORE", "wo:dst", "ro:a", "ro:b"], int(1)).await;
    expect(&mut c, &["SMEMBERS", "wo:dst"], bulks(&["y"])).await;
    expect_err(
        &mut u,
        &["SINTERSTORE", "ro:dst", "ro:a", "ro:b"],
        NOPERM_KEY,
    )
    .await;
    expect_err(
        &mut u,
        &["SINTERSTORE", "wo:dst", "wo:list", "ro:a"],
        NOPERM_KEY,
    )
    .await;
    expect(&mut c, &["EXISTS", "ro:dst"], int(0)).await;
    // Nothing refused was done.
    expect(&mut c, &["GET", "ro:str"], b("bar")).await;
    expect(&mut c, &["EXISTS", "ro:copy2", "ro:copy3"], int(0)).await;
    // A user without key patterns reaches no key, whatever the command (acl.tcl "By default
    // users are not able to access any key").
    expect(
        &mut c,
        &["ACL", "SETUSER", "nokeys", "on", ">nkpw", "+set", "+ping"],
        ok(),
    )
    .await;
    let mut nk = login(&node, "nokeys", "nkpw").await;
    expect_err(&mut nk, &["SET", "foo", "bar"], NOPERM_KEY).await;
    expect(&mut nk, &["PING"], simple("PONG")).await;
    expect(
        &mut c,
        &["ACL", "SETUSER", "nokeys", "~foo:*", "~bar:*"],
        ok(),
    )
    .await;
    expect(&mut nk, &["SET", "foo:1", "a"], ok()).await;
    expect(&mut nk, &["SET", "bar:2", "b"], ok()).await;
    expect_err(&mut nk, &["SET", "zap:3", "c"], NOPERM_KEY).await;
}

/// &pattern rules on PUBLISH, SUBSCRIBE (glob match) and PSUBSCRIBE (literal match).
#[tokio::test]
async fn channel_patterns_on_publish_and_subscribe() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "ps",
            "on",
            ">pspw",
            "~*",
            "+@all",
            "resetchannels",
            "&news.*",
            "&exact",
        ],
        ok(),
    )
    .await;
    assert_eq!(
        field_text(&getuser(&mut c, "ps").await, "channels"),
        "&news.* &exact"
    );
    let mut u = login(&node, "ps", "pspw").await;
    expect(&mut u, &["PUBLISH", "news.1", "m"], int(0)).await;
    expect(&mut u, &["PUBLISH", "exact", "m"], int(0)).await;
    expect_err(&mut u, &["PUBLISH", "other", "m"], NOPERM_CHANNEL).await;
    expect_err(&mut u, &["PUBLISH", "exact2", "m"], NOPERM_CHANNEL).await;

    let mut sub = raw_auth(&node, &["ps", "pspw"]).await;
    assert_eq!(
        show(&sub.call(&[b"SUBSCRIBE", b"news.1"]).await),
        "*3\r\n$9\r\nsubscribe\r\n$6\r\nnews.1\r\n:1\r\n"
    );
    assert_eq!(
        show(&sub.call(&[b"SUBSCRIBE", b"other"]).await),
        format!("-{NOPERM_CHANNEL}\r\n")
    );
    // PSUBSCRIBE needs the pattern itself among the allowed ones.
    assert_eq!(
        show(&sub.call(&[b"PSUBSCRIBE", b"news.*"]).await),
        "*3\r\n$10\r\npsubscribe\r\n$6\r\nnews.*\r\n:2\r\n"
    );
    assert_eq!(
        show(&sub.call(&[b"PSUBSCRIBE", b"news.1"]).await),
        format!("-{NOPERM_CHANNEL}\r\n"),
        "PSUBSCRIBE of a channel matching an allowed pattern is not the pattern itself"
    );
    assert_eq!(
        show(&sub.call(&[b"PSUBSCRIBE", b"n*"]).await),
        format!("-{NOPERM_CHANNEL}\r\n")
    );
    // The subscriptions that were allowed work.
    q(&mut c, &["PUBLISH", "news.1", "hello"]).await;
    assert_eq!(
        show(
            &sub.try_read_reply(Duration::from_secs(5))
                .await
                .expect("message")
        ),
        "*3\r\n$7\r\nmessage\r\n$6\r\nnews.1\r\n$5\r\nhello\r\n"
    );
    assert_eq!(
        show(
            &sub.try_read_reply(Duration::from_secs(5))
                .await
                .expect("pmessage")
        ),
        "*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$6\r\nnews.1\r\n$5\r\nhello\r\n"
    );
    // A user with no channel rule (a new user) reaches no channel; allchannels reaches all.
    expect(
        &mut c,
        &["ACL", "SETUSER", "nochan", "on", ">ncpw", "~*", "+@all"],
        ok(),
    )
    .await;
    let mut nc = login(&node, "nochan", "ncpw").await;
    expect_err(&mut nc, &["PUBLISH", "foo", "bar"], NOPERM_CHANNEL).await;
    expect(&mut c, &["ACL", "SETUSER", "nochan", "allchannels"], ok()).await;
    expect(&mut nc, &["PUBLISH", "foo", "bar"], int(0)).await;
    // In a transaction, a refused PUBLISH is refused when queued.
    expect(&mut u, &["MULTI"], ok()).await;
    expect_err(&mut u, &["PUBLISH", "notallowed", "x"], NOPERM_CHANNEL).await;
    expect_err(
        &mut u,
        &["EXEC"],
        "EXECABORT Transaction discarded because of previous errors.",
    )
    .await;
}
