//! Applying committed entries: each command of an entry is checked against the ACL state as
//! of that entry, then run by its handler on the state machine's working copy; ACL changes
//! are collected in an [`AclView`] and published with the batch.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use openraft::EntryPayload;
use redoubt_proto::resp::Frame;

use super::{sm_err, Membership, StateMachine, View, ACL_RECORD, ACL_SEEDS_RECORD};
use crate::acl::replicated::SeedFingerprints;
use crate::acl::{replicated, AclState, Denied};
use crate::commands::{CmdError, CommandSpec, CommandTable, Ctx, Exec, Rng};
use crate::raft::{ExecRequest, Reply, Request, Response};
use crate::store::{Keyspace, Txn, DATABASES};

/// The ACL state while a batch of entries is applied: copied on the first change.
pub struct AclView {
    pub state: Arc<AclState>,
    pub seeds: SeedFingerprints,
    pub changed: bool,
    /// The refusal of the command just run, if the ACL refused it.
    pub refused: Option<Denied>,
}

impl StateMachine {
    /// Applies a batch of committed entries in order to the records in place, holding the view
    /// exclusively, then publishes the applied pointers; one response per entry.
    pub fn apply_entries(&mut self, entries: Vec<crate::raft::Entry>) -> io::Result<Vec<Response>> {
        let mut acl = AclView {
            state: self.shared.acl.load_full(),
            seeds: self.seeds.clone(),
            changed: false,
            refused: None,
        };
        let shared = self.shared.clone();
        let mut view = shared.write();
        let mut ks = Keyspace::new(Txn::writable(std::mem::take(&mut view.records)), 0, 0, 0);
        let applied = apply_into(&self.table, &mut ks, &mut acl, &mut view, entries);
        // The records come back whatever happened: an error stops openraft, never the data.
        view.records = ks.txn.take_records();
        let replies = applied?;
        let published = if acl.changed {
            let state = postcard::to_allocvec(&*acl.state).map_err(sm_err)?;
            let seeds = postcard::to_allocvec(&acl.seeds).map_err(sm_err)?;
            let system = crate::store::encoding::system_key;
            view.records.insert(system(ACL_RECORD).into(), state.into());
            view.records
                .insert(system(ACL_SEEDS_RECORD).into(), seeds.into());
            self.seeds = acl.seeds.clone();
            Some((acl.state, acl.seeds))
        } else {
            None
        };
        let applied = view.applied;
        drop(view);
        self.publish(applied, published);
        Ok(replies)
    }
}

/// Applies `entries` in order through `ks` (the view's records), moving the view's applied
/// pointers with them.
fn apply_into(
    table: &CommandTable,
    ks: &mut Keyspace,
    acl: &mut AclView,
    view: &mut View,
    entries: Vec<crate::raft::Entry>,
) -> io::Result<Vec<Response>> {
    let mut replies = Vec::with_capacity(entries.len());
    for entry in entries {
        ks.version = entry.log_id.index;
        let reply = match &entry.payload {
            EntryPayload::Blank => Response::One(Reply::ok()),
            EntryPayload::Membership(m) => {
                view.membership = Membership::new(Some(entry.log_id), m.clone());
                Response::One(Reply::ok())
            }
            EntryPayload::Normal(Request::Exec(req)) => {
                Response::One(apply_exec(table, ks, acl, req))
            }
            EntryPayload::Normal(Request::Batch(reqs)) => Response::Batch(
                reqs.iter()
                    .map(|req| apply_exec(table, ks, acl, req))
                    .collect(),
            ),
            EntryPayload::Normal(Request::Expire { db, keys, now_ms }) => {
                ks.db = *db;
                ks.now_ms = *now_ms;
                for key in keys {
                    // lookup through a writable view removes the key if it is expired.
                    ks.lookup(key).map_err(sm_err)?;
                }
                Response::One(Reply::ok())
            }
        };
        view.applied = Some(entry.log_id);
        replies.push(reply);
    }
    Ok(replies)
}

/// Applies one client request to the keyspace; the reply goes back to the proposer.
pub fn apply_exec(
    table: &CommandTable,
    ks: &mut Keyspace,
    acl: &mut AclView,
    req: &ExecRequest,
) -> Reply {
    ks.now_ms = req.now_ms;
    let mut rng = Rng::new(req.seed);
    if req.multi {
        for w in &req.watches {
            ks.db = w.db;
            match ks.watch_version(&w.key) {
                Ok(v) if v == w.version => {}
                Ok(_) => {
                    return Reply {
                        frame: Frame::NullArray,
                        db: req.db,
                        refused: Vec::new(),
                    }
                }
                Err(e) => {
                    return Reply {
                        frame: CmdError::from(e).to_frame(),
                        db: req.db,
                        refused: Vec::new(),
                    }
                }
            }
        }
    }
    ks.db = req.db;
    let mut frames = Vec::with_capacity(req.commands.len());
    let mut refused = Vec::new();
    for (i, argv) in req.commands.iter().enumerate() {
        frames.push(run_one(table, ks, acl, &mut rng, req, argv));
        if let Some(denied) = acl.refused.take() {
            refused.push((i as u32, denied));
        }
    }
    let frame = if req.multi {
        Frame::Array(frames)
    } else {
        frames.pop().unwrap_or(Frame::Null)
    };
    Reply {
        frame,
        db: ks.db,
        refused,
    }
}

