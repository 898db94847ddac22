//! Users and their passwords: the default user, a new user, who can log in after which
//! password rule, ACL USERS / DELUSER, ACL GENPASS.

use crate::acl_common::*;
use crate::common::*;

/// The ACL LIST line of a user created by a bare `ACL SETUSER <name>` (Redis 7.2: new users
/// carry `sanitize-payload`, like `default`).
fn new_user_line(name: &str) -> String {
    format!("user {name} off sanitize-payload resetchannels -@all")
}

const DEFAULT_LINE: &str = "user default on nopass sanitize-payload ~* &* +@all";

#[tokio::test]
async fn a_new_node_has_only_the_default_user() {
    let (_node, mut c) = start().await;
    assert_eq!(acl_list(&mut c).await, vec![DEFAULT_LINE.to_string()]);
    expect(&mut c, &["ACL", "USERS"], bulks(&["default"])).await;
    expect(&mut c, &["ACL", "WHOAMI"], b("default")).await;
    let u = getuser(&mut c, "default").await;
    assert_eq!(
        field_names(&u),
        [
            "flags",
            "passwords",
            "commands",
            "keys",
            "channels",
            "selectors"
        ],
        "ACL GETUSER fields"
    );
    assert_eq!(
        strings(&field(&u, "flags")),
        ["on", "nopass", "sanitize-payload"]
    );
    assert_eq!(strings(&field(&u, "passwords")), Vec::<String>::new());
    assert_eq!(field_text(&u, "commands"), "+@all");
    assert_eq!(field_text(&u, "keys"), "~*");
    assert_eq!(field_text(&u, "channels"), "&*");
    assert_eq!(field(&u, "selectors"), arr(vec![]));
    // A user that does not exist: a null reply.
    expect(&mut c, &["ACL", "GETUSER", "nosuchuser"], nil()).await;
}

#[tokio::test]
async fn setuser_creates_a_disabled_user_without_permissions() {
    let (node, mut c) = start().await;
    expect(&mut c, &["ACL", "SETUSER", "bob"], ok()).await;
    assert_eq!(
        acl_list(&mut c).await,
        vec![new_user_line("bob"), DEFAULT_LINE.to_string()]
    );
    let u = getuser(&mut c, "bob").await;
    assert_eq!(strings(&field(&u, "flags")), ["off", "sanitize-payload"]);
    assert_eq!(strings(&field(&u, "passwords")), Vec::<String>::new());
    assert_eq!(field_text(&u, "commands"), "-@all");
    assert_eq!(field_text(&u, "keys"), "");
    assert_eq!(field_text(&u, "channels"), "");
    assert_eq!(field(&u, "selectors"), arr(vec![]));
    // SETUSER of an existing user with no rules changes nothing.
    expect(&mut c, &["ACL", "SETUSER", "bob"], ok()).await;
    assert_eq!(list_line(&mut c, "bob").await, new_user_line("bob"));
    // New users start disabled: even with a password, AUTH fails.
    expect(&mut c, &["ACL", "SETUSER", "bob", ">bobpw"], ok()).await;
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"bob", b"bobpw"]).await),
        format!("-{WRONGPASS}\r\n")
    );
    // `reset` goes back to exactly what a new user is.
    expect(
        &mut c,
        &["ACL", "SETUSER", "bob", "on", "~*", "&*", "+@all"],
        ok(),
    )
    .await;
    let mut fresh = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&fresh.call(&[b"AUTH", b"bob", b"bobpw"]).await),
        "+OK\r\n"
    );
    expect(&mut c, &["ACL", "SETUSER", "bob", "reset"], ok()).await;
    let mut fresh = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&fresh.call(&[b"AUTH", b"bob", b"bobpw"]).await),
        format!("-{WRONGPASS}\r\n"),
        "reset left bob's password or left bob on"
    );
    assert_eq!(list_line(&mut c, "bob").await, new_user_line("bob"));
    // Usernames cannot contain spaces.
    expect_err(
        &mut c,
        &["ACL", "SETUSER", "a a"],
        "ERR Usernames can't contain spaces or null characters",
    )
    .await;
}

