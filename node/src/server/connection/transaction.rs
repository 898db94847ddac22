//! MULTI / EXEC on the connection: EXEC turns the queue into one Raft entry for the data
//! commands and runs the server commands around it (MULTI, DISCARD, WATCH themselves only
//! change the session: see `session::commands`).

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::dispatch::{run_on_session, Outcome};
use super::Connection;
use crate::commands::{CmdError, CommandSpec, Exec, ServerCmd};

impl Connection {
    /// EXEC: the queued data commands (and SELECT) as one Raft entry, checked against the
    /// watches; the queued server commands run here after it, re-checked against the ACL
    /// rules in force now, each reply in its place.
    pub(super) async fn exec(&mut self) -> Frame {
        let Some(queue) = self.s.multi.take() else {
            return Frame::error("ERR EXEC without MULTI");
        };
        self.s.handle.update(|i| i.multi = None);
        let watches = std::mem::take(&mut self.s.watches);
        if std::mem::take(&mut self.s.multi_dirty) {
            return CmdError::ExecAbort.to_frame();
        }
        // Data commands (and SELECT, which moves them between dbs) form one Raft entry;
        // connection-level commands run here, after it, and take their places in the reply.
        let mut entry_cmds = Vec::new();
        let mut positions = Vec::new();
        for (i, (argv, spec)) in queue.iter().enumerate() {
            if matches!(
                spec.exec,
                Exec::Read(_) | Exec::Write(_) | Exec::Server(ServerCmd::Select)
            ) {
                let mut argv = argv.clone();
                argv[0] = Bytes::from_static(spec.name.as_bytes());
                entry_cmds.push(argv);
                positions.push(i);
            }
        }
        if let Err(e) = self.s.node.wait_seeded().await {
            return e.to_frame();
        }
        // Server commands are re-checked here, not at apply: against the rules as of a read
        // barrier, so that a revocation acknowledged anywhere before EXEC refuses them.
        if positions.len() < queue.len() {
            if let Err(e) = self.s.acl_read_barrier().await {
                return e.to_frame();
            }
        }
        let mut results: Vec<Option<Frame>> = vec![None; queue.len()];
        let mut refused: Vec<Option<crate::acl::Denied>> = vec![None; queue.len()];
        if !entry_cmds.is_empty() || !watches.is_empty() {
            let req = self.s.exec_request(entry_cmds, true, watches);
            match self.s.node.raft.execute(req).await {
                Ok(reply) => match reply.frame {
                    Frame::Array(frames) => {
                        for (i, denied) in reply.refused {
                            if let Some(&pos) = positions.get(i as usize) {
                                refused[pos] = Some(denied);
                            }
                        }
                        for (pos, f) in positions.into_iter().zip(frames) {
                            results[pos] = Some(f);
                        }
                        self.s.db = reply.db;
                        let db = self.s.db;
                        self.s.handle.update(|i| i.db = db);
                    }
                    Frame::NullArray => return Frame::NullArray,
                    other => return other,
                },
                Err(e) => return e.to_frame(),
            }
        }
        self.s.running_exec = true;
        let mut frames = Vec::with_capacity(queue.len());
        for (((argv, spec), result), denied) in queue.iter().zip(results).zip(refused) {
            if let Some(denied) = denied {
                self.s.log_refused_at_exec(spec, argv, denied);
            }
            let frame = match result {
                Some(f) => f,
                None => match self.s.acl_recheck_queued(spec, argv) {
                    Ok(()) => self.run_queued(spec, argv).await,
                    Err(refused) => refused.to_frame(),
                },
            };
            frames.push(frame);
        }
        self.s.running_exec = false;
        Frame::Array(frames)
    }

    /// A queued server command, run at EXEC.
    async fn run_queued(&mut self, spec: &'static CommandSpec, argv: &[Bytes]) -> Frame {
        let Exec::Server(cmd) = spec.exec else {
            return Frame::error("ERR command cannot run inside MULTI");
        };
        match run_on_session(&mut self.s, cmd, argv).await {
            Outcome::Reply(frame) => frame,
            Outcome::Replies(mut frames) => frames.pop().unwrap_or(Frame::Null),
        }
    }
}
