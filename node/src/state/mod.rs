//! What every part of a node shares: the state that outlives any one connection.
//!
//! [`NodeState`] holds the Raft node, the command table, the connection registry
//! ([`clients`]), pub/sub ([`pubsub`]), AUTH throttling and the ACL view clients are held to
//! ([`auth`]), the run-time settings ([`Runtime`]) and the statistics ([`Stats`]). It is built
//! once by the composition root (`app.rs`) and handed to the listeners, the peer service and
//! the server commands. It never writes the keyspace (writes go through the Raft node) and
//! never spawns a task of its own.

pub mod auth;
pub mod clients;
pub mod output;
pub mod pubsub;
mod stats;

pub use stats::Stats;

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redoubt_proto::resp::Frame;
use tokio::sync::broadcast;

use crate::commands::CommandTable;
use crate::config::{Config, DebugMode, ReadConsistency, Runtime};
use crate::raft::network::{PeerCredentials, PeerTransport};
use crate::raft::{RaftNode, RaftSettings, RaftTasks, StartMode};

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
pub struct NodeState {
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
    pub publish_queues: Mutex<HashMap<String, pubsub::PublishQueue>>,
    /// `tls-auth-clients-user CN`: a TLS client's certificate CN names its user.
    pub tls_cn_names_user: bool,
    pub config: Config,
    pub runtime: Arc<Runtime>,
    pub table: Arc<CommandTable>,
    pub raft: Arc<RaftNode>,
    pub clients: clients::Clients,
    pub pubsub: Arc<pubsub::PubSub>,
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

/// How this node's Raft group starts: initialised here (bootstrap, or a single node), or
/// waiting to be added (`join`, or one of the bootstrap node's peers).
fn start_mode(config: &Config, own_name: &str, peer_tls: bool) -> anyhow::Result<StartMode> {
    Ok(if config.bootstrap {
        StartMode::Bootstrap(bootstrap_members(config, own_name, peer_tls)?)
    } else if config.join.is_some() || !config.peers.is_empty() {
        StartMode::Wait
    } else {
        StartMode::Single
    })
}

impl NodeState {
    /// Opens storage, starts Raft and returns the shared server state.
    pub async fn start(
        config: Config,
        tls: ServerTls,
        set_log_filter: crate::config::SetLogFilter,
    ) -> anyhow::Result<(Arc<NodeState>, RaftTasks)> {
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
        let start = start_mode(&config, &node_name, peer_tls.is_some())?;
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
        let (raft, raft_tasks) = RaftNode::start(
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
        let node = Arc::new(NodeState {
            transport,
            peer_tls,
            node_name,
            client_tls,
            tls_port,
            tls_cn_names_user: cn_names_user,
            publish_queues: Mutex::new(HashMap::new()),
            runtime: Arc::new(Runtime::new(&config, set_log_filter)),
            config,
            table,
            raft: Arc::new(raft),
            clients: clients::Clients::default(),
            pubsub: Arc::new(pubsub::PubSub::default()),
            stats: Stats::default(),
            started: Instant::now(),
            run_id,
            monitor,
            monitors: AtomicU64::new(0),
            auth: auth::Auth::default(),
            acl_override: arc_swap::ArcSwapOption::empty(),
            seeded: tokio::sync::watch::channel(true).0,
        });
        Ok((node, raft_tasks))
    }

    /// The current `client-output-buffer-limit`.
    pub fn output_limits(&self) -> output::OutputLimits {
        self.runtime.output_limits()
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
    /// Runs `f` on [`NodeState::acl`]'s state without touching reference counts (the per-command
    /// check runs on every connection's thread at once).
    pub fn with_acl<R>(&self, f: impl FnOnce(&crate::acl::AclState) -> R) -> R {
        if self.acl_override.load().is_none() {
            return self.raft.with_acl(f);
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
    pub async fn wait_seeded(&self) -> Result<(), crate::commands::CmdError> {
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
            _ => Err(crate::commands::CmdError::TryAgain(
                "this node's ACL settings are not in the cluster state yet, retry the command"
                    .into(),
            )),
        }
    }

    /// The provisional state over the current replicated one (rebuilt when that moved on).
    fn provisional_acl(&self, p: Arc<auth::Provisional>) -> Arc<crate::acl::AclState> {
        let base = self.raft.acl();
        if Arc::ptr_eq(&base, &p.base) {
            return p.state.clone();
        }
        let fresh = Arc::new(p.rebuild(base, &self.raft.acl_seeds()));
        let state = fresh.state.clone();
        // Only replaces the provisional state it started from: never brings back one that
        // seeding has cleared meanwhile.
        let current = Some(p);
        self.acl_override.compare_and_swap(&current, Some(fresh));
        state
    }
}
