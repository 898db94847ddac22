//! The client side of the channel between Raft members: gRPC (tonic) over mutual TLS.
//!
//! [`PeerTransport`] owns one lazily connected channel per peer address, dials it through our
//! own rustls connector (the TLS configuration reloads its certificates by itself), and stamps
//! every call with the replication credentials. [`PeerNetwork`] adapts it to openraft. Raft
//! messages are carried as postcard payloads (see `redoubt.proto`). This module never decides
//! who may talk to us: that is the service's and the TLS verifier's job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Member;
use futures::StreamExt;
use hyper_util::rt::TokioIo;
use openraft::error::{
    NetworkError, RPCError, RaftError, ReplicationClosed, StreamingError, Unreachable,
};
use openraft::network::v2::RaftNetworkV2;
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};
use openraft::OptionalSend;
use redoubt_proto::peer::peer_client::PeerClient;
use redoubt_proto::peer::{RaftMessage, SnapshotChunk};
use tonic::transport::{Channel, Endpoint, Uri};

use super::state_machine::SnapshotFile;
use super::{Snapshot, TypeConfig, Vote};
use crate::config::Secret;
use crate::sync::Locked as _;

type NodeId = u64;

/// Metadata keys of the replication credentials on every inter-node call.
pub const META_USER: &str = "x-redoubt-user";
pub const META_AUTH: &str = "x-redoubt-auth";

/// `masteruser` / `masterauth`: who this node is to its peers.
#[derive(Clone, Debug)]
pub struct PeerCredentials {
    pub user: String,
    pub auth: Secret,
}

/// Dials peers and stamps calls with credentials.
pub struct PeerTransport {
    tls: Option<Arc<rustls::ClientConfig>>,
    /// CONFIG SET masterauth replaces them while the node runs (password rotation).
    credentials: arc_swap::ArcSwap<PeerCredentials>,
    channels: Mutex<HashMap<String, Channel>>,
    /// The node name each member's address must present (from the membership): a connection
    /// to an address whose certificate names another node is refused, so a node that takes
    /// over a member's address receives nothing.
    expected_names: arc_swap::ArcSwap<HashMap<String, String>>,
    /// `bind-source-addr`: the local address peer connections are made from.
    source: Option<std::net::IpAddr>,
}

impl PeerTransport {
    /// `tls` None: plaintext, only for `peer-tls = no` test setups.
    pub fn new(
        tls: Option<Arc<rustls::ClientConfig>>,
        credentials: PeerCredentials,
    ) -> PeerTransport {
        PeerTransport {
            tls,
            credentials: arc_swap::ArcSwap::from_pointee(credentials),
            channels: Mutex::new(HashMap::new()),
            expected_names: arc_swap::ArcSwap::from_pointee(HashMap::new()),
            source: None,
        }
    }

    /// Dials peers from `source` (`bind-source-addr`); None lets the kernel choose.
    pub fn bind_source(mut self, source: Option<std::net::IpAddr>) -> PeerTransport {
        self.source = source;
        self
    }

    /// Records which node name each member address must present (called on every membership
    /// change). Channels to an address whose name changed are dropped and dialled again.
    pub fn set_expected_names(&self, names: HashMap<String, String>) {
        let old = self.expected_names.swap(Arc::new(names));
        let new = self.expected_names.load();
        let mut channels = self.channels.locked();
        channels.retain(|addr, _| old.get(addr) == new.get(addr));
    }

