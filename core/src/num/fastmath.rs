//! Polynomial approximations of the transcendental functions the plant calls every sample.
//!
//! They are written with [`Real`] arithmetic only, so the audio thread (`f32`) and the learner
//! (dual numbers) run the same approximation and the gradient is exactly that of what is played.
//! Coefficients are weighted least-squares fits refined toward minimax (Lawson iterations) on
//! the stated interval; errors are measured in the tests below.

use crate::num::real::Arith;
use crate::num::real::Real;

/// 2^x, relative error below 1e-6 for |x| ≤ 60 (clamped beyond).
#[inline(always)]
pub fn exp2<T: Real>(x: T) -> T {
    let x = x.clamp_val(-60.0, 60.0);
    let n = floor(x.val());
    exp2_fraction(x - n) * pow2i(n as i32)
}

/// 2^f for f ∈ [0, 1], the polynomial of [`exp2`]; over [`Arith`], for the voices' lanes.
#[inline(always)]
pub fn exp2_fraction<A: Arith>(f: A) -> A {
    // Degree 5, relative error 7.5e-8.
    ((((f * 0.001_877_576 + 0.008_989_342) * f + 0.055_826_317) * f + 0.240_153_62) * f
        + 0.693_153_1)
        * f
        + 0.999_999_93
}

/// ⌊x⌋ for |x| < 2^31. `f32::floor` is a library call on baseline x86-64 (no SSE4.1), and
/// this runs every sample.
#[inline(always)]
pub fn floor(x: f32) -> f32 {
    let t = x as i32 as f32;
    if t > x { t - 1.0 } else { t }
}

/// 2^n for an integer n in [-126, 127], built from the exponent bits.
#[inline(always)]
pub fn pow2i(n: i32) -> f32 {
    f32::from_bits(((n.clamp(-126, 127) + 127) as u32) << 23)
}

/// (sin(π·x), cos(π·x)) for x ∈ [0, 0.45] (clamped): the filter pre-warp up to 0.45 of the
/// sample rate. Their ratio is tan(π·x) to a relative error below 1e-6; the filter takes both so
/// it can fold the ratio into its own single division.
#[inline(always)]
pub fn sin_cos_pi<T: Real>(x: T) -> (T, T) {
    sin_cos_pi_clamped(x.clamp_val(0.0, 0.45))
}

/// [`sin_cos_pi`] for x already in [0, 0.45]; over [`Arith`], for the voices' lanes.
#[inline(always)]
pub fn sin_cos_pi_clamped<A: Arith>(x: A) -> (A, A) {
    let x2 = x * x;
    // sin(πx), odd degree 9, relative error 1.8e-9 on [0, 0.45].
    let s = ((((x2 * 0.078_429_64 - 0.598_596_1) * x2 + 2.550_114_4) * x2 - 5.167_711_5) * x2
        + std::f32::consts::PI)
        * x;
    // cos(πx), even degree 10, relative error 1.3e-10 on [0, 0.45].
    let c = ((((x2 * -0.024_576_26 + 0.235_028_03) * x2 - 1.335_227_7) * x2 + 4.058_71) * x2
        - 4.934_802)
        * x2
        + 1.0;
    (s, c)
}

/// sin(2π·phase) for a phase in cycles (any finite value; the oscillators pass [0, 1)),
/// absolute error below 1e-6 there. Generic: the oscillators call it on `f32`, the LFO on θ.
#[inline(always)]
pub fn sin_2pi<T: Real>(phase: T) -> T {
    // Reduce to y ∈ [-0.5, 0.5), then fold onto [-0.25, 0.25] with sin(π − a) = sin(a).
    let mut y = phase - floor(phase.val() + 0.5);
    if y.val() > 0.25 {
        y = -y + 0.5;
    } else if y.val() < -0.25 {
        y = -y - 0.5;
    }
    sin_2pi_folded(y)
}

/// sin(2π·y) for y ∈ [−0.25, 0.25], the part of [`sin_2pi`] after the phase is folded there;
/// over [`Arith`], so the oscillators' lanes compute the same bits.
#[inline(always)]
pub fn sin_2pi_folded<A: Arith>(y: A) -> A {
    let y2 = y * y;
    // Odd degree 7 on [0, 0.25], absolute error 5.9e-7 (−124 dB): inaudible, two multiply-adds
    // cheaper than degree 9.
    (((y2 * -70.993_45 + 81.340_775) * y2 - 41.337_143) * y2 + 6.283_164) * y
}

