//! ACL (issue 4) on a single node: the rule grammar as ACL LIST / ACL GETUSER show it and as
//! it acts on real commands, key / channel permissions, selectors, ACL DRYRUN, CAT, GENPASS,
//! USERS, DELUSER, ACL LOG and the INFO denial counters. Expected texts are Redis 7.2's (ported
//! from Redis's tests/unit/acl.tcl and acl-v2.tcl) and /tmp/notes/acl-contract.md.

use std::time::Duration;

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

/// Every rule of the grammar, one step at a time, as ACL LIST shows the user after it.
#[tokio::test]
async fn every_rule_shows_in_acl_list() {
    let (_node, mut c) = start().await;
    let h1 = sha256_hex("p1");
    let h2 = sha256_hex("p2");
    let h3 = sha256_hex("p3");
    let hash3 = format!("#{h3}");
    let unhash2 = format!("!{h2}");
    let steps: Vec<(Vec<&str>, String)> = vec![
        (vec![], "off sanitize-payload resetchannels -@all".into()),
        (vec!["on"], "on sanitize-payload resetchannels -@all".into()),
        (vec!["off"], "off sanitize-payload resetchannels -@all".into()),
        (
            vec!["on", ">p1", ">p2"],
            format!("on sanitize-payload #{h1} #{h2} resetchannels -@all"),
        ),
        // Adding a password twice keeps one copy.
        (
            vec![">p1"],
            format!("on sanitize-payload #{h1} #{h2} resetchannels -@all"),
        ),
        (
            vec!["<p1"],
            format!("on sanitize-payload #{h2} resetchannels -@all"),
        ),
        (
            vec![&hash3],
            format!("on sanitize-payload #{h2} #{h3} resetchannels -@all"),
        ),
        (
            vec![&unhash2],
            format!("on sanitize-payload #{h3} resetchannels -@all"),
        ),
        (
            vec!["nopass"],
            "on nopass sanitize-payload resetchannels -@all".into(),
        ),
        (
            vec!["resetpass"],
            "on sanitize-payload resetchannels -@all".into(),
        ),
        (
            vec!["~k1:*", "%R~r:*", "%W~w:*", "%RW~rw:*"],
            "on sanitize-payload ~k1:* %R~r:* %W~w:* ~rw:* resetchannels -@all".into(),
        ),
        (
            vec!["allkeys"],
            "on sanitize-payload ~* resetchannels -@all".into(),
        ),
        (
            vec!["resetkeys", "~k2"],
            "on sanitize-payload ~k2 resetchannels -@all".into(),
        ),
        (
            vec!["&ch1", "&ch2:*"],
            "on sanitize-payload ~k2 resetchannels &ch1 &ch2:* -@all".into(),
        ),
        (
            vec!["allchannels"],
            "on sanitize-payload ~k2 &* -@all".into(),
        ),
        (
            vec!["resetchannels"],
            "on sanitize-payload ~k2 resetchannels -@all".into(),
        ),
        (
            vec!["+get"],
            "on sanitize-payload ~k2 resetchannels -@all +get".into(),
        ),
        (
            vec!["+@hash"],
            "on sanitize-payload ~k2 resetchannels -@all +get +@hash".into(),
        ),
        (
            vec!["-hdel"],
            "on sanitize-payload ~k2 resetchannels -@all +get +@hash -hdel".into(),
        ),
        (
            vec!["+client|id"],
            "on sanitize-payload ~k2 resetchannels -@all +get +@hash -hdel +client|id".into(),
        ),
        (
            vec!["allcommands"],
            "on sanitize-payload ~k2 resetchannels +@all".into(),
        ),
        (
            vec!["-@string"],
            "on sanitize-payload ~k2 resetchannels +@all -@string".into(),
        ),
        (
            vec!["nocommands"],
            "on sanitize-payload ~k2 resetchannels -@all".into(),
        ),
        (
            vec!["+@all"],
            "on sanitize-payload ~k2 resetchannels +@all".into(),
        ),
        (
            vec!["-@all"],
            "on sanitize-payload ~k2 resetchannels -@all".into(),
        ),
        (
            vec!["(~sel:* resetchannels +ping)"],
            "on sanitize-payload ~k2 resetchannels -@all (~sel:* resetchannels -@all +ping)"
                .into(),
        ),
        (
            vec!["(%R~r2:* &* +@read)"],
            "on sanitize-payload ~k2 resetchannels -@all (~sel:* resetchannels -@all +ping) (%R~r2:* &* -@all +@read)"
                .into(),
        ),
        (
            vec!["clearselectors"],
            "on sanitize-payload ~k2 resetchannels -@all".into(),
        ),
        (
            vec!["reset"],
            "off sanitize-payload resetchannels -@all".into(),
        ),
    ];
    for (rules, want) in &steps {
        let mut argv = vec!["ACL", "SETUSER", "rules"];
        argv.extend(rules.iter().copied());
        expect(&mut c, &argv, ok()).await;
        assert_eq!(
            list_line(&mut c, "rules").await,
            format!("user rules {want}"),
            "ACL LIST after ACL SETUSER rules {rules:?}"
        );
    }
    // Rule names are case-insensitive.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "rules",
            "ON",
            "NOPASS",
            "ALLKEYS",
            "ALLCHANNELS",
            "+GET",
        ],
        ok(),
    )
    .await;
    assert_eq!(
        list_line(&mut c, "rules").await,
        "user rules on nopass sanitize-payload ~* &* -@all +get"
    );
}

/// ACL GETUSER shows the same state field by field (port of acl-v2.tcl "Test ACL GETUSER
/// response information" and "Test R+W is the same as all permissions").
#[tokio::test]
async fn getuser_describes_root_and_selectors() {
    let (_node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "selector-info",
            "-@all",
            "+get",
            "resetchannels",
            "&channel1",
            "%R~foo1",
            "%W~bar1",
            "~baz1",
        ],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "selector-info",
            "(-@all +set resetchannels &channel2 %R~foo2 %W~bar2 ~baz2)",
        ],
        ok(),
    )
    .await;
    let u = getuser(&mut c, "selector-info").await;
    assert_eq!(field_text(&u, "keys"), "%R~foo1 %W~bar1 ~baz1");
    assert_eq!(field_text(&u, "channels"), "&channel1");
    assert_eq!(field_text(&u, "commands"), "-@all +get");
    let selectors = match field(&u, "selectors") {
        Value::Array(s) => s,
        other => panic!("selectors is an array: {other:?}"),
    };
    assert_eq!(selectors.len(), 1, "{selectors:?}");
    let s = map_fields(&selectors[0]);
    assert_eq!(field_names(&s), ["commands", "keys", "channels"]);
    assert_eq!(field_text(&s, "keys"), "%R~foo2 %W~bar2 ~baz2");
    assert_eq!(field_text(&s, "channels"), "&channel2");
    assert_eq!(field_text(&s, "commands"), "-@all +set");
    assert_eq!(
        list_line(&mut c, "selector-info").await,
        "user selector-info off sanitize-payload %R~foo1 %W~bar1 ~baz1 resetchannels &channel1 -@all +get (%R~foo2 %W~bar2 ~baz2 resetchannels &channel2 -@all +set)"
    );
    // %R + %W on one pattern is ~pattern; %RW is ~.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "selector-rw-info",
            "%R~foo",
            "%W~foo",
            "%RW~bar",
        ],
        ok(),
    )
    .await;
    let u = getuser(&mut c, "selector-rw-info").await;
    assert_eq!(field_text(&u, "keys"), "~foo ~bar");
    // Passwords show as hashes, never as given.
    expect(
        &mut c,
        &["ACL", "SETUSER", "selector-info", ">passwd4"],
        ok(),
    )
    .await;
    let u = getuser(&mut c, "selector-info").await;
    assert_eq!(strings(&field(&u, "passwords")), [sha256_hex("passwd4")]);
    // Selectors can be written with spaces inside the parentheses (acl-v2.tcl "Test flexible
    // selector definition").
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "selector-2",
            "(~key1 +get )",
            "( ~key2 +get )",
            "( ~key3 +get)",
        ],
        ok(),
    )
    .await;
    let u = getuser(&mut c, "selector-2").await;
    let keys: Vec<String> = match field(&u, "selectors") {
        Value::Array(s) => s
            .iter()
            .map(|sel| field_text(&map_fields(sel), "keys"))
            .collect(),
        other => panic!("selectors is an array: {other:?}"),
    };
    assert_eq!(keys, ["~key1", "~key2", "~key3"]);
}

