//! Voices in lanes: the audio path renders up to eight sounding voices side by side, one per
//! [`F32x8`] lane (docs/ARCHITECTURE.md §4, "Voices in lanes").
//!
//! Per sample, the oscillators, the filter and the amplitude envelope run in lanes, and their
//! branches (PolyBLEP edges, phase wraps, envelope stages) become masks: each lane takes the
//! value of the branch its own condition picks. The control step is branchy and runs every
//! [`super::FILTER_UPDATE`] samples on each voice's own clock, so it runs on the voice itself, exactly
//! as [`Voice::tick`] runs it, and its results go back into the voice's lane. The formulas are
//! the voice's own, over [`Arith`] ([`svf_step`], [`decay_step`], [`sin_2pi_folded`], the
//! PolyBLEP residuals): every lane does the scalar voice's IEEE operations in the same order, and
//! the sum runs in voice order, so the mix is bit for bit that of one voice after another.

use super::{Voice, VoiceCoeffs};
use crate::num::fastmath::{exp2_m1_clamped, sin_2pi_folded};
use crate::num::lanes::{F32x8, LANES, Mask8};
use crate::plant::envelope::{Adsr, AdsrCoeffs, SILENCE, Stage, decay_step};
use crate::plant::filter::{SvfCoeffs, svf_step};
use crate::plant::oscillator::{DRAWBAR_HARMONICS, DRAWBAR_LIMIT, blep_fall, blep_rise};

/// A lane's countdown when no voice sits in it: never reaches a control step.
const NO_VOICE: u32 = u32::MAX;

/// Adds the sounding voices of `voices` to `out`, and with `right` to a stereo pair weighed by
/// each voice's pan, eight voices at a time. `coeffs[i]` drives voice `i`. The same bits as
/// [`Voice::render_add`] (or [`Voice::render_add_panned`]) on each sounding voice in index
/// order, on any CPU. Allocates nothing.
pub fn render_voices(
    voices: &mut [Voice<f32>],
    coeffs: &[&VoiceCoeffs<f32>],
    out: &mut [f32],
    right: Option<&mut [f32]>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: this CPU has AVX2 (checked just above), the only feature the copy assumes.
        unsafe { render_voices_avx2(voices, coeffs, out, right) };
        return;
    }
    render_voices_inline(voices, coeffs, out, right);
}

/// [`render_voices`] compiled for AVX2: eight lanes fill one register instead of two. Only
/// AVX2, not FMA: the same IEEE operations in the same order, so a plugin built on one machine
/// plays the same bits on any x86-64 machine, with or without AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn render_voices_avx2(
    voices: &mut [Voice<f32>],
    coeffs: &[&VoiceCoeffs<f32>],
    out: &mut [f32],
    right: Option<&mut [f32]>,
) {
    render_voices_inline(voices, coeffs, out, right);
}

/// The body of [`render_voices`], inlined into each compiled copy.
#[inline(always)]
fn render_voices_inline(
    voices: &mut [Voice<f32>],
    coeffs: &[&VoiceCoeffs<f32>],
    out: &mut [f32],
    mut right: Option<&mut [f32]>,
) {
    let mut slots = [0usize; 2 * LANES];
    let mut n = 0;
    for (i, v) in voices.iter().enumerate() {
        if v.is_active() && n < slots.len() {
            slots[n] = i;
            n += 1;
        }
    }
    for bank in slots[..n].chunks(LANES) {
        let mut lanes = Bank::gather(voices, coeffs, bank);
        lanes.run(voices, coeffs, out, right.as_deref_mut());
        lanes.store(voices);
    }
}

/// An ADSR's state per lane, each lane in its own stage.
#[derive(Debug, Clone, Copy, Default)]
struct EnvLanes {
    /// Level now.
    level: F32x8,
    /// The lanes in their attack.
    attack: Mask8,
    /// ... in their decay (and sustain).
    decay: Mask8,
    /// ... in their release.
    release: Mask8,
}

