//! Faults over real processes, under a write load: SIGSTOP of the leader, the leader cut off
//! by a partition, 150 ms of added peer round trip, kill -9 of the leader, leadership
//! transfer. Each checks that no acknowledged write is lost (every one is read back on every
//! node) and that writes resume. Bounds are generous (a loaded 2-core CI machine); the real
//! outage is measured by `scripts/failover.sh`.

use std::time::{Duration, Instant};

use redoubt_cluster_tests::cluster::{Cluster, ClusterOptions, LEADER_TIMEOUT};
use redoubt_cluster_tests::load::{LoadReport, WriteLoad};

/// Writes must be acknowledged again within this after the fault.
const RESUME_BOUND: Duration = Duration::from_secs(5);

async fn proxied_cluster() -> (Cluster, usize) {
    let cluster = Cluster::start(3, ClusterOptions::new().proxied());
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    (cluster, leader)
}

/// Runs the load until a write is acknowledged after `since` (bounded), then a little more.
async fn until_writes_resume(load: &WriteLoad, since: Instant, what: &str, cluster: &Cluster) {
    let deadline = since + RESUME_BOUND + Duration::from_secs(5);
    while load.acked_since(since) == 0 {
        assert!(
            Instant::now() < deadline,
            "no write was acknowledged within {:?} of {what}\n{}",
            deadline - since,
            cluster.diagnostics()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Stops the load, reports the longest window without an acknowledged write since `since`,
/// and checks that writes resumed within [`RESUME_BOUND`].
async fn stop_and_check_gap(load: WriteLoad, since: Instant, what: &str) -> LoadReport {
    let report = load.stop().await;
    let gap = report.longest_gap(since);
    println!(
        "{what}: longest window without an acknowledged write {gap:?}; {} writes acknowledged; \
         errors: {}",
        report.acked.len(),
        report.error_summary()
    );
    assert!(gap < RESUME_BOUND, "{what}: writes stopped for {gap:?}");
    report
}

async fn term(cluster: &Cluster, id: usize) -> u64 {
    cluster
        .raft_view(id)
        .await
        .unwrap_or_else(|e| panic!("RAFT view of node {id}: {e}"))
        .term
}

#[tokio::test]
async fn a_paused_leader_is_replaced_and_no_acknowledged_write_is_lost() {
    let (mut cluster, leader) = proxied_cluster().await;
    let nodes = cluster.ids();
    let load = WriteLoad::start(&cluster, &nodes, 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.pause(leader);
    let paused = Instant::now();
    until_writes_resume(&load, paused, "SIGSTOP of the leader", &cluster).await;
    let new = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    assert_ne!(new, leader, "the paused node cannot lead");
    cluster.resume(leader);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let what = format!("SIGSTOP of leader {leader} (new leader {new})");
    let report = stop_and_check_gap(load, paused, &what).await;
    for id in cluster.ids() {
        cluster.wait_caught_up(id, LEADER_TIMEOUT).await;
    }
    report.verify(&cluster).await;
}

#[tokio::test]
async fn an_isolated_leader_is_replaced_and_rejoins_without_deposing_the_new_one() {
    let (mut cluster, leader) = proxied_cluster().await;
    let nodes = cluster.ids();
    let load = WriteLoad::start(&cluster, &nodes, 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.isolate(leader);
    let cut = Instant::now();
    until_writes_resume(&load, cut, "the partition of the leader", &cluster).await;
    let new = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    assert_ne!(new, leader);
    // Cut off from the majority, the old leader steps down and, with Pre-Vote, does not
    // raise its term however long it waits.
    let term_new = term(&cluster, new).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let term_isolated = term(&cluster, leader).await;
    assert!(
        term_isolated <= term_new,
        "the isolated node raised its term to {term_isolated} (cluster at {term_new})"
    );
    cluster.heal();
    let healed = Instant::now();
    // The returning node catches up and does not force an election.
    cluster.wait_caught_up(leader, LEADER_TIMEOUT).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    assert_eq!(after, new, "the returning node deposed the leader");
    assert_eq!(
        term(&cluster, after).await,
        term_new,
        "the term changed when the node came back"
    );
    let what = format!("isolation of leader {leader} (new leader {new})");
    let report = stop_and_check_gap(load, cut, &what).await;
    println!(
        "{} writes acknowledged after the heal",
        report.acked_after(healed)
    );
    report.verify(&cluster).await;
}

#[tokio::test]
async fn a_cluster_with_150ms_peer_round_trips_keeps_its_leader_and_serves_writes() {
    let (cluster, leader) = proxied_cluster().await;
    let term_before = term(&cluster, leader).await;
    cluster.delay_links(Duration::from_millis(150));
    let delayed = Instant::now();
    let nodes = cluster.ids();
    let load = WriteLoad::start(&cluster, &nodes, 2);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let report = load.stop().await;
    let leader_after = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let term_after = term(&cluster, leader_after).await;
    println!(
        "150 ms RTT: {} writes acknowledged in 4 s, longest window without one {:?}, leader \
         {leader} -> {leader_after}, term {term_before} -> {term_after}; errors: {}",
        report.acked.len(),
        report.longest_gap(delayed),
        report.error_summary()
    );
    assert_eq!(
        (leader_after, term_after),
        (leader, term_before),
        "the delay caused an election"
    );
    assert!(
        report.acked.len() >= 20,
        "only {} writes acknowledged in 4 s with 150 ms RTT; errors: {}",
        report.acked.len(),
        report.error_summary()
    );
    cluster.delay_links(Duration::ZERO);
    report.verify(&cluster).await;
}

#[tokio::test]
async fn kill9_of_the_leader_under_load_loses_no_acknowledged_write() {
    let (mut cluster, leader) = proxied_cluster().await;
    let followers: Vec<usize> = cluster.ids().into_iter().filter(|i| *i != leader).collect();
    let load = WriteLoad::start(&cluster, &followers, 3);
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.kill9(leader);
    let killed = Instant::now();
    until_writes_resume(&load, killed, "kill -9 of the leader", &cluster).await;
    cluster.restart(leader);
    cluster.wait_caught_up(leader, LEADER_TIMEOUT).await;
    let report = stop_and_check_gap(load, killed, &format!("kill -9 of leader {leader}")).await;
    report.verify(&cluster).await;
}

#[tokio::test]
async fn leadership_transfers_under_load_succeed_and_lose_nothing() {
    let (cluster, first) = proxied_cluster().await;
    let nodes = cluster.ids();
    let load = WriteLoad::start(&cluster, &nodes, 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let mut leader = first;
    for round in 0..3 {
        let target = cluster
            .ids()
            .into_iter()
            .find(|i| *i != leader)
            .expect("a follower");
        // Sent to a node that is neither: it goes through the leader.
        let via = cluster
            .ids()
            .into_iter()
            .find(|i| *i != leader && *i != target)
            .unwrap_or(leader);
        let mut c = cluster.client(via).await;
        let t = Instant::now();
        let answer: redis::RedisResult<String> = redis::cmd("RAFT.TRANSFER")
            .arg(target)
            .query_async(&mut c)
            .await;
        println!(
            "transfer {round}: {leader} -> {target} via {via}: {answer:?} after {:?}",
            t.elapsed()
        );
        assert_eq!(answer.as_deref(), Ok("OK"), "{}", cluster.diagnostics());
        leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
        assert_eq!(leader, target);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let report = stop_and_check_gap(load, started, "3 transfers under load").await;
    report.verify(&cluster).await;
}

#[tokio::test]
async fn followers_resume_at_once_when_the_leader_restarts_quickly() {
    // The leader comes back before the others have elected anyone: their requests are tried
    // again every 100 ms (it may be back) instead of waiting for a leader other than it.
    let (mut cluster, leader) = proxied_cluster().await;
    let followers: Vec<usize> = cluster.ids().into_iter().filter(|i| *i != leader).collect();
    let load = WriteLoad::start(&cluster, &followers, 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.kill9(leader);
    let killed = Instant::now();
    cluster.restart(leader);
    until_writes_resume(&load, killed, "a quick restart of the leader", &cluster).await;
    let what = format!("leader {leader} killed and restarted at once");
    let report = stop_and_check_gap(load, killed, &what).await;
    for id in cluster.ids() {
        cluster.wait_caught_up(id, LEADER_TIMEOUT).await;
    }
    report.verify(&cluster).await;
}
