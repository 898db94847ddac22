//! Bounded output per client (issue 8, part 3): `client-output-buffer-limit` with Redis's
//! syntax and defaults. A subscriber that never reads is closed at its pubsub limit and the
//! node's memory stays bounded (today's main kept every message: 1 GB of 1 MB messages took
//! RSS to 1.4 GB); CLIENT LIST `omem` and INFO `client_recent_max_output_buffer` show what a
//! client is owed; CONFIG GET / SET speak Redis's format.

use std::time::{Duration, Instant};

use crate::common::*;
use redoubt_cluster_tests::peak_rss_kib;

fn client_list_line(list: &str, name: &str) -> Option<String> {
    list.lines()
        .find(|l| l.contains(&format!(" name={name} ")))
        .map(str::to_string)
}

fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

#[tokio::test]
async fn a_subscriber_that_never_reads_is_closed_at_its_limit() {
    let node = NodeProcess::start(NodeOptions::new());
    let mut c = node.client().await;
    let pid = node.pid().expect("pid");
    let mut sub = RawConn::connect(node.port()).await;
    sub.call(&[b"CLIENT", b"SETNAME", b"slowsub"]).await;
    sub.send_cmd(&[b"SUBSCRIBE", b"news"]).await;
    let confirm = show(&sub.read_reply().await);
    assert!(confirm.contains("subscribe"), "{confirm}");
    let before = peak_rss_kib(pid);

    // 20 MB: more than the socket buffers hold, less than the 32 MB hard limit.
    let message = vec![b'm'; 1024 * 1024];
    let publish = |c: &mut MultiplexedConnection| {
        let message = message.clone();
        let mut c = c.clone();
        async move {
            let n: i64 = redis::cmd("PUBLISH")
                .arg("news")
                .arg(message)
                .query_async(&mut c)
                .await
                .expect("PUBLISH");
            n
        }
    };
    for _ in 0..20 {
        assert_eq!(publish(&mut c).await, 1);
    }
    let list = text(&q(&mut c, &["CLIENT", "LIST"]).await);
    let line = client_list_line(&list, "slowsub").expect("the subscriber is listed");
    let omem = field(&line, "omem");
    assert!(omem > 1024 * 1024, "omem={omem}: {line}");
    let info = text(&q(&mut c, &["INFO", "clients"]).await);
    let recent_max: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("client_recent_max_output_buffer:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("client_recent_max_output_buffer");
    assert!(recent_max >= omem / 2, "{info}");

    // 300 MB more: the subscriber crosses 32 MB and is closed; later messages reach no one.
    let mut received = Vec::new();
    for _ in 0..300 {
        received.push(publish(&mut c).await);
    }
    assert_eq!(
        received.last(),
        Some(&0),
        "the subscriber still receives: {received:?}"
    );
    let delivered: i64 = received.iter().sum();
    assert!(delivered < 40, "{delivered} more messages were queued");
    let grown_mib = peak_rss_kib(pid).saturating_sub(before) / 1024;
    assert!(
        grown_mib < 160,
        "peak RSS grew by {grown_mib} MiB for a subscriber limited to 32 MB"
    );
    // Closed (after at most a short grace for the write in progress).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = text(&q(&mut c, &["CLIENT", "LIST"]).await);
        if client_list_line(&list, "slowsub").is_none() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the subscriber is still connected:\n{list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stats = text(&q(&mut c, &["INFO", "stats"]).await);
    assert!(
        stats.contains("client_output_buffer_limit_disconnections:1"),
        "{stats}"
    );
    // Its socket ends after what was already sent.
    let rest = sub.read_until_closed(Duration::from_secs(30)).await;
    assert!(
        rest.len() < 64 * 1024 * 1024,
        "{} bytes after close",
        rest.len()
    );
    assert!(node.log().contains("output buffer limit"), "{}", node.log());
}

/// CONFIG GET client-output-buffer-limit answers `want`.
async fn expect_limits(c: &mut MultiplexedConnection, want: &str) {
    expect(
        c,
        &["CONFIG", "GET", "client-output-buffer-limit"],
        bulks(&["client-output-buffer-limit", want]),
    )
    .await;
}

#[tokio::test]
async fn client_output_buffer_limit_speaks_redis_syntax() {
    let node = NodeProcess::start(
        NodeOptions::new().arg("client-output-buffer-limit", "pubsub 2mb 1mb 10"),
    );
    let mut c = node.client().await;
    expect_limits(
        &mut c,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 2097152 1048576 10",
    )
    .await;
    expect(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1gb 0 0 replica 0 0 0",
        ],
        ok(),
    )
    .await;
    expect_limits(
        &mut c,
        "normal 1073741824 0 0 slave 0 0 0 pubsub 2097152 1048576 10",
    )
    .await;
    for bad in ["pubsub 1mb 1mb", "nobody 1 1 1", "pubsub lots 1 1"] {
        let e = q_err(
            &mut c,
            &["CONFIG", "SET", "client-output-buffer-limit", bad],
        )
        .await;
        assert!(e.starts_with("ERR CONFIG SET failed"), "{bad}: {e}");
    }
    // Unchanged by the refused values.
    expect_limits(
        &mut c,
        "normal 1073741824 0 0 slave 0 0 0 pubsub 2097152 1048576 10",
    )
    .await;
    // A 2 MB pubsub limit closes a stuck subscriber within a few MB of messages.
    let mut sub = RawConn::connect(node.port()).await;
    sub.send_cmd(&[b"SUBSCRIBE", b"ch"]).await;
    sub.read_reply().await;
    let message = vec![b'x'; 256 * 1024];
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    loop {
        let n: i64 = redis::cmd("PUBLISH")
            .arg("ch")
            .arg(message.clone())
            .query_async(&mut c)
            .await
            .expect("PUBLISH");
        sent += 1;
        if n == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline && sent < 400,
            "the subscriber was never closed"
        );
    }
    // Socket buffers absorb a few MB before the limit counts.
    assert!(sent < 200, "closed only after {sent} messages of 256 KB");
    // The file/flag form is refused with one line naming the directive.
    let out = redoubt_cluster_tests::run_redoubt(
        &["--client-output-buffer-limit", "pubsub 1mb", "--port", "0"],
        &[],
        Duration::from_secs(10),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("client-output-buffer-limit"), "{stderr}");
}

