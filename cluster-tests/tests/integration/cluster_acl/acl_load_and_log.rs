//! ACL LOAD replaces users on every node; ACL LOG stays on the node that refused; ACL SAVE
//! writes hashes only.

use std::collections::BTreeSet;

use redis::Value;
use redoubt_cluster_tests::cluster::{get, set};

use super::*;

async fn acl_users(cluster: &Cluster, c: &mut MultiplexedConnection, id: usize) -> Vec<String> {
    call::<Vec<String>>(c, &["ACL", "USERS"])
        .await
        .unwrap_or_else(|e| panic!("ACL USERS on node {id}: {e}\n{}", cluster.diagnostics()))
}

/// Text of a RESP value (for ACL LOG fields).
fn value_text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Nil => "(nil)".into(),
        other => format!("{other:?}"),
    }
}

/// `ACL LOG` entries as field -> text maps (RESP2 flat pairs or RESP3 maps).
fn log_entries(v: &Value) -> Vec<BTreeMap<String, String>> {
    let Value::Array(entries) = v else {
        panic!("ACL LOG replied {v:?}, not an array");
    };
    entries
        .iter()
        .map(|e| match e {
            Value::Array(kv) => kv
                .chunks(2)
                .map(|p| {
                    (
                        value_text(&p[0]),
                        p.get(1).map(value_text).unwrap_or_default(),
                    )
                })
                .collect(),
            Value::Map(kv) => kv
                .iter()
                .map(|(k, v)| (value_text(k), value_text(v)))
                .collect(),
            other => panic!("an ACL LOG entry is {other:?}, not a map"),
        })
        .collect()
}

const DEFAULT_LINE: &str = "user default on nopass sanitize-payload ~* &* +@all";

