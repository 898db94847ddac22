//! The cluster: the peer gRPC service and who may call it; membership changes and joining
//! (`membership`), PUBLISH fan-out to the other members (`publish`), RAFT.* (`commands`).
//!
//! The peer port is a trust boundary with three gates, each checked before work is done:
//! 1. the TLS handshake admits only node certificates of the cluster CA (a client certificate
//!    of the same CA is refused; `peer-allowed-cn` pins names) — `tls::peer`;
//! 2. before a request body is read, [`PeerGate`] checks the replication credentials
//!    (`masteruser` only: other users with `+psync`, and `default`, do not authenticate peers);
//! 3. each call that acts as a member (Raft RPCs, Forward, ReadIndex, Publish, Elect, Remove)
//!    is served only when the certificate's node identity is the one the membership records
//!    for that member ([`crate::raft::Member`]); Join needs a node certificate whose name is
//!    not another member's. Refusals are logged with the peer's address and identity, never the
//!    password. Raft RPCs are then handed to openraft as they are; `Forward` runs a member's
//!    client requests through this node's proposer, in order, as the user the member names.

mod membership;
mod publish;
mod snapshot;

use membership::member_named;
mod error;
pub use error::ClusterError;
pub use membership::{add_member, join_cluster, remove_member, transfer_leadership};
pub use publish::fan_out_publish;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use openraft::raft::{AppendEntriesRequest, TransferLeaderRequest, VoteRequest};
use redoubt_proto::peer::peer_server::{Peer, PeerServer};
use redoubt_proto::peer::{
    ElectReply, ElectRequest, ForwardReply, ForwardRequest, JoinReply, JoinRequest, PublishReply,
    PublishRequest, RaftMessage, ReadIndexReply, ReadIndexRequest, RemoveReply, RemoveRequest,
    SnapshotChunk, StatusReply, StatusRequest,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use crate::acl::constant_time_eq;
use crate::raft::network::{META_AUTH, META_USER};
use crate::raft::{ExecRequest, Member, Membership, RaftNode, Reply, TypeConfig};
use crate::state::NodeState;

/// Who is on the other end of a peer connection.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    pub addr: SocketAddr,
    /// The node identity its certificate carries (verified during the handshake); None on a
    /// plaintext peer channel (`peer-tls no`, tests only).
    pub node: Option<String>,
}

impl PeerInfo {
    /// `addr` or `addr (node name)` for log lines.
    fn describe(&self) -> String {
        match &self.node {
            Some(name) => format!("{} (node {name})", self.addr),
            None => self.addr.to_string(),
        }
    }
}

/// A peer connection (TLS or, with `peer-tls = no`, plain TCP) as tonic serves it.
pub enum PeerStream {
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>, PeerInfo),
    Plain(TcpStream, PeerInfo),
}

impl Connected for PeerStream {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        match self {
            PeerStream::Tls(_, info) | PeerStream::Plain(_, info) => info.clone(),
        }
    }
}

