//! Counters: INCR, DECR, INCRBY, DECRBY (64-bit integers) and INCRBYFLOAT (in the emulated
//! 80-bit `long double` of [`long_double`], so its digits are Redis's own).

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::read_string;
use crate::commands::args::parse_i64;
use crate::commands::long_double::Ld;
use crate::commands::{long_double, CmdError, Ctx};
use crate::store::Meta;

/// Adds `delta` to the integer value of `key` (0 when absent), keeping its expiry.
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], delta: i64) -> Result<Frame, CmdError> {
    let existing = read_string(ctx, key)?;
    let current = match &existing {
        Some(meta) => parse_i64(&meta.value)?,
        None => 0,
    };
    let next = current.checked_add(delta).ok_or(CmdError::Overflow)?;
    let mut meta = existing.unwrap_or_else(|| Meta::string(Bytes::new()));
    meta.value = Bytes::from(next.to_string());
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(next))
}

/// INCR key -> the value after adding 1.
pub(super) fn incr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    incr_by(ctx, &argv[1], 1)
}

/// DECR key -> the value after subtracting 1.
pub(super) fn decr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    incr_by(ctx, &argv[1], -1)
}

/// INCRBY key increment -> the value after adding the increment.
pub(super) fn incrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let delta = parse_i64(&argv[2])?;
    incr_by(ctx, &argv[1], delta)
}

/// DECRBY key decrement -> the value after subtracting the decrement.
pub(super) fn decrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let delta = parse_i64(&argv[2])?;
    let Some(negated) = delta.checked_neg() else {
        return Err(CmdError::other("ERR decrement would overflow"));
    };
    incr_by(ctx, &argv[1], negated)
}

/// INCRBYFLOAT key increment -> bulk string of the new value, computed and printed as Redis
/// does (long double, `%.17Lf` with trailing zeros trimmed); keeps the expiry.
pub(super) fn incrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let key = &argv[1];
    let existing = read_string(ctx, key)?;
    let current = match &existing {
        Some(m) => long_double::parse(&m.value).ok_or(CmdError::NotFloat)?,
        None => Ld::ZERO,
    };
    let incr = long_double::parse(&argv[2]).ok_or(CmdError::NotFloat)?;
    let formatted = long_double::increment(current, incr)?;
    let mut meta = existing.unwrap_or_else(|| Meta::string(Bytes::new()));
    meta.value = Bytes::from(formatted);
    let reply = Frame::Bulk(meta.value.clone());
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use crate::commands::string::tests::{db_with_list, ttl_ms, NOT_INT, WRONGTYPE};
    use crate::commands::testutil::{bulk, err, int, TestDb};

    #[test]
    fn integer_counters() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["INCR", "n"]), int(1));
        assert_eq!(db.exec(&["INCRBY", "n", "10"]), int(11));
        assert_eq!(db.exec(&["DECR", "n"]), int(10));
        assert_eq!(db.exec(&["DECRBY", "n", "20"]), int(-10));
        assert_eq!(db.exec(&["GET", "n"]), bulk("-10"));
        assert_eq!(db.exec(&["DECR", "absent"]), int(-1));
        db.exec(&["SET", "big", "17179869184"]);
        assert_eq!(
            db.exec(&["INCRBY", "big", "17179869184"]),
            int(34_359_738_368)
        );
        db.exec(&["PEXPIRE", "n", "5000"]);
        db.exec(&["INCR", "n"]);
        assert_eq!(ttl_ms(&mut db, "n"), Some(5000));
        for bad in [" 1", "1 ", "a", "1.5", "01", ""] {
            db.exec(&["SET", "s", bad]);
            assert_eq!(db.exec(&["INCR", "s"]), err(NOT_INT), "{bad:?}");
        }
        db.exec(&["SET", "m", "9223372036854775807"]);
        assert_eq!(
            db.exec(&["INCR", "m"]),
            err("ERR increment or decrement would overflow")
        );
        db.exec(&["SET", "m", "0"]);
        assert_eq!(
            db.exec(&["DECRBY", "m", "-9223372036854775808"]),
            err("ERR decrement would overflow")
        );
        assert_eq!(db.exec(&["INCRBY", "m", "x"]), err(NOT_INT));
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["INCR", "l"]), err(WRONGTYPE));
        assert_eq!(db.exec(&["INCRBY", "l", "x"]), err(NOT_INT));
    }

    #[test]
    fn incrbyfloat_matches_redis_digits() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "1"]), bulk("1"));
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "0.25"]), bulk("1.25"));
        assert_eq!(db.exec(&["GET", "f"]), bulk("1.25"));
        db.exec(&["SET", "f", "10.50"]);
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "-5"]), bulk("5.6"));
        db.exec(&["SET", "f", "5.0e3"]);
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "2.0e5"]), bulk("205000"));
        db.exec(&["SET", "f", "0.1"]);
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "0.2"]), bulk("0.3"));
        db.exec(&["SET", "f", "1"]);
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "-1.1"]), bulk("-0.1"));
        db.exec(&["SET", "f", "10000000000"]);
        assert_eq!(
            db.exec(&["INCRBYFLOAT", "f", "0.1"]),
            bulk("10000000000.09999999962747097")
        );
        assert_eq!(
            db.exec(&["INCRBYFLOAT", "f", "0x10"]),
            bulk("10000000016.09999999962747097")
        );
        db.exec(&["SET", "f", "17179869184"]);
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "1.5"]), bulk("17179869185.5"));
        db.exec(&["DEL", "f"]);
        db.exec(&["INCRBYFLOAT", "f", "0.024390243902439025"]);
        assert_eq!(
            db.exec(&["INCRBYFLOAT", "f", "-0.024390243902439025"]),
            bulk("0")
        );
        db.exec(&["SET", "f", "0"]);
        let nan = "ERR increment would produce NaN or Infinity";
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "+inf"]), err(nan));
        assert_eq!(db.exec(&["GET", "f"]), bulk("0"));
        let bad = "ERR value is not a valid float";
        for v in [" 1", "1 ", " 1 ", "abc", "1\u{0}2", "nan"] {
            db.exec(&["SET", "s", v]);
            assert_eq!(db.exec(&["INCRBYFLOAT", "s", "1"]), err(bad), "{v:?}");
        }
        assert_eq!(db.exec(&["INCRBYFLOAT", "f", "x"]), err(bad));
        db.exec(&["SET", "f", "1"]);
        db.exec(&["PEXPIRE", "f", "3000"]);
        db.exec(&["INCRBYFLOAT", "f", "1"]);
        assert_eq!(ttl_ms(&mut db, "f"), Some(3000));
        let mut db = db_with_list("l");
        assert_eq!(db.exec(&["INCRBYFLOAT", "l", "x"]), err(WRONGTYPE));
    }
}
