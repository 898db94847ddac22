//! Helpers to start real `redoubt` processes for integration tests.
//!
//! One harness for every test that crosses a process boundary: the node crate's
//! `tests/` and the multi-node tests of this crate. A [`NodeProcess`] is a running
//! `redoubt` with its own data dir (a tempdir unless one is given), its own RESP and
//! raft ports, its log in `<dir>/redoubt.log` and its stdout/stderr in files beside it.
//! It is killed when dropped, so a failing test never leaves a server behind.
//!
//! Nothing here fakes the server: waits are bounded polls of the real process, and every
//! failure to start panics with the tail of the node's log and stderr.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub mod cluster;
pub mod load;
pub mod proxy;

/// How long a node may take to answer its first PING.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a node may take to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

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

fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A TCP port that is free on 127.0.0.1 now and was never handed out before by this process.
pub fn free_port() -> u16 {
    for _ in 0..1000 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        drop(listener);
        let mut set = handed_out().lock().unwrap_or_else(|p| p.into_inner());
        if set.insert(port) {
            return port;
        }
    }
    panic!("no free port found after 1000 attempts");
}

/// How to start a node. `NodeOptions::default()` starts a fresh node on free ports.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// Extra directives, passed as `--name value` after the harness's own. Set the port,
    /// raft address and data dir with their own fields instead, so that [`NodeProcess`]
    /// knows them.
    pub args: Vec<(String, String)>,
    /// An existing data dir (to start on another node's data); a tempdir when `None`.
    pub dir: Option<PathBuf>,
    /// Environment variables of the process (added to the test's environment).
    pub env: Vec<(String, String)>,
    /// The RESP port; a free one when `None`.
    pub port: Option<u16>,
    /// Whether to pass `--port`. False when the port comes from a config file or an
    /// environment variable; `port` must then say which port that is.
    pub port_flag: bool,
    /// The raft (gRPC) listen address; `127.0.0.1:<free port>` when `None`.
    pub raft_addr: Option<String>,
    /// A TOML config file, passed as `--config FILE`.
    pub config_file: Option<PathBuf>,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            args: Vec::new(),
            dir: None,
            env: Vec::new(),
            port: None,
            port_flag: true,
            raft_addr: None,
            config_file: None,
        }
    }
}

impl NodeOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `--name value`.
    pub fn arg(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.args.push((name.into(), value.into()));
        self
    }

    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The node gets its port elsewhere (config file, environment): do not pass `--port`.
    pub fn without_port_flag(mut self, port: u16) -> Self {
        self.port = Some(port);
        self.port_flag = false;
        self
    }

    pub fn raft_addr(mut self, addr: impl Into<String>) -> Self {
        self.raft_addr = Some(addr.into());
        self
    }

    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }
}

/// A running `redoubt` process. Killed (SIGKILL) when dropped.
pub struct NodeProcess {
    opts: NodeOptions,
    child: Option<Child>,
    port: u16,
    raft_addr: String,
    dir: PathBuf,
    /// Owns the data dir when the harness created it; removed after the process is gone.
    _tempdir: Option<tempfile::TempDir>,
}

