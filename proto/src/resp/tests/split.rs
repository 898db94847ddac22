//! Tests of inline request splitting (`sdssplitargs`): quoting, escapes, unbalanced quotes.

use bytes::Bytes;

use super::{argv, request_error, requests};

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
