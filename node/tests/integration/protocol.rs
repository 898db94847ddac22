//! The wire protocol: RESP2/RESP3 framing, inline commands, pipelining, and what the server
//! does with malformed input (exact Redis error texts, connection closed, server alive).

use std::time::Duration;

use crate::common::*;
use tokio::io::AsyncWriteExt;

const CLOSE_WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn ping_and_echo_answer_like_redis() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["PING"], simple("PONG")).await;
    expect(&mut c, &["PING", "hello"], b("hello")).await;
    expect(&mut c, &["ECHO", "hi there"], b("hi there")).await;
    expect(&mut c, &["ECHO", ""], b("")).await;
    expect_err(&mut c, &["ECHO"], &arity("echo")).await;
    expect_err(&mut c, &["PING", "a", "b"], &arity("ping")).await;
    // Command names are case-insensitive.
    expect(&mut c, &["pInG"], simple("PONG")).await;
}

#[tokio::test]
async fn a_pipeline_of_1000_commands_gets_its_replies_in_order() {
    let (_node, mut c) = start().await;
    let mut pipe = redis::pipe();
    let mut want = Vec::new();
    for i in 0..1000 {
        match i % 3 {
            0 => {
                pipe.cmd("SET").arg(format!("k{i}")).arg(format!("v{i}"));
                want.push(ok());
            }
            1 => {
                // Reads the write just before it in the same pipeline.
                pipe.cmd("GET").arg(format!("k{}", i - 1));
                want.push(b(&format!("v{}", i - 1)));
            }
            _ => {
                pipe.cmd("ECHO").arg(format!("e{i}"));
                want.push(b(&format!("e{i}")));
            }
        }
    }
    let got: Vec<Value> = pipe.query_async(&mut c).await.expect("pipeline");
    assert_eq!(got.len(), 1000);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "reply {i} of the pipeline");
    }
    expect(&mut c, &["DBSIZE"], int(334)).await;
}

#[tokio::test]
async fn three_commands_in_one_write_get_three_replies_in_order() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.send(b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
        .await;
    assert_eq!(show(&raw.read_reply().await), "+PONG\r\n");
    assert_eq!(show(&raw.read_reply().await), "+OK\r\n");
    assert_eq!(show(&raw.read_reply().await), "$1\r\n1\r\n");
    // A command split over several writes is assembled.
    raw.send(b"*2\r\n$4\r\nEC").await;
    raw.send(b"HO\r\n$5\r\nhel").await;
    raw.send(b"lo\r\n").await;
    assert_eq!(show(&raw.read_reply().await), "$5\r\nhello\r\n");
}

#[tokio::test]
async fn inline_commands_are_split_like_redis() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.send(b"PING\r\n").await;
    assert_eq!(show(&raw.read_reply().await), "+PONG\r\n");
    raw.send(b"SET a \"b c\"\r\n").await;
    assert_eq!(show(&raw.read_reply().await), "+OK\r\n");
    assert_eq!(show(&raw.call(&[b"GET", b"a"]).await), "$3\r\nb c\r\n");
    // Bare "\n" ends a line too; escapes in double quotes; single quotes are literal.
    raw.send(b"ECHO \"x\\ty\"\n").await;
    assert_eq!(show(&raw.read_reply().await), "$3\r\nx\ty\r\n");
    raw.send(b"ECHO 'it''s'\r\n").await;
    // 'it''s' is not valid: a closing quote must be followed by a space.
    assert_eq!(
        show(&raw.read_reply().await),
        "-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    let rest = raw.read_until_closed(CLOSE_WAIT).await;
    assert!(
        rest.is_empty(),
        "nothing after the protocol error: {}",
        show(&rest)
    );
    assert_alive(&node).await;
}

#[tokio::test]
async fn empty_lines_and_empty_multibulks_are_ignored() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.send(b"\r\n\r\n*0\r\n*-1\r\nPING\r\n").await;
    assert_eq!(show(&raw.read_reply().await), "+PONG\r\n");
}

