//! The registry of this node's client connections: CLIENT LIST/INFO/KILL and INFO clients.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

use super::output::OutputMeter;
use crate::sync::Locked as _;

/// What other connections may see or change of a connection.
pub struct ClientHandle {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub created: Instant,
    pub info: Mutex<ClientInfo>,
    /// Notified to close the connection (CLIENT KILL, shutdown, output buffer limit).
    pub kill: Notify,
    /// Bytes owed to the client and not yet written (client-output-buffer-limit).
    pub output: OutputMeter,
}

/// The mutable, displayable state of a connection.
#[derive(Clone, Debug)]
pub struct ClientInfo {
    pub name: String,
    pub db: u8,
    pub resp: u8,
    pub last_cmd: &'static str,
    pub last_active: Instant,
    pub subscriptions: usize,
    pub psubscriptions: usize,
    pub multi: Option<usize>,
    pub lib_name: String,
    pub lib_ver: String,
    pub user: String,
    /// Whether the connection is authenticated as `user` (closed when that user is deleted
    /// or disabled).
    pub authenticated: bool,
    pub monitor: bool,
}

impl ClientHandle {
    pub fn info(&self) -> ClientInfo {
        self.info.locked().clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut ClientInfo)) {
        f(&mut self.info.locked());
    }

    /// One line of CLIENT LIST, in Redis's field order.
    pub fn describe(&self) -> String {
        let i = self.info();
        let now = Instant::now();
        let mut flags = String::new();
        if i.subscriptions + i.psubscriptions > 0 {
            flags.push('P');
        }
        if i.multi.is_some() {
            flags.push('x');
        }
        if i.monitor {
            flags.push('O');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={} db={} sub={} psub={} ssub=0 multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            i.name,
            now.duration_since(self.created).as_secs(),
            now.duration_since(i.last_active).as_secs(),
            flags,
            i.db,
            i.subscriptions,
            i.psubscriptions,
            i.multi.map_or(-1, |n| n as i64),
            self.output.queued(),
            self.output.queued(),
            if i.last_cmd.is_empty() { "NULL" } else { i.last_cmd },
            i.user,
            i.resp,
            i.lib_name,
            i.lib_ver,
        )
    }
}

/// All connections of the node.
#[derive(Default)]
pub struct Clients {
    next_id: AtomicU64,
    all: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    /// Connections holding a place among `maxclients`: from accept to close, a TLS one during
    /// its handshake too (as Redis counts a client from accept).
    admitted: AtomicU64,
}

/// A connection's place among `maxclients`, taken at accept and given back when dropped
/// (the connection ended, or never got past its refusal or its TLS handshake).
pub struct Admission<'a> {
    clients: &'a Clients,
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.clients.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Clients {
    pub fn register(&self, addr: SocketAddr, laddr: SocketAddr) -> Arc<ClientHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let now = Instant::now();
        let handle = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            created: now,
            info: Mutex::new(ClientInfo {
                name: String::new(),
                db: 0,
                resp: 2,
                last_cmd: "",
                last_active: now,
                subscriptions: 0,
                psubscriptions: 0,
                multi: None,
                lib_name: String::new(),
                lib_ver: String::new(),
                user: "default".to_string(),
                authenticated: false,
                monitor: false,
            }),
            kill: Notify::new(),
            output: OutputMeter::default(),
        });
        self.lock().insert(id, handle.clone());
        handle
    }

    pub fn unregister(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<ClientHandle>>> {
        self.all.locked()
    }

    pub fn list(&self) -> Vec<Arc<ClientHandle>> {
        self.lock().values().cloned().collect()
    }

    /// A place for a new connection, unless `max` are taken: checked and taken in one step,
    /// so connections accepted at the same moment cannot all slip under the limit.
    pub fn admit(&self, max: u64) -> Option<Admission<'_>> {
        self.admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Admission { clients: self })
    }

    /// How many connections hold a place (INFO's connected_clients).
    pub fn admitted(&self) -> u64 {
        self.admitted.load(Ordering::Acquire)
    }
}
