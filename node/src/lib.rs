//! Redoubt node: a Redis-compatible server whose writes go through Raft.

pub mod acl;
pub mod certs;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod files;
pub mod info;
pub mod logsafe;
pub mod raft;
pub mod server;
pub mod store;
pub mod tls;
