//! Why a membership change or a leadership transfer failed, typed: the caller decides what
//! to do (retry with the next leader, report) by the variant, never by reading a message. It
//! crosses the peer channel as a gRPC status whose code keeps the variant's meaning.

use openraft::error::{ClientWriteError, RaftError};
use tonic::{Code, Status};

use crate::raft::TypeConfig;

type RaftWriteError = RaftError<TypeConfig, ClientWriteError<TypeConfig>>;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No leader is known yet (an election is running).
    #[error("no leader yet")]
    NoLeader,
    /// The node that took the change stopped leading before it was done: the change can be
    /// retried with the next leader.
    #[error("leadership moved while the change was made")]
    LeaderMoved,
    #[error("node {0} is not a member")]
    NotMember(u64),
    #[error("node {0} is not a voter")]
    NotVoter(u64),
    /// The node's identity does not match the one the membership binds to its id or name.
    #[error("{0}")]
    Identity(String),
    /// The change did not complete in time (a target that does not catch up or win).
    #[error("{0}")]
    Timeout(String),
    /// The peer at this address could not be called.
    #[error("{0}")]
    Unreachable(String),
    /// Refused by openraft or by the leader for another reason (its log tells more).
    #[error("{0}")]
    Failed(String),
}

impl From<ClusterError> for Status {
    fn from(e: ClusterError) -> Status {
        let code = match e {
            ClusterError::NoLeader | ClusterError::Unreachable(_) => Code::Unavailable,
            ClusterError::LeaderMoved => Code::Aborted,
            ClusterError::NotMember(_) | ClusterError::NotVoter(_) => Code::NotFound,
            ClusterError::Identity(_) => Code::PermissionDenied,
            ClusterError::Timeout(_) => Code::DeadlineExceeded,
            ClusterError::Failed(_) => Code::FailedPrecondition,
        };
        Status::new(code, e.to_string())
    }
}

impl From<Status> for ClusterError {
    /// A peer's refusal, by its code.
    fn from(s: Status) -> ClusterError {
        let text = s.message().to_string();
        match s.code() {
            Code::Aborted => ClusterError::LeaderMoved,
            Code::PermissionDenied => ClusterError::Identity(text),
            Code::DeadlineExceeded => ClusterError::Timeout(text),
            Code::Unavailable => ClusterError::Unreachable(text),
            _ => ClusterError::Failed(text),
        }
    }
}

/// An openraft membership or transfer call's failure: a leader that lost its role is
/// [`ClusterError::LeaderMoved`], anything else is reported with `what` was attempted.
pub fn from_raft(what: &str, e: RaftWriteError) -> ClusterError {
    match e {
        RaftError::APIError(ClientWriteError::ForwardToLeader(_)) => ClusterError::LeaderMoved,
        other => ClusterError::Failed(format!("{what}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variant_survives_the_peer_channel() {
        for e in [
            ClusterError::LeaderMoved,
            ClusterError::Identity("x".into()),
            ClusterError::Timeout("t".into()),
            ClusterError::Unreachable("u".into()),
            ClusterError::Failed("f".into()),
        ] {
            let shown = e.to_string();
            let back = ClusterError::from(Status::from(e));
            assert_eq!(back.to_string(), shown);
        }
        assert!(matches!(
            ClusterError::from(Status::from(ClusterError::LeaderMoved)),
            ClusterError::LeaderMoved
        ));
    }
}
