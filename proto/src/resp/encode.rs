//! Writing the wire format: [`Frame::encode`] exactly as Redis 7.2 does (`networking.c`,
//! `addReply*`, RESP3 types downgraded for RESP2 clients), [`format_double`] (Redis's
//! `d2string`) and [`encode_request`] (a client's multibulk request).

use bytes::{BufMut, Bytes, BytesMut};

use super::frame::{Frame, Protocol};
use super::{grisu, CRLF};

impl Frame {
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

/// Append the multibulk encoding of a request (`*N\r\n$len\r\narg\r\n...`) to `out`.
pub fn encode_request(argv: &[Bytes], out: &mut BytesMut) {
    let total: usize = argv.iter().map(|a| a.len() + 16).sum::<usize>() + 16;
    out.reserve(total);
    put_len_line(out, b'*', argv.len());
    for arg in argv {
        put_bulk(out, arg);
    }
}
