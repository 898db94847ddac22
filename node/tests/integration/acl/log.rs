//! ACL LOG entries and the INFO stats denial counters.

use std::time::Duration;

use crate::acl_common::*;
use crate::common::*;

/// Port of acl.tcl's ACL LOG tests (Redis 7.2 fields).
#[tokio::test]
async fn acl_log_records_command_key_channel_and_auth_denials() {
    let (node, mut c) = start().await;
    expect(&mut c, &["ACL", "LOG", "RESET"], ok()).await;
    assert_eq!(acl_log(&mut c, &[]).await.len(), 0);
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "antirez",
            ">foo",
            "on",
            "+set",
            "~object:1234",
            "+multi",
            "+exec",
            "resetchannels",
            "+publish",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "antirez", "foo").await;
    expect_err(&mut u, &["GET", "foo"], &noperm_cmd("antirez", "get")).await;
    let log = acl_log(&mut c, &[]).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let e = &log[0];
    assert_eq!(
        field_names(e),
        [
            "count",
            "reason",
            "context",
            "object",
            "username",
            "age-seconds",
            "client-info",
            "entry-id",
            "timestamp-created",
            "timestamp-last-updated"
        ]
    );
    assert_eq!(field_int(e, "count"), 1);
    assert_eq!(field_text(e, "reason"), "command");
    assert_eq!(field_text(e, "context"), "toplevel");
    assert_eq!(field_text(e, "object"), "get");
    assert_eq!(field_text(e, "username"), "antirez");
    let age: f64 = field_text(e, "age-seconds")
        .parse()
        .expect("age-seconds is a number");
    assert!((0.0..60.0).contains(&age), "age-seconds {age}");
    let info = field_text(e, "client-info");
    assert!(info.contains("cmd=get"), "client-info: {info}");
    assert!(info.contains("user=antirez"), "client-info: {info}");
    assert!(info.contains("addr=127.0.0.1:"), "client-info: {info}");
    let first_id = field_int(e, "entry-id");
    let created = field_int(e, "timestamp-created");
    assert_eq!(field_int(e, "timestamp-last-updated"), created);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    assert!(
        (now_ms - 60_000..=now_ms + 1000).contains(&created),
        "timestamp-created {created} is not about now ({now_ms}), in ms"
    );

    // The same denial again: one entry, counted, updated.
    tokio::time::sleep(Duration::from_millis(20)).await;
    expect_err(&mut u, &["GET", "foo"], &noperm_cmd("antirez", "get")).await;
    expect_err(&mut u, &["GET", "foo"], &noperm_cmd("antirez", "get")).await;
    let log = acl_log(&mut c, &[]).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(field_int(&log[0], "count"), 3);
    assert_eq!(field_int(&log[0], "entry-id"), first_id);
    assert_eq!(field_int(&log[0], "timestamp-created"), created);
    assert!(
        field_int(&log[0], "timestamp-last-updated") > created,
        "timestamp-last-updated did not move: {log:?}"
    );

    // A key denial names the key.
    expect_err(&mut u, &["SET", "somekeynotallowed", "1234"], NOPERM_KEY).await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "reason"), "key");
    assert_eq!(field_text(e, "object"), "somekeynotallowed");
    assert_eq!(field_text(e, "username"), "antirez");
    assert_eq!(field_int(e, "entry-id"), first_id + 1);
    assert!(field_text(e, "client-info").contains("cmd=set"));

    // A channel denial names the channel.
    expect_err(
        &mut u,
        &["PUBLISH", "somechannelnotallowed", "nullmsg"],
        NOPERM_CHANNEL,
    )
    .await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "reason"), "channel");
    assert_eq!(field_text(e, "object"), "somechannelnotallowed");
    assert_eq!(field_int(e, "entry-id"), first_id + 2);

    // Newest first; ACL LOG <n> shows the n newest.
    let log = acl_log(&mut c, &[]).await;
    let reasons: Vec<String> = log.iter().map(|e| field_text(e, "reason")).collect();
    assert_eq!(reasons, ["channel", "key", "command"]);
    let one = acl_log(&mut c, &["1"]).await;
    assert_eq!(one.len(), 1);
    assert_eq!(field_text(&one[0], "reason"), "channel");
    assert_eq!(acl_log(&mut c, &["2"]).await.len(), 2);

    // Inside MULTI: refused when queued, context multi.
    expect_each(
        &mut u,
        &[
            (&["MULTI"], Ok(ok())),
            (&["INCR", "foo"], Err(&noperm_cmd("antirez", "incr"))),
            (
                &["EXEC"],
                Err("EXECABORT Transaction discarded because of previous errors."),
            ),
        ],
    )
    .await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "context"), "multi");
    assert_eq!(field_text(e, "object"), "incr");
    assert_eq!(field_text(e, "reason"), "command");

    // A failed AUTH: reason auth, object AUTH, the user name tried.
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"antirez", b"wrong-password"]).await),
        format!("-{WRONGPASS}\r\n")
    );
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "context"), "toplevel");
    assert_eq!(field_text(e, "reason"), "auth");
    assert_eq!(field_text(e, "object"), "AUTH");
    assert_eq!(field_text(e, "username"), "antirez");
    assert_eq!(field_int(e, "count"), 1);
    // A failed AUTH for a user that does not exist is logged too.
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"notrealuser", b"1233456"]).await),
        format!("-{WRONGPASS}\r\n")
    );
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "reason"), "auth");
    assert_eq!(field_text(e, "username"), "notrealuser");
    // The log never shows a password.
    let whole = format!("{:?}", q(&mut c, &["ACL", "LOG"]).await);
    assert!(
        !whole.contains("wrong-password") && !whole.contains("1233456"),
        "{whole}"
    );

    expect(&mut c, &["ACL", "LOG", "RESET"], ok()).await;
    assert_eq!(acl_log(&mut c, &[]).await.len(), 0);
}

