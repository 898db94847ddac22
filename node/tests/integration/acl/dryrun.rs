//! ACL DRYRUN: OK, or why a user may not run a command, without running or logging it.

use crate::acl_common::*;
use crate::common::*;

#[tokio::test]
async fn dryrun_says_ok_or_why_not() {
    let (_node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "command-test",
            "+@all",
            "%R~read*",
            "%W~write*",
            "%RW~rw*",
        ],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "dry",
            "on",
            "nopass",
            "~*",
            "-@all",
            "+get",
            "+publish",
            "resetchannels",
            "&ok",
        ],
        ok(),
    )
    .await;
    let no_key = |key: &str| {
        Ok(b(&format!(
            "User command-test has no permissions to access the '{key}' key"
        )))
    };
    // (user, command, what ACL DRYRUN <user> <command> answers)
    let cases: &[(&str, &[&str], Result<Value, &str>)] = &[
        ("command-test", &["GET", "read"], Ok(ok())),
        ("command-test", &["SET", "rw1", "v"], Ok(ok())),
        ("command-test", &["SET", "read", "v"], no_key("read")),
        ("command-test", &["GET", "write"], no_key("write")),
        (
            "not-a-user",
            &["GET", "read"],
            Err("ERR User 'not-a-user' not found"),
        ),
        (
            "command-test",
            &["not-a-command", "read"],
            Err("ERR Command 'not-a-command' not found"),
        ),
        // Commands that process the data of their keys need read access (acl-v2.tcl
        // "Intersection cardinality commands are access commands").
        (
            "command-test",
            &["SINTERCARD", "2", "read", "read"],
            Ok(ok()),
        ),
        (
            "command-test",
            &["SINTERCARD", "2", "write", "read"],
            no_key("write"),
        ),
        ("command-test", &["ZCOUNT", "read", "0", "1"], Ok(ok())),
        (
            "command-test",
            &["ZCOUNT", "nothing", "0", "1"],
            no_key("nothing"),
        ),
        // Existence tests need read or write access (acl-v2.tcl "Existence test commands are
        // not marked as access").
        ("command-test", &["HEXISTS", "read", "foo"], Ok(ok())),
        ("command-test", &["HEXISTS", "write", "foo"], Ok(ok())),
        (
            "command-test",
            &["HEXISTS", "nothing", "foo"],
            no_key("nothing"),
        ),
        ("command-test", &["SISMEMBER", "read", "foo"], Ok(ok())),
        ("command-test", &["SISMEMBER", "write", "foo"], Ok(ok())),
        (
            "command-test",
            &["SISMEMBER", "nothing", "foo"],
            no_key("nothing"),
        ),
        // Command and channel refusals.
        ("dry", &["GET", "k"], Ok(ok())),
        (
            "dry",
            &["SET", "k", "v"],
            Ok(b("User dry has no permissions to run the 'set' command")),
        ),
        (
            "dry",
            &["CONFIG", "GET", "port"],
            Ok(b(
                "User dry has no permissions to run the 'config|get' command",
            )),
        ),
        ("dry", &["PUBLISH", "ok", "m"], Ok(ok())),
        (
            "dry",
            &["PUBLISH", "bar", "m"],
            Ok(b("User dry has no permissions to access the 'bar' channel")),
        ),
    ];
    for (user, command, want) in cases {
        let mut argv = vec!["ACL", "DRYRUN", user];
        argv.extend_from_slice(command);
        expect_result(&mut c, &argv, want).await;
    }
    // DRYRUN runs nothing and logs nothing.
    expect(&mut c, &["EXISTS", "k"], int(0)).await;
    assert_eq!(
        acl_log(&mut c, &[]).await.len(),
        0,
        "DRYRUN wrote to ACL LOG"
    );
}
