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
    expect_each(
        &mut u,
        &[
            (&["PING"], Err(&noperm_cmd("selector-1", "ping"))),
            (
                &["SET", "write::foo", "bar"],
                Err(&noperm_cmd("selector-1", "set")),
            ),
            (&["GET", "read::foo"], Err(&noperm_cmd("selector-1", "get"))),
        ],
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
    expect_each(
        &mut u,
        &[
            (&["PING"], Err(&noperm_cmd("selector-1", "ping"))),
            (&["SET", "write::foo", "bar"], Ok(ok())),
            (&["GET", "read::foo"], Ok(nil())),
            (&["GET", "write::foo"], Err(NOPERM_KEY)),
            (&["SET", "read::foo", "bar"], Err(NOPERM_KEY)),
        ],
    )
    .await;
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
    expect_each(
        &mut s2,
        &[
            (&["GET", "shared:1"], Ok(b("s"))),
            (&["GET", "own:1"], Err(NOPERM_KEY)),
            (&["SET", "shared:1", "x"], Err(NOPERM_KEY)),
            (&["INCR", "own:1"], Err(&noperm_cmd("sel2", "incr"))),
        ],
    )
    .await;
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
    expect_each(
        &mut rw,
        &[
            (&["LPUSH", "writelist", "10"], Ok(int(1))),
            (&["GET", "writestr"], Err(NOPERM_KEY)),
            (&["LPUSH", "notwrite", "10"], Err(NOPERM_KEY)),
        ],
    )
    .await;
    expect(&mut c, &["SET", "readstr", "bar"], ok()).await;
    expect_each(
        &mut rw,
        &[
            (&["GET", "readstr"], Ok(b("bar"))),
            (&["SET", "readstr", "bar"], Err(NOPERM_KEY)),
            (&["GET", "notread"], Err(NOPERM_KEY)),
            (&["COPY", "readstr", "writestr"], Err(NOPERM_KEY)),
            (&["COPY", "writelist", "readstr2"], Err(NOPERM_KEY)),
        ],
    )
    .await;
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
