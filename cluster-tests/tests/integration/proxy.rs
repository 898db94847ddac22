//! The fault proxy on real sockets: an echo server behind it, clients bound to chosen
//! loopback source IPs in front of it.
//!
//! Timing assertions are lower bounds (a delay is at least what was asked) or generous upper
//! bounds; "nothing arrives" is a read that times out.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use redoubt_cluster_tests::proxy::{node_source_ip, Fault, FaultProxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// How long a read waits when something is expected to arrive.
const EXPECT: Duration = Duration::from_secs(5);
/// How long a read waits when nothing is expected to arrive.
const SILENCE: Duration = Duration::from_millis(500);

/// An echo server on 127.0.0.1 that echoes every connection until it closes.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
    let addr = listener.local_addr().expect("echo addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut rd, mut wr) = stream.split();
                let _ = tokio::io::copy(&mut rd, &mut wr).await;
            });
        }
    });
    addr
}

/// Connects to `to` from `from` (any port).
async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    let stream = tokio::time::timeout(EXPECT, socket.connect(to))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

async fn client(from: IpAddr, proxy: &FaultProxy) -> TcpStream {
    connect_from(from, proxy.addr())
        .await
        .unwrap_or_else(|e| panic!("connect from {from} to {}: {e}", proxy.addr()))
}

/// Writes `payload` and reads as many bytes back, concurrently (so a large payload cannot
/// deadlock on full buffers); returns the elapsed time. Panics unless the echo matches.
async fn round_trip(stream: &mut TcpStream, payload: &[u8]) -> Duration {
    let start = Instant::now();
    let (mut rd, mut wr) = stream.split();
    let mut back = vec![0u8; payload.len()];
    let (written, read) = tokio::time::timeout(EXPECT, async {
        tokio::join!(wr.write_all(payload), rd.read_exact(&mut back))
    })
    .await
    .expect("the echo within 5 s");
    written.expect("write");
    read.expect("read the echo");
    assert!(back == payload, "the echo differs from what was sent");
    start.elapsed()
}

/// Writes `payload` and checks that nothing comes back within [`SILENCE`], and that the
/// connection is not closed either.
async fn nothing_comes_back(stream: &mut TcpStream, payload: &[u8]) {
    stream.write_all(payload).await.expect("write");
    let mut buf = [0u8; 64];
    match tokio::time::timeout(SILENCE, stream.read(&mut buf)).await {
        Err(_) => {}
        Ok(Ok(0)) => panic!("the connection was closed"),
        Ok(Ok(n)) => panic!("{n} bytes came back: {:?}", &buf[..n]),
        Ok(Err(e)) => panic!("the connection failed: {e}"),
    }
}

/// Reads until the connection ends; panics unless it ends (EOF or error) within 5 s.
async fn closes_soon(stream: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + EXPECT;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => panic!("the connection is still open after 5 s"),
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => {}
        }
    }
}

