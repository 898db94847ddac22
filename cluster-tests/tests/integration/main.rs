//! The multi-node tests and the harness's own tests, in one test binary (one link instead of
//! one per file). Each test starts its own processes (nodes, clusters, proxies) on free ports.
//! Each module is one area; run one with a name filter, e.g.
//! `cargo test -p redoubt-cluster-tests --test integration cluster_faults::`.

mod cluster_acl;
mod cluster_backlog;
mod cluster_faults;
mod cluster_large_writes;
mod cluster_membership;
mod cluster_ops;
mod cluster_peer_auth;
mod cluster_quorum;
mod cluster_removed;
mod cluster_tls;
mod harness;
mod proxy;

/// Held by the tests that write tens of megabytes (the 64 MB value, the large backlog), so that
/// they never run at the same time as each other now that they share one test binary (they
/// used to be in binaries of their own, run one after the other).
static LARGE_WRITES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
