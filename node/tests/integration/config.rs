//! Start-up configuration: bad values stop the node with one line naming the directive,
//! and the layers (TOML file < REDOUBT_* environment < --flags) are honoured.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::common::*;
use redoubt_cluster_tests::{free_port, ping_answers, run_redoubt};

/// Runs redoubt with `args` (plus a fresh dir and raft port), expecting it to refuse to
/// start; returns its single stderr line.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_arg = dir.path().display().to_string();
    let raft = format!("127.0.0.1:{}", free_port());
    let port = free_port().to_string();
    let mut all = vec!["--dir", &dir_arg, "--raft-addr", &raft];
    // A port of our own unless the test sets one (a flag would override the file's or the
    // environment's bad value).
    if !args.contains(&"--port")
        && !args.contains(&"--config")
        && !env.iter().any(|(k, _)| *k == "REDOUBT_PORT")
    {
        all.extend(["--port", &port]);
    }
    all.extend_from_slice(args);
    let out: Output = run_redoubt(&all, env, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit code for {args:?}; stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one stderr line for {args:?}, got: {stderr:?}"
    );
    lines[0].to_string()
}

#[test]
fn a_bad_port_stops_the_node_with_one_line() {
    let line = refused(&["--port", "abc"], &[]);
    assert!(line.contains("port") && line.contains("abc"), "{line}");
    let line = refused(&["--port", "70000"], &[]);
    assert!(line.contains("port") && line.contains("70000"), "{line}");
}

#[test]
fn an_unknown_directive_stops_the_node() {
    let line = refused(&["--nosuchdirective", "1"], &[]);
    assert!(line.contains("nosuchdirective"), "{line}");
}

#[test]
fn bad_values_name_their_directive_and_value() {
    for (directive, value) in [
        ("loglevel", "loud"),
        ("maxclients", "lots"),
        ("timeout", "-1"),
        ("enable-debug-command", "maybe"),
        ("protected-mode", "perhaps"),
        ("raft-addr", "nowhere"),
        ("proto-max-bulk-len", "12k"),
    ] {
        let flag = format!("--{directive}");
        let line = refused(&[&flag, value], &[]);
        assert!(
            line.contains(directive) && line.contains(value),
            "--{directive} {value}: {line}"
        );
    }
}

#[test]
fn bad_environment_values_and_files_stop_the_node() {
    let line = refused(&[], &[("REDOUBT_PORT", "xyz")]);
    assert!(line.contains("port") && line.contains("xyz"), "{line}");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("redoubt.toml");
    std::fs::write(&file, "port = \"abc\"\n").expect("write");
    let line = refused(&["--config", &file.display().to_string()], &[]);
    assert!(line.contains("port") && line.contains("abc"), "{line}");
    let missing = dir.path().join("missing.toml").display().to_string();
    let line = refused(&["--config", &missing], &[]);
    assert!(line.contains(&missing), "{line}");
    std::fs::write(&file, "nosuchdirective = 1\n").expect("write");
    let line = refused(&["--config", &file.display().to_string()], &[]);
    assert!(line.contains("nosuchdirective"), "{line}");
}

fn write_config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("redoubt.toml");
    std::fs::write(&path, text).expect("write the config file");
    path
}

#[tokio::test]
async fn a_toml_config_file_is_honoured_and_flags_override_it() {
    let conf = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let file = write_config(
        conf.path(),
        &format!(
            "port = {port}\nmaxclients = 77\ntimeout = 5\nloglevel = \"warning\"\n\n[rename-command]\nFLUSHALL = \"\"\nGET = \"FETCH\"\n"
        ),
    );
    let opts = NodeOptions::new()
        .config_file(&file)
        .without_port_flag(port)
        .arg("timeout", "7");
    let (node, mut c) = start_with(opts).await;
    assert_eq!(node.port(), port);
    expect(
        &mut c,
        &["CONFIG", "GET", "port"],
        bulks(&["port", &port.to_string()]),
    )
    .await;
    expect(
        &mut c,
        &["CONFIG", "GET", "maxclients"],
        bulks(&["maxclients", "77"]),
    )
    .await;
    expect(
        &mut c,
        &["CONFIG", "GET", "timeout"],
        bulks(&["timeout", "7"]),
    )
    .await;
    expect(
        &mut c,
        &["CONFIG", "GET", "loglevel"],
        bulks(&["loglevel", "warning"]),
    )
    .await;
    expect_err(
        &mut c,
        &["FLUSHALL"],
        "ERR unknown command 'FLUSHALL', with args beginning with: ",
    )
    .await;
    expect(&mut c, &["SET", "k", "v"], ok()).await;
    expect(&mut c, &["FETCH", "k"], b("v")).await;
}

#[tokio::test]
async fn redoubt_port_from_the_environment_is_honoured() {
    let port = free_port();
    let opts = NodeOptions::new()
        .env("REDOUBT_PORT", port.to_string())
        .env("REDOUBT_MAXCLIENTS", "33")
        .without_port_flag(port);
    let (_node, mut c) = start_with(opts).await;
    expect(
        &mut c,
        &["CONFIG", "GET", "port"],
        bulks(&["port", &port.to_string()]),
    )
    .await;
    expect(
        &mut c,
        &["CONFIG", "GET", "maxclients"],
        bulks(&["maxclients", "33"]),
    )
    .await;
}

#[tokio::test]
async fn the_port_flag_overrides_the_environment_which_overrides_the_file() {
    let env_port = free_port();
    let flag_port = free_port();
    let opts = NodeOptions::new()
        .env("REDOUBT_PORT", env_port.to_string())
        .port(flag_port);
    let (node, mut c) = start_with(opts).await;
    assert_eq!(node.port(), flag_port);
    expect(
        &mut c,
        &["CONFIG", "GET", "port"],
        bulks(&["port", &flag_port.to_string()]),
    )
    .await;
    assert!(
        !ping_answers(env_port),
        "nothing listens on the environment's port"
    );
    drop(c);
    drop(node);

    let conf = tempfile::tempdir().expect("tempdir");
    let file_port = free_port();
    let env_port = free_port();
    let file = write_config(conf.path(), &format!("port = {file_port}\n"));
    let opts = NodeOptions::new()
        .config_file(&file)
        .env("REDOUBT_PORT", env_port.to_string())
        .without_port_flag(env_port);
    let (_node, mut c) = start_with(opts).await;
    expect(
        &mut c,
        &["CONFIG", "GET", "port"],
        bulks(&["port", &env_port.to_string()]),
    )
    .await;
    assert!(
        !ping_answers(file_port),
        "nothing listens on the file's port"
    );
}

#[tokio::test]
async fn the_log_goes_to_logfile() {
    let (node, mut c) = start().await;
    expect(&mut c, &["PING"], simple("PONG")).await;
    let log = node.log();
    assert!(
        log.contains(&node.port().to_string()),
        "the log names the port:\n{log}"
    );
    expect(
        &mut c,
        &["CONFIG", "GET", "logfile"],
        bulks(&["logfile", &node.log_path().display().to_string()]),
    )
    .await;
}
