//! Server and connection commands (INFO, CLIENT, COMMAND, CONFIG, DEBUG, TIME, AUTH),
//! start-up options that change them (rename-command, enable-debug-command, requirepass),
//! the client limits (maxclients, timeout) and a redis-cli session.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::*;
use redoubt_cluster_tests::{redis_cli_available, run_redis_cli};

async fn info(c: &mut MultiplexedConnection, section: &[&str]) -> String {
    let mut args = vec!["INFO"];
    args.extend_from_slice(section);
    text(&q(c, &args).await)
}

/// The value of `field:` in INFO text.
fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|l| {
            l.strip_prefix(field)
                .and_then(|rest| rest.strip_prefix(':'))
        })
        .map(str::trim_end)
}

#[tokio::test]
async fn info_has_every_section() {
    let (node, mut c) = start().await;
    // The client library's connection handshake may have failed a command already.
    let before = info(&mut c, &["errorstats"]).await;
    let errors_before: u64 = info_field(&before, "errorstat_ERR")
        .map(|v| v.trim_start_matches("count=").parse().expect("a count"))
        .unwrap_or(0);
    expect(&mut c, &["SET", "a", "1"], ok()).await;
    expect(&mut c, &["SET", "b", "1", "EX", "100"], ok()).await;
    expect_err(&mut c, &["INCR", "a", "b"], &arity("incr")).await;
    expect_err(&mut c, &["INCRBYFLOAT", "a", "x"], NOT_FLOAT).await;
    let all = info(&mut c, &["all"]).await;
    for header in [
        "# Server",
        "# Clients",
        "# Stats",
        "# Replication",
        "# Keyspace",
        "# Commandstats",
        "# Errorstats",
    ] {
        assert!(
            all.lines().any(|l| l.trim_end() == header),
            "INFO all lacks {header}:\n{all}"
        );
    }
    assert!(all.contains("\r\n"), "INFO lines end with CRLF");
    assert!(
        info_field(&all, "redis_version").is_some_and(|v| v.starts_with('7')),
        "redis_version"
    );
    assert_eq!(
        info_field(&all, "tcp_port"),
        Some(node.port().to_string().as_str())
    );
    assert_eq!(info_field(&all, "role"), Some("master"));
    assert!(info_field(&all, "connected_clients")
        .is_some_and(|v| v.parse::<u64>().is_ok_and(|n| n >= 1)));
    assert!(info_field(&all, "total_commands_processed").is_some());
    let db0 = info_field(&all, "db0").expect("db0 in the keyspace section");
    assert!(db0.starts_with("keys=2,expires=1,"), "db0:{db0}");
    let set_stats = info_field(&all, "cmdstat_set").expect("cmdstat_set");
    assert!(set_stats.starts_with("calls=2,"), "cmdstat_set:{set_stats}");
    let incr_stats = info_field(&all, "cmdstat_incr").expect("cmdstat_incr");
    assert!(
        incr_stats.contains("rejected_calls=1"),
        "cmdstat_incr:{incr_stats}"
    );
    let want = format!("count={}", errors_before + 2);
    assert_eq!(info_field(&all, "errorstat_ERR"), Some(want.as_str()));
    // One section on its own.
    let stats = info(&mut c, &["commandstats"]).await;
    assert!(stats.starts_with("# Commandstats"), "{stats}");
    assert!(!stats.contains("# Server"));
    let default = info(&mut c, &[]).await;
    assert!(default.contains("# Server") && default.contains("# Keyspace"));
    assert!(
        !default.contains("# Commandstats"),
        "the default INFO has no commandstats"
    );
    let two = info(&mut c, &["server", "clients"]).await;
    assert!(two.contains("# Server") && two.contains("# Clients") && !two.contains("# Stats"));
}