/// Waits until the proxy has dropped at least `n` bytes in all, so that lifting a partition
/// next cannot let through bytes sent during it (on a loaded machine the proxy may lag).
async fn wait_dropped(proxy: &FaultProxy, n: u64) {
    let deadline = Instant::now() + EXPECT;
    while proxy.stats().bytes_dropped < n {
        assert!(
            Instant::now() < deadline,
            "dropped fewer than {n} bytes: {:?}",
            proxy.stats()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn pattern(len: usize) -> Vec<u8> {
    // Not periodic at any small stride, so a lost or reordered chunk shows.
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn node_source_ips_follow_the_convention() {
    assert_eq!(node_source_ip(1), "127.0.0.11".parse::<IpAddr>().unwrap());
    assert_eq!(node_source_ip(2), "127.0.0.12".parse::<IpAddr>().unwrap());
    assert_eq!(
        node_source_ip(245),
        "127.0.0.255".parse::<IpAddr>().unwrap()
    );
}

#[tokio::test]
async fn pass_forwards_bytes_both_ways() {
    let proxy = FaultProxy::start(echo_server().await).expect("start proxy");
    let mut c = client(node_source_ip(2), &proxy).await;
    round_trip(&mut c, b"hello").await;
    let big = pattern(1024 * 1024);
    round_trip(&mut c, &big).await;
    round_trip(&mut c, b"still here").await;

    // The proxy counts a chunk just after writing it, so the last count may trail the echo.
    let sent = (5 + big.len() + 10) as u64;
    let deadline = Instant::now() + EXPECT;
    while proxy.stats().bytes_forwarded < 2 * sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stats = proxy.stats();
    assert_eq!(stats.accepted, 1, "{stats:?}");
    assert_eq!(stats.open, 1, "{stats:?}");
    assert_eq!(stats.bytes_dropped, 0, "{stats:?}");
    assert_eq!(stats.bytes_forwarded, 2 * sent, "{stats:?}");

    // A half-close is passed on: the echo server sees EOF and closes its side.
    c.shutdown().await.expect("shutdown");
    closes_soon(&mut c).await;
}

#[tokio::test]
async fn delay_applies_to_one_source_only() {
    let proxy = FaultProxy::start(echo_server().await).expect("start proxy");
    let mut slow = client(node_source_ip(2), &proxy).await;
    let mut fast = client(node_source_ip(3), &proxy).await;
    round_trip(&mut slow, b"warm").await;
    round_trip(&mut fast, b"warm").await;

    proxy.set(
        Some(node_source_ip(2)),
        Fault::Delay(Duration::from_millis(100)),
    );
    let (slow_rtt, fast_rtt) = tokio::join!(
        round_trip(&mut slow, b"ping"),
        round_trip(&mut fast, b"ping")
    );
    assert!(
        slow_rtt >= Duration::from_millis(200),
        "delayed round trip took only {slow_rtt:?}"
    );
    assert!(
        fast_rtt < slow_rtt,
        "undelayed {fast_rtt:?}, delayed {slow_rtt:?}"
    );

    // Chunks are pipelined: a 1 MiB echo (many chunks) is not delayed chunk by chunk, and
    // arrives whole and in order.
    let big = pattern(1024 * 1024);
    let big_rtt = round_trip(&mut slow, &big).await;
    assert!(
        big_rtt >= Duration::from_millis(200),
        "1 MiB took {big_rtt:?}"
    );

    // Back to Pass: queued chunks are written in order, new ones without delay.
    proxy.clear();
    round_trip(&mut slow, b"after").await;
}

#[test]
fn works_from_sync_code_without_a_runtime() {
    let echo = std::net::TcpListener::bind("127.0.0.1:0").expect("bind echo");
    let echo_addr = echo.local_addr().expect("echo addr");
    std::thread::spawn(move || {
        for stream in echo.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    let proxy = FaultProxy::start(echo_addr).expect("start proxy");
    // std sockets cannot bind before connecting: this client comes from 127.0.0.1.
    proxy.set(None, Fault::Delay(Duration::from_millis(100)));
    let mut c = std::net::TcpStream::connect(proxy.addr()).expect("connect");
    c.set_read_timeout(Some(EXPECT)).expect("timeout");
    let start = Instant::now();
    c.write_all(b"sync").expect("write");
    let mut back = [0u8; 4];
    c.read_exact(&mut back).expect("read the echo");
    assert_eq!(&back, b"sync");
    let rtt = start.elapsed();
    assert!(rtt >= Duration::from_millis(200), "took only {rtt:?}");
}

#[tokio::test]
async fn drop_partitions_an_open_connection_until_lifted() {
    let proxy = FaultProxy::start(echo_server().await).expect("start proxy");
    let ip = node_source_ip(2);
    let mut c = client(ip, &proxy).await;
    round_trip(&mut c, b"before").await;

    proxy.set(Some(ip), Fault::Drop);
    assert_eq!(proxy.fault(ip), Fault::Drop);
    nothing_comes_back(&mut c, b"lost").await;
    wait_dropped(&proxy, 4).await;

    // Lifted: the same connection forwards new bytes; what was dropped stays lost.
    proxy.set(Some(ip), Fault::Pass);
    round_trip(&mut c, b"again").await;
    assert_eq!(proxy.stats().open, 1);
}

#[tokio::test]
async fn drop_loses_chunks_in_flight() {
    let proxy = FaultProxy::start(echo_server().await).expect("start proxy");
    let ip = node_source_ip(2);
    let mut c = client(ip, &proxy).await;
    proxy.set(Some(ip), Fault::Delay(Duration::from_millis(300)));
    c.write_all(b"in flight").await.expect("write");
    // The chunk is queued, due in 300 ms; the partition starts before that.
    proxy.set(Some(ip), Fault::Drop);
    nothing_comes_back(&mut c, b"").await;
    wait_dropped(&proxy, 9).await;
    proxy.set(Some(ip), Fault::Pass);
    round_trip(&mut c, b"new").await;
}

#[tokio::test]
async fn a_new_connection_under_drop_is_accepted_but_silent() {
    let proxy = FaultProxy::start(echo_server().await).expect("start proxy");
    let ip = node_source_ip(2);
    proxy.set(None, Fault::Drop);
    let mut c = client(ip, &proxy).await;
    nothing_comes_back(&mut c, b"syn lost").await;
    wait_dropped(&proxy, 8).await;
    proxy.clear();
    // The proxy dials the target once the partition lifts.
    round_trip(&mut c, b"now").await;
}

#[tokio::test]
async fn drop_is_per_source() {
    let proxy = FaultProxy::start(echo_server().await).expect("start proxy");
    let mut two = client(node_source_ip(2), &proxy).await;
    let mut three = client(node_source_ip(3), &proxy).await;

    proxy.set(Some(node_source_ip(2)), Fault::Drop);
    round_trip(&mut three, b"three passes").await;
    nothing_comes_back(&mut two, b"two is cut").await;
    round_trip(&mut three, b"three still passes").await;

    // The default applies to sources without a rule of their own.
    proxy.clear();
    proxy.set(None, Fault::Drop);
    proxy.set(Some(node_source_ip(3)), Fault::Pass);
    let mut four = client(node_source_ip(4), &proxy).await;
    round_trip(&mut three, b"own rule").await;
    nothing_comes_back(&mut four, b"default rule").await;
}

#[tokio::test]
async fn reset_closes_open_connections_and_refuses_new_ones() {
    let proxy = FaultProxy::start(echo_server().await).expect("start proxy");
    let ip = node_source_ip(2);
    let mut victim = client(ip, &proxy).await;
    let mut bystander = client(node_source_ip(3), &proxy).await;
    round_trip(&mut victim, b"before").await;
    round_trip(&mut bystander, b"before").await;

    proxy.set(Some(ip), Fault::Reset);
    closes_soon(&mut victim).await;
    round_trip(&mut bystander, b"unaffected").await;

    // A new connection from that source is accepted and closed at once (or refused).
    if let Ok(mut again) = connect_from(ip, proxy.addr()).await {
        closes_soon(&mut again).await;
    }
    assert!(proxy.stats().reset >= 1, "{:?}", proxy.stats());

    proxy.clear();
    let mut healed = client(ip, &proxy).await;
    round_trip(&mut healed, b"after clear").await;
}

#[tokio::test]
async fn dropping_the_proxy_closes_listener_and_connections() {
    let proxy = FaultProxy::start(echo_server().await).expect("start proxy");
    let addr = proxy.addr();
    let mut open = client(node_source_ip(2), &proxy).await;
    round_trip(&mut open, b"alive").await;

    drop(proxy);
    closes_soon(&mut open).await;
    match connect_from(node_source_ip(2), addr).await {
        Err(_) => {}
        // Only if another listener took the port meanwhile would this connect; then it is
        // not our proxy, and it must not echo.
        Ok(mut c) => {
            let _ = c.write_all(b"anyone?").await;
            let mut buf = [0u8; 16];
            match tokio::time::timeout(SILENCE, c.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => panic!("something still forwards on {addr}"),
                _ => {}
            }
        }
    }
}
