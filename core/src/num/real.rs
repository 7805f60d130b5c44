//! The number type the plant is written over.
//!
//! The synth voice is written once, generic over [`Real`], so that the audio thread runs it on
//! `f32` and the learner runs the very same code on forward-mode dual numbers to get exact
//! gradients with respect to θ (docs/ARCHITECTURE.md §4). Anything the plant computes from θ must
//! go through this trait; anything that does not depend on θ (oscillator phase, noise) stays `f32`.
//!
//! Comparisons (`val()`) pick branches on the primal value only, so piecewise code (envelope
//! stages, clamps) is differentiated exactly as it runs.

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A real number the plant can run on: `f32` for audio, dual numbers for gradients.
pub trait Real:
    Copy
    + Debug
    + Default
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Add<f32, Output = Self>
    + Sub<f32, Output = Self>
    + Mul<f32, Output = Self>
    + Div<f32, Output = Self>
{
    /// The number the plant's parts that do not depend on θ run on (oscillator phase and
    /// waveforms): `f32` for audio and for the learner's `f32` dual numbers, and the full
    /// precision of `f64` dual numbers in the gradient checks, so a bent pitch is checked
    /// against finite differences exactly.
    type Plain: Real<Plain = Self::Plain>;
    /// Whether the number carries partial derivatives (a dual number with N > 0): work that
    /// only feeds the partials is skipped on plain numbers.
    const PARTIALS: bool;
    /// A constant: a value with no dependence on θ.
    fn cst(v: f32) -> Self;
    /// The value, as a [`Self::Plain`].
    fn plain(self) -> Self::Plain;
    /// A constant from a [`Self::Plain`].
    fn from_plain(p: Self::Plain) -> Self;
    /// `self · p`, scaling the partials (cheaper than multiplying by a constant dual).
    fn mul_plain(self, p: Self::Plain) -> Self;
    /// `self / p`: a true division of the value (the played `f32` path divides, and an old
    /// patch must play the very same samples).
    fn div_plain(self, p: Self::Plain) -> Self;
    /// `self + p`.
    fn add_plain(self, p: Self::Plain) -> Self;
    /// The primal value, used for branching, clamping and output.
    fn val(self) -> f32;
    fn exp(self) -> Self;
    fn exp2(self) -> Self;
    fn ln(self) -> Self;
    fn sin(self) -> Self;
    fn tan(self) -> Self;
    fn sqrt(self) -> Self;
    fn recip(self) -> Self;

    /// The slice as `f32`s when the number is `f32` (the audio path, which renders its voices
    /// in lanes), else `None`.
    fn as_f32s(s: &mut [Self]) -> Option<&mut [f32]> {
        let _ = s;
        None
    }

    /// Whether the number depends on θ (a dual number with a non-zero partial; never an
    /// `f32`): a section of the plant at its neutral setting is skipped unless it is being
    /// learned.
    fn varies(self) -> bool {
        false
    }

    /// Clamp on the primal value: inside the range the number passes through unchanged (with its
    /// derivatives), outside it becomes the constant bound (derivative zero, as the code runs).
    /// NaN becomes `lo`.
    fn clamp_val(self, lo: f32, hi: f32) -> Self {
        let v = self.val();
        if v < lo || v.is_nan() {
            Self::cst(lo)
        } else if v > hi {
            Self::cst(hi)
        } else {
            self
        }
    }
}

impl Real for f32 {
    type Plain = f32;
    const PARTIALS: bool = false;
    #[inline(always)]
    fn as_f32s(s: &mut [Self]) -> Option<&mut [f32]> {
        Some(s)
    }
    #[inline(always)]
    fn cst(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn plain(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from_plain(p: f32) -> Self {
        p
    }
    #[inline(always)]
    fn mul_plain(self, p: f32) -> Self {
        self * p
    }
    #[inline(always)]
    fn div_plain(self, p: f32) -> Self {
        self / p
    }
    #[inline(always)]
    fn add_plain(self, p: f32) -> Self {
        self + p
    }
    #[inline(always)]
    fn val(self) -> f32 {
        self
    }
    #[inline(always)]
    fn exp(self) -> Self {
        f32::exp(self)
    }
    #[inline(always)]
    fn exp2(self) -> Self {
        f32::exp2(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        f32::ln(self)
    }
    #[inline(always)]
    fn sin(self) -> Self {
        f32::sin(self)
    }
    #[inline(always)]
    fn tan(self) -> Self {
        f32::tan(self)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn recip(self) -> Self {
        f32::recip(self)
    }
}

/// The arithmetic that the plant's formulas need, shared by `f32`, the dual numbers and
/// [`super::lanes::F32x8`]: a formula written over it is written once for every path.
pub trait Arith:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + Add<f32, Output = Self>
    + Sub<f32, Output = Self>
    + Mul<f32, Output = Self>
{
    /// A constant.
    fn lit(v: f32) -> Self;
}

impl<T: Real> Arith for T {
    #[inline(always)]
    fn lit(v: f32) -> Self {
        T::cst(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_val_passes_inside_and_pins_outside() {
        assert_eq!(0.5f32.clamp_val(0.0, 1.0), 0.5);
        assert_eq!((-2.0f32).clamp_val(0.0, 1.0), 0.0);
        assert_eq!(7.0f32.clamp_val(0.0, 1.0), 1.0);
        assert_eq!(f32::NAN.clamp_val(0.0, 1.0), 0.0);
    }
}
