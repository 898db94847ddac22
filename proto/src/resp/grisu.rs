//! Grisu2 shortest-digits conversion of an `f64`, reproducing the exact output of the
//! `fpconv_dtoa` routine Redis 7.2 uses for double replies (Florian Loitsch's Grisu2 as
//! packaged by night-shift/fpconv, Boost Software License 1.0).
//!
//! Grisu2 is not always the *shortest* representation (in rare cases it emits one digit
//! more than Ryū/`{}` would), so it is reimplemented here step by step rather than derived
//! from Rust's float formatting, to keep replies byte-identical with Redis.
//!
//! All arithmetic mirrors C unsigned semantics (wrapping), and every index is checked, so
//! no input can panic.

/// A "do-it-yourself floating point" number: `frac * 2^exp`.
#[derive(Clone, Copy, Debug)]
struct Fp {
    frac: u64,
    exp: i32,
}

impl Fp {
    const fn new(frac: u64, exp: i32) -> Fp {
        Fp { frac, exp }
    }
}

const FRAC_MASK: u64 = 0x000F_FFFF_FFFF_FFFF;
const EXP_MASK: u64 = 0x7FF0_0000_0000_0000;
const HIDDEN_BIT: u64 = 0x0010_0000_0000_0000;
const SIGN_MASK: u64 = 0x8000_0000_0000_0000;
const EXP_BIAS: i32 = 1023 + 52;

const FIRST_POWER: i32 = -348;
const STEP_POWERS: i32 = 8;
const EXP_MAX: i32 = -32;
const EXP_MIN: i32 = -60;

