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

use std::fmt;
use std::ops::Range;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::{Decoder, Encoder};

mod grisu;

const CRLF: &[u8] = b"\r\n";

/// Redis' `PROTO_INLINE_MAX_SIZE`.
const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// Upper bound on the up-front capacity of an argument vector or aggregate, whatever
/// count the peer announces (Redis caps `argv_len` the same way).
const MAX_PREALLOC: usize = 1024;

/// Extra buffer space reserved while a bulk argument is arriving, beyond what was received.
const BULK_RESERVE_STEP: usize = 64 * 1024;

/// Maximum nesting of aggregate replies accepted by [`ReplyCodec`]. Redis never nests more
/// than a handful of levels; the bound keeps recursive `Drop`/`Debug` of frames safe.
pub const MAX_REPLY_DEPTH: usize = 128;

/// One RESP value.
///
/// RESP3-only variants are downgraded by [`Frame::encode`] for [`Protocol::Resp2`] exactly
/// as Redis does (maps and sets become arrays, doubles/big numbers/verbatim strings become
/// bulk strings, booleans become integers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Frame {
    /// Simple string, `+OK`.
    Simple(String),
    /// Error reply, the full text without the leading `-`, error code included:
    /// `"ERR unknown command 'x'..."` or `"WRONGTYPE Operation..."`.
    Error(String),
    /// An error whose text echoes client bytes that need not be UTF-8 (e.g. an unknown command
    /// name); encoded exactly as [`Frame::Error`].
    ErrorBytes(Bytes),
    /// `:<n>`.
    Integer(i64),
    /// Bulk string, `$<len>`.
    Bulk(Bytes),
    /// Null bulk string: RESP2 `$-1`, RESP3 `_`.
    Null,
    /// Null array: RESP2 `*-1`, RESP3 `_`.
    NullArray,
    /// `*<n>`.
    Array(Vec<Frame>),
    /// RESP3 `%<n>`; RESP2 a flat array of `2n` elements.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~<n>`; RESP2 an array.
    Set(Vec<Frame>),
    /// RESP3 `,<d>`; RESP2 a bulk string of [`format_double`].
    Double(f64),
    /// RESP3 `#t`/`#f`; RESP2 the integer 1/0.
    Boolean(bool),
    /// Verbatim string of format `txt`: RESP3 `=<len+4>\r\ntxt:<data>`; RESP2 a bulk string
    /// of `data`. Decoding keeps only the data (any format).
    Verbatim(Bytes),
    /// RESP3 `(<digits>`; RESP2 a bulk string.
    BigNumber(String),
    /// RESP3 out-of-band push `><n>`; RESP2 an array.
    Push(Vec<Frame>),
}

/// The protocol version a connection speaks (`HELLO 2` / `HELLO 3`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

impl Frame {
    /// `+OK`.
    pub fn ok() -> Frame {
        Frame::Simple("OK".to_owned())
    }

    /// An error reply; `msg` is the full text including the error code, e.g.
    /// `Frame::error("ERR syntax error")`.
    pub fn error(msg: impl Into<String>) -> Frame {
        Frame::Error(msg.into())
    }

