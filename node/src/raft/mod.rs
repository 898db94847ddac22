//! The Raft layer: openraft type config, the request carried by log entries, and [`RaftNode`],
//! the one place that turns a client write into a Raft entry and waits for its reply.
//!
//! A single node is a one-member Raft group: there is one code path for one node and for many.

// openraft's error types (RaftError, RPCError) are large.
#![allow(clippy::result_large_err)]

pub mod checksum;
pub mod disk;
pub mod log_store;
pub mod network;
pub mod state_machine;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use openraft::async_runtime::WatchReceiver as _;
use openraft::error::{ClientWriteError, RaftError};
use openraft::type_config::alias;
use openraft::{Config as RaftConfig, SnapshotPolicy};
use redoubt_proto::resp::{Frame, Protocol};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::commands::CommandTable;
use crate::store::{Keyspace, Txn};
use log_store::LogStore;
use state_machine::{SharedState, StateMachine};

openraft::declare_raft_types!(
    /// Redoubt's openraft types.
    pub TypeConfig:
        D = Request,
        R = Response,
        NodeId = u64,
        Node = Member,
        AsyncRuntime = openraft_rt_tokio::TokioRuntime,
);

/// The running Raft group member, as openraft 0.10 names it with its state machine.
pub type Raft = openraft::Raft<TypeConfig, StateMachine>;
pub type LogId = alias::LogIdOf<TypeConfig>;
pub type Vote = alias::VoteOf<TypeConfig>;
pub type Entry = alias::EntryOf<TypeConfig>;
pub type Membership = openraft::Membership<u64, Member>;
pub type StoredMembership = alias::StoredMembershipOf<TypeConfig>;
pub type SnapshotMeta = alias::SnapshotMetaOf<TypeConfig>;
pub type Snapshot = alias::SnapshotOf<TypeConfig, state_machine::SnapshotFile>;
pub type Metrics = openraft::RaftMetrics<TypeConfig>;
pub type MetricsRx = alias::WatchReceiverOf<TypeConfig, Metrics>;

/// A member of the Raft group as the membership records it: where its peer service listens,
/// and the node identity its certificate must carry (the name of its `redoubt://node/<name>`
/// URI SAN). Peer calls that claim to come from a member are served only over a connection
/// whose certificate carries that member's name. Names are pinned, not keys: a certificate
/// reissued under the same name (rotation) keeps working; a node whose name changes must be
/// removed and added again. Empty only on a plaintext peer channel (`peer-tls no`, tests).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub addr: String,
    pub name: String,
}

impl Member {
    pub fn new(addr: impl Into<String>, name: impl Into<String>) -> Member {
        Member {
            addr: addr.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the arguments: they hold values and, for ACL commands, passwords.
        match self {
            Request::Exec(r) => write!(f, "exec({} commands)", r.commands.len()),
            Request::Batch(rs) => write!(f, "batch({} requests)", rs.len()),
            Request::Expire { keys, .. } => write!(f, "expire({} keys)", keys.len()),
        }
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Response::One(_) => write!(f, "one reply"),
            Response::Batch(r) => write!(f, "{} replies", r.len()),
        }
    }
}

impl std::fmt::Display for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name.is_empty() {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}@{}", self.name, self.addr)
        }
    }
}

/// What a log entry asks the state machine to do. Deterministic: everything the outcome depends
/// on (time, random seed, caller) is inside.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// A client's write command, or a whole MULTI/EXEC transaction.
    Exec(ExecRequest),
    /// Requests of many clients proposed together (group commit): one entry, one fsync.
    Batch(Vec<ExecRequest>),
    /// Remove keys the leader found expired (each is checked again against `now_ms`).
    Expire {
        db: u8,
        keys: Vec<Bytes>,
        now_ms: u64,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExecRequest {
    /// Database selected when the command (or EXEC) was sent.
    pub db: u8,
    /// The authenticated user on whose behalf the command runs (checked at apply time).
    pub user: String,
    /// Proposed by the node itself (ACL seeds from its config), not for a client: no ACL check.
    pub internal: bool,
    /// The proposer's clock (unix ms): relative TTLs and expiry are decided against it.
    pub now_ms: u64,
    /// Seed for every random choice the commands make (SPOP...).
    pub seed: u64,
    /// Protocol of the client: some replies differ in shape.
    pub protocol: Protocol,
    /// MULTI/EXEC: keys watched and the version each had when read by the serving node.
    pub watches: Vec<Watch>,
    /// Command lines with canonical (un-renamed) lower-case names.
    pub commands: Vec<Vec<Bytes>>,
    /// True for MULTI/EXEC: the reply is an array (or nil when a watched key changed).
    pub multi: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Watch {
    pub db: u8,
    pub key: Bytes,
    pub version: u64,
}

/// The state machine's answer to an entry: one reply, or one per request of a batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Response {
    One(Reply),
    Batch(Vec<Reply>),
}

/// The state machine's answer to one request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reply {
    pub frame: Frame,
    /// Database selected after the entry (SELECT inside MULTI).
    pub db: u8,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply {
            frame: Frame::ok(),
            db: 0,
        }
    }
}

