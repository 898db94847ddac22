//! An emulation of the x87 80-bit `long double` (64-bit mantissa) that Redis uses for
//! INCRBYFLOAT and HINCRBYFLOAT: parsing like glibc's `strtold` as Redis's `string2ld` calls it
//! (correctly rounded, hex floats, inf; no NaN, no overflow or underflow), one correctly rounded
//! addition, and printing like `printf("%.17Lf")` with Redis's trimming (`LD_STR_HUMAN`). With
//! an f64 instead, 0.1 + 0.2 would print as 0.30000000000000004 where Redis prints 0.3, and
//! 1000 + 0.1 as 1000.1 where Redis prints 1000.09999999999999998.
//!
//! The commands keep their own argument checks and error texts; [`increment`] is the last step
//! they share.

use std::cmp::Ordering;

use super::CmdError;

/// Longest input `string2ld` accepts (MAX_LONG_DOUBLE_CHARS - 1).
const MAX_INPUT: usize = 5 * 1024 - 1;
/// Largest binary exponent of a finite value `mant * 2^exp` (mant in [2^63, 2^64)).
const MAX_EXP: i64 = 16384 - 64;
/// Exponent of the lowest mantissa bit of the smallest subnormal (2^-16445).
const MIN_LSB_EXP: i64 = -16445;

/// A long double value; `Num` is normalised (top bit of `mant` set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ld {
    Zero { neg: bool },
    Inf { neg: bool },
    Num { neg: bool, mant: u64, exp: i64 },
}

impl Ld {
    /// +0: the value of an absent key or field.
    pub const ZERO: Ld = Ld::Zero { neg: false };

    /// Whether the value is finite (not an infinity).
    pub fn is_finite(self) -> bool {
        !matches!(self, Ld::Inf { .. })
    }
}

/// A small unsigned big integer (little-endian 32-bit limbs, no high zero limbs): just
/// what exact decimal <-> binary conversion needs.
#[derive(Clone, Debug, Default)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v > 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big(limbs)
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// self = self * m + a.
    fn mul_add_small(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    /// self = self / d, returning the remainder (d > 0).
    fn div_small(&mut self, d: u32) -> u32 {
        let d = u64::from(d);
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / d) as u32;
            rem = cur % d;
        }
        self.trim();
        rem as u32
    }

    fn bit_len(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(top) => (self.0.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()),
        }
    }

    fn shifted_left(&self, bits: u64) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let b = (bits % 32) as u32;
        let mut out = vec![0u32; (bits / 32) as usize];
        if b == 0 {
            out.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u32;
            for &limb in &self.0 {
                out.push((limb << b) | carry);
                carry = limb >> (32 - b);
            }
            if carry != 0 {
                out.push(carry);
            }
        }
        Big(out)
    }

    fn shifted_right(&self, bits: u64) -> Big {
        let src = self.0.get((bits / 32) as usize..).unwrap_or_default();
        let b = (bits % 32) as u32;
        let mut out: Vec<u32> = src
            .iter()
            .enumerate()
            .map(|(i, &lo)| {
                let hi = match src.get(i + 1) {
                    Some(&hi) if b != 0 => hi << (32 - b),
                    _ => 0,
                };
                (lo >> b) | hi
            })
            .collect();
        while out.last() == Some(&0) {
            out.pop();
        }
        Big(out)
    }

    fn bit(&self, i: u64) -> bool {
        self.0
            .get((i / 32) as usize)
            .is_some_and(|l| (l >> (i % 32)) & 1 == 1)
    }

    /// Whether any of the bits below `i` is set.
    fn any_below(&self, i: u64) -> bool {
        let words = (i / 32) as usize;
        if self.0.iter().take(words).any(|&l| l != 0) {
            return true;
        }
        let b = i % 32;
        b > 0
            && self
                .0
                .get(words)
                .is_some_and(|&l| l & ((1u32 << b) - 1) != 0)
    }

    /// The value when it has at most 128 bits.
    fn low_u128(&self) -> u128 {
        self.0
            .iter()
            .take(4)
            .rev()
            .fold(0u128, |acc, &l| (acc << 32) | u128::from(l))
    }

    fn cmp_mag(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// self -= other (self >= other).
    fn subtract(&mut self, other: &Big) {
        let mut borrow = 0u64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let o = u64::from(other.0.get(i).copied().unwrap_or(0)) + borrow;
            let cur = u64::from(*limb);
            if cur >= o {
                *limb = (cur - o) as u32;
                borrow = 0;
            } else {
                *limb = ((1u64 << 32) + cur - o) as u32;
                borrow = 1;
            }
        }
        self.trim();
    }

    fn times_pow10(&mut self, mut n: u64) {
        while n >= 9 {
            self.mul_add_small(1_000_000_000, 0);
            n -= 9;
        }
        self.mul_add_small(10u32.pow(n as u32), 0);
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(1_000_000_000));
        }
        let mut out = String::new();
        for (i, chunk) in chunks.iter().rev().enumerate() {
            if i == 0 {
                out.push_str(&chunk.to_string());
            } else {
                out.push_str(&format!("{chunk:09}"));
            }
        }
        out
    }
}