#[tokio::test]
async fn client_id_setname_getname_list_info() {
    let (node, mut c) = start().await;
    let id = as_int(&q(&mut c, &["CLIENT", "ID"]).await);
    assert!(id > 0);
    expect(&mut c, &["CLIENT", "GETNAME"], nil()).await;
    expect(&mut c, &["CLIENT", "SETNAME", "tester"], ok()).await;
    expect(&mut c, &["CLIENT", "GETNAME"], b("tester")).await;
    expect_err(
        &mut c,
        &["CLIENT", "SETNAME", "bad name"],
        "ERR Client names cannot contain spaces, newlines or special characters.",
    )
    .await;
    let mut other = node.client().await;
    let other_id = as_int(&q(&mut other, &["CLIENT", "ID"]).await);
    assert_ne!(id, other_id);
    let list = text(&q(&mut c, &["CLIENT", "LIST"]).await);
    let mine = list
        .lines()
        .find(|l| l.starts_with(&format!("id={id} ")))
        .unwrap_or_else(|| panic!("CLIENT LIST lacks id={id}:\n{list}"));
    assert!(mine.contains(" name=tester "), "{mine}");
    assert!(mine.contains(" addr=127.0.0.1:"), "{mine}");
    assert!(mine.contains(" db=0 "), "{mine}");
    assert!(
        list.lines()
            .any(|l| l.starts_with(&format!("id={other_id} "))),
        "{list}"
    );
    let only = text(&q(&mut c, &["CLIENT", "LIST", "ID", &other_id.to_string()]).await);
    assert_eq!(only.lines().count(), 1, "{only}");
    assert!(only.starts_with(&format!("id={other_id} ")));
    let me = text(&q(&mut c, &["CLIENT", "INFO"]).await);
    assert!(me.starts_with(&format!("id={id} addr=")), "{me}");
    assert!(
        me.contains(" name=tester ") && me.contains(" cmd=client|info "),
        "{me}"
    );
    expect_err(
        &mut c,
        &["CLIENT", "LIST", "ID", "abc"],
        "ERR Invalid client ID",
    )
    .await;
}

#[tokio::test]
async fn client_kill_disconnects_the_other_connection() {
    let (node, mut c) = start().await;
    let mut victim = RawConn::connect(node.port()).await;
    let reply = show(&victim.call(&[b"CLIENT", b"ID"]).await);
    let victim_id: i64 = reply
        .trim_start_matches(':')
        .trim_end()
        .parse()
        .unwrap_or_else(|_| panic!("CLIENT ID reply {reply:?}"));
    expect(
        &mut c,
        &["CLIENT", "KILL", "ID", &victim_id.to_string()],
        int(1),
    )
    .await;
    let rest = victim.read_until_closed(Duration::from_secs(5)).await;
    assert!(
        rest.is_empty(),
        "nothing sent before closing: {}",
        show(&rest)
    );
    // Redoubt unregisters a connection just after closing its socket: wait for that.
    let probe = c.clone();
    let prefix = format!("id={victim_id} ");
    eventually(
        "the killed client leaves CLIENT LIST",
        Duration::from_secs(5),
        || {
            let mut c = probe.clone();
            let prefix = prefix.clone();
            async move {
                let list = text(&q(&mut c, &["CLIENT", "LIST"]).await);
                !list.lines().any(|l| l.starts_with(&prefix))
            }
        },
    )
    .await;
    expect(
        &mut c,
        &["CLIENT", "KILL", "ID", &victim_id.to_string()],
        int(0),
    )
    .await;
    expect(&mut c, &["CLIENT", "KILL", "ID", "999999"], int(0)).await;
    expect_err(
        &mut c,
        &["CLIENT", "KILL", "1.2.3.4:5"],
        "ERR No such client",
    )
    .await;
    // By address, old form: replies OK.
    let mut victim2 = RawConn::connect(node.port()).await;
    assert_eq!(show(&victim2.call(&[b"PING"]).await), "+PONG\r\n");
    let addr = victim2.stream.local_addr().expect("local addr").to_string();
    expect(&mut c, &["CLIENT", "KILL", &addr], ok()).await;
    victim2.read_until_closed(Duration::from_secs(5)).await;
    // The killer is fine.
    expect(&mut c, &["PING"], simple("PONG")).await;
}