/// Port of acl-v2.tcl "Test ACL log correctly identifies the relevant item when selectors are
/// used".
#[tokio::test]
async fn acl_log_names_the_relevant_item_with_selectors() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &["ACL", "SETUSER", "acl-log-test-selector", "on", "nopass"],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "acl-log-test-selector",
            "+mget",
            "~key",
            "(+mget ~key ~otherkey)",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "acl-log-test-selector", "password").await;
    expect(&mut c, &["ACL", "LOG", "RESET"], ok()).await;
    expect_err(
        &mut u,
        &["GET", "key"],
        &noperm_cmd("acl-log-test-selector", "get"),
    )
    .await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "username"), "acl-log-test-selector");
    assert_eq!(field_text(e, "context"), "toplevel");
    assert_eq!(field_text(e, "reason"), "command");
    assert_eq!(field_text(e, "object"), "get");

    expect(&mut c, &["ACL", "LOG", "RESET"], ok()).await;
    expect_err(&mut u, &["MGET", "otherkey", "someotherkey"], NOPERM_KEY).await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "reason"), "key");
    assert_eq!(field_text(e, "object"), "someotherkey");

    expect(&mut c, &["ACL", "LOG", "RESET"], ok()).await;
    expect_err(
        &mut u,
        &["MGET", "key", "otherkey", "someotherkey"],
        NOPERM_KEY,
    )
    .await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "reason"), "key");
    assert_eq!(field_text(e, "object"), "someotherkey");
}

/// INFO stats counts each kind of denial (port of acl.tcl "ACL-Metrics ...").
#[tokio::test]
async fn info_stats_counts_denials_by_kind() {
    let (node, mut c) = start().await;
    let names = [
        "acl_access_denied_auth",
        "acl_access_denied_cmd",
        "acl_access_denied_key",
        "acl_access_denied_channel",
    ];
    async fn counters(c: &mut MultiplexedConnection, names: &[&str]) -> Vec<i64> {
        let mut out = Vec::new();
        for n in names {
            out.push(info_number(c, "stats", n).await);
        }
        out
    }
    let start_counts = counters(&mut c, &names).await;
    assert_eq!(
        start_counts,
        [0, 0, 0, 0],
        "a fresh node has denied nothing"
    );

    // Auth: AUTH, HELLO 3 AUTH and HELLO 2 AUTH failures, each counted at once.
    let mut raw = RawConn::connect(node.port()).await;
    let failed_auths: [(&[&[u8]], [i64; 4]); 3] = [
        (&[b"AUTH", b"notrealuser", b"1233456"], [1, 0, 0, 0]),
        (
            &[b"HELLO", b"3", b"AUTH", b"notrealuser", b"1233456"],
            [2, 0, 0, 0],
        ),
        (
            &[b"HELLO", b"2", b"AUTH", b"notrealuser", b"1233456"],
            [3, 0, 0, 0],
        ),
    ];
    for (argv, counts) in failed_auths {
        assert_eq!(
            show(&raw.call(argv).await),
            format!("-{WRONGPASS}\r\n"),
            "{}",
            show(&argv.join(&b' '))
        );
        assert_eq!(
            counters(&mut c, &names).await,
            counts,
            "after {}",
            show(&argv.join(&b' '))
        );
    }

    // Command, key and channel: a user allowed everything but that, refused it once.
    /// (user, its rules, a command it may not run, the refusal, the counters after it)
    type Denial<'a> = (&'a str, &'a [&'a str], &'a [&'a str], String, [i64; 4]);
    let denials: [Denial; 3] = [
        (
            "invalidcmduser",
            &["nocommands"],
            &["ACL", "LIST"],
            noperm_cmd("invalidcmduser", "acl|list"),
            [3, 1, 0, 0],
        ),
        (
            "invalidkeyuser",
            &["resetkeys", "allcommands"],
            &["GET", "x"],
            NOPERM_KEY.to_string(),
            [3, 1, 1, 0],
        ),
        (
            "invalidchanneluser",
            &["resetchannels", "allcommands"],
            &["PUBLISH", "x", "m"],
            NOPERM_CHANNEL.to_string(),
            [3, 1, 1, 1],
        ),
    ];
    for (user, rules, command, refusal, counts) in &denials {
        let mut setuser = vec!["ACL", "SETUSER", user, "on", ">passwd"];
        setuser.extend_from_slice(rules);
        expect(&mut c, &setuser, ok()).await;
        let mut u = login(&node, user, "passwd").await;
        expect_err(&mut u, command, refusal).await;
        assert_eq!(
            counters(&mut c, &names).await,
            *counts,
            "after {command:?} by {user}"
        );
    }
    // DRYRUN is not a denial.
    let _ = q(&mut c, &["ACL", "DRYRUN", "invalidcmduser", "GET", "x"]).await;
    assert_eq!(counters(&mut c, &names).await, [3, 1, 1, 1]);
}
