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
        &["ACL", "DRYRUN", "command-test", "GET", "read"],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "SET", "rw1", "v"],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "SET", "read", "v"],
        b("User command-test has no permissions to access the 'read' key"),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "GET", "write"],
        b("User command-test has no permissions to access the 'write' key"),
    )
    .await;
    expect_err(
        &mut c,
        &["ACL", "DRYRUN", "not-a-user", "GET", "read"],
        "ERR User 'not-a-user' not found",
    )
    .await;
    expect_err(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "not-a-command", "read"],
        "ERR Command 'not-a-command' not found",
    )
    .await;
    // Commands that process the data of their keys need read access (acl-v2.tcl
    // "Intersection cardinality commands are access commands").
    expect(
        &mut c,
        &[
            "ACL",
            "DRYRUN",
            "command-test",
            "SINTERCARD",
            "2",
            "read",
            "read",
        ],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &[
            "ACL",
            "DRYRUN",
            "command-test",
            "SINTERCARD",
            "2",
            "write",
            "read",
        ],
        b("User command-test has no permissions to access the 'write' key"),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "ZCOUNT", "read", "0", "1"],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &[
            "ACL",
            "DRYRUN",
            "command-test",
            "ZCOUNT",
            "nothing",
            "0",
            "1",
        ],
        b("User command-test has no permissions to access the 'nothing' key"),
    )
    .await;
    // Existence tests need read or write access (acl-v2.tcl "Existence test commands are not
    // marked as access").
    for cmd in ["HEXISTS", "SISMEMBER"] {
        expect(
            &mut c,
            &["ACL", "DRYRUN", "command-test", cmd, "read", "foo"],
            ok(),
        )
        .await;
        expect(
            &mut c,
            &["ACL", "DRYRUN", "command-test", cmd, "write", "foo"],
            ok(),
        )
        .await;
        expect(
            &mut c,
            &["ACL", "DRYRUN", "command-test", cmd, "nothing", "foo"],
            b("User command-test has no permissions to access the 'nothing' key"),
        )
        .await;
    }
    // Command and channel refusals.
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
    expect(&mut c, &["ACL", "DRYRUN", "dry", "GET", "k"], ok()).await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "dry", "SET", "k", "v"],
        b("User dry has no permissions to run the 'set' command"),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "dry", "CONFIG", "GET", "port"],
        b("User dry has no permissions to run the 'config|get' command"),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "dry", "PUBLISH", "ok", "m"],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "dry", "PUBLISH", "bar", "m"],
        b("User dry has no permissions to access the 'bar' channel"),
    )
    .await;
    // DRYRUN runs nothing and logs nothing.
    expect(&mut c, &["EXISTS", "k"], int(0)).await;
    assert_eq!(
        acl_log(&mut c, &[]).await.len(),
        0,
        "DRYRUN wrote to ACL LOG"
    );
}
