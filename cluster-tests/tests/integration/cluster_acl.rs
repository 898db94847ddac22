//! ACL users, passwords and permissions across a three-node cluster: users and `requirepass`
//! are replicated state (one node's ACL SETUSER / DELUSER / LOAD / CONFIG SET requirepass is
//! seen at once by every node), a revoked permission stops a user's writes everywhere at once,
//! a deleted or disabled user's connections are closed on every node, the replication user's
//! password can be rotated without downtime, ACL LOG stays per node, and no plaintext password
//! reaches a log or a data file. Real processes and real `redis` clients; each test starts its
//! own cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{FromRedisValue, RedisError, RedisResult, Value};
use redoubt_cluster_tests::cluster::{
    get, parse_info, random_secret, set, Cluster, ClusterOptions, LEADER_TIMEOUT,
};
use redoubt_cluster_tests::raw::RawConn;
use redoubt_cluster_tests::{connect, NodeProcess};

/// The detail of `-WRONGPASS`.
const WRONGPASS: &str = "invalid username-password pair or user is disabled.";
/// The detail of `-NOAUTH`.
const NOAUTH: &str = "Authentication required.";
/// The detail of `-ERR` for `AUTH <password>` when `default` has no password.
const AUTH_WITHOUT_PASSWORD: &str = "AUTH <password> called without any password configured for \
     the default user. Are you sure your configuration is correct?";
/// How long a deleted or disabled user's connections may stay open on any node.
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// How long a joiner with a stale password is watched: it must not become a member meanwhile.
const WATCH: Duration = Duration::from_secs(5);
/// Bound of a catch-up wait (restart, join).
const CATCH_UP: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A password nobody else uses, tagged to tell it apart in failure messages.
fn secret(tag: &str) -> String {
    format!("{tag}-{}", random_secret().trim_start_matches("repl-"))
}

async fn started() -> (Cluster, usize) {
    let cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    (cluster, leader)
}

/// A command from string arguments.
fn command(args: &[&str]) -> redis::Cmd {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd
}

async fn call<T: FromRedisValue>(c: &mut MultiplexedConnection, args: &[&str]) -> RedisResult<T> {
    command(args).query_async(c).await
}

/// `args` on node `id` through `c`, which must reply `+OK`.
async fn ok(cluster: &Cluster, c: &mut MultiplexedConnection, id: usize, args: &[&str]) {
    match call::<String>(c, args).await {
        Ok(r) if r == "OK" => {}
        other => panic!(
            "{} on node {id} replied {other:?}, not OK\n{}",
            shown(args),
            cluster.diagnostics()
        ),
    }
}

/// A command line for messages, with password rules redacted by the test itself (so a failure
/// message never puts a password in the test output either).
fn shown(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.starts_with('>') || a.starts_with('<') {
                format!("{}(pw)", &a[..1])
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A connection to node `id` authenticated as `user` (the URL makes the client send AUTH).
async fn connect_as(cluster: &Cluster, id: usize, user: &str, pass: &str) -> MultiplexedConnection {
    let url = format!(
        "redis://{user}:{pass}@127.0.0.1:{}/",
        cluster.node(id).port()
    );
    match connect(&url).await {
        Ok(c) => c,
        Err(e) => panic!(
            "cannot connect to node {id} as {user}: {e}\n{}",
            cluster.diagnostics()
        ),
    }
}

/// "CODE detail" of a server error, or the error as text.
fn error_text(e: &RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        _ => e.to_string(),
    }
}

/// Asserts that `r` is the server error `-<code> <detail>`.
fn assert_error<T: std::fmt::Debug>(r: RedisResult<T>, code: &str, detail: &str, what: &str) {
    match r {
        Err(e) if e.code() == Some(code) && e.detail() == Some(detail) => {}
        Err(e) => panic!(
            "{what}: expected -{code} {detail}, got the error {:?} ({e})",
            error_text(&e)
        ),
        Ok(v) => panic!("{what}: expected -{code} {detail}, got {v:?}"),
    }
}

/// Whether an error means the connection is gone (closed by the server, reset), not a reply.
fn is_closed(e: &RedisError) -> bool {
    (e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal()) && !e.is_timeout()
}

async fn acl_users(cluster: &Cluster, c: &mut MultiplexedConnection, id: usize) -> Vec<String> {
    call::<Vec<String>>(c, &["ACL", "USERS"])
        .await
        .unwrap_or_else(|e| panic!("ACL USERS on node {id}: {e}\n{}", cluster.diagnostics()))
}

/// The `user <name> ...` line of `name` in an ACL LIST.
fn user_line<'a>(list: &'a [String], name: &str) -> Option<&'a String> {
    let prefix = format!("user {name} ");
    list.iter().find(|l| l.starts_with(&prefix))
}

