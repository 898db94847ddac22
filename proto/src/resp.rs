//! The Redis serialization protocol (RESP2 and RESP3) on the wire.
//!
//! This module owns everything byte-level about a Redoubt connection:
//!
//! * [`Frame`], one reply value of either protocol version, and [`Frame::encode`], which
//!   writes it exactly as Redis 7.2 does (`networking.c`, `addReply*`), downgrading RESP3
//!   types for RESP2 clients the way Redis does;
//! * [`format_double`], Redis 7.2's `d2string` (integral values via `ll2string`, everything
//!   else via the Grisu2 `fpconv_dtoa`), used for double replies;
//! * [`RequestCodec`], the server side of a connection: an incremental decoder of client
//!   requests (multibulk and inline, with Redis' limits and exact protocol error texts from
//!   `processMultibulkBuffer`/`processInlineBuffer`) that yields argument vectors, and an
//!   encoder of reply frames in the connection's current [`Protocol`];
//! * [`ReplyCodec`], the client side: a decoder of any RESP2/RESP3 reply into a [`Frame`]
//!   and an encoder of requests ([`encode_request`]).
//!
//! Both decoders are streaming: they return `Ok(None)` until a whole request or reply is
//! buffered, keep their progress between calls so a large message arriving in many reads is
//! scanned once, never allocate in proportion to a length the peer merely *claims*, and
//! never panic on any input.
//!
//! This file holds what the decoders share (the error type, strict integers, byte search);
//! the codec is split by concern: `frame.rs` (the value types), `encode.rs` (writing frames
//! and requests, `d2string`), `request.rs` (the server-side request decoder and its limits),
//! `split.rs` (`sdssplitargs`) and `reply.rs` (the client-side reply decoder).

mod encode;
mod frame;
mod grisu;
mod reply;
mod request;
mod split;

pub use encode::{encode_request, format_double};
pub use frame::{Frame, Protocol};
pub use reply::{ReplyCodec, MAX_REPLY_DEPTH};
pub use request::{
    Limits, RequestCodec, UNAUTHENTICATED_MAX_BULK, UNAUTHENTICATED_MAX_MULTIBULK,
    UNAUTHENTICATED_MAX_QUERY_BUFFER,
};
pub use split::split_args;

const CRLF: &[u8] = b"\r\n";

/// Upper bound on the up-front capacity of an argument vector or aggregate, whatever
/// count the peer announces (Redis caps `argv_len` the same way).
const MAX_PREALLOC: usize = 1024;

/// Redis `string2ll`: optional `-`, digits, no `+`, no spaces, no leading zeros (except
/// `"0"` itself; `"-0"` is rejected), at most 20 bytes, fits in `i64`.
fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        if v > i64::MIN.unsigned_abs() {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(v))
    } else {
        i64::try_from(v).ok()
    }
}

/// A failure to decode the peer's input. After any error the codec's state is unspecified:
/// the connection should be closed.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// Text to send as `-ERR <text>` before closing, e.g.
    /// `"Protocol error: invalid bulk length"`.
    #[error("{0}")]
    Invalid(String),
    /// The client exceeded the query buffer limit: close without a reply (Redis logs and
    /// closes).
    #[error("query buffer limit exceeded")]
    QueryBufferLimit,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn invalid(text: impl Into<String>) -> ProtocolError {
    ProtocolError::Invalid(text.into())
}

fn find_byte(haystack: &[u8], from: usize, needle: u8) -> Option<usize> {
    haystack
        .get(from..)?
        .iter()
        .position(|&b| b == needle)
        .map(|i| i + from)
}

#[cfg(test)]
mod tests;
