//! Passwords never leak (issue 4): not into the node's log (even at loglevel debug), INFO,
//! MONITOR (AUTH / HELLO AUTH show "(redacted)"), error replies, nor any file of the data dir
//! (Raft log and snapshot included). Failed AUTHs are logged with the client's address.

use std::time::{Duration, Instant};

use crate::acl_common::*;
use crate::common::*;

/// Asserts that none of `passwords` occurs in `what`.
fn assert_no_password(what: &str, content: &[u8], passwords: &[&str]) {
    for pw in passwords {
        assert!(
            !contains_bytes(content, pw.as_bytes()),
            "{what} contains the password {pw:?}:\n{}",
            String::from_utf8_lossy(content)
        );
    }
}

/// Reads MONITOR lines until one contains `marker`.
async fn monitor_until(monitor: &mut RawConn, marker: &str) -> String {
    let mut out = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match monitor.try_read_reply(left).await {
            Ok(l) => show(&l),
            Err(e) => panic!("MONITOR: {e}; lines so far:\n{out}"),
        };
        out.push_str(&line);
        if line.contains(marker) {
            return out;
        }
    }
}

#[tokio::test]
async fn monitor_shows_credentials_redacted() {
    let (node, mut c) = start().await;
    let passwords = [
        "Mon-Pw-A1",
        "Mon-Wrong-B2",
        "Mon-Pw-C3",
        "Mon-Pw-D4",
        "Mon-Pw-E5",
        "Mon-Gone-F6",
    ];
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "mon_u",
            "on",
            ">Mon-Pw-A1",
            "~*",
            "&*",
            "+@all",
        ],
        ok(),
    )
    .await;
    let mut monitor = RawConn::connect(node.port()).await;
    assert_eq!(show(&monitor.call(&[b"MONITOR"]).await), "+OK\r\n");
    let mut other = RawConn::connect(node.port()).await;
    let addr = other.stream.local_addr().expect("local addr").to_string();
    let mut replies = String::new();
    for argv in [
        &[&b"AUTH"[..], b"mon_u", b"Mon-Pw-A1"][..],
        &[b"AUTH", b"mon_u", b"Mon-Wrong-B2"],
        &[
            b"HELLO",
            b"3",
            b"AUTH",
            b"mon_u",
            b"Mon-Pw-A1",
            b"SETNAME",
            b"mname",
        ],
        &[b"ACL", b"SETUSER", b"mon_v", b"on", b">Mon-Pw-C3"],
        &[b"ACL", b"SETUSER", b"mon_v", b"<Mon-Pw-C3", b">Mon-Pw-D4"],
        &[b"ACL", b"SETUSER", b"mon_v", b"<Mon-Gone-F6"],
        &[b"CONFIG", b"SET", b"requirepass", b"Mon-Pw-E5"],
        &[b"AUTH", b"Mon-Pw-E5"],
        &[b"ECHO", b"monitor-end"],
    ] {
        replies.push_str(&show(&other.call(argv).await));
    }
    assert_no_password("the replies", replies.as_bytes(), &passwords);
    let lines = monitor_until(&mut monitor, "monitor-end").await;
    assert_no_password("MONITOR", lines.as_bytes(), &passwords);
    // Admin commands never reach MONITOR (as Redis): no ACL, no CONFIG.
    assert!(
        !lines.contains("\"ACL\"") && !lines.contains("\"CONFIG\""),
        "MONITOR shows admin commands:\n{lines}"
    );
    for want in [
        format!(" [0 {addr}] \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"),
        format!(
            " [0 {addr}] \"HELLO\" \"3\" \"AUTH\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"mname\"\r\n"
        ),
        format!(" [0 {addr}] \"AUTH\" \"(redacted)\"\r\n"),
        format!(" [0 {addr}] \"ECHO\" \"monitor-end\"\r\n"),
    ] {
        assert!(
            lines.contains(&want),
            "MONITOR has no line ending in {want:?}:\n{lines}"
        );
    }
    // What the commands did is real: the passwords work.
    let mut v = login(&node, "mon_v", "Mon-Pw-D4").await;
    expect_err(&mut v, &["PING"], &noperm_cmd("mon_v", "ping")).await;
    assert!(connect_as(node.port(), "mon_v", "Mon-Pw-C3").await.is_err());
    let mut d = login(&node, "default", "Mon-Pw-E5").await;
    expect(&mut d, &["PING"], simple("PONG")).await;
}