/// An ACL LIST line fed back to ACL SETUSER gives the same user (what ACL LOAD relies on).
#[tokio::test]
async fn acl_list_lines_round_trip_through_setuser() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "orig",
            "on",
            ">pw1",
            "-@all",
            "+get",
            "+@hash",
            "-hdel",
            "resetchannels",
            "&channel1",
            "%R~foo1",
            "%W~bar1",
            "~baz1",
            "(-@all +set resetchannels &channel2 %R~foo2 %W~bar2 ~baz2)",
        ],
        ok(),
    )
    .await;
    let line = list_line(&mut c, "orig").await;
    let rules = line.strip_prefix("user orig ").expect("prefix");
    let mut argv = vec!["ACL", "SETUSER", "copy"];
    argv.extend(rules.split(' '));
    expect(&mut c, &argv, ok()).await;
    assert_eq!(
        list_line(&mut c, "copy").await,
        line.replacen("user orig ", "user copy ", 1)
    );
    // The copy logs in with the original's password (the #hash rule).
    let mut u = login(&node, "copy", "pw1").await;
    expect(&mut u, &["GET", "foo1"], nil()).await;
    expect_err(&mut u, &["GET", "bar1"], NOPERM_KEY).await;
    expect(&mut u, &["HGET", "baz1", "f"], nil()).await;
    expect_err(&mut u, &["HDEL", "baz1", "f"], &noperm_cmd("copy", "hdel")).await;
}

/// Port of acl.tcl "ACL GETUSER provides correct results": lossless compaction of command
/// rules (Redis 7.2).
#[tokio::test]
async fn getuser_commands_are_compacted_losslessly() {
    let (_node, mut c) = start().await;
    let cases: &[(&[&str], &str)] = &[
        (
            &["+@all", "-@hash", "-@slow", "+hget"],
            "+@all -@hash -@slow +hget",
        ),
        (&["-@hash"], "+@all -@slow +hget -@hash"),
        (&["+@hash"], "+@all -@slow +hget +@hash"),
        (&["-@all"], "-@all"),
        (&["-@string", "-@slow", "+@all"], "+@all"),
        (&["-@all", "+@HASH", "+@hash", "+@HaSh"], "-@all +@hash"),
        (&["-@all", "+HGET", "+hget", "+hGeT"], "-@all +hget"),
        (
            &[
                "-@all", "+@hash", "+@slow", "+@set", "+@set", "+@slow", "+@hash",
            ],
            "-@all +@set +@slow +@hash",
        ),
        (
            &["-@all", "+hget", "-hset", "+hset", "-hget"],
            "-@all +hset -hget",
        ),
        (
            &[
                "-@all",
                "+client|list",
                "+client|list",
                "+config|get",
                "+config",
                "+acl|list",
                "-acl",
            ],
            "-@all +client|list +config -acl",
        ),
        (&["-@all", "-@dangerous"], "-@all -@dangerous"),
        (
            &["-@all", "+config", "+config|get", "-config|set", "+config"],
            "-@all +config",
        ),
        (&["+@all", "-client|kill"], "+@all -client|kill"),
    ];
    expect(&mut c, &["ACL", "SETUSER", "adv-test"], ok()).await;
    for (rules, want) in cases {
        let mut argv = vec!["ACL", "SETUSER", "adv-test"];
        argv.extend_from_slice(rules);
        expect(&mut c, &argv, ok()).await;
        let u = getuser(&mut c, "adv-test").await;
        assert_eq!(
            field_text(&u, "commands"),
            *want,
            "commands after ACL SETUSER adv-test {rules:?}"
        );
    }
    // Each category alone, added to +@all or -@all, is shown as given.
    let categories = strings(&q(&mut c, &["ACL", "CAT"]).await);
    for cat in &categories {
        let minus = format!("-@{cat}");
        expect(
            &mut c,
            &["ACL", "SETUSER", "additive", "reset", "+@all", &minus],
            ok(),
        )
        .await;
        let u = getuser(&mut c, "additive").await;
        assert_eq!(field_text(&u, "commands"), format!("+@all -@{cat}"));
        let plus = format!("+@{cat}");
        expect(
            &mut c,
            &["ACL", "SETUSER", "restrictive", "reset", "-@all", &plus],
            ok(),
        )
        .await;
        let u = getuser(&mut c, "restrictive").await;
        assert_eq!(field_text(&u, "commands"), format!("-@all +@{cat}"));
    }
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

/// +cmd -cmd +cmd|sub +@cat -@cat allcommands nocommands on real commands.
#[tokio::test]
async fn command_rules_allow_and_refuse_commands() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ACL", "SETUSER", "cmds", "on", ">cpw", "~*", "&*", "-@all", "+get",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "cmds", "cpw").await;
    expect(&mut u, &["GET", "k"], nil()).await;
    expect_err(&mut u, &["SET", "k", "v"], &noperm_cmd("cmds", "set")).await;
    expect_err(&mut u, &["PING"], &noperm_cmd("cmds", "ping")).await;
    expect_err(
        &mut u,
        &["ACL", "WHOAMI"],
        &noperm_cmd("cmds", "acl|whoami"),
    )
    .await;
    expect_err(
        &mut u,
        &["CONFIG", "GET", "port"],
        &noperm_cmd("cmds", "config|get"),
    )
    .await;

    // allcommands -set
    expect(
        &mut c,
        &["ACL", "SETUSER", "cmds", "allcommands", "-set"],
        ok(),
    )
    .await;
    assert_eq!(
        field_text(&getuser(&mut c, "cmds").await, "commands"),
        "+@all -set"
    );
    expect_err(&mut u, &["SET", "k", "v"], &noperm_cmd("cmds", "set")).await;
    expect(&mut u, &["INCR", "n"], int(1)).await;
    expect(&mut u, &["PING"], simple("PONG")).await;

    // +@all -@string
    expect(
        &mut c,
        &["ACL", "SETUSER", "cmds", "+@all", "-@string"],
        ok(),
    )
    .await;
    assert_eq!(
        field_text(&getuser(&mut c, "cmds").await, "commands"),
        "+@all -@string"
    );
    expect(&mut u, &["SADD", "myset", "a", "b", "c"], int(3)).await;
    expect_err(&mut u, &["SET", "k", "v"], &noperm_cmd("cmds", "set")).await;
    expect_err(&mut u, &["GET", "k"], &noperm_cmd("cmds", "get")).await;
    expect_err(&mut u, &["INCR", "n"], &noperm_cmd("cmds", "incr")).await;

    // nocommands +@hash
    expect(
        &mut c,
        &["ACL", "SETUSER", "cmds", "nocommands", "+@hash"],
        ok(),
    )
    .await;
    expect(&mut u, &["HSET", "h", "f", "v"], int(1)).await;
    expect(&mut u, &["HGET", "h", "f"], b("v")).await;
    expect_err(&mut u, &["SADD", "myset", "d"], &noperm_cmd("cmds", "sadd")).await;

    // Subcommands: +client|id +client|setname allow just those.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "cmds",
            "nocommands",
            "+client|id",
            "+client|setname",
        ],
        ok(),
    )
    .await;
    assert_eq!(
        field_text(&getuser(&mut c, "cmds").await, "commands"),
        "-@all +client|id +client|setname"
    );
    assert!(matches!(q(&mut u, &["CLIENT", "ID"]).await, Value::Int(_)));
    expect(&mut u, &["CLIENT", "SETNAME", "foo"], ok()).await;
    expect_err(
        &mut u,
        &["CLIENT", "GETNAME"],
        &noperm_cmd("cmds", "client|getname"),
    )
    .await;
    expect_err(
        &mut u,
        &["CLIENT", "KILL", "ID", "123456"],
        &noperm_cmd("cmds", "client|kill"),
    )
    .await;

    // ...and -client|kill after +@all refuses just that one.
    expect(
        &mut c,
        &["ACL", "SETUSER", "cmds", "+@all", "-client|kill"],
        ok(),
    )
    .await;
    assert_eq!(
        field_text(&getuser(&mut c, "cmds").await, "commands"),
        "+@all -client|kill"
    );
    expect(&mut u, &["CLIENT", "GETNAME"], b("foo")).await;
    expect_err(
        &mut u,
        &["CLIENT", "KILL", "ID", "123456"],
        &noperm_cmd("cmds", "client|kill"),
    )
    .await;

    // A container command allows all its subcommands (port of "ACLs can exclude single
    // subcommands, case 2").
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "cmds",
            "-@all",
            "+acl",
            "+config",
            "-config|set",
        ],
        ok(),
    )
    .await;
    let cmds = field_text(&getuser(&mut c, "cmds").await, "commands");
    assert!(
        cmds.contains("+config") && cmds.contains("-config|set"),
        "{cmds}"
    );
    assert!(matches!(
        q(&mut u, &["CONFIG", "GET", "loglevel"]).await,
        Value::Array(_) | Value::Map(_)
    ));
    expect_err(
        &mut u,
        &["CONFIG", "SET", "loglevel", "debug"],
        &noperm_cmd("cmds", "config|set"),
    )
    .await;
    expect(&mut u, &["ACL", "WHOAMI"], b("cmds")).await;
}

