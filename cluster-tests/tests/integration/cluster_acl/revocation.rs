//! A revoked permission races writes through a follower: no write sent after `ACL SETUSER u
//! -set` returned OK is executed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::*;

const RACE_ROUNDS: usize = 20;
/// Rounds stop being started past this (at least [`RACE_MIN_ROUNDS`] must have run).
const RACE_BUDGET: Duration = Duration::from_secs(50);
const RACE_MIN_ROUNDS: usize = 8;
/// Connections of the racing writer, and concurrent tasks per connection (pipelined).
const RACE_CONNS: usize = 2;
const RACE_TASKS_PER_CONN: usize = 8;

/// One SET of the racing writer: its number, when it was handed to the client, and the reply.
struct Sent {
    i: u64,
    at: Instant,
    reply: RedisResult<String>,
}

async fn race_writer(
    mut c: MultiplexedConnection,
    prefix: String,
    counter: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> Vec<Sent> {
    let mut sent = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let i = counter.fetch_add(1, Ordering::SeqCst);
        // Taken before the command is written: the real send is later still, so "sent after
        // the revocation" is never claimed for a command that was not.
        let at = Instant::now();
        let reply: RedisResult<String> = redis::cmd("SET")
            .arg(format!("{prefix}{i}"))
            .arg(i)
            .query_async(&mut c)
            .await;
        let closed = matches!(&reply, Err(e) if is_closed(e));
        sent.push(Sent { i, at, reply });
        if closed {
            break;
        }
    }
    sent
}

