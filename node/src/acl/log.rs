//! ACL LOG: this node's record of refused commands and failed authentications (as in Redis, the
//! log is per node: it describes the clients this node served).
//!
//! Entries are kept newest first. A refusal like one of the ten newest entries (same reason,
//! context, object and user, first seen less than 60 s ago) only bumps that entry's count and
//! moves it to the front, as Redis groups them.

use std::collections::VecDeque;

use redoubt_proto::resp::Frame;

/// Refusals closer than this to an entry's creation are grouped into it.
const GROUPING_MS: u64 = 60_000;
/// How many of the newest entries are searched for a match.
const GROUPING_SCAN: usize = 10;

/// Why the log has an entry (Redis's `reason` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Auth,
    Command,
    Key,
    Channel,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Auth => "auth",
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
        }
    }
}

/// Where a refusal happened (Redis's `context` field): at the top level, or inside a
/// transaction (when queued, or when re-checked at EXEC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
}

impl Context {
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
        }
    }
}

impl From<super::Denied> for Reason {
    fn from(d: super::Denied) -> Reason {
        match d {
            super::Denied::Command => Reason::Command,
            super::Denied::Key { .. } => Reason::Key,
            super::Denied::Channel { .. } => Reason::Channel,
        }
    }
}

/// One refusal (or group of alike refusals).
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub count: u64,
    pub reason: Reason,
    pub context: Context,
    /// The command, key or channel refused ("AUTH" for failed authentications).
    pub object: String,
    pub username: String,
    /// CLIENT LIST line of the client, as of the latest refusal.
    pub client_info: String,
    pub entry_id: u64,
    pub created_ms: u64,
    pub updated_ms: u64,
}

/// The log itself.
#[derive(Debug, Default)]
pub struct AclLog {
    entries: VecDeque<LogEntry>,
    next_id: u64,
}

/// What a new refusal is about.
pub struct Refusal<'a> {
    pub reason: Reason,
    pub context: Context,
    pub object: &'a str,
    pub username: &'a str,
    pub client_info: String,
}

impl AclLog {
    /// Records a refusal at `now_ms`, keeping at most `max_len` entries (0 keeps none).
    pub fn add(&mut self, r: Refusal<'_>, now_ms: u64, max_len: usize) {
        let found = self.entries.iter().take(GROUPING_SCAN).position(|e| {
            e.reason == r.reason
                && e.context == r.context
                && e.object == r.object
                && e.username == r.username
                && now_ms.saturating_sub(e.created_ms) < GROUPING_MS
        });
        if let Some(mut entry) = found.and_then(|i| self.entries.remove(i)) {
            entry.count += 1;
            entry.client_info = r.client_info;
            entry.updated_ms = now_ms;
            self.entries.push_front(entry);
        } else {
            self.entries.push_front(LogEntry {
                count: 1,
                reason: r.reason,
                context: r.context,
                object: r.object.to_string(),
                username: r.username.to_string(),
                client_info: r.client_info,
                entry_id: self.next_id,
                created_ms: now_ms,
                updated_ms: now_ms,
            });
            self.next_id += 1;
        }
        self.entries.truncate(max_len);
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The ACL LOG reply: the `count` newest entries (all when None), newest first.
    pub fn reply(&self, count: Option<usize>, now_ms: u64) -> Frame {
        let n = count.unwrap_or(usize::MAX);
        Frame::Array(
            self.entries
                .iter()
                .take(n)
                .map(|e| {
                    let age = now_ms.saturating_sub(e.created_ms) as f64 / 1000.0;
                    Frame::Map(vec![
                        (Frame::bulk("count"), Frame::Integer(e.count as i64)),
                        (Frame::bulk("reason"), Frame::bulk(e.reason.as_str())),
                        (Frame::bulk("context"), Frame::bulk(e.context.as_str())),
                        (Frame::bulk("object"), Frame::bulk(e.object.clone())),
                        (Frame::bulk("username"), Frame::bulk(e.username.clone())),
                        (Frame::bulk("age-seconds"), Frame::Double(age)),
                        (
                            Frame::bulk("client-info"),
                            Frame::bulk(e.client_info.clone()),
                        ),
                        (Frame::bulk("entry-id"), Frame::Integer(e.entry_id as i64)),
                        (
                            Frame::bulk("timestamp-created"),
                            Frame::Integer(e.created_ms as i64),
                        ),
                        (
                            Frame::bulk("timestamp-last-updated"),
                            Frame::Integer(e.updated_ms as i64),
                        ),
                    ])
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal<'a>(object: &'a str, user: &'a str) -> Refusal<'a> {
        Refusal {
            reason: Reason::Command,
            context: Context::Toplevel,
            object,
            username: user,
            client_info: format!("id=1 cmd={object}"),
        }
    }

    #[test]
    fn alike_refusals_group_and_move_to_the_front() {
        let mut log = AclLog::default();
        log.add(refusal("get", "bob"), 1_000, 128);
        log.add(refusal("set", "bob"), 2_000, 128);
        log.add(refusal("get", "bob"), 3_000, 128);
        assert_eq!(log.len(), 2);
        let first = &log.entries[0];
        assert_eq!((first.object.as_str(), first.count), ("get", 2));
        assert_eq!((first.created_ms, first.updated_ms), (1_000, 3_000));
        assert_eq!(first.entry_id, 0);
        // Past the grouping window: a new entry.
        log.add(refusal("get", "bob"), 1_000 + GROUPING_MS, 128);
        assert_eq!(log.len(), 3);
        assert_eq!(log.entries[0].entry_id, 2);
    }

    #[test]
    fn the_log_keeps_max_len_newest_entries() {
        let mut log = AclLog::default();
        for i in 0..20 {
            log.add(refusal(&format!("k{i}"), "bob"), i, 5);
        }
        assert_eq!(log.len(), 5);
        assert_eq!(log.entries[0].object, "k19");
        let Frame::Array(items) = log.reply(Some(2), 100) else {
            panic!("array")
        };
        assert_eq!(items.len(), 2);
        log.reset();
        assert!(log.is_empty());
    }
}