impl NodeProcess {
    /// Starts a node and waits until it answers PING (at most [`START_TIMEOUT`]).
    /// When the harness picked the ports and the node could not listen on them (taken by
    /// someone else in between), it retries with new ones.
    pub fn start(opts: NodeOptions) -> NodeProcess {
        let auto_ports = opts.port.is_none() && opts.raft_addr.is_none();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (tempdir, dir) = match &opts.dir {
                Some(d) => (None, d.clone()),
                None => {
                    let t = tempfile::Builder::new()
                        .prefix("redoubt-test-")
                        .tempdir()
                        .expect("create a tempdir");
                    let p = t.path().to_path_buf();
                    (Some(t), p)
                }
            };
            let port = opts.port.unwrap_or_else(free_port);
            let raft_addr = opts
                .raft_addr
                .clone()
                .unwrap_or_else(|| format!("127.0.0.1:{}", free_port()));
            let mut node = NodeProcess {
                opts: opts.clone(),
                child: None,
                port,
                raft_addr,
                dir,
                _tempdir: tempdir,
            };
            match node.spawn_and_wait() {
                Ok(()) => return node,
                Err(report) => {
                    let port_clash = report.contains("Address already in use")
                        || report.contains("address already in use");
                    if auto_ports && port_clash && attempt < 3 {
                        continue;
                    }
                    panic!("{report}");
                }
            }
        }
    }

    /// Starts a node with default options.
    pub fn start_default() -> NodeProcess {
        NodeProcess::start(NodeOptions::default())
    }

    fn command_line(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(file) = &self.opts.config_file {
            args.push("--config".to_string());
            args.push(file.display().to_string());
        }
        if self.opts.port_flag {
            args.push("--port".into());
            args.push(self.port.to_string());
        }
        args.push("--dir".into());
        args.push(self.dir.display().to_string());
        args.push("--logfile".into());
        args.push(self.log_path().display().to_string());
        args.push("--raft-addr".into());
        args.push(self.raft_addr.clone());
        for (name, value) in &self.opts.args {
            args.push(format!("--{name}"));
            args.push(value.clone());
        }
        args
    }

    /// The same node as a `redis-server` command line (see [`reference_server`]): Redis has
    /// no raft, takes `rename-command OLD NEW` and keeps nothing on disk unless told.
    fn reference_command_line(&self) -> Vec<String> {
        let mut args = vec![
            "--port".to_string(),
            self.port.to_string(),
            "--dir".into(),
            self.dir.display().to_string(),
            "--logfile".into(),
            self.log_path().display().to_string(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "yes".into(),
            "--appendfsync".into(),
            "always".into(),
        ];
        for (name, value) in &self.opts.args {
            match name.as_str() {
                "raft-addr" | "node-id" => {}
                "rename-command" => {
                    let (old, new) = value.split_once('=').unwrap_or((value, ""));
                    args.extend(["--rename-command".into(), old.to_string(), new.to_string()]);
                }
                _ => args.extend([format!("--{name}"), value.clone()]),
            }
        }
        args
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        // 0700, as a node's data folder should be (a wider one makes the node warn).
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)
                .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        }
        let stdout = append_file(&self.dir.join("stdout.log"));
        let stderr = append_file(&self.dir.join("stderr.log"));
        let (program, args) = match reference_server() {
            Some(server) => (server, self.reference_command_line()),
            None => (redoubt_bin(), self.command_line()),
        };
        let mut cmd = Command::new(&program);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        for (k, v) in &self.opts.env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot spawn {}: {e}", program.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(format!(
                    "redoubt {} exited before answering PING ({status})\n{}",
                    args.join(" "),
                    self.diagnostics()
                ));
            }
            if ping_answers(self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.kill9();
                return Err(format!(
                    "redoubt {} did not answer PING on port {} within {:?}\n{}",
                    args.join(" "),
                    self.port,
                    START_TIMEOUT,
                    self.diagnostics()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The tails of the log, stderr and stdout, for panic messages.
    pub fn diagnostics(&self) -> String {
        let mut text = String::new();
        for (name, path) in [
            ("log", self.log_path()),
            ("stderr", self.dir.join("stderr.log")),
            ("stdout", self.dir.join("stdout.log")),
        ] {
            let content = std::fs::read(&path).unwrap_or_default();
            let content = String::from_utf8_lossy(&content);
            let lines: Vec<&str> = content.lines().collect();
            let tail = &lines[lines.len().saturating_sub(30)..];
            text.push_str(&format!(
                "--- {name} ({}) ---\n{}\n",
                path.display(),
                tail.join("\n")
            ));
        }
        text
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn raft_addr(&self) -> &str {
        &self.raft_addr
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// A new multiplexed connection (RESP2) to this node, with [`connection_config`]'s
    /// timeouts.
    pub async fn client(&self) -> redis::aio::MultiplexedConnection {
        match connect(&self.url()).await {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot connect to {}: {e}\n{}",
                self.url(),
                self.diagnostics()
            ),
        }
    }

    /// A `redis::Client` for this node (pub/sub, custom connection settings).
    pub fn redis_client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("a valid redis url")
    }

    /// SIGKILL, then wait for the process to be gone.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOP: the process stops running (its sockets stay open and fill up), as a node that
    /// hangs would. [`NodeProcess::resume`] continues it.
    pub fn pause(&mut self) {
        self.signal("STOP");
    }

    /// SIGCONT after [`NodeProcess::pause`].
    pub fn resume(&mut self) {
        self.signal("CONT");
    }

    fn signal(&mut self, name: &str) {
        let Some(pid) = self.pid() else {
            panic!("kill -{name}: the node is not running");
        };
        let pid = pid.to_string();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status();
        assert!(
            matches!(sent, Ok(s) if s.success()),
            "kill -{name} {pid} failed: {sent:?}"
        );
    }

    /// SIGTERM, then wait (at most [`STOP_TIMEOUT`]; panics, after a SIGKILL, if it is not
    /// gone by then). Returns the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let Some(mut child) = self.child.take() else {
            panic!("terminate: the node is not running");
        };
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(
            matches!(sent, Ok(s) if s.success()),
            "kill -TERM {pid} failed: {sent:?}"
        );
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "redoubt did not exit within {STOP_TIMEOUT:?} of SIGTERM\n{}",
                        self.diagnostics()
                    );
                }
            }
        }
    }

    /// Starts the node again on the same dir and ports (SIGTERM first if it still runs).
    pub fn restart(&mut self) {
        if self.is_running() {
            self.terminate();
        }
        self.child = None;
        if let Err(report) = self.spawn_and_wait() {
            panic!("restart failed: {report}");
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("redoubt.log")
    }

    /// The node's log file so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.log_path()).unwrap_or_default()).into_owned()
    }

    /// What the process wrote on stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.join("stderr.log")).unwrap_or_default())
            .into_owned()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn append_file(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
}

