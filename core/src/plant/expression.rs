//! How a player shapes one sounding voice beyond its patch: pitch bend and tuning, glide,
//! level, pan, brightness and extra vibrato. Plain numbers only: the learner never plays with
//! expression, so every field at its rest value leaves the voice exactly as the patch makes it
//! (docs/ARCHITECTURE.md §4.3).

use crate::num::fastmath::exp2;

/// One voice's expression. Written by the player (audio thread) between renders; read by the
/// voice once per control step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expression {
    /// Pitch offset held by the player (bend, per-note bend, tuning), semitones.
    bend: f32,
    /// Portamento offset still to glide away, semitones; moves linearly to 0.
    glide: f32,
    /// Semitones the glide covers per control step.
    glide_step: f32,
    /// Whether the pitch changed since the voice last read it.
    pitch_dirty: bool,
    /// Level, linear (1: as the patch plays).
    pub gain: f32,
    /// Pan, −1 (left) to 1 (right); 0 plays the same in both channels.
    pub pan: f32,
    /// Cutoff offset, octaves (pressure, timbre, brightness).
    pub bright: f32,
    /// Vibrato depth added to the patch's, octaves at the LFO's crest (mod wheel, vibrato).
    pub vibrato: f32,
}

impl Default for Expression {
    fn default() -> Self {
        Self {
            bend: 0.0,
            glide: 0.0,
            glide_step: 0.0,
            pitch_dirty: false,
            gain: 1.0,
            pan: 0.0,
            bright: 0.0,
            vibrato: 0.0,
        }
    }
}

impl Expression {
    /// Holds the pitch `semitones` away from the note (bend and tuning together).
    pub fn set_bend(&mut self, semitones: f32) {
        let semitones = if semitones.is_finite() {
            semitones.clamp(-128.0, 128.0)
        } else {
            0.0
        };
        if semitones != self.bend {
            self.bend = semitones;
            self.pitch_dirty = true;
        }
    }

    /// A new note on the voice: no glide left, and a held bend applies from its first sample.
    pub fn restart(&mut self) {
        self.glide = 0.0;
        self.pitch_dirty = self.bend != 0.0;
    }

    /// The note under the voice changed: the pitch is read again at the next control step.
    pub fn touch(&mut self) {
        self.pitch_dirty = true;
    }

    /// The held pitch offset, semitones.
    pub fn bend(&self) -> f32 {
        self.bend
    }

    /// Starts a portamento from `semitones` away (the previous note minus this one), linear in
    /// pitch, arriving after `seconds` at `control_rate` steps per second whatever the
    /// interval. Zero seconds or a zero interval jumps.
    pub fn glide_from(&mut self, semitones: f32, seconds: f32, control_rate: f32) {
        let steps = seconds * control_rate;
        if semitones.is_finite() && semitones != 0.0 && steps >= 1.0 {
            self.glide = semitones.clamp(-128.0, 128.0);
            self.glide_step = self.glide / steps;
        } else {
            self.glide = 0.0;
        }
        self.pitch_dirty = true;
    }

    /// Whether the pitch moves at this control step (a new bend, or a glide under way).
    #[inline(always)]
    pub fn pitch_moves(&self) -> bool {
        self.pitch_dirty || self.glide != 0.0
    }

    /// One control step: the frequency ratio to the note's own pitch now, and the glide
    /// advanced. Call only when [`Self::pitch_moves`].
    pub fn step_pitch(&mut self) -> f32 {
        let semitones = self.bend + self.glide;
        // Exactly the note's own pitch at rest (the fast exp2 is not exact at 0).
        let ratio = if semitones == 0.0 {
            1.0
        } else {
            exp2(semitones * (1.0 / 12.0))
        };
        let next = self.glide - self.glide_step;
        // Arrived when the next step would pass the note (or fall within half a step of it).
        let ahead = next * self.glide > 0.0 && next.abs() > 0.5 * self.glide_step.abs();
        self.glide = if ahead { next } else { 0.0 };
        self.pitch_dirty = false;
        ratio
    }

    /// Gains of the left and right channel: 1 in both at the centre, the far side falling
    /// linearly to 0 at a hard pan (a balance law: a centred voice plays as without pan).
    pub fn pan_gains(&self) -> (f32, f32) {
        let p = self.pan.clamp(-1.0, 1.0);
        ((1.0 - p).min(1.0), (1.0 + p).min(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_rest_the_pitch_does_not_move() {
        let e = Expression::default();
        assert!(!e.pitch_moves());
        assert_eq!(e.pan_gains(), (1.0, 1.0));
    }

    #[test]
    fn a_bend_is_read_once() {
        let mut e = Expression::default();
        e.set_bend(12.0);
        assert!(e.pitch_moves());
        approx::assert_relative_eq!(e.step_pitch(), 2.0, max_relative = 1e-4);
        assert!(!e.pitch_moves());
        e.set_bend(f32::NAN);
        approx::assert_relative_eq!(e.step_pitch(), 1.0, max_relative = 1e-6);
    }

    #[test]
    fn a_glide_arrives_in_its_time() {
        let mut e = Expression::default();
        // 100 control steps.
        e.glide_from(-12.0, 0.1, 1_000.0);
        approx::assert_relative_eq!(e.step_pitch(), 0.5, max_relative = 1e-4);
        for _ in 0..49 {
            e.step_pitch();
        }
        // Half-way: 6 semitones below.
        approx::assert_relative_eq!(e.step_pitch(), 0.5f32.sqrt(), max_relative = 1e-3);
        for _ in 0..49 {
            e.step_pitch();
        }
        assert!(!e.pitch_moves());
        assert_eq!(e.step_pitch(), 1.0);
    }

    #[test]
    fn pan_keeps_the_near_side_whole() {
        let mut e = Expression {
            pan: -1.0,
            ..Default::default()
        };
        assert_eq!(e.pan_gains(), (1.0, 0.0));
        e.pan = 0.5;
        assert_eq!(e.pan_gains(), (0.5, 1.0));
    }
}