impl EnvLanes {
    /// Puts `env` in lane `l`.
    fn set_lane(&mut self, l: usize, env: &Adsr<f32>) {
        self.level.0[l] = env.level();
        let stage = env.stage();
        self.attack.set(l, stage == Stage::Attack);
        self.decay.set(l, stage == Stage::Decay);
        self.release.set(l, stage == Stage::Release);
    }

    /// Lane `l` as an [`Adsr`] stage and level.
    fn lane(&self, l: usize) -> (Stage, f32) {
        let stage = if self.attack.get(l) {
            Stage::Attack
        } else if self.decay.get(l) {
            Stage::Decay
        } else if self.release.get(l) {
            Stage::Release
        } else {
            Stage::Idle
        };
        (stage, self.level.0[l])
    }

    /// `a` in the lanes of `m`, `self` in the others.
    #[inline(always)]
    fn select(self, m: Mask8, a: Self) -> Self {
        Self {
            level: m.select(a.level, self.level),
            attack: m.pick(a.attack, self.attack),
            decay: m.pick(a.decay, self.decay),
            release: m.pick(a.release, self.release),
        }
    }
}

/// An ADSR's coefficients per lane: [`AdsrCoeffs`] in lanes.
#[derive(Default)]
struct EnvCoeffLanes {
    /// Attack increment per step.
    attack_step: F32x8,
    /// Decay pole per step.
    decay_pole: F32x8,
    /// Decay exponent per step (for the sub-step decay after the attack's peak).
    decay_log: F32x8,
    /// Sustain level.
    sustain: F32x8,
    /// Release pole per step.
    release_pole: F32x8,
}

impl EnvCoeffLanes {
    /// Takes lane `l`'s coefficients from `c`.
    fn set_lane(&mut self, l: usize, c: &AdsrCoeffs<f32>) {
        self.attack_step.0[l] = c.attack_step;
        self.decay_pole.0[l] = c.decay_pole;
        self.decay_log.0[l] = c.decay_log;
        self.sustain.0[l] = c.sustain;
        self.release_pole.0[l] = c.release_pole;
    }

    /// One step of the lanes in `on` (the others keep their state), as [`Adsr::tick`] steps.
    #[inline(always)]
    fn step(&self, env: EnvLanes, on: Mask8) -> EnvLanes {
        let level = env.level;
        let (attack, decay, release) = (env.attack.and(on), env.decay.and(on), env.release.and(on));
        let attacked = level + self.attack_step;
        let decayed = decay_step(level, self.sustain, self.decay_pole);
        let released = level * self.release_pole;
        let mut next = env;
        next.level = attack.select(
            attacked,
            decay.select(decayed, release.select(released, level)),
        );
        let peaked = attack.and(next.level.ge(F32x8::splat(1.0)));
        if peaked.any() {
            // Rare: the attack crosses its peak, and the rest of the step is spent decaying.
            for l in 0..LANES {
                if peaked.get(l) {
                    let sustain = self.sustain.0[l];
                    let past = (next.level.0[l] - 1.0) / self.attack_step.0[l];
                    next.level.0[l] =
                        sustain + (1.0 - sustain) * (self.decay_log.0[l] * past).exp();
                    next.attack.set(l, false);
                    next.decay.set(l, true);
                }
            }
        }
        let ended = release.and(next.level.lt(F32x8::splat(SILENCE)));
        if ended.any() {
            next.level = ended.select(F32x8::default(), next.level);
            next.release = ended.pick(Mask8::default(), next.release);
        }
        next
    }
}

/// What a lane's next control step makes, computed ahead of the sample it is due on: nothing
/// the samples in between change goes into it.
#[derive(Default)]
struct Pending {
    /// Filter coefficients a1, a2, a3.
    a1: F32x8,
    /// See `a1`.
    a2: F32x8,
    /// See `a1`.
    a3: F32x8,
    /// Level multiplier.
    level: F32x8,
    /// Phase increment.
    dt: F32x8,
    /// Filter envelope after the step.
    fenv: EnvLanes,
    /// Control clock after the step.
    clock: [u32; LANES],
}

