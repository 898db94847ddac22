//! Hashes, lists, sets and sorted sets over real TCP, with Redis 7.2's replies and errors.

mod hashes;
mod lists;
mod sets;
mod zsets;

use std::collections::HashSet;

use crate::common::*;

/// Iterates a SCAN-family command (`HSCAN key`, `SSCAN key`, `ZSCAN key`) to its end and
/// returns every item it produced, in order.
async fn scan_all(c: &mut MultiplexedConnection, cmd: &[&str], extra: &[&str]) -> Vec<String> {
    let mut items = Vec::new();
    let mut cursor = "0".to_string();
    for _ in 0..10_000 {
        let mut args: Vec<&str> = cmd.to_vec();
        args.push(&cursor);
        args.extend_from_slice(extra);
        let reply = q(c, &args).await;
        let Value::Array(parts) = reply else {
            panic!("{cmd:?} reply is not an array: {reply:?}")
        };
        assert_eq!(parts.len(), 2, "{cmd:?} replies [cursor, items]");
        let next = text(&parts[0]);
        items.extend(strings(&parts[1]));
        if next == "0" {
            return items;
        }
        cursor = next;
    }
    panic!("{cmd:?} did not finish");
}

fn set_of(items: &[&str]) -> HashSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}
