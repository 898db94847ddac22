//! Expiry: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX/XX/GT/LT), TTL, PTTL, EXPIRETIME,
//! PEXPIRETIME and PERSIST.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use crate::commands::args::{is_kw, parse_i64};
use crate::commands::{CmdError, Ctx};
use crate::store::Meta;

/// EXPIRE key seconds [NX | XX | GT | LT] -> 1 if the expiry was set, 0 otherwise.
pub(super) fn expire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let now = ctx.ks.now_ms as i64;
    set_expiry(ctx, argv, now, 1000, "expire")
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT] -> 1 if the expiry was set, 0 otherwise.
pub(super) fn pexpire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let now = ctx.ks.now_ms as i64;
    set_expiry(ctx, argv, now, 1, "pexpire")
}

/// EXPIREAT key unix-seconds [NX | XX | GT | LT] -> 1 if the expiry was set, 0 otherwise.
pub(super) fn expireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_expiry(ctx, argv, 0, 1000, "expireat")
}

/// PEXPIREAT key unix-ms [NX | XX | GT | LT] -> 1 if the expiry was set, 0 otherwise.
pub(super) fn pexpireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    set_expiry(ctx, argv, 0, 1, "pexpireat")
}

/// Redis's `expireGenericCommand`: options, overflow checks, NX/XX/GT/LT conditions (no
/// expiry counts as infinite), and a time not in the future deletes the key.
fn set_expiry(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    base: i64,
    unit: i64,
    cmd: &str,
) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &argv[3..] {
        if is_kw(opt, "NX") {
            nx = true;
        } else if is_kw(opt, "XX") {
            xx = true;
        } else if is_kw(opt, "GT") {
            gt = true;
        } else if is_kw(opt, "LT") {
            lt = true;
        } else {
            return Err(CmdError::other(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::other(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::other(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let invalid = || CmdError::other(format!("ERR invalid expire time in '{cmd}' command"));
    let when = parse_i64(&argv[2])?
        .checked_mul(unit)
        .ok_or_else(invalid)?
        .checked_add(base)
        .ok_or_else(invalid)?;
    let Some(meta) = ctx.ks.lookup(key)? else {
        return Ok(Frame::Integer(0));
    };
    // No expiry: -1, as Redis's getExpire says; GT/LT treat it as infinite.
    let current = meta.expire_at.map(|at| at as i64);
    let refused = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c));
    if refused {
        return Ok(Frame::Integer(0));
    }
    if when <= ctx.ks.now_ms as i64 {
        ctx.ks.delete(key)?;
    } else {
        ctx.ks.set_expire(key, Some(when as u64))?;
    }
    Ok(Frame::Integer(1))
}

/// What TTL-like commands report: -2 absent, -1 no expiry, else the expiry as `f` says.
fn report_expiry(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl Fn(u64, u64) -> i64,
) -> Result<Frame, CmdError> {
    let now = ctx.ks.now_ms;
    Ok(Frame::Integer(match ctx.ks.lookup(key)? {
        None => -2,
        Some(Meta {
            expire_at: None, ..
        }) => -1,
        Some(Meta {
            expire_at: Some(at),
            ..
        }) => f(at, now),
    }))
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// TTL key -> seconds to live (rounded), -1 without expiry, -2 when absent.
pub(super) fn ttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    report_expiry(ctx, &argv[1], |at, now| {
        clamp_i64(at.saturating_sub(now).saturating_add(500) / 1000)
    })
}

/// PTTL key -> milliseconds to live, -1 without expiry, -2 when absent.
pub(super) fn pttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    report_expiry(ctx, &argv[1], |at, now| clamp_i64(at.saturating_sub(now)))
}

/// EXPIRETIME key -> the expiry as unix seconds, -1 without expiry, -2 when absent.
pub(super) fn expiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    report_expiry(ctx, &argv[1], |at, _| {
        clamp_i64(at.saturating_add(500) / 1000)
    })
}

/// PEXPIRETIME key -> the expiry as unix ms, -1 without expiry, -2 when absent.
pub(super) fn pexpiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    report_expiry(ctx, &argv[1], |at, _| clamp_i64(at))
}