/// Why a write or a read barrier failed, as a client should hear it.
#[derive(Clone, Debug, thiserror::Error)]
pub enum RaftCallError {
    #[error("TRYAGAIN no leader is known yet, retry the command")]
    NoLeader,
    /// A write larger than `raft-max-entry-size` in a cluster of several nodes: the full text.
    #[error("{0}")]
    TooLarge(String),
    /// The leader cannot reach a majority of the voters.
    #[error("TRYAGAIN no quorum: a majority of the cluster's voters cannot be reached, retry the command")]
    NoQuorum,
    #[error("ERR raft: {0}")]
    Other(String),
    /// The disk is below `min-free-disk`: the full `-MISCONF ...` text.
    #[error("{0}")]
    DiskLow(String),
    /// The leader changed while the write was in flight: it may or may not be applied.
    #[error(
        "ERR the leader changed while the write was in flight; it may or may not have been applied"
    )]
    Unknown,
    /// An error the leader returned for a forwarded request, as the leader worded it.
    #[error("{0}")]
    Remote(String),
}

impl RaftCallError {
    /// A read barrier's failure as a client hears it: what happened, never openraft's own
    /// text (which shows the membership, with every peer's address, in Rust debug form).
    pub fn from_read_index(
        e: RaftError<TypeConfig, openraft::error::LinearizableReadError<TypeConfig>>,
    ) -> RaftCallError {
        use openraft::error::LinearizableReadError;
        match e {
            RaftError::APIError(LinearizableReadError::ForwardToLeader(_)) => {
                RaftCallError::NoLeader
            }
            RaftError::APIError(LinearizableReadError::QuorumNotEnough(_)) => {
                RaftCallError::NoQuorum
            }
            RaftError::Fatal(f) => RaftCallError::from_core(&f),
        }
    }

    /// A write's failure as its client hears it.
    fn from_write(e: ClientWriteError<TypeConfig>) -> RaftCallError {
        match e {
            ClientWriteError::ForwardToLeader(_) => RaftCallError::NoLeader,
            // Another leader's log replaced the entry here; it may still commit through a
            // node that holds it: the client must not assume either way.
            ClientWriteError::LogEntryDiscarded(_) => RaftCallError::Unknown,
            // Client entries are never membership changes and carry no precondition.
            e => RaftCallError::from_core(&e),
        }
    }

    /// The Raft core stopped (or refused) for a reason its log line tells; the client gets a
    /// plain sentence.
    pub fn from_core(e: &dyn std::fmt::Display) -> RaftCallError {
        crate::log_limited!(
            crate::logsafe::LIBRARY_REPEATS,
            "raft core error",
            error = %e, "raft call failed"
        );
        RaftCallError::Other("the raft core is not running (see the node's log)".into())
    }

    pub fn to_frame(&self) -> Frame {
        Frame::Error(self.to_string())
    }
}