#[tokio::test]
async fn command_count_info_docs_getkeys() {
    let (_node, mut c) = start().await;
    let count = as_int(&q(&mut c, &["COMMAND", "COUNT"]).await);
    assert!(count > 100, "COMMAND COUNT = {count}");
    let info = q(&mut c, &["COMMAND", "INFO", "get"]).await;
    let Value::Array(entries) = info else {
        panic!("COMMAND INFO reply {info:?}")
    };
    assert_eq!(entries.len(), 1);
    let Value::Array(get) = &entries[0] else {
        panic!("entry {:?}", entries[0])
    };
    assert_eq!(get[0], b("get"));
    assert_eq!(get[1], int(2), "arity of get");
    let flags = strings(&get[2]);
    assert!(
        flags.contains(&"readonly".to_string()) && flags.contains(&"fast".to_string()),
        "{flags:?}"
    );
    assert_eq!(&get[3..6], &[int(1), int(1), int(1)], "first/last/step key");
    let acl = strings(&get[6]);
    assert!(
        acl.contains(&"@read".to_string()) && acl.contains(&"@string".to_string()),
        "{acl:?}"
    );
    let set = q(&mut c, &["COMMAND", "INFO", "set", "nosuchcmd"]).await;
    let Value::Array(entries) = set else {
        panic!("{set:?}")
    };
    assert_eq!(entries.len(), 2);
    let Value::Array(set) = &entries[0] else {
        panic!("{:?}", entries[0])
    };
    assert_eq!(set[1], int(-3));
    assert!(strings(&set[2]).contains(&"write".to_string()));
    assert_eq!(entries[1], nil());
    let docs = q(&mut c, &["COMMAND", "DOCS", "get"]).await;
    let items = match &docs {
        Value::Array(items) => items.clone(),
        Value::Map(pairs) => pairs
            .iter()
            .flat_map(|(k, v)| [k.clone(), v.clone()])
            .collect(),
        other => panic!("COMMAND DOCS reply {other:?}"),
    };
    assert_eq!(items[0], b("get"));
    let Value::Array(fields) = &items[1] else {
        panic!("docs of get: {:?}", items[1])
    };
    let summary = fields
        .chunks(2)
        .find(|kv| kv[0] == b("summary"))
        .map(|kv| text(&kv[1]))
        .expect("a summary field");
    assert!(!summary.is_empty());
    let group = fields
        .chunks(2)
        .find(|kv| kv[0] == b("group"))
        .map(|kv| text(&kv[1]));
    assert_eq!(group.as_deref(), Some("string"));
    expect(
        &mut c,
        &["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"],
        bulks(&["a", "b"]),
    )
    .await;
    expect(&mut c, &["COMMAND", "GETKEYS", "get", "k"], bulks(&["k"])).await;
    expect_err(
        &mut c,
        &["COMMAND", "GETKEYS", "echo", "x"],
        "ERR The command has no key arguments",
    )
    .await;
    expect_err(
        &mut c,
        &["COMMAND", "GETKEYS", "nosuchcmd", "a"],
        "ERR Invalid command specified",
    )
    .await;
    expect_err(
        &mut c,
        &["COMMAND", "GETKEYS", "get", "a", "b"],
        "ERR Invalid number of arguments specified for command",
    )
    .await;
    let all = q(&mut c, &["COMMAND"]).await;
    assert_eq!(
        strings_len(&all),
        count as usize,
        "COMMAND lists COMMAND COUNT entries"
    );
}