    /// A bulk string.
    pub fn bulk(b: impl Into<Bytes>) -> Frame {
        Frame::Bulk(b.into())
    }

    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_) | Frame::ErrorBytes(_))
    }

    /// Append the wire encoding for protocol version 2 or 3 to `out`.
    ///
    /// Carriage returns and line feeds inside simple strings, errors and big numbers are
    /// replaced by spaces (as Redis does for error texts), so the output is always valid.
    pub fn encode(&self, protocol: Protocol, out: &mut BytesMut) {
        let resp3 = protocol == Protocol::Resp3;
        match self {
            Frame::Simple(s) => put_line(out, b'+', s.as_bytes()),
            Frame::Error(s) => put_line(out, b'-', s.as_bytes()),
            Frame::ErrorBytes(b) => put_line(out, b'-', b),
            Frame::Integer(n) => put_int_line(out, b':', *n),
            Frame::Bulk(b) => put_bulk(out, b),
            Frame::Null => out.put_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
            Frame::NullArray => out.put_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
            Frame::Array(items) => {
                put_len_line(out, b'*', items.len());
                for item in items {
                    item.encode(protocol, out);
                }
            }
            Frame::Map(pairs) => {
                if resp3 {
                    put_len_line(out, b'%', pairs.len());
                } else {
                    put_len_line(out, b'*', pairs.len().saturating_mul(2));
                }
                for (k, v) in pairs {
                    k.encode(protocol, out);
                    v.encode(protocol, out);
                }
            }
            Frame::Set(items) => {
                put_len_line(out, if resp3 { b'~' } else { b'*' }, items.len());
                for item in items {
                    item.encode(protocol, out);
                }
            }
            Frame::Double(d) => {
                let s = format_double(*d);
                if resp3 {
                    put_line(out, b',', s.as_bytes());
                } else {
                    put_bulk(out, s.as_bytes());
                }
            }
            Frame::Boolean(b) => out.put_slice(match (resp3, b) {
                (true, true) => b"#t\r\n",
                (true, false) => b"#f\r\n",
                (false, true) => b":1\r\n",
                (false, false) => b":0\r\n",
            }),
            Frame::Verbatim(data) => {
                if resp3 {
                    put_len_line(out, b'=', data.len().saturating_add(4));
                    out.reserve(data.len() + 6);
                    out.put_slice(b"txt:");
                    out.put_slice(data);
                    out.put_slice(CRLF);
                } else {
                    put_bulk(out, data);
                }
            }
            Frame::BigNumber(n) => {
                if resp3 {
                    put_line(out, b'(', n.as_bytes());
                } else {
                    put_bulk(out, n.as_bytes());
                }
            }
            Frame::Push(items) => {
                put_len_line(out, if resp3 { b'>' } else { b'*' }, items.len());
                for item in items {
                    item.encode(protocol, out);
                }
            }
        }
    }
}

/// `<prefix><text>\r\n`, with CR/LF in `text` mapped to spaces.
fn put_line(out: &mut BytesMut, prefix: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(prefix);
    if text.iter().any(|&b| b == b'\r' || b == b'\n') {
        out.extend(
            text.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    } else {
        out.put_slice(text);
    }
    out.put_slice(CRLF);
}

/// Decimal digits of `n` into the tail of `buf`; returns the start index.
fn fmt_i64(n: i64, buf: &mut [u8; 20]) -> usize {
    let mut v = n.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        // v % 10 < 10, the cast is lossless.
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    i
}

fn put_int_line(out: &mut BytesMut, prefix: u8, n: i64) {
    let mut buf = [0u8; 20];
    let start = fmt_i64(n, &mut buf);
    out.reserve(24);
    out.put_u8(prefix);
    if n < 0 {
        out.put_u8(b'-');
    }
    out.put_slice(&buf[start..]);
    out.put_slice(CRLF);
}

fn put_len_line(out: &mut BytesMut, prefix: u8, len: usize) {
    put_int_line(out, prefix, i64::try_from(len).unwrap_or(i64::MAX));
}

fn put_bulk(out: &mut BytesMut, data: &[u8]) {
    put_len_line(out, b'$', data.len());
    out.reserve(data.len() + 2);
    out.put_slice(data);
    out.put_slice(CRLF);
}

/// Redis-style formatting of a double for replies, identical to Redis 7.2's `d2string`:
///
/// * `nan`, `inf`, `-inf`, `0`, `-0`;
/// * integral values in `[-2^62, 2^62]` as plain integers: `3`, `-17`,
///   `123456789012345680`;
/// * anything else via Grisu2 shortest round-trip digits (`fpconv_dtoa`): `1.5`, `0.1`,
///   `0.00001`, with `fpconv`'s exponent notation (not C's `%g`) for large or tiny
///   magnitudes: `1e+21`, `1e-7`, `1.5e-7`, `1.7976931348623157e+308`.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_owned();
    }
    if d.is_infinite() {
        return if d < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // double2ll(): (double)(LLONG_MAX/2) == 2^62.
    const LIMIT: f64 = 4_611_686_018_427_387_904.0;
    if (-LIMIT..=LIMIT).contains(&d) && d.trunc() == d {
        // In range and integral: the conversion is exact.
        let mut buf = [0u8; 20];
        let n = d as i64;
        let start = fmt_i64(n, &mut buf);
        let mut s = String::with_capacity(21);
        if n < 0 {
            s.push('-');
        }
        s.extend(buf[start..].iter().map(|&b| char::from(b)));
        return s;
    }
    let mut s = String::with_capacity(24);
    grisu::fpconv_dtoa(d, &mut s);
    s
}

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

