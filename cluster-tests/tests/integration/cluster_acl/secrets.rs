//! No plaintext password reaches a log, INFO or a data file.

use std::path::{Path, PathBuf};

use redoubt_cluster_tests::cluster::set;
use redoubt_cluster_tests::raw::RawConn;

use super::*;

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn secrets_absent_from_logs_and_data() {
    let cluster = Cluster::start(
        3,
        ClusterOptions::new()
            .arg("raft-snapshot-logs", "20")
            .arg("loglevel", "debug"),
    );
    let mut cluster = cluster;
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await;
    let followers = cluster.followers().await;
    let ids = cluster.members();
    let mut admins = admin_clients(&cluster).await;
    let mut secrets: Vec<(&str, String)> =
        vec![("cluster masterauth", cluster.masterauth().into())];
    let user_pw = secret("userpw");
    let second_pw = secret("secondpw");
    let wrong_pw = secret("wrongpw");
    let bad_rule_pw = secret("badrulepw");
    let requirepass = secret("requirepass");
    let new_masterauth = secret("newmasterauth");
    secrets.extend([
        ("SETUSER >password", user_pw.clone()),
        ("second SETUSER >password", second_pw.clone()),
        ("wrong AUTH password", wrong_pw.clone()),
        ("password in a refused SETUSER", bad_rule_pw.clone()),
        ("requirepass", requirepass.clone()),
        ("new masterauth", new_masterauth.clone()),
    ]);

    let f = followers[0];
    let rule = format!(">{user_pw}");
    ok(
        &cluster,
        admins.get_mut(&f).expect("admin"),
        f,
        &["ACL", "SETUSER", "secretive", "on", &rule, "~*", "+@all"],
    )
    .await;
    for id in &ids {
        let mut c = cluster.client(*id).await;
        ok(&cluster, &mut c, *id, &["AUTH", "secretive", &user_pw]).await;
        set(&mut c, *id, &format!("secretive:{id}"), "v").await;
        let mut w = cluster.client(*id).await;
        assert_error(
            call::<String>(&mut w, &["AUTH", "secretive", &wrong_pw]).await,
            "WRONGPASS",
            WRONGPASS,
            &format!("AUTH with a wrong password on node {id}"),
        );
        let mut raw = RawConn::connect(cluster.node(*id).port()).await;
        let hello = raw
            .call(&[
                b"HELLO",
                b"3",
                b"AUTH",
                b"secretive",
                user_pw.as_bytes(),
                b"SETNAME",
                b"secretive-conn",
            ])
            .await;
        assert!(
            hello.starts_with(b"%"),
            "HELLO 3 AUTH on node {id}: {:?}",
            String::from_utf8_lossy(&hello)
        );
    }
    let swap = [format!(">{second_pw}"), format!("<{user_pw}")];
    ok(
        &cluster,
        admins.get_mut(&leader).expect("admin"),
        leader,
        &["ACL", "SETUSER", "secretive", &swap[0], &swap[1]],
    )
    .await;
    let bad = format!(">{bad_rule_pw}");
    let refused: RedisResult<String> = call(
        admins.get_mut(&f).expect("admin"),
        &["ACL", "SETUSER", "broken", &bad, "+nosuchcommand"],
    )
    .await;
    match &refused {
        Err(e) => assert!(
            !e.to_string().contains(&bad_rule_pw),
            "the SETUSER error shows the password"
        ),
        Ok(r) => panic!("ACL SETUSER with an unknown command replied {r}"),
    }

    // requirepass, set on one node, used on another, cleared.
    ok(
        &cluster,
        admins.get_mut(&2).expect("admin"),
        2,
        &["CONFIG", "SET", "requirepass", &requirepass],
    )
    .await;
    let mut c3 = cluster.client(3).await;
    ok(&cluster, &mut c3, 3, &["AUTH", &requirepass]).await;
    ok(&cluster, &mut c3, 3, &["CONFIG", "SET", "requirepass", ""]).await;

    // masterauth rotation.
    let mu = masteruser(admins.get_mut(&leader).expect("admin")).await;
    let add = format!(">{new_masterauth}");
    ok(
        &cluster,
        admins.get_mut(&leader).expect("admin"),
        leader,
        &["ACL", "SETUSER", &mu, &add],
    )
    .await;
    for id in &ids {
        ok(
            &cluster,
            admins.get_mut(id).expect("admin"),
            *id,
            &["CONFIG", "SET", "masterauth", &new_masterauth],
        )
        .await;
    }
    let remove = format!("<{}", cluster.masterauth());
    ok(
        &cluster,
        admins.get_mut(&leader).expect("admin"),
        leader,
        &["ACL", "SETUSER", &mu, &remove],
    )
    .await;

    // Enough writes for snapshots, a known plaintext value to show the scan sees data.
    let canary = secret("canary-value");
    let mut l = cluster.client(leader).await;
    set(&mut l, leader, "canary", &canary).await;
    for i in 0..60 {
        set(&mut l, leader, &format!("filler-{i}"), "x").await;
    }
    // A restart (log replay, snapshot load) with the new replication password.
    let old_process = cluster.restart_with_masterauth(followers[1], &new_masterauth);
    cluster.wait_follows(followers[1], CATCH_UP).await;
    cluster.wait_caught_up(followers[1], CATCH_UP).await;

    let mut admins = admin_clients(&cluster).await;
    for (id, c) in admins.iter_mut() {
        let info: String = call(c, &["INFO", "everything"])
            .await
            .unwrap_or_else(|e| panic!("INFO everything on node {id}: {e}"));
        for (what, s) in &secrets {
            assert!(
                !info.contains(s.as_str()),
                "INFO on node {id} shows the {what}"
            );
        }
    }
    drop(admins);
    for id in cluster.ids() {
        if cluster.node_mut(id).is_running() {
            cluster.stop(id);
        }
    }

    let mut findings = Vec::new();
    for id in cluster.ids() {
        let node = cluster.node(id);
        let mut files = Vec::new();
        files_under(node.dir(), &mut files);
        assert!(
            node.log().contains("SIGTERM"),
            "node {id}'s log ({}) is not where the scan looks",
            node.log_path().display()
        );
        let mut canary_seen = false;
        for file in &files {
            let bytes = std::fs::read(file).unwrap_or_default();
            if find(&bytes, canary.as_bytes()).is_some() {
                canary_seen = true;
            }
            for (what, s) in &secrets {
                if let Some(at) = find(&bytes, s.as_bytes()) {
                    let from = at.saturating_sub(100);
                    let to = (at + s.len() + 40).min(bytes.len());
                    findings.push(format!(
                        "node {id}: the {what} is in {} near: {:?}",
                        file.display(),
                        String::from_utf8_lossy(&bytes[from..to]).replace(s.as_str(), "<SECRET>")
                    ));
                }
            }
        }
        assert!(
            canary_seen,
            "node {id}: the canary value written with SET is in none of {} files under {}; \
             the scan would not see a plaintext password either: {:?}\n{}",
            files.len(),
            node.dir().display(),
            files
                .iter()
                .map(|f| (
                    f.display().to_string(),
                    std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)
                ))
                .collect::<Vec<_>>(),
            node.log()
        );
    }
    assert!(
        findings.is_empty(),
        "plaintext passwords on disk:\n{}",
        findings.join("\n")
    );
    drop(cluster);
    drop(old_process);
}