/// Rules apply left to right: the last rule about a thing wins.
#[tokio::test]
async fn rules_apply_left_to_right() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ACL", "SETUSER", "lr", "on", ">lrpw", "~*", "&*", "+@all", "-get", "+get",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "lr", "lrpw").await;
    expect(&mut u, &["GET", "k"], nil()).await;
    expect(
        &mut c,
        &["ACL", "SETUSER", "lr", "-@all", "+get", "-get", "+set"],
        ok(),
    )
    .await;
    expect_err(&mut u, &["GET", "k"], &noperm_cmd("lr", "get")).await;
    expect(&mut u, &["SET", "k", "v"], ok()).await;
    // +@all then -@string: string commands refused; -@string then +@all: allowed.
    expect(&mut c, &["ACL", "SETUSER", "lr", "+@all", "-@string"], ok()).await;
    expect_err(&mut u, &["GET", "k"], &noperm_cmd("lr", "get")).await;
    expect(&mut c, &["ACL", "SETUSER", "lr", "-@string", "+@all"], ok()).await;
    expect(&mut u, &["GET", "k"], b("v")).await;
    // Keys: resetkeys after a pattern drops it; a pattern after resetkeys is kept.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "lr",
            "resetkeys",
            "~k",
            "resetkeys",
            "~other",
        ],
        ok(),
    )
    .await;
    expect_err(&mut u, &["GET", "k"], NOPERM_KEY).await;
    expect(
        &mut c,
        &["ACL", "SETUSER", "lr", "resetkeys", "~other", "allkeys"],
        ok(),
    )
    .await;
    expect(&mut u, &["GET", "k"], b("v")).await;
    // Channels likewise.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "lr",
            "allchannels",
            "resetchannels",
            "&news",
        ],
        ok(),
    )
    .await;
    expect(&mut u, &["PUBLISH", "news", "m"], int(0)).await;
    expect_err(&mut u, &["PUBLISH", "other", "m"], NOPERM_CHANNEL).await;
    assert_eq!(
        list_line(&mut c, "lr").await,
        format!(
            "user lr on sanitize-payload #{} ~* resetchannels &news +@all",
            sha256_hex("lrpw")
        )
    );
}

