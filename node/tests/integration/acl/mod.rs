//! ACL (issue 4) on a single node: the rule grammar as ACL LIST / ACL GETUSER show it and as
//! it acts on real commands, key / channel permissions, selectors, ACL DRYRUN, CAT, GENPASS,
//! USERS, DELUSER, ACL LOG and the INFO denial counters. Expected texts are Redis 7.2's (ported
//! from Redis's tests/unit/acl.tcl and acl-v2.tcl) and /tmp/notes/acl-contract.md.

mod commands;
mod dryrun;
mod exec;
mod grammar;
mod log;
mod patterns;
mod selectors;
mod users;
