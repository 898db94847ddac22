//! What a client was told is written stays written: across kill -9, SIGTERM and repeated
//! restarts on the same data dir, with no write lost and none applied twice.

use std::time::Duration;

use crate::common::*;

async fn set_keys(c: &mut MultiplexedConnection, prefix: &str, n: usize) {
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET")
            .arg(format!("{prefix}{i}"))
            .arg(format!("value-{i}"));
    }
    let replies: Vec<Value> = pipe.query_async(c).await.expect("SET pipeline");
    assert!(replies.iter().all(|r| *r == ok()), "every SET acknowledged");
}

async fn assert_keys(c: &mut MultiplexedConnection, prefix: &str, n: usize) {
    let mut cmd = redis::cmd("MGET");
    for i in 0..n {
        cmd.arg(format!("{prefix}{i}"));
    }
    let got: Vec<Option<String>> = cmd.query_async(c).await.expect("MGET");
    for (i, v) in got.iter().enumerate() {
        assert_eq!(
            v.as_deref(),
            Some(format!("value-{i}").as_str()),
            "{prefix}{i} after restart"
        );
    }
}

#[tokio::test]
async fn two_hundred_keys_survive_kill_9() {
    let (mut node, mut c) = start().await;
    set_keys(&mut c, "k", 200).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    assert_keys(&mut c, "k", 200).await;
    expect(&mut c, &["DBSIZE"], int(200)).await;
}

#[tokio::test]
async fn two_hundred_keys_survive_a_sigterm_restart() {
    let (mut node, mut c) = start().await;
    set_keys(&mut c, "k", 200).await;
    let status = node.terminate();
    assert!(status.success(), "SIGTERM exits cleanly: {status}");
    node.restart();
    let mut c = node.client().await;
    assert_keys(&mut c, "k", 200).await;
    expect(&mut c, &["DBSIZE"], int(200)).await;
}

#[tokio::test]
async fn a_write_acknowledged_just_before_kill_9_is_kept() {
    let (mut node, mut c) = start().await;
    expect(&mut c, &["SET", "last", "v"], ok()).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    expect(&mut c, &["GET", "last"], b("v")).await;
    // Many concurrent writes, all acknowledged, then kill -9 at once.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let mut c = c.clone();
        tasks.push(tokio::spawn(async move {
            try_q(&mut c, &["SET", &format!("c{i}"), &format!("value-{i}")]).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task"), Ok(ok()));
    }
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    assert_keys(&mut c, "c", 50).await;
}

#[tokio::test]
async fn replaying_the_log_applies_each_write_once() {
    let (mut node, mut c) = start().await;
    let mut pipe = redis::pipe();
    for _ in 0..100 {
        pipe.cmd("INCR").arg("counter");
        pipe.cmd("RPUSH").arg("list").arg("x");
    }
    let _: Vec<Value> = pipe.query_async(&mut c).await.expect("pipeline");
    expect(&mut c, &["APPEND", "s", "ab"], int(2)).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    expect(&mut c, &["GET", "counter"], b("100")).await;
    expect(&mut c, &["LLEN", "list"], int(100)).await;
    expect(&mut c, &["GET", "s"], b("ab")).await;
    node.terminate();
    node.restart();
    let mut c = node.client().await;
    expect(&mut c, &["INCR", "counter"], int(101)).await;
    expect(&mut c, &["LLEN", "list"], int(100)).await;
}

#[tokio::test]
async fn collections_dbs_and_ttls_survive_a_restart() {
    let (mut node, mut c) = start().await;
    expect(&mut c, &["HSET", "h", "f1", "v1", "f2", "v2"], int(2)).await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["SADD", "s", "x", "y"], int(2)).await;
    expect(&mut c, &["ZADD", "z", "1", "a", "2.5", "b"], int(2)).await;
    expect(&mut c, &["SET", "ttl", "v", "EX", "100"], ok()).await;
    expect(&mut c, &["SET", "short", "v", "PX", "300"], ok()).await;
    expect(&mut c, &["SET", "gone", "v"], ok()).await;
    expect(&mut c, &["DEL", "gone"], int(1)).await;
    expect(&mut c, &["SELECT", "5"], ok()).await;
    expect(&mut c, &["SET", "in5", "five"], ok()).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    expect(&mut c, &["HGET", "h", "f2"], b("v2")).await;
    expect(&mut c, &["HLEN", "h"], int(2)).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["a", "b", "c"])).await;
    assert_eq!(
        sorted_strings(&q(&mut c, &["SMEMBERS", "s"]).await),
        ["x", "y"]
    );
    expect(
        &mut c,
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        bulks(&["a", "1", "b", "2.5"]),
    )
    .await;
    let ttl = as_int(&q(&mut c, &["TTL", "ttl"]).await);
    assert!((90..=100).contains(&ttl), "TTL after restart: {ttl}");
    expect(&mut c, &["EXISTS", "gone"], int(0)).await;
    let probe = c.clone();
    eventually(
        "the 300ms key expires after the restart",
        Duration::from_secs(5),
        || {
            let mut c = probe.clone();
            async move { try_q(&mut c, &["EXISTS", "short"]).await == Ok(int(0)) }
        },
    )
    .await;
    expect(&mut c, &["SELECT", "5"], ok()).await;
    expect(&mut c, &["GET", "in5"], b("five")).await;
}

