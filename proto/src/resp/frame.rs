//! The values of the protocol: [`Frame`], one reply value of either protocol version, and
//! [`Protocol`], the version a connection speaks.

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

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
    /// RESP3 `,<d>`; RESP2 a bulk string of [`format_double`](super::format_double).
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
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Resp2 => "2",
            Protocol::Resp3 => "3",
        })
    }
}