#[tokio::test]
async fn acl_load_and_log_per_node() {
    let files = tempfile::tempdir().expect("tempdir");
    let acl_path = |id: usize| files.path().join(format!("node{id}.acl"));
    for id in 1..=3 {
        std::fs::write(acl_path(id), format!("{DEFAULT_LINE}\n")).expect("write an aclfile");
    }
    let dir = files.path().to_path_buf();
    let cluster = Cluster::start(
        3,
        ClusterOptions::new().node_args(move |id| {
            vec![(
                "aclfile".to_string(),
                dir.join(format!("node{id}.acl")).display().to_string(),
            )]
        }),
    );
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let ids = cluster.members();
    let mut admins = admin_clients(&cluster).await;
    let a1 = admins.get_mut(&1).expect("admin");
    let temp_rule = format!(">{}", secret("temppw"));
    ok(
        &cluster,
        a1,
        1,
        &["ACL", "SETUSER", "temp", "on", &temp_rule, "+@all"],
    )
    .await;
    let before = assert_same_acl_list(&cluster, &mut admins, "before ACL LOAD").await;
    let mu = masteruser(admins.get_mut(&1).expect("admin")).await;
    assert!(
        user_line(&before, &mu).is_some(),
        "the replication user {mu} is not in ACL LIST: {before:#?}"
    );

    // Node 2's file: what the cluster has but `temp`, plus carol and dave.
    let carol_pw = secret("carolpw");
    let dave_pw = secret("davepw");
    let mut content: Vec<String> = before
        .iter()
        .filter(|l| !l.starts_with("user temp "))
        .cloned()
        .collect();
    content.push(format!(
        "user carol on >{carol_pw} ~* resetchannels -@all +@read +ping"
    ));
    content.push(format!(
        "user dave on >{dave_pw} ~dave:* resetchannels -@all +@all"
    ));
    let path2 = acl_path(2);
    std::fs::write(&path2, content.join("\n") + "\n").expect("write node 2's aclfile");

    // A bad line: nothing changes anywhere, the error names the file and line.
    let good = std::fs::read_to_string(&path2).expect("read");
    let bad_pw = secret("evepw");
    std::fs::write(
        &path2,
        format!("{DEFAULT_LINE}\nuser eve on >{bad_pw} +nosuchcommand\n"),
    )
    .expect("write a bad aclfile");
    let r: RedisResult<String> = call(admins.get_mut(&2).expect("admin"), &["ACL", "LOAD"]).await;
    match &r {
        Err(e) if e.code() == Some("ERR") => {
            let detail = e.detail().unwrap_or("");
            assert!(
                detail.starts_with(&format!("{}:2: ", path2.display())),
                "ACL LOAD of a bad file: {detail}"
            );
            assert!(
                !detail.contains(&bad_pw),
                "the ACL LOAD error shows a password"
            );
        }
        other => panic!("ACL LOAD of a file with a bad line replied {other:?}"),
    }
    let after_bad = assert_same_acl_list(&cluster, &mut admins, "after a failed ACL LOAD").await;
    assert_eq!(after_bad, before, "a failed ACL LOAD changed the users");

    std::fs::write(&path2, &good).expect("restore node 2's aclfile");
    ok(
        &cluster,
        admins.get_mut(&2).expect("admin"),
        2,
        &["ACL", "LOAD"],
    )
    .await;
    let mut expected: Vec<String> = ["carol", "dave", "default", mu.as_str()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    for id in &ids {
        let users = acl_users(&cluster, admins.get_mut(id).expect("admin"), *id).await;
        assert_eq!(
            users,
            expected,
            "ACL USERS on node {id} right after ACL LOAD on node 2\n{}",
            cluster.diagnostics()
        );
    }
    assert_same_acl_list(&cluster, &mut admins, "after ACL LOAD on node 2").await;
    for id in &ids {
        let mut c = cluster.client(*id).await;
        ok(&cluster, &mut c, *id, &["AUTH", "carol", &carol_pw]).await;
    }
    // Replication still works (the replication user came through the file).
    let mut l = cluster.client(leader).await;
    set(&mut l, leader, "after-load", "1").await;
    for (id, c) in admins.iter_mut() {
        assert_eq!(get(c, *id, "after-load").await.as_deref(), Some("1"));
    }

    // ACL LOG: each denial only on the node that refused it.
    for (id, c) in admins.iter_mut() {
        ok(&cluster, c, *id, &["ACL", "LOG", "RESET"]).await;
    }
    // AUTH after connecting as default: the client's CLIENT SETINFO at connect time would be
    // a denial of its own for carol.
    let mut carol = cluster.client(3).await;
    ok(&cluster, &mut carol, 3, &["AUTH", "carol", &carol_pw]).await;
    let denied: RedisResult<String> = call(&mut carol, &["SET", "k", "v"]).await;
    assert_eq!(
        denied.as_ref().err().and_then(|e| e.code()),
        Some("NOPERM"),
        "SET by carol on node 3: {denied:?}"
    );
    let mut dave = cluster.client(1).await;
    ok(&cluster, &mut dave, 1, &["AUTH", "dave", &dave_pw]).await;
    let denied: RedisResult<String> = call(&mut dave, &["SET", "other:1", "v"]).await;
    assert_eq!(
        denied.as_ref().err().and_then(|e| e.code()),
        Some("NOPERM"),
        "SET other:1 by dave on node 1: {denied:?}"
    );
    let mut anon = cluster.client(2).await;
    assert_error(
        call::<String>(&mut anon, &["AUTH", "carol", "wrong-password"]).await,
        "WRONGPASS",
        WRONGPASS,
        "AUTH carol with a wrong password on node 2",
    );
    let expected: BTreeMap<usize, BTreeSet<(String, String, String)>> = [
        (1, ("key", "dave", "other:1")),
        (2, ("auth", "carol", "AUTH")),
        (3, ("command", "carol", "set")),
    ]
    .into_iter()
    .map(|(id, (r, u, o))| {
        (
            id,
            [(r.to_string(), u.to_string(), o.to_string())]
                .into_iter()
                .collect(),
        )
    })
    .collect();
    for (id, c) in admins.iter_mut() {
        let log: Value = call(c, &["ACL", "LOG"])
            .await
            .unwrap_or_else(|e| panic!("ACL LOG on node {id}: {e}"));
        let entries = log_entries(&log);
        let got: BTreeSet<(String, String, String)> = entries
            .iter()
            .map(|e| {
                let f = |k: &str| e.get(k).cloned().unwrap_or_default();
                (f("reason"), f("username"), f("object"))
            })
            .collect();
        // Only the reason and the user are Redis's contract for auth entries' object.
        let got_loose: BTreeSet<(String, String)> =
            got.iter().map(|(r, u, _)| (r.clone(), u.clone())).collect();
        let want_loose: BTreeSet<(String, String)> = expected[id]
            .iter()
            .map(|(r, u, _)| (r.clone(), u.clone()))
            .collect();
        assert_eq!(
            got_loose, want_loose,
            "ACL LOG on node {id} (reason, username); entries: {entries:#?}"
        );
        for (r, u, o) in &expected[id] {
            if r != "auth" {
                assert!(
                    got.contains(&(r.clone(), u.clone(), o.clone())),
                    "ACL LOG on node {id} lacks ({r}, {u}, {o}): {entries:#?}"
                );
            }
        }
    }

    // ACL SAVE writes hashes, never the passwords.
    ok(
        &cluster,
        admins.get_mut(&2).expect("admin"),
        2,
        &["ACL", "SAVE"],
    )
    .await;
    let saved = std::fs::read_to_string(&path2).expect("read the saved aclfile");
    assert!(
        saved
            .lines()
            .any(|l| l.starts_with("user carol on ") && l.contains(" #")),
        "the saved aclfile: {saved}"
    );
    assert!(
        !saved.contains(&carol_pw) && !saved.contains(&dave_pw),
        "ACL SAVE wrote a plaintext password"
    );
}
