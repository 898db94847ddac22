//! A TCP fault proxy, to inject network faults between nodes in multi-process tests
//! without root (no `tc`, no `iptables`, no network namespaces).
//!
//! # One proxy per node, faults per source IP
//!
//! A [`FaultProxy`] sits in front of one node's peer (raft/gRPC) port: the address the other
//! nodes know for that node is the proxy's ([`FaultProxy::addr`]), and the proxy forwards
//! every connection it accepts to the node's real port. There is one proxy per node, not one
//! per link, because a node's address is cluster-wide: it sits in the raft membership that
//! every node replicates, so every peer dials the same address for node *n* and we cannot hand
//! node 2 and node 3 different addresses for node 1.
//!
//! So the proxy tells its clients apart by the connection's source IP. Each node dials its
//! peers from its own loopback address, [`node_source_ip`]`(id)` = `127.0.0.(10 + id)`
//! (Linux treats all of `127.0.0.0/8` as local, so any of those is bindable without setup).
//! `proxy_of_node_1.set(Some(node_source_ip(2)), Fault::Drop)` then cuts the connections that
//! node 2 opens to node 1, while node 3's connections to node 1 still pass.
//!
//! The unit of control is "connections that node X dials to node Y", and a fault applies to
//! both byte directions of those connections (requests and their replies). Node Y's own
//! connections to node X go through X's proxy and are controlled there: a full partition of
//! X and Y takes `proxy(Y).set(Some(ip(X)), Drop)` *and* `proxy(X).set(Some(ip(Y)), Drop)`.
//!
//! The proxy forwards raw bytes and never terminates TLS, so the peer channel's mutual TLS
//! runs end to end between the nodes; the target node sees the connection as coming from
//! the proxy (`127.0.0.1`), not from the dialing node's source IP.
//!
//! # Faults
//!
//! * [`Fault::Pass`]: bytes flow as they are.
//! * [`Fault::Delay`]`(d)`: every chunk is held `d` after it was read, in both directions, so
//!   the round-trip time of a connection grows by `2 * d`; order is kept and throughput is not
//!   throttled (chunks are pipelined, each one stamped when read). To give the link X -> Y a
//!   round-trip time of about `rtt`, set `Delay(rtt / 2)` on Y's proxy for X's source IP (the
//!   loopback's own RTT is tens of microseconds); for every link of a cluster, set
//!   `set(None, Fault::Delay(rtt / 2))` on every proxy.
//! * [`Fault::Drop`]: a partition, as a cut cable would look. The bytes of both directions
//!   are read and silently discarded, with no FIN and no RST; chunks still queued under a
//!   delay when the partition starts are lost too. It applies at once to connections already
//!   open, not only to new ones. New connections are still accepted (the kernel completes the
//!   handshake), but the proxy dials the target only once the partition lifts, and whatever
//!   the client sends before that is discarded. A FIN or an error seen on one side during the
//!   partition is held back and passed on only when the partition lifts.
//!
//!   When the partition lifts (back to `Pass` or `Delay`), connections that stayed open
//!   forward *new* bytes again, but the bytes discarded meanwhile are gone for good, like
//!   packets a real network dropped, except that no TCP retransmits them here: the byte
//!   stream above the proxy (TLS, HTTP/2) is then corrupt, and the nodes must notice it and
//!   redial. That is the recovery path this fault exists to exercise.
//! * [`Fault::Reset`]: open connections from that source are closed at once with an RST on
//!   both sides, and new ones are accepted then reset straight away.
//!
//! # Runtime
//!
//! The proxy runs on its own thread with its own current-thread tokio runtime, so it works
//! the same from `#[tokio::test]` and from plain `#[test]` code, and keeps forwarding while
//! the test's runtime is blocked. [`FaultProxy::set`] is synchronous and is seen by every
//! open connection within milliseconds (a `tokio::sync::watch` channel): a pump blocked in a
//! read checks the rule in force when data arrives. Dropping the [`FaultProxy`] closes its
//! listener and every connection through it before `drop` returns.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// The largest chunk one read takes from a socket.
const CHUNK_SIZE: usize = 64 * 1024;
/// Chunks queued per direction of one connection (read, not yet written) before the reader
/// stops reading: with [`CHUNK_SIZE`], at most 64 MiB per direction.
const QUEUE_CHUNKS: usize = 1024;
/// How long the proxy waits for the target to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed `accept` (e.g. out of file descriptors), so it does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// The loopback address node `id` dials its peers from: `127.0.0.(10 + id)`.
///
/// One convention for the whole harness, so a [`FaultProxy`] can tell nodes apart.
/// Panics unless `1 <= id <= 245`.
pub fn node_source_ip(id: usize) -> IpAddr {
    assert!(
        (1..=245).contains(&id),
        "node ids 1..=245 have a source IP (127.0.0.11..=127.0.0.255), not {id}"
    );
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, (10 + id) as u8))
}

