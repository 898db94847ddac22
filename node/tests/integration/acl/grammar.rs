//! The rule grammar as ACL LIST and ACL GETUSER show it: every rule, selectors, lines that
//! round-trip through ACL SETUSER, compaction of command rules, and bad rules.

use crate::acl_common::*;
use crate::common::*;

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
    expect_each(
        &mut u,
        &[
            (&["GET", "foo1"], Ok(nil())),
            (&["GET", "bar1"], Err(NOPERM_KEY)),
            (&["HGET", "baz1", "f"], Ok(nil())),
            (&["HDEL", "baz1", "f"], Err(&noperm_cmd("copy", "hdel"))),
        ],
    )
    .await;
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
    expect_each(
        &mut c,
        &[
            (
                &["ACL", "SETUSER", "ghost", "on", ">ghostpw", "+@all", "(~x"],
                Err("ERR Unmatched parenthesis in acl selector starting at '(~x'."),
            ),
            (&["ACL", "GETUSER", "ghost"], Ok(nil())),
            (&["ACL", "USERS"], Ok(bulks(&["aon", "default"]))),
        ],
    )
    .await;
}
