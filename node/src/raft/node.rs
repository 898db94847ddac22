//! [`RaftNode`]: opens the storage, starts openraft and the proposer, forwarder and read
//! barrier tasks, and is the one entry point the rest of the node uses to write (propose),
//! read (barrier, read view) and ask about the group.

#![allow(clippy::result_large_err)]

use std::future::Future;

use futures::future::BoxFuture;

use super::*;

/// Keeps the transport's address -> node name map equal to the membership's, so that a dial
/// to a member's address checks that member's identity.
pub(super) async fn track_member_names(
    mut metrics: MetricsRx,
    transport: Arc<network::PeerTransport>,
) {
    // Metrics change with every entry; the names only with a membership entry.
    let mut last = None;
    loop {
        let names = {
            let m = metrics.borrow_and_update();
            let config = &m.membership_config;
            let log_id = *config.log_id();
            if last == Some(log_id) {
                None
            } else {
                last = Some(log_id);
                Some(
                    config
                        .membership()
                        .nodes()
                        .map(|(_, m)| (m.addr.clone(), m.name.clone()))
                        .collect(),
                )
            }
        };
        if let Some(names) = names {
            transport.set_expected_names(names);
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

/// Reads every record of every tree once (sled checks its pages as it reads them) and checks
/// every log entry's checksum: damaged data stops the start instead of being served later.
pub(super) fn verify_storage(db: &sled::Db, dir: &Path) -> Result<(), String> {
    for name in db.tree_names() {
        let tree = db.open_tree(&name).map_err(|e| e.to_string())?;
        for item in tree.iter() {
            item.map_err(|e| format!("tree '{}': {e}", String::from_utf8_lossy(&name)))?;
        }
    }
    let entries = log_store::verify(db, dir)?;
    tracing::info!(entries, "storage verified");
    Ok(())
}

/// Settings of the Raft layer taken from the node's config.
pub struct RaftSettings {
    pub node_id: u64,
    pub advertise_addr: String,
    /// This node's identity (its certificate's node name; empty without peer TLS).
    pub node_name: String,
    /// `min-free-disk`: writes are refused below this many free bytes (0: never).
    pub min_free_disk: u64,
    /// `raft-max-entry-size`: with other members, larger writes are refused up front.
    pub max_entry_size: u64,
    pub snapshot_logs: u64,
    /// How the group starts when this node has no Raft state yet.
    pub start: StartMode,
}

/// What a node without Raft state does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartMode {
    /// Initialise a one-member group (a single node).
    Single,
    /// Initialise the group with these members (`bootstrap = true` + `peers`).
    Bootstrap(Vec<(u64, Member)>),
    /// Wait to be added: asks a member to add it (`join`), or is among the bootstrap peers.
    Wait,
}

/// The tasks a [`RaftNode`] needs running: group commit, forwarding, read barriers, the
/// member-name map and the disk watch. The composition root spawns them (and stops them).
#[derive(Default)]
pub struct RaftTasks(pub Vec<(&'static str, BoxFuture<'static, ()>)>);

impl RaftTasks {
    fn add(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        self.0.push((name, Box::pin(task)));
    }
}

/// The node's storage, opened and checked: the Raft log (vote, committed, log entries) in its
/// own sled database under `data/`, and the state machine in memory, loaded from the newest
/// snapshot under `snapshots/` (openraft replays the log after it).
struct Storage {
    db: sled::Db,
    log: LogStore,
    sm: StateMachine,
    shared: Arc<SharedState>,
    /// The snapshot file was missing or damaged: build a new one once running.
    rebuild_snapshot: bool,
}

/// Why a node with damaged data will not start, and what to do: move `aside` (a folder) and
/// start again.
fn refuse_damaged(what: String, aside: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{what}; this node will not serve it. Stop it, move {aside} aside and start the node \
         again to rejoin its cluster and receive the data from the others (a single node: \
         restore a backup)"
    )
}

/// Trees that earlier versions kept the keyspace in (it is in memory now, and every record of
/// it is in the snapshot or the log after it).
const OLD_TREES: [&str; 2] = ["keyspace", "sm_meta"];

impl Storage {
    fn open(dir: &Path, table: Arc<CommandTable>) -> anyhow::Result<Storage> {
        let data_dir = dir.join("data");
        let damaged = |detail: String| {
            refuse_damaged(
                format!(
                    "the data under '{}' is damaged ({detail})",
                    data_dir.display()
                ),
                "that folder",
            )
        };
        let db = sled::Config::new()
            .path(&data_dir)
            .cache_capacity(64 * 1024 * 1024)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|e| damaged(e.to_string()))?;
        verify_storage(&db, dir).map_err(damaged)?;
        let log = LogStore::open(&db, dir)?;
        let snapshot_dir = dir.join("snapshots");
        let (sm, shared, rebuild_snapshot) = match StateMachine::open(
            table.clone(),
            snapshot_dir.clone(),
        ) {
            Ok((sm, shared)) => (sm, shared, false),
            Err(state_machine::SnapshotDamaged::Damaged { path, reason }) => {
                // The log can stand in for the snapshot only while it still holds every entry.
                if log.purged_index()?.is_some() {
                    return Err(refuse_damaged(
                        format!(
                            "the snapshot file '{}' is damaged ({reason}) and the log no longer \
                             holds the entries it covers",
                            path.display()
                        ),
                        &format!("'{}'", dir.display()),
                    ));
                }
                tracing::warn!(file = %path.display(), %reason, "the snapshot file is damaged: removing it; the log still holds every entry, so the state is rebuilt from it and a new snapshot is written");
                std::fs::remove_file(&path)?;
                let (sm, shared) = StateMachine::open(table, snapshot_dir)?;
                (sm, shared, true)
            }
            Err(e) => return Err(e.into()),
        };
        for name in OLD_TREES {
            // Ok(false) when it is not there.
            db.drop_tree(name).map_err(|e| damaged(e.to_string()))?;
        }
        Ok(Storage {
            db,
            log,
            sm,
            shared,
            rebuild_snapshot,
        })
    }
}

