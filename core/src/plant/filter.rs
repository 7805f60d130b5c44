//! The voice filter: a state-variable low-pass in trapezoidal (TPT) form.
//!
//! Zavalishin, "The Art of VA Filter Design" (2012), and Simper's linear SVF derivation
//! (Cytomic, 2013). It keeps its response under fast cutoff modulation (the filter envelope
//! moves the cutoff every sample) and is a plain recursion, so forward-mode dual numbers
//! differentiate it exactly.

use crate::num::fastmath::sin_cos_pi;
use crate::num::real::Arith;
use crate::num::real::Real;

/// The two integrator states of one voice's filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Svf<T> {
    /// First integrator state. Written every sample by the thread rendering the voice.
    ic1: T,
    /// Second integrator state. Written every sample by the thread rendering the voice.
    ic2: T,
}

/// Per-sample coefficients of the filter, from cutoff and Q.
#[derive(Debug, Clone, Copy, Default)]
pub struct SvfCoeffs<T> {
    /// Simper's a1 = 1 / (1 + g(g + k)). Written on each filter update, read every sample.
    a1: T,
    /// a2 = g·a1.
    a2: T,
    /// a3 = g·a2.
    a3: T,
}

impl<T: Real> SvfCoeffs<T> {
    /// Coefficients for a cutoff in Hz (limited to [1 Hz, 0.45 fs], where the pre-warp
    /// explodes) and damping `k = 1 / Q`.
    ///
    /// With the pre-warped gain g = tan(π fc / fs) = s / c, Simper's a1 = 1 / (1 + g(g + k)),
    /// a2 = g·a1, a3 = g·a2 become c², s·c and s² over one common denominator: one division per
    /// sample instead of two.
    #[inline(always)]
    pub fn new(cutoff_hz: T, damping: T, sample_rate: f32) -> Self {
        let fc = cutoff_hz.clamp_val(1.0, 0.45 * sample_rate);
        let (s, c) = sin_cos_pi(fc * sample_rate.recip());
        let inv = (c * c + s * (s + damping * c)).recip();
        let sc = s * inv;
        Self {
            a1: c * c * inv,
            a2: c * sc,
            a3: s * sc,
        }
    }

    /// The three coefficients (a1, a2, a3), for a render in lanes.
    pub(crate) fn parts(&self) -> (T, T, T) {
        (self.a1, self.a2, self.a3)
    }

    /// The coefficients (a1, a2, a3) a render in lanes computed.
    pub(crate) fn from_parts((a1, a2, a3): (T, T, T)) -> Self {
        Self { a1, a2, a3 }
    }
}

/// One step of the trapezoidal SVF: the band-pass and low-pass outputs (v1, v2) and the
/// integrators' next state, from the input `x`, the state (ic1, ic2) and (a1, a2, a3). Over
/// [`Arith`], so the voices' lanes compute the same bits as one voice.
#[inline(always)]
pub fn svf_step<A: Arith>(x: A, (ic1, ic2): (A, A), (a1, a2, a3): (A, A, A)) -> ((A, A), (A, A)) {
    let v3 = x - ic2;
    let v1 = a1 * ic1 + a2 * v3;
    let v2 = ic2 + a2 * ic1 + a3 * v3;
    ((v1, v2), (v1 * 2.0 - ic1, v2 * 2.0 - ic2))
}

impl<T: Real> Svf<T> {
    /// Clears the integrators (a new note on an idle voice).
    pub fn reset(&mut self) {
        self.ic1 = T::cst(0.0);
        self.ic2 = T::cst(0.0);
    }

    /// Whether both integrators are within ±`level`.
    pub fn quiet(&self, level: f32) -> bool {
        self.ic1.val().abs() <= level && self.ic2.val().abs() <= level
    }

    /// Filters one sample and returns the low-pass output.
    #[inline(always)]
    pub fn tick(&mut self, x: T, c: &SvfCoeffs<T>) -> T {
        self.tick_bands(x, c).1
    }

    /// Filters one sample and returns Simper's band (v1; the band-pass is k·v1) and low-pass
    /// (v2) outputs.
    #[inline(always)]
    pub fn tick_bands(&mut self, x: T, c: &SvfCoeffs<T>) -> (T, T) {
        let (bands, state) = svf_step(x, (self.ic1, self.ic2), (c.a1, c.a2, c.a3));
        (self.ic1, self.ic2) = state;
        bands
    }

    /// The integrators' state, for a render in lanes to carry on from.
    pub(crate) fn state(&self) -> (T, T) {
        (self.ic1, self.ic2)
    }

    /// Takes back the integrators' state after a render in lanes.
    pub(crate) fn set_state(&mut self, (ic1, ic2): (T, T)) {
        self.ic1 = ic1;
        self.ic2 = ic2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::units::amplitude_to_db;

    /// Steady-state gain of the filter for a sine at `f` Hz.
    fn gain_at(f: f32, fc: f32, q: f32) -> f32 {
        let sr = 48_000.0;
        let c = SvfCoeffs::new(fc, 1.0 / q, sr);
        let mut s = Svf::<f32>::default();
        let mut peak = 0.0f32;
        for n in 0..48_000 {
            let y = s.tick((std::f32::consts::TAU * f * n as f32 / sr).sin(), &c);
            if n > 24_000 {
                peak = peak.max(y.abs());
            }
        }
        peak
    }

    #[test]
    fn passes_dc_and_has_12_db_per_octave_slope() {
        let sr = 48_000.0;
        let c = SvfCoeffs::new(1_000.0, 1.0 / 0.707, sr);
        let mut s = Svf::<f32>::default();
        let mut y = 0.0;
        for _ in 0..10_000 {
            y = s.tick(1.0, &c);
        }
        approx::assert_abs_diff_eq!(y, 1.0, epsilon = 1e-4);
        // Two and four octaves above the cutoff: about -24 dB and -48 dB.
        let g4 = amplitude_to_db(gain_at(4_000.0, 1_000.0, 0.707));
        let g16 = amplitude_to_db(gain_at(16_000.0, 1_000.0, 0.707));
        assert!((-27.0..-21.0).contains(&g4), "{g4}");
        assert!(g16 < -45.0, "{g16}");
    }

    #[test]
    fn resonance_peaks_at_cutoff_by_q() {
        let g = gain_at(1_000.0, 1_000.0, 8.0);
        assert!((7.0..9.0).contains(&g), "gain at cutoff {g}");
    }

    #[test]
    fn coefficients_are_finite_for_any_cutoff() {
        for &fc in &[0.0f32, 1e-9, 20.0, 24_000.0, 1e9, f32::INFINITY, f32::NAN] {
            let c = SvfCoeffs::new(fc, 0.05, 48_000.0);
            assert!(
                c.a1.is_finite() && c.a2.is_finite() && c.a3.is_finite(),
                "{fc}"
            );
        }
    }
}
