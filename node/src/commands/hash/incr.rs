//! Field counters: HINCRBY (64-bit integers) and HINCRBYFLOAT (the emulated 80-bit `long
//! double` of [`long_double`], as INCRBYFLOAT does).

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::{field_value, lookup_hash, put_field};
use crate::commands::args::{parse_i64, parse_i64_opt};
use crate::commands::long_double::Ld;
use crate::commands::{long_double, CmdError, Ctx};
use crate::store::{KeyType, Meta};

/// HINCRBY key field increment -> the new integer value.
pub(super) fn hincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, field) = (&argv[1], &argv[2]);
    let incr = parse_i64(&argv[3])?;
    let mut meta = lookup_hash(ctx, key)?.unwrap_or_else(|| Meta::new(KeyType::Hash));
    let current = match field_value(ctx, key, field)? {
        Some(v) => {
            parse_i64_opt(&v).ok_or_else(|| CmdError::other("ERR hash value is not an integer"))?
        }
        None => 0,
    };
    let value = current.checked_add(incr).ok_or(CmdError::Overflow)?;
    put_field(ctx, key, &mut meta, field, value.to_string().as_bytes())?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Integer(value))
}

/// HINCRBYFLOAT key field increment -> the new value as a bulk string, computed and formatted
/// as Redis does with a long double (`%.17Lf`, trailing zeros removed).
pub(super) fn hincrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let (key, field, incr_arg) = (&argv[1], &argv[2], &argv[3]);
    let incr = long_double::parse(incr_arg).ok_or(CmdError::NotFloat)?;
    if !incr.is_finite() {
        return Err(CmdError::other("ERR value is NaN or Infinity"));
    }
    let mut meta = lookup_hash(ctx, key)?.unwrap_or_else(|| Meta::new(KeyType::Hash));
    let current = match field_value(ctx, key, field)? {
        Some(v) => long_double::parse(&v)
            .ok_or_else(|| CmdError::other("ERR hash value is not a float"))?,
        None => Ld::ZERO,
    };
    let text = long_double::increment(current, incr)?;
    put_field(ctx, key, &mut meta, field, text.as_bytes())?;
    ctx.ks.save_meta(key, &mut meta)?;
    Ok(Frame::Bulk(Bytes::from(text)))
}

#[cfg(test)]
mod tests {
    use crate::commands::testutil::{bulk, err, int, TestDb};

    #[test]
    fn hincrby_parses_checks_and_overflows() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["HINCRBY", "h", "n", "5"]), int(5));
        assert_eq!(db.exec(&["HINCRBY", "h", "n", "-7"]), int(-2));
        assert_eq!(db.exec(&["HGET", "h", "n"]), bulk("-2"));
        assert_eq!(
            db.exec(&["HINCRBY", "h", "n", "x"]),
            err("ERR value is not an integer or out of range")
        );
        db.exec(&[
            "HSET",
            "h",
            "s",
            " 11",
            "big",
            "9223372036854775807",
            "f",
            "1.5",
        ]);
        assert_eq!(
            db.exec(&["HINCRBY", "h", "s", "1"]),
            err("ERR hash value is not an integer")
        );
        assert_eq!(
            db.exec(&["HINCRBY", "h", "f", "1"]),
            err("ERR hash value is not an integer")
        );
        assert_eq!(
            db.exec(&["HINCRBY", "h", "big", "1"]),
            err("ERR increment or decrement would overflow")
        );
        db.exec(&["HSET", "h", "tmp", "17179869184"]);
        assert_eq!(
            db.exec(&["HINCRBY", "h", "tmp", "17179869184"]),
            int(34359738368)
        );
    }

    #[test]
    fn hincrbyfloat_formats_like_a_long_double() {
        let mut db = TestDb::new();
        assert_eq!(db.exec(&["HINCRBYFLOAT", "h", "f", "10.5"]), bulk("10.5"));
        assert_eq!(db.exec(&["HINCRBYFLOAT", "h", "f", "0.1"]), bulk("10.6"));
        assert_eq!(db.exec(&["HINCRBYFLOAT", "h", "f", "-5"]), bulk("5.6"));
        assert_eq!(db.exec(&["HGET", "h", "f"]), bulk("5.6"));
        db.exec(&["HSET", "h", "g", "5.0e3"]);
        assert_eq!(db.exec(&["HINCRBYFLOAT", "h", "g", "2.0e2"]), bulk("5200"));
        db.exec(&["HSET", "h", "t", "17179869184"]);
        assert_eq!(
            db.exec(&["HINCRBYFLOAT", "h", "t", "1.5"]),
            bulk("17179869185.5")
        );
        db.exec(&["HSET", "h", "k", "1000"]);
        assert_eq!(
            db.exec(&["HINCRBYFLOAT", "h", "k", "0.1"]),
            bulk("1000.09999999999999998")
        );
        db.exec(&["HSET", "h", "z", "0.1"]);
        assert_eq!(db.exec(&["HINCRBYFLOAT", "h", "z", "-0.1"]), bulk("0"));
        db.exec(&["HSET", "h", "sp", " 1", "sp2", "1 ", "nul", "1\u{0}2"]);
        for f in ["sp", "sp2", "nul"] {
            assert_eq!(
                db.exec(&["HINCRBYFLOAT", "h", f, "1"]),
                err("ERR hash value is not a float")
            );
        }
        assert_eq!(
            db.exec(&["HINCRBYFLOAT", "h", "f", "abc"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(
            db.exec(&["HINCRBYFLOAT", "new", "f", "+inf"]),
            err("ERR value is NaN or Infinity")
        );
        assert_eq!(db.ks.lookup(b"new").expect("lookup"), None);
        db.exec(&["HSET", "h", "inf", "inf"]);
        assert_eq!(
            db.exec(&["HINCRBYFLOAT", "h", "inf", "1"]),
            err("ERR increment would produce NaN or Infinity")
        );
    }
}