fn finish(neg: bool, mant: u64, exp: i64) -> Ld {
    if exp > MAX_EXP {
        Ld::Inf { neg }
    } else {
        Ld::Num { neg, mant, exp }
    }
}

/// Rounds `(n + sticky) * 2^exp`, where `sticky` stands for a positive amount below n's
/// lowest bit, to a 64-bit mantissa (fewer bits for subnormals), ties to even. With
/// `sticky`, n must have more bits than are kept.
fn round_big(n: &Big, sticky: bool, exp: i64, neg: bool) -> Ld {
    let len = n.bit_len();
    if len == 0 {
        return Ld::Zero { neg };
    }
    // Exponent of the lowest bit kept.
    let lsb = (exp + len as i64 - 64).max(MIN_LSB_EXP);
    let drop = lsb - exp;
    if drop <= 0 {
        // Exact: then len <= 64.
        let mant = (n.low_u128() as u64) << (64 - len);
        return finish(neg, mant, exp - (64 - len as i64));
    }
    let drop = drop.unsigned_abs();
    let top = n.shifted_right(drop).low_u128() as u64;
    let half = n.bit(drop - 1);
    let lower = sticky || n.any_below(drop - 1);
    let (mant, lsb) = if half && (lower || top & 1 == 1) {
        match top.checked_add(1) {
            Some(m) => (m, lsb),
            None => (1 << 63, lsb + 1),
        }
    } else {
        (top, lsb)
    };
    if mant == 0 {
        return Ld::Zero { neg };
    }
    let lz = mant.leading_zeros();
    finish(neg, mant << lz, lsb - i64::from(lz))
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Digits (in `radix`) from `s[*i..]` into `n`; returns how many.
fn take_digits(s: &[u8], i: &mut usize, radix: u32, n: &mut Big) -> i64 {
    let mut count = 0;
    while let Some(d) = s.get(*i).and_then(|&c| char::from(c).to_digit(radix)) {
        n.mul_add_small(radix, d);
        *i += 1;
        count += 1;
    }
    count
}

/// An optionally signed decimal exponent from `s[*i..]`, saturated; None without digits.
fn take_exponent(s: &[u8], i: &mut usize) -> Option<i64> {
    let mut j = *i;
    let neg = match s.get(j) {
        Some(b'-') => {
            j += 1;
            true
        }
        Some(b'+') => {
            j += 1;
            false
        }
        _ => false,
    };
    let start = j;
    let mut v: i64 = 0;
    while let Some(&c) = s.get(j).filter(|c| c.is_ascii_digit()) {
        v = (v * 10 + i64::from(c - b'0')).min(1_000_000_000);
        j += 1;
    }
    if j == start {
        return None;
    }
    *i = j;
    Some(if neg { -v } else { v })
}

/// Redis's `string2ld`: the whole string must be one `strtold` number, no leading space,
/// neither NaN nor an overflow/underflow to infinity or zero.
pub fn parse(s: &[u8]) -> Option<Ld> {
    if s.is_empty() || s.len() > MAX_INPUT || s.first().copied().is_some_and(is_space) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let (neg, body) = match lower.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, &lower[..]),
    };
    if body == b"inf" || body == b"infinity" {
        return Some(Ld::Inf { neg });
    }
    let (radix, digits) = match body.strip_prefix(b"0x") {
        Some(hex) => (16, hex),
        None => (10, body),
    };
    let mut n = Big::default();
    let mut i = 0;
    let int_digits = take_digits(digits, &mut i, radix, &mut n);
    let mut frac_digits = 0;
    if digits.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = take_digits(digits, &mut i, radix, &mut n);
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    let marker = if radix == 16 { b'p' } else { b'e' };
    let mut exponent = 0;
    if digits.get(i) == Some(&marker) {
        i += 1;
        exponent = take_exponent(digits, &mut i)?;
    }
    if i != digits.len() {
        return None;
    }
    if n.is_zero() {
        return Some(Ld::Zero { neg });
    }
    let value = if radix == 16 {
        let exp2 = exponent - 4 * frac_digits;
        let top = exp2 + n.bit_len() as i64;
        if !(MIN_LSB_EXP - 2..=MAX_EXP + 128).contains(&top) {
            return None;
        }
        round_big(&n, false, exp2, neg)
    } else {
        decimal_to_ld(n, exponent - frac_digits, neg)?
    };
    matches!(value, Ld::Num { .. }).then_some(value)
}

