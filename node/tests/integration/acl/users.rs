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
    async fn auth(port: u16, user: &str, pass: &str) -> String {
        let mut raw = RawConn::connect(port).await;
        show(&raw.call(&[b"AUTH", user.as_bytes(), pass.as_bytes()]).await)
    }
    let hash = format!("#{}", sha256_hex("p3"));
    let unhash = format!("!{}", sha256_hex("p3"));
    /// ACL SETUSER pw <rules>, then AUTH pw <password>: accepted or not; what the step shows.
    type Step<'a> = (&'a [&'a str], &'a [(&'a str, bool)], &'a str);
    let steps: &[Step] = &[
        (
            &[">p1", "~*", "+@all"],
            &[("p1", false)],
            "a new user is off",
        ),
        (&["on"], &[("p1", true), ("p2", false)], "on"),
        (
            &[">p2"],
            &[("p1", true), ("p2", true), ("p3", false)],
            ">p2 adds a password",
        ),
        (&["<p1"], &[("p1", false), ("p2", true)], "<p1 removed p1"),
        (&[&hash], &[("p3", true)], "#hash of p3 lets p3 in"),
        (
            &[&unhash],
            &[("p3", false), ("p2", true)],
            "!hash of p3 removed it",
        ),
        (
            &["nopass"],
            &[("anything", true), ("", true)],
            "nopass: any password",
        ),
        (
            &["resetpass"],
            &[("anything", false), ("p2", false)],
            "resetpass: no password",
        ),
        // Adding a password after nopass turns nopass off; nopass after a password drops it.
        (
            &["nopass", ">p4"],
            &[("other", false), ("p4", true)],
            "a password after nopass",
        ),
        (
            &[">p5", "nopass"],
            &[("other", true)],
            "nopass after a password",
        ),
        (&["off"], &[("other", false)], "off: nobody gets in"),
        (
            &["on", "off", "on"],
            &[("other", true)],
            "the last of on/off wins",
        ),
    ];
    for (rules, attempts, why) in steps {
        let mut argv = vec!["ACL", "SETUSER", "pw"];
        argv.extend_from_slice(rules);
        expect(&mut c, &argv, ok()).await;
        for (pass, accepted) in *attempts {
            let want = if *accepted { "+OK\r\n" } else { &wrongpass };
            assert_eq!(
                auth(node.port(), "pw", pass).await,
                want,
                "AUTH pw {pass:?} after ACL SETUSER pw {rules:?}: {why}"
            );
        }
    }
    // Unknown users.
    assert_eq!(auth(node.port(), "nosuchuser", "x").await, wrongpass);
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
    expect_each(
        &mut c,
        &[
            (&["ACL", "DELUSER", "alice", "mike", "nosuch"], Ok(int(2))),
            (&["ACL", "DELUSER", "nosuch"], Ok(int(0))),
            (&["ACL", "USERS"], Ok(bulks(&["bob", "default", "zed"]))),
            (
                &["ACL", "DELUSER", "default"],
                Err("ERR The 'default' user cannot be removed"),
            ),
            // With default among them, nothing is removed.
            (
                &["ACL", "DELUSER", "zed", "default"],
                Err("ERR The 'default' user cannot be removed"),
            ),
            (&["ACL", "USERS"], Ok(bulks(&["bob", "default", "zed"]))),
            // A deleted user cannot log in any more, and is not in ACL LIST.
            (&["ACL", "SETUSER", "zed", "on", ">zedpw"], Ok(ok())),
        ],
    )
    .await;
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
