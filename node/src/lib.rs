//! Redoubt node: a Redis-compatible server whose writes go through Raft.

pub mod acl;
pub mod app;
pub mod certs;
pub mod clock;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod expire;
pub mod files;
pub mod info;
pub mod logsafe;
pub mod net;
pub mod raft;
pub mod server;
pub mod state;
pub mod store;
pub mod tls;