    /// A client for the peer at `addr` (host:port), reusing its channel.
    pub fn client(&self, addr: &str) -> Result<PeerClient<Channel>, String> {
        let mut channels = self.channels.locked();
        if let Some(ch) = channels.get(addr) {
            return Ok(PeerClient::new(ch.clone())
                .max_decoding_message_size(256 * 1024 * 1024)
                .max_encoding_message_size(256 * 1024 * 1024));
        }
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| format!("bad peer address '{addr}': {e}"))?
            .connect_timeout(Duration::from_secs(2))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5))
            .local_address(self.source);
        let channel = match &self.tls {
            None => endpoint.connect_lazy(),
            Some(config) => {
                let connector = tokio_rustls::TlsConnector::from(config.clone());
                let target = addr.to_string();
                let expected = self.expected_names.load().get(addr).cloned();
                let source = self.source;
                endpoint.connect_with_connector_lazy(tower::service_fn(move |_: Uri| {
                    let connector = connector.clone();
                    let target = target.clone();
                    let expected = expected.clone();
                    async move {
                        let tls = dial_tls(&connector, &target, source).await?;
                        check_presented_name(&tls, &target, expected.as_deref())?;
                        Ok::<_, std::io::Error>(TokioIo::new(tls))
                    }
                }))
            }
        };
        channels.insert(addr.to_string(), channel.clone());
        Ok(PeerClient::new(channel)
            .max_decoding_message_size(256 * 1024 * 1024)
            .max_encoding_message_size(256 * 1024 * 1024))
    }

    /// The node identity of the peer listening at `addr`, read from the certificate it serves
    /// (verified: cluster CA, node certificate, `peer-allowed-cn`). None on a plaintext channel.
    pub async fn probe_identity(&self, addr: &str) -> Result<Option<String>, String> {
        let Some(config) = &self.tls else {
            return Ok(None);
        };
        let connector = tokio_rustls::TlsConnector::from(config.clone());
        let tls = tokio::time::timeout(
            Duration::from_secs(5),
            dial_tls(&connector, addr, self.source),
        )
        .await
        .map_err(|_| format!("{addr}: TLS handshake timed out"))?
        .map_err(|e| format!("{addr}: {e}"))?;
        let (_, session) = tls.get_ref();
        let identity = session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(crate::tls::identity::node_identity);
        match identity {
            Some(name) => Ok(Some(name)),
            None => Err(format!("{addr} does not serve a node certificate")),
        }
    }

    /// The password this node presents from now on (CONFIG SET masterauth).
    pub fn set_masterauth(&self, auth: Secret) {
        let user = self.credentials.load().user.clone();
        self.credentials
            .store(Arc::new(PeerCredentials { user, auth }));
    }

    /// The password this node presents.
    pub fn masterauth(&self) -> Secret {
        self.credentials.load().auth.clone()
    }

    /// Wraps `message` in a request carrying the replication credentials.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(message);
        let credentials = self.credentials.load();
        if let Ok(v) = credentials.user.parse() {
            req.metadata_mut().insert(META_USER, v);
        }
        if let Ok(v) = credentials.auth.expose().parse() {
            req.metadata_mut().insert(META_AUTH, v);
        }
        req
    }

    /// Forgets the channel to `addr` (after the peer was removed).
    pub fn forget(&self, addr: &str) {
        self.channels.locked().remove(addr);
    }
}

/// A member's address must present that member's node name (the verifier already required a
/// node certificate of the CA).
fn check_presented_name(
    tls: &tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    target: &str,
    expected: Option<&str>,
) -> std::io::Result<()> {
    let Some(expected) = expected.filter(|e| !e.is_empty()) else {
        return Ok(());
    };
    let (_, session) = tls.get_ref();
    let presented = session
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(crate::tls::identity::node_identity);
    if presented.as_deref() == Some(expected) {
        return Ok(());
    }
    let presented = presented.unwrap_or_else(|| "no node name".into());
    crate::log_limited!(
        crate::logsafe::PEER_REFUSALS,
        format!("dialled {target}"),
        peer = %target, presented = %presented, expected, "refused a peer: its certificate names another node than the membership records for that address"
    );
    Err(std::io::Error::other(format!(
        "the peer at {target} presents node '{presented}', the membership says '{expected}'"
    )))
}

