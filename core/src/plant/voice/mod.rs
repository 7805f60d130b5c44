//! One voice of the plant: oscillators and drawbars → state-variable low-pass → amplifier,
//! with an amplitude and a filter ADSR, an LFO for vibrato and tremolo, and velocity. Written
//! once over [`Real`] (docs/ARCHITECTURE.md §4). The body's bells follow the voices, in the
//! synth.

mod lanes;

pub use lanes::render_voices;

use super::body::{BellCoeffs, BodyCoeffs};
use super::envelope::{Adsr, AdsrCoeffs, Stage};
use super::expression::Expression;
use super::filter::{Svf, SvfCoeffs};
use super::oscillator::Oscillators;
use super::theta::{P, Theta};
use crate::num::fastmath::{exp2, exp2_m1, sin_2pi};
use crate::num::real::Real;

/// ln(10) / 20: decibels to a natural-log gain exponent.
const DB_TO_LN: f32 = std::f32::consts::LN_10 / 20.0;

/// Samples between refreshes of a voice's control-rate values: the filter coefficients, the
/// filter envelope and the LFO (83 µs at 48 kHz).
/// Refreshing every sample cost a third of the render.
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
    /// Drawbar levels, 0–1, for the harmonics of [`super::oscillator::DRAWBAR_HARMONICS`].
    pub bars: [T; 6],
    /// Whether the drawbars sound or are learned.
    pub bars_on: bool,
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
    /// LFO rate, cycles per control step.
    pub lfo_rate: T,
    /// Vibrato depth, octaves at the LFO's crest.
    pub vibrato: T,
    /// Tremolo depth, 0–1 (1: the level dips to silence at the LFO's trough).
    pub tremolo: T,
    /// 1 / LFO fade-in time, per control step.
    pub lfo_fade: T,
    /// Whether vibrato bends the pitch (sounding or learned).
    pub pitch_on: bool,
    /// Whether the tremolo sounds or is learned.
    pub tremolo_on: bool,
    /// Velocity to level, 0–1.
    pub vel_level: T,
    /// Velocity to brightness: cutoff octaves below full velocity's at velocity 0.
    pub vel_bright: T,
    /// The body's bells (run by the synth on the voices' sum).
    pub body: BodyCoeffs<T>,
    /// Output gain, linear.
    pub gain: T,
    /// Sample rate, Hz.
    pub sample_rate: f32,
}

impl<T: Real> VoiceCoeffs<T> {
    /// Derives the coefficients from θ in musical units.
    pub fn from_theta(t: &Theta<T>, sample_rate: f32) -> Self {
        let g = |p: P| t[p as usize];
        let control_rate = sample_rate / FILTER_UPDATE as f32;
        // A section at its neutral setting is skipped unless it is being learned.
        let varies = |ps: &[P]| ps.iter().any(|&p| g(p).varies());
        let bars = [
            g(P::Drawbar2),
            g(P::Drawbar3),
            g(P::Drawbar4),
            g(P::Drawbar5),
            g(P::Drawbar6),
            g(P::Drawbar8),
        ];
        Self {
            saw: g(P::Saw),
            pulse: g(P::Pulse),
            width: g(P::Width).clamp_val(0.01, 0.99),
            sine: g(P::Sine),
            noise: g(P::Noise),
            bars,
            bars_on: bars.iter().any(|b| b.val() != 0.0 || b.varies()),
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
                control_rate,
            ),
            lfo_rate: g(P::LfoRate) * control_rate.recip(),
            vibrato: g(P::VibratoDepth) * (1.0 / 1_200.0),
            tremolo: g(P::TremoloDepth),
            lfo_fade: (g(P::LfoFade) * control_rate).recip(),
            pitch_on: g(P::VibratoDepth).val() != 0.0
                || varies(&[P::VibratoDepth, P::LfoRate, P::LfoFade]),
            tremolo_on: g(P::TremoloDepth).val() != 0.0
                || varies(&[P::TremoloDepth, P::LfoRate, P::LfoFade]),
            vel_level: g(P::VelocityToLevel),
            vel_bright: g(P::VelocityToBrightness),
            body: [
                BellCoeffs::new(g(P::Body1Freq), g(P::Body1Gain), g(P::Body1Q), sample_rate),
                BellCoeffs::new(g(P::Body2Freq), g(P::Body2Gain), g(P::Body2Q), sample_rate),
            ],
            gain: (g(P::Gain) * DB_TO_LN).exp(),
            sample_rate,
        }
    }
}

