//! The numbers and the texts: gaps in a load report, per-repetition lines, the markdown table,
//! and failure reports saved to files.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use redoubt_cluster_tests::load::LoadReport;

use crate::fault::Fault;
use crate::outcome::{Outcome, RttNumbers};

/// The longest window within `[from, to]` with no acknowledged write (from `from` to the
/// first acknowledgement, between two, and from the last one to `to`).
pub fn gap_within(report: &LoadReport, from: Instant, to: Instant) -> Duration {
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

pub fn load_summary(report: &LoadReport) -> String {
    format!(
        "{} writes acknowledged, {} failed attempts in {:.1} s",
        report.acked.len(),
        report.errors.len(),
        report.stopped.duration_since(report.started).as_secs_f64()
    )
}

pub fn logs_dir() -> PathBuf {
    std::env::temp_dir().join(format!("redoubt-failover-{}", std::process::id()))
}

/// Writes `text` to `name` in [`logs_dir`] and returns the path (or why it could not).
pub fn save_report(name: &str, text: &str) -> String {
    let dir = logs_dir();
    let path = dir.join(name);
    match std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, text)) {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("(could not write {}: {e})", path.display()),
    }
}

pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

pub fn first_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > max {
        format!("{}...", line.chars().take(max).collect::<String>())
    } else {
        line.to_string()
    }
}

pub fn fmt_opt(v: Option<u64>) -> String {
    v.map_or_else(|| "?".into(), |v| v.to_string())
}

pub fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}

pub fn rep_line(fault: Fault, rep: usize, reps: usize, o: &Outcome) -> String {
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

pub fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

pub fn table(results: &[(Fault, Vec<Outcome>)]) -> String {
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
