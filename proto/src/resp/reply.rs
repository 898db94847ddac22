//! The client side: [`ReplyCodec`], a streaming decoder of any RESP2/RESP3 reply into a
//! [`Frame`] (scanning a partly received reply once), and the encoder of requests.

use std::ops::Range;

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::encode::encode_request;
use super::frame::Frame;
use super::{find_byte, invalid, parse_i64_strict, ProtocolError, CRLF, MAX_PREALLOC};

/// Maximum nesting of aggregate replies accepted by [`ReplyCodec`]. Redis never nests more
/// than a handful of levels; the bound keeps recursive `Drop`/`Debug` of frames safe.
pub const MAX_REPLY_DEPTH: usize = 128;

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
