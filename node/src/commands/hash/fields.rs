//! Setting, reading and deleting fields: HSET, HMSET, HSETNX, HGET, HMGET, HDEL, HLEN,
//! HEXISTS, HSTRLEN, HGETALL, HKEYS and HVALS.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::members::{read_members, remove_members};
use super::{field_value, lookup_hash, put_field};
use crate::commands::{CmdError, Ctx};
use crate::store::{KeyType, Meta};

/// HSET key field value [field value ...] -> number of fields created.
pub(super) fn hset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_fields(ctx, argv, "hset").map(Frame::Integer)
}

/// HMSET key field value [field value ...] -> OK (deprecated form of HSET).
pub(super) fn hmset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_fields(ctx, argv, "hmset").map(|_| Frame::ok())
}

fn set_fields(ctx: &mut Ctx<'_>, argv: &[Bytes], name: &str) -> Result<i64, CmdError> {
    if argv.len() % 2 == 1 {
        return Err(CmdError::WrongArity(name.to_string()));
    }
    let key = &argv[1];
    let mut meta = lookup_hash(ctx, key)?.unwrap_or_else(|| Meta::new(KeyType::Hash));
    let mut created = 0;
    for pair in argv[2..].chunks_exact(2) {
        if put_field(ctx, key, &mut meta, &pair[0], &pair[1])? {
            created += 1;
        }
    }
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(created)
}

/// HSETNX key field value -> 1 if the field was set, 0 if it already existed.
pub(super) fn hsetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, field) = (&argv[1], &argv[2]);
    let mut meta = lookup_hash(ctx, key)?.unwrap_or_else(|| Meta::new(KeyType::Hash));
    if meta.count > 0 && field_value(ctx, key, field)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    put_field(ctx, key, &mut meta, field, &argv[3])?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(1))
}

/// HGET key field -> bulk value or nil.
pub(super) fn hget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Null);
    }
    Ok(match field_value(ctx, &argv[1], &argv[2])? {
        Some(v) => Frame::Bulk(Bytes::copy_from_slice(&v)),
        None => Frame::Null,
    })
}

/// HMGET key field [field ...] -> array of values, nil for missing fields.
pub(super) fn hmget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let exists = lookup_hash(ctx, &argv[1])?.is_some();
    let mut out = Vec::with_capacity(argv.len() - 2);
    for field in &argv[2..] {
        let value = if exists {
            field_value(ctx, &argv[1], field)?
        } else {
            None
        };
        out.push(match value {
            Some(v) => Frame::Bulk(Bytes::copy_from_slice(&v)),
            None => Frame::Null,
        });
    }
    Ok(Frame::Array(out))
}

/// HDEL key field [field ...] -> number of fields removed; the hash goes when emptied.
pub(super) fn hdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let Some(mut meta) = lookup_hash(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let removed = remove_members(ctx, key, &mut meta, &argv[2..])?;
    Ok(Frame::Integer(removed as i64))
}

/// HLEN key -> number of fields.
pub(super) fn hlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let count = lookup_hash(ctx, &argv[1])?.map_or(0, |m| m.count);
    Ok(Frame::Integer(count as i64))
}

/// HEXISTS key field -> 1 or 0.
pub(super) fn hexists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Integer(0));
    }
    let found = field_value(ctx, &argv[1], &argv[2])?.is_some();
    Ok(Frame::Integer(i64::from(found)))
}

/// HSTRLEN key field -> length of the value, 0 when missing.
pub(super) fn hstrlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Integer(0));
    }
    let len = field_value(ctx, &argv[1], &argv[2])?.map_or(0, |v| v.len());
    Ok(Frame::Integer(len as i64))
}

/// HGETALL key -> map of field to value (RESP2: flat array).
pub(super) fn hgetall(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Map(Vec::new()));
    }
    let pairs = read_members(ctx, &argv[1])?;
    Ok(Frame::Map(
        pairs
            .into_iter()
            .map(|(f, v)| (Frame::Bulk(f), Frame::Bulk(v)))
            .collect(),
    ))
}

/// HKEYS key -> array of fields.
pub(super) fn hkeys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Array(Vec::new()));
    }
    let pairs = read_members(ctx, &argv[1])?;
    Ok(Frame::Array(
        pairs.into_iter().map(|(f, _)| Frame::Bulk(f)).collect(),
    ))
}

