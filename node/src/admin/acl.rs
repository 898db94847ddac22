//! ACL SETUSER / DELUSER / GETUSER / LIST / USERS / CAT / WHOAMI / GENPASS / LOG / DRYRUN /
//! LOAD / SAVE, and CONFIG SET requirepass. Changes are proposed as Raft entries (passwords
//! hashed first) and applied by the state machine on every node; reads pass a read barrier
//! first, so they see every change acknowledged anywhere before them.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::help;
use crate::acl::replicated;
use crate::commands::args::{is_kw, parse_i64_opt};
use crate::commands::server::AclCmd;
use crate::commands::CommandTable;
use crate::session::Session;
use crate::sync::Locked as _;

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// ACL <subcommand> ...
pub async fn run(s: &mut Session, cmd: AclCmd, argv: &[Bytes]) -> Frame {
    if matches!(cmd, AclCmd::Cat | AclCmd::Genpass | AclCmd::Log) && argv.len() > 3 {
        return Frame::Error(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
            String::from_utf8_lossy(&argv[1])
        ));
    }
    match cmd {
        AclCmd::Setuser => {
            if !valid_user_name(&argv[2]) {
                return Frame::error("ERR Usernames can't contain spaces or null characters");
            }
            let rules = &argv[3..];
            if let Err(e) = crate::acl::validate_rules(rules) {
                return Frame::Error(e);
            }
            if let Err(e) = keeps_replication_user(s, &argv[2], rules) {
                return e;
            }
            let mut command = vec![
                Bytes::from_static(b"acl"),
                Bytes::from_static(b"setuser"),
                argv[2].clone(),
            ];
            command.extend(crate::acl::hash_rules(rules));
            match propose_acl(s, command).await {
                // The entry held hashes: name the rule as the client wrote it (redacted).
                Frame::Error(e) => {
                    Frame::Error(crate::acl::rules::redact_hashed_error(rules, &e))
                }
                other => other,
            }
        }
        AclCmd::Deluser => {
            let masteruser = s.node.config.masteruser.as_bytes();
            if s.node.is_clustered() && argv[2..].iter().any(|n| n.as_ref() == masteruser) {
                return Frame::Error(format!(
                    "ERR The replication user '{}' cannot be removed: the cluster's nodes authenticate with it",
                    s.node.config.masteruser
                ));
            }
            let mut command = vec![Bytes::from_static(b"acl"), Bytes::from_static(b"deluser")];
            command.extend(argv[2..].iter().cloned());
            propose_acl(s, command).await
        }
        AclCmd::Load => {
            let Some(path) = s.node.config.aclfile.clone() else {
                return Frame::error(NO_ACLFILE);
            };
            let content = match std::fs::read_to_string(&path) {
                Ok(c) => c,
                Err(e) => {
                    return Frame::Error(format!(
                        "ERR Error loading ACLs, opening file '{}': {e}",
                        path.display()
                    ))
                }
            };
            let mut defs = match crate::acl::file::load(&path.display().to_string(), &content)
            {
                Ok(d) => d,
                Err(e) => return Frame::Error(format!("ERR {e}")),
            };
            // The cluster must keep its replication user whatever the file says.
            if let Some((user, rules)) = crate::state::auth::replication_user_definition(&s.node) {
                if !defs.iter().any(|(n, _)| *n == user) {
                    defs.push((user, rules));
                }
            }
            let defs: Vec<_> = defs
                .into_iter()
                .map(|(n, r)| (n, crate::acl::hash_rules(&r)))
                .collect();
            if let Ok(state) = crate::acl::AclState::from_definitions(&defs) {
                if let Err(e) = replication_user_usable(s, &state) {
                    return e;
                }
            }
            match replicated::load_command(&defs, crate::acl::hash_password(content.as_bytes())) {
                Ok(command) => propose_acl(s, command).await,
                Err(e) => Frame::Error(format!("ERR cannot encode the ACL: {e}")),
            }
        }
        AclCmd::Save => {
            let Some(path) = s.node.config.aclfile.clone() else {
                return Frame::error(NO_ACLFILE);
            };
            if let Err(f) = s.acl_read_barrier().await {
                return f;
            }
            let content = crate::acl::file::format(&s.node.acl());
            match crate::acl::file::save_atomically(&path, &content) {
                Ok(()) => {
                    // A restart with this file must not replace the users again.
                    let record = replicated::Seed {
                        source: replicated::ACLFILE_SEED.into(),
                        fingerprint: crate::acl::hash_password(content.as_bytes()),
                        replace_all: false,
                        defs: Vec::new(),
                    };
                    if let Ok(command) = replicated::seed_command(&record) {
                        let reply = s.node.propose_acl_change("", command, true).await;
                        if reply.as_ref().map_or(true, Frame::is_error) {
                            tracing::warn!("ACL SAVE: the saved file's fingerprint was not recorded: {reply:?}");
                        }
                    }
                    Frame::ok()
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ACL SAVE failed");
                    Frame::error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
                }
            }
        }
        AclCmd::List => {
            if let Err(f) = s.acl_read_barrier().await {
                return f;
            }
            let acl = s.node.acl();
            Frame::Array(acl.users().map(|u| Frame::bulk(u.describe())).collect())
        }
        AclCmd::Users => {
            if let Err(f) = s.acl_read_barrier().await {
                return f;
            }
            let acl = s.node.acl();
            Frame::Array(acl.users().map(|u| Frame::bulk(u.name.clone())).collect())
        }
        AclCmd::Getuser => {
            if let Err(f) = s.acl_read_barrier().await {
                return f;
            }
            let acl = s.node.acl();
            match std::str::from_utf8(&argv[2]).ok().and_then(|n| acl.user(n)) {
                Some(u) => u.getuser_reply(),
                None => Frame::Null,
            }
        }
        AclCmd::Whoami => Frame::bulk(s.user.clone()),
        AclCmd::Cat => match argv.get(2) {
            None => Frame::Array(
                crate::acl::rules::categories()
                    .into_iter()
                    .map(Frame::bulk)
                    .collect(),
            ),
            Some(cat) => {
                let typed = String::from_utf8_lossy(cat);
                match crate::acl::rules::commands_in_category(&typed.to_ascii_lowercase()) {
                    Some(names) => Frame::Array(names.into_iter().map(Frame::bulk).collect()),
                    None => Frame::Error(format!("ERR Unknown category '{typed}'")),
                }
            }
        },
        AclCmd::Genpass => {
            let bits = match argv.get(2) {
                None => 256,
                Some(v) => match parse_i64_opt(v) {
                    Some(n) if (1..=4096).contains(&n) => n as usize,
                    _ => return Frame::error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"),
                },
            };
            let chars = bits.div_ceil(4);
            let mut raw = vec![0u8; chars.div_ceil(2)];
            if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut raw).is_err() {
                return Frame::error("ERR no random source available");
            }
            let mut hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            hex.truncate(chars);
            Frame::bulk(hex)
        }
        AclCmd::Log => {
            let log = &s.node.auth.log;
            match argv.get(2) {
                Some(a) if is_kw(a, "RESET") => {
                    log.locked().reset();
                    Frame::ok()
                }
                Some(a) => match parse_i64_opt(a) {
                    Some(n) if n >= 0 => log
                        .locked()
                        .reply(Some(n as usize), crate::clock::now_ms()),
                    _ => Frame::error("ERR value is out of range, must be positive"),
                },
                None => log
                    .locked()
                    .reply(None, crate::clock::now_ms()),
            }
        }
        AclCmd::Dryrun => acl_dryrun(s, argv).await,
        AclCmd::Help => help(&[
            "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
            "HELP",
            "    Print this help.",
        ]),
    }
}

