//! The composition root: builds a node from its configuration and runs it until a signal.
//!
//! Everything long-lived is made and started here, in this order: TLS (with certificate
//! watchers), the shared [`NodeState`] (storage and Raft), the client listeners (bound before
//! anything is served, so a bad `bind` fails the start), then the tasks. This is the only
//! place that spawns the node's long-lived tasks; each runs under a cancellation token of its
//! stage, and SIGTERM / SIGINT stop them in order: listeners first, then client connections
//! (given a moment to finish the replies they owe), then the background and peer tasks, and
//! Raft last. A task that fails stops the node the same way, with its error.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::state::{auth, NodeState, PeerTlsConfigs, ServerTls};
use crate::tls::{AuthClientsUser, TlsConfig};

pub use crate::config::SetLogFilter;

/// How long client connections get to finish at shutdown before they are dropped.
const CLIENT_DRAIN: Duration = Duration::from_secs(2);
/// How long Raft gets to stop (a core stuck on a failing disk must not keep the process up).
const RAFT_STOP: Duration = Duration::from_secs(5);

/// Starts the node and serves until SIGTERM / SIGINT (Ok) or a failed task (its error).
pub async fn run(
    config: Config,
    tls: TlsConfig,
    set_log_filter: SetLogFilter,
) -> anyhow::Result<()> {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        port = config.port,
        dir = %config.dir.display(),
        node_id = config.node_id,
        "starting redoubt"
    );
    crate::tls::install_default_crypto_provider();
    let mut tasks = Tasks::default();
    let (server_tls, _watchers) = load_tls(&tls, &mut tasks)?;
    let (node, raft_tasks) = NodeState::start(config, server_tls, set_log_filter).await?;
    let listeners = crate::server::bind_listeners(&node).await?;
    let seeds = auth::config_seeds(&node)?;

    spawn_node_tasks(&mut tasks, &node, raft_tasks, listeners, seeds);

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let outcome = tokio::select! {
        failed = tasks.first_failure() => Err(failed),
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("SIGINT received, shutting down");
            Ok(())
        }
        _ = term.recv() => {
            tracing::info!("SIGTERM received, shutting down");
            Ok(())
        }
    };
    shut_down(&node, tasks).await;
    tracing::info!("bye");
    outcome
}

/// Spawns the node's tasks, each in the stage it stops with.
fn spawn_node_tasks(
    tasks: &mut Tasks,
    node: &Arc<NodeState>,
    raft_tasks: crate::raft::RaftTasks,
    listeners: Vec<crate::server::Listener>,
    seeds: Vec<crate::acl::replicated::Seed>,
) {
    for (name, task) in raft_tasks.0 {
        tasks.spawn(Stage::Raft, name, async move {
            task.await;
            Ok(())
        });
    }
    tasks.spawn(Stage::Background, "active-expire", {
        let node = node.clone();
        async move {
            crate::expire::run(node).await;
            Ok(())
        }
    });
    tasks.spawn(Stage::Background, "log-summaries", async {
        crate::logsafe::report_summaries().await;
        Ok(())
    });
    tasks.spawn(Stage::Background, "close-revoked", {
        let node = node.clone();
        async move {
            auth::close_revoked_connections(node).await;
            Ok(())
        }
    });
    if let Some(seeding) = auth::start_seeding(node.clone(), seeds) {
        tasks.spawn(Stage::Background, "acl-seeding", async move {
            seeding.await;
            Ok(())
        });
    }
    if node.is_clustered() {
        tasks.spawn(
            Stage::Peers,
            "peer-service",
            crate::cluster::serve_peers(node.clone()),
        );
        if let Some(target) = node.config.join.clone() {
            let node = node.clone();
            tasks.spawn(Stage::Background, "join", async move {
                let (advertise, name) = (
                    node.config.raft_advertise_addr.clone(),
                    node.node_name.clone(),
                );
                crate::cluster::join_cluster(node.raft.clone(), target, advertise, name).await;
                Ok(())
            });
        }
    }
    tasks.spawn(Stage::Background, "leader-wait", {
        let node = node.clone();
        async move {
            if !node.raft.wait_for_leader(Duration::from_secs(10)).await {
                tracing::warn!(
                    "no raft leader after 10s; writes answer TRYAGAIN until there is one"
                );
            }
            Ok(())
        }
    });
    let handshakes = crate::server::handshake_slots();
    for listener in listeners {
        let (node, handshakes) = (node.clone(), handshakes.clone());
        tasks.spawn(Stage::Listeners, "client-listener", async move {
            crate::server::accept_clients(node, listener, handshakes).await;
            Ok(())
        });
    }
}

