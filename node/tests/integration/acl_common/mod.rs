//! Helpers shared by the ACL / AUTH tests (the `acl`, `auth`, `acl_file` and `acl_security`
//! modules): logging in as a user, reading ACL GETUSER / ACL LOG replies, and Redis's exact
//! reply texts.

use std::net::{Ipv4Addr, SocketAddr};

use redis::IntoConnectionInfo;

use crate::common::*;

pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const NOPASS_AUTH: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub const NOPERM_KEY: &str = "NOPERM No permissions to access a key";
pub const NOPERM_CHANNEL: &str = "NOPERM No permissions to access a channel";
pub const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// `NOPERM User <user> has no permissions to run the '<cmd>' command`.
pub fn noperm_cmd(user: &str, cmd: &str) -> String {
    format!("NOPERM User {user} has no permissions to run the '{cmd}' command")
}

/// `ERR Error in ACL SETUSER modifier '<rule>': <reason>`.
pub fn setuser_err(rule: &str, reason: &str) -> String {
    format!("ERR Error in ACL SETUSER modifier '{rule}': {reason}")
}

/// Lower-case hex SHA-256, as ACL LIST / GETUSER / the aclfile show passwords.
pub fn sha256_hex(s: &str) -> String {
    sha256(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// A connection that authenticates as `user`/`pass` in its handshake and sends nothing else
/// (no CLIENT SETINFO: a restricted user would be refused it, which would show in ACL LOG and
/// the denial counters).
pub async fn connect_as(
    port: u16,
    user: &str,
    pass: &str,
) -> redis::RedisResult<MultiplexedConnection> {
    let info = format!("redis://127.0.0.1:{port}/").into_connection_info()?;
    let settings = info
        .redis_settings()
        .clone()
        .set_username(user)
        .set_password(pass)
        .set_skip_set_lib_name();
    let info = info.set_redis_settings(settings);
    redis::Client::open(info)?
        .get_multiplexed_async_connection_with_config(&redoubt_cluster_tests::connection_config())
        .await
}

/// [`connect_as`] that must succeed.
pub async fn login(node: &NodeProcess, user: &str, pass: &str) -> MultiplexedConnection {
    match connect_as(node.port(), user, pass).await {
        Ok(c) => c,
        Err(e) => panic!("cannot log in as {user}: {e}\n{}", node.diagnostics()),
    }
}

/// A raw connection (from 127.0.0.1) that has authenticated with `AUTH <args>`.
pub async fn raw_auth(node: &NodeProcess, auth_args: &[&str]) -> RawConn {
    let mut raw = RawConn::connect(node.port()).await;
    let mut argv: Vec<&[u8]> = vec![b"AUTH"];
    argv.extend(auth_args.iter().map(|a| a.as_bytes()));
    let reply = raw.call(&argv).await;
    assert_eq!(show(&reply), "+OK\r\n", "AUTH {auth_args:?}");
    raw
}

/// Whether a client error says the connection is gone (not a server reply, not a timeout).
pub fn is_connection_error(e: &redis::RedisError) -> bool {
    e.code().is_none() && !e.is_timeout()
}

/// Asserts that a command on `con` fails because the server closed the connection.
pub async fn assert_connection_closed(con: &mut MultiplexedConnection, who: &str) {
    let got = command(&["PING"]).query_async::<Value>(con).await;
    match got {
        Err(e) if is_connection_error(&e) => {}
        other => {
            panic!("{who}: expected a connection error after the server closed it, got {other:?}")
        }
    }
}

/// The fields of a map reply: a RESP3 map or a RESP2 flat array of name/value pairs.
pub fn map_fields(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Map(pairs) => pairs.iter().map(|(k, v)| (text(k), v.clone())).collect(),
        Value::Array(items) => {
            assert!(
                items.len() % 2 == 0,
                "a map as a flat array has an even length: {v:?}"
            );
            items
                .chunks(2)
                .map(|kv| (text(&kv[0]), kv[1].clone()))
                .collect()
        }
        other => panic!("expected a map, got {other:?}"),
    }
}

/// The value of `name` in a map reply (panics when absent).
pub fn field(fields: &[(String, Value)], name: &str) -> Value {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no field {name:?} in {fields:?}"))
}

pub fn field_text(fields: &[(String, Value)], name: &str) -> String {
    text(&field(fields, name))
}

pub fn field_int(fields: &[(String, Value)], name: &str) -> i64 {
    match field(fields, name) {
        Value::Int(n) => n,
        other => panic!("field {name:?} is not an integer: {other:?}"),
    }
}

/// The names of a map reply, in order.
pub fn field_names(fields: &[(String, Value)]) -> Vec<String> {
    fields.iter().map(|(k, _)| k.clone()).collect()
}

/// ACL LIST lines.
pub async fn acl_list(c: &mut MultiplexedConnection) -> Vec<String> {
    strings(&q(c, &["ACL", "LIST"]).await)
}

/// The ACL LIST line of `user` (panics when the user is not listed).
pub async fn list_line(c: &mut MultiplexedConnection, user: &str) -> String {
    let prefix = format!("user {user} ");
    let lines = acl_list(c).await;
    lines
        .iter()
        .find(|l| l.starts_with(&prefix))
        .cloned()
        .unwrap_or_else(|| panic!("ACL LIST has no line for {user}: {lines:?}"))
}

/// ACL GETUSER as (field, value) pairs.
pub async fn getuser(c: &mut MultiplexedConnection, user: &str) -> Vec<(String, Value)> {
    map_fields(&q(c, &["ACL", "GETUSER", user]).await)
}

/// ACL LOG [args] entries, each as (field, value) pairs, newest first.
pub async fn acl_log(c: &mut MultiplexedConnection, args: &[&str]) -> Vec<Vec<(String, Value)>> {
    let mut argv = vec!["ACL", "LOG"];
    argv.extend_from_slice(args);
    match q(c, &argv).await {
        Value::Array(entries) => entries.iter().map(map_fields).collect(),
        other => panic!("ACL LOG should be an array, got {other:?}"),
    }
}

/// The `name:value` fields of an INFO reply.
pub fn info_fields(info: &str) -> Vec<(String, String)> {
    info.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
        .collect()
}

/// A non-loopback IPv4 address of this machine, if it has one: the source address the kernel
/// picks for a (never sent) UDP datagram to a documentation address, else `hostname -I`.
pub fn non_loopback_ipv4() -> Option<Ipv4Addr> {
    let usable = |ip: Ipv4Addr| !ip.is_loopback() && !ip.is_unspecified() && !ip.is_link_local();
    for probe in ["192.0.2.1:9", "198.51.100.1:9", "10.255.255.1:9"] {
        if let Ok(sock) = std::net::UdpSocket::bind("0.0.0.0:0") {
            if sock.connect(probe).is_ok() {
                if let Ok(SocketAddr::V4(a)) = sock.local_addr() {
                    if usable(*a.ip()) {
                        return Some(*a.ip());
                    }
                }
            }
        }
    }
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|w| w.parse::<Ipv4Addr>().ok())
        .find(|ip| usable(*ip))
}
