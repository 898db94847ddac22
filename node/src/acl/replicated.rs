//! ACL changes as Raft entries.
//!
//! A client's ACL SETUSER / DELUSER / LOAD and CONFIG SET requirepass travel in the log as
//! ordinary command lines of an [`ExecRequest`](crate::raft::ExecRequest), so they are
//! forwarded, ordered and re-checked like any write. Plaintext passwords never reach those
//! lines: the serving node hashes them first (`>pass` -> `#sha256`). The state machine calls
//! [`apply`] for them; nothing else changes the ACL state.
//!
//! Seeds are the changes a node proposes from its own config at start (aclfile, requirepass,
//! the replication user). Each carries a fingerprint of the config it came from and applies
//! only when that fingerprint differs from the last one applied for the same source, so a
//! restart with an unchanged config does not undo changes made with ACL commands since.

use std::collections::BTreeMap;

use bytes::Bytes;
use redoubt_proto::resp::Frame;
use serde::{Deserialize, Serialize};

use super::{hash_hex, AclState, PasswordHash};

/// Users defined in one go: (name, rules with passwords already hashed).
pub type Definitions = Vec<(String, Vec<Bytes>)>;

/// A change a node proposes from its own config.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Seed {
    /// What it comes from: "aclfile", "requirepass", "masteruser".
    pub source: String,
    /// Hash of the config it was built from.
    pub fingerprint: PasswordHash,
    /// Replace every user (aclfile) instead of applying `defs` on top.
    pub replace_all: bool,
    pub defs: Definitions,
}

/// Last fingerprint applied per seed source (replicated with the ACL state).
pub type SeedFingerprints = BTreeMap<String, PasswordHash>;

/// The command line of a seed.
pub fn seed_command(seed: &Seed) -> Result<Vec<Bytes>, postcard::Error> {
    Ok(vec![
        Bytes::from_static(b"acl"),
        Bytes::from_static(b"seed"),
        Bytes::from(postcard::to_allocvec(seed)?),
    ])
}

/// The command line of ACL LOAD: the file's definitions, passwords hashed.
pub fn load_command(defs: &Definitions) -> Result<Vec<Bytes>, postcard::Error> {
    Ok(vec![
        Bytes::from_static(b"acl"),
        Bytes::from_static(b"load"),
        Bytes::from(postcard::to_allocvec(defs)?),
    ])
}

/// The command line of CONFIG SET requirepass: the hash, or "" to remove the password.
pub fn requirepass_command(plain: &[u8]) -> Vec<Bytes> {
    let value = if plain.is_empty() {
        Bytes::new()
    } else {
        Bytes::from(format!("#{}", hash_hex(&super::hash_password(plain))))
    };
    vec![
        Bytes::from_static(b"config"),
        Bytes::from_static(b"set"),
        Bytes::from_static(b"requirepass"),
        value,
    ]
}

/// The default user's rules for a requirepass value (Redis: resetpass, then >pass or nopass).
pub fn requirepass_rules(hashed: &[u8]) -> Vec<Bytes> {
    if hashed.is_empty() {
        vec![
            Bytes::from_static(b"resetpass"),
            Bytes::from_static(b"nopass"),
        ]
    } else {
        vec![
            Bytes::from_static(b"resetpass"),
            Bytes::copy_from_slice(hashed),
        ]
    }
}

/// Whether a command line of an entry changes the ACL state (and so runs through [`apply`]).
pub fn is_acl_change(argv: &[Bytes]) -> bool {
    let is = |i: usize, s: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(s.as_bytes()))
    };
    (is(0, "acl") && (is(1, "setuser") || is(1, "deluser") || is(1, "load") || is(1, "seed")))
        || (is(0, "config") && is(1, "set") && is(2, "requirepass") && argv.len() == 4)
}

/// Applies one ACL-changing line to `state` and returns its reply. `internal`: proposed by a
/// node itself (seeds are refused otherwise).
pub fn apply(
    state: &mut AclState,
    seeds: &mut SeedFingerprints,
    argv: &[Bytes],
    internal: bool,
) -> Frame {
    let sub = argv
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    match (
        argv.first().map(|a| a.to_ascii_lowercase()).as_deref(),
        sub.as_slice(),
    ) {
        (Some(b"acl"), b"setuser") => {
            let Some(name) = argv.get(2).and_then(|n| std::str::from_utf8(n).ok()) else {
                return Frame::error("ERR Usernames can't contain spaces or null characters");
            };
            match state.set_user(name, &argv[3..]) {
                Ok(()) => Frame::ok(),
                Err(e) => Frame::Error(e),
            }
        }
        (Some(b"acl"), b"deluser") => match state.del_users(&argv[2..]) {
            Ok(n) => Frame::Integer(n),
            Err(e) => Frame::Error(e),
        },
        (Some(b"acl"), b"load") => {
            let Some(defs) = argv
                .get(2)
                .and_then(|raw| postcard::from_bytes::<Definitions>(raw).ok())
            else {
                return Frame::error("ERR malformed ACL LOAD entry");
            };
            match AclState::from_definitions(&defs) {
                Ok(fresh) => {
                    *state = fresh;
                    Frame::ok()
                }
                Err(e) => Frame::Error(e),
            }
        }
        (Some(b"acl"), b"seed") if internal => {
            let Some(seed) = argv
                .get(2)
                .and_then(|raw| postcard::from_bytes::<Seed>(raw).ok())
            else {
                return Frame::error("ERR malformed ACL seed entry");
            };
            apply_seed(state, seeds, &seed)
        }
        (Some(b"config"), b"set") => {
            let rules = requirepass_rules(argv.get(3).map(|v| v.as_ref()).unwrap_or_default());
            match state.set_user("default", &rules) {
                Ok(()) => Frame::ok(),
                Err(e) => Frame::Error(e),
            }
        }
        _ => Frame::error("ERR not an ACL change"),
    }
}

fn apply_seed(state: &mut AclState, seeds: &mut SeedFingerprints, seed: &Seed) -> Frame {
    if seeds.get(&seed.source) == Some(&seed.fingerprint) {
        return Frame::ok();
    }
    let result = if seed.replace_all {
        AclState::from_definitions(&seed.defs).map(|fresh| *state = fresh)
    } else {
        let mut next = state.clone();
        seed.defs
            .iter()
            .try_for_each(|(name, rules)| next.set_user(name, rules))
            .map(|()| *state = next)
    };
    match result {
        Ok(()) => {
            seeds.insert(seed.source.clone(), seed.fingerprint);
            Frame::ok()
        }
        Err(e) => Frame::Error(e),
    }
}
