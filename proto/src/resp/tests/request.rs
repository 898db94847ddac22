//! Tests of the server-side request decoder: multibulk and inline requests, pipelining,
//! Redis's protocol errors, limits (authenticated or not), streaming across reads.

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::{argv, b, request_error, requests};
use crate::resp::request::BULK_RESERVE_STEP;
use crate::resp::*;

#[test]
fn multibulk_request() {
    assert_eq!(
        requests(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n").unwrap(),
        vec![argv(&["SET", "k", ""])]
    );
    // Binary-safe arguments.
    assert_eq!(
        requests(b"*2\r\n$3\r\nGET\r\n$4\r\n\r\n\0\xff\r\n").unwrap(),
        vec![vec![b("GET"), Bytes::from_static(b"\r\n\0\xff")]]
    );
}

#[test]
fn pipelined_requests_in_one_buffer() {
    let input =
        b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n\r\n*0\r\n*-1\r\nset a b\n";
    assert_eq!(
        requests(input).unwrap(),
        vec![
            argv(&["PING"]),
            argv(&["PING"]),
            argv(&["ECHO", "hi"]),
            argv(&["set", "a", "b"]),
        ]
    );
}

#[test]
fn empty_requests_are_skipped() {
    assert!(requests(b"\r\n\n   \r\n\t\n*0\r\n*-1\r\n*-100\r\n")
        .unwrap()
        .is_empty());
    let mut codec = RequestCodec::new(Limits::default());
    let mut buf = BytesMut::from(&b"*0\r\n\r\n"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty());
}

#[test]
fn inline_requests() {
    assert_eq!(
        requests(b"SET key value\r\n").unwrap(),
        vec![argv(&["SET", "key", "value"])]
    );
    // "\n" alone terminates, one "\r" before it is stripped, runs of spaces/tabs separate.
    assert_eq!(
        requests(b"  get \t  k  \nPING\r\r\n").unwrap(),
        vec![argv(&["get", "k"]), argv(&["PING"])]
    );
    // Vertical tab / form feed separate only between arguments, not inside one (sdssplitargs).
    assert_eq!(
        requests(b"a\x0bb\x0c c\n").unwrap(),
        vec![argv(&["a\x0bb\x0c", "c"])]
    );
}

#[test]
fn protocol_errors_match_redis() {
    let mut too_big_count = b"*".to_vec();
    too_big_count.extend(std::iter::repeat_n(b'1', 64 * 1024 + 1));
    assert_eq!(
        request_error(&too_big_count),
        "Protocol error: too big mbulk count string"
    );

    for bad in [
        &b"*abc\r\n"[..],
        b"*\r\n",
        b"*+1\r\n",
        b"* 1\r\n",
        b"*01\r\n",
        b"*1 \r\n",
        b"*-0\r\n",
        b"*2147483648\r\n",
        b"*99999999999999999999\r\n",
    ] {
        assert_eq!(
            request_error(bad),
            "Protocol error: invalid multibulk length",
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    // i32::MAX itself is accepted (and does not allocate, see below).
    assert!(requests(b"*2147483647\r\n").unwrap().is_empty());

    let mut too_big_bulk = b"*1\r\n$".to_vec();
    too_big_bulk.extend(std::iter::repeat_n(b'1', 64 * 1024 + 1));
    assert_eq!(
        request_error(&too_big_bulk),
        "Protocol error: too big bulk count string"
    );

    assert_eq!(
        request_error(b"*1\r\nfoo\r\n"),
        "Protocol error: expected '$', got 'f'"
    );
    assert_eq!(
        request_error(b"*2\r\n$1\r\na\r\n:1\r\n"),
        "Protocol error: expected '$', got ':'"
    );

    for bad in [
        &b"*1\r\n$-1\r\n"[..],
        b"*1\r\n$abc\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\n$+3\r\n",
        b"*1\r\n$03\r\n",
        b"*1\r\n$536870913\r\n",
        b"*1\r\n$9223372036854775808\r\n",
    ] {
        assert_eq!(
            request_error(bad),
            "Protocol error: invalid bulk length",
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }

    let too_big_inline = vec![b'a'; 64 * 1024 + 1];
    assert_eq!(
        request_error(&too_big_inline),
        "Protocol error: too big inline request"
    );
    let mut long_line = vec![b'a'; 64 * 1024 + 1];
    long_line.push(b'\n');
    assert_eq!(
        request_error(&long_line),
        "Protocol error: too big inline request"
    );
}

#[test]
fn limits_are_applied_and_adjustable() {
    // Exactly at the limits: fine; incomplete input below them: wait.
    let mut codec = RequestCodec::new(Limits::default());
    let mut buf = BytesMut::from(vec![b'a'; 64 * 1024].as_slice());
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    buf.extend_from_slice(b"\n");
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap().len(), 1);

    let mut codec = RequestCodec::new(Limits::default());
    codec.limits.max_bulk_len = 3;
    codec.limits.max_multibulk_len = 2;
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nabc\r\n$3\r\ndef\r\n"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), Some(argv(&["abc", "def"])));
    let mut buf = BytesMut::from(&b"*3\r\n"[..]);
    assert!(
        matches!(codec.decode(&mut buf), Err(ProtocolError::Invalid(t)) if t == "Protocol error: invalid multibulk length")
    );
    let mut codec = RequestCodec::new(Limits {
        max_bulk_len: 3,
        ..Limits::default()
    });
    let mut buf = BytesMut::from(&b"*1\r\n$4\r\n"[..]);
    assert!(
        matches!(codec.decode(&mut buf), Err(ProtocolError::Invalid(t)) if t == "Protocol error: invalid bulk length")
    );

    let mut codec = RequestCodec::new(Limits {
        max_inline_len: 8,
        ..Limits::default()
    });
    let mut buf = BytesMut::from(&b"123456789"[..]);
    assert!(
        matches!(codec.decode(&mut buf), Err(ProtocolError::Invalid(t)) if t == "Protocol error: too big inline request")
    );
}

#[test]
fn query_buffer_limit() {
    let limits = Limits {
        max_query_buffer: 100,
        ..Limits::default()
    };
    // Unparsed input over the limit.
    let mut codec = RequestCodec::new(limits.clone());
    let mut buf = BytesMut::from(&b"*1\r\n$200\r\n"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    buf.extend_from_slice(&[b'x'; 101]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(ProtocolError::QueryBufferLimit)
    ));

    // Arguments already collected count too.
    let mut codec = RequestCodec::new(limits);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(b"*3\r\n$60\r\n");
    buf.extend_from_slice(&[b'x'; 60]);
    buf.extend_from_slice(b"\r\n$30\r\n");
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    buf.extend_from_slice(&[b'y'; 30]);
    buf.extend_from_slice(b"\r\n$30\r\n");
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    buf.extend_from_slice(&[b'z'; 15]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(ProtocolError::QueryBufferLimit)
    ));
}

fn sample_requests() -> Vec<u8> {
    let mut input = Vec::new();
    input.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$5\r\nmykey\r\n$10\r\n0123456789\r\n");
    input.extend_from_slice(b"PING\r\n");
    input.extend_from_slice(b"\r\n");
    input.extend_from_slice(b"*0\r\n");
    input.extend_from_slice(br#"set "a b" 'c\'d' "\x41\n""#);
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
    input.extend_from_slice(b"*1\r\n$4\r\nQUIT\r\n");
    input
}

#[test]
fn split_at_every_byte_boundary_decodes_identically() {
    let input = sample_requests();
    let expected = requests(&input).unwrap();
    assert_eq!(expected.len(), 5);
    for split in 0..=input.len() {
        let mut codec = RequestCodec::new(Limits::default());
        let mut buf = BytesMut::from(&input[..split]);
        let mut got = Vec::new();
        while let Some(req) = codec.decode(&mut buf).unwrap() {
            got.push(req);
        }
        buf.extend_from_slice(&input[split..]);
        while let Some(req) = codec.decode(&mut buf).unwrap() {
            got.push(req);
        }
        assert_eq!(got, expected, "split at {split}");
        assert!(buf.is_empty());
    }

    // One byte at a time.
    let mut codec = RequestCodec::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for &byte in &input {
        buf.put_u8(byte);
        while let Some(req) = codec.decode(&mut buf).unwrap() {
            got.push(req);
        }
    }
    assert_eq!(got, expected);
}

#[test]
fn huge_claimed_lengths_do_not_allocate() {
    let mut codec = RequestCodec::new(Limits::default());
    let mut buf = BytesMut::from(&b"*2147483647\r\n$500000000\r\nabc"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.capacity() <= 256 * 1024, "capacity {}", buf.capacity());
    assert!(codec.argv.capacity() <= MAX_PREALLOC);
    // Still small after more calls.
    buf.extend_from_slice(b"def");
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.capacity() <= 256 * 1024, "capacity {}", buf.capacity());

    // When the bulk really arrives, the buffer grows with it, in proportion to what was
    // received (geometric growth, so at most a few times that plus 64 KiB).
    let mut codec = RequestCodec::new(Limits::default());
    let mut buf = BytesMut::from(&b"*1\r\n$1000000\r\n"[..]);
    let mut sent = 0;
    while sent < 1_000_000 {
        let chunk = (1_000_000 - sent).min(4096);
        buf.extend_from_slice(&vec![b'v'; chunk]);
        sent += chunk;
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert!(
            buf.capacity() <= 4 * (buf.len() + BULK_RESERVE_STEP),
            "capacity {} for {} bytes",
            buf.capacity(),
            buf.len()
        );
    }
    buf.extend_from_slice(b"\r\n");
    let req = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(req[0].len(), 1_000_000);
}

#[test]
fn arguments_are_zero_copy() {
    let mut codec = RequestCodec::new(Limits::default());
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..]);
    let start = buf.as_ptr() as usize;
    let end = start + buf.len();
    let req = codec.decode(&mut buf).unwrap().unwrap();
    for arg in &req {
        let p = arg.as_ptr() as usize;
        assert!(p >= start && p < end);
    }
}