/// Runs `f`, CPU work over `bytes` bytes (decoding, checksums, applying a large value), so
/// that a large payload does not hold up the runtime's other tasks: from this size on, the
/// worker thread hands its other tasks over first. Heartbeats and votes must keep flowing
/// while a 64 MB entry is decoded, or the cluster loses its leader over one write.
pub fn heavy<T>(bytes: usize, f: impl FnOnce() -> T) -> T {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if bytes >= HEAVY_BYTES && multi_thread {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// See [`heavy`].
const HEAVY_BYTES: usize = 1024 * 1024;

/// Runs `f`, which may block (waiting for a lock held for long, e.g. while a snapshot is
/// written), without holding up the runtime's other tasks: the worker thread hands them over
/// first.
pub fn may_block<T>(f: impl FnOnce() -> T) -> T {
    heavy(usize::MAX, f)
}

/// Keeps the transport's address -> node name map equal to the membership's, so that a dial
/// to a member's address checks that member's identity.
async fn track_member_names(mut metrics: MetricsRx, transport: Arc<network::PeerTransport>) {
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
fn verify_storage(db: &sled::Db, dir: &Path) -> Result<(), String> {
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

/// A client request waiting to be proposed, and where its reply goes.
struct Proposal {
    request: ExecRequest,
    reply_to: oneshot::Sender<Result<Reply, RaftCallError>>,
    /// When it stops waiting for a leader (the client then hears TRYAGAIN).
    deadline: tokio::time::Instant,
    /// This node, as leader, refused it before appending it (it was handing leadership over,
    /// or its lease had lapsed): it goes to the next leader instead.
    refused_here: bool,
    /// The client connection it came from, whose requests keep their order when forwarded
    /// (None: a caller that waits for each reply).
    origin: Option<u64>,
}

impl Proposal {
    fn new(request: ExecRequest, reply_to: oneshot::Sender<Result<Reply, RaftCallError>>) -> Self {
        Proposal {
            request,
            reply_to,
            deadline: tokio::time::Instant::now() + LEADER_WAIT,
            refused_here: false,
            origin: None,
        }
    }
}

/// Most requests (and bytes) proposed in one entry.
const MAX_BATCH_REQUESTS: usize = 4096;
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Group commit: every request that arrives while an entry is being written is proposed in the
/// next entry, so N concurrent clients share one log append and one fsync. The next entry is
/// proposed as soon as the previous one is durable in the log (not when it is applied), so
/// applying and replying to one batch overlaps with writing the next.
async fn run_proposer(
    raft: Raft,
    log: LogStore,
    mut rx: mpsc::UnboundedReceiver<Proposal>,
    forwards: mpsc::UnboundedSender<Proposal>,
) {
    let mut appended = log.appended_index();
    let mut flushed = log.flushed_index();
    while let Some(first) = rx.recv().await {
        let mut bytes = first.request.size();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_REQUESTS && bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(p) => {
                    bytes += p.request.size();
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        let mut requests = Vec::with_capacity(batch.len());
        let mut waiters = Vec::with_capacity(batch.len());
        for p in batch {
            // Kept (cheap: argument bytes are shared) in case the entry is refused unappended.
            requests.push(p.request.clone());
            waiters.push(p);
        }
        let entry = match (requests.len(), requests.pop()) {
            (1, Some(one)) => Request::Exec(one),
            (_, Some(last)) => {
                requests.push(last);
                Request::Batch(requests)
            }
            (_, None) => continue,
        };
        let appended_before = *appended.borrow_and_update();
        tracing::trace!(requests = waiters.len(), "proposing batch");
        let (responder, reply) = openraft::impls::ProgressResponder::complete_only();
        match raft.client_write_ff(entry, Some(responder)).await {
            Ok(()) => {}
            Err(e) => {
                let err = RaftCallError::from_core(&e);
                for w in waiters {
                    let _ = w.reply_to.send(Err(err.clone()));
                }
                continue;
            }
        };
        let mut delivery = tokio::spawn(deliver_replies(reply, waiters, forwards.clone()));
        // Wait until this entry is durable (or the write finished, e.g. failed) before the next.
        let durable = async {
            let Ok(index) = appended
                .wait_for(|i| *i > appended_before)
                .await
                .map(|i| *i)
            else {
                return;
            };
            let _ = flushed.wait_for(|f| *f >= index).await;
        };
        tokio::select! {
            _ = durable => {}
            _ = &mut delivery => {}
        }
    }
}

/// Hands each waiting client its reply once the state machine has applied the entry.
async fn deliver_replies(
    reply: oneshot::Receiver<openraft::raft::ClientWriteResult<TypeConfig>>,
    waiters: Vec<Proposal>,
    forwards: mpsc::UnboundedSender<Proposal>,
) {
    match reply.await {
        Ok(Ok(resp)) => match resp.data {
            Response::One(reply) => {
                for w in waiters {
                    let _ = w.reply_to.send(Ok(reply.clone()));
                }
            }
            Response::Batch(replies) => {
                for (w, reply) in waiters.into_iter().zip(replies) {
                    let _ = w.reply_to.send(Ok(reply));
                }
            }
        },
        // Refused before it was appended: nothing was written, so the requests go to the next
        // leader (the forwarder waits for it, within each request's deadline).
        Ok(Err(ClientWriteError::ForwardToLeader(f))) => {
            tracing::debug!(reason = %f, "the leader refused an entry unappended: retrying");
            for mut w in waiters {
                w.refused_here = true;
                if let Err(mpsc::error::SendError(w)) = forwards.send(w) {
                    let _ = w.reply_to.send(Err(RaftCallError::NoLeader));
                }
            }
        }
        Ok(Err(e)) => {
            let err = RaftCallError::from_write(e);
            for w in waiters {
                let _ = w.reply_to.send(Err(err.clone()));
            }
        }
        Err(_) => {
            for w in waiters {
                let _ = w
                    .reply_to
                    .send(Err(RaftCallError::Other("the raft node stopped".into())));
            }
        }
    }
}

/// Read barriers, coalesced: every reader waiting when a barrier starts shares it. A reader
/// that arrives while one is running gets a barrier started after it arrived (the next
/// one, which may run beside the first), so each read still sees every write acknowledged
/// before it arrived. On the leader a barrier is openraft's read index; on a
/// follower it is the leader's read index (asked over gRPC) and a wait until this node has
/// applied that far.
async fn run_read_barriers(
    raft: Raft,
    transport: Arc<network::PeerTransport>,
    applied: tokio::sync::watch::Receiver<u64>,
    mut rx: mpsc::UnboundedReceiver<oneshot::Sender<Result<(), RaftCallError>>>,
) {
    // Barriers run side by side (a slow one holds up only its own readers), a bounded number
    // at once; readers arriving meanwhile share the next one.
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_BARRIERS_IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut waiters = vec![first];
        while let Ok(more) = rx.try_recv() {
            waiters.push(more);
        }
        let (raft, transport, applied) = (raft.clone(), transport.clone(), applied.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let result = read_barrier_round(&raft, &transport, applied).await;
            for w in waiters {
                let _ = w.send(result.clone());
            }
        });
    }
}

/// Read barriers in flight at once on one node.
const MAX_BARRIERS_IN_FLIGHT: usize = 8;

/// One barrier: this node's read index if it leads, else the leader's, then a wait until this
/// node has applied that far.
async fn read_barrier_round(
    raft: &Raft,
    transport: &network::PeerTransport,
    mut applied: tokio::sync::watch::Receiver<u64>,
) -> Result<(), RaftCallError> {
    match await_leader(raft).await {
        None => Err(RaftCallError::NoLeader),
        Some((id, _)) if id == raft_id(raft) => match raft
            .ensure_linearizable(openraft::raft::ReadPolicy::ReadIndex)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(RaftCallError::from_read_index(e)),
        },
        Some((leader, addr)) => {
            let index = remote_read_index_retrying(raft, transport, leader, &addr).await?;
            let waited =
                tokio::time::timeout(FOLLOWER_WAIT, applied.wait_for(|a| *a >= index)).await;
            match waited {
                Ok(Ok(_)) => Ok(()),
                _ => Err(RaftCallError::NoLeader),
            }
        }
    }
}

/// How long a follower waits to apply up to the leader's read index or for a forwarded reply.
const FOLLOWER_WAIT: Duration = Duration::from_secs(5);

/// The membership `raft` works with now (the latest, committed or not).
pub fn membership_of(raft: &Raft) -> Membership {
    raft.metrics()
        .borrow_watched()
        .membership_config
        .membership()
        .clone()
}

fn raft_id(raft: &Raft) -> u64 {
    raft.metrics().borrow_watched().id
}

/// Waits (bounded) until a leader is known: clients wait through a short election instead of
/// failing at once; after the bound they get TRYAGAIN.
pub async fn await_leader(raft: &Raft) -> Option<(u64, String)> {
    if let Some(l) = leader_of(raft) {
        return Some(l);
    }
    let _ = raft
        .wait(Some(LEADER_WAIT))
        .metrics(|m| known_leader(m).is_some(), "a leader is known")
        .await;
    leader_of(raft)
}

/// How long a request waits for an election to end before TRYAGAIN.
const LEADER_WAIT: Duration = Duration::from_secs(3);

/// The leader as requests should see it. openraft names a node the leader as soon as its vote
/// is committed, a moment before it takes requests: until its state is Leader, this node does
/// not count itself as one (requests wait instead of being refused).
pub fn known_leader(m: &Metrics) -> Option<u64> {
    let leader = m.current_leader?;
    if leader == m.id && m.state != openraft::ServerState::Leader {
        return None;
    }
    Some(leader)
}

/// The current leader's id and peer address, if one is known.
pub fn leader_of(raft: &Raft) -> Option<(u64, String)> {
    let m = raft.metrics().borrow_watched().clone();
    let leader = known_leader(&m)?;
    let addr = m
        .membership_config
        .membership()
        .get_node(&leader)
        .map(|n| n.addr.clone())
        .unwrap_or_default();
    Some((leader, addr))
}

/// The leader's read index; when the known leader cannot answer, waits (bounded) for the next
/// one and asks it: a read is always safe to retry.
async fn remote_read_index_retrying(
    raft: &Raft,
    transport: &network::PeerTransport,
    leader: u64,
    addr: &str,
) -> Result<u64, RaftCallError> {
    let deadline = tokio::time::Instant::now() + LEADER_WAIT;
    let (mut leader, mut addr) = (leader, addr.to_string());
    loop {
        // A read is safe to send again: a leader that stops answering is given up on as soon
        // as another one is known.
        let asked = tokio::select! {
            r = remote_read_index(transport, &addr) => r,
            _ = leader_other_than(raft, leader) => Err(RaftCallError::NoLeader),
        };
        match asked {
            Ok(i) => return Ok(i),
            Err(_) if tokio::time::Instant::now() < deadline => {
                wait_for_other_leader(raft, leader, retry_at(deadline)).await;
                match leader_of(raft) {
                    // This node itself leads now: its own barrier answers.
                    Some((id, _)) if id == raft_id(raft) => {
                        return raft
                            .ensure_linearizable(openraft::raft::ReadPolicy::ReadIndex)
                            .await
                            .map(|l| l.index())
                            .map_err(|_| RaftCallError::NoLeader)
                    }
                    Some((id, a)) => {
                        leader = id;
                        addr = a;
                    }
                    // An election is running: ask the last leader again meanwhile.
                    None => {}
                }
            }
            Err(e) => return Err(e),
        }
    }
}

async fn remote_read_index(
    transport: &network::PeerTransport,
    addr: &str,
) -> Result<u64, RaftCallError> {
    let mut client = transport.client(addr).map_err(RaftCallError::Other)?;
    let mut req = transport.request(redoubt_proto::peer::ReadIndexRequest {});
    req.set_timeout(FOLLOWER_WAIT);
    match client.read_index(req).await {
        Ok(r) => Ok(r.into_inner().index),
        Err(s) if s.code() == tonic::Code::FailedPrecondition => Err(RaftCallError::NoLeader),
        Err(s) if s.code() == tonic::Code::Unavailable => Err(RaftCallError::NoLeader),
        Err(s) => Err(RaftCallError::Other(format!(
            "leader read index: {}",
            s.message()
        ))),
    }
}

/// Sends requests made on a follower to the leader: many per call and several calls at once,
/// but the requests of one client in the order it sent them (a client's next batch leaves
/// only once its previous one is answered; batches of different clients do not wait for
/// each other, so one slow call holds up only its own clients).
async fn run_forwarder(
    raft: Raft,
    transport: Arc<network::PeerTransport>,
    proposals: mpsc::UnboundedSender<Proposal>,
    mut rx: mpsc::UnboundedReceiver<Proposal>,
) {
    let me = raft_id(&raft);
    let mut pending: VecDeque<Proposal> = VecDeque::new();
    // Clients with a batch in flight, and which clients each running call carries.
    let mut busy: HashSet<u64> = HashSet::new();
    let mut running = tokio::task::JoinSet::new();
    let mut carried: HashMap<tokio::task::Id, Vec<u64>> = HashMap::new();
    let mut closed = false;
    loop {
        while running.len() < MAX_FORWARDS_IN_FLIGHT {
            let batch = take_batch(&mut pending, &busy);
            if batch.is_empty() {
                break;
            }
            let origins: Vec<u64> = batch.iter().filter_map(|p| p.origin).collect();
            busy.extend(origins.iter().copied());
            let handle = running.spawn(forward_batch(
                raft.clone(),
                transport.clone(),
                proposals.clone(),
                me,
                batch,
            ));
            carried.insert(handle.id(), origins);
        }
        if closed && running.is_empty() {
            return;
        }
        tokio::select! {
            p = rx.recv(), if !closed => match p {
                Some(p) => {
                    pending.push_back(p);
                    while let Ok(p) = rx.try_recv() {
                        pending.push_back(p);
                    }
                }
                None => closed = true,
            },
            Some(done) = running.join_next_with_id() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => e.id(),
                };
                for origin in carried.remove(&id).unwrap_or_default() {
                    busy.remove(&origin);
                }
            }
        }
    }
}

