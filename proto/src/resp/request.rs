//! The server side of a connection: [`RequestCodec`], an incremental decoder of client
//! requests (multibulk and inline, with Redis's limits, [`Limits`], and its exact protocol
//! error texts from `processMultibulkBuffer`/`processInlineBuffer`), and the encoder of reply
//! frames in the connection's current [`Protocol`].

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::frame::{Frame, Protocol};
use super::split::split_args;
use super::{find_byte, invalid, parse_i64_strict, ProtocolError, MAX_PREALLOC};

/// Redis' `PROTO_INLINE_MAX_SIZE`.
const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// Extra buffer space reserved while a bulk argument is arriving, beyond what was received.
pub(super) const BULK_RESERVE_STEP: usize = 64 * 1024;

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
    pub(super) argv: Vec<Bytes>,
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
