//! The node's view of its Raft group, read once from openraft's metrics: what INFO
//! (replication), RAFT.INFO and the peer `Status` call all report.

use openraft::async_runtime::WatchReceiver as _;

use super::{leader_of, RaftNode};

/// One member as this node sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberStatus {
    pub id: u64,
    pub addr: String,
    pub name: String,
    pub voter: bool,
    /// The last log index known to be replicated there (this node: its own last index);
    /// None when this node does not track it (it is not the leader).
    pub match_index: Option<u64>,
}

/// The group as this node sees it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftStatus {
    pub node_id: u64,
    /// leader, follower, learner, candidate or shutdown.
    pub role: &'static str,
    pub term: u64,
    /// The leader this node follows (id, peer address), once known.
    pub leader: Option<(u64, String)>,
    pub commit_index: u64,
    pub applied_index: u64,
    pub last_log_index: u64,
    pub snapshot_index: u64,
    pub purged_index: u64,
    pub members: Vec<MemberStatus>,
}

impl RaftStatus {
    /// Whether this node is the leader it knows of.
    pub fn leads(&self) -> bool {
        self.leader
            .as_ref()
            .is_some_and(|(id, _)| *id == self.node_id)
    }
}

impl RaftNode {
    /// The group as this node sees it now.
    pub fn status(&self) -> RaftStatus {
        let m = self.raft.metrics().borrow_watched().clone();
        let role = match m.state {
            openraft::ServerState::Leader => "leader",
            openraft::ServerState::Follower => "follower",
            openraft::ServerState::Learner => "learner",
            openraft::ServerState::Candidate => "candidate",
            openraft::ServerState::Shutdown => "shutdown",
        };
        let applied_index = m.last_applied.map_or(0, |l| l.index);
        let last_log_index = m.last_log_index.unwrap_or(0);
        let membership = m.membership_config.membership();
        let members = membership
            .nodes()
            .map(|(id, node)| MemberStatus {
                id: *id,
                addr: node.addr.clone(),
                name: node.name.clone(),
                voter: membership.voter_ids().any(|v| v == *id),
                match_index: if *id == m.id {
                    Some(last_log_index)
                } else {
                    m.replication
                        .as_ref()
                        .and_then(|r| r.get(id))
                        .map(|l| l.map_or(0, |l| l.index))
                },
            })
            .collect();
        RaftStatus {
            node_id: m.id,
            role,
            term: m.current_term,
            leader: leader_of(&self.raft),
            commit_index: self.log.committed_index().max(applied_index),
            applied_index,
            last_log_index,
            snapshot_index: m.snapshot.map_or(0, |l| l.index),
            purged_index: m.purged.map_or(0, |l| l.index),
            members,
        }
    }
}