/// Bad rules: Redis's error texts, and nothing of the SETUSER is applied.
#[tokio::test]
async fn bad_rules_give_redis_errors_and_change_nothing() {
    let (node, mut c) = start().await;
    let adding_key = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    let adding_channel = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
    let bad_hash = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    let no_such_password = "The password you are trying to remove from the user does not exist";
    let unknown = "Unknown command or category name in ACL";
    let short_hash = "#34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e";
    let hash_with_q = "#34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4eq";
    let upper_hash = format!("#{}", sha256_hex("x").to_uppercase());
    let unknown_hash = format!("!{}", "0".repeat(64));
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["bogus"], setuser_err("bogus", "Syntax error")),
        (vec!["+nosuch"], setuser_err("+nosuch", unknown)),
        (vec!["-nosuch"], setuser_err("-nosuch", unknown)),
        (vec!["+@nosuch"], setuser_err("+@nosuch", unknown)),
        (vec!["-@nosuch"], setuser_err("-@nosuch", unknown)),
        (vec!["+config|asdf"], setuser_err("+config|asdf", unknown)),
        (
            vec!["+get|key1|key2"],
            setuser_err("+get|key1|key2", unknown),
        ),
        (
            vec!["+config|get|appendonly"],
            setuser_err(
                "+config|get|appendonly",
                "Allowing first-arg of a subcommand is not supported",
            ),
        ),
        (vec![short_hash], setuser_err(short_hash, bad_hash)),
        (vec![hash_with_q], setuser_err(hash_with_q, bad_hash)),
        (vec![&upper_hash], setuser_err(&upper_hash, bad_hash)),
        (vec!["!abc"], setuser_err("!abc", bad_hash)),
        (
            vec![&unknown_hash],
            setuser_err(&unknown_hash, no_such_password),
        ),
        // A plaintext password is never echoed.
        (
            vec!["<notapassword"],
            setuser_err("<redacted>", no_such_password),
        ),
        (vec!["allkeys", "~x"], setuser_err("~x", adding_key)),
        (vec!["~*", "~x"], setuser_err("~x", adding_key)),
        (vec!["allchannels", "&x"], setuser_err("&x", adding_channel)),
        (vec!["%X~foo"], setuser_err("%X~foo", "Syntax error")),
        (vec!["%~foo"], setuser_err("%~foo", "Syntax error")),
        (
            vec!["(this-is-invalid)"],
            setuser_err("(this-is-invalid)", "Syntax error"),
        ),
        (vec![")"], setuser_err(")", "Syntax error")),
        (
            vec!["("],
            "ERR Unmatched parenthesis in acl selector starting at '('.".to_string(),
        ),
        (
            vec!["(~a", "+get"],
            "ERR Unmatched parenthesis in acl selector starting at '(~a'.".to_string(),
        ),
    ];
    for (rules, want) in &cases {
        let mut argv = vec!["ACL", "SETUSER", "errs"];
        argv.extend(rules.iter().copied());
        expect_err(&mut c, &argv, want).await;
    }
    // None of those created the user.
    expect(&mut c, &["ACL", "GETUSER", "errs"], nil()).await;
    expect(&mut c, &["ACL", "USERS"], bulks(&["default"])).await;

    // All or nothing on an existing user: good rules before a bad one are not applied.
    expect(
        &mut c,
        &[
            "ACL", "SETUSER", "aon", "on", ">aonpw", "~aon:*", "-@all", "+get",
        ],
        ok(),
    )
    .await;
    let before = list_line(&mut c, "aon").await;
    expect_err(
        &mut c,
        &[
            "ACL", "SETUSER", "aon", "off", ">newpw", "+set", "~more", "+nosuch",
        ],
        &setuser_err("+nosuch", unknown),
    )
    .await;
    assert_eq!(
        list_line(&mut c, "aon").await,
        before,
        "a failed SETUSER changed the user"
    );
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"aon", b"newpw"]).await),
        format!("-{WRONGPASS}\r\n"),
        "the password of a failed SETUSER was added"
    );
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"aon", b"aonpw"]).await),
        "+OK\r\n",
        "the user was turned off by a failed SETUSER"
    );
    assert_eq!(
        show(&raw.call(&[b"SET", b"k", b"v"]).await),
        format!("-{}\r\n", noperm_cmd("aon", "set"))
    );
    // A failed SETUSER of a new user does not create it.
    expect_err(
        &mut c,
        &["ACL", "SETUSER", "ghost", "on", ">ghostpw", "+@all", "(~x"],
        "ERR Unmatched parenthesis in acl selector starting at '(~x'.",
    )
    .await;
    expect(&mut c, &["ACL", "GETUSER", "ghost"], nil()).await;
    expect(&mut c, &["ACL", "USERS"], bulks(&["aon", "default"])).await;
}

/// %R~ / %W~ / ~ patterns on real commands (port of acl-v2.tcl "Test separate read/write
/// permission" and the brief's COPY / SINTERSTORE cases).
#[tokio::test]
async fn key_patterns_by_access() {
    let (node, mut c) = start().await;
    expect(&mut c, &["SET", "ro:str", "bar"], ok()).await;
    expect(&mut c, &["SADD", "ro:a", "x", "y"], int(2)).await;
    expect(&mut c, &["SADD", "ro:b", "y", "z"], int(2)).await;
    expect(
        &mut c,
        &[
            "ACL", "SETUSER", "kp", "on", ">kppw", "+@all", "&*", "%R~ro:*", "%W~wo:*", "%RW~rw:*",
        ],
        ok(),
    )
    .await;
    assert_eq!(
        field_text(&getuser(&mut c, "kp").await, "keys"),
        "%R~ro:* %W~wo:* ~rw:*"
    );
    let mut u = login(&node, "kp", "kppw").await;
    expect(&mut u, &["PING"], simple("PONG")).await;
    // Read-only pattern: reads yes, writes no.
    expect(&mut u, &["GET", "ro:str"], b("bar")).await;
    expect(&mut u, &["SMEMBERS", "ro:nothing"], arr(vec![])).await;
    expect_err(&mut u, &["SET", "ro:str", "v"], NOPERM_KEY).await;
    expect_err(&mut u, &["DEL", "ro:str"], NOPERM_KEY).await;
    expect_err(&mut u, &["APPEND", "ro:str", "x"], NOPERM_KEY).await;
    // Write-only pattern: inserts yes, reads no.
    expect(&mut u, &["LPUSH", "wo:list", "10"], int(1)).await;
    expect_err(&mut u, &["GET", "wo:str"], NOPERM_KEY).await;
    expect_err(&mut u, &["LRANGE", "wo:list", "0", "-1"], NOPERM_KEY).await;
    // Neither.
    expect_err(&mut u, &["GET", "other"], NOPERM_KEY).await;
    expect_err(&mut u, &["LPUSH", "notwrite", "10"], NOPERM_KEY).await;
    // ~ is both.
    expect(&mut u, &["SET", "rw:x", "1"], ok()).await;
    expect(&mut u, &["GET", "rw:x"], b("1")).await;
    // Multi-key commands: every key is checked.
    expect(&mut u, &["MGET", "ro:str", "rw:x"], bulks(&["bar", "1"])).await;
    expect_err(&mut u, &["MGET", "ro:str", "other"], NOPERM_KEY).await;
    // COPY reads its source and writes its destination.
    expect(&mut u, &["COPY", "ro:str", "wo:copy"], int(1)).await;
    expect_err(&mut u, &["COPY", "wo:copy", "ro:copy2"], NOPERM_KEY).await;
    expect_err(&mut u, &["COPY", "ro:str", "ro:copy3"], NOPERM_KEY).await;
    expect(&mut c, &["GET", "wo:copy"], b("bar")).await;
    // SINTERSTORE likewise: destination written, sources read.
    expect(&mut u, &["SINTERSTORE", "wo:dst", "ro:a", "ro:b"], int(1)).await;
    expect(&mut c, &["SMEMBERS", "wo:dst"], bulks(&["y"])).await;
    expect_err(
        &mut u,
        &["SINTERSTORE", "ro:dst", "ro:a", "ro:b"],
        NOPERM_KEY,
    )
    .await;
    expect_err(
        &mut u,
        &["SINTERSTORE", "wo:dst", "wo:list", "ro:a"],
        NOPERM_KEY,
    )
    .await;
    expect(&mut c, &["EXISTS", "ro:dst"], int(0)).await;
    // Nothing refused was done.
    expect(&mut c, &["GET", "ro:str"], b("bar")).await;
    expect(&mut c, &["EXISTS", "ro:copy2", "ro:copy3"], int(0)).await;
    // A user without key patterns reaches no key, whatever the command (acl.tcl "By default
    // users are not able to access any key").
    expect(
        &mut c,
        &["ACL", "SETUSER", "nokeys", "on", ">nkpw", "+set", "+ping"],
        ok(),
    )
    .await;
    let mut nk = login(&node, "nokeys", "nkpw").await;
    expect_err(&mut nk, &["SET", "foo", "bar"], NOPERM_KEY).await;
    expect(&mut nk, &["PING"], simple("PONG")).await;
    expect(
        &mut c,
        &["ACL", "SETUSER", "nokeys", "~foo:*", "~bar:*"],
        ok(),
    )
    .await;
    expect(&mut nk, &["SET", "foo:1", "a"], ok()).await;
    expect(&mut nk, &["SET", "bar:2", "b"], ok()).await;
    expect_err(&mut nk, &["SET", "zap:3", "c"], NOPERM_KEY).await;
}