/// Up to eight voices' state, gathered from the voices before a run of samples and stored back
/// after it. Built on the stack by [`render_voices`] (audio thread).
#[derive(Default)]
struct Bank {
    /// The voice in each lane (its index in the pool); lanes from `len` on are empty.
    slots: [usize; LANES],
    /// Lanes holding a voice.
    len: usize,
    /// Oscillator phase, cycles in [0, 1).
    phase: F32x8,
    /// Phase increment, cycles per sample (the control step may change it).
    dt: F32x8,
    /// xorshift32 noise state.
    rng: [u32; LANES],
    /// Pulse width, 0.01–0.99 of the period.
    width: F32x8,
    /// Saw level.
    saw: F32x8,
    /// Pulse level.
    pulse: F32x8,
    /// Sine level.
    sine: F32x8,
    /// Noise level.
    noise: F32x8,
    /// Drawbar levels, one register per drawbar.
    bars: [F32x8; 6],
    /// The lanes whose drawbars sound.
    bars_on: Mask8,
    /// Filter integrators.
    ic1: F32x8,
    /// Filter integrators.
    ic2: F32x8,
    /// Filter coefficients a1, a2, a3 (refreshed by the control step).
    a1: F32x8,
    /// See `a1`.
    a2: F32x8,
    /// See `a1`.
    a3: F32x8,
    /// Amplitude envelope, stepped every sample.
    amp: EnvLanes,
    /// Its coefficients.
    amp_coeffs: EnvCoeffLanes,
    /// Filter envelope, stepped by the control steps.
    fenv: EnvLanes,
    /// Its coefficients.
    fenv_coeffs: EnvCoeffLanes,
    /// Each lane's next control step, made ahead.
    pending: Pending,
    /// The lanes whose next control step is not made yet.
    stale: Mask8,
    /// Samples rendered since the gather.
    sample: u32,
    /// Level multiplier (velocity, tremolo, the player's level), from the control step.
    level: F32x8,
    /// Samples until each lane's next control step.
    countdown: [u32; LANES],
    /// Control steps since note-on: the LFO's clock.
    clock: [u32; LANES],
    /// The lanes whose control step runs on the voice itself: a moving pitch (bend, glide).
    own_control: Mask8,
    /// The lanes whose LFO runs: vibrato, tremolo or the player's vibrato.
    lfo_on: Mask8,
    /// The lanes whose pitch the LFO bends (the patch's vibrato or the player's).
    vibrato_on: Mask8,
    /// The lanes whose level the LFO moves.
    tremolo_on: Mask8,
    /// LFO rate, cycles per control step.
    lfo_rate: F32x8,
    /// 1 / LFO fade-in time, per control step.
    lfo_fade: F32x8,
    /// Vibrato depth, octaves.
    vibrato: F32x8,
    /// Tremolo depth, 0–1.
    tremolo: F32x8,
    /// The player's vibrato, octaves, and the lanes where it is not 0.
    wheel: F32x8,
    /// See `wheel`.
    wheeled: Mask8,
    /// The note's own phase increment, cycles per sample, that vibrato bends.
    dt0: F32x8,
    /// Cutoff before the envelope, Hz.
    cutoff_hz: F32x8,
    /// Filter damping 1 / Q.
    damping: F32x8,
    /// Filter envelope sweep, octaves.
    env_octaves: F32x8,
    /// Cutoff key tracking.
    key_track: F32x8,
    /// The note's octaves above C4.
    key_octaves: F32x8,
    /// Note-on velocity, 0–1.
    velocity: F32x8,
    /// Velocity to level.
    vel_level: F32x8,
    /// Velocity to brightness, octaves.
    vel_bright: F32x8,
    /// The player's brightness, octaves, and the lanes where it is not 0.
    bright: F32x8,
    /// See `bright`.
    brightened: Mask8,
    /// The player's level, and the lanes where it is not 1.
    gain: F32x8,
    /// See `gain`.
    gained: Mask8,
    /// Sample rate, Hz.
    sample_rate: F32x8,
    /// Pan gains, left and right.
    gl: F32x8,
    /// See `gl`.
    gr: F32x8,
}