/// openraft's settings for Redoubt: 100 ms heartbeats, elections after 300-600 ms, Pre-Vote.
fn raft_config(settings: &RaftSettings) -> RaftConfig {
    RaftConfig {
        cluster_name: "redoubt".to_string(),
        heartbeat_interval: 100,
        election_timeout_min: 300,
        election_timeout_max: 600,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(settings.snapshot_logs),
        max_in_snapshot_log_to_keep: 1000,
        max_payload_entries: 1000,
        // A node cut off from the majority does not raise its term, and one that returns
        // does not depose a healthy leader.
        enable_pre_vote: Some(true),
        // A restarted leader stands for election in a new term instead of resuming in its old
        // one: entries it had sent before a crash but not yet written itself would otherwise
        // be proposed again under the same log ids with other contents, and followers that
        // hold the first ones would keep them (the log ids match), diverging for good.
        enable_leader_restore: Some(false),
        // Replication to a peer that failed is retried soon, and never waits more than a
        // second once the peer is back (after a partition heals, say).
        backoff: "50ms 100ms 200ms ...1s".to_string(),
        ..Default::default()
    }
}

/// On a first start, initialises the group: this node alone, or the bootstrap members.
async fn initialize_if_new(raft: &Raft, settings: &RaftSettings) -> anyhow::Result<()> {
    if raft.is_initialized().await? {
        return Ok(());
    }
    let mut members = std::collections::BTreeMap::new();
    match &settings.start {
        StartMode::Single => {
            members.insert(
                settings.node_id,
                Member::new(settings.advertise_addr.clone(), settings.node_name.clone()),
            );
        }
        StartMode::Bootstrap(peers) => {
            for (id, member) in peers {
                members.insert(*id, member.clone());
            }
        }
        StartMode::Wait => {}
    }
    if !members.is_empty() {
        tracing::info!(members = ?members.keys().collect::<Vec<_>>(), "initialising the raft group");
        raft.initialize(members).await?;
    }
    Ok(())
}

/// A consistent read of the keyspace: a point-in-time view of everything applied up to some
/// batch, held without a lock.
pub struct ReadView {
    keyspace: Keyspace,
}

