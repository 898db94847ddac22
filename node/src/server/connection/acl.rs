//! The connection's side of authentication and ACLs: AUTH / HELLO AUTH, the permission check
//! every command passes before it runs, and the ACL command family. ACL changes are proposed
//! as Raft entries (passwords hashed first); the state machine applies them.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::{help, Connection};
use crate::acl::log::{Context, Reason, Refusal};
use crate::acl::replicated;
use crate::acl::Denied;
use crate::commands::args::{is_kw, parse_i64_opt};
use crate::commands::{flag, CommandSpec, CommandTable};

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";
const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// Redis's rule for user names: no spaces or NUL bytes.
fn valid_user_name(name: &[u8]) -> bool {
    !name.is_empty()
        && !name.iter().any(|&b| b == b' ' || b == 0)
        && std::str::from_utf8(name).is_ok()
}

impl Connection {
    /// Whether the connection's user may run `argv` (`spec` resolved, subcommands included);
    /// the NOPERM reply otherwise, recorded in the ACL LOG and INFO.
    pub(super) fn acl_check(&self, spec: &CommandSpec, argv: &[Bytes]) -> Result<(), Frame> {
        let Some((denied, object)) = self.acl_denial(spec, argv) else {
            return Ok(());
        };
        self.log_refusal(
            Reason::from(denied),
            self.refusal_context(),
            &object,
            &self.user,
        );
        Err(Frame::Error(format!(
            "NOPERM {}",
            denied.message(&self.user, spec)
        )))
    }

    /// At EXEC, before a queued server command runs: whether the rules in force now still
    /// allow it (a revocation since it was queued refuses it, as Redis 7 re-checks every
    /// queued command); Redis's "ACLs rules changed" refusal otherwise, logged in context
    /// multi.
    pub(super) fn acl_recheck_queued(
        &self,
        spec: &CommandSpec,
        argv: &[Bytes],
    ) -> Result<(), Frame> {
        let Some((denied, object)) = self.acl_denial(spec, argv) else {
            return Ok(());
        };
        self.log_refusal(Reason::from(denied), Context::Multi, &object, &self.user);
        Err(Frame::Error(format!(
            "NOPERM {}",
            denied.changed_since_queued_message()
        )))
    }

    /// At EXEC, for a queued data command the state machine refused at apply (`error` is its
    /// reply): records the refusal in the ACL LOG, in context multi, as Redis does. The
    /// refused key or channel is named when this node's rules show which one; otherwise the
    /// reason comes from the reply and the command names the object.
    pub(super) fn log_refused_at_exec(&self, spec: &CommandSpec, argv: &[Bytes], error: &str) {
        let Some(text) = error.strip_prefix("NOPERM ") else {
            return;
        };
        let from_reply = [
            Denied::Command,
            Denied::Key { index: 0 },
            Denied::Channel { index: 0 },
        ]
        .into_iter()
        .find(|d| d.changed_since_queued_message() == text);
        let Some(from_reply) = from_reply else {
            return;
        };
        let (reason, object) = match self.acl_denial(spec, argv) {
            Some((local, object)) if Reason::from(local) == Reason::from(from_reply) => {
                (Reason::from(local), object)
            }
            _ => (Reason::from(from_reply), spec.full_name().to_string()),
        };
        self.log_refusal(reason, Context::Multi, &object, &self.user);
    }

    /// Why the connection's user may not run `argv` under this node's rules as of now, with
    /// the object ACL LOG names (the command, key or channel); None when it may.
    fn acl_denial(&self, spec: &CommandSpec, argv: &[Bytes]) -> Option<(Denied, String)> {
        if spec.flags & flag::NO_AUTH != 0 {
            return None;
        }
        let denied = self.server.with_acl(|acl| match acl.user(&self.user) {
            Some(user) if user.enabled => user.check(spec, argv).err(),
            _ => Some(Denied::Command),
        })?;
        let object = match denied {
            Denied::Command => spec.full_name().to_string(),
            Denied::Key { index } | Denied::Channel { index } => argv
                .get(index)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .unwrap_or_default(),
        };
        Some((denied, object))
    }

    /// Where a refusal happens now: in a transaction while commands are queued or while EXEC
    /// runs them, at the top level otherwise.
    fn refusal_context(&self) -> Context {
        if self.multi.is_some() || self.running_exec {
            Context::Multi
        } else {
            Context::Toplevel
        }
    }

    fn log_refusal(&self, reason: Reason, context: Context, object: &str, username: &str) {
        let max_len = usize::try_from(self.server.config.acllog_max_len).unwrap_or(usize::MAX);
        self.server.auth.record_refusal(
            Refusal {
                reason,
                context,
                object,
                username,
                client_info: self.handle.describe(),
            },
            max_len,
        );
    }

