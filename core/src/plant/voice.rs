//! One voice of the plant: oscillators → state-variable low-pass → amplifier, with an
//! amplitude and a filter ADSR. Written once over [`Real`] (docs/ARCHITECTURE.md §4).

use super::envelope::{Adsr, AdsrCoeffs, Stage};
use super::filter::{Svf, SvfCoeffs};
use super::oscillator::Oscillators;
use super::theta::{P, Theta};
use crate::num::fastmath::exp2;
use crate::num::real::Real;

/// ln(10) / 20: decibels to a natural-log gain exponent.
const DB_TO_LN: f32 = std::f32::consts::LN_10 / 20.0;

/// Samples between refreshes of a voice's filter coefficients and steps of its filter envelope
/// (83 µs at 48 kHz). The envelope moves the cutoff slowly next to this; refreshing every sample
/// cost a third of the render.
pub const FILTER_UPDATE: u32 = 4;

/// The note whose cutoff key tracking leaves unchanged: C4, Hz.
pub const KEY_REFERENCE_HZ: f32 = 261.625_58;

/// Everything a voice needs per sample, derived from θ at the control rate and shared by all
/// voices.
#[derive(Debug, Clone, Copy)]
pub struct VoiceCoeffs<T> {
    /// Saw level, 0–1.
    pub saw: T,
    /// Pulse level, 0–1.
    pub pulse: T,
    /// Pulse width, 0.05–0.95 of the period.
    pub width: T,
    /// Sine level, 0–1.
    pub sine: T,
    /// Noise level, 0–1.
    pub noise: T,
    /// Filter cutoff before the envelope, Hz.
    pub cutoff_hz: T,
    /// Filter damping k = 1 / Q.
    pub damping: T,
    /// Filter envelope sweep, octaves at full envelope level.
    pub env_octaves: T,
    /// How far the cutoff follows the note, 0 (fixed) to 1 (keeps its ratio to f0), from θ.
    pub key_track: T,
    /// Amplitude envelope.
    pub amp: AdsrCoeffs<T>,
    /// Filter envelope, stepped every [`FILTER_UPDATE`] samples.
    pub filter: AdsrCoeffs<T>,
    /// Output gain, linear.
    pub gain: T,
    /// Sample rate, Hz.
    pub sample_rate: f32,
}

impl<T: Real> VoiceCoeffs<T> {
    /// Derives the coefficients from θ in musical units.
    pub fn from_theta(t: &Theta<T>, sample_rate: f32) -> Self {
        let g = |p: P| t[p as usize];
        Self {
            saw: g(P::Saw),
            pulse: g(P::Pulse),
            width: g(P::Width).clamp_val(0.01, 0.99),
            sine: g(P::Sine),
            noise: g(P::Noise),
            cutoff_hz: g(P::Cutoff),
            damping: g(P::Resonance).clamp_val(0.1, 100.0).recip(),
            env_octaves: g(P::FilterEnvAmount),
            key_track: g(P::KeyTrack),
            amp: AdsrCoeffs::new(
                g(P::AmpAttack),
                g(P::AmpDecay),
                g(P::AmpSustain),
                g(P::AmpRelease),
                sample_rate,
            ),
            // The filter envelope steps once per filter update.
            filter: AdsrCoeffs::new(
                g(P::FilterAttack),
                g(P::FilterDecay),
                g(P::FilterSustain),
                g(P::FilterRelease),
                sample_rate / FILTER_UPDATE as f32,
            ),
            gain: (g(P::Gain) * DB_TO_LN).exp(),
            sample_rate,
        }
    }
}

/// The running state of one voice.
#[derive(Debug, Clone, Copy, Default)]
pub struct Voice<T> {
    /// MIDI note the voice plays; set on note-on.
    note: u8,
    /// Note-on velocity, 0–1; scales the voice's amplitude linearly.
    velocity: f32,
    /// Octaves of the note above C4 (261.63 Hz), for key tracking. Set at note start.
    key_octaves: f32,
    /// Note-on order stamp, for stealing the oldest voice.
    age: u64,
    /// Oscillator phase and noise state.
    osc: Oscillators,
    /// Filter integrators.
    filter: Svf<T>,
    /// Filter coefficients, refreshed every [`FILTER_UPDATE`] samples from the cutoff and the
    /// filter envelope.
    svf: SvfCoeffs<T>,
    /// Samples left until the next filter-coefficient refresh; 0 refreshes on the next sample.
    svf_countdown: u32,
    /// Amplitude envelope.
    amp_env: Adsr<T>,
    /// Filter envelope.
    filter_env: Adsr<T>,
}