impl std::ops::Deref for ReadView {
    type Target = Keyspace;
    fn deref(&self) -> &Keyspace {
        &self.keyspace
    }
}

impl std::ops::DerefMut for ReadView {
    fn deref_mut(&mut self) -> &mut Keyspace {
        &mut self.keyspace
    }
}

/// A running Raft member with its storage.
pub struct RaftNode {
    pub(super) raft: Raft,
    proposals: mpsc::UnboundedSender<Proposal>,
    read_barriers: mpsc::UnboundedSender<oneshot::Sender<Result<(), RaftCallError>>>,
    forwards: mpsc::UnboundedSender<Proposal>,
    transport: Arc<network::PeerTransport>,
    metrics: MetricsRx,
    /// Term in which reads may skip the barrier (see `sole_voter_leader_term`); 0: none.
    fast_read_term: AtomicU64,
    shared: Arc<SharedState>,
    /// Free space of the data directory against `min-free-disk`.
    disk: Arc<disk::DiskGuard>,
    max_entry_size: u64,
    pub(super) log: LogStore,
    node_id: u64,
    db: sled::Db,
    dir: std::path::PathBuf,
}

impl RaftNode {
    /// This node's id in the group.
    pub fn id(&self) -> u64 {
        self.node_id
    }

    /// The openraft handle: for the peer service (it hands Raft RPCs to it) and membership
    /// changes. Client writes and reads go through this node's own methods instead.
    pub fn openraft(&self) -> &Raft {
        &self.raft
    }

    /// The peer channel's client side (also forwarding and identity probes).
    pub fn transport(&self) -> &Arc<network::PeerTransport> {
        &self.transport
    }

    /// The ACL state's generation: it moves with every applied ACL change.
    pub fn acl_generation(&self) -> u64 {
        self.shared
            .acl_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Notified at every applied ACL change.
    pub fn acl_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.acl_changes.subscribe()
    }

    /// The config seeds (by source) the replicated ACL state has taken in.
    pub fn acl_seeds(&self) -> Arc<crate::acl::replicated::SeedFingerprints> {
        self.shared.acl_seeds.load_full()
    }

    /// Runs `f` on the replicated ACL state without touching reference counts.
    pub fn with_acl<R>(&self, f: impl FnOnce(&crate::acl::AclState) -> R) -> R {
        f(&self.shared.acl.load())
    }

    /// The data directory is below `min-free-disk`: appends are refused.
    pub fn disk_is_low(&self) -> bool {
        self.disk.is_low()
    }

    /// Bytes the storage takes on disk (INFO): the log's database and the snapshot.
    pub fn storage_bytes(&self) -> u64 {
        let snapshot = std::fs::metadata(self.snapshot_path())
            .map(|m| m.len())
            .unwrap_or(0);
        self.db.size_on_disk().unwrap_or(0) + snapshot
    }

    /// Entries in the Raft log (INFO).
    pub fn log_entries(&self) -> usize {
        self.log.len()
    }

