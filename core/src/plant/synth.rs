//! The polyphonic synth: a fixed pool of [`Voice`]s, voice allocation and stealing, θ smoothing
//! at a control rate, and block rendering that does not depend on the block size.

use super::body::Body;
use super::theta::{BODY1, BODY2, N_THETA, P, SPECS, Theta, from_knobs, to_knobs};
use super::voice::{self, FILTER_UPDATE, Voice, VoiceCoeffs};
use crate::num::real::Real;
use crate::num::units::note_to_hz;
use std::any::Any;

/// Voices in the pool. Notes beyond this steal a voice.
pub const MAX_VOICES: usize = 16;

/// Samples between control-rate updates of the coefficients while θ moves (0.33 ms at 48 kHz).
pub const CONTROL_PERIOD: u32 = 16;

/// Samples between control checks while θ is still (nothing to update, so render in longer
/// runs).
const IDLE_PERIOD: u32 = 128;

/// Time constant of the θ smoother, seconds. A jump in cutoff, level or gain clicks; 5 ms is
/// below what a player hears as lag.
pub const SMOOTHING_SECONDS: f32 = 0.005;

/// Within this distance (normalised range units) a smoothed θ snaps to its target.
const SETTLED: f32 = 1e-5;

/// A polyphonic synth over the number type `T`. Allocates nothing after construction: every
/// buffer is a fixed-size array.
#[derive(Debug, Clone)]
pub struct Synth<T: Real> {
    /// The voice pool. Audio (or learner) thread only.
    voices: [Voice<T>; MAX_VOICES],
    /// The body's bells, on the voices' sum (the left channel's when voices are panned).
    body: Body<T>,
    /// The right channel's bells while some voice is panned; otherwise a copy of `body`.
    body_r: Body<T>,
    /// Voices that play (1–[`MAX_VOICES`]); notes beyond steal among them. Set by the player.
    polyphony: usize,
    /// Per-voice offsets of θ (polyphonic modulation) and the coefficients they make. Empty
    /// until [`Self::enable_voice_modulation`] allocates one per voice (main thread): the
    /// learner never needs them.
    mods: Vec<VoiceMods<T>>,
    /// Whether some voice's offsets changed since its coefficients were made.
    mods_dirty: bool,
    /// Sample rate, Hz. Set at construction and by [`Self::set_sample_rate`].
    sample_rate: f32,
    /// θ as it drives the voices now (smoothed), musical units.
    theta: Theta<T>,
    /// Where each θ is heading, normalised to [0, 1] of its range. Set by [`Self::set_target`].
    target_u: [f32; N_THETA],
    /// Where each θ is now, normalised. Moves toward `target_u` once per control period.
    current_u: [f32; N_THETA],
    /// True while some θ has not reached its target.
    smoothing: bool,
    /// One-pole coefficient applied per control period.
    smooth_step: f32,
    /// Coefficients derived from `theta`.
    coeffs: VoiceCoeffs<T>,
    /// Linear output gain at the start of the current control period, ramped per sample to
    /// `coeffs.gain` so gain changes do not step.
    gain_from: T,
    /// Samples left until the next control update.
    countdown: u32,
    /// Next note-on order stamp.
    next_age: u64,
}

impl<T: Real> Synth<T> {
    /// A synth at `sample_rate` playing the patch `theta` (musical units, sanitised).
    pub fn new(sample_rate: f32, theta: &Theta<f32>) -> Self {
        let sample_rate = sanitize_rate(sample_rate);
        let u = to_knobs(theta);
        let theta_t = from_knobs::<T>(&u);
        let coeffs = VoiceCoeffs::from_theta(&theta_t, sample_rate);
        Self {
            voices: [Voice::default(); MAX_VOICES],
            body: Body::default(),
            body_r: Body::default(),
            polyphony: MAX_VOICES,
            mods: Vec::new(),
            mods_dirty: false,
            sample_rate,
            theta: theta_t,
            target_u: u,
            current_u: u,
            smoothing: false,
            smooth_step: smooth_step(sample_rate),
            gain_from: coeffs.gain,
            coeffs,
            countdown: 0,
            next_age: 0,
        }
    }

