//! Playing θ: one note's window as the learner renders it (with exact derivatives on dual
//! numbers), and whole performances through the synth the plugin plays.

use crate::num::Real;
use crate::num::units::note_to_hz;
use crate::plant::body::Body;
use crate::plant::{Synth, Theta, Voice, VoiceCoeffs};

/// One note as the plant plays it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteSpec {
    /// Pitch, Hz (C4 for an unpitched note: noise has no f0, and the filter tracks from C4).
    pub f0_hz: f32,
    /// Velocity, 0–1.
    pub velocity: f32,
    /// Key-up, samples from the onset.
    pub release_at: usize,
}

/// Renders `out.len()` samples of one note played with θ, starting `skip` samples after its
/// onset. The skipped part advances the envelopes exactly (with their derivatives) and the
/// oscillator phases; the filter starts from rest at `skip`, which the caller's unscored
/// warm-up absorbs.
pub fn render_window<T: Real>(
    theta: &Theta<T>,
    note: &NoteSpec,
    skip: usize,
    sample_rate: f32,
    out: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: this CPU has AVX2 (checked just above), the only feature the copy assumes.
        unsafe { render_window_avx2(theta, note, skip, sample_rate, out) };
        return;
    }
    render_window_inline(theta, note, skip, sample_rate, out);
}

/// [`render_window`] compiled for AVX2: a dual number's partials fill 8-lane registers, so the
/// learner's render spills less to memory (docs/RESULTS.md, "Benchmarks"). Only AVX2, not FMA:
/// the same IEEE operations in the same order, so the samples are bit for bit those of the
/// baseline x86_64 code, and a patch learned on one machine plays the same on another.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn render_window_avx2<T: Real>(
    theta: &Theta<T>,
    note: &NoteSpec,
    skip: usize,
    sample_rate: f32,
    out: &mut [T],
) {
    render_window_inline(theta, note, skip, sample_rate, out);
}

/// The body of [`render_window`], inlined into each compiled copy.
#[inline(always)]
fn render_window_inline<T: Real>(
    theta: &Theta<T>,
    note: &NoteSpec,
    skip: usize,
    sample_rate: f32,
    out: &mut [T],
) {
    let c = VoiceCoeffs::from_theta(theta, sample_rate);
    let mut voice = Voice::<T>::default();
    voice.start(60, note.f0_hz, note.velocity, 1, sample_rate);
    let release = note.release_at;
    if skip > release {
        voice.skip(&c, release);
        voice.release();
        voice.skip(&c, skip - release);
    } else {
        voice.skip(&c, skip);
    }
    // The body starts from rest with the window, as the voice's filters do.
    let mut body = Body::<T>::default();
    let with_body = Body::any_on(&c.body);
    let mut tick = |voice: &mut Voice<T>| {
        let y = voice.tick(&c);
        let y = if with_body { body.tick(y, &c.body) } else { y };
        y * c.gain
    };
    let until_release = release.saturating_sub(skip).min(out.len());
    for s in &mut out[..until_release] {
        *s = tick(&mut voice);
    }
    if release >= skip && until_release < out.len() {
        voice.release();
    }
    for s in &mut out[until_release..] {
        *s = tick(&mut voice);
    }
}

/// One note of a performance: what a MIDI transcription of a recording holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteEvent {
    /// Note-on, sample index.
    pub onset: usize,
    /// Note-off, sample index (≥ `onset`).
    pub release: usize,
    /// Pitch, Hz.
    pub f0_hz: f32,
    /// Velocity, 0–1.
    pub velocity: f32,
}

/// One note of θ at MIDI `note` and `velocity` (0–1), held `held` samples from sample 0, in a
/// render of `len` samples: how a patch sounds on its own (thumbnails, re-embedding, its own
/// sound as kept notes). Allocates.
///
/// ```
/// use dar_ddsp_core::plant::default_theta;
/// use dar_ddsp_core::plant::render::render_note;
///
/// // Middle C at velocity 0.8, held 0.5 s, in a 1 s render at 48 kHz.
/// let audio = render_note(&default_theta(), 60.0, 0.8, 24_000, 48_000.0, 48_000);
/// let peak = audio.iter().fold(0.0f32, |m, x| m.max(x.abs()));
/// assert!(peak > 0.01 && peak < 1.0);
/// // Released and decayed by the end.
/// assert!(audio[47_000..].iter().all(|x| x.abs() < 1e-3));
/// ```
pub fn render_note(
    theta: &Theta<f32>,
    note: f32,
    velocity: f32,
    held: usize,
    sample_rate: f32,
    len: usize,
) -> Vec<f32> {
    let event = NoteEvent {
        onset: 0,
        release: held,
        f0_hz: note_to_hz(note),
        velocity,
    };
    render_performance(theta, &[event], sample_rate, len)
}

/// Renders `events` with θ through the synth the plugin plays, `len` samples. Allocates.
pub fn render_performance(
    theta: &Theta<f32>,
    events: &[NoteEvent],
    sample_rate: f32,
    len: usize,
) -> Vec<f32> {
    let mut synth = Synth::<f32>::new(sample_rate, theta);
    synth.set_theta(theta);
    // (sample, is note-on, event index): note-offs first at equal times, so a note that ends
    // where the next starts does not cut it.
    let mut marks: Vec<(usize, bool, usize)> = events
        .iter()
        .enumerate()
        .flat_map(|(i, e)| [(e.onset, true, i), (e.release.max(e.onset), false, i)])
        .collect();
    marks.sort_by_key(|&(at, on, i)| (at, on, i));
    let mut out = vec![0.0f32; len];
    let mut pos = 0;
    for (at, on, i) in marks {
        let at = at.min(len);
        synth.render(&mut out[pos..at]);
        pos = at;
        // Each event gets its own key, so overlapping notes release independently.
        let key = (i % 128) as u8;
        if on {
            synth.note_on_hz(key, events[i].f0_hz, events[i].velocity);
        } else {
            synth.note_off(key);
        }
    }
    synth.render(&mut out[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{SR, patch, play};

    #[test]
    fn window_renders_match_the_synth() {
        // Skipping ahead then rendering gives what the synth plays, once the filter warm-up
        // has passed.
        let theta = patch();
        let audio = play(&theta, &[(57, 0.1, 0.5)], 1.0);
        let onset = (0.1 * SR) as usize;
        let note = NoteSpec {
            f0_hz: note_to_hz(57.0),
            velocity: 0.8,
            release_at: (0.5 * SR) as usize,
        };
        for &start in &[0usize, 3_000, 20_000, 23_000] {
            let warm = start.min(1_024);
            let mut out = vec![0.0f32; warm + 2_048];
            render_window(&theta, &note, start - warm, SR, &mut out);
            let want = &audio[onset + start..onset + start + 2_048];
            let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
            let err: Vec<f32> = out[warm..].iter().zip(want).map(|(a, b)| a - b).collect();
            // The skipped part advances phase in one go: the waveforms may drift by a fraction
            // of a sample, the envelopes not at all; compare levels, and shapes loosely.
            let (ra, rb) = (rms(&out[warm..]), rms(want));
            assert!(
                (ra / rb - 1.0).abs() < 0.02,
                "start {start}: rms {ra} vs {rb}"
            );
            if start == 0 {
                assert!(rms(&err) < 1e-4 * rb.max(1e-3), "start 0 must be exact");
            }
        }
    }
}
