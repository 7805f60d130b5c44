//! The voice's oscillators: band-limited saw and pulse (PolyBLEP), sine, drawbars (sines at
//! harmonics) and white noise.
//!
//! PolyBLEP (Välimäki & Huovilainen, "Antialiasing oscillators in subtractive synthesis", 2007)
//! subtracts a two-sample polynomial step residual at each discontinuity. The residual is
//! smooth in the distance to the edge, so the pulse wave stays differentiable in its width.
//!
//! The phase is a plain number (`P`, [`Real::Plain`] of the voice's number type: `f32` when
//! playing). When vibrato bends the pitch, the phase and the increment depend on θ: the voice
//! keeps those partials itself, and each output's derivatives with respect to the phase and
//! the increment ([`Slopes`]) carry them through, to first order, which is exactly what
//! forward-mode differentiation computes.

use crate::num::fastmath::{sin_2pi, sin_2pi_with_slope};
use crate::num::real::Arith;
use crate::num::real::Real;

/// The harmonics the drawbars play, in θ order (`bar2` … `bar8`).
pub const DRAWBAR_HARMONICS: [usize; 6] = [2, 3, 4, 5, 6, 8];

/// Above this many cycles per sample a drawbar would alias; it is silent (0.45 of the sample
/// rate).
pub(crate) const DRAWBAR_LIMIT: f32 = 0.45;

/// The two-sample polynomial band-limited step residual at phase `t` ∈ [0, 1) for a phase
/// increment `dt` (cycles per sample).
/// The PolyBLEP residual just after an edge, at x = phase / increment ∈ [0, 1).
#[inline(always)]
pub(crate) fn blep_rise<A: Arith>(x: A) -> A {
    x + x - x * x - 1.0
}

/// The PolyBLEP residual just before an edge, at x = (phase − 1) / increment ∈ (−1, 0].
#[inline(always)]
pub(crate) fn blep_fall<A: Arith>(x: A) -> A {
    x * x + x + x + 1.0
}

#[inline(always)]
fn poly_blep<T: Real>(t: T, dt: T::Plain) -> T {
    let (tv, dtv) = (t.val(), dt.val());
    if tv < dtv {
        blep_rise(t.div_plain(dt))
    } else if tv > 1.0 - dtv {
        blep_fall((t - 1.0).div_plain(dt))
    } else {
        T::cst(0.0)
    }
}

/// (∂/∂t, ∂/∂dt) of [`poly_blep`] at `t`, `dt`.
#[inline(always)]
fn poly_blep_slopes<P: Real>(t: P, dt: P) -> (P, P) {
    if t.val() < dt.val() {
        let x = t / dt;
        let d = (-x * 2.0 + 2.0) / dt;
        (d, -d * x)
    } else if t.val() > 1.0 - dt.val() {
        let x = (t - 1.0) / dt;
        let d = (x * 2.0 + 2.0) / dt;
        (d, -d * x)
    } else {
        (P::cst(0.0), P::cst(0.0))
    }
}

/// A band-limited rising saw in [-1, 1] at phase `t` ∈ [0, 1).
#[inline(always)]
fn saw<T: Real>(t: T, dt: T::Plain) -> T {
    t * 2.0 - 1.0 - poly_blep(t, dt)
}

/// (∂/∂t, ∂/∂dt) of [`saw`].
#[inline(always)]
fn saw_slopes<P: Real>(t: P, dt: P) -> (P, P) {
    let (bt, bdt) = poly_blep_slopes(t, dt);
    (-bt + 2.0, -bdt)
}

/// Phase and noise state of one voice's oscillators, over the plain number `P`.
#[derive(Debug, Clone, Copy)]
pub struct Oscillators<P> {
    /// Phase in cycles, [0, 1). Audio or learner thread, advanced every sample.
    phase: P,
    /// The note's own phase increment, cycles per sample (f0 / sample rate), set on note-on.
    dt0: P,
    /// The increment now: `dt0` bent by vibrato, bend and glide (set by the voice at
    /// its control rate).
    dt: P,
    /// xorshift32 state of the noise source; never zero. Seeded on note-on.
    noise: u32,
}

/// The oscillator outputs of one sample, before mixing.
#[derive(Debug, Clone, Copy)]
pub struct OscOut<T: Real> {
    /// Band-limited saw.
    pub saw: T::Plain,
    /// Band-limited pulse: saw(φ) − saw(φ + width), zero mean for every width.
    pub pulse: T,
    /// Sine.
    pub sine: T::Plain,
    /// White noise, uniform in [-1, 1).
    pub noise: f32,
    /// sin(2π·h·φ) for each of [`DRAWBAR_HARMONICS`] (0 where it would alias); zeros unless
    /// asked for.
    pub bars: [T::Plain; 6],
    /// Derivatives with respect to the phase and the increment; zeros unless asked for.
    pub slopes: Slopes<T::Plain>,
}

