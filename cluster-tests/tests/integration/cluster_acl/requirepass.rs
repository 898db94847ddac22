//! `requirepass`, set at run time on one node or given at start, is required on every node.

use std::collections::BTreeSet;
use std::time::Instant;

use redoubt_cluster_tests::cluster::{get, parse_info, set};

use super::*;

/// The detail of `-ERR` for `AUTH <password>` when `default` has no password.
const AUTH_WITHOUT_PASSWORD: &str = "AUTH <password> called without any password configured for \
     the default user. Are you sure your configuration is correct?";

/// What a connection without the password gets, command by command: refusals, never a reply.
const WITHOUT_THE_PASSWORD: [(&[&str], &str, &str); 3] = [
    (&["PING"], "NOAUTH", NOAUTH),
    (&["SET", "unauthenticated", "x"], "NOAUTH", NOAUTH),
    (&["AUTH", "not-the-password"], "WRONGPASS", WRONGPASS),
];

/// Sends each of [`WITHOUT_THE_PASSWORD`] on `c`, a connection to node `id` that has not
/// authenticated, and asserts its refusal.
async fn refused_without_the_password(c: &mut MultiplexedConnection, id: usize, when: &str) {
    for (args, code, detail) in WITHOUT_THE_PASSWORD {
        assert_error(
            call::<String>(c, args).await,
            code,
            detail,
            &format!(
                "{} on node {id} without the password, {when}",
                args.join(" ")
            ),
        );
    }
}

#[tokio::test]
async fn requirepass_is_replicated() {
    // The harness's own clients (leader polls) connect without AUTH, so the cluster starts
    // without a password and gets one through CONFIG SET; no harness wait runs while it is set.
    let (cluster, _) = started().await;
    let ids = cluster.members();
    let pw = secret("requirepass");
    let mut c2 = cluster.client(2).await;
    ok(&cluster, &mut c2, 2, &["CONFIG", "SET", "requirepass", &pw]).await;
    for id in [3, 1, 2] {
        // AUTH sees the new password at once (it reads the replicated state with a barrier)...
        let mut c = cluster.client(id).await;
        match call::<String>(&mut c, &["AUTH", &pw]).await {
            Ok(r) if r == "OK" => {}
            other => panic!(
                "AUTH <requirepass> on node {id} right after CONFIG SET requirepass on node 2 \
                 replied {other:?}\n{}",
                cluster.diagnostics()
            ),
        }
        set(&mut c, id, &format!("rp:{id}"), "v").await;
        // ... and from then on this node refuses connections without it.
        let mut anon = cluster.client(id).await;
        refused_without_the_password(&mut anon, id, "after CONFIG SET requirepass on node 2").await;
        let mut two = cluster.client(id).await;
        ok(&cluster, &mut two, id, &["AUTH", "default", &pw]).await;
        let mut by_url = connect_as(&cluster, id, "", &pw).await;
        let pong: String = call(&mut by_url, &["PING"])
            .await
            .unwrap_or_else(|e| panic!("PING on node {id} with the password in the URL: {e}"));
        assert_eq!(pong, "PONG");
    }
    let mut on1 = connect_as(&cluster, 1, "", &pw).await;
    for id in &ids {
        assert_eq!(
            get(&mut on1, 1, &format!("rp:{id}")).await.as_deref(),
            Some("v")
        );
    }
    // Back to no password, from another node.
    ok(&cluster, &mut on1, 1, &["CONFIG", "SET", "requirepass", ""]).await;
    for id in [2, 3, 1] {
        let mut c = cluster.client(id).await;
        assert_error(
            call::<String>(&mut c, &["AUTH", &pw]).await,
            "ERR",
            AUTH_WITHOUT_PASSWORD,
            &format!("AUTH <old password> on node {id} right after requirepass was cleared"),
        );
        let mut anon = cluster.client(id).await;
        let pong: RedisResult<String> = call(&mut anon, &["PING"]).await;
        assert!(
            matches!(&pong, Ok(p) if p == "PONG"),
            "PING without AUTH on node {id} after CONFIG SET requirepass \"\" on node 1: {pong:?}"
        );
    }
    cluster.wait_for_leader(LEADER_TIMEOUT).await;
}

/// Polls `INFO replication` on every node, authenticated with `pw`, until all name the same
/// leader and it says it leads.
async fn wait_leader_with_password(cluster: &Cluster, pw: &str) -> usize {
    let deadline = Instant::now() + LEADER_TIMEOUT;
    loop {
        let mut views = BTreeMap::new();
        for id in cluster.members() {
            let url = format!("redis://:{pw}@127.0.0.1:{}/", cluster.node(id).port());
            let view = tokio::time::timeout(Duration::from_secs(2), async {
                let mut c = connect(&url).await.map_err(|e| e.to_string())?;
                call::<String>(&mut c, &["INFO", "replication"])
                    .await
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|_| "timeout".to_string())
            .and_then(|r| r)
            .map(|text| parse_info(&text));
            views.insert(id, view);
        }
        let leaders: BTreeSet<Option<String>> = views
            .values()
            .map(|v| {
                v.as_ref()
                    .ok()
                    .and_then(|i| i.get("raft_leader_id").cloned())
            })
            .collect();
        if let [Some(l)] = leaders.iter().collect::<Vec<_>>()[..] {
            if let Ok(l) = l.trim().parse::<usize>() {
                let leads = matches!(views.get(&l), Some(Ok(i))
                    if i.get("raft_state").map(String::as_str) == Some("leader"));
                if leads {
                    return l;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no leader agreed on with requirepass set; views: {views:?}\n{}",
            cluster.diagnostics()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn requirepass_given_at_start_is_required_on_every_node() {
    let pw = secret("startpw");
    let cluster = Cluster::start(3, ClusterOptions::new().arg("requirepass", pw.clone()));
    let leader = wait_leader_with_password(&cluster, &pw).await;
    let ids = cluster.members();
    let mut authed = BTreeMap::new();
    for id in &ids {
        let mut c = cluster.client(*id).await;
        refused_without_the_password(&mut c, *id, "in a cluster started with requirepass").await;
        ok(&cluster, &mut c, *id, &["AUTH", &pw]).await;
        authed.insert(*id, c);
    }
    let mut l = connect_as(&cluster, leader, "", &pw).await;
    set(&mut l, leader, "started-with-password", "1").await;
    for (id, c) in authed.iter_mut() {
        assert_eq!(
            get(c, *id, "started-with-password").await.as_deref(),
            Some("1"),
            "node {id}"
        );
    }
    let list = assert_same_acl_list(&cluster, &mut authed, "requirepass at start").await;
    let default = user_line(&list, "default")
        .unwrap_or_else(|| panic!("no default user in ACL LIST: {list:#?}"));
    assert!(
        !default.contains("nopass") && default.contains(" #"),
        "the default user of a cluster started with requirepass: {default}"
    );
}