/// &pattern rules on PUBLISH, SUBSCRIBE (glob match) and PSUBSCRIBE (literal match).
#[tokio::test]
async fn channel_patterns_on_publish_and_subscribe() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "ps",
            "on",
            ">pspw",
            "~*",
            "+@all",
            "resetchannels",
            "&news.*",
            "&exact",
        ],
        ok(),
    )
    .await;
    assert_eq!(
        field_text(&getuser(&mut c, "ps").await, "channels"),
        "&news.* &exact"
    );
    let mut u = login(&node, "ps", "pspw").await;
    expect(&mut u, &["PUBLISH", "news.1", "m"], int(0)).await;
    expect(&mut u, &["PUBLISH", "exact", "m"], int(0)).await;
    expect_err(&mut u, &["PUBLISH", "other", "m"], NOPERM_CHANNEL).await;
    expect_err(&mut u, &["PUBLISH", "exact2", "m"], NOPERM_CHANNEL).await;

    let mut sub = raw_auth(&node, &["ps", "pspw"]).await;
    assert_eq!(
        show(&sub.call(&[b"SUBSCRIBE", b"news.1"]).await),
        "*3\r\n$9\r\nsubscribe\r\n$6\r\nnews.1\r\n:1\r\n"
    );
    assert_eq!(
        show(&sub.call(&[b"SUBSCRIBE", b"other"]).await),
        format!("-{NOPERM_CHANNEL}\r\n")
    );
    // PSUBSCRIBE needs the pattern itself among the allowed ones.
    assert_eq!(
        show(&sub.call(&[b"PSUBSCRIBE", b"news.*"]).await),
        "*3\r\n$10\r\npsubscribe\r\n$6\r\nnews.*\r\n:2\r\n"
    );
    assert_eq!(
        show(&sub.call(&[b"PSUBSCRIBE", b"news.1"]).await),
        format!("-{NOPERM_CHANNEL}\r\n"),
        "PSUBSCRIBE of a channel matching an allowed pattern is not the pattern itself"
    );
    assert_eq!(
        show(&sub.call(&[b"PSUBSCRIBE", b"n*"]).await),
        format!("-{NOPERM_CHANNEL}\r\n")
    );
    // The subscriptions that were allowed work.
    q(&mut c, &["PUBLISH", "news.1", "hello"]).await;
    assert_eq!(
        show(
            &sub.try_read_reply(Duration::from_secs(5))
                .await
                .expect("message")
        ),
        "*3\r\n$7\r\nmessage\r\n$6\r\nnews.1\r\n$5\r\nhello\r\n"
    );
    assert_eq!(
        show(
            &sub.try_read_reply(Duration::from_secs(5))
                .await
                .expect("pmessage")
        ),
        "*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$6\r\nnews.1\r\n$5\r\nhello\r\n"
    );
    // A user with no channel rule (a new user) reaches no channel; allchannels reaches all.
    expect(
        &mut c,
        &["ACL", "SETUSER", "nochan", "on", ">ncpw", "~*", "+@all"],
        ok(),
    )
    .await;
    let mut nc = login(&node, "nochan", "ncpw").await;
    expect_err(&mut nc, &["PUBLISH", "foo", "bar"], NOPERM_CHANNEL).await;
    expect(&mut c, &["ACL", "SETUSER", "nochan", "allchannels"], ok()).await;
    expect(&mut nc, &["PUBLISH", "foo", "bar"], int(0)).await;
    // In a transaction, a refused PUBLISH is refused when queued.
    expect(&mut u, &["MULTI"], ok()).await;
    expect_err(&mut u, &["PUBLISH", "notallowed", "x"], NOPERM_CHANNEL).await;
    expect_err(
        &mut u,
        &["EXEC"],
        "EXECABORT Transaction discarded because of previous errors.",
    )
    .await;
}

/// Selectors: a command allowed only through a selector, on the selector's keys (port of
/// acl-v2.tcl "Test basic multiple selectors" and "...not additive").
#[tokio::test]
async fn selectors_allow_commands_on_their_own_keys() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "selector-1",
            "on",
            "-@all",
            "resetkeys",
            "nopass",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "selector-1", "password").await;
    expect_err(&mut u, &["PING"], &noperm_cmd("selector-1", "ping")).await;
    expect_err(
        &mut u,
        &["SET", "write::foo", "bar"],
        &noperm_cmd("selector-1", "set"),
    )
    .await;
    expect_err(
        &mut u,
        &["GET", "read::foo"],
        &noperm_cmd("selector-1", "get"),
    )
    .await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "selector-1",
            "(+@write ~write::*)",
            "(+@read ~read::*)",
        ],
        ok(),
    )
    .await;
    expect_err(&mut u, &["PING"], &noperm_cmd("selector-1", "ping")).await;
    expect(&mut u, &["SET", "write::foo", "bar"], ok()).await;
    expect(&mut u, &["GET", "read::foo"], nil()).await;
    expect_err(&mut u, &["GET", "write::foo"], NOPERM_KEY).await;
    expect_err(&mut u, &["SET", "read::foo", "bar"], NOPERM_KEY).await;
    expect(&mut c, &["GET", "write::foo"], b("bar")).await;
    expect(&mut c, &["EXISTS", "read::foo"], int(0)).await;

    // A root that allows SET on own:*, and GET only through a selector on shared:*.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "sel2",
            "on",
            ">s2pw",
            "~own:*",
            "&*",
            "-@all",
            "+set",
            "(+get ~shared:* resetchannels)",
        ],
        ok(),
    )
    .await;
    assert_eq!(
        list_line(&mut c, "sel2").await,
        format!(
            "user sel2 on sanitize-payload #{} ~own:* &* -@all +set (~shared:* resetchannels -@all +get)",
            sha256_hex("s2pw")
        )
    );
    let mut s2 = login(&node, "sel2", "s2pw").await;
    expect(&mut s2, &["SET", "own:1", "a"], ok()).await;
    expect(&mut c, &["SET", "shared:1", "s"], ok()).await;
    expect(&mut s2, &["GET", "shared:1"], b("s")).await;
    expect_err(&mut s2, &["GET", "own:1"], NOPERM_KEY).await;
    expect_err(&mut s2, &["SET", "shared:1", "x"], NOPERM_KEY).await;
    expect_err(&mut s2, &["INCR", "own:1"], &noperm_cmd("sel2", "incr")).await;
    expect(&mut c, &["GET", "shared:1"], b("s")).await;
    // clearselectors takes the selector's grant away.
    expect(&mut c, &["ACL", "SETUSER", "sel2", "clearselectors"], ok()).await;
    expect_err(&mut s2, &["GET", "shared:1"], &noperm_cmd("sel2", "get")).await;

    // Read and write permissions of different selectors do not add up.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "rw-sel",
            "on",
            "nopass",
            "(%R~read* +@all)",
            "(%W~write* +@all)",
        ],
        ok(),
    )
    .await;
    let mut rw = login(&node, "rw-sel", "x").await;
    expect(&mut rw, &["LPUSH", "writelist", "10"], int(1)).await;
    expect_err(&mut rw, &["GET", "writestr"], NOPERM_KEY).await;
    expect_err(&mut rw, &["LPUSH", "notwrite", "10"], NOPERM_KEY).await;
    expect(&mut c, &["SET", "readstr", "bar"], ok()).await;
    expect(&mut rw, &["GET", "readstr"], b("bar")).await;
    expect_err(&mut rw, &["SET", "readstr", "bar"], NOPERM_KEY).await;
    expect_err(&mut rw, &["GET", "notread"], NOPERM_KEY).await;
    expect_err(&mut rw, &["COPY", "readstr", "writestr"], NOPERM_KEY).await;
    expect_err(&mut rw, &["COPY", "writelist", "readstr2"], NOPERM_KEY).await;
    // The same patterns in one selector do add up.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "rw-one",
            "on",
            "nopass",
            "%R~read*",
            "%W~write*",
            "+@all",
        ],
        ok(),
    )
    .await;
    let mut one = login(&node, "rw-one", "x").await;
    expect(&mut one, &["COPY", "readstr", "writestr"], int(1)).await;
    expect_err(&mut one, &["COPY", "writestr", "readstr"], NOPERM_KEY).await;
}

