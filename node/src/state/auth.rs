//! Authentication and what surrounds it on this node: checking a user name and password
//! against the replicated ACL state, slowing down brute force per client address, the ACL LOG
//! and its INFO counters, closing the connections of users that were deleted or disabled, and
//! the ACL seeds this node proposes from its own config at start.
//!
//! Passwords pass through here only to be hashed or compared; they are never logged.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::NodeState;
use crate::acl::log::{AclLog, Reason, Refusal};
use crate::acl::replicated::{self, Seed};
use crate::acl::{hash_password, hash_rules};
use crate::clock::now_ms;
use crate::raft::ExecRequest;
use crate::sync::Locked as _;

/// Failed AUTHs of one client address.
struct Failures {
    count: u64,
    last: Instant,
}

/// An address's failures are forgotten after this long without a new one.
const FAILURE_MEMORY: Duration = Duration::from_secs(600);
/// Most addresses remembered (the oldest are dropped first).
const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// Per-node authentication state.
#[derive(Default)]
pub struct Auth {
    pub log: Mutex<AclLog>,
    failures: Mutex<HashMap<IpAddr, Failures>>,
    /// INFO stats acl_access_denied_{auth,cmd,key,channel}.
    pub denied_auth: AtomicU64,
    pub denied_cmd: AtomicU64,
    pub denied_key: AtomicU64,
    pub denied_channel: AtomicU64,
}

