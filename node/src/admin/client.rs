//! CLIENT ID / SETNAME / GETNAME / SETINFO / INFO / LIST / KILL: this connection and the
//! node's connection registry (`state::clients`).

use std::sync::Arc;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::help;
use crate::commands::args::{is_kw, lower, parse_i64_opt, ArgCursor};
use crate::commands::server::ClientCmd;
use crate::commands::CmdError;
use crate::session::{valid_client_name, Session};
use crate::state::clients::ClientHandle;

/// CLIENT <subcommand> ...
pub fn run(s: &mut Session, cmd: ClientCmd, argv: &[Bytes]) -> Result<Frame, CmdError> {
    match cmd {
        ClientCmd::Id => Ok(Frame::Integer(s.handle.id as i64)),
        ClientCmd::Getname => {
            let n = s.handle.info().name;
            Ok(if n.is_empty() {
                Frame::Null
            } else {
                Frame::bulk(n)
            })
        }
        ClientCmd::Setname => {
            if !valid_client_name(&argv[2]) {
                return Err(CmdError::other(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                ));
            }
            let n = String::from_utf8_lossy(&argv[2]).into_owned();
            s.handle.update(|i| i.name = n);
            Ok(Frame::ok())
        }
        ClientCmd::Setinfo => setinfo(s, &argv[2], &argv[3]),
        ClientCmd::Info => Ok(Frame::Verbatim(Bytes::from(format!(
            "{}\n",
            s.handle.describe()
        )))),
        ClientCmd::List => list(s, argv),
        ClientCmd::Kill => kill(s, argv),
        ClientCmd::Help => Ok(client_help()),
    }
}

/// CLIENT SETINFO LIB-NAME|LIB-VER value.
fn setinfo(s: &Session, attr: &[u8], value: &[u8]) -> Result<Frame, CmdError> {
    let name = lower(attr);
    if name != "lib-name" && name != "lib-ver" {
        return Err(CmdError::Other(format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        )));
    }
    if !valid_client_name(value) && !value.is_empty() {
        return Err(CmdError::Other(format!(
            "ERR {name} cannot contain spaces, newlines or special characters."
        )));
    }
    let v = String::from_utf8_lossy(value).into_owned();
    s.handle.update(|i| {
        if name == "lib-name" {
            i.lib_name = v;
        } else {
            i.lib_ver = v;
        }
    });
    Ok(Frame::ok())
}

