//! The Raft layer: openraft type config, the request carried by log entries, and [`RaftNode`],
//! the one place that turns a client write into a Raft entry and waits for its reply.
//!
//! A single node is a one-member Raft group: there is one code path for one node and for many.

// openraft's error types (RaftError, RPCError) are large.
#![allow(clippy::result_large_err)]

mod barrier;
pub mod checksum;
pub mod disk;
mod error;
mod forward;
pub mod log_store;
pub mod network;
mod node;
mod proposer;
pub mod state_machine;
mod status;

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

use barrier::*;
pub use error::RaftCallError;
use forward::*;
pub use node::{RaftNode, RaftSettings, RaftTasks, ReadView, StartMode};
use proposer::*;
pub use status::{MemberStatus, RaftStatus};

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
    /// The commands of a transaction the ACL refused at apply (their position and why), so
    /// the connection logs each refusal without reading the reply's text.
    #[serde(default)]
    pub refused: Vec<(u32, crate::acl::Denied)>,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply {
            frame: Frame::ok(),
            db: 0,
            refused: Vec::new(),
        }
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
