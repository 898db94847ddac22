//! Authentication (issue 4) on a single node: requirepass, AUTH / HELLO AUTH, users created
//! with ACL SETUSER, CONFIG SET requirepass at run time, connections closed when their user is
//! deleted or disabled, the protocol limits of unauthenticated clients, auth-max-failures /
//! auth-failure-delay and protected-mode. Texts are Redis 7.2's (tests/unit/auth.tcl,
//! acl.tcl) and /tmp/notes/acl-contract.md.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::acl_common::*;
use crate::common::*;

const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";

fn err_line(text: &str) -> String {
    format!("-{text}\r\n")
}

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

#[tokio::test]
async fn requirepass_demands_auth_and_takes_the_password() {
    let node = NodeProcess::start(NodeOptions::new().arg("requirepass", "s3cret-rp"));
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(show(&raw.call(&[b"GET", b"k"]).await), err_line(NOAUTH));
    assert_eq!(show(&raw.call(&[b"PING"]).await), err_line(NOAUTH));
    assert_eq!(
        show(&raw.call(&[b"ACL", b"WHOAMI"]).await),
        err_line(NOAUTH)
    );
    assert_eq!(
        show(&raw.call(&[b"HELLO", b"3"]).await),
        err_line(HELLO_NOAUTH)
    );
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"wrong!"]).await),
        err_line(WRONGPASS)
    );
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"default", b"wrong!"]).await),
        err_line(WRONGPASS)
    );
    // Still not authenticated after failures.
    assert_eq!(show(&raw.call(&[b"GET", b"k"]).await), err_line(NOAUTH));
    assert_eq!(show(&raw.call(&[b"AUTH", b"s3cret-rp"]).await), "+OK\r\n");
    assert_eq!(show(&raw.call(&[b"SET", b"foo", b"100"]).await), "+OK\r\n");
    assert_eq!(show(&raw.call(&[b"INCR", b"foo"]).await), ":101\r\n");
    assert_eq!(show(&raw.call(&[b"ACL", b"WHOAMI"]).await), bulk("default"));
    // AUTH default <password> is the same.
    let mut raw2 = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw2.call(&[b"AUTH", b"default", b"s3cret-rp"]).await),
        "+OK\r\n"
    );
    assert_eq!(show(&raw2.call(&[b"GET", b"foo"]).await), bulk("101"));
    // The default user now has the password's hash instead of nopass.
    let mut admin = login(&node, "default", "s3cret-rp").await;
    assert_eq!(
        list_line(&mut admin, "default").await,
        format!(
            "user default on sanitize-payload #{} ~* &* +@all",
            sha256_hex("s3cret-rp")
        )
    );
    // A client library's password-only URL works too.
    let mut c =
        redoubt_cluster_tests::connect(&format!("redis://:s3cret-rp@127.0.0.1:{}/", node.port()))
            .await
            .expect("connect with the password");
    expect(&mut c, &["GET", "foo"], b("101")).await;
    // A user created with ACL SETUSER logs in with AUTH user pass.
    expect(
        &mut admin,
        &["ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "+@all"],
        ok(),
    )
    .await;
    let mut raw3 = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw3.call(&[b"AUTH", b"app", b"apppw"]).await),
        "+OK\r\n"
    );
    assert_eq!(show(&raw3.call(&[b"ACL", b"WHOAMI"]).await), bulk("app"));
    assert_eq!(show(&raw3.call(&[b"SET", b"app:1", b"x"]).await), "+OK\r\n");
    assert_eq!(
        show(&raw3.call(&[b"SET", b"other", b"x"]).await),
        err_line(NOPERM_KEY)
    );
    // AUTH <password> alone is always the default user's.
    let mut raw4 = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw4.call(&[b"AUTH", b"apppw"]).await),
        err_line(WRONGPASS)
    );
}