/// HVALS key -> array of values.
pub(super) fn hvals(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    if lookup_hash(ctx, &argv[1])?.is_none() {
        return Ok(Frame::Array(Vec::new()));
    }
    let pairs = read_members(ctx, &argv[1])?;
    Ok(Frame::Array(
        pairs.into_iter().map(|(_, v)| Frame::Bulk(v)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::hash::tests::sorted;
    use crate::commands::testutil::{arr, bulk, err, int, TestDb};

    #[test]
    fn hset_hget_count_new_fields_and_check_arity() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["HSET", "h", "a", "1", "b", "2"]), int(2));
        assert_eq!(db.exec(&["HSET", "h", "a", "10", "c", "3"]), int(1));
        assert_eq!(db.exec(&["HSET", "h", "d", "4", "d", "5"]), int(1));
        assert_eq!(db.exec(&["HGET", "h", "a"]), bulk("10"));
        assert_eq!(db.exec(&["HGET", "h", "d"]), bulk("5"));
        assert_eq!(db.exec(&["HGET", "h", "zz"]), Frame::Null);
        assert_eq!(db.exec(&["HGET", "nokey", "a"]), Frame::Null);
        assert_eq!(db.exec(&["HLEN", "h"]), int(4));
        assert_eq!(
            db.exec(&["HSET", "h", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(
            db.exec(&["HSET", "h", "a"]),
            err("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(db.exec(&["HMSET", "h", "x", "1", "y", "2"]), Frame::ok());
        assert_eq!(
            db.exec(&["HMSET", "h", "x", "1", "y"]),
            err("ERR wrong number of arguments for 'hmset' command")
        );
        assert_eq!(db.exec(&["HLEN", "h"]), int(6));
        assert_eq!(db.exec(&["HLEN", "nokey"]), int(0));
    }

    #[test]
    fn hsetnx_only_sets_missing_fields() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["HSETNX", "h", "a", "1"]), int(1));
        assert_eq!(db.exec(&["HSETNX", "h", "a", "2"]), int(0));
        assert_eq!(db.exec(&["HGET", "h", "a"]), bulk("1"));
        assert_eq!(db.exec(&["HLEN", "h"]), int(1));
    }

    #[test]
    fn hmget_hexists_hstrlen() {
        let mut db = TestDb::new();
        db.exec(&["HSET", "h", "a", "hello", "b", ""]);
        assert_eq!(
            db.exec(&["HMGET", "h", "a", "x", "b"]),
            Frame::Array(vec![bulk("hello"), Frame::Null, bulk("")])
        );
        assert_eq!(
            db.exec(&["HMGET", "nokey", "a", "b"]),
            Frame::Array(vec![Frame::Null, Frame::Null])
        );
        assert_eq!(db.exec(&["HEXISTS", "h", "a"]), int(1));
        assert_eq!(db.exec(&["HEXISTS", "h", "x"]), int(0));
        assert_eq!(db.exec(&["HEXISTS", "nokey", "x"]), int(0));
        assert_eq!(db.exec(&["HSTRLEN", "h", "a"]), int(5));
        assert_eq!(db.exec(&["HSTRLEN", "h", "b"]), int(0));
        assert_eq!(db.exec(&["HSTRLEN", "h", "x"]), int(0));
        assert_eq!(db.exec(&["HSTRLEN", "nokey", "x"]), int(0));
    }

    #[test]
    fn hdel_counts_and_deletes_emptied_hash() {
        let mut db = TestDb::new();
        db.exec(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(db.exec(&["HDEL", "h", "a", "a", "zz"]), int(1));
        assert_eq!(db.exec(&["HLEN", "h"]), int(2));
        assert_eq!(db.exec(&["HDEL", "h", "b", "c"]), int(2));
        assert_eq!(db.exec(&["HLEN", "h"]), int(0));
        assert_eq!(db.ks.lookup(b"h").expect("lookup"), None);
        assert_eq!(db.exec(&["HDEL", "nokey", "a"]), int(0));
    }

    #[test]
    fn hgetall_hkeys_hvals() {
        let mut db = TestDb::new();
        db.exec(&["HSET", "h", "a", "1", "b", "2"]);
        let Frame::Map(pairs) = db.exec(&["HGETALL", "h"]) else {
            panic!("HGETALL is not a map");
        };
        let mut pairs: Vec<(Frame, Frame)> = pairs;
        pairs.sort_by_key(|(k, _)| format!("{k:?}"));
        assert_eq!(pairs, vec![(bulk("a"), bulk("1")), (bulk("b"), bulk("2"))]);
        assert_eq!(db.exec(&["HGETALL", "nokey"]), Frame::Map(Vec::new()));
        assert_eq!(sorted(db.exec(&["HKEYS", "h"])), vec![bulk("a"), bulk("b")]);
        assert_eq!(sorted(db.exec(&["HVALS", "h"])), vec![bulk("1"), bulk("2")]);
        assert_eq!(db.exec(&["HKEYS", "nokey"]), arr(&[]));
        assert_eq!(db.exec(&["HVALS", "nokey"]), arr(&[]));
    }
}
