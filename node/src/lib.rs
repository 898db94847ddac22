//! Redoubt node: a Redis-compatible server whose writes go through Raft.

pub mod commands;
pub mod raft;
pub mod store;
