//! Redoubt node: a Redis-compatible server whose writes go through Raft.

pub mod acl;
pub mod admin;
pub mod app;
#[cfg(test)]
mod architecture_tests;
pub mod certs;
pub mod clock;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod expire;
pub mod files;
pub mod hex;
pub mod logsafe;
pub mod net;
pub mod raft;
pub mod server;
pub mod session;
pub mod state;
pub mod store;
pub mod sync;
pub mod tls;

/// The Redis version Redoubt answers as (INFO, HELLO): the one whose commands it follows.
pub const REDIS_VERSION: &str = "7.2.4";