impl AsyncRead for PeerStream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            PeerStream::Tls(s, _) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
            PeerStream::Plain(s, _) => std::pin::Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PeerStream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            PeerStream::Tls(s, _) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
            PeerStream::Plain(s, _) => std::pin::Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            PeerStream::Tls(s, _) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
            PeerStream::Plain(s, _) => std::pin::Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            PeerStream::Tls(s, _) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
            PeerStream::Plain(s, _) => std::pin::Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Listens on `raft-addr` and serves the peer service until the node stops it (an error if it
/// stops by itself).
pub async fn serve_peers(server: Arc<NodeState>) -> anyhow::Result<()> {
    let addr: SocketAddr = server.config.raft_addr.parse()?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on raft-addr {addr}: {e}"))?;
    tracing::info!(%addr, tls = server.peer_tls.is_some(), "serving peers");
    let acceptor = server
        .peer_tls
        .as_ref()
        .map(|t| tokio_rustls::TlsAcceptor::from(t.server.clone()));
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<PeerStream, std::io::Error>>(64);
    let incoming = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed();
    let peers = Arc::new(PeerContext::of(&server));
    let gate = PeerGate {
        peers: peers.clone(),
    };
    let service = PeerServer::new(PeerService { peers })
        .max_decoding_message_size(MAX_PEER_MESSAGE)
        .max_encoding_message_size(MAX_PEER_MESSAGE);
    // The gate runs on the request head: a call without credentials is refused before its body
    // is read, and tonic checks a message's length prefix against the limit before buffering.
    let service = tonic::service::interceptor::InterceptedService::new(service, gate);
    let serve = tonic::transport::Server::builder()
        .max_concurrent_streams(Some(MAX_STREAMS_PER_PEER))
        .http2_max_header_list_size(Some(MAX_PEER_HEADERS))
        .add_service(service)
        .serve_with_incoming(incoming);
    // Both run until the node stops them (by dropping this future).
    tokio::select! {
        () = accept_peers(listener, acceptor, tx) => {}
        served = serve => served?,
    }
    anyhow::bail!("the peer service stopped")
}

/// Accepts peer connections and hands each, after its TLS handshake (bounded in number and
/// time), to the gRPC server through `tx`.
async fn accept_peers(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    tx: tokio::sync::mpsc::Sender<Result<PeerStream, std::io::Error>>,
) {
    // Handshakes in flight are bounded: a flood of connections that never finish one holds at
    // most this many tasks and buffers (each for the 5 s handshake timeout at most).
    let handshakes = Arc::new(tokio::sync::Semaphore::new(MAX_PEER_HANDSHAKES));
    loop {
        let (tcp, peer) = crate::net::accept_with_backoff(&listener, "peers").await;
        let Ok(permit) = handshakes.clone().try_acquire_owned() else {
            crate::log_limited!(
                crate::logsafe::PEER_REFUSALS,
                peer.ip().to_string(),
                peer = %peer, "refused a peer connection: too many handshakes in progress"
            );
            continue;
        };
        let tx = tx.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Some(stream) = peer_handshake(tcp, peer, acceptor).await {
                let _ = tx.send(Ok(stream)).await;
            }
        });
    }
}

/// The TLS handshake of one peer connection (none with `peer-tls no`); None when refused.
async fn peer_handshake(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) -> Option<PeerStream> {
    let Some(acceptor) = acceptor else {
        return Some(PeerStream::Plain(
            tcp,
            PeerInfo {
                addr: peer,
                node: None,
            },
        ));
    };
    match tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => {
            // The verifier admitted only node certificates.
            let Some(node) = crate::tls::identity::peer_node_identity(&tls) else {
                tracing::warn!(peer = %peer, "refused a peer: no node identity");
                return None;
            };
            let info = PeerInfo {
                addr: peer,
                node: Some(node),
            };
            Some(PeerStream::Tls(Box::new(tls), info))
        }
        Ok(Err(e)) => {
            crate::log_limited!(
                crate::logsafe::PEER_REFUSALS,
                peer.ip().to_string(),
                peer = %peer, reason = %crate::logsafe::Escaped(e.to_string()), "refused a peer at the TLS handshake"
            );
            None
        }
        Err(_) => {
            crate::log_limited!(
                crate::logsafe::PEER_REFUSALS,
                peer.ip().to_string(),
                peer = %peer, "refused a peer: TLS handshake timed out"
            );
            None
        }
    }
}

/// Largest gRPC message a peer may send or receive (an AppendEntries with a large value).
pub const MAX_PEER_MESSAGE: usize = 256 * 1024 * 1024;
/// Peer TLS handshakes in progress at once.
const MAX_PEER_HANDSHAKES: usize = 64;
/// Concurrent calls on one peer connection.
const MAX_STREAMS_PER_PEER: u32 = 256;
/// Bytes of request headers (metadata) a peer call may carry.
const MAX_PEER_HEADERS: u32 = 16 * 1024;

