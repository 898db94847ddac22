//! Key patterns (~, %R~, %W~) and channel patterns (&) on real commands.

use std::time::Duration;

use crate::acl_common::*;
use crate::common::*;

/// %R~ / %W~ / ~ patterns on real commands (port of acl-v2.tcl "Test separate read/write
/// permission" and the brief's COPY / SINTERSTORE cases).
#[tokio::test]
async fn key_patterns_by_access() {
    let (node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["SET", "ro:str", "bar"], Ok(ok())),
            (&["SADD", "ro:a", "x", "y"], Ok(int(2))),
            (&["SADD", "ro:b", "y", "z"], Ok(int(2))),
            (
                &[
                    "ACL", "SETUSER", "kp", "on", ">kppw", "+@all", "&*", "%R~ro:*", "%W~wo:*",
                    "%RW~rw:*",
                ],
                Ok(ok()),
            ),
        ],
    )
    .await;
    assert_eq!(
        field_text(&getuser(&mut c, "kp").await, "keys"),
        "%R~ro:* %W~wo:* ~rw:*"
    );
    let mut u = login(&node, "kp", "kppw").await;
    expect_each(
        &mut u,
        &[
            (&["PING"], Ok(simple("PONG"))),
            // Read-only pattern: reads yes, writes no.
            (&["GET", "ro:str"], Ok(b("bar"))),
            (&["SMEMBERS", "ro:nothing"], Ok(arr(vec![]))),
            (&["SET", "ro:str", "v"], Err(NOPERM_KEY)),
            (&["DEL", "ro:str"], Err(NOPERM_KEY)),
            (&["APPEND", "ro:str", "x"], Err(NOPERM_KEY)),
            // Write-only pattern: inserts yes, reads no.
            (&["LPUSH", "wo:list", "10"], Ok(int(1))),
            (&["GET", "wo:str"], Err(NOPERM_KEY)),
            (&["LRANGE", "wo:list", "0", "-1"], Err(NOPERM_KEY)),
            // Neither.
            (&["GET", "other"], Err(NOPERM_KEY)),
            (&["LPUSH", "notwrite", "10"], Err(NOPERM_KEY)),
            // ~ is both.
            (&["SET", "rw:x", "1"], Ok(ok())),
            (&["GET", "rw:x"], Ok(b("1"))),
            // Multi-key commands: every key is checked.
            (&["MGET", "ro:str", "rw:x"], Ok(bulks(&["bar", "1"]))),
            (&["MGET", "ro:str", "other"], Err(NOPERM_KEY)),
            // COPY reads its source and writes its destination.
            (&["COPY", "ro:str", "wo:copy"], Ok(int(1))),
            (&["COPY", "wo:copy", "ro:copy2"], Err(NOPERM_KEY)),
            (&["COPY", "ro:str", "ro:copy3"], Err(NOPERM_KEY)),
        ],
    )
    .await;
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
    expect_each(
        &mut c,
        &[
            (&["EXISTS", "ro:dst"], Ok(int(0))),
            // Nothing refused was done.
            (&["GET", "ro:str"], Ok(b("bar"))),
            (&["EXISTS", "ro:copy2", "ro:copy3"], Ok(int(0))),
            // A user without key patterns reaches no key, whatever the command (acl.tcl "By default
            // users are not able to access any key").
            (
                &["ACL", "SETUSER", "nokeys", "on", ">nkpw", "+set", "+ping"],
                Ok(ok()),
            ),
        ],
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
    expect_each(
        &mut nk,
        &[
            (&["SET", "foo:1", "a"], Ok(ok())),
            (&["SET", "bar:2", "b"], Ok(ok())),
            (&["SET", "zap:3", "c"], Err(NOPERM_KEY)),
        ],
    )
    .await;
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
    expect_each(
        &mut u,
        &[
            (&["PUBLISH", "news.1", "m"], Ok(int(0))),
            (&["PUBLISH", "exact", "m"], Ok(int(0))),
            (&["PUBLISH", "other", "m"], Err(NOPERM_CHANNEL)),
            (&["PUBLISH", "exact2", "m"], Err(NOPERM_CHANNEL)),
        ],
    )
    .await;

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
    expect_each(
        &mut u,
        &[
            (&["MULTI"], Ok(ok())),
            (&["PUBLISH", "notallowed", "x"], Err(NOPERM_CHANNEL)),
            (
                &["EXEC"],
                Err("EXECABORT Transaction discarded because of previous errors."),
            ),
        ],
    )
    .await;
}
