//! Changing the membership: adding a node (as a learner, then a voter) bound to its node
//! identity, removing one, and a starting node's own request to join. On a follower each
//! change is passed to the leader.

use std::sync::Arc;
use std::time::Duration;

use openraft::async_runtime::WatchReceiver as _;
use openraft::ChangeMembers;
use redoubt_proto::peer::peer_client::PeerClient;
use redoubt_proto::peer::{ElectRequest, JoinRequest, RemoveRequest};
use tonic::transport::Channel;

use super::error::{from_raft, ClusterError};

use crate::raft::Member;
use crate::raft::RaftNode;

/// The id of the member whose identity is `name`.
pub(super) fn member_named(
    membership: &openraft::Membership<u64, Member>,
    name: &str,
) -> Option<u64> {
    membership
        .nodes()
        .find(|(_, m)| !m.name.is_empty() && m.name == name)
        .map(|(id, _)| *id)
}

/// Where a membership change is made: here when this node leads (its id and address), else
/// on the leader through this client.
enum ChangeOn {
    Here((u64, String)),
    Leader(PeerClient<Channel>),
}

async fn change_on(node: &RaftNode) -> Result<ChangeOn, ClusterError> {
    let Some((leader, leader_addr)) = crate::raft::await_leader(node.openraft()).await else {
        return Err(ClusterError::NoLeader);
    };
    if leader == node.id() {
        return Ok(ChangeOn::Here((leader, leader_addr)));
    }
    let client = node
        .transport()
        .client(&leader_addr)
        .map_err(ClusterError::Unreachable)?;
    Ok(ChangeOn::Leader(client))
}

/// Adds a node (learner until caught up, then voter); on a follower, asks the leader to.
pub async fn add_member(
    node: &RaftNode,
    node_id: u64,
    member: Member,
) -> Result<(u64, String), ClusterError> {
    // A node coming back with a higher term (it campaigned while it was out) makes the leader
    // step down once it is contacted; the change is then retried with the next leader.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match add_member_once(node, node_id, member.clone()).await {
            Err(ClusterError::LeaderMoved | ClusterError::NoLeader)
                if tokio::time::Instant::now() < deadline =>
            {
                tracing::info!(node_id, "leadership moved while adding a node; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => return other,
        }
    }
}

/// A member's identity is bound to its id: the id may not be re-added under another name, and
/// a name may not be added under a second id.
fn check_identity(
    membership: &openraft::Membership<u64, Member>,
    node_id: u64,
    member: &Member,
) -> Result<(), ClusterError> {
    if let Some(existing) = membership.get_node(&node_id) {
        if existing.name != member.name {
            return Err(ClusterError::Identity(format!(
                "node {node_id} is a member with identity '{}', not '{}'",
                existing.name, member.name
            )));
        }
    }
    if member.name.is_empty() {
        return Ok(());
    }
    match member_named(membership, &member.name) {
        Some(other) if other != node_id => Err(ClusterError::Identity(format!(
            "identity '{}' is already member {other}",
            member.name
        ))),
        _ => Ok(()),
    }
}

async fn add_member_once(
    node: &RaftNode,
    node_id: u64,
    member: Member,
) -> Result<(u64, String), ClusterError> {
    let raft = &node.openraft();
    let (leader, leader_addr) = match change_on(node).await? {
        ChangeOn::Here(leader) => leader,
        ChangeOn::Leader(mut client) => {
            let mut req = node.transport().request(JoinRequest {
                node_id,
                raft_addr: member.addr.clone(),
                name: member.name.clone(),
            });
            req.set_timeout(Duration::from_secs(120));
            let reply = client.join(req).await?.into_inner();
            return Ok((reply.leader_id, reply.leader_addr));
        }
    };
    let membership = crate::raft::membership_of(raft);
    check_identity(&membership, node_id, &member)?;
    tracing::info!(node_id, member = %member, "adding a node: learner first");
    raft.add_learner(node_id, member, true)
        .await
        .map_err(|e| from_raft("add learner", e))?;
    let voters = std::collections::BTreeSet::from([node_id]);
    raft.change_membership(ChangeMembers::AddVoterIds(voters), false)
        .await
        .map_err(|e| from_raft("change membership", e))?;
    tracing::info!(node_id, "node is now a voter");
    Ok((leader, leader_addr))
}