/// Polls until `counter` reaches `target` or `timeout` passes.
async fn wait_counter(counter: &AtomicU64, target: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while counter.load(Ordering::SeqCst) < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocation_races_writes_through_a_follower() {
    let (cluster, _) = started().await;
    let started_at = Instant::now();
    let mut landed_after_total = 0usize;
    let mut problems: Vec<String> = Vec::new();
    let mut rounds = 0usize;
    let mut after_total = 0usize;
    for round in 0..RACE_ROUNDS {
        if started_at.elapsed() > RACE_BUDGET {
            break;
        }
        let leader = cluster.leader().await;
        let followers = cluster.followers().await;
        let writer_node = followers[0];
        let revoker_node = if round % 2 == 0 { leader } else { followers[1] };
        let user = format!("racer{round}");
        let pass = secret("racerpw");
        let rule = format!(">{pass}");
        let mut admin = cluster.client(leader).await;
        ok(
            &cluster,
            &mut admin,
            leader,
            &["ACL", "SETUSER", &user, "on", &rule, "~*", "+@all"],
        )
        .await;
        let mut revoker = cluster.client(revoker_node).await;

        let counter = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let prefix = format!("race:{round}:");
        let mut tasks = Vec::new();
        for _ in 0..RACE_CONNS {
            let c = connect_as(&cluster, writer_node, &user, &pass).await;
            for _ in 0..RACE_TASKS_PER_CONN {
                tasks.push(tokio::spawn(race_writer(
                    c.clone(),
                    prefix.clone(),
                    counter.clone(),
                    stop.clone(),
                )));
            }
        }
        // Let the writers run a while (a different while each round, to move the race).
        wait_counter(&counter, 50, Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis((round as u64 * 7) % 40)).await;
        let revoke = call::<String>(&mut revoker, &["ACL", "SETUSER", &user, "-set"]).await;
        let revoked_at = Instant::now();
        let at_revocation = counter.load(Ordering::SeqCst);
        if !matches!(&revoke, Ok(r) if r == "OK") {
            stop.store(true, Ordering::SeqCst);
            panic!(
                "round {round}: ACL SETUSER {user} -set on node {revoker_node} replied {revoke:?}\n{}",
                cluster.diagnostics()
            );
        }
        // Keep writing after the revocation.
        wait_counter(&counter, at_revocation + 200, Duration::from_secs(2)).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        stop.store(true, Ordering::SeqCst);
        let mut sent: Vec<Sent> = Vec::new();
        for t in tasks {
            sent.extend(t.await.expect("writer task"));
        }
        sent.sort_by_key(|s| s.i);

        let keys: Vec<String> = sent.iter().map(|s| format!("{prefix}{}", s.i)).collect();
        let leader = cluster.leader().await;
        let mut l = cluster.client(leader).await;
        let exists = exists_all(&cluster, &mut l, leader, &keys).await;
        let nopermed = format!("User {user} has no permissions to run the 'set' command");
        let (mut ok_before, mut after, mut landed_after) = (0usize, 0usize, 0usize);
        let mut just_after = 0usize;
        for (s, present) in sent.iter().zip(&exists) {
            let is_after = s.at > revoked_at;
            if is_after {
                after += 1;
                if s.at - revoked_at < Duration::from_millis(20) {
                    just_after += 1;
                }
            }
            if is_after && *present {
                landed_after += 1;
            }
            match &s.reply {
                Ok(r) if r == "OK" => {
                    if !is_after {
                        ok_before += 1;
                    }
                    if is_after {
                        problems.push(format!(
                            "round {round}: SET #{} sent {:?} after the revocation's OK got OK",
                            s.i,
                            s.at - revoked_at
                        ));
                    }
                    if !present {
                        problems.push(format!(
                            "round {round}: SET #{} was acknowledged but the key is missing on \
                             the leader",
                            s.i
                        ));
                    }
                }
                Ok(other) => problems.push(format!("round {round}: SET #{} replied {other}", s.i)),
                Err(e) if e.code() == Some("NOPERM") => {
                    if e.detail() != Some(nopermed.as_str()) {
                        problems.push(format!(
                            "round {round}: SET #{} refused as {:?}, expected 'NOPERM {nopermed}'",
                            s.i,
                            error_text(e)
                        ));
                    }
                    if *present {
                        problems.push(format!(
                            "round {round}: SET #{} got NOPERM but the key exists on the leader",
                            s.i
                        ));
                    }
                }
                Err(e) if is_closed(e) => {}
                Err(e) => problems.push(format!(
                    "round {round}: SET #{} failed unexpectedly: {}",
                    s.i,
                    error_text(e)
                )),
            }
        }
        println!(
            "round {round}: writer on node {writer_node}, revoked on node {revoker_node} \
             (leader {leader}); {} SETs, {ok_before} OK before the revocation, {after} sent \
             after it ({just_after} within 20 ms), {landed_after} of those landed",
            sent.len()
        );
        assert!(
            ok_before > 0,
            "round {round}: no SET succeeded before the revocation, the round did not race\n{}",
            cluster.diagnostics()
        );
        assert!(
            after > 0,
            "round {round}: no SET was sent after the revocation, the round did not race\n{}",
            cluster.diagnostics()
        );
        landed_after_total += landed_after;
        after_total += after;

        // Re-grant: the same user writes again through the follower.
        ok(
            &cluster,
            &mut revoker,
            revoker_node,
            &["ACL", "SETUSER", &user, "+set"],
        )
        .await;
        let mut w = connect_as(&cluster, writer_node, &user, &pass).await;
        match call::<String>(&mut w, &["SET", &format!("{prefix}regranted"), "1"]).await {
            Ok(r) if r == "OK" => {}
            other => problems.push(format!(
                "round {round}: SET by {user} on node {writer_node} after re-granting +set \
                 replied {other:?}"
            )),
        }
        rounds += 1;
    }
    println!(
        "{rounds} rounds in {:?}; {after_total} SETs sent after a revocation, \
         {landed_after_total} landed",
        started_at.elapsed()
    );
    assert!(
        rounds >= RACE_MIN_ROUNDS,
        "only {rounds} rounds ran within {RACE_BUDGET:?}"
    );
    assert_eq!(
        landed_after_total,
        0,
        "{landed_after_total} SETs sent after `ACL SETUSER u -set` had returned OK were \
         executed; problems:\n{}",
        problems.join("\n")
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems[..problems.len().min(40)].join("\n")
    );
}
