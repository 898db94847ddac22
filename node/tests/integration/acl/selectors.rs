//! Selectors: commands allowed through a selector, on the selector's own keys.

use crate::acl_common::*;
use crate::common::*;

/// Selectors: a command allowed only through a selector, on the selector's keys (port of
/// acl-v2.tcl "Test basic multiple selectors" and "...not additive").
#[tokio::test]
async fn selectors_allow_commands_on_their_own_keys() {
    let (node, mut c) = start().await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "selector-1",
            "on",
            "-@all",
            "resetkeys",
            "nopass",
        ],
        ok(),
    )
    .await;
    let mut u = login(&node, "selector-1", "password").await;
    expect_err(&mut u, &["PING"], &noperm_cmd("selector-1", "ping")).await;
    expect_err(
        &mut u,
        &["SET", "write::foo", "bar"],
        &noperm_cmd("selector-1", "set"),
    )
    .await;
    expect_err(
        &mut u,
        &["GET", "read::foo"],
        &noperm_cmd("selector-1", "get"),
    )
    .await;
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "selector-1",
            "(+@write ~write::*)",
            "(+@read ~read::*)",
        ],
        ok(),
    )
    .await;
    expect_err(&mut u, &["PING"], &noperm_cmd("selector-1", "ping")).await;
    expect(&mut u, &["SET", "write::foo", "bar"], ok()).await;
    expect(&mut u, &["GET", "read::foo"], nil()).await;
    expect_err(&mut u, &["GET", "write::foo"], NOPERM_KEY).await;
    expect_err(&mut u, &["SET", "read::foo", "bar"], NOPERM_KEY).await;
    expect(&mut c, &["GET", "write::foo"], b("bar")).await;
    expect(&mut c, &["EXISTS", "read::foo"], int(0)).await;

    // A root that allows SET on own:*, and GET only through a selector on shared:*.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "sel2",
            "on",
            ">s2pw",
            "~own:*",
            "&*",
            "-@all",
            "+set",
            "(+get ~shared:* resetchannels)",
        ],
        ok(),
    )
    .await;
    assert_eq!(
        list_line(&mut c, "sel2").await,
        format!(
            "user sel2 on sanitize-payload #{} ~own:* &* -@all +set (~shared:* resetchannels -@all +get)",
            sha256_hex("s2pw")
        )
    );
    let mut s2 = login(&node, "sel2", "s2pw").await;
    expect(&mut s2, &["SET", "own:1", "a"], ok()).await;
    expect(&mut c, &["SET", "shared:1", "s"], ok()).await;
    expect(&mut s2, &["GET", "shared:1"], b("s")).await;
    expect_err(&mut s2, &["GET", "own:1"], NOPERM_KEY).await;
    expect_err(&mut s2, &["SET", "shared:1", "x"], NOPERM_KEY).await;
    expect_err(&mut s2, &["INCR", "own:1"], &noperm_cmd("sel2", "incr")).await;
    expect(&mut c, &["GET", "shared:1"], b("s")).await;
    // clearselectors takes the selector's grant away.
    expect(&mut c, &["ACL", "SETUSER", "sel2", "clearselectors"], ok()).await;
    expect_err(&mut s2, &["GET", "shared:1"], &noperm_cmd("sel2", "get")).await;

    // Read and write permissions of different selectors do not add up.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "rw-sel",
            "on",
            "nopass",
            "(%R~read* +@all)",
            "(%W~write* +@all)",
        ],
        ok(),
    )
    .await;
    let mut rw = login(&node, "rw-sel", "x").await;
    expect(&mut rw, &["LPUSH", "writelist", "10"], int(1)).await;
    expect_err(&mut rw, &["GET", "writestr"], NOPERM_KEY).await;
    expect_err(&mut rw, &["LPUSH", "notwrite", "10"], NOPERM_KEY).await;
    expect(&mut c, &["SET", "readstr", "bar"], ok()).await;
    expect(&mut rw, &["GET", "readstr"], b("bar")).await;
    expect_err(&mut rw, &["SET", "readstr", "bar"], NOPERM_KEY).await;
    expect_err(&mut rw, &["GET", "notread"], NOPERM_KEY).await;
    expect_err(&mut rw, &["COPY", "readstr", "writestr"], NOPERM_KEY).await;
    expect_err(&mut rw, &["COPY", "writelist", "readstr2"], NOPERM_KEY).await;
    // The same patterns in one selector do add up.
    expect(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "rw-one",
            "on",
            "nopass",
            "%R~read*",
            "%W~write*",
            "+@all",
        ],
        ok(),
    )
    .await;
    let mut one = login(&node, "rw-one", "x").await;
    expect(&mut one, &["COPY", "readstr", "writestr"], int(1)).await;
    expect_err(&mut one, &["COPY", "writestr", "readstr"], NOPERM_KEY).await;
}