/// The second gate of the peer port: on the request head, before any body is read, the caller
/// must have a node identity (TLS) and the replication credentials.
#[derive(Clone)]
pub struct PeerGate {
    peers: Arc<PeerContext>,
}

impl tonic::service::Interceptor for PeerGate {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let info = req.extensions().get::<PeerInfo>().cloned();
        let who = info
            .as_ref()
            .map(PeerInfo::describe)
            .unwrap_or_else(|| "?".into());
        if self.peers.peer_tls && info.as_ref().and_then(|i| i.node.as_ref()).is_none() {
            crate::log_limited!(crate::logsafe::PEER_REFUSALS, who.clone(), peer = %who, "refused a peer call: no node certificate");
            return Err(Status::permission_denied("a node certificate is required"));
        }
        let meta = req.metadata();
        let user = meta
            .get(META_USER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let auth = meta
            .get(META_AUTH)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if self.peers.replication_credentials_valid(user, auth) {
            Ok(req)
        } else {
            crate::log_limited!(
                crate::logsafe::PEER_REFUSALS,
                who.clone(),
                peer = %who, user = %crate::logsafe::Escaped(user), "refused a peer call: wrong replication credentials"
            );
            Err(Status::unauthenticated("invalid replication credentials"))
        }
    }
}

/// What the peer port serves from: the Raft node, this node's subscribers, and what checks a
/// caller (never the client side of the node: connections, sessions, server commands).
pub struct PeerContext {
    pub raft: Arc<RaftNode>,
    pub pubsub: Arc<crate::state::pubsub::PubSub>,
    /// For the pubsub class of `client-output-buffer-limit`.
    pub runtime: Arc<crate::config::Runtime>,
    pub table: Arc<crate::commands::CommandTable>,
    /// The replication user (`masteruser`): the only user that authenticates peers.
    pub masteruser: String,
    /// Peer TLS is on: callers must present a node certificate.
    pub peer_tls: bool,
}

impl PeerContext {
    /// Whether `user`/`auth` may make peer calls: `user` is the configured replication user
    /// (`masteruser`), on, with a password (nopass is not enough), `auth` is one of its passwords
    /// (or the one this node presents itself) and it may run PSYNC (the replication permission,
    /// `+psync`).
    pub fn replication_credentials_valid(&self, user: &str, auth: &[u8]) -> bool {
        // Only the configured replication user authenticates peers: another user allowed to PSYNC
        // (`default` with +@all among them) is a client, not a node.
        if !constant_time_eq(user.as_bytes(), self.masteruser.as_bytes()) {
            return false;
        }
        // The credentials this node presents itself (`masteruser`, current `masterauth`).
        let masterauth = self.raft.transport().masterauth();
        let expected = masterauth.expose().as_bytes();
        let own = !expected.is_empty()
            & constant_time_eq(user.as_bytes(), self.masteruser.as_bytes())
            & constant_time_eq(auth, expected);
        // Until the cluster state holds a replication user seeded from config, they decide alone
        // (a joiner that has no state yet, or the first entries after bootstrap).
        if !self
            .raft
            .acl_seeds()
            .contains_key(crate::state::auth::MASTERUSER_SEED)
        {
            return own;
        }
        let acl = self.raft.acl();
        let Some(u) = acl.user(user) else {
            return false;
        };
        let Some(psync) = self.table.canonical(crate::acl::REPLICATION_COMMAND) else {
            return false;
        };
        // The password may also be the one this node presents: during a rotation this node's copy
        // of the ACL state can lag behind a peer that already switched to the new password, and it
        // could never catch up if it refused that peer. Being enabled and allowed to PSYNC is
        // always decided by the ACL state.
        let password_ok = (!u.passwords.is_empty() && u.check_password(auth)) | own;
        password_ok && u.may_replicate(psync)
    }

