//! ACL users, passwords and permissions across a three-node cluster: users and `requirepass`
//! are replicated state (one node's ACL SETUSER / DELUSER / LOAD / CONFIG SET requirepass is
//! seen at once by every node), a revoked permission stops a user's writes everywhere at once,
//! a deleted or disabled user's connections are closed on every node, the replication user's
//! password can be rotated without downtime, ACL LOG stays per node, and no plaintext password
//! reaches a log or a data file. Real processes and real `redis` clients; each test starts its
//! own cluster.

mod acl_load_and_log;
mod closed_connections;
mod replicated_users;
mod replication_user;
mod requirepass;
mod revocation;
mod secrets;

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{FromRedisValue, RedisError, RedisResult};
use redoubt_cluster_tests::cluster::{random_secret, Cluster, ClusterOptions, LEADER_TIMEOUT};
use redoubt_cluster_tests::connect;

/// The detail of `-WRONGPASS`.
const WRONGPASS: &str = "invalid username-password pair or user is disabled.";
/// The detail of `-NOAUTH`.
const NOAUTH: &str = "Authentication required.";

/// Bound of a catch-up wait (restart, join).
const CATCH_UP: Duration = Duration::from_secs(30);

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

/// The name under which the cluster's replication user exists: `CONFIG GET masteruser` when
/// the node answers it, else Redoubt's default `replicator`.
async fn masteruser(c: &mut MultiplexedConnection) -> String {
    match call::<Vec<String>>(c, &["CONFIG", "GET", "masteruser"]).await {
        Ok(pair) if pair.len() == 2 && !pair[1].is_empty() => pair[1].clone(),
        _ => "replicator".to_string(),
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