#[tokio::test]
async fn auth_without_a_configured_password() {
    let (_node, mut c) = start().await;
    expect_err(&mut c, &["AUTH", "foo"], NOPASS_AUTH).await;
    // default is nopass: any password for it works.
    expect(&mut c, &["AUTH", "default", "whatever"], ok()).await;
    expect(&mut c, &["AUTH", "default", ""], ok()).await;
    expect_err(&mut c, &["AUTH", "a", "b", "c"], SYNTAX).await;
    expect_err(&mut c, &["AUTH", "nosuchuser", "x"], WRONGPASS).await;
    expect(&mut c, &["ACL", "WHOAMI"], b("default")).await;
}

#[tokio::test]
async fn config_set_requirepass_changes_the_password_at_run_time() {
    let (node, mut c) = start().await;
    expect(&mut c, &["CONFIG", "SET", "requirepass", "newpw-1"], ok()).await;
    // Connections authenticated before keep working.
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect(&mut c, &["PING"], simple("PONG")).await;
    // New ones need the password.
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(show(&raw.call(&[b"GET", b"k"]).await), err_line(NOAUTH));
    assert_eq!(show(&raw.call(&[b"AUTH", b"newpw-1"]).await), "+OK\r\n");
    assert_eq!(show(&raw.call(&[b"GET", b"k"]).await), bulk("v"));
    assert_eq!(
        list_line(&mut c, "default").await,
        format!(
            "user default on sanitize-payload #{} ~* &* +@all",
            sha256_hex("newpw-1")
        )
    );
    // A second change: the old password is refused, the new one accepted.
    expect(&mut c, &["CONFIG", "SET", "requirepass", "newpw-2"], ok()).await;
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(show(&raw.call(&[b"GET", b"k"]).await), err_line(NOAUTH));
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"newpw-1"]).await),
        err_line(WRONGPASS)
    );
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"default", b"newpw-1"]).await),
        err_line(WRONGPASS)
    );
    assert_eq!(show(&raw.call(&[b"AUTH", b"newpw-2"]).await), "+OK\r\n");
    assert_eq!(
        list_line(&mut c, "default").await,
        format!(
            "user default on sanitize-payload #{} ~* &* +@all",
            sha256_hex("newpw-2")
        )
    );
    // An empty requirepass opens the default user again.
    expect(&mut c, &["CONFIG", "SET", "requirepass", ""], ok()).await;
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(show(&raw.call(&[b"GET", b"k"]).await), bulk("v"));
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"newpw-2"]).await),
        err_line(NOPASS_AUTH)
    );
    assert_eq!(
        list_line(&mut c, "default").await,
        "user default on nopass sanitize-payload ~* &* +@all"
    );
}