/// The running state of one voice.
#[derive(Debug, Clone, Copy, Default)]
pub struct Voice<T: Real> {
    /// MIDI note the voice plays; set on note-on.
    note: u8,
    /// MIDI channel of the note (0–15; MPE gives each note its own). Set by the player.
    channel: u8,
    /// Whether the sustain pedal holds the voice after its key went up. Set by the player.
    pedal: bool,
    /// The note's own frequency before bend and glide, Hz. Set at note start.
    f0_hz: f32,
    /// The player's bend, glide, level, pan, brightness and vibrato (rest values: none).
    expr: Expression,
    /// Note-on velocity, 0–1.
    velocity: f32,
    /// Octaves of the note above C4 (261.63 Hz), for key tracking. Set at note start.
    key_octaves: f32,
    /// Note-on order stamp, for stealing the oldest voice.
    age: u64,
    /// Oscillator phase and noise state.
    osc: Oscillators<T::Plain>,
    /// ∂φ/∂θ: the partials of the oscillator phase while the pitch is bent (value 0).
    dphase: T,
    /// ∂dt/∂θ: the partials of the phase increment now (value 0).
    dinc: T,
    /// Filter integrators.
    filter: Svf<T>,
    /// Filter coefficients, refreshed every [`FILTER_UPDATE`] samples from the cutoff and the
    /// filter envelope.
    svf: SvfCoeffs<T>,
    /// Samples left until the next control step; 0 refreshes on the next sample.
    svf_countdown: u32,
    /// Control steps since note-on: the LFO's and the envelopes' clock.
    steps: u32,
    /// Level multiplier now: velocity and tremolo, refreshed per control step.
    level: T,
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
            self.dphase = T::cst(0.0);
        }
        self.dinc = T::cst(0.0);
        self.note = note;
        self.f0_hz = f0_hz;
        self.pedal = false;
        self.expr.restart();
        self.velocity = velocity;
        self.key_octaves = (f0_hz.max(1.0) / KEY_REFERENCE_HZ).log2();
        self.age = age;
        self.svf_countdown = 0;
        self.steps = 0;
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

    /// MIDI channel of the note.
    pub fn channel(&self) -> u8 {
        self.channel
    }

    /// Sets the note's MIDI channel (the player's bookkeeping; the sound does not change).
    pub fn set_channel(&mut self, channel: u8) {
        self.channel = channel;
    }

    /// Whether the sustain pedal holds the voice.
    pub fn is_pedal_held(&self) -> bool {
        self.pedal
    }

    /// Marks the voice held by the sustain pedal (its key is up) or not.
    pub fn set_pedal_held(&mut self, held: bool) {
        self.pedal = held;
    }

    /// The player's expression of this voice.
    pub fn expression(&self) -> &Expression {
        &self.expr
    }

    /// The player's expression of this voice, to change.
    pub fn expression_mut(&mut self) -> &mut Expression {
        &mut self.expr
    }

    /// Moves a sounding voice to another note without restarting its envelopes (legato).
    pub fn retune(&mut self, note: u8, f0_hz: f32) {
        self.note = note;
        self.f0_hz = f0_hz;
        self.key_octaves = (f0_hz.max(1.0) / KEY_REFERENCE_HZ).log2();
        self.expr.restart();
        self.expr.touch();
    }

    /// Advances `n` samples without output, for the learner's windows: the envelopes and the
    /// LFO's clock step exactly (values and derivatives); the oscillators advance at the note's
    /// own pitch, and the filter is left at rest (its memory is milliseconds; the caller renders
    /// a warm-up before scoring).
    pub fn skip(&mut self, c: &VoiceCoeffs<T>, n: usize) {
        self.osc.skip(n);
        // The control step runs whenever the countdown reaches 0: at sample `countdown`, then
        // every FILTER_UPDATE samples.
        let countdown = self.svf_countdown as usize;
        let ticks = if n > countdown {
            (n - countdown - 1) / FILTER_UPDATE as usize + 1
        } else {
            0
        };
        self.filter_env.skip(&c.filter, ticks);
        self.steps += ticks as u32;
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

    /// Adds the voice to a stereo pair, weighed by its pan.
    pub fn render_add_panned(&mut self, c: &VoiceCoeffs<T>, left: &mut [T], right: &mut [T]) {
        let (gl, gr) = self.expr.pan_gains();
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let x = self.tick(c);
            *l += x * gl;
            *r += x * gr;
        }
    }

    /// The player moved the pitch (bend, glide): the oscillators take the new frequency. Kept
    /// out of the control step's inlined body: it is rare, and the step runs for every voice.
    #[cold]
    #[inline(never)]
    fn bend_pitch(&mut self, sample_rate: f32) {
        let ratio = self.expr.step_pitch();
        self.osc.set_frequency(self.f0_hz * ratio, sample_rate);
    }

    /// One control step: filter envelope and coefficients, LFO, pitch, level.
    #[inline(always)]
    fn control(&mut self, c: &VoiceCoeffs<T>) {
        let fenv = self.filter_env.tick(&c.filter);
        if self.expr.pitch_moves() {
            self.bend_pitch(c.sample_rate);
        }
        let mut bright = c.vel_bright * (self.velocity - 1.0);
        if self.expr.bright != 0.0 {
            bright = bright + self.expr.bright;
        }
        let cutoff =
            c.cutoff_hz * exp2(c.env_octaves * fenv + c.key_track * self.key_octaves + bright);
        self.svf = SvfCoeffs::new(cutoff, c.damping, c.sample_rate);
        self.svf_countdown = FILTER_UPDATE;
        let mut vel = -c.vel_level + 1.0 + c.vel_level * self.velocity;
        if self.expr.gain != 1.0 {
            vel = vel * self.expr.gain;
        }
        let t = self.steps as f32;
        self.steps += 1;
        // The player's vibrato (mod wheel, note expression) rides the patch's LFO, unfaded.
        let wheel = self.expr.vibrato;
        if c.pitch_on || c.tremolo_on || wheel != 0.0 {
            let lfo = sin_2pi(c.lfo_rate * t);
            let fade = if (c.lfo_fade * t).val() < 1.0 {
                c.lfo_fade * t
            } else {
                T::cst(1.0)
            };
            if c.pitch_on || wheel != 0.0 {
                let mut octaves = c.vibrato * lfo * fade;
                if wheel != 0.0 {
                    octaves += lfo * wheel;
                }
                // dt0 + dt0·(2^x − 1): exactly dt0 at zero bend, as when the section is off.
                let dt0 = self.osc.dt0();
                let inc = exp2_m1(octaves).mul_plain(dt0).add_plain(dt0);
                self.osc.set_increment(inc.plain());
                self.dinc = inc - T::from_plain(inc.plain());
            }
            self.level = if c.tremolo_on {
                vel * (-(c.tremolo * fade * (-lfo + 1.0) * 0.5) + 1.0)
            } else {
                vel
            };
        } else {
            self.level = vel;
        }
    }

    /// One sample of the voice, before the body and the output gain.
    #[inline(always)]
    pub fn tick(&mut self, c: &VoiceCoeffs<T>) -> T {
        if self.svf_countdown == 0 {
            self.control(c);
        }
        self.svf_countdown -= 1;
        // The waveforms' slopes carry a bent pitch into the partials: plain numbers have none.
        let bent = c.pitch_on && T::PARTIALS;
        let o = self.osc.tick(c.width, c.bars_on, bent);
        let mut mix = c.saw.mul_plain(o.saw)
            + c.pulse * o.pulse
            + c.sine.mul_plain(o.sine)
            + c.noise * o.noise;
        if c.bars_on {
            for (level, bar) in c.bars.iter().zip(o.bars) {
                mix += level.mul_plain(bar);
            }
        }
        if bent {
            // First order in the bent phase and increment: d(level·w) = w·dlevel + level·w'·dφ.
            let s = &o.slopes;
            let mut by_phase =
                s.saw.0 * c.saw.plain() + s.pulse.0 * c.pulse.plain() + s.sine * c.sine.plain();
            for (level, slope) in c.bars.iter().zip(s.bars) {
                by_phase += slope * level.plain();
            }
            let by_inc = s.saw.1 * c.saw.plain() + s.pulse.1 * c.pulse.plain();
            mix += self.dphase.mul_plain(by_phase) + self.dinc.mul_plain(by_inc);
            self.dphase += self.dinc;
        }
        let y = self.filter.tick(mix, &self.svf);
        let a = self.amp_env.tick(&c.amp);
        y * a * self.level
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