/// `10^(FIRST_POWER + STEP_POWERS * i)` normalized to a 64-bit significand, rounded to
/// nearest (generated with exact integer arithmetic).
const POWERS_TEN: [Fp; 87] = [
    Fp::new(0xfa8f_d5a0_081c_0288, -1220), // 1e-348
    Fp::new(0xbaae_e17f_a23e_bf76, -1193), // 1e-340
    Fp::new(0x8b16_fb20_3055_ac76, -1166), // 1e-332
    Fp::new(0xcf42_894a_5dce_35ea, -1140), // 1e-324
    Fp::new(0x9a6b_b0aa_5565_3b2d, -1113), // 1e-316
    Fp::new(0xe61a_cf03_3d1a_45df, -1087), // 1e-308
    Fp::new(0xab70_fe17_c79a_c6ca, -1060), // 1e-300
    Fp::new(0xff77_b1fc_bebc_dc4f, -1034), // 1e-292
    Fp::new(0xbe56_91ef_416b_d60c, -1007), // 1e-284
    Fp::new(0x8dd0_1fad_907f_fc3c, -980),  // 1e-276
    Fp::new(0xd351_5c28_3155_9a83, -954),  // 1e-268
    Fp::new(0x9d71_ac8f_ada6_c9b5, -927),  // 1e-260
    Fp::new(0xea9c_2277_23ee_8bcb, -901),  // 1e-252
    Fp::new(0xaecc_4991_4078_536d, -874),  // 1e-244
    Fp::new(0x823c_1279_5db6_ce57, -847),  // 1e-236
    Fp::new(0xc210_9436_4dfb_5637, -821),  // 1e-228
    Fp::new(0x9096_ea6f_3848_984f, -794),  // 1e-220
    Fp::new(0xd774_85cb_2582_3ac7, -768),  // 1e-212
    Fp::new(0xa086_cfcd_97bf_97f4, -741),  // 1e-204
    Fp::new(0xef34_0a98_172a_ace5, -715),  // 1e-196
    Fp::new(0xb238_67fb_2a35_b28e, -688),  // 1e-188
    Fp::new(0x84c8_d4df_d2c6_3f3b, -661),  // 1e-180
    Fp::new(0xc5dd_4427_1ad3_cdba, -635),  // 1e-172
    Fp::new(0x936b_9fce_bb25_c996, -608),  // 1e-164
    Fp::new(0xdbac_6c24_7d62_a584, -582),  // 1e-156
    Fp::new(0xa3ab_6658_0d5f_daf6, -555),  // 1e-148
    Fp::new(0xf3e2_f893_dec3_f126, -529),  // 1e-140
    Fp::new(0xb5b5_ada8_aaff_80b8, -502),  // 1e-132
    Fp::new(0x8762_5f05_6c7c_4a8b, -475),  // 1e-124
    Fp::new(0xc9bc_ff60_34c1_3053, -449),  // 1e-116
    Fp::new(0x964e_858c_91ba_2655, -422),  // 1e-108
    Fp::new(0xdff9_7724_7029_7ebd, -396),  // 1e-100
    Fp::new(0xa6df_bd9f_b8e5_b88f, -369),  // 1e-92
    Fp::new(0xf8a9_5fcf_8874_7d94, -343),  // 1e-84
    Fp::new(0xb944_7093_8fa8_9bcf, -316),  // 1e-76
    Fp::new(0x8a08_f0f8_bf0f_156b, -289),  // 1e-68
    Fp::new(0xcdb0_2555_6531_31b6, -263),  // 1e-60
    Fp::new(0x993f_e2c6_d07b_7fac, -236),  // 1e-52
    Fp::new(0xe45c_10c4_2a2b_3b06, -210),  // 1e-44
    Fp::new(0xaa24_2499_6973_92d3, -183),  // 1e-36
    Fp::new(0xfd87_b5f2_8300_ca0e, -157),  // 1e-28
    Fp::new(0xbce5_0864_9211_1aeb, -130),  // 1e-20
    Fp::new(0x8cbc_cc09_6f50_88cc, -103),  // 1e-12
    Fp::new(0xd1b7_1758_e219_652c, -77),   // 1e-4
    Fp::new(0x9c40_0000_0000_0000, -50),   // 1e4
    Fp::new(0xe8d4_a510_0000_0000, -24),   // 1e12
    Fp::new(0xad78_ebc5_ac62_0000, 3),     // 1e20
    Fp::new(0x813f_3978_f894_0984, 30),    // 1e28
    Fp::new(0xc097_ce7b_c907_15b3, 56),    // 1e36
    Fp::new(0x8f7e_32ce_7bea_5c70, 83),    // 1e44
    Fp::new(0xd5d2_38a4_abe9_8068, 109),   // 1e52
    Fp::new(0x9f4f_2726_179a_2245, 136),   // 1e60
    Fp::new(0xed63_a231_d4c4_fb27, 162),   // 1e68
    Fp::new(0xb0de_6538_8cc8_ada8, 189),   // 1e76
    Fp::new(0x83c7_088e_1aab_65db, 216),   // 1e84
    Fp::new(0xc45d_1df9_4271_1d9a, 242),   // 1e92
    Fp::new(0x924d_692c_a61b_e758, 269),   // 1e100
    Fp::new(0xda01_ee64_1a70_8dea, 295),   // 1e108
    Fp::new(0xa26d_a399_9aef_774a, 322),   // 1e116
    Fp::new(0xf209_787b_b47d_6b85, 348),   // 1e124
    Fp::new(0xb454_e4a1_79dd_1877, 375),   // 1e132
    Fp::new(0x865b_8692_5b9b_c5c2, 402),   // 1e140
    Fp::new(0xc835_53c5_c896_5d3d, 428),   // 1e148
    Fp::new(0x952a_b45c_fa97_a0b3, 455),   // 1e156
    Fp::new(0xde46_9fbd_99a0_5fe3, 481),   // 1e164
    Fp::new(0xa59b_c234_db39_8c25, 508),   // 1e172
    Fp::new(0xf6c6_9a72_a398_9f5c, 534),   // 1e180
    Fp::new(0xb7dc_bf53_54e9_bece, 561),   // 1e188
    Fp::new(0x88fc_f317_f222_41e2, 588),   // 1e196
    Fp::new(0xcc20_ce9b_d35c_78a5, 614),   // 1e204
    Fp::new(0x9816_5af3_7b21_53df, 641),   // 1e212
    Fp::new(0xe2a0_b5dc_971f_303a, 667),   // 1e220
    Fp::new(0xa8d9_d153_5ce3_b396, 694),   // 1e228
    Fp::new(0xfb9b_7cd9_a4a7_443c, 720),   // 1e236
    Fp::new(0xbb76_4c4c_a7a4_4410, 747),   // 1e244
    Fp::new(0x8bab_8eef_b640_9c1a, 774),   // 1e252
    Fp::new(0xd01f_ef10_a657_842c, 800),   // 1e260
    Fp::new(0x9b10_a4e5_e991_3129, 827),   // 1e268
    Fp::new(0xe710_9bfb_a19c_0c9d, 853),   // 1e276
    Fp::new(0xac28_20d9_623b_f429, 880),   // 1e284
    Fp::new(0x8044_4b5e_7aa7_cf85, 907),   // 1e292
    Fp::new(0xbf21_e440_03ac_dd2d, 933),   // 1e300
    Fp::new(0x8e67_9c2f_5e44_ff8f, 960),   // 1e308
    Fp::new(0xd433_179d_9c8c_b841, 986),   // 1e316
    Fp::new(0x9e19_db92_b4e3_1ba9, 1013),  // 1e324
    Fp::new(0xeb96_bf6e_badf_77d9, 1039),  // 1e332
    Fp::new(0xaf87_023b_9bf0_ee6b, 1066),  // 1e340
];