/// What the proxy does to the connections of one source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    /// Forward as is.
    #[default]
    Pass,
    /// One-way delay added to every chunk in both directions (the RTT grows by twice this).
    /// Order is preserved and throughput is not throttled.
    Delay(Duration),
    /// Partition: bytes of both directions are read and discarded silently (no RST, no FIN).
    /// Applies at once to open connections; new connections are accepted but nothing flows.
    Drop,
    /// Open connections are reset, new ones are accepted and reset at once.
    Reset,
}

/// Counters of one proxy, for test diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Connections accepted since start.
    pub accepted: u64,
    /// Connections open now (accepted and not closed yet).
    pub open: u64,
    /// Connections closed by [`Fault::Reset`] (open ones, and new ones refused).
    pub reset: u64,
    /// Bytes written to either side (both directions added up).
    pub bytes_forwarded: u64,
    /// Bytes read and discarded under [`Fault::Drop`].
    pub bytes_dropped: u64,
}

/// The rules in force: one per source IP, and a default for the others.
#[derive(Clone, Debug, Default)]
struct Rules {
    default: Fault,
    by_source: HashMap<IpAddr, Fault>,
}

impl Rules {
    fn fault_for(&self, source: IpAddr) -> Fault {
        self.by_source.get(&source).copied().unwrap_or(self.default)
    }
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    open: AtomicU64,
    reset: AtomicU64,
    bytes_forwarded: AtomicU64,
    bytes_dropped: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Counts one open connection for as long as it lives.
struct OpenGuard(Arc<Counters>);

impl OpenGuard {
    fn new(counters: Arc<Counters>) -> OpenGuard {
        counters.open.fetch_add(1, Ordering::Relaxed);
        OpenGuard(counters)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A TCP proxy in front of one node's peer port, with faults per source IP.
/// See the [module documentation](self). Dropping it stops it: the listener and every
/// connection through it are closed before `drop` returns.
pub struct FaultProxy {
    addr: SocketAddr,
    target: SocketAddr,
    rules: watch::Sender<Rules>,
    counters: Arc<Counters>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on `127.0.0.1:<free port>` and forwards every accepted connection to `target`,
    /// from its own thread and tokio runtime. Every source starts at [`Fault::Pass`].
    pub fn start(target: SocketAddr) -> io::Result<FaultProxy> {
        Self::start_on(0, target)
    }

    /// [`FaultProxy::start`] on a given port of 127.0.0.1 (0: any), e.g. one from
    /// [`crate::free_port`], which never hands out a port twice (a port the kernel picks here
    /// could be one just chosen for a node that has not bound it yet).
    pub fn start_on(port: u16, target: SocketAddr) -> io::Result<FaultProxy> {
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let (rules, rules_rx) = watch::channel(Rules::default());
        let (shutdown, shutdown_rx) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn({
                let counters = Arc::clone(&counters);
                move || {
                    runtime.block_on(accept_loop(
                        listener,
                        target,
                        rules_rx,
                        counters,
                        shutdown_rx,
                    ));
                    // Dropping the runtime drops every connection task, closing its sockets.
                    drop(runtime);
                }
            })?;
        Ok(FaultProxy {
            addr,
            target,
            rules,
            counters,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Where clients connect (the address to give the other nodes for this node).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the proxy forwards to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Sets the fault for connections whose source IP is `from`, or with `None` the default
    /// for every source without a rule of its own. Open connections follow at once.
    pub fn set(&self, from: Option<IpAddr>, fault: Fault) {
        self.rules.send_modify(|rules| match from {
            Some(ip) => {
                rules.by_source.insert(ip, fault);
            }
            None => rules.default = fault,
        });
    }

    /// The fault in force for connections from `from`.
    pub fn fault(&self, from: IpAddr) -> Fault {
        self.rules.borrow().fault_for(from)
    }

    /// Every source back to [`Fault::Pass`].
    pub fn clear(&self) {
        self.rules.send_replace(Rules::default());
    }

    /// The counters so far.
    pub fn stats(&self) -> ProxyStats {
        let c = &self.counters;
        ProxyStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            open: c.open.load(Ordering::Relaxed),
            reset: c.reset.load(Ordering::Relaxed),
            bytes_forwarded: c.bytes_forwarded.load(Ordering::Relaxed),
            bytes_dropped: c.bytes_dropped.load(Ordering::Relaxed),
        }
    }
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("target", &self.target)
            .field("rules", &*self.rules.borrow())
            .field("stats", &self.stats())
            .finish()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    rules: watch::Receiver<Rules>,
    counters: Arc<Counters>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                counters.accepted.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(serve(
                    stream,
                    peer.ip(),
                    target,
                    rules.clone(),
                    Arc::clone(&counters),
                ));
            }
            Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
        }
    }
}

/// Closes a connection with an RST rather than a FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// How the pumps of one connection ended.
enum End {
    /// Both directions reached their end of stream and passed it on.
    Closed,
    /// An I/O error on either side.
    Failed,
    /// [`Fault::Reset`] for this source.
    Reset,
}

/// One accepted connection, from `source`, until it closes.
async fn serve(
    mut client: TcpStream,
    source: IpAddr,
    target: SocketAddr,
    mut rules: watch::Receiver<Rules>,
    counters: Arc<Counters>,
) {
    let _open = OpenGuard::new(Arc::clone(&counters));
    let _ = client.set_nodelay(true);

    // Dial the target only when the link lets a connection through: under Drop the client's
    // bytes are discarded while the partition lasts, as its SYN would be lost. Bytes read
    // after the partition lifted are kept, to go first once the target answers.
    let mut buf = vec![0u8; CHUNK_SIZE];
    let mut first: Option<Chunk> = None;
    loop {
        let fault = rules.borrow_and_update().fault_for(source);
        match fault {
            Fault::Pass | Fault::Delay(_) => break,
            Fault::Reset => {
                counters.reset.fetch_add(1, Ordering::Relaxed);
                reset(client);
                return;
            }
            Fault::Drop => {
                tokio::select! {
                    read = client.read(&mut buf) => match read {
                        Ok(0) | Err(_) => return,
                        // The rule in force when the data arrived decides.
                        Ok(n) => match due(rules.borrow_and_update().fault_for(source)) {
                            Some(due) => {
                                first = Some(Chunk { due, data: buf[..n].to_vec() });
                                break;
                            }
                            None => Counters::add(&counters.bytes_dropped, n),
                        },
                    },
                    changed = rules.changed() => {
                        if changed.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
    drop(buf);
    let mut upstream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await
    {
        Ok(Ok(upstream)) => upstream,
        // Like a refused connection: the client sees a reset.
        _ => {
            reset(client);
            return;
        }
    };
    let _ = upstream.set_nodelay(true);

    let (to_upstream, from_client) = mpsc::channel(QUEUE_CHUNKS);
    let (to_client, from_upstream) = mpsc::channel(QUEUE_CHUNKS);
    if let Some(first) = first {
        // The queue is new and empty: this cannot fail for want of room.
        let _ = to_upstream.try_send(first);
    }
    let end = {
        let (client_rd, client_wr) = client.split();
        let (upstream_rd, upstream_wr) = upstream.split();
        let link = Link {
            source,
            counters: &counters,
        };
        let pumps = async {
            tokio::try_join!(
                link.read_pump(client_rd, to_upstream, rules.clone()),
                link.write_pump(from_client, upstream_wr, rules.clone()),
                link.read_pump(upstream_rd, to_client, rules.clone()),
                link.write_pump(from_upstream, client_wr, rules.clone()),
            )
        };
        tokio::select! {
            pumped = pumps => if pumped.is_ok() { End::Closed } else { End::Failed },
            () = link.until_reset(rules.clone()) => End::Reset,
        }
    };
    match end {
        End::Closed => {}
        End::Failed => {
            reset(client);
            reset(upstream);
        }
        End::Reset => {
            counters.reset.fetch_add(1, Ordering::Relaxed);
            reset(client);
            reset(upstream);
        }
    }
}

/// When a chunk read now under `fault` is due on the other side; `None` under Drop and Reset.
fn due(fault: Fault) -> Option<Instant> {
    let now = Instant::now();
    match fault {
        Fault::Pass => Some(now),
        Fault::Delay(d) => Some(
            now.checked_add(d)
                .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600)),
        ),
        Fault::Drop | Fault::Reset => None,
    }
}

/// A chunk read from one side, to be written to the other side at `due`.
struct Chunk {
    due: Instant,
    data: Vec<u8>,
}

/// What the pumps of one connection share.
#[derive(Clone, Copy)]
struct Link<'a> {
    source: IpAddr,
    counters: &'a Counters,
}

impl Link<'_> {
    fn fault(&self, rules: &mut watch::Receiver<Rules>) -> Fault {
        rules.borrow_and_update().fault_for(self.source)
    }

    fn dropped(&self, n: usize) {
        Counters::add(&self.counters.bytes_dropped, n);
    }

    /// Returns once this connection's source is under [`Fault::Reset`] (never if the proxy
    /// is going away: its runtime then drops this future).
    async fn until_reset(self, mut rules: watch::Receiver<Rules>) {
        while self.fault(&mut rules) != Fault::Reset {
            if rules.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Waits while this source is partitioned (to hold back an end of stream).
    async fn while_dropped(self, rules: &mut watch::Receiver<Rules>) {
        while self.fault(rules) == Fault::Drop {
            if rules.changed().await.is_err() {
                return;
            }
        }
    }

    /// Reads one side and queues what it reads for the writer of the other side, stamped
    /// with when it is due; under Drop, discards it. An end of stream closes the queue.
    async fn read_pump<R: AsyncRead + Unpin>(
        self,
        mut rd: R,
        tx: mpsc::Sender<Chunk>,
        mut rules: watch::Receiver<Rules>,
    ) -> io::Result<()> {
        let mut buf = vec![0u8; CHUNK_SIZE];
        loop {
            let read = rd.read(&mut buf).await;
            // The rule in force when the data arrived, not when the read started.
            let fault = self.fault(&mut rules);
            let n = match read {
                Ok(0) => {
                    self.while_dropped(&mut rules).await;
                    return Ok(());
                }
                Ok(n) => n,
                Err(e) => {
                    self.while_dropped(&mut rules).await;
                    return Err(e);
                }
            };
            let due = match (fault, due(fault)) {
                (_, Some(due)) => due,
                (Fault::Reset, None) => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "reset by the fault proxy",
                    ))
                }
                (_, None) => {
                    self.dropped(n);
                    continue;
                }
            };
            let mut chunk = Some(Chunk {
                due,
                data: buf[..n].to_vec(),
            });
            // Wait for room in the queue; a partition that starts meanwhile drops the chunk.
            while let Some(pending) = chunk.take() {
                tokio::select! {
                    permit = tx.reserve() => match permit {
                        Ok(permit) => permit.send(pending),
                        Err(_) => return Err(io::ErrorKind::BrokenPipe.into()),
                    },
                    changed = rules.changed() => {
                        if changed.is_err() {
                            return Err(io::ErrorKind::BrokenPipe.into());
                        }
                        if self.fault(&mut rules) == Fault::Drop {
                            self.dropped(n);
                        } else {
                            chunk = Some(pending);
                        }
                    }
                }
            }
        }
    }

    /// Writes the queued chunks to one side, each at its due time, then passes the end of
    /// stream on (FIN). A chunk due while the source is partitioned is lost.
    async fn write_pump<W: AsyncWrite + Unpin>(
        self,
        mut rx: mpsc::Receiver<Chunk>,
        mut wr: W,
        mut rules: watch::Receiver<Rules>,
    ) -> io::Result<()> {
        while let Some(chunk) = rx.recv().await {
            if chunk.due > Instant::now() {
                tokio::time::sleep_until(chunk.due).await;
            }
            if self.fault(&mut rules) == Fault::Drop {
                self.dropped(chunk.data.len());
                continue;
            }
            wr.write_all(&chunk.data).await?;
            Counters::add(&self.counters.bytes_forwarded, chunk.data.len());
        }
        wr.shutdown().await
    }
}
