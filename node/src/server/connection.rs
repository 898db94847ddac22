//! One client connection: decode requests, run them in order, write replies.
//!
//! The loop owns the connection's state (selected db, protocol, MULTI queue, WATCHes,
//! subscriptions). Data reads run locally after a linearizable barrier (one per batch of
//! pipelined requests); data writes become Raft entries, several of a pipeline in flight at
//! once, their replies written in request order. Typed errors become RESP errors here and
//! nowhere else.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use redoubt_proto::resp::{Frame, Limits, Protocol, ProtocolError, RequestCodec};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::codec::Decoder;

use crate::clock::now_ms;
use crate::commands::args::{glob_match, is_kw, lower, parse_i64_opt};
use crate::commands::table::{command_docs, command_info, command_keys};
use crate::commands::{flag, CmdError, CommandSpec, CommandTable, Ctx, Exec, Rng};
use crate::config::{DebugMode, LogLevel, ReadConsistency};
use crate::logsafe::Escaped;
use crate::raft::{ExecRequest, RaftCallError, Watch};
use crate::state::clients::ClientHandle;
use crate::state::output::{frame_cost, Admission, Class};
use crate::state::pubsub::Subscriber;
use crate::state::NodeState;
use crate::store::DATABASES;

mod acl;

type WriteReceiver = oneshot::Receiver<Result<crate::raft::Reply, RaftCallError>>;

/// A reply that is not known yet: a write waiting for the state machine.
struct PendingWrite {
    rx: WriteReceiver,
    name: &'static str,
    started: Instant,
}

/// Most writes of one pipeline in flight at once before waiting for their replies.
const MAX_IN_FLIGHT: usize = 1024;
/// How long a closed connection may take to finish the write in progress.
const KILL_GRACE: Duration = Duration::from_secs(1);
/// Pushed messages encoded into one write at most (about).
const PUSH_BATCH: usize = 64 * 1024;
/// Replies of a pipeline are written once this many bytes wait: reading more requests waits
/// for the client to read, so a client that pipelines without reading holds us to about this.
const OUT_FLUSH: usize = 1024 * 1024;

struct Connection {
    server: Arc<NodeState>,
    handle: Arc<ClientHandle>,
    db: u8,
    protocol: Protocol,
    authenticated: bool,
    user: String,
    multi: Option<Vec<(Vec<Bytes>, &'static CommandSpec)>>,
    multi_dirty: bool,
    /// EXEC is running the queued commands (`multi` is already taken): refusals belong to
    /// the transaction.
    running_exec: bool,
    watches: Vec<Watch>,
    channels: BTreeSet<Bytes>,
    patterns: BTreeSet<Bytes>,
    push_tx: mpsc::UnboundedSender<Frame>,
    monitor_rx: Option<broadcast::Receiver<Frame>>,
    pending: VecDeque<PendingWrite>,
    /// A read barrier was passed for the current batch of requests.
    barrier_fresh: bool,
    closing: bool,
}

/// Serves one client until it quits, is killed, times out or breaks the protocol.
pub async fn serve<R, W>(
    server: Arc<NodeState>,
    (reader, writer): (R, W),
    addr: SocketAddr,
    laddr: SocketAddr,
    user: Option<String>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let handle = server.clients.register(addr, laddr);
    let (push_tx, push_rx) = mpsc::unbounded_channel();
    let authenticated = server.default_user_is_open();
    handle.update(|i| i.authenticated = authenticated);
    let mut conn = Connection {
        server: server.clone(),
        handle: handle.clone(),
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
        pending: VecDeque::new(),
        barrier_fresh: false,
        closing: false,
    };
    if let Some(user) = user {
        // A TLS client whose certificate maps to a user (tls-auth-clients-user), if that user
        // exists and is on.
        if server.acl().user(&user).is_some_and(|u| u.enabled) {
            conn.set_user(user);
        } else {
            tracing::warn!(client = %addr, user = %Escaped(&user), "client certificate names a user that does not exist or is disabled");
        }
    }
    if let Err(e) = conn.run(reader, writer, push_rx).await {
        tracing::debug!(client = %addr, error = %e, "connection ended with an error");
    }
    conn.unsubscribe_all();
    if conn.handle.output.overflowed() {
        server
            .stats
            .client_output_buffer_limit_disconnections
            .fetch_add(1, Ordering::Relaxed);
    }
    if conn.monitor_rx.is_some() {
        server.monitors.fetch_sub(1, Ordering::Relaxed);
    }
    server.clients.unregister(handle.id);
}

fn unknown_command_error(argv: &[Bytes]) -> Frame {
    // Redis echoes the client's bytes as they are ('%.128s' of the name, then args while the
    // list is shorter than 128 bytes).
    let mut text = b"ERR unknown command '".to_vec();
    text.extend_from_slice(&argv[0][..argv[0].len().min(128)]);
    text.extend_from_slice(b"', with args beginning with: ");
    let mut args: Vec<u8> = Vec::new();
    for a in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push(b'\'');
        args.extend_from_slice(&a[..a.len().min(room)]);
        args.extend_from_slice(b"' ");
    }
    text.extend_from_slice(&args);
    Frame::ErrorBytes(Bytes::from(text))
}

fn wrong_arity(spec: &CommandSpec) -> Frame {
    CmdError::WrongArity(spec.name.to_string()).to_frame()
}

fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// MONITOR's line for one command: `+<time> [<db> <addr>] "arg" ...`.
fn monitor_line(db: u8, addr: SocketAddr, argv: &[Bytes]) -> Frame {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = format!(
        "{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        db,
        addr
    );
    for a in argv {
        line.push_str(" \"");
        for &b in a.iter() {
            match b {
                b'\\' => line.push_str("\\\\"),
                b'"' => line.push_str("\\\""),
                b'\n' => line.push_str("\\n"),
                b'\r' => line.push_str("\\r"),
                b'\t' => line.push_str("\\t"),
                0x07 => line.push_str("\\a"),
                0x08 => line.push_str("\\b"),
                0x20..=0x7e => line.push(char::from(b)),
                _ => line.push_str(&format!("\\x{b:02x}")),
            }
        }
        line.push('"');
    }
    Frame::Simple(line)
}