/// ∂/∂φ and ∂/∂dt of each output of one sample: what bent pitch does to the waveforms.
#[derive(Debug, Clone, Copy, Default)]
pub struct Slopes<P> {
    /// ∂saw/∂φ, ∂saw/∂dt.
    pub saw: (P, P),
    /// ∂pulse/∂φ, ∂pulse/∂dt.
    pub pulse: (P, P),
    /// ∂sine/∂φ.
    pub sine: P,
    /// ∂bar/∂φ for each drawbar.
    pub bars: [P; 6],
}

impl<P: Real<Plain = P>> Default for Oscillators<P> {
    fn default() -> Self {
        Self {
            phase: P::cst(0.0),
            dt0: P::cst(0.0),
            dt: P::cst(0.0),
            noise: 0x9E37_79B9,
        }
    }
}

impl<P: Real<Plain = P>> Oscillators<P> {
    /// Starts a note: frequency `f0_hz` at `sample_rate`, phase at zero, noise seeded by `seed`
    /// (any value; zero is remapped) so renders are reproducible.
    pub fn start(&mut self, f0_hz: f32, sample_rate: f32, seed: u32) {
        self.set_frequency(f0_hz, sample_rate);
        self.phase = P::cst(0.0);
        self.noise = if seed == 0 { 0x9E37_79B9 } else { seed };
    }

    /// Advances `n` samples without output, in one step: the phase exactly at the current
    /// increment, the noise generator to a state derived from its own and `n` (white noise has
    /// no memory to keep, and the result stays reproducible).
    pub fn skip(&mut self, n: usize) {
        // Whole cycles dropped in f64, so a long skip keeps the phase's precision.
        let phase = self.phase.val() as f64 + self.dt.val() as f64 * n as f64;
        self.phase = P::cst((phase - phase.floor()) as f32);
        if self.phase.val() >= 1.0 {
            self.phase = P::cst(0.0);
        }
        let mixed = self.noise ^ (n as u32).wrapping_mul(0x9E37_79B9);
        self.noise = if mixed == 0 { 0x9E37_79B9 } else { mixed };
    }

    /// Changes the note's frequency without resetting the phase (voice stealing, retrigger).
    pub fn set_frequency(&mut self, f0_hz: f32, sample_rate: f32) {
        // Above a quarter of the sample rate the PolyBLEP residuals of neighbouring edges overlap;
        // such notes are inaudible on most systems anyway.
        self.dt0 = P::cst((f0_hz / sample_rate).clamp(0.0, 0.25));
        self.dt = self.dt0;
    }

    /// Bends the increment to `dt` cycles per sample (clamped as the note's own is).
    pub fn set_increment(&mut self, dt: P) {
        self.dt = dt.clamp_val(0.0, 0.25);
    }

    /// The note's own phase increment in cycles per sample.
    pub fn dt0(&self) -> P {
        self.dt0
    }

    /// The phase increment now, cycles per sample.
    pub fn dt(&self) -> P {
        self.dt
    }

    /// The phase and the noise generator's state, for a render in lanes to carry on from.
    pub(crate) fn lane_state(&self) -> (P, u32) {
        (self.phase, self.noise)
    }

    /// Takes back the phase and the noise generator's state after a render in lanes.
    pub(crate) fn set_lane_state(&mut self, phase: P, noise: u32) {
        self.phase = phase;
        self.noise = noise;
    }

    /// One sample of every oscillator, then advances the phase. `width` is the pulse width in
    /// (0, 1); `bars` asks for the drawbars, `slopes` for the derivatives.
    #[inline(always)]
    pub fn tick<T: Real<Plain = P>>(&mut self, width: T, bars: bool, slopes: bool) -> OscOut<T> {
        let phase = self.phase;
        let dt = self.dt;
        let saw_v: P = saw(phase, dt);
        // width ∈ (0, 1) and phase ∈ [0, 1): one conditional wrap is the floor.
        let shifted = width.add_plain(phase);
        let shifted = if shifted.val() >= 1.0 {
            shifted - 1.0
        } else {
            shifted
        };
        let pulse = T::from_plain(saw_v) - saw(shifted, dt);
        let sine = sin_2pi(phase);

        let mut out = OscOut {
            saw: saw_v,
            pulse,
            sine,
            noise: 0.0,
            bars: [P::cst(0.0); 6],
            slopes: Slopes::default(),
        };
        if bars || slopes {
            self.harmonics(phase, bars, slopes, &mut out);
        }
        if slopes {
            let s = saw_slopes(phase, dt);
            let p = saw_slopes(shifted.plain(), dt);
            out.slopes.saw = s;
            out.slopes.pulse = (s.0 - p.0, s.1 - p.1);
        }

        // xorshift32 (Marsaglia 2003): cheap, allocation-free and reproducible.
        let mut x = self.noise;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.noise = x;
        out.noise = (x >> 8) as f32 * (2.0 / (1u32 << 24) as f32) - 1.0;

        let next = phase + dt;
        self.phase = if next.val() >= 1.0 { next - 1.0 } else { next };
        out
    }

