//! List commands.

use crate::common::*;

#[tokio::test]
async fn push_pop_and_lrange() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["LPUSH", "l", "z"], int(4)).await;
    expect(&mut c, &["LPUSH", "l2", "a", "b", "c"], int(3)).await;
    expect(
        &mut c,
        &["LRANGE", "l2", "0", "-1"],
        bulks(&["c", "b", "a"]),
    )
    .await;
    expect(
        &mut c,
        &["LRANGE", "l", "0", "-1"],
        bulks(&["z", "a", "b", "c"]),
    )
    .await;
    expect(&mut c, &["LRANGE", "l", "1", "2"], bulks(&["a", "b"])).await;
    expect(&mut c, &["LRANGE", "l", "-2", "-1"], bulks(&["b", "c"])).await;
    expect(
        &mut c,
        &["LRANGE", "l", "-100", "100"],
        bulks(&["z", "a", "b", "c"]),
    )
    .await;
    expect(&mut c, &["LRANGE", "l", "5", "10"], arr(vec![])).await;
    expect(&mut c, &["LRANGE", "missing", "0", "-1"], arr(vec![])).await;
    expect(&mut c, &["LPOP", "l"], b("z")).await;
    expect(&mut c, &["RPOP", "l"], b("c")).await;
    expect(&mut c, &["LPOP", "l", "5"], bulks(&["a", "b"])).await;
    expect(&mut c, &["EXISTS", "l"], int(0)).await;
    expect(&mut c, &["LPOP", "l"], nil()).await;
    expect(&mut c, &["LPOP", "missing", "2"], nil()).await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["RPOP", "l", "2"], bulks(&["c", "b"])).await;
    expect_err(
        &mut c,
        &["LPOP", "l", "-1"],
        "ERR value is out of range, must be positive",
    )
    .await;
    expect(&mut c, &["LLEN", "l"], int(1)).await;
}

#[tokio::test]
async fn lpushx_and_rpushx_need_an_existing_list() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["LPUSHX", "l", "a"], int(0)).await;
    expect(&mut c, &["RPUSHX", "l", "a"], int(0)).await;
    expect(&mut c, &["EXISTS", "l"], int(0)).await;
    expect(&mut c, &["RPUSH", "l", "a"], int(1)).await;
    expect(&mut c, &["LPUSHX", "l", "b", "c"], int(3)).await;
    expect(&mut c, &["RPUSHX", "l", "d"], int(4)).await;
    expect(
        &mut c,
        &["LRANGE", "l", "0", "-1"],
        bulks(&["c", "b", "a", "d"]),
    )
    .await;
}

#[tokio::test]
async fn llen_lindex_lset() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["LLEN", "l"], int(3)).await;
    expect(&mut c, &["LLEN", "missing"], int(0)).await;
    expect(&mut c, &["LINDEX", "l", "0"], b("a")).await;
    expect(&mut c, &["LINDEX", "l", "-1"], b("c")).await;
    expect(&mut c, &["LINDEX", "l", "5"], nil()).await;
    expect(&mut c, &["LINDEX", "missing", "0"], nil()).await;
    expect_err(&mut c, &["LINDEX", "l", "x"], NOT_INTEGER).await;
    expect(&mut c, &["LSET", "l", "1", "B"], ok()).await;
    expect(&mut c, &["LSET", "l", "-1", "C"], ok()).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["a", "B", "C"])).await;
    expect_err(&mut c, &["LSET", "l", "5", "x"], "ERR index out of range").await;
    expect_err(&mut c, &["LSET", "missing", "0", "x"], "ERR no such key").await;
}

#[tokio::test]
async fn lrem_by_count_and_direction() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "a", "c", "a"], int(5)).await;
    expect(&mut c, &["LREM", "l", "2", "a"], int(2)).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["b", "c", "a"])).await;
    expect(&mut c, &["RPUSH", "l", "a"], int(4)).await;
    expect(&mut c, &["LREM", "l", "-1", "a"], int(1)).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["b", "c", "a"])).await;
    expect(&mut c, &["LREM", "l", "0", "a"], int(1)).await;
    expect(&mut c, &["LREM", "l", "0", "zz"], int(0)).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["b", "c"])).await;
    expect(&mut c, &["LREM", "l", "0", "b"], int(1)).await;
    expect(&mut c, &["LREM", "l", "0", "c"], int(1)).await;
    expect(&mut c, &["EXISTS", "l"], int(0)).await;
}

#[tokio::test]
async fn ltrim_keeps_a_range() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"], int(5)).await;
    expect(&mut c, &["LTRIM", "l", "1", "-2"], ok()).await;
    expect(&mut c, &["LRANGE", "l", "0", "-1"], bulks(&["b", "c", "d"])).await;
    expect(&mut c, &["LTRIM", "l", "5", "10"], ok()).await;
    expect(&mut c, &["EXISTS", "l"], int(0)).await;
    expect(&mut c, &["LTRIM", "missing", "0", "1"], ok()).await;
}