#[tokio::test]
async fn dryrun_says_ok_or_why_not() {
    let (_node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "command-test",
            "+@all",
            "%R~read*",
            "%W~write*",
            "%RW~rw*",
        ],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "GET", "read"],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "SET", "rw1", "v"],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "SET", "read", "v"],
        b("User command-test has no permissions to access the 'read' key"),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "GET", "write"],
        b("User command-test has no permissions to access the 'write' key"),
    )
    .await;
    expect_err(
        &mut c,
        &["ACL", "DRYRUN", "not-a-user", "GET", "read"],
        "ERR User 'not-a-user' not found",
    )
    .await;
    expect_err(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "not-a-command", "read"],
        "ERR Command 'not-a-command' not found",
    )
    .await;
    // Commands that process the data of their keys need read access (acl-v2.tcl
    // "Intersection cardinality commands are access commands").
    expect(
        &mut c,
        &[
            "ACL",
            "DRYRUN",
            "command-test",
            "SINTERCARD",
            "2",
            "read",
            "read",
        ],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &[
            "ACL",
            "DRYRUN",
            "command-test",
            "SINTERCARD",
            "2",
            "write",
            "read",
        ],
        b("User command-test has no permissions to access the 'write' key"),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "command-test", "ZCOUNT", "read", "0", "1"],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &[
            "ACL",
            "DRYRUN",
            "command-test",
            "ZCOUNT",
            "nothing",
            "0",
            "1",
        ],
        b("User command-test has no permissions to access the 'nothing' key"),
    )
    .await;
    // Existence tests need read or write access (acl-v2.tcl "Existence test commands are not
    // marked as access").
    for cmd in ["HEXISTS", "SISMEMBER"] {
        expect(
            &mut c,
            &["ACL", "DRYRUN", "command-test", cmd, "read", "foo"],
            ok(),
        )
        .await;
        expect(
            &mut c,
            &["ACL", "DRYRUN", "command-test", cmd, "write", "foo"],
            ok(),
        )
        .await;
        expect(
            &mut c,
            &["ACL", "DRYRUN", "command-test", cmd, "nothing", "foo"],
            b("User command-test has no permissions to access the 'nothing' key"),
        )
        .await;
    }
    // Command and channel refusals.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "dry",
            "on",
            "nopass",
            "~*",
            "-@all",
            "+get",
            "+publish",
            "resetchannels",
            "&ok",
        ],
        ok(),
    )
    .await;
    expect(&mut c, &["ACL", "DRYRUN", "dry", "GET", "k"], ok()).await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "dry", "SET", "k", "v"],
        b("User dry has no permissions to run the 'set' command"),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "dry", "CONFIG", "GET", "port"],
        b("User dry has no permissions to run the 'config|get' command"),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "dry", "PUBLISH", "ok", "m"],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &["ACL", "DRYRUN", "dry", "PUBLISH", "bar", "m"],
        b("User dry has no permissions to access the 'bar' channel"),
    )
    .await;
    // DRYRUN runs nothing and logs nothing.
    expect(&mut c, &["EXISTS", "k"], int(0)).await;
    assert_eq!(
        acl_log(&mut c, &[]).await.len(),
        0,
        "DRYRUN wrote to ACL LOG"
    );
}