impl Bank {
    /// The voices `slots` (at most eight, each sounding) in lanes.
    fn gather(voices: &[Voice<f32>], coeffs: &[&VoiceCoeffs<f32>], slots: &[usize]) -> Self {
        let mut b = Bank {
            len: slots.len().min(LANES),
            countdown: [NO_VOICE; LANES],
            ..Bank::default()
        };
        for (l, &i) in slots.iter().take(LANES).enumerate() {
            let (v, c) = (&voices[i], coeffs[i]);
            b.slots[l] = i;
            let (phase, rng) = v.osc.lane_state();
            b.phase.0[l] = phase;
            b.dt.0[l] = v.osc.dt();
            b.rng[l] = rng;
            b.width.0[l] = c.width;
            b.saw.0[l] = c.saw;
            b.pulse.0[l] = c.pulse;
            b.sine.0[l] = c.sine;
            b.noise.0[l] = c.noise;
            for (bar, &level) in b.bars.iter_mut().zip(&c.bars) {
                bar.0[l] = level;
            }
            b.bars_on.set(l, c.bars_on);
            (b.ic1.0[l], b.ic2.0[l]) = v.filter.state();
            (b.a1.0[l], b.a2.0[l], b.a3.0[l]) = v.svf.parts();
            b.amp.set_lane(l, &v.amp_env);
            b.amp_coeffs.set_lane(l, &c.amp);
            b.fenv.set_lane(l, &v.filter_env);
            b.fenv_coeffs.set_lane(l, &c.filter);
            b.stale.set(l, true);
            b.level.0[l] = v.level;
            b.countdown[l] = v.svf_countdown;
            let e = &v.expr;
            b.own_control.set(l, e.pitch_moves());
            b.clock[l] = v.steps;
            b.lfo_on
                .set(l, c.pitch_on || c.tremolo_on || e.vibrato != 0.0);
            b.vibrato_on.set(l, c.pitch_on || e.vibrato != 0.0);
            b.tremolo_on.set(l, c.tremolo_on);
            b.lfo_rate.0[l] = c.lfo_rate;
            b.lfo_fade.0[l] = c.lfo_fade;
            b.vibrato.0[l] = c.vibrato;
            b.tremolo.0[l] = c.tremolo;
            b.wheel.0[l] = e.vibrato;
            b.wheeled.set(l, e.vibrato != 0.0);
            b.dt0.0[l] = v.osc.dt0();
            b.cutoff_hz.0[l] = c.cutoff_hz;
            b.damping.0[l] = c.damping;
            b.env_octaves.0[l] = c.env_octaves;
            b.key_track.0[l] = c.key_track;
            b.key_octaves.0[l] = v.key_octaves;
            b.velocity.0[l] = v.velocity;
            b.vel_level.0[l] = c.vel_level;
            b.vel_bright.0[l] = c.vel_bright;
            b.bright.0[l] = e.bright;
            b.brightened.set(l, e.bright != 0.0);
            b.gain.0[l] = e.gain;
            b.gained.set(l, e.gain != 1.0);
            b.sample_rate.0[l] = c.sample_rate;
            (b.gl.0[l], b.gr.0[l]) = e.pan_gains();
        }
        b
    }

    /// Gives each voice back its state.
    fn store(&self, voices: &mut [Voice<f32>]) {
        for l in 0..self.len {
            let v = &mut voices[self.slots[l]];
            v.osc.set_lane_state(self.phase.0[l], self.rng[l]);
            v.osc.set_increment(self.dt.0[l]);
            v.filter.set_state((self.ic1.0[l], self.ic2.0[l]));
            v.svf = SvfCoeffs::from_parts((self.a1.0[l], self.a2.0[l], self.a3.0[l]));
            let (stage, level) = self.amp.lane(l);
            v.amp_env.set_state(stage, level);
            let (stage, level) = self.fenv.lane(l);
            v.filter_env.set_state(stage, level);
            v.level = self.level.0[l];
            v.svf_countdown = self.countdown[l];
            v.steps = self.clock[l];
        }
    }

