//! Failures and membership changes of a three-node cluster: kill -9 of the leader under load,
//! catching up after a long absence (by snapshot), joining, a joiner with the wrong replication
//! password, removing a member, and the RAFT.* commands. Real processes and real clients; each
//! test starts its own cluster.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redoubt_cluster_tests::cluster::{
    get, is_retryable, parse_info, random_secret, set, Cluster, ClusterOptions, LEADER_TIMEOUT,
};
use redoubt_cluster_tests::connect;

/// Checks that node `id` returns `expected` for every key (MGET in chunks).
async fn assert_all_readable(
    cluster: &Cluster,
    id: usize,
    expected: &[(String, String)],
    what: &str,
) {
    let mut c = cluster.client(id).await;
    let mut missing = Vec::new();
    for chunk in expected.chunks(500) {
        let keys: Vec<&str> = chunk.iter().map(|(k, _)| k.as_str()).collect();
        let values: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut c)
            .await
            .unwrap_or_else(|e| panic!("MGET on node {id} failed: {e}\n{}", cluster.diagnostics()));
        for ((k, v), got) in chunk.iter().zip(values) {
            if got.as_deref() != Some(v.as_str()) {
                missing.push(format!("{k}={v} (got {got:?})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "node {id}: {} of {} {what} are missing or wrong, e.g. {:?}\n{}",
        missing.len(),
        expected.len(),
        &missing[..missing.len().min(10)],
        cluster.diagnostics()
    );
}

/// A field of `RAFT.INFO` on node `id`.
async fn raft_info_field(cluster: &Cluster, id: usize, field: &str) -> u64 {
    let text = cluster
        .raft_info(id)
        .await
        .unwrap_or_else(|e| panic!("RAFT.INFO on node {id}: {e}"));
    parse_info(&text)
        .get(field)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("RAFT.INFO on node {id} has no numeric {field}:\n{text}"))
}

/// Polls `check` every 50 ms until it holds; panics with `what` after `timeout`.
async fn eventually<F, Fut>(timeout: Duration, what: &str, cluster: &Cluster, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = check().await;
        if last.is_ok() {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "{what}: not true within {timeout:?}; last: {last:?}\n{}",
                cluster.diagnostics()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Everything a writer task saw: acknowledged (key, value) pairs and the errors it retried.
#[derive(Default)]
struct Load {
    acked: Mutex<Vec<(String, String)>>,
    acked_count: AtomicUsize,
    errors: Mutex<Vec<String>>,
}

/// Writes `w{writer}-{j}` for j in 0..count, round-robin over `urls` on errors, retrying each
/// key until it is acknowledged (or the deadline passes).
async fn writer(
    writer: usize,
    count: usize,
    urls: Vec<String>,
    load: Arc<Load>,
    deadline: Instant,
) {
    let mut which = writer % urls.len();
    let mut conn: Option<MultiplexedConnection> = None;
    for j in 0..count {
        let key = format!("w{writer}-{j}");
        let value = format!("v{writer}-{j}");
        loop {
            if Instant::now() > deadline {
                load.errors
                    .lock()
                    .unwrap()
                    .push(format!("writer {writer}: deadline passed at key {key}"));
                return;
            }
            let c = match conn.as_mut() {
                Some(c) => c,
                None => match connect(&urls[which]).await {
                    Ok(c) => conn.insert(c),
                    Err(e) => {
                        load.errors.lock().unwrap().push(format!("connect: {e}"));
                        which = (which + 1) % urls.len();
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                },
            };
            let r: redis::RedisResult<String> =
                redis::cmd("SET").arg(&key).arg(&value).query_async(c).await;
            match r {
                Ok(_) => {
                    load.acked
                        .lock()
                        .unwrap()
                        .push((key.clone(), value.clone()));
                    load.acked_count.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                Err(e) => {
                    load.errors
                        .lock()
                        .unwrap()
                        .push(format!("{key} via {}: {e}", urls[which]));
                    if !is_retryable(&e) {
                        // Unknown outcome (e.g. "ERR raft: ..."): the key is not counted as
                        // acknowledged; retrying SET is idempotent.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    conn = None;
                    which = (which + 1) % urls.len();
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_leader_under_load_loses_no_acknowledged_write() {
    let mut cluster = Cluster::start(3, ClusterOptions::new());
    let old = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let survivors = cluster.followers().await;
    let urls: Vec<String> = survivors.iter().map(|id| cluster.node(*id).url()).collect();
    let load = Arc::new(Load::default());
    let writers = 4;
    let per_writer = 400;
    let deadline = Instant::now() + Duration::from_secs(90);
    let tasks: Vec<_> = (0..writers)
        .map(|w| tokio::spawn(writer(w, per_writer, urls.clone(), load.clone(), deadline)))
        .collect();
    // Kill when the load is well under way.
    let started = Instant::now();
    while load.acked_count.load(Ordering::SeqCst) < 300 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the load did not reach 300 acknowledged writes in 30s (errors: {:?})\n{}",
            load.errors
                .lock()
                .unwrap()
                .iter()
                .take(10)
                .collect::<Vec<_>>(),
            cluster.diagnostics()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed_at = Instant::now();
    cluster.kill9(old);
    let acked_at_kill = load.acked_count.load(Ordering::SeqCst);
    let new = cluster.wait_for_leader(Duration::from_secs(15)).await;
    let election = killed_at.elapsed();
    println!("kill -9 of leader {old} -> new leader {new} agreed by the survivors in {election:?}");
    assert_ne!(new, old);
    assert!(
        election < Duration::from_secs(3),
        "a new leader took {election:?} (more than 3s) after kill -9 of the leader"
    );
    for t in tasks {
        t.await.expect("writer task");
    }
    let acked = load.acked.lock().unwrap().clone();
    let errors = load.errors.lock().unwrap().clone();
    // What clients heard during the fail-over, by kind (the text after "via <url>: ").
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for e in &errors {
        let kind = e.split_once(": ").map_or(e.as_str(), |(_, k)| k);
        *kinds.entry(kind.to_string()).or_default() += 1;
    }
    println!(
        "{} writes acknowledged ({acked_at_kill} before the kill), {} retried errors: {kinds:#?}",
        acked.len(),
        errors.len(),
    );
    assert_eq!(
        acked.len(),
        writers * per_writer,
        "the writers did not finish (errors: {:?})",
        &errors[errors.len().saturating_sub(10)..]
    );
    for id in &survivors {
        assert_all_readable(&cluster, *id, &acked, "acknowledged keys").await;
    }
    // Written while the old leader is down.
    let mut c = cluster.client(new).await;
    set(&mut c, new, "while-down", "yes").await;

    cluster.restart(old);
    cluster.wait_caught_up(old, Duration::from_secs(30)).await;
    let mut o = cluster.client(old).await;
    assert_eq!(
        get(&mut o, old, "while-down").await.as_deref(),
        Some("yes"),
        "the restarted node does not serve a key written while it was down"
    );
    assert_all_readable(&cluster, old, &acked, "acknowledged keys (restarted node)").await;
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    println!("after the restart the leader is node {leader}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_sent_just_after_the_leader_dies_wait_for_the_new_leader() {
    // The contract: during an election a command waits (up to about 3 s) for a leader and only
    // then answers TRYAGAIN. An election after kill -9 takes about 1 s here, so a write sent on a
    // follower right after the kill is served, not refused.
    let mut cluster = Cluster::start(3, ClusterOptions::new());
    let old = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let followers = cluster.followers().await;
    let mut clients = Vec::new();
    for f in &followers {
        let mut c = cluster.client(*f).await;
        set(&mut c, *f, "warm-up", "1").await;
        clients.push((*f, c));
    }
    cluster.kill9(old);
    let killed = Instant::now();
    let mut tasks = Vec::new();
    for (f, mut c) in clients {
        let mut reader = c.clone();
        tasks.push(tokio::spawn(async move {
            let set_cmd = redis::cmd("SET")
                .arg(format!("right-after-kill-{f}"))
                .arg("1")
                .clone();
            let get_cmd = redis::cmd("GET").arg("warm-up").clone();
            let write = async {
                let r = set_cmd.query_async::<String>(&mut c).await;
                (r.map(Some), killed.elapsed())
            };
            let read = async {
                let r = get_cmd.query_async::<Option<String>>(&mut reader).await;
                (r, killed.elapsed())
            };
            let (w, r) = tokio::join!(write, read);
            (f, w, r)
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        let (f, w, r) = t.await.expect("task");
        for (what, (result, took)) in [("SET", w), ("GET", r)] {
            println!(
                "{what} on node {f} right after kill -9 of the leader: {result:?} after {took:?}"
            );
            if result.is_err() {
                failures.push(format!("{what} on node {f}: {result:?} after {took:?}"));
            }
        }
    }
    let new = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    println!(
        "new leader: node {new}, {:?} after the kill",
        killed.elapsed()
    );
    if !failures.is_empty() {
        for id in cluster.ids() {
            let log = cluster.node(id).log();
            std::fs::write(format!("/tmp/dbg-node{id}.log"), log).ok();
        }
    }
    assert!(
        failures.is_empty(),
        "commands sent on followers right after the leader died were refused instead of waiting \
         for the election: {failures:?}"
    );
}

#[tokio::test]
async fn a_node_down_for_many_writes_catches_up_by_snapshot() {
    let mut cluster = Cluster::start(3, ClusterOptions::new().arg("raft-snapshot-logs", "200"));
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let victim = if leader == 3 { 2 } else { 3 };
    let mut l = cluster.client(leader).await;
    set(&mut l, leader, "before", "1").await;
    cluster
        .wait_caught_up(victim, Duration::from_secs(10))
        .await;
    let victim_index = cluster
        .raft_view(victim)
        .await
        .expect("INFO on the victim")
        .applied_index;
    cluster.stop(victim);

    // Pipelined batches (the leader may fold a batch into one entry), then single writes, until
    // the leader has purged the log past what the stopped node has: it can only catch up from a
    // snapshot then.
    let mut expected: Vec<(String, String)> = vec![("before".into(), "1".into())];
    for batch in 0..30 {
        let mut pipe = redis::pipe();
        for i in 0..100 {
            let (k, v) = (format!("s{batch}-{i}"), format!("{batch}:{i}"));
            pipe.cmd("SET").arg(&k).arg(&v).ignore();
            expected.push((k, v));
        }
        let () = pipe
            .query_async(&mut l)
            .await
            .unwrap_or_else(|e| panic!("pipelined SETs on the leader: {e}"));
    }
    let writes_started = Instant::now();
    let mut single = 0;
    loop {
        let purged = raft_info_field(&cluster, leader, "purged_index").await;
        if purged > victim_index + 1 {
            break;
        }
        assert!(
            writes_started.elapsed() < Duration::from_secs(90),
            "after {single} more single writes the leader's log is purged only up to {purged} \
             (the stopped node has {victim_index}); raft-snapshot-logs 200 does not purge\n{}",
            cluster.raft_info(leader).await.unwrap_or_default()
        );
        for _ in 0..50 {
            let (k, v) = (format!("one{single}"), single.to_string());
            set(&mut l, leader, &k, &v).await;
            expected.push((k, v));
            single += 1;
        }
    }
    let leader_info = cluster.raft_info(leader).await.expect("RAFT.INFO");
    println!(
        "{} keys written while node {victim} was down ({single} one by one); leader:\n{leader_info}",
        expected.len()
    );
    assert!(
        raft_info_field(&cluster, leader, "snapshot_index").await > 0,
        "no snapshot on the leader"
    );

    cluster.restart(victim);
    let (last_key, last_value) = expected.last().cloned().expect("keys");
    let converge_started = Instant::now();
    cluster
        .wait_caught_up(victim, Duration::from_secs(60))
        .await;
    println!(
        "node {victim} caught up in {:?}",
        converge_started.elapsed()
    );
    let mut v = cluster.client(victim).await;
    assert_eq!(get(&mut v, victim, &last_key).await, Some(last_value));
    let dbsize: i64 = redis::cmd("DBSIZE")
        .query_async(&mut v)
        .await
        .expect("DBSIZE on the caught-up node");
    assert_eq!(dbsize as usize, expected.len(), "DBSIZE on node {victim}");
    assert_all_readable(
        &cluster,
        victim,
        &expected,
        "keys written while it was down",
    )
    .await;
    let snapshot = raft_info_field(&cluster, victim, "snapshot_index").await;
    assert!(
        snapshot > victim_index,
        "node {victim} caught up although the leader purged its log, but RAFT.INFO shows no \
         installed snapshot (snapshot_index {snapshot})"
    );
    let log = cluster.node(victim).log();
    let mentions: Vec<&str> = log
        .lines()
        .filter(|l| l.to_ascii_lowercase().contains("snapshot"))
        .collect();
    println!(
        "node {victim}'s log mentions snapshots {} times{}",
        mentions.len(),
        mentions
            .first()
            .map(|l| format!(", e.g. {l}"))
            .unwrap_or_default()
    );
}

#[tokio::test]
async fn a_node_started_with_join_becomes_a_member_and_serves_old_data() {
    let mut cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let mut l = cluster.client(leader).await;
    let mut pipe = redis::pipe();
    let expected: Vec<(String, String)> = (0..300)
        .map(|i| (format!("old{i}"), format!("v{i}")))
        .collect();
    for (k, v) in &expected {
        pipe.cmd("SET").arg(k).arg(v).ignore();
    }
    let () = pipe.query_async(&mut l).await.expect("SETs");

    let id = cluster.add_node_via_join().await;
    assert_eq!(id, 4);
    let leader = cluster.leader().await;
    // RAFT.INFO on the leader lists it as a voter (learner first, then promoted).
    eventually(
        Duration::from_secs(10),
        "RAFT.INFO on the leader lists node 4 as a voter",
        &cluster,
        || async {
            let m = cluster
                .raft_members(leader)
                .await
                .map_err(|e| e.to_string())?;
            match m.get(&4).map(String::as_str) {
                Some("voter") => Ok(()),
                _ => Err(format!("members: {m:?}")),
            }
        },
    )
    .await;
    let view = cluster.raft_view(4).await.expect("INFO on node 4");
    assert_eq!(view.state, "follower");
    assert_eq!(view.leader_id, Some(leader));
    assert_all_readable(&cluster, 4, &expected, "keys written before it joined").await;
    // It takes writes too, and everyone sees them.
    let mut c4 = cluster.client(4).await;
    set(&mut c4, 4, "from-4", "hello").await;
    for id in cluster.members() {
        let mut c = cluster.client(id).await;
        assert_eq!(get(&mut c, id, "from-4").await.as_deref(), Some("hello"));
    }
}

#[tokio::test]
async fn a_joiner_with_the_wrong_masterauth_is_refused() {
    let cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let mut l = cluster.client(leader).await;
    set(&mut l, leader, "secret-data", "v").await;
    let wrong = random_secret();
    assert_ne!(wrong, cluster.masterauth());
    let target = cluster.node(leader).raft_addr().to_string();
    let intruder = cluster.start_joiner(4, &target, &wrong);

    // For 5 s: never a member, while the cluster keeps taking writes on every node.
    let watch_until = Instant::now() + Duration::from_secs(5);
    let mut clients = BTreeMap::new();
    for id in cluster.members() {
        clients.insert(id, cluster.client(id).await);
    }
    let mut round = 0;
    while Instant::now() < watch_until {
        for (id, c) in clients.iter_mut() {
            set(c, *id, &format!("during-{round}"), &id.to_string()).await;
        }
        let members = cluster
            .raft_members(leader)
            .await
            .unwrap_or_else(|e| panic!("RAFT.INFO on the leader: {e}"));
        assert!(
            !members.contains_key(&4),
            "node 4 with a wrong masterauth is a member: {members:?}\n{}",
            cluster.diagnostics()
        );
        round += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(cluster.wait_for_leader(LEADER_TIMEOUT).await, leader);

    // The intruder has no leader and no data: reads and writes fail (after the leader wait).
    let mut ir = connect(&intruder.url()).await.expect("connect to node 4");
    let mut iw = ir.clone();
    let get_cmd = redis::cmd("GET").arg("secret-data").clone();
    let set_cmd = redis::cmd("SET").arg("intruder").arg("x").clone();
    let (read, write) = tokio::join!(
        get_cmd.query_async::<Option<String>>(&mut ir),
        set_cmd.query_async::<String>(&mut iw),
    );
    assert!(
        read.is_err(),
        "GET on the refused node answered {read:?}\n{}",
        intruder.diagnostics()
    );
    assert!(write.is_err(), "SET on the refused node answered {write:?}");
    println!("refused node: GET -> {read:?}, SET -> {write:?}");
    let mut c = cluster.client(leader).await;
    assert_eq!(get(&mut c, leader, "intruder").await, None);

    let leader_log = cluster.node(leader).log();
    let refusals: Vec<&str> = leader_log
        .lines()
        .filter(|l| l.contains("replication credentials") && l.contains("refused"))
        .collect();
    assert!(
        !refusals.is_empty(),
        "the leader's log has no refusal mentioning the replication credentials:\n{leader_log}"
    );
    println!("leader's refusal: {}", refusals[0]);
    for (who, log) in cluster
        .ids()
        .into_iter()
        .map(|id| (format!("node {id}"), cluster.node(id).log()))
        .chain([("the refused node".to_string(), intruder.log())])
    {
        for secret in [wrong.as_str(), cluster.masterauth()] {
            assert!(
                !log.contains(secret),
                "{who}'s log contains a replication password"
            );
        }
    }
}

#[tokio::test]
async fn removing_a_follower_leaves_a_working_cluster() {
    let mut cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let followers = cluster.followers().await;
    let (removed, kept) = (followers[0], followers[1]);
    let mut l = cluster.client(leader).await;
    set(&mut l, leader, "before", "1").await;
    let reply: String = redis::cmd("RAFT.NODE")
        .arg("REMOVE")
        .arg(removed)
        .query_async(&mut l)
        .await
        .unwrap_or_else(|e| panic!("RAFT.NODE REMOVE {removed}: {e}\n{}", cluster.diagnostics()));
    assert_eq!(reply, "OK");
    for id in [leader, kept] {
        eventually(
            Duration::from_secs(10),
            &format!("node {id} no longer lists node {removed}"),
            &cluster,
            || async {
                let m = cluster.raft_members(id).await.map_err(|e| e.to_string())?;
                if m.contains_key(&removed) || m.len() != 2 {
                    Err(format!("members: {m:?}"))
                } else {
                    Ok(())
                }
            },
        )
        .await;
    }
    cluster.forget(removed);

    // The removed node still runs (and hears nothing from the leader any more): writes keep
    // being served by the two remaining nodes, without errors, for a few seconds.
    let mut k = cluster.client(kept).await;
    let until = Instant::now() + Duration::from_secs(4);
    let mut n = 0;
    while Instant::now() < until {
        set(&mut l, leader, &format!("after-l{n}"), "1").await;
        set(&mut k, kept, &format!("after-k{n}"), "1").await;
        n += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        cluster.wait_for_leader(LEADER_TIMEOUT).await,
        leader,
        "leadership changed after removing a follower"
    );
    assert_eq!(get(&mut k, kept, "after-l0").await.as_deref(), Some("1"));
    // Both remaining nodes are needed now, and enough: killing the removed one changes nothing.
    cluster.kill9(removed);
    set(&mut k, kept, "after-kill", "1").await;
    assert_eq!(
        get(&mut l, leader, "after-kill").await.as_deref(),
        Some("1")
    );
    println!("{n} rounds of writes after removing node {removed}");
}

#[tokio::test]
async fn raft_leader_and_transfer_move_leadership() {
    let cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    for id in cluster.members() {
        let mut c = cluster.client(id).await;
        let (lid, addr): (usize, String) = redis::cmd("RAFT.LEADER")
            .query_async(&mut c)
            .await
            .unwrap_or_else(|e| panic!("RAFT.LEADER on node {id}: {e}"));
        assert_eq!(lid, leader, "RAFT.LEADER on node {id}");
        assert_eq!(addr, cluster.node(leader).raft_addr());
    }
    let target = cluster.followers().await[0];
    let mut c = cluster.client(leader).await;
    set(&mut c, leader, "before-transfer", "1").await;
    let reply: String = redis::cmd("RAFT.TRANSFER")
        .arg(target)
        .query_async(&mut c)
        .await
        .unwrap_or_else(|e| panic!("RAFT.TRANSFER {target}: {e}\n{}", cluster.diagnostics()));
    assert_eq!(reply, "OK");
    assert_eq!(cluster.wait_for_leader(LEADER_TIMEOUT).await, target);
    let mut t = cluster.client(target).await;
    assert_eq!(
        get(&mut t, target, "before-transfer").await.as_deref(),
        Some("1")
    );
    set(&mut c, leader, "after-transfer", "1").await;
    assert_eq!(
        get(&mut t, target, "after-transfer").await.as_deref(),
        Some("1")
    );
    let err = redis::cmd("RAFT.TRANSFER")
        .arg(99)
        .query_async::<String>(&mut t)
        .await
        .expect_err("RAFT.TRANSFER to a non-member");
    assert!(err.to_string().contains("not a voter"), "{err}");
}

#[tokio::test]
async fn raft_node_add_admits_a_waiting_node() {
    let mut cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let mut l = cluster.client(leader).await;
    set(&mut l, leader, "old", "1").await;
    // A node with `peers` but no `bootstrap` waits to be added.
    let peers = cluster
        .ids()
        .into_iter()
        .map(|id| format!("{id}={}", cluster.node(id).raft_addr()))
        .collect::<Vec<_>>()
        .join(",");
    let masterauth = cluster.masterauth().to_string();
    // Asked on a follower: it hands the change to the leader.
    let follower = cluster.followers().await[0];
    let node = cluster.start_extra(4, &masterauth, &[("peers", &peers)]);
    let addr = node.raft_addr().to_string();
    cluster.adopt(4, node);
    let mut f = cluster.client(follower).await;
    let reply: String = redis::cmd("RAFT.NODE")
        .arg("ADD")
        .arg(4)
        .arg(&addr)
        .query_async(&mut f)
        .await
        .unwrap_or_else(|e| panic!("RAFT.NODE ADD 4 {addr}: {e}\n{}", cluster.diagnostics()));
    assert_eq!(reply, "OK");
    let leader = cluster.wait_follows(4, Duration::from_secs(20)).await;
    let members = cluster.raft_members(leader).await.expect("RAFT.INFO");
    assert_eq!(
        members.get(&4).map(String::as_str),
        Some("voter"),
        "{members:?}"
    );
    let mut c4 = cluster.client(4).await;
    assert_eq!(get(&mut c4, 4, "old").await.as_deref(), Some("1"));
}
