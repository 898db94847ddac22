//! The aclfile (issue 4): users loaded at start, ACL SAVE (Redis's format, hashes only, mode
//! 0600), ACL LOAD of an edited file, ACL LOAD of a bad file (all or nothing, `<path>:<line>:`
//! errors) and ACL SAVE / LOAD without an aclfile.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::acl_common::*;
use crate::common::*;

/// A tempdir holding `users.acl` with `content` (outside the node's data dir).
fn acl_file(content: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("redoubt-aclfile-")
        .tempdir()
        .expect("tempdir");
    let path = dir.path().join("users.acl");
    std::fs::write(&path, content).expect("write the aclfile");
    (dir, path)
}

fn start_with_aclfile(path: &Path) -> NodeProcess {
    NodeProcess::start(NodeOptions::new().arg("aclfile", path.display().to_string()))
}

#[tokio::test]
async fn aclfile_users_load_at_start_and_acl_save_writes_them() {
    let content = format!(
        "# users of the test\n\
         user default on nopass ~* &* +@all\n\
         user alice on >alicepw ~* &* +@all\n\
         \n\
         # bob's password is given as its hash\n\
         user bob on #{} ~bob:* resetchannels -@all +get +set\n",
        sha256_hex("bobpw")
    );
    let (_dir, path) = acl_file(&content);
    let node = start_with_aclfile(&path);
    let mut c = node.client().await;
    expect(
        &mut c,
        &["ACL", "USERS"],
        bulks(&["alice", "bob", "default"]),
    )
    .await;
    assert_eq!(
        acl_list(&mut c).await,
        vec![
            format!(
                "user alice on sanitize-payload #{} ~* &* +@all",
                sha256_hex("alicepw")
            ),
            format!(
                "user bob on sanitize-payload #{} ~bob:* resetchannels -@all +get +set",
                sha256_hex("bobpw")
            ),
            "user default on nopass sanitize-payload ~* &* +@all".to_string(),
        ]
    );
    let mut alice = login(&node, "alice", "alicepw").await;
    expect(&mut alice, &["ACL", "WHOAMI"], b("alice")).await;
    expect(&mut alice, &["SET", "k", "v"], ok()).await;
    let mut bob = login(&node, "bob", "bobpw").await;
    expect(&mut bob, &["SET", "bob:1", "x"], ok()).await;
    expect(&mut bob, &["GET", "bob:1"], b("x")).await;
    expect_err(&mut bob, &["GET", "k"], NOPERM_KEY).await;
    expect_err(&mut bob, &["DEL", "bob:1"], &noperm_cmd("bob", "del")).await;
    assert!(connect_as(node.port(), "alice", "bobpw").await.is_err());
    assert!(connect_as(node.port(), "bob", "alicepw").await.is_err());

    // ACL SETUSER + ACL SAVE: the file is ACL LIST, one line per user, hashes only.
    expect(
        &mut c,
        &["ACL", "SETUSER", "carol", "on", ">carolpw", "~c:*", "+get"],
        ok(),
    )
    .await;
    expect(&mut c, &["ACL", "SAVE"], ok()).await;
    let saved = std::fs::read_to_string(&path).expect("read the saved aclfile");
    let list = acl_list(&mut c).await;
    assert_eq!(saved, format!("{}\n", list.join("\n")), "ACL SAVE's file");
    assert!(
        saved.contains(&format!(
            "user carol on sanitize-payload #{} ~c:* resetchannels -@all +get\n",
            sha256_hex("carolpw")
        )),
        "{saved}"
    );
    for pw in ["alicepw", "bobpw", "carolpw"] {
        assert!(
            !saved.contains(pw),
            "the aclfile holds the password {pw}:\n{saved}"
        );
    }
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the aclfile's mode is {mode:o}");
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(path.parent().expect("dir"))
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["users.acl"], "files beside the aclfile");
    // Loading what was saved changes nothing.
    expect(&mut c, &["ACL", "LOAD"], ok()).await;
    assert_eq!(acl_list(&mut c).await, list);
    let mut carol = login(&node, "carol", "carolpw").await;
    expect(&mut carol, &["GET", "c:1"], nil()).await;
    expect_err(
        &mut carol,
        &["SET", "c:1", "x"],
        &noperm_cmd("carol", "set"),
    )
    .await;
}