    /// Changes the sample rate; every voice is silenced.
    pub fn set_sample_rate(&mut self, sample_rate: f32) {
        self.sample_rate = sanitize_rate(sample_rate);
        self.smooth_step = smooth_step(self.sample_rate);
        self.coeffs = VoiceCoeffs::from_theta(&self.theta, self.sample_rate);
        self.gain_from = self.coeffs.gain;
        self.reset();
    }

    /// Sample rate, Hz.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Sets where θ should go (musical units; NaN and out-of-range values are sanitised). The
    /// change starts at the next rendered sample and glides with [`SMOOTHING_SECONDS`].
    pub fn set_target(&mut self, theta: &Theta<f32>) {
        let u = to_knobs(theta);
        if u != self.target_u {
            self.target_u = u;
            self.smoothing = true;
            // Start the glide on this very sample: automation is sample-accurate.
            self.countdown = 0;
        }
    }

    /// Jumps to θ with no smoothing, keeping its derivatives: the learner's entry point.
    pub fn set_theta(&mut self, theta: &Theta<T>) {
        self.theta = *theta;
        for (i, s) in SPECS.iter().enumerate() {
            self.current_u[i] = s.normalize(theta[i].val());
        }
        self.target_u = self.current_u;
        self.smoothing = false;
        self.coeffs = VoiceCoeffs::from_theta(&self.theta, self.sample_rate);
        self.gain_from = self.coeffs.gain;
    }

    /// θ as it drives the voices now.
    pub fn theta(&self) -> &Theta<T> {
        &self.theta
    }

    /// Starts MIDI note `note` (0–127) at `velocity` (0–1). Velocity 0 is a note-off, as in MIDI;
    /// an out-of-range note is ignored.
    pub fn note_on(&mut self, note: u8, velocity: f32) {
        if note > 127 {
            return;
        }
        self.note_on_hz(note, note_to_hz(note as f32), velocity);
    }

    /// Starts a note at an explicit frequency (the learner plays a target's measured pitch);
    /// `note` is the key it is released by.
    pub fn note_on_hz(&mut self, note: u8, f0_hz: f32, velocity: f32) {
        self.start_voice(note, 0, f0_hz, velocity);
    }

    /// Starts `note` on MIDI `channel` at `f0_hz` and returns the voice it took: the one already
    /// playing this note on this channel, else an idle one, else a stolen one (see
    /// [`Self::pick_voice`]). Velocity 0 (or below) is a note-off and returns `None`.
    pub fn start_voice(
        &mut self,
        note: u8,
        channel: u8,
        f0_hz: f32,
        velocity: f32,
    ) -> Option<usize> {
        let velocity = if velocity.is_nan() {
            1.0
        } else {
            velocity.clamp(0.0, 1.0)
        };
        if velocity == 0.0 {
            self.note_off(note);
            return None;
        }
        let f0_hz = if f0_hz.is_finite() {
            f0_hz.max(0.0)
        } else {
            0.0
        };
        let slot = self.pick_voice(note, channel);
        let age = self.next_age;
        self.next_age += 1;
        let voice = &mut self.voices[slot];
        voice.start(note, f0_hz, velocity, age, self.sample_rate);
        voice.set_channel(channel);
        if let Some(m) = self.mods.get_mut(slot)
            && m.on
        {
            // A new note starts from the knobs; its modulation arrives with it.
            m.offsets = [0.0; N_THETA];
            m.on = false;
        }
        Some(slot)
    }

    /// The voices, by slot.
    pub fn voices(&self) -> &[Voice<T>; MAX_VOICES] {
        &self.voices
    }

    /// One voice, to change its expression, channel or pedal hold (the player's work).
    pub fn voice_mut(&mut self, slot: usize) -> &mut Voice<T> {
        &mut self.voices[slot.min(MAX_VOICES - 1)]
    }

    /// Control steps per second of the voices' pitch, filter and LFO.
    pub fn control_rate(&self) -> f32 {
        self.sample_rate / FILTER_UPDATE as f32
    }

    /// Limits the voices that play to the first `n` (1–[`MAX_VOICES`]); voices above the limit
    /// are released.
    pub fn set_polyphony(&mut self, n: usize) {
        let n = n.clamp(1, MAX_VOICES);
        if n < self.polyphony {
            for v in &mut self.voices[n..] {
                v.release();
            }
        }
        self.polyphony = n;
    }