/// Connects to the peer at `target` (host:port) and completes the TLS handshake.
async fn dial_tls(
    connector: &tokio_rustls::TlsConnector,
    target: &str,
    source: Option<std::net::IpAddr>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let name = rustls_pki_types::ServerName::try_from(crate::net::host_of(target))
        .map_err(|e| std::io::Error::other(format!("bad peer name: {e}")))?;
    let tcp = match source {
        None => tokio::net::TcpStream::connect(target).await?,
        Some(source) => {
            let remote = tokio::net::lookup_host(target)
                .await?
                .find(|a| a.is_ipv4() == source.is_ipv4())
                .ok_or_else(|| {
                    std::io::Error::other(format!(
                        "{target} has no address of bind-source-addr's family"
                    ))
                })?;
            let socket = if source.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.bind(std::net::SocketAddr::new(source, 0))?;
            socket.connect(remote).await?
        }
    };
    tcp.set_nodelay(true)?;
    connector.connect(name, tcp).await
}

/// openraft's view of the network.
#[derive(Clone)]
pub struct PeerNetwork {
    transport: Arc<PeerTransport>,
}

impl PeerNetwork {
    pub fn new(transport: Arc<PeerTransport>) -> PeerNetwork {
        PeerNetwork { transport }
    }
}

pub struct PeerConnection {
    addr: String,
    transport: Arc<PeerTransport>,
}

impl RaftNetworkFactory<TypeConfig> for PeerNetwork {
    type Network = PeerConnection;

    async fn new_client(&mut self, _target: NodeId, node: &Member) -> PeerConnection {
        PeerConnection {
            addr: node.addr.clone(),
            transport: self.transport.clone(),
        }
    }
}

/// How long an AppendEntries may take: a floor that covers a slow round trip (a heartbeat is
/// never timed by the heartbeat interval: a peer 150 ms away must still be heard), plus the
/// time its bytes need at a modest rate, so a large payload is never cut off while it moves.
pub fn append_timeout(bytes: usize) -> Duration {
    RPC_FLOOR + Duration::from_millis((bytes / MIN_BYTES_PER_MS) as u64)
}

/// The shortest timeout of any Raft call.
const RPC_FLOOR: Duration = Duration::from_millis(1000);
/// The slowest transfer rate a peer link is assumed to sustain (4 MB/s).
const MIN_BYTES_PER_MS: usize = 4 * 1024;
/// Bytes of a snapshot per streamed chunk.
const SNAPSHOT_CHUNK: usize = 1024 * 1024;

fn unreachable(e: impl std::fmt::Display) -> RPCError<TypeConfig> {
    RPCError::Unreachable(Unreachable::from_string(e.to_string()))
}

fn status_error(status: tonic::Status) -> RPCError<TypeConfig> {
    let text = format!("{}: {}", status.code(), status.message());
    match status.code() {
        tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
            RPCError::Network(NetworkError::from_string(text))
        }
        _ => RPCError::Unreachable(Unreachable::from_string(text)),
    }
}

impl PeerConnection {
    /// Sends one postcard-encoded Raft message and decodes the remote result. The remote side
    /// answers `Result<Resp, RaftError>`; its only error is a fatal one (its Raft core
    /// stopped), which is an unreachable peer from here.
    async fn call<Req, Resp>(
        &self,
        rpc: &Req,
        timeout: Duration,
        kind: RaftCall,
    ) -> Result<Resp, RPCError<TypeConfig>>
    where
        Req: serde::Serialize,
        Resp: serde::de::DeserializeOwned,
    {
        let payload = postcard::to_allocvec(rpc).map_err(unreachable)?;
        let mut client = self.transport.client(&self.addr).map_err(unreachable)?;
        let mut req = self.transport.request(RaftMessage {
            payload: payload.into(),
        });
        req.set_timeout(timeout);
        let reply = match kind {
            RaftCall::Append => client.append_entries(req).await,
            RaftCall::Vote => client.vote(req).await,
            RaftCall::PreVote => client.pre_vote(req).await,
            RaftCall::TransferLeader => client.transfer_leader(req).await,
        }
        .map_err(status_error)?
        .into_inner();
        let result: Result<Resp, RaftError<TypeConfig>> =
            postcard::from_bytes(&reply.payload).map_err(unreachable)?;
        result.map_err(unreachable)
    }
}