/// Forward calls in flight at once from one node.
const MAX_FORWARDS_IN_FLIGHT: usize = 32;

/// The next batch to forward: pending requests in arrival order, skipping every request of a
/// client that has a batch in flight or an earlier request skipped (its order holds).
fn take_batch(pending: &mut VecDeque<Proposal>, busy: &HashSet<u64>) -> Vec<Proposal> {
    let mut batch = Vec::new();
    let mut held: HashSet<u64> = HashSet::new();
    let mut rest = VecDeque::new();
    let mut bytes = 0;
    while let Some(p) = pending.pop_front() {
        let free = p
            .origin
            .is_none_or(|o| !busy.contains(&o) && !held.contains(&o));
        // Bounded in requests and bytes (one large request still goes, alone).
        let room = batch.is_empty()
            || (batch.len() < MAX_BATCH_REQUESTS && bytes + p.request.size() <= MAX_BATCH_BYTES);
        if free && room {
            bytes += p.request.size();
            batch.push(p);
        } else {
            if let Some(o) = p.origin {
                held.insert(o);
            }
            rest.push_back(p);
        }
    }
    *pending = rest;
    batch
}

/// Sends one batch to the leader (waiting through an election, within the requests'
/// deadline), or hands it to this node's proposer if this node leads by then.
async fn forward_batch(
    raft: Raft,
    transport: Arc<network::PeerTransport>,
    proposals: mpsc::UnboundedSender<Proposal>,
    me: u64,
    batch: Vec<Proposal>,
) {
    let deadline = batch
        .iter()
        .map(|p| p.deadline)
        .min()
        .unwrap_or_else(tokio::time::Instant::now);
    // Refused here as leader: they wait for another node to lead.
    let mut avoid_self = batch.iter().any(|p| p.refused_here);
    let requests: Vec<ExecRequest> = batch.iter().map(|p| p.request.clone()).collect();
    let outcome = loop {
        if avoid_self {
            // Refused by this node as leader: a new leader's lease starts with the first
            // round a majority acknowledges, and a leader handing over takes no writes.
            // Try again shortly, or with the next leader as soon as there is one.
            let soon = deadline.min(tokio::time::Instant::now() + REFUSED_RETRY);
            wait_for_other_leader(&raft, me, soon).await;
            avoid_self = false;
            if tokio::time::Instant::now() >= deadline {
                break Forwarded::Done(Err(RaftCallError::NoLeader));
            }
        }
        // Waiting out an election may make this node the leader: then propose here.
        let leader = await_leader(&raft).await;
        if leader.as_ref().map(|(id, _)| *id) == Some(me) {
            break Forwarded::Local;
        }
        match forward_to_leader(&raft, &transport, &requests).await {
            // The leader never got the requests (gone, or no longer leading): wait for
            // the next one and send them again, within the bound.
            Err(ForwardError::NotDelivered(old)) if tokio::time::Instant::now() < deadline => {
                wait_for_other_leader(&raft, old, retry_at(deadline)).await;
            }
            Err(ForwardError::NotDelivered(_)) => {
                break Forwarded::Done(Err(RaftCallError::NoLeader))
            }
            Err(ForwardError::Failed(e)) => break Forwarded::Done(Err(e)),
            Ok(replies) => break Forwarded::Done(Ok(replies)),
        }
    };
    match outcome {
        Forwarded::Local => {
            for mut p in batch {
                p.refused_here = false;
                if let Err(mpsc::error::SendError(p)) = proposals.send(p) {
                    let _ = p
                        .reply_to
                        .send(Err(RaftCallError::Other("shutting down".into())));
                }
            }
        }
        Forwarded::Done(Ok(replies)) => {
            for (w, r) in batch.into_iter().zip(replies) {
                let _ = w.reply_to.send(r.map_err(RaftCallError::Remote));
            }
        }
        Forwarded::Done(Err(e)) => {
            for w in batch {
                let _ = w.reply_to.send(Err(e.clone()));
            }
        }
    }
}

