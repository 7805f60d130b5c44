//! Forward-mode dual numbers: a value and its partial derivatives with respect to N inputs.
//!
//! The plant is generic over [`Real`]; run on `Dual<S, N>` it carries ∂/∂θ_k for every θ through
//! oscillators, the recursive filter and the envelopes, exactly as the `f32` code runs
//! (docs/ARCHITECTURE.md §4). Branches pick on the primal value, so piecewise code is
//! differentiated as the branch taken. `Dual<f64, 0>` is a plain double-precision number with the
//! plant's mixed `f32` arithmetic, which the gradient checks use for finite differences.

use crate::num::real::Real;
use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// The scalar a dual number is built on: `f32` (fast) or `f64` (checks).
pub trait Scalar:
    Copy
    + Debug
    + Default
    + Send
    + Sync
    + 'static
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
{
    const ZERO: Self;
    const ONE: Self;
    /// The plant's θ-independent number at this precision (see [`Real::Plain`]).
    type Plain: Real<Plain = Self::Plain>;
    fn to_plain(self) -> Self::Plain;
    fn from_plain(p: Self::Plain) -> Self;
    fn from_f32(v: f32) -> Self;
    fn to_f32(self) -> f32;
    fn exp(self) -> Self;
    fn exp2(self) -> Self;
    fn ln(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn tan(self) -> Self;
    fn sqrt(self) -> Self;
}

macro_rules! impl_scalar {
    ($t:ty, $plain:ty, $to:expr, $from:expr) => {
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            type Plain = $plain;
            #[inline(always)]
            fn to_plain(self) -> $plain {
                $to(self)
            }
            #[inline(always)]
            fn from_plain(p: $plain) -> Self {
                $from(p)
            }
            #[inline(always)]
            fn from_f32(v: f32) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f32(self) -> f32 {
                self as f32
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn exp2(self) -> Self {
                <$t>::exp2(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline(always)]
            fn tan(self) -> Self {
                <$t>::tan(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
        }
    };
}
impl_scalar!(f32, f32, |v| v, |p| p);
impl_scalar!(f64, Dual<f64, 0>, Dual::constant, |p: Dual<f64, 0>| p.v);

/// A value `v` with its partial derivatives `d[k] = ∂v/∂x_k`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
pub struct Dual<S, const N: usize> {
    /// Partial derivatives with respect to the N seeded inputs.
    pub d: [S; N],
    /// The primal value.
    pub v: S,
}

impl<S: Scalar, const N: usize> Default for Dual<S, N> {
    fn default() -> Self {
        Self {
            v: S::ZERO,
            d: [S::ZERO; N],
        }
    }
}

impl<S: Scalar, const N: usize> Dual<S, N> {
    /// A constant (all partials zero).
    #[inline(always)]
    pub fn constant(v: S) -> Self {
        Self { v, d: [S::ZERO; N] }
    }

    /// Input number `k` with value `v`: ∂/∂x_k = 1, the other partials 0.
    pub fn variable(v: S, k: usize) -> Self {
        let mut d = [S::ZERO; N];
        if let Some(slot) = d.get_mut(k) {
            *slot = S::ONE;
        }
        Self { v, d }
    }

    /// The chain rule for a scalar function with value `v` and derivative `dv` at `self.v`.
    #[inline(always)]
    fn chain(self, v: S, dv: S) -> Self {
        Self {
            v,
            d: self.d.map(|x| x * dv),
        }
    }
}

impl<S: Scalar, const N: usize> Add for Dual<S, N> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        let mut d = self.d;
        for (a, b) in d.iter_mut().zip(o.d) {
            *a += b;
        }
        Self { v: self.v + o.v, d }
    }
}

impl<S: Scalar, const N: usize> Sub for Dual<S, N> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        let mut d = self.d;
        for (a, b) in d.iter_mut().zip(o.d) {
            *a -= b;
        }
        Self { v: self.v - o.v, d }
    }
}

impl<S: Scalar, const N: usize> Mul for Dual<S, N> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        let mut d = self.d;
        for (a, b) in d.iter_mut().zip(o.d) {
            *a = *a * o.v + b * self.v;
        }
        Self { v: self.v * o.v, d }
    }
}

impl<S: Scalar, const N: usize> Div for Dual<S, N> {
    type Output = Self;
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        let inv = S::ONE / o.v;
        let v = self.v * inv;
        let mut d = self.d;
        for (a, b) in d.iter_mut().zip(o.d) {
            *a = (*a - v * b) * inv;
        }
        Self { v, d }
    }
}

impl<S: Scalar, const N: usize> Neg for Dual<S, N> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Self {
            v: -self.v,
            d: self.d.map(|x| -x),
        }
    }
}

impl<S: Scalar, const N: usize> AddAssign for Dual<S, N> {
    #[inline(always)]
    fn add_assign(&mut self, o: Self) {
        *self = *self + o;
    }
}

impl<S: Scalar, const N: usize> SubAssign for Dual<S, N> {
    #[inline(always)]
    fn sub_assign(&mut self, o: Self) {
        *self = *self - o;
    }
}

impl<S: Scalar, const N: usize> MulAssign for Dual<S, N> {
    #[inline(always)]
    fn mul_assign(&mut self, o: Self) {
        *self = *self * o;
    }
}

impl<S: Scalar, const N: usize> Add<f32> for Dual<S, N> {
    type Output = Self;
    #[inline(always)]
    fn add(self, c: f32) -> Self {
        Self {
            v: self.v + S::from_f32(c),
            d: self.d,
        }
    }
}

