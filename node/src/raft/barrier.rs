//! Read barriers: before a read, this node makes sure it has applied every write
//! acknowledged anywhere before the read arrived (openraft's read index on the leader; the
//! leader's read index and a wait on a follower). Barriers run side by side, bounded.

#![allow(clippy::result_large_err)]

use super::*;

/// Read barriers, coalesced: every reader waiting when a barrier starts shares it. A reader
/// that arrives while one is running gets a barrier started after it arrived (the next
/// one, which may run beside the first), so each read still sees every write acknowledged
/// before it arrived. On the leader a barrier is openraft's read index; on a
/// follower it is the leader's read index (asked over gRPC) and a wait until this node has
/// applied that far.
pub(super) async fn run_read_barriers(
    raft: Raft,
    transport: Arc<network::PeerTransport>,
    applied: tokio::sync::watch::Receiver<u64>,
    mut rx: mpsc::UnboundedReceiver<oneshot::Sender<Result<(), RaftCallError>>>,
) {
    // Barriers run side by side (a slow one holds up only its own readers), a bounded number
    // at once; readers arriving meanwhile share the next one.
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_BARRIERS_IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut waiters = vec![first];
        while let Ok(more) = rx.try_recv() {
            waiters.push(more);
        }
        let (raft, transport, applied) = (raft.clone(), transport.clone(), applied.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let result = read_barrier_round(&raft, &transport, applied).await;
            for w in waiters {
                let _ = w.send(result.clone());
            }
        });
    }
}

/// Read barriers in flight at once on one node.
pub(super) const MAX_BARRIERS_IN_FLIGHT: usize = 8;

/// One barrier: this node's read index if it leads, else the leader's, then a wait until this
/// node has applied that far.
pub(super) async fn read_barrier_round(
    raft: &Raft,
    transport: &network::PeerTransport,
    mut applied: tokio::sync::watch::Receiver<u64>,
) -> Result<(), RaftCallError> {
    match await_leader(raft).await {
        None => Err(RaftCallError::NoLeader),
        Some((id, _)) if id == raft_id(raft) => match raft
            .ensure_linearizable(openraft::raft::ReadPolicy::ReadIndex)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(RaftCallError::from_read_index(e)),
        },
        Some((leader, addr)) => {
            let index = remote_read_index_retrying(raft, transport, leader, &addr).await?;
            let waited =
                tokio::time::timeout(FOLLOWER_WAIT, applied.wait_for(|a| *a >= index)).await;
            match waited {
                Ok(Ok(_)) => Ok(()),
                _ => Err(RaftCallError::NoLeader),
            }
        }
    }
}

/// How long a follower waits to apply up to the leader's read index or for a forwarded reply.
pub(super) const FOLLOWER_WAIT: Duration = Duration::from_secs(5);

/// The leader's read index; when the known leader cannot answer, waits (bounded) for the next
/// one and asks it: a read is always safe to retry.
pub(super) async fn remote_read_index_retrying(
    raft: &Raft,
    transport: &network::PeerTransport,
    leader: u64,
    addr: &str,
) -> Result<u64, RaftCallError> {
    let deadline = tokio::time::Instant::now() + LEADER_WAIT;
    let (mut leader, mut addr) = (leader, addr.to_string());
    loop {
        // A read is safe to send again: a leader that stops answering is given up on as soon
        // as another one is known.
        let asked = tokio::select! {
            r = remote_read_index(transport, &addr) => r,
            _ = leader_other_than(raft, leader) => Err(RaftCallError::NoLeader),
        };
        match asked {
            Ok(i) => return Ok(i),
            Err(_) if tokio::time::Instant::now() < deadline => {
                wait_for_other_leader(raft, leader, retry_at(deadline)).await;
                match leader_of(raft) {
                    // This node itself leads now: its own barrier answers.
                    Some((id, _)) if id == raft_id(raft) => {
                        return raft
                            .ensure_linearizable(openraft::raft::ReadPolicy::ReadIndex)
                            .await
                            .map(|l| l.index())
                            .map_err(|_| RaftCallError::NoLeader)
                    }
                    Some((id, a)) => {
                        leader = id;
                        addr = a;
                    }
                    // An election is running: ask the last leader again meanwhile.
                    None => {}
                }
            }
            Err(e) => return Err(e),
        }
    }
}

pub(super) async fn remote_read_index(
    transport: &network::PeerTransport,
    addr: &str,
) -> Result<u64, RaftCallError> {
    let mut client = transport.client(addr).map_err(RaftCallError::Other)?;
    let mut req = transport.request(redoubt_proto::peer::ReadIndexRequest {});
    req.set_timeout(FOLLOWER_WAIT);
    match client.read_index(req).await {
        Ok(r) => Ok(r.into_inner().index),
        Err(s) if s.code() == tonic::Code::FailedPrecondition => Err(RaftCallError::NoLeader),
        Err(s) if s.code() == tonic::Code::Unavailable => Err(RaftCallError::NoLeader),
        Err(s) => Err(RaftCallError::Other(format!(
            "leader read index: {}",
            s.message()
        ))),
    }
}