/// One key-spec declaration feeds COMMAND INFO (Redis 7.2's key specs and legacy range),
/// COMMAND GETKEYS and the ACL key checks (here through ACL DRYRUN).
#[tokio::test]
async fn key_specs_drive_command_info_getkeys_and_acl() {
    let (_node, mut c) = start().await;
    let info = |v: Value| match v {
        Value::Array(mut entries) if entries.len() == 1 => match entries.remove(0) {
            Value::Array(fields) => fields,
            other => panic!("entry {other:?}"),
        },
        other => panic!("COMMAND INFO reply {other:?}"),
    };
    // RESP2 flattens the maps: [flags, [..], begin_search, [type, .., spec, [..]], ...].
    let spec = |flags: &[&str], begin: Value, find: Value| {
        arr(vec![
            b("flags"),
            arr(flags.iter().map(|f| simple(f)).collect()),
            b("begin_search"),
            begin,
            b("find_keys"),
            find,
        ])
    };
    let index = |i| {
        arr(vec![
            b("type"),
            b("index"),
            b("spec"),
            arr(vec![b("index"), int(i)]),
        ])
    };
    let range = |last, step| {
        let spec = vec![
            b("lastkey"),
            int(last),
            b("keystep"),
            int(step),
            b("limit"),
            int(0),
        ];
        arr(vec![b("type"), b("range"), b("spec"), arr(spec)])
    };
    let rename = info(q(&mut c, &["COMMAND", "INFO", "rename"]).await);
    assert_eq!(&rename[3..6], &[int(1), int(2), int(1)]);
    let want = arr(vec![
        spec(&["RW", "access", "delete"], index(1), range(0, 1)),
        spec(&["OW", "update"], index(2), range(0, 1)),
    ]);
    assert_eq!(rename[8], want, "key specs of RENAME");
    let sintercard = info(q(&mut c, &["COMMAND", "INFO", "sintercard"]).await);
    assert_eq!(&sintercard[3..6], &[int(0), int(0), int(0)]);
    assert!(strings(&sintercard[2]).contains(&"movablekeys".to_string()));
    let keynum = arr(vec![
        b("type"),
        b("keynum"),
        b("spec"),
        arr(vec![
            b("keynumidx"),
            int(0),
            b("firstkey"),
            int(1),
            b("keystep"),
            int(1),
        ]),
    ]);
    assert_eq!(
        sintercard[8],
        arr(vec![spec(&["RO", "access"], index(1), keynum)])
    );
    // GETKEYS follows the numkeys argument.
    let getkeys = [
        "COMMAND",
        "GETKEYS",
        "sintercard",
        "2",
        "a",
        "b",
        "LIMIT",
        "1",
    ];
    expect(&mut c, &getkeys, bulks(&["a", "b"])).await;
    expect(
        &mut c,
        &["COMMAND", "GETKEYS", "set", "k", "v", "GET"],
        bulks(&["k"]),
    )
    .await;
    // ACL: ACCESS needs %R, INSERT/UPDATE/DELETE need %W, RO alone any pattern.
    let rules = ["ACL", "SETUSER", "ks", "on", "+@all", "%R~r*", "%W~w*"];
    expect(&mut c, &rules, ok()).await;
    let denied = |key: &str| {
        b(&format!(
            "User ks has no permissions to access the '{key}' key"
        ))
    };
    let cases: [(&[&str], Value); 9] = [
        (&["SETNX", "w1", "v"], ok()),
        (&["SETNX", "r1", "v"], denied("r1")),
        (&["GETEX", "w1"], denied("w1")),
        (&["EXISTS", "r1", "w1"], ok()),
        (&["SINTERCARD", "2", "r1", "r2"], ok()),
        (&["SINTERCARD", "2", "r1", "w2"], denied("w2")),
        (&["SET", "w1", "v"], ok()),
        (&["SET", "w1", "v", "GET"], denied("w1")),
        (&["RENAME", "r1", "w1"], denied("r1")),
    ];
    for (line, want) in cases {
        let args = [&["ACL", "DRYRUN", "ks"][..], line].concat();
        expect(&mut c, &args, want).await;
    }
}

fn strings_len(v: &Value) -> usize {
    match v {
        Value::Array(items) => items.len(),
        other => panic!("expected an array, got {other:?}"),
    }
}

#[tokio::test]
async fn config_get_and_set() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &["CONFIG", "GET", "maxclients"],
        bulks(&["maxclients", "10000"]),
    )
    .await;
    expect(
        &mut c,
        &["CONFIG", "GET", "port"],
        bulks(&["port", &node.port().to_string()]),
    )
    .await;
    expect(&mut c, &["CONFIG", "SET", "timeout", "30"], ok()).await;
    expect(
        &mut c,
        &["CONFIG", "GET", "timeout"],
        bulks(&["timeout", "30"]),
    )
    .await;
    expect(&mut c, &["CONFIG", "SET", "maxclients", "500"], ok()).await;
    expect(
        &mut c,
        &["CONFIG", "GET", "maxclients"],
        bulks(&["maxclients", "500"]),
    )
    .await;
    let many = strings(&q(&mut c, &["CONFIG", "GET", "max*"]).await);
    assert!(
        many.chunks(2)
            .any(|kv| kv[0] == "maxclients" && kv[1] == "500"),
        "{many:?}"
    );
    expect(&mut c, &["CONFIG", "GET", "nosuchparam"], arr(vec![])).await;
    expect_err(
        &mut c,
        &["CONFIG", "SET", "timeout", "abc"],
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer",
    )
    .await;
    expect_err(
        &mut c,
        &["CONFIG", "SET", "nosuchparam", "1"],
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuchparam'",
    )
    .await;
    expect(
        &mut c,
        &["CONFIG", "GET", "timeout"],
        bulks(&["timeout", "30"]),
    )
    .await;
}