#[tokio::test]
async fn hello_3_switches_to_resp3_maps_nulls_and_doubles() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    let hello = raw.call(&[b"HELLO", b"3"]).await;
    assert!(
        hello.starts_with(b"%"),
        "HELLO 3 replies with a map: {}",
        show(&hello)
    );
    let text = show(&hello);
    for part in [
        "$6\r\nserver\r\n",
        "$5\r\nproto\r\n:3\r\n",
        "$4\r\nmode\r\n",
        "$4\r\nrole\r\n$6\r\nmaster\r\n",
    ] {
        assert!(text.contains(part), "HELLO 3 reply has {part:?}: {text}");
    }
    assert_eq!(
        show(&raw.call(&[b"HSET", b"h", b"f", b"v"]).await),
        ":1\r\n"
    );
    assert_eq!(
        show(&raw.call(&[b"HGETALL", b"h"]).await),
        "%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    // RESP3 null.
    assert_eq!(show(&raw.call(&[b"GET", b"missing"]).await), "_\r\n");
    // Back to RESP2: arrays and $-1 again.
    let hello2 = raw.call(&[b"HELLO", b"2"]).await;
    assert!(
        hello2.starts_with(b"*14\r\n"),
        "HELLO 2 replies with a flat array: {}",
        show(&hello2)
    );
    assert_eq!(
        show(&raw.call(&[b"HGETALL", b"h"]).await),
        "*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert_eq!(show(&raw.call(&[b"GET", b"missing"]).await), "$-1\r\n");
    // Unsupported versions.
    assert_eq!(
        show(&raw.call(&[b"HELLO", b"4"]).await),
        "-NOPROTO unsupported protocol version\r\n"
    );
}

#[tokio::test]
async fn resp3_zscore_is_a_double() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.call(&[b"HELLO", b"3"]).await;
    assert_eq!(
        show(&raw.call(&[b"ZADD", b"z", b"1.5", b"m"]).await),
        ":1\r\n"
    );
    assert_eq!(show(&raw.call(&[b"ZSCORE", b"z", b"m"]).await), ",1.5\r\n");
    assert_eq!(show(&raw.call(&[b"ZSCORE", b"z", b"nope"]).await), "_\r\n");
    assert_eq!(
        show(
            &raw.call(&[b"ZRANGE", b"z", b"0", b"-1", b"WITHSCORES"])
                .await
        ),
        "*1\r\n*2\r\n$1\r\nm\r\n,1.5\r\n"
    );
    // RESP2 sends the same score as a bulk string.
    raw.call(&[b"HELLO", b"2"]).await;
    assert_eq!(
        show(&raw.call(&[b"ZSCORE", b"z", b"m"]).await),
        "$3\r\n1.5\r\n"
    );
}

/// Sends `input` on a fresh connection, expects exactly `error` back and the connection
/// closed; then a fresh client still gets PONG.
async fn protocol_error_closes(node: &NodeProcess, input: &[u8], error: &str) {
    let mut raw = RawConn::connect(node.port()).await;
    raw.send(input).await;
    let got = raw.read_until_closed(CLOSE_WAIT).await;
    assert_eq!(show(&got), error, "reply to {:?}", show(input));
    assert_alive(node).await;
}

#[tokio::test]
async fn invalid_multibulk_length_is_refused_and_the_connection_closed() {
    let node = NodeProcess::start_default();
    protocol_error_closes(
        &node,
        b"*abc\r\n",
        "-ERR Protocol error: invalid multibulk length\r\n",
    )
    .await;
    protocol_error_closes(
        &node,
        b"*3000000000\r\n",
        "-ERR Protocol error: invalid multibulk length\r\n",
    )
    .await;
}

#[tokio::test]
async fn negative_bulk_length_is_refused() {
    let node = NodeProcess::start_default();
    protocol_error_closes(
        &node,
        b"*1\r\n$-5\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
    )
    .await;
    protocol_error_closes(
        &node,
        b"*1\r\n$abc\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
    )
    .await;
}

#[tokio::test]
async fn a_multibulk_argument_must_start_with_dollar() {
    let node = NodeProcess::start_default();
    protocol_error_closes(
        &node,
        b"*1\r\nxyz\r\n",
        "-ERR Protocol error: expected '$', got 'x'\r\n",
    )
    .await;
    // Replies to commands before the bad one are sent first.
    protocol_error_closes(
        &node,
        b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n:1\r\n",
        "+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n",
    )
    .await;
}

#[tokio::test]
async fn a_bulk_longer_than_proto_max_bulk_len_is_refused() {
    let node = NodeProcess::start(NodeOptions::new().arg("proto-max-bulk-len", "1mb"));
    protocol_error_closes(
        &node,
        b"*2\r\n$4\r\nECHO\r\n$3000000000\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
    )
    .await;
    protocol_error_closes(
        &node,
        b"*2\r\n$4\r\nECHO\r\n$1048577\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
    )
    .await;
    // Exactly the limit is fine.
    let mut c = node.client().await;
    let big = "x".repeat(1024 * 1024);
    expect(&mut c, &["ECHO", &big], b(&big)).await;
}

#[tokio::test]
async fn the_default_bulk_limit_is_512mb() {
    let node = NodeProcess::start_default();
    protocol_error_closes(
        &node,
        b"*2\r\n$3\r\nGET\r\n$536870913\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
    )
    .await;
}