enum RaftCall {
    Append,
    Vote,
    PreVote,
    TransferLeader,
}

impl RaftNetworkV2<TypeConfig> for PeerConnection {
    type SnapshotData = SnapshotFile;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        let bytes = rpc.entries.iter().map(super::entry_size).sum();
        self.call(&rpc, append_timeout(bytes), RaftCall::Append)
            .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(&rpc, RPC_FLOOR, RaftCall::Vote).await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(&rpc, RPC_FLOOR, RaftCall::PreVote).await
    }

    async fn transfer_leader(
        &mut self,
        rpc: TransferLeaderRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(&rpc, RPC_FLOOR, RaftCall::TransferLeader).await
    }

    /// Streams the snapshot file in chunks of [`SNAPSHOT_CHUNK`] bytes: neither side holds more
    /// than a few chunks. The call's deadline grows with the snapshot's size.
    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        cancel: impl std::future::Future<Output = ReplicationClosed> + OptionalSend + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let Snapshot {
            meta,
            snapshot: file,
        } = snapshot;
        let len = file
            .metadata()
            .await
            .map_err(|e| StreamingError::Unreachable(Unreachable::new(&e)))?
            .len();
        let header = postcard::to_allocvec(&(vote, meta, len))
            .map_err(|e| StreamingError::Unreachable(Unreachable::from_string(e.to_string())))?;
        let chunks = snapshot_chunks(header, file);
        let mut client = self
            .transport
            .client(&self.addr)
            .map_err(|e| StreamingError::Unreachable(Unreachable::from_string(e)))?;
        let mut req = self.transport.request(chunks);
        req.set_timeout(append_timeout(len as usize) * 2);
        let call = client.install_snapshot(req);
        let reply = tokio::select! {
            r = call => r.map_err(|s| match status_error(s) {
                RPCError::Network(e) => StreamingError::Network(e),
                RPCError::Timeout(e) => StreamingError::Timeout(e),
                RPCError::Unreachable(e) => StreamingError::Unreachable(e),
                RPCError::RemoteError(e) => StreamingError::Unreachable(Unreachable::from_string(e.to_string())),
            })?,
            closed = cancel => return Err(StreamingError::Closed(closed)),
        };
        let result: Result<SnapshotResponse<TypeConfig>, RaftError<TypeConfig>> =
            postcard::from_bytes(&reply.into_inner().payload).map_err(|e| {
                StreamingError::Unreachable(Unreachable::from_string(e.to_string()))
            })?;
        result.map_err(|e| StreamingError::Unreachable(Unreachable::from_string(e.to_string())))
    }

    fn backoff(&self) -> Option<openraft::network::Backoff> {
        None
    }
}

/// The chunks of a snapshot stream: the header first, then the file's bytes as they are read.
/// A read error ends the stream early; the receiver then sees a short snapshot and refuses it.
fn snapshot_chunks(
    header: Vec<u8>,
    file: SnapshotFile,
) -> impl futures::Stream<Item = SnapshotChunk> + Send + 'static {
    use tokio::io::AsyncReadExt;
    let first = SnapshotChunk {
        header: header.into(),
        data: Default::default(),
    };
    let rest = futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; SNAPSHOT_CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((
                    SnapshotChunk {
                        header: Default::default(),
                        data: buf.into(),
                    },
                    Some(file),
                ))
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the snapshot file to send it failed");
                None
            }
        }
    });
    futures::stream::once(async move { first }).chain(rest)
}
