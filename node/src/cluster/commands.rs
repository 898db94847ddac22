//! RAFT.INFO, RAFT.LEADER, RAFT.NODE ADD|REMOVE and RAFT.TRANSFER.

use openraft::async_runtime::WatchReceiver as _;
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use redoubt_proto::peer::ElectRequest;
use redoubt_proto::resp::Frame;

use crate::commands::args::{is_kw, parse_i64_opt};
use crate::raft::leader_of;
use crate::state::NodeState;

/// Runs one RAFT.* command line.
pub async fn run(server: &Arc<NodeState>, name: &str, argv: &[Bytes]) -> Frame {
    match name {
        "raft.info" => Frame::Verbatim(Bytes::from(raft_info(server))),
        "raft.leader" => match leader_of(&server.raft.raft) {
            Some((id, addr)) => Frame::Array(vec![Frame::Integer(id as i64), Frame::bulk(addr)]),
            None => Frame::NullArray,
        },
        "raft.node" => raft_node(server, argv).await,
        "raft.transfer" => transfer(server, &argv[1]).await,
        _ => Frame::Error(format!("ERR unknown command '{name}'")),
    }
}

fn node_id_arg(arg: &[u8]) -> Result<u64, Frame> {
    match parse_i64_opt(arg) {
        Some(id) if id > 0 => Ok(id as u64),
        _ => Err(Frame::error(
            "ERR invalid node id: expected a positive integer",
        )),
    }
}

async fn raft_node(server: &Arc<NodeState>, argv: &[Bytes]) -> Frame {
    if is_kw(&argv[1], "ADD") && argv.len() == 4 {
        let id = match node_id_arg(&argv[2]) {
            Ok(id) => id,
            Err(f) => return f,
        };
        let addr = String::from_utf8_lossy(&argv[3]).into_owned();
        if !addr.contains(':') {
            return Frame::error("ERR invalid address: expected host:port");
        }
        // The node is bound to the identity its peer port proves, not to a name typed here.
        let name = match server.transport.probe_identity(&addr).await {
            Ok(name) => name.unwrap_or_default(),
            Err(e) => {
                return Frame::Error(format!(
                    "ERR cannot add node {id}: cannot verify its identity: {e}"
                ))
            }
        };
        let member = crate::raft::Member::new(addr, name);
        match super::add_member(server, id, member).await {
            Ok(_) => Frame::ok(),
            Err(s) => Frame::Error(format!("ERR cannot add node {id}: {}", s.message())),
        }
    } else if is_kw(&argv[1], "REMOVE") && argv.len() == 3 {
        let id = match node_id_arg(&argv[2]) {
            Ok(id) => id,
            Err(f) => return f,
        };
        match super::remove_member(server, id).await {
            Ok(()) => Frame::ok(),
            Err(e) => Frame::Error(format!("ERR cannot remove node {id}: {e}")),
        }
    } else {
        Frame::error("ERR syntax error: RAFT.NODE ADD <id> <host:port> | RAFT.NODE REMOVE <id>")
    }
}

async fn transfer(server: &Arc<NodeState>, target: &[u8]) -> Frame {
    let id = match node_id_arg(target) {
        Ok(id) => id,
        Err(f) => return f,
    };
    match transfer_leadership(server, id).await {
        Ok(()) => Frame::ok(),
        Err(e) => Frame::Error(format!("ERR transfer to node {id} failed: {e}")),
    }
}