    /// Opens the store under `dir`, starts Raft and, on first start, initialises the group
    /// (restarting never re-initialises). Returns the node and the tasks it needs running
    /// (the caller spawns them: see `app.rs`).
    pub async fn start(
        dir: &Path,
        settings: RaftSettings,
        table: Arc<CommandTable>,
        transport: Arc<network::PeerTransport>,
    ) -> anyhow::Result<(RaftNode, RaftTasks)> {
        let storage = Storage::open(dir, table)?;
        let raft = Raft::new(
            settings.node_id,
            Arc::new(raft_config(&settings).validate()?),
            network::PeerNetwork::new(transport.clone()),
            storage.log.clone(),
            storage.sm,
        )
        .await?;
        initialize_if_new(&raft, &settings).await?;
        if storage.rebuild_snapshot {
            if let Err(e) = raft.trigger().snapshot().await {
                tracing::warn!(error = %e, "cannot start rebuilding the snapshot");
            }
        }
        let disk = disk::DiskGuard::new(dir, settings.min_free_disk);
        let (proposals, proposals_rx) = mpsc::unbounded_channel();
        let (forwards, forwards_rx) = mpsc::unbounded_channel();
        let (read_barriers, barriers_rx) = mpsc::unbounded_channel();
        let mut tasks = RaftTasks::default();
        tasks.add(
            "member-names",
            track_member_names(raft.metrics(), transport.clone()),
        );
        tasks.add("disk-watch", disk.clone().watch());
        tasks.add(
            "proposer",
            run_proposer(
                raft.clone(),
                storage.log.clone(),
                proposals_rx,
                forwards.clone(),
            ),
        );
        tasks.add(
            "read-barriers",
            run_read_barriers(
                raft.clone(),
                transport.clone(),
                storage.shared.applied_index.subscribe(),
                barriers_rx,
            ),
        );
        tasks.add(
            "forwarder",
            run_forwarder(
                raft.clone(),
                transport.clone(),
                proposals.clone(),
                forwards_rx,
            ),
        );
        let node = RaftNode {
            metrics: raft.metrics(),
            fast_read_term: AtomicU64::new(0),
            raft,
            proposals,
            read_barriers,
            forwards,
            transport,
            shared: storage.shared,
            disk,
            max_entry_size: settings.max_entry_size,
            log: storage.log,
            node_id: settings.node_id,
            db: storage.db,
            dir: dir.to_path_buf(),
        };
        Ok((node, tasks))
    }

    /// Queues a client request for the next entry; the receiver gets the state machine's reply.
    pub fn propose(&self, request: ExecRequest) -> oneshot::Receiver<Result<Reply, RaftCallError>> {
        self.propose_from(None, request)
    }

    /// [`RaftNode::propose`] for client connection `origin`, whose requests may be pipelined:
    /// forwarded to a leader, they keep the order the client sent them in.
    pub fn propose_from(
        &self,
        origin: Option<u64>,
        request: ExecRequest,
    ) -> oneshot::Receiver<Result<Reply, RaftCallError>> {
        let queue = if self.is_leader() {
            &self.proposals
        } else {
            &self.forwards
        };
        self.enqueue(queue, origin, request)
    }

    /// Whether a client request may become an entry now: not larger than
    /// `raft-max-entry-size` in a cluster (every member holds the entry in memory while it
    /// travels, and it must fit in one peer message; a single node replicates nothing and
    /// takes anything), and not while the disk is low (`-MISCONF`).
    fn admit(&self, request: &ExecRequest) -> Result<(), RaftCallError> {
        let size: u64 = request
            .commands
            .iter()
            .flatten()
            .map(|a| a.len() as u64)
            .sum();
        if size > self.max_entry_size
            && self
                .metrics
                .borrow_watched()
                .membership_config
                .membership()
                .nodes()
                .count()
                > 1
        {
            return Err(RaftCallError::TooLarge(format!(
                "ERR the write is {size} bytes, more than raft-max-entry-size ({} bytes), the \
                 largest entry this cluster replicates safely",
                self.max_entry_size
            )));
        }
        // Written twice: once in the log entry, once in the next snapshot.
        self.disk.account(2 * size);
        if self.disk.is_low() {
            return Err(RaftCallError::DiskLow(self.disk.misconf()));
        }
        Ok(())
    }

    /// Queues a request on the leader itself (Forward calls from followers land here).
    pub fn propose_local(
        &self,
        request: ExecRequest,
    ) -> oneshot::Receiver<Result<Reply, RaftCallError>> {
        self.enqueue(&self.proposals, None, request)
    }

    /// Admits `request` and puts it on `queue` (the proposer or the forwarder).
    fn enqueue(
        &self,
        queue: &mpsc::UnboundedSender<Proposal>,
        origin: Option<u64>,
        request: ExecRequest,
    ) -> oneshot::Receiver<Result<Reply, RaftCallError>> {
        let (reply_to, rx) = oneshot::channel();
        if let Err(e) = self.admit(&request) {
            let _ = reply_to.send(Err(e));
            return rx;
        }
        let mut proposal = Proposal::new(request, reply_to);
        proposal.origin = origin;
        if let Err(mpsc::error::SendError(p)) = queue.send(proposal) {
            let _ = p.reply_to.send(Err(RaftCallError::Other(
                "the raft node is shutting down".into(),
            )));
        }
        rx
    }