#[tokio::test]
async fn hello_auth_setname_authenticates_and_switches_protocol() {
    let node = NodeProcess::start(NodeOptions::new().arg("requirepass", "hello-root-pw"));
    let mut admin = login(&node, "default", "hello-root-pw").await;
    expect(
        &mut admin,
        &[
            "ACL", "SETUSER", "helloer", "on", ">hpw", "~*", "&*", "+@all",
        ],
        ok(),
    )
    .await;
    let mut raw = RawConn::connect(node.port()).await;
    let hello = show(
        &raw.call(&[
            b"HELLO", b"3", b"AUTH", b"helloer", b"hpw", b"SETNAME", b"myname",
        ])
        .await,
    );
    assert!(
        hello.starts_with('%'),
        "HELLO 3 replies with a map: {hello}"
    );
    assert!(
        hello.contains("$5\r\nproto\r\n:3\r\n"),
        "HELLO 3 reply has proto 3: {hello}"
    );
    assert_eq!(
        show(&raw.call(&[b"CLIENT", b"GETNAME"]).await),
        bulk("myname")
    );
    assert_eq!(show(&raw.call(&[b"ACL", b"WHOAMI"]).await), bulk("helloer"));
    // RESP3 from now on: a missing key is a RESP3 null.
    assert_eq!(show(&raw.call(&[b"GET", b"missing"]).await), "_\r\n");
    // A wrong password: WRONGPASS, and neither the user nor the name changes.
    assert_eq!(
        show(
            &raw.call(&[b"HELLO", b"3", b"AUTH", b"helloer", b"bad", b"SETNAME", b"other"])
                .await
        ),
        err_line(WRONGPASS)
    );
    assert_eq!(
        show(&raw.call(&[b"CLIENT", b"GETNAME"]).await),
        bulk("myname")
    );
    assert_eq!(show(&raw.call(&[b"ACL", b"WHOAMI"]).await), bulk("helloer"));
    // An unauthenticated client whose HELLO AUTH fails stays unauthenticated (and RESP2).
    let mut raw2 = RawConn::connect(node.port()).await;
    assert_eq!(
        show(
            &raw2
                .call(&[b"HELLO", b"3", b"AUTH", b"helloer", b"nope"])
                .await
        ),
        err_line(WRONGPASS)
    );
    assert_eq!(show(&raw2.call(&[b"GET", b"k"]).await), err_line(NOAUTH));
    assert_eq!(
        show(
            &raw2
                .call(&[b"HELLO", b"3", b"AUTH", b"nosuchuser", b"hpw"])
                .await
        ),
        err_line(WRONGPASS)
    );
    // HELLO 2 AUTH with the default user's password.
    let hello2 = show(
        &raw2
            .call(&[b"HELLO", b"2", b"AUTH", b"default", b"hello-root-pw"])
            .await,
    );
    assert!(hello2.starts_with("*14\r\n"), "HELLO 2 reply: {hello2}");
    assert_eq!(
        show(&raw2.call(&[b"ACL", b"WHOAMI"]).await),
        bulk("default")
    );
    assert_eq!(show(&raw2.call(&[b"GET", b"missing"]).await), "$-1\r\n");
}

#[tokio::test]
async fn auth_switches_user_and_whoami_follows() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &["ACL", "SETUSER", "alice", "on", ">apw", "~*", "&*", "+@all"],
        ok(),
    )
    .await;
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(show(&raw.call(&[b"ACL", b"WHOAMI"]).await), bulk("default"));
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"alice", b"apw"]).await),
        "+OK\r\n"
    );
    assert_eq!(show(&raw.call(&[b"ACL", b"WHOAMI"]).await), bulk("alice"));
    // A failed AUTH keeps the current user.
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"alice", b"bad"]).await),
        err_line(WRONGPASS)
    );
    assert_eq!(show(&raw.call(&[b"ACL", b"WHOAMI"]).await), bulk("alice"));
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"nouser", b"x"]).await),
        err_line(WRONGPASS)
    );
    assert_eq!(show(&raw.call(&[b"ACL", b"WHOAMI"]).await), bulk("alice"));
    let mut a = login(&node, "alice", "apw").await;
    expect(&mut a, &["ACL", "WHOAMI"], b("alice")).await;
    assert!(
        connect_as(node.port(), "alice", "bad").await.is_err(),
        "a wrong password logged in"
    );

    // With default off, new connections are not authenticated (acl.tcl "When default user is
    // off, new connections are not authenticated").
    expect(
        &mut c,
        &[
            "ACL", "SETUSER", "admin", "on", ">adminpw", "~*", "&*", "+@all",
        ],
        ok(),
    )
    .await;
    let mut admin = login(&node, "admin", "adminpw").await;
    expect(&mut admin, &["ACL", "SETUSER", "default", "off"], ok()).await;
    let mut fresh = RawConn::connect(node.port()).await;
    assert_eq!(show(&fresh.call(&[b"GET", b"k"]).await), err_line(NOAUTH));
    assert_eq!(
        show(&fresh.call(&[b"AUTH", b"default", b"x"]).await),
        err_line(WRONGPASS),
        "a disabled default user logged in"
    );
    assert_eq!(
        show(&fresh.call(&[b"AUTH", b"alice", b"apw"]).await),
        "+OK\r\n"
    );
    expect(&mut admin, &["ACL", "SETUSER", "default", "on"], ok()).await;
    let mut fresh = RawConn::connect(node.port()).await;
    assert_eq!(show(&fresh.call(&[b"GET", b"k"]).await), "$-1\r\n");
    assert_eq!(
        show(&fresh.call(&[b"ACL", b"WHOAMI"]).await),
        bulk("default")
    );
}

