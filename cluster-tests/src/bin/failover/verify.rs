//! Whether every acknowledged write is on every live member, reported rather than panicking.

use std::time::Duration;

use redoubt_cluster_tests::cluster::Cluster;
use redoubt_cluster_tests::load::LoadReport;

use crate::outcome::{with, Shared};
use crate::report::save_report;

/// How long after a failed verification the nodes are asked again.
const RECHECK_AFTER: Duration = Duration::from_secs(3);

/// Checks that every acknowledged write is on every live member, as [`LoadReport::verify`]
/// does (MGET of every acknowledged key on each node), but without panicking, so that a miss
/// can be looked at: it records what each node lacks and its Raft view, checks again
/// [`RECHECK_AFTER`] later (a write still missing then is lost; one found then was only read
/// stale) and saves every node's log. When nothing is missing, the harness's own
/// [`LoadReport::verify`] runs too (a panic there is a failure like any other).
pub async fn verify(report: &LoadReport, cluster: &Cluster, out: &Shared, name: &str) {
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
pub async fn missing_everywhere(
    report: &LoadReport,
    cluster: &Cluster,
) -> Vec<(usize, Result<Vec<String>, String>)> {
    let mut out = Vec::new();
    for id in cluster.live_members() {
        out.push((id, report.missing_on(cluster, id).await));
    }
    out
}

pub fn describe_missing(found: &[(usize, Result<Vec<String>, String>)], acked: usize) -> String {
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
