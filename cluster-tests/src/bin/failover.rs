//! `failover`: how long a three-node Redoubt cluster goes without an acknowledged write when
//! its leader fails, measured from the clients' side. A tool for a human to run by hand (see
//! `scripts/failover.sh`), not a test.
//!
//! For each fault and each repetition it starts a fresh three-node cluster of real `redoubt`
//! processes with a fault proxy in front of every peer port, runs a write load with clients on
//! every node, injects the fault at time T, keeps the load running until writes have resumed
//! (plus a margin), undoes the fault, stops the load, checks that no acknowledged write was
//! lost ([`LoadReport::verify`]) and records the longest window after T in which no client
//! anywhere had a write acknowledged.
//!
//! Faults: `kill` (kill -9 of the leader, restarted afterwards), `pause` (SIGSTOP of the
//! leader, SIGCONT afterwards), `isolate` (the leader cut off from both others, healed
//! afterwards), `transfer` (RAFT.TRANSFER to a follower under load, several per repetition,
//! each measured on its own) and `rtt150` (150 ms added to the round trip of every peer link
//! for a few seconds).
//!
//! Usage: `failover [--reps N] [--only kill,pause,isolate,transfer,rtt150]`
//!
//! Per-repetition lines come first, then one markdown table. A failure (an acknowledged write
//! missing, writes that never resume, a transfer refused, any panic of the harness) is a row
//! of its own in the per-repetition lines and is counted in the table; the full text, with the
//! nodes' logs, goes to a file whose path is printed.

use std::fmt::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redoubt_cluster_tests::cluster::{parse_info, Cluster, ClusterOptions, LEADER_TIMEOUT};
use redoubt_cluster_tests::load::{LoadReport, WriteLoad};

/// Writers per node (each writes its own keys, one write after the other).
const CLIENTS_PER_NODE: usize = 2;
/// Load before the fault.
const WARM_UP: Duration = Duration::from_secs(1);
/// Load kept running once writes resumed, before the fault is undone.
const AFTER_RESUME: Duration = Duration::from_secs(2);
/// Load kept running after the fault is undone (and the node caught up).
const AFTER_UNDO: Duration = Duration::from_secs(1);
/// How long after the fault writes may take to resume before the repetition counts as failed.
const RESUME_TIMEOUT: Duration = Duration::from_secs(20);
/// Applied entries the new leader must add before writes count as resumed.
const RESUME_ENTRIES: u64 = 10;
/// How long a node brought back may take to catch up.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(30);
/// Leadership transfers per repetition of `transfer`, each measured on its own.
const TRANSFERS_PER_REP: usize = 2;
/// How long RAFT.TRANSFER may take to answer.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(10);
/// The round trip added to every peer link by `rtt150`, and for how long.
const RTT: Duration = Duration::from_millis(150);
const DELAY_FOR: Duration = Duration::from_secs(5);
/// How long after a failed verification the nodes are asked again.
const RECHECK_AFTER: Duration = Duration::from_secs(3);
/// Load measured before the delay, for the writes/s baseline of `rtt150`.
const BASELINE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Kill,
    Pause,
    Isolate,
    Transfer,
    Rtt150,
}

impl Fault {
    const ALL: [Fault; 5] = [
        Fault::Kill,
        Fault::Pause,
        Fault::Isolate,
        Fault::Transfer,
        Fault::Rtt150,
    ];

    fn name(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Pause => "pause",
            Fault::Isolate => "isolate",
            Fault::Transfer => "transfer",
            Fault::Rtt150 => "rtt150",
        }
    }

    fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The longest gap we aim for, if there is one.
    fn target(self) -> Option<Duration> {
        match self {
            Fault::Kill | Fault::Pause | Fault::Isolate => Some(Duration::from_millis(1500)),
            Fault::Transfer => Some(Duration::from_millis(300)),
            Fault::Rtt150 => None,
        }
    }
}

/// What `rtt150` measured in one repetition.
#[derive(Clone, Debug)]
struct RttNumbers {
    before_wps: f64,
    during_wps: f64,
    leader_before: usize,
    leader_after: usize,
    term_before: Option<u64>,
    term_after: Option<u64>,
}

/// What one repetition measured. Filled as it goes, so that what was measured before a panic
/// (e.g. in `verify`) is kept.
#[derive(Debug, Default)]
struct Outcome {
    /// One longest gap per fault event (one, or one per transfer).
    gaps: Vec<Duration>,
    /// Short descriptions of what went wrong.
    failures: Vec<String>,
    /// RAFT.TRANSFER answered OK / sent.
    transfers_ok: usize,
    transfers_sent: usize,
    rtt: Option<RttNumbers>,
    /// Human-readable details for the per-repetition line.
    detail: Vec<String>,
}

