//! A Raft cluster of real `redoubt` processes on loopback, for multi-node tests.
//!
//! [`Cluster::start`] starts `n` nodes (ids `1..=n`) on free ports, each with its own data dir,
//! all listed in every node's `peers`, node 1 with `bootstrap yes`, and one replication password
//! (`masterauth`) made up for this cluster. The peer channel is plaintext (`peer-tls no`) unless
//! [`ClusterOptions::peer_tls`] says otherwise; per-node directives (certificate paths, once the
//! peer channel's mutual TLS is on by default) come from [`ClusterOptions::node_args`].
//!
//! Every wait is a bounded poll of the real processes; a wait that runs out panics with what
//! each node last said (`INFO replication`) and the tails of every node's log.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::MultiplexedConnection;

use crate::proxy::{node_source_ip, Fault, FaultProxy};
use crate::{connect, free_port, NodeOptions, NodeProcess};

/// Directives of one node, by node id (certificate and key paths, per-node overrides).
pub type NodeArgsFn = Arc<dyn Fn(usize) -> Vec<(String, String)> + Send + Sync>;

/// How long [`Cluster::leader`] and the other helpers wait for a leader.
pub const LEADER_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one INFO poll of one node may take before it counts as no answer.
const POLL_CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between two polls.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// How to start a cluster.
#[derive(Clone, Default)]
pub struct ClusterOptions {
    /// Directives given to every node, after the cluster's own (`--name value`).
    pub args: Vec<(String, String)>,
    /// Directives of one node, by id (after `args`), for nodes started by `start` and by
    /// [`Cluster::add_node_via_join`] alike.
    pub node_args: Option<NodeArgsFn>,
    /// Mutual TLS on the peer channel. `false` (the default for now) passes `--peer-tls no`;
    /// `true` passes nothing, so the node's default applies and `node_args` must give the
    /// certificates.
    pub peer_tls: bool,
    /// The replication password; a fresh random one per cluster when `None`.
    pub masterauth: Option<String>,
    /// A [`FaultProxy`] in front of every node's peer port: the membership records the
    /// proxies' addresses and each node dials its peers from its own loopback address
    /// (`bind-source-addr`), so each directed link can be cut or delayed.
    pub proxied: bool,
}

impl ClusterOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `--name value` to every node.
    pub fn arg(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.args.push((name.into(), value.into()));
        self
    }

    /// Per-node directives (e.g. `peer-tls-cert-file` = `nodeN.crt`).
    pub fn node_args(
        mut self,
        f: impl Fn(usize) -> Vec<(String, String)> + Send + Sync + 'static,
    ) -> Self {
        self.node_args = Some(Arc::new(f));
        self
    }

    pub fn peer_tls(mut self, on: bool) -> Self {
        self.peer_tls = on;
        self
    }

    pub fn masterauth(mut self, password: impl Into<String>) -> Self {
        self.masterauth = Some(password.into());
        self
    }

    /// Puts a fault proxy in front of every node's peer port (see [`Cluster::isolate`]).
    pub fn proxied(mut self) -> Self {
        self.proxied = true;
        self
    }
}

/// A password nobody else uses: time, process id and a counter, hashed a little.
/// Mutual TLS on the peer channel with `node{id}.crt/.key` and `ca.crt` of `dir` (as
/// [`crate::certs_init`] writes them) for node `id`.
pub fn peer_tls_options(dir: &std::path::Path) -> ClusterOptions {
    let dir = dir.to_path_buf();
    ClusterOptions::new().peer_tls(true).node_args(move |id| {
        let file = |name: &str| dir.join(name).display().to_string();
        vec![
            ("peer-tls-cert-file".into(), file(&format!("node{id}.crt"))),
            ("peer-tls-key-file".into(), file(&format!("node{id}.key"))),
            ("peer-tls-ca-cert-file".into(), file("ca.crt")),
        ]
    })
}

pub fn random_secret() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = String::from("repl-");
    for _ in 0..2 {
        // splitmix64
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let _ = write!(out, "{z:016x}");
    }
    out
}