#[tokio::test]
async fn acl_cat_lists_categories_and_their_commands() {
    let (_node, mut c) = start().await;
    let cats = strings(&q(&mut c, &["ACL", "CAT"]).await);
    for want in [
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "fast",
        "slow",
        "pubsub",
        "admin",
        "dangerous",
        "connection",
        "transaction",
    ] {
        assert!(
            cats.iter().any(|c| c == want),
            "ACL CAT lacks {want}: {cats:?}"
        );
    }
    let string = strings(&q(&mut c, &["ACL", "CAT", "string"]).await);
    for want in ["get", "set", "incr", "append"] {
        assert!(
            string.iter().any(|c| c == want),
            "ACL CAT string lacks {want}: {string:?}"
        );
    }
    assert!(!string.iter().any(|c| c == "hset"), "{string:?}");
    let tx = strings(&q(&mut c, &["ACL", "CAT", "transaction"]).await);
    assert!(tx.iter().any(|c| c == "multi"), "{tx:?}");
    let keyspace = strings(&q(&mut c, &["ACL", "CAT", "keyspace"]).await);
    assert!(keyspace.iter().any(|c| c == "del"), "{keyspace:?}");
    assert!(!keyspace.iter().any(|c| c == "set"), "{keyspace:?}");
    // Category names are case-insensitive.
    let upper = strings(&q(&mut c, &["ACL", "CAT", "STRING"]).await);
    assert_eq!(sorted(upper), sorted(string));
    expect_err(
        &mut c,
        &["ACL", "CAT", "NON_EXISTS"],
        "ERR Unknown category 'NON_EXISTS'",
    )
    .await;
    expect_err(
        &mut c,
        &["ACL", "CAT", "NON_EXISTS", "NON_EXISTS2"],
        "ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.",
    )
    .await;
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
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

/// Port of acl.tcl's ACL LOG tests (Redis 7.2 fields).
#[tokio::test]
async fn acl_log_records_command_key_channel_and_auth_denials() {
    let (node, mut c) = start().await;
    expect(&mut c, &["ACL", "LOG", "RESET"], ok()).await;
    assert_eq!(acl_log(&mut c, &[]).await.len(), 0);
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "antirez",
            ">foo",
            "on",
            "+set",
            "~object:1234",
            "+multi",
            "+exec",
            "resetchannels",
            "+publish",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "antirez", "foo").await;
    expect_err(&mut u, &["GET", "foo"], &noperm_cmd("antirez", "get")).await;
    let log = acl_log(&mut c, &[]).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let e = &log[0];
    assert_eq!(
        field_names(e),
        [
            "count",
            "reason",
            "context",
            "object",
            "username",
            "age-seconds",
            "client-info",
            "entry-id",
            "timestamp-created",
            "timestamp-last-updated"
        ]
    );
    assert_eq!(field_int(e, "count"), 1);
    assert_eq!(field_text(e, "reason"), "command");
    assert_eq!(field_text(e, "context"), "toplevel");
    assert_eq!(field_text(e, "object"), "get");
    assert_eq!(field_text(e, "username"), "antirez");
    let age: f64 = field_text(e, "age-seconds")
        .parse()
        .expect("age-seconds is a number");
    assert!((0.0..60.0).contains(&age), "age-seconds {age}");
    let info = field_text(e, "client-info");
    assert!(info.contains("cmd=get"), "client-info: {info}");
    assert!(info.contains("user=antirez"), "client-info: {info}");
    assert!(info.contains("addr=127.0.0.1:"), "client-info: {info}");
    let first_id = field_int(e, "entry-id");
    let created = field_int(e, "timestamp-created");
    assert_eq!(field_int(e, "timestamp-last-updated"), created);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    assert!(
        (now_ms - 60_000..=now_ms + 1000).contains(&created),
        "timestamp-created {created} is not about now ({now_ms}), in ms"
    );

    // The same denial again: one entry, counted, updated.
    tokio::time::sleep(Duration::from_millis(20)).await;
    expect_err(&mut u, &["GET", "foo"], &noperm_cmd("antirez", "get")).await;
    expect_err(&mut u, &["GET", "foo"], &noperm_cmd("antirez", "get")).await;
    let log = acl_log(&mut c, &[]).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(field_int(&log[0], "count"), 3);
    assert_eq!(field_int(&log[0], "entry-id"), first_id);
    assert_eq!(field_int(&log[0], "timestamp-created"), created);
    assert!(
        field_int(&log[0], "timestamp-last-updated") > created,
        "timestamp-last-updated did not move: {log:?}"
    );

    // A key denial names the key.
    expect_err(&mut u, &["SET", "somekeynotallowed", "1234"], NOPERM_KEY).await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "reason"), "key");
    assert_eq!(field_text(e, "object"), "somekeynotallowed");
    assert_eq!(field_text(e, "username"), "antirez");
    assert_eq!(field_int(e, "entry-id"), first_id + 1);
    assert!(field_text(e, "client-info").contains("cmd=set"));

    // A channel denial names the channel.
    expect_err(
        &mut u,
        &["PUBLISH", "somechannelnotallowed", "nullmsg"],
        NOPERM_CHANNEL,
    )
    .await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "reason"), "channel");
    assert_eq!(field_text(e, "object"), "somechannelnotallowed");
    assert_eq!(field_int(e, "entry-id"), first_id + 2);

    // Newest first; ACL LOG <n> shows the n newest.
    let log = acl_log(&mut c, &[]).await;
    let reasons: Vec<String> = log.iter().map(|e| field_text(e, "reason")).collect();
    assert_eq!(reasons, ["channel", "key", "command"]);
    let one = acl_log(&mut c, &["1"]).await;
    assert_eq!(one.len(), 1);
    assert_eq!(field_text(&one[0], "reason"), "channel");
    assert_eq!(acl_log(&mut c, &["2"]).await.len(), 2);

    // Inside MULTI: refused when queued, context multi.
    expect(&mut u, &["MULTI"], ok()).await;
    expect_err(&mut u, &["INCR", "foo"], &noperm_cmd("antirez", "incr")).await;
    expect_err(
        &mut u,
        &["EXEC"],
        "EXECABORT Transaction discarded because of previous errors.",
    )
    .await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "context"), "multi");
    assert_eq!(field_text(e, "object"), "incr");
    assert_eq!(field_text(e, "reason"), "command");

    // A failed AUTH: reason auth, object AUTH, the user name tried.
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"antirez", b"wrong-password"]).await),
        format!("-{WRONGPASS}\r\n")
    );
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "context"), "toplevel");
    assert_eq!(field_text(e, "reason"), "auth");
    assert_eq!(field_text(e, "object"), "AUTH");
    assert_eq!(field_text(e, "username"), "antirez");
    assert_eq!(field_int(e, "count"), 1);
    // A failed AUTH for a user that does not exist is logged too.
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"notrealuser", b"1233456"]).await),
        format!("-{WRONGPASS}\r\n")
    );
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "reason"), "auth");
    assert_eq!(field_text(e, "username"), "notrealuser");
    // The log never shows a password.
    let whole = format!("{:?}", q(&mut c, &["ACL", "LOG"]).await);
    assert!(
        !whole.contains("wrong-password") && !whole.contains("1233456"),
        "{whole}"
    );

    expect(&mut c, &["ACL", "LOG", "RESET"], ok()).await;
    assert_eq!(acl_log(&mut c, &[]).await.len(), 0);
}

/// Port of acl-v2.tcl "Test ACL log correctly identifies the relevant item when selectors are
/// used".
#[tokio::test]
async fn acl_log_names_the_relevant_item_with_selectors() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &["ACL", "SETUSER", "acl-log-test-selector", "on", "nopass"],
        ok(),
    )
    .await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "acl-log-test-selector",
            "+mget",
            "~key",
            "(+mget ~key ~otherkey)",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "acl-log-test-selector", "password").await;
    expect(&mut c, &["ACL", "LOG", "RESET"], ok()).await;
    expect_err(
        &mut u,
        &["GET", "key"],
        &noperm_cmd("acl-log-test-selector", "get"),
    )
    .await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "username"), "acl-log-test-selector");
    assert_eq!(field_text(e, "context"), "toplevel");
    assert_eq!(field_text(e, "reason"), "command");
    assert_eq!(field_text(e, "object"), "get");

    expect(&mut c, &["ACL", "LOG", "RESET"], ok()).await;
    expect_err(&mut u, &["MGET", "otherkey", "someotherkey"], NOPERM_KEY).await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "reason"), "key");
    assert_eq!(field_text(e, "object"), "someotherkey");

    expect(&mut c, &["ACL", "LOG", "RESET"], ok()).await;
    expect_err(
        &mut u,
        &["MGET", "key", "otherkey", "someotherkey"],
        NOPERM_KEY,
    )
    .await;
    let e = &acl_log(&mut c, &[]).await[0];
    assert_eq!(field_text(e, "reason"), "key");
    assert_eq!(field_text(e, "object"), "someotherkey");
}

