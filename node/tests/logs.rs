//! Logs the network cannot forge or flood (issue 8, part 4): a client-supplied user name with a
//! newline or an ANSI escape never reaches the log raw, and a flood of failed AUTHs writes a
//! few lines and one summary instead of a line per attempt.

mod common;

use std::time::{Duration, Instant};

use common::*;

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
