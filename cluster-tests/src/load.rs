//! A write load for fault tests: clients on chosen nodes, each writing its own keys one
//! after the other, recording which writes were acknowledged and when.
//!
//! After a fault, [`LoadReport::verify`] checks that every acknowledged write is on every
//! node it asks (none lost), and [`LoadReport::longest_gap`] tells the longest window in
//! which no client anywhere had a write acknowledged (the outage as a client sees it).
//! A write that failed or timed out is not acknowledged: it may or may not be applied, and
//! nothing is asserted about it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster::Cluster;

/// How long one write may take before the client counts it as failed (a paused node never
/// answers) and connects again.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// A running load; [`WriteLoad::stop`] ends it.
pub struct WriteLoad {
    stop: Arc<AtomicBool>,
    /// When each acknowledgement came, as it happens (for waits while the load runs).
    acks: Arc<Mutex<Vec<Instant>>>,
    tasks: Vec<tokio::task::JoinHandle<ClientLog>>,
    started: Instant,
}

/// What one client saw.
#[derive(Default)]
struct ClientLog {
    acked: Vec<(String, Instant)>,
    errors: Vec<(String, Instant)>,
}

/// What the load saw, all clients together.
pub struct LoadReport {
    pub started: Instant,
    pub stopped: Instant,
    /// Acknowledged writes (key, when), in acknowledgement order.
    pub acked: Vec<(String, Instant)>,
    /// Failed writes (error text, when).
    pub errors: Vec<(String, Instant)>,
}

impl WriteLoad {
    /// Starts `clients_per_node` clients on each node of `nodes`.
    pub fn start(cluster: &Cluster, nodes: &[usize], clients_per_node: usize) -> WriteLoad {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for &node in nodes {
            for c in 0..clients_per_node {
                let client = cluster.node(node).redis_client();
                let stop = stop.clone();
                let prefix = format!("load:{node}:{c}:");
                tasks.push(tokio::spawn(run_client(client, prefix, stop, acks.clone())));
            }
        }
        WriteLoad {
            stop,
            acks,
            tasks,
            started: Instant::now(),
        }
    }

    /// Writes acknowledged after `t` so far.
    pub fn acked_since(&self, t: Instant) -> usize {
        let acks = self.acks.lock().unwrap_or_else(|p| p.into_inner());
        acks.iter().filter(|a| **a > t).count()
    }

    /// Stops every client (each finishes or gives up its write in flight) and reports.
    pub async fn stop(self) -> LoadReport {
        self.stop.store(true, Ordering::Release);
        let mut acked = Vec::new();
        let mut errors = Vec::new();
        for t in self.tasks {
            if let Ok(log) = t.await {
                acked.extend(log.acked);
                errors.extend(log.errors);
            }
        }
        acked.sort_by_key(|(_, t)| *t);
        errors.sort_by_key(|(_, t)| *t);
        LoadReport {
            started: self.started,
            stopped: Instant::now(),
            acked,
            errors,
        }
    }
}

async fn run_client(
    client: redis::Client,
    prefix: String,
    stop: Arc<AtomicBool>,
    acks: Arc<Mutex<Vec<Instant>>>,
) -> ClientLog {
    let log = Arc::new(Mutex::new(ClientLog::default()));
    let mut conn = None;
    let mut seq = 0u64;
    while !stop.load(Ordering::Acquire) {
        if conn.is_none() {
            match tokio::time::timeout(
                WRITE_TIMEOUT,
                client.get_multiplexed_async_connection_with_config(
                    &crate::connection_config().set_response_timeout(Some(WRITE_TIMEOUT)),
                ),
            )
            .await
            {
                Ok(Ok(c)) => conn = Some(c),
                Ok(Err(e)) => {
                    record_error(&log, format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                Err(_) => {
                    record_error(&log, "connect: timed out".into());
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        seq += 1;
        let key = format!("{prefix}{seq}");
        let result = tokio::time::timeout(
            WRITE_TIMEOUT,
            redis::cmd("SET")
                .arg(&key)
                .arg(seq)
                .query_async::<String>(c),
        )
        .await;
        match result {
            Ok(Ok(_)) => {
                let now = Instant::now();
                log.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .acked
                    .push((key, now));
                acks.lock().unwrap_or_else(|p| p.into_inner()).push(now);
            }
            Ok(Err(e)) => {
                let broken = e.is_io_error() || e.is_connection_dropped() || e.is_timeout();
                record_error(&log, e.to_string());
                if broken {
                    conn = None;
                } else {
                    // TRYAGAIN and the like: the node answers, but not yet with success.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            Err(_) => {
                record_error(&log, "write timed out".into());
                conn = None;
            }
        }
    }
    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
    std::mem::take(&mut *l)
}

fn record_error(log: &Mutex<ClientLog>, text: String) {
    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
    l.errors.push((text, Instant::now()));
}

impl LoadReport {
    /// The longest time, between `from` and the end of the load, in which no write was
    /// acknowledged (counting from `from` to the first acknowledgement after it).
    pub fn longest_gap(&self, from: Instant) -> Duration {
        let mut last = from;
        let mut longest = Duration::ZERO;
        for (_, t) in self.acked.iter().filter(|(_, t)| *t >= from) {
            longest = longest.max(t.duration_since(last));
            last = *t;
        }
        longest.max(self.stopped.saturating_duration_since(last))
    }

    /// Acknowledged writes after `t`.
    pub fn acked_after(&self, t: Instant) -> usize {
        self.acked.iter().filter(|(_, a)| *a > t).count()
    }

    /// The distinct error texts, with how often each came (for failure messages).
    pub fn error_summary(&self) -> String {
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for (e, _) in &self.errors {
            *counts.entry(e.as_str()).or_default() += 1;
        }
        counts
            .iter()
            .map(|(e, n)| format!("{n}x {e}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Checks that every acknowledged write is on node `id` (read there, linearizably).
    /// Returns the keys missing, or why node `id` could not be asked.
    pub async fn missing_on(&self, cluster: &Cluster, id: usize) -> Result<Vec<String>, String> {
        let mut conn = crate::connect(&cluster.node(id).url())
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut missing = Vec::new();
        for chunk in self.acked.chunks(500) {
            let keys: Vec<&str> = chunk.iter().map(|(k, _)| k.as_str()).collect();
            let values: Vec<Option<String>> = redis::cmd("MGET")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .map_err(|e| format!("MGET: {e}"))?;
            missing.extend(
                keys.iter()
                    .zip(values)
                    .filter(|(_, v)| v.is_none())
                    .map(|(k, _)| k.to_string()),
            );
        }
        Ok(missing)
    }

    /// Panics unless every acknowledged write is on every live member.
    pub async fn verify(&self, cluster: &Cluster) {
        assert!(
            !self.acked.is_empty(),
            "the load had no write acknowledged at all: {}",
            self.error_summary()
        );
        for id in cluster.live_members() {
            let missing = self
                .missing_on(cluster, id)
                .await
                .unwrap_or_else(|e| panic!("node {id}: {e}\n{}", cluster.diagnostics()));
            assert!(
                missing.is_empty(),
                "{} of {} acknowledged writes are missing on node {id}, e.g. {:?}\n{}",
                missing.len(),
                self.acked.len(),
                &missing[..missing.len().min(5)],
                cluster.diagnostics()
            );
        }
    }
}
