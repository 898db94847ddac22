//! Tests of the client-side reply decoder: RESP2 and RESP3 replies, attributes, round trips,
//! streaming over partial input, errors.

use bytes::{BufMut, BytesMut};
use tokio_util::codec::Decoder;

use super::b;
use crate::resp::*;

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
