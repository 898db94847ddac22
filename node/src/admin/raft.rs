//! RAFT.INFO, RAFT.LEADER, RAFT.NODE ADD|REMOVE and RAFT.TRANSFER: the Raft group as an
//! operator sees and changes it (membership changes and transfers are `cluster`'s).

use std::fmt::Write;
use std::sync::Arc;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use crate::commands::args::{is_kw, parse_i64_opt};
use crate::commands::server::RaftCmd;
use crate::raft::leader_of;
use crate::state::NodeState;

/// Runs one RAFT.* command line.
pub async fn run(server: &Arc<NodeState>, cmd: RaftCmd, argv: &[Bytes]) -> Frame {
    match cmd {
        RaftCmd::Info => Frame::Verbatim(Bytes::from(raft_info(server))),
        RaftCmd::Leader => match leader_of(server.raft.openraft()) {
            Some((id, addr)) => Frame::Array(vec![Frame::Integer(id as i64), Frame::bulk(addr)]),
            None => Frame::NullArray,
        },
        RaftCmd::Node => raft_node(server, argv).await,
        RaftCmd::Transfer => transfer(server, &argv[1]).await,
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
        match crate::cluster::add_member(&server.raft, id, member).await {
            Ok(_) => Frame::ok(),
            Err(e) => Frame::Error(format!("ERR cannot add node {id}: {e}")),
        }
    } else if is_kw(&argv[1], "REMOVE") && argv.len() == 3 {
        let id = match node_id_arg(&argv[2]) {
            Ok(id) => id,
            Err(f) => return f,
        };
        match crate::cluster::remove_member(&server.raft, id).await {
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
    match crate::cluster::transfer_leadership(&server.raft, id).await {
        Ok(()) => Frame::ok(),
        Err(e) => Frame::Error(format!("ERR transfer to node {id} failed: {e}")),
    }
}

/// INFO-style text of the node's Raft view.
pub fn raft_info(server: &NodeState) -> String {
    let st = server.raft.status();
    let (leader_id, leader_addr) = match &st.leader {
        Some((id, addr)) => (id.to_string(), addr.as_str()),
        None => (String::new(), ""),
    };
    let mut out = String::new();
    let _ = write!(out, "# Raft\r\n");
    let _ = write!(out, "node_id:{}\r\n", st.node_id);
    let _ = write!(out, "role:{}\r\n", st.role);
    let _ = write!(out, "term:{}\r\n", st.term);
    let _ = write!(out, "leader_id:{leader_id}\r\n");
    let _ = write!(out, "leader_addr:{leader_addr}\r\n");
    let _ = write!(out, "commit_index:{}\r\n", st.commit_index);
    let _ = write!(out, "applied_index:{}\r\n", st.applied_index);
    let _ = write!(out, "last_log_index:{}\r\n", st.last_log_index);
    let _ = write!(out, "snapshot_index:{}\r\n", st.snapshot_index);
    let _ = write!(out, "purged_index:{}\r\n", st.purged_index);
    let _ = write!(out, "\r\n# Members\r\n");
    for m in &st.members {
        let kind = if m.voter { "voter" } else { "learner" };
        let matched = m
            .match_index
            .map_or_else(|| "?".to_string(), |i| i.to_string());
        let _ = write!(
            out,
            "member_{}:addr={},name={},role={kind},match_index={matched}\r\n",
            m.id, m.addr, m.name
        );
    }
    out
}