#[tokio::test]
async fn deleting_or_disabling_a_user_closes_its_connections() {
    let (node, mut admin) = start().await;
    for (user, pass) in [("u1", "p1"), ("u2", "p2"), ("u3", "p3")] {
        let pw = format!(">{pass}");
        expect(
            &mut admin,
            &["ACL", "SETUSER", user, "on", &pw, "~*", "&*", "+@all"],
            ok(),
        )
        .await;
    }
    let mut u1_raw = raw_auth(&node, &["u1", "p1"]).await;
    let mut u1_con = login(&node, "u1", "p1").await;
    let mut u2_raw = raw_auth(&node, &["u2", "p2"]).await;
    let mut u2_con = login(&node, "u2", "p2").await;
    let mut u3_raw = raw_auth(&node, &["u3", "p3"]).await;
    expect(&mut u1_con, &["PING"], simple("PONG")).await;
    expect(&mut u2_con, &["PING"], simple("PONG")).await;

    // DELUSER closes u1's connections, not the others'.
    expect(&mut admin, &["ACL", "DELUSER", "u1"], int(1)).await;
    let left = u1_raw.read_until_closed(Duration::from_secs(5)).await;
    assert_eq!(
        show(&left),
        "",
        "u1's raw connection got bytes before closing"
    );
    assert_connection_closed(&mut u1_con, "u1 after ACL DELUSER u1").await;
    assert_eq!(show(&u2_raw.call(&[b"PING"]).await), "+PONG\r\n");
    expect(&mut u2_con, &["PING"], simple("PONG")).await;
    expect(&mut admin, &["PING"], simple("PONG")).await;

    // SETUSER off closes u2's.
    expect(&mut admin, &["ACL", "SETUSER", "u2", "off"], ok()).await;
    let left = u2_raw.read_until_closed(Duration::from_secs(5)).await;
    assert_eq!(
        show(&left),
        "",
        "u2's raw connection got bytes before closing"
    );
    assert_connection_closed(&mut u2_con, "u2 after ACL SETUSER u2 off").await;
    expect(&mut admin, &["PING"], simple("PONG")).await;
    assert_eq!(show(&u3_raw.call(&[b"PING"]).await), "+PONG\r\n");
    let mut fresh = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&fresh.call(&[b"AUTH", b"u2", b"p2"]).await),
        err_line(WRONGPASS)
    );

    // Other changes to a user that stays on keep its connections open.
    expect(&mut admin, &["ACL", "SETUSER", "u3", "-get", ">p3b"], ok()).await;
    assert_eq!(show(&u3_raw.call(&[b"PING"]).await), "+PONG\r\n");
    assert_eq!(
        show(&u3_raw.call(&[b"GET", b"k"]).await),
        err_line(&noperm_cmd("u3", "get"))
    );

    // A client that deletes its own user gets the reply, then is closed (acl.tcl "Delete a
    // user that the client is using").
    expect(
        &mut admin,
        &["ACL", "SETUSER", "using", "on", "+acl", "+ping", ">passwd"],
        ok(),
    )
    .await;
    let mut me = raw_auth(&node, &["using", "passwd"]).await;
    assert_eq!(
        show(&me.call(&[b"ACL", b"DELUSER", b"using"]).await),
        ":1\r\n"
    );
    let left = me.read_until_closed(Duration::from_secs(5)).await;
    assert_eq!(show(&left), "");
    // Deleting a user nobody uses closes nothing (acl.tcl "Delete a user that the client
    // doesn't use").
    expect(
        &mut admin,
        &["ACL", "SETUSER", "not_used", "on", ">passwd"],
        ok(),
    )
    .await;
    expect(&mut admin, &["ACL", "DELUSER", "not_used"], int(1)).await;
    expect(&mut admin, &["PING"], simple("PONG")).await;
}

