//! Target analysis for the learner (docs/ARCHITECTURE.md §5: "f0 and loudness of the target are
//! measured, not learned"): per-frame level and f0, and the note segmentation (onset, release, end)
//! of monophonic audio — a sidechain playing one note at a time.
//!
//! [`analyze`] runs off the audio thread and allocates (a working copy of the signal, a
//! decimated copy, the frame list). Pipeline:
//!
//! 1. **Finiteness**: NaN/±Inf samples are counted and replaced by 0 (docs/ARCHITECTURE.md §5:
//!    non-finite input is gated and counted, never learned from).
//! 2. **Scale and DC**: the working copy is divided by its peak (YIN and the segmentation are
//!    scale-invariant, so this only keeps every sum well inside `f32` range; levels are scaled
//!    back) and passed through a causal one-pole DC blocker at 5 Hz,
//!    so a DC offset neither counts as loudness nor moves the release estimate.
//! 3. **Level**: RMS over `rms_window` samples centred on each frame (prefix sums, O(1) a frame).
//! 4. **f0**: YIN (de Cheveigné & Kawahara 2002, JASA 111(4)): difference function, cumulative
//!    mean normalised difference (CMND), absolute threshold, parabolic interpolation. The search
//!    runs on a copy low-passed (windowed sinc) and decimated so that `fmax` stays well below
//!    its Nyquist frequency, which cuts the O(window · max lag) cost by the decimation factor
//!    squared; the chosen dip is then re-measured at full rate (a few lags around it) and
//!    interpolated there, so the precision is that of full-rate YIN. Silent frames are skipped.
//! 5. **Segmentation**: frames above the gate form runs of sound; a run is split into notes
//!    where a new stable pitch starts (> `pitch_split_semitones` away), or where the level comes
//!    back sharply after a long dip (a re-attack over the previous note's tail). Onsets are then
//!    refined to 1 ms; a release is the knee of a two-segment line fitted to the level in dB
//!    where it falls for good.
//!
//! Cost: one 14 s, 48 kHz eval recording analyses in 80–110 ms, the 15.7 s organ file in
//! 125–145 ms (single thread, `rustc -O`, on this project's 2-core build machine while another
//! build ran; `eval_recordings_are_segmented_as_labelled` prints the time per file). A
//! full-rate YIN search over the same frames would need 16 times the arithmetic.

mod level;
mod pitch;
mod segment;

use crate::num::units::{amplitude_to_db, db_to_amplitude, hz_to_note};
use level::{Energy, dc_block};
use pitch::YinInput;
use segment::{Segmenter, close_gaps, runs};

/// Settings of [`analyze`]. [`AnalysisConfig::new`] gives the defaults; [`analyze`] clamps every
/// field into a sane range, so no setting can make it panic.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisConfig {
    /// Sample rate of the input, Hz. Must be finite and in [1000, 768000], otherwise [`analyze`]
    /// returns no frames and no notes.
    pub sample_rate: f32,
    /// Distance between frames, samples (default 240 = 5 ms at 48 kHz).
    pub hop: usize,
    /// YIN integration window, samples at full rate (default 2048 = 43 ms at 48 kHz). Each frame
    /// reads this plus the largest lag (sample_rate / fmin), centred on the frame.
    pub frame: usize,
    /// Window of the RMS level, samples, centred on the frame (default 1024 = 21 ms at 48 kHz).
    pub rms_window: usize,
    /// Lowest f0 searched, Hz (default 30).
    pub fmin: f32,
    /// Highest f0 searched, Hz (default 2000).
    pub fmax: f32,
    /// YIN absolute threshold on the CMND, 0..1 (default 0.15): the first dip below it is the
    /// period; a frame with no dip below it is unpitched.
    pub yin_threshold: f32,
    /// Gate relative to the loudest frame, dB (default −40): quieter frames are silence.
    pub gate_db: f32,
    /// Absolute gate floor, dBFS of frame RMS (default −70): quieter frames are silence even in
    /// a quiet file.
    pub gate_floor_dbfs: f32,
    /// A new stable pitch this far from the current note's starts a new note, semitones
    /// (default 0.7). A change of one or two octaves (± this) does not: it is far more often an
    /// octave error of YIN, or an instrument speaking at the octave, than a legato octave leap.
    pub pitch_split_semitones: f32,
    /// A pitch must hold this long (consecutive pitched frames changing by less than half of
    /// `pitch_split_semitones` frame to frame) to count as stable, seconds (default 0.05).
    pub min_pitch_run_s: f32,
    /// Re-attack: the level must have stayed this far below the note's peak, dB (default 15) …
    pub reattack_depth_db: f32,
    /// … for at least this long, seconds (default 0.04) …
    pub reattack_min_dip_s: f32,
    /// … and then rise by this much within 30 ms, dB (default 12), to start a new note without
    /// silence or pitch change in between. Short dips (beating, tremolo) do not split notes.
    pub reattack_rise_db: f32,
    /// A note is released once its level has fallen for good this far below its held level, dB
    /// (default 6); the release is the knee where that fall starts.
    pub release_drop_db: f32,
    /// Onset threshold: a note starts where (in 1 ms blocks) it first reaches this level relative
    /// to its peak, dB (default −40), or 3 dB over the loudest millisecond of the 10 ms that
    /// sounded just before (silence, or the previous note's tail), whichever is higher.
    pub onset_db: f32,
    /// Notes shorter than this are not split off or kept, seconds (default 0.06).
    pub min_note_s: f32,
    /// Gaps of silence shorter than this do not end a note, seconds (default 0.02).
    pub min_gap_s: f32,
}