    /// Makes room for per-voice θ offsets (polyphonic modulation). Main thread; allocates once.
    pub fn enable_voice_modulation(&mut self) {
        if self.mods.is_empty() {
            let m = VoiceMods {
                offsets: [0.0; N_THETA],
                on: false,
                coeffs: self.coeffs,
            };
            self.mods = vec![m; MAX_VOICES];
        }
    }

    /// Offsets θ `p` of the voice in `slot` by `offset` of its knob range (normalised units, as
    /// [`to_knobs`]). The synth-wide θ (the body's bells and the output gain) take no offset.
    /// Does nothing before [`Self::enable_voice_modulation`].
    pub fn set_voice_offset(&mut self, slot: usize, p: P, offset: f32) {
        if SYNTH_WIDE.contains(&p) || !offset.is_finite() {
            return;
        }
        if let Some(m) = self.mods.get_mut(slot) {
            m.offsets[p as usize] = offset.clamp(-1.0, 1.0);
            m.on = m.offsets.iter().any(|&o| o != 0.0);
            self.mods_dirty = true;
            // The new coefficients take effect on this very sample.
            self.countdown = 0;
        }
    }

    /// The voice's offset of θ `p`, normalised units (0 without modulation).
    pub fn voice_offset(&self, slot: usize, p: P) -> f32 {
        self.mods.get(slot).map_or(0.0, |m| m.offsets[p as usize])
    }

    /// Releases every sounding voice playing `note`. A note-off with no note-on does nothing.
    pub fn note_off(&mut self, note: u8) {
        for v in self.voices.iter_mut() {
            if v.is_active() && !v.is_releasing() && v.note() == note {
                v.release();
            }
        }
    }

    /// Silences the voices playing `note` at once (a host's choke).
    pub fn choke(&mut self, note: u8) {
        for v in self.voices.iter_mut().filter(|v| v.note() == note) {
            v.reset();
        }
    }

    /// Releases every voice (MIDI all-notes-off).
    pub fn all_notes_off(&mut self) {
        for v in self.voices.iter_mut() {
            v.release();
        }
    }

    /// Silences every voice at once (MIDI all-sound-off); the patch and its glide are kept.
    pub fn silence(&mut self) {
        for v in self.voices.iter_mut() {
            v.reset();
        }
        self.body.reset();
        self.body_r.reset();
    }

    /// Silences every voice at once and jumps θ to its target.
    pub fn reset(&mut self) {
        self.silence();
        if self.smoothing {
            self.current_u = self.target_u;
            self.smoothing = false;
            self.update_coeffs();
        }
        self.gain_from = self.coeffs.gain;
        self.countdown = 0;
    }

    /// Number of sounding voices.
    pub fn active_voices(&self) -> usize {
        self.voices.iter().filter(|v| v.is_active()).count()
    }

    /// Renders `out.len()` samples of the mono mix, overwriting `out`. The result does not
    /// depend on how a long render is split into calls.
    pub fn render(&mut self, out: &mut [T]) {
        self.render_into(out, None);
        self.body_r = self.body;
    }

    /// Renders a stereo pair (equal lengths), overwriting both. While no voice is panned both
    /// channels carry the mono mix bit for bit; panned voices are weighed by
    /// [`super::expression::Expression::pan_gains`] and each channel runs its own bells.
    pub fn render_stereo(&mut self, left: &mut [T], right: &mut [T]) {
        let len = left.len().min(right.len());
        let (left, right) = (&mut left[..len], &mut right[..len]);
        if self
            .voices
            .iter()
            .any(|v| v.is_active() && v.expression().pan != 0.0)
        {
            self.render_into(left, Some(right));
        } else {
            self.render(left);
            right.copy_from_slice(left);
        }
    }