const DEBUG_REFUSED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

#[tokio::test]
async fn debug_is_refused_by_default() {
    let (_node, mut c) = start().await;
    expect_err(&mut c, &["DEBUG", "SLEEP", "0"], DEBUG_REFUSED).await;
}

#[tokio::test]
async fn debug_runs_when_enabled() {
    let (_node, mut c) = start_with(NodeOptions::new().arg("enable-debug-command", "yes")).await;
    expect(&mut c, &["DEBUG", "SLEEP", "0"], ok()).await;
    let (_node, mut c) = start_with(NodeOptions::new().arg("enable-debug-command", "local")).await;
    expect(&mut c, &["DEBUG", "SLEEP", "0"], ok()).await;
}

#[tokio::test]
async fn rename_command_to_nothing_disables_it() {
    let (_node, mut c) = start_with(NodeOptions::new().arg("rename-command", "FLUSHALL=")).await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect_err(
        &mut c,
        &["FLUSHALL"],
        "ERR unknown command 'FLUSHALL', with args beginning with: ",
    )
    .await;
    expect(&mut c, &["GET", "k"], b("v")).await;
}

#[tokio::test]
async fn rename_command_gives_a_new_name() {
    let (_node, mut c) = start_with(NodeOptions::new().arg("rename-command", "GET=FETCH")).await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect(&mut c, &["FETCH", "k"], b("v")).await;
    expect(&mut c, &["fetch", "k"], b("v")).await;
    expect_err(
        &mut c,
        &["GET", "k"],
        "ERR unknown command 'GET', with args beginning with: 'k' ",
    )
    .await;
}

#[tokio::test]
async fn time_is_the_server_clock() {
    let (_node, mut c) = start().await;
    let reply = strings(&q(&mut c, &["TIME"]).await);
    assert_eq!(reply.len(), 2);
    let secs: u64 = reply[0].parse().expect("seconds");
    let micros: u64 = reply[1].parse().expect("microseconds");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    assert!(secs.abs_diff(now) <= 5, "TIME {secs} vs local {now}");
    assert!(micros < 1_000_000);
    expect_err(&mut c, &["TIME", "x"], &arity("time")).await;
}

#[tokio::test]
async fn select_out_of_range() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SELECT", "15"], ok()).await;
    expect_err(&mut c, &["SELECT", "16"], "ERR DB index is out of range").await;
    expect_err(&mut c, &["SELECT", "-1"], "ERR DB index is out of range").await;
    expect_err(&mut c, &["SELECT", "x"], NOT_INTEGER).await;
}

#[tokio::test]
async fn requirepass_demands_auth() {
    let node = NodeProcess::start(NodeOptions::new().arg("requirepass", "s3cret"));
    let mut raw = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw.call(&[b"GET", b"k"]).await),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"wrong"]).await),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(show(&raw.call(&[b"AUTH", b"s3cret"]).await), "+OK\r\n");
    assert_eq!(show(&raw.call(&[b"SET", b"k", b"v"]).await), "+OK\r\n");
    let mut c =
        redoubt_cluster_tests::connect(&format!("redis://:s3cret@127.0.0.1:{}/", node.port()))
            .await
            .expect("connect with a password");
    expect(&mut c, &["GET", "k"], b("v")).await;
    // Without a password configured, AUTH <password> is an error.
    let (_open, mut c) = start().await;
    expect_err(
        &mut c,
        &["AUTH", "x"],
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    )
    .await;
}

