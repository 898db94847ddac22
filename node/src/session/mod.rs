//! One client's connection state, without its I/O: database, protocol, user, transaction,
//! watches, subscriptions and MONITOR, and the commands that change them (PING, SELECT,
//! HELLO, AUTH, RESET, QUIT, MULTI, DISCARD, WATCH, SUBSCRIBE ... in [`commands`]).
//!
//! The connection loop (`server/connection/`) owns a [`Session`] and does the reading,
//! writing and pipelining; the server commands (`admin/`) get it to know who is asking. A
//! session never writes the keyspace: writes leave it as [`ExecRequest`]s for the Raft node.

mod auth;
mod commands;
mod pubsub;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use redoubt_proto::resp::{Frame, Limits, Protocol};
use tokio::sync::{broadcast, mpsc};

use crate::clock::now_ms;
use crate::commands::CommandSpec;
use crate::config::ReadConsistency;
use crate::raft::{ExecRequest, RaftCallError, Watch};
use crate::state::clients::ClientHandle;
use crate::state::NodeState;

pub use auth::WRONGPASS;
pub use commands::valid_client_name;

/// A command queued by MULTI, with its resolved spec.
pub type Queued = (Vec<Bytes>, &'static CommandSpec);

/// The state of one client connection.
pub struct Session {
    pub node: Arc<NodeState>,
    pub handle: Arc<ClientHandle>,
    pub db: u8,
    pub protocol: Protocol,
    pub authenticated: bool,
    pub user: String,
    /// Commands queued since MULTI (None outside a transaction).
    pub multi: Option<Vec<Queued>>,
    /// A command was refused while queueing: EXEC aborts.
    pub multi_dirty: bool,
    /// EXEC is running the queued commands (`multi` is already taken): refusals belong to
    /// the transaction.
    pub running_exec: bool,
    pub watches: Vec<Watch>,
    pub channels: BTreeSet<Bytes>,
    pub patterns: BTreeSet<Bytes>,
    /// Pub/sub messages for this client (written by the connection loop).
    pub push_tx: mpsc::UnboundedSender<Frame>,
    /// The MONITOR feed, once the client asked for it.
    pub monitor_rx: Option<broadcast::Receiver<Frame>>,
    /// A read barrier was passed for the current batch of requests.
    pub barrier_fresh: bool,
    /// QUIT, or CLIENT KILL of this very connection: close after the reply.
    pub closing: bool,
}

impl Session {
    /// A new connection's session: database 0, RESP2, user `default` (authenticated when the
    /// default user needs no password).
    pub fn new(
        node: Arc<NodeState>,
        handle: Arc<ClientHandle>,
        push_tx: mpsc::UnboundedSender<Frame>,
    ) -> Session {
        let authenticated = node.default_user_is_open();
        handle.update(|i| i.authenticated = authenticated);
        Session {
            node,
            handle,
            db: 0,
            protocol: Protocol::Resp2,
            authenticated,
            user: "default".to_string(),
            multi: None,
            multi_dirty: false,
            running_exec: false,
            watches: Vec::new(),
            channels: BTreeSet::new(),
            patterns: BTreeSet::new(),
            push_tx,
            monitor_rx: None,
            barrier_fresh: false,
            closing: false,
        }
    }

    /// The request parser's limits for this client now (tighter before it authenticates).
    pub fn limits(&self) -> Limits {
        let rt = &self.node.runtime;
        Limits {
            max_bulk_len: rt
                .proto_max_bulk_len
                .load(std::sync::atomic::Ordering::Relaxed),
            max_query_buffer: usize::try_from(
                rt.client_query_buffer_limit
                    .load(std::sync::atomic::Ordering::Relaxed),
            )
            .unwrap_or(usize::MAX),
            unauthenticated: !self.authenticated,
            ..Limits::default()
        }
    }

    /// Subscribed to any channel or pattern.
    pub fn is_subscribed(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty()
    }

    /// A write (or a transaction) of this client, as a Raft entry carries it.
    pub fn exec_request(
        &self,
        commands: Vec<Vec<Bytes>>,
        multi: bool,
        watches: Vec<Watch>,
    ) -> ExecRequest {
        ExecRequest {
            db: self.db,
            user: self.user.clone(),
            internal: false,
            now_ms: now_ms(),
            seed: rand::random(),
            protocol: self.protocol,
            watches,
            commands,
            multi,
        }
    }

    /// Makes sure local state reflects every write acknowledged before this batch of requests
    /// arrived (once per batch; never with `read-consistency stale`).
    pub async fn read_barrier(&mut self) -> Result<(), RaftCallError> {
        if self.barrier_fresh || self.node.read_consistency() == ReadConsistency::Stale {
            return Ok(());
        }
        self.node.raft.read_barrier().await?;
        self.barrier_fresh = true;
        Ok(())
    }

    /// ACL reads see every change acknowledged anywhere before they started.
    pub async fn acl_read_barrier(&mut self) -> Result<(), RaftCallError> {
        self.node.raft.read_barrier().await
    }

    /// The connection acts as `user` from now on.
    pub fn set_user(&mut self, user: String) {
        self.authenticated = true;
        self.user = user.clone();
        self.handle.update(|i| {
            i.user = user;
            i.authenticated = true;
        });
    }

    /// Ends the connection's subscriptions and MONITOR (when it closes).
    pub fn close(&mut self) {
        self.unsubscribe_all();
        if self.monitor_rx.take().is_some() {
            self.node
                .monitors
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