/// `n * 10^exp10` correctly rounded (None when far out of range).
fn decimal_to_ld(mut n: Big, exp10: i64, neg: bool) -> Option<Ld> {
    // n has at most ~5120 digits: bound the magnitude before any big arithmetic.
    let digits = n.to_decimal().len() as i64;
    if digits + exp10 > 4934 || digits + exp10 < -4952 {
        return None;
    }
    if exp10 >= 0 {
        n.times_pow10(exp10 as u64);
        return Some(round_big(&n, false, 0, neg));
    }
    let mut den = Big::from_u128(1);
    den.times_pow10(exp10.unsigned_abs());
    // Scale so that the quotient has 66 or 67 bits: two more than the mantissa.
    let shift = 66 + den.bit_len() as i64 - n.bit_len() as i64;
    let (mut num, den) = if shift >= 0 {
        (n.shifted_left(shift as u64), den)
    } else {
        (n, den.shifted_left(shift.unsigned_abs()))
    };
    let mut q: u128 = 0;
    for bit in (0..=67u64).rev() {
        let part = den.shifted_left(bit);
        if num.cmp_mag(&part) != Ordering::Less {
            num.subtract(&part);
            q |= 1u128 << bit;
        }
    }
    Some(round_big(&Big::from_u128(q), !num.is_zero(), -shift, neg))
}