    /// Renders `out.len()` samples of the bank, adding each voice to `out` (and `right`) in lane
    /// order.
    #[inline(always)]
    fn run(
        &mut self,
        voices: &mut [Voice<f32>],
        coeffs: &[&VoiceCoeffs<f32>],
        out: &mut [f32],
        mut right: Option<&mut [f32]>,
    ) {
        for s in 0..out.len() {
            self.control(voices, coeffs);
            let x = self.tick();
            match right.as_deref_mut() {
                Some(r) => {
                    let (l, r) = (&mut out[s], &mut r[s]);
                    let (xl, xr) = (x * self.gl, x * self.gr);
                    for lane in 0..self.len {
                        *l += xl.0[lane];
                        *r += xr.0[lane];
                    }
                }
                None => {
                    let o = &mut out[s];
                    for lane in 0..self.len {
                        *o += x.0[lane];
                    }
                }
            }
        }
    }

    /// The control steps due on this sample, then every clock ticks. Every fourth sample the
    /// lanes make their next control steps ahead in one pass, so a lane's step costs a select on
    /// its own sample whatever sample its voice started on.
    #[inline(always)]
    fn control(&mut self, voices: &mut [Voice<f32>], coeffs: &[&VoiceCoeffs<f32>]) {
        if self.sample.is_multiple_of(super::FILTER_UPDATE) && self.stale.any() {
            let stale = self.stale;
            self.prepare(stale);
            self.stale = Mask8::default();
        }
        self.sample += 1;
        let mut due = Mask8::default();
        for (l, &c) in self.countdown.iter().enumerate() {
            due.set(l, c == 0);
        }
        if due.any() {
            let own = due.and(self.own_control);
            let due = due.and_not(own);
            if due.any() {
                self.apply(due);
            }
            if own.any() {
                for l in 0..self.len {
                    if own.get(l) {
                        self.control_voice(l, voices, coeffs);
                    }
                }
            }
        }
        for c in self.countdown.iter_mut() {
            *c = c.wrapping_sub(1);
        }
    }

    /// Takes the control steps made ahead for the lanes `due`.
    #[inline(always)]
    fn apply(&mut self, due: Mask8) {
        let p = &self.pending;
        self.a1 = due.select(p.a1, self.a1);
        self.a2 = due.select(p.a2, self.a2);
        self.a3 = due.select(p.a3, self.a3);
        self.level = due.select(p.level, self.level);
        self.dt = due.select(p.dt, self.dt);
        self.fenv = self.fenv.select(due, p.fenv);
        self.clock = due.select_u32(p.clock, self.clock);
        self.countdown = due.select_u32([super::FILTER_UPDATE; LANES], self.countdown);
        self.stale = self.stale.or(due);
    }

