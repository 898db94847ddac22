//! Shared helpers of the node's integration tests: start a node, run a command, build the
//! expected `redis::Value`s. Every test starts its own `redoubt` process (see
//! `redoubt-cluster-tests`), so tests run in parallel without sharing state.

use std::future::Future;
use std::time::Duration;

pub use redis::aio::MultiplexedConnection;
pub use redis::Value;
pub use redoubt_cluster_tests::raw::RawConn;
pub use redoubt_cluster_tests::{NodeOptions, NodeProcess};

/// A fresh node with default options and a connection to it.
pub async fn start() -> (NodeProcess, MultiplexedConnection) {
    start_with(NodeOptions::default()).await
}

pub async fn start_with(opts: NodeOptions) -> (NodeProcess, MultiplexedConnection) {
    let node = NodeProcess::start(opts);
    let con = node.client().await;
    (node, con)
}

/// A command from its words.
pub fn command(args: &[&str]) -> redis::Cmd {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd
}

/// The full text of a server error ("ERR wrong number of ..."), or the client's own error.
pub fn error_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    }
}

/// Runs a command; the reply or the error text.
pub async fn try_q(con: &mut MultiplexedConnection, args: &[&str]) -> Result<Value, String> {
    command(args)
        .query_async::<Value>(con)
        .await
        .map_err(|e| error_text(&e))
}

/// Runs a command that must succeed and returns its reply.
pub async fn q(con: &mut MultiplexedConnection, args: &[&str]) -> Value {
    match try_q(con, args).await {
        Ok(v) => v,
        Err(e) => panic!("{args:?} failed: {e}"),
    }
}

/// Runs a command that must fail and returns the error text.
pub async fn q_err(con: &mut MultiplexedConnection, args: &[&str]) -> String {
    match try_q(con, args).await {
        Ok(v) => panic!("{args:?} should have failed, replied {v:?}"),
        Err(e) => e,
    }
}

/// Asserts a command's reply.
pub async fn expect(con: &mut MultiplexedConnection, args: &[&str], want: Value) {
    let got = try_q(con, args).await;
    assert_eq!(got, Ok(want), "reply to {args:?}");
}

/// Asserts a command's error text.
pub async fn expect_err(con: &mut MultiplexedConnection, args: &[&str], want: &str) {
    let got = try_q(con, args).await;
    assert_eq!(got, Err(want.to_string()), "reply to {args:?}");
}

/// Asserts what a command gets back: `Ok(reply)`, or `Err(the error's text)`.
pub async fn expect_result(
    con: &mut MultiplexedConnection,
    args: &[&str],
    want: &Result<Value, &str>,
) {
    let got = try_q(con, args).await;
    assert_eq!(
        got.as_ref().map_err(String::as_str),
        want.as_ref().map_err(|e| *e),
        "reply to {args:?}"
    );
}

/// [`expect_result`] for each command in turn: a table of steps on one connection, each
/// seeing what the ones before it did.
pub async fn expect_each(
    con: &mut MultiplexedConnection,
    steps: &[(&[&str], Result<Value, &str>)],
) {
    for (args, want) in steps {
        expect_result(con, args, want).await;
    }
}

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const SYNTAX: &str = "ERR syntax error";

pub fn arity(cmd: &str) -> String {
    format!("ERR wrong number of arguments for '{cmd}' command")
}

// Expected replies.
pub fn b(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}
pub fn int(n: i64) -> Value {
    Value::Int(n)
}
pub fn ok() -> Value {
    Value::Okay
}
pub fn nil() -> Value {
    Value::Nil
}
pub fn simple(s: &str) -> Value {
    Value::SimpleString(s.to_string())
}
pub fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}
/// An array of bulk strings.
pub fn bulks(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| b(s)).collect())
}

/// An array reply's items as strings, sorted (for replies whose order is unspecified).
pub fn sorted_strings(v: &Value) -> Vec<String> {
    let mut out = strings(v);
    out.sort();
    out
}

/// An array reply's items as strings, in order.
pub fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) | Value::Set(items) => items.iter().map(text).collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// A scalar reply as text.
pub fn text(v: &Value) -> String {
    match v {
        Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".to_string(),
        Value::Int(n) => n.to_string(),
        Value::VerbatimString { text, .. } => text.clone(),
        Value::Double(d) => d.to_string(),
        other => panic!("expected a string, got {other:?}"),
    }
}

pub fn as_int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// Polls `check` every 10ms until it returns true, failing after `within`.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A new connection still gets PONG: the server survived whatever the test did.
pub async fn assert_alive(node: &NodeProcess) {
    let mut fresh = RawConn::connect(node.port()).await;
    let reply = fresh.call(&[b"PING"]).await;
    assert_eq!(reply, b"+PONG\r\n", "a fresh client's PING");
}

/// Shows raw reply bytes readably in assertion messages.
pub fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Bytes with everything but printable ASCII escaped (`\xfe`), for exact comparisons.
pub fn escaped(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect()
}

/// Every file under `dir` (recursively) with its content.
pub fn all_files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                if let Ok(bytes) = std::fs::read(&path) {
                    out.push((path, bytes));
                }
            }
        }
    }
    out
}

pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A numeric field of INFO `section`.
pub async fn info_number(con: &mut MultiplexedConnection, section: &str, field: &str) -> i64 {
    let info = text(&q(con, &["INFO", section]).await);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no numeric {field} in INFO {section}:\n{info}"))
}

/// Writes `filler:N` keys one entry at a time until the node (started with a small
/// `raft-snapshot-logs`) has taken a snapshot and purged at least `purged` entries from its
/// log: from then on what those entries wrote is only in the snapshot. Returns how many fillers.
pub async fn write_until_log_purged(con: &mut MultiplexedConnection, purged: u64) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut n = 0;
    loop {
        for _ in 0..50 {
            n += 1;
            expect(con, &["SET", &format!("filler:{n}"), "x"], ok()).await;
        }
        let last = info_number(con, "replication", "raft_last_log_index").await;
        let kept = info_number(con, "persistence", "raft_log_entries").await;
        if last - kept >= purged as i64 {
            return n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log was not purged by {purged} entries after {n} writes (last index {last}, {kept} kept)"
        );
    }
}