/// `a + b` rounded to long double; None when it is NaN (inf - inf).
pub fn add(a: Ld, b: Ld) -> Option<Ld> {
    match (a, b) {
        (Ld::Inf { neg: x }, Ld::Inf { neg: y }) => (x == y).then_some(a),
        (Ld::Inf { .. }, _) => Some(a),
        (_, Ld::Inf { .. }) => Some(b),
        (Ld::Zero { neg: x }, Ld::Zero { neg: y }) => Some(Ld::Zero { neg: x && y }),
        (Ld::Zero { .. }, _) => Some(b),
        (_, Ld::Zero { .. }) => Some(a),
        (
            Ld::Num {
                neg: na,
                mant: ma,
                exp: ea,
            },
            Ld::Num {
                neg: nb,
                mant: mb,
                exp: eb,
            },
        ) => {
            let ((big_neg, big_mant, big_exp), (small_neg, small_mant, small_exp)) = if ea >= eb {
                ((na, ma, ea), (nb, mb, eb))
            } else {
                ((nb, mb, eb), (na, ma, ea))
            };
            // 63 guard bits below each mantissa; what falls off the smaller one is
            // jammed into its lowest bit (enough for correct rounding either way).
            let big = u128::from(big_mant) << 63;
            let small_full = u128::from(small_mant) << 63;
            let d = (big_exp - small_exp).unsigned_abs();
            let small = if d >= 127 {
                1
            } else {
                let lost = small_full & ((1u128 << d) - 1) != 0;
                (small_full >> d) | u128::from(lost)
            };
            let base = big_exp - 63;
            let (sum, neg) = if big_neg == small_neg {
                (big + small, big_neg)
            } else {
                match big.cmp(&small) {
                    Ordering::Greater => (big - small, big_neg),
                    Ordering::Less => (small - big, small_neg),
                    Ordering::Equal => return Some(Ld::Zero { neg: false }),
                }
            };
            Some(round_big(&Big::from_u128(sum), false, base, neg))
        }
    }
}

/// `current + incr` printed as INCRBYFLOAT and HINCRBYFLOAT reply, or "ERR increment would
/// produce NaN or Infinity" when the sum is not finite.
pub fn increment(current: Ld, incr: Ld) -> Result<String, CmdError> {
    match add(current, incr) {
        Some(sum) if sum.is_finite() => Ok(format_human(sum)),
        _ => Err(CmdError::other(
            "ERR increment would produce NaN or Infinity",
        )),
    }
}

/// `printf("%.17Lf")` with trailing zeros (and a bare '.') removed and "-0" as "0": Redis's
/// human-friendly long double format (`LD_STR_HUMAN`).
pub fn format_human(v: Ld) -> String {
    const SCALE: u128 = 100_000_000_000_000_000; // 10^17
    match v {
        Ld::Zero { .. } => "0".to_string(),
        Ld::Inf { neg } => if neg { "-inf" } else { "inf" }.to_string(),
        Ld::Num { neg, mant, exp } if exp >= 0 => {
            let n = Big::from_u128(u128::from(mant)).shifted_left(exp as u64);
            human_from_digits(neg, n.to_decimal().as_bytes(), 0)
        }
        Ld::Num { neg, mant, exp } => {
            // mant * 10^17 < 2^121: the scaled value fits in a u128.
            let x = u128::from(mant) * SCALE;
            let sh = exp.unsigned_abs();
            let q = if sh >= 128 {
                0
            } else {
                let q = x >> sh;
                let rem = x & ((1u128 << sh) - 1);
                let half = 1u128 << (sh - 1);
                if rem > half || (rem == half && q & 1 == 1) {
                    q + 1
                } else {
                    q
                }
            };
            human_from_digits(neg, q.to_string().as_bytes(), 17)
        }
    }
}

