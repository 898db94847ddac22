//! Client listeners: bind (a leading '-' makes an address optional), accept, admission
//! (maxclients, protected-mode, the TLS handshake) and then one [`connection`] per client.
//!
//! A connection holds its place among `maxclients` from accept, before its TLS handshake.
//! The listener never runs a command itself.

pub mod connection;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use redoubt_proto::resp::{Frame, Protocol};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::state::NodeState;

/// One bound client port.
pub struct Listener {
    listener: TcpListener,
    /// Connections on it start with a TLS handshake (`tls-port`).
    tls: bool,
}

/// Binds `port` on every `bind` address, and `tls-port` too when set. Fails (before anything
/// is served) when a required address cannot be bound.
pub async fn bind_listeners(node: &NodeState) -> anyhow::Result<Vec<Listener>> {
    let mut listeners = bind_all(node, node.config.port, false).await?;
    if let Some(tls_port) = node.tls_port {
        if node.client_tls.is_none() {
            anyhow::bail!("'tls-port' is set but the client TLS configuration is missing");
        }
        listeners.extend(bind_all(node, tls_port, true).await?);
    }
    Ok(listeners)
}

/// Bounds the TLS handshakes in flight on all client ports together.
pub fn handshake_slots() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(MAX_TLS_HANDSHAKES))
}

/// Accepts clients on `listener` until the task is cancelled; each is admitted and served on
/// its own task.
pub async fn accept_clients(node: Arc<NodeState>, listener: Listener, handshakes: Arc<Semaphore>) {
    loop {
        let (stream, addr) = crate::net::accept_with_backoff(&listener.listener, "clients").await;
        node.stats
            .connections_received
            .fetch_add(1, Ordering::Relaxed);
        let node = node.clone();
        let handshakes = handshakes.clone();
        let tls = listener.tls;
        tokio::spawn(async move { admit(node, stream, addr, tls, &handshakes).await });
    }
}

/// Listeners on every `bind` address for `port` (a leading '-' makes an address optional).
async fn bind_all(node: &NodeState, port: u16, tls: bool) -> anyhow::Result<Vec<Listener>> {
    let mut listeners = Vec::new();
    for addr in &node.config.bind {
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
                listeners.push(Listener { listener: l, tls });
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

/// maxclients and protected-mode checks, the TLS handshake, then the connection loop.
/// The connection holds its place among maxclients from here, before its handshake, so
/// connections that never finish one still count (and are refused past the limit).
async fn admit(
    node: Arc<NodeState>,
    stream: TcpStream,
    addr: SocketAddr,
    tls: bool,
    handshakes: &Semaphore,
) {
    let laddr = stream.local_addr().unwrap_or(addr);
    let max = node.runtime.maxclients.load(Ordering::Relaxed);
    let Some(_admission) = node.clients.admit(max) else {
        node.stats
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
    if node.runtime.protected_mode.load(Ordering::Relaxed)
        && node.default_user_has_no_password()
        && !addr.ip().is_loopback()
        && !is_mapped_loopback(addr.ip())
    {
        node.stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(client = %addr, "refused a non-loopback client: protected mode");
        refuse(stream, PROTECTED_MODE_ERROR).await;
        return;
    }
    if !tls {
        connection::serve(node.clone(), stream.into_split(), addr, laddr, None).await;
        return;
    }
    let Some(config) = node.client_tls.clone() else {
        return;
    };
    let Some(tls_stream) = tls_handshake(config, stream, addr, handshakes).await else {
        return;
    };
    // tls-auth-clients-user CN: the certificate's common name names the user.
    let user = if node.tls_cn_names_user {
        crate::tls::peer_common_name(&tls_stream)
    } else {
        None
    };
    connection::serve(
        node.clone(),
        tokio::io::split(tls_stream),
        addr,
        laddr,
        user,
    )
    .await;
}

/// The TLS handshake of a client on the TLS port, within [`TLS_HANDSHAKE_TIMEOUT`] (the wait
/// for one of the bounded handshake slots included); None (logged, rate-limited) if it fails.
async fn tls_handshake(
    config: Arc<rustls::ServerConfig>,
    stream: TcpStream,
    addr: SocketAddr,
    handshakes: &Semaphore,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let handshake = async {
        let _permit = handshakes.acquire().await;
        acceptor.accept(stream).await
    };
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            crate::log_limited!(
                crate::logsafe::CLIENT_HANDSHAKES,
                addr.ip().to_string(),
                client = %addr, reason = %crate::logsafe::Escaped(e.to_string()), "TLS handshake with a client failed"
            );
            None
        }
        Err(_) => {
            crate::log_limited!(
                crate::logsafe::CLIENT_HANDSHAKES,
                addr.ip().to_string(),
                client = %addr, "TLS handshake with a client timed out"
            );
            None
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

pub const MAXCLIENTS_ERROR: &str = "ERR max number of clients reached";

/// Longest a TLS client may take to complete its handshake (waiting for a handshake slot
/// included) before it is closed.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most TLS handshakes computed at once; more wait (within their timeout) for a slot, so a
/// burst of new TLS clients cannot take every core from the clients already served.
const MAX_TLS_HANDSHAKES: usize = 64;

pub const PROTECTED_MODE_ERROR: &str = "DENIED Redoubt is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redoubt you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redoubt from the same host the server is running, however MAKE SURE Redoubt is not publicly accessible from internet if you do so. 2) Alternatively you can just disable the protected mode by editing the configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";
