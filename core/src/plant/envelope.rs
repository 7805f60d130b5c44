//! ADSR envelope: linear attack, exponential decay to the sustain level, exponential release.
//!
//! Decay and release are one-pole recursions (level ← target + (level − target)·c), the shape of
//! an analog envelope generator; their times are to −60 dB of the distance left. The recursion
//! runs on [`Real`], so the learner gets exact derivatives with respect to every time and level.

use crate::num::real::Arith;
use crate::num::real::Real;

/// Below this level a releasing envelope is finished (−80 dB) and its voice is freed.
pub const SILENCE: f32 = 1e-4;

/// Which segment the envelope is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    /// Finished or never started: output 0.
    #[default]
    Idle,
    /// Rising linearly to 1.
    Attack,
    /// Falling toward sustain; holds there while the key is down.
    Decay,
    /// Falling toward 0 after note-off.
    Release,
}

/// One sample of the decay: the level's distance to the sustain shrinks by the pole. Over
/// [`Arith`], so the voices' lanes compute the same bits as one voice.
#[inline(always)]
pub fn decay_step<A: Arith>(level: A, sustain: A, pole: A) -> A {
    sustain + (level - sustain) * pole
}

/// Coefficients of one envelope, derived from its θ at the control rate.
#[derive(Debug, Clone, Copy)]
pub struct AdsrCoeffs<T> {
    /// Level added per sample in the attack (1 / (attack · fs)).
    pub attack_step: T,
    /// Decay pole: exp(−ln 1000 / (decay · fs)).
    pub decay_pole: T,
    /// ln of the decay pole, for decaying a fraction of a sample.
    pub decay_log: T,
    /// Sustain level, 0–1.
    pub sustain: T,
    /// Release pole: exp(−ln 1000 / (release · fs)).
    /// ln of the release pole, for skipping ahead.
    pub release_log: T,
    pub release_pole: T,
}

/// ln(1000): a pole of exp(−ln 1000 / n) falls by 60 dB in n samples.
const LN_1000: f32 = 6.907_755;

impl<T: Real> AdsrCoeffs<T> {
    /// Coefficients for times in seconds and a sustain level in [0, 1].
    pub fn new(attack_s: T, decay_s: T, sustain: T, release_s: T, sample_rate: f32) -> Self {
        let pole = |t: T| (-(t * sample_rate).recip() * LN_1000).exp();
        Self {
            attack_step: (attack_s * sample_rate).recip(),
            decay_pole: pole(decay_s),
            decay_log: -(decay_s * sample_rate).recip() * LN_1000,
            sustain: sustain.clamp_val(0.0, 1.0),
            release_pole: pole(release_s),
            release_log: -(release_s * sample_rate).recip() * LN_1000,
        }
    }
}

/// One envelope's running state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Adsr<T> {
    /// Current segment. Changed by note events and by the level crossing its goal.
    stage: Stage,
    /// Current output level, 0–1. Written every sample by the thread rendering the voice.
    level: T,
}

impl<T: Real> Adsr<T> {
    /// Note-on: the attack starts from the current level, so a retriggered voice does not click.
    pub fn gate_on(&mut self) {
        self.stage = Stage::Attack;
    }

    /// Note-off: the release starts from the current level.
    pub fn gate_off(&mut self) {
        if self.stage != Stage::Idle {
            self.stage = Stage::Release;
        }
    }

    /// Back to silence at once.
    pub fn reset(&mut self) {
        self.stage = Stage::Idle;
        self.level = T::cst(0.0);
    }