/// Removes a member (voter or learner); on a follower, asks the leader to.
pub async fn remove_member(node: &RaftNode, node_id: u64) -> Result<(), ClusterError> {
    let raft = &node.openraft();
    if let ChangeOn::Leader(mut client) = change_on(node).await? {
        client
            .remove(node.transport().request(RemoveRequest { node_id }))
            .await?;
        return Ok(());
    }
    let membership = crate::raft::membership_of(raft);
    let removed_addr = membership.get_node(&node_id).map(|n| n.addr.clone());
    if removed_addr.is_none() {
        return Err(ClusterError::NotMember(node_id));
    }
    let ids = std::collections::BTreeSet::from([node_id]);
    if membership.voter_ids().any(|v| v == node_id) {
        raft.change_membership(ChangeMembers::RemoveVoters(ids.clone()), false)
            .await
            .map_err(|e| from_raft("remove voter", e))?;
    }
    raft.change_membership(ChangeMembers::RemoveNodes(ids), false)
        .await
        .map_err(|e| from_raft("remove node", e))?;
    if let Some(addr) = removed_addr {
        node.transport().forget(&addr);
    }
    tracing::info!(node_id, "node removed from the cluster");
    Ok(())
}

/// A node started with `join`: asks the member at `target` to add it, retrying until it is a
/// member (the cluster may be electing, or the target down for a moment).
pub async fn join_cluster(
    node: Arc<RaftNode>,
    target: String,
    advertise_addr: String,
    name: String,
) {
    let me = node.id();
    loop {
        let is_member = node
            .openraft()
            .metrics()
            .borrow_watched()
            .membership_config
            .membership()
            .get_node(&me)
            .is_some();
        if is_member {
            tracing::info!("this node is a member of the cluster");
            return;
        }
        let result = async {
            let mut client = node
                .transport()
                .client(&target)
                .map_err(tonic::Status::unavailable)?;
            let mut req = node.transport().request(JoinRequest {
                node_id: me,
                raft_addr: advertise_addr.clone(),
                name: name.clone(),
            });
            req.set_timeout(Duration::from_secs(120));
            client.join(req).await
        }
        .await;
        match result {
            Ok(_) => {
                tracing::info!(%target, "joined the cluster");
                return;
            }
            Err(status) => {
                tracing::warn!(%target, code = ?status.code(), reason = %status.message(), "join refused or failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Moves leadership to `target`: once the target holds the whole log, the leader hands over
/// (openraft's leadership transfer). On a follower the request goes to the leader.
pub async fn transfer_leadership(node: &RaftNode, target: u64) -> Result<(), ClusterError> {
    let raft = &node.openraft();
    let membership = crate::raft::membership_of(raft);
    if !membership.voter_ids().any(|v| v == target) {
        return Err(ClusterError::NotVoter(target));
    }
    let Some((leader, leader_addr)) = crate::raft::await_leader(raft).await else {
        return Err(ClusterError::NoLeader);
    };
    if leader == target {
        return Ok(());
    }
    if leader != node.id() {
        let mut client = node
            .transport()
            .client(&leader_addr)
            .map_err(ClusterError::Unreachable)?;
        let mut req = node.transport().request(ElectRequest {
            transfer_to: target,
        });
        req.set_timeout(Duration::from_secs(15));
        return client
            .elect(req)
            .await
            .map(|_| ())
            .map_err(ClusterError::from);
    }
    // The target must hold every entry before it is told to stand, or it ignores the request.
    let caught_up = raft
        .wait(Some(Duration::from_secs(5)))
        .metrics(
            |m| {
                let last = m.last_log_index;
                m.replication
                    .as_ref()
                    .and_then(|r| r.get(&target))
                    .is_some_and(|matched| matched.map(|l| l.index) == last)
            },
            "target caught up",
        )
        .await;
    if caught_up.is_err() {
        return Err(ClusterError::Timeout(format!(
            "node {target} did not catch up with the log within 5s"
        )));
    }
    // openraft's transfer: this node stops taking writes (they wait for the next leader), sends
    // the target its last log id, and the target stands as soon as it holds that entry; the
    // voters accept it without waiting for this node's lease to run out.
    raft.trigger()
        .transfer_leader(target)
        .await
        .map_err(|e| ClusterError::Failed(format!("the raft core stopped: {e}")))?;
    let won = raft
        .wait(Some(Duration::from_secs(5)))
        .metrics(
            |m| m.current_leader.is_some() && m.current_leader != Some(node.id()),
            "another node leads",
        )
        .await;
    match won {
        Ok(m) if m.current_leader == Some(target) => Ok(()),
        Ok(m) => Err(ClusterError::Failed(format!(
            "node {} won the election instead",
            m.current_leader.unwrap_or_default()
        ))),
        Err(_) => Err(ClusterError::Timeout(format!(
            "node {target} did not become leader within 5s"
        ))),
    }
}