#[tokio::test]
async fn unauthenticated_clients_have_small_protocol_limits() {
    let node = NodeProcess::start(NodeOptions::new().arg("requirepass", "limits-pw"));
    let close_wait = Duration::from_secs(5);
    // More than 10 elements.
    let mut raw = RawConn::connect(node.port()).await;
    raw.send(b"*11\r\n").await;
    assert_eq!(
        show(&raw.read_until_closed(close_wait).await),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    let mut raw = RawConn::connect(node.port()).await;
    raw.send(b"*100\r\n").await;
    assert_eq!(
        show(&raw.read_until_closed(close_wait).await),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    // A bulk longer than 16384.
    let mut raw = RawConn::connect(node.port()).await;
    raw.send(b"*2\r\n$20000\r\n").await;
    assert_eq!(
        show(&raw.read_until_closed(close_wait).await),
        "-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    let mut raw = RawConn::connect(node.port()).await;
    raw.send(b"*1\r\n$16385\r\n").await;
    assert_eq!(
        show(&raw.read_until_closed(close_wait).await),
        "-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    // At the limits: an ordinary NOAUTH, the connection stays.
    let mut raw = RawConn::connect(node.port()).await;
    let ten: Vec<&[u8]> = vec![
        b"RPUSH", b"l", b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h",
    ];
    assert_eq!(ten.len(), 10);
    assert_eq!(show(&raw.call(&ten).await), err_line(NOAUTH));
    let value = vec![b'x'; 16384];
    assert_eq!(
        show(&raw.call(&[b"SET", b"k", &value]).await),
        err_line(NOAUTH)
    );
    // After AUTH the same sizes work.
    assert_eq!(show(&raw.call(&[b"AUTH", b"limits-pw"]).await), "+OK\r\n");
    let eleven: Vec<&[u8]> = vec![
        b"RPUSH", b"l", b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"i",
    ];
    assert_eq!(eleven.len(), 11);
    assert_eq!(show(&raw.call(&eleven).await), ":9\r\n");
    let big = vec![b'y'; 20000];
    assert_eq!(show(&raw.call(&[b"SET", b"big", &big]).await), "+OK\r\n");
    assert_eq!(show(&raw.call(&[b"STRLEN", b"big"]).await), ":20000\r\n");
    let mut many: Vec<&[u8]> = vec![b"RPUSH", b"l2"];
    many.extend(std::iter::repeat_n(b"v".as_slice(), 200));
    assert_eq!(show(&raw.call(&many).await), ":200\r\n");

    // Without a password every client is authenticated: no such limits.
    let open = NodeProcess::start_default();
    let mut raw = RawConn::connect(open.port()).await;
    assert_eq!(show(&raw.call(&eleven).await), ":9\r\n");
    assert_eq!(show(&raw.call(&[b"SET", b"big", &big]).await), "+OK\r\n");
}

#[tokio::test]
async fn auth_failures_from_one_address_slow_down_only_that_address() {
    let node = NodeProcess::start(
        NodeOptions::new()
            .arg("requirepass", "right-pw")
            .arg("auth-max-failures", "3")
            .arg("auth-failure-delay", "400"),
    );
    let delay = Duration::from_millis(390);
    let fast = Duration::from_millis(200);
    let here = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let elsewhere = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let target = node.addr();
    let wrongpass = err_line(WRONGPASS);

    let mut a = RawConn::connect_from(Some(here), target)
        .await
        .expect("connect");
    for i in 1..=3 {
        assert_eq!(
            show(&a.call(&[b"AUTH", b"wrong-pw"]).await),
            wrongpass,
            "failure {i}"
        );
    }
    // Another address is not slowed down.
    let mut other = RawConn::connect_from(Some(elsewhere), target)
        .await
        .expect("connect from 127.0.0.2");
    let t = Instant::now();
    let reply = show(&other.call(&[b"AUTH", b"right-pw"]).await);
    let took = t.elapsed();
    assert_eq!(reply, "+OK\r\n");
    assert!(
        took < fast,
        "AUTH from another address took {took:?} after failures from 127.0.0.1"
    );
    let me = show(&other.call(&[b"CLIENT", b"INFO"]).await);
    assert!(
        me.contains("addr=127.0.0.2:"),
        "the server did not see the client at 127.0.0.2: {me}"
    );
    // The next attempt from 127.0.0.1 waits, on any connection, wrong or right.
    let mut b = RawConn::connect_from(Some(here), target)
        .await
        .expect("connect");
    let t = Instant::now();
    assert_eq!(show(&b.call(&[b"AUTH", b"wrong-pw"]).await), wrongpass);
    let took = t.elapsed();
    assert!(
        took >= delay,
        "the 4th failed AUTH from 127.0.0.1 took only {took:?}"
    );
    let t = Instant::now();
    assert_eq!(show(&a.call(&[b"AUTH", b"right-pw"]).await), "+OK\r\n");
    let took = t.elapsed();
    assert!(
        took >= delay,
        "a correct AUTH after the failures took only {took:?}"
    );
    // That success reset the address's count.
    let t = Instant::now();
    assert_eq!(show(&b.call(&[b"AUTH", b"right-pw"]).await), "+OK\r\n");
    let took = t.elapsed();
    assert!(
        took < fast,
        "AUTH after a successful one is still slowed: {took:?}"
    );
}

/// The text protected mode refuses a client with.
const DENIED: &str = "-DENIED Redoubt is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redoubt you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redoubt from the same host the server is running, however MAKE SURE Redoubt is not publicly accessible from internet if you do so. 2) Alternatively you can just disable the protected mode by editing the configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

#[tokio::test]
async fn protected_mode_refuses_non_loopback_clients_without_a_password() {
    let Some(ip) = non_loopback_ipv4() else {
        eprintln!(
            "NOTE: this machine has no non-loopback IPv4 address: protected mode cannot be checked here"
        );
        return;
    };
    let (node, mut c) = start_with(NodeOptions::new().arg("bind", "0.0.0.0")).await;
    let mut lo = RawConn::connect(node.port()).await;
    assert_eq!(show(&lo.call(&[b"PING"]).await), "+PONG\r\n");
    let to = SocketAddr::new(IpAddr::V4(ip), node.port());
    let mut ext = RawConn::connect_from(None, to)
        .await
        .unwrap_or_else(|e| panic!("connect to {to}: {e}"));
    let from = ext.stream.local_addr().expect("local addr").ip();
    assert!(
        !from.is_loopback(),
        "the client's address {from} is loopback"
    );
    // Refused at once: the error, then the connection closes (it would stay open, and this
    // would fail, if protected mode let the client in).
    let got = ext.read_until_closed(Duration::from_secs(5)).await;
    assert_eq!(show(&got), DENIED);
    // Loopback clients are still served.
    assert_eq!(show(&lo.call(&[b"PING"]).await), "+PONG\r\n");
    // Once the default user has a password, the outside client is let in (and must AUTH).
    expect(&mut c, &["CONFIG", "SET", "requirepass", "pm-pw"], ok()).await;
    let mut ext = RawConn::connect_from(None, to)
        .await
        .expect("connect again");
    assert_eq!(show(&ext.call(&[b"PING"]).await), err_line(NOAUTH));
    assert_eq!(show(&ext.call(&[b"AUTH", b"pm-pw"]).await), "+OK\r\n");
    assert_eq!(show(&ext.call(&[b"PING"]).await), "+PONG\r\n");
}

#[tokio::test]
async fn protected_mode_lets_non_loopback_clients_in_when_a_password_is_set() {
    let Some(ip) = non_loopback_ipv4() else {
        eprintln!(
            "NOTE: this machine has no non-loopback IPv4 address: protected mode cannot be checked here"
        );
        return;
    };
    let node = NodeProcess::start(
        NodeOptions::new()
            .arg("bind", "0.0.0.0")
            .arg("requirepass", "outside-pw"),
    );
    let to = SocketAddr::new(IpAddr::V4(ip), node.port());
    let mut ext = RawConn::connect_from(None, to)
        .await
        .unwrap_or_else(|e| panic!("connect to {to}: {e}"));
    assert_eq!(show(&ext.call(&[b"PING"]).await), err_line(NOAUTH));
    assert_eq!(show(&ext.call(&[b"AUTH", b"outside-pw"]).await), "+OK\r\n");
    assert_eq!(show(&ext.call(&[b"PING"]).await), "+PONG\r\n");
    let me = show(&ext.call(&[b"CLIENT", b"INFO"]).await);
    assert!(
        me.contains(&format!("addr={ip}:")),
        "the server saw another address than {ip}: {me}"
    );
}

/// As Redis 7 does: a subscriber whose user loses the right to one of its channels or patterns
/// is disconnected; one whose subscriptions stay allowed keeps listening.
#[tokio::test]
async fn subscribers_are_closed_when_their_channels_are_revoked() {
    let (node, mut admin) = start().await;
    expect(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "sub",
            "on",
            ">sp",
            "resetchannels",
            "&news:*",
            "&sport",
            "+@all",
        ],
        ok(),
    )
    .await;
    let mut news = raw_auth(&node, &["sub", "sp"]).await;
    news.send(b"*2\r\n$9\r\nSUBSCRIBE\r\n$7\r\nnews:it\r\n")
        .await;
    let confirm = news
        .try_read_reply(Duration::from_secs(5))
        .await
        .expect("subscribed");
    assert!(show(&confirm).contains("news:it"), "{}", show(&confirm));
    let mut patterns = raw_auth(&node, &["sub", "sp"]).await;
    patterns
        .send(b"*2\r\n$10\r\nPSUBSCRIBE\r\n$5\r\nsport\r\n")
        .await;
    let confirm = patterns
        .try_read_reply(Duration::from_secs(5))
        .await
        .expect("psubscribed");
    assert!(show(&confirm).contains("sport"), "{}", show(&confirm));

    // Still allowed: both keep listening (a published message reaches the channel subscriber).
    expect(&mut admin, &["ACL", "SETUSER", "sub", "&more"], ok()).await;
    expect(&mut admin, &["PUBLISH", "news:it", "hello"], int(1)).await;
    let msg = news
        .try_read_reply(Duration::from_secs(5))
        .await
        .expect("message");
    assert!(show(&msg).contains("hello"), "{}", show(&msg));

    // `sport` revoked: the pattern subscriber is closed, the channel subscriber stays.
    expect(
        &mut admin,
        &["ACL", "SETUSER", "sub", "resetchannels", "&news:*"],
        ok(),
    )
    .await;
    let left = patterns.read_until_closed(Duration::from_secs(5)).await;
    assert_eq!(
        show(&left),
        "",
        "the pattern subscriber got bytes before closing"
    );
    expect(&mut admin, &["PUBLISH", "news:it", "again"], int(1)).await;
    let msg = news
        .try_read_reply(Duration::from_secs(5))
        .await
        .expect("message");
    assert!(show(&msg).contains("again"), "{}", show(&msg));
}