/// Limits a server applies while decoding client requests. All explicit, all changeable at
/// runtime (the connection may change them, e.g. after AUTH) via the pub fields of
/// [`RequestCodec::limits`].
#[derive(Clone, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`: longest accepted bulk argument. Default 512 MiB.
    pub max_bulk_len: u64,
    /// Largest accepted multibulk count. Default `i32::MAX`, as Redis.
    pub max_multibulk_len: u64,
    /// `client-query-buffer-limit`: buffered bytes (unparsed input plus the arguments of the
    /// request being assembled) above which the connection is dropped. Default 1 GiB.
    pub max_query_buffer: usize,
    /// Longest inline request line, and longest wait for a `*<n>`/`$<n>` line terminator:
    /// Redis' `PROTO_INLINE_MAX_SIZE`, 64 KiB.
    pub max_inline_len: usize,
    /// The client has not authenticated yet: Redis's tighter limits apply (at most
    /// [`UNAUTHENTICATED_MAX_MULTIBULK`] arguments of at most [`UNAUTHENTICATED_MAX_BULK`]
    /// bytes, at most [`UNAUTHENTICATED_MAX_QUERY_BUFFER`] buffered bytes).
    pub unauthenticated: bool,
}

/// Most arguments of a request before authentication (Redis: 10).
pub const UNAUTHENTICATED_MAX_MULTIBULK: u64 = 10;
/// Longest argument before authentication (Redis: 16 KiB).
pub const UNAUTHENTICATED_MAX_BULK: u64 = 16384;
/// Most buffered input before authentication: 1 MiB.
pub const UNAUTHENTICATED_MAX_QUERY_BUFFER: usize = 1024 * 1024;

