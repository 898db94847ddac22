//! Connection commands: the ones that change only this connection's state (PING, ECHO,
//! SELECT, QUIT, RESET, HELLO, MULTI, DISCARD, WATCH, UNWATCH, MONITOR). EXEC runs in the
//! connection loop, which carries out the queued commands.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use redoubt_proto::resp::{Frame, Protocol};

use super::Session;
use crate::clock::now_ms;
use crate::commands::args::{is_kw, parse_i64_opt, ArgCursor};
use crate::commands::CmdError;
use crate::raft::Watch;
use crate::store::DATABASES;

/// Redis's rule for client names (CLIENT SETNAME, HELLO SETNAME): no spaces or newlines.
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

impl Session {
    /// PING [message] (in RESP2 subscribed mode, as a pub/sub message).
    pub fn ping(&self, argv: &[Bytes]) -> Frame {
        if self.is_subscribed() && self.protocol == Protocol::Resp2 {
            return Frame::Array(vec![
                Frame::bulk("pong"),
                Frame::Bulk(argv.get(1).cloned().unwrap_or_default()),
            ]);
        }
        if argv.len() > 2 {
            return CmdError::WrongArity("ping".into()).to_frame();
        }
        match argv.get(1) {
            Some(msg) => Frame::Bulk(msg.clone()),
            None => Frame::Simple("PONG".into()),
        }
    }

    /// SELECT index.
    pub fn select(&mut self, index: &[u8]) -> Frame {
        match parse_i64_opt(index) {
            Some(db) if (0..i64::from(DATABASES)).contains(&db) => {
                self.db = db as u8;
                self.handle.update(|i| i.db = db as u8);
                Frame::ok()
            }
            Some(_) => Frame::error("ERR DB index is out of range"),
            None => CmdError::NotInteger.to_frame(),
        }
    }

    /// QUIT: OK, then the connection closes.
    pub fn quit(&mut self) -> Frame {
        self.closing = true;
        Frame::ok()
    }

    /// RESET: back to a new connection's state (database 0, RESP2, user default, no
    /// transaction, watches, subscriptions or MONITOR).
    pub fn reset(&mut self) -> Frame {
        self.multi = None;
        self.multi_dirty = false;
        self.watches.clear();
        self.unsubscribe_all();
        self.db = 0;
        self.protocol = Protocol::Resp2;
        self.authenticated = self.node.default_user_is_open();
        self.user = "default".to_string();
        if self.monitor_rx.take().is_some() {
            self.node.monitors.fetch_sub(1, Ordering::Relaxed);
        }
        let authenticated = self.authenticated;
        self.handle.update(|i| {
            i.user = "default".to_string();
            i.authenticated = authenticated;
            i.db = 0;
            i.resp = 2;
            i.name.clear();
            i.multi = None;
            i.subscriptions = 0;
            i.psubscriptions = 0;
            i.monitor = false;
        });
        Frame::Simple("RESET".into())
    }

    /// MULTI: commands are queued until EXEC or DISCARD.
    pub fn multi(&mut self) -> Frame {
        if self.multi.is_some() {
            return Frame::error("ERR MULTI calls can not be nested");
        }
        self.multi = Some(Vec::new());
        self.multi_dirty = false;
        self.handle.update(|i| i.multi = Some(0));
        Frame::ok()
    }

    /// DISCARD: drops the queued commands and the watches.
    pub fn discard(&mut self) -> Frame {
        if self.multi.take().is_none() {
            return Frame::error("ERR DISCARD without MULTI");
        }
        self.multi_dirty = false;
        self.watches.clear();
        self.handle.update(|i| i.multi = None);
        Frame::ok()
    }

    /// UNWATCH.
    pub fn unwatch(&mut self) -> Frame {
        self.watches.clear();
        Frame::ok()
    }

    /// MONITOR: from now on the client receives every command line the node runs.
    pub fn monitor(&mut self) -> Frame {
        if self.monitor_rx.is_none() {
            self.monitor_rx = Some(self.node.monitor.subscribe());
            self.node.monitors.fetch_add(1, Ordering::Relaxed);
            self.handle.update(|i| i.monitor = true);
        }
        Frame::ok()
    }

    /// HELLO [protover [AUTH user pass] [SETNAME name]].
    pub async fn hello(&mut self, argv: &[Bytes]) -> Frame {
        let mut protocol = self.protocol;
        let mut i = 1;
        if let Some(v) = argv.get(1) {
            match parse_i64_opt(v) {
                Some(2) => protocol = Protocol::Resp2,
                Some(3) => protocol = Protocol::Resp3,
                Some(_) => return Frame::error("NOPROTO unsupported protocol version"),
                None => {
                    return Frame::error("ERR Protocol version is not an integer or out of range")
                }
            }
            i = 2;
        }
        let mut setname = None;
        let mut options = ArgCursor::new(argv, i);
        while let Some(option) = options.next_arg() {
            if is_kw(option, "AUTH") && options.left() >= 2 {
                let (Ok(user), Ok(pass)) = (options.value(), options.value()) else {
                    return CmdError::Syntax.to_frame();
                };
                let r = self.authenticate(user, pass).await;
                if r.is_error() {
                    return r;
                }
            } else if is_kw(option, "SETNAME") && options.left() >= 1 {
                let Ok(name) = options.value() else {
                    return CmdError::Syntax.to_frame();
                };
                if !valid_client_name(name) {
                    return Frame::error(
                        "ERR Client names cannot contain spaces, newlines or special characters.",
                    );
                }
                setname = Some(String::from_utf8_lossy(name).into_owned());
            } else {
                return Frame::Error(format!(
                    "ERR Syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(option)
                ));
            }
        }
        if !self.authenticated {
            return Frame::error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        }
        self.protocol = protocol;
        let resp = if protocol == Protocol::Resp3 { 3 } else { 2 };
        self.handle.update(|info| {
            info.resp = resp;
            if let Some(n) = setname {
                info.name = n;
            }
        });
        Frame::Map(vec![
            (Frame::bulk("server"), Frame::bulk("redis")),
            (Frame::bulk("version"), Frame::bulk(crate::REDIS_VERSION)),
            (Frame::bulk("proto"), Frame::Integer(i64::from(resp))),
            (Frame::bulk("id"), Frame::Integer(self.handle.id as i64)),
            (Frame::bulk("mode"), Frame::bulk("standalone")),
            (Frame::bulk("role"), Frame::bulk("master")),
            (Frame::bulk("modules"), Frame::Array(Vec::new())),
        ])
    }

    /// WATCH key...: remembers each key's version (EXEC aborts if one changed).
    pub async fn watch(&mut self, keys: &[Bytes]) -> Frame {
        if self.multi.is_some() {
            return Frame::error("ERR WATCH inside MULTI is not allowed");
        }
        if let Err(e) = self.read_barrier().await {
            return e.to_frame();
        }
        let ks = self.node.raft.read_view(self.db, now_ms());
        for key in keys {
            if self
                .watches
                .iter()
                .any(|w| w.db == self.db && w.key == *key)
            {
                continue;
            }
            match ks.watch_version(key) {
                Ok(version) => self.watches.push(Watch {
                    db: self.db,
                    key: key.clone(),
                    version,
                }),
                Err(e) => return CmdError::from(e).to_frame(),
            }
        }
        Frame::ok()
    }
}