    pub fn of(node: &NodeState) -> PeerContext {
        PeerContext {
            raft: node.raft.clone(),
            pubsub: node.pubsub.clone(),
            runtime: node.runtime.clone(),
            table: node.table.clone(),
            masteruser: node.config.masteruser.clone(),
            peer_tls: node.peer_tls.is_some(),
        }
    }
}

/// The peer service of one node.
pub struct PeerService {
    peers: Arc<PeerContext>,
}

/// Who called, as far as membership is concerned.
enum Caller {
    /// Plaintext peer channel (`peer-tls no`, tests only): no identity to check.
    Unverified,
    /// The node identity of the caller's certificate.
    Node(String),
}

fn decode<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, Status> {
    crate::raft::heavy(payload.len(), || postcard::from_bytes(payload))
        .map_err(|e| Status::invalid_argument(format!("bad payload: {e}")))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Bytes, Status> {
    postcard::to_allocvec(value)
        .map(Bytes::from)
        .map_err(|e| Status::internal(format!("encoding: {e}")))
}

impl PeerService {
    fn caller<T>(&self, req: &Request<T>) -> (Caller, String) {
        let info = req.extensions().get::<PeerInfo>();
        let who = info.map(PeerInfo::describe).unwrap_or_else(|| "?".into());
        match info.and_then(|i| i.node.clone()) {
            Some(name) => (Caller::Node(name), who),
            // The gate refused identity-less calls when the channel is TLS.
            None => (Caller::Unverified, who),
        }
    }

    fn membership(&self) -> Membership {
        crate::raft::membership_of(self.raft())
    }

    fn refuse(who: &str, call: &str, why: &str) -> Status {
        crate::log_limited!(crate::logsafe::PEER_REFUSALS, who, peer = %who, call, reason = why, "refused a peer call");
        Status::permission_denied(format!("{call}: {why}"))
    }

    /// Calls that act as a member: served only when the caller's certificate carries the
    /// identity of a member of this node's membership.
    fn require_member<T>(&self, req: &Request<T>, call: &str) -> Result<(), Status> {
        let (caller, who) = self.caller(req);
        let Caller::Node(name) = caller else {
            return Ok(());
        };
        if member_named(&self.membership(), &name).is_some() {
            Ok(())
        } else {
            Err(Self::refuse(&who, call, "not a member of this cluster"))
        }
    }

    /// A Raft RPC claims to come from node `sender`: the caller's certificate must carry that
    /// member's identity. A node that knows no membership yet (a fresh node being bootstrapped
    /// or added) cannot check and accepts any node certificate. An unknown sender may be a
    /// member whose addition this node has not seen yet: AppendEntries and InstallSnapshot are
    /// served to it (so a lagging node can catch up), as long as its name is not another
    /// member's; a vote is not (`strict`).
    fn require_sender<T>(
        &self,
        req: &Request<T>,
        call: &str,
        sender: u64,
        strict: bool,
    ) -> Result<(), Status> {
        let (caller, who) = self.caller(req);
        let Caller::Node(name) = caller else {
            return Ok(());
        };
        let membership = self.membership();
        if membership.nodes().next().is_none() {
            return Ok(());
        }
        match membership.get_node(&sender) {
            Some(member) if member.name == name => Ok(()),
            Some(member) => Err(Self::refuse(
                &who,
                call,
                &format!(
                    "claims to be node {sender}, whose identity is '{}'",
                    member.name
                ),
            )),
            None => match member_named(&membership, &name) {
                Some(id) => Err(Self::refuse(
                    &who,
                    call,
                    &format!("claims to be node {sender} but is node {id}"),
                )),
                None if strict => Err(Self::refuse(
                    &who,
                    call,
                    &format!("node {sender} is not a member"),
                )),
                None => Ok(()),
            },
        }
    }

    fn raft(&self) -> &crate::raft::Raft {
        self.peers.raft.openraft()
    }
}

#[tonic::async_trait]
impl Peer for PeerService {
    async fn append_entries(
        &self,
        req: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        let rpc: AppendEntriesRequest<TypeConfig> = decode(&req.get_ref().payload)?;
        self.require_sender(&req, "append_entries", rpc.vote.leader_id().node_id, false)?;
        if !rpc.entries.is_empty() && self.peers.raft.disk_is_low() {
            // Taking them could fill the disk (sled then fails for good); the leader retries.
            return Err(Status::resource_exhausted(
                "this node's disk is below min-free-disk",
            ));
        }
        let result = self.raft().append_entries(rpc).await;
        Ok(Response::new(RaftMessage {
            payload: encode(&result)?,
        }))
    }

    async fn vote(&self, req: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let rpc: VoteRequest<TypeConfig> = decode(&req.get_ref().payload)?;
        self.require_sender(&req, "vote", rpc.vote.leader_id().node_id, true)?;
        let result = self.raft().vote(rpc).await;
        Ok(Response::new(RaftMessage {
            payload: encode(&result)?,
        }))
    }

    async fn pre_vote(&self, req: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let rpc: VoteRequest<TypeConfig> = decode(&req.get_ref().payload)?;
        self.require_sender(&req, "pre_vote", rpc.vote.leader_id().node_id, true)?;
        let result = self.raft().pre_vote(rpc).await;
        Ok(Response::new(RaftMessage {
            payload: encode(&result)?,
        }))
    }

    async fn transfer_leader(
        &self,
        req: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        let rpc: TransferLeaderRequest<TypeConfig> = decode(&req.get_ref().payload)?;
        let from = rpc.from_leader().leader_id().node_id;
        self.require_sender(&req, "transfer_leader", from, true)?;
        let result = self
            .raft()
            .handle_transfer_leader(rpc)
            .await
            .map_err(openraft::error::RaftError::<TypeConfig>::Fatal);
        Ok(Response::new(RaftMessage {
            payload: encode(&result)?,
        }))
    }

    /// A snapshot from the leader, streamed into a file under the snapshot directory (bounded
    /// memory: one chunk at a time), then handed to openraft, which installs it.
    async fn install_snapshot(
        &self,
        req: Request<tonic::Streaming<SnapshotChunk>>,
    ) -> Result<Response<RaftMessage>, Status> {
        let caller = req.extensions().get::<PeerInfo>().cloned();
        let mut stream = req.into_inner();
        let first = stream
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty snapshot stream"))?;
        let (vote, meta, len): (crate::raft::Vote, crate::raft::SnapshotMeta, u64) =
            decode(&first.header)?;
        // The sender check needs the caller, which the stream no longer carries.
        let mut head = Request::new(());
        if let Some(info) = caller {
            head.extensions_mut().insert(info);
        }
        self.require_sender(&head, "install_snapshot", vote.leader_id().node_id, false)?;
        let file = snapshot::receive(
            &self.peers.raft.snapshot_dir(),
            len,
            first.data,
            &mut stream,
        )
        .await?;
        let snapshot = crate::raft::Snapshot {
            meta,
            snapshot: file,
        };
        let result = self
            .raft()
            .install_full_snapshot(vote, snapshot)
            .await
            .map_err(openraft::error::RaftError::<TypeConfig>::Fatal);
        Ok(Response::new(RaftMessage {
            payload: encode(&result)?,
        }))
    }

    async fn forward(
        &self,
        req: Request<ForwardRequest>,
    ) -> Result<Response<ForwardReply>, Status> {
        self.require_member(&req, "forward")?;
        if !self.peers.raft.is_leader() {
            return Err(Status::failed_precondition("not the leader"));
        }
        let requests: Vec<ExecRequest> = decode(&req.get_ref().request)?;
        // Queue them all first, in order: the proposer keeps that order in the log.
        let receivers: Vec<_> = requests
            .into_iter()
            .map(|r| self.peers.raft.propose_local(r))
            .collect();
        let mut replies: Vec<Result<Reply, String>> = Vec::with_capacity(receivers.len());
        for rx in receivers {
            replies.push(match rx.await {
                Ok(Ok(reply)) => Ok(reply),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("ERR raft: the leader stopped".into()),
            });
        }
        Ok(Response::new(ForwardReply {
            reply: encode(&replies)?,
        }))
    }

    async fn read_index(
        &self,
        req: Request<ReadIndexRequest>,
    ) -> Result<Response<ReadIndexReply>, Status> {
        self.require_member(&req, "read_index")?;
        match self
            .raft()
            .ensure_linearizable(openraft::ReadPolicy::ReadIndex)
            .await
        {
            Ok(log_id) => Ok(Response::new(ReadIndexReply {
                index: log_id.index(),
            })),
            // The text, not openraft's (it shows the membership with every address).
            Err(e) => Err(Status::failed_precondition(
                crate::raft::RaftCallError::from_read_index(e).to_string(),
            )),
        }
    }

    async fn join(&self, req: Request<JoinRequest>) -> Result<Response<JoinReply>, Status> {
        let (caller, who) = self.caller(&req);
        let JoinRequest {
            node_id,
            raft_addr,
            name,
        } = req.into_inner();
        let name = match caller {
            Caller::Unverified => name,
            // A member relays a join it checked (or RAFT.NODE ADD): it names the node.
            Caller::Node(c) if member_named(&self.membership(), &c).is_some() => name,
            // The joining node itself: it is the node its certificate names.
            Caller::Node(c) => {
                if !name.is_empty() && name != c {
                    return Err(Self::refuse(
                        &who,
                        "join",
                        &format!("asks to join as '{name}' with the certificate of '{c}'"),
                    ));
                }
                c
            }
        };
        if self.peers.peer_tls && name.is_empty() {
            return Err(Self::refuse(&who, "join", "no node identity given"));
        }
        let member = Member::new(raft_addr, name);
        let (leader_id, leader_addr) = add_member(&self.peers.raft, node_id, member).await?;
        Ok(Response::new(JoinReply {
            leader_id,
            leader_addr,
        }))
    }

    async fn status(&self, _req: Request<StatusRequest>) -> Result<Response<StatusReply>, Status> {
        let st = self.peers.raft.status();
        let (leader_id, leader_addr) = st.leader.unwrap_or((0, String::new()));
        Ok(Response::new(StatusReply {
            node_id: st.node_id,
            role: st.role.to_string(),
            term: st.term,
            leader_id,
            leader_addr,
            commit_index: st.commit_index,
            applied_index: st.applied_index,
        }))
    }

    async fn elect(&self, req: Request<ElectRequest>) -> Result<Response<ElectReply>, Status> {
        self.require_member(&req, "elect")?;
        let target = req.into_inner().transfer_to;
        if target == 0 {
            tracing::info!("asked to stand for election (leadership transfer)");
            self.raft()
                .trigger()
                .elect(false)
                .await
                .map_err(|e| Status::internal(e.to_string()))?;
        } else {
            transfer_leadership(&self.peers.raft, target).await?;
        }
        Ok(Response::new(ElectReply {}))
    }

    async fn remove(&self, req: Request<RemoveRequest>) -> Result<Response<RemoveReply>, Status> {
        self.require_member(&req, "remove")?;
        remove_member(&self.peers.raft, req.into_inner().node_id).await?;
        Ok(Response::new(RemoveReply {}))
    }

    async fn publish(
        &self,
        req: Request<PublishRequest>,
    ) -> Result<Response<PublishReply>, Status> {
        self.require_member(&req, "publish")?;
        let PublishRequest { channel, message } = req.into_inner();
        let limit = self.peers.runtime.output_limits().pubsub;
        let n = self.peers.pubsub.publish(&channel, &message, limit);
        Ok(Response::new(PublishReply {
            receivers: n as u64,
        }))
    }
}