type Shared = Arc<Mutex<Outcome>>;

fn with<R>(out: &Shared, f: impl FnOnce(&mut Outcome) -> R) -> R {
    f(&mut out.lock().unwrap_or_else(|p| p.into_inner()))
}

struct Args {
    reps: usize,
    faults: Vec<Fault>,
}

const USAGE: &str = "usage: failover [--reps N] [--only kill,pause,isolate,transfer,rtt150]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        reps: 5,
        faults: Fault::ALL.to_vec(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match name.as_str() {
            "--reps" => {
                let v = value()?;
                args.reps = v
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("--reps takes a positive number, not {v:?}"))?;
            }
            "--only" => {
                let v = value()?;
                let mut faults = Vec::new();
                for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let f = Fault::parse(part).ok_or_else(|| {
                        format!("unknown fault {part:?} (known: kill, pause, isolate, transfer, rtt150)")
                    })?;
                    if !faults.contains(&f) {
                        faults.push(f);
                    }
                }
                if faults.is_empty() {
                    return Err(format!("--only needs at least one fault\n{USAGE}"));
                }
                args.faults = faults;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

/// Where the last panic happened (set by the panic hook, read after `catch_unwind`).
static LAST_PANIC_AT: Mutex<Option<String>> = Mutex::new(None);

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // Panic messages of the harness carry every node's log tail: keep them off the terminal
    // (they go to a file), print one line.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = panic_text(info.payload());
        eprintln!(
            "[failover] panic at {at} (thread {:?}): {}",
            std::thread::current().name().unwrap_or("?"),
            first_line(&msg, 200)
        );
        *LAST_PANIC_AT.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
    }));
    eprintln!(
        "[failover] redoubt binary: {}; {} repetition(s) of {}",
        redoubt_cluster_tests::redoubt_bin().display(),
        args.reps,
        args.faults
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut results: Vec<(Fault, Vec<Outcome>)> = Vec::new();
    for &fault in &args.faults {
        let mut outcomes = Vec::new();
        for rep in 1..=args.reps {
            eprintln!(
                "[failover] {} repetition {rep}/{} ...",
                fault.name(),
                args.reps
            );
            let outcome = run_repetition(fault, rep);
            println!("{}", rep_line(fault, rep, args.reps, &outcome));
            outcomes.push(outcome);
        }
        results.push((fault, outcomes));
    }
    println!();
    print!("{}", table(&results));
    let failed = results
        .iter()
        .any(|(_, o)| o.iter().any(|o| !o.failures.is_empty()));
    if failed {
        println!(
            "\nfull failure reports (with node logs): {}",
            logs_dir().display()
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// One repetition on its own runtime: whatever it leaves running (the load's clients after a
/// panic) ends with the runtime, and a panic becomes a failure of this repetition.
fn run_repetition(fault: Fault, rep: usize) -> Outcome {
    let out: Shared = Arc::default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async {
            match fault {
                Fault::Kill | Fault::Pause | Fault::Isolate => leader_fault(fault, rep, &out).await,
                Fault::Transfer => transfers(rep, &out).await,
                Fault::Rtt150 => rtt150(rep, &out).await,
            }
        })
    }));
    runtime.shutdown_timeout(Duration::from_secs(2));
    let mut outcome = std::mem::take(&mut *out.lock().unwrap_or_else(|p| p.into_inner()));
    if let Err(panic) = result {
        let msg = panic_text(&*panic);
        let at = LAST_PANIC_AT
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default();
        let file = save_report(
            &format!("{}-rep{rep}-panic.txt", fault.name()),
            &format!("panic at {at}\n{msg}"),
        );
        outcome.failures.push(format!(
            "panic: {} (full text: {file})",
            first_line(&msg, 160)
        ));
    }
    outcome
}