/// Moves leadership to `target`: once the target holds the whole log, the leader hands over
/// (openraft's leadership transfer). On a follower the request goes to the leader.
pub async fn transfer_leadership(server: &Arc<NodeState>, target: u64) -> Result<(), String> {
    let raft = &server.raft.raft;
    let membership = crate::raft::membership_of(raft);
    if !membership.voter_ids().any(|v| v == target) {
        return Err(format!("node {target} is not a voter"));
    }
    let Some((leader, leader_addr)) = crate::raft::await_leader(raft).await else {
        return Err("no leader".into());
    };
    if leader == target {
        return Ok(());
    }
    if leader != server.raft.node_id {
        let mut client = server.transport.client(&leader_addr)?;
        let mut req = server.transport.request(ElectRequest {
            transfer_to: target,
        });
        req.set_timeout(Duration::from_secs(15));
        return client
            .elect(req)
            .await
            .map(|_| ())
            .map_err(|s| s.message().to_string());
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
        return Err(format!(
            "node {target} did not catch up with the log within 5s"
        ));
    }
    // openraft's transfer: this node stops taking writes (they wait for the next leader), sends
    // the target its last log id, and the target stands as soon as it holds that entry; the
    // voters accept it without waiting for this node's lease to run out.
    raft.trigger()
        .transfer_leader(target)
        .await
        .map_err(|e| format!("the raft core stopped: {e}"))?;
    let won = raft
        .wait(Some(Duration::from_secs(5)))
        .metrics(
            |m| m.current_leader.is_some() && m.current_leader != Some(server.raft.node_id),
            "another node leads",
        )
        .await;
    match won {
        Ok(m) if m.current_leader == Some(target) => Ok(()),
        Ok(m) => Err(format!(
            "node {} won the election instead",
            m.current_leader.unwrap_or_default()
        )),
        Err(_) => Err(format!("node {target} did not become leader within 5s")),
    }
}

/// INFO-style text of the node's Raft view.
pub fn raft_info(server: &NodeState) -> String {
    let m = server.raft.raft.metrics().borrow_watched().clone();
    let (leader_id, leader_addr) = leader_of(&server.raft.raft).unwrap_or((0, String::new()));
    let role = match m.state {
        openraft::ServerState::Leader => "leader",
        openraft::ServerState::Follower => "follower",
        openraft::ServerState::Learner => "learner",
        openraft::ServerState::Candidate => "candidate",
        openraft::ServerState::Shutdown => "shutdown",
    };
    let applied = m.last_applied.map_or(0, |l| l.index);
    let commit = server.raft.log.committed_index().max(applied);
    let mut out = String::new();
    let _ = write!(out, "# Raft\r\n");
    let _ = write!(out, "node_id:{}\r\n", m.id);
    let _ = write!(out, "role:{role}\r\n");
    let _ = write!(out, "term:{}\r\n", m.current_term);
    let _ = write!(
        out,
        "leader_id:{}\r\n",
        if leader_id == 0 {
            String::new()
        } else {
            leader_id.to_string()
        }
    );
    let _ = write!(out, "leader_addr:{leader_addr}\r\n");
    let _ = write!(out, "commit_index:{commit}\r\n");
    let _ = write!(out, "applied_index:{applied}\r\n");
    let _ = write!(out, "last_log_index:{}\r\n", m.last_log_index.unwrap_or(0));
    let _ = write!(
        out,
        "snapshot_index:{}\r\n",
        m.snapshot.map_or(0, |l| l.index)
    );
    let _ = write!(out, "purged_index:{}\r\n", m.purged.map_or(0, |l| l.index));
    let membership = m.membership_config.membership();
    let voters: std::collections::BTreeSet<u64> = membership.voter_ids().collect();
    let _ = write!(out, "\r\n# Members\r\n");
    for (id, node) in membership.nodes() {
        let kind = if voters.contains(id) {
            "voter"
        } else {
            "learner"
        };
        let matched = if *id == m.id {
            m.last_log_index.unwrap_or(0).to_string()
        } else {
            m.replication
                .as_ref()
                .and_then(|r| r.get(id))
                .map(|l| l.map_or(0, |l| l.index).to_string())
                .unwrap_or_else(|| "?".into())
        };
        let _ = write!(
            out,
            "member_{id}:addr={},name={},role={kind},match_index={matched}\r\n",
            node.addr, node.name
        );
    }
    out
}