impl AnalysisConfig {
    /// Defaults for the given sample rate, Hz.
    pub fn new(sample_rate: f32) -> Self {
        // Frame sizes are defined at 48 kHz and scaled so they keep the same duration.
        let scale = |n: f32| -> usize {
            let v = (n * sample_rate / 48_000.0).round();
            if v.is_finite() && v >= 1.0 {
                v as usize
            } else {
                1
            }
        };
        Self {
            sample_rate,
            hop: scale(240.0),
            frame: scale(2048.0),
            rms_window: scale(1024.0),
            fmin: 30.0,
            fmax: 2000.0,
            yin_threshold: 0.15,
            gate_db: -40.0,
            gate_floor_dbfs: -70.0,
            pitch_split_semitones: 0.7,
            min_pitch_run_s: 0.05,
            reattack_depth_db: 15.0,
            reattack_min_dip_s: 0.04,
            reattack_rise_db: 12.0,
            release_drop_db: 6.0,
            onset_db: -40.0,
            min_note_s: 0.06,
            min_gap_s: 0.02,
        }
    }
}

/// One analysis frame, centred on sample `index · hop`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Centre of the frame, seconds from the first sample.
    pub time_s: f32,
    /// RMS level over `rms_window` samples (DC removed), linear, in the input's units (1 = full
    /// scale).
    pub rms: f32,
    /// Fundamental frequency, Hz; `None` when the frame is silent (below the gate) or unpitched.
    pub f0_hz: Option<f32>,
    /// Periodicity, 1 − CMND at the chosen YIN dip, 0..1 (0 for silent frames).
    pub periodicity: f32,
}

/// One note found in the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Note {
    /// Start of the note, sample index: where it first reaches `onset_db` below its peak (or
    /// rises 3 dB over the tail it starts in), to 1 ms.
    pub onset: usize,
    /// Key release, sample index: where the level starts to fall for good; equals `end` when the
    /// note holds until silence or the next note.
    pub release: usize,
    /// End, sample index (exclusive): where the note has decayed below the gate or the next note
    /// starts.
    pub end: usize,
    /// Fundamental, Hz: median f0 of the pitched frames of the held part; 0 when not `pitched`.
    pub f0_hz: f32,
    /// Fractional MIDI note number of `f0_hz` (69 = 440 Hz); 0 when not `pitched`.
    pub midi: f32,
    /// Peak frame RMS of the note, linear, in the input's units.
    pub peak_rms: f32,
    /// Velocity 0..1 from the peak level: v = 10^((L + 3.01) / 40) clamped to [0, 1], with L the
    /// peak frame RMS in dBFS. This inverts the DLS/GM velocity curve (attenuation
    /// 40·log10(127 / velocity) dB): a full-scale sine maps to 1, a sine 40 dB below it to 0.1.
    pub velocity: f32,
    /// Whether at least half of the held part's frames are pitched (else noise-like: a timbre
    /// without f0).
    pub pitched: bool,
}