#[tokio::test]
async fn passwords_stay_out_of_the_log_info_and_replies() {
    let passwords = [
        "Sec-Start-Pw1",
        "Sec-Bad-Pw2",
        "Sec-User-Pw3",
        "Sec-Bad-Pw4",
        "Sec-User-Pw5",
        "Sec-Gone-Pw6",
        "Sec-Err-Pw7",
        "Sec-X-Pw8",
        "Sec-New-Pw9",
    ];
    let node = NodeProcess::start(
        NodeOptions::new()
            .arg("requirepass", "Sec-Start-Pw1")
            .arg("loglevel", "debug"),
    );
    let mut replies: Vec<String> = Vec::new();
    let mut raw = RawConn::connect(node.port()).await;
    let r = show(&raw.call(&[b"AUTH", b"Sec-Bad-Pw2"]).await);
    assert_eq!(r, format!("-{WRONGPASS}\r\n"));
    replies.push(r);
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"Sec-Start-Pw1"]).await),
        "+OK\r\n"
    );
    let mut admin = login(&node, "default", "Sec-Start-Pw1").await;
    expect(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "lu",
            "on",
            ">Sec-User-Pw3",
            "~*",
            "&*",
            "+@all",
        ],
        ok(),
    )
    .await;
    let mut raw2 = raw_auth(&node, &["lu", "Sec-User-Pw3"]).await;
    let hello = show(
        &raw2
            .call(&[b"HELLO", b"3", b"AUTH", b"lu", b"Sec-User-Pw3"])
            .await,
    );
    assert!(hello.starts_with('%'), "{hello}");
    replies.push(hello);
    let r = show(
        &raw2
            .call(&[b"HELLO", b"3", b"AUTH", b"lu", b"Sec-Bad-Pw4"])
            .await,
    );
    assert_eq!(r, format!("-{WRONGPASS}\r\n"));
    replies.push(r);
    expect(
        &mut admin,
        &["ACL", "SETUSER", "lu", "<Sec-User-Pw3", ">Sec-User-Pw5"],
        ok(),
    )
    .await;
    // Error replies name no password.
    let e = q_err(&mut admin, &["ACL", "SETUSER", "lu", "<Sec-Gone-Pw6"]).await;
    assert_eq!(
        e,
        setuser_err(
            "<redacted>",
            "The password you are trying to remove from the user does not exist"
        )
    );
    replies.push(e);
    let e = q_err(
        &mut admin,
        &["ACL", "SETUSER", "lu", ">Sec-Err-Pw7", "+nosuch"],
    )
    .await;
    assert_eq!(
        e,
        setuser_err("+nosuch", "Unknown command or category name in ACL")
    );
    replies.push(e);
    let e = q_err(&mut admin, &["AUTH", "a", "Sec-X-Pw8", "c"]).await;
    assert_eq!(e, SYNTAX);
    replies.push(e);
    expect(
        &mut admin,
        &["CONFIG", "SET", "requirepass", "Sec-New-Pw9"],
        ok(),
    )
    .await;
    let mut raw3 = RawConn::connect(node.port()).await;
    assert_eq!(
        show(&raw3.call(&[b"AUTH", b"Sec-New-Pw9"]).await),
        "+OK\r\n"
    );
    let r = show(&raw3.call(&[b"AUTH", b"Sec-Start-Pw1"]).await);
    assert_eq!(r, format!("-{WRONGPASS}\r\n"));
    replies.push(r);
    // The passwords did what they should: lu logs in with the new one only.
    assert!(connect_as(node.port(), "lu", "Sec-User-Pw3").await.is_err());
    let _lu = login(&node, "lu", "Sec-User-Pw5").await;

    // INFO (every section), CLIENT LIST, ACL LIST / GETUSER / LOG.
    for argv in [
        &["INFO"][..],
        &["INFO", "all"],
        &["INFO", "everything"],
        &["INFO", "server"],
        &["INFO", "stats"],
        &["INFO", "clients"],
        &["CLIENT", "LIST"],
        &["ACL", "LIST"],
        &["ACL", "GETUSER", "lu"],
        &["ACL", "GETUSER", "default"],
        &["ACL", "LOG"],
    ] {
        let v = q(&mut admin, argv).await;
        replies.push(format!("{argv:?}: {v:?}"));
    }
    let all_replies = replies.join("\n");
    assert_no_password("the replies", all_replies.as_bytes(), &passwords);

    // The log file (at debug level), stderr and stdout.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = std::fs::read(node.log_path()).expect("read the log file");
    assert!(!log.is_empty(), "the log file is empty");
    assert_no_password("the log file", &log, &passwords);
    for name in ["stderr.log", "stdout.log"] {
        let content = std::fs::read(node.dir().join(name)).unwrap_or_default();
        assert_no_password(name, &content, &passwords);
    }
}

