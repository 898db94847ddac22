//! From a request to its reply: the command is resolved in the table (renames, subcommands,
//! arity), admitted (authentication, ACL, subscribed context), fed to MONITOR, queued inside
//! MULTI, and then carried out where it belongs: writes (and reads pipelined behind writes)
//! go to the Raft node, reads run here after a read barrier, connection commands on the
//! session, server commands in `admin/`.

use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use redoubt_proto::resp::{Frame, Protocol};

use super::monitor::{monitor_line, redact_secrets};
use super::{Connection, PendingWrite, MAX_IN_FLIGHT};
use crate::clock::now_ms;
use crate::commands::{flag, CmdError, CommandSpec, CommandTable, Ctx, Exec, Rng, ServerCmd};
use crate::session::Session;

/// What a command's execution produced.
pub(super) enum Outcome {
    /// One reply.
    Reply(Frame),
    /// One reply per name ((P)(UN)SUBSCRIBE).
    Replies(Vec<Frame>),
}

impl Connection {
    /// Runs one request, appending its reply (or queueing its write) in request order.
    pub(super) async fn handle_command(&mut self, argv: Vec<Bytes>, out: &mut BytesMut) {
        self.s
            .node
            .stats
            .commands_processed
            .fetch_add(1, Ordering::Relaxed);
        let spec = match self.resolve(&argv) {
            Ok(spec) => spec,
            Err((spec, frame)) => {
                self.resolve_pending(out).await;
                match spec {
                    Some(spec) => self.reject(spec, frame, out),
                    None => {
                        if self.s.multi.is_some() {
                            self.s.multi_dirty = true;
                        }
                        self.reply(frame, out);
                    }
                }
                return;
            }
        };
        self.s.handle.update(|i| i.last_cmd = spec.name);
        if let Err(e) = self.admit(spec, &argv) {
            self.resolve_pending(out).await;
            self.reject(spec, e.to_frame(), out);
            return;
        }
        self.feed_monitor(spec, &argv);
        if self.s.multi.is_some() && !runs_inside_multi(spec) {
            self.resolve_pending(out).await;
            let frame = self.queue(spec, argv);
            self.reply(frame, out);
            return;
        }
        if spec.is_write() && !*self.s.node.seeded.borrow() {
            self.resolve_pending(out).await;
            if let Err(e) = self.s.node.wait_seeded().await {
                self.reply(e.to_frame(), out);
                return;
            }
        }
        self.carry_out(spec, argv, out).await;
    }