enum Forwarded {
    /// This node became the leader: propose here.
    Local,
    Done(Result<Vec<Result<Reply, String>>, RaftCallError>),
}

/// Why a Forward call did not return replies.
enum ForwardError {
    /// The requests certainly did not reach a leader (connection refused, node not leading):
    /// safe to send again. Carries the leader that was tried.
    NotDelivered(u64),
    /// Anything else; a write's outcome may be unknown.
    Failed(RaftCallError),
}

/// Waits until a leader other than `old` is known, or the deadline.
async fn wait_for_other_leader(raft: &Raft, old: u64, deadline: tokio::time::Instant) {
    let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
    let _ = raft
        .wait(Some(remaining))
        .metrics(
            |m| known_leader(m).is_some_and(|l| l != old),
            "a new leader",
        )
        .await;
}

/// When to try a leader that did not answer again if no other one is known by then: soon,
/// since it may be back already (restarted in the same term: still the leader).
fn retry_at(deadline: tokio::time::Instant) -> tokio::time::Instant {
    deadline.min(tokio::time::Instant::now() + SAME_LEADER_RETRY)
}

const SAME_LEADER_RETRY: Duration = Duration::from_millis(100);
/// How long a forward call to a former leader may still run once another leader is known.
const ABANDON_GRACE: Duration = Duration::from_millis(100);
/// How soon a request this node refused as leader is proposed again.
const REFUSED_RETRY: Duration = Duration::from_millis(20);

