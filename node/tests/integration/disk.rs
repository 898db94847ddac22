//! Bad disks (issue 8, part 5): a node whose disk fills up refuses writes with `-MISCONF`,
//! keeps serving reads and PING, takes writes again by itself once space is freed, and stops
//! promptly on SIGTERM. Runs on a small tmpfs, so it needs root (mount); skipped with a message
//! otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .ok()?;
        status.success().then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .expect("df");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("df output")
}

/// Fills `dir` with a file until about `leave` bytes stay free.
fn fill(dir: &Path, leave: u64) -> PathBuf {
    let filler = dir.join("filler");
    let size = free_bytes(dir).saturating_sub(leave);
    std::fs::write(&filler, vec![0u8; size as usize]).expect("write the filler");
    filler
}

#[tokio::test]
async fn a_full_disk_refuses_writes_keeps_reads_and_recovers_by_itself() {
    let Some(fs) = Tmpfs::mount("160m") else {
        eprintln!(
            "SKIPPED: cannot mount a tmpfs here (needs root); the disk-full test did not run"
        );
        return;
    };
    let data = fs.path().join("node");
    let mut node = NodeProcess::start(NodeOptions::new().dir(&data).arg("min-free-disk", "32mb"));
    let mut c = node.client().await;
    expect(&mut c, &["SET", "before", "kept"], ok()).await;
    let filler = fill(fs.path(), 64 * 1024 * 1024);

    // 1 MB values until the node refuses: never a storage error, never a hang.
    let value = "v".repeat(1024 * 1024);
    let mut refused = None;
    for i in 0..200 {
        match try_q(&mut c, &["SET", &format!("big{i}"), &value]).await {
            Ok(_) => {}
            Err(e) => {
                refused = Some((i, e));
                break;
            }
        }
    }
    let (written, error) = refused.expect("the disk never counted as full");
    assert!(
        error.starts_with("MISCONF"),
        "after {written} writes: {error}"
    );
    assert!(!error.contains("storage"), "{error}");
    // Reads and PING still work; so does a write from another connection: refused the same way.
    expect(&mut c, &["GET", "before"], b("kept")).await;
    expect(&mut c, &["PING"], simple("PONG")).await;
    assert_eq!(as_int(&q(&mut c, &["EXISTS", "big0"]).await), 1);
    let mut other = node.client().await;
    let e = q_err(&mut other, &["SET", "x", "y"]).await;
    assert!(e.starts_with("MISCONF"), "{e}");
    assert!(node.log().contains("disk almost full"), "{}", node.log());

    // Free the space: writes come back without a restart.
    std::fs::remove_file(&filler).expect("remove the filler");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match try_q(&mut c, &["SET", "after", "space"]).await {
            Ok(_) => break,
            Err(e) => {
                assert!(e.starts_with("MISCONF"), "{e}");
                assert!(Instant::now() < deadline, "writes never came back: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    expect(&mut c, &["GET", "after"], b("space")).await;
    expect(&mut c, &["GET", "before"], b("kept")).await;

    // SIGTERM stops it promptly.
    let started = Instant::now();
    let status = node.terminate();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "SIGTERM took {:?} ({status:?})",
        started.elapsed()
    );
}
