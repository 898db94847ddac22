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
use crate::commands::{CmdError, CommandTable};
use crate::session::Session;
use crate::sync::Locked as _;

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// ACL <subcommand> ...
pub async fn run(s: &mut Session, cmd: AclCmd, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if matches!(cmd, AclCmd::Cat | AclCmd::Genpass | AclCmd::Log) && argv.len() > 3 {
        return Err(CmdError::Other(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
            String::from_utf8_lossy(&argv[1])
        )));
    }
    match cmd {
        AclCmd::Setuser => setuser(s, &argv[2], &argv[3..]).await,
        AclCmd::Deluser => deluser(s, &argv[2..]).await,
        AclCmd::Load => load(s).await,
        AclCmd::Save => save(s).await,
        AclCmd::List | AclCmd::Users | AclCmd::Getuser => {
            s.acl_read_barrier().await?;
            let acl = s.node.acl();
            Ok(match cmd {
                AclCmd::List => {
                    Frame::Array(acl.users().map(|u| Frame::bulk(u.describe())).collect())
                }
                AclCmd::Users => {
                    Frame::Array(acl.users().map(|u| Frame::bulk(u.name.clone())).collect())
                }
                _ => match std::str::from_utf8(&argv[2]).ok().and_then(|n| acl.user(n)) {
                    Some(u) => u.getuser_reply(),
                    None => Frame::Null,
                },
            })
        }
        AclCmd::Whoami => Ok(Frame::bulk(s.user.clone())),
        AclCmd::Cat => cat(argv.get(2)),
        AclCmd::Genpass => genpass(argv.get(2)),
        AclCmd::Log => Ok(log(s, argv.get(2))?),
        AclCmd::Dryrun => acl_dryrun(s, argv).await,
        AclCmd::Help => Ok(acl_help()),
    }
}

/// ACL SETUSER name rule...: the rules are checked here, hashed, and applied by the state
/// machine on every node.
async fn setuser(s: &mut Session, name: &Bytes, rules: &[Bytes]) -> Result<Frame, CmdError> {
    if !valid_user_name(name) {
        return Err(CmdError::other(
            "ERR Usernames can't contain spaces or null characters",
        ));
    }
    crate::acl::validate_rules(rules).map_err(CmdError::Other)?;
    keeps_replication_user(s, name, rules)?;
    let mut command = vec![
        Bytes::from_static(b"acl"),
        Bytes::from_static(b"setuser"),
        name.clone(),
    ];
    command.extend(crate::acl::hash_rules(rules));
    Ok(match propose_acl(s, command).await {
        // The entry held hashes: name the rule as the client wrote it (redacted).
        Frame::Error(e) => Frame::Error(crate::acl::rules::redact_hashed_error(rules, &e)),
        other => other,
    })
}

/// ACL DELUSER name...: never the replication user of a cluster.
async fn deluser(s: &mut Session, names: &[Bytes]) -> Result<Frame, CmdError> {
    let masteruser = s.node.config.masteruser.as_bytes();
    if s.node.is_clustered() && names.iter().any(|n| n.as_ref() == masteruser) {
        return Err(CmdError::Other(format!(
            "ERR The replication user '{}' cannot be removed: the cluster's nodes authenticate with it",
            s.node.config.masteruser
        )));
    }
    let mut command = vec![Bytes::from_static(b"acl"), Bytes::from_static(b"deluser")];
    command.extend(names.iter().cloned());
    Ok(propose_acl(s, command).await)
}

/// ACL LOAD: the aclfile's users replace the cluster's (the replication user kept).
async fn load(s: &mut Session) -> Result<Frame, CmdError> {
    let Some(path) = s.node.config.aclfile.clone() else {
        return Err(CmdError::other(NO_ACLFILE));
    };
    let content = std::fs::read_to_string(&path).map_err(|e| {
        CmdError::Other(format!(
            "ERR Error loading ACLs, opening file '{}': {e}",
            path.display()
        ))
    })?;
    let mut defs = crate::acl::file::load(&path.display().to_string(), &content)
        .map_err(|e| CmdError::Other(format!("ERR {e}")))?;
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
        replication_user_usable(s, &state)?;
    }
    let command = replicated::load_command(&defs, crate::acl::hash_password(content.as_bytes()))
        .map_err(|e| CmdError::Other(format!("ERR cannot encode the ACL: {e}")))?;
    Ok(propose_acl(s, command).await)
}