/// Resolves once a leader other than `old` is known.
async fn leader_other_than(raft: &Raft, old: u64) {
    let mut rx = raft.metrics();
    loop {
        if known_leader(&rx.borrow_watched()).is_some_and(|l| l != old) {
            return;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Whether a failed call certainly never reached the peer's handler.
fn not_delivered(status: &tonic::Status) -> bool {
    let text = status.message().to_ascii_lowercase();
    status.code() == tonic::Code::FailedPrecondition
        || (status.code() == tonic::Code::Unavailable
            && (text.contains("connect") || text.contains("refused")))
        // hyper's `Canceled`: the connection closed while the request still waited in its
        // queue, unsent (a request already sent fails as an incomplete message instead).
        || text.contains("operation was canceled")
}

/// One Forward call carrying `requests`; the leader proposes them in this order.
async fn forward_to_leader(
    raft: &Raft,
    transport: &network::PeerTransport,
    requests: &[ExecRequest],
) -> Result<Vec<Result<Reply, String>>, ForwardError> {
    let failed = |e: String| ForwardError::Failed(RaftCallError::Other(e));
    let Some((leader, addr)) = leader_of(raft) else {
        return Err(ForwardError::Failed(RaftCallError::NoLeader));
    };
    let bytes = requests.iter().map(ExecRequest::size).sum();
    let payload =
        heavy(bytes, || postcard::to_allocvec(requests)).map_err(|e| failed(e.to_string()))?;
    // Large requests cross the network twice (here to the leader, the leader to a follower)
    // before they commit: the deadline grows with them.
    let timeout = FOLLOWER_WAIT + network::append_timeout(payload.len()) * 3;
    let mut client = transport.client(&addr).map_err(failed)?;
    let mut req = transport.request(redoubt_proto::peer::ForwardRequest {
        request: payload.into(),
    });
    req.set_timeout(timeout);
    // A leader that stops answering (paused, cut off) is given up on as soon as another one
    // is known, not at the deadline.
    let call = tokio::select! {
        r = client.forward(req) => r,
        _ = async {
            leader_other_than(raft, leader).await;
            // A leader that handed over (RAFT.TRANSFER) still answers: give it a moment
            // (short: a paused or cut-off one never will, and its clients wait meanwhile).
            tokio::time::sleep(ABANDON_GRACE).await;
        } => return Err(ForwardError::Failed(RaftCallError::Unknown)),
    };
    let reply = match call {
        Ok(r) => r.into_inner(),
        Err(s) if not_delivered(&s) => return Err(ForwardError::NotDelivered(leader)),
        Err(s) => {
            return Err(failed(format!(
                "the connection to the leader failed during the call ({}); the outcome of its writes is unknown",
                s.message()
            )))
        }
    };
    let replies: Vec<Result<Reply, String>> =
        postcard::from_bytes(&reply.reply).map_err(|e| failed(format!("forward reply: {e}")))?;
    if replies.len() != requests.len() {
        return Err(failed("forward reply has the wrong length".into()));
    }
    Ok(replies)
}

impl Request {
    /// Approximate size in bytes (for timeouts and limits).
    pub fn size(&self) -> usize {
        match self {
            Request::Exec(r) => r.size(),
            Request::Batch(rs) => rs.iter().map(ExecRequest::size).sum(),
            Request::Expire { keys, .. } => 64 + keys.iter().map(|k| k.len() + 8).sum::<usize>(),
        }
    }
}

/// Approximate size of an entry in bytes (a blank or membership entry counts as 64): for
/// timeouts, byte caps and deciding what is heavy.
pub fn entry_size(entry: &Entry) -> usize {
    match &entry.payload {
        openraft::EntryPayload::Normal(r) => r.size(),
        _ => 64,
    }
}

impl ExecRequest {
    /// Approximate size in bytes, for batching limits.
    pub fn size(&self) -> usize {
        64 + self
            .commands
            .iter()
            .flat_map(|c| c.iter())
            .map(|a| a.len() + 8)
            .sum::<usize>()
    }
}

/// A running Raft member with its storage.
pub struct RaftNode {
    pub raft: Raft,
    proposals: mpsc::UnboundedSender<Proposal>,
    read_barriers: mpsc::UnboundedSender<oneshot::Sender<Result<(), RaftCallError>>>,
    forwards: mpsc::UnboundedSender<Proposal>,
    pub transport: Arc<network::PeerTransport>,
    metrics: MetricsRx,
    /// Term in which reads may skip the barrier (see `sole_voter_leader_term`); 0: none.
    fast_read_term: AtomicU64,
    pub shared: Arc<SharedState>,
    /// Free space of the data directory against `min-free-disk`.
    pub disk: Arc<disk::DiskGuard>,
    max_entry_size: u64,
    pub log: LogStore,
    pub node_id: u64,
    pub db: sled::Db,
    dir: std::path::PathBuf,
}

impl RaftNode {
    /// Opens the store under `dir`, starts Raft and, on first start, initialises a one-member
    /// group. Restarting never re-initialises.
    pub async fn start(
        dir: &Path,
        settings: RaftSettings,
        table: Arc<CommandTable>,
        transport: Arc<network::PeerTransport>,
    ) -> anyhow::Result<RaftNode> {
        let data_dir = dir.join("data");
        let damaged = |detail: String| {
            anyhow::anyhow!(
                "the data under '{}' is damaged ({detail}); this node will not serve it. Stop \
                 it, move that folder aside and start the node again to rejoin its cluster and \
                 receive the data from the others (a single node: restore a backup)",
                data_dir.display()
            )
        };
        let db = sled::Config::new()
            .path(&data_dir)
            .cache_capacity(256 * 1024 * 1024)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|e| damaged(e.to_string()))?;
        verify_storage(&db, dir).map_err(damaged)?;
        let rebuild_snapshot = state_machine::check_snapshot_file(&dir.join("snapshots"))
            .map_err(|e| anyhow::anyhow!("cannot read the snapshot file: {e}"))?;
        let log = LogStore::open(&db, dir)?;
        let (sm, shared) = StateMachine::open(&db, table, dir.join("snapshots"))
            .map_err(|e| damaged(e.to_string()))?;
        let config = RaftConfig {
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
            // Replication to a peer that failed is retried soon, and never waits more than a
            // second once the peer is back (after a partition heals, say).
            backoff: "50ms 100ms 200ms ...1s".to_string(),
            ..Default::default()
        };
        let config = Arc::new(config.validate()?);
        let raft = Raft::new(
            settings.node_id,
            config,
            network::PeerNetwork::new(transport.clone()),
            log.clone(),
            sm,
        )
        .await?;
        if !raft.is_initialized().await? {
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
        }
        if rebuild_snapshot {
            if let Err(e) = raft.trigger().snapshot().await {
                tracing::warn!(error = %e, "cannot start rebuilding the snapshot");
            }
        }
        tokio::spawn(track_member_names(raft.metrics(), transport.clone()));
        let disk = disk::DiskGuard::new(dir, settings.min_free_disk);
        tokio::spawn(disk.clone().watch());
        let (proposals, rx) = mpsc::unbounded_channel();
        let (forwards, forwards_rx) = mpsc::unbounded_channel();
        tokio::spawn(run_proposer(
            raft.clone(),
            log.clone(),
            rx,
            forwards.clone(),
        ));
        let (read_barriers, rx) = mpsc::unbounded_channel();
        tokio::spawn(run_read_barriers(
            raft.clone(),
            transport.clone(),
            shared.applied_index.subscribe(),
            rx,
        ));
        tokio::spawn(run_forwarder(
            raft.clone(),
            transport.clone(),
            proposals.clone(),
            forwards_rx,
        ));
        Ok(RaftNode {
            metrics: raft.metrics(),
            fast_read_term: AtomicU64::new(0),
            raft,
            proposals,
            read_barriers,
            forwards,
            transport,
            shared,
            disk,
            max_entry_size: settings.max_entry_size,
            log,
            node_id: settings.node_id,
            db,
            dir: dir.to_path_buf(),
        })
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
        let (reply_to, rx) = oneshot::channel();
        if let Err(e) = self.admit(&request) {
            let _ = reply_to.send(Err(e));
            return rx;
        }
        let queue = if self.is_leader() {
            &self.proposals
        } else {
            &self.forwards
        };
        let mut proposal = Proposal::new(request, reply_to);
        proposal.origin = origin;
        if let Err(mpsc::error::SendError(p)) = queue.send(proposal) {
            let _ = p.reply_to.send(Err(RaftCallError::Other(
                "the raft node is shutting down".into(),
            )));
        }
        rx
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
        // Written twice: once in the log entry, once in the keyspace.
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
        let (reply_to, rx) = oneshot::channel();
        if let Err(e) = self.admit(&request) {
            let _ = reply_to.send(Err(e));
            return rx;
        }
        if let Err(mpsc::error::SendError(p)) =
            self.proposals.send(Proposal::new(request, reply_to))
        {
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

    /// A read-only view of the committed keyspace. Hold the returned guard while reading.
    pub fn read_view(&self, db: u8, now_ms: u64) -> Keyspace {
        Keyspace::new(Txn::read_only(self.shared.keyspace.clone()), db, now_ms, 0)
    }

    pub async fn shutdown(&self) {
        let _ = self.raft.shutdown().await;
        let _ = self.db.flush_async().await;
    }
}
