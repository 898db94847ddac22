//! Logs the network cannot forge or flood (issue 8, part 4): a client-supplied user name with a
//! newline or an ANSI escape never reaches the log raw, and a flood of failed AUTHs writes a
//! few lines and one summary instead of a line per attempt.

use std::time::{Duration, Instant};

use crate::common::*;

const FORGED: &str = "2026-12-03T00:00:00.000000Z  WARN redoubt: admin granted to mallory";

#[tokio::test]
async fn a_user_name_cannot_forge_a_log_line() {
    let node = NodeProcess::start(NodeOptions::new().arg("requirepass", "right-pw"));
    let mut raw = RawConn::connect(node.port()).await;
    let user = format!("mallory\n{FORGED}\x1b[2J");
    let reply = show(&raw.call(&[b"AUTH", user.as_bytes(), b"wrong-pw"]).await);
    assert!(reply.starts_with("-WRONGPASS"), "{reply}");
    // The refusal is logged, escaped: no line starts with the forged text, no raw escape.
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = node.log();
        if log.contains("authentication failed") || Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        log.contains("authentication failed"),
        "the failed AUTH was not logged:\n{log}"
    );
    assert!(
        !log.lines().any(|l| l.starts_with(FORGED)),
        "a forged line reached the log:\n{log}"
    );
    assert!(
        !log.contains('\x1b'),
        "a raw escape reached the log:\n{log}"
    );
    assert!(
        log.contains("mallory\\n2026-12-03T00:00:00"),
        "the user name is not shown escaped:\n{log}"
    );
}

#[tokio::test]
async fn a_flood_of_failed_auths_is_summarised() {
    let node = NodeProcess::start(NodeOptions::new().arg("requirepass", "right-pw"));
    let mut raw = RawConn::connect(node.port()).await;
    let before = node.log().len();
    // 20,000 pipelined failed AUTHs (today's main wrote 2.9 MB of log lines for them).
    let n = 20_000;
    let mut pipeline = Vec::new();
    for _ in 0..n {
        pipeline.extend_from_slice(&redoubt_cluster_tests::raw::encode_cmd(&[
            &b"AUTH"[..],
            b"flooder",
            b"nope",
        ]));
    }
    raw.send(&pipeline).await;
    for _ in 0..n {
        let reply = raw.read_reply().await;
        assert!(show(&reply).starts_with("-WRONGPASS"));
    }
    let written = node.log().len() - before;
    assert!(
        written < 16 * 1024,
        "{n} failed AUTHs wrote {written} bytes of log"
    );
    // Within the next window, one line says how many were not logged one by one.
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let log = node.log();
        if let Some(line) = log
            .lines()
            .find(|l| l.contains("more failed AUTHs from 127.0.0.1"))
        {
            assert!(line.contains("flooder"), "{line}");
            let count: u64 = line
                .split("WARN")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().find_map(|w| w.parse().ok()))
                .unwrap_or(0);
            assert!(count >= n as u64 - 10, "summary counts {count}: {line}");
            break;
        }
        assert!(Instant::now() < deadline, "no summary line:\n{log}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Still answering.
    let reply = show(&raw.call(&[b"AUTH", b"right-pw"]).await);
    assert_eq!(reply, "+OK\r\n");
}

#[tokio::test]
async fn garbage_handshakes_on_the_peer_port_are_summarised() {
    use redoubt_cluster_tests::cluster::{peer_tls_options, Cluster, LEADER_TIMEOUT};
    use tokio::io::AsyncWriteExt;
    let certs = tempfile::tempdir().expect("tempdir");
    redoubt_cluster_tests::certs_init(certs.path(), &["node1"]);
    let cluster = Cluster::start(1, peer_tls_options(certs.path()));
    cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let before = cluster.node(1).log().len();
    let addr = cluster.node(1).raft_addr().to_string();
    for _ in 0..2_000 {
        let mut s = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let _ = s
            .write_all(b"\x16\x03\x01\x00\x05garbage-not-tls\r\n")
            .await;
    }
    // The refusals are counted; the log holds a few lines, not 2,000.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let written = cluster.node(1).log().len() - before;
    assert!(
        written < 16 * 1024,
        "2,000 garbage handshakes wrote {written} bytes of log:\n{}",
        &cluster.node(1).log()[before..]
    );
}

#[tokio::test]
async fn peers_that_are_down_do_not_flood_the_log() {
    use redoubt_cluster_tests::cluster::{Cluster, ClusterOptions, LEADER_TIMEOUT};
    let mut cluster = Cluster::start(3, ClusterOptions::new());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    // The leader and one follower go: the last node campaigns without end.
    let survivor = (1..=3).find(|&id| id != leader).expect("a follower");
    for id in (1..=3).filter(|&id| id != survivor) {
        cluster.kill9(id);
    }
    let leader = survivor;
    let before = cluster.node(leader).log().len();
    tokio::time::sleep(Duration::from_secs(14)).await;
    let log = cluster.node(leader).log();
    let lines = log[before..]
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("WARN"))
        .count();
    // Today's main: an openraft error per vote request and peer, about 60 in 14 s here (and
    // thousands a minute on a loaded machine); now 5 per call site and 10 s, then a summary.
    assert!(
        lines < 25,
        "{lines} warning/error lines in 14 s with two peers down:\n{}",
        &log[before..]
    );
    assert!(
        log[before..].contains("repeated warnings or errors"),
        "no summary of the repeated errors:\n{}",
        &log[before..]
    );
}