/// The `#<hash>` tokens of an ACL LIST line.
fn hash_tokens(line: &str) -> Vec<String> {
    line.split(' ')
        .filter(|t| t.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Fetches `ACL LIST` from every node in `ids` (through `clients`) and asserts the replies are
/// byte-identical. Returns the list.
async fn assert_same_acl_list(
    cluster: &Cluster,
    clients: &mut BTreeMap<usize, MultiplexedConnection>,
    what: &str,
) -> Vec<String> {
    let mut lists: BTreeMap<usize, Vec<Vec<u8>>> = BTreeMap::new();
    for (id, c) in clients.iter_mut() {
        let list: Vec<Vec<u8>> = call(c, &["ACL", "LIST"])
            .await
            .unwrap_or_else(|e| panic!("ACL LIST on node {id}: {e}\n{}", cluster.diagnostics()));
        lists.insert(*id, list);
    }
    let (first_id, first) = lists.iter().next().expect("at least one node");
    for (id, list) in &lists {
        assert!(
            list == first,
            "{what}: ACL LIST on node {id} differs from node {first_id}:\n{:#?}\nvs\n{:#?}\n{}",
            lossy(list),
            lossy(first),
            cluster.diagnostics()
        );
    }
    lossy(first)
}

fn lossy(list: &[Vec<u8>]) -> Vec<String> {
    list.iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

/// A default-user connection to every live member.
async fn admin_clients(cluster: &Cluster) -> BTreeMap<usize, MultiplexedConnection> {
    let mut out = BTreeMap::new();
    for id in cluster.live_members() {
        out.insert(id, cluster.client(id).await);
    }
    out
}

/// Text of a RESP value (for ACL LOG fields).
fn value_text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Nil => "(nil)".into(),
        other => format!("{other:?}"),
    }
}

/// `ACL LOG` entries as field -> text maps (RESP2 flat pairs or RESP3 maps).
fn log_entries(v: &Value) -> Vec<BTreeMap<String, String>> {
    let Value::Array(entries) = v else {
        panic!("ACL LOG replied {v:?}, not an array");
    };
    entries
        .iter()
        .map(|e| match e {
            Value::Array(kv) => kv
                .chunks(2)
                .map(|p| {
                    (
                        value_text(&p[0]),
                        p.get(1).map(value_text).unwrap_or_default(),
                    )
                })
                .collect(),
            Value::Map(kv) => kv
                .iter()
                .map(|(k, v)| (value_text(k), value_text(v)))
                .collect(),
            other => panic!("an ACL LOG entry is {other:?}, not a map"),
        })
        .collect()
}

/// The name under which the cluster's replication user exists: `CONFIG GET masteruser` when
/// the node answers it, else Redoubt's default `replicator`.
async fn masteruser(c: &mut MultiplexedConnection) -> String {
    match call::<Vec<String>>(c, &["CONFIG", "GET", "masteruser"]).await {
        Ok(pair) if pair.len() == 2 && !pair[1].is_empty() => pair[1].clone(),
        _ => "replicator".to_string(),
    }
}

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

// ---------------------------------------------------------------------------------------------
// 1. Users are replicated and read linearizably
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn user_created_on_one_node_authenticates_on_every_node() {
    let (cluster, leader) = started().await;
    let followers = cluster.followers().await;
    let ids = cluster.members();
    let mut admins = admin_clients(&cluster).await;
    let creators = [followers[0], leader, followers[1]];
    for round in 0..9 {
        let creator = creators[round % creators.len()];
        let user = format!("alice{round}");
        let pass = secret("alicepw");
        let rule = format!(">{pass}");
        ok(
            &cluster,
            admins.get_mut(&creator).expect("admin"),
            creator,
            &["ACL", "SETUSER", &user, "on", &rule, "~*", "+@all"],
        )
        .await;
        // At once, no wait: the other nodes first, then the creator.
        let order: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|id| *id != creator)
            .chain([creator])
            .collect();
        for id in &order {
            let mut c = cluster.client(*id).await;
            match call::<String>(&mut c, &["AUTH", &user, &pass]).await {
                Ok(r) if r == "OK" => {}
                other => panic!(
                    "round {round}: AUTH {user} on node {id}, right after ACL SETUSER returned OK \
                     on node {creator} (leader {leader}), replied {other:?}\n{}",
                    cluster.diagnostics()
                ),
            }
            let who: String = call(&mut c, &["ACL", "WHOAMI"])
                .await
                .unwrap_or_else(|e| panic!("ACL WHOAMI on node {id}: {e}"));
            assert_eq!(who, user, "ACL WHOAMI on node {id} after AUTH {user}");
            let key = format!("{user}:on-{id}");
            set(&mut c, *id, &key, "v").await;
            assert_eq!(
                get(&mut c, *id, &key).await.as_deref(),
                Some("v"),
                "{user} reads back its own write on node {id}"
            );
        }
        let list = assert_same_acl_list(
            &cluster,
            &mut admins,
            &format!("round {round}, right after SETUSER {user} on node {creator}"),
        )
        .await;
        let line = user_line(&list, &user)
            .unwrap_or_else(|| panic!("round {round}: ACL LIST has no line for {user}: {list:#?}"));
        let tokens: Vec<&str> = line.split(' ').collect();
        assert!(
            tokens.contains(&"on") && !hash_tokens(line).is_empty(),
            "round {round}: {user}'s ACL LIST line: {line}"
        );
        assert!(!line.contains(&pass), "ACL LIST shows {user}'s password");

        // Deleted on another node: refused everywhere at once.
        let deleter = order[round % (order.len() - 1)];
        let deleted: i64 = call(
            admins.get_mut(&deleter).expect("admin"),
            &["ACL", "DELUSER", &user],
        )
        .await
        .unwrap_or_else(|e| panic!("ACL DELUSER {user} on node {deleter}: {e}"));
        assert_eq!(deleted, 1, "ACL DELUSER {user} on node {deleter}");
        let order: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|id| *id != deleter)
            .chain([deleter])
            .collect();
        for id in order {
            let mut c = cluster.client(id).await;
            assert_error(
                call::<String>(&mut c, &["AUTH", &user, &pass]).await,
                "WRONGPASS",
                WRONGPASS,
                &format!(
                    "round {round}: AUTH {user} on node {id} right after ACL DELUSER on node \
                     {deleter}"
                ),
            );
        }
        let list = assert_same_acl_list(
            &cluster,
            &mut admins,
            &format!("round {round}, right after DELUSER {user} on node {deleter}"),
        )
        .await;
        assert!(
            user_line(&list, &user).is_none(),
            "round {round}: ACL LIST still lists {user} after DELUSER: {list:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. A revoked permission races writes through a follower
// ---------------------------------------------------------------------------------------------

const RACE_ROUNDS: usize = 20;
/// Rounds stop being started past this (at least [`RACE_MIN_ROUNDS`] must have run).
const RACE_BUDGET: Duration = Duration::from_secs(50);
const RACE_MIN_ROUNDS: usize = 8;
/// Connections of the racing writer, and concurrent tasks per connection (pipelined).
const RACE_CONNS: usize = 2;
const RACE_TASKS_PER_CONN: usize = 8;

/// One SET of the racing writer: its number, when it was handed to the client, and the reply.
struct Sent {
    i: u64,
    at: Instant,
    reply: RedisResult<String>,
}

async fn race_writer(
    mut c: MultiplexedConnection,
    prefix: String,
    counter: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> Vec<Sent> {
    let mut sent = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let i = counter.fetch_add(1, Ordering::SeqCst);
        // Taken before the command is written: the real send is later still, so "sent after
        // the revocation" is never claimed for a command that was not.
        let at = Instant::now();
        let reply: RedisResult<String> = redis::cmd("SET")
            .arg(format!("{prefix}{i}"))
            .arg(i)
            .query_async(&mut c)
            .await;
        let closed = matches!(&reply, Err(e) if is_closed(e));
        sent.push(Sent { i, at, reply });
        if closed {
            break;
        }
    }
    sent
}

/// Polls until `counter` reaches `target` or `timeout` passes.
async fn wait_counter(counter: &AtomicU64, target: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while counter.load(Ordering::SeqCst) < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// EXISTS of every key, on node `id` (in pipelined chunks).
async fn exists_all(
    cluster: &Cluster,
    c: &mut MultiplexedConnection,
    id: usize,
    keys: &[String],
) -> Vec<bool> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(1000) {
        let mut pipe = redis::pipe();
        for k in chunk {
            pipe.cmd("EXISTS").arg(k);
        }
        let r: Vec<i64> = pipe.query_async(c).await.unwrap_or_else(|e| {
            panic!(
                "EXISTS pipeline on node {id} failed: {e}\n{}",
                cluster.diagnostics()
            )
        });
        out.extend(r.into_iter().map(|n| n == 1));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocation_races_writes_through_a_follower() {
    let (cluster, _) = started().await;
    let started_at = Instant::now();
    let mut landed_after_total = 0usize;
    let mut problems: Vec<String> = Vec::new();
    let mut rounds = 0usize;
    let mut after_total = 0usize;
    for round in 0..RACE_ROUNDS {
        if started_at.elapsed() > RACE_BUDGET {
            break;
        }
        let leader = cluster.leader().await;
        let followers = cluster.followers().await;
        let writer_node = followers[0];
        let revoker_node = if round % 2 == 0 { leader } else { followers[1] };
        let user = format!("racer{round}");
        let pass = secret("racerpw");
        let rule = format!(">{pass}");
        let mut admin = cluster.client(leader).await;
        ok(
            &cluster,
            &mut admin,
            leader,
            &["ACL", "SETUSER", &user, "on", &rule, "~*", "+@all"],
        )
        .await;
        let mut revoker = cluster.client(revoker_node).await;

        let counter = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let prefix = format!("race:{round}:");
        let mut tasks = Vec::new();
        for _ in 0..RACE_CONNS {
            let c = connect_as(&cluster, writer_node, &user, &pass).await;
            for _ in 0..RACE_TASKS_PER_CONN {
                tasks.push(tokio::spawn(race_writer(
                    c.clone(),
                    prefix.clone(),
                    counter.clone(),
                    stop.clone(),
                )));
            }
        }
        // Let the writers run a while (a different while each round, to move the race).
        wait_counter(&counter, 50, Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis((round as u64 * 7) % 40)).await;
        let revoke = call::<String>(&mut revoker, &["ACL", "SETUSER", &user, "-set"]).await;
        let revoked_at = Instant::now();
        let at_revocation = counter.load(Ordering::SeqCst);
        if !matches!(&revoke, Ok(r) if r == "OK") {
            stop.store(true, Ordering::SeqCst);
            panic!(
                "round {round}: ACL SETUSER {user} -set on node {revoker_node} replied {revoke:?}\n{}",
                cluster.diagnostics()
            );
        }
        // Keep writing after the revocation.
        wait_counter(&counter, at_revocation + 200, Duration::from_secs(2)).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        stop.store(true, Ordering::SeqCst);
        let mut sent: Vec<Sent> = Vec::new();
        for t in tasks {
            sent.extend(t.await.expect("writer task"));
        }
        sent.sort_by_key(|s| s.i);

        let keys: Vec<String> = sent.iter().map(|s| format!("{prefix}{}", s.i)).collect();
        let leader = cluster.leader().await;
        let mut l = cluster.client(leader).await;
        let exists = exists_all(&cluster, &mut l, leader, &keys).await;
        let nopermed = format!("User {user} has no permissions to run the 'set' command");
        let (mut ok_before, mut after, mut landed_after) = (0usize, 0usize, 0usize);
        let mut just_after = 0usize;
        for (s, present) in sent.iter().zip(&exists) {
            let is_after = s.at > revoked_at;
            if is_after {
                after += 1;
                if s.at - revoked_at < Duration::from_millis(20) {
                    just_after += 1;
                }
            }
            if is_after && *present {
                landed_after += 1;
            }
            match &s.reply {
                Ok(r) if r == "OK" => {
                    if !is_after {
                        ok_before += 1;
                    }
                    if is_after {
                        problems.push(format!(
                            "round {round}: SET #{} sent {:?} after the revocation's OK got OK",
                            s.i,
                            s.at - revoked_at
                        ));
                    }
                    if !present {
                        problems.push(format!(
                            "round {round}: SET #{} was acknowledged but the key is missing on \
                             the leader",
                            s.i
                        ));
                    }
                }
                Ok(other) => problems.push(format!("round {round}: SET #{} replied {other}", s.i)),
                Err(e) if e.code() == Some("NOPERM") => {
                    if e.detail() != Some(nopermed.as_str()) {
                        problems.push(format!(
                            "round {round}: SET #{} refused as {:?}, expected 'NOPERM {nopermed}'",
                            s.i,
                            error_text(e)
                        ));
                    }
                    if *present {
                        problems.push(format!(
                            "round {round}: SET #{} got NOPERM but the key exists on the leader",
                            s.i
                        ));
                    }
                }
                Err(e) if is_closed(e) => {}
                Err(e) => problems.push(format!(
                    "round {round}: SET #{} failed unexpectedly: {}",
                    s.i,
                    error_text(e)
                )),
            }
        }
        println!(
            "round {round}: writer on node {writer_node}, revoked on node {revoker_node} \
             (leader {leader}); {} SETs, {ok_before} OK before the revocation, {after} sent \
             after it ({just_after} within 20 ms), {landed_after} of those landed",
            sent.len()
        );
        assert!(
            ok_before > 0,
            "round {round}: no SET succeeded before the revocation, the round did not race\n{}",
            cluster.diagnostics()
        );
        assert!(
            after > 0,
            "round {round}: no SET was sent after the revocation, the round did not race\n{}",
            cluster.diagnostics()
        );
        landed_after_total += landed_after;
        after_total += after;

        // Re-grant: the same user writes again through the follower.
        ok(
            &cluster,
            &mut revoker,
            revoker_node,
            &["ACL", "SETUSER", &user, "+set"],
        )
        .await;
        let mut w = connect_as(&cluster, writer_node, &user, &pass).await;
        match call::<String>(&mut w, &["SET", &format!("{prefix}regranted"), "1"]).await {
            Ok(r) if r == "OK" => {}
            other => problems.push(format!(
                "round {round}: SET by {user} on node {writer_node} after re-granting +set \
                 replied {other:?}"
            )),
        }
        rounds += 1;
    }
    println!(
        "{rounds} rounds in {:?}; {after_total} SETs sent after a revocation, \
         {landed_after_total} landed",
        started_at.elapsed()
    );
    assert!(
        rounds >= RACE_MIN_ROUNDS,
        "only {rounds} rounds ran within {RACE_BUDGET:?}"
    );
    assert_eq!(
        landed_after_total,
        0,
        "{landed_after_total} SETs sent after `ACL SETUSER u -set` had returned OK were \
         executed; problems:\n{}",
        problems.join("\n")
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems[..problems.len().min(40)].join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Deleting or disabling a user closes its connections on every node
// ---------------------------------------------------------------------------------------------

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
    connections_are_closed_everywhere(
        &cluster,
        "deluser",
        followers[0],
        &["ACL", "DELUSER", "{u}"],
        (bystander.0, &bystander.1),
    )
    .await;
    connections_are_closed_everywhere(
        &cluster,
        "off",
        followers[1],
        &["ACL", "SETUSER", "{u}", "off"],
        (bystander.0, &bystander.1),
    )
    .await;
    connections_are_closed_everywhere(
        &cluster,
        "off-on-leader",
        leader,
        &["ACL", "SETUSER", "{u}", "off"],
        (bystander.0, &bystander.1),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// 4. requirepass
// ---------------------------------------------------------------------------------------------

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
        assert_error(
            call::<String>(&mut anon, &["PING"]).await,
            "NOAUTH",
            NOAUTH,
            &format!("PING without AUTH on node {id} after CONFIG SET requirepass on node 2"),
        );
        assert_error(
            call::<String>(&mut anon, &["SET", "unauthenticated", "x"]).await,
            "NOAUTH",
            NOAUTH,
            &format!("SET without AUTH on node {id}"),
        );
        let mut wrong = cluster.client(id).await;
        assert_error(
            call::<String>(&mut wrong, &["AUTH", "not-the-password"]).await,
            "WRONGPASS",
            WRONGPASS,
            &format!("AUTH with a wrong password on node {id}"),
        );
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
        assert_error(
            call::<String>(&mut c, &["PING"]).await,
            "NOAUTH",
            NOAUTH,
            &format!("PING without AUTH on node {id} of a cluster started with requirepass"),
        );
        assert_error(
            call::<String>(&mut c, &["AUTH", "not-the-password"]).await,
            "WRONGPASS",
            WRONGPASS,
            &format!("AUTH with a wrong password on node {id}"),
        );
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

// ---------------------------------------------------------------------------------------------
// 5. ACL LOAD replaces users on every node; ACL LOG stays on the node that refused
// ---------------------------------------------------------------------------------------------

const DEFAULT_LINE: &str = "user default on nopass sanitize-payload ~* &* +@all";

#[tokio::test]
async fn acl_load_and_log_per_node() {
    let files = tempfile::tempdir().expect("tempdir");
    let acl_path = |id: usize| files.path().join(format!("node{id}.acl"));
    for id in 1..=3 {
        std::fs::write(acl_path(id), format!("{DEFAULT_LINE}\n")).expect("write an aclfile");
    }
    let dir = files.path().to_path_buf();
    let cluster = Cluster::start(
        3,
        ClusterOptions::new().node_args(move |id| {
            vec![(
                "aclfile".to_string(),
                dir.join(format!("node{id}.acl")).display().to_string(),
            )]
        }),
    );
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let ids = cluster.members();
    let mut admins = admin_clients(&cluster).await;
    let a1 = admins.get_mut(&1).expect("admin");
    let temp_rule = format!(">{}", secret("temppw"));
    ok(
        &cluster,
        a1,
        1,
        &["ACL", "SETUSER", "temp", "on", &temp_rule, "+@all"],
    )
    .await;
    let before = assert_same_acl_list(&cluster, &mut admins, "before ACL LOAD").await;
    let mu = masteruser(admins.get_mut(&1).expect("admin")).await;
    assert!(
        user_line(&before, &mu).is_some(),
        "the replication user {mu} is not in ACL LIST: {before:#?}"
    );

    // Node 2's file: what the cluster has but `temp`, plus carol and dave.
    let carol_pw = secret("carolpw");
    let dave_pw = secret("davepw");
    let mut content: Vec<String> = before
        .iter()
        .filter(|l| !l.starts_with("user temp "))
        .cloned()
        .collect();
    content.push(format!(
        "user carol on >{carol_pw} ~* resetchannels -@all +@read +ping"
    ));
    content.push(format!(
        "user dave on >{dave_pw} ~dave:* resetchannels -@all +@all"
    ));
    let path2 = acl_path(2);
    std::fs::write(&path2, content.join("\n") + "\n").expect("write node 2's aclfile");

    // A bad line: nothing changes anywhere, the error names the file and line.
    let good = std::fs::read_to_string(&path2).expect("read");
    let bad_pw = secret("evepw");
    std::fs::write(
        &path2,
        format!("{DEFAULT_LINE}\nuser eve on >{bad_pw} +nosuchcommand\n"),
    )
    .expect("write a bad aclfile");
    let r: RedisResult<String> = call(admins.get_mut(&2).expect("admin"), &["ACL", "LOAD"]).await;
    match &r {
        Err(e) if e.code() == Some("ERR") => {
            let detail = e.detail().unwrap_or("");
            assert!(
                detail.starts_with(&format!("{}:2: ", path2.display())),
                "ACL LOAD of a bad file: {detail}"
            );
            assert!(
                !detail.contains(&bad_pw),
                "the ACL LOAD error shows a password"
            );
        }
        other => panic!("ACL LOAD of a file with a bad line replied {other:?}"),
    }
    let after_bad = assert_same_acl_list(&cluster, &mut admins, "after a failed ACL LOAD").await;
    assert_eq!(after_bad, before, "a failed ACL LOAD changed the users");

    std::fs::write(&path2, &good).expect("restore node 2's aclfile");
    ok(
        &cluster,
        admins.get_mut(&2).expect("admin"),
        2,
        &["ACL", "LOAD"],
    )
    .await;
    let mut expected: Vec<String> = ["carol", "dave", "default", mu.as_str()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    for id in &ids {
        let users = acl_users(&cluster, admins.get_mut(id).expect("admin"), *id).await;
        assert_eq!(
            users,
            expected,
            "ACL USERS on node {id} right after ACL LOAD on node 2\n{}",
            cluster.diagnostics()
        );
    }
    assert_same_acl_list(&cluster, &mut admins, "after ACL LOAD on node 2").await;
    for id in &ids {
        let mut c = cluster.client(*id).await;
        ok(&cluster, &mut c, *id, &["AUTH", "carol", &carol_pw]).await;
    }
    // Replication still works (the replication user came through the file).
    let mut l = cluster.client(leader).await;
    set(&mut l, leader, "after-load", "1").await;
    for (id, c) in admins.iter_mut() {
        assert_eq!(get(c, *id, "after-load").await.as_deref(), Some("1"));
    }

    // ACL LOG: each denial only on the node that refused it.
    for (id, c) in admins.iter_mut() {
        ok(&cluster, c, *id, &["ACL", "LOG", "RESET"]).await;
    }
    // AUTH after connecting as default: the client's CLIENT SETINFO at connect time would be
    // a denial of its own for carol.
    let mut carol = cluster.client(3).await;
    ok(&cluster, &mut carol, 3, &["AUTH", "carol", &carol_pw]).await;
    let denied: RedisResult<String> = call(&mut carol, &["SET", "k", "v"]).await;
    assert_eq!(
        denied.as_ref().err().and_then(|e| e.code()),
        Some("NOPERM"),
        "SET by carol on node 3: {denied:?}"
    );
    let mut dave = cluster.client(1).await;
    ok(&cluster, &mut dave, 1, &["AUTH", "dave", &dave_pw]).await;
    let denied: RedisResult<String> = call(&mut dave, &["SET", "other:1", "v"]).await;
    assert_eq!(
        denied.as_ref().err().and_then(|e| e.code()),
        Some("NOPERM"),
        "SET other:1 by dave on node 1: {denied:?}"
    );
    let mut anon = cluster.client(2).await;
    assert_error(
        call::<String>(&mut anon, &["AUTH", "carol", "wrong-password"]).await,
        "WRONGPASS",
        WRONGPASS,
        "AUTH carol with a wrong password on node 2",
    );
    let expected: BTreeMap<usize, BTreeSet<(String, String, String)>> = [
        (1, ("key", "dave", "other:1")),
        (2, ("auth", "carol", "AUTH")),
        (3, ("command", "carol", "set")),
    ]
    .into_iter()
    .map(|(id, (r, u, o))| {
        (
            id,
            [(r.to_string(), u.to_string(), o.to_string())]
                .into_iter()
                .collect(),
        )
    })
    .collect();
    for (id, c) in admins.iter_mut() {
        let log: Value = call(c, &["ACL", "LOG"])
            .await
            .unwrap_or_else(|e| panic!("ACL LOG on node {id}: {e}"));
        let entries = log_entries(&log);
        let got: BTreeSet<(String, String, String)> = entries
            .iter()
            .map(|e| {
                let f = |k: &str| e.get(k).cloned().unwrap_or_default();
                (f("reason"), f("username"), f("object"))
            })
            .collect();
        // Only the reason and the user are Redis's contract for auth entries' object.
        let got_loose: BTreeSet<(String, String)> =
            got.iter().map(|(r, u, _)| (r.clone(), u.clone())).collect();
        let want_loose: BTreeSet<(String, String)> = expected[id]
            .iter()
            .map(|(r, u, _)| (r.clone(), u.clone()))
            .collect();
        assert_eq!(
            got_loose, want_loose,
            "ACL LOG on node {id} (reason, username); entries: {entries:#?}"
        );
        for (r, u, o) in &expected[id] {
            if r != "auth" {
                assert!(
                    got.contains(&(r.clone(), u.clone(), o.clone())),
                    "ACL LOG on node {id} lacks ({r}, {u}, {o}): {entries:#?}"
                );
            }
        }
    }

    // ACL SAVE writes hashes, never the passwords.
    ok(
        &cluster,
        admins.get_mut(&2).expect("admin"),
        2,
        &["ACL", "SAVE"],
    )
    .await;
    let saved = std::fs::read_to_string(&path2).expect("read the saved aclfile");
    assert!(
        saved
            .lines()
            .any(|l| l.starts_with("user carol on ") && l.contains(" #")),
        "the saved aclfile: {saved}"
    );
    assert!(
        !saved.contains(&carol_pw) && !saved.contains(&dave_pw),
        "ACL SAVE wrote a plaintext password"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. The replication user and its password rotation
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// 7. No plaintext password in logs or data files
// ---------------------------------------------------------------------------------------------

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn secrets_absent_from_logs_and_data() {
    let cluster = Cluster::start(
        3,
        ClusterOptions::new()
            .arg("raft-snapshot-logs", "20")
            .arg("loglevel", "debug"),
    );
    let mut cluster = cluster;
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let followers = cluster.followers().await;
    let ids = cluster.members();
    let mut admins = admin_clients(&cluster).await;
    let mut secrets: Vec<(&str, String)> =
        vec![("cluster masterauth", cluster.masterauth().into())];
    let user_pw = secret("userpw");
    let second_pw = secret("secondpw");
    let wrong_pw = secret("wrongpw");
    let bad_rule_pw = secret("badrulepw");
    let requirepass = secret("requirepass");
    let new_masterauth = secret("newmasterauth");
    secrets.extend([
        ("SETUSER >password", user_pw.clone()),
        ("second SETUSER >password", second_pw.clone()),
        ("wrong AUTH password", wrong_pw.clone()),
        ("password in a refused SETUSER", bad_rule_pw.clone()),
        ("requirepass", requirepass.clone()),
        ("new masterauth", new_masterauth.clone()),
    ]);

    let f = followers[0];
    let rule = format!(">{user_pw}");
    ok(
        &cluster,
        admins.get_mut(&f).expect("admin"),
        f,
        &["ACL", "SETUSER", "secretive", "on", &rule, "~*", "+@all"],
    )
    .await;
    for id in &ids {
        let mut c = cluster.client(*id).await;
        ok(&cluster, &mut c, *id, &["AUTH", "secretive", &user_pw]).await;
        set(&mut c, *id, &format!("secretive:{id}"), "v").await;
        let mut w = cluster.client(*id).await;
        assert_error(
            call::<String>(&mut w, &["AUTH", "secretive", &wrong_pw]).await,
            "WRONGPASS",
            WRONGPASS,
            &format!("AUTH with a wrong password on node {id}"),
        );
        let mut raw = RawConn::connect(cluster.node(*id).port()).await;
        let hello = raw
            .call(&[
                b"HELLO",
                b"3",
                b"AUTH",
                b"secretive",
                user_pw.as_bytes(),
                b"SETNAME",
                b"secretive-conn",
            ])
            .await;
        assert!(
            hello.starts_with(b"%"),
            "HELLO 3 AUTH on node {id}: {:?}",
            String::from_utf8_lossy(&hello)
        );
    }
    let swap = [format!(">{second_pw}"), format!("<{user_pw}")];
    ok(
        &cluster,
        admins.get_mut(&leader).expect("admin"),
        leader,
        &["ACL", "SETUSER", "secretive", &swap[0], &swap[1]],
    )
    .await;
    let bad = format!(">{bad_rule_pw}");
    let refused: RedisResult<String> = call(
        admins.get_mut(&f).expect("admin"),
        &["ACL", "SETUSER", "broken", &bad, "+nosuchcommand"],
    )
    .await;
    match &refused {
        Err(e) => assert!(
            !e.to_string().contains(&bad_rule_pw),
            "the SETUSER error shows the password"
        ),
        Ok(r) => panic!("ACL SETUSER with an unknown command replied {r}"),
    }

    // requirepass, set on one node, used on another, cleared.
    ok(
        &cluster,
        admins.get_mut(&2).expect("admin"),
        2,
        &["CONFIG", "SET", "requirepass", &requirepass],
    )
    .await;
    let mut c3 = cluster.client(3).await;
    ok(&cluster, &mut c3, 3, &["AUTH", &requirepass]).await;
    ok(&cluster, &mut c3, 3, &["CONFIG", "SET", "requirepass", ""]).await;

    // masterauth rotation.
    let mu = masteruser(admins.get_mut(&leader).expect("admin")).await;
    let add = format!(">{new_masterauth}");
    ok(
        &cluster,
        admins.get_mut(&leader).expect("admin"),
        leader,
        &["ACL", "SETUSER", &mu, &add],
    )
    .await;
    for id in &ids {
        ok(
            &cluster,
            admins.get_mut(id).expect("admin"),
            *id,
            &["CONFIG", "SET", "masterauth", &new_masterauth],
        )
        .await;
    }
    let remove = format!("<{}", cluster.masterauth());
    ok(
        &cluster,
        admins.get_mut(&leader).expect("admin"),
        leader,
        &["ACL", "SETUSER", &mu, &remove],
    )
    .await;

    // Enough writes for snapshots, a known plaintext value to show the scan sees data.
    let canary = secret("canary-value");
    let mut l = cluster.client(leader).await;
    set(&mut l, leader, "canary", &canary).await;
    for i in 0..60 {
        set(&mut l, leader, &format!("filler-{i}"), "x").await;
    }
    // A restart (log replay, snapshot load) with the new replication password.
    let old_process = cluster.restart_with_masterauth(followers[1], &new_masterauth);
    cluster.wait_follows(followers[1], CATCH_UP).await;
    cluster.wait_caught_up(followers[1], CATCH_UP).await;

    let mut admins = admin_clients(&cluster).await;
    for (id, c) in admins.iter_mut() {
        let info: String = call(c, &["INFO", "everything"])
            .await
            .unwrap_or_else(|e| panic!("INFO everything on node {id}: {e}"));
        for (what, s) in &secrets {
            assert!(
                !info.contains(s.as_str()),
                "INFO on node {id} shows the {what}"
            );
        }
    }
    drop(admins);
    for id in cluster.ids() {
        if cluster.node_mut(id).is_running() {
            cluster.stop(id);
        }
    }

    let mut findings = Vec::new();
    for id in cluster.ids() {
        let node = cluster.node(id);
        let mut files = Vec::new();
        files_under(node.dir(), &mut files);
        assert!(
            node.log().contains("SIGTERM"),
            "node {id}'s log ({}) is not where the scan looks",
            node.log_path().display()
        );
        let mut canary_seen = false;
        for file in &files {
            let bytes = std::fs::read(file).unwrap_or_default();
            if find(&bytes, canary.as_bytes()).is_some() {
                canary_seen = true;
            }
            for (what, s) in &secrets {
                if let Some(at) = find(&bytes, s.as_bytes()) {
                    let from = at.saturating_sub(100);
                    let to = (at + s.len() + 40).min(bytes.len());
                    findings.push(format!(
                        "node {id}: the {what} is in {} near: {:?}",
                        file.display(),
                        String::from_utf8_lossy(&bytes[from..to]).replace(s.as_str(), "<SECRET>")
                    ));
                }
            }
        }
        assert!(
            canary_seen,
            "node {id}: the canary value written with SET is in none of {} files under {}; \
             the scan would not see a plaintext password either: {:?}\n{}",
            files.len(),
            node.dir().display(),
            files
                .iter()
                .map(|f| (
                    f.display().to_string(),
                    std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)
                ))
                .collect::<Vec<_>>(),
            node.log()
        );
    }
    assert!(
        findings.is_empty(),
        "plaintext passwords on disk:\n{}",
        findings.join("\n")
    );
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
