//! Helpers to start real `redoubt` processes for integration tests.
//!
//! One harness for every test that crosses a process boundary: the node crate's
//! `tests/` and the multi-node tests of this crate. A [`NodeProcess`] is a running
//! `redoubt` with its own data dir (a tempdir unless one is given), its own RESP and
//! raft ports, its log in `<dir>/redoubt.log` and its stdout/stderr in files beside it.
//! It is killed when dropped, so a failing test never leaves a server behind.
//!
//! Nothing here fakes the server: waits are bounded polls of the real process, and every
//! failure to start panics with the tail of the node's log and stderr.

pub mod cluster;
pub mod load;
pub mod proxy;
pub mod raw;

mod client;
mod node;
mod ports;
mod programs;

pub use client::{connect, connection_config, ping_answers};
pub use node::{NodeOptions, NodeProcess, START_TIMEOUT, STOP_TIMEOUT};
pub use ports::free_port;
pub use programs::{
    certs_init, peak_rss_kib, redis_cli_available, redoubt_bin, reference_server, run_redis_cli,
    run_redoubt,
};