#[tokio::test]
async fn passwords_stay_out_of_the_data_dir_raft_log_and_snapshot() {
    let passwords = [
        "Dir-Start-Pw1",
        "Dir-User-Pw2",
        "Dir-User-Pw3",
        "Dir-User-Pw4",
        "Dir-New-Pw5",
        "Dir-Bad-Pw6",
        "Dir-Removed-Pw7",
    ];
    let mut node = NodeProcess::start(
        NodeOptions::new()
            .arg("requirepass", "Dir-Start-Pw1")
            .arg("raft-snapshot-logs", "5"),
    );
    let mut admin = login(&node, "default", "Dir-Start-Pw1").await;
    for argv in [
        &[
            "ACL",
            "SETUSER",
            "du",
            "on",
            ">Dir-User-Pw2",
            "~*",
            "&*",
            "+@all",
        ][..],
        &["ACL", "SETUSER", "du", ">Dir-User-Pw3", "<Dir-User-Pw2"],
        &[
            "ACL",
            "SETUSER",
            "dv",
            "on",
            ">Dir-User-Pw4",
            ">Dir-Removed-Pw7",
        ],
        &["ACL", "SETUSER", "dv", "<Dir-Removed-Pw7"],
        &["ACL", "DELUSER", "dv"],
        &["CONFIG", "SET", "requirepass", "Dir-New-Pw5"],
    ] {
        let _ = q(&mut admin, argv).await;
    }
    let mut raw = raw_auth(&node, &["du", "Dir-User-Pw3"]).await;
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"du", b"Dir-Bad-Pw6"]).await),
        format!("-{WRONGPASS}\r\n")
    );
    let _ = raw_auth(&node, &["Dir-New-Pw5"]).await;
    // Wait for a snapshot that covers all of the above.
    let raft_field = |info: &str, name: &str| -> u64 {
        info_fields(info)
            .into_iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or_else(|| panic!("RAFT.INFO has no numeric {name}:\n{info}"))
    };
    let info = text(&q(&mut admin, &["RAFT.INFO"]).await);
    let target = raft_field(&info, "applied_index");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut n = 0;
    loop {
        let info = text(&q(&mut admin, &["RAFT.INFO"]).await);
        if raft_field(&info, "snapshot_index") >= target {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no snapshot at or past index {target} with raft-snapshot-logs 5:\n{info}"
        );
        n += 1;
        let key = format!("filler:{n}");
        expect(&mut admin, &["SET", &key, "x"], ok()).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Stop the node cleanly so that everything it keeps is on disk, then read every file.
    drop(admin);
    drop(raw);
    node.terminate();
    let files = all_files(node.dir());
    assert!(!files.is_empty(), "no files under {}", node.dir().display());
    for (path, content) in &files {
        assert_no_password(&path.display().to_string(), content, &passwords);
    }
    // The scan did see the ACL state: du's password hash is on disk (as hex or as bytes).
    let hex = sha256_hex("Dir-User-Pw3");
    let raw_hash = sha256(b"Dir-User-Pw3");
    assert!(
        files
            .iter()
            .any(|(_, c)| contains_bytes(c, hex.as_bytes()) || contains_bytes(c, &raw_hash)),
        "no file holds du's password hash; files: {:?}",
        files
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn failed_auth_is_logged_with_the_client_address_and_user() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &["ACL", "SETUSER", "someone", "on", ">Right-Pw-Q1"],
        ok(),
    )
    .await;
    let mut raw = RawConn::connect(node.port()).await;
    let addr = raw.stream.local_addr().expect("local addr").to_string();
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"someone", b"Fail-Pw-Z9"]).await),
        format!("-{WRONGPASS}\r\n")
    );
    let mut raw2 = RawConn::connect(node.port()).await;
    let addr2 = raw2.stream.local_addr().expect("local addr").to_string();
    assert_eq!(
        show(
            &raw2
                .call(&[b"HELLO", b"3", b"AUTH", b"ghostuser", b"Fail-Pw-X7"])
                .await
        ),
        format!("-{WRONGPASS}\r\n")
    );
    let has_line = |log: &str, addr: &str, user: &str| {
        log.lines()
            .any(|l| l.contains("WARN") && l.contains(addr) && l.contains(user))
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = node.log();
        if has_line(&log, &addr, "someone") && has_line(&log, &addr2, "ghostuser") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the log has no WARN line with {addr} and someone, and one with {addr2} and ghostuser:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read(node.log_path()).expect("log");
    assert_no_password(
        "the log file",
        &log,
        &["Fail-Pw-Z9", "Fail-Pw-X7", "Right-Pw-Q1"],
    );
    // A successful AUTH is not a warning.
    let mut ok_raw = RawConn::connect(node.port()).await;
    let ok_addr = ok_raw.stream.local_addr().expect("local addr").to_string();
    assert_eq!(
        show(&ok_raw.call(&[b"AUTH", b"someone", b"Right-Pw-Q1"]).await),
        "+OK\r\n"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = node.log();
    assert!(
        !log.lines()
            .any(|l| l.contains("WARN") && l.contains(&ok_addr)),
        "a successful AUTH was logged as a warning:\n{log}"
    );
}