#[tokio::test]
async fn binary_garbage_does_not_hurt_the_server() {
    let node = NodeProcess::start_default();
    // A line of garbage is an inline command nobody knows.
    let mut raw = RawConn::connect(node.port()).await;
    raw.send(b"\x01\xfe\xff\x7f garbage\r\n").await;
    // Redis echoes the name's bytes as they came (only CR/LF would be replaced).
    assert_eq!(
        escaped(&raw.read_reply().await),
        escaped(
            b"-ERR unknown command '\x01\xfe\xff\x7f', with args beginning with: 'garbage' \r\n"
        ),
    );
    // The connection is still usable after an unknown command.
    assert_eq!(show(&raw.call(&[b"PING"]).await), "+PONG\r\n");
    drop(raw);
    // Random bytes without a line end, then hang up.
    let mut raw = RawConn::connect(node.port()).await;
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let noise: Vec<u8> = noise
        .into_iter()
        .filter(|&b| b != b'\n' && b != b'*')
        .collect();
    raw.send(&noise).await;
    raw.stream.shutdown().await.expect("shutdown");
    let _ = raw.read_until_closed(CLOSE_WAIT).await;
    // A multibulk of binary arguments is stored and returned byte for byte.
    let mut raw = RawConn::connect(node.port()).await;
    let value: Vec<u8> = (0..=255u8).collect();
    assert_eq!(
        show(&raw.call(&[b"SET", b"bin\x00key", &value]).await),
        "+OK\r\n"
    );
    let mut want = b"$256\r\n".to_vec();
    want.extend_from_slice(&value);
    want.extend_from_slice(b"\r\n");
    assert_eq!(raw.call(&[b"GET", b"bin\x00key"]).await, want);
    assert_alive(&node).await;
}

#[tokio::test]
async fn a_truncated_command_is_dropped_when_the_client_hangs_up() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab").await;
    raw.stream.shutdown().await.expect("shutdown");
    let rest = raw.read_until_closed(CLOSE_WAIT).await;
    assert!(
        rest.is_empty(),
        "no reply to half a command: {}",
        show(&rest)
    );
    assert_alive(&node).await;
    let mut c = node.client().await;
    expect(&mut c, &["EXISTS", "k"], int(0)).await;
}

#[tokio::test]
async fn unknown_command_error_lists_the_first_arguments() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw.call(&[b"foo", b"a", b"b"]).await),
        "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        show(&raw.call(&[b"FOO"]).await),
        "-ERR unknown command 'FOO', with args beginning with: \r\n"
    );
    let mut c = node.client().await;
    expect_err(
        &mut c,
        &["foo", "a", "b"],
        "ERR unknown command 'foo', with args beginning with: 'a' 'b' ",
    )
    .await;
    // The connection stays usable.
    expect(&mut c, &["PING"], simple("PONG")).await;
}

#[tokio::test]
async fn wrong_arity_names_the_command() {
    let (_node, mut c) = start().await;
    expect_err(&mut c, &["GET"], &arity("get")).await;
    expect_err(&mut c, &["GET", "a", "b"], &arity("get")).await;
    expect_err(&mut c, &["set", "k"], &arity("set")).await;
    expect_err(&mut c, &["HSET", "h", "f"], &arity("hset")).await;
    expect_err(&mut c, &["MSET", "a", "1", "b"], &arity("mset")).await;
    expect_err(&mut c, &["CLIENT"], &arity("client")).await;
    expect_err(&mut c, &["CLIENT", "SETNAME"], &arity("client|setname")).await;
    expect_err(
        &mut c,
        &["CLIENT", "NOSUCH"],
        "ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.",
    )
    .await;
}

#[tokio::test]
async fn big_and_binary_values_round_trip() {
    let (_node, mut c) = start().await;
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&big)
        .query_async(&mut c)
        .await
        .expect("SET big");
    let got: Vec<u8> = redis::cmd("GET")
        .arg("big")
        .query_async(&mut c)
        .await
        .expect("GET big");
    assert!(got == big, "the 3 MiB value came back changed");
    expect(&mut c, &["STRLEN", "big"], int(big.len() as i64)).await;
    let crlf = b"a\r\nb\0c".to_vec();
    let _: () = redis::cmd("SET")
        .arg(&crlf[..])
        .arg(&crlf[..])
        .query_async(&mut c)
        .await
        .expect("SET");
    let got: Vec<u8> = redis::cmd("GET")
        .arg(&crlf[..])
        .query_async(&mut c)
        .await
        .expect("GET");
    assert_eq!(got, crlf);
}

#[tokio::test]
async fn quit_replies_ok_and_closes() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.send_cmd(&[b"QUIT"]).await;
    let got = raw.read_until_closed(CLOSE_WAIT).await;
    assert_eq!(show(&got), "+OK\r\n");
    assert_alive(&node).await;
}

#[tokio::test]
async fn a_client_past_the_query_buffer_limit_is_closed() {
    let node = NodeProcess::start(NodeOptions::new().arg("client-query-buffer-limit", "1mb"));
    let mut raw = RawConn::connect(node.port()).await;
    // A 5 MB argument is announced, 2 MB of it sent: more than the 1 MB the client may buffer.
    raw.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000000\r\n")
        .await;
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..32 {
        if raw.stream.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let rest = raw.read_until_closed(CLOSE_WAIT).await;
    assert!(rest.is_empty(), "closed without a reply: {}", show(&rest));
    assert_alive(&node).await;
    let mut c = node.client().await;
    expect(&mut c, &["EXISTS", "k"], int(0)).await;
    // Under the limit, big arguments are fine.
    let value = "y".repeat(900 * 1024);
    expect(&mut c, &["SET", "k", &value], ok()).await;
    expect(&mut c, &["STRLEN", "k"], int(900 * 1024)).await;
}