/// PERSIST key -> 1 if an expiry was removed, 0 if the key is absent or had none.
pub(super) fn persist(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    match ctx.ks.lookup(key)? {
        Some(meta) if meta.expire_at.is_some() => {
            ctx.ks.set_expire(key, None)?;
            Ok(Frame::Integer(1))
        }
        _ => Ok(Frame::Integer(0)),
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testutil::{bulk, err, int, TestDb};

    #[test]
    fn expire_family_and_ttl_reports() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["EXPIRE", "nope", "10"]), int(0));
        db.exec(&["SET", "k", "v"]);
        assert_eq!(db.exec(&["TTL", "k"]), int(-1));
        assert_eq!(db.exec(&["PTTL", "k"]), int(-1));
        assert_eq!(db.exec(&["EXPIRETIME", "k"]), int(-1));
        assert_eq!(db.exec(&["TTL", "nope"]), int(-2));
        assert_eq!(db.exec(&["PEXPIRETIME", "nope"]), int(-2));
        assert_eq!(db.exec(&["EXPIRE", "k", "10"]), int(1));
        assert_eq!(db.exec(&["TTL", "k"]), int(10));
        assert_eq!(db.exec(&["PTTL", "k"]), int(10_000));
        db.advance_ms(1400);
        assert_eq!(db.exec(&["TTL", "k"]), int(9));
        db.advance_ms(200);
        assert_eq!(db.exec(&["TTL", "k"]), int(8));
        assert_eq!(db.exec(&["PEXPIRE", "k", "1500"]), int(1));
        assert_eq!(db.exec(&["PTTL", "k"]), int(1500));
        let at = db.ks.now_ms / 1000 + 1000;
        assert_eq!(db.exec(&["EXPIREAT", "k", &at.to_string()]), int(1));
        assert_eq!(db.exec(&["EXPIRETIME", "k"]), int(at as i64));
        assert_eq!(db.exec(&["PEXPIRETIME", "k"]), int((at * 1000) as i64));
        let pat = db.ks.now_ms + 123;
        assert_eq!(db.exec(&["PEXPIREAT", "k", &pat.to_string()]), int(1));
        assert_eq!(db.exec(&["PTTL", "k"]), int(123));
        db.advance_ms(123);
        assert_eq!(db.exec(&["TTL", "k"]), int(-2));
        db.exec(&["SET", "k", "v"]);
        assert_eq!(db.exec(&["EXPIRE", "k", "-1"]), int(1));
        assert_eq!(db.exec(&["EXISTS", "k"]), int(0));
        db.exec(&["SET", "k", "v"]);
        assert_eq!(db.exec(&["PEXPIREAT", "k", "-9223372036854770000"]), int(1));
        assert_eq!(db.exec(&["TTL", "k"]), int(-2));
        db.exec(&["SET", "k", "v"]);
        assert_eq!(db.exec(&["PEXPIREAT", "k", "9223372036854770000"]), int(1));
        assert_eq!(
            db.exec(&["PEXPIRETIME", "k"]),
            int(9_223_372_036_854_770_000)
        );
    }

    #[test]
    fn expire_overflow_and_option_errors() {
        let mut db = TestDb::new();
        db.exec(&["SET", "foo", "bar"]);
        let bad = "ERR invalid expire time in 'expire' command";
        for n in [
            "9223370399119966",
            "9223372036854776",
            "10000000000000000",
            "-9223372036854776",
            "-9999999999999999",
        ] {
            assert_eq!(db.exec(&["EXPIRE", "foo", n]), err(bad), "{n}");
        }
        assert_eq!(
            db.exec(&["PEXPIRE", "foo", "9223372036854770000"]),
            err("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(
            db.exec(&["EXPIRE", "foo", ""]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(db.exec(&["TTL", "foo"]), int(-1));
        assert_eq!(
            db.exec(&["EXPIRE", "foo", "200", "AB"]),
            err("ERR Unsupported option AB")
        );
        let nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
        assert_eq!(db.exec(&["EXPIRE", "foo", "200", "NX", "XX"]), err(nx));
        assert_eq!(db.exec(&["EXPIRE", "foo", "200", "NX", "GT"]), err(nx));
        assert_eq!(db.exec(&["EXPIRE", "foo", "200", "LT", "NX"]), err(nx));
        assert_eq!(
            db.exec(&["EXPIRE", "foo", "200", "GT", "LT"]),
            err("ERR GT and LT options at the same time are not compatible")
        );
        // Options are checked before the time.
        assert_eq!(
            db.exec(&["EXPIRE", "foo", "x", "ZZ"]),
            err("ERR Unsupported option ZZ")
        );
    }

    #[test]
    fn expire_conditions() {
        let mut db = TestDb::new();
        db.exec(&["SET", "foo", "bar"]);
        assert_eq!(db.exec(&["EXPIRE", "foo", "100", "XX"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "foo", "100", "GT"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "foo", "100", "LT"]), int(1));
        assert_eq!(db.exec(&["TTL", "foo"]), int(100));
        assert_eq!(db.exec(&["EXPIRE", "foo", "200", "NX"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "foo", "200", "XX"]), int(1));
        assert_eq!(db.exec(&["EXPIRE", "foo", "100", "GT"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "foo", "300", "GT"]), int(1));
        assert_eq!(db.exec(&["EXPIRE", "foo", "400", "LT"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "foo", "50", "lt", "xx"]), int(1));
        assert_eq!(db.exec(&["TTL", "foo"]), int(50));
        assert_eq!(db.exec(&["EXPIRE", "foo", "-10", "LT"]), int(1));
        assert_eq!(db.exec(&["TTL", "foo"]), int(-2));
        db.exec(&["SET", "foo", "bar"]);
        assert_eq!(db.exec(&["EXPIRE", "foo", "-10", "LT"]), int(1));
        assert_eq!(db.exec(&["EXISTS", "foo"]), int(0));
        assert_eq!(db.exec(&["EXPIRE", "none", "100", "NX"]), int(0));
    }

    #[test]
    fn persist_removes_expiry() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["PERSIST", "nope"]), int(0));
        db.exec(&["SET", "k", "v"]);
        assert_eq!(db.exec(&["PERSIST", "k"]), int(0));
        db.exec(&["EXPIRE", "k", "10"]);
        assert_eq!(db.exec(&["PERSIST", "k"]), int(1));
        assert_eq!(db.exec(&["TTL", "k"]), int(-1));
        db.advance_ms(20_000);
        assert_eq!(db.exec(&["GET", "k"]), bulk("v"));
    }
}