impl Connection {
    fn limits(&self) -> Limits {
        let rt = &self.server.runtime;
        Limits {
            max_bulk_len: rt.proto_max_bulk_len.load(Ordering::Relaxed),
            max_query_buffer: usize::try_from(rt.client_query_buffer_limit.load(Ordering::Relaxed))
                .unwrap_or(usize::MAX),
            unauthenticated: !self.authenticated,
            ..Limits::default()
        }
    }

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
        let mut codec = RequestCodec::new(self.limits());
        let mut rbuf = BytesMut::with_capacity(16 * 1024);
        let mut out = BytesMut::with_capacity(16 * 1024);
        loop {
            self.barrier_fresh = false;
            codec.limits = self.limits();
            loop {
                match codec.decode(&mut rbuf) {
                    Ok(Some(argv)) => {
                        let was_authenticated = self.authenticated;
                        self.handle_command(argv, &mut out).await;
                        if self.authenticated != was_authenticated {
                            codec.limits = self.limits();
                        }
                        if self.closing {
                            break;
                        }
                        if out.len() >= OUT_FLUSH {
                            self.resolve_pending(&mut out).await;
                            if !self.write_out(&mut wr, &out).await? {
                                return Ok(());
                            }
                            out.clear();
                        }
                    }
                    Ok(None) => break,
                    Err(ProtocolError::Invalid(msg)) => {
                        self.resolve_pending(&mut out).await;
                        let text = format!("ERR {msg}");
                        tracing::debug!(client = %self.handle.addr, error = %Escaped(&msg), "protocol error");
                        self.server.stats.record_error(&text);
                        Frame::Error(text).encode(self.protocol, &mut out);
                        wr.write_all(&out).await?;
                        return Ok(());
                    }
                    Err(ProtocolError::QueryBufferLimit) => {
                        tracing::warn!(client = %self.handle.addr, "closing client that reached max query buffer length");
                        return Ok(());
                    }
                    Err(ProtocolError::Io(e)) => return Err(e),
                }
            }
            self.resolve_pending(&mut out).await;
            if !out.is_empty() {
                self.server
                    .stats
                    .net_output_bytes
                    .fetch_add(out.len() as u64, Ordering::Relaxed);
                if !self.write_out(&mut wr, &out).await? {
                    return Ok(());
                }
                out.clear();
            }
            if self.closing {
                let _ = wr.shutdown().await;
                return Ok(());
            }
            let idle = self.server.runtime.timeout.load(Ordering::Relaxed);
            let subscribed = !self.channels.is_empty() || !self.patterns.is_empty();
            let idle_limit = if idle == 0 || subscribed || self.monitor_rx.is_some() {
                Duration::from_secs(365 * 24 * 3600)
            } else {
                Duration::from_secs(idle)
            };
            let monitor = async {
                match self.monitor_rx.as_mut() {
                    Some(rx) => rx.recv().await.ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.handle.kill.notified() => return Ok(()),
                msg = push_rx.recv() => {
                    // Messages move from the queue to the write buffer: the meter keeps
                    // counting them until the write below completes.
                    if let Some(frame) = msg {
                        self.handle.output.release(frame_cost(&frame));
                        frame.encode(self.protocol, &mut out);
                        while out.len() < PUSH_BATCH {
                            let Ok(more) = push_rx.try_recv() else {
                                break;
                            };
                            self.handle.output.release(frame_cost(&more));
                            more.encode(self.protocol, &mut out);
                        }
                    }
                }
                line = monitor => {
                    if let Some(frame) = line {
                        frame.encode(self.protocol, &mut out);
                    }
                }
                read = rd.read_buf(&mut rbuf) => {
                    let n = read?;
                    if n == 0 {
                        return Ok(());
                    }
                    // A kill that arrived with the input wins: a connection closed for an ACL
                    // change (or its output limit) runs nothing more.
                    if futures::FutureExt::now_or_never(self.handle.kill.notified()).is_some() {
                        return Ok(());
                    }
                    self.server.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    self.handle.update(|i| i.last_active = Instant::now());
                }
                _ = tokio::time::sleep(idle_limit) => {
                    tracing::debug!(client = %self.handle.addr, "closing idle client");
                    return Ok(());
                }
            }
            if !out.is_empty() {
                if !self.write_out(&mut wr, &out).await? {
                    return Ok(());
                }
                out.clear();
            }
        }
    }

    /// Writes `out` to the client, counted as owed output until it is written; false when the
    /// connection was closed meanwhile (CLIENT KILL, output buffer limit, ACL change): a client
    /// that does not read cannot hold its connection open by blocking our write.
    async fn write_out<W: AsyncWrite + Unpin>(
        &self,
        wr: &mut W,
        out: &[u8],
    ) -> std::io::Result<bool> {
        let class = if self.channels.is_empty() && self.patterns.is_empty() {
            Class::Normal
        } else {
            Class::Pubsub
        };
        let limit = self.server.output_limits().get(class);
        if self.handle.output.check(out.len() as u64, limit) == Admission::Close {
            tracing::warn!(client = %self.handle.addr, bytes = out.len(), ?class, "closing a client that reached its output buffer limit (client-output-buffer-limit)");
            return Ok(false);
        }
        self.handle.output.hold(out.len() as u64);
        let write = wr.write_all(out);
        tokio::pin!(write);
        let written = tokio::select! {
            r = &mut write => r.map(|()| true),
            _ = self.handle.kill.notified() => {
                // Closed meanwhile: a client that reads still gets what it was owed (the reply
                // to the ACL DELUSER that closed it, as Redis sends it), one that does not is
                // not waited for long.
                let _ = tokio::time::timeout(KILL_GRACE, &mut write).await;
                Ok(false)
            }
        };
        self.handle.output.release(out.len() as u64);
        written
    }

    /// Appends a reply (after any writes still waiting, to keep request order).
    fn reply(&mut self, frame: Frame, out: &mut BytesMut) {
        match &frame {
            Frame::Error(text) => self.server.stats.record_error(text),
            Frame::ErrorBytes(_) => self.server.stats.record_error("ERR"),
            _ => {}
        }
        frame.encode(self.protocol, out);
    }

    /// Waits for every write in flight and appends their replies in order.
    async fn resolve_pending(&mut self, out: &mut BytesMut) {
        while let Some(p) = self.pending.pop_front() {
            let frame = match p.rx.await {
                Ok(Ok(reply)) => reply.frame,
                Ok(Err(e)) => e.to_frame(),
                Err(_) => RaftCallError::Other("the raft node stopped".into()).to_frame(),
            };
            let usec = p.started.elapsed().as_micros() as u64;
            self.server
                .stats
                .record_command(p.name, usec, frame.is_error());
            self.reply(frame, out);
        }
    }