impl Limits {
    fn query_buffer(&self) -> usize {
        if self.unauthenticated {
            self.max_query_buffer.min(UNAUTHENTICATED_MAX_QUERY_BUFFER)
        } else {
            self.max_query_buffer
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            // i32::MAX is positive; the conversion cannot fail.
            max_multibulk_len: i32::MAX.unsigned_abs().into(),
            max_query_buffer: 1024 * 1024 * 1024,
            max_inline_len: PROTO_INLINE_MAX_SIZE,
            unauthenticated: false,
        }
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

/// Server side: decodes client requests into argument vectors
/// (`Item = Vec<Bytes>`, never empty), and encodes reply [`Frame`]s in [`Self::protocol`].
///
/// Handles multibulk requests (`*N\r\n$len\r\n...`) incrementally: arguments already
/// received are kept (as zero-copy slices of the read buffer) between calls, so a huge
/// request is parsed in time proportional to its size. Inline requests (as telnet or
/// `redis-cli` send) are split like Redis' `sdssplitargs`. Empty inline lines and `*0` /
/// `*-1` multibulks produce no item.
///
/// Arguments share memory with the connection's read buffer; a server that retains a value
/// long-term should copy it (`Bytes::copy_from_slice`) to avoid pinning that buffer.
#[derive(Debug)]
pub struct RequestCodec {
    /// Decoding limits; may be changed at any time.
    pub limits: Limits,
    /// Protocol used to encode replies; switch it on `HELLO`.
    pub protocol: Protocol,
    /// Arguments of the multibulk request being assembled still to be read (0 = between
    /// requests).
    remaining: u64,
    /// Announced length of the bulk argument being read, once its `$` line is consumed.
    bulk_len: Option<usize>,
    /// Arguments of the request being assembled.
    argv: Vec<Bytes>,
    /// Total length of `argv`.
    argv_bytes: usize,
    /// Prefix of the buffer already searched, in vain, for the current line's terminator.
    scanned: usize,
}

impl RequestCodec {
    pub fn new(limits: Limits) -> Self {
        RequestCodec {
            limits,
            protocol: Protocol::Resp2,
            remaining: 0,
            bulk_len: None,
            argv: Vec::new(),
            argv_bytes: 0,
            scanned: 0,
        }
    }

    /// Finds the `\r` ending a `*<n>` / `$<n>` line. `Ok(None)`: wait for more input.
    /// Like Redis, the byte after `\r` is assumed to be `\n` and is not checked.
    fn length_line_end(
        &mut self,
        src: &BytesMut,
        too_big: &str,
    ) -> Result<Option<usize>, ProtocolError> {
        match find_byte(src, self.scanned, b'\r') {
            None => {
                if src.len() > self.limits.max_inline_len {
                    return Err(invalid(too_big));
                }
                self.scanned = src.len();
                Ok(None)
            }
            // The '\n' has not arrived yet.
            Some(cr) if cr + 1 >= src.len() => {
                self.scanned = cr;
                Ok(None)
            }
            Some(cr) => {
                self.scanned = 0;
                Ok(Some(cr))
            }
        }
    }

    /// Reads a `*<n>` line. `Ok(false)`: incomplete.
    fn decode_multibulk_len(&mut self, src: &mut BytesMut) -> Result<bool, ProtocolError> {
        let Some(cr) = self.length_line_end(src, "Protocol error: too big mbulk count string")?
        else {
            return Ok(false);
        };
        let count = match parse_i64_strict(&src[1..cr]) {
            Some(n) if n <= 0 => 0,
            Some(n)
                if self.limits.unauthenticated
                    && n.unsigned_abs() > UNAUTHENTICATED_MAX_MULTIBULK =>
            {
                return Err(invalid("Protocol error: unauthenticated multibulk length"))
            }
            Some(n) if n.unsigned_abs() <= self.limits.max_multibulk_len => n.unsigned_abs(),
            _ => return Err(invalid("Protocol error: invalid multibulk length")),
        };
        src.advance(cr + 2);
        if count > 0 {
            self.remaining = count;
            let cap = usize::try_from(count)
                .unwrap_or(MAX_PREALLOC)
                .min(MAX_PREALLOC);
            self.argv = Vec::with_capacity(cap);
            self.argv_bytes = 0;
        }
        Ok(true)
    }

    /// Reads the arguments of the current multibulk request.
    fn decode_multibulk_args(
        &mut self,
        src: &mut BytesMut,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        while self.remaining > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    let Some(cr) =
                        self.length_line_end(src, "Protocol error: too big bulk count string")?
                    else {
                        return Ok(None);
                    };
                    if src[0] != b'$' {
                        return Err(invalid(format!(
                            "Protocol error: expected '$', got '{}'",
                            char::from(src[0])
                        )));
                    }
                    let claimed = parse_i64_strict(&src[1..cr]);
                    if self.limits.unauthenticated
                        && claimed.is_some_and(|n| n.unsigned_abs() > UNAUTHENTICATED_MAX_BULK)
                    {
                        return Err(invalid("Protocol error: unauthenticated bulk length"));
                    }
                    let len = claimed
                        .filter(|&n| n >= 0 && n.unsigned_abs() <= self.limits.max_bulk_len)
                        .and_then(|n| usize::try_from(n).ok())
                        .filter(|&n| n < usize::MAX - 2)
                        .ok_or_else(|| invalid("Protocol error: invalid bulk length"))?;
                    src.advance(cr + 2);
                    self.bulk_len = Some(len);
                    len
                }
            };
            // Like Redis, the two bytes after the data are assumed to be "\r\n".
            let needed = len + 2;
            if src.len() < needed {
                // Grow for the arriving bulk in steps bounded by what was actually received,
                // so a claimed length alone never allocates.
                let missing = needed - src.len();
                if missing > src.capacity() - src.len() {
                    src.reserve(missing.min(src.len().max(BULK_RESERVE_STEP)));
                }
                return Ok(None);
            }
            let arg = src.split_to(len).freeze();
            src.advance(2);
            self.argv.push(arg);
            self.argv_bytes += len;
            self.bulk_len = None;
            self.remaining -= 1;
        }
        self.argv_bytes = 0;
        Ok(Some(std::mem::take(&mut self.argv)))
    }

    /// Reads one inline request line. `Ok(None)`: incomplete; `Ok(Some(argv))` with `argv`
    /// possibly empty (blank line).
    fn decode_inline(&mut self, src: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(lf) = find_byte(src, self.scanned, b'\n') else {
            if src.len() > self.limits.max_inline_len {
                return Err(invalid("Protocol error: too big inline request"));
            }
            self.scanned = src.len();
            return Ok(None);
        };
        // Unlike Redis, whose verdict on a line between 64 KiB and 64 KiB + one read
        // depends on how it was split into reads, the limit is applied to every line.
        if lf > self.limits.max_inline_len {
            return Err(invalid("Protocol error: too big inline request"));
        }
        self.scanned = 0;
        let end = if lf > 0 && src[lf - 1] == b'\r' {
            lf - 1
        } else {
            lf
        };
        let argv = split_args(&src[..end])
            .ok_or_else(|| invalid("Protocol error: unbalanced quotes in request"))?;
        src.advance(lf + 1);
        Ok(Some(argv))
    }
}

