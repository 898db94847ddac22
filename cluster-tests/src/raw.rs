//! A raw TCP client, for tests where the protocol itself is under test.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a raw read waits before the test fails.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection that sends bytes as given and reads whole RESP replies back.
pub struct RawConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConn {
    pub async fn connect(port: u16) -> RawConn {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
        RawConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Connects to `to`, from the local address `from` (any port) when given: for tests
    /// that depend on the client's address (protected mode, per-address limits).
    pub async fn connect_from(
        from: Option<std::net::IpAddr>,
        to: std::net::SocketAddr,
    ) -> std::io::Result<RawConn> {
        let socket = match to {
            std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        if let Some(ip) = from {
            socket.bind(std::net::SocketAddr::new(ip, 0))?;
        }
        let stream = tokio::time::timeout(Duration::from_secs(5), socket.connect(to))
            .await
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
            })??;
        let _ = stream.set_nodelay(true);
        Ok(RawConn {
            stream,
            buf: Vec::new(),
        })
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .await
            .expect("write to the server");
    }

    /// Sends one command as a RESP multibulk.
    pub async fn send_cmd(&mut self, args: &[&[u8]]) {
        self.send(&encode_cmd(args)).await;
    }

    /// Reads one complete RESP2/RESP3 reply (its exact bytes). Panics on timeout or if
    /// the server closes first.
    pub async fn read_reply(&mut self) -> Vec<u8> {
        match self.try_read_reply(READ_TIMEOUT).await {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    /// One complete reply, or why there is none (closed, timed out).
    pub async fn try_read_reply(&mut self, timeout: Duration) -> Result<Vec<u8>, String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return Ok(self.buf.drain(..n).collect());
            }
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => {
                    return Err(format!(
                        "no complete reply within {timeout:?}; got so far: {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ))
                }
                Ok(Ok(0)) => {
                    return Err(format!(
                        "the server closed the connection; got so far: {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ))
                }
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => return Err(format!("read failed: {e}")),
            }
        }
    }

    /// Sends a command and reads its reply.
    pub async fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send_cmd(args).await;
        self.read_reply().await
    }

    /// Reads until the server closes the connection (within `timeout`), returning
    /// everything read that was not consumed yet. Panics if it stays open.
    pub async fn read_until_closed(&mut self, timeout: Duration) -> Vec<u8> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => panic!(
                    "the server did not close the connection within {timeout:?}; read: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
                Ok(Ok(0)) | Ok(Err(_)) => return std::mem::take(&mut self.buf),
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// A command as a RESP multibulk.
pub fn encode_cmd(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

/// The length of the first complete RESP value in `buf`, if it is complete.
pub fn reply_len(buf: &[u8]) -> Option<usize> {
    value_end(buf, 0)
}

fn value_end(buf: &[u8], at: usize) -> Option<usize> {
    let kind = *buf.get(at)?;
    let eol = line_end(buf, at + 1)?;
    let after = eol + 2;
    // Only length lines are parsed: simple strings and errors may hold any bytes.
    let length = || -> Option<i64> { std::str::from_utf8(&buf[at + 1..eol]).ok()?.parse().ok() };
    match kind {
        b'+' | b'-' | b':' | b',' | b'#' | b'_' | b'(' => Some(after),
        b'$' | b'!' | b'=' => {
            let n = length()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = length()?;
            if n < 0 {
                return Some(after);
            }
            let items = if matches!(kind, b'%' | b'|') {
                n * 2
            } else {
                n
            };
            let mut pos = after;
            for _ in 0..items {
                pos = value_end(buf, pos)?;
            }
            Some(pos)
        }
        // Not RESP: the rest of the line.
        _ => Some(after),
    }
}

#[cfg(test)]
mod tests {
    use super::{encode_cmd, reply_len};

    #[test]
    fn reply_len_finds_whole_resp2_and_resp3_values() {
        assert_eq!(reply_len(b"+OK\r\n+PONG\r\n"), Some(5));
        assert_eq!(reply_len(b"-ERR x \xfe\r\n"), Some(10));
        assert_eq!(reply_len(b"$3\r\nabc\r\n"), Some(9));
        assert_eq!(reply_len(b"$3\r\nab"), None);
        assert_eq!(reply_len(b"$-1\r\n"), Some(5));
        assert_eq!(reply_len(b"*2\r\n:1\r\n$1\r\nx\r\n"), Some(15));
        assert_eq!(reply_len(b"*2\r\n:1\r\n"), None);
        assert_eq!(reply_len(b"%1\r\n$1\r\nf\r\n,1.5\r\n"), Some(17));
        assert_eq!(reply_len(b">2\r\n_\r\n#t\r\n"), Some(11));
        assert_eq!(reply_len(b"+OK"), None);
    }

    #[test]
    fn commands_are_encoded_as_multibulk() {
        assert_eq!(
            encode_cmd(&[b"GET", b"k"]),
            b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
        );
    }
}
