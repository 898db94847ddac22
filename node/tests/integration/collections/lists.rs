//! List commands.

use crate::common::*;

#[tokio::test]
async fn push_pop_and_lrange() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["RPUSH", "l", "a", "b", "c"], Ok(int(3))),
            (&["LPUSH", "l", "z"], Ok(int(4))),
            (&["LPUSH", "l2", "a", "b", "c"], Ok(int(3))),
            (&["LRANGE", "l2", "0", "-1"], Ok(bulks(&["c", "b", "a"]))),
            (
                &["LRANGE", "l", "0", "-1"],
                Ok(bulks(&["z", "a", "b", "c"])),
            ),
            (&["LRANGE", "l", "1", "2"], Ok(bulks(&["a", "b"]))),
            (&["LRANGE", "l", "-2", "-1"], Ok(bulks(&["b", "c"]))),
            (
                &["LRANGE", "l", "-100", "100"],
                Ok(bulks(&["z", "a", "b", "c"])),
            ),
            (&["LRANGE", "l", "5", "10"], Ok(arr(vec![]))),
            (&["LRANGE", "missing", "0", "-1"], Ok(arr(vec![]))),
            (&["LPOP", "l"], Ok(b("z"))),
            (&["RPOP", "l"], Ok(b("c"))),
            (&["LPOP", "l", "5"], Ok(bulks(&["a", "b"]))),
            (&["EXISTS", "l"], Ok(int(0))),
            (&["LPOP", "l"], Ok(nil())),
            (&["LPOP", "missing", "2"], Ok(nil())),
            (&["RPUSH", "l", "a", "b", "c"], Ok(int(3))),
            (&["RPOP", "l", "2"], Ok(bulks(&["c", "b"]))),
            (
                &["LPOP", "l", "-1"],
                Err("ERR value is out of range, must be positive"),
            ),
            (&["LLEN", "l"], Ok(int(1))),
        ],
    )
    .await;
}

#[tokio::test]
async fn lpushx_and_rpushx_need_an_existing_list() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["LPUSHX", "l", "a"], Ok(int(0))),
            (&["RPUSHX", "l", "a"], Ok(int(0))),
            (&["EXISTS", "l"], Ok(int(0))),
            (&["RPUSH", "l", "a"], Ok(int(1))),
            (&["LPUSHX", "l", "b", "c"], Ok(int(3))),
            (&["RPUSHX", "l", "d"], Ok(int(4))),
            (
                &["LRANGE", "l", "0", "-1"],
                Ok(bulks(&["c", "b", "a", "d"])),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn llen_lindex_lset() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["RPUSH", "l", "a", "b", "c"], Ok(int(3))),
            (&["LLEN", "l"], Ok(int(3))),
            (&["LLEN", "missing"], Ok(int(0))),
            (&["LINDEX", "l", "0"], Ok(b("a"))),
            (&["LINDEX", "l", "-1"], Ok(b("c"))),
            (&["LINDEX", "l", "5"], Ok(nil())),
            (&["LINDEX", "missing", "0"], Ok(nil())),
            (&["LINDEX", "l", "x"], Err(NOT_INTEGER)),
            (&["LSET", "l", "1", "B"], Ok(ok())),
            (&["LSET", "l", "-1", "C"], Ok(ok())),
            (&["LRANGE", "l", "0", "-1"], Ok(bulks(&["a", "B", "C"]))),
            (&["LSET", "l", "5", "x"], Err("ERR index out of range")),
            (&["LSET", "missing", "0", "x"], Err("ERR no such key")),
        ],
    )
    .await;
}

#[tokio::test]
async fn lrem_by_count_and_direction() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["RPUSH", "l", "a", "b", "a", "c", "a"], Ok(int(5))),
            (&["LREM", "l", "2", "a"], Ok(int(2))),
            (&["LRANGE", "l", "0", "-1"], Ok(bulks(&["b", "c", "a"]))),
            (&["RPUSH", "l", "a"], Ok(int(4))),
            (&["LREM", "l", "-1", "a"], Ok(int(1))),
            (&["LRANGE", "l", "0", "-1"], Ok(bulks(&["b", "c", "a"]))),
            (&["LREM", "l", "0", "a"], Ok(int(1))),
            (&["LREM", "l", "0", "zz"], Ok(int(0))),
            (&["LRANGE", "l", "0", "-1"], Ok(bulks(&["b", "c"]))),
            (&["LREM", "l", "0", "b"], Ok(int(1))),
            (&["LREM", "l", "0", "c"], Ok(int(1))),
            (&["EXISTS", "l"], Ok(int(0))),
        ],
    )
    .await;
}