/// The spec an entry's command line refers to (subcommand specs for containers).
fn entry_spec(table: &CommandTable, argv: &[Bytes]) -> Option<&'static CommandSpec> {
    let name = std::str::from_utf8(argv.first()?).ok()?;
    CommandTable::resolve(table.canonical(name)?, argv).ok()
}

/// Whether the request's user may run `argv` under the ACL state of this entry; the refusal as
/// the client hears it otherwise.
fn permitted(
    acl: &AclState,
    req: &ExecRequest,
    spec: &CommandSpec,
    argv: &[Bytes],
) -> Result<(), (Denied, Frame)> {
    if req.internal {
        return Ok(());
    }
    let denied = match acl.user(&req.user) {
        Some(user) if user.enabled => match user.check(spec, argv) {
            Ok(()) => return Ok(()),
            Err(d) => d,
        },
        // Deleted or disabled since the command was accepted: nothing it may run.
        _ => Denied::Command,
    };
    let text = if req.multi {
        denied.changed_since_queued_message()
    } else {
        denied.message(&req.user, spec)
    };
    Err((denied, Frame::Error(format!("NOPERM {text}"))))
}

fn run_one(
    table: &CommandTable,
    ks: &mut Keyspace,
    acl: &mut AclView,
    rng: &mut Rng,
    req: &ExecRequest,
    argv: &[Bytes],
) -> Frame {
    let Some(name) = argv.first().and_then(|n| std::str::from_utf8(n).ok()) else {
        return Frame::error("ERR empty command");
    };
    // Seeds are no client command: only a node proposes them (internal), unchecked.
    let seed_line = name == "acl" && argv.get(1).is_some_and(|s| s.as_ref() == b"seed");
    let spec = match entry_spec(table, argv) {
        Some(spec) => {
            if let Err((denied, frame)) = permitted(&acl.state, req, spec, argv) {
                acl.refused = Some(denied);
                return frame;
            }
            Some(spec)
        }
        None if seed_line => None,
        None => return Frame::error(format!("ERR unknown command '{name}'")),
    };
    if replicated::is_acl_change(argv) {
        let mut next = (*acl.state).clone();
        let mut seeds = acl.seeds.clone();
        let frame = replicated::apply(&mut next, &mut seeds, argv, req.internal);
        if !frame.is_error() && (next != *acl.state || seeds != acl.seeds) {
            acl.state = Arc::new(next);
            acl.seeds = seeds;
            acl.changed = true;
        }
        return frame;
    }
    if name == "select" {
        // SELECT inside MULTI changes the db of the commands after it.
        return match argv
            .get(1)
            .and_then(|a| crate::commands::args::parse_i64_opt(a))
        {
            Some(db) if (0..i64::from(DATABASES)).contains(&db) => {
                ks.db = db as u8;
                Frame::ok()
            }
            Some(_) => Frame::error("ERR DB index is out of range"),
            None => Frame::error("ERR value is not an integer or out of range"),
        };
    }
    let Some(spec) = spec else {
        return Frame::error(format!("ERR unknown command '{name}'"));
    };
    let handler = match spec.exec {
        Exec::Read(h) | Exec::Write(h) => h,
        _ => return Frame::error(format!("ERR '{name}' cannot run in the state machine")),
    };
    let mut ctx = Ctx {
        ks,
        rng,
        protocol: req.protocol,
    };
    handler(&mut ctx, argv).unwrap_or_else(|e| e.to_frame())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::storage::RaftStateMachine;
    use openraft::RaftSnapshotBuilder;

    use crate::raft::state_machine::tests::{dump, exec_entry, line, open, user_entry};

    #[tokio::test]
    async fn applying_the_same_entries_gives_the_same_bytes() {
        let entries = || {
            vec![
                exec_entry(1, &[&["set", "k", "v", "ex", "100"], &["set", "n", "10"]]),
                exec_entry(2, &[&["set", "k2", "v2"], &["del", "n"]]),
            ]
        };
        let a = tempfile::tempdir().expect("tmp");
        let b = tempfile::tempdir().expect("tmp");
        let (mut sm_a, shared_a) = open(a.path());
        let (mut sm_b, shared_b) = open(b.path());
        sm_a.apply_entries(entries()).expect("apply a");
        sm_b.apply_entries(entries()).expect("apply b");
        assert_eq!(dump(&shared_a), dump(&shared_b));
        assert!(!dump(&shared_a).is_empty());
    }

    fn setuser(rules: &[&str]) -> Vec<Bytes> {
        let mut l = line(&["acl", "setuser"]);
        l.extend(crate::acl::hash_rules(&line(rules)));
        l
    }

    fn frames(replies: Vec<Response>) -> Vec<Frame> {
        replies
            .into_iter()
            .map(|r| match r {
                Response::One(r) => r.frame,
                Response::Batch(_) => panic!("unexpected batch"),
            })
            .collect()
    }

    #[tokio::test]
    async fn writes_are_checked_against_the_acl_state_of_their_entry() {
        let dir = tempfile::tempdir().expect("tmp");
        let (mut sm, shared) = open(dir.path());
        let replies = sm
            .apply_entries(vec![
                user_entry(
                    1,
                    "default",
                    false,
                    vec![setuser(&["u", "on", ">pw", "~*", "+@all"])],
                ),
                user_entry(2, "u", false, vec![line(&["set", "before", "1"])]),
                // Both in one batch: the revocation binds the write after it.
                user_entry(3, "default", false, vec![setuser(&["u", "-set"])]),
                user_entry(4, "u", false, vec![line(&["set", "after", "1"])]),
                user_entry(
                    5,
                    "u",
                    true,
                    vec![line(&["get", "before"]), line(&["set", "after", "2"])],
                ),
                user_entry(6, "nobody", false, vec![line(&["get", "before"])]),
            ])
            .expect("apply");
        let f = frames(replies);
        assert_eq!(f[0], Frame::ok());
        assert_eq!(f[1], Frame::ok());
        assert_eq!(f[2], Frame::ok());
        assert_eq!(
            f[3],
            Frame::error("NOPERM User u has no permissions to run the 'set' command")
        );
        let Frame::Array(tx) = &f[4] else {
            panic!("EXEC reply: {:?}", f[4])
        };
        assert_eq!(tx[0], Frame::bulk("1"));
        assert!(
            matches!(&tx[1], Frame::Error(e) if e.starts_with("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand")),
            "{:?}",
            tx[1]
        );
        assert!(
            matches!(&f[5], Frame::Error(e) if e.starts_with("NOPERM")),
            "{:?}",
            f[5]
        );
        let mut ks = Keyspace::new(
            Txn::read_only(shared.view().records),
            0,
            1_700_000_000_000,
            0,
        );
        assert!(ks.lookup(b"before").expect("lookup").is_some());
        assert!(ks.lookup(b"after").expect("lookup").is_none());
        let acl = shared.acl.load();
        let u = acl.user("u").expect("user u");
        assert!(u.check_password(b"pw"));
        assert!(!u.check_password(b"other"));
    }

    #[tokio::test]
    async fn no_plaintext_password_reaches_the_store_and_snapshots_carry_the_acl() {
        let dir = tempfile::tempdir().expect("tmp");
        let (mut sm, shared) = open(dir.path());
        sm.apply_entries(vec![user_entry(
            1,
            "default",
            false,
            vec![setuser(&["alice", "on", ">s3cr3t-plain", "~k*", "+get"])],
        )])
        .expect("apply");
        for (k, v) in dump(&shared) {
            let hay = [k, v].concat();
            assert!(!hay.windows(12).any(|w| w == b"s3cr3t-plain"));
        }
        let mut builder = sm.get_snapshot_builder().await;
        let snapshot = builder.build_snapshot().await.expect("build");
        let dst = tempfile::tempdir().expect("tmp");
        let (mut fresh, fresh_shared) = open(dst.path());
        fresh
            .install_snapshot(&snapshot.meta, snapshot.snapshot)
            .await
            .expect("install");
        assert_eq!(**fresh_shared.acl.load(), **shared.acl.load());
        assert!(fresh_shared.acl.load().user("alice").is_some());
    }

    #[tokio::test]
    async fn a_seed_applies_once_per_fingerprint() {
        use crate::acl::replicated::{seed_command, Seed};
        let dir = tempfile::tempdir().expect("tmp");
        let (mut sm, shared) = open(dir.path());
        let seed = Seed {
            source: "requirepass".into(),
            fingerprint: crate::acl::hash_password(b"one"),
            replace_all: false,
            defs: vec![(
                "default".into(),
                crate::acl::hash_rules(&line(&["resetpass", ">one"])),
            )],
        };
        let seed_entry = |index: u64| {
            let mut entry =
                user_entry(index, "", false, vec![seed_command(&seed).expect("encode")]);
            if let EntryPayload::Normal(Request::Exec(req)) = &mut entry.payload {
                req.internal = true;
            }
            entry
        };
        sm.apply_entries(vec![seed_entry(1)]).expect("apply");
        assert!(shared
            .acl
            .load()
            .user("default")
            .expect("default")
            .check_password(b"one"));
        // CONFIG SET requirepass two, then the same seed again (a restart): two stays.
        let mut set = line(&["config", "set", "requirepass"]);
        set.push(crate::acl::replicated::requirepass_command(b"two")[3].clone());
        sm.apply_entries(vec![
            user_entry(2, "default", false, vec![set]),
            seed_entry(3),
        ])
        .expect("apply");
        let acl = shared.acl.load();
        let default = acl.user("default").expect("default");
        assert!(default.check_password(b"two"));
        assert!(!default.check_password(b"one"));
        // A client cannot send a seed.
        let forged = sm
            .apply_entries(vec![user_entry(
                4,
                "default",
                false,
                vec![seed_command(&seed).expect("encode")],
            )])
            .expect("apply");
        assert!(frames(forged)[0].is_error());
    }
}
