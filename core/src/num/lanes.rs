//! Eight `f32` lanes: the number type the audio path renders eight voices on at once
//! (docs/ARCHITECTURE.md §4, "Voices in lanes").
//!
//! Plain arrays with element-wise loops, which LLVM turns into vector instructions for whatever
//! the enclosing function is compiled for: two SSE registers on baseline x86-64, one AVX2
//! register in the copy the plant dispatches to at run time. `wide` picks its instructions when
//! the crate is compiled, so a run-time AVX2 copy would still run its SSE code. Each lane does
//! the very IEEE operation a scalar `f32` would, in the same order, so a voice plays the same bits
//! in a lane as alone.

use super::real::Arith;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// Lanes per [`F32x8`].
pub const LANES: usize = 8;

impl Arith for F32x8 {
    #[inline(always)]
    fn lit(v: f32) -> Self {
        F32x8::splat(v)
    }
}

/// Eight `f32`, one per lane.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C, align(32))]
pub struct F32x8(pub [f32; LANES]);

/// A true or false per lane, from a comparison of [`F32x8`]: all bits set or none, as the
/// vector compare instructions make them, so a select is a blend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, align(32))]
pub struct Mask8([u32; LANES]);

impl F32x8 {
    /// Every lane `v`.
    #[inline(always)]
    pub fn splat(v: f32) -> Self {
        Self([v; LANES])
    }

    #[inline(always)]
    fn map(self, f: impl Fn(f32) -> f32) -> Self {
        let mut r = self.0;
        for x in r.iter_mut() {
            *x = f(*x);
        }
        Self(r)
    }

    #[inline(always)]
    fn zip(self, o: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        let mut r = self.0;
        for (x, y) in r.iter_mut().zip(o.0) {
            *x = f(*x, y);
        }
        Self(r)
    }

    #[inline(always)]
    fn test(self, o: Self, f: impl Fn(f32, f32) -> bool) -> Mask8 {
        let mut m = [0; LANES];
        for ((m, x), y) in m.iter_mut().zip(self.0).zip(o.0) {
            *m = if f(x, y) { !0 } else { 0 };
        }
        Mask8(m)
    }

    /// `self < o`, per lane.
    #[inline(always)]
    pub fn lt(self, o: Self) -> Mask8 {
        self.test(o, |x, y| x < y)
    }

    /// `self > o`, per lane.
    #[inline(always)]
    pub fn gt(self, o: Self) -> Mask8 {
        self.test(o, |x, y| x > y)
    }

    /// `self >= o`, per lane.
    #[inline(always)]
    pub fn ge(self, o: Self) -> Mask8 {
        self.test(o, |x, y| x >= y)
    }

    /// ⌊x⌋ per lane for |x| < 2^31, as [`super::fastmath::floor`] computes it.
    #[inline(always)]
    pub fn floor(self) -> Self {
        self.map(super::fastmath::floor)
    }

    /// [`super::real::Real::clamp_val`] per lane: NaN becomes `lo`.
    #[inline(always)]
    pub fn clamp_val(self, lo: f32, hi: f32) -> Self {
        self.clamp_lanes(F32x8::splat(lo), F32x8::splat(hi))
    }

    /// [`Self::clamp_val`] with bounds per lane.
    #[inline(always)]
    pub fn clamp_lanes(self, lo: Self, hi: Self) -> Self {
        let below = self.lt(lo).or(self.test(self, |x, y| x != y));
        below.select(lo, self.gt(hi).select(hi, self))
    }

    /// 1 / x per lane (`f32::recip`).
    #[inline(always)]
    pub fn recip(self) -> Self {
        self.map(|v| 1.0 / v)
    }

    /// 2^x per lane, as [`super::fastmath::exp2`] computes it.
    #[inline(always)]
    pub fn exp2(self) -> Self {
        let x = self.clamp_val(-60.0, 60.0);
        let n = x.floor();
        let scale = n.map(|n| super::fastmath::pow2i(n as i32));
        super::fastmath::exp2_fraction(x - n) * scale
    }

    /// (sin(π·x), cos(π·x)) per lane, as [`super::fastmath::sin_cos_pi`] computes them.
    #[inline(always)]
    pub fn sin_cos_pi(self) -> (Self, Self) {
        super::fastmath::sin_cos_pi_clamped(self.clamp_val(0.0, 0.45))
    }

    /// `self == o`, per lane.
    #[inline(always)]
    pub fn eq(self, o: Self) -> Mask8 {
        self.test(o, |x, y| x == y)
    }
}