/// `INFO`-style text (`name:value` lines; `#` headers and blank lines skipped) as a map.
pub fn parse_info(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.trim_end_matches('\r').split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Whether an error means "not applied, try again" for a client of a cluster: TRYAGAIN
/// (election), a dropped or refused connection, or a timeout.
pub fn is_retryable(e: &redis::RedisError) -> bool {
    e.code() == Some("TRYAGAIN")
        || e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
}

/// What one node says about Raft in `INFO replication`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaftView {
    pub state: String,
    pub leader_id: Option<usize>,
    pub term: u64,
    pub applied_index: u64,
    pub last_log_index: u64,
}

impl RaftView {
    fn from_info(info: &HashMap<String, String>) -> RaftView {
        let num = |k: &str| {
            info.get(k)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        RaftView {
            state: info.get("raft_state").cloned().unwrap_or_default(),
            leader_id: info
                .get("raft_leader_id")
                .and_then(|v| v.trim().parse::<usize>().ok()),
            term: num("raft_term"),
            applied_index: num("raft_applied_index"),
            last_log_index: num("raft_last_log_index"),
        }
    }
}

/// SET on node `node` through `c`, asserting OK (the node is named in any failure).
pub async fn set(c: &mut MultiplexedConnection, node: usize, key: &str, value: &str) {
    let r: redis::RedisResult<String> = redis::cmd("SET").arg(key).arg(value).query_async(c).await;
    match r {
        Ok(ok) => assert_eq!(ok, "OK", "SET {key} on node {node}"),
        Err(e) => panic!("SET {key} {value} on node {node} failed: {e}"),
    }
}

/// [`set`], asked again while its outcome is unknown because the leader changed (or no
/// leader is known yet): SET is idempotent, and an election is allowed where this is used.
pub async fn set_through_elections(
    c: &mut MultiplexedConnection,
    node: usize,
    key: &str,
    value: &str,
) {
    for _ in 0..50 {
        let r: redis::RedisResult<String> =
            redis::cmd("SET").arg(key).arg(value).query_async(c).await;
        match r {
            Ok(ok) => {
                assert_eq!(ok, "OK", "SET {key} on node {node}");
                return;
            }
            // Not applied (is_retryable), or applied or not (the leader changed mid-write).
            Err(e) if is_retryable(&e) || e.to_string().contains("leader changed") => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("SET {key} {value} on node {node} failed: {e}"),
        }
    }
    panic!("SET {key} on node {node}: no leader settled within 5 s");
}

/// GET on node `node` through `c`.
pub async fn get(c: &mut MultiplexedConnection, node: usize, key: &str) -> Option<String> {
    redis::cmd("GET")
        .arg(key)
        .query_async(c)
        .await
        .unwrap_or_else(|e| panic!("GET {key} on node {node} failed: {e}"))
}

/// A running cluster. Dropping it kills every node.
pub struct Cluster {
    opts: ClusterOptions,
    masterauth: String,
    nodes: BTreeMap<usize, NodeProcess>,
    /// Nodes the tests consider members (started, joined, not removed).
    members: BTreeSet<usize>,
    /// Members that run but are stopped (SIGSTOP) or cut off: waits for a leader skip them.
    paused: BTreeSet<usize>,
    isolated: BTreeSet<usize>,
    /// The fault proxy in front of each node's peer port ([`ClusterOptions::proxied`]).
    proxies: BTreeMap<usize, FaultProxy>,
}

impl Cluster {
    /// Starts `n` nodes (ids `1..=n`) and waits until each answers PING. It does not wait for
    /// a leader: see [`Cluster::wait_for_leader`].
    pub fn start(n: usize, opts: ClusterOptions) -> Cluster {
        assert!(n >= 1, "a cluster needs at least one node");
        let masterauth = opts.masterauth.clone().unwrap_or_else(random_secret);
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let mut proxies = BTreeMap::new();
        if opts.proxied {
            for (i, (_, raft)) in ports.iter().enumerate() {
                let target = std::net::SocketAddr::from(([127, 0, 0, 1], *raft));
                let proxy = FaultProxy::start_on(free_port(), target).expect("start a fault proxy");
                proxies.insert(i + 1, proxy);
            }
        }
        // Where the others reach each node: its proxy, or its peer port.
        let advertised: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, (_, raft))| match proxies.get(&(i + 1)) {
                Some(p) => p.addr().to_string(),
                None => format!("127.0.0.1:{raft}"),
            })
            .collect();
        let peers = advertised
            .iter()
            .enumerate()
            .map(|(i, addr)| format!("{}=node{}@{addr}", i + 1, i + 1))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = Cluster {
            opts,
            masterauth,
            nodes: BTreeMap::new(),
            members: BTreeSet::new(),
            paused: BTreeSet::new(),
            isolated: BTreeSet::new(),
            proxies,
        };
        for (i, (port, raft)) in ports.into_iter().enumerate() {
            let id = i + 1;
            let mut node_opts = cluster
                .base_options(id, &cluster.masterauth.clone())
                .port(port)
                .raft_addr(format!("127.0.0.1:{raft}"))
                .arg("peers", peers.clone());
            if cluster.opts.proxied {
                node_opts = node_opts
                    .arg("raft-advertise-addr", advertised[i].clone())
                    .arg("bind-source-addr", node_source_ip(id).to_string());
            }
            if id == 1 {
                node_opts = node_opts.arg("bootstrap", "yes");
            }
            node_opts = cluster.with_extra_args(id, node_opts);
            let node = cluster.spawn(id, node_opts);
            cluster.nodes.insert(id, node);
            cluster.members.insert(id);
        }
        cluster
    }

    /// The cluster's own directives for node `id` (before the caller's).
    fn base_options(&self, id: usize, masterauth: &str) -> NodeOptions {
        let mut o = NodeOptions::new()
            .arg("node-id", id.to_string())
            .arg("masterauth", masterauth);
        if !self.opts.peer_tls {
            o = o.arg("peer-tls", "no");
        }
        o
    }

    fn with_extra_args(&self, id: usize, mut o: NodeOptions) -> NodeOptions {
        o.args.extend(self.opts.args.iter().cloned());
        if let Some(f) = &self.opts.node_args {
            o.args.extend(f(id));
        }
        o
    }

    /// Starts a process, turning a failure into a panic that shows the other nodes too.
    fn spawn(&self, id: usize, opts: NodeOptions) -> NodeProcess {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| NodeProcess::start(opts))) {
            Ok(node) => node,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!(
                    "node {id} of the cluster did not start: {msg}\n{}",
                    self.diagnostics()
                );
            }
        }
    }

    /// The replication password of this cluster.
    pub fn masterauth(&self) -> &str {
        &self.masterauth
    }

    /// Every node id the cluster started (running or not, member or not).
    pub fn ids(&self) -> Vec<usize> {
        self.nodes.keys().copied().collect()
    }

    /// Ids the tests consider members (not removed with [`Cluster::forget`]).
    pub fn members(&self) -> Vec<usize> {
        self.members.iter().copied().collect()
    }

    /// Members whose process runs (not killed or stopped through this helper) and that are
    /// not paused or cut off ([`Cluster::pause`], [`Cluster::isolate`]).
    pub fn live_members(&self) -> Vec<usize> {
        self.members
            .iter()
            .copied()
            .filter(|id| self.nodes.get(id).is_some_and(|n| n.pid().is_some()))
            .filter(|id| !self.paused.contains(id) && !self.isolated.contains(id))
            .collect()
    }

    /// SIGSTOP node `id`; waits for a leader skip it until [`Cluster::resume`].
    pub fn pause(&mut self, id: usize) {
        self.node_mut(id).pause();
        self.paused.insert(id);
    }

    pub fn resume(&mut self, id: usize) {
        self.node_mut(id).resume();
        self.paused.remove(&id);
    }

    /// Writes `<tag>-<id>` through every live member, then reads every one back on every live
    /// member: the cluster takes writes anywhere and replicates them.
    pub async fn small_writes_work_everywhere(&self, tag: &str) {
        for id in self.live_members() {
            let mut c = self.client(id).await;
            set_through_elections(&mut c, id, &format!("{tag}-{id}"), "v").await;
        }
        for id in self.live_members() {
            let mut c = self.client(id).await;
            for from in self.live_members() {
                assert_eq!(
                    get(&mut c, id, &format!("{tag}-{from}")).await.as_deref(),
                    Some("v"),
                    "node {id} does not have the write made through node {from}"
                );
            }
        }
    }

    /// The fault proxy in front of node `id`'s peer port (a proxied cluster only).
    pub fn proxy(&self, id: usize) -> &FaultProxy {
        self.proxies.get(&id).unwrap_or_else(|| {
            panic!("node {id} has no fault proxy: start with ClusterOptions::proxied")
        })
    }

    /// Cuts node `id` off from every other node, both ways (its connections to them and
    /// theirs to it are silently dropped, as a pulled cable would); waits for a leader skip
    /// it until [`Cluster::heal`].
    pub fn isolate(&mut self, id: usize) {
        self.proxy(id).set(None, Fault::Drop);
        for (other, proxy) in &self.proxies {
            if *other != id {
                proxy.set(Some(node_source_ip(id)), Fault::Drop);
            }
        }
        self.isolated.insert(id);
    }

    /// Every link passes again.
    pub fn heal(&mut self) {
        for proxy in self.proxies.values() {
            proxy.clear();
        }
        self.isolated.clear();
    }

    /// Adds `rtt` to the round trip of every peer link (half each way).
    pub fn delay_links(&self, rtt: Duration) {
        for proxy in self.proxies.values() {
            proxy.set(None, Fault::Delay(rtt / 2));
        }
    }

    pub fn node(&self, id: usize) -> &NodeProcess {
        self.nodes
            .get(&id)
            .unwrap_or_else(|| panic!("the cluster has no node {id} (nodes: {:?})", self.ids()))
    }

    pub fn node_mut(&mut self, id: usize) -> &mut NodeProcess {
        let ids = self.ids();
        self.nodes
            .get_mut(&id)
            .unwrap_or_else(|| panic!("the cluster has no node {id} (nodes: {ids:?})"))
    }

    /// A multiplexed connection to node `id`.
    pub async fn client(&self, id: usize) -> redis::aio::MultiplexedConnection {
        match connect(&self.node(id).url()).await {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot connect to node {id} ({}): {e}\n{}",
                self.node(id).url(),
                self.diagnostics()
            ),
        }
    }

    /// SIGKILL node `id` (it stays in the membership).
    pub fn kill9(&mut self, id: usize) {
        self.node_mut(id).kill9();
    }

    /// SIGTERM node `id` and wait for it to exit.
    pub fn stop(&mut self, id: usize) {
        let status = self.node_mut(id).terminate();
        assert!(
            status.success(),
            "node {id} exited with {status} after SIGTERM\n{}",
            self.node(id).diagnostics()
        );
    }

    /// Starts node `id` again on its dir and ports (SIGTERM first if it runs).
    pub fn restart(&mut self, id: usize) {
        self.node_mut(id).restart();
    }

    /// Stop treating `id` as a member (after RAFT.NODE REMOVE): leader waits skip it. Its
    /// process is left running.
    pub fn forget(&mut self, id: usize) {
        self.members.remove(&id);
    }

    /// Treat `id` as a member again (after RAFT.NODE ADD of a node this cluster started).
    pub fn remember(&mut self, id: usize) {
        assert!(self.nodes.contains_key(&id), "node {id} was never started");
        self.members.insert(id);
    }

    /// `INFO <section>` of node `id` as a map, or why there is none.
    pub async fn info(&self, id: usize, section: &str) -> Result<HashMap<String, String>, String> {
        let url = self.node(id).url();
        let call = async {
            let mut c = connect(&url).await.map_err(|e| e.to_string())?;
            redis::cmd("INFO")
                .arg(section)
                .query_async::<String>(&mut c)
                .await
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(POLL_CALL_TIMEOUT, call).await {
            Ok(Ok(text)) => Ok(parse_info(&text)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!("INFO took more than {POLL_CALL_TIMEOUT:?}")),
        }
    }

    /// What node `id` says about Raft (`INFO replication`).
    pub async fn raft_view(&self, id: usize) -> Result<RaftView, String> {
        self.info(id, "replication")
            .await
            .map(|i| RaftView::from_info(&i))
    }

    /// `RAFT.INFO` of node `id` as text.
    pub async fn raft_info(&self, id: usize) -> redis::RedisResult<String> {
        let mut c = self.client(id).await;
        redis::cmd("RAFT.INFO").query_async::<String>(&mut c).await
    }

    /// The member ids listed by `RAFT.INFO` on node `id` (`member_N:addr=...,role=...`), with
    /// their role (`voter` or `learner`).
    pub async fn raft_members(&self, id: usize) -> redis::RedisResult<BTreeMap<usize, String>> {
        let text = self.raft_info(id).await?;
        Ok(parse_raft_members(&text))
    }

    /// Polls `INFO replication` on every live member until all name the same leader, that
    /// leader is a live member and says it leads. Returns its id; panics after `timeout`.
    pub async fn wait_for_leader(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let (agreed, views) = self.poll_leader().await;
            if let Some(leader) = agreed {
                return leader;
            }
            if Instant::now() > deadline {
                panic!(
                    "no leader agreed on by the live members {:?} within {timeout:?}; last views: {}\n{}",
                    self.live_members(),
                    describe_views(&views),
                    self.diagnostics()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// One round of polling: the agreed leader, if any, and what each live member said.
    async fn poll_leader(&self) -> (Option<usize>, BTreeMap<usize, Result<RaftView, String>>) {
        let live = self.live_members();
        let mut views = BTreeMap::new();
        for id in &live {
            views.insert(*id, self.raft_view(*id).await);
        }
        let mut leader = None;
        for view in views.values() {
            match view {
                Ok(RaftView {
                    leader_id: Some(l), ..
                }) if leader.is_none() || leader == Some(*l) => leader = Some(*l),
                _ => return (None, views),
            }
        }
        let agreed = leader.filter(|l| {
            live.contains(l) && matches!(views.get(l), Some(Ok(v)) if v.state == "leader")
        });
        (agreed, views)
    }

    /// The current leader (waits at most [`LEADER_TIMEOUT`] for one).
    pub async fn leader(&self) -> usize {
        self.wait_for_leader(LEADER_TIMEOUT).await
    }

    /// The live members but the current leader.
    pub async fn followers(&self) -> Vec<usize> {
        let leader = self.leader().await;
        self.live_members()
            .into_iter()
            .filter(|id| *id != leader)
            .collect()
    }

    /// Waits until node `id` has applied at least what the leader had applied when this was
    /// called. Returns that index.
    pub async fn wait_caught_up(&self, id: usize, timeout: Duration) -> u64 {
        let leader = self.leader().await;
        let target = match self.raft_view(leader).await {
            Ok(v) => v.applied_index,
            Err(e) => panic!(
                "INFO replication on the leader {leader} failed: {e}\n{}",
                self.diagnostics()
            ),
        };
        let deadline = Instant::now() + timeout;
        let mut last: Result<RaftView, String> = Err("not asked yet".to_string());
        loop {
            if let Ok(v) = &last {
                if v.applied_index >= target {
                    return target;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "node {id} did not apply up to the leader's index {target} within {timeout:?}; \
                     it says {last:?}\n{}",
                    self.diagnostics()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
            last = self.raft_view(id).await;
        }
    }

    /// Starts a node with id `id`, the cluster's directives (peer TLS, `args`, `node_args`),
    /// `masterauth` and `extra`, on free ports, without registering it in the cluster: the
    /// caller owns it (see [`Cluster::adopt`]).
    pub fn start_extra(&self, id: usize, masterauth: &str, extra: &[(&str, &str)]) -> NodeProcess {
        let mut o = self.with_extra_args(id, self.base_options(id, masterauth));
        for (k, v) in extra {
            o = o.arg(*k, *v);
        }
        self.spawn(id, o)
    }

    /// Starts a node that asks the member at `target` (a raft address) to add it, with
    /// `masterauth`, without registering it in the cluster. For nodes expected to be refused.
    pub fn start_joiner(&self, id: usize, target: &str, masterauth: &str) -> NodeProcess {
        self.start_extra(id, masterauth, &[("join", target)])
    }

    /// Registers a node started with [`Cluster::start_extra`] as member `id`.
    pub fn adopt(&mut self, id: usize, node: NodeProcess) {
        assert!(
            !self.nodes.contains_key(&id),
            "the cluster already has a node {id}"
        );
        self.nodes.insert(id, node);
        self.members.insert(id);
    }

    /// The id the next added node gets.
    pub fn next_id(&self) -> usize {
        self.nodes.keys().max().copied().unwrap_or(0) + 1
    }

    /// Waits until node `id` follows the leader the other live members agree on.
    pub async fn wait_follows(&self, id: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let (agreed, views) = self.poll_leader().await;
            let follows = matches!(views.get(&id), Some(Ok(v)) if v.state == "follower");
            if let (Some(leader), true) = (agreed, follows) {
                return leader;
            }
            if Instant::now() > deadline {
                panic!(
                    "node {id} did not become a follower of the cluster's leader within \
                     {timeout:?}; views: {}\n{}",
                    describe_views(&views),
                    self.diagnostics()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Starts a fresh node with the next id that joins through the current leader's raft
    /// address, waits (bounded) until it follows the same leader as the others and has applied
    /// what the leader had, and registers it. Returns its id (`node(id)` is the process).
    pub async fn add_node_via_join(&mut self) -> usize {
        let id = self.next_id();
        let leader = self.leader().await;
        let target = self.node(leader).raft_addr().to_string();
        let masterauth = self.masterauth.clone();
        let node = self.start_joiner(id, &target, &masterauth);
        self.adopt(id, node);
        self.wait_follows(id, Duration::from_secs(30)).await;
        self.wait_caught_up(id, Duration::from_secs(30)).await;
        id
    }

    /// The tails of every node's log, stderr and stdout.
    pub fn diagnostics(&self) -> String {
        let mut out = String::new();
        for (id, node) in &self.nodes {
            let _ = writeln!(
                out,
                "===== node {id} (port {}, raft {}, {}) =====\n{}",
                node.port(),
                node.raft_addr(),
                if node.pid().is_some() {
                    "running"
                } else {
                    "stopped"
                },
                node.diagnostics()
            );
        }
        out
    }
}

/// `member_N:addr=...,role=voter,...` lines of RAFT.INFO as id -> role.
pub fn parse_raft_members(text: &str) -> BTreeMap<usize, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let Some(rest) = line.strip_prefix("member_") else {
            continue;
        };
        let Some((id, fields)) = rest.split_once(':') else {
            continue;
        };
        let Ok(id) = id.parse::<usize>() else {
            continue;
        };
        let role = fields
            .split(',')
            .find_map(|f| f.strip_prefix("role="))
            .unwrap_or("")
            .to_string();
        out.insert(id, role);
    }
    out
}

fn describe_views(views: &BTreeMap<usize, Result<RaftView, String>>) -> String {
    views
        .iter()
        .map(|(id, v)| match v {
            Ok(v) => format!(
                "node {id}: state={} leader={:?} term={} applied={}",
                v.state, v.leader_id, v.term, v.applied_index
            ),
            Err(e) => format!("node {id}: {e}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl Cluster {
    /// Stops node `id` (SIGTERM, if it runs) and starts it again on its data dir and ports with
    /// the cluster's directives, but with `masterauth` as its replication password: after a
    /// password rotation, [`Cluster::restart`] would start it with the password it was first
    /// started with. For nodes started by [`Cluster::start`] (`peers` lists every node of the
    /// cluster, node 1 keeps `bootstrap yes`).
    ///
    /// Returns the old, stopped process: it owns the data dir when the harness created it, so
    /// keep it alive until the cluster is dropped.
    pub fn restart_with_masterauth(&mut self, id: usize, masterauth: &str) -> NodeProcess {
        if self.node_mut(id).is_running() {
            self.stop(id);
        }
        let peers = self
            .nodes
            .iter()
            .map(|(n, p)| format!("{n}=node{n}@{}", p.raft_addr()))
            .collect::<Vec<_>>()
            .join(",");
        let old = self.node(id);
        let mut o = self
            .base_options(id, masterauth)
            .port(old.port())
            .raft_addr(old.raft_addr())
            .dir(old.dir())
            .arg("peers", peers);
        if id == 1 {
            o = o.arg("bootstrap", "yes");
        }
        o = self.with_extra_args(id, o);
        let node = self.spawn(id, o);
        std::mem::replace(self.node_mut(id), node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raft_members_are_parsed_from_raft_info() {
        let text = "# Raft\r\nnode_id:1\r\nrole:leader\r\n\r\n# Members\r\n\
                    member_1:addr=127.0.0.1:1,role=voter,match_index=5\r\n\
                    member_4:addr=127.0.0.1:4,role=learner,match_index=?\r\n";
        let m = parse_raft_members(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m[&1], "voter");
        assert_eq!(m[&4], "learner");
    }

    #[test]
    fn secrets_differ() {
        assert_ne!(random_secret(), random_secret());
    }

    #[test]
    fn info_text_is_parsed() {
        let i = parse_info("# Replication\r\nraft_state:leader\r\nraft_leader_id:2\r\n");
        let v = RaftView::from_info(&i);
        assert_eq!(v.state, "leader");
        assert_eq!(v.leader_id, Some(2));
    }
}
