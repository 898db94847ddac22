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
use hyper_util::rt::TokioIo;
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use redoubt_proto::peer::peer_client::PeerClient;
use redoubt_proto::peer::RaftMessage;
use tonic::transport::{Channel, Endpoint, Uri};

use super::TypeConfig;
use crate::config::Secret;

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
        }
    }

    /// Records which node name each member address must present (called on every membership
    /// change). Channels to an address whose name changed are dropped and dialled again.
    pub fn set_expected_names(&self, names: HashMap<String, String>) {
        let old = self.expected_names.swap(Arc::new(names));
        let new = self.expected_names.load();
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.retain(|addr, _| old.get(addr) == new.get(addr));
    }

    /// A client for the peer at `addr` (host:port), reusing its channel.
    pub fn client(&self, addr: &str) -> Result<PeerClient<Channel>, String> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
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
            .keep_alive_timeout(Duration::from_secs(5));
        let channel = match &self.tls {
            None => endpoint.connect_lazy(),
            Some(config) => {
                let connector = tokio_rustls::TlsConnector::from(config.clone());
                let target = addr.to_string();
                let expected = self.expected_names.load().get(addr).cloned();
                endpoint.connect_with_connector_lazy(tower::service_fn(move |_: Uri| {
                    let connector = connector.clone();
                    let target = target.clone();
                    let expected = expected.clone();
                    async move {
                        let tls = dial_tls(&connector, &target).await?;
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
        let tls = tokio::time::timeout(Duration::from_secs(5), dial_tls(&connector, addr))
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
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(addr);
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
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let name = rustls_pki_types::ServerName::try_from(host_of(target))
        .map_err(|e| std::io::Error::other(format!("bad peer name: {e}")))?;
    let tcp = tokio::net::TcpStream::connect(target).await?;
    tcp.set_nodelay(true)?;
    connector.connect(name, tcp).await
}

/// The host part of `host:port` (IPv6 in brackets allowed).
fn host_of(addr: &str) -> String {
    let host = match addr.rsplit_once(':') {
        Some((h, _)) => h,
        None => addr,
    };
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
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
    target: NodeId,
    addr: String,
    transport: Arc<PeerTransport>,
}

impl RaftNetworkFactory<TypeConfig> for PeerNetwork {
    type Network = PeerConnection;

    async fn new_client(&mut self, target: NodeId, node: &Member) -> PeerConnection {
        PeerConnection {
            target,
            addr: node.addr.clone(),
            transport: self.transport.clone(),
        }
    }
}

fn network_error<E: std::error::Error>(e: impl std::fmt::Display) -> RPCError<NodeId, Member, E> {
    RPCError::Network(NetworkError::new(&std::io::Error::other(e.to_string())))
}

fn status_error<E: std::error::Error>(status: tonic::Status) -> RPCError<NodeId, Member, E> {
    let err = std::io::Error::other(format!("{}: {}", status.code(), status.message()));
    match status.code() {
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
            RPCError::Unreachable(Unreachable::new(&err))
        }
        _ => RPCError::Network(NetworkError::new(&err)),
    }
}

impl PeerConnection {
    /// Sends one postcard-encoded Raft message with `call` and decodes the remote result.
    async fn call<Req, Resp, E>(
        &self,
        rpc: &Req,
        option: &RPCOption,
        kind: RaftCall,
    ) -> Result<Resp, RPCError<NodeId, Member, E>>
    where
        Req: serde::Serialize,
        Resp: serde::de::DeserializeOwned,
        E: std::error::Error + serde::de::DeserializeOwned,
    {
        let payload = postcard::to_allocvec(rpc).map_err(network_error)?;
        let mut client = self.transport.client(&self.addr).map_err(network_error)?;
        let mut req = self.transport.request(RaftMessage {
            payload: payload.into(),
        });
        req.set_timeout(option.hard_ttl());
        let reply = match kind {
            RaftCall::Append => client.append_entries(req).await,
            RaftCall::Vote => client.vote(req).await,
            RaftCall::Snapshot => client.install_snapshot(req).await,
        }
        .map_err(status_error)?
        .into_inner();
        let result: Result<Resp, E> =
            postcard::from_bytes(&reply.payload).map_err(network_error)?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

enum RaftCall {
    Append,
    Vote,
    Snapshot,
}

impl RaftNetwork<TypeConfig> for PeerConnection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, Member, RaftError<NodeId>>> {
        self.call(&rpc, &option, RaftCall::Append).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, Member, RaftError<NodeId, InstallSnapshotError>>,
    > {
        self.call(&rpc, &option, RaftCall::Snapshot).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, Member, RaftError<NodeId>>> {
        self.call(&rpc, &option, RaftCall::Vote).await
    }
}
