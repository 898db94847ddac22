//! Server commands: the ones that neither touch the keyspace nor only change the connection
//! (those are `session`'s): CLIENT, CONFIG, COMMAND, DEBUG, INFO, ACL, PUBLISH / PUBSUB,
//! RAFT.*, TIME, LASTSAVE. Each family is one module; [`run`] dispatches on the typed
//! [`ServerCmd`] the command table names, so the compiler checks every command has code.
//!
//! They run on the serving node, after the connection's admission checks (auth, ACL, arity).
//! None writes the keyspace; ACL and `requirepass` changes are proposed as Raft entries.

pub mod acl;
pub mod client;
pub mod command;
pub mod config;
pub mod debug;
pub mod info;
pub mod pubsub;
pub mod raft;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use crate::commands::args::is_kw;
use crate::commands::{CmdError, ServerCmd};
use crate::session::Session;

/// Runs one server command for `s`'s client. `None` when `cmd` is a connection command
/// (the session carries those out: see `server/connection`).
pub async fn run(s: &mut Session, cmd: ServerCmd, argv: &[Bytes]) -> Option<Frame> {
    let result: Result<Frame, CmdError> = match cmd {
        ServerCmd::Client(c) => client::run(s, c, argv),
        ServerCmd::Config(c) => Ok(config::run(s, c, argv).await),
        ServerCmd::Command(c) => command::run(s, c, argv),
        ServerCmd::Acl(c) => acl::run(s, c, argv).await,
        ServerCmd::Raft(c) => raft::run(&s.node, c, argv).await,
        ServerCmd::Pubsub(c) => Ok(pubsub::run(&s.node, c, argv)),
        ServerCmd::Publish => Ok(pubsub::publish(&s.node, &argv[1], &argv[2])),
        ServerCmd::Debug => debug::run(s, argv).await,
        ServerCmd::Info => Ok(Frame::Verbatim(Bytes::from(info::render(
            &s.node,
            &argv[1..],
        )))),
        ServerCmd::Time => {
            let now = crate::clock::since_epoch();
            Ok(Frame::Array(vec![
                Frame::bulk(now.as_secs().to_string()),
                Frame::bulk(now.subsec_micros().to_string()),
            ]))
        }
        ServerCmd::Bgsave => bgsave(s, argv).await,
        ServerCmd::Lastsave => Ok(Frame::Integer(lastsave(s) as i64)),
        // Redis's replication handshake: Redoubt nodes replicate through Raft on the peer port.
        ServerCmd::Psync => Err(not_available("psync")),
        ServerCmd::Sync => Err(not_available("sync")),
        ServerCmd::Replconf => Err(not_available("replconf")),
        ServerCmd::Ping
        | ServerCmd::Echo
        | ServerCmd::Hello
        | ServerCmd::Quit
        | ServerCmd::Reset
        | ServerCmd::Select
        | ServerCmd::Auth
        | ServerCmd::Subscribe
        | ServerCmd::Unsubscribe
        | ServerCmd::Psubscribe
        | ServerCmd::Punsubscribe
        | ServerCmd::Multi
        | ServerCmd::Exec
        | ServerCmd::Discard
        | ServerCmd::Unwatch
        | ServerCmd::Watch
        | ServerCmd::Monitor => return None,
    };
    Some(result.unwrap_or_else(|e| e.to_frame()))
}

fn not_available(name: &str) -> CmdError {
    CmdError::Other(format!("ERR command '{name}' is not available"))
}

/// A HELP reply: one status line per line of text.
pub fn help(lines: &[&str]) -> Frame {
    Frame::Array(
        lines
            .iter()
            .map(|l| Frame::Simple((*l).to_string()))
            .collect(),
    )
}

/// BGSAVE [SCHEDULE]: the keyspace's RDB is the Raft snapshot; this asks openraft for one now
/// (built from a point-in-time view: writes go on meanwhile).
async fn bgsave(s: &Session, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if argv.len() > 2 || argv.get(1).is_some_and(|a| !is_kw(a, "SCHEDULE")) {
        return Err(CmdError::Syntax);
    }
    s.node
        .raft
        .openraft()
        .trigger()
        .snapshot()
        .await
        .map_err(|e| CmdError::Other(format!("ERR cannot start a snapshot: {e}")))?;
    Ok(Frame::Simple("Background saving started".into()))
}

/// LASTSAVE: when the current snapshot (the keyspace's RDB) was written, in unix seconds; the
/// node's start time while it has none (Redis: the start, until the first save).
fn lastsave(s: &Session) -> u64 {
    let written = std::fs::metadata(s.node.raft.snapshot_path())
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    match written {
        Some(t) => t.as_secs(),
        None => crate::clock::since_epoch()
            .as_secs()
            .saturating_sub(s.node.started.elapsed().as_secs()),
    }
}
