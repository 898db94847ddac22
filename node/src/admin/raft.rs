//! RAFT.INFO, RAFT.LEADER, RAFT.NODE ADD|REMOVE and RAFT.TRANSFER: the Raft group as an
//! operator sees and changes it (membership changes and transfers are `cluster`'s).

use std::fmt::Write;
use std::sync::Arc;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use crate::cluster::ClusterError;
use crate::commands::args::{is_kw, parse_i64_opt};
use crate::commands::server::RaftCmd;
use crate::commands::CmdError;
use crate::raft::leader_of;
use crate::state::NodeState;

/// Runs one RAFT.* command line.
pub async fn run(server: &Arc<NodeState>, cmd: RaftCmd, argv: &[Bytes]) -> Result<Frame, CmdError> {
    match cmd {
        RaftCmd::Info => Ok(Frame::Verbatim(Bytes::from(raft_info(server)))),
        RaftCmd::Leader => Ok(match leader_of(server.raft.openraft()) {
            Some((id, addr)) => Frame::Array(vec![Frame::Integer(id as i64), Frame::bulk(addr)]),
            None => Frame::NullArray,
        }),
        RaftCmd::Node if is_kw(&argv[1], "ADD") && argv.len() == 4 => {
            add_node(server, node_id_arg(&argv[2])?, &argv[3]).await
        }
        RaftCmd::Node if is_kw(&argv[1], "REMOVE") && argv.len() == 3 => {
            let id = node_id_arg(&argv[2])?;
            crate::cluster::remove_member(&server.raft, id)
                .await
                .map_err(|e| failed(format!("cannot remove node {id}"), e))?;
            Ok(Frame::ok())
        }
        RaftCmd::Node => Err(CmdError::other(
            "ERR syntax error: RAFT.NODE ADD <id> <host:port> | RAFT.NODE REMOVE <id>",
        )),
        RaftCmd::Transfer => {
            let id = node_id_arg(&argv[1])?;
            crate::cluster::transfer_leadership(&server.raft, id)
                .await
                .map_err(|e| failed(format!("transfer to node {id} failed"), e))?;
            Ok(Frame::ok())
        }
    }
}

/// A membership change's failure as the operator hears it: what was tried, then why.
fn failed(what: String, e: ClusterError) -> CmdError {
    CmdError::Other(format!("ERR {what}: {e}"))
}

fn node_id_arg(arg: &[u8]) -> Result<u64, CmdError> {
    match parse_i64_opt(arg) {
        Some(id) if id > 0 => Ok(id as u64),
        _ => Err(CmdError::other(
            "ERR invalid node id: expected a positive integer",
        )),
    }
}

/// RAFT.NODE ADD id host:port: the node is bound to the identity its peer port proves, not
/// to a name typed here.
async fn add_node(server: &NodeState, id: u64, addr: &[u8]) -> Result<Frame, CmdError> {
    let addr = String::from_utf8_lossy(addr).into_owned();
    if !addr.contains(':') {
        return Err(CmdError::other("ERR invalid address: expected host:port"));
    }
    let name = server
        .transport
        .probe_identity(&addr)
        .await
        .map_err(|e| {
            CmdError::Other(format!(
                "ERR cannot add node {id}: cannot verify its identity: {e}"
            ))
        })?
        .unwrap_or_default();
    let member = crate::raft::Member::new(addr, name);
    crate::cluster::add_member(&server.raft, id, member)
        .await
        .map_err(|e| failed(format!("cannot add node {id}"), e))?;
    Ok(Frame::ok())
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
