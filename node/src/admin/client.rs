//! CLIENT ID / SETNAME / GETNAME / SETINFO / INFO / LIST / KILL: this connection and the
//! node's connection registry (`state::clients`).

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::help;
use crate::commands::args::{is_kw, lower, parse_i64_opt};
use crate::commands::server::ClientCmd;
use crate::commands::CmdError;
use crate::session::{valid_client_name, Session};

/// CLIENT <subcommand> ...
pub fn run(s: &mut Session, cmd: ClientCmd, argv: &[Bytes]) -> Frame {
    match cmd {
        ClientCmd::Id => Frame::Integer(s.handle.id as i64),
        ClientCmd::Getname => {
            let n = s.handle.info().name;
            if n.is_empty() {
                Frame::Null
            } else {
                Frame::bulk(n)
            }
        }
        ClientCmd::Setname => {
            if !valid_client_name(&argv[2]) {
                return Frame::error(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                );
            }
            let n = String::from_utf8_lossy(&argv[2]).into_owned();
            s.handle.update(|i| i.name = n);
            Frame::ok()
        }
        ClientCmd::Setinfo => {
            let attr = lower(&argv[2]);
            if attr != "lib-name" && attr != "lib-ver" {
                return Frame::Error(format!(
                    "ERR Unrecognized option '{}'",
                    String::from_utf8_lossy(&argv[2])
                ));
            }
            if !valid_client_name(&argv[3]) && !argv[3].is_empty() {
                return Frame::Error(format!(
                    "ERR {attr} cannot contain spaces, newlines or special characters."
                ));
            }
            let v = String::from_utf8_lossy(&argv[3]).into_owned();
            s.handle.update(|i| {
                if attr == "lib-name" {
                    i.lib_name = v;
                } else {
                    i.lib_ver = v;
                }
            });
            Frame::ok()
        }
        ClientCmd::Info => Frame::Verbatim(Bytes::from(format!("{}\n", s.handle.describe()))),
        ClientCmd::List => {
            let mut ids: Option<Vec<u64>> = None;
            let mut kind: Option<String> = None;
            let mut i = 2;
            while i < argv.len() {
                if is_kw(&argv[i], "TYPE") && i + 1 < argv.len() {
                    let t = lower(&argv[i + 1]);
                    if !matches!(
                        t.as_str(),
                        "normal" | "master" | "replica" | "slave" | "pubsub"
                    ) {
                        return Frame::Error(format!(
                            "ERR Unknown client type '{}'",
                            String::from_utf8_lossy(&argv[i + 1])
                        ));
                    }
                    kind = Some(t);
                    i += 2;
                } else if is_kw(&argv[i], "ID") && i + 1 < argv.len() {
                    let mut list = Vec::new();
                    for a in &argv[i + 1..] {
                        match parse_i64_opt(a) {
                            Some(id) if id > 0 => list.push(id as u64),
                            _ => return Frame::error("ERR Invalid client ID"),
                        }
                    }
                    ids = Some(list);
                    i = argv.len();
                } else {
                    return CmdError::Syntax.to_frame();
                }
            }
            let mut text = String::new();
            for c in s.node.clients.list() {
                if let Some(ids) = &ids {
                    if !ids.contains(&c.id) {
                        continue;
                    }
                }
                if let Some(k) = &kind {
                    let info = c.info();
                    let is_pubsub = info.subscriptions + info.psubscriptions > 0;
                    let keep = match k.as_str() {
                        "pubsub" => is_pubsub,
                        "normal" => !is_pubsub,
                        _ => false,
                    };
                    if !keep {
                        continue;
                    }
                }
                text.push_str(&c.describe());
                text.push('\n');
            }
            Frame::Verbatim(Bytes::from(text))
        }
        ClientCmd::Kill => client_kill(s, argv),
        ClientCmd::Help => help(&[
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
        ]),
    }
}

fn client_kill(s: &mut Session, argv: &[Bytes]) -> Frame {
    if argv.len() == 3 {
        let addr = String::from_utf8_lossy(&argv[2]).into_owned();
        for c in s.node.clients.list() {
            if c.addr.to_string() == addr {
                c.kill.notify_one();
                s.node.clients.unregister(c.id);
                if c.id == s.handle.id {
                    s.closing = true;
                }
                return Frame::ok();
            }
        }
        return Frame::error("ERR No such client");
    }
    let mut id = None;
    let mut addr = None;
    let mut laddr = None;
    let mut user = None;
    let mut maxage = None;
    let mut skipme = true;
    let mut kind = None;
    let mut i = 2;
    while i + 1 < argv.len() {
        let v = &argv[i + 1];
        if is_kw(&argv[i], "ID") {
            match parse_i64_opt(v) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => return Frame::error("ERR client-id should be greater than 0"),
            }
        } else if is_kw(&argv[i], "ADDR") {
            addr = Some(String::from_utf8_lossy(v).into_owned());
        } else if is_kw(&argv[i], "LADDR") {
            laddr = Some(String::from_utf8_lossy(v).into_owned());
        } else if is_kw(&argv[i], "USER") {
            user = Some(String::from_utf8_lossy(v).into_owned());
        } else if is_kw(&argv[i], "TYPE") {
            kind = Some(lower(v));
        } else if is_kw(&argv[i], "MAXAGE") {
            match parse_i64_opt(v) {
                Some(n) if n >= 0 => maxage = Some(n as u64),
                _ => return CmdError::NotInteger.to_frame(),
            }
        } else if is_kw(&argv[i], "SKIPME") {
            if is_kw(v, "yes") {
                skipme = true;
            } else if is_kw(v, "no") {
                skipme = false;
            } else {
                return CmdError::Syntax.to_frame();
            }
        } else {
            return CmdError::Syntax.to_frame();
        }
        i += 2;
    }
    if i != argv.len() {
        return CmdError::Syntax.to_frame();
    }
    let mut killed = 0;
    for c in s.node.clients.list() {
        if id.is_some_and(|x| x != c.id)
            || addr.as_ref().is_some_and(|a| *a != c.addr.to_string())
            || laddr.as_ref().is_some_and(|a| *a != c.laddr.to_string())
            || maxage.is_some_and(|m| c.created.elapsed().as_secs() < m)
            || (skipme && c.id == s.handle.id)
        {
            continue;
        }
        let info = c.info();
        if user.as_ref().is_some_and(|u| *u != info.user) {
            continue;
        }
        if let Some(k) = &kind {
            let is_pubsub = info.subscriptions + info.psubscriptions > 0;
            let keep = match k.as_str() {
                "pubsub" => is_pubsub,
                "normal" => !is_pubsub,
                _ => false,
            };
            if !keep {
                continue;
            }
        }
        c.kill.notify_one();
        s.node.clients.unregister(c.id);
        if c.id == s.handle.id {
            s.closing = true;
        }
        killed += 1;
    }
    Frame::Integer(killed)
}
