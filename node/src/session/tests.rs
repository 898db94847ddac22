//! The session without a socket: its connection commands change exactly its own state.
//! Each test runs a real single-node `NodeState` (sled in a temporary directory, Raft
//! started) but no listener and no connection loop.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use redoubt_proto::resp::{Frame, Protocol};
use tokio::sync::mpsc;

use super::Session;
use crate::config::Config;
use crate::state::{NodeState, ServerTls};

struct Fixture {
    node: Arc<NodeState>,
    _dir: tempfile::TempDir,
}

async fn node() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let flags = vec![("dir".to_string(), dir.path().display().to_string())];
    let config = Config::load(None, &[], &flags).expect("config");
    let tls = ServerTls {
        peer: None,
        client: None,
        port: None,
        cn_names_user: false,
    };
    let (node, _raft_tasks) = NodeState::start(config, tls, Box::new(|_| {}))
        .await
        .expect("node");
    Fixture { node, _dir: dir }
}

fn session(node: &Arc<NodeState>) -> (Session, mpsc::UnboundedReceiver<Frame>) {
    let addr: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
    let handle = node.clients.register(addr, addr);
    let (tx, rx) = mpsc::unbounded_channel();
    (Session::new(node.clone(), handle, tx), rx)
}

fn args(line: &[&str]) -> Vec<Bytes> {
    line.iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect()
}

#[tokio::test]
async fn a_new_session_is_the_open_default_user_on_database_zero() {
    let f = node().await;
    let (s, _rx) = session(&f.node);
    assert!(
        s.authenticated,
        "the default user has no password on a fresh node"
    );
    assert_eq!((s.db, s.user.as_str()), (0, "default"));
    assert_eq!(s.protocol, Protocol::Resp2);
    assert!(s.multi.is_none() && !s.is_subscribed());
}

#[tokio::test]
async fn select_moves_the_session_and_its_client_info_and_refuses_out_of_range() {
    let f = node().await;
    let (mut s, _rx) = session(&f.node);
    assert_eq!(s.select(b"3"), Frame::ok());
    assert_eq!((s.db, s.handle.info().db), (3, 3));
    assert_eq!(
        s.select(b"16"),
        Frame::error("ERR DB index is out of range")
    );
    assert!(s.select(b"x").is_error());
    assert_eq!(s.db, 3, "a refused SELECT keeps the database");
}

#[tokio::test]
async fn multi_cannot_nest_and_discard_forgets_the_queue_and_watches() {
    let f = node().await;
    let (mut s, _rx) = session(&f.node);
    assert_eq!(s.discard(), Frame::error("ERR DISCARD without MULTI"));
    assert_eq!(s.multi(), Frame::ok());
    assert_eq!(s.multi(), Frame::error("ERR MULTI calls can not be nested"));
    assert_eq!(s.handle.info().multi, Some(0));
    s.multi_dirty = true;
    assert_eq!(s.discard(), Frame::ok());
    assert!(s.multi.is_none() && !s.multi_dirty && s.watches.is_empty());
    assert_eq!(s.handle.info().multi, None);
}

#[tokio::test]
async fn subscriptions_count_confirm_and_receive_published_messages() {
    let f = node().await;
    let (mut s, mut rx) = session(&f.node);
    let replies = s.subscribe(false, &args(&["a", "b", "a"]));
    let counts: Vec<Frame> = replies
        .iter()
        .map(|r| match r {
            Frame::Push(items) => items[2].clone(),
            other => panic!("not a push: {other:?}"),
        })
        .collect();
    assert_eq!(
        counts,
        vec![Frame::Integer(1), Frame::Integer(2), Frame::Integer(2)]
    );
    assert!(s.is_subscribed());
    let limit = f.node.output_limits().pubsub;
    let n = f
        .node
        .pubsub
        .publish(&Bytes::from_static(b"a"), &Bytes::from_static(b"hi"), limit);
    assert_eq!(n, 1);
    let Some(Frame::Push(message)) = rx.recv().await else {
        panic!("no message delivered")
    };
    assert_eq!(message[2], Frame::bulk("hi"));
    // RESP2 subscribed mode: PING answers as a message.
    assert_eq!(
        s.ping(&args(&["PING"])),
        Frame::Array(vec![Frame::bulk("pong"), Frame::bulk("")])
    );
    let replies = s.unsubscribe(false, &[]);
    assert_eq!(replies.len(), 2, "one confirmation per channel left");
    assert!(!s.is_subscribed());
}

#[tokio::test]
async fn reset_gives_back_a_new_connections_state() {
    let f = node().await;
    let (mut s, _rx) = session(&f.node);
    s.select(b"5");
    s.multi();
    s.subscribe(true, &args(&["news.*"]));
    s.monitor();
    assert!(!s.hello(&args(&["HELLO", "3"])).await.is_error());
    assert_eq!(s.protocol, Protocol::Resp3);
    assert_eq!(s.reset(), Frame::Simple("RESET".into()));
    assert_eq!((s.db, s.protocol), (0, Protocol::Resp2));
    assert!(s.multi.is_none() && !s.is_subscribed() && s.monitor_rx.is_none());
    assert_eq!(
        f.node.pubsub.numpat(),
        0,
        "the pattern left the node's registry"
    );
    let info = s.handle.info();
    assert_eq!((info.db, info.resp, info.monitor), (0, 2, false));
}

#[tokio::test]
async fn hello_refuses_unknown_protocols_and_bad_options() {
    let f = node().await;
    let (mut s, _rx) = session(&f.node);
    assert_eq!(
        s.hello(&args(&["HELLO", "4"])).await,
        Frame::error("NOPROTO unsupported protocol version")
    );
    assert!(s
        .hello(&args(&["HELLO", "3", "SETNAME", "bad name"]))
        .await
        .is_error());
    assert!(s.hello(&args(&["HELLO", "3", "BOGUS"])).await.is_error());
    assert_eq!(
        s.protocol,
        Protocol::Resp2,
        "a refused HELLO changes nothing"
    );
    assert!(!s
        .hello(&args(&["HELLO", "3", "SETNAME", "worker-1"]))
        .await
        .is_error());
    assert_eq!(s.handle.info().name, "worker-1");
}