#[tokio::test]
async fn writes_continue_across_several_restarts() {
    let (mut node, mut c) = start().await;
    set_keys(&mut c, "a", 20).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    set_keys(&mut c, "b", 20).await;
    node.terminate();
    node.restart();
    let mut c = node.client().await;
    set_keys(&mut c, "c", 20).await;
    expect(&mut c, &["FLUSHDB"], ok()).await;
    expect(&mut c, &["SET", "after-flush", "1"], ok()).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    expect(&mut c, &["KEYS", "*"], bulks(&["after-flush"])).await;
    set_keys(&mut c, "d", 20).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    assert_keys(&mut c, "d", 20).await;
    expect(&mut c, &["DBSIZE"], int(21)).await;
}

// ---- files at rest ----

/// Every path under `root` (itself included) with its permission bits; symbolic links are
/// not followed.
fn modes_under(root: &std::path::Path) -> Vec<(std::path::PathBuf, bool, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            // Renamed while we walked (a snapshot's temporary file).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("stat {}: {e}", path.display()),
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
        out.push((path, meta.is_dir(), meta.permissions().mode() & 0o7777));
    }
    out
}

fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Asserts that every file under `root` is 0600 and every folder 0700.
fn assert_private(root: &std::path::Path, node: &NodeProcess) {
    let entries = modes_under(root);
    let loose: Vec<String> = entries
        .iter()
        .filter(|(_, is_dir, mode)| *mode != if *is_dir { 0o700 } else { 0o600 })
        .map(|(p, _, mode)| format!("{} {mode:04o}", p.display()))
        .collect();
    assert!(
        loose.is_empty(),
        "not private (files 0600, folders 0700): {loose:?}\n{}",
        node.diagnostics()
    );
}

#[tokio::test]
async fn a_fresh_dir_is_created_0700_and_every_file_in_it_is_0600() {
    let parent = tempfile::tempdir().expect("tempdir");
    // A dir that does not exist yet, two levels deep. The harness keeps its own dir for the
    // process's stdout/stderr and the logfile; this `--dir` comes later and wins.
    let dir = parent.path().join("fresh").join("node");
    let node = NodeProcess::start(
        NodeOptions::new()
            .arg("dir", dir.display().to_string())
            .arg("raft-snapshot-logs", "20"),
    );
    let mut c = node.client().await;
    set_keys(&mut c, "k", 100).await;
    expect(
        &mut c,
        &["ACL", "SETUSER", "alice", "on", ">secret", "+@all"],
        ok(),
    )
    .await;
    // A snapshot is taken every 20 log entries (a pipeline may share one): write one key at a
    // time until a snapshot is on disk.
    let snapshots = dir.join("snapshots");
    let has_snapshot =
        || std::fs::read_dir(&snapshots).is_ok_and(|mut entries| entries.next().is_some());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    while !has_snapshot() {
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot under {} after {n} writes\n{}",
            dir.display(),
            node.diagnostics()
        );
        n += 1;
        expect(&mut c, &["SET", &format!("filler:{n}"), "x"], ok()).await;
    }
    assert!(
        dir.join("data").is_dir(),
        "the dataset is under the new dir"
    );
    assert_private(&dir, &node);
    // The logfile, created by the node (outside dir here), is private too.
    assert_eq!(mode_of(&node.log_path()), 0o600, "the logfile's mode");
}

