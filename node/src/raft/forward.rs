//! Forwarding a follower's writes to the leader over the peer channel, in batches, keeping
//! each client's requests in order; abandoning a call to a former leader once another leads
//! (the client hears the outcome is unknown) and retrying what certainly was not delivered.

#![allow(clippy::result_large_err)]

use super::*;

/// Sends requests made on a follower to the leader: many per call and several calls at once,
/// but the requests of one client in the order it sent them (a client's next batch leaves
/// only once its previous one is answered; batches of different clients do not wait for
/// each other, so one slow call holds up only its own clients).
pub(super) async fn run_forwarder(
    raft: Raft,
    transport: Arc<network::PeerTransport>,
    proposals: mpsc::UnboundedSender<Proposal>,
    mut rx: mpsc::UnboundedReceiver<Proposal>,
) {
    let me = raft_id(&raft);
    let mut pending: VecDeque<Proposal> = VecDeque::new();
    // Clients with a batch in flight, and which clients each running call carries.
    let mut busy: HashSet<u64> = HashSet::new();
    let mut running = tokio::task::JoinSet::new();
    let mut carried: HashMap<tokio::task::Id, Vec<u64>> = HashMap::new();
    let mut closed = false;
    loop {
        while running.len() < MAX_FORWARDS_IN_FLIGHT {
            let batch = take_batch(&mut pending, &busy);
            if batch.is_empty() {
                break;
            }
            let origins: Vec<u64> = batch.iter().filter_map(|p| p.origin).collect();
            busy.extend(origins.iter().copied());
            let handle = running.spawn(forward_batch(
                raft.clone(),
                transport.clone(),
                proposals.clone(),
                me,
                batch,
            ));
            carried.insert(handle.id(), origins);
        }
        if closed && running.is_empty() {
            return;
        }
        tokio::select! {
            p = rx.recv(), if !closed => match p {
                Some(p) => {
                    pending.push_back(p);
                    while let Ok(p) = rx.try_recv() {
                        pending.push_back(p);
                    }
                }
                None => closed = true,
            },
            Some(done) = running.join_next_with_id() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => e.id(),
                };
                for origin in carried.remove(&id).unwrap_or_default() {
                    busy.remove(&origin);
                }
            }
        }
    }
}

/// Forward calls in flight at once from one node.
pub(super) const MAX_FORWARDS_IN_FLIGHT: usize = 32;

/// The next batch to forward: pending requests in arrival order, skipping every request of a
/// client that has a batch in flight or an earlier request skipped (its order holds).
pub(super) fn take_batch(pending: &mut VecDeque<Proposal>, busy: &HashSet<u64>) -> Vec<Proposal> {
    let mut batch = Vec::new();
    let mut held: HashSet<u64> = HashSet::new();
    let mut rest = VecDeque::new();
    let mut bytes = 0;
    while let Some(p) = pending.pop_front() {
        let free = p
            .origin
            .is_none_or(|o| !busy.contains(&o) && !held.contains(&o));
        // Bounded in requests and bytes (one large request still goes, alone).
        let room = batch.is_empty()
            || (batch.len() < MAX_BATCH_REQUESTS && bytes + p.request.size() <= MAX_BATCH_BYTES);
        if free && room {
            bytes += p.request.size();
            batch.push(p);
        } else {
            if let Some(o) = p.origin {
                held.insert(o);
            }
            rest.push_back(p);
        }
    }
    *pending = rest;
    batch
}

/// Sends one batch to the leader (waiting through an election, within the requests'
/// deadline), or hands it to this node's proposer if this node leads by then.
pub(super) async fn forward_batch(
    raft: Raft,
    transport: Arc<network::PeerTransport>,
    proposals: mpsc::UnboundedSender<Proposal>,
    me: u64,
    batch: Vec<Proposal>,
) {
    let deadline = batch
        .iter()
        .map(|p| p.deadline)
        .min()
        .unwrap_or_else(tokio::time::Instant::now);
    // Refused here as leader: they wait for another node to lead.
    let mut avoid_self = batch.iter().any(|p| p.refused_here);
    let requests: Vec<ExecRequest> = batch.iter().map(|p| p.request.clone()).collect();
    let outcome = loop {
        if avoid_self {
            // Refused by this node as leader: a new leader's lease starts with the first
            // round a majority acknowledges, and a leader handing over takes no writes.
            // Try again shortly, or with the next leader as soon as there is one.
            let soon = deadline.min(tokio::time::Instant::now() + REFUSED_RETRY);
            wait_for_other_leader(&raft, me, soon).await;
            avoid_self = false;
            if tokio::time::Instant::now() >= deadline {
                break Forwarded::Done(Err(RaftCallError::NoLeader));
            }
        }
        // Waiting out an election may make this node the leader: then propose here.
        let leader = await_leader(&raft).await;
        if leader.as_ref().map(|(id, _)| *id) == Some(me) {
            break Forwarded::Local;
        }
        match forward_to_leader(&raft, &transport, &requests).await {
            // The leader never got the requests (gone, or no longer leading): wait for
            // the next one and send them again, within the bound.
            Err(ForwardError::NotDelivered(old)) if tokio::time::Instant::now() < deadline => {
                wait_for_other_leader(&raft, old, retry_at(deadline)).await;
            }
            Err(ForwardError::NotDelivered(_)) => {
                break Forwarded::Done(Err(RaftCallError::NoLeader))
            }
            Err(ForwardError::Failed(e)) => break Forwarded::Done(Err(e)),
            Ok(replies) => break Forwarded::Done(Ok(replies)),
        }
    };
    match outcome {
        Forwarded::Local => {
            for mut p in batch {
                p.refused_here = false;
                if let Err(mpsc::error::SendError(p)) = proposals.send(p) {
                    let _ = p
                        .reply_to
                        .send(Err(RaftCallError::Other("shutting down".into())));
                }
            }
        }
        Forwarded::Done(Ok(replies)) => {
            for (w, r) in batch.into_iter().zip(replies) {
                let _ = w.reply_to.send(r.map_err(RaftCallError::Remote));
            }
        }
        Forwarded::Done(Err(e)) => {
            for w in batch {
                let _ = w.reply_to.send(Err(e.clone()));
            }
        }
    }
}