/// kill -9, SIGSTOP or isolation of the leader.
async fn leader_fault(fault: Fault, rep: usize, out: &Shared) {
    let mut cluster = start_cluster(out);
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let load = WriteLoad::start(&cluster, &cluster.members(), CLIENTS_PER_NODE);
    tokio::time::sleep(WARM_UP).await;

    let t = Instant::now();
    match fault {
        Fault::Kill => cluster.kill9(leader),
        Fault::Pause => cluster.pause(leader),
        Fault::Isolate => cluster.isolate(leader),
        _ => unreachable!(),
    }
    let resumed = wait_writes_resume(&cluster, t).await;
    match &resumed {
        Ok(r) => with(out, |o| {
            o.detail.push(format!(
                "leader {leader} -> {} (agreed after {} ms, applied index moving after {} ms)",
                r.leader,
                r.leader_after.as_millis(),
                r.resumed_after.as_millis()
            ))
        }),
        Err(e) => {
            let file = save_report(
                &format!("{}-rep{rep}-no-resume.txt", fault.name()),
                &format!("{e}\n{}", cluster.diagnostics()),
            );
            with(out, |o| o.failures.push(format!("{e} (node logs: {file})")));
        }
    }
    tokio::time::sleep(AFTER_RESUME).await;

    let undo = Instant::now();
    match fault {
        Fault::Kill => cluster.restart(leader),
        Fault::Pause => cluster.resume(leader),
        Fault::Isolate => cluster.heal(),
        _ => unreachable!(),
    }
    cluster.wait_caught_up(leader, CATCH_UP_TIMEOUT).await;
    let caught_up = undo.elapsed();
    tokio::time::sleep(AFTER_UNDO).await;
    let report = load.stop().await;

    let gap = report.longest_gap(t);
    let during = gap_within(&report, t, undo);
    let after = gap_within(&report, undo, report.stopped);
    with(out, |o| {
        o.gaps.push(gap);
        o.detail.push(format!(
            "gap before the undo {} ms, after it {} ms; node {leader} back and caught up in {} ms",
            during.as_millis(),
            after.as_millis(),
            caught_up.as_millis()
        ));
        o.detail.push(load_summary(&report));
    });
    verify(
        &report,
        &cluster,
        out,
        &format!("{}-rep{rep}", fault.name()),
    )
    .await;
}

/// RAFT.TRANSFER to a follower under load, [`TRANSFERS_PER_REP`] times.
async fn transfers(rep: usize, out: &Shared) {
    let cluster = start_cluster(out);
    cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let load = WriteLoad::start(&cluster, &cluster.members(), CLIENTS_PER_NODE);
    tokio::time::sleep(WARM_UP).await;

    let mut marks = Vec::new();
    for i in 0..TRANSFERS_PER_REP {
        let leader = cluster.leader().await;
        let followers: Vec<usize> = cluster
            .live_members()
            .into_iter()
            .filter(|id| *id != leader)
            .collect();
        let target = followers[i % followers.len()];
        let mut c = cluster.client(leader).await;
        let t = Instant::now();
        let reply = tokio::time::timeout(
            TRANSFER_TIMEOUT,
            redis::cmd("RAFT.TRANSFER")
                .arg(target)
                .query_async::<String>(&mut c),
        )
        .await;
        let answered = t.elapsed();
        let ok = matches!(&reply, Ok(Ok(s)) if s == "OK");
        let reply_text = match &reply {
            Ok(Ok(s)) => s.clone(),
            Ok(Err(e)) => format!("error: {e}"),
            Err(_) => format!("no answer within {TRANSFER_TIMEOUT:?}"),
        };
        with(out, |o| {
            o.transfers_sent += 1;
            if ok {
                o.transfers_ok += 1;
            } else {
                let file = save_report(
                    &format!("transfer-rep{rep}-{}.txt", i + 1),
                    &format!(
                        "RAFT.TRANSFER {target} sent to leader {leader}: {reply_text}\n{}",
                        cluster.diagnostics()
                    ),
                );
                o.failures.push(format!(
                    "transfer {} ({leader} -> {target}) answered {reply_text:?} after {} ms \
                     (node logs: {file})",
                    i + 1,
                    answered.as_millis()
                ));
            }
        });
        let resumed = wait_writes_resume(&cluster, t).await;
        let now_leads = match &resumed {
            Ok(r) => r.leader.to_string(),
            Err(e) => {
                with(out, |o| o.failures.push(format!("transfer {}: {e}", i + 1)));
                "?".into()
            }
        };
        marks.push((
            t,
            format!(
            "transfer {}, node {leader} -> node {target}: {reply_text} after {} ms, leader now {now_leads}",
            i + 1,
            answered.as_millis()
        ),
        ));
        tokio::time::sleep(AFTER_RESUME).await;
    }
    let report = load.stop().await;
    with(out, |o| {
        for (i, (t, text)) in marks.iter().enumerate() {
            let end = marks.get(i + 1).map_or(report.stopped, |(next, _)| *next);
            let gap = gap_within(&report, *t, end);
            o.gaps.push(gap);
            o.detail.push(format!("{text}, gap {} ms", gap.as_millis()));
        }
        o.detail.push(load_summary(&report));
    });
    verify(&report, &cluster, out, &format!("transfer-rep{rep}")).await;
}