/// ACL SAVE: the cluster's users to the aclfile, and its fingerprint into the state (a
/// restart with this file must not replace the users again).
async fn save(s: &mut Session) -> Result<Frame, CmdError> {
    let Some(path) = s.node.config.aclfile.clone() else {
        return Err(CmdError::other(NO_ACLFILE));
    };
    s.acl_read_barrier().await?;
    let content = crate::acl::file::format(&s.node.acl());
    if let Err(e) = crate::acl::file::save_atomically(&path, &content) {
        tracing::warn!(path = %path.display(), error = %e, "ACL SAVE failed");
        return Err(CmdError::other("ERR There was an error trying to save the ACLs. Please check the server logs for more information"));
    }
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
    Ok(Frame::ok())
}

/// ACL CAT [category].
fn cat(category: Option<&Bytes>) -> Result<Frame, CmdError> {
    let Some(cat) = category else {
        return Ok(Frame::Array(
            crate::acl::rules::categories()
                .into_iter()
                .map(Frame::bulk)
                .collect(),
        ));
    };
    let typed = String::from_utf8_lossy(cat);
    match crate::acl::rules::commands_in_category(&typed.to_ascii_lowercase()) {
        Some(names) => Ok(Frame::Array(names.into_iter().map(Frame::bulk).collect())),
        None => Err(CmdError::Other(format!("ERR Unknown category '{typed}'"))),
    }
}

/// ACL GENPASS [bits]: hex from the system's secure random source.
fn genpass(bits: Option<&Bytes>) -> Result<Frame, CmdError> {
    let bits = match bits {
        None => 256,
        Some(v) => match parse_i64_opt(v) {
            Some(n) if (1..=4096).contains(&n) => n as usize,
            _ => return Err(CmdError::other("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")),
        },
    };
    let chars = bits.div_ceil(4);
    let mut raw = vec![0u8; chars.div_ceil(2)];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut raw).is_err() {
        return Err(CmdError::other("ERR no random source available"));
    }
    let mut hex = crate::hex::encode(&raw);
    hex.truncate(chars);
    Ok(Frame::bulk(hex))
}

/// ACL LOG [count | RESET].
fn log(s: &Session, arg: Option<&Bytes>) -> Result<Frame, CmdError> {
    let log = &s.node.auth.log;
    match arg {
        Some(a) if is_kw(a, "RESET") => {
            log.locked().reset();
            Ok(Frame::ok())
        }
        Some(a) => match parse_i64_opt(a) {
            Some(n) if n >= 0 => Ok(log.locked().reply(Some(n as usize), crate::clock::now_ms())),
            _ => Err(CmdError::other(
                "ERR value is out of range, must be positive",
            )),
        },
        None => Ok(log.locked().reply(None, crate::clock::now_ms())),
    }
}

fn acl_help() -> Frame {
    help(&[
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
    ])
}

/// ACL DRYRUN user command [arg...]: whether the user's rules allow it, without running it.
async fn acl_dryrun(s: &mut Session, argv: &[Bytes]) -> Result<Frame, CmdError> {
    s.acl_read_barrier().await?;
    let acl = s.node.acl();
    let user_name = String::from_utf8_lossy(&argv[2]).into_owned();
    let Some(user) = acl.user(&user_name) else {
        return Err(CmdError::Other(format!("ERR User '{user_name}' not found")));
    };
    let line = &argv[3..];
    let Some(spec) = s.node.table.lookup(&line[0]) else {
        return Err(CmdError::Other(format!(
            "ERR Command '{}' not found",
            String::from_utf8_lossy(&line[0])
        )));
    };
    let spec = CommandTable::resolve(spec, line).unwrap_or(spec);
    if !spec.arity_ok(line.len()) {
        return Err(CmdError::WrongArity(spec.full_name().to_string()));
    }
    Ok(match user.check(spec, line) {
        Ok(()) => Frame::ok(),
        Err(d) => Frame::bulk(d.dryrun_message(&user_name, spec, line)),
    })
}

/// In a cluster, refuses an ACL SETUSER that would leave the replication user unable to
/// make peer calls (off, no password, or no PSYNC): every node would refuse its peers.
fn keeps_replication_user(s: &Session, name: &[u8], rules: &[Bytes]) -> Result<(), CmdError> {
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
fn replication_user_usable(s: &Session, state: &crate::acl::AclState) -> Result<(), CmdError> {
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
        Err(CmdError::Other(format!(
            "ERR The replication user '{masteruser}' must stay on, keep a password and keep +psync: the cluster's nodes authenticate with it"
        )))
    }
}

async fn propose_acl(s: &mut Session, command: Vec<Bytes>) -> Frame {
    if let Err(e) = s.node.wait_seeded().await {
        return e.to_frame();
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
