//! The body: two peaking (bell) filters after the low-pass, for an instrument body's
//! resonances, vowels and reeds (docs/ARCHITECTURE.md §4).
//!
//! Each bell is Simper's state-variable bell (Cytomic, "Solving the continuous SVF equations
//! using trapezoidal integration", 2013): y = x + k(A² − 1)·v1 with A = 10^(gain/40) and
//! k = 1/(Q·A), so the response is symmetric in boost and cut and exactly flat at 0 dB. The
//! body is linear and the same for every voice, so the synth runs it once on their sum.

use super::filter::{Svf, SvfCoeffs};
use crate::num::real::Real;

/// ln(10) / 40: gain in dB to ln A.
const DB_TO_LN_A: f32 = std::f32::consts::LN_10 / 40.0;

/// One bell's coefficients.
#[derive(Debug, Clone, Copy, Default)]
pub struct BellCoeffs<T> {
    /// The state-variable filter's coefficients at the bell's frequency and damping k.
    svf: SvfCoeffs<T>,
    /// k(A² − 1): how much of the band is added (boost) or taken away (cut).
    mix: T,
    /// Whether the bell is heard or learned: off at 0 dB unless its θ carry partials.
    pub on: bool,
}

impl<T: Real> BellCoeffs<T> {
    /// A bell at `freq_hz` with `gain_db` and `q`, at `sample_rate`.
    pub fn new(freq_hz: T, gain_db: T, q: T, sample_rate: f32) -> Self {
        let a = (gain_db * DB_TO_LN_A).exp();
        let k = (q.clamp_val(0.05, 100.0) * a).recip();
        Self {
            svf: SvfCoeffs::new(freq_hz, k, sample_rate),
            mix: k * (a * a - 1.0),
            on: gain_db.val() != 0.0 || gain_db.varies() || freq_hz.varies() || q.varies(),
        }
    }
}

/// The body's coefficients: its two bells.
pub type BodyCoeffs<T> = [BellCoeffs<T>; 2];

/// The body's running state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Body<T> {
    /// Each bell's integrators. Written every sample by the thread rendering.
    bells: [Svf<T>; 2],
}

impl<T: Real> Body<T> {
    /// Back to rest.
    pub fn reset(&mut self) {
        self.bells.iter_mut().for_each(Svf::reset);
    }

    /// Filters one sample through the bells that are on.
    #[inline(always)]
    pub fn tick(&mut self, x: T, c: &BodyCoeffs<T>) -> T {
        let mut y = x;
        for (state, bell) in self.bells.iter_mut().zip(c) {
            if bell.on {
                let (band, _) = state.tick_bands(y, &bell.svf);
                y += band * bell.mix;
            }
        }
        y
    }

    /// Returns the body to rest once it has rung out (every state below 1e-15): a resonant
    /// bell decays slowly through the subnormal range, which costs CPU on many machines.
    pub fn settle(&mut self) {
        if self.bells.iter().all(|b| b.quiet(1e-15)) {
            self.reset();
        }
    }

    /// Whether any bell is on.
    pub fn any_on(c: &BodyCoeffs<T>) -> bool {
        c.iter().any(|b| b.on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::units::amplitude_to_db;

    /// Steady-state gain, dB, of one bell for a sine at `f` Hz.
    fn gain_db_at(f: f32, bell: (f32, f32, f32)) -> f32 {
        let sr = 48_000.0;
        let off = BellCoeffs::new(1_000.0, 0.0, 1.0, sr);
        let c = [BellCoeffs::new(bell.0, bell.1, bell.2, sr), off];
        let mut body = Body::<f32>::default();
        let mut peak = 0.0f32;
        for n in 0..48_000 {
            let y = body.tick((std::f32::consts::TAU * f * n as f32 / sr).sin(), &c);
            if n > 24_000 {
                peak = peak.max(y.abs());
            }
        }
        amplitude_to_db(peak)
    }

    #[test]
    fn a_bell_boosts_and_cuts_by_its_gain_at_its_frequency_only() {
        for g in [-12.0, 6.0, 12.0] {
            let at = gain_db_at(1_000.0, (1_000.0, g, 2.0));
            assert!(
                (at - g).abs() < 0.1,
                "{g} dB bell: {at} dB at its frequency"
            );
            // Two octaves away a Q-2 bell has let go.
            let away = gain_db_at(4_000.0, (1_000.0, g, 2.0));
            assert!(
                away.abs() < 0.1 * g.abs(),
                "{g} dB bell: {away} dB two octaves up"
            );
        }
    }

    #[test]
    fn at_0_db_the_body_is_off_and_passes_the_input_bit_for_bit() {
        let c = [
            BellCoeffs::new(500.0, 0.0, 1.0, 48_000.0),
            BellCoeffs::new(2_500.0, 0.0, 1.0, 48_000.0),
        ];
        assert!(!Body::<f32>::any_on(&c));
        let mut body = Body::<f32>::default();
        for x in [0.3f32, -1.0, 0.77, 1e-20] {
            assert_eq!(body.tick(x, &c), x);
        }
    }
}
