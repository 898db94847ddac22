//! Group commit on the leader: client requests that arrive while an entry is being written
//! are proposed together in the next entry, and each reply goes back to its waiter once the
//! entry is applied. A request this node cannot propose (not the leader) goes to the
//! forwarder (`forward.rs`).

#![allow(clippy::result_large_err)]

use super::*;

/// A client request waiting to be proposed, and where its reply goes.
pub(super) struct Proposal {
    pub(super) request: ExecRequest,
    pub(super) reply_to: oneshot::Sender<Result<Reply, RaftCallError>>,
    /// When it stops waiting for a leader (the client then hears TRYAGAIN).
    pub(super) deadline: tokio::time::Instant,
    /// This node, as leader, refused it before appending it (it was handing leadership over,
    /// or its lease had lapsed): it goes to the next leader instead.
    pub(super) refused_here: bool,
    /// The client connection it came from, whose requests keep their order when forwarded
    /// (None: a caller that waits for each reply).
    pub(super) origin: Option<u64>,
}

impl Proposal {
    pub(super) fn new(
        request: ExecRequest,
        reply_to: oneshot::Sender<Result<Reply, RaftCallError>>,
    ) -> Self {
        Proposal {
            request,
            reply_to,
            deadline: tokio::time::Instant::now() + LEADER_WAIT,
            refused_here: false,
            origin: None,
        }
    }
}

/// Most requests (and bytes) proposed in one entry.
pub(super) const MAX_BATCH_REQUESTS: usize = 4096;
pub(super) const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Group commit: every request that arrives while an entry is being written is proposed in the
/// next entry, so N concurrent clients share one log append and one fsync. The next entry is
/// proposed as soon as the previous one is durable in the log (not when it is applied), so
/// applying and replying to one batch overlaps with writing the next.
pub(super) async fn run_proposer(
    raft: Raft,
    log: LogStore,
    mut rx: mpsc::UnboundedReceiver<Proposal>,
    forwards: mpsc::UnboundedSender<Proposal>,
) {
    let mut appended = log.appended_index();
    let mut flushed = log.flushed_index();
    while let Some(first) = rx.recv().await {
        let mut bytes = first.request.size();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_REQUESTS && bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(p) => {
                    bytes += p.request.size();
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        let mut requests = Vec::with_capacity(batch.len());
        let mut waiters = Vec::with_capacity(batch.len());
        for p in batch {
            // Kept (cheap: argument bytes are shared) in case the entry is refused unappended.
            requests.push(p.request.clone());
            waiters.push(p);
        }
        let entry = match (requests.len(), requests.pop()) {
            (1, Some(one)) => Request::Exec(one),
            (_, Some(last)) => {
                requests.push(last);
                Request::Batch(requests)
            }
            (_, None) => continue,
        };
        let appended_before = *appended.borrow_and_update();
        tracing::trace!(requests = waiters.len(), "proposing batch");
        let (responder, reply) = openraft::impls::ProgressResponder::complete_only();
        match raft.client_write_ff(entry, Some(responder)).await {
            Ok(()) => {}
            Err(e) => {
                let err = RaftCallError::from_core(&e);
                for w in waiters {
                    let _ = w.reply_to.send(Err(err.clone()));
                }
                continue;
            }
        };
        let mut delivery = tokio::spawn(deliver_replies(reply, waiters, forwards.clone()));
        // Wait until this entry is durable (or the write finished, e.g. failed) before the next.
        let durable = async {
            let Ok(index) = appended
                .wait_for(|i| *i > appended_before)
                .await
                .map(|i| *i)
            else {
                return;
            };
            let _ = flushed.wait_for(|f| *f >= index).await;
        };
        tokio::select! {
            _ = durable => {}
            _ = &mut delivery => {}
        }
    }
}

/// Hands each waiting client its reply once the state machine has applied the entry.
pub(super) async fn deliver_replies(
    reply: oneshot::Receiver<openraft::raft::ClientWriteResult<TypeConfig>>,
    waiters: Vec<Proposal>,
    forwards: mpsc::UnboundedSender<Proposal>,
) {
    match reply.await {
        Ok(Ok(resp)) => match resp.data {
            Response::One(reply) => {
                for w in waiters {
                    let _ = w.reply_to.send(Ok(reply.clone()));
                }
            }
            Response::Batch(replies) => {
                for (w, reply) in waiters.into_iter().zip(replies) {
                    let _ = w.reply_to.send(Ok(reply));
                }
            }
        },
        // Refused before it was appended: nothing was written, so the requests go to the next
        // leader (the forwarder waits for it, within each request's deadline).
        Ok(Err(ClientWriteError::ForwardToLeader(f))) => {
            tracing::debug!(reason = %f, "the leader refused an entry unappended: retrying");
            for mut w in waiters {
                w.refused_here = true;
                if let Err(mpsc::error::SendError(w)) = forwards.send(w) {
                    let _ = w.reply_to.send(Err(RaftCallError::NoLeader));
                }
            }
        }
        Ok(Err(e)) => {
            let err = RaftCallError::from_write(e);
            for w in waiters {
                let _ = w.reply_to.send(Err(err.clone()));
            }
        }
        Err(_) => {
            for w in waiters {
                let _ = w
                    .reply_to
                    .send(Err(RaftCallError::Other("the raft node stopped".into())));
            }
        }
    }
}
