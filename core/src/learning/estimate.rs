//! First guesses of a patch, measured from the analysis of a recording (docs/ARCHITECTURE.md
//! §5.1): the amplitude envelope from each note's level curve.
//!
//! The objective scores short windows at each note's onset, middle and key-up, so a long
//! release is seen only through its first tens of milliseconds, and envelope times move
//! slowly under gradient descent (a log-spaced knob acting through a recursion). The level
//! curve shows them directly; the search starts from them and refines.

use crate::num::units::amplitude_to_db;
use crate::plant::{P, SPECS, Theta};
use crate::signal::analysis::{Analysis, Note};

/// An amplitude envelope measured from recorded notes (the plant's ADSR conventions: linear
/// attack to the peak, decay and release times to −60 dB of the distance left).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnvelopeEstimate {
    /// Time from the onset to the peak, seconds.
    pub attack_s: f32,
    /// Time for the level to fall from the peak to the sustain level, seconds (to −60 dB of
    /// the distance).
    pub decay_s: f32,
    /// Held level relative to the peak, 0–1 (amplitude).
    pub sustain: f32,
    /// Time to fall 60 dB after the key-up, seconds.
    pub release_s: f32,
}

/// Level, relative to the note's loudest frame, at which the attack counts as done (−3 dB).
const ATTACK_END: f32 = 0.708;
/// Least fall after the key-up, dB, that a release time is measured from.
const RELEASE_MIN_DROP_DB: f32 = 10.0;
/// How far below the level at the key-up the release is followed, dB.
const RELEASE_SPAN_DB: f32 = 40.0;
/// Share of the distance from the peak to the sustain level left at the measured decay point:
/// −20 dB, a third of the way to the −60 dB that defines the decay time.
const DECAY_MARK: f32 = 0.1;
/// Default decay time, seconds, used when the note holds at its peak (no decay to measure).
const HELD_DECAY_S: f32 = 0.6;

impl EnvelopeEstimate {
    /// The envelope of the notes of recordings at `sr` Hz: the median of each measure over the
    /// notes that show it; `None` when no note is long enough to measure. Allocates.
    pub fn measure(analyses: &[&Analysis], sr: f32) -> Option<Self> {
        let mut attack = Vec::new();
        let mut decay = Vec::new();
        let mut sustain = Vec::new();
        let mut release = Vec::new();
        for (analysis, n) in analyses
            .iter()
            .flat_map(|a| a.notes.iter().map(move |n| (*a, n)))
        {
            let Some(m) = NoteLevels::of(analysis, n) else {
                continue;
            };
            attack.push(m.attack_s(sr));
            if let Some((s, d)) = m.sustain_and_decay(sr) {
                sustain.push(s);
                decay.push(d);
            }
            if let Some(r) = m.release_s(sr) {
                release.push(r);
            }
        }
        let spec = |p: P| &SPECS[p as usize];
        Some(Self {
            attack_s: spec(P::AmpAttack).sanitize(median(&mut attack)?),
            decay_s: spec(P::AmpDecay).sanitize(median(&mut decay).unwrap_or(HELD_DECAY_S)),
            sustain: spec(P::AmpSustain).sanitize(median(&mut sustain).unwrap_or(1.0)),
            release_s: spec(P::AmpRelease)
                .sanitize(median(&mut release).unwrap_or(SPECS[P::AmpRelease as usize].default)),
        })
    }

    /// `theta` with this amplitude envelope.
    pub fn apply(&self, theta: &Theta<f32>) -> Theta<f32> {
        let mut t = *theta;
        t[P::AmpAttack as usize] = self.attack_s;
        t[P::AmpDecay as usize] = self.decay_s;
        t[P::AmpSustain as usize] = self.sustain;
        t[P::AmpRelease as usize] = self.release_s;
        t
    }
}

/// One note's frame levels (RMS, linear) and where its parts fall among them.
struct NoteLevels<'a> {
    /// Frame RMS from the onset frame to the end frame.
    rms: Vec<f32>,
    /// Frame index where the attack ends (the "peak" of the ADSR), relative to the onset frame.
    peak: usize,
    /// Frame index of the key-up, relative to the onset frame.
    release: usize,
    /// The analysis the frames come from.
    analysis: &'a Analysis,
}

impl<'a> NoteLevels<'a> {
    fn of(analysis: &'a Analysis, n: &Note) -> Option<Self> {
        let hop = analysis.hop.max(1);
        let first = n.onset / hop;
        let last = (n.end / hop).min(analysis.frames.len());
        if last <= first + 2 {
            return None;
        }
        let rms: Vec<f32> = analysis.frames[first..last].iter().map(|f| f.rms).collect();
        let release = (n.release / hop).saturating_sub(first).min(rms.len() - 1);
        let held = &rms[..=release];
        let top = held.iter().copied().fold(0.0f32, f32::max);
        // The attack ends where the level first comes within 3 dB of the note's loudest: a
        // bowed or blown note's loudest frame can come late, on a swell or a tremolo's crest.
        let peak = held.iter().position(|&v| v >= ATTACK_END * top)?;
        (top > 0.0).then_some(Self {
            rms,
            peak,
            release,
            analysis,
        })
    }

    /// Seconds per frame at sample rate `sr`.
    fn frame_s(&self, sr: f32) -> f32 {
        self.analysis.hop as f32 / sr
    }

    fn attack_s(&self, sr: f32) -> f32 {
        self.peak as f32 * self.frame_s(sr)
    }

    /// The held level relative to the peak (median of the last third of the held part) and the
    /// decay time to it; `None` when the note holds for less than three frames after its peak.
    fn sustain_and_decay(&self, sr: f32) -> Option<(f32, f32)> {
        let held = &self.rms[self.peak..=self.release];
        if held.len() < 3 {
            return None;
        }
        let peak = self.rms[self.peak];
        let mut tail: Vec<f32> = held[held.len() * 2 / 3..].to_vec();
        let s = (median(&mut tail)? / peak).clamp(0.0, 1.0);
        if s > 0.9 {
            return Some((s, HELD_DECAY_S));
        }
        let mark = s * peak + DECAY_MARK * (1.0 - s) * peak;
        let k = held.iter().position(|&v| v <= mark)?;
        // At the mark a third of the −60 dB decay has passed.
        Some((s, 3.0 * k as f32 * self.frame_s(sr)))
    }

    /// The release time from the fall after the key-up, extrapolated to −60 dB.
    fn release_s(&self, sr: f32) -> Option<f32> {
        let at = self.rms[self.release];
        if at <= 0.0 {
            return None;
        }
        let after = &self.rms[self.release..];
        let floor = (at * 10f32.powf(-RELEASE_SPAN_DB / 20.0)).max(self.analysis.gate_rms);
        let k = after
            .iter()
            .position(|&v| v <= floor)
            .unwrap_or(after.len() - 1);
        let drop = amplitude_to_db(at) - amplitude_to_db(after[k].max(1e-9));
        (k > 0 && drop >= RELEASE_MIN_DROP_DB).then(|| k as f32 * self.frame_s(sr) * 60.0 / drop)
    }
}

/// The median of the finite values of `v` (reordered); `None` when there are none.
fn median(v: &mut Vec<f32>) -> Option<f32> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[v.len() / 2])
}
