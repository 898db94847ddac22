//! Deleting or disabling a user closes its connections on every node.

use std::time::Instant;

use redis::Value;
use redoubt_cluster_tests::cluster::set;

use super::*;

/// How long a deleted or disabled user's connections may stay open on any node.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Opens connections as a fresh user on every node, runs `revoke` (ACL command args, `{u}`
/// standing for the user) on `revoker`, and checks that every one of the user's connections is
/// closed within [`CLOSE_WAIT`] without running anything, while default-user and `bystander`
/// connections keep working and the user cannot AUTH anywhere.
async fn connections_are_closed_everywhere(
    cluster: &Cluster,
    phase: &str,
    revoker: usize,
    revoke: &[&str],
    bystander: (&str, &str),
) {
    let ids = cluster.members();
    let leader = cluster.leader().await;
    let user = format!("closing-{phase}");
    let pass = secret("closingpw");
    let rule = format!(">{pass}");
    let mut admin = cluster.client(leader).await;
    ok(
        cluster,
        &mut admin,
        leader,
        &["ACL", "SETUSER", &user, "on", &rule, "~*", "+@all"],
    )
    .await;
    let mut theirs: Vec<(usize, MultiplexedConnection)> = Vec::new();
    let mut defaults = Vec::new();
    let mut bystanders = Vec::new();
    for id in &ids {
        for k in 0..2 {
            let mut c = connect_as(cluster, *id, &user, &pass).await;
            set(&mut c, *id, &format!("{user}:{id}:{k}"), "before").await;
            theirs.push((*id, c));
        }
        defaults.push((*id, cluster.client(*id).await));
        bystanders.push((
            *id,
            connect_as(cluster, *id, bystander.0, bystander.1).await,
        ));
    }

    let args: Vec<String> = revoke.iter().map(|a| a.replace("{u}", &user)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut r = cluster.client(revoker).await;
    let reply: RedisResult<Value> = call(&mut r, &args).await;
    assert!(
        matches!(&reply, Ok(Value::Okay) | Ok(Value::Int(1))),
        "{} on node {revoker} replied {reply:?}\n{}",
        shown(&args),
        cluster.diagnostics()
    );
    let revoked_at = Instant::now();

    let mut open: Vec<usize> = (0..theirs.len()).collect();
    let mut last: BTreeMap<usize, String> = BTreeMap::new();
    let mut executed = Vec::new();
    let mut probe_keys = Vec::new();
    let mut sweep = 0;
    while !open.is_empty() && revoked_at.elapsed() < CLOSE_WAIT {
        let mut still = Vec::new();
        for idx in open {
            let (id, c) = &mut theirs[idx];
            let key = format!("{user}:probe:{idx}:{sweep}");
            probe_keys.push(key.clone());
            let reply: RedisResult<String> = redis::cmd("SET")
                .arg(&key)
                .arg("after")
                .query_async(c)
                .await;
            match reply {
                Err(e) if is_closed(&e) => {}
                Ok(v) => {
                    executed.push(format!(
                        "connection {idx} on node {id}: SET {key} replied {v} {:?} after the \
                         revocation",
                        revoked_at.elapsed()
                    ));
                    last.insert(idx, format!("node {id}: {v}"));
                    still.push(idx);
                }
                Err(e) => {
                    last.insert(idx, format!("node {id}: {}", error_text(&e)));
                    still.push(idx);
                }
            }
        }
        open = still;
        sweep += 1;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        executed.is_empty(),
        "{phase}: {user}'s connections ran writes after `{}` returned OK:\n{}\n{}",
        shown(&args),
        executed.join("\n"),
        cluster.diagnostics()
    );
    assert!(
        open.is_empty(),
        "{phase}: {} of {user}'s {} connections are still open {CLOSE_WAIT:?} after `{}` on \
         node {revoker}; their last replies: {:?}\n{}",
        open.len(),
        theirs.len(),
        shown(&args),
        open.iter().map(|i| &last[i]).collect::<Vec<_>>(),
        cluster.diagnostics()
    );
    let mut l = cluster.client(leader).await;
    let present = exists_all(cluster, &mut l, leader, &probe_keys).await;
    let landed: Vec<&String> = probe_keys
        .iter()
        .zip(&present)
        .filter(|(_, p)| **p)
        .map(|(k, _)| k)
        .collect();
    assert!(
        landed.is_empty(),
        "{phase}: writes sent by {user} after the revocation exist: {landed:?}"
    );
    for (id, c) in defaults.iter_mut() {
        let pong: RedisResult<String> = call(c, &["PING"]).await;
        assert!(
            matches!(&pong, Ok(p) if p == "PONG"),
            "{phase}: a default-user connection on node {id} broke: {pong:?}\n{}",
            cluster.diagnostics()
        );
    }
    for (id, c) in bystanders.iter_mut() {
        set(c, *id, &format!("bystander:{phase}:{id}"), "still here").await;
    }
    for id in &ids {
        let mut c = cluster.client(*id).await;
        assert_error(
            call::<String>(&mut c, &["AUTH", &user, &pass]).await,
            "WRONGPASS",
            WRONGPASS,
            &format!("{phase}: AUTH {user} on node {id}"),
        );
    }
}

#[tokio::test]
async fn deleted_user_connections_closed_on_all_nodes() {
    let (cluster, leader) = started().await;
    let followers = cluster.followers().await;
    let bystander = ("bystander", secret("bystanderpw"));
    let mut admin = cluster.client(leader).await;
    let rule = format!(">{}", bystander.1);
    ok(
        &cluster,
        &mut admin,
        leader,
        &["ACL", "SETUSER", bystander.0, "on", &rule, "~*", "+@all"],
    )
    .await;
    // (phase, the node the revocation is sent to, the revocation)
    let revocations: [(&str, usize, &[&str]); 3] = [
        ("deluser", followers[0], &["ACL", "DELUSER", "{u}"]),
        ("off", followers[1], &["ACL", "SETUSER", "{u}", "off"]),
        ("off-on-leader", leader, &["ACL", "SETUSER", "{u}", "off"]),
    ];
    for (phase, revoker, revoke) in revocations {
        connections_are_closed_everywhere(
            &cluster,
            phase,
            revoker,
            revoke,
            (bystander.0, &bystander.1),
        )
        .await;
    }
}