    /// AUTH [user] pass.
    pub(super) async fn auth(&mut self, argv: &[Bytes]) -> Frame {
        let (user, pass) = match argv.len() {
            2 => (Bytes::from_static(b"default"), &argv[1]),
            3 => (argv[1].clone(), &argv[2]),
            _ => return Frame::error("ERR syntax error"),
        };
        if argv.len() == 2 {
            // Decide on the cluster's current default user, not on what this node last saw.
            let _ = self.acl_read_barrier().await;
        }
        if argv.len() == 2 && self.server.default_user_has_no_password() {
            return Frame::error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        }
        self.authenticate(&user, pass).await
    }

    /// Checks a user name and password; on success the connection acts as that user.
    pub(super) async fn authenticate(&mut self, user: &[u8], pass: &[u8]) -> Frame {
        let ip = self.handle.addr.ip();
        if self.server.check_credentials(ip, user, pass).await {
            self.set_user(String::from_utf8_lossy(user).into_owned());
            Frame::ok()
        } else {
            let name = String::from_utf8_lossy(user).into_owned();
            let user = crate::logsafe::Escaped(&name).to_string();
            crate::log_limited!(
                crate::logsafe::AUTH_FAILURES,
                format!("{} for user \"{user}\"", ip),
                client = %self.handle.addr, user = %user, "authentication failed"
            );
            self.log_refusal(Reason::Auth, self.refusal_context(), "AUTH", &name);
            Frame::error(WRONGPASS)
        }
    }

    /// The connection acts as `user` from now on.
    pub(super) fn set_user(&mut self, user: String) {
        self.authenticated = true;
        self.user = user.clone();
        self.handle.update(|i| {
            i.user = user;
            i.authenticated = true;
        });
    }

