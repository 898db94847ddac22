//! The programs the tests run to their end: the `redoubt` binary (found next to the test
//! executable, or `$REDOUBT_BIN`; or `redis-server` in its place), `redoubt certs init`,
//! `redis-cli`; and a process's peak memory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `redoubt` binary: `$REDOUBT_BIN`, else the one cargo built next to this test
/// executable (`target/<profile>/deps/<test>` -> `target/<profile>/redoubt`).
pub fn redoubt_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("REDOUBT_BIN") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "REDOUBT_BIN points at {}, which is not a file",
            path.display()
        );
        return path;
    }
    let exe = std::env::current_exe().expect("the path of the test executable");
    let mut candidates = Vec::new();
    if let Some(dir) = exe.parent() {
        // target/<profile>/deps/<test> -> target/<profile>/redoubt
        if let Some(profile) = dir.parent() {
            candidates.push(profile.join("redoubt"));
        }
        candidates.push(dir.join("redoubt"));
    }
    for c in &candidates {
        if c.is_file() {
            return c.clone();
        }
    }
    panic!(
        "the redoubt binary was not found (looked at {}); build it with `cargo build -p redoubt-node` \
         or set REDOUBT_BIN to its path",
        candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
    );
}

/// `$REDOUBT_TEST_REFERENCE`: the path of a real `redis-server` to run instead of
/// `redoubt`, to check that the tests' expectations are Redis's own. Redoubt-only tests
/// (config layering, raft) are expected to fail in that mode.
pub fn reference_server() -> Option<PathBuf> {
    std::env::var_os("REDOUBT_TEST_REFERENCE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Runs the `redoubt` binary with `args` and `env` to its end (bounded by `timeout`: the
/// process is killed and this panics past it). For start-up failures (bad config).
pub fn run_redoubt(args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Output {
    let mut cmd = Command::new(redoubt_bin());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn redoubt");
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().expect("collect output"),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("collect output");
                panic!(
                    "redoubt {args:?} still ran after {timeout:?}; stderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
}

/// `redoubt certs init --out dir --nodes names`: `ca.crt`, `ca.key`, `<name>.crt/.key` and
/// the client certificate `client.crt/.key`.
pub fn certs_init(dir: &Path, names: &[&str]) {
    let out = run_redoubt(
        &[
            "certs",
            "init",
            "--out",
            &dir.display().to_string(),
            "--nodes",
            &names.join(","),
        ],
        &[],
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "redoubt certs init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Peak resident memory of a process (VmHWM), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Whether `redis-cli` is installed.
pub fn redis_cli_available() -> bool {
    Command::new("redis-cli")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `redis-cli -h 127.0.0.1 -p <port> <args>...`, for shell-style checks.
pub fn run_redis_cli(port: u16, args: &[&str]) -> Output {
    Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli (install redis-tools)")
}
