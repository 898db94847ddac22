//! Why a write or a read barrier failed, as its client hears it: typed, turned into a RESP
//! error at the connection. openraft's own texts (which show the membership, peer addresses
//! included) never reach a client.

#![allow(clippy::result_large_err)]

use super::*;

/// Why a write or a read barrier failed, as a client should hear it.
#[derive(Clone, Debug, thiserror::Error)]
pub enum RaftCallError {
    #[error("TRYAGAIN no leader is known yet, retry the command")]
    NoLeader,
    /// A write larger than `raft-max-entry-size` in a cluster of several nodes: the full text.
    #[error("{0}")]
    TooLarge(String),
    /// The leader cannot reach a majority of the voters.
    #[error("TRYAGAIN no quorum: a majority of the cluster's voters cannot be reached, retry the command")]
    NoQuorum,
    #[error("ERR raft: {0}")]
    Other(String),
    /// The disk is below `min-free-disk`: the full `-MISCONF ...` text.
    #[error("{0}")]
    DiskLow(String),
    /// The leader changed while the write was in flight: it may or may not be applied.
    #[error(
        "ERR the leader changed while the write was in flight; it may or may not have been applied"
    )]
    Unknown,
    /// An error the leader returned for a forwarded request, as the leader worded it.
    #[error("{0}")]
    Remote(String),
}

impl RaftCallError {
    /// A read barrier's failure as a client hears it: what happened, never openraft's own
    /// text (which shows the membership, with every peer's address, in Rust debug form).
    pub fn from_read_index(
        e: RaftError<TypeConfig, openraft::error::LinearizableReadError<TypeConfig>>,
    ) -> RaftCallError {
        use openraft::error::LinearizableReadError;
        match e {
            RaftError::APIError(LinearizableReadError::ForwardToLeader(_)) => {
                RaftCallError::NoLeader
            }
            RaftError::APIError(LinearizableReadError::QuorumNotEnough(_)) => {
                RaftCallError::NoQuorum
            }
            RaftError::Fatal(f) => RaftCallError::from_core(&f),
        }
    }

    /// A write's failure as its client hears it.
    pub(super) fn from_write(e: ClientWriteError<TypeConfig>) -> RaftCallError {
        match e {
            ClientWriteError::ForwardToLeader(_) => RaftCallError::NoLeader,
            // Another leader's log replaced the entry here; it may still commit through a
            // node that holds it: the client must not assume either way.
            ClientWriteError::LogEntryDiscarded(_) => RaftCallError::Unknown,
            // Client entries are never membership changes and carry no precondition.
            e => RaftCallError::from_core(&e),
        }
    }

    /// The Raft core stopped (or refused) for a reason its log line tells; the client gets a
    /// plain sentence.
    pub fn from_core(e: &dyn std::fmt::Display) -> RaftCallError {
        crate::log_limited!(
            crate::logsafe::LIBRARY_REPEATS,
            "raft core error",
            error = %e, "raft call failed"
        );
        RaftCallError::Other("the raft core is not running (see the node's log)".into())
    }

    pub fn to_frame(&self) -> Frame {
        Frame::Error(self.to_string())
    }
}

impl From<RaftCallError> for crate::commands::CmdError {
    /// A Raft failure met by a server command: the client hears it as it is worded.
    fn from(e: RaftCallError) -> crate::commands::CmdError {
        crate::commands::CmdError::Other(e.to_string())
    }
}