/// 2^x − 1 for |x| ≤ 2.5 octaves (clamped), exactly 0 at x = 0: the pitch ratio of a bent
/// note, so a pitch section switched on at zero depth plays the very same samples as when it
/// is off. Taylor series of degree 13, relative error below 3e-7 on the range (f32).
#[inline(always)]
pub fn exp2_m1<T: Real>(x: T) -> T {
    exp2_m1_clamped(x.clamp_val(-2.5, 2.5))
}

/// [`exp2_m1`] for x already in [−2.5, 2.5]; over [`Arith`], for the voices' lanes.
#[inline(always)]
pub fn exp2_m1_clamped<A: Arith>(x: A) -> A {
    const C: [f32; 13] = [
        std::f32::consts::LN_2,
        0.2402265,
        0.05550411,
        0.009618129,
        0.0013333558,
        1.540353e-4,
        1.5252734e-5,
        1.3215487e-6,
        1.0178086e-7,
        7.0549118e-9,
        4.4455384e-10,
        2.5678437e-11,
        1.3691489e-12,
    ];
    let mut p = A::lit(C[12]);
    for &c in C[..12].iter().rev() {
        p = p * x + c;
    }
    p * x
}

/// [`sin_2pi`] and its exact derivative with respect to the phase (of the polynomial as it is
/// computed, not of the true sine), for the oscillators' bent pitch.
#[inline(always)]
pub fn sin_2pi_with_slope<T: Real>(phase: T) -> (T, T) {
    let mut y = phase - floor(phase.val() + 0.5);
    let mut sign = 1.0;
    if y.val() > 0.25 {
        y = -y + 0.5;
        sign = -1.0;
    } else if y.val() < -0.25 {
        y = -y - 0.5;
        sign = -1.0;
    }
    let y2 = y * y;
    let value = sin_2pi_folded(y);
    // d/dy of the odd degree-7 polynomial, times dy/dphase (±1).
    let slope =
        ((y2 * (-70.993_45 * 7.0) + 81.340_775 * 5.0) * y2 - 41.337_143 * 3.0) * y2 + 6.283_164;
    (value, slope * sign)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_rel_err(f: impl Fn(f64) -> (f64, f64), lo: f64, hi: f64) -> f64 {
        (0..=20_000)
            .map(|i| lo + (hi - lo) * i as f64 / 20_000.0)
            .map(|x| {
                let (approx, exact) = f(x);
                ((approx - exact) / exact.abs().max(1e-30)).abs()
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn exp2_m1_is_accurate_and_exactly_zero_at_zero() {
        assert_eq!(exp2_m1(0.0f32), 0.0);
        let worst = (0..=20_000)
            .map(|i| -2.5 + 5.0 * i as f64 / 20_000.0)
            .filter(|x: &f64| x.abs() > 1e-3)
            .map(|x| {
                let exact = x.exp2() - 1.0;
                ((exp2_m1(x as f32) as f64 - exact) / exact).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 3e-7, "relative error {worst:e}");
    }

    #[test]
    fn exp2_is_accurate() {
        let e = max_rel_err(|x| (exp2(x as f32) as f64, x.exp2()), -30.0, 30.0);
        // f32 rounding in the Horner steps dominates the 7.5e-8 of the fit.
        assert!(e < 1e-6, "{e}");
        assert!(exp2(1e9f32).is_finite() && exp2(f32::NAN).is_finite());
        assert_eq!(exp2(-1e9f32), exp2(-60.0f32));
    }

    #[test]
    fn floor_matches_std() {
        for x in [-2.5f32, -2.0, -0.1, 0.0, 0.3, 1.0, 7.9, 1e6] {
            assert_eq!(floor(x), x.floor(), "{x}");
        }
    }

    #[test]
    fn tan_pi_is_accurate() {
        let tan_pi = |x: f32| {
            let (s, c) = sin_cos_pi(x);
            s / c
        };
        let e = max_rel_err(
            |x| (tan_pi(x as f32) as f64, (std::f64::consts::PI * x).tan()),
            1e-4,
            0.45,
        );
        assert!(e < 1e-6, "{e}");
    }

    #[test]
    fn sin_2pi_is_accurate() {
        let err = |lo: f64, hi: f64| {
            (0..200_000)
                .map(|i| (lo + (hi - lo) * i as f64 / 200_000.0) as f32)
                .map(|p| (sin_2pi(p) as f64 - (std::f64::consts::TAU * p as f64).sin()).abs())
                .fold(0.0, f64::max)
        };
        let in_range = err(0.0, 1.0);
        assert!(in_range < 1e-6, "{in_range}");
        // Other periods reduce correctly too (f32 spacing of the phase itself adds error).
        let wide = err(-3.0, 3.0);
        assert!(wide < 2e-6, "{wide}");
    }
}