#[tokio::test]
async fn the_publish_queue_of_a_stalled_peer_is_bounded() {
    use redoubt_cluster_tests::cluster::{Cluster, ClusterOptions, LEADER_TIMEOUT};
    let cluster = Cluster::start(
        3,
        ClusterOptions::new().arg("client-output-buffer-limit", "replica 2mb 0 0"),
    );
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let stalled = (1..=3).find(|&id| id != leader).expect("a follower");
    let pid = cluster.node(stalled).pid().expect("pid");
    // SIGSTOP: the peer accepts connections but never answers; its queue can only grow.
    let stop = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .expect("kill")
    };
    assert!(stop("-STOP").success());
    let mut c = cluster.client(leader).await;
    let before = peak_rss_kib(cluster.node(leader).pid().expect("pid"));
    let message = vec![b'p'; 256 * 1024];
    for _ in 0..400 {
        let _: i64 = redis::cmd("PUBLISH")
            .arg("news")
            .arg(message.clone())
            .query_async(&mut c)
            .await
            .expect("PUBLISH");
    }
    let stats = text(&q(&mut c, &["INFO", "stats"]).await);
    let dropped: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("pubsub_fanout_dropped:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("pubsub_fanout_dropped");
    assert!(
        dropped >= 300,
        "only {dropped} of 400 messages dropped:\n{stats}"
    );
    let grown_mib =
        peak_rss_kib(cluster.node(leader).pid().expect("pid")).saturating_sub(before) / 1024;
    assert!(
        grown_mib < 64,
        "the leader grew by {grown_mib} MiB for 100 MB published"
    );
    assert!(stop("-CONT").success());
    assert!(cluster.node(leader).log().contains("queue is full"));
}