const TENS: [u64; 20] = [
    10_000_000_000_000_000_000,
    1_000_000_000_000_000_000,
    100_000_000_000_000_000,
    10_000_000_000_000_000,
    1_000_000_000_000_000,
    100_000_000_000_000,
    10_000_000_000_000,
    1_000_000_000_000,
    100_000_000_000,
    10_000_000_000,
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

/// `x << s` with C semantics for in-range shifts, and 0 instead of a panic otherwise.
fn shl(x: u64, s: i32) -> u64 {
    u32::try_from(s)
        .ok()
        .and_then(|s| x.checked_shl(s))
        .unwrap_or(0)
}

/// `x >> s`, 0 for out-of-range shifts.
fn shr(x: u64, s: i32) -> u64 {
    u32::try_from(s)
        .ok()
        .and_then(|s| x.checked_shr(s))
        .unwrap_or(0)
}

fn build_fp(d: f64) -> Fp {
    let bits = d.to_bits();
    let frac = bits & FRAC_MASK;
    // The biased exponent has 11 bits, so the cast is lossless.
    let exp = ((bits & EXP_MASK) >> 52) as i32;
    if exp != 0 {
        Fp::new(frac + HIDDEN_BIT, exp - EXP_BIAS)
    } else {
        Fp::new(frac, -EXP_BIAS + 1)
    }
}

fn normalize(fp: &mut Fp) {
    if fp.frac == 0 {
        return;
    }
    while fp.frac & HIDDEN_BIT == 0 {
        fp.frac <<= 1;
        fp.exp -= 1;
    }
    let shift = 64 - 52 - 1;
    fp.frac <<= shift;
    fp.exp -= shift;
}

/// Returns `(lower, upper)` boundaries of the rounding interval of `fp`.
fn normalized_boundaries(fp: Fp) -> (Fp, Fp) {
    let mut upper = Fp::new((fp.frac << 1).wrapping_add(1), fp.exp - 1);
    while upper.frac & (HIDDEN_BIT << 1) == 0 {
        upper.frac <<= 1;
        upper.exp -= 1;
    }
    let u_shift = 64 - 52 - 2;
    upper.frac <<= u_shift;
    upper.exp -= u_shift;

    let l_shift = if fp.frac == HIDDEN_BIT { 2 } else { 1 };
    let mut lower = Fp::new(shl(fp.frac, l_shift).wrapping_sub(1), fp.exp - l_shift);
    lower.frac = shl(lower.frac, lower.exp - upper.exp);
    lower.exp = upper.exp;
    (lower, upper)
}

/// 64x64 -> upper 64 bits of the product, rounded.
fn multiply(a: Fp, b: Fp) -> Fp {
    const LO: u64 = 0xFFFF_FFFF;
    let ah_bl = (a.frac >> 32).wrapping_mul(b.frac & LO);
    let al_bh = (a.frac & LO).wrapping_mul(b.frac >> 32);
    let al_bl = (a.frac & LO).wrapping_mul(b.frac & LO);
    let ah_bh = (a.frac >> 32).wrapping_mul(b.frac >> 32);

    let mut tmp = (ah_bl & LO)
        .wrapping_add(al_bh & LO)
        .wrapping_add(al_bl >> 32);
    // round up
    tmp = tmp.wrapping_add(1 << 31);

    Fp::new(
        ah_bh
            .wrapping_add(ah_bl >> 32)
            .wrapping_add(al_bh >> 32)
            .wrapping_add(tmp >> 32),
        a.exp + b.exp + 64,
    )
}

/// Picks the cached power of ten bringing `exp` into `[EXP_MIN, EXP_MAX]`; returns it and
/// its decimal exponent.
fn cached_pow10(exp: i32) -> (Fp, i32) {
    const ONE_LOG_TEN: f64 = 0.301_029_995_663_981_14;
    // Truncation toward zero, like the C int conversion.
    let approx = (f64::from(-(exp + 87)) * ONE_LOG_TEN) as i32;
    let last = POWERS_TEN.len() - 1;
    let mut idx = usize::try_from((approx - FIRST_POWER) / STEP_POWERS)
        .unwrap_or(0)
        .min(last);
    // Bounded: at most one full sweep over the table.
    for _ in 0..=POWERS_TEN.len() {
        let current = exp + POWERS_TEN[idx].exp + 64;
        if current < EXP_MIN && idx < last {
            idx += 1;
            continue;
        }
        if current > EXP_MAX && idx > 0 {
            idx -= 1;
            continue;
        }
        break;
    }
    // idx <= 86, so the cast is lossless.
    (POWERS_TEN[idx], FIRST_POWER + idx as i32 * STEP_POWERS)
}

fn round_digit(digits: &mut [u8], ndigits: usize, delta: u64, mut rem: u64, kappa: u64, frac: u64) {
    let Some(last) = ndigits.checked_sub(1).and_then(|i| digits.get_mut(i)) else {
        return;
    };
    while rem < frac
        && delta.wrapping_sub(rem) >= kappa
        && (rem.wrapping_add(kappa) < frac
            || frac.wrapping_sub(rem) > rem.wrapping_add(kappa).wrapping_sub(frac))
    {
        *last = last.wrapping_sub(1);
        rem = rem.wrapping_add(kappa);
    }
}

fn push_digit(digits: &mut [u8], idx: &mut usize, digit: u64) {
    if digit != 0 || *idx != 0 {
        if let Some(slot) = digits.get_mut(*idx) {
            // digit < 10 for every finite input; the mask keeps the cast obviously lossless.
            *slot = b'0' + (digit & 0xF) as u8;
            *idx += 1;
        }
    }
}

fn generate_digits(fp: Fp, upper: Fp, lower: Fp, digits: &mut [u8], k: &mut i32) -> usize {
    let wfrac = upper.frac.wrapping_sub(fp.frac);
    let mut delta = upper.frac.wrapping_sub(lower.frac);

    let shift = -upper.exp;
    let one_frac = shl(1, shift);

    let mut part1 = shr(upper.frac, shift);
    let mut part2 = upper.frac & one_frac.wrapping_sub(1);

    let mut idx = 0usize;
    let mut kappa = 10;
    // 1_000_000_000 down to 1
    for &div in &TENS[10..] {
        let digit = part1 / div;
        push_digit(digits, &mut idx, digit);
        part1 = part1.wrapping_sub(digit.wrapping_mul(div));
        kappa -= 1;

        let tmp = shl(part1, shift).wrapping_add(part2);
        if tmp <= delta {
            *k += kappa;
            round_digit(digits, idx, delta, tmp, shl(div, shift), wfrac);
            return idx;
        }
    }

    // 10, 100, ... ; bounded by the table (the loop always ends far earlier).
    for &unit in TENS[..19].iter().rev() {
        part2 = part2.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        kappa -= 1;

        let digit = shr(part2, shift);
        push_digit(digits, &mut idx, digit);

        part2 &= one_frac.wrapping_sub(1);
        if part2 < delta {
            *k += kappa;
            round_digit(
                digits,
                idx,
                delta,
                part2,
                one_frac,
                wfrac.wrapping_mul(unit),
            );
            return idx;
        }
    }
    idx
}

/// Digits of a finite, non-zero `d` (sign ignored) and the decimal exponent `K` such that
/// `|d| ≈ digits * 10^K`.
fn grisu2(d: f64, digits: &mut [u8]) -> (usize, i32) {
    let mut w = build_fp(d);
    let (lower, upper) = normalized_boundaries(w);
    normalize(&mut w);

    let (cp, k) = cached_pow10(upper.exp);

    let w = multiply(w, cp);
    let mut upper = multiply(upper, cp);
    let mut lower = multiply(lower, cp);

    lower.frac = lower.frac.wrapping_add(1);
    upper.frac = upper.frac.wrapping_sub(1);

    let mut kk = -k;
    let n = generate_digits(w, upper, lower, digits, &mut kk);
    (n, kk)
}

fn emit_digits(digits: &[u8], k: i32, neg: bool, out: &mut String) {
    let push = |out: &mut String, bytes: &[u8]| {
        out.extend(bytes.iter().map(|&b| char::from(b)));
    };
    // At most 32 digits, so the cast is lossless.
    let mut ndigits = digits.len() as i32;
    let exp = (k + ndigits - 1).abs();

    // write plain integer
    if k >= 0 && exp < ndigits + 7 {
        push(out, digits);
        out.extend(std::iter::repeat_n('0', k.unsigned_abs() as usize));
        return;
    }

    // write decimal w/o scientific notation
    if k < 0 && (k > -7 || exp < 4) {
        let offset = ndigits - k.abs();
        if offset <= 0 {
            // fp < 1.0 -> write leading zero
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', offset.unsigned_abs() as usize));
            push(out, digits);
        } else {
            let (int_part, frac_part) = digits.split_at(offset.unsigned_abs() as usize);
            push(out, int_part);
            out.push('.');
            push(out, frac_part);
        }
        return;
    }

    // write decimal w/ scientific notation
    ndigits = ndigits.min(18 - i32::from(neg));
    let shown = &digits[..ndigits.unsigned_abs() as usize];
    if let Some((&first, rest)) = shown.split_first() {
        out.push(char::from(first));
        if !rest.is_empty() {
            out.push('.');
            push(out, rest);
        }
    }
    out.push('e');
    out.push(if k + ndigits - 1 < 0 { '-' } else { '+' });

    let mut e = exp;
    let mut cent = 0;
    let digit = |n: i32| char::from(b'0' + (n.unsigned_abs() % 10) as u8);
    if e > 99 {
        cent = e / 100;
        out.push(digit(cent));
        e -= cent * 100;
    }
    if e > 9 {
        let dec = e / 10;
        out.push(digit(dec));
        e -= dec * 10;
    } else if cent != 0 {
        out.push('0');
    }
    out.push(digit(e % 10));
}

/// Appends Redis' `fpconv_dtoa(d)` to `out`.
pub(super) fn fpconv_dtoa(d: f64, out: &mut String) {
    let neg = d.to_bits() & SIGN_MASK != 0;
    if neg {
        out.push('-');
    }
    if d == 0.0 {
        out.push('0');
        return;
    }
    if d.is_nan() {
        out.push_str("nan");
        return;
    }
    if d.is_infinite() {
        out.push_str("inf");
        return;
    }
    let mut digits = [0u8; 32];
    let (n, k) = grisu2(d, &mut digits);
    emit_digits(&digits[..n.min(digits.len())], k, neg, out);
}
