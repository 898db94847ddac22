//! Honest failure on a full disk. sled, which holds the log and the keyspace, fails for good
//! once a write hits ENOSPC (every later operation returns that error until a restart), and
//! openraft stops its core on a log I/O error. So the node never lets the disk get that far:
//! [`DiskGuard`] watches the free space of the filesystem that holds `dir` and, below the
//! reserve (`min-free-disk`), client writes are refused up front with `-MISCONF` and a follower
//! refuses new entries (the leader retries them); reads, PING and everything else keep working,
//! and writes resume by themselves once space is free again.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often free space is measured.
const CHECK_EVERY: Duration = Duration::from_millis(250);

/// The free space of the data directory's filesystem against the reserve.
#[derive(Debug)]
pub struct DiskGuard {
    dir: PathBuf,
    reserve: u64,
    free: AtomicU64,
    low: AtomicBool,
    /// Bytes proposed since the last measurement.
    since_measured: AtomicU64,
}

impl DiskGuard {
    /// Measures once now; `reserve` 0 turns the guard off.
    pub fn new(dir: &Path, reserve: u64) -> Arc<DiskGuard> {
        let guard = Arc::new(DiskGuard {
            dir: dir.to_path_buf(),
            reserve,
            free: AtomicU64::new(u64::MAX),
            low: AtomicBool::new(false),
            since_measured: AtomicU64::new(0),
        });
        guard.measure();
        guard
    }

    /// Bytes free for this process on the filesystem of `dir` (None when it cannot be told).
    pub fn free_bytes(dir: &Path) -> Option<u64> {
        let st = rustix::fs::statvfs(dir).ok()?;
        Some(st.f_bavail.saturating_mul(st.f_frsize))
    }

    /// Counts `bytes` about to be written; measures at once when they add up to an eighth of
    /// the reserve since the last measurement (a burst of large writes cannot outrun the
    /// periodic check).
    pub fn account(&self, bytes: u64) {
        if self.reserve == 0 {
            return;
        }
        let total = self.since_measured.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total >= self.reserve / 8 {
            self.measure();
        }
    }

    fn measure(&self) {
        if self.reserve == 0 {
            return;
        }
        self.since_measured.store(0, Ordering::Relaxed);
        let Some(free) = DiskGuard::free_bytes(&self.dir) else {
            return;
        };
        self.free.store(free, Ordering::Relaxed);
        let low = free < self.reserve;
        let was = self.low.swap(low, Ordering::Relaxed);
        if low && !was {
            tracing::warn!(
                dir = %self.dir.display(),
                free,
                reserve = self.reserve,
                "disk almost full: refusing writes (MISCONF) until space is freed (min-free-disk)"
            );
        } else if was && !low {
            tracing::warn!(dir = %self.dir.display(), free, "disk space is back: accepting writes again");
        }
    }

    /// Whether the disk is below the reserve now.
    pub fn is_low(&self) -> bool {
        self.low.load(Ordering::Relaxed)
    }

    /// The refusal a client gets while the disk is low.
    pub fn misconf(&self) -> String {
        format!(
            "MISCONF Errors writing to disk: {} bytes free under '{}', less than min-free-disk ({} bytes). Writes are refused until space is freed; reads still work. Please check the node's log for details.",
            self.free.load(Ordering::Relaxed),
            self.dir.display(),
            self.reserve
        )
    }

    /// Re-measures until the process ends.
    pub async fn watch(self: Arc<Self>) {
        if self.reserve == 0 {
            return;
        }
        let mut tick = tokio::time::interval(CHECK_EVERY);
        loop {
            tick.tick().await;
            self.measure();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_larger_than_the_disk_is_low_and_zero_is_off() {
        let dir = std::env::temp_dir();
        let free = DiskGuard::free_bytes(&dir).expect("statvfs of the temp dir");
        assert!(free > 0);
        assert!(DiskGuard::new(&dir, u64::MAX).is_low());
        assert!(!DiskGuard::new(&dir, 0).is_low());
        assert!(!DiskGuard::new(&dir, 1).is_low());
        assert!(DiskGuard::new(&dir, u64::MAX)
            .misconf()
            .starts_with("MISCONF "));
    }
}