#[tokio::test]
async fn an_open_dir_is_warned_about_and_loose_files_in_it_are_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().expect("tempdir");
    let dir = parent.path().join("node");
    std::fs::create_dir(&dir).expect("create dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut node = NodeProcess::start(NodeOptions::new().dir(&dir));
    let warning = format!("path={} mode=0755", dir.display());
    let log = node.log();
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains(&warning) && l.contains("chmod 700")),
        "a warning naming {} and its mode:\n{log}",
        dir.display()
    );
    // The operator's dir is left as it is; what the node wrote inside is private.
    assert_eq!(mode_of(&dir), 0o755);
    assert_private(&dir.join("data"), &node);
    let mut c = node.client().await;
    set_keys(&mut c, "k", 10).await;
    drop(c);
    // Files left group/world readable (as a release before this one made them) are made
    // private again at the next start, with a log line for each.
    node.terminate();
    let db = dir.join("data").join("db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod db");
    std::fs::set_permissions(dir.join("data"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod data");
    node.restart();
    assert_private(&dir.join("data"), &node);
    let log = node.log();
    for path in [dir.join("data"), db] {
        let line = format!("path={} was=", path.display());
        assert!(
            log.contains(&line),
            "a log line for {}:\n{log}",
            path.display()
        );
    }
    let mut c = node.client().await;
    assert_keys(&mut c, "k", 10).await;
}

#[tokio::test]
async fn keys_only_a_snapshot_holds_survive_kill_9() {
    // The keyspace lives in memory: after a restart it is the newest snapshot plus the log
    // after it. Write keys, then enough entries that the log is purged past them (their only
    // copy on disk is the snapshot), then a tail that only the log holds.
    let (mut node, mut c) = start_with(NodeOptions::new().arg("raft-snapshot-logs", "20")).await;
    set_keys(&mut c, "early", 300).await;
    expect(&mut c, &["RPUSH", "list", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["HSET", "hash", "f", "v"], int(1)).await;
    expect(&mut c, &["ZADD", "zset", "1.5", "m"], int(1)).await;
    expect(&mut c, &["SET", "ttl", "v", "EX", "1000"], ok()).await;
    expect(&mut c, &["SELECT", "5"], ok()).await;
    expect(&mut c, &["SET", "in-db5", "v"], ok()).await;
    expect(&mut c, &["SELECT", "0"], ok()).await;
    let fillers = write_until_log_purged(&mut c, 1100).await;
    set_keys(&mut c, "late", 30).await;
    node.kill9();
    node.restart();
    let mut c = node.client().await;
    assert_keys(&mut c, "early", 300).await;
    assert_keys(&mut c, "late", 30).await;
    expect(
        &mut c,
        &["LRANGE", "list", "0", "-1"],
        bulks(&["a", "b", "c"]),
    )
    .await;
    expect(&mut c, &["HGET", "hash", "f"], b("v")).await;
    expect(&mut c, &["ZSCORE", "zset", "m"], b("1.5")).await;
    let ttl = as_int(&q(&mut c, &["TTL", "ttl"]).await);
    assert!((900..=1000).contains(&ttl), "TTL after restart: {ttl}");
    expect(&mut c, &["DBSIZE"], int(300 + 30 + 4 + fillers as i64)).await;
    expect(&mut c, &["SELECT", "5"], ok()).await;
    expect(&mut c, &["GET", "in-db5"], b("v")).await;
}

#[tokio::test]
async fn bgsave_writes_a_snapshot_of_everything_applied() {
    let (node, mut c) = start().await;
    set_keys(&mut c, "k", 50).await;
    let snapshot = node.dir().join("snapshots").join("snapshot.bin");
    assert!(!snapshot.exists(), "no snapshot before BGSAVE");
    let started = as_int(&q(&mut c, &["LASTSAVE"]).await);
    // LASTSAVE has second resolution: make the save land in a later second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    expect(&mut c, &["BGSAVE"], simple("Background saving started")).await;
    expect_err(&mut c, &["BGSAVE", "NOW"], "ERR syntax error").await;
    let applied = info_number(&mut c, "replication", "raft_applied_index").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let raft = text(&q(&mut c, &["RAFT.INFO"]).await);
        let index: i64 = raft
            .lines()
            .find_map(|l| l.strip_prefix("snapshot_index:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no snapshot_index in RAFT.INFO:\n{raft}"));
        if index >= applied {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot at {applied} after BGSAVE:\n{raft}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let bytes = std::fs::read(&snapshot).expect("snapshot");
    assert!(
        contains_bytes(&bytes, b"value-49"),
        "the snapshot holds the data"
    );
    let saved = as_int(&q(&mut c, &["LASTSAVE"]).await);
    assert!(
        saved > started,
        "LASTSAVE {saved} after a BGSAVE, {started} before"
    );
}
