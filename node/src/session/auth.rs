//! The session's side of authentication and ACLs: AUTH / HELLO AUTH, and the permission
//! check every command passes before it runs (again at EXEC for queued server commands).
//! Refusals go to the ACL LOG and INFO.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::Session;
use crate::acl::log::{Context, Reason, Refusal};
use crate::acl::Denied;
use crate::commands::{flag, CmdError, CommandSpec};

pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

impl Session {
    /// Whether the connection's user may run `argv` (`spec` resolved, subcommands included);
    /// the NOPERM reply otherwise, recorded in the ACL LOG and INFO.
    pub fn acl_check(&self, spec: &CommandSpec, argv: &[Bytes]) -> Result<(), CmdError> {
        let Some((denied, object)) = self.acl_denial(spec, argv) else {
            return Ok(());
        };
        self.log_refusal(
            Reason::from(denied),
            self.refusal_context(),
            &object,
            &self.user,
        );
        Err(CmdError::NoPerm(denied.message(&self.user, spec)))
    }

    /// At EXEC, before a queued server command runs: whether the rules in force now still
    /// allow it (a revocation since it was queued refuses it, as Redis 7 re-checks every
    /// queued command); Redis's "ACLs rules changed" refusal otherwise, logged in context
    /// multi.
    pub fn acl_recheck_queued(&self, spec: &CommandSpec, argv: &[Bytes]) -> Result<(), CmdError> {
        let Some((denied, object)) = self.acl_denial(spec, argv) else {
            return Ok(());
        };
        self.log_refusal(Reason::from(denied), Context::Multi, &object, &self.user);
        Err(CmdError::NoPerm(denied.changed_since_queued_message()))
    }

    /// At EXEC, for a queued data command the state machine refused at apply (`denied`, as
    /// the entry's reply says): records the refusal in the ACL LOG, in context multi, as
    /// Redis does. The refused key or channel is named when this node's rules show the same
    /// reason; otherwise the command names the object.
    pub fn log_refused_at_exec(&self, spec: &CommandSpec, argv: &[Bytes], denied: Denied) {
        let (reason, object) = match self.acl_denial(spec, argv) {
            Some((local, object)) if Reason::from(local) == Reason::from(denied) => {
                (Reason::from(local), object)
            }
            _ => (Reason::from(denied), spec.full_name().to_string()),
        };
        self.log_refusal(reason, Context::Multi, &object, &self.user);
    }

    /// Why the connection's user may not run `argv` under this node's rules as of now, with
    /// the object ACL LOG names (the command, key or channel); None when it may.
    fn acl_denial(&self, spec: &CommandSpec, argv: &[Bytes]) -> Option<(Denied, String)> {
        if spec.flags & flag::NO_AUTH != 0 {
            return None;
        }
        let denied = self.node.with_acl(|acl| match acl.user(&self.user) {
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
    pub(crate) fn refusal_context(&self) -> Context {
        if self.multi.is_some() || self.running_exec {
            Context::Multi
        } else {
            Context::Toplevel
        }
    }

    pub(crate) fn log_refusal(
        &self,
        reason: Reason,
        context: Context,
        object: &str,
        username: &str,
    ) {
        let max_len = usize::try_from(self.node.config.acllog_max_len).unwrap_or(usize::MAX);
        self.node.auth.record_refusal(
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
    pub async fn auth(&mut self, argv: &[Bytes]) -> Frame {
        let (user, pass) = match argv.len() {
            2 => (Bytes::from_static(b"default"), &argv[1]),
            3 => (argv[1].clone(), &argv[2]),
            _ => return Frame::error("ERR syntax error"),
        };
        if argv.len() == 2 {
            // Decide on the cluster's current default user, not on what this node last saw.
            let _ = self.acl_read_barrier().await;
        }
        if argv.len() == 2 && self.node.default_user_has_no_password() {
            return Frame::error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        }
        self.authenticate(&user, pass).await
    }

    /// Checks a user name and password; on success the connection acts as that user.
    pub async fn authenticate(&mut self, user: &[u8], pass: &[u8]) -> Frame {
        let ip = self.handle.addr.ip();
        if self.node.check_credentials(ip, user, pass).await {
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
}