impl<S: Scalar, const N: usize> Sub<f32> for Dual<S, N> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, c: f32) -> Self {
        Self {
            v: self.v - S::from_f32(c),
            d: self.d,
        }
    }
}

impl<S: Scalar, const N: usize> Mul<f32> for Dual<S, N> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, c: f32) -> Self {
        let c = S::from_f32(c);
        Self {
            v: self.v * c,
            d: self.d.map(|x| x * c),
        }
    }
}

impl<S: Scalar, const N: usize> Div<f32> for Dual<S, N> {
    type Output = Self;
    #[inline(always)]
    fn div(self, c: f32) -> Self {
        let inv = S::ONE / S::from_f32(c);
        Self {
            v: self.v * inv,
            d: self.d.map(|x| x * inv),
        }
    }
}

impl<S: Scalar, const N: usize> Real for Dual<S, N> {
    type Plain = S::Plain;
    const PARTIALS: bool = N > 0;
    #[inline(always)]
    fn varies(self) -> bool {
        self.d.iter().any(|&x| x != S::ZERO)
    }
    #[inline(always)]
    fn plain(self) -> S::Plain {
        self.v.to_plain()
    }
    #[inline(always)]
    fn from_plain(p: S::Plain) -> Self {
        Self::constant(S::from_plain(p))
    }
    #[inline(always)]
    fn mul_plain(self, p: S::Plain) -> Self {
        let p = S::from_plain(p);
        Self {
            v: self.v * p,
            d: self.d.map(|x| x * p),
        }
    }
    #[inline(always)]
    fn div_plain(self, p: S::Plain) -> Self {
        let p = S::from_plain(p);
        let inv = S::ONE / p;
        Self {
            v: self.v / p,
            d: self.d.map(|x| x * inv),
        }
    }
    #[inline(always)]
    fn add_plain(self, p: S::Plain) -> Self {
        Self {
            v: self.v + S::from_plain(p),
            d: self.d,
        }
    }
    #[inline(always)]
    fn cst(v: f32) -> Self {
        Self::constant(S::from_f32(v))
    }
    #[inline(always)]
    fn val(self) -> f32 {
        self.v.to_f32()
    }
    #[inline(always)]
    fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }
    #[inline(always)]
    fn exp2(self) -> Self {
        let e = self.v.exp2();
        self.chain(e, e * S::from_f32(std::f32::consts::LN_2))
    }
    #[inline(always)]
    fn ln(self) -> Self {
        self.chain(self.v.ln(), S::ONE / self.v)
    }
    #[inline(always)]
    fn sin(self) -> Self {
        self.chain(self.v.sin(), self.v.cos())
    }
    #[inline(always)]
    fn tan(self) -> Self {
        let t = self.v.tan();
        self.chain(t, S::ONE + t * t)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        let s = self.v.sqrt();
        self.chain(s, S::from_f32(0.5) / s)
    }
    #[inline(always)]
    fn recip(self) -> Self {
        let r = S::ONE / self.v;
        self.chain(r, -(r * r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type D = Dual<f64, 2>;

    /// Central difference of `f` at `x` for comparison with the dual derivative.
    fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        let h = 1e-6 * x.abs().max(1.0);
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    #[test]
    fn elementary_functions_carry_their_derivatives() {
        let x = 0.37f64;
        let dx = D::variable(x, 0);
        type Case = (D, fn(f64) -> f64);
        let cases: [Case; 7] = [
            (dx.exp(), f64::exp),
            (dx.exp2(), f64::exp2),
            (dx.ln(), f64::ln),
            (dx.sin(), f64::sin),
            (dx.tan(), f64::tan),
            (dx.sqrt(), f64::sqrt),
            (dx.recip(), f64::recip),
        ];
        for (i, (y, f)) in cases.into_iter().enumerate() {
            // Primal in f64; the LN_2 constant is f32, so allow its rounding.
            approx::assert_relative_eq!(y.v, f(x), max_relative = 1e-12);
            approx::assert_relative_eq!(y.d[0], fd(f, x), max_relative = 1e-6, epsilon = 1e-9);
            assert_eq!(y.d[1], 0.0, "case {i}");
        }
    }

    #[test]
    fn arithmetic_follows_the_product_and_quotient_rules() {
        let a = D::variable(1.5, 0);
        let b = D::variable(-0.25, 1);
        let y = (a * b + a / b - b * 2.0 + 3.0) / 4.0;
        // ∂/∂a = (b + 1/b) / 4, ∂/∂b = (a − a/b² − 2) / 4.
        approx::assert_relative_eq!(y.d[0], (-0.25 + 1.0 / -0.25) / 4.0, max_relative = 1e-12);
        approx::assert_relative_eq!(
            y.d[1],
            (1.5 - 1.5 / 0.0625 - 2.0) / 4.0,
            max_relative = 1e-12
        );
    }

    #[test]
    fn clamping_cuts_the_derivative_only_outside() {
        let x = D::variable(0.5, 0);
        assert_eq!(x.clamp_val(0.0, 1.0).d[0], 1.0);
        assert_eq!(x.clamp_val(0.6, 1.0).d[0], 0.0);
        assert_eq!(D::variable(f64::NAN, 0).clamp_val(0.0, 1.0).v, 0.0);
    }

    #[test]
    fn zero_partials_is_a_plain_number() {
        let x = Dual::<f64, 0>::constant(2.0);
        assert_eq!((x * x + 1.0).val(), 5.0);
    }
}