impl<T: Real> Voice<T> {
    /// Starts (or retriggers) the voice at `f0_hz`. An idle voice starts from silence with a
    /// fresh phase; a sounding one keeps phase, filter and envelope levels so it does not click.
    pub fn start(&mut self, note: u8, f0_hz: f32, velocity: f32, age: u64, sample_rate: f32) {
        if self.is_active() {
            self.osc.set_frequency(f0_hz, sample_rate);
        } else {
            // Any odd mix of the age gives each note its own reproducible noise.
            let seed = (age as u32).wrapping_mul(0x9E37_79B9) ^ 0x5bd1_e995;
            self.osc.start(f0_hz, sample_rate, seed);
            self.filter.reset();
        }
        self.note = note;
        self.velocity = velocity;
        self.key_octaves = (f0_hz.max(1.0) / KEY_REFERENCE_HZ).log2();
        self.age = age;
        self.svf_countdown = 0;
        self.amp_env.gate_on();
        self.filter_env.gate_on();
    }

    /// Note-off: both envelopes release.
    pub fn release(&mut self) {
        self.amp_env.gate_off();
        self.filter_env.gate_off();
    }

    /// Silences the voice at once.
    pub fn reset(&mut self) {
        self.amp_env.reset();
        self.filter_env.reset();
        self.filter.reset();
    }

    /// Whether the voice is sounding (its amplitude envelope is not idle).
    pub fn is_active(&self) -> bool {
        self.amp_env.stage() != Stage::Idle
    }

    /// Whether the key is up and the voice is fading out.
    pub fn is_releasing(&self) -> bool {
        self.amp_env.stage() == Stage::Release
    }

    /// MIDI note of the voice.
    pub fn note(&self) -> u8 {
        self.note
    }

    /// Note-on order stamp.
    pub fn age(&self) -> u64 {
        self.age
    }

    /// Advances `n` samples without output, for the learner's windows: both envelopes tick
    /// exactly (values and derivatives), the oscillators advance, and the filter is left at rest
    /// (its memory is milliseconds; the caller renders a warm-up before scoring).
    pub fn skip(&mut self, c: &VoiceCoeffs<T>, n: usize) {
        self.osc.skip(n);
        // The filter envelope ticks whenever the countdown reaches 0: at sample `countdown`,
        // then every FILTER_UPDATE samples.
        let countdown = self.svf_countdown as usize;
        let ticks = if n > countdown {
            (n - countdown - 1) / FILTER_UPDATE as usize + 1
        } else {
            0
        };
        self.filter_env.skip(&c.filter, ticks);
        self.svf_countdown = if ticks == 0 {
            (countdown - n) as u32
        } else {
            let after = (n - countdown - 1) % FILTER_UPDATE as usize;
            FILTER_UPDATE - 1 - after as u32
        };
        self.amp_env.skip(&c.amp, n);
        self.filter.reset();
    }

    /// Adds `out.len()` samples of the voice to `out`.
    #[inline]
    pub fn render_add(&mut self, c: &VoiceCoeffs<T>, out: &mut [T]) {
        for s in out.iter_mut() {
            *s += self.tick(c);
        }
    }

    /// One sample of the voice, before the output gain.
    #[inline(always)]
    pub fn tick(&mut self, c: &VoiceCoeffs<T>) -> T {
        let o = self.osc.tick(c.width);
        let mix = c.saw * o.saw + c.pulse * o.pulse + c.sine * o.sine + c.noise * o.noise;
        if self.svf_countdown == 0 {
            let fenv = self.filter_env.tick(&c.filter);
            let cutoff = c.cutoff_hz * exp2(c.env_octaves * fenv + c.key_track * self.key_octaves);
            self.svf = SvfCoeffs::new(cutoff, c.damping, c.sample_rate);
            self.svf_countdown = FILTER_UPDATE;
        }
        self.svf_countdown -= 1;
        let y = self.filter.tick(mix, &self.svf);
        let a = self.amp_env.tick(&c.amp);
        y * a * self.velocity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::units::note_to_hz;
    use crate::plant::theta::default_theta;

    #[test]
    fn a_voice_sounds_while_held_and_stops_after_release() {
        let sr = 48_000.0;
        let c = VoiceCoeffs::from_theta(&default_theta(), sr);
        let mut v = Voice::<f32>::default();
        v.start(60, note_to_hz(60.0), 1.0, 1, sr);
        let rms = |v: &mut Voice<f32>, n: usize| {
            ((0..n).map(|_| v.tick(&c).powi(2)).sum::<f32>() / n as f32).sqrt()
        };
        assert!(rms(&mut v, 4_800) > 0.05);
        v.release();
        assert!(v.is_releasing());
        rms(&mut v, 48_000);
        assert!(!v.is_active());
        assert_eq!(rms(&mut v, 100), 0.0);
    }
}