/// How test clients wait: the redis crate's default response timeout (500ms) is about
/// latency, not correctness, and turns a busy CI machine into flaky tests.
pub fn connection_config() -> redis::AsyncConnectionConfig {
    redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(15)))
}

/// A multiplexed connection to `url` (`redis://[:password@]host:port/[db]`) with
/// [`connection_config`].
pub async fn connect(url: &str) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    redis::Client::open(url)?
        .get_multiplexed_async_connection_with_config(&connection_config())
        .await
}

/// Whether something on 127.0.0.1:`port` answers a PING like a Redis server that is ready
/// (PONG, or an error such as NOAUTH that shows it serves commands; not LOADING).
pub fn ping_answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    // Any answer but LOADING means the node serves clients (PING may need AUTH, or may
    // have been renamed away).
    !got.starts_with(b"-LOADING")
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

/// A raw TCP client, for tests where the protocol itself is under test.
pub mod raw {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// How long a raw read waits before the test fails.
    pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

    /// A connection that sends bytes as given and reads whole RESP replies back.
    pub struct RawConn {
        pub stream: TcpStream,
        buf: Vec<u8>,
    }

    impl RawConn {
        pub async fn connect(port: u16) -> RawConn {
            let stream = TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
            RawConn {
                stream,
                buf: Vec::new(),
            }
        }

