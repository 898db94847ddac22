//! One client connection: reading requests, pipelining, writing replies and pushed
//! messages, within the client's output and query buffer limits. The connection owns the
//! socket and the writes in flight; its [`Session`] holds who the client is and what it
//! asked for ([`dispatch`] runs each request, [`transaction`] runs EXEC).
//!
//! Replies leave in request order: a write's reply waits in `pending` until its entry is
//! applied, and any later request that must answer itself first resolves them.

mod dispatch;
mod monitor;
mod transaction;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use redoubt_proto::resp::{Frame, ProtocolError, RequestCodec};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::Decoder;

use crate::logsafe::Escaped;
use crate::raft::RaftCallError;
use crate::session::Session;
use crate::state::output::{frame_cost, Admission, Class};
use crate::state::NodeState;

type WriteReceiver = oneshot::Receiver<Result<crate::raft::Reply, RaftCallError>>;

/// A reply that is not known yet: a write waiting for the state machine.
pub(super) struct PendingWrite {
    pub(super) rx: WriteReceiver,
    pub(super) name: &'static str,
    pub(super) started: Instant,
}

/// Most writes of one pipeline in flight at once before waiting for their replies.
pub(super) const MAX_IN_FLIGHT: usize = 1024;
/// How long a closed connection may take to finish the write in progress.
const KILL_GRACE: Duration = Duration::from_secs(1);
/// Pushed messages encoded into one write at most (about).
const PUSH_BATCH: usize = 64 * 1024;
/// Replies of a pipeline are written once this many bytes wait: reading more requests waits
/// for the client to read, so a client that pipelines without reading holds us to about this.
const OUT_FLUSH: usize = 1024 * 1024;

/// Whether the connection goes on.
enum Next {
    Continue,
    Close,
}

pub(super) struct Connection {
    s: Session,
    /// Writes in flight, oldest first.
    pending: VecDeque<PendingWrite>,
}

/// Serves one client until it quits, is killed, times out or breaks the protocol.
pub async fn serve<R, W>(
    node: Arc<NodeState>,
    (reader, writer): (R, W),
    addr: SocketAddr,
    laddr: SocketAddr,
    user: Option<String>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let handle = node.clients.register(addr, laddr);
    let (push_tx, push_rx) = mpsc::unbounded_channel();
    let mut conn = Connection {
        s: Session::new(node.clone(), handle.clone(), push_tx),
        pending: VecDeque::new(),
    };
    if let Some(user) = user {
        // A TLS client whose certificate maps to a user (tls-auth-clients-user), if that user
        // exists and is on.
        if node.acl().user(&user).is_some_and(|u| u.enabled) {
            conn.s.set_user(user);
        } else {
            tracing::warn!(client = %addr, user = %Escaped(&user), "client certificate names a user that does not exist or is disabled");
        }
    }
    if let Err(e) = conn.run(reader, writer, push_rx).await {
        tracing::debug!(client = %addr, error = %e, "connection ended with an error");
    }
    conn.s.close();
    if handle.output.overflowed() {
        node.stats
            .client_output_buffer_limit_disconnections
            .fetch_add(1, Ordering::Relaxed);
    }
    node.clients.unregister(handle.id);
}

