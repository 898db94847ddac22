//! String commands: GET, SET and friends.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::args::{is_kw, parse_i64};
use super::flag::*;
use super::{CmdError, CommandSpec, Ctx, Exec, KeySpec};
use crate::store::{KeyType, Meta};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        group: "string",
        summary: "Returns the string value of a key.",
        since: "1.0.0",
        arity: 2,
        flags: READONLY | FAST,
        acl: &["string"],
        keys: KeySpec::ONE,
        exec: Exec::Read(get),
        subcommands: &[],
    },
    CommandSpec {
        name: "set",
        group: "string",
        summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        since: "1.0.0",
        arity: -3,
        flags: WRITE | DENYOOM,
        acl: &["string"],
        keys: KeySpec::ONE,
        exec: Exec::Write(set),
        subcommands: &[],
    },
];

/// The live string value of `key`, WRONGTYPE for another type.
pub fn read_string(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Meta>, CmdError> {
    Ok(ctx.ks.lookup_typed(key, KeyType::String)?)
}

/// GET key -> bulk value or nil.
fn get(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    Ok(match read_string(ctx, &argv[1])? {
        Some(meta) => Frame::Bulk(meta.value),
        None => Frame::Null,
    })
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ts-ms | KEEPTTL]
/// -> OK, nil when NX/XX prevented it, or the old value with GET.
fn set(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, value) = (&argv[1], &argv[2]);
    let mut nx = false;
    let mut xx = false;
    let mut get_old = false;
    let mut keep_ttl = false;
    let mut expire: Option<u64> = None;
    let mut expire_given = false;
    let mut i = 3;
    while i < argv.len() {
        let a = &argv[i];
        let next = argv.get(i + 1);
        if is_kw(a, "NX") && !xx {
            nx = true;
        } else if is_kw(a, "XX") && !nx {
            xx = true;
        } else if is_kw(a, "GET") {
            get_old = true;
        } else if is_kw(a, "KEEPTTL") && !expire_given {
            keep_ttl = true;
        } else if (is_kw(a, "EX") || is_kw(a, "PX") || is_kw(a, "EXAT") || is_kw(a, "PXAT"))
            && !keep_ttl
            && !expire_given
            && next.is_some()
        {
            let n = parse_i64(next.map(|b| &b[..]).unwrap_or_default())?;
            expire = Some(absolute_expiry(ctx, a, n, "set")?);
            expire_given = true;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let old = ctx.ks.lookup(key)?;
    if get_old {
        if let Some(m) = &old {
            if m.ty != KeyType::String {
                return Err(CmdError::WrongType);
            }
        }
    }
    let old_value = old
        .as_ref()
        .map(|m| Frame::Bulk(m.value.clone()))
        .unwrap_or(Frame::Null);
    if (nx && old.is_some()) || (xx && old.is_none()) {
        return Ok(if get_old { old_value } else { Frame::Null });
    }
    let mut meta = Meta::string(value.clone());
    if keep_ttl {
        meta.expire_at = old.as_ref().and_then(|m| m.expire_at);
    } else {
        meta.expire_at = expire;
    }
    ctx.ks.overwrite(key, &mut meta)?;
    Ok(if get_old { old_value } else { Frame::ok() })
}

/// Turns an EX/PX/EXAT/PXAT argument into absolute unix ms, with Redis's checks and error text
/// (`ERR invalid expire time in 'set' command`).
pub fn absolute_expiry(ctx: &Ctx<'_>, unit: &[u8], n: i64, cmd: &str) -> Result<u64, CmdError> {
    let invalid = || CmdError::other(format!("ERR invalid expire time in '{cmd}' command"));
    if n <= 0 {
        return Err(invalid());
    }
    let ms = if is_kw(unit, "EX") || is_kw(unit, "EXAT") {
        n.checked_mul(1000).ok_or_else(invalid)?
    } else {
        n
    };
    let at = if is_kw(unit, "EX") || is_kw(unit, "PX") {
        ms.checked_add(ctx.ks.now_ms as i64).ok_or_else(invalid)?
    } else {
        ms
    };
    u64::try_from(at).map_err(|_| invalid())
}