impl Default for RequestCodec {
    fn default() -> Self {
        RequestCodec::new(Limits::default())
    }
}

impl Decoder for RequestCodec {
    type Item = Vec<Bytes>;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if src.len().saturating_add(self.argv_bytes) > self.limits.query_buffer() {
                return Err(ProtocolError::QueryBufferLimit);
            }
            if self.remaining > 0 {
                return self.decode_multibulk_args(src);
            }
            let Some(&first) = src.first() else {
                return Ok(None);
            };
            if first == b'*' {
                if !self.decode_multibulk_len(src)? {
                    return Ok(None);
                }
                // `*0`/`*-1` is skipped; otherwise arguments follow.
            } else {
                match self.decode_inline(src)? {
                    None => return Ok(None),
                    Some(argv) if argv.is_empty() => {}
                    Some(argv) => return Ok(Some(argv)),
                }
            }
        }
    }

    /// At end of input, a partially received request is dropped silently, as Redis does
    /// when a client disconnects.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let item = self.decode(src)?;
        if item.is_none() {
            src.clear();
        }
        Ok(item)
    }
}

impl Encoder<&Frame> for RequestCodec {
    type Error = std::io::Error;

    fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        frame.encode(self.protocol, dst);
        Ok(())
    }
}

impl Encoder<Frame> for RequestCodec {
    type Error = std::io::Error;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        frame.encode(self.protocol, dst);
        Ok(())
    }
}

/// C `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Redis' `sdssplitargs`: splits an inline request line (or an ACL selector's content) into
/// arguments. Returns `None` on unbalanced quotes (or a closing quote not followed by a
/// space). Like the C original, which works on a NUL-terminated string, input after a NUL byte
/// is ignored.
pub fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let mut argv = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_c_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(argv);
        }
        let (arg, next) = split_one_arg(line, p)?;
        argv.push(Bytes::from(arg));
        p = next;
    }
}

/// One argument of [`split_args`] starting at `p` (not a space) in the NUL-free `line`: its
/// bytes (quotes and escapes resolved) and the position after it; `None` on unbalanced quotes
/// or a closing quote not followed by a space.
fn split_one_arg(line: &[u8], mut p: usize) -> Option<(Vec<u8>, usize)> {
    // The C string view: 0 past the end.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut current = Vec::new();
    let mut in_dq = false;
    let mut in_sq = false;
    loop {
        let c = at(p);
        let mut done = false;
        if in_dq {
            if c == b'\\' && at(p + 1) == b'x' {
                if let (Some(hi), Some(lo)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                    current.push(hi * 16 + lo);
                    p += 3;
                } else {
                    // "\x" without two hex digits: a plain escaped 'x'.
                    p += 1;
                    current.push(b'x');
                }
            } else if c == b'\\' && at(p + 1) != 0 {
                p += 1;
                current.push(match at(p) {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 0x08,
                    b'a' => 0x07,
                    other => other,
                });
            } else if c == b'"' {
                // The closing quote must be followed by a space or nothing at all.
                if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                    return None;
                }
                done = true;
            } else if c == 0 {
                // Unterminated quotes.
                return None;
            } else {
                current.push(c);
            }
        } else if in_sq {
            if c == b'\\' && at(p + 1) == b'\'' {
                p += 1;
                current.push(b'\'');
            } else if c == b'\'' {
                if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                    return None;
                }
                done = true;
            } else if c == 0 {
                return None;
            } else {
                current.push(c);
            }
        } else {
            match c {
                b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                b'"' => in_dq = true,
                b'\'' => in_sq = true,
                _ => current.push(c),
            }
        }
        if at(p) != 0 {
            p += 1;
        }
        if done {
            return Some((current, p));
        }
    }
}