impl Mask8 {
    /// Every lane true.
    pub const ALL: Self = Self([!0; LANES]);

    /// Lane `l`.
    #[inline(always)]
    pub fn get(self, l: usize) -> bool {
        self.0[l] != 0
    }

    /// Sets lane `l`.
    #[inline(always)]
    pub fn set(&mut self, l: usize, v: bool) {
        self.0[l] = if v { !0 } else { 0 };
    }

    /// Whether any lane is true.
    #[inline(always)]
    pub fn any(self) -> bool {
        self.0.iter().fold(0, |a, &b| a | b) != 0
    }

    /// Per lane: `a` where true, `b` where false.
    #[inline(always)]
    pub fn select(self, a: F32x8, b: F32x8) -> F32x8 {
        let mut r = [0.0; LANES];
        for (((r, m), a), b) in r.iter_mut().zip(self.0).zip(a.0).zip(b.0) {
            *r = f32::from_bits((a.to_bits() & m) | (b.to_bits() & !m));
        }
        F32x8(r)
    }

    /// Per lane: `a` where true, `b` where false, for counters.
    #[inline(always)]
    pub fn select_u32(self, a: [u32; LANES], b: [u32; LANES]) -> [u32; LANES] {
        let mut r = [0; LANES];
        for (((r, m), a), b) in r.iter_mut().zip(self.0).zip(a).zip(b) {
            *r = (a & m) | (b & !m);
        }
        r
    }

    /// Per lane: `a`'s where true, `b`'s where false.
    #[inline(always)]
    pub fn pick(self, a: Mask8, b: Mask8) -> Mask8 {
        Mask8(self.select_u32(a.0, b.0))
    }

    /// Both true, per lane.
    #[inline(always)]
    pub fn and(self, o: Self) -> Self {
        Self(std::array::from_fn(|l| self.0[l] & o.0[l]))
    }

    /// Either true, per lane.
    #[inline(always)]
    pub fn or(self, o: Self) -> Self {
        Self(std::array::from_fn(|l| self.0[l] | o.0[l]))
    }

    /// True where `self` is and `o` is not.
    #[inline(always)]
    pub fn and_not(self, o: Self) -> Self {
        Self(std::array::from_fn(|l| self.0[l] & !o.0[l]))
    }
}

macro_rules! lane_op {
    ($tr:ident, $f:ident, $op:tt) => {
        impl $tr for F32x8 {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: Self) -> Self {
                self.zip(o, |x, y| x $op y)
            }
        }
        impl $tr<f32> for F32x8 {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: f32) -> Self {
                self.map(|x| x $op o)
            }
        }
    };
}

lane_op!(Add, add, +);
lane_op!(Sub, sub, -);
lane_op!(Mul, mul, *);
lane_op!(Div, div, /);

impl Neg for F32x8 {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        self.map(|x| -x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lane_computes_what_a_scalar_would() {
        let a = F32x8([0.1, -2.5, 3.0e-3, 7.0, -0.0, 1.0e6, 0.3, -1.7]);
        let b = F32x8([1.3, 0.2, -4.0, 1.0e-4, 2.0, -3.0, 0.3, 9.9]);
        let r = (a * b + a) / (b - 0.5) - -a * 2.0;
        for i in 0..LANES {
            let (x, y) = (a.0[i], b.0[i]);
            assert_eq!(
                r.0[i].to_bits(),
                ((x * y + x) / (y - 0.5) - -x * 2.0).to_bits()
            );
        }
        let m = a.lt(b);
        for i in 0..LANES {
            assert_eq!(m.get(i), a.0[i] < b.0[i]);
        }
        let s = m.select(a, b);
        for i in 0..LANES {
            let want = if m.get(i) { a.0[i] } else { b.0[i] };
            assert_eq!(s.0[i].to_bits(), want.to_bits());
        }
        assert!(m.any() && !Mask8::default().any());
        assert_eq!(a.floor().0[1], -3.0);
        use crate::num::fastmath::{exp2, sin_cos_pi};
        let x = F32x8([-70.0, -3.7, -0.0, 0.3, 1.0, 12.5, 61.0, f32::NAN]);
        let (e, (s, c)) = (x.exp2(), (x * 0.01).sin_cos_pi());
        for i in 0..LANES {
            assert_eq!(e.0[i].to_bits(), exp2(x.0[i]).to_bits(), "{}", x.0[i]);
            let (ws, wc) = sin_cos_pi(x.0[i] * 0.01);
            assert_eq!(
                (s.0[i].to_bits(), c.0[i].to_bits()),
                (ws.to_bits(), wc.to_bits())
            );
        }
    }
}