    /// The render loop: voices, bells and output gain, per control period; `right` makes it
    /// stereo with panned voices.
    fn render_into(&mut self, out: &mut [T], mut right: Option<&mut [T]>) {
        let mut start = 0;
        while start < out.len() {
            if self.countdown == 0 {
                self.control_tick();
            }
            let len = (self.countdown as usize).min(out.len() - start);
            let chunk = &mut out[start..start + len];
            chunk.fill(T::cst(0.0));
            let mut pair = right.as_deref_mut().map(|r| &mut r[start..start + len]);
            if let Some(r) = pair.as_deref_mut() {
                r.fill(T::cst(0.0));
            }
            render_voices(
                &mut self.voices,
                &self.coeffs,
                &self.mods,
                chunk,
                pair.as_deref_mut(),
            );
            let silent = self.voices.iter().all(|v| !v.is_active());
            let (from, to) = (self.gain_from, self.coeffs.gain);
            // Only read while the gain ramps, when the period is a control period.
            let done = CONTROL_PERIOD.saturating_sub(self.countdown);
            finish(
                chunk,
                &mut self.body,
                &self.coeffs,
                silent,
                (from, to, done),
            );
            if let Some(r) = pair {
                finish(r, &mut self.body_r, &self.coeffs, silent, (from, to, done));
            }
            self.countdown -= len as u32;
            start += len;
        }
    }

    /// Once per control period: move θ toward its target and refresh the coefficients.
    fn control_tick(&mut self) {
        self.gain_from = self.coeffs.gain;
        if !self.smoothing {
            self.countdown = IDLE_PERIOD;
            self.update_voice_coeffs();
            return;
        }
        self.countdown = CONTROL_PERIOD;
        let mut moving = false;
        for (cur, &tgt) in self.current_u.iter_mut().zip(&self.target_u) {
            let d = tgt - *cur;
            if d.abs() <= SETTLED {
                *cur = tgt;
            } else {
                *cur += d * self.smooth_step;
                moving = true;
            }
        }
        self.smoothing = moving;
        self.update_coeffs();
    }

    fn update_coeffs(&mut self) {
        self.theta = from_knobs(&self.current_u);
        self.coeffs = VoiceCoeffs::from_theta(&self.theta, self.sample_rate);
        self.mods_dirty = true;
        self.update_voice_coeffs();
    }

    /// Remakes the coefficients of the voices that carry offsets, when θ or an offset moved.
    fn update_voice_coeffs(&mut self) {
        if !self.mods_dirty {
            return;
        }
        self.mods_dirty = false;
        for m in self.mods.iter_mut().filter(|m| m.on) {
            let mut u = self.current_u;
            for (u, o) in u.iter_mut().zip(&m.offsets) {
                *u = (*u + o).clamp(0.0, 1.0);
            }
            m.coeffs = VoiceCoeffs::from_theta(&from_knobs(&u), self.sample_rate);
        }
    }

    /// The voice for a new note, among the first [`Self::set_polyphony`] slots: the one
    /// already playing this note on this channel, else an idle one, else the oldest releasing
    /// one, else the oldest one the sustain pedal holds, else the oldest of all (voice
    /// stealing: a key still down is taken last).
    fn pick_voice(&self, note: u8, channel: u8) -> usize {
        let oldest = |pred: &dyn Fn(&Voice<T>) -> bool| {
            (0..self.polyphony)
                .filter(|&i| pred(&self.voices[i]))
                .min_by_key(|&i| self.voices[i].age())
        };
        oldest(&|v| v.is_active() && v.note() == note && v.channel() == channel)
            .or_else(|| oldest(&|v| !v.is_active()))
            .or_else(|| oldest(&|v| v.is_releasing()))
            .or_else(|| oldest(&|v| v.is_pedal_held()))
            .or_else(|| oldest(&|_| true))
            .unwrap_or(0)
    }
}

/// The θ that act on the voices' sum, not per voice: no polyphonic offset reaches them. The
/// output gain and both body bells, taken from their sections so that the two lists agree.
pub const SYNTH_WIDE: [P; 7] = [
    P::Gain,
    BODY1[0],
    BODY1[1],
    BODY1[2],
    BODY2[0],
    BODY2[1],
    BODY2[2],
];

/// One voice's polyphonic offsets and the coefficients they make.
#[derive(Debug, Clone, Copy)]
struct VoiceMods<T: Real> {
    /// Offset of each θ, normalised units; written by the player (audio thread).
    offsets: [f32; N_THETA],
    /// Whether any offset is non-zero (else the voice plays the shared coefficients).
    on: bool,
    /// The voice's coefficients from the smoothed θ plus `offsets`; remade at the control rate.
    coeffs: VoiceCoeffs<T>,
}

