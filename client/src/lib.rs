//! A minimal async Redoubt/Redis client: one TCP connection speaking RESP through
//! [`ReplyCodec`], one command at a time. Also owns the reply rendering used by
//! `redoubt-cli` ([`render_raw`]).

use std::io;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use redoubt_proto::resp::{format_double, Frame, ProtocolError, ReplyCodec};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// Why a command did not produce a reply. An error *reply* from the server is not a
/// `ClientError`: it is returned as `Ok(Frame::Error(..))`.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("invalid reply: {0}")]
    Protocol(ProtocolError),
    #[error("connection closed by server")]
    Closed,
}

impl From<ProtocolError> for ClientError {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::Io(e) => ClientError::Io(e),
            other => ClientError::Protocol(other),
        }
    }
}

/// A connection to a server.
#[derive(Debug)]
pub struct Client {
    framed: Framed<TcpStream, ReplyCodec>,
}

impl Client {
    /// Connects to `addr` (`"host:port"`).
    pub async fn connect(addr: &str) -> io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Client::from_stream(stream))
    }

    /// Wraps an already connected stream.
    pub fn from_stream(stream: TcpStream) -> Client {
        Client {
            framed: Framed::new(stream, ReplyCodec::new()),
        }
    }

    /// Sends one command (`argv[0]` is the command name) and waits for its reply.
    ///
    /// Accepts any sequence of byte-like arguments: `&[&[u8]]`, `Vec<Bytes>`, `["GET", "k"]`...
    pub async fn command<I, A>(&mut self, argv: I) -> Result<Frame, ClientError>
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let argv: Vec<Bytes> = argv
            .into_iter()
            .map(|a| Bytes::copy_from_slice(a.as_ref()))
            .collect();
        self.framed.send(argv).await?;
        self.read_reply().await
    }

    /// Waits for the next frame from the server (e.g. a RESP3 push after SUBSCRIBE).
    pub async fn read_reply(&mut self) -> Result<Frame, ClientError> {
        match self.framed.next().await {
            Some(Ok(frame)) => Ok(frame),
            Some(Err(e)) => Err(e.into()),
            None => Err(ClientError::Closed),
        }
    }
}

/// Renders a reply the way `redis-cli` does when its output is not a terminal (raw mode),
/// without the trailing newline: bulk and simple strings as their raw bytes, integers and
/// doubles as numbers, nil as nothing, aggregate elements one per line (map entries as
/// `key value`), booleans as `(true)`/`(false)`, errors as `(error) <text>`.
pub fn render_raw(frame: &Frame, out: &mut Vec<u8>) {
    match frame {
        Frame::Simple(s) | Frame::BigNumber(s) => out.extend_from_slice(s.as_bytes()),
        Frame::Error(e) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(e.as_bytes());
        }
        Frame::ErrorBytes(e) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(e);
        }
        Frame::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Frame::Bulk(b) | Frame::Verbatim(b) => out.extend_from_slice(b),
        Frame::Null | Frame::NullArray => {}
        Frame::Double(d) => out.extend_from_slice(format_double(*d).as_bytes()),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                render_raw(item, out);
            }
        }
        Frame::Map(pairs) => {
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                render_raw(k, out);
                out.push(b' ');
                render_raw(v, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn ping_round_trip() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let expected = b"*1\r\n$4\r\nPING\r\n";
            let mut got = vec![0u8; expected.len()];
            sock.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, expected);
            sock.write_all(b"+PONG\r\n").await.unwrap();
        });

        let mut client = Client::connect(&addr).await.unwrap();
        let reply = client.command([&b"PING"[..]]).await.unwrap();
        assert_eq!(reply, Frame::Simple("PONG".into()));
        server.await.unwrap();

        // The server hung up: the next command reports it.
        let err = client.command(vec![Bytes::from_static(b"PING")]).await;
        assert!(matches!(err, Err(ClientError::Closed | ClientError::Io(_))));
    }

    #[test]
    fn raw_rendering() {
        let render = |f: &Frame| {
            let mut out = Vec::new();
            render_raw(f, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(render(&Frame::bulk("v")), "v");
        assert_eq!(render(&Frame::Null), "");
        assert_eq!(render(&Frame::Integer(-3)), "-3");
        assert_eq!(render(&Frame::error("ERR x")), "(error) ERR x");
        assert_eq!(
            render(&Frame::Array(vec![
                Frame::bulk("a"),
                Frame::Null,
                Frame::Array(vec![Frame::Double(1.5), Frame::Boolean(true)]),
            ])),
            "a\n\n1.5\n(true)"
        );
        assert_eq!(
            render(&Frame::Map(vec![(Frame::bulk("k"), Frame::Integer(1))])),
            "k 1"
        );
    }
}