/// Result of [`analyze`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Analysis {
    /// One frame every `hop` samples, from sample 0.
    pub frames: Vec<Frame>,
    /// Notes in time order; they do not overlap (`end` ≤ next `onset`).
    pub notes: Vec<Note>,
    /// Number of input samples that were NaN or ±Inf; they were analysed as 0 (silence).
    pub skipped_non_finite: usize,
    /// Largest |sample| among the finite input samples, linear.
    pub peak: f32,
    /// Gate that was applied to the frame RMS, linear: frames below it are silence.
    pub gate_rms: f32,
    /// The hop that was used, samples (the configured one after clamping).
    pub hop: usize,
}

/// Clamped settings in samples and frames, derived once from an [`AnalysisConfig`].
struct Params {
    sr: f32,
    hop: usize,
    /// YIN integration window at full rate.
    w: usize,
    /// Largest YIN lag at full rate.
    max_lag: usize,
    /// Decimation factor of the YIN search copy.
    dec: usize,
    rms_window: usize,
    fmin: f32,
    fmax: f32,
    yin_threshold: f32,
    gate_db: f32,
    gate_floor_dbfs: f32,
    split_st: f32,
    min_run_frames: usize,
    reattack_depth_db: f32,
    reattack_min_dip_frames: usize,
    reattack_rise_db: f32,
    /// Frames over which a re-attack rise is measured (30 ms).
    reattack_rise_frames: usize,
    release_drop_db: f32,
    /// How far before the −`release_drop_db` crossing the release knee is searched (500 ms).
    release_lookback_frames: usize,
    /// How far back from a note's first frame the foot of its rise is searched (100 ms).
    foot_frames: usize,
    onset_db: f32,
    min_note_frames: usize,
    min_gap_frames: usize,
}

/// `v` if finite, else `default`.
fn finite_or(v: f32, default: f32) -> f32 {
    if v.is_finite() { v } else { default }
}

impl Params {
    /// `None` when the sample rate is unusable.
    fn new(c: &AnalysisConfig) -> Option<Self> {
        let sr = c.sample_rate;
        if !sr.is_finite() || !(1000.0..=768_000.0).contains(&sr) {
            return None;
        }
        let secs =
            |s: f32, lo: f32, hi: f32, default: f32| -> f32 { finite_or(s, default).clamp(lo, hi) };
        let hop = c.hop.clamp(1, (sr * 0.1) as usize);
        let frames = |s: f32| ((s * sr / hop as f32).round() as usize).max(1);
        // fmin ≥ sr/16384 bounds the largest lag (memory and time); fmax ≤ sr/5 keeps at least
        // five samples per period at full rate.
        let fmin = secs(c.fmin, (sr / 16_384.0).max(10.0), sr / 10.0, 30.0);
        let fmax = secs(c.fmax, fmin * 1.5, sr / 5.0, 2000.0).max(fmin * 1.5);
        let max_lag = (sr / fmin).ceil() as usize + 1;
        // Decimate so the search copy has at least 5 samples per period of fmax: its Nyquist
        // frequency is then 2.5·fmax and the low-pass (cutoff 0.75 of Nyquist) keeps every
        // harmonic up to 1.9·fmax, enough for YIN's dip at the period.
        let dec = ((sr / (5.0 * fmax)).floor() as usize).clamp(1, 64);
        let w = c.frame.clamp(8 * dec, 1 << 16);
        Some(Self {
            sr,
            hop,
            w,
            max_lag,
            dec,
            rms_window: c.rms_window.clamp(1, 1 << 18),
            fmin,
            fmax,
            yin_threshold: secs(c.yin_threshold, 0.01, 1.0, 0.15),
            gate_db: secs(c.gate_db, -140.0, 0.0, -40.0),
            gate_floor_dbfs: secs(c.gate_floor_dbfs, -200.0, 0.0, -70.0),
            split_st: secs(c.pitch_split_semitones, 0.05, 48.0, 0.7),
            min_run_frames: frames(secs(c.min_pitch_run_s, 0.0, 10.0, 0.05)),
            reattack_depth_db: secs(c.reattack_depth_db, 0.0, 200.0, 15.0),
            reattack_min_dip_frames: frames(secs(c.reattack_min_dip_s, 0.0, 10.0, 0.04)),
            reattack_rise_db: secs(c.reattack_rise_db, 0.1, 200.0, 12.0),
            reattack_rise_frames: frames(0.03),
            release_drop_db: secs(c.release_drop_db, 0.1, 100.0, 6.0),
            release_lookback_frames: frames(0.5),
            foot_frames: frames(0.1),
            onset_db: secs(c.onset_db, -120.0, 0.0, -40.0),
            min_note_frames: frames(secs(c.min_note_s, 0.0, 10.0, 0.06)),
            min_gap_frames: frames(secs(c.min_gap_s, 0.0, 10.0, 0.02)),
        })
    }
}