/// Formats `v` as Redis formats a long double for humans (`%.17Lf`, trailing zeros and a
/// trailing '.' removed, no "-0"): `10.6`, `3`, `inf`. The shortest round-trip digits of the
/// f64 are used, so values an f64 cannot hold exactly print without binary noise.
pub fn format_f64(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Display never uses an exponent for f64.
    let text = format!("{}", v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let digits = format!("{int}{frac}");
    human_from_digits(v.is_sign_negative(), digits.as_bytes(), frac.len())
}

/// The decimal number `digits` (ASCII) with `scale` of them after the point, rounded half up
/// to 17 places and printed the `LD_STR_HUMAN` way: no leading zeros, trailing zeros and a
/// bare '.' removed, "-0" as "0".
fn human_from_digits(neg: bool, digits: &[u8], scale: usize) -> String {
    let mut d = digits.to_vec();
    if d.len() <= scale {
        d.splice(0..0, std::iter::repeat_n(b'0', scale + 1 - d.len()));
    }
    let mut scale = scale;
    if scale > 17 {
        let keep = d.len() - (scale - 17);
        let round_up = d[keep] >= b'5';
        d.truncate(keep);
        scale = 17;
        if round_up {
            match d.iter().rposition(|&c| c != b'9') {
                Some(i) => {
                    d[i] += 1;
                    d[i + 1..].fill(b'0');
                }
                None => {
                    d.fill(b'0');
                    d.insert(0, b'1');
                }
            }
        }
    }
    let (int, frac) = d.split_at(d.len() - scale);
    let int = &int[int.iter().position(|&c| c != b'0').unwrap_or(int.len())..];
    let frac = &frac[..frac.iter().rposition(|&c| c != b'0').map_or(0, |p| p + 1)];
    let mut out = String::with_capacity(int.len() + frac.len() + 3);
    if neg && !(int.is_empty() && frac.is_empty()) {
        out.push('-');
    }
    if int.is_empty() {
        out.push('0');
    }
    out.extend(int.iter().map(|&c| char::from(c)));
    if !frac.is_empty() {
        out.push('.');
        out.extend(frac.iter().map(|&c| char::from(c)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_double_parses_like_strtold() {
        let p = |s: &str| parse(s.as_bytes()).map(format_human);
        assert_eq!(p("1.5").as_deref(), Some("1.5"));
        assert_eq!(p("+.5").as_deref(), Some("0.5"));
        assert_eq!(p("5.").as_deref(), Some("5"));
        assert_eq!(p("0x10").as_deref(), Some("16"));
        assert_eq!(p("0x1.8p1").as_deref(), Some("3"));
        assert_eq!(p("-0").as_deref(), Some("0"));
        assert_eq!(p("1e400").map(|s| s.len()), Some(401));
        assert_eq!(p("1e-30").as_deref(), Some("0"));
        assert_eq!(p("inf"), Some("inf".to_string()));
        for bad in [
            "", ".", "e5", "1e", "1e+", "0x", "nan", "1e99999", "1e-99999", "--1", "1..2",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    /// `a + b` as the commands reply, None if an operand is not a float or the sum not finite.
    fn add_strings(a: &str, b: &str) -> Option<String> {
        increment(parse(a.as_bytes())?, parse(b.as_bytes())?).ok()
    }

    #[test]
    fn long_double_matches_x87_printf() {
        // Reference values printed by C's printf("%.17Lf") on x86-64, as Redis formats.
        let cases = [
            ("10.5", "0.1", "10.6"),
            ("0.1", "0.2", "0.3"),
            ("3.0", "1.1", "4.1"),
            ("123456.789", "0.001", "123456.78999999999999915"),
            ("1e20", "1", "100000000000000000000"),
            ("17179869184", "1.5", "17179869185.5"),
            ("1", "-1.1", "-0.1"),
            ("0.024390243902439025", "-0.024390243902439025", "0"),
            ("1.5", "1.5", "3"),
            ("-0", "0", "0"),
        ];
        for (a, b, want) in cases {
            assert_eq!(add_strings(a, b).as_deref(), Some(want), "{a} + {b}");
        }
        assert_eq!(add_strings("1e5000", "0"), None);
        assert_eq!(add_strings("nan", "0"), None);
        assert_eq!(add_strings("1e-5000", "0"), None);
        assert_eq!(add_strings("", "0"), None);
        assert_eq!(add_strings("inf", "-inf"), None);
        assert_eq!(add_strings(".5", "1."), Some("1.5".to_string()));
        assert_eq!(format_f64(10.6), "10.6");
        assert_eq!(format_f64(-0.0), "0");
        assert_eq!(format_f64(1e20), "100000000000000000000");
        assert_eq!(format_f64(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_f64(1e-20), "0");
        assert_eq!(format_f64(0.123_456_789_012_345_68), "0.12345678901234568");
    }
}
