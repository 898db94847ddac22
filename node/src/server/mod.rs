//! Client listeners and what all connections of a node share.
//!
//! [`Server`] owns the Raft node, the command table, the connection registry, pub/sub, the
//! run-time settings and the statistics. It accepts connections (bind, protected-mode,
//! maxclients) and hands each to [`connection::serve`]. It never writes the keyspace: writes
//! go through the Raft node.

pub mod auth;
pub mod clients;
pub mod connection;
pub mod output;
pub mod pubsub;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redoubt_proto::resp::{Frame, Protocol};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

use crate::commands::CommandTable;
use crate::config::{Config, DebugMode, LogLevel, ReadConsistency};
use crate::raft::network::{PeerCredentials, PeerTransport};
use crate::raft::{RaftNode, RaftSettings, Request, StartMode};
use crate::store::DATABASES;

/// Settings that CONFIG SET may change while the node runs.
pub struct Runtime {
    pub maxclients: AtomicU64,
    pub timeout: AtomicU64,
    pub proto_max_bulk_len: AtomicU64,
    pub client_query_buffer_limit: AtomicU64,
    pub client_output_buffer_limit: arc_swap::ArcSwap<output::OutputLimits>,
    pub protected_mode: AtomicBool,
    pub active_expire: AtomicBool,
    pub loglevel: Mutex<LogLevel>,
}

/// Per-command and per-error counters for INFO.
#[derive(Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub error_replies: AtomicU64,
    pub expired_keys_proposed: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// PUBLISH messages not sent to a peer because its queue was full.
    pub pubsub_fanout_dropped: AtomicU64,
    /// Clients closed by client-output-buffer-limit.
    pub client_output_buffer_limit_disconnections: AtomicU64,
    /// name -> (calls, usec, rejected, failed)
    pub commands: Mutex<HashMap<String, [u64; 4]>>,
    /// error code -> count
    pub errors: Mutex<HashMap<String, u64>>,
}

impl Stats {
    pub fn record_command(&self, name: &str, usec: u64, failed: bool) {
        let mut m = self.commands.lock().unwrap_or_else(|p| p.into_inner());
        if !m.contains_key(name) {
            m.insert(name.to_string(), [0; 4]);
        }
        let Some(e) = m.get_mut(name) else {
            return;
        };
        e[0] += 1;
        e[1] += usec;
        if failed {
            e[3] += 1;
        }
    }

    pub fn record_rejected(&self, name: &str) {
        let mut m = self.commands.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(name.to_string()).or_insert([0; 4])[2] += 1;
    }

    pub fn record_error(&self, text: &str) {
        self.error_replies.fetch_add(1, Ordering::Relaxed);
        let code = text.split(' ').next().unwrap_or("ERR").to_string();
        *self
            .errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(code)
            .or_insert(0) += 1;
    }

    pub fn reset(&self) {
        self.commands
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.error_replies.store(0, Ordering::Relaxed);
        self.commands_processed.store(0, Ordering::Relaxed);
        self.connections_received.store(0, Ordering::Relaxed);
        self.rejected_connections.store(0, Ordering::Relaxed);
    }
}

/// rustls configurations of the peer channel (they reload their certificates themselves).
#[derive(Clone)]
pub struct PeerTlsConfigs {
    pub client: Arc<rustls::ClientConfig>,
    pub server: Arc<rustls::ServerConfig>,
    /// The node identity of this node's peer certificate.
    pub node_name: String,
}

/// The node's TLS setup, loaded and validated by the `tls` module.
pub struct ServerTls {
    pub peer: Option<PeerTlsConfigs>,
    pub client: Option<Arc<rustls::ServerConfig>>,
    pub port: Option<u16>,
    pub cn_names_user: bool,
}