    async fn handle_command(&mut self, mut argv: Vec<Bytes>, out: &mut BytesMut) {
        self.server
            .stats
            .commands_processed
            .fetch_add(1, Ordering::Relaxed);
        let Some(mut spec) = self.server.table.lookup(&argv[0]) else {
            self.resolve_pending(out).await;
            if self.multi.is_some() {
                self.multi_dirty = true;
            }
            self.reply(unknown_command_error(&argv), out);
            return;
        };
        if let Exec::Container = spec.exec {
            if argv.len() < 2 {
                if spec.name != "command" {
                    self.resolve_pending(out).await;
                    self.reject(spec, wrong_arity(spec), out);
                    return;
                }
            } else {
                match CommandTable::subcommand(spec, &argv[1]) {
                    Some(sub) => spec = sub,
                    None => {
                        self.resolve_pending(out).await;
                        let text = format!(
                            "ERR unknown subcommand '{}'. Try {} HELP.",
                            String::from_utf8_lossy(&argv[1])
                                .chars()
                                .take(128)
                                .collect::<String>(),
                            spec.name.to_ascii_uppercase()
                        );
                        self.reject(spec, Frame::Error(text), out);
                        return;
                    }
                }
            }
        }
        if !spec.arity_ok(argv.len()) {
            self.resolve_pending(out).await;
            self.reject(spec, wrong_arity(spec), out);
            return;
        }
        self.handle.update(|i| i.last_cmd = spec.name);
        if !self.authenticated && spec.flags & flag::NO_AUTH == 0 {
            self.resolve_pending(out).await;
            self.reject(spec, Frame::error("NOAUTH Authentication required."), out);
            return;
        }
        if let Err(frame) = self.acl_check(spec, &argv) {
            self.resolve_pending(out).await;
            self.reject(spec, frame, out);
            return;
        }
        let subscribed = !self.channels.is_empty() || !self.patterns.is_empty();
        if subscribed
            && self.protocol == Protocol::Resp2
            && !matches!(
                spec.name,
                "subscribe"
                    | "unsubscribe"
                    | "psubscribe"
                    | "punsubscribe"
                    | "ping"
                    | "quit"
                    | "reset"
            )
        {
            self.resolve_pending(out).await;
            let text = format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                spec.name
            );
            self.reject(spec, Frame::Error(text), out);
            return;
        }
        // As Redis: admin commands (ACL, CONFIG, DEBUG...) never reach MONITOR.
        if self.server.monitors.load(Ordering::Relaxed) > 0
            && spec.flags & (flag::SKIP_MONITOR | flag::ADMIN) == 0
        {
            let line = match redact_secrets(spec.name, &argv) {
                Some(redacted) => monitor_line(self.db, self.handle.addr, &redacted),
                None => monitor_line(self.db, self.handle.addr, &argv),
            };
            let _ = self.server.monitor.send(line);
        }
        if self.multi.is_some()
            && !matches!(
                spec.name,
                "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
            )
        {
            self.resolve_pending(out).await;
            if spec.flags & flag::NO_MULTI != 0 || spec.name == "monitor" {
                self.multi_dirty = true;
                self.reply(
                    Frame::error("ERR Command not allowed inside a transaction"),
                    out,
                );
                return;
            }
            if let Some(q) = self.multi.as_mut() {
                q.push((argv, spec));
                let n = q.len();
                self.handle.update(|i| i.multi = Some(n));
            }
            self.reply(Frame::Simple("QUEUED".into()), out);
            return;
        }
        if spec.is_write() && !*self.server.seeded.borrow() {
            self.resolve_pending(out).await;
            if let Err(frame) = self.server.wait_seeded().await {
                self.reply(frame, out);
                return;
            }
        }
        match spec.exec {
            Exec::Write(_) => {
                argv[0] = Bytes::from_static(spec.name.as_bytes());
                if self.pending.len() >= MAX_IN_FLIGHT {
                    self.resolve_pending(out).await;
                }
                self.submit_write(spec, argv);
            }
            Exec::Read(_) if !self.pending.is_empty() && self.pending.len() < MAX_IN_FLIGHT => {
                // A read pipelined behind writes still in flight rides in the log with them:
                // the state machine runs it in order, so it sees exactly the writes sent
                // before it, without stalling the rest of the pipeline.
                argv[0] = Bytes::from_static(spec.name.as_bytes());
                self.submit_write(spec, argv);
            }
            Exec::Read(handler) => {
                self.resolve_pending(out).await;
                let started = Instant::now();
                let frame = self.run_read(spec, handler, &argv).await;
                self.server.stats.record_command(
                    spec.name,
                    started.elapsed().as_micros() as u64,
                    frame.is_error(),
                );
                self.reply(frame, out);
            }
            Exec::Server(_) | Exec::Container => {
                self.resolve_pending(out).await;
                let started = Instant::now();
                let frame = self.run_server(spec, argv, out).await;
                if let Some(frame) = frame {
                    self.server.stats.record_command(
                        spec.name,
                        started.elapsed().as_micros() as u64,
                        frame.is_error(),
                    );
                    self.reply(frame, out);
                }
            }
        }
    }

    fn reject(&mut self, spec: &CommandSpec, frame: Frame, out: &mut BytesMut) {
        if self.multi.is_some() {
            self.multi_dirty = true;
        }
        self.server.stats.record_rejected(spec.name);
        self.reply(frame, out);
    }

    fn exec_request(
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

    fn submit_write(&mut self, spec: &'static CommandSpec, argv: Vec<Bytes>) {
        let req = self.exec_request(vec![argv], false, Vec::new());
        let rx = self.server.raft.propose_from(Some(self.handle.id), req);
        self.pending.push_back(PendingWrite {
            rx,
            name: spec.name,
            started: Instant::now(),
        });
    }

    /// Makes sure local state reflects every write acknowledged before this batch arrived.
    async fn read_barrier(&mut self) -> Result<(), Frame> {
        if self.barrier_fresh || self.server.read_consistency() == ReadConsistency::Stale {
            return Ok(());
        }
        self.server
            .raft
            .read_barrier()
            .await
            .map_err(|e| e.to_frame())?;
        self.barrier_fresh = true;
        Ok(())
    }

    async fn run_read(
        &mut self,
        spec: &CommandSpec,
        handler: crate::commands::Handler,
        argv: &[Bytes],
    ) -> Frame {
        let acl_generation = |c: &Self| c.server.raft.shared.acl_generation.load(Ordering::Acquire);
        let acl_before = acl_generation(self);
        if let Err(frame) = self.read_barrier().await {
            return frame;
        }
        // The barrier may have applied an ACL change made elsewhere before this read: the read
        // answers to the rules as of the barrier, like a write answers to those of its entry.
        if acl_generation(self) != acl_before {
            if let Err(frame) = self.acl_check(spec, argv) {
                return frame;
            }
        }
        let _gate = self.server.raft.shared.read_gate();
        let mut ks = self.server.raft.read_view(self.db, now_ms());
        let mut rng = Rng::new(rand::random());
        let mut ctx = Ctx {
            ks: &mut ks,
            rng: &mut rng,
            protocol: self.protocol,
        };
        handler(&mut ctx, argv).unwrap_or_else(|e| e.to_frame())
    }

    /// Connection, transaction, pub/sub and server commands. None: the reply was already
    /// written (SUBSCRIBE and friends reply once per channel).
    async fn run_server(
        &mut self,
        spec: &'static CommandSpec,
        argv: Vec<Bytes>,
        out: &mut BytesMut,
    ) -> Option<Frame> {
        match spec.name {
            "exec" => Some(self.exec().await),
            "watch" => Some(self.watch(&argv[1..]).await),
            "debug" => Some(self.debug(&argv).await),
            "auth" => Some(self.auth(&argv).await),
            "hello" => Some(self.hello(&argv).await),
            "config|set" => Some(self.config_set(&argv[2..]).await),
            name if name.starts_with("acl|") => Some(self.acl_command(name, &argv).await),
            name if name.starts_with("raft.") => {
                Some(crate::cluster::commands::run(&self.server, name, &argv).await)
            }
            "subscribe" | "psubscribe" => {
                self.subscribe(spec.name == "psubscribe", &argv[1..], out);
                None
            }
            "unsubscribe" | "punsubscribe" => {
                self.unsubscribe(spec.name == "punsubscribe", &argv[1..], out);
                None
            }
            _ => Some(self.run_local(spec, &argv)),
        }
    }

    /// NodeState commands that need no waiting (also run for a MULTI's queued commands).
    fn run_local(&mut self, spec: &'static CommandSpec, argv: &[Bytes]) -> Frame {
        match spec.name {
            "ping" => {
                let subscribed = !self.channels.is_empty() || !self.patterns.is_empty();
                if subscribed && self.protocol == Protocol::Resp2 {
                    Frame::Array(vec![
                        Frame::bulk("pong"),
                        Frame::Bulk(argv.get(1).cloned().unwrap_or_default()),
                    ])
                } else if argv.len() > 2 {
                    wrong_arity(spec)
                } else {
                    match argv.get(1) {
                        Some(msg) => Frame::Bulk(msg.clone()),
                        None => Frame::Simple("PONG".into()),
                    }
                }
            }
            "echo" => Frame::Bulk(argv[1].clone()),
            "select" => match parse_i64_opt(&argv[1]) {
                Some(db) if (0..i64::from(DATABASES)).contains(&db) => {
                    self.db = db as u8;
                    self.handle.update(|i| i.db = db as u8);
                    Frame::ok()
                }
                Some(_) => Frame::error("ERR DB index is out of range"),
                None => CmdError::NotInteger.to_frame(),
            },
            "quit" => {
                self.closing = true;
                Frame::ok()
            }
            "reset" => {
                self.multi = None;
                self.multi_dirty = false;
                self.watches.clear();
                self.unsubscribe_all();
                self.db = 0;
                self.protocol = Protocol::Resp2;
                self.authenticated = self.server.default_user_is_open();
                self.user = "default".to_string();
                let authenticated = self.authenticated;
                self.handle.update(|i| {
                    i.user = "default".to_string();
                    i.authenticated = authenticated;
                });
                if self.monitor_rx.take().is_some() {
                    self.server.monitors.fetch_sub(1, Ordering::Relaxed);
                }
                self.handle.update(|i| {
                    i.db = 0;
                    i.resp = 2;
                    i.name.clear();
                    i.multi = None;
                    i.subscriptions = 0;
                    i.psubscriptions = 0;
                    i.monitor = false;
                });
                Frame::Simple("RESET".into())
            }
            "multi" => {
                if self.multi.is_some() {
                    return Frame::error("ERR MULTI calls can not be nested");
                }
                self.multi = Some(Vec::new());
                self.multi_dirty = false;
                self.handle.update(|i| i.multi = Some(0));
                Frame::ok()
            }
            "discard" => {
                if self.multi.take().is_none() {
                    return Frame::error("ERR DISCARD without MULTI");
                }
                self.multi_dirty = false;
                self.watches.clear();
                self.handle.update(|i| i.multi = None);
                Frame::ok()
            }
            "unwatch" => {
                self.watches.clear();
                Frame::ok()
            }
            "publish" => {
                let limit = self.server.output_limits().pubsub;
                let n = self.server.pubsub.publish(&argv[1], &argv[2], limit);
                if self.server.is_clustered() {
                    crate::cluster::fan_out_publish(&self.server, argv[1].clone(), argv[2].clone());
                }
                Frame::Integer(n as i64)
            }
            "pubsub|channels" => {
                let pattern = argv.get(2).map(|p| &p[..]);
                Frame::Array(
                    self.server
                        .pubsub
                        .channels(pattern)
                        .into_iter()
                        .map(Frame::Bulk)
                        .collect(),
                )
            }
            "pubsub|numsub" => {
                let mut items = Vec::new();
                for ch in &argv[2..] {
                    items.push(Frame::Bulk(ch.clone()));
                    items.push(Frame::Integer(self.server.pubsub.numsub(ch) as i64));
                }
                Frame::Array(items)
            }
            "pubsub|numpat" => Frame::Integer(self.server.pubsub.numpat() as i64),
            "pubsub|help" => help(&[
                "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANNELS [<pattern>]",
                "NUMPAT",
                "NUMSUB [<channel> ...]",
                "HELP",
            ]),
            "time" => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                Frame::Array(vec![
                    Frame::bulk(now.as_secs().to_string()),
                    Frame::bulk(now.subsec_micros().to_string()),
                ])
            }
            "lastsave" => {
                let started = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs()
                    .saturating_sub(self.server.started.elapsed().as_secs());
                Frame::Integer(started as i64)
            }
            "info" => Frame::Verbatim(Bytes::from(crate::info::render(&self.server, &argv[1..]))),
            "monitor" => {
                if self.monitor_rx.is_none() {
                    self.monitor_rx = Some(self.server.monitor.subscribe());
                    self.server.monitors.fetch_add(1, Ordering::Relaxed);
                    self.handle.update(|i| i.monitor = true);
                }
                Frame::ok()
            }
            "command" => self.command_all(),
            name if name.starts_with("command|") => self.command_sub(name, argv),
            name if name.starts_with("client|") => self.client(name, argv),
            name if name.starts_with("config|") => self.config(name, argv),
            "exec" | "watch" | "debug" | "subscribe" | "psubscribe" | "unsubscribe"
            | "punsubscribe" => {
                Frame::Error(format!("ERR '{}' is not allowed inside MULTI", spec.name))
            }
            other => Frame::Error(format!("ERR command '{other}' is not available")),
        }
    }

    async fn hello(&mut self, argv: &[Bytes]) -> Frame {
        let mut protocol = self.protocol;
        let mut i = 1;
        if let Some(v) = argv.get(1) {
            match parse_i64_opt(v) {
                Some(2) => protocol = Protocol::Resp2,
                Some(3) => protocol = Protocol::Resp3,
                Some(_) => return Frame::error("NOPROTO unsupported protocol version"),
                None => {
                    return Frame::error("ERR Protocol version is not an integer or out of range")
                }
            }
            i = 2;
        }
        let mut setname = None;
        while i < argv.len() {
            if is_kw(&argv[i], "AUTH") && i + 2 < argv.len() {
                let (u, p) = (argv[i + 1].clone(), argv[i + 2].clone());
                let r = self.authenticate(&u, &p).await;
                if r.is_error() {
                    return r;
                }
                i += 3;
            } else if is_kw(&argv[i], "SETNAME") && i + 1 < argv.len() {
                if !valid_client_name(&argv[i + 1]) {
                    return Frame::error(
                        "ERR Client names cannot contain spaces, newlines or special characters.",
                    );
                }
                setname = Some(String::from_utf8_lossy(&argv[i + 1]).into_owned());
                i += 2;
            } else {
                return Frame::Error(format!(
                    "ERR Syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(&argv[i])
                ));
            }
        }
        if !self.authenticated {
            return Frame::error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        }
        self.protocol = protocol;
        let resp = if protocol == Protocol::Resp3 { 3 } else { 2 };
        self.handle.update(|info| {
            info.resp = resp;
            if let Some(n) = setname {
                info.name = n;
            }
        });
        Frame::Map(vec![
            (Frame::bulk("server"), Frame::bulk("redis")),
            (
                Frame::bulk("version"),
                Frame::bulk(crate::info::REDIS_VERSION),
            ),
            (Frame::bulk("proto"), Frame::Integer(i64::from(resp))),
            (Frame::bulk("id"), Frame::Integer(self.handle.id as i64)),
            (Frame::bulk("mode"), Frame::bulk("standalone")),
            (Frame::bulk("role"), Frame::bulk("master")),
            (Frame::bulk("modules"), Frame::Array(Vec::new())),
        ])
    }

    async fn watch(&mut self, keys: &[Bytes]) -> Frame {
        if self.multi.is_some() {
            return Frame::error("ERR WATCH inside MULTI is not allowed");
        }
        if let Err(frame) = self.read_barrier().await {
            return frame;
        }
        let _gate = self.server.raft.shared.read_gate();
        let mut ks = self.server.raft.read_view(self.db, now_ms());
        for key in keys {
            if self
                .watches
                .iter()
                .any(|w| w.db == self.db && w.key == *key)
            {
                continue;
            }
            match ks.watch_version(key) {
                Ok(version) => self.watches.push(Watch {
                    db: self.db,
                    key: key.clone(),
                    version,
                }),
                Err(e) => return CmdError::from(e).to_frame(),
            }
        }
        Frame::ok()
    }

    async fn exec(&mut self) -> Frame {
        let Some(queue) = self.multi.take() else {
            return Frame::error("ERR EXEC without MULTI");
        };
        self.handle.update(|i| i.multi = None);
        let watches = std::mem::take(&mut self.watches);
        if std::mem::take(&mut self.multi_dirty) {
            return Frame::error("EXECABORT Transaction discarded because of previous errors.");
        }
        // Data commands (and SELECT, which moves them between dbs) form one Raft entry;
        // connection-level commands run here, after it, and take their places in the reply.
        let mut entry_cmds = Vec::new();
        let mut positions = Vec::new();
        for (i, (argv, spec)) in queue.iter().enumerate() {
            if matches!(spec.exec, Exec::Read(_) | Exec::Write(_)) || spec.name == "select" {
                let mut argv = argv.clone();
                argv[0] = Bytes::from_static(spec.name.as_bytes());
                entry_cmds.push(argv);
                positions.push(i);
            }
        }
        if let Err(frame) = self.server.wait_seeded().await {
            return frame;
        }
        // NodeState commands are re-checked here, not at apply: against the rules as of a read
        // barrier, so that a revocation acknowledged anywhere before EXEC refuses them.
        if positions.len() < queue.len() {
            if let Err(frame) = self.acl_read_barrier().await {
                return frame;
            }
        }
        let mut results: Vec<Option<Frame>> = vec![None; queue.len()];
        if !entry_cmds.is_empty() || !watches.is_empty() {
            let req = self.exec_request(entry_cmds, true, watches);
            match self.server.raft.execute(req).await {
                Ok(reply) => match reply.frame {
                    Frame::Array(frames) => {
                        for (pos, f) in positions.into_iter().zip(frames) {
                            results[pos] = Some(f);
                        }
                        self.db = reply.db;
                        let db = self.db;
                        self.handle.update(|i| i.db = db);
                    }
                    Frame::NullArray => return Frame::NullArray,
                    other => return other,
                },
                Err(e) => return e.to_frame(),
            }
        }
        self.running_exec = true;
        let mut frames = Vec::with_capacity(queue.len());
        for ((argv, spec), result) in queue.iter().zip(results) {
            let frame = match result {
                Some(Frame::Error(e)) => {
                    self.log_refused_at_exec(spec, argv, &e);
                    Frame::Error(e)
                }
                Some(f) => f,
                None => match self.acl_recheck_queued(spec, argv) {
                    Ok(()) => self.run_queued(spec, argv).await,
                    Err(refused) => refused,
                },
            };
            frames.push(frame);
        }
        self.running_exec = false;
        Frame::Array(frames)
    }

    /// A queued server command of a transaction, run at EXEC.
    async fn run_queued(&mut self, spec: &'static CommandSpec, argv: &[Bytes]) -> Frame {
        match spec.name {
            "auth" => self.auth(argv).await,
            "hello" => self.hello(argv).await,
            "config|set" => self.config_set(&argv[2..]).await,
            name if name.starts_with("acl|") => self.acl_command(name, argv).await,
            _ => self.run_local(spec, argv),
        }
    }

    fn sub_count(&self) -> i64 {
        (self.channels.len() + self.patterns.len()) as i64
    }

    fn update_sub_info(&self) {
        let (c, p) = (self.channels.len(), self.patterns.len());
        self.handle.update(|i| {
            i.subscriptions = c;
            i.psubscriptions = p;
        });
    }

    fn subscriber(&self) -> Subscriber {
        Subscriber {
            tx: self.push_tx.clone(),
            handle: self.handle.clone(),
        }
    }

    fn subscribe(&mut self, pattern: bool, names: &[Bytes], out: &mut BytesMut) {
        let kind = if pattern { "psubscribe" } else { "subscribe" };
        for name in names {
            if pattern {
                if self.patterns.insert(name.clone()) {
                    self.server
                        .pubsub
                        .psubscribe(self.handle.id, name.clone(), self.subscriber());
                }
            } else if self.channels.insert(name.clone()) {
                self.server
                    .pubsub
                    .subscribe(self.handle.id, name.clone(), self.subscriber());
            }
            let frame = Frame::Push(vec![
                Frame::bulk(kind),
                Frame::Bulk(name.clone()),
                Frame::Integer(self.sub_count()),
            ]);
            self.reply(frame, out);
        }
        self.update_sub_info();
    }

    fn unsubscribe(&mut self, pattern: bool, names: &[Bytes], out: &mut BytesMut) {
        let kind = if pattern {
            "punsubscribe"
        } else {
            "unsubscribe"
        };
        let targets: Vec<Bytes> = if names.is_empty() {
            if pattern {
                self.patterns.iter().cloned().collect()
            } else {
                self.channels.iter().cloned().collect()
            }
        } else {
            names.to_vec()
        };
        if targets.is_empty() {
            let frame = Frame::Push(vec![
                Frame::bulk(kind),
                Frame::Null,
                Frame::Integer(self.sub_count()),
            ]);
            self.reply(frame, out);
        }
        for name in targets {
            if pattern {
                if self.patterns.remove(&name) {
                    self.server.pubsub.punsubscribe(self.handle.id, &name);
                }
            } else if self.channels.remove(&name) {
                self.server.pubsub.unsubscribe(self.handle.id, &name);
            }
            let frame = Frame::Push(vec![
                Frame::bulk(kind),
                Frame::Bulk(name),
                Frame::Integer(self.sub_count()),
            ]);
            self.reply(frame, out);
        }
        self.update_sub_info();
    }

    fn unsubscribe_all(&mut self) {
        for ch in std::mem::take(&mut self.channels) {
            self.server.pubsub.unsubscribe(self.handle.id, &ch);
        }
        for p in std::mem::take(&mut self.patterns) {
            self.server.pubsub.punsubscribe(self.handle.id, &p);
        }
    }

    async fn debug(&mut self, argv: &[Bytes]) -> Frame {
        let allowed = match self.server.debug_mode() {
            DebugMode::Yes => true,
            DebugMode::Local => self.handle.addr.ip().is_loopback(),
            DebugMode::No => false,
        };
        if !allowed {
            return Frame::error("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
        }
        let sub = lower(&argv[1]);
        match sub.as_str() {
            "sleep" if argv.len() == 3 => {
                let secs = crate::commands::args::parse_f64_opt(&argv[2]).unwrap_or(0.0);
                if secs > 0.0 {
                    tokio::time::sleep(Duration::from_secs_f64(secs.min(3600.0))).await;
                }
                Frame::ok()
            }
            "set-active-expire" if argv.len() == 3 => {
                let on = argv[2].as_ref() != b"0";
                self.server.runtime.active_expire.store(on, Ordering::Relaxed);
                Frame::ok()
            }
            "help" => help(&[
                "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not accessed.",
                "HELP",
                "    Print this help.",
            ]),
            _ => Frame::Error(format!(
                "ERR unknown subcommand '{}'. Try DEBUG HELP.",
                String::from_utf8_lossy(&argv[1])
            )),
        }
    }

    fn command_all(&self) -> Frame {
        Frame::Array(
            self.server
                .table
                .visible()
                .into_iter()
                .map(command_info)
                .collect(),
        )
    }

    fn find_spec(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        let text = lower(name);
        match text.split_once('|') {
            Some((container, sub)) => {
                let c = self.server.table.lookup(container.as_bytes())?;
                CommandTable::subcommand(c, sub.as_bytes())
            }
            None => self.server.table.lookup(name),
        }
    }

    fn command_sub(&self, name: &str, argv: &[Bytes]) -> Frame {
        match name {
            "command|count" => Frame::Integer(self.server.table.count() as i64),
            "command|info" => {
                if argv.len() == 2 {
                    return self.command_all();
                }
                Frame::Array(
                    argv[2..]
                        .iter()
                        .map(|n| {
                            self.find_spec(n)
                                .map(command_info)
                                .unwrap_or(Frame::NullArray)
                        })
                        .collect(),
                )
            }
            "command|docs" => {
                let specs: Vec<&CommandSpec> = if argv.len() == 2 {
                    self.server.table.visible()
                } else {
                    argv[2..].iter().filter_map(|n| self.find_spec(n)).collect()
                };
                let mut pairs = Vec::new();
                for s in specs {
                    if let Frame::Array(mut pair) = command_docs(s) {
                        if pair.len() == 2 {
                            let docs = pair.pop().unwrap_or(Frame::Null);
                            let n = pair.pop().unwrap_or(Frame::Null);
                            pairs.push((n, docs));
                        }
                    }
                }
                Frame::Map(pairs)
            }
            "command|list" => {
                let mut names: Vec<Frame> = Vec::new();
                let filter = if argv.len() >= 5 && is_kw(&argv[2], "FILTERBY") {
                    Some((lower(&argv[3]), argv[4].clone()))
                } else if argv.len() > 2 {
                    return CmdError::Syntax.to_frame();
                } else {
                    None
                };
                let all = self
                    .server
                    .table
                    .visible()
                    .into_iter()
                    .flat_map(|s| std::iter::once(s).chain(s.subcommands.iter()));
                for s in all {
                    let keep = match &filter {
                        None => true,
                        Some((kind, v)) if kind == "pattern" => {
                            glob_match(v, s.name.as_bytes(), true)
                        }
                        Some((kind, v)) if kind == "aclcat" => {
                            let cat = lower(v);
                            crate::commands::table::acl_categories(s)
                                .iter()
                                .any(|c| *c == cat)
                        }
                        Some((kind, _)) if kind == "module" => false,
                        Some(_) => return CmdError::Syntax.to_frame(),
                    };
                    if keep {
                        names.push(Frame::bulk(s.name));
                    }
                }
                Frame::Array(names)
            }
            "command|getkeys" => {
                let Some(target) = self.server.table.lookup(&argv[2]) else {
                    return Frame::error("ERR Invalid command specified");
                };
                let target = match target.exec {
                    Exec::Container => match argv
                        .get(3)
                        .and_then(|s| CommandTable::subcommand(target, s))
                    {
                        Some(s) => s,
                        None => return Frame::error("ERR Invalid command specified"),
                    },
                    _ => target,
                };
                let line = &argv[2..];
                if !target.arity_ok(line.len()) {
                    return Frame::error("ERR Invalid number of arguments specified for command");
                }
                let keys = command_keys(target, line);
                if keys.is_empty() {
                    return Frame::error("ERR The command has no key arguments");
                }
                Frame::Array(keys.into_iter().map(Frame::Bulk).collect())
            }
            _ => help(&[
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)",
                "    Return details about all Redis commands.",
                "COUNT",
                "    Return the total number of commands in this Redis server.",
                "LIST",
                "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]",
                "    Return details about multiple Redis commands.",
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple Redis commands.",
                "GETKEYS <full-command>",
                "    Return the keys from a full Redis command.",
                "HELP",
                "    Print this help.",
            ]),
        }
    }

    fn client(&mut self, name: &str, argv: &[Bytes]) -> Frame {
        match name {
            "client|id" => Frame::Integer(self.handle.id as i64),
            "client|getname" => {
                let n = self.handle.info().name;
                if n.is_empty() {
                    Frame::Null
                } else {
                    Frame::bulk(n)
                }
            }
            "client|setname" => {
                if !valid_client_name(&argv[2]) {
                    return Frame::error(
                        "ERR Client names cannot contain spaces, newlines or special characters.",
                    );
                }
                let n = String::from_utf8_lossy(&argv[2]).into_owned();
                self.handle.update(|i| i.name = n);
                Frame::ok()
            }
            "client|setinfo" => {
                let attr = lower(&argv[2]);
                if attr != "lib-name" && attr != "lib-ver" {
                    return Frame::Error(format!(
                        "ERR Unrecognized option '{}'",
                        String::from_utf8_lossy(&argv[2])
                    ));
                }
                if !valid_client_name(&argv[3]) && !argv[3].is_empty() {
                    return Frame::Error(format!(
                        "ERR {attr} cannot contain spaces, newlines or special characters."
                    ));
                }
                let v = String::from_utf8_lossy(&argv[3]).into_owned();
                self.handle.update(|i| {
                    if attr == "lib-name" {
                        i.lib_name = v;
                    } else {
                        i.lib_ver = v;
                    }
                });
                Frame::ok()
            }
            "client|info" => Frame::Verbatim(Bytes::from(format!("{}\n", self.handle.describe()))),
            "client|list" => {
                let mut ids: Option<Vec<u64>> = None;
                let mut kind: Option<String> = None;
                let mut i = 2;
                while i < argv.len() {
                    if is_kw(&argv[i], "TYPE") && i + 1 < argv.len() {
                        let t = lower(&argv[i + 1]);
                        if !matches!(
                            t.as_str(),
                            "normal" | "master" | "replica" | "slave" | "pubsub"
                        ) {
                            return Frame::Error(format!(
                                "ERR Unknown client type '{}'",
                                String::from_utf8_lossy(&argv[i + 1])
                            ));
                        }
                        kind = Some(t);
                        i += 2;
                    } else if is_kw(&argv[i], "ID") && i + 1 < argv.len() {
                        let mut list = Vec::new();
                        for a in &argv[i + 1..] {
                            match parse_i64_opt(a) {
                                Some(id) if id > 0 => list.push(id as u64),
                                _ => return Frame::error("ERR Invalid client ID"),
                            }
                        }
                        ids = Some(list);
                        i = argv.len();
                    } else {
                        return CmdError::Syntax.to_frame();
                    }
                }
                let mut text = String::new();
                for c in self.server.clients.list() {
                    if let Some(ids) = &ids {
                        if !ids.contains(&c.id) {
                            continue;
                        }
                    }
                    if let Some(k) = &kind {
                        let info = c.info();
                        let is_pubsub = info.subscriptions + info.psubscriptions > 0;
                        let keep = match k.as_str() {
                            "pubsub" => is_pubsub,
                            "normal" => !is_pubsub,
                            _ => false,
                        };
                        if !keep {
                            continue;
                        }
                    }
                    text.push_str(&c.describe());
                    text.push('\n');
                }
                Frame::Verbatim(Bytes::from(text))
            }
            "client|kill" => self.client_kill(argv),
            _ => help(&[
                "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GETNAME",
                "    Return the name of the current connection.",
                "ID",
                "    Return the ID of the current connection.",
                "INFO",
                "    Return information about the current client connection.",
                "KILL <ip:port>",
                "    Kill connection made from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]",
                "    Kill connections. Options are: ID, ADDR, LADDR, USER, SKIPME, MAXAGE.",
                "LIST [options ...]",
                "    Return information about client connections.",
                "SETNAME <name>",
                "    Assign the name <name> to the current connection.",
                "SETINFO <option> <value>",
                "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
                "HELP",
                "    Print this help.",
            ]),
        }
    }

    fn client_kill(&mut self, argv: &[Bytes]) -> Frame {
        if argv.len() == 3 {
            let addr = String::from_utf8_lossy(&argv[2]).into_owned();
            for c in self.server.clients.list() {
                if c.addr.to_string() == addr {
                    c.kill.notify_one();
                    self.server.clients.unregister(c.id);
                    if c.id == self.handle.id {
                        self.closing = true;
                    }
                    return Frame::ok();
                }
            }
            return Frame::error("ERR No such client");
        }
        let mut id = None;
        let mut addr = None;
        let mut laddr = None;
        let mut user = None;
        let mut maxage = None;
        let mut skipme = true;
        let mut kind = None;
        let mut i = 2;
        while i + 1 < argv.len() {
            let v = &argv[i + 1];
            if is_kw(&argv[i], "ID") {
                match parse_i64_opt(v) {
                    Some(n) if n > 0 => id = Some(n as u64),
                    _ => return Frame::error("ERR client-id should be greater than 0"),
                }
            } else if is_kw(&argv[i], "ADDR") {
                addr = Some(String::from_utf8_lossy(v).into_owned());
            } else if is_kw(&argv[i], "LADDR") {
                laddr = Some(String::from_utf8_lossy(v).into_owned());
            } else if is_kw(&argv[i], "USER") {
                user = Some(String::from_utf8_lossy(v).into_owned());
            } else if is_kw(&argv[i], "TYPE") {
                kind = Some(lower(v));
            } else if is_kw(&argv[i], "MAXAGE") {
                match parse_i64_opt(v) {
                    Some(n) if n >= 0 => maxage = Some(n as u64),
                    _ => return CmdError::NotInteger.to_frame(),
                }
            } else if is_kw(&argv[i], "SKIPME") {
                if is_kw(v, "yes") {
                    skipme = true;
                } else if is_kw(v, "no") {
                    skipme = false;
                } else {
                    return CmdError::Syntax.to_frame();
                }
            } else {
                return CmdError::Syntax.to_frame();
            }
            i += 2;
        }
        if i != argv.len() {
            return CmdError::Syntax.to_frame();
        }
        let mut killed = 0;
        for c in self.server.clients.list() {
            if id.is_some_and(|x| x != c.id)
                || addr.as_ref().is_some_and(|a| *a != c.addr.to_string())
                || laddr.as_ref().is_some_and(|a| *a != c.laddr.to_string())
                || maxage.is_some_and(|m| c.created.elapsed().as_secs() < m)
                || (skipme && c.id == self.handle.id)
            {
                continue;
            }
            let info = c.info();
            if user.as_ref().is_some_and(|u| *u != info.user) {
                continue;
            }
            if let Some(k) = &kind {
                let is_pubsub = info.subscriptions + info.psubscriptions > 0;
                let keep = match k.as_str() {
                    "pubsub" => is_pubsub,
                    "normal" => !is_pubsub,
                    _ => false,
                };
                if !keep {
                    continue;
                }
            }
            c.kill.notify_one();
            self.server.clients.unregister(c.id);
            if c.id == self.handle.id {
                self.closing = true;
            }
            killed += 1;
        }
        Frame::Integer(killed)
    }

    fn config(&mut self, name: &str, argv: &[Bytes]) -> Frame {
        match name {
            "config|get" => {
                let all = config_values(&self.server);
                let mut pairs = Vec::new();
                for (k, v) in &all {
                    if argv[2..].iter().any(|p| glob_match(p, k.as_bytes(), true)) {
                        pairs.push((Frame::bulk(*k), Frame::bulk(v.clone())));
                    }
                }
                Frame::Map(pairs)
            }
            "config|set" => Frame::error("ERR CONFIG SET must run on its own"),
            "config|resetstat" => {
                self.server.stats.reset();
                Frame::ok()
            }
            "config|rewrite" => {
                Frame::error("ERR CONFIG REWRITE is not supported: Redoubt's configuration file is TOML; edit it and restart")
            }
            _ => help(&[
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "HELP",
                "    Print this help.",
            ]),
        }
    }

    async fn config_set(&mut self, pairs: &[Bytes]) -> Frame {
        if !pairs.len().is_multiple_of(2) {
            return Frame::error("ERR wrong number of arguments for 'config|set' command");
        }
        let fail = |name: &str, why: &str| {
            Frame::Error(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
            ))
        };
        // Check everything first: CONFIG SET applies all or nothing.
        let mut changes: Vec<(String, String)> = Vec::new();
        for pair in pairs.chunks(2) {
            let name = lower(&pair[0]);
            let value = String::from_utf8_lossy(&pair[1]).into_owned();
            if changes.iter().any(|(n, _)| *n == name) {
                return fail(&name, "duplicate parameter");
            }
            let ok = match name.as_str() {
                "timeout" | "maxclients" | "proto-max-bulk-len" | "client-query-buffer-limit" => {
                    match crate::config::parse_memory(&value) {
                        Some(n) if name == "maxclients" && n == 0 => false,
                        Some(n) if name == "proto-max-bulk-len" && n < 1024 * 1024 => false,
                        Some(_) => true,
                        None => return fail(&name, "argument couldn't be parsed into an integer"),
                    }
                }
                "protected-mode" => crate::config::parse_bool(&name, &value).is_ok(),
                "client-output-buffer-limit" => {
                    if let Err(why) = self.server.output_limits().updated(&value) {
                        return fail(&name, &why);
                    }
                    true
                }
                "loglevel" => LogLevel::parse(&value).is_some(),
                "requirepass" | "masterauth" => true,
                "save" | "appendonly" | "appendfsync" => true,
                n if crate::config::DIRECTIVES.contains(&n) || n == "databases" => {
                    return fail(&name, "can't set immutable config");
                }
                _ => {
                    return Frame::Error(format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                    ))
                }
            };
            if !ok {
                return fail(&name, "argument must be a valid value");
            }
            changes.push((name, value));
        }
        // The replicated part first: if it fails, nothing changed.
        if let Some(i) = pairs.chunks(2).position(|p| lower(&p[0]) == "requirepass") {
            let reply = self.set_requirepass(&pairs[i * 2 + 1]).await;
            if reply.is_error() {
                return reply;
            }
        }
        let rt = &self.server.runtime;
        for (name, value) in changes {
            let n = crate::config::parse_memory(&value).unwrap_or(0);
            match name.as_str() {
                "timeout" => rt.timeout.store(n, Ordering::Relaxed),
                "maxclients" => rt.maxclients.store(n, Ordering::Relaxed),
                "proto-max-bulk-len" => rt.proto_max_bulk_len.store(n, Ordering::Relaxed),
                "client-query-buffer-limit" => {
                    rt.client_query_buffer_limit.store(n, Ordering::Relaxed)
                }
                "client-output-buffer-limit" => {
                    if let Ok(limits) = self.server.output_limits().updated(&value) {
                        rt.client_output_buffer_limit
                            .store(std::sync::Arc::new(limits));
                    }
                }
                "protected-mode" => rt.protected_mode.store(
                    crate::config::parse_bool(&name, &value).unwrap_or(true),
                    Ordering::Relaxed,
                ),
                "loglevel" => {
                    if let Some(level) = LogLevel::parse(&value) {
                        *rt.loglevel.lock().unwrap_or_else(|p| p.into_inner()) = level;
                        (self.server.set_log_filter)(&level.filter());
                    }
                }
                "masterauth" => self
                    .server
                    .transport
                    .set_masterauth(crate::config::Secret::new(value)),
                // Durability is not optional in Redoubt: accepted for client compatibility.
                _ => {}
            }
        }
        Frame::ok()
    }
}