#[tokio::test]
async fn acl_load_replaces_the_users_with_the_edited_file() {
    let (_dir, path) = acl_file(
        "user default on nopass ~* &* +@all\n\
         user alice on >alicepw ~* &* +@all\n\
         user carol on >carolpw ~* &* +@all\n",
    );
    let node = start_with_aclfile(&path);
    let mut c = node.client().await;
    let mut carol_raw = raw_auth(&node, &["carol", "carolpw"]).await;
    let edited = format!(
        "user default on nopass ~* &* +@all\n\
         # alice has a new password, carol is gone, dave is new\n\
         user alice on #{} ~* &* +@all\n\
         user dave on >davepw ~dave:* resetchannels +get +set\n",
        sha256_hex("alicepw2")
    );
    std::fs::write(&path, edited).expect("edit the aclfile");
    expect(&mut c, &["ACL", "LOAD"], ok()).await;
    expect(
        &mut c,
        &["ACL", "USERS"],
        bulks(&["alice", "dave", "default"]),
    )
    .await;
    assert_eq!(
        list_line(&mut c, "dave").await,
        format!(
            "user dave on sanitize-payload #{} ~dave:* resetchannels -@all +get +set",
            sha256_hex("davepw")
        )
    );
    let mut raw = RawConn::connect(node.port()).await;
    let wrongpass = format!("-{WRONGPASS}\r\n");
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"alice", b"alicepw"]).await),
        wrongpass,
        "alice's old password still works"
    );
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"carol", b"carolpw"]).await),
        wrongpass,
        "the removed carol still logs in"
    );
    assert_eq!(
        show(&raw.call(&[b"AUTH", b"alice", b"alicepw2"]).await),
        "+OK\r\n"
    );
    let mut dave = login(&node, "dave", "davepw").await;
    expect(&mut dave, &["SET", "dave:1", "x"], ok()).await;
    expect_err(&mut dave, &["SET", "x", "y"], NOPERM_KEY).await;
    expect_err(&mut dave, &["INCR", "dave:2"], &noperm_cmd("dave", "incr")).await;
    // carol was deleted: her connection is closed.
    let left = carol_raw.read_until_closed(Duration::from_secs(5)).await;
    assert_eq!(show(&left), "");
    // The default user of the file applies too.
    expect(&mut c, &["ACL", "WHOAMI"], b("default")).await;
}

#[tokio::test]
async fn acl_load_of_a_bad_file_keeps_the_old_users() {
    let good = "user default on nopass ~* &* +@all\nuser alice on >alicepw ~* &* +@all\n";
    let (_dir, path) = acl_file(good);
    let shown = path.display().to_string();
    let node = start_with_aclfile(&path);
    let mut c = node.client().await;
    expect(
        &mut c,
        &["ACL", "SETUSER", "runtime", "on", ">rtpw", "+@all"],
        ok(),
    )
    .await;
    let before = acl_list(&mut c).await;
    let cases: &[(&str, String, &str)] = &[
        (
            "user default on nopass ~* &* +@all\nuser eve on >evepw +nosuchcmd\n",
            format!("ERR {shown}:2: "),
            "Unknown command or category name in ACL",
        ),
        (
            "user default on nopass ~* &* +@all\n# a comment\nnot a user line\n",
            format!("ERR {shown}:3"),
            "should start with user keyword",
        ),
        (
            "user default on nopass ~* &* +@all\nuser alice on nopass ~* -@all\nuser alice off\n",
            format!("ERR {shown}:3"),
            "Duplicate user 'alice' found",
        ),
        (
            "user default on nopass ~* &* +@all\nuser frank on >frankpw (~x +get\n",
            format!("ERR {shown}:2: "),
            "Unmatched parenthesis",
        ),
        (
            "user default on nopass ~* &* +@all\nuser gina on #abc\n",
            format!("ERR {shown}:2: "),
            "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
        ),
    ];
    for (content, prefix, reason) in cases {
        std::fs::write(&path, content).expect("write the bad aclfile");
        let err = q_err(&mut c, &["ACL", "LOAD"]).await;
        assert!(
            err.starts_with(prefix.as_str()) && err.contains(reason),
            "ACL LOAD of\n{content}\nreplied {err:?}; expected {prefix:?}...{reason:?}"
        );
        for pw in ["evepw", "frankpw"] {
            assert!(!err.contains(pw), "the error shows a password: {err}");
        }
        assert_eq!(
            acl_list(&mut c).await,
            before,
            "a failed ACL LOAD changed the users"
        );
    }
    // The old users still log in; the bad file's users do not exist.
    let mut alice = login(&node, "alice", "alicepw").await;
    expect(&mut alice, &["ACL", "WHOAMI"], b("alice")).await;
    let mut rt = login(&node, "runtime", "rtpw").await;
    expect(&mut rt, &["ACL", "WHOAMI"], b("runtime")).await;
    expect(&mut c, &["ACL", "GETUSER", "eve"], nil()).await;
    // A good file loads again.
    std::fs::write(&path, good).expect("write the good aclfile");
    expect(&mut c, &["ACL", "LOAD"], ok()).await;
    expect(&mut c, &["ACL", "USERS"], bulks(&["alice", "default"])).await;
}

#[tokio::test]
async fn a_bad_aclfile_stops_the_start() {
    let (dir, path) = acl_file("user default on nopass ~* &* +@all\nuser eve on +nosuchcmd\n");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    let port = redoubt_cluster_tests::free_port().to_string();
    let raft = format!("127.0.0.1:{}", redoubt_cluster_tests::free_port());
    let out = tokio::task::spawn_blocking(move || {
        redoubt_cluster_tests::run_redoubt(
            &[
                "--port",
                &port,
                "--dir",
                &data.display().to_string(),
                "--raft-addr",
                &raft,
                "--aclfile",
                &path.display().to_string(),
            ],
            &[],
            Duration::from_secs(15),
        )
    })
    .await
    .expect("run redoubt");
    assert!(
        !out.status.success(),
        "redoubt started with a bad aclfile: {out:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("users.acl:2"),
        "the start error does not name the file and line: {stderr}"
    );
}

#[tokio::test]
async fn acl_save_and_load_need_an_aclfile() {
    let (_node, mut c) = start().await;
    expect_err(&mut c, &["ACL", "SAVE"], NO_ACLFILE).await;
    expect_err(&mut c, &["ACL", "LOAD"], NO_ACLFILE).await;
}