/// on/off, >pass, <pass, #hash, !hash, nopass, resetpass as AUTH sees them.
#[tokio::test]
async fn password_rules_decide_who_can_log_in() {
    let (node, mut c) = start().await;
    let wrongpass = format!("-{WRONGPASS}\r\n");
    // Each attempt on a new connection (turning the user off closes its connections).
    macro_rules! auth {
        ($user:expr, $pass:expr) => {
            show(
                &RawConn::connect(node.port())
                    .await
                    .call(&[b"AUTH", $user.as_bytes(), $pass.as_bytes()])
                    .await,
            )
        };
    }
    expect(
        &mut c,
        &["ACL", "SETUSER", "pw", ">p1", "~*", "+@all"],
        ok(),
    )
    .await;
    assert_eq!(auth!("pw", "p1"), wrongpass, "a new user is off");
    expect(&mut c, &["ACL", "SETUSER", "pw", "on"], ok()).await;
    assert_eq!(auth!("pw", "p1"), "+OK\r\n");
    assert_eq!(auth!("pw", "p2"), wrongpass);
    expect(&mut c, &["ACL", "SETUSER", "pw", ">p2"], ok()).await;
    assert_eq!(auth!("pw", "p1"), "+OK\r\n");
    assert_eq!(auth!("pw", "p2"), "+OK\r\n");
    assert_eq!(auth!("pw", "p3"), wrongpass);
    expect(&mut c, &["ACL", "SETUSER", "pw", "<p1"], ok()).await;
    assert_eq!(auth!("pw", "p1"), wrongpass, "<p1 removed p1");
    assert_eq!(auth!("pw", "p2"), "+OK\r\n");
    let hash = format!("#{}", sha256_hex("p3"));
    expect(&mut c, &["ACL", "SETUSER", "pw", &hash], ok()).await;
    assert_eq!(auth!("pw", "p3"), "+OK\r\n", "#hash of p3 lets p3 in");
    let unhash = format!("!{}", sha256_hex("p3"));
    expect(&mut c, &["ACL", "SETUSER", "pw", &unhash], ok()).await;
    assert_eq!(auth!("pw", "p3"), wrongpass, "!hash of p3 removed it");
    assert_eq!(auth!("pw", "p2"), "+OK\r\n");
    expect(&mut c, &["ACL", "SETUSER", "pw", "nopass"], ok()).await;
    assert_eq!(auth!("pw", "anything"), "+OK\r\n", "nopass: any password");
    assert_eq!(auth!("pw", ""), "+OK\r\n");
    expect(&mut c, &["ACL", "SETUSER", "pw", "resetpass"], ok()).await;
    assert_eq!(auth!("pw", "anything"), wrongpass, "resetpass: no password");
    assert_eq!(auth!("pw", "p2"), wrongpass);
    // Adding a password after nopass turns nopass off; nopass after a password drops it.
    expect(&mut c, &["ACL", "SETUSER", "pw", "nopass", ">p4"], ok()).await;
    assert_eq!(auth!("pw", "other"), wrongpass);
    assert_eq!(auth!("pw", "p4"), "+OK\r\n");
    expect(&mut c, &["ACL", "SETUSER", "pw", ">p5", "nopass"], ok()).await;
    assert_eq!(auth!("pw", "other"), "+OK\r\n");
    expect(&mut c, &["ACL", "SETUSER", "pw", "off"], ok()).await;
    assert_eq!(auth!("pw", "other"), wrongpass, "off: nobody gets in");
    expect(&mut c, &["ACL", "SETUSER", "pw", "on", "off", "on"], ok()).await;
    assert_eq!(auth!("pw", "other"), "+OK\r\n", "the last of on/off wins");
    // Unknown users.
    assert_eq!(auth!("nosuchuser", "x"), wrongpass);
}

#[tokio::test]
async fn genpass_gives_random_hex_of_the_asked_size() {
    let (_node, mut c) = start().await;
    let is_hex = |s: &str| s.chars().all(|ch| matches!(ch, '0'..='9' | 'a'..='f'));
    let p1 = text(&q(&mut c, &["ACL", "GENPASS"]).await);
    let p2 = text(&q(&mut c, &["ACL", "GENPASS"]).await);
    assert_eq!(p1.len(), 64, "{p1}");
    assert!(is_hex(&p1), "{p1}");
    assert_ne!(p1, p2, "two passwords are the same");
    for (bits, chars) in [("32", 8), ("5", 2), ("1", 1), ("4096", 1024), ("255", 64)] {
        let p = text(&q(&mut c, &["ACL", "GENPASS", bits]).await);
        assert_eq!(p.len(), chars, "ACL GENPASS {bits}: {p}");
        assert!(is_hex(&p), "{p}");
    }
    let range = "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096";
    for bad in ["-236", "5000", "0"] {
        expect_err(&mut c, &["ACL", "GENPASS", bad], range).await;
    }
}

#[tokio::test]
async fn users_are_sorted_and_deluser_counts() {
    let (node, mut c) = start().await;
    for u in ["zed", "alice", "mike", "bob"] {
        expect(&mut c, &["ACL", "SETUSER", u], ok()).await;
    }
    expect(
        &mut c,
        &["ACL", "USERS"],
        bulks(&["alice", "bob", "default", "mike", "zed"]),
    )
    .await;
    let list = acl_list(&mut c).await;
    let names: Vec<&str> = list
        .iter()
        .map(|l| l.split(' ').nth(1).expect("a name"))
        .collect();
    assert_eq!(names, ["alice", "bob", "default", "mike", "zed"]);
    expect(
        &mut c,
        &["ACL", "DELUSER", "alice", "mike", "nosuch"],
        int(2),
    )
    .await;
    expect(&mut c, &["ACL", "DELUSER", "nosuch"], int(0)).await;
    expect(&mut c, &["ACL", "USERS"], bulks(&["bob", "default", "zed"])).await;
    expect_err(
        &mut c,
        &["ACL", "DELUSER", "default"],
        "ERR The 'default' user cannot be removed",
    )
    .await;
    // With default among them, nothing is removed.
    expect_err(
        &mut c,
        &["ACL", "DELUSER", "zed", "default"],
        "ERR The 'default' user cannot be removed",
    )
    .await;
    expect(&mut c, &["ACL", "USERS"], bulks(&["bob", "default", "zed"])).await;
    // A deleted user cannot log in any more, and is not in ACL LIST.
    expect(&mut c, &["ACL", "SETUSER", "zed", "on", ">zedpw"], ok()).await;
    let _zed = login(&node, "zed", "zedpw").await;
    expect(&mut c, &["ACL", "DELUSER", "zed"], int(1)).await;
    let Err(err) = connect_as(node.port(), "zed", "zedpw").await else {
        panic!("a deleted user logs in");
    };
    assert!(
        err.to_string().contains("WRONGPASS") || err.to_string().contains("uthentication"),
        "{err}"
    );
    assert!(
        !acl_list(&mut c)
            .await
            .iter()
            .any(|l| l.starts_with("user zed ")),
        "zed still listed"
    );
    // Other subcommands' syntax.
    expect_err(
        &mut c,
        &["ACL", "HELP", "xxx"],
        "ERR wrong number of arguments for 'acl|help' command",
    )
    .await;
    assert!(matches!(q(&mut c, &["ACL", "HELP"]).await, Value::Array(a) if !a.is_empty()));
}