/// Adds the sounding voices to `chunk` (and, panned, to `right`) in index order, each with its
/// own coefficients where it carries offsets: on `f32` eight at a time in lanes
/// ([`voice::render_voices`], the same bits), on dual numbers one after another.
fn render_voices<T: Real>(
    voices: &mut [Voice<T>; MAX_VOICES],
    shared: &VoiceCoeffs<T>,
    mods: &[VoiceMods<T>],
    chunk: &mut [T],
    mut right: Option<&mut [T]>,
) {
    let lanes = (
        (voices as &mut dyn Any).downcast_mut::<[Voice<f32>; MAX_VOICES]>(),
        (shared as &dyn Any).downcast_ref::<VoiceCoeffs<f32>>(),
    );
    if let (Some(voices), Some(shared)) = lanes
        && let Some(out) = T::as_f32s(chunk)
    {
        let mut coeffs = [shared; MAX_VOICES];
        for (c, m) in coeffs.iter_mut().zip(mods) {
            if let Some(m) = (m as &dyn Any).downcast_ref::<VoiceMods<f32>>()
                && m.on
            {
                *c = &m.coeffs;
            }
        }
        let right = right.and_then(|r| T::as_f32s(r));
        voice::render_voices(voices, &coeffs, out, right);
        return;
    }
    for (i, v) in voices.iter_mut().enumerate() {
        if !v.is_active() {
            continue;
        }
        let c = match mods.get(i) {
            Some(m) if m.on => &m.coeffs,
            _ => shared,
        };
        match right.as_deref_mut() {
            Some(r) => v.render_add_panned(c, chunk, r),
            None => v.render_add(c, chunk),
        }
    }
}

/// A control period's mix made final: the bells (settled when every voice is silent), then the
/// output gain, ramped linearly across the period while it glides (`from`, `to`, samples done).
fn finish<T: Real>(
    chunk: &mut [T],
    body: &mut Body<T>,
    c: &VoiceCoeffs<T>,
    silent: bool,
    (from, to, done): (T, T, u32),
) {
    if Body::any_on(&c.body) {
        for s in chunk.iter_mut() {
            *s = body.tick(*s, &c.body);
        }
        if silent {
            body.settle();
        }
    }
    if from.val() == to.val() {
        chunk.iter_mut().for_each(|s| *s *= to);
    } else {
        let slope = (to - from) * (1.0 / CONTROL_PERIOD as f32);
        for (i, s) in chunk.iter_mut().enumerate() {
            *s *= from + slope * (done + i as u32 + 1) as f32;
        }
    }
}

fn sanitize_rate(sample_rate: f32) -> f32 {
    if sample_rate.is_finite() && sample_rate >= 1_000.0 {
        sample_rate.min(1_536_000.0)
    } else {
        48_000.0
    }
}