/// Everything the connections of one node share.
pub struct Server {
    /// The peer channel's client side; also used to forward to the leader.
    pub transport: Arc<PeerTransport>,
    pub peer_tls: Option<PeerTlsConfigs>,
    /// This node's identity as a member (its peer certificate's node name; empty without peer
    /// TLS).
    pub node_name: String,
    /// The RESP TLS port's configuration (`tls-port`), reloading its certificates itself.
    pub client_tls: Option<Arc<rustls::ServerConfig>>,
    pub tls_port: Option<u16>,
    /// One ordered PUBLISH queue per peer address (see `cluster::fan_out_publish`).
    pub publish_queues: Mutex<HashMap<String, crate::cluster::PublishQueue>>,
    /// `tls-auth-clients-user CN`: a TLS client's certificate CN names its user.
    pub tls_cn_names_user: bool,
    pub config: Config,
    pub runtime: Runtime,
    pub table: Arc<CommandTable>,
    pub raft: RaftNode,
    pub clients: clients::Clients,
    pub pubsub: pubsub::PubSub,
    pub stats: Stats,
    pub started: Instant,
    pub run_id: String,
    /// MONITOR feed: every command line, formatted.
    pub monitor: broadcast::Sender<Frame>,
    pub monitors: AtomicU64,
    /// AUTH throttling, ACL LOG and the ACL INFO counters.
    pub auth: auth::Auth,
    /// The provisional ACL state while this node's seeds are on their way (None after).
    pub acl_override: arc_swap::ArcSwapOption<auth::Provisional>,
    /// False while this node's config seeds are not applied yet: client writes (and ACL
    /// changes) wait for them, so none lands in the log before them and none is undone by them.
    pub seeded: tokio::sync::watch::Sender<bool>,
    /// Changes tracing's filter (CONFIG SET loglevel).
    pub set_log_filter: Box<dyn Fn(&str) + Send + Sync>,
    /// Bounds the TLS handshakes in flight (see [`MAX_TLS_HANDSHAKES`]).
    tls_handshakes: tokio::sync::Semaphore,
}