#[tokio::test]
async fn linsert_before_and_after() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "l", "a", "c"], int(2)).await;
    expect(&mut c, &["LINSERT", "l", "BEFORE", "c", "b"], int(3)).await;
    expect(&mut c, &["LINSERT", "l", "after", "c", "d"], int(4)).await;
    expect(
        &mut c,
        &["LRANGE", "l", "0", "-1"],
        bulks(&["a", "b", "c", "d"]),
    )
    .await;
    expect(&mut c, &["LINSERT", "l", "BEFORE", "zz", "x"], int(-1)).await;
    expect(&mut c, &["LINSERT", "missing", "BEFORE", "a", "x"], int(0)).await;
    expect_err(&mut c, &["LINSERT", "l", "MIDDLE", "a", "x"], SYNTAX).await;
}

#[tokio::test]
async fn lpos_rank_count_maxlen() {
    let (_node, mut c) = start().await;
    expect(
        &mut c,
        &["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"],
        int(8),
    )
    .await;
    expect(&mut c, &["LPOS", "l", "c"], int(2)).await;
    expect(&mut c, &["LPOS", "l", "c", "RANK", "2"], int(6)).await;
    expect(&mut c, &["LPOS", "l", "c", "RANK", "-1"], int(7)).await;
    expect(
        &mut c,
        &["LPOS", "l", "c", "COUNT", "2"],
        arr(vec![int(2), int(6)]),
    )
    .await;
    expect(
        &mut c,
        &["LPOS", "l", "c", "COUNT", "0"],
        arr(vec![int(2), int(6), int(7)]),
    )
    .await;
    expect(
        &mut c,
        &["LPOS", "l", "c", "RANK", "-1", "COUNT", "2"],
        arr(vec![int(7), int(6)]),
    )
    .await;
    expect(&mut c, &["LPOS", "l", "c", "MAXLEN", "2"], nil()).await;
    expect(&mut c, &["LPOS", "l", "zz"], nil()).await;
    expect(&mut c, &["LPOS", "l", "zz", "COUNT", "1"], arr(vec![])).await;
    expect(&mut c, &["LPOS", "missing", "a"], nil()).await;
    expect_err(
        &mut c,
        &["LPOS", "l", "c", "RANK", "0"],
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
    )
    .await;
    expect_err(
        &mut c,
        &["LPOS", "l", "c", "COUNT", "-1"],
        "ERR COUNT can't be negative",
    )
    .await;
}

#[tokio::test]
async fn lmove_and_rpoplpush() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["RPUSH", "src", "a", "b", "c"], int(3)).await;
    expect(&mut c, &["LMOVE", "src", "dst", "LEFT", "RIGHT"], b("a")).await;
    expect(&mut c, &["LMOVE", "src", "dst", "RIGHT", "LEFT"], b("c")).await;
    expect(&mut c, &["LRANGE", "src", "0", "-1"], bulks(&["b"])).await;
    expect(&mut c, &["LRANGE", "dst", "0", "-1"], bulks(&["c", "a"])).await;
    expect(&mut c, &["RPOPLPUSH", "src", "dst"], b("b")).await;
    expect(&mut c, &["EXISTS", "src"], int(0)).await;
    expect(
        &mut c,
        &["LRANGE", "dst", "0", "-1"],
        bulks(&["b", "c", "a"]),
    )
    .await;
    expect(&mut c, &["RPOPLPUSH", "missing", "dst"], nil()).await;
    // The same list on both sides rotates it.
    expect(&mut c, &["LMOVE", "dst", "dst", "LEFT", "RIGHT"], b("b")).await;
    expect(
        &mut c,
        &["LRANGE", "dst", "0", "-1"],
        bulks(&["c", "a", "b"]),
    )
    .await;
    expect_err(&mut c, &["LMOVE", "dst", "x", "UP", "DOWN"], SYNTAX).await;
    expect(&mut c, &["SET", "s", "v"], ok()).await;
    expect_err(&mut c, &["LMOVE", "dst", "s", "LEFT", "LEFT"], WRONGTYPE).await;
    expect(&mut c, &["LLEN", "dst"], int(3)).await;
}

#[tokio::test]
async fn list_commands_refuse_other_types() {
    let (_node, mut c) = start().await;
    expect(&mut c, &["SET", "s", "v"], ok()).await;
    expect_err(&mut c, &["LPUSH", "s", "a"], WRONGTYPE).await;
    expect_err(&mut c, &["RPUSH", "s", "a"], WRONGTYPE).await;
    expect_err(&mut c, &["LRANGE", "s", "0", "-1"], WRONGTYPE).await;
    expect_err(&mut c, &["LLEN", "s"], WRONGTYPE).await;
    expect_err(&mut c, &["LPOP", "s"], WRONGTYPE).await;
}