        /// Connects to `to`, from the local address `from` (any port) when given: for tests
        /// that depend on the client's address (protected mode, per-address limits).
        pub async fn connect_from(
            from: Option<std::net::IpAddr>,
            to: std::net::SocketAddr,
        ) -> std::io::Result<RawConn> {
            let socket = match to {
                std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
                std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
            };
            if let Some(ip) = from {
                socket.bind(std::net::SocketAddr::new(ip, 0))?;
            }
            let stream = tokio::time::timeout(Duration::from_secs(5), socket.connect(to))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
                })??;
            let _ = stream.set_nodelay(true);
            Ok(RawConn {
                stream,
                buf: Vec::new(),
            })
        }

        pub async fn send(&mut self, bytes: &[u8]) {
            self.stream
                .write_all(bytes)
                .await
                .expect("write to the server");
        }

        /// Sends one command as a RESP multibulk.
        pub async fn send_cmd(&mut self, args: &[&[u8]]) {
            self.send(&encode_cmd(args)).await;
        }

        /// Reads one complete RESP2/RESP3 reply (its exact bytes). Panics on timeout or if
        /// the server closes first.
        pub async fn read_reply(&mut self) -> Vec<u8> {
            match self.try_read_reply(READ_TIMEOUT).await {
                Ok(r) => r,
                Err(e) => panic!("{e}"),
            }
        }

        /// One complete reply, or why there is none (closed, timed out).
        pub async fn try_read_reply(&mut self, timeout: Duration) -> Result<Vec<u8>, String> {
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                if let Some(n) = reply_len(&self.buf) {
                    return Ok(self.buf.drain(..n).collect());
                }
                let mut chunk = [0u8; 16 * 1024];
                match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                    Err(_) => {
                        return Err(format!(
                            "no complete reply within {timeout:?}; got so far: {:?}",
                            String::from_utf8_lossy(&self.buf)
                        ))
                    }
                    Ok(Ok(0)) => {
                        return Err(format!(
                            "the server closed the connection; got so far: {:?}",
                            String::from_utf8_lossy(&self.buf)
                        ))
                    }
                    Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                    Ok(Err(e)) => return Err(format!("read failed: {e}")),
                }
            }
        }

        /// Sends a command and reads its reply.
        pub async fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
            self.send_cmd(args).await;
            self.read_reply().await
        }

        /// Reads until the server closes the connection (within `timeout`), returning
        /// everything read that was not consumed yet. Panics if it stays open.
        pub async fn read_until_closed(&mut self, timeout: Duration) -> Vec<u8> {
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                let mut chunk = [0u8; 16 * 1024];
                match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                    Err(_) => panic!(
                        "the server did not close the connection within {timeout:?}; read: {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ),
                    Ok(Ok(0)) | Ok(Err(_)) => return std::mem::take(&mut self.buf),
                    Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                }
            }
        }
    }

    /// A command as a RESP multibulk.
    pub fn encode_cmd(args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    fn line_end(buf: &[u8], from: usize) -> Option<usize> {
        buf.get(from..)?
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| from + p)
    }

    /// The length of the first complete RESP value in `buf`, if it is complete.
    pub fn reply_len(buf: &[u8]) -> Option<usize> {
        value_end(buf, 0)
    }

    fn value_end(buf: &[u8], at: usize) -> Option<usize> {
        let kind = *buf.get(at)?;
        let eol = line_end(buf, at + 1)?;
        let after = eol + 2;
        // Only length lines are parsed: simple strings and errors may hold any bytes.
        let length =
            || -> Option<i64> { std::str::from_utf8(&buf[at + 1..eol]).ok()?.parse().ok() };
        match kind {
            b'+' | b'-' | b':' | b',' | b'#' | b'_' | b'(' => Some(after),
            b'$' | b'!' | b'=' => {
                let n = length()?;
                if n < 0 {
                    return Some(after);
                }
                let end = after + n as usize + 2;
                (buf.len() >= end).then_some(end)
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let n = length()?;
                if n < 0 {
                    return Some(after);
                }
                let items = if matches!(kind, b'%' | b'|') {
                    n * 2
                } else {
                    n
                };
                let mut pos = after;
                for _ in 0..items {
                    pos = value_end(buf, pos)?;
                }
                Some(pos)
            }
            // Not RESP: the rest of the line.
            _ => Some(after),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::raw::{encode_cmd, reply_len};

    #[test]
    fn reply_len_finds_whole_resp2_and_resp3_values() {
        assert_eq!(reply_len(b"+OK\r\n+PONG\r\n"), Some(5));
        assert_eq!(reply_len(b"-ERR x \xfe\r\n"), Some(10));
        assert_eq!(reply_len(b"$3\r\nabc\r\n"), Some(9));
        assert_eq!(reply_len(b"$3\r\nab"), None);
        assert_eq!(reply_len(b"$-1\r\n"), Some(5));
        assert_eq!(reply_len(b"*2\r\n:1\r\n$1\r\nx\r\n"), Some(15));
        assert_eq!(reply_len(b"*2\r\n:1\r\n"), None);
        assert_eq!(reply_len(b"%1\r\n$1\r\nf\r\n,1.5\r\n"), Some(17));
        assert_eq!(reply_len(b">2\r\n_\r\n#t\r\n"), Some(11));
        assert_eq!(reply_len(b"+OK"), None);
    }

    #[test]
    fn commands_are_encoded_as_multibulk() {
        assert_eq!(
            encode_cmd(&[b"GET", b"k"]),
            b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
        );
    }
}
