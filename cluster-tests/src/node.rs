//! One `redoubt` process: how to start it ([`NodeOptions`]), and the running process
//! ([`NodeProcess`]): start, stop, restart, signals, and its log for failure reports.

use std::fs::{File, OpenOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{connect, free_port, ping_answers, redoubt_bin, reference_server};

/// How long a node may take to answer its first PING.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a node may take to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

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

    /// A new multiplexed connection (RESP2) to this node, with [`crate::connection_config`]'s
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