#[tokio::test]
async fn maxclients_refuses_the_connection_past_the_limit() {
    let node = NodeProcess::start(NodeOptions::new().arg("maxclients", "2"));
    let mut first = RawConn::connect(node.port()).await;
    // The harness's readiness probe may not be unregistered yet: wait until only `first` is.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let list = show(&first.call(&[b"CLIENT", b"LIST"]).await);
        if list.matches("id=").count() == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "other clients stay connected:\n{list}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut second = RawConn::connect(node.port()).await;
    assert_eq!(show(&second.call(&[b"PING"]).await), "+PONG\r\n");
    let mut third = RawConn::connect(node.port()).await;
    let got = third.read_until_closed(Duration::from_secs(5)).await;
    assert_eq!(show(&got), "-ERR max number of clients reached\r\n");
    assert_eq!(show(&first.call(&[b"PING"]).await), "+PONG\r\n");
    // Once one leaves, a new client gets in.
    drop(second);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut next = RawConn::connect(node.port()).await;
        next.send_cmd(&[b"PING"]).await;
        match next.try_read_reply(Duration::from_secs(5)).await {
            Ok(reply) if reply == b"+PONG\r\n" => break,
            Ok(reply) => assert_eq!(show(&reply), "-ERR max number of clients reached\r\n"),
            Err(e) => panic!("{e}"),
        }
        assert!(Instant::now() < deadline, "no room after a client left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn idle_clients_are_closed_after_timeout() {
    let node = NodeProcess::start(NodeOptions::new().arg("timeout", "1"));
    let mut idle = RawConn::connect(node.port()).await;
    assert_eq!(show(&idle.call(&[b"PING"]).await), "+PONG\r\n");
    let mut busy = RawConn::connect(node.port()).await;
    let started = Instant::now();
    // `busy` talks every 200ms while `idle` says nothing.
    let closed = tokio::spawn(async move {
        let rest = idle.read_until_closed(Duration::from_secs(5)).await;
        (rest, started.elapsed())
    });
    while !closed.is_finished() {
        assert_eq!(show(&busy.call(&[b"PING"]).await), "+PONG\r\n");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (rest, after) = closed.await.expect("the idle reader");
    assert!(
        rest.is_empty(),
        "nothing sent before closing: {}",
        show(&rest)
    );
    assert!(
        after >= Duration::from_millis(900),
        "closed after only {after:?}"
    );
    assert_eq!(show(&busy.call(&[b"PING"]).await), "+PONG\r\n");
}

#[tokio::test]
async fn redis_cli_sets_and_gets() {
    if !redis_cli_available() {
        eprintln!("NOTE: redis-cli is not installed (apt-get install redis-tools); skipping");
        return;
    }
    let node = NodeProcess::start_default();
    let port = node.port();
    let out = tokio::task::spawn_blocking(move || {
        let set = run_redis_cli(port, &["set", "k", "hello world"]);
        let get = run_redis_cli(port, &["get", "k"]);
        let incr = run_redis_cli(port, &["incr", "n"]);
        let missing = run_redis_cli(port, &["get", "missing"]);
        let bad = run_redis_cli(port, &["nosuchcommand"]);
        (set, get, incr, missing, bad)
    })
    .await
    .expect("redis-cli runs");
    let (set, get, incr, missing, bad) = out;
    assert!(set.status.success(), "redis-cli set: {set:?}");
    assert_eq!(show(&set.stdout), "OK\n");
    assert_eq!(show(&get.stdout), "hello world\n");
    assert_eq!(show(&incr.stdout), "1\n");
    assert_eq!(show(&missing.stdout), "\n");
    assert_eq!(
        show(&bad.stdout).trim_end(),
        "ERR unknown command 'nosuchcommand', with args beginning with:"
    );
}

#[tokio::test]
async fn reset_returns_the_connection_to_its_initial_state() {
    let node = NodeProcess::start_default();
    let mut raw = RawConn::connect(node.port()).await;
    raw.call(&[b"SELECT", b"3"]).await;
    raw.call(&[b"CLIENT", b"SETNAME", b"before"]).await;
    raw.call(&[b"MULTI"]).await;
    raw.call(&[b"SET", b"k", b"v"]).await;
    assert_eq!(show(&raw.call(&[b"RESET"]).await), "+RESET\r\n");
    // Out of MULTI, back in db 0, no name.
    assert_eq!(show(&raw.call(&[b"SET", b"k", b"db0"]).await), "+OK\r\n");
    assert_eq!(show(&raw.call(&[b"CLIENT", b"GETNAME"]).await), "$-1\r\n");
    let mut c = node.client().await;
    expect(&mut c, &["GET", "k"], b("db0")).await;
    // Out of subscribed mode too.
    raw.send_cmd(&[b"SUBSCRIBE", b"ch"]).await;
    raw.read_reply().await;
    assert_eq!(show(&raw.call(&[b"RESET"]).await), "+RESET\r\n");
    assert_eq!(show(&raw.call(&[b"GET", b"k"]).await), "$3\r\ndb0\r\n");
    expect(
        &mut c,
        &["PUBSUB", "NUMSUB", "ch"],
        arr(vec![b("ch"), int(0)]),
    )
    .await;
}

#[tokio::test]
async fn monitor_shows_other_clients_commands() {
    let node = NodeProcess::start_default();
    let mut other = RawConn::connect(node.port()).await;
    assert_eq!(show(&other.call(&[b"PING"]).await), "+PONG\r\n");
    let mut monitor = RawConn::connect(node.port()).await;
    assert_eq!(show(&monitor.call(&[b"MONITOR"]).await), "+OK\r\n");
    assert_eq!(
        show(&other.call(&[b"SET", b"k", b"a b\"c"]).await),
        "+OK\r\n"
    );
    let line = show(&monitor.read_reply().await);
    let addr = other.stream.local_addr().expect("local addr").to_string();
    assert!(line.starts_with('+'), "{line}");
    assert!(
        line.ends_with(&format!(" [0 {addr}] \"SET\" \"k\" \"a b\\\"c\"\r\n")),
        "MONITOR line: {line}"
    );
    let stamp = line[1..].split(' ').next().expect("a timestamp");
    let (secs, micros) = stamp.split_once('.').expect("seconds.micros");
    assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{stamp}");
}

#[tokio::test]
async fn config_resetstat_clears_the_counters() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    let before = info(&mut c, &["commandstats"]).await;
    assert!(before.contains("cmdstat_set:"), "{before}");
    expect(&mut c, &["CONFIG", "RESETSTAT"], ok()).await;
    let after = info(&mut c, &["commandstats"]).await;
    assert!(!after.contains("cmdstat_set:"), "{after}");
}

#[tokio::test]
async fn command_list_and_filters() {
    let (_node, mut c) = start().await;
    let all = strings(&q(&mut c, &["COMMAND", "LIST"]).await);
    assert!(
        all.contains(&"get".to_string()) && all.contains(&"zadd".to_string()),
        "{all:?}"
    );
    // Subcommands are listed by their full names; COMMAND COUNT counts only commands.
    assert!(
        all.contains(&"config|get".to_string()) && all.contains(&"client|id".to_string()),
        "COMMAND LIST lacks subcommands: {all:?}"
    );
    let count = as_int(&q(&mut c, &["COMMAND", "COUNT"]).await);
    assert!(
        all.len() as i64 > count,
        "{} names, {count} commands",
        all.len()
    );
    let zr = sorted_strings(&q(&mut c, &["COMMAND", "LIST", "FILTERBY", "PATTERN", "zr*"]).await);
    assert!(
        zr.contains(&"zrange".to_string()) && zr.iter().all(|n| n.starts_with("zr")),
        "{zr:?}"
    );
    let hash = strings(&q(&mut c, &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash"]).await);
    assert!(
        hash.contains(&"hset".to_string()) && !hash.contains(&"get".to_string()),
        "{hash:?}"
    );
}

#[tokio::test]
async fn help_subcommands_describe_themselves() {
    let (_node, mut c) = start().await;
    for container in ["CLIENT", "COMMAND", "CONFIG", "PUBSUB"] {
        let lines = strings(&q(&mut c, &[container, "HELP"]).await);
        let head = format!("{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        assert_eq!(lines.first(), Some(&head), "{container} HELP");
        assert!(
            lines.iter().any(|l| l == "HELP"),
            "{container} HELP lists HELP: {lines:?}"
        );
    }
}

#[tokio::test]
async fn client_setinfo_is_shown_in_client_info() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["CLIENT", "SETINFO", "LIB-NAME", "mylib"], ok()).await;
    expect(&mut c, &["CLIENT", "SETINFO", "lib-ver", "1.2.3"], ok()).await;
    let me = text(&q(&mut c, &["CLIENT", "INFO"]).await);
    assert!(
        me.contains(" lib-name=mylib ") && me.contains(" lib-ver=1.2.3"),
        "{me}"
    );
    expect_err(
        &mut c,
        &["CLIENT", "SETINFO", "BADATTR", "x"],
        "ERR Unrecognized option 'BADATTR'",
    )
    .await;
}

#[tokio::test]
async fn lastsave_is_a_past_unix_time() {
    let (_node, mut c) = start().await;
    let at = as_int(&q(&mut c, &["LASTSAVE"]).await);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!(at <= now + 1 && at > now - 3600, "LASTSAVE {at}, now {now}");
}