/// Append the multibulk encoding of a request (`*N\r\n$len\r\narg\r\n...`) to `out`.
pub fn encode_request(argv: &[Bytes], out: &mut BytesMut) {
    let total: usize = argv.iter().map(|a| a.len() + 16).sum::<usize>() + 16;
    out.reserve(total);
    put_len_line(out, b'*', argv.len());
    for arg in argv {
        put_bulk(out, arg);
    }
}

/// Kind of aggregate reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Aggregate {
    Array,
    Map,
    Set,
    Push,
    /// RESP3 attribute (`|`): metadata preceding a reply, skipped.
    Attribute,
}

/// One reply element header, with byte ranges into the buffer being parsed.
#[derive(Debug)]
enum Token {
    Simple(Range<usize>),
    Error(Range<usize>),
    Integer(i64),
    Bulk(Range<usize>),
    Null,
    NullArray,
    Double(f64),
    Boolean(bool),
    Verbatim(Range<usize>),
    BigNumber(Range<usize>),
    /// An aggregate and the number of elements that follow (`2n` for maps/attributes).
    Aggregate(Aggregate, u64),
}

/// Parses the element starting at `pos` (scalars whole, aggregates their header only).
/// `Ok(None)` when more input is needed. Returns the token and the position after it.
fn parse_token(buf: &[u8], pos: usize) -> Result<Option<(Token, usize)>, ProtocolError> {
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some(cr) = find_byte(buf, pos + 1, b'\r') else {
        return Ok(None);
    };
    match buf.get(cr + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(invalid("Protocol error: expected CRLF")),
    }
    let line = pos + 1..cr;
    let next = cr + 2;
    let number = |what: &str| {
        parse_i64_strict(&buf[line.clone()])
            .ok_or_else(|| invalid(format!("Protocol error: invalid {what}")))
    };
    let token = match kind {
        b'+' => Token::Simple(line),
        b'-' => Token::Error(line),
        b':' => Token::Integer(number("integer")?),
        b'_' => {
            if !line.is_empty() {
                return Err(invalid("Protocol error: invalid null"));
            }
            Token::Null
        }
        b'#' => match &buf[line] {
            b"t" => Token::Boolean(true),
            b"f" => Token::Boolean(false),
            _ => return Err(invalid("Protocol error: invalid boolean")),
        },
        b',' => {
            let d = std::str::from_utf8(&buf[line])
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .ok_or_else(|| invalid("Protocol error: invalid double"))?;
            Token::Double(d)
        }
        b'(' => {
            let digits = &buf[line.clone()];
            let digits = digits.strip_prefix(b"-").unwrap_or(digits);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(invalid("Protocol error: invalid big number"));
            }
            Token::BigNumber(line)
        }
        b'$' | b'!' | b'=' => return parse_blob(buf, kind, number("bulk length")?, next),
        b'*' | b'%' | b'~' | b'>' | b'|' => {
            let n = number("aggregate length")?;
            if kind == b'*' && n == -1 {
                return Ok(Some((Token::NullArray, next)));
            }
            aggregate_token(kind, n)?
        }
        other => {
            return Err(invalid(format!(
                "Protocol error: invalid reply type byte '{}'",
                char::from(other).escape_default()
            )))
        }
    };
    Ok(Some((token, next)))
}

