//! EXEC of queued commands whose rights were revoked (or not) after they were queued.

use std::time::Duration;

use crate::acl_common::*;
use crate::common::*;

/// Redis 7's reply, at EXEC, for a queued command the rules no longer allow.
fn changed_since_queued(reason: &str) -> String {
    format!("-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}\r\n")
}

/// Queues CONFIG SET maxclients 4242, CLIENT KILL ID <victim> and SET k v in a MULTI of user
/// `u` (+@all ~*), runs `between` on an admin connection, then EXEC. The raw EXEC reply,
/// with the admin connection and the victim's connection.
async fn exec_after(between: &[&str]) -> (NodeProcess, MultiplexedConnection, RawConn, String) {
    let (node, mut admin) = start().await;
    expect(
        &mut admin,
        &["ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*"],
        ok(),
    )
    .await;
    let mut victim = RawConn::connect(node.port()).await;
    let reply = show(&victim.call(&[b"CLIENT", b"ID"]).await);
    let victim_id = reply
        .strip_prefix(':')
        .and_then(|r| r.trim_end().parse::<i64>().ok())
        .unwrap_or_else(|| panic!("CLIENT ID replied {reply:?}"))
        .to_string();
    let mut u = raw_auth(&node, &["u", "pw"]).await;
    assert_eq!(show(&u.call(&[b"MULTI"]).await), "+OK\r\n");
    for cmd in [
        &[&b"CONFIG"[..], b"SET", b"maxclients", b"4242"][..],
        &[b"CLIENT", b"KILL", b"ID", victim_id.as_bytes()],
        &[b"SET", b"k", b"v"],
    ] {
        assert_eq!(show(&u.call(cmd).await), "+QUEUED\r\n", "{cmd:?}");
    }
    expect(&mut admin, &["ACL", "LOG", "RESET"], ok()).await;
    if !between.is_empty() {
        expect(&mut admin, between, ok()).await;
    }
    let exec = show(&u.call(&[b"EXEC"]).await);
    (node, admin, victim, exec)
}

#[tokio::test]
async fn exec_refuses_queued_server_commands_whose_rights_were_revoked() {
    let (node, mut admin, mut victim, exec) =
        exec_after(&["ACL", "SETUSER", "u", "-config", "-client", "-set"]).await;
    let refused = changed_since_queued("no permission to execute the command or subcommand");
    assert_eq!(
        exec,
        format!("*3\r\n{refused}{refused}{refused}"),
        "EXEC after the revocation\n{}",
        node.diagnostics()
    );
    // None of them ran.
    expect(
        &mut admin,
        &["CONFIG", "GET", "maxclients"],
        bulks(&["maxclients", "10000"]),
    )
    .await;
    assert_eq!(show(&victim.call(&[b"PING"]).await), "+PONG\r\n");
    expect(&mut admin, &["EXISTS", "k"], int(0)).await;
    // Each refusal is in ACL LOG, in context multi, in the order EXEC met them.
    let log = acl_log(&mut admin, &[]).await;
    let described: Vec<(String, String, String, String)> = log
        .iter()
        .map(|e| {
            (
                field_text(e, "reason"),
                field_text(e, "context"),
                field_text(e, "object"),
                field_text(e, "username"),
            )
        })
        .collect();
    let entry = |object: &str| {
        (
            "command".to_string(),
            "multi".to_string(),
            object.to_string(),
            "u".to_string(),
        )
    };
    assert_eq!(
        described,
        [entry("set"), entry("client|kill"), entry("config|set")]
    );
}

#[tokio::test]
async fn exec_runs_queued_server_commands_when_nothing_was_revoked() {
    let (node, mut admin, mut victim, exec) = exec_after(&[]).await;
    assert_eq!(
        exec,
        "*3\r\n+OK\r\n:1\r\n+OK\r\n",
        "EXEC with the rights unchanged\n{}",
        node.diagnostics()
    );
    expect(
        &mut admin,
        &["CONFIG", "GET", "maxclients"],
        bulks(&["maxclients", "4242"]),
    )
    .await;
    // The killed client's connection is closed.
    victim.read_until_closed(Duration::from_secs(10)).await;
    expect(&mut admin, &["GET", "k"], b("v")).await;
    assert_eq!(acl_log(&mut admin, &[]).await.len(), 0);
}