    /// [`Voice::control`] in lanes, made ahead for the lanes `on` from their state now: the
    /// filter envelope's step, the cutoff, the filter's coefficients, the LFO's vibrato and
    /// tremolo, and the level.
    #[inline(always)]
    fn prepare(&mut self, on: Mask8) {
        let fenv = self.fenv_coeffs.step(self.fenv, on);
        let bright = self.vel_bright * (self.velocity - 1.0);
        let bright = self.brightened.select(bright + self.bright, bright);
        let octaves = self.env_octaves * fenv.level + self.key_track * self.key_octaves + bright;
        let cutoff = self.cutoff_hz * octaves.exp2();
        // SvfCoeffs::new, per lane: clamped to [1 Hz, 0.45 of the sample rate], pre-warped.
        let fc = cutoff.clamp_lanes(F32x8::splat(1.0), self.sample_rate * 0.45);
        let (s, c) = (fc * self.sample_rate.recip()).sin_cos_pi();
        let inv = (c * c + s * (s + self.damping * c)).recip();
        let sc = s * inv;
        let vel = -self.vel_level + 1.0 + self.vel_level * self.velocity;
        let vel = self.gained.select(vel * self.gain, vel);
        let mut t = F32x8::default();
        for (t, &clock) in t.0.iter_mut().zip(&self.clock) {
            *t = clock as f32;
        }
        let (level, dt) = if on.and(self.lfo_on).any() {
            let lfo = sin_2pi(self.lfo_rate * t);
            let faded = self.lfo_fade * t;
            let fade = faded.lt(F32x8::splat(1.0)).select(faded, F32x8::splat(1.0));
            let octaves = self.vibrato * lfo * fade;
            let octaves = self.wheeled.select(octaves + lfo * self.wheel, octaves);
            // dt0 + dt0·(2^x − 1), as the voice bends its increment.
            let inc = exp2_m1_clamped(octaves.clamp_val(-2.5, 2.5)) * self.dt0 + self.dt0;
            let dt = self.vibrato_on.select(inc.clamp_val(0.0, 0.25), self.dt);
            let tremolo = vel * (-(self.tremolo * fade * (-lfo + 1.0) * 0.5) + 1.0);
            (self.tremolo_on.select(tremolo, vel), dt)
        } else {
            (vel, self.dt)
        };
        let p = &mut self.pending;
        p.a1 = on.select(c * c * inv, p.a1);
        p.a2 = on.select(c * sc, p.a2);
        p.a3 = on.select(s * sc, p.a3);
        p.level = on.select(level, p.level);
        p.dt = on.select(dt, p.dt);
        p.fenv = p.fenv.select(on, fenv);
        p.clock = on.select_u32(self.clock.map(|c| c.wrapping_add(1)), p.clock);
    }

    /// [`Voice::control`] on the voice in lane `l` itself, its results back in the lane.
    #[cold]
    fn control_voice(&mut self, l: usize, voices: &mut [Voice<f32>], coeffs: &[&VoiceCoeffs<f32>]) {
        let i = self.slots[l];
        let v = &mut voices[i];
        let (stage, level) = self.fenv.lane(l);
        v.filter_env.set_state(stage, level);
        v.steps = self.clock[l];
        v.control(coeffs[i]);
        self.clock[l] = v.steps;
        self.fenv.set_lane(l, &v.filter_env);
        self.dt.0[l] = v.osc.dt();
        (self.a1.0[l], self.a2.0[l], self.a3.0[l]) = v.svf.parts();
        self.level.0[l] = v.level;
        self.countdown[l] = v.svf_countdown;
    }

    /// One sample of every lane: oscillators, mix, filter, amplitude envelope, level.
    #[inline(always)]
    fn tick(&mut self) -> F32x8 {
        let (phase, dt) = (self.phase, self.dt);
        let saw = saw(phase, dt);
        let shifted = self.width + phase;
        let shifted = shifted.ge(F32x8::splat(1.0)).select(shifted - 1.0, shifted);
        let pulse = saw - self::saw(shifted, dt);
        let (sine, cosine) = sin_cos_2pi(phase, self.bars_on.any());
        let mut mix = self.saw * saw + self.pulse * pulse + self.sine * sine;
        mix = mix + self.noise * self.white();
        if self.bars_on.any() {
            let bars = self.harmonics(sine, cosine);
            let mut with = mix;
            for (level, bar) in self.bars.iter().zip(bars) {
                with = with + *level * bar;
            }
            mix = self.bars_on.select(with, mix);
        }
        let next = phase + dt;
        self.phase = next.ge(F32x8::splat(1.0)).select(next - 1.0, next);

        let ((_, y), state) = svf_step(mix, (self.ic1, self.ic2), (self.a1, self.a2, self.a3));
        (self.ic1, self.ic2) = state;
        self.amp = self.amp_coeffs.step(self.amp, Mask8::ALL);
        y * self.amp.level * self.level
    }

