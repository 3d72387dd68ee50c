//! Natural logarithm and exponential for per-sample gain computers, cheaper
//! than the C library's and accurate far beyond what a gain needs: the
//! relative error of [`exp`] and the absolute error of [`ln`] are below
//! 1e-9 (1e-8 dB) over the ranges they are specified for (checked against
//! the standard library in the tests).

/// Rounds to the nearest integer by the 1.5·2^52 addition (exact for
/// |x| < 2^51; ties to even).
const ROUNDING_BIAS: f64 = 6_755_399_441_055_744.0;

/// 2^52 as f64 and its bit pattern: `from_bits(TWO_52_BITS | k) − 2^52` is
/// the integer `k < 2^52` as f64, in operations a vector unit has.
const TWO_52: f64 = 4_503_599_627_370_496.0;
const TWO_52_BITS: u64 = 0x4330_0000_0000_0000;

/// Natural logarithm of a positive, normal, finite `x`.
///
/// `x = m·2^e` with `m` in `[√½, √2)`; `ln m = 2·atanh(s)`, `s = (m − 1) /
/// (m + 1)`, `|s| ≤ 0.1716`, by its series to `s¹¹` (truncation below 2e-11).
/// Branch-free and without integer-to-float conversions, so loops over it
/// vectorise.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    debug_assert!(x.is_normal() && x > 0.0, "fast_math::ln({x})");
    let bits = x.to_bits();
    let biased_exponent = f64::from_bits(TWO_52_BITS | (bits >> 52)) - TWO_52;
    let mantissa = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023 << 52));
    let above = mantissa > std::f64::consts::SQRT_2;
    let mantissa = if above { mantissa * 0.5 } else { mantissa };
    let exponent = biased_exponent - 1023.0 + if above { 1.0 } else { 0.0 };
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    let s2 = s * s;
    let series = 1.0
        + s2 * (1.0 / 3.0
            + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0)))));
    exponent * std::f64::consts::LN_2 + 2.0 * s * series
}

/// `e^x` for `x` in −700 ..= 700 (values outside are clamped there).
///
/// `e^x = 2^n · e^y`, `n = round(x / ln 2)`, `|y| ≤ ln 2 / 2`, `e^y` by its
/// Taylor series to `y⁹` (truncation below 1e-11 relative). Branch-free;
/// `2^n` is built from the bits of the rounding sum, so loops vectorise.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let x = x.clamp(-700.0, 700.0);
    let biased = x * std::f64::consts::LOG2_E + ROUNDING_BIAS;
    let n = biased - ROUNDING_BIAS;
    let y = x - n * std::f64::consts::LN_2;
    let series = 1.0
        + y * (1.0
            + y * (1.0 / 2.0
                + y * (1.0 / 6.0
                    + y * (1.0 / 24.0
                        + y * (1.0 / 120.0
                            + y * (1.0 / 720.0
                                + y * (1.0 / 5040.0
                                    + y * (1.0 / 40_320.0 + y * (1.0 / 362_880.0)))))))));
    // The low bits of `biased` hold 2^51 + n; adding the exponent bias and
    // shifting into the exponent field drops the 2^51.
    let scale = f64::from_bits(biased.to_bits().wrapping_add(1023) << 52);
    series * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_matches_the_standard_library() {
        let mut worst = 0.0f64;
        let mut x = 1e-300;
        while x < 1e300 {
            for factor in [1.0, 1.1, 1.41, 1.4143, 1.9999, 2.7] {
                let value = x * factor;
                worst = worst.max((ln(value) - value.ln()).abs());
            }
            x *= 3.7;
        }
        for i in 1..100_000 {
            let value = i as f64 * 1e-4;
            worst = worst.max((ln(value) - value.ln()).abs());
        }
        assert!(worst < 1e-9, "worst absolute error {worst:e}");
    }

    #[test]
    fn exp_matches_the_standard_library() {
        let mut worst = 0.0f64;
        for i in -69_999..=69_999 {
            let x = i as f64 * 0.01 + 0.003;
            let want = x.exp();
            worst = worst.max(((exp(x) - want) / want).abs());
        }
        assert!(worst < 1e-9, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
    }
}
