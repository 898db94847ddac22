//! Damaged data is detected, never served (issue 8, part 5): flipped bytes in the data file
//! stop the start with one line naming the data folder and what to do (today's main started
//! and answered `ERR internal storage error` for the keys it could not read); a damaged snapshot
//! file is removed and rebuilt while the log still holds every entry, and stops the start once
//! the log was purged past what it covers (the snapshot is then the only copy).

use std::path::Path;
use std::time::Duration;

use crate::common::*;
use redoubt_cluster_tests::run_redoubt;

const MARKER: &[u8] = b"corrupt-me-marker-";

/// Flips one byte inside every occurrence of MARKER in the files under `dir`; how many.
fn flip_markers(dir: &Path) -> usize {
    let mut flipped = 0;
    for (path, mut bytes) in all_files(dir) {
        let mut changed = false;
        let mut i = 0;
        while i + MARKER.len() <= bytes.len() {
            if &bytes[i..i + MARKER.len()] == MARKER {
                bytes[i + 3] ^= 0x20;
                flipped += 1;
                changed = true;
                i += MARKER.len();
            } else {
                i += 1;
            }
        }
        if changed {
            std::fs::write(&path, &bytes).expect("write");
        }
    }
    flipped
}

/// Starts a node on `data` and expects it to refuse (exit code 1) with a line saying what is
/// damaged; returns that line. `who` describes the node for the failure message.
fn refused_start(data: &Path, who: &str) -> String {
    let dir_arg = data.display().to_string();
    let out = run_redoubt(
        &[
            "--dir",
            &dir_arg,
            "--port",
            "0",
            "--raft-addr",
            "127.0.0.1:0",
        ],
        &[],
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{who} must not start: {stderr}");
    stderr
        .lines()
        .find(|l| l.contains("damaged"))
        .unwrap_or_else(|| panic!("no line says what is damaged: {stderr}"))
        .to_string()
}

async fn write_marked(c: &mut MultiplexedConnection, n: usize) {
    for i in 0..n {
        let value = format!("{}{i:06}", String::from_utf8_lossy(MARKER)).repeat(20);
        expect(c, &["SET", &format!("k{i}"), &value], ok()).await;
    }
}

#[tokio::test]
async fn flipped_bytes_in_the_data_stop_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("node");
    let mut node = NodeProcess::start(NodeOptions::new().dir(&data));
    let mut c = node.client().await;
    write_marked(&mut c, 200).await;
    drop(c);
    node.terminate();
    let flipped = flip_markers(&data.join("data"));
    assert!(flipped > 0, "no marker found in the data files");

    let line = refused_start(&data, &format!("a node with {flipped} damaged records"));
    assert!(
        line.contains(&data.join("data").display().to_string()),
        "the line does not name the data folder: {line}"
    );
    assert!(line.contains("move that folder aside"), "{line}");
}

#[tokio::test]
async fn a_damaged_snapshot_file_is_rebuilt_from_a_complete_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("node");
    let opts = || {
        NodeOptions::new()
            .dir(&data)
            .arg("raft-snapshot-logs", "20")
    };
    let mut node = NodeProcess::start(opts());
    let mut c = node.client().await;
    write_marked(&mut c, 100).await;
    drop(c);
    let snapshot = data.join("snapshots").join("snapshot.bin");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !snapshot.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot was written"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    node.terminate();
    assert!(
        flip_markers(&data.join("snapshots")) > 0,
        "no marker in the snapshot"
    );

    let node = NodeProcess::start(opts());
    let mut c = node.client().await;
    for i in [0, 50, 99] {
        let want = format!("{}{i:06}", String::from_utf8_lossy(MARKER)).repeat(20);
        expect(&mut c, &["GET", &format!("k{i}")], b(&want)).await;
    }
    assert!(
        node.log().contains("the snapshot file is damaged"),
        "{}",
        node.log()
    );
    // Rebuilt: the file is back and intact (no marker damaged in it).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(bytes) = std::fs::read(&snapshot) {
            if contains_bytes(&bytes, MARKER) {
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the snapshot was not rebuilt"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_damaged_snapshot_stops_the_start_once_the_log_was_purged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("node");
    let mut node = NodeProcess::start(
        NodeOptions::new()
            .dir(&data)
            .arg("raft-snapshot-logs", "20"),
    );
    let mut c = node.client().await;
    write_marked(&mut c, 20).await;
    write_until_log_purged(&mut c, 1100).await;
    drop(c);
    node.terminate();
    let snapshots = data.join("snapshots");
    assert!(flip_markers(&snapshots) > 0, "no marker in the snapshot");

    let line = refused_start(&data, "a node whose only copy of some data is damaged");
    assert!(
        line.contains(&snapshots.join("snapshot.bin").display().to_string()),
        "the line does not name the snapshot file: {line}"
    );
    assert!(line.contains("move"), "{line}");
}