fn smooth_step(sample_rate: f32) -> f32 {
    1.0 - (-(CONTROL_PERIOD as f32) / (SMOOTHING_SECONDS * sample_rate)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::theta::{P, default_theta};

    const SR: f32 = 48_000.0;

    /// Renders `len` samples, delivering `events` (sample, note, velocity; velocity 0 = off) at
    /// their exact positions, in calls of at most `block` samples.
    fn render_with_blocks(block: usize, len: usize, events: &[(usize, u8, f32)]) -> Vec<f32> {
        let mut synth = Synth::<f32>::new(SR, &all_oscillators_theta());
        let mut out = vec![0.0; len];
        let mut pos = 0;
        let mut ev = events.iter().peekable();
        while pos < len {
            while let Some(&&(at, note, vel)) = ev.peek() {
                if at > pos {
                    break;
                }
                synth.note_on(note, vel);
                ev.next();
            }
            let next_event = ev.peek().map_or(len, |e| e.0);
            let end = (pos + block).min(next_event).min(len);
            synth.render(&mut out[pos..end]);
            pos = end;
        }
        out
    }

    fn all_oscillators_theta() -> Theta<f32> {
        let mut t = default_theta();
        t[P::Pulse as usize] = 0.5;
        t[P::Sine as usize] = 0.5;
        t[P::Noise as usize] = 0.1;
        t
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        let events = [
            (0, 60, 0.8),
            (1_000, 64, 0.6),
            (1_733, 67, 1.0),
            (9_000, 60, 0.0),
        ];
        let reference = render_with_blocks(24_000, 24_000, &events);
        for block in [1, 64, 512] {
            let out = render_with_blocks(block, 24_000, &events);
            let max_diff = out
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            // Bit-exact: the control rate is kept inside the synth, not by the caller's blocks.
            assert_eq!(max_diff, 0.0, "block {block}");
        }
    }

    #[test]
    fn a_note_starts_on_its_exact_sample() {
        let out = render_with_blocks(64, 2_000, &[(777, 60, 1.0)]);
        assert!(out[..777].iter().all(|&s| s == 0.0));
        assert!(out[777..790].iter().any(|&s| s != 0.0));
    }

    #[test]
    fn voices_are_stolen_beyond_the_pool() {
        let mut s = Synth::<f32>::new(SR, &default_theta());
        for n in 0..(MAX_VOICES as u8 + 4) {
            s.note_on(40 + n, 1.0);
        }
        assert_eq!(s.active_voices(), MAX_VOICES);
        let mut out = [0.0f32; 256];
        s.render(&mut out);
        assert!(out.iter().all(|x| x.is_finite()));
        // The newest notes play; the oldest were stolen.
        assert!(
            s.voices
                .iter()
                .any(|v| v.note() == 40 + MAX_VOICES as u8 + 3)
        );
        assert!(!s.voices.iter().any(|v| v.note() == 40));
    }

    #[test]
    fn bad_events_are_harmless() {
        let mut s = Synth::<f32>::new(SR, &default_theta());
        s.note_off(60); // off without on
        s.note_on(200, 1.0); // out of range
        s.note_on(61, f32::NAN);
        s.note_on_hz(62, f32::INFINITY, 1.0);
        let mut out = [0.0f32; 0];
        s.render(&mut out); // zero length
        let mut out = [0.0f32; 1_024];
        s.render(&mut out);
        assert!(out.iter().all(|x| x.is_finite()));
        assert_eq!(s.active_voices(), 2);
    }

    #[test]
    fn a_parameter_jump_glides_instead_of_stepping() {
        let mut s = Synth::<f32>::new(SR, &default_theta());
        let mut t = default_theta();
        t[P::Gain as usize] = -48.0;
        s.set_target(&t);
        let mut out = [0.0f32; 1];
        s.render(&mut out);
        let g0 = s.theta()[P::Gain as usize];
        assert!(g0 > -20.0, "moved too fast: {g0}");
        let mut long = vec![0.0f32; 4_800];
        s.render(&mut long);
        approx::assert_abs_diff_eq!(s.theta()[P::Gain as usize], -48.0, epsilon = 1e-3);
    }

    #[test]
    fn nan_theta_is_sanitised() {
        let mut t = default_theta();
        t[P::Cutoff as usize] = f32::NAN;
        t[P::Gain as usize] = f32::INFINITY;
        let mut s = Synth::<f32>::new(f32::NAN, &t);
        s.note_on(60, 1.0);
        let mut out = [0.0f32; 4_096];
        s.render(&mut out);
        assert!(out.iter().all(|x| x.is_finite()));
        assert_eq!(s.sample_rate(), 48_000.0);
    }

    #[test]
    fn output_is_bounded_and_free_of_subnormals_at_extremes() {
        let mut t = default_theta();
        for (i, spec) in SPECS.iter().enumerate() {
            t[i] = if i % 2 == 0 { spec.max } else { spec.min };
        }
        t[P::Resonance as usize] = 20.0;
        t[P::Cutoff as usize] = 20_000.0;
        t[P::AmpRelease as usize] = 0.005;
        let mut s = Synth::<f32>::new(SR, &t);
        for n in [21u8, 60, 108] {
            s.note_on(n, 1.0);
        }
        let mut out = vec![0.0f32; 48_000];
        s.render(&mut out);
        s.all_notes_off();
        let mut tail = vec![0.0f32; 96_000];
        s.render(&mut tail);
        for x in out.iter().chain(&tail) {
            assert!(x.is_finite() && x.abs() < 100.0);
            assert!(*x == 0.0 || x.is_normal(), "subnormal {x:e}");
        }
        assert_eq!(s.active_voices(), 0);
    }
}
