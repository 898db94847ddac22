//! Tests of writing the wire format: frames in RESP2 and RESP3, requests, the codecs'
//! encoders and `format_double`.

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Encoder;

use super::{argv, b};
use crate::resp::*;

fn enc(frame: &Frame, protocol: Protocol) -> Vec<u8> {
    let mut out = BytesMut::new();
    frame.encode(protocol, &mut out);
    out.to_vec()
}

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