/// 150 ms more round trip on every peer link for [`DELAY_FOR`], under load.
async fn rtt150(rep: usize, out: &Shared) {
    let mut cluster = start_cluster(out);
    cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let load = WriteLoad::start(&cluster, &cluster.members(), CLIENTS_PER_NODE);
    tokio::time::sleep(WARM_UP).await;
    let baseline_from = Instant::now();
    tokio::time::sleep(BASELINE).await;

    let leader_before = cluster.leader().await;
    let term_before = max_term(&cluster).await;
    let t = Instant::now();
    cluster.delay_links(RTT);
    tokio::time::sleep(DELAY_FOR).await;
    let t_end = Instant::now();
    let leader_after = cluster.leader().await;
    let term_after = max_term(&cluster).await;
    cluster.heal();
    tokio::time::sleep(AFTER_UNDO).await;
    let report = load.stop().await;

    let gap = gap_within(&report, t, t_end);
    let rate = |from: Instant, to: Instant| {
        let n = report
            .acked
            .iter()
            .filter(|(_, a)| *a >= from && *a < to)
            .count();
        n as f64 / to.duration_since(from).as_secs_f64()
    };
    let numbers = RttNumbers {
        before_wps: rate(baseline_from, t),
        during_wps: rate(t, t_end),
        leader_before,
        leader_after,
        term_before,
        term_after,
    };
    with(out, |o| {
        o.gaps.push(gap);
        o.detail.push(format!(
            "writes/s {:.0} before, {:.0} during the delay (first second {:.0}, rest {:.0}); \
             leader {leader_before} -> {leader_after}, term {} -> {}",
            numbers.before_wps,
            numbers.during_wps,
            rate(t, t + Duration::from_secs(1)),
            rate(t + Duration::from_secs(1), t_end),
            fmt_opt(term_before),
            fmt_opt(term_after)
        ));
        o.detail.push(load_summary(&report));
        o.rtt = Some(numbers);
    });
    verify(&report, &cluster, out, &format!("rtt150-rep{rep}")).await;
}

/// Checks that every acknowledged write is on every live member, as [`LoadReport::verify`]
/// does (MGET of every acknowledged key on each node), but without panicking, so that a miss
/// can be looked at: it records what each node lacks and its Raft view, checks again
/// [`RECHECK_AFTER`] later (a write still missing then is lost; one found then was only read
/// stale) and saves every node's log. When nothing is missing, the harness's own
/// [`LoadReport::verify`] runs too (a panic there is a failure like any other).
async fn verify(report: &LoadReport, cluster: &Cluster, out: &Shared, name: &str) {
    let first = missing_everywhere(report, cluster).await;
    if first
        .iter()
        .all(|(_, r)| matches!(r, Ok(m) if m.is_empty()))
    {
        report.verify(cluster).await;
        with(out, |o| {
            o.detail.push(format!(
                "verify OK ({} acknowledged writes on all of {:?})",
                report.acked.len(),
                cluster.live_members()
            ))
        });
        return;
    }
    let mut views = Vec::new();
    for id in cluster.live_members() {
        views.push(match cluster.raft_view(id).await {
            Ok(v) => format!(
                "node {id}: {} leader={:?} term={} applied={} last_log={}",
                v.state, v.leader_id, v.term, v.applied_index, v.last_log_index
            ),
            Err(e) => format!("node {id}: {e}"),
        });
    }
    let first_text = describe_missing(&first, report.acked.len());
    tokio::time::sleep(RECHECK_AFTER).await;
    let again = missing_everywhere(report, cluster).await;
    let again_text = describe_missing(&again, report.acked.len());
    let file = save_report(
        &format!("{name}-verify.txt"),
        &format!(
            "verify right after the load stopped: {first_text}
raft views then: {}
             {RECHECK_AFTER:?} later: {again_text}

missing keys at first check:
{}

             load errors: {}

{}",
            views.join("; "),
            first
                .iter()
                .map(|(id, r)| match r {
                    Ok(m) => format!("node {id}: {m:?}"),
                    Err(e) => format!("node {id}: {e}"),
                })
                .collect::<Vec<_>>()
                .join("\n"),
            report.error_summary(),
            cluster.diagnostics()
        ),
    );
    with(out, |o| {
        o.failures.push(format!(
            "verify: {first_text}; {} s later: {again_text} (raft views: {}; node logs: {file})",
            RECHECK_AFTER.as_secs(),
            views.join("; ")
        ))
    });
}