impl Auth {
    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        self.failures.locked()
    }

    /// How long an AUTH from `ip` waits before it is checked: `delay` once the address has
    /// `max_failures` recent failures, whatever the password (so the wait tells an attacker
    /// nothing); zero otherwise. Only that address is slowed, never the user.
    pub fn delay_for(&self, ip: IpAddr, max_failures: u64, delay: Duration) -> Duration {
        if max_failures == 0 {
            return Duration::ZERO;
        }
        match self.failures().get(&ip) {
            Some(f) if f.count >= max_failures && f.last.elapsed() < FAILURE_MEMORY => delay,
            _ => Duration::ZERO,
        }
    }

    pub fn record_failure(&self, ip: IpAddr) {
        let mut failures = self.failures();
        if failures.len() >= MAX_TRACKED_ADDRESSES && !failures.contains_key(&ip) {
            failures.retain(|_, f| f.last.elapsed() < FAILURE_MEMORY);
            if failures.len() >= MAX_TRACKED_ADDRESSES {
                if let Some(oldest) = failures.iter().min_by_key(|(_, f)| f.last).map(|(a, _)| *a) {
                    failures.remove(&oldest);
                }
            }
        }
        let now = Instant::now();
        let entry = failures.entry(ip).or_insert(Failures {
            count: 0,
            last: now,
        });
        if entry.last.elapsed() >= FAILURE_MEMORY {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
    }

    pub fn record_success(&self, ip: IpAddr) {
        self.failures().remove(&ip);
    }

    /// Counts a refusal and adds it to the ACL LOG.
    pub fn record_refusal(&self, refusal: Refusal<'_>, max_len: usize) {
        let counter = match refusal.reason {
            Reason::Auth => &self.denied_auth,
            Reason::Command => &self.denied_cmd,
            Reason::Key => &self.denied_key,
            Reason::Channel => &self.denied_channel,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.log.locked().add(refusal, now_ms(), max_len);
    }
}

impl NodeState {
    /// Checks `user`/`pass` against the cluster's ACL state as of now (after a read barrier, so
    /// a user created or changed on any node a moment ago counts), after the brute-force delay
    /// of the client's address. True: the connection may act as `user`.
    pub async fn check_credentials(&self, ip: IpAddr, user: &[u8], pass: &[u8]) -> bool {
        let delay = self.auth.delay_for(
            ip,
            self.config.auth_max_failures,
            Duration::from_millis(self.config.auth_failure_delay_ms),
        );
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if let Err(e) = self.raft.read_barrier().await {
            // No leader at the moment: decide on this node's state rather than refuse everyone.
            tracing::debug!(error = %e, "AUTH checked without a read barrier");
        }
        let acl = self.acl();
        let ok = std::str::from_utf8(user)
            .ok()
            .and_then(|name| acl.user(name))
            .is_some_and(|u| u.enabled & u.check_password(pass));
        if ok {
            self.auth.record_success(ip);
        } else {
            self.auth.record_failure(ip);
        }
        ok
    }

    /// Whether new connections start authenticated as `default` (it is on and has nopass).
    pub fn default_user_is_open(&self) -> bool {
        self.acl()
            .user("default")
            .is_some_and(|u| u.enabled && u.nopass)
    }

    /// Proposes an ACL change as a command line of `user`'s, and waits for the state machine.
    pub async fn propose_acl_change(
        &self,
        user: &str,
        command: Vec<Bytes>,
        internal: bool,
    ) -> Result<redoubt_proto::resp::Frame, crate::raft::RaftCallError> {
        let req = ExecRequest {
            db: 0,
            user: user.to_string(),
            internal,
            now_ms: now_ms(),
            seed: 0,
            protocol: redoubt_proto::resp::Protocol::Resp2,
            watches: Vec::new(),
            commands: vec![command],
            multi: false,
        };
        self.raft.execute(req).await.map(|reply| reply.frame)
    }
}

/// Closes, whenever the ACL state changes, the connections authenticated as a user that no
/// longer exists or is disabled, and (as Redis does) subscribers whose user may no longer
/// subscribe to one of their channels or patterns. Runs on every node, so a DELUSER anywhere
/// closes them all.
pub async fn close_revoked_connections(server: Arc<NodeState>) {
    let mut changes = server.raft.acl_changes();
    while changes.changed().await.is_ok() {
        let acl = server.raft.acl();
        let subscriptions = server.pubsub.by_client();
        for client in server.clients.list() {
            let info = client.info();
            if !info.authenticated {
                continue;
            }
            let reason = match acl.user(&info.user) {
                None => Some("deleted"),
                Some(u) if !u.enabled => Some("disabled"),
                Some(u) => subscriptions
                    .get(&client.id)
                    .filter(|(channels, patterns)| {
                        !may_subscribe(&server, u, "subscribe", channels)
                            || !may_subscribe(&server, u, "psubscribe", patterns)
                    })
                    .map(|_| "no longer allowed to its subscriptions"),
            };
            if let Some(reason) = reason {
                tracing::info!(client = %client.addr, user = %crate::logsafe::Escaped(&info.user), reason, "closing a connection after an ACL change");
                client.kill.notify_one();
            }
        }
    }
}

/// Whether `user` may (p)subscribe to all of `names`.
fn may_subscribe(
    server: &NodeState,
    user: &crate::acl::User,
    command: &str,
    names: &[Bytes],
) -> bool {
    if names.is_empty() {
        return true;
    }
    let Some(spec) = server.table.canonical(command) else {
        return true;
    };
    let mut argv = Vec::with_capacity(names.len() + 1);
    argv.push(Bytes::copy_from_slice(command.as_bytes()));
    argv.extend(names.iter().cloned());
    user.check(spec, &argv).is_ok()
}

/// Source name of the replication user's seed.
pub const MASTERUSER_SEED: &str = "masteruser";

/// The seeds this node's config asks for (aclfile, requirepass, the replication user).
pub fn config_seeds(server: &NodeState) -> anyhow::Result<Vec<Seed>> {
    let config = &server.config;
    let mut seeds = Vec::new();
    let replication_user = replication_user_definition(server);
    // The replication user first: peers check calls against it from then on.
    if let Some((name, rules)) = &replication_user {
        let mut material = name.clone().into_bytes();
        material.push(0);
        material.extend_from_slice(server.config.masterauth.expose().as_bytes());
        seeds.push(Seed {
            source: MASTERUSER_SEED.into(),
            fingerprint: hash_password(&material),
            replace_all: false,
            defs: vec![(name.clone(), hash_rules(rules))],
        });
    }
    if let Some(path) = &config.aclfile {
        let content = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read aclfile '{}': {e}", path.display()))?;
        let mut defs = crate::acl::file::load(&path.display().to_string(), &content)
            .map_err(|e| anyhow::anyhow!("invalid aclfile: {e}"))?;
        if let Some((name, rules)) = &replication_user {
            if !defs.iter().any(|(n, _)| n == name) {
                defs.push((name.clone(), rules.clone()));
            }
        }
        let defs: Vec<_> = defs.into_iter().map(|(n, r)| (n, hash_rules(&r))).collect();
        seeds.push(Seed {
            source: replicated::ACLFILE_SEED.into(),
            fingerprint: hash_password(content.as_bytes()),
            replace_all: true,
            defs,
        });
    } else if !config.requirepass.is_empty() {
        let pass = config.requirepass.expose().as_bytes();
        let rules = replicated::requirepass_rules(&replicated::hashed_requirepass(pass));
        seeds.push(Seed {
            source: "requirepass".into(),
            fingerprint: hash_password(pass),
            replace_all: false,
            defs: vec![("default".into(), rules)],
        });
    }
    Ok(seeds)
}

/// The replication user as this node's config defines it: `masteruser` with the `masterauth`
/// password (plaintext rule, hashed before proposing) and the replication permission.
pub fn replication_user_definition(server: &NodeState) -> Option<(String, Vec<Bytes>)> {
    let auth = server.config.masterauth.expose();
    if auth.is_empty() {
        return None;
    }
    let rules = vec![
        Bytes::from_static(b"on"),
        Bytes::from(format!(">{auth}")),
        Bytes::from(format!("+{}", crate::acl::REPLICATION_COMMAND)),
        Bytes::from_static(b"+replconf"),
        Bytes::from_static(b"+ping"),
    ];
    Some((server.config.masteruser.clone(), rules))
}

/// Whether the replicated state already holds `seed` (this config was applied before).
pub fn seed_applied(server: &NodeState, seed: &Seed) -> bool {
    replicated::seen(&server.raft.acl_seeds(), seed)
}

/// The ACL state of a node whose seeds are on their way: `base` (the replicated state) with
/// the seeds applied, and `default` off while the node has no cluster state at all.
pub struct Provisional {
    pub base: Arc<crate::acl::AclState>,
    pub state: Arc<crate::acl::AclState>,
    seeds: Vec<Seed>,
    lock_default: bool,
}

impl Provisional {
    /// `seeds` applied over the replicated state `base` (`fingerprints`: the seeds it holds).
    fn build(
        base: Arc<crate::acl::AclState>,
        fingerprints: &replicated::SeedFingerprints,
        seeds: Vec<Seed>,
        lock_default: bool,
    ) -> Provisional {
        let mut state = (*base).clone();
        if lock_default && *base == crate::acl::AclState::new() {
            if let Err(e) = state.set_user("default", &[Bytes::from_static(b"off")]) {
                tracing::error!(error = %e, "cannot lock the default user");
            }
        }
        let mut fingerprints = fingerprints.clone();
        for seed in &seeds {
            if let Ok(command) = replicated::seed_command(seed) {
                let reply = replicated::apply(&mut state, &mut fingerprints, &command, true);
                if reply.is_error() {
                    tracing::error!(source = %seed.source, "this node's ACL seed does not apply: {reply:?}");
                }
            }
        }
        Provisional {
            base,
            state: Arc::new(state),
            seeds,
            lock_default,
        }
    }

    /// The same seeds over a new replicated state.
    pub fn rebuild(
        &self,
        base: Arc<crate::acl::AclState>,
        fingerprints: &replicated::SeedFingerprints,
    ) -> Provisional {
        Provisional::build(base, fingerprints, self.seeds.clone(), self.lock_default)
    }
}

/// Puts this node's config seeds on their way into the replicated state. Until they are
/// applied, clients of this node are held to a provisional state: the replicated one with the
/// seeds applied locally (so a node started with `requirepass` never has an open default user,
/// not even for a moment). A node that has never received the cluster's state and did not
/// create it (it joins, or waits to be initialised by the bootstrap node) also keeps `default`
/// off until then: the cluster's default user may have a password its config does not know.
pub fn start_seeding(
    server: Arc<NodeState>,
    seeds: Vec<Seed>,
) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
    let pending: Vec<Seed> = seeds
        .into_iter()
        .filter(|s| !seed_applied(&server, s))
        .collect();
    let pristine = *server.raft.acl() == crate::acl::AclState::new();
    let creates_state =
        server.config.bootstrap || (server.config.peers.is_empty() && server.config.join.is_none());
    let lock_default = pristine && !creates_state;
    if pending.is_empty() && !lock_default {
        return None;
    }
    let provisional = Provisional::build(
        server.raft.acl(),
        &server.raft.acl_seeds(),
        pending.clone(),
        lock_default,
    );
    server.acl_override.store(Some(Arc::new(provisional)));
    server.seeded.send_replace(false);
    Some(async move {
        propose_config_seeds(server.clone(), pending).await;
        server.acl_override.store(None);
        server.seeded.send_replace(true);
        tracing::info!("serving clients with the cluster's ACL state");
    })
}

/// Proposes this node's seeds once it is a voter and a leader is known, retrying until each
/// was applied (seeds already in the state are skipped).
pub async fn propose_config_seeds(server: Arc<NodeState>, seeds: Vec<Seed>) {
    for seed in seeds {
        if seed_applied(&server, &seed) {
            continue;
        }
        let Ok(command) = replicated::seed_command(&seed) else {
            tracing::error!(source = %seed.source, "cannot encode an ACL seed");
            continue;
        };
        loop {
            if server.raft.is_voter() {
                match server.propose_acl_change("", command.clone(), true).await {
                    // Not decided (no leader, no quorum, a leader change): ask again, unless
                    // it was applied after all.
                    Err(e) => {
                        tracing::debug!(source = %seed.source, error = %e, "ACL seed not applied yet");
                        if seed_applied(&server, &seed) {
                            break;
                        }
                    }
                    Ok(redoubt_proto::resp::Frame::Error(e)) => {
                        tracing::error!(source = %seed.source, error = %e, "the cluster refused this node's ACL seed");
                        break;
                    }
                    Ok(_) => {
                        tracing::info!(source = %seed.source, "ACL state seeded from this node's config");
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
