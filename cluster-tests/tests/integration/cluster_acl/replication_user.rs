//! The replication user: its password rotates without downtime, a node with the old one
//! cannot join, and changes that would lock the nodes out of each other are refused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use redis::Value;
use redoubt_cluster_tests::cluster::{get, set};
use redoubt_cluster_tests::NodeProcess;

use super::*;

/// How long a joiner with a stale password is watched: it must not become a member meanwhile.
const WATCH: Duration = Duration::from_secs(5);

/// SET through a follower while the replication password rotates: counts failures.
async fn steady_writer(
    mut c: MultiplexedConnection,
    prefix: String,
    stop: Arc<AtomicBool>,
) -> (u64, Vec<String>) {
    let mut n = 0u64;
    let mut failures = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let key = format!("{prefix}{n}");
        let r: RedisResult<String> = redis::cmd("SET").arg(&key).arg(n).query_async(&mut c).await;
        match r {
            Ok(s) if s == "OK" => {}
            other => failures.push(format!("SET {key}: {other:?}")),
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (n, failures)
}

/// Every node's ACL LIST line of `mu` (asserted identical); panics if a node lacks it.
async fn masteruser_line(
    cluster: &Cluster,
    admins: &mut BTreeMap<usize, MultiplexedConnection>,
    mu: &str,
    what: &str,
) -> String {
    let list = assert_same_acl_list(cluster, admins, what).await;
    user_line(&list, mu)
        .cloned()
        .unwrap_or_else(|| panic!("{what}: ACL LIST has no line for {mu}: {list:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replication_user() {
    let (mut cluster, leader) = started().await;
    let followers = cluster.followers().await;
    let ids = cluster.members();
    let mut admins = admin_clients(&cluster).await;
    let mu = masteruser(admins.get_mut(&leader).expect("admin")).await;
    let line = masteruser_line(&cluster, &mut admins, &mu, "a fresh cluster").await;
    let tokens: Vec<&str> = line.split(' ').collect();
    assert!(
        tokens.contains(&"on") && tokens.contains(&"+psync") && !tokens.contains(&"nopass"),
        "the replication user: {line}"
    );
    let original_hashes = hash_tokens(&line);
    assert_eq!(original_hashes.len(), 1, "the replication user: {line}");
    assert!(
        !line.contains(cluster.masterauth()),
        "ACL LIST shows masterauth"
    );

    // Rotation, while a client writes through a follower.
    let old = cluster.masterauth().to_string();
    let new = secret("newmasterauth");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(steady_writer(
        cluster.client(followers[0]).await,
        "rotating:".into(),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let add = format!(">{new}");
    ok(
        &cluster,
        admins.get_mut(&followers[1]).expect("admin"),
        followers[1],
        &["ACL", "SETUSER", &mu, &add],
    )
    .await;
    let both = masteruser_line(&cluster, &mut admins, &mu, "after adding the new password").await;
    assert_eq!(
        hash_tokens(&both).len(),
        2,
        "{mu} with two passwords: {both}"
    );
    for id in &ids {
        ok(
            &cluster,
            admins.get_mut(id).expect("admin"),
            *id,
            &["CONFIG", "SET", "masterauth", &new],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let remove = format!("<{old}");
    ok(
        &cluster,
        admins.get_mut(&leader).expect("admin"),
        leader,
        &["ACL", "SETUSER", &mu, &remove],
    )
    .await;
    let rotated = masteruser_line(&cluster, &mut admins, &mu, "after removing the old one").await;
    let rotated_hashes = hash_tokens(&rotated);
    assert_eq!(
        rotated_hashes.len(),
        1,
        "{mu} after the rotation: {rotated}"
    );
    assert_ne!(
        rotated_hashes, original_hashes,
        "{mu} still has its old password"
    );
    // Heartbeats and appends run with the new password only now.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    let (n, failures) = writer.await.expect("writer task");
    assert!(n > 10, "the writer barely ran ({n} SETs)");
    assert!(
        failures.is_empty(),
        "{} of {n} SETs through node {} failed during the rotation: {:?}\n{}",
        failures.len(),
        followers[0],
        &failures[..failures.len().min(10)],
        cluster.diagnostics()
    );
    let mut l = cluster.client(leader).await;
    for round in 0..5 {
        let key = format!("after-rotation-{round}");
        set(&mut l, leader, &key, "v").await;
        for f in &followers {
            let c = admins.get_mut(f).expect("admin");
            assert_eq!(
                get(c, *f, &key).await.as_deref(),
                Some("v"),
                "node {f} after the rotation\n{}",
                cluster.diagnostics()
            );
        }
    }

    // A follower restarted with the new password catches up (restart would reuse the old one).
    let f = followers[0];
    cluster.stop(f);
    for i in 0..20 {
        set(&mut l, leader, &format!("while-down-{i}"), "v").await;
    }
    let old_process: NodeProcess = cluster.restart_with_masterauth(f, &new);
    cluster.wait_follows(f, CATCH_UP).await;
    cluster.wait_caught_up(f, CATCH_UP).await;
    let mut fc = cluster.client(f).await;
    for i in 0..20 {
        assert_eq!(
            get(&mut fc, f, &format!("while-down-{i}")).await.as_deref(),
            Some("v"),
            "node {f}, restarted with the new masterauth\n{}",
            cluster.diagnostics()
        );
    }

    // A node with the old password cannot join; the cluster serves meanwhile.
    let leader = cluster.leader().await;
    let target = cluster.node(leader).raft_addr().to_string();
    let stale = cluster.start_joiner(4, &target, &old);
    let follower = cluster.followers().await[0];
    let mut fw = cluster.client(follower).await;
    let watch_until = Instant::now() + WATCH;
    let mut round = 0;
    while Instant::now() < watch_until {
        set(
            &mut fw,
            follower,
            &format!("during-stale-join-{round}"),
            "v",
        )
        .await;
        for id in cluster.members() {
            let members = cluster
                .raft_members(id)
                .await
                .unwrap_or_else(|e| panic!("RAFT.INFO on node {id}: {e}"));
            assert!(
                !members.contains_key(&4),
                "node 4 with the old masterauth is a member according to node {id}: \
                 {members:?}\n{}\n===== node 4 =====\n{}",
                cluster.diagnostics(),
                stale.diagnostics()
            );
        }
        round += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(round > 0);
    drop(stale);

    // With the new password a node joins (so the refusal above was about the password).
    let fresh = cluster.start_joiner(5, &target, &new);
    cluster.adopt(5, fresh);
    cluster.wait_follows(5, CATCH_UP).await;
    cluster.wait_caught_up(5, CATCH_UP).await;
    let mut c5 = cluster.client(5).await;
    assert_eq!(get(&mut c5, 5, "while-down-19").await.as_deref(), Some("v"));
    let mut admins = admin_clients(&cluster).await;
    let joined = masteruser_line(&cluster, &mut admins, &mu, "after node 5 joined").await;
    assert_eq!(joined, rotated);
    drop(cluster);
    drop(old_process);
}

/// Changes that would lock every node out of its peers are refused, on any node, and the
/// cluster keeps replicating.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replication_user_cannot_be_made_unusable() {
    let (cluster, leader) = started().await;
    let followers = cluster.followers().await;
    let mut admins = admin_clients(&cluster).await;
    let mu = masteruser(admins.get_mut(&leader).expect("admin")).await;
    let before = masteruser_line(&cluster, &mut admins, &mu, "before").await;
    let locked_out = format!(
        "ERR The replication user '{mu}' must stay on, keep a password and keep +psync: the cluster's nodes authenticate with it"
    );
    for (id, rules) in [
        (leader, vec!["off"]),
        (followers[0], vec!["-psync"]),
        (followers[0], vec!["resetpass"]),
        (leader, vec!["nopass"]),
        (followers[1], vec!["reset"]),
        (leader, vec!["-@all"]),
    ] {
        let mut args = vec!["ACL", "SETUSER", mu.as_str()];
        args.extend(rules.iter().copied());
        let c = admins.get_mut(&id).expect("admin");
        match call::<Value>(c, &args).await {
            Err(e) => assert_eq!(error_text(&e), locked_out, "{args:?} on node {id}"),
            Ok(v) => panic!("{args:?} on node {id} was accepted: {v:?}"),
        }
    }
    let c = admins.get_mut(&followers[0]).expect("admin");
    match call::<Value>(c, &["ACL", "DELUSER", &mu]).await {
        Err(e) => assert!(
            error_text(&e).contains("cannot be removed"),
            "{}",
            error_text(&e)
        ),
        Ok(v) => panic!("ACL DELUSER of the replication user was accepted: {v:?}"),
    }
    // Nothing above changed the user; a harmless change passes.
    let after = masteruser_line(&cluster, &mut admins, &mu, "after the refusals").await;
    assert_eq!(after, before);
    ok(
        &cluster,
        admins.get_mut(&leader).expect("admin"),
        leader,
        &["ACL", "SETUSER", &mu, "+info"],
    )
    .await;
    let after = masteruser_line(&cluster, &mut admins, &mu, "after +info").await;
    assert_eq!(after, format!("{before} +info"));
    let mut l = cluster.client(leader).await;
    set(&mut l, leader, "still-replicating", "yes").await;
    for id in followers {
        let mut c = cluster.client(id).await;
        assert_eq!(
            get(&mut c, id, "still-replicating").await.as_deref(),
            Some("yes")
        );
    }
}
