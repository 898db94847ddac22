//! PUBLISH and PUBSUB CHANNELS / NUMSUB / NUMPAT. A message reaches this node's subscribers
//! at once and, in a cluster, every other node's through its per-peer PUBLISH queue
//! (`cluster::fan_out_publish`); it is not a Raft entry.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::help;
use crate::commands::server::PubsubCmd;
use crate::state::NodeState;

/// PUBLISH channel message: the number of this node's clients that received it.
pub fn publish(node: &std::sync::Arc<NodeState>, channel: &Bytes, message: &Bytes) -> Frame {
    let limit = node.output_limits().pubsub;
    let n = node.pubsub.publish(channel, message, limit);
    if node.is_clustered() {
        crate::cluster::fan_out_publish(node, channel.clone(), message.clone());
    }
    Frame::Integer(n as i64)
}

/// PUBSUB <subcommand>: this node's subscriptions.
pub fn run(node: &NodeState, cmd: PubsubCmd, argv: &[Bytes]) -> Frame {
    match cmd {
        PubsubCmd::Channels => {
            let pattern = argv.get(2).map(|p| &p[..]);
            Frame::Array(
                node.pubsub
                    .channels(pattern)
                    .into_iter()
                    .map(Frame::Bulk)
                    .collect(),
            )
        }
        PubsubCmd::Numsub => {
            let mut items = Vec::new();
            for ch in &argv[2..] {
                items.push(Frame::Bulk(ch.clone()));
                items.push(Frame::Integer(node.pubsub.numsub(ch) as i64));
            }
            Frame::Array(items)
        }
        PubsubCmd::Numpat => Frame::Integer(node.pubsub.numpat() as i64),
        PubsubCmd::Help => help(&[
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "NUMPAT",
            "NUMSUB [<channel> ...]",
            "HELP",
        ]),
    }
}