/// Whether a client is of CLIENT LIST / KILL's TYPE `kind` (`pubsub`: subscribed to
/// something; `normal`: not; Redoubt has no master or replica clients).
fn is_of_type(client: &ClientHandle, kind: &str) -> bool {
    let info = client.info();
    let is_pubsub = info.subscriptions + info.psubscriptions > 0;
    match kind {
        "pubsub" => is_pubsub,
        "normal" => !is_pubsub,
        _ => false,
    }
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id...].
fn list(s: &Session, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let mut ids: Option<Vec<u64>> = None;
    let mut kind: Option<String> = None;
    let mut args = ArgCursor::new(argv, 2);
    while let Some(option) = args.next_arg() {
        if is_kw(option, "TYPE") && args.left() >= 1 {
            let typed = args.value()?;
            let t = lower(typed);
            if !matches!(
                t.as_str(),
                "normal" | "master" | "replica" | "slave" | "pubsub"
            ) {
                return Err(CmdError::Other(format!(
                    "ERR Unknown client type '{}'",
                    String::from_utf8_lossy(typed)
                )));
            }
            kind = Some(t);
        } else if is_kw(option, "ID") && args.left() >= 1 {
            let mut list = Vec::new();
            while let Some(a) = args.next_arg() {
                match parse_i64_opt(a) {
                    Some(id) if id > 0 => list.push(id as u64),
                    _ => return Err(CmdError::other("ERR Invalid client ID")),
                }
            }
            ids = Some(list);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut text = String::new();
    for c in s.node.clients.list() {
        if ids.as_ref().is_some_and(|ids| !ids.contains(&c.id))
            || kind.as_deref().is_some_and(|k| !is_of_type(&c, k))
        {
            continue;
        }
        text.push_str(&c.describe());
        text.push('\n');
    }
    Ok(Frame::Verbatim(Bytes::from(text)))
}

/// Which clients CLIENT KILL's filters select.
#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    addr: Option<String>,
    laddr: Option<String>,
    user: Option<String>,
    maxage: Option<u64>,
    kind: Option<String>,
    /// Leave the calling connection alone (SKIPME yes, the default).
    skip_me: bool,
}

impl KillFilter {
    /// The `<option> <value>` pairs after CLIENT KILL.
    fn parse(argv: &[Bytes]) -> Result<KillFilter, CmdError> {
        let mut f = KillFilter {
            skip_me: true,
            ..KillFilter::default()
        };
        let mut args = ArgCursor::new(argv, 2);
        while let Some(option) = args.next_arg() {
            let v = args.value()?;
            let text = || String::from_utf8_lossy(v).into_owned();
            if is_kw(option, "ID") {
                match parse_i64_opt(v) {
                    Some(n) if n > 0 => f.id = Some(n as u64),
                    _ => return Err(CmdError::other("ERR client-id should be greater than 0")),
                }
            } else if is_kw(option, "ADDR") {
                f.addr = Some(text());
            } else if is_kw(option, "LADDR") {
                f.laddr = Some(text());
            } else if is_kw(option, "USER") {
                f.user = Some(text());
            } else if is_kw(option, "TYPE") {
                f.kind = Some(lower(v));
            } else if is_kw(option, "MAXAGE") {
                match parse_i64_opt(v) {
                    Some(n) if n >= 0 => f.maxage = Some(n as u64),
                    _ => return Err(CmdError::NotInteger),
                }
            } else if is_kw(option, "SKIPME") {
                f.skip_me = if is_kw(v, "yes") {
                    true
                } else if is_kw(v, "no") {
                    false
                } else {
                    return Err(CmdError::Syntax);
                };
            } else {
                return Err(CmdError::Syntax);
            }
        }
        Ok(f)
    }

    fn selects(&self, c: &ClientHandle, me: u64) -> bool {
        if self.id.is_some_and(|x| x != c.id)
            || self.addr.as_ref().is_some_and(|a| *a != c.addr.to_string())
            || self
                .laddr
                .as_ref()
                .is_some_and(|a| *a != c.laddr.to_string())
            || self
                .maxage
                .is_some_and(|m| c.created.elapsed().as_secs() < m)
            || (self.skip_me && c.id == me)
        {
            return false;
        }
        if self.user.as_ref().is_some_and(|u| *u != c.info().user) {
            return false;
        }
        self.kind.as_deref().is_none_or(|k| is_of_type(c, k))
    }
}

/// Closes one client (this one too: it then closes after the reply).
fn close_client(s: &mut Session, c: &Arc<ClientHandle>) {
    c.kill.notify_one();
    s.node.clients.unregister(c.id);
    if c.id == s.handle.id {
        s.closing = true;
    }
}

/// CLIENT KILL ip:port (old form, OK or an error), or CLIENT KILL <filter> <value> ... (the
/// number of clients closed).
fn kill(s: &mut Session, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if argv.len() == 3 {
        let addr = String::from_utf8_lossy(&argv[2]).into_owned();
        let Some(c) = s
            .node
            .clients
            .list()
            .into_iter()
            .find(|c| c.addr.to_string() == addr)
        else {
            return Err(CmdError::other("ERR No such client"));
        };
        close_client(s, &c);
        return Ok(Frame::ok());
    }
    let filter = KillFilter::parse(argv)?;
    let mut killed = 0;
    for c in s.node.clients.list() {
        if filter.selects(&c, s.handle.id) {
            close_client(s, &c);
            killed += 1;
        }
    }
    Ok(Frame::Integer(killed))
}

fn client_help() -> Frame {
    help(&[
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID, ADDR, LADDR, USER, SKIPME, MAXAGE.",
        "LIST [options ...]",
        "    Return information about client connections.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
        "HELP",
        "    Print this help.",
    ])
}