    /// Where snapshots are kept (and received).
    pub fn snapshot_dir(&self) -> std::path::PathBuf {
        self.dir.join("snapshots")
    }

    /// The current snapshot's file (the keyspace's RDB).
    pub fn snapshot_path(&self) -> std::path::PathBuf {
        state_machine::snapshot_path(&self.snapshot_dir())
    }

    /// The ACL state as of the last applied entry.
    pub fn acl(&self) -> Arc<crate::acl::AclState> {
        self.shared.acl.load_full()
    }

    /// Whether this node is a voter of the current membership.
    pub fn is_voter(&self) -> bool {
        self.metrics
            .borrow_watched()
            .membership_config
            .membership()
            .voter_ids()
            .any(|id| id == self.node_id)
    }

    /// Whether this node currently believes it is the leader.
    pub fn is_leader(&self) -> bool {
        known_leader(&self.metrics.borrow_watched()) == Some(self.node_id)
    }

    /// Proposes a client request and waits for its reply.
    pub async fn execute(&self, request: ExecRequest) -> Result<Reply, RaftCallError> {
        self.propose(request)
            .await
            .unwrap_or_else(|_| Err(RaftCallError::Other("the raft node stopped".into())))
    }

    /// Proposes `req` as an entry of its own and waits for the state machine's response.
    pub async fn write(&self, req: Request) -> Result<Response, RaftCallError> {
        match self.raft.client_write(req).await {
            Ok(resp) => Ok(resp.data),
            Err(RaftError::APIError(e)) => Err(RaftCallError::from_write(e)),
            Err(e) => Err(RaftCallError::from_core(&e)),
        }
    }

    /// Linearizable read barrier: returns once this node is known to be the leader and has
    /// applied everything committed before the call.
    pub async fn read_barrier(&self) -> Result<(), RaftCallError> {
        if self.sole_voter_leader_term() == Some(self.fast_read_term.load(Ordering::Acquire)) {
            return Ok(());
        }
        let term_before = self.sole_voter_leader_term();
        let (tx, rx) = oneshot::channel();
        if self.read_barriers.send(tx).is_err() {
            return Err(RaftCallError::Other(
                "the raft node is shutting down".into(),
            ));
        }
        let result = rx
            .await
            .unwrap_or_else(|_| Err(RaftCallError::Other("the raft node stopped".into())));
        if result.is_ok() {
            if let Some(term) = term_before {
                // The barrier applied everything committed in this term: from now on, in this
                // term, local state already holds every acknowledged write.
                self.fast_read_term.store(term, Ordering::Release);
            }
        }
        result
    }

    /// The current term when this node leads a group whose only voter it is. Then nobody else
    /// can commit or lead, and every acknowledged write was applied here before its reply, so
    /// after one barrier in the term a local read is linearizable without asking anyone.
    fn sole_voter_leader_term(&self) -> Option<u64> {
        let m = self.metrics.borrow_watched();
        if m.state != openraft::ServerState::Leader {
            return None;
        }
        let mut voters = m.membership_config.voter_ids();
        match (voters.next(), voters.next()) {
            (Some(only), None) if only == self.node_id => Some(m.current_term),
            _ => None,
        }
    }

    /// Waits until a leader is known (start-up), at most `timeout`.
    pub async fn wait_for_leader(&self, timeout: Duration) -> bool {
        self.raft
            .wait(Some(timeout))
            .metrics(|m| known_leader(m).is_some(), "leader known")
            .await
            .is_ok()
    }

    /// A read-only view of the applied keyspace of database `db` at time `now_ms`: everything
    /// up to the last applied batch, which later batches do not change. Drop it soon: while it
    /// lives, writes copy the tree nodes they change instead of changing them in place.
    pub fn read_view(&self, db: u8, now_ms: u64) -> ReadView {
        let records = self.shared.view().records;
        ReadView {
            keyspace: Keyspace::new(Txn::read_only(records), db, now_ms, 0),
        }
    }

    pub async fn shutdown(&self) {
        let _ = self.raft.shutdown().await;
        let _ = self.db.flush_async().await;
    }
}