    /// The drawbars' sines and the sine's and drawbars' phase slopes, from sin and cos of the
    /// phase by the Chebyshev recurrences sin((h+1)x) = 2 cos x · sin hx − sin((h−1)x) (and
    /// the same for cos). The slopes are those of the numbers as computed (the polynomial
    /// sine and the recurrence), so finite differences of a render agree with them exactly.
    #[inline(always)]
    fn harmonics<T: Real<Plain = P>>(
        &self,
        phase: P,
        bars: bool,
        slopes: bool,
        out: &mut OscOut<T>,
    ) {
        let (s1, ds1) = sin_2pi_with_slope(phase);
        let (c1, dc1) = sin_2pi_with_slope(phase + 0.25);
        if slopes {
            out.slopes.sine = ds1;
        }
        let two_c = c1 * 2.0;
        let two_dc = dc1 * 2.0;
        let zero = P::cst(0.0);
        let (mut s_prev, mut s) = (zero, s1);
        let (mut d_prev, mut d) = (zero, ds1);
        let mut bar = 0;
        for h in 2..=8usize {
            let next = two_c * s - s_prev;
            if slopes {
                let dnext = two_dc * s + two_c * d - d_prev;
                (d_prev, d) = (d, dnext);
            }
            (s_prev, s) = (s, next);
            if DRAWBAR_HARMONICS[bar] != h {
                continue;
            }
            // Silent where it would alias (the increment is per sample).
            if h as f32 * self.dt.val() < DRAWBAR_LIMIT {
                if bars {
                    out.bars[bar] = s;
                }
                if slopes {
                    out.slopes.bars[bar] = d;
                }
            }
            bar += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f0: f32, n: usize, width: f32) -> Vec<OscOut<f32>> {
        run_seeded(f0, n, width, 1)
    }

    fn run_seeded(f0: f32, n: usize, width: f32, seed: u32) -> Vec<OscOut<f32>> {
        let mut o = Oscillators::<f32>::default();
        o.start(f0, 48_000.0, seed);
        (0..n).map(|_| o.tick(width, false, false)).collect()
    }

    #[test]
    fn outputs_stay_in_range_and_are_zero_mean() {
        for &w in &[0.05f32, 0.25, 0.5, 0.9] {
            // 480 samples per period: exactly 10 periods.
            let out = run(100.0, 4800, w);
            let (mut ms, mut mp, mut mi) = (0.0f64, 0.0f64, 0.0f64);
            for o in &out {
                assert!(o.saw.abs() <= 1.01 && o.pulse.abs() <= 2.01 && o.sine.abs() <= 1.0 + 1e-6);
                assert!((-1.0..1.0).contains(&o.noise));
                ms += o.saw as f64;
                mp += o.pulse as f64;
                mi += o.sine as f64;
            }
            let n = out.len() as f64;
            assert!((ms / n).abs() < 0.01 && (mp / n).abs() < 0.01 && (mi / n).abs() < 0.01);
        }
    }

    #[test]
    fn pulse_duty_cycle_follows_width() {
        let out = run(100.0, 4800, 0.25);
        let high = out.iter().filter(|o| o.pulse > 0.0).count() as f32 / out.len() as f32;
        assert!((high - 0.25).abs() < 0.01, "high fraction {high}");
    }

    #[test]
    fn polyblep_suppresses_aliasing_compared_with_a_naive_saw() {
        // A high note: the naive saw's aliases fold back below the fundamental. Measure the
        // energy of the band-limited saw's deviation from the ideal sawtooth Fourier series.
        let f0 = 3_517.0;
        let sr = 48_000.0;
        let n = 4_800;
        let mut o = Oscillators::<f32>::default();
        o.start(f0, sr, 1);
        let mut err_blep = 0.0f64;
        let mut err_naive = 0.0f64;
        let mut phase = 0.0f64;
        for _ in 0..n {
            // Ideal: Fourier series of the rising saw, partials below Nyquist.
            let mut ideal = 0.0f64;
            let mut k = 1.0f64;
            while k * f0 as f64 <= sr as f64 / 2.0 {
                ideal -= 2.0 / std::f64::consts::PI * (std::f64::consts::TAU * k * phase).sin() / k;
                k += 1.0;
            }
            let naive = 2.0 * phase - 1.0;
            let b = o.tick(0.5f32, false, false).saw as f64;
            err_blep += (b - ideal).powi(2);
            err_naive += (naive - ideal).powi(2);
            phase = (phase + f0 as f64 / sr as f64).fract();
        }
        assert!(
            err_blep < 0.5 * err_naive,
            "blep {err_blep} naive {err_naive}"
        );
    }

    #[test]
    fn noise_is_reproducible_per_seed() {
        let noise = |seed| -> Vec<f32> {
            run_seeded(200.0, 64, 0.5, seed)
                .iter()
                .map(|o| o.noise)
                .collect()
        };
        assert_eq!(noise(1), noise(1));
        assert_eq!(noise(2), noise(2));
        // Another seed, another stream: two voices' noise never sound in unison.
        let same = noise(1)
            .iter()
            .zip(noise(2))
            .filter(|(a, b)| **a == *b)
            .count();
        assert!(same < 4, "{same} of 64 samples equal across seeds");
    }
}