/// The fundamental of a short stretch of one note, Hz: the median f0 of its pitched frames (0
/// when none is pitched). The live learner measures a note's context with it before the note
/// has ended. Allocates (it runs [`analyze`]).
pub fn pitch_of(samples: &[f32], sample_rate: f32) -> f32 {
    let analysis = analyze(samples, &AnalysisConfig::new(sample_rate));
    let mut f0: Vec<f32> = analysis.frames.iter().filter_map(|f| f.f0_hz).collect();
    median(&mut f0).unwrap_or(0.0)
}

/// Median of the values (reorders them); `None` when empty.
fn median(v: &mut [f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f32::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    })
}

/// Analyses monophonic audio: frames (level, f0, periodicity) and notes.
///
/// Never panics: empty or very short input, silence, DC, noise and non-finite samples are all
/// handled (see the module tests). Allocates; call it off the audio thread.
///
/// Loud noise without pitch becomes notes with `pitched == false` (noise is a timbre too); white
/// noise held for one second is one such note.
pub fn analyze(samples: &[f32], cfg: &AnalysisConfig) -> Analysis {
    let mut x: Vec<f32> = Vec::with_capacity(samples.len());
    let mut skipped = 0;
    let mut peak = 0.0f32;
    for &s in samples {
        if s.is_finite() {
            peak = peak.max(s.abs());
            x.push(s);
        } else {
            skipped += 1;
            x.push(0.0);
        }
    }
    let mut out = Analysis {
        skipped_non_finite: skipped,
        peak,
        ..Analysis::default()
    };
    let Some(p) = Params::new(cfg) else {
        return out;
    };
    out.hop = p.hop;
    if x.is_empty() {
        return out;
    }
    // Work at unit peak: every sum stays well inside f32 range, and YIN is scale-invariant.
    // `unscale` brings levels back to the input's units.
    let unscale = if peak > 0.0 { peak } else { 1.0 };
    let inv = 1.0 / unscale;
    if inv.is_finite() {
        x.iter_mut().for_each(|v| *v *= inv);
    }
    dc_block(&mut x, p.sr);
    let energy = Energy::new(&x);
    let n = x.len();
    let n_frames = n.div_ceil(p.hop);

    // Level per frame and the gate.
    let half_rms = p.rms_window / 2;
    let rms: Vec<f32> = (0..n_frames)
        .map(|i| {
            let c = i * p.hop;
            // Capped so a full-scale square at f32::MAX (gained by the DC blocker) stays finite.
            (energy.rms(c.saturating_sub(half_rms), c + p.rms_window - half_rms) * unscale)
                .min(f32::MAX)
        })
        .collect();
    let loudest = rms.iter().copied().fold(0.0f32, f32::max);
    let gate = (loudest * db_to_amplitude(p.gate_db)).max(db_to_amplitude(p.gate_floor_dbfs));
    out.gate_rms = gate;
    let mut active: Vec<bool> = rms.iter().map(|&r| r >= gate && r > 0.0).collect();
    close_gaps(&mut active, p.min_gap_frames);

    // f0 on the frames that sound.
    let yin = YinInput::new(&x, &p);
    let mut scratch = Vec::new();
    out.frames = (0..n_frames)
        .map(|i| {
            let (f0_hz, periodicity) = if active[i] {
                yin.pitch(i * p.hop, &p, &mut scratch)
            } else {
                (None, 0.0)
            };
            Frame {
                time_s: (i * p.hop) as f32 / p.sr,
                rms: rms[i],
                f0_hz,
                periodicity,
            }
        })
        .collect();

    let level_db: Vec<f32> = rms.iter().map(|&r| amplitude_to_db(r)).collect();
    let midi: Vec<Option<f32>> = out.frames.iter().map(|f| f.f0_hz.map(hz_to_note)).collect();
    let seg = Segmenter {
        p: &p,
        energy: &energy,
        unscale,
        level_db: &level_db,
        midi: &midi,
        n,
    };
    let mut prev_end = 0usize;
    for (a, b) in runs(&active) {
        if b - a < p.min_note_frames {
            continue;
        }
        let notes = seg.run_notes(a, b, prev_end);
        if let Some(last) = notes.last() {
            prev_end = last.end;
        }
        out.notes.extend(notes);
    }
    out
}

#[cfg(test)]
mod tests;