#[test]
fn large_request_in_many_reads_is_incremental() {
    // 100k arguments fed in small chunks: each argument is consumed once.
    let n = 100_000;
    let mut input = format!("*{n}\r\n").into_bytes();
    for i in 0..n {
        let arg = i.to_string();
        input.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    let mut codec = RequestCodec::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut result = None;
    for chunk in input.chunks(7) {
        buf.extend_from_slice(chunk);
        if let Some(req) = codec.decode(&mut buf).unwrap() {
            result = Some(req);
        }
        // Everything but the incomplete tail has been consumed.
        assert!(buf.len() < 32);
    }
    let req = result.unwrap();
    assert_eq!(req.len(), n);
    assert_eq!(req[n - 1], b(&(n - 1).to_string()));
}

#[test]
fn eof_drops_partial_request() {
    let mut codec = RequestCodec::new(Limits::default());
    let mut buf = BytesMut::from(&b"PING\r\n*2\r\n$3\r\nGET"[..]);
    assert_eq!(codec.decode_eof(&mut buf).unwrap(), Some(argv(&["PING"])));
    assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
    assert!(buf.is_empty());
}

#[test]
fn strict_integers() {
    assert_eq!(parse_i64_strict(b"0"), Some(0));
    assert_eq!(parse_i64_strict(b"-1"), Some(-1));
    assert_eq!(parse_i64_strict(b"9223372036854775807"), Some(i64::MAX));
    assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
    for bad in [
        &b""[..],
        b"-",
        b"+1",
        b" 1",
        b"1 ",
        b"01",
        b"-0",
        b"00",
        b"1a",
        b"9223372036854775808",
        b"-9223372036854775809",
        b"100000000000000000000",
    ] {
        assert_eq!(
            parse_i64_strict(bad),
            None,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn defaults() {
    let limits = Limits::default();
    assert_eq!(limits.max_bulk_len, 512 * 1024 * 1024);
    assert_eq!(limits.max_multibulk_len, 2_147_483_647);
    assert_eq!(limits.max_query_buffer, 1 << 30);
    assert_eq!(limits.max_inline_len, 64 * 1024);
    assert_eq!(RequestCodec::default().protocol, Protocol::Resp2);
    assert_eq!(Protocol::Resp3.to_string(), "3");
}

#[test]
fn unauthenticated_limits_are_redis_s() {
    let unauth = Limits {
        unauthenticated: true,
        ..Limits::default()
    };
    let decode = |limits: Limits, input: &[u8]| {
        let mut codec = RequestCodec::new(limits);
        let mut buf = BytesMut::from(input);
        codec.decode(&mut buf)
    };
    // Ten arguments of 16 KiB are fine before AUTH; eleven, or one byte more, are not.
    let big = "x".repeat(16384);
    let mut ten = b"*10\r\n".to_vec();
    for _ in 0..10 {
        ten.extend_from_slice(format!("${}\r\n{big}\r\n", big.len()).as_bytes());
    }
    assert_eq!(
        decode(unauth.clone(), &ten)
            .expect("decodes")
            .map(|a| a.len()),
        Some(10)
    );
    match decode(unauth.clone(), b"*11\r\n") {
        Err(ProtocolError::Invalid(t)) => {
            assert_eq!(t, "Protocol error: unauthenticated multibulk length")
        }
        other => panic!("{other:?}"),
    }
    match decode(unauth.clone(), b"*2\r\n$16385\r\n") {
        Err(ProtocolError::Invalid(t)) => {
            assert_eq!(t, "Protocol error: unauthenticated bulk length")
        }
        other => panic!("{other:?}"),
    }
    // More than 1 MiB buffered before AUTH closes the connection.
    let mut flood = Vec::new();
    while flood.len() <= UNAUTHENTICATED_MAX_QUERY_BUFFER {
        flood.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    }
    assert!(matches!(
        decode(unauth, &flood),
        Err(ProtocolError::QueryBufferLimit)
    ));
    assert!(matches!(decode(Limits::default(), &flood), Ok(Some(_))));
    // Authenticated, the same requests pass.
    assert_eq!(
        decode(Limits::default(), b"*11\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n")
            .expect("decodes")
            .map(|a| a.len()),
        Some(11)
    );
}