/// The rest of a blob element (`$`, `!` or `=` in `kind`) whose header line announced `len`
/// bytes and ends at `next`: the token and the position after it, `Ok(None)` when more input
/// is needed.
fn parse_blob(
    buf: &[u8],
    kind: u8,
    len: i64,
    next: usize,
) -> Result<Option<(Token, usize)>, ProtocolError> {
    if kind == b'$' && len == -1 {
        return Ok(Some((Token::Null, next)));
    }
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l < usize::MAX - next - 2)
        .ok_or_else(|| invalid("Protocol error: invalid bulk length"))?;
    let end = next + len;
    if buf.len() < end + 2 {
        return Ok(None);
    }
    if &buf[end..end + 2] != CRLF {
        return Err(invalid("Protocol error: expected CRLF after bulk data"));
    }
    let data = next..end;
    let token = match kind {
        b'$' => Token::Bulk(data),
        b'!' => Token::Error(data),
        _ => {
            if len < 4 || buf[next + 3] != b':' {
                return Err(invalid("Protocol error: invalid verbatim string"));
            }
            Token::Verbatim(next + 4..end)
        }
    };
    Ok(Some((token, end + 2)))
}

/// The header of an aggregate of `kind` (`*`, `%`, `~`, `>` or `|`) announcing `n` elements
/// (`n` pairs for maps and attributes).
fn aggregate_token(kind: u8, n: i64) -> Result<Token, ProtocolError> {
    let n = u64::try_from(n).map_err(|_| invalid("Protocol error: invalid aggregate length"))?;
    let (agg, count) = match kind {
        b'*' => (Aggregate::Array, Some(n)),
        b'~' => (Aggregate::Set, Some(n)),
        b'>' => (Aggregate::Push, Some(n)),
        b'%' => (Aggregate::Map, n.checked_mul(2)),
        _ => (Aggregate::Attribute, n.checked_mul(2)),
    };
    let count = count
        .filter(|&c| i64::try_from(c).is_ok())
        .ok_or_else(|| invalid("Protocol error: invalid aggregate length"))?;
    Ok(Token::Aggregate(agg, count))
}

/// An aggregate whose elements are still being scanned.
#[derive(Clone, Copy, Debug)]
struct Pending {
    remaining: u64,
    attribute: bool,
}

/// Client side: decodes any RESP2/RESP3 reply into a [`Frame`]; encodes requests (argv) as
/// multibulk.
///
/// Nothing is consumed from the buffer until a whole reply is there. Progress over a
/// partially received reply is remembered between calls (so a large reply is scanned once),
/// which assumes, as `Framed` guarantees, that each call sees the same buffer, possibly
/// extended. RESP3 attributes are skipped; blob errors (`!`) become [`Frame::Error`];
/// `$-1` / `_` become [`Frame::Null`] and `*-1` [`Frame::NullArray`].
#[derive(Debug, Default)]
pub struct ReplyCodec {
    /// Buffer offset up to which the pending reply has been validated.
    scan_pos: usize,
    /// Open aggregates of the pending reply.
    scan_stack: Vec<Pending>,
}

impl ReplyCodec {
    pub fn new() -> Self {
        Self::default()
    }

    /// Advances the scan of the pending reply; `Ok(true)` once `buf[..scan_pos]` holds a
    /// complete reply.
    fn scan(&mut self, buf: &[u8]) -> Result<bool, ProtocolError> {
        if self.scan_pos > buf.len() {
            // Not the buffer we were scanning: start over.
            self.scan_pos = 0;
            self.scan_stack.clear();
        }
        loop {
            let Some((token, next)) = parse_token(buf, self.scan_pos)? else {
                return Ok(false);
            };
            self.scan_pos = next;
            match token {
                Token::Aggregate(Aggregate::Attribute, 0) => continue,
                Token::Aggregate(agg, n) if n > 0 => {
                    if self.scan_stack.len() >= MAX_REPLY_DEPTH {
                        return Err(invalid("Protocol error: reply nested too deeply"));
                    }
                    self.scan_stack.push(Pending {
                        remaining: n,
                        attribute: agg == Aggregate::Attribute,
                    });
                    continue;
                }
                _ => {}
            }
            // One complete element: close every aggregate it completes.
            loop {
                let Some(top) = self.scan_stack.last_mut() else {
                    return Ok(true);
                };
                top.remaining -= 1;
                if top.remaining > 0 {
                    break;
                }
                let attribute = top.attribute;
                self.scan_stack.pop();
                if attribute {
                    // An attribute is not an element of its parent: the reply follows.
                    break;
                }
            }
        }
    }
}