/// Loads the peer and client TLS configurations (their certificates reload by themselves:
/// file watchers, a periodic re-check, SIGHUP); the watchers must live as long as the node.
fn load_tls(
    tls: &TlsConfig,
    tasks: &mut Tasks,
) -> anyhow::Result<(ServerTls, Vec<crate::tls::CertWatcher>)> {
    let mut reloadable = Vec::new();
    let mut watchers = Vec::new();
    let peer = match tls.load_peer_tls()? {
        Some(peer) => {
            watchers.push(peer.watch()?);
            reloadable.push(peer.certs().clone());
            Some(PeerTlsConfigs {
                client: peer.client_config(),
                server: peer.server_config(),
                node_name: peer.node_identity().unwrap_or_default(),
            })
        }
        None => None,
    };
    let client = match tls.load_client_tls()? {
        Some(client) => {
            watchers.push(client.watch()?);
            reloadable.push(client.certs().clone());
            Some(client.server_config())
        }
        None => None,
    };
    if !reloadable.is_empty() {
        let reload = crate::tls::reload_on_sighup(reloadable)?;
        tasks.spawn(Stage::Background, "sighup-reload", async move {
            reload.await;
            Ok(())
        });
    }
    let server_tls = ServerTls {
        peer,
        client,
        port: (tls.tls_port != 0).then_some(tls.tls_port),
        cn_names_user: tls.tls_auth_clients_user == AuthClientsUser::CommonName,
    };
    Ok((server_tls, watchers))
}

/// Stops everything in order: listeners, client connections, background and peer tasks, Raft.
async fn shut_down(node: &Arc<NodeState>, mut tasks: Tasks) {
    tasks.cancel(Stage::Listeners);
    for client in node.clients.list() {
        client.kill.notify_one();
    }
    let deadline = Instant::now() + CLIENT_DRAIN;
    while !node.clients.list().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tasks.cancel(Stage::Background);
    tasks.cancel(Stage::Peers);
    tasks.cancel(Stage::Raft);
    tasks.join_all().await;
    if tokio::time::timeout(RAFT_STOP, node.raft.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("raft did not stop within 5s; exiting anyway");
    }
}

/// When a task stops at shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Accepting clients: stops first.
    Listeners,
    /// Expiry, ACL seeding, join, certificate reload, log summaries.
    Background,
    /// The peer service: serves forwarded writes until the clients are gone.
    Peers,
    /// Raft's own tasks (group commit, forwarding, read barriers, disk watch): stop last,
    /// before the Raft core itself.
    Raft,
}

/// The node's long-lived tasks, each named and stoppable by its stage's token.
#[derive(Default)]
struct Tasks {
    set: JoinSet<(&'static str, anyhow::Result<()>)>,
    listeners: CancellationToken,
    background: CancellationToken,
    peers: CancellationToken,
    raft: CancellationToken,
}

impl Tasks {
    fn token(&self, stage: Stage) -> &CancellationToken {
        match stage {
            Stage::Listeners => &self.listeners,
            Stage::Background => &self.background,
            Stage::Peers => &self.peers,
            Stage::Raft => &self.raft,
        }
    }

    /// Runs `task` until it ends or its stage is cancelled. A task ending with an error stops
    /// the node ([`Tasks::first_failure`]); one ending with Ok is simply done.
    fn spawn<F>(&mut self, stage: Stage, name: &'static str, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let token = self.token(stage).clone();
        self.set.spawn(async move {
            tokio::select! {
                _ = token.cancelled() => (name, Ok(())),
                outcome = task => (name, outcome),
            }
        });
    }

    /// The first task that fails (or panics); pending while none does.
    async fn first_failure(&mut self) -> anyhow::Error {
        loop {
            match self.set.join_next().await {
                Some(Ok((_, Ok(())))) => continue,
                Some(Ok((name, Err(e)))) => return e.context(format!("{name} stopped")),
                Some(Err(e)) => return anyhow::anyhow!("a task ended abnormally: {e}"),
                None => std::future::pending::<()>().await,
            }
        }
    }

    fn cancel(&self, stage: Stage) {
        self.token(stage).cancel();
    }

    async fn join_all(&mut self) {
        while let Some(done) = self.set.join_next().await {
            if let Ok((name, Err(e))) = done {
                tracing::warn!(task = name, error = %format!("{e:#}"), "task ended with an error");
            }
        }
    }
}
