//! Command rules on real commands (+cmd, -cmd, +cmd|sub, +@cat, allcommands, nocommands),
//! the order rules apply in, and ACL CAT's categories.

use crate::acl_common::*;
use crate::common::*;

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
    expect_each(
        &mut u,
        &[
            (&["GET", "k"], Ok(nil())),
            (&["SET", "k", "v"], Err(&noperm_cmd("cmds", "set"))),
            (&["PING"], Err(&noperm_cmd("cmds", "ping"))),
            (&["ACL", "WHOAMI"], Err(&noperm_cmd("cmds", "acl|whoami"))),
            (
                &["CONFIG", "GET", "port"],
                Err(&noperm_cmd("cmds", "config|get")),
            ),
        ],
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
    expect_each(
        &mut u,
        &[
            (&["SET", "k", "v"], Err(&noperm_cmd("cmds", "set"))),
            (&["INCR", "n"], Ok(int(1))),
            (&["PING"], Ok(simple("PONG"))),
        ],
    )
    .await;

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
    expect_each(
        &mut u,
        &[
            (&["SADD", "myset", "a", "b", "c"], Ok(int(3))),
            (&["SET", "k", "v"], Err(&noperm_cmd("cmds", "set"))),
            (&["GET", "k"], Err(&noperm_cmd("cmds", "get"))),
            (&["INCR", "n"], Err(&noperm_cmd("cmds", "incr"))),
        ],
    )
    .await;

    // nocommands +@hash
    expect(
        &mut c,
        &["ACL", "SETUSER", "cmds", "nocommands", "+@hash"],
        ok(),
    )
    .await;
    expect_each(
        &mut u,
        &[
            (&["HSET", "h", "f", "v"], Ok(int(1))),
            (&["HGET", "h", "f"], Ok(b("v"))),
            (&["SADD", "myset", "d"], Err(&noperm_cmd("cmds", "sadd"))),
        ],
    )
    .await;

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
    expect_each(
        &mut u,
        &[
            (&["CLIENT", "SETNAME", "foo"], Ok(ok())),
            (
                &["CLIENT", "GETNAME"],
                Err(&noperm_cmd("cmds", "client|getname")),
            ),
            (
                &["CLIENT", "KILL", "ID", "123456"],
                Err(&noperm_cmd("cmds", "client|kill")),
            ),
        ],
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