    /// White noise, one xorshift32 generator per lane (as [`super::Oscillators`]' own).
    #[inline(always)]
    fn white(&mut self) -> F32x8 {
        let mut w = F32x8::default();
        for (x, w) in self.rng.iter_mut().zip(w.0.iter_mut()) {
            *x ^= *x << 13;
            *x ^= *x >> 17;
            *x ^= *x << 5;
            *w = (*x >> 8) as f32 * (2.0 / (1u32 << 24) as f32) - 1.0;
        }
        w
    }

    /// The drawbars' harmonics by the Chebyshev recursion from the fundamental's sine and
    /// cosine, silent where they would alias.
    #[inline(always)]
    fn harmonics(&self, s1: F32x8, c1: F32x8) -> [F32x8; 6] {
        let mut bars = [F32x8::default(); 6];
        let two_c = c1 * 2.0;
        let (mut s_prev, mut s) = (F32x8::default(), s1);
        let mut bar = 0;
        for h in 2..=8usize {
            let next = two_c * s - s_prev;
            (s_prev, s) = (s, next);
            if DRAWBAR_HARMONICS[bar] != h {
                continue;
            }
            let audible = (self.dt * h as f32).lt(F32x8::splat(DRAWBAR_LIMIT));
            bars[bar] = audible.select(s, F32x8::default());
            bar += 1;
        }
        bars
    }
}

/// A PolyBLEP saw per lane: [`super::super::oscillator`]'s `saw`, with its edges as masks.
#[inline(always)]
fn saw(t: F32x8, dt: F32x8) -> F32x8 {
    t * 2.0 - 1.0 - poly_blep(t, dt)
}

/// The PolyBLEP residual per lane; the divisions only when some lane is at an edge.
#[inline(always)]
fn poly_blep(t: F32x8, dt: F32x8) -> F32x8 {
    let rising = t.lt(dt);
    let falling = t.gt(F32x8::splat(1.0) - dt);
    if !rising.or(falling).any() {
        return F32x8::default();
    }
    let rise = blep_rise(t / dt);
    let fall = blep_fall((t - 1.0) / dt);
    rising.select(rise, falling.select(fall, F32x8::default()))
}

/// sin(2π·phase) per lane, and with `cosine` also sin(2π·(phase + ¼)), the drawbars' cosine.
#[inline(always)]
fn sin_cos_2pi(phase: F32x8, cosine: bool) -> (F32x8, F32x8) {
    let c = if cosine {
        sin_2pi(phase + 0.25)
    } else {
        F32x8::default()
    };
    (sin_2pi(phase), c)
}

