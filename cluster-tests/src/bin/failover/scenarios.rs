//! The fault scenarios, each on a fresh proxied three-node cluster under a write load: a fault
//! of the leader (kill -9, SIGSTOP, isolation), leadership transfers, and 150 ms of added peer
//! round trip.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redoubt_cluster_tests::cluster::{parse_info, Cluster, ClusterOptions, LEADER_TIMEOUT};
use redoubt_cluster_tests::load::WriteLoad;

use crate::fault::Fault;
use crate::outcome::{with, RttNumbers, Shared};
use crate::report::{first_line, fmt_opt, gap_within, load_summary, panic_text, save_report};
use crate::verify::verify;

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
/// Load measured before the delay, for the writes/s baseline of `rtt150`.
const BASELINE: Duration = Duration::from_secs(2);

/// kill -9, SIGSTOP or isolation of the leader.
pub async fn leader_fault(fault: Fault, rep: usize, out: &Shared) {
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
pub async fn transfers(rep: usize, out: &Shared) {
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
pub async fn rtt150(rep: usize, out: &Shared) {
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

/// A fresh proxied three-node cluster. A start that fails is tried again (twice at most) and
/// noted: the harness picks the nodes' ports and the proxies' ports separately, and now and
/// then the kernel hands a proxy a port just picked for a node ("cannot listen on raft-addr
/// ...: Address already in use"); that says nothing about fail-over.
pub fn start_cluster(out: &Shared) -> Cluster {
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

pub struct Resumed {
    pub leader: usize,
    pub leader_after: Duration,
    pub resumed_after: Duration,
}

/// After a fault at `t`: waits until the live members agree on a leader and that leader's
/// applied index has moved by [`RESUME_ENTRIES`] (client writes are being committed again).
/// Only decides how long to keep the load running; the gap itself comes from the load report.
pub async fn wait_writes_resume(cluster: &Cluster, t: Instant) -> Result<Resumed, String> {
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
pub async fn max_term(cluster: &Cluster) -> Option<u64> {
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