    /// The spec a command line names (subcommand resolved), with its arity checked. On
    /// failure, the error and the spec it concerns (None for an unknown command).
    #[allow(clippy::type_complexity)]
    fn resolve(
        &self,
        argv: &[Bytes],
    ) -> Result<&'static CommandSpec, (Option<&'static CommandSpec>, Frame)> {
        let Some(spec) = self.s.node.table.lookup(&argv[0]) else {
            return Err((None, unknown_command_error(argv)));
        };
        let spec = match CommandTable::resolve(spec, argv) {
            Ok(spec) => spec,
            Err(e) => return Err((Some(spec), e.to_frame())),
        };
        if !spec.arity_ok(argv.len()) {
            return Err((Some(spec), wrong_arity(spec)));
        }
        Ok(spec)
    }

    /// Whether this client may run `spec` now: authenticated (unless the command needs
    /// none), allowed by its ACL user, and allowed in RESP2 subscribed mode.
    fn admit(&self, spec: &CommandSpec, argv: &[Bytes]) -> Result<(), CmdError> {
        if !self.s.authenticated && spec.flags & flag::NO_AUTH == 0 {
            return Err(CmdError::NoAuth);
        }
        self.s.acl_check(spec, argv)?;
        if self.s.is_subscribed()
            && self.s.protocol == Protocol::Resp2
            && !allowed_when_subscribed(spec)
        {
            return Err(CmdError::Other(format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                spec.name
            )));
        }
        Ok(())
    }

    /// Sends the command line to MONITOR clients (secrets redacted). As Redis: admin
    /// commands (ACL, CONFIG, DEBUG...) never reach MONITOR.
    fn feed_monitor(&self, spec: &CommandSpec, argv: &[Bytes]) {
        if self.s.node.monitors.load(Ordering::Relaxed) == 0
            || spec.flags & (flag::SKIP_MONITOR | flag::ADMIN) != 0
        {
            return;
        }
        let line = match redact_secrets(spec.name, argv) {
            Some(redacted) => monitor_line(self.s.db, self.s.handle.addr, &redacted),
            None => monitor_line(self.s.db, self.s.handle.addr, argv),
        };
        let _ = self.s.node.monitor.send(line);
    }

    /// Inside MULTI: queues the command for EXEC (QUEUED), or refuses it.
    fn queue(&mut self, spec: &'static CommandSpec, argv: Vec<Bytes>) -> Frame {
        if spec.flags & flag::NO_MULTI != 0 || matches!(spec.exec, Exec::Server(ServerCmd::Monitor))
        {
            self.s.multi_dirty = true;
            return CmdError::NotInMulti.to_frame();
        }
        if let Some(q) = self.s.multi.as_mut() {
            q.push((argv, spec));
            let n = q.len();
            self.s.handle.update(|i| i.multi = Some(n));
        }
        Frame::Simple("QUEUED".into())
    }

    /// Carries out an admitted command where it belongs.
    async fn carry_out(
        &mut self,
        spec: &'static CommandSpec,
        mut argv: Vec<Bytes>,
        out: &mut BytesMut,
    ) {
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
                self.record(spec, started, &frame);
                self.reply(frame, out);
            }
            Exec::Server(cmd) => {
                self.resolve_pending(out).await;
                let started = Instant::now();
                match self.run_server(cmd, &argv).await {
                    Outcome::Reply(frame) => {
                        self.record(spec, started, &frame);
                        self.reply(frame, out);
                    }
                    Outcome::Replies(frames) => {
                        for frame in frames {
                            self.reply(frame, out);
                        }
                    }
                }
            }
            // `resolve` never returns a bare container.
            Exec::Container => {
                self.resolve_pending(out).await;
                self.reply(wrong_arity(spec), out);
            }
        }
    }

    fn record(&self, spec: &CommandSpec, started: Instant, frame: &Frame) {
        self.s.node.stats.record_command(
            spec.name,
            started.elapsed().as_micros() as u64,
            frame.is_error(),
        );
    }

    /// A refused command: counted as rejected; inside MULTI it makes EXEC abort.
    pub(super) fn reject(&mut self, spec: &CommandSpec, frame: Frame, out: &mut BytesMut) {
        if self.s.multi.is_some() {
            self.s.multi_dirty = true;
        }
        self.s.node.stats.record_rejected(spec.name);
        self.reply(frame, out);
    }

    fn submit_write(&mut self, spec: &'static CommandSpec, argv: Vec<Bytes>) {
        let req = self.s.exec_request(vec![argv], false, Vec::new());
        let rx = self.s.node.raft.propose_from(Some(self.s.handle.id), req);
        self.pending.push_back(PendingWrite {
            rx,
            name: spec.name,
            started: Instant::now(),
        });
    }

    /// A read on this node, after a read barrier, as of the rules in force after it.
    async fn run_read(
        &mut self,
        spec: &CommandSpec,
        handler: crate::commands::Handler,
        argv: &[Bytes],
    ) -> Frame {
        let acl_generation = |c: &Self| c.s.node.raft.acl_generation();
        let acl_before = acl_generation(self);
        if let Err(e) = self.s.read_barrier().await {
            return e.to_frame();
        }
        // The barrier may have applied an ACL change made elsewhere before this read: the read
        // answers to the rules as of the barrier, like a write answers to those of its entry.
        if acl_generation(self) != acl_before {
            if let Err(e) = self.s.acl_check(spec, argv) {
                return e.to_frame();
            }
        }
        let mut ks = self.s.node.raft.read_view(self.s.db, now_ms());
        let mut rng = Rng::new(rand::random());
        let mut ctx = Ctx {
            ks: &mut ks,
            rng: &mut rng,
            protocol: self.s.protocol,
        };
        handler(&mut ctx, argv).unwrap_or_else(|e| e.to_frame())
    }

    /// A connection or server command: EXEC here, the others on the session or in `admin/`.
    pub(super) async fn run_server(&mut self, cmd: ServerCmd, argv: &[Bytes]) -> Outcome {
        if cmd == ServerCmd::Exec {
            return Outcome::Reply(self.exec().await);
        }
        run_on_session(&mut self.s, cmd, argv).await
    }
}

