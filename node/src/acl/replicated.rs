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
//! only if the cluster has never seen that fingerprint for the same source: a restart with an
//! unchanged config, a node whose aclfile is older than another node's, or a joiner started
//! with the cluster's original config never undoes changes made with ACL commands since. A
//! config changed to something new does apply (as Redis applies its config at start). ACL
//! SAVE and ACL LOAD record the fingerprint of the file they wrote or read.

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

/// Fingerprints seen per seed source (replicated with the ACL state), oldest first.
pub type SeedFingerprints = BTreeMap<String, Vec<PasswordHash>>;

/// Most fingerprints remembered per source.
const MAX_FINGERPRINTS: usize = 64;

/// Whether `fingerprints` already hold `seed`'s.
pub fn seen(fingerprints: &SeedFingerprints, seed: &Seed) -> bool {
    fingerprints
        .get(&seed.source)
        .is_some_and(|seen| seen.contains(&seed.fingerprint))
}

fn remember(fingerprints: &mut SeedFingerprints, source: &str, fingerprint: PasswordHash) {
    let seen = fingerprints.entry(source.to_string()).or_default();
    if !seen.contains(&fingerprint) {
        seen.push(fingerprint);
        if seen.len() > MAX_FINGERPRINTS {
            seen.remove(0);
        }
    }
}

/// The command line of a seed.
pub fn seed_command(seed: &Seed) -> Result<Vec<Bytes>, postcard::Error> {
    Ok(vec![
        Bytes::from_static(b"acl"),
        Bytes::from_static(b"seed"),
        Bytes::from(postcard::to_allocvec(seed)?),
    ])
}

/// The command line of ACL LOAD: the file's definitions (passwords hashed) and the file's
/// fingerprint (remembered as seen for the "aclfile" seed).
pub fn load_command(
    defs: &Definitions,
    fingerprint: PasswordHash,
) -> Result<Vec<Bytes>, postcard::Error> {
    Ok(vec![
        Bytes::from_static(b"acl"),
        Bytes::from_static(b"load"),
        Bytes::from(postcard::to_allocvec(defs)?),
        Bytes::copy_from_slice(&fingerprint),
    ])
}

/// Source name of the aclfile's seed.
pub const ACLFILE_SEED: &str = "aclfile";

/// A requirepass value as it travels: `#<sha256 hex>`, or "" for no password.
pub fn hashed_requirepass(plain: &[u8]) -> Bytes {
    if plain.is_empty() {
        Bytes::new()
    } else {
        Bytes::from(format!("#{}", hash_hex(&super::hash_password(plain))))
    }
}

/// The command line of CONFIG SET requirepass: the hash, or "" to remove the password.
pub fn requirepass_command(plain: &[u8]) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"config"),
        Bytes::from_static(b"set"),
        Bytes::from_static(b"requirepass"),
        hashed_requirepass(plain),
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
                    if let Some(fp) = argv
                        .get(3)
                        .and_then(|f| <PasswordHash>::try_from(f.as_ref()).ok())
                    {
                        remember(seeds, ACLFILE_SEED, fp);
                    }
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
    if seen(seeds, seed) {
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
            remember(seeds, &seed.source, seed.fingerprint);
            Frame::ok()
        }
        Err(e) => Frame::Error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aclfile_seed(content: &str, users: &[&str]) -> Vec<Bytes> {
        let seed = Seed {
            source: ACLFILE_SEED.into(),
            fingerprint: super::super::hash_password(content.as_bytes()),
            replace_all: true,
            defs: users
                .iter()
                .map(|u| (u.to_string(), vec![Bytes::from_static(b"on")]))
                .collect(),
        };
        seed_command(&seed).expect("encode")
    }

    fn names(state: &AclState) -> Vec<String> {
        state.users().map(|u| u.name.clone()).collect()
    }

    #[test]
    fn a_file_content_the_cluster_has_seen_is_never_seeded_again() {
        let mut state = AclState::new();
        let mut seen = SeedFingerprints::new();
        assert_eq!(
            apply(&mut state, &mut seen, &aclfile_seed("v0", &["a"]), true),
            Frame::ok()
        );
        assert_eq!(names(&state), ["a", "default"]);
        // Changed by a command since.
        let setuser = [b"acl".as_ref(), b"setuser", b"b", b"on"].map(Bytes::copy_from_slice);
        assert_eq!(apply(&mut state, &mut seen, &setuser, false), Frame::ok());
        // A node restarting (or joining) with the original file changes nothing.
        apply(&mut state, &mut seen, &aclfile_seed("v0", &["a"]), true);
        assert_eq!(names(&state), ["a", "b", "default"]);
        // A new content applies; going back to an old one does not.
        apply(&mut state, &mut seen, &aclfile_seed("v1", &["c"]), true);
        assert_eq!(names(&state), ["c", "default"]);
        apply(&mut state, &mut seen, &aclfile_seed("v0", &["a"]), true);
        assert_eq!(names(&state), ["c", "default"]);
        // ACL LOAD always applies, and remembers its file.
        let fp = super::super::hash_password(b"v2");
        let load =
            load_command(&vec![("d".into(), vec![Bytes::from_static(b"on")])], fp).expect("encode");
        assert_eq!(apply(&mut state, &mut seen, &load, false), Frame::ok());
        assert_eq!(names(&state), ["d", "default"]);
        apply(&mut state, &mut seen, &aclfile_seed("v2", &["e"]), true);
        assert_eq!(names(&state), ["d", "default"]);
        // Only nodes may seed.
        assert!(apply(&mut state, &mut seen, &aclfile_seed("v3", &["f"]), false).is_error());
    }
}
