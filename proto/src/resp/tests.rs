use super::*;

fn enc(frame: &Frame, protocol: Protocol) -> Vec<u8> {
    let mut out = BytesMut::new();
    frame.encode(protocol, &mut out);
    out.to_vec()
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn argv(args: &[&str]) -> Vec<Bytes> {
    args.iter().map(|a| b(a)).collect()
}

/// Decodes every request available in `input` with a fresh codec.
fn requests(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
    let mut codec = RequestCodec::new(Limits::default());
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    while let Some(req) = codec.decode(&mut buf)? {
        out.push(req);
    }
    Ok(out)
}

fn request_error(input: &[u8]) -> String {
    match requests(input) {
        Err(ProtocolError::Invalid(text)) => text,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

/// Decodes every reply in `input` with a fresh codec; panics if bytes are left over.
fn replies(input: &[u8]) -> Vec<Frame> {
    let mut codec = ReplyCodec::new();
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    while let Some(frame) = codec.decode(&mut buf).expect("valid reply") {
        out.push(frame);
    }
    assert!(buf.is_empty(), "left over: {buf:?}");
    out
}

fn reply(input: &[u8]) -> Frame {
    let mut all = replies(input);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

fn reply_error(input: &[u8]) -> String {
    let mut codec = ReplyCodec::new();
    let mut buf = BytesMut::from(input);
    match codec.decode(&mut buf) {
        Err(ProtocolError::Invalid(text)) => text,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- encoding

#[test]
fn encode_scalars_resp2_and_resp3() {
    use Protocol::*;
    let cases: Vec<(Frame, &[u8], &[u8])> = vec![
        (Frame::ok(), b"+OK\r\n", b"+OK\r\n"),
        (
            Frame::error("ERR unknown command 'x'"),
            b"-ERR unknown command 'x'\r\n",
            b"-ERR unknown command 'x'\r\n",
        ),
        (Frame::Integer(0), b":0\r\n", b":0\r\n"),
        (Frame::Integer(-42), b":-42\r\n", b":-42\r\n"),
        (
            Frame::Integer(i64::MIN),
            b":-9223372036854775808\r\n",
            b":-9223372036854775808\r\n",
        ),
        (
            Frame::Integer(i64::MAX),
            b":9223372036854775807\r\n",
            b":9223372036854775807\r\n",
        ),
        (Frame::bulk("hello"), b"$5\r\nhello\r\n", b"$5\r\nhello\r\n"),
        (Frame::bulk(""), b"$0\r\n\r\n", b"$0\r\n\r\n"),
        (
            Frame::bulk(&b"a\r\nb\0"[..]),
            b"$5\r\na\r\nb\0\r\n",
            b"$5\r\na\r\nb\0\r\n",
        ),
        (Frame::Null, b"$-1\r\n", b"_\r\n"),
        (Frame::NullArray, b"*-1\r\n", b"_\r\n"),
        (Frame::Double(1.5), b"$3\r\n1.5\r\n", b",1.5\r\n"),
        (Frame::Double(3.0), b"$1\r\n3\r\n", b",3\r\n"),
        (Frame::Double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n"),
        (
            Frame::Double(f64::NEG_INFINITY),
            b"$4\r\n-inf\r\n",
            b",-inf\r\n",
        ),
        (Frame::Double(f64::NAN), b"$3\r\nnan\r\n", b",nan\r\n"),
        (Frame::Boolean(true), b":1\r\n", b"#t\r\n"),
        (Frame::Boolean(false), b":0\r\n", b"#f\r\n"),
        (
            Frame::Verbatim(b("Some string")),
            b"$11\r\nSome string\r\n",
            b"=15\r\ntxt:Some string\r\n",
        ),
        (
            Frame::BigNumber("3492890328409238509324850943850943825024385".into()),
            b"$43\r\n3492890328409238509324850943850943825024385\r\n",
            b"(3492890328409238509324850943850943825024385\r\n",
        ),
    ];
    for (frame, resp2, resp3) in cases {
        assert_eq!(enc(&frame, Resp2), resp2, "{frame:?} RESP2");
        assert_eq!(enc(&frame, Resp3), resp3, "{frame:?} RESP3");
    }
}

#[test]
fn encode_aggregates_resp2_and_resp3() {
    use Protocol::*;
    let map = Frame::Map(vec![
        (Frame::bulk("a"), Frame::Integer(1)),
        (Frame::bulk("b"), Frame::Null),
    ]);
    assert_eq!(enc(&map, Resp3), b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n");
    assert_eq!(
        enc(&map, Resp2),
        b"*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n"
    );

    let set = Frame::Set(vec![Frame::bulk("x"), Frame::Double(0.1)]);
    assert_eq!(enc(&set, Resp3), b"~2\r\n$1\r\nx\r\n,0.1\r\n");
    assert_eq!(enc(&set, Resp2), b"*2\r\n$1\r\nx\r\n$3\r\n0.1\r\n");

    let push = Frame::Push(vec![
        Frame::bulk("message"),
        Frame::bulk("ch"),
        Frame::bulk("hi"),
    ]);
    assert_eq!(
        enc(&push, Resp3),
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
    );
    assert_eq!(
        enc(&push, Resp2),
        b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
    );

    let nested = Frame::Array(vec![
        Frame::Array(vec![]),
        Frame::Array(vec![Frame::Boolean(true), Frame::NullArray]),
    ]);
    assert_eq!(enc(&nested, Resp2), b"*2\r\n*0\r\n*2\r\n:1\r\n*-1\r\n");
    assert_eq!(enc(&nested, Resp3), b"*2\r\n*0\r\n*2\r\n#t\r\n_\r\n");
    assert_eq!(enc(&Frame::Map(vec![]), Resp3), b"%0\r\n");
    assert_eq!(enc(&Frame::Map(vec![]), Resp2), b"*0\r\n");
}

#[test]
fn encode_replaces_newlines_in_line_types() {
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        assert_eq!(
            enc(&Frame::error("ERR bad\r\nthing\n"), protocol),
            b"-ERR bad  thing \r\n"
        );
        assert_eq!(enc(&Frame::Simple("a\rb".into()), protocol), b"+a b\r\n");
    }
}

#[test]
fn frame_helpers() {
    assert_eq!(Frame::ok(), Frame::Simple("OK".into()));
    assert!(Frame::error("ERR x").is_error());
    assert!(!Frame::ok().is_error());
    assert_eq!(
        Frame::bulk(vec![1u8, 2]),
        Frame::Bulk(Bytes::from_static(&[1, 2]))
    );
    assert_eq!(Frame::bulk("s"), Frame::Bulk(b("s")));
}

#[test]
fn encode_request_multibulk() {
    let mut out = BytesMut::new();
    encode_request(&argv(&["SET", "key", ""]), &mut out);
    assert_eq!(&out[..], b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n");
}

#[test]
fn codec_encoders() {
    let mut server = RequestCodec::new(Limits::default());
    let mut out = BytesMut::new();
    server.encode(&Frame::Null, &mut out).unwrap();
    server.protocol = Protocol::Resp3;
    server.encode(Frame::Null, &mut out).unwrap();
    assert_eq!(&out[..], b"$-1\r\n_\r\n");

    let mut client = ReplyCodec::new();
    let mut out = BytesMut::new();
    client.encode(argv(&["PING"]), &mut out).unwrap();
    assert_eq!(&out[..], b"*1\r\n$4\r\nPING\r\n");
}

// ---------------------------------------------------------------- format_double

#[test]
fn format_double_matches_redis_d2string() {
    let cases: &[(f64, &str)] = &[
        (1.5, "1.5"),
        (0.1, "0.1"),
        (0.3, "0.3"),
        (3.0, "3"),
        (100.0, "100"),
        (-1.5, "-1.5"),
        (123.456, "123.456"),
        (4.35, "4.35"),
        (1.0 / 3.0, "0.3333333333333333"),
        (2.0 / 3.0, "0.6666666666666666"),
        (0.0, "0"),
        (-0.0, "-0"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
        // Integral values up to 2^62 print as integers (double2ll + ll2string).
        (1e17, "100000000000000000"),
        (123456789012345678.0, "123456789012345680"),
        (4611686018427387904.0, "4611686018427387904"),
        // Beyond that: fpconv_dtoa, plain when the exponent is small enough...
        (4611686018427388928.0, "4611686018427389000"),
        (-4611686018427389952.0, "-4611686018427390000"),
        // ...exponent notation otherwise, with fpconv's (not %g's) exponent format.
        (1e21, "1e+21"),
        (1e22, "1e+22"),
        (1.5e300, "1.5e+300"),
        (f64::MAX, "1.7976931348623157e+308"),
        (1e-4, "0.0001"),
        (1e-5, "0.00001"),
        (0.000123, "0.000123"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (5e-324, "5e-324"),
    ];
    for &(d, expected) in cases {
        assert_eq!(format_double(d), expected, "{d:e}");
    }
}

#[test]
fn format_double_round_trips() {
    // Deterministic pseudo-random bit patterns, including subnormals and NaN payloads.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let d = f64::from_bits(x);
        let s = format_double(d);
        let back: f64 = s.parse().unwrap_or_else(|_| panic!("{s}"));
        if d.is_nan() {
            assert!(back.is_nan());
        } else {
            assert_eq!(back.to_bits(), d.to_bits(), "{d:e} -> {s}");
        }
    }
}

// ---------------------------------------------------------------- requests

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
fn inline_quoting_and_escapes() {
    let parse = |line: &[u8]| {
        let mut input = line.to_vec();
        input.extend_from_slice(b"\r\n");
        let mut all = requests(&input).unwrap();
        assert_eq!(all.len(), 1);
        all.remove(0)
    };
    assert_eq!(
        parse(br#"set "hello world" 'it'"#),
        argv(&["set", "hello world", "it"])
    );
    assert_eq!(
        parse(br#""a\nb\rc\td\be\af\\g\"h\x41\x4a\x7e\zi""#),
        vec![Bytes::from_static(b"a\nb\rc\td\x08e\x07f\\g\"hAJ~zi")]
    );
    // \x without two hex digits is a plain 'x'.
    assert_eq!(parse(br#""\x4g\x""#), argv(&["x4gx"]));
    assert_eq!(parse(br#"'it\'s' 'a\nb'"#), argv(&["it's", "a\\nb"]));
    assert_eq!(parse(br#""" ''"#), argv(&["", ""]));
    // A quote opening in the middle of a word joins it.
    assert_eq!(parse(br#"foo"bar baz" x"#), argv(&["foobar baz", "x"]));
    assert_eq!(parse(br#""\x00\xff""#), vec![Bytes::from_static(b"\0\xff")]);
    // Like Redis (C strings), everything after a NUL byte is ignored.
    assert_eq!(parse(b"get a\0b c"), argv(&["get", "a"]));
}

#[test]
fn inline_unbalanced_quotes() {
    for line in [
        &br#"set "foo"#[..],
        br#"set 'foo"#,
        br#"set "foo"bar"#,
        br#"set 'foo'bar"#,
        br#"set "foo\"#,
        br#"set '\\'"#,
        b"set \"a\0\"",
    ] {
        let mut input = line.to_vec();
        input.extend_from_slice(b"\r\n");
        assert_eq!(
            request_error(&input),
            "Protocol error: unbalanced quotes in request",
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
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

// ---------------------------------------------------------------- replies

#[test]
fn decode_resp2_replies() {
    assert_eq!(reply(b"+OK\r\n"), Frame::ok());
    assert_eq!(
        reply(b"-WRONGTYPE Operation against a key\r\n"),
        Frame::error("WRONGTYPE Operation against a key")
    );
    assert_eq!(reply(b":-7\r\n"), Frame::Integer(-7));
    assert_eq!(reply(b"$3\r\na\r\n\r\n"), Frame::bulk("a\r\n"));
    assert_eq!(reply(b"$0\r\n\r\n"), Frame::bulk(""));
    assert_eq!(reply(b"$-1\r\n"), Frame::Null);
    assert_eq!(reply(b"*-1\r\n"), Frame::NullArray);
    assert_eq!(reply(b"*0\r\n"), Frame::Array(vec![]));
    assert_eq!(
        reply(b"*3\r\n:1\r\n*1\r\n$1\r\nx\r\n$-1\r\n"),
        Frame::Array(vec![
            Frame::Integer(1),
            Frame::Array(vec![Frame::bulk("x")]),
            Frame::Null
        ])
    );
}

#[test]
fn decode_resp3_replies() {
    assert_eq!(reply(b"_\r\n"), Frame::Null);
    assert_eq!(reply(b",1.5\r\n"), Frame::Double(1.5));
    assert_eq!(reply(b",-0\r\n"), Frame::Double(-0.0));
    assert_eq!(reply(b",1e+21\r\n"), Frame::Double(1e21));
    assert_eq!(reply(b",inf\r\n"), Frame::Double(f64::INFINITY));
    assert_eq!(reply(b",-inf\r\n"), Frame::Double(f64::NEG_INFINITY));
    assert!(matches!(reply(b",nan\r\n"), Frame::Double(d) if d.is_nan()));
    assert_eq!(reply(b"#t\r\n"), Frame::Boolean(true));
    assert_eq!(reply(b"#f\r\n"), Frame::Boolean(false));
    assert_eq!(
        reply(b"=15\r\ntxt:Some string\r\n"),
        Frame::Verbatim(b("Some string"))
    );
    assert_eq!(reply(b"=4\r\nmkd:\r\n"), Frame::Verbatim(b("")));
    assert_eq!(
        reply(b"(-3492890328409238509324850943850943825024385\r\n"),
        Frame::BigNumber("-3492890328409238509324850943850943825024385".into())
    );
    assert_eq!(
        reply(b"!21\r\nSYNTAX invalid syntax\r\n"),
        Frame::error("SYNTAX invalid syntax")
    );
    assert_eq!(
        reply(b"%2\r\n+first\r\n:1\r\n+second\r\n_\r\n"),
        Frame::Map(vec![
            (Frame::Simple("first".into()), Frame::Integer(1)),
            (Frame::Simple("second".into()), Frame::Null),
        ])
    );
    assert_eq!(
        reply(b"~2\r\n+a\r\n#t\r\n"),
        Frame::Set(vec![Frame::Simple("a".into()), Frame::Boolean(true)])
    );
    assert_eq!(
        reply(b">2\r\n+pubsub\r\n%0\r\n"),
        Frame::Push(vec![Frame::Simple("pubsub".into()), Frame::Map(vec![])])
    );
}

#[test]
fn decode_skips_attributes() {
    // Top level, as in the RESP3 spec example.
    assert_eq!(
        reply(b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n"),
        Frame::Array(vec![Frame::Integer(2039123), Frame::Integer(9543892)])
    );
    // Nested inside an aggregate, and empty.
    assert_eq!(
        reply(b"*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n"),
        Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)])
    );
    assert_eq!(reply(b"|0\r\n+OK\r\n"), Frame::ok());
    // Attribute on an element closing several aggregates.
    assert_eq!(
        reply(b"*1\r\n*1\r\n|1\r\n+a\r\n+b\r\n:5\r\n"),
        Frame::Array(vec![Frame::Array(vec![Frame::Integer(5)])])
    );
}

#[test]
fn reply_round_trips() {
    let frames = vec![
        Frame::ok(),
        Frame::error("ERR x"),
        Frame::Integer(i64::MIN),
        Frame::bulk(&b"\0\r\n\xff"[..]),
        Frame::Null,
        Frame::NullArray,
        Frame::Array(vec![
            Frame::Array(vec![]),
            Frame::bulk("x"),
            Frame::Array(vec![Frame::Integer(1), Frame::Null]),
        ]),
        Frame::Map(vec![(
            Frame::bulk("k"),
            Frame::Map(vec![(Frame::Integer(1), Frame::Set(vec![]))]),
        )]),
        Frame::Set(vec![Frame::Boolean(false), Frame::Double(-2.5)]),
        Frame::Double(0.1),
        Frame::Double(1e-300),
        Frame::Double(f64::MAX),
        Frame::Double(f64::NEG_INFINITY),
        Frame::Boolean(true),
        Frame::Verbatim(b("line1\r\nline2")),
        Frame::BigNumber("123456789012345678901234567890".into()),
        Frame::Push(vec![
            Frame::bulk("message"),
            Frame::bulk("ch"),
            Frame::bulk("m"),
        ]),
    ];
    // RESP3: every frame comes back identical (except NullArray, which RESP3 spells as null).
    let mut wire = BytesMut::new();
    for f in &frames {
        f.encode(Protocol::Resp3, &mut wire);
    }
    let decoded = replies(&wire);
    let expected: Vec<Frame> = frames
        .iter()
        .map(|f| match f {
            Frame::NullArray => Frame::Null,
            other => other.clone(),
        })
        .collect();
    assert_eq!(decoded, expected);

    // RESP2: RESP2 types come back identical.
    let resp2: Vec<Frame> = frames[..7].to_vec();
    let mut wire = BytesMut::new();
    for f in &resp2 {
        f.encode(Protocol::Resp2, &mut wire);
    }
    assert_eq!(replies(&wire), resp2);
}

#[test]
fn reply_streaming_does_not_consume_partial_input() {
    let mut wire = BytesMut::new();
    Frame::Array(vec![
        Frame::bulk("hello"),
        Frame::Map(vec![(Frame::Simple("a".into()), Frame::Double(1.5))]),
        Frame::Push(vec![Frame::Boolean(true)]),
        Frame::Null,
    ])
    .encode(Protocol::Resp3, &mut wire);
    wire.extend_from_slice(b"|1\r\n+x\r\n+y\r\n:42\r\n");
    let expected = replies(&wire);
    assert_eq!(expected.len(), 2);

    // A fresh codec on every prefix: incomplete input returns None and stays buffered.
    for split in 0..wire.len() {
        let mut codec = ReplyCodec::new();
        let mut buf = BytesMut::from(&wire[..split]);
        let mut got = Vec::new();
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            got.push(f);
        }
        let consumed = split - buf.len();
        assert!(consumed == 0 || got.len() == 1, "split {split}");
        // The same codec continues once the rest arrives.
        buf.extend_from_slice(&wire[split..]);
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            got.push(f);
        }
        assert_eq!(got, expected, "split at {split}");
    }

    // One codec fed byte by byte; an incomplete frame is never consumed.
    let mut codec = ReplyCodec::new();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for (i, &byte) in wire.iter().enumerate() {
        buf.put_u8(byte);
        let before = buf.len();
        match codec.decode(&mut buf).unwrap() {
            Some(f) => got.push(f),
            None => assert_eq!(buf.len(), before, "byte {i}"),
        }
    }
    assert_eq!(got, expected);
}

#[test]
fn reply_errors() {
    assert_eq!(
        reply_error(b"?what\r\n"),
        "Protocol error: invalid reply type byte '?'"
    );
    assert_eq!(reply_error(b":12a\r\n"), "Protocol error: invalid integer");
    assert_eq!(
        reply_error(b"$-2\r\n"),
        "Protocol error: invalid bulk length"
    );
    assert_eq!(
        reply_error(b"$3\r\nabcd\r\n"),
        "Protocol error: expected CRLF after bulk data"
    );
    assert_eq!(reply_error(b"+OK\rX"), "Protocol error: expected CRLF");
    assert_eq!(reply_error(b"#x\r\n"), "Protocol error: invalid boolean");
    assert_eq!(reply_error(b",1.2.3\r\n"), "Protocol error: invalid double");
    assert_eq!(
        reply_error(b"=3\r\ntxt\r\n"),
        "Protocol error: invalid verbatim string"
    );
    assert_eq!(
        reply_error(b"*-2\r\n"),
        "Protocol error: invalid aggregate length"
    );
    assert_eq!(
        reply_error(b"%9223372036854775807\r\n"),
        "Protocol error: invalid aggregate length"
    );
    assert_eq!(
        reply_error(b"(12x\r\n"),
        "Protocol error: invalid big number"
    );
    assert_eq!(reply_error(b"_x\r\n"), "Protocol error: invalid null");

    let deep = b"*1\r\n".repeat(MAX_REPLY_DEPTH + 1);
    assert_eq!(
        reply_error(&deep),
        "Protocol error: reply nested too deeply"
    );
    let mut ok_depth = b"*1\r\n".repeat(MAX_REPLY_DEPTH);
    ok_depth.extend_from_slice(b":1\r\n");
    assert!(matches!(reply(&ok_depth), Frame::Array(_)));
}

#[test]
fn reply_claimed_lengths_do_not_allocate() {
    let mut codec = ReplyCodec::new();
    let mut buf = BytesMut::from(&b"*9223372036854775807\r\n$9223372036854775000\r\nab"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.capacity() < 4096);
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