async fn acl_dryrun(s: &mut Session, argv: &[Bytes]) -> Frame {
    if let Err(f) = s.acl_read_barrier().await {
        return f;
    }
    let acl = s.node.acl();
    let user_name = String::from_utf8_lossy(&argv[2]).into_owned();
    let Some(user) = acl.user(&user_name) else {
        return Frame::Error(format!("ERR User '{user_name}' not found"));
    };
    let line = &argv[3..];
    let Some(mut spec) = s.node.table.lookup(&line[0]) else {
        return Frame::Error(format!(
            "ERR Command '{}' not found",
            String::from_utf8_lossy(&line[0])
        ));
    };
    spec = CommandTable::resolve(spec, line).unwrap_or(spec);
    if !spec.arity_ok(line.len()) {
        return Frame::Error(format!(
            "ERR wrong number of arguments for '{}' command",
            spec.full_name()
        ));
    }
    match user.check(spec, line) {
        Ok(()) => Frame::ok(),
        Err(d) => Frame::bulk(d.dryrun_message(&user_name, spec, line)),
    }
}

/// In a cluster, refuses an ACL SETUSER that would leave the replication user unable to
/// make peer calls (off, no password, or no PSYNC): every node would refuse its peers.
fn keeps_replication_user(s: &Session, name: &[u8], rules: &[Bytes]) -> Result<(), Frame> {
    if name != s.node.config.masteruser.as_bytes() {
        return Ok(());
    }
    let mut after = (*s.node.raft.acl()).clone();
    if after
        .set_user(&s.node.config.masteruser, &crate::acl::hash_rules(rules))
        .is_err()
    {
        // The state machine will refuse it with the proper error.
        return Ok(());
    }
    replication_user_usable(s, &after)
}

/// Whether `state`'s replication user can still make peer calls (always, off a cluster).
fn replication_user_usable(s: &Session, state: &crate::acl::AclState) -> Result<(), Frame> {
    let masteruser = &s.node.config.masteruser;
    if !s.node.is_clustered() {
        return Ok(());
    }
    let usable = state.user(masteruser).is_some_and(|u| {
        !u.passwords.is_empty()
            && s.node
                .table
                .canonical(crate::acl::REPLICATION_COMMAND)
                .is_some_and(|psync| u.may_replicate(psync))
    });
    if usable {
        Ok(())
    } else {
        Err(Frame::Error(format!(
            "ERR The replication user '{masteruser}' must stay on, keep a password and keep +psync: the cluster's nodes authenticate with it"
        )))
    }
}

async fn propose_acl(s: &mut Session, command: Vec<Bytes>) -> Frame {
    if let Err(frame) = s.node.wait_seeded().await {
        return frame;
    }
    let user = s.user.clone();
    s.node
        .propose_acl_change(&user, command, false)
        .await
        .unwrap_or_else(|e| e.to_frame())
}

/// CONFIG SET requirepass: a Raft entry (the default user's password, hashed).
pub async fn set_requirepass(s: &mut Session, value: &[u8]) -> Frame {
    let command = replicated::requirepass_command(value);
    propose_acl(s, command).await
}

/// Redis's rule for user names: no spaces or NUL bytes.
fn valid_user_name(name: &[u8]) -> bool {
    !name.is_empty()
        && !name.iter().any(|&b| b == b' ' || b == 0)
        && std::str::from_utf8(name).is_ok()
}