impl Connection {
    /// Reads requests, runs them and writes the replies (a pipeline's replies in one write),
    /// interleaved with pub/sub messages and the MONITOR feed, until the client goes away, is
    /// killed or idles past `timeout`.
    async fn run<R, W>(
        &mut self,
        mut rd: R,
        mut wr: W,
        mut push_rx: mpsc::UnboundedReceiver<Frame>,
    ) -> std::io::Result<()>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut codec = RequestCodec::new(self.s.limits());
        let mut rbuf = BytesMut::with_capacity(16 * 1024);
        let mut out = BytesMut::with_capacity(16 * 1024);
        loop {
            self.s.barrier_fresh = false;
            codec.limits = self.s.limits();
            if let Next::Close = self
                .run_batch(&mut codec, &mut rbuf, &mut wr, &mut out)
                .await?
            {
                return Ok(());
            }
            self.resolve_pending(&mut out).await;
            if !out.is_empty() {
                self.s
                    .node
                    .stats
                    .net_output_bytes
                    .fetch_add(out.len() as u64, Ordering::Relaxed);
                if !self.write_out(&mut wr, &out).await? {
                    return Ok(());
                }
                out.clear();
            }
            if self.s.closing {
                let _ = wr.shutdown().await;
                return Ok(());
            }
            if let Next::Close = self
                .wait(&mut rd, &mut rbuf, &mut push_rx, &mut out)
                .await?
            {
                return Ok(());
            }
            if !out.is_empty() {
                if !self.write_out(&mut wr, &out).await? {
                    return Ok(());
                }
                out.clear();
            }
        }
    }

    /// Runs every complete request in `rbuf` (one pipeline), writing replies out whenever
    /// [`OUT_FLUSH`] bytes wait. Close: a protocol error (answered), the query buffer limit,
    /// or a write the client's limits refused.
    async fn run_batch<W: AsyncWrite + Unpin>(
        &mut self,
        codec: &mut RequestCodec,
        rbuf: &mut BytesMut,
        wr: &mut W,
        out: &mut BytesMut,
    ) -> std::io::Result<Next> {
        loop {
            match codec.decode(rbuf) {
                Ok(Some(argv)) => {
                    let was_authenticated = self.s.authenticated;
                    self.handle_command(argv, out).await;
                    if self.s.authenticated != was_authenticated {
                        codec.limits = self.s.limits();
                    }
                    if self.s.closing {
                        return Ok(Next::Continue);
                    }
                    if out.len() >= OUT_FLUSH {
                        self.resolve_pending(out).await;
                        if !self.write_out(wr, out).await? {
                            return Ok(Next::Close);
                        }
                        out.clear();
                    }
                }
                Ok(None) => return Ok(Next::Continue),
                Err(ProtocolError::Invalid(msg)) => {
                    self.resolve_pending(out).await;
                    let text = format!("ERR {msg}");
                    tracing::debug!(client = %self.s.handle.addr, error = %Escaped(&msg), "protocol error");
                    self.s.node.stats.record_error(&text);
                    Frame::Error(text).encode(self.s.protocol, out);
                    wr.write_all(out).await?;
                    return Ok(Next::Close);
                }
                Err(ProtocolError::QueryBufferLimit) => {
                    tracing::warn!(client = %self.s.handle.addr, "closing client that reached max query buffer length");
                    return Ok(Next::Close);
                }
                Err(ProtocolError::Io(e)) => return Err(e),
            }
        }
    }

    /// How long the client may stay silent: `timeout`, never for subscribers and MONITOR.
    fn idle_limit(&self) -> Duration {
        let idle = self.s.node.runtime.timeout.load(Ordering::Relaxed);
        if idle == 0 || self.s.is_subscribed() || self.s.monitor_rx.is_some() {
            Duration::from_secs(365 * 24 * 3600)
        } else {
            Duration::from_secs(idle)
        }
    }

    /// Waits for the next thing to do: input (into `rbuf`), pub/sub messages or a MONITOR
    /// line (encoded into `out`). Close: killed, end of input, or idle too long.
    async fn wait<R: AsyncRead + Unpin>(
        &mut self,
        rd: &mut R,
        rbuf: &mut BytesMut,
        push_rx: &mut mpsc::UnboundedReceiver<Frame>,
        out: &mut BytesMut,
    ) -> std::io::Result<Next> {
        let idle_limit = self.idle_limit();
        let protocol = self.s.protocol;
        let monitor = async {
            match self.s.monitor_rx.as_mut() {
                Some(rx) => rx.recv().await.ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.s.handle.kill.notified() => return Ok(Next::Close),
            msg = push_rx.recv() => {
                // Messages move from the queue to the write buffer: the meter keeps
                // counting them until the write completes.
                if let Some(frame) = msg {
                    self.s.handle.output.release(frame_cost(&frame));
                    frame.encode(protocol, out);
                    while out.len() < PUSH_BATCH {
                        let Ok(more) = push_rx.try_recv() else {
                            break;
                        };
                        self.s.handle.output.release(frame_cost(&more));
                        more.encode(protocol, out);
                    }
                }
            }
            line = monitor => {
                if let Some(frame) = line {
                    frame.encode(protocol, out);
                }
            }
            read = rd.read_buf(rbuf) => {
                let n = read?;
                if n == 0 {
                    return Ok(Next::Close);
                }
                // A kill that arrived with the input wins: a connection closed for an ACL
                // change (or its output limit) runs nothing more.
                if futures::FutureExt::now_or_never(self.s.handle.kill.notified()).is_some() {
                    return Ok(Next::Close);
                }
                self.s.node.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                self.s.handle.update(|i| i.last_active = Instant::now());
            }
            _ = tokio::time::sleep(idle_limit) => {
                tracing::debug!(client = %self.s.handle.addr, "closing idle client");
                return Ok(Next::Close);
            }
        }
        Ok(Next::Continue)
    }

    /// Writes `out` to the client, counted as owed output until it is written; false when the
    /// connection was closed meanwhile (CLIENT KILL, output buffer limit, ACL change): a client
    /// that does not read cannot hold its connection open by blocking our write.
    async fn write_out<W: AsyncWrite + Unpin>(
        &self,
        wr: &mut W,
        out: &[u8],
    ) -> std::io::Result<bool> {
        let class = if self.s.is_subscribed() {
            Class::Pubsub
        } else {
            Class::Normal
        };
        let limit = self.s.node.output_limits().get(class);
        if self.s.handle.output.check(out.len() as u64, limit) == Admission::Close {
            tracing::warn!(client = %self.s.handle.addr, bytes = out.len(), ?class, "closing a client that reached its output buffer limit (client-output-buffer-limit)");
            return Ok(false);
        }
        self.s.handle.output.hold(out.len() as u64);
        let write = wr.write_all(out);
        tokio::pin!(write);
        let written = tokio::select! {
            r = &mut write => r.map(|()| true),
            _ = self.s.handle.kill.notified() => {
                // Closed meanwhile: a client that reads still gets what it was owed (the reply
                // to the ACL DELUSER that closed it, as Redis sends it), one that does not is
                // not waited for long.
                let _ = tokio::time::timeout(KILL_GRACE, &mut write).await;
                Ok(false)
            }
        };
        self.s.handle.output.release(out.len() as u64);
        written
    }

    /// Appends a reply (after any writes still waiting, to keep request order).
    pub(super) fn reply(&mut self, frame: Frame, out: &mut BytesMut) {
        match &frame {
            Frame::Error(text) => self.s.node.stats.record_error(text),
            Frame::ErrorBytes(_) => self.s.node.stats.record_error("ERR"),
            _ => {}
        }
        frame.encode(self.s.protocol, out);
    }

    /// Waits for every write in flight and appends their replies in order.
    pub(super) async fn resolve_pending(&mut self, out: &mut BytesMut) {
        while let Some(p) = self.pending.pop_front() {
            let frame = match p.rx.await {
                Ok(Ok(reply)) => reply.frame,
                Ok(Err(e)) => e.to_frame(),
                Err(_) => RaftCallError::Other("the raft node stopped".into()).to_frame(),
            };
            let usec = p.started.elapsed().as_micros() as u64;
            self.s
                .node
                .stats
                .record_command(p.name, usec, frame.is_error());
            self.reply(frame, out);
        }
    }
}
