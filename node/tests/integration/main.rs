//! The node's integration tests, in one test binary (one link instead of one per file). Every
//! test starts its own `redoubt` process (see `redoubt-cluster-tests`), so tests run in
//! parallel without sharing state. Each module is one area; run one with a name filter, e.g.
//! `cargo test -p redoubt-node --test integration acl::` (or just a test's name).

mod acl_common;
mod common;

mod acl;
mod acl_file;
mod acl_security;
mod auth;
mod collections;
mod config;
mod corruption;
mod disk;
mod durability;
mod logs;
mod output_limits;
mod peer_port;
mod protocol;
mod server_cmds;
mod strings_keys;
mod tls_clients;
mod transactions_pubsub;
