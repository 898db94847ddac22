//! Clients of a node: the `redis` crate's connection settings, and a readiness probe.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How test clients wait: the redis crate's default response timeout (500ms) is about
/// latency, not correctness, and turns a busy CI machine into flaky tests.
pub fn connection_config() -> redis::AsyncConnectionConfig {
    redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(15)))
}

/// A multiplexed connection to `url` (`redis://[:password@]host:port/[db]`) with
/// [`connection_config`].
pub async fn connect(url: &str) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    redis::Client::open(url)?
        .get_multiplexed_async_connection_with_config(&connection_config())
        .await
}

/// Whether something on 127.0.0.1:`port` answers a PING like a Redis server that is ready
/// (PONG, or an error such as NOAUTH that shows it serves commands; not LOADING).
pub fn ping_answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    // Any answer but LOADING means the node serves clients (PING may need AUTH, or may
    // have been renamed away).
    !got.starts_with(b"-LOADING")
}