/// The members a bootstrapping node initialises the group with, each bound to the node name
/// its certificate must carry: `id=name@host:port`, else the host when it is a name, and this
/// node's own certificate name for itself. With peer TLS every member needs a name.
fn bootstrap_members(
    config: &Config,
    own_name: &str,
    peer_tls: bool,
) -> anyhow::Result<Vec<(u64, crate::raft::Member)>> {
    let mut members = Vec::new();
    for entry in &config.peers {
        let name = if entry.id == config.node_id && peer_tls {
            if let Some(given) = entry.name.as_deref().filter(|n| *n != own_name) {
                anyhow::bail!(
                    "invalid value for 'peers': this node ({}) is named '{given}' there but its \
                     peer certificate names it '{own_name}'",
                    entry.id
                );
            }
            own_name.to_string()
        } else {
            match entry.node_name() {
                Some(name) => name,
                None if peer_tls => anyhow::bail!(
                    "invalid value for 'peers': member {} ({}) needs the node name its \
                     certificate carries: {}=NAME@{}",
                    entry.id,
                    entry.addr,
                    entry.id,
                    entry.addr
                ),
                None => String::new(),
            }
        };
        members.push((entry.id, crate::raft::Member::new(entry.addr.clone(), name)));
    }
    Ok(members)
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Server {
    /// Opens storage, starts Raft and returns the shared server state.
    pub async fn start(
        config: Config,
        tls: ServerTls,
        set_log_filter: Box<dyn Fn(&str) + Send + Sync>,
    ) -> anyhow::Result<Arc<Server>> {
        let ServerTls {
            peer: peer_tls,
            client: client_tls,
            port: tls_port,
            cn_names_user,
        } = tls;
        let table = Arc::new(
            CommandTable::new(&config.rename_command)
                .map_err(|e| anyhow::anyhow!("invalid value for 'rename-command': {e}"))?,
        );
        crate::files::prepare_dir(&config.dir)
            .map_err(|e| anyhow::anyhow!("cannot create dir '{}': {e}", config.dir.display()))?;
        let node_name = peer_tls
            .as_ref()
            .map(|t| t.node_name.clone())
            .unwrap_or_default();
        let start = if config.bootstrap {
            StartMode::Bootstrap(bootstrap_members(&config, &node_name, peer_tls.is_some())?)
        } else if config.join.is_some() || !config.peers.is_empty() {
            StartMode::Wait
        } else {
            StartMode::Single
        };
        let transport = Arc::new(
            PeerTransport::new(
                peer_tls.as_ref().map(|t| t.client.clone()),
                PeerCredentials {
                    user: config.masteruser.clone(),
                    auth: config.masterauth.clone(),
                },
            )
            .bind_source(config.bind_source_addr),
        );
        let raft = RaftNode::start(
            &config.dir,
            RaftSettings {
                node_id: config.node_id,
                advertise_addr: config.raft_advertise_addr.clone(),
                node_name: node_name.clone(),
                min_free_disk: config.min_free_disk,
                snapshot_logs: config.raft_snapshot_logs,
                max_entry_size: config.raft_max_entry_size,
                start,
            },
            table.clone(),
            transport.clone(),
        )
        .await?;
        let run_id: String = (0..40)
            .map(|_| char::from_digit(rand::random::<u32>() % 16, 16).unwrap_or('0'))
            .collect();
        let (monitor, _) = broadcast::channel(4096);
        Ok(Arc::new(Server {
            transport,
            peer_tls,
            node_name,
            client_tls,
            tls_port,
            tls_cn_names_user: cn_names_user,
            publish_queues: Mutex::new(HashMap::new()),
            runtime: Runtime {
                maxclients: AtomicU64::new(config.maxclients),
                timeout: AtomicU64::new(config.timeout),
                proto_max_bulk_len: AtomicU64::new(config.proto_max_bulk_len),
                client_query_buffer_limit: AtomicU64::new(config.client_query_buffer_limit),
                client_output_buffer_limit: arc_swap::ArcSwap::from_pointee(
                    config.client_output_buffer_limit,
                ),
                protected_mode: AtomicBool::new(config.protected_mode),
                active_expire: AtomicBool::new(true),
                loglevel: Mutex::new(config.loglevel),
            },
            config,
            table,
            raft,
            clients: clients::Clients::default(),
            pubsub: pubsub::PubSub::default(),
            stats: Stats::default(),
            started: Instant::now(),
            run_id,
            monitor,
            monitors: AtomicU64::new(0),
            auth: auth::Auth::default(),
            acl_override: arc_swap::ArcSwapOption::empty(),
            seeded: tokio::sync::watch::channel(true).0,
            set_log_filter,
            tls_handshakes: tokio::sync::Semaphore::new(MAX_TLS_HANDSHAKES),
        }))
    }

    /// The current `client-output-buffer-limit`.
    pub fn output_limits(&self) -> output::OutputLimits {
        **self.runtime.client_output_buffer_limit.load()
    }

    /// Whether this node talks to peers (peers, join or peer TLS configured).
    pub fn is_clustered(&self) -> bool {
        !self.config.peers.is_empty() || self.config.join.is_some() || self.peer_tls.is_some()
    }

    pub fn debug_mode(&self) -> DebugMode {
        self.config.enable_debug_command
    }

    pub fn read_consistency(&self) -> ReadConsistency {
        self.config.read_consistency
    }

    /// Whether the default user has no password (protected mode applies then, as in Redis).
    pub fn default_user_has_no_password(&self) -> bool {
        self.acl().user("default").is_some_and(|u| u.nopass)
    }

    /// The ACL state clients of this node are held to: the replicated one, or while this
    /// node's config seeds are not in it yet, the replicated one with them applied (see
    /// `auth::start_seeding`).
    /// Runs `f` on [`Server::acl`]'s state without touching reference counts (the per-command
    /// check runs on every connection's thread at once).
    pub fn with_acl<R>(&self, f: impl FnOnce(&crate::acl::AclState) -> R) -> R {
        if self.acl_override.load().is_none() {
            return f(&self.raft.shared.acl.load());
        }
        f(&self.acl())
    }

    /// The ACL state clients of this node are held to: the replicated one, or while this
    /// node's config seeds are not in it yet, the replicated one with them applied (see
    /// `auth::start_seeding`).
    pub fn acl(&self) -> Arc<crate::acl::AclState> {
        match self.acl_override.load_full() {
            Some(p) => self.provisional_acl(p),
            None => self.raft.acl(),
        }
    }

    /// Waits (at most 5 s) until this node's config seeds are applied; TRYAGAIN past that.
    pub async fn wait_seeded(&self) -> Result<(), redoubt_proto::resp::Frame> {
        if *self.seeded.borrow() {
            return Ok(());
        }
        let mut rx = self.seeded.subscribe();
        let seeded = tokio::time::timeout(Duration::from_secs(5), async {
            rx.wait_for(|s| *s).await.is_ok()
        })
        .await;
        match seeded {
            Ok(true) => Ok(()),
            _ => Err(redoubt_proto::resp::Frame::error(
                "TRYAGAIN this node's ACL settings are not in the cluster state yet, retry the command",
            )),
        }
    }

    /// The provisional state over the current replicated one (rebuilt when that moved on).
    fn provisional_acl(&self, p: Arc<auth::Provisional>) -> Arc<crate::acl::AclState> {
        let base = self.raft.shared.acl.load_full();
        if Arc::ptr_eq(&base, &p.base) {
            return p.state.clone();
        }
        let fresh = Arc::new(p.rebuild(base, &self.raft.shared.acl_seeds.load()));
        let state = fresh.state.clone();
        // Only replaces the provisional state it started from: never brings back one that
        // seeding has cleared meanwhile.
        let current = Some(p);
        self.acl_override.compare_and_swap(&current, Some(fresh));
        state
    }

    /// Binds every address of `bind` (a leading '-' makes one optional) and serves clients
    /// until the process ends.
    pub async fn serve(self: Arc<Self>) -> anyhow::Result<()> {
        let mut listeners = self.bind_all(self.config.port, false).await?;
        if let Some(tls_port) = self.tls_port {
            if self.client_tls.is_none() {
                anyhow::bail!("'tls-port' is set but the client TLS configuration is missing");
            }
            listeners.extend(self.bind_all(tls_port, true).await?);
        }
        tokio::spawn(active_expire(self.clone()));
        tokio::spawn(crate::logsafe::report_summaries());
        if self.is_clustered() {
            let server = self.clone();
            tokio::spawn(async move {
                if let Err(e) = crate::cluster::serve_peers(server).await {
                    tracing::error!("peer service stopped: {e:#}");
                    std::process::exit(1);
                }
            });
            if let Some(target) = self.config.join.clone() {
                tokio::spawn(crate::cluster::join_cluster(self.clone(), target));
            }
        }
        tokio::spawn(auth::close_revoked_connections(self.clone()));
        let seeds = auth::config_seeds(&self)?;
        auth::start_seeding(self.clone(), seeds);
        let mut tasks = Vec::new();
        for (listener, tls) in listeners {
            let server = self.clone();
            tasks.push(tokio::spawn(async move {
                server.accept_loop(listener, tls).await
            }));
        }
        for t in tasks {
            t.await??;
        }
        Ok(())
    }

    /// Listeners on every `bind` address for `port` (a leading '-' makes an address optional).
    async fn bind_all(&self, port: u16, tls: bool) -> anyhow::Result<Vec<(TcpListener, bool)>> {
        let mut listeners = Vec::new();
        for addr in &self.config.bind {
            let (optional, host) = match addr.strip_prefix('-') {
                Some(h) => (true, h),
                None => (false, addr.as_str()),
            };
            let host = if host == "*" { "0.0.0.0" } else { host };
            let Ok(ip) = host.parse::<IpAddr>() else {
                anyhow::bail!("invalid value for 'bind': '{addr}' (expected an IP address)");
            };
            match TcpListener::bind(SocketAddr::new(ip, port)).await {
                Ok(l) => {
                    tracing::info!(addr = %SocketAddr::new(ip, port), tls, "accepting clients");
                    listeners.push((l, tls));
                }
                Err(e) if optional => {
                    tracing::warn!(%addr, error = %e, "optional bind address unavailable");
                }
                Err(e) => anyhow::bail!("cannot listen on {host}:{port}: {e}"),
            }
        }
        if listeners.is_empty() {
            anyhow::bail!("no address of 'bind' could be used for port {port}");
        }
        Ok(listeners)
    }

    async fn accept_loop(self: Arc<Self>, listener: TcpListener, tls: bool) -> anyhow::Result<()> {
        loop {
            let (stream, addr) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, never spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            self.stats
                .connections_received
                .fetch_add(1, Ordering::Relaxed);
            let server = self.clone();
            tokio::spawn(async move { server.admit(stream, addr, tls).await });
        }
    }

    /// maxclients and protected-mode checks, the TLS handshake, then the connection loop.
    /// The connection holds its place among maxclients from here, before its handshake, so
    /// connections that never finish one still count (and are refused past the limit).
    async fn admit(self: Arc<Self>, stream: TcpStream, addr: SocketAddr, tls: bool) {
        let _ = stream.set_nodelay(true);
        let laddr = stream.local_addr().unwrap_or(addr);
        let max = self.runtime.maxclients.load(Ordering::Relaxed);
        let Some(_admission) = self.clients.admit(max) else {
            self.stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            if tls {
                // As Redis: no handshake was done, so there is no way to say why; just close.
                drop(stream);
            } else {
                refuse(stream, MAXCLIENTS_ERROR).await;
            }
            return;
        };
        if self.runtime.protected_mode.load(Ordering::Relaxed)
            && self.default_user_has_no_password()
            && !addr.ip().is_loopback()
            && !is_mapped_loopback(addr.ip())
        {
            self.stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(client = %addr, "refused a non-loopback client: protected mode");
            refuse(stream, PROTECTED_MODE_ERROR).await;
            return;
        }
        if !tls {
            connection::serve(self.clone(), stream.into_split(), addr, laddr, None).await;
            return;
        }
        let Some(config) = self.client_tls.clone() else {
            return;
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        // The deadline covers the wait for a handshake slot too: a client is never held
        // longer than TLS_HANDSHAKE_TIMEOUT before it is served or closed.
        let handshake = async {
            let _permit = self.tls_handshakes.acquire().await;
            acceptor.accept(stream).await
        };
        let tls_stream = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                crate::log_limited!(
                    crate::logsafe::CLIENT_HANDSHAKES,
                    addr.ip().to_string(),
                    client = %addr, reason = %crate::logsafe::Escaped(e.to_string()), "TLS handshake with a client failed"
                );
                return;
            }
            Err(_) => {
                crate::log_limited!(
                    crate::logsafe::CLIENT_HANDSHAKES,
                    addr.ip().to_string(),
                    client = %addr, "TLS handshake with a client timed out"
                );
                return;
            }
        };
        // tls-auth-clients-user CN: the certificate's common name names the user.
        let user = if self.tls_cn_names_user {
            crate::tls::peer_common_name(&tls_stream)
        } else {
            None
        };
        connection::serve(
            self.clone(),
            tokio::io::split(tls_stream),
            addr,
            laddr,
            user,
        )
        .await;
    }

    /// Proposes deletion of expired keys in batches (only the leader does).
    async fn propose_expired(&self) {
        if !self.raft.is_leader() {
            return;
        }
        let now = now_ms();
        for db in 0..DATABASES {
            let keys = {
                let _gate = self.raft.shared.read_gate();
                let view = self.raft.read_view(db, now);
                match view.expired_keys(db, now, 500) {
                    Ok(k) => k,
                    Err(e) => {
                        tracing::error!(error = %e, "reading the expiry index failed");
                        return;
                    }
                }
            };
            if keys.is_empty() {
                continue;
            }
            let n = keys.len() as u64;
            match self
                .raft
                .write(Request::Expire {
                    db,
                    keys,
                    now_ms: now,
                })
                .await
            {
                Ok(_) => {
                    self.stats
                        .expired_keys_proposed
                        .fetch_add(n, Ordering::Relaxed);
                }
                Err(e) => tracing::debug!(error = %e, "expiry proposal failed"),
            }
        }
    }
}

