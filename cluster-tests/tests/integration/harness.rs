//! The harness itself: ports, start/stop/restart of a real node, and failure reports.

use std::collections::HashSet;
use std::time::Duration;

use redoubt_cluster_tests::raw::RawConn;
use redoubt_cluster_tests::{free_port, ping_answers, NodeOptions, NodeProcess};

#[test]
fn free_ports_are_never_handed_out_twice() {
    let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
    let unique: HashSet<u16> = ports.iter().copied().collect();
    assert_eq!(unique.len(), ports.len());
}

#[tokio::test]
async fn a_node_restarts_on_its_dir_and_ports() {
    let mut node = NodeProcess::start(NodeOptions::default());
    let port = node.port();
    let raft = node.raft_addr().to_string();
    assert_eq!(node.url(), format!("redis://127.0.0.1:{port}/"));
    assert!(node.dir().join("redoubt.log").is_file());
    let mut c = node.client().await;
    let reply: String = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query_async(&mut c)
        .await
        .expect("SET");
    assert_eq!(reply, "OK");
    node.kill9();
    assert!(!node.is_running());
    assert!(!ping_answers(port), "the killed node still answers");
    node.restart();
    assert_eq!((node.port(), node.raft_addr()), (port, raft.as_str()));
    let mut c = node.client().await;
    let v: Option<String> = redis::cmd("GET")
        .arg("k")
        .query_async(&mut c)
        .await
        .expect("GET");
    assert_eq!(v.as_deref(), Some("v"));
    let status = node.terminate();
    assert!(status.success(), "{status}");
    assert!(
        node.log().contains("SIGTERM"),
        "the log records the shutdown:\n{}",
        node.log()
    );
}

#[tokio::test]
async fn dropping_a_node_stops_its_process() {
    let node = NodeProcess::start(NodeOptions::default());
    let port = node.port();
    let mut raw = RawConn::connect(port).await;
    assert_eq!(raw.call(&[b"PING"]).await, b"+PONG\r\n");
    drop(node);
    raw.read_until_closed(Duration::from_secs(5)).await;
    assert!(!ping_answers(port));
}

#[test]
fn a_node_that_cannot_start_is_reported_with_its_stderr() {
    let outcome =
        std::panic::catch_unwind(|| NodeProcess::start(NodeOptions::new().arg("loglevel", "loud")));
    let Err(panic) = outcome else {
        panic!("a node with a bad loglevel started")
    };
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(text.contains("exited before answering PING"), "{text}");
    assert!(
        text.contains("'loglevel'") && text.contains("loud"),
        "{text}"
    );
}