    /// The current segment.
    /// Sets the stage and the level, after a render in lanes.
    pub(crate) fn set_state(&mut self, stage: Stage, level: T) {
        self.stage = stage;
        self.level = level;
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The current level.
    pub fn level(&self) -> T {
        self.level
    }

    /// Advances one sample and returns the new level.
    /// Advances `n` samples at once, in closed form (the learner's skip to a later window):
    /// the same levels as `n` ticks, up to rounding.
    pub fn skip(&mut self, c: &AdsrCoeffs<T>, mut n: usize) {
        while n > 0 {
            match self.stage {
                Stage::Idle => return,
                Stage::Attack => {
                    let step = c.attack_step.val().max(f32::MIN_POSITIVE);
                    let to_peak = ((1.0 - self.level.val()) / step).ceil().max(1.0);
                    let to_peak = if to_peak.is_finite() {
                        to_peak as usize
                    } else {
                        usize::MAX
                    };
                    if n < to_peak {
                        self.level += c.attack_step * n as f32;
                        return;
                    }
                    self.level += c.attack_step * (to_peak - 1) as f32;
                    n -= to_peak - 1;
                    // The tick that crosses the peak, with its sub-sample decay.
                    self.tick(c);
                    n -= 1;
                }
                Stage::Decay => {
                    let k = (c.decay_log * n as f32).exp();
                    self.level = c.sustain + (self.level - c.sustain) * k;
                    return;
                }
                Stage::Release => {
                    self.level *= (c.release_log * n as f32).exp();
                    if self.level.val() < SILENCE {
                        self.reset();
                    }
                    return;
                }
            }
        }
    }

    #[inline(always)]
    pub fn tick(&mut self, c: &AdsrCoeffs<T>) -> T {
        match self.stage {
            Stage::Idle => {}
            Stage::Attack => {
                self.level += c.attack_step;
                if self.level.val() >= 1.0 {
                    // Sub-sample timing: the part of this step past the peak is spent decaying,
                    // so the decay (and all that follows) moves smoothly with the attack time and
                    // its derivative reaches the learner.
                    let past = (self.level - 1.0) / c.attack_step;
                    self.level = c.sustain + (T::cst(1.0) - c.sustain) * (c.decay_log * past).exp();
                    self.stage = Stage::Decay;
                }
            }
            Stage::Decay => {
                self.level = decay_step(self.level, c.sustain, c.decay_pole);
            }
            Stage::Release => {
                self.level *= c.release_pole;
                if self.level.val() < SILENCE {
                    self.reset();
                }
            }
        }
        self.level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: f32 = 48_000.0;

    #[test]
    fn attack_takes_its_time_then_decays_to_sustain() {
        let c = AdsrCoeffs::new(0.01f32, 0.1, 0.5, 0.2, SR);
        let mut e = Adsr::default();
        e.gate_on();
        let mut n = 0;
        while e.stage() == Stage::Attack {
            e.tick(&c);
            n += 1;
        }
        assert!((479..=481).contains(&n), "attack samples {n}");
        // 0.1 s later the decay has covered 60 dB of the distance to sustain.
        for _ in 0..4_800 {
            e.tick(&c);
        }
        approx::assert_abs_diff_eq!(e.level(), 0.5 + 0.5e-3, epsilon = 1e-4);
    }

    #[test]
    fn release_falls_60_db_in_its_time_and_then_goes_idle() {
        let c = AdsrCoeffs::new(0.001f32, 0.1, 1.0, 0.05, SR);
        let mut e = Adsr::default();
        e.gate_on();
        for _ in 0..4_800 {
            e.tick(&c);
        }
        e.gate_off();
        for _ in 0..2_400 {
            e.tick(&c);
        }
        approx::assert_relative_eq!(e.level(), 1e-3, max_relative = 1e-2);
        for _ in 0..2_400 {
            e.tick(&c);
        }
        assert_eq!(e.stage(), Stage::Idle);
        assert_eq!(e.level(), 0.0);
    }

    #[test]
    fn note_off_during_attack_releases_from_the_current_level() {
        let c = AdsrCoeffs::new(1.0f32, 0.1, 1.0, 0.1, SR);
        let mut e = Adsr::default();
        e.gate_on();
        for _ in 0..100 {
            e.tick(&c);
        }
        let before = e.level();
        e.gate_off();
        let after = e.tick(&c);
        assert!(after < before && after > 0.9 * before);
    }

    #[test]
    fn note_off_on_an_idle_envelope_stays_idle() {
        let mut e = Adsr::<f32>::default();
        e.gate_off();
        assert_eq!(e.stage(), Stage::Idle);
    }

    #[test]
    fn skipping_ahead_matches_ticking() {
        let c = AdsrCoeffs::new(0.01f32, 0.2, 0.4, 0.1, SR);
        for &(n, release_after) in &[
            (10, None),
            (479, None),
            (481, None),
            (5_000, None),
            (3_000, Some(700)),
            (100_000, Some(10)),
        ] {
            let (mut a, mut b) = (Adsr::default(), Adsr::default());
            a.gate_on();
            b.gate_on();
            let mut done = 0;
            if let Some(r) = release_after {
                for _ in 0..r {
                    a.tick(&c);
                }
                b.skip(&c, r);
                a.gate_off();
                b.gate_off();
                done = r;
            }
            for _ in done..n {
                a.tick(&c);
            }
            b.skip(&c, n - done);
            assert_eq!(a.stage(), b.stage(), "n {n}");
            approx::assert_abs_diff_eq!(a.level(), b.level(), epsilon = 1e-5);
        }
    }
}