fn is_mapped_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        IpAddr::V4(_) => false,
    }
}

async fn refuse(mut stream: TcpStream, message: &str) {
    use tokio::io::AsyncWriteExt;
    let mut out = bytes::BytesMut::new();
    Frame::Error(message.to_string()).encode(Protocol::Resp2, &mut out);
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&out)).await;
    let _ = stream.shutdown().await;
}

/// The leader removes expired keys through the log, as a Redis master sends DELs to replicas.
async fn active_expire(server: Arc<Server>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if server.runtime.active_expire.load(Ordering::Relaxed) {
            server.propose_expired().await;
        }
    }
}

pub const MAXCLIENTS_ERROR: &str = "ERR max number of clients reached";

/// Longest a TLS client may take to complete its handshake (waiting for a handshake slot
/// included) before it is closed.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most TLS handshakes computed at once; more wait (within their timeout) for a slot, so a
/// burst of new TLS clients cannot take every core from the clients already served.
const MAX_TLS_HANDSHAKES: usize = 64;

pub const PROTECTED_MODE_ERROR: &str = "DENIED Redoubt is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redoubt you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redoubt from the same host the server is running, however MAKE SURE Redoubt is not publicly accessible from internet if you do so. 2) Alternatively you can just disable the protected mode by editing the configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";