/// An aggregate being assembled by [`build_reply`].
struct Open {
    kind: Aggregate,
    remaining: u64,
    items: Vec<Frame>,
}

fn close_aggregate(kind: Aggregate, items: Vec<Frame>) -> Frame {
    match kind {
        Aggregate::Array | Aggregate::Attribute => Frame::Array(items),
        Aggregate::Set => Frame::Set(items),
        Aggregate::Push => Frame::Push(items),
        Aggregate::Map => {
            let mut pairs = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Frame::Map(pairs)
        }
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Builds the frame from a buffer holding exactly one reply already validated by
/// [`ReplyCodec::scan`]. Iterative, so nesting depth costs no stack.
fn build_reply(buf: &Bytes) -> Result<Frame, ProtocolError> {
    let mut stack: Vec<Open> = Vec::new();
    let mut pos = 0;
    loop {
        let Some((token, next)) = parse_token(buf, pos)? else {
            return Err(invalid("Protocol error: truncated reply"));
        };
        pos = next;
        let mut frame = match token {
            Token::Simple(r) => Frame::Simple(lossy(&buf[r])),
            Token::Error(r) => Frame::Error(lossy(&buf[r])),
            Token::Integer(n) => Frame::Integer(n),
            Token::Bulk(r) => Frame::Bulk(buf.slice(r)),
            Token::Null => Frame::Null,
            Token::NullArray => Frame::NullArray,
            Token::Double(d) => Frame::Double(d),
            Token::Boolean(b) => Frame::Boolean(b),
            Token::Verbatim(r) => Frame::Verbatim(buf.slice(r)),
            Token::BigNumber(r) => Frame::BigNumber(lossy(&buf[r])),
            Token::Aggregate(Aggregate::Attribute, 0) => continue,
            Token::Aggregate(kind, 0) => close_aggregate(kind, Vec::new()),
            Token::Aggregate(kind, n) => {
                let cap = usize::try_from(n).unwrap_or(MAX_PREALLOC).min(MAX_PREALLOC);
                stack.push(Open {
                    kind,
                    remaining: n,
                    items: Vec::with_capacity(cap),
                });
                continue;
            }
        };
        loop {
            let Some(top) = stack.last_mut() else {
                return Ok(frame);
            };
            top.items.push(frame);
            top.remaining -= 1;
            if top.remaining > 0 {
                break;
            }
            let Some(open) = stack.pop() else {
                break;
            };
            if open.kind == Aggregate::Attribute {
                // Attributes are dropped; the element they annotate follows.
                break;
            }
            frame = close_aggregate(open.kind, open.items);
        }
    }
}

impl Decoder for ReplyCodec {
    type Item = Frame;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        if !self.scan(src)? {
            return Ok(None);
        }
        let len = self.scan_pos;
        self.scan_pos = 0;
        self.scan_stack.clear();
        let reply = src.split_to(len).freeze();
        build_reply(&reply).map(Some)
    }
}

impl Encoder<Vec<Bytes>> for ReplyCodec {
    type Error = std::io::Error;

    fn encode(&mut self, argv: Vec<Bytes>, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        encode_request(&argv, dst);
        Ok(())
    }
}

impl Encoder<&[Bytes]> for ReplyCodec {
    type Error = std::io::Error;

    fn encode(&mut self, argv: &[Bytes], dst: &mut BytesMut) -> Result<(), std::io::Error> {
        encode_request(argv, dst);
        Ok(())
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Resp2 => "2",
            Protocol::Resp3 => "3",
        })
    }
}

#[cfg(test)]
mod tests;
