//! The options of SET and GETEX (NX, XX, GET, KEEPTTL, PERSIST and EX/PX/EXAT/PXAT) and
//! turning an expiry argument into an absolute time ([`absolute_expiry`]).

use bytes::Bytes;

use crate::commands::args::{is_kw, parse_i64};
use crate::commands::{CmdError, Ctx};

/// Which expiry option SET/GETEX were given.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ExpireUnit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// The options of SET (`for_set`) or GETEX, parsed as Redis's
/// `parseExtendedStringArgumentsOrReply` does (same acceptance, same conflicts).
#[derive(Default)]
pub(super) struct StringOptions<'a> {
    pub(super) nx: bool,
    pub(super) xx: bool,
    pub(super) get: bool,
    pub(super) keep_ttl: bool,
    pub(super) persist: bool,
    pub(super) expire: Option<(ExpireUnit, &'a [u8])>,
}

pub(super) fn parse_string_options(
    argv: &[Bytes],
    for_set: bool,
) -> Result<StringOptions<'_>, CmdError> {
    let mut o = StringOptions::default();
    let first = if for_set { 3 } else { 2 };
    let mut i = first;
    while i < argv.len() {
        let a = &argv[i][..];
        let next = argv.get(i + 1).map(|b| &b[..]);
        // An expiry option may repeat itself (last wins) but not follow another kind.
        let expire_ok = |unit: ExpireUnit| {
            !o.keep_ttl && !o.persist && o.expire.is_none_or(|(u, _)| u == unit) && next.is_some()
        };
        let unit = if is_kw(a, "EX") {
            Some(ExpireUnit::Ex)
        } else if is_kw(a, "PX") {
            Some(ExpireUnit::Px)
        } else if is_kw(a, "EXAT") {
            Some(ExpireUnit::ExAt)
        } else if is_kw(a, "PXAT") {
            Some(ExpireUnit::PxAt)
        } else {
            None
        };
        if is_kw(a, "NX") && !o.xx && for_set {
            o.nx = true;
        } else if is_kw(a, "XX") && !o.nx && for_set {
            o.xx = true;
        } else if is_kw(a, "GET") && for_set {
            o.get = true;
        } else if is_kw(a, "KEEPTTL") && !o.persist && o.expire.is_none() && for_set {
            o.keep_ttl = true;
        } else if is_kw(a, "PERSIST") && !for_set && o.expire.is_none() && !o.keep_ttl {
            o.persist = true;
        } else if let (Some(unit), Some(value)) = (unit.filter(|u| expire_ok(*u)), next) {
            o.expire = Some((unit, value));
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

/// The absolute expiry in ms of a parsed EX/PX/EXAT/PXAT option, with Redis's checks.
pub(super) fn option_expiry(
    ctx: &Ctx<'_>,
    expire: Option<(ExpireUnit, &[u8])>,
    cmd: &str,
) -> Result<Option<u64>, CmdError> {
    let Some((unit, value)) = expire else {
        return Ok(None);
    };
    let n = parse_i64(value)?;
    let kw = match unit {
        ExpireUnit::Ex => "EX",
        ExpireUnit::Px => "PX",
        ExpireUnit::ExAt => "EXAT",
        ExpireUnit::PxAt => "PXAT",
    };
    absolute_expiry(ctx, kw.as_bytes(), n, cmd).map(Some)
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
