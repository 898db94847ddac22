//! Users are replicated state, read linearizably: a user created on one node authenticates at
//! once on every node, and once deleted on another is refused everywhere at once.

use redoubt_cluster_tests::cluster::{get, set};

use super::*;

#[tokio::test]
async fn user_created_on_one_node_authenticates_on_every_node() {
    let (cluster, leader) = started().await;
    let followers = cluster.followers().await;
    let ids = cluster.members();
    let mut admins = admin_clients(&cluster).await;
    let creators = [followers[0], leader, followers[1]];
    for round in 0..9 {
        let creator = creators[round % creators.len()];
        let user = format!("alice{round}");
        let pass = secret("alicepw");
        let rule = format!(">{pass}");
        ok(
            &cluster,
            admins.get_mut(&creator).expect("admin"),
            creator,
            &["ACL", "SETUSER", &user, "on", &rule, "~*", "+@all"],
        )
        .await;
        // At once, no wait: the other nodes first, then the creator.
        let order: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|id| *id != creator)
            .chain([creator])
            .collect();
        for id in &order {
            let mut c = cluster.client(*id).await;
            match call::<String>(&mut c, &["AUTH", &user, &pass]).await {
                Ok(r) if r == "OK" => {}
                other => panic!(
                    "round {round}: AUTH {user} on node {id}, right after ACL SETUSER returned OK \
                     on node {creator} (leader {leader}), replied {other:?}\n{}",
                    cluster.diagnostics()
                ),
            }
            let who: String = call(&mut c, &["ACL", "WHOAMI"])
                .await
                .unwrap_or_else(|e| panic!("ACL WHOAMI on node {id}: {e}"));
            assert_eq!(who, user, "ACL WHOAMI on node {id} after AUTH {user}");
            let key = format!("{user}:on-{id}");
            set(&mut c, *id, &key, "v").await;
            assert_eq!(
                get(&mut c, *id, &key).await.as_deref(),
                Some("v"),
                "{user} reads back its own write on node {id}"
            );
        }
        let list = assert_same_acl_list(
            &cluster,
            &mut admins,
            &format!("round {round}, right after SETUSER {user} on node {creator}"),
        )
        .await;
        let line = user_line(&list, &user)
            .unwrap_or_else(|| panic!("round {round}: ACL LIST has no line for {user}: {list:#?}"));
        let tokens: Vec<&str> = line.split(' ').collect();
        assert!(
            tokens.contains(&"on") && !hash_tokens(line).is_empty(),
            "round {round}: {user}'s ACL LIST line: {line}"
        );
        assert!(!line.contains(&pass), "ACL LIST shows {user}'s password");

        // Deleted on another node: refused everywhere at once.
        let deleter = order[round % (order.len() - 1)];
        let deleted: i64 = call(
            admins.get_mut(&deleter).expect("admin"),
            &["ACL", "DELUSER", &user],
        )
        .await
        .unwrap_or_else(|e| panic!("ACL DELUSER {user} on node {deleter}: {e}"));
        assert_eq!(deleted, 1, "ACL DELUSER {user} on node {deleter}");
        let order: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|id| *id != deleter)
            .chain([deleter])
            .collect();
        for id in order {
            let mut c = cluster.client(id).await;
            assert_error(
                call::<String>(&mut c, &["AUTH", &user, &pass]).await,
                "WRONGPASS",
                WRONGPASS,
                &format!(
                    "round {round}: AUTH {user} on node {id} right after ACL DELUSER on node \
                     {deleter}"
                ),
            );
        }
        let list = assert_same_acl_list(
            &cluster,
            &mut admins,
            &format!("round {round}, right after DELUSER {user} on node {deleter}"),
        )
        .await;
        assert!(
            user_line(&list, &user).is_none(),
            "round {round}: ACL LIST still lists {user} after DELUSER: {list:#?}"
        );
    }
}
