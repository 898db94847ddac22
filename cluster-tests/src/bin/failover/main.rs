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
//! [`LoadReport::verify`]: redoubt_cluster_tests::load::LoadReport::verify
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

mod args;
mod fault;
mod outcome;
mod report;
mod scenarios;
mod verify;

use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use args::parse_args;
use fault::Fault;
use outcome::{Outcome, Shared};
use report::{first_line, logs_dir, panic_text, rep_line, save_report, table};
use scenarios::{leader_fault, rtt150, transfers};

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