/// INFO stats counts each kind of denial (port of acl.tcl "ACL-Metrics ...").
#[tokio::test]
async fn info_stats_counts_denials_by_kind() {
    let (node, mut c) = start().await;
    let names = [
        "acl_access_denied_auth",
        "acl_access_denied_cmd",
        "acl_access_denied_key",
        "acl_access_denied_channel",
    ];
    async fn counters(c: &mut MultiplexedConnection, names: &[&str]) -> Vec<i64> {
        let mut out = Vec::new();
        for n in names {
            out.push(info_number(c, "stats", n).await);
        }
        out
    }
    let start_counts = counters(&mut c, &names).await;
    assert_eq!(
        start_counts,
        [0, 0, 0, 0],
        "a fresh node has denied nothing"
    );

    // Auth: AUTH, HELLO 3 AUTH and HELLO 2 AUTH failures.
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"notrealuser", b"1233456"]).await),
        format!("-{WRONGPASS}\r\n")
    );
    assert_eq!(counters(&mut c, &names).await, [1, 0, 0, 0]);
    assert_eq!(
        show(
            &raw.call(&[b"HELLO", b"3", b"AUTH", b"notrealuser", b"1233456"])
                .await
        ),
        format!("-{WRONGPASS}\r\n")
    );
    assert_eq!(
        show(
            &raw.call(&[b"HELLO", b"2", b"AUTH", b"notrealuser", b"1233456"])
                .await
        ),
        format!("-{WRONGPASS}\r\n")
    );
    assert_eq!(counters(&mut c, &names).await, [3, 0, 0, 0]);

    // Command.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "invalidcmduser",
            "on",
            ">passwd",
            "nocommands",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "invalidcmduser", "passwd").await;
    expect_err(
        &mut u,
        &["ACL", "LIST"],
        &noperm_cmd("invalidcmduser", "acl|list"),
    )
    .await;
    assert_eq!(counters(&mut c, &names).await, [3, 1, 0, 0]);

    // Key.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "invalidkeyuser",
            "on",
            ">passwd",
            "resetkeys",
            "allcommands",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "invalidkeyuser", "passwd").await;
    expect_err(&mut u, &["GET", "x"], NOPERM_KEY).await;
    assert_eq!(counters(&mut c, &names).await, [3, 1, 1, 0]);

    // Channel.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "invalidchanneluser",
            "on",
            ">passwd",
            "resetchannels",
            "allcommands",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "invalidchanneluser", "passwd").await;
    expect_err(&mut u, &["PUBLISH", "x", "m"], NOPERM_CHANNEL).await;
    assert_eq!(counters(&mut c, &names).await, [3, 1, 1, 1]);
    // DRYRUN is not a denial.
    let _ = q(&mut c, &["ACL", "DRYRUN", "invalidcmduser", "GET", "x"]).await;
    assert_eq!(counters(&mut c, &names).await, [3, 1, 1, 1]);
}

/// Redis 7's reply, at EXEC, for a queued command the rules no longer allow.
fn changed_since_queued(reason: &str) -> String {
    format!("-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}\r\n")
}

/// Queues CONFIG SET maxclients 4242, CLIENT KILL ID <victim> and SET k v in a MULTI of user
/// `u` (+@all ~*), runs `between` on an admin connection, then EXEC. The raw EXEC reply,
/// with the admin connection and the victim's connection.
async fn exec_after(between: &[&str]) -> (NodeProcess, MultiplexedConnection, RawConn, String) {
    let (node, mut admin) = start().await;
    expect(
        &mut admin,
        &["ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*"],
        ok(),
    )
    .await;
    let mut victim = RawConn::connect(node.port()).await;
    let reply = show(&victim.call(&[b"CLIENT", b"ID"]).await);
    let victim_id = reply
        .strip_prefix(':')
        .and_then(|r| r.trim_end().parse::<i64>().ok())
        .unwrap_or_else(|| panic!("CLIENT ID replied {reply:?}"))
        .to_string();
    let mut u = raw_auth(&node, &["u", "pw"]).await;
    assert_eq!(show(&u.call(&[b"MULTI"]).await), "+OK\r\n");
    for cmd in [
        &[&b"CONFIG"[..], b"SET", b"maxclients", b"4242"][..],
        &[b"CLIENT", b"KILL", b"ID", victim_id.as_bytes()],
        &[b"SET", b"k", b"v"],
    ] {
        assert_eq!(show(&u.call(cmd).await), "+QUEUED\r\n", "{cmd:?}");
    }
    expect(&mut admin, &["ACL", "LOG", "RESET"], ok()).await;
    if !between.is_empty() {
        expect(&mut admin, between, ok()).await;
    }
    let exec = show(&u.call(&[b"EXEC"]).await);
    (node, admin, victim, exec)
}

#[tokio::test]
async fn exec_refuses_queued_server_commands_whose_rights_were_revoked() {
    let (node, mut admin, mut victim, exec) =
        exec_after(&["ACL", "SETUSER", "u", "-config", "-client", "-set"]).await;
    let refused = changed_since_queued("no permission to execute the command or subcommand");
    assert_eq!(
        exec,
        format!("*3\r\n{refused}{refused}{refused}"),
        "EXEC after the revocation\n{}",
        node.diagnostics()
    );
    // None of them ran.
    expect(
        &mut admin,
        &["CONFIG", "GET", "maxclients"],
        bulks(&["maxclients", "10000"]),
    )
    .await;
    assert_eq!(show(&victim.call(&[b"PING"]).await), "+PONG\r\n");
    expect(&mut admin, &["EXISTS", "k"], int(0)).await;
    // Each refusal is in ACL LOG, in context multi, in the order EXEC met them.
    let log = acl_log(&mut admin, &[]).await;
    let described: Vec<(String, String, String, String)> = log
        .iter()
        .map(|e| {
            (
                field_text(e, "reason"),
                field_text(e, "context"),
                field_text(e, "object"),
                field_text(e, "username"),
            )
        })
        .collect();
    let entry = |object: &str| {
        (
            "command".to_string(),
            "multi".to_string(),
            object.to_string(),
            "u".to_string(),
        )
    };
    assert_eq!(
        described,
        [entry("set"), entry("client|kill"), entry("config|set")]
    );
}

#[tokio::test]
async fn exec_runs_queued_server_commands_when_nothing_was_revoked() {
    let (node, mut admin, mut victim, exec) = exec_after(&[]).await;
    assert_eq!(
        exec,
        "*3\r\n+OK\r\n:1\r\n+OK\r\n",
        "EXEC with the rights unchanged\n{}",
        node.diagnostics()
    );
    expect(
        &mut admin,
        &["CONFIG", "GET", "maxclients"],
        bulks(&["maxclients", "4242"]),
    )
    .await;
    // The killed client's connection is closed.
    victim.read_until_closed(Duration::from_secs(10)).await;
    expect(&mut admin, &["GET", "k"], b("v")).await;
    assert_eq!(acl_log(&mut admin, &[]).await.len(), 0);
}