/// CONFIG GET's view: every directive with its effective value (secrets redacted).
pub fn config_values(server: &NodeState) -> Vec<(&'static str, String)> {
    let c = &server.config;
    let rt = &server.runtime;
    vec![
        ("bind", c.bind.join(" ")),
        ("port", c.port.to_string()),
        (
            "protected-mode",
            yes_no(rt.protected_mode.load(Ordering::Relaxed)),
        ),
        ("dir", c.dir.display().to_string()),
        ("logfile", c.logfile.clone()),
        (
            "loglevel",
            rt.loglevel
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .name()
                .to_string(),
        ),
        (
            "maxclients",
            rt.maxclients.load(Ordering::Relaxed).to_string(),
        ),
        ("timeout", rt.timeout.load(Ordering::Relaxed).to_string()),
        (
            "proto-max-bulk-len",
            rt.proto_max_bulk_len.load(Ordering::Relaxed).to_string(),
        ),
        (
            "client-query-buffer-limit",
            rt.client_query_buffer_limit
                .load(Ordering::Relaxed)
                .to_string(),
        ),
        (
            "client-output-buffer-limit",
            server.output_limits().render(),
        ),
        ("min-free-disk", c.min_free_disk.to_string()),
        (
            "enable-debug-command",
            c.enable_debug_command.name().to_string(),
        ),
        ("databases", DATABASES.to_string()),
        (
            "requirepass",
            // The cluster's default user, not this node's start-up value; never the secret.
            if server.default_user_has_no_password() {
                String::new()
            } else {
                "<redacted>".into()
            },
        ),
        ("masteruser", c.masteruser.clone()),
        (
            "masterauth",
            if server.transport.masterauth().is_empty() {
                String::new()
            } else {
                "<redacted>".into()
            },
        ),
        (
            "aclfile",
            c.aclfile
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        ("acllog-max-len", c.acllog_max_len.to_string()),
        ("auth-max-failures", c.auth_max_failures.to_string()),
        ("auth-failure-delay", c.auth_failure_delay_ms.to_string()),
        ("save", String::new()),
        ("appendonly", "yes".into()),
        ("appendfsync", "always".into()),
        ("node-id", c.node_id.to_string()),
        ("raft-addr", c.raft_addr.clone()),
        ("raft-advertise-addr", c.raft_advertise_addr.clone()),
        (
            "bind-source-addr",
            c.bind_source_addr
                .map(|a| a.to_string())
                .unwrap_or_default(),
        ),
        ("raft-snapshot-logs", c.raft_snapshot_logs.to_string()),
        ("raft-max-entry-size", c.raft_max_entry_size.to_string()),
        (
            "read-consistency",
            match c.read_consistency {
                ReadConsistency::Linearizable => "linearizable".into(),
                ReadConsistency::Stale => "stale".into(),
            },
        ),
    ]
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// A copy of `argv` with its secrets replaced, for MONITOR: passwords of ACL SETUSER and the
/// values of CONFIG SET requirepass/masterauth. None: nothing to hide.
fn redact_secrets(name: &str, argv: &[Bytes]) -> Option<Vec<Bytes>> {
    let hidden = Bytes::from_static(b"(redacted)");
    match name {
        // As Redis shows them: each credential replaced, the rest kept.
        "auth" => Some(
            argv.iter()
                .enumerate()
                .map(|(i, a)| if i == 0 { a.clone() } else { hidden.clone() })
                .collect(),
        ),
        "hello" => {
            let mut out = argv.to_vec();
            let mut i = 2;
            while i < out.len() {
                if is_kw(&out[i], "AUTH") {
                    for j in i + 1..(i + 3).min(out.len()) {
                        out[j] = hidden.clone();
                    }
                    i += 3;
                } else {
                    i += 1;
                }
            }
            Some(out)
        }
        "acl|setuser" => Some(
            argv.iter()
                .enumerate()
                .map(|(i, a)| {
                    if i >= 3 && (a.starts_with(b">") || a.starts_with(b"<") || a.starts_with(b"("))
                    {
                        hidden.clone()
                    } else {
                        a.clone()
                    }
                })
                .collect(),
        ),
        "config|set" => Some(
            argv.iter()
                .enumerate()
                .map(|(i, a)| {
                    let secret_value = i >= 3
                        && i % 2 == 1
                        && matches!(lower(&argv[i - 1]).as_str(), "requirepass" | "masterauth");
                    if secret_value {
                        hidden.clone()
                    } else {
                        a.clone()
                    }
                })
                .collect(),
        ),
        _ => None,
    }
}

fn help(lines: &[&str]) -> Frame {
    Frame::Array(
        lines
            .iter()
            .map(|l| Frame::Simple((*l).to_string()))
            .collect(),
    )
}