/// Every server command but a top-level EXEC. The compiler checks that each [`ServerCmd`] is
/// handled: here (the session's own) or by `admin::run`. While EXEC runs the queued
/// commands, those that cannot run in a transaction are refused.
pub(super) async fn run_on_session(s: &mut Session, cmd: ServerCmd, argv: &[Bytes]) -> Outcome {
    let frame = match cmd {
        ServerCmd::Ping => s.ping(argv),
        ServerCmd::Echo => Frame::Bulk(argv[1].clone()),
        ServerCmd::Select => s.select(&argv[1]),
        ServerCmd::Quit => s.quit(),
        ServerCmd::Reset => s.reset(),
        ServerCmd::Hello => s.hello(argv).await,
        ServerCmd::Auth => s.auth(argv).await,
        ServerCmd::Multi => s.multi(),
        ServerCmd::Discard => s.discard(),
        ServerCmd::Unwatch => s.unwatch(),
        ServerCmd::Monitor => s.monitor(),
        ServerCmd::Exec => not_in_multi("exec"),
        ServerCmd::Watch if s.running_exec => not_in_multi("watch"),
        ServerCmd::Watch => s.watch(&argv[1..]).await,
        ServerCmd::Debug if s.running_exec => not_in_multi("debug"),
        ServerCmd::Subscribe
        | ServerCmd::Psubscribe
        | ServerCmd::Unsubscribe
        | ServerCmd::Punsubscribe
            if s.running_exec =>
        {
            not_in_multi(match cmd {
                ServerCmd::Subscribe => "subscribe",
                ServerCmd::Psubscribe => "psubscribe",
                ServerCmd::Unsubscribe => "unsubscribe",
                _ => "punsubscribe",
            })
        }
        ServerCmd::Subscribe | ServerCmd::Psubscribe => {
            return Outcome::Replies(s.subscribe(cmd == ServerCmd::Psubscribe, &argv[1..]))
        }
        ServerCmd::Unsubscribe | ServerCmd::Punsubscribe => {
            return Outcome::Replies(s.unsubscribe(cmd == ServerCmd::Punsubscribe, &argv[1..]))
        }
        admin => match crate::admin::run(s, admin, argv).await {
            Some(frame) => frame,
            None => Frame::Error(format!("ERR command {admin:?} has no implementation")),
        },
    };
    Outcome::Reply(frame)
}

/// Commands that run at once inside MULTI instead of being queued.
fn runs_inside_multi(spec: &CommandSpec) -> bool {
    matches!(
        spec.exec,
        Exec::Server(
            ServerCmd::Exec
                | ServerCmd::Discard
                | ServerCmd::Multi
                | ServerCmd::Watch
                | ServerCmd::Quit
                | ServerCmd::Reset
        )
    )
}

/// Commands a RESP2 client may send while subscribed.
fn allowed_when_subscribed(spec: &CommandSpec) -> bool {
    matches!(
        spec.exec,
        Exec::Server(
            ServerCmd::Subscribe
                | ServerCmd::Unsubscribe
                | ServerCmd::Psubscribe
                | ServerCmd::Punsubscribe
                | ServerCmd::Ping
                | ServerCmd::Quit
                | ServerCmd::Reset
        )
    )
}

fn not_in_multi(name: &str) -> Frame {
    Frame::Error(format!("ERR '{name}' is not allowed inside MULTI"))
}

pub(super) fn wrong_arity(spec: &CommandSpec) -> Frame {
    CmdError::WrongArity(spec.name.to_string()).to_frame()
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