#[tokio::test]
async fn ltrim_keeps_a_range() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["RPUSH", "l", "a", "b", "c", "d", "e"], Ok(int(5))),
            (&["LTRIM", "l", "1", "-2"], Ok(ok())),
            (&["LRANGE", "l", "0", "-1"], Ok(bulks(&["b", "c", "d"]))),
            (&["LTRIM", "l", "5", "10"], Ok(ok())),
            (&["EXISTS", "l"], Ok(int(0))),
            (&["LTRIM", "missing", "0", "1"], Ok(ok())),
        ],
    )
    .await;
}

#[tokio::test]
async fn linsert_before_and_after() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["RPUSH", "l", "a", "c"], Ok(int(2))),
            (&["LINSERT", "l", "BEFORE", "c", "b"], Ok(int(3))),
            (&["LINSERT", "l", "after", "c", "d"], Ok(int(4))),
            (
                &["LRANGE", "l", "0", "-1"],
                Ok(bulks(&["a", "b", "c", "d"])),
            ),
            (&["LINSERT", "l", "BEFORE", "zz", "x"], Ok(int(-1))),
            (&["LINSERT", "missing", "BEFORE", "a", "x"], Ok(int(0))),
            (&["LINSERT", "l", "MIDDLE", "a", "x"], Err(SYNTAX)),
        ],
    )
    .await;
}

#[tokio::test]
async fn lpos_rank_count_maxlen() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"], Ok(int(8))),
            (&["LPOS", "l", "c"], Ok(int(2))),
            (&["LPOS", "l", "c", "RANK", "2"], Ok(int(6))),
            (&["LPOS", "l", "c", "RANK", "-1"], Ok(int(7))),
            (&["LPOS", "l", "c", "COUNT", "2"], Ok(arr(vec![int(2), int(6)]))),
            (&["LPOS", "l", "c", "COUNT", "0"], Ok(arr(vec![int(2), int(6), int(7)]))),
            (&["LPOS", "l", "c", "RANK", "-1", "COUNT", "2"], Ok(arr(vec![int(7), int(6)]))),
            (&["LPOS", "l", "c", "MAXLEN", "2"], Ok(nil())),
            (&["LPOS", "l", "zz"], Ok(nil())),
            (&["LPOS", "l", "zz", "COUNT", "1"], Ok(arr(vec![]))),
            (&["LPOS", "missing", "a"], Ok(nil())),
            (&["LPOS", "l", "c", "RANK", "0"], Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")),
            (&["LPOS", "l", "c", "COUNT", "-1"], Err("ERR COUNT can't be negative")),
        ],
    )
    .await;
}

#[tokio::test]
async fn lmove_and_rpoplpush() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["RPUSH", "src", "a", "b", "c"], Ok(int(3))),
            (&["LMOVE", "src", "dst", "LEFT", "RIGHT"], Ok(b("a"))),
            (&["LMOVE", "src", "dst", "RIGHT", "LEFT"], Ok(b("c"))),
            (&["LRANGE", "src", "0", "-1"], Ok(bulks(&["b"]))),
            (&["LRANGE", "dst", "0", "-1"], Ok(bulks(&["c", "a"]))),
            (&["RPOPLPUSH", "src", "dst"], Ok(b("b"))),
            (&["EXISTS", "src"], Ok(int(0))),
            (&["LRANGE", "dst", "0", "-1"], Ok(bulks(&["b", "c", "a"]))),
            (&["RPOPLPUSH", "missing", "dst"], Ok(nil())),
            // The same list on both sides rotates it.
            (&["LMOVE", "dst", "dst", "LEFT", "RIGHT"], Ok(b("b"))),
            (&["LRANGE", "dst", "0", "-1"], Ok(bulks(&["c", "a", "b"]))),
            (&["LMOVE", "dst", "x", "UP", "DOWN"], Err(SYNTAX)),
            (&["SET", "s", "v"], Ok(ok())),
            (&["LMOVE", "dst", "s", "LEFT", "LEFT"], Err(WRONGTYPE)),
            (&["LLEN", "dst"], Ok(int(3))),
        ],
    )
    .await;
}

#[tokio::test]
async fn list_commands_refuse_other_types() {
    let (_node, mut c) = start().await;
    expect_each(
        &mut c,
        &[
            (&["SET", "s", "v"], Ok(ok())),
            (&["LPUSH", "s", "a"], Err(WRONGTYPE)),
            (&["RPUSH", "s", "a"], Err(WRONGTYPE)),
            (&["LRANGE", "s", "0", "-1"], Err(WRONGTYPE)),
            (&["LLEN", "s"], Err(WRONGTYPE)),
            (&["LPOP", "s"], Err(WRONGTYPE)),
        ],
    )
    .await;
}