    /// ACL <subcommand> ...
    pub(super) async fn acl_command(&mut self, name: &str, argv: &[Bytes]) -> Frame {
        if matches!(name, "acl|cat" | "acl|genpass" | "acl|log") && argv.len() > 3 {
            return Frame::Error(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
                String::from_utf8_lossy(&argv[1])
            ));
        }
        match name {
            "acl|setuser" => {
                if !valid_user_name(&argv[2]) {
                    return Frame::error("ERR Usernames can't contain spaces or null characters");
                }
                let rules = &argv[3..];
                if let Err(e) = crate::acl::validate_rules(rules) {
                    return Frame::Error(e);
                }
                if let Err(e) = self.keeps_replication_user(&argv[2], rules) {
                    return e;
                }
                let mut command = vec![
                    Bytes::from_static(b"acl"),
                    Bytes::from_static(b"setuser"),
                    argv[2].clone(),
                ];
                command.extend(crate::acl::hash_rules(rules));
                match self.propose_acl(command).await {
                    // The entry held hashes: name the rule as the client wrote it (redacted).
                    Frame::Error(e) => {
                        Frame::Error(crate::acl::rules::redact_hashed_error(rules, &e))
                    }
                    other => other,
                }
            }
            "acl|deluser" => {
                let masteruser = self.server.config.masteruser.as_bytes();
                if self.server.is_clustered() && argv[2..].iter().any(|n| n.as_ref() == masteruser) {
                    return Frame::Error(format!(
                        "ERR The replication user '{}' cannot be removed: the cluster's nodes authenticate with it",
                        self.server.config.masteruser
                    ));
                }
                let mut command = vec![Bytes::from_static(b"acl"), Bytes::from_static(b"deluser")];
                command.extend(argv[2..].iter().cloned());
                self.propose_acl(command).await
            }
            "acl|load" => {
                let Some(path) = self.server.config.aclfile.clone() else {
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
                if let Some((user, rules)) = crate::state::auth::replication_user_definition(&self.server) {
                    if !defs.iter().any(|(n, _)| *n == user) {
                        defs.push((user, rules));
                    }
                }
                let defs: Vec<_> = defs
                    .into_iter()
                    .map(|(n, r)| (n, crate::acl::hash_rules(&r)))
                    .collect();
                if let Ok(state) = crate::acl::AclState::from_definitions(&defs) {
                    if let Err(e) = self.replication_user_usable(&state) {
                        return e;
                    }
                }
                match replicated::load_command(&defs, crate::acl::hash_password(content.as_bytes())) {
                    Ok(command) => self.propose_acl(command).await,
                    Err(e) => Frame::Error(format!("ERR cannot encode the ACL: {e}")),
                }
            }
            "acl|save" => {
                let Some(path) = self.server.config.aclfile.clone() else {
                    return Frame::error(NO_ACLFILE);
                };
                if let Err(f) = self.acl_read_barrier().await {
                    return f;
                }
                let content = crate::acl::file::format(&self.server.acl());
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
                            let reply = self.server.propose_acl_change("", command, true).await;
                            if reply.is_error() {
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
            "acl|list" => {
                if let Err(f) = self.acl_read_barrier().await {
                    return f;
                }
                let acl = self.server.acl();
                Frame::Array(acl.users().map(|u| Frame::bulk(u.describe())).collect())
            }
            "acl|users" => {
                if let Err(f) = self.acl_read_barrier().await {
                    return f;
                }
                let acl = self.server.acl();
                Frame::Array(acl.users().map(|u| Frame::bulk(u.name.clone())).collect())
            }
            "acl|getuser" => {
                if let Err(f) = self.acl_read_barrier().await {
                    return f;
                }
                let acl = self.server.acl();
                match std::str::from_utf8(&argv[2]).ok().and_then(|n| acl.user(n)) {
                    Some(u) => u.getuser_reply(),
                    None => Frame::Null,
                }
            }
            "acl|whoami" => Frame::bulk(self.user.clone()),
            "acl|cat" => match argv.get(2) {
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
            "acl|genpass" => {
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
            "acl|log" => {
                let log = &self.server.auth.log;
                match argv.get(2) {
                    Some(a) if is_kw(a, "RESET") => {
                        log.lock().unwrap_or_else(|p| p.into_inner()).reset();
                        Frame::ok()
                    }
                    Some(a) => match parse_i64_opt(a) {
                        Some(n) if n >= 0 => log
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .reply(Some(n as usize), crate::clock::now_ms()),
                        _ => Frame::error("ERR value is out of range, must be positive"),
                    },
                    None => log
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .reply(None, crate::clock::now_ms()),
                }
            }
            "acl|dryrun" => self.acl_dryrun(argv).await,
            _ => help(&[
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

    async fn acl_dryrun(&mut self, argv: &[Bytes]) -> Frame {
        if let Err(f) = self.acl_read_barrier().await {
            return f;
        }
        let acl = self.server.acl();
        let user_name = String::from_utf8_lossy(&argv[2]).into_owned();
        let Some(user) = acl.user(&user_name) else {
            return Frame::Error(format!("ERR User '{user_name}' not found"));
        };
        let line = &argv[3..];
        let Some(mut spec) = self.server.table.lookup(&line[0]) else {
            return Frame::Error(format!(
                "ERR Command '{}' not found",
                String::from_utf8_lossy(&line[0])
            ));
        };
        if let crate::commands::Exec::Container = spec.exec {
            if let Some(sub) = line.get(1).and_then(|s| CommandTable::subcommand(spec, s)) {
                spec = sub;
            }
        }
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
    fn keeps_replication_user(&self, name: &[u8], rules: &[Bytes]) -> Result<(), Frame> {
        if name != self.server.config.masteruser.as_bytes() {
            return Ok(());
        }
        let mut after = (*self.server.raft.acl()).clone();
        if after
            .set_user(
                &self.server.config.masteruser,
                &crate::acl::hash_rules(rules),
            )
            .is_err()
        {
            // The state machine will refuse it with the proper error.
            return Ok(());
        }
        self.replication_user_usable(&after)
    }

    /// Whether `state`'s replication user can still make peer calls (always, off a cluster).
    fn replication_user_usable(&self, state: &crate::acl::AclState) -> Result<(), Frame> {
        let masteruser = &self.server.config.masteruser;
        if !self.server.is_clustered() {
            return Ok(());
        }
        let usable = state.user(masteruser).is_some_and(|u| {
            !u.passwords.is_empty()
                && self
                    .server
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

    /// ACL reads see every change acknowledged anywhere before they started.
    pub(super) async fn acl_read_barrier(&mut self) -> Result<(), Frame> {
        self.server
            .raft
            .read_barrier()
            .await
            .map_err(|e| e.to_frame())
    }

    async fn propose_acl(&mut self, command: Vec<Bytes>) -> Frame {
        if let Err(frame) = self.server.wait_seeded().await {
            return frame;
        }
        let user = self.user.clone();
        self.server.propose_acl_change(&user, command, false).await
    }

    /// CONFIG SET requirepass: a Raft entry (the default user's password, hashed).
    pub(super) async fn set_requirepass(&mut self, value: &[u8]) -> Frame {
        let command = replicated::requirepass_command(value);
        self.propose_acl(command).await
    }
}