/// For every live member, the acknowledged keys it does not return (or why it did not answer).
async fn missing_everywhere(
    report: &LoadReport,
    cluster: &Cluster,
) -> Vec<(usize, Result<Vec<String>, String>)> {
    let mut out = Vec::new();
    for id in cluster.live_members() {
        out.push((id, report.missing_on(cluster, id).await));
    }
    out
}

fn describe_missing(found: &[(usize, Result<Vec<String>, String>)], acked: usize) -> String {
    found
        .iter()
        .map(|(id, r)| match r {
            Ok(m) if m.is_empty() => format!("node {id} has all"),
            Ok(m) => format!(
                "node {id} lacks {} of {acked} (e.g. {:?})",
                m.len(),
                &m[..m.len().min(3)]
            ),
            Err(e) => format!("node {id}: {e}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A fresh proxied three-node cluster. A start that fails is tried again (twice at most) and
/// noted: the harness picks the nodes' ports and the proxies' ports separately, and now and
/// then the kernel hands a proxy a port just picked for a node ("cannot listen on raft-addr
/// ...: Address already in use"); that says nothing about fail-over.
fn start_cluster(out: &Shared) -> Cluster {
    const ATTEMPTS: usize = 3;
    for attempt in 1..ATTEMPTS {
        match std::panic::catch_unwind(|| Cluster::start(3, ClusterOptions::new().proxied())) {
            Ok(cluster) => return cluster,
            Err(panic) => {
                let msg = panic_text(&*panic);
                static FAILED_STARTS: AtomicUsize = AtomicUsize::new(0);
                let n = FAILED_STARTS.fetch_add(1, Ordering::Relaxed) + 1;
                let file = save_report(&format!("cluster-start-failure-{n}.txt"), &msg);
                eprintln!(
                    "[failover] the cluster did not start (attempt {attempt}), starting another"
                );
                with(out, |o| {
                    o.detail.push(format!(
                        "cluster start attempt {attempt} failed, started again: {} (full text: {file})",
                        first_line(&msg, 100)
                    ))
                });
            }
        }
    }
    Cluster::start(3, ClusterOptions::new().proxied())
}

struct Resumed {
    leader: usize,
    leader_after: Duration,
    resumed_after: Duration,
}

/// After a fault at `t`: waits until the live members agree on a leader and that leader's
/// applied index has moved by [`RESUME_ENTRIES`] (client writes are being committed again).
/// Only decides how long to keep the load running; the gap itself comes from the load report.
async fn wait_writes_resume(cluster: &Cluster, t: Instant) -> Result<Resumed, String> {
    let deadline = t + RESUME_TIMEOUT;
    // Panics (with every node's log) if no leader is agreed on in time.
    let leader = cluster
        .wait_for_leader(deadline.saturating_duration_since(Instant::now()))
        .await;
    let leader_after = t.elapsed();
    let mut first = None;
    loop {
        if let Ok(v) = cluster.raft_view(leader).await {
            let start = *first.get_or_insert(v.applied_index);
            if v.applied_index >= start + RESUME_ENTRIES {
                return Ok(Resumed {
                    leader,
                    leader_after,
                    resumed_after: t.elapsed(),
                });
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "writes did not resume within {RESUME_TIMEOUT:?}: leader {leader} (agreed after \
                 {} ms) applied no more than {RESUME_ENTRIES} entries",
                leader_after.as_millis()
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The highest `term` RAFT.INFO shows on the live members.
async fn max_term(cluster: &Cluster) -> Option<u64> {
    let mut max = None;
    for id in cluster.live_members() {
        if let Ok(text) = cluster.raft_info(id).await {
            if let Some(term) = parse_info(&text)
                .get("term")
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                max = max.max(Some(term));
            }
        }
    }
    max
}

/// The longest window within `[from, to]` with no acknowledged write (from `from` to the
/// first acknowledgement, between two, and from the last one to `to`).
fn gap_within(report: &LoadReport, from: Instant, to: Instant) -> Duration {
    let mut last = from;
    let mut longest = Duration::ZERO;
    for t in report
        .acked
        .iter()
        .map(|(_, t)| *t)
        .filter(|t| *t >= from && *t <= to)
    {
        longest = longest.max(t.duration_since(last));
        last = t;
    }
    longest.max(to.saturating_duration_since(last))
}

fn load_summary(report: &LoadReport) -> String {
    format!(
        "{} writes acknowledged, {} failed attempts in {:.1} s",
        report.acked.len(),
        report.errors.len(),
        report.stopped.duration_since(report.started).as_secs_f64()
    )
}

fn logs_dir() -> PathBuf {
    std::env::temp_dir().join(format!("redoubt-failover-{}", std::process::id()))
}

/// Writes `text` to `name` in [`logs_dir`] and returns the path (or why it could not).
fn save_report(name: &str, text: &str) -> String {
    let dir = logs_dir();
    let path = dir.join(name);
    match std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, text)) {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("(could not write {}: {e})", path.display()),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

fn first_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > max {
        format!("{}...", line.chars().take(max).collect::<String>())
    } else {
        line.to_string()
    }
}

fn fmt_opt(v: Option<u64>) -> String {
    v.map_or_else(|| "?".into(), |v| v.to_string())
}

fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}

fn rep_line(fault: Fault, rep: usize, reps: usize, o: &Outcome) -> String {
    let mut s = format!("{} rep {rep}/{reps}: ", fault.name());
    if o.gaps.is_empty() {
        s.push_str("no gap measured");
    } else {
        let gaps = o.gaps.iter().map(|g| ms(*g)).collect::<Vec<_>>().join(", ");
        let _ = write!(s, "longest gap {gaps} ms");
    }
    for d in &o.detail {
        let _ = write!(s, "\n    {d}");
    }
    for f in &o.failures {
        let _ = write!(s, "\n    FAILURE: {f}");
    }
    s
}

fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

fn table(results: &[(Fault, Vec<Outcome>)]) -> String {
    let mut s = String::new();
    s.push_str("| fault | reps | longest gap min / median / max (ms) | failures | notes |\n");
    s.push_str("|---|---|---|---|---|\n");
    for (fault, outcomes) in results {
        let mut gaps: Vec<Duration> = outcomes.iter().flat_map(|o| o.gaps.clone()).collect();
        gaps.sort();
        let gap_cell = if gaps.is_empty() {
            "-".to_string()
        } else {
            format!(
                "{} / {} / {}",
                ms(gaps[0]),
                ms(median(&gaps)),
                ms(gaps[gaps.len() - 1])
            )
        };
        let failures: usize = outcomes.iter().map(|o| o.failures.len()).sum();
        let mut notes = Vec::new();
        if *fault == Fault::Transfer {
            let ok: usize = outcomes.iter().map(|o| o.transfers_ok).sum();
            let sent: usize = outcomes.iter().map(|o| o.transfers_sent).sum();
            notes.push(format!("transfers OK {ok}/{sent}"));
        }
        if let Some(target) = fault.target() {
            let within = gaps.iter().filter(|g| **g <= target).count();
            notes.push(format!(
                "target <= {} ms: {within}/{} within",
                target.as_millis(),
                gaps.len()
            ));
        }
        if *fault == Fault::Rtt150 {
            let rtts: Vec<&RttNumbers> = outcomes.iter().filter_map(|o| o.rtt.as_ref()).collect();
            if !rtts.is_empty() {
                let list = |f: &dyn Fn(&RttNumbers) -> f64| {
                    rtts.iter()
                        .map(|r| format!("{:.0}", f(r)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                notes.push(format!("writes/s before: {}", list(&|r| r.before_wps)));
                notes.push(format!("during delay: {}", list(&|r| r.during_wps)));
                let leader_changed = rtts
                    .iter()
                    .filter(|r| r.leader_before != r.leader_after)
                    .count();
                let term_changed = rtts
                    .iter()
                    .filter(|r| r.term_before != r.term_after)
                    .count();
                notes.push(format!(
                    "leader changed {leader_changed}/{n}, term changed {term_changed}/{n}",
                    n = rtts.len()
                ));
            }
        }
        if *fault != Fault::Transfer && gaps.len() < outcomes.len() {
            notes.push(format!(
                "{} rep(s) without a measurement",
                outcomes.len() - gaps.len()
            ));
        }
        let _ = writeln!(
            s,
            "| {} | {} | {gap_cell} | {failures} | {} |",
            fault.name(),
            outcomes.len(),
            notes.join("; ")
        );
    }
    s
}