pub(super) enum Forwarded {
    /// This node became the leader: propose here.
    Local,
    Done(Result<Vec<Result<Reply, String>>, RaftCallError>),
}

/// Why a Forward call did not return replies.
pub(super) enum ForwardError {
    /// The requests certainly did not reach a leader (connection refused, node not leading):
    /// safe to send again. Carries the leader that was tried.
    NotDelivered(u64),
    /// Anything else; a write's outcome may be unknown.
    Failed(RaftCallError),
}

/// Waits until a leader other than `old` is known, or the deadline.
pub(super) async fn wait_for_other_leader(raft: &Raft, old: u64, deadline: tokio::time::Instant) {
    let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
    let _ = raft
        .wait(Some(remaining))
        .metrics(
            |m| known_leader(m).is_some_and(|l| l != old),
            "a new leader",
        )
        .await;
}

/// When to try a leader that did not answer again if no other one is known by then: soon,
/// since it may be back already (restarted in the same term: still the leader).
pub(super) fn retry_at(deadline: tokio::time::Instant) -> tokio::time::Instant {
    deadline.min(tokio::time::Instant::now() + SAME_LEADER_RETRY)
}

pub(super) const SAME_LEADER_RETRY: Duration = Duration::from_millis(100);
/// How long a forward call to a former leader may still run once another leader is known.
pub(super) const ABANDON_GRACE: Duration = Duration::from_millis(100);
/// How soon a request this node refused as leader is proposed again.
pub(super) const REFUSED_RETRY: Duration = Duration::from_millis(20);

/// Resolves once a leader other than `old` is known.
pub(super) async fn leader_other_than(raft: &Raft, old: u64) {
    let mut rx = raft.metrics();
    loop {
        if known_leader(&rx.borrow_watched()).is_some_and(|l| l != old) {
            return;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Whether a failed call certainly never reached the peer's handler.
pub(super) fn not_delivered(status: &tonic::Status) -> bool {
    let text = status.message().to_ascii_lowercase();
    status.code() == tonic::Code::FailedPrecondition
        || (status.code() == tonic::Code::Unavailable
            && (text.contains("connect") || text.contains("refused")))
        // hyper's `Canceled`: the connection closed while the request still waited in its
        // queue, unsent (a request already sent fails as an incomplete message instead).
        || text.contains("operation was canceled")
}

/// One Forward call carrying `requests`; the leader proposes them in this order.
pub(super) async fn forward_to_leader(
    raft: &Raft,
    transport: &network::PeerTransport,
    requests: &[ExecRequest],
) -> Result<Vec<Result<Reply, String>>, ForwardError> {
    let failed = |e: String| ForwardError::Failed(RaftCallError::Other(e));
    let Some((leader, addr)) = leader_of(raft) else {
        return Err(ForwardError::Failed(RaftCallError::NoLeader));
    };
    let bytes = requests.iter().map(ExecRequest::size).sum();
    let payload =
        heavy(bytes, || postcard::to_allocvec(requests)).map_err(|e| failed(e.to_string()))?;
    // Large requests cross the network twice (here to the leader, the leader to a follower)
    // before they commit: the deadline grows with them.
    let timeout = FOLLOWER_WAIT + network::append_timeout(payload.len()) * 3;
    let mut client = transport.client(&addr).map_err(failed)?;
    let mut req = transport.request(redoubt_proto::peer::ForwardRequest {
        request: payload.into(),
    });
    req.set_timeout(timeout);
    // A leader that stops answering (paused, cut off) is given up on as soon as another one
    // is known, not at the deadline.
    let call = tokio::select! {
        r = client.forward(req) => r,
        _ = async {
            leader_other_than(raft, leader).await;
            // A leader that handed over (RAFT.TRANSFER) still answers: give it a moment
            // (short: a paused or cut-off one never will, and its clients wait meanwhile).
            tokio::time::sleep(ABANDON_GRACE).await;
        } => return Err(ForwardError::Failed(RaftCallError::Unknown)),
    };
    let reply = match call {
        Ok(r) => r.into_inner(),
        Err(s) if not_delivered(&s) => return Err(ForwardError::NotDelivered(leader)),
        Err(s) => {
            return Err(failed(format!(
                "the connection to the leader failed during the call ({}); the outcome of its writes is unknown",
                s.message()
            )))
        }
    };
    let replies: Vec<Result<Reply, String>> =
        postcard::from_bytes(&reply.reply).map_err(|e| failed(format!("forward reply: {e}")))?;
    if replies.len() != requests.len() {
        return Err(failed("forward reply has the wrong length".into()));
    }
    Ok(replies)
}