/// sin(2π·phase) per lane as [`crate::num::fastmath::sin_2pi`] computes it: the phase folded
/// onto [−¼, ¼] by masks, then the same polynomial.
#[inline(always)]
fn sin_2pi(p: F32x8) -> F32x8 {
    let y = p - (p + 0.5).floor();
    let y = y
        .gt(F32x8::splat(0.25))
        .select(-y + 0.5, y.lt(F32x8::splat(-0.25)).select(-y - 0.5, y));
    sin_2pi_folded(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Rng;
    use crate::num::units::note_to_hz;
    use crate::plant::{N_THETA, P, SPECS, from_knobs};

    const SR: f32 = 48_000.0;

    /// A random patch: every knob anywhere in its range, the sections switched on at random.
    fn random_coeffs(rng: &mut Rng) -> VoiceCoeffs<f32> {
        let mut u = [0.0f32; N_THETA];
        for (u, spec) in u.iter_mut().zip(SPECS.iter()) {
            *u = if rng.uniform() < 0.5 {
                rng.uniform()
            } else {
                spec.normalize(spec.default)
            };
        }
        // Short times, so attacks peak and releases end inside the render.
        for p in [P::AmpAttack, P::AmpRelease] {
            u[p as usize] = 0.3 * rng.uniform();
        }
        VoiceCoeffs::from_theta(&from_knobs(&u), SR)
    }

    /// Sixteen voices with their own patches (as polyphonic modulation makes them) start on
    /// staggered samples, bend, pan, release and end, rendered in runs of random lengths: the
    /// lanes give the bits of one voice after another, and leave every voice in the same state,
    /// in the AVX2 copy (on a CPU that has it) and in the baseline x86-64 one alike.
    #[test]
    fn lanes_play_the_bits_of_one_voice_after_another() {
        for seed in 1..=6u64 {
            let mut rng = Rng::new(seed);
            let patches: Vec<VoiceCoeffs<f32>> = (0..16).map(|_| random_coeffs(&mut rng)).collect();
            let coeffs: Vec<&VoiceCoeffs<f32>> = patches.iter().collect();
            let mut lanes = [Voice::<f32>::default(); 16];
            let mut one_by_one = lanes;
            // The copy for CPUs without AVX2, beside the one this CPU dispatches to.
            let mut baseline = lanes;
            let (mut age, mut sounded) = (0u64, 0usize);
            for run in 0..120 {
                // Events between runs, the same on both pools.
                for _ in 0..3 {
                    let i = rng.below(16);
                    let key = 24 + rng.below(84) as u8;
                    match rng.below(5) {
                        0 | 1 => {
                            age += 1;
                            let vel = rng.uniform();
                            for v in [&mut lanes[i], &mut one_by_one[i], &mut baseline[i]] {
                                v.start(key, note_to_hz(key as f32), vel, age, SR);
                            }
                        }
                        2 => {
                            lanes[i].release();
                            one_by_one[i].release();
                            baseline[i].release();
                        }
                        3 => {
                            let (bend, pan) =
                                (rng.uniform() * 4.0 - 2.0, rng.uniform() * 2.0 - 1.0);
                            for v in [&mut lanes[i], &mut one_by_one[i], &mut baseline[i]] {
                                v.expression_mut().set_bend(bend);
                                v.expression_mut().pan = pan;
                                v.expression_mut().vibrato = 0.01;
                            }
                        }
                        _ => {}
                    }
                }
                let len = 1 + rng.below(if run % 7 == 0 { 600 } else { 90 });
                let stereo = run % 3 == 0;
                let (mut out, mut right) = (vec![0.0f32; len], vec![0.0f32; len]);
                let (mut want, mut want_r) = (out.clone(), right.clone());
                let (mut base, mut base_r) = (out.clone(), right.clone());
                render_voices(
                    &mut lanes,
                    &coeffs,
                    &mut out,
                    stereo.then_some(&mut right[..]),
                );
                let base_right = stereo.then_some(&mut base_r[..]);
                render_voices_inline(&mut baseline, &coeffs, &mut base, base_right);
                for (v, c) in one_by_one
                    .iter_mut()
                    .zip(&coeffs)
                    .filter(|(v, _)| v.is_active())
                {
                    if stereo {
                        v.render_add_panned(c, &mut want, &mut want_r);
                    } else {
                        v.render_add(c, &mut want);
                    }
                }
                let bits = |x: &[f32]| x.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&out), bits(&want), "seed {seed}, run {run}");
                assert_eq!(bits(&right), bits(&want_r), "seed {seed}, run {run}, right");
                assert_eq!(
                    bits(&base),
                    bits(&out),
                    "seed {seed}, run {run}, baseline x86-64"
                );
                assert_eq!(
                    bits(&base_r),
                    bits(&right),
                    "seed {seed}, run {run}, baseline"
                );
                sounded += lanes.iter().filter(|v| v.is_active()).count();
                for (a, b) in lanes.iter().zip(&one_by_one) {
                    assert_eq!(format!("{a:?}"), format!("{b:?}"), "seed {seed}, run {run}");
                }
            }
            assert!(sounded > 120 * 4, "too few voices sounded: {sounded}");
        }
    }
}
