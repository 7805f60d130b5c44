//! Target analysis for the learner (DESIGN.md §4: "f0 and loudness of the target are measured,
//! not learned"): per-frame level and f0, and the note segmentation (onset, release, end) of
//! monophonic audio — a sidechain playing one note at a time.
//!
//! [`analyze`] runs off the audio thread and allocates (a working copy of the signal, a
//! decimated copy, the frame list). Pipeline:
//!
//! 1. **Finiteness**: NaN/±Inf samples are counted and replaced by 0 (DESIGN.md §4: non-finite
//!    input is gated and counted, never learned from).
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

/// Level in dB of a linear amplitude, floored at −200 dB so silence stays finite.
fn to_db(v: f32) -> f32 {
    20.0 * v.max(1e-10).log10()
}

/// Linear amplitude of a level in dB.
fn from_db(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Fractional MIDI note number of a frequency in Hz (69 = A4 = 440 Hz).
pub fn hz_to_midi(hz: f32) -> f32 {
    69.0 + 12.0 * (hz / 440.0).log2()
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

/// Σ (a_j − b_j)² with eight partial sums, so the compiler can vectorise it (a single running
/// sum is a serial dependency chain it may not reorder).
fn sq_diff_sum(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    for (pa, pb) in ca.zip(cb) {
        for k in 0..8 {
            let d = pa[k] - pb[k];
            acc[k] += d * d;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Offset in (−0.5, 0.5) of the vertex of the parabola through (−1, a), (0, b), (1, c): the
/// sub-sample position of a minimum at 0 (YIN step 5).
fn parabolic_offset(a: f32, b: f32, c: f32) -> f32 {
    let den = a - 2.0 * b + c;
    if den > 0.0 && den.is_finite() {
        (0.5 * (a - c) / den).clamp(-0.5, 0.5)
    } else {
        0.0
    }
}

/// One-pole DC blocker y[n] = x[n] − x[n−1] + R·y[n−1] at 5 Hz. Causal on purpose: a
/// zero-phase (forward-backward) pass would smear a note's DC step backwards by its 32 ms time
/// constant and move the onset earlier; the causal one only delays phase below ~30 Hz by under
/// a millisecond. The state starts as if the signal had been constant at its first value
/// forever, so a pure DC input gives exactly zero instead of a start-up transient.
fn dc_block(x: &mut [f32], sr: f32) {
    let r = 1.0 - 2.0 * std::f32::consts::PI * 5.0 / sr;
    let mut prev_x = x.first().copied().unwrap_or(0.0);
    let mut y = 0.0f32;
    for v in x.iter_mut() {
        y = *v - prev_x + r * y;
        prev_x = *v;
        *v = y;
    }
}

/// Symmetric windowed-sinc (Blackman) low-pass with cutoff `fc` in cycles per sample and
/// `2·half + 1` taps, normalised to unit DC gain.
fn lowpass_taps(fc: f32, half: usize) -> Vec<f32> {
    let n = 2 * half + 1;
    let mut h: Vec<f32> = (0..n)
        .map(|k| {
            let t = k as f32 - half as f32;
            let sinc = if t == 0.0 {
                2.0 * fc
            } else {
                (2.0 * std::f32::consts::PI * fc * t).sin() / (std::f32::consts::PI * t)
            };
            let ph = 2.0 * std::f32::consts::PI * k as f32 / (n - 1) as f32;
            sinc * (0.42 - 0.5 * ph.cos() + 0.08 * (2.0 * ph).cos())
        })
        .collect();
    let sum: f32 = h.iter().sum();
    if sum.abs() > 1e-12 {
        h.iter_mut().for_each(|v| *v /= sum);
    }
    h
}

/// The signal prepared for YIN: zero-padded full-rate copy and its decimated copy.
struct YinInput {
    /// Full-rate signal with `pad` zeros on both sides.
    full: Vec<f32>,
    /// Low-passed `full`, every `dec`-th sample: `dec_sig[k]` sits at `full[k · dec]`.
    dec_sig: Vec<f32>,
    pad: usize,
}

impl YinInput {
    fn new(x: &[f32], p: &Params) -> Self {
        let half_taps = 12 * p.dec;
        let pad = (p.w + p.max_lag) / 2 + 4 * p.dec + 16;
        let mut full = vec![0.0f32; x.len() + 2 * pad];
        full[pad..pad + x.len()].copy_from_slice(x);
        let dec_sig = if p.dec == 1 {
            full.clone()
        } else {
            // Cutoff at 0.75 of the decimated Nyquist frequency; 24·dec + 1 Blackman taps put
            // the stop band (−74 dB) at that Nyquist frequency, so little aliases into the band.
            let h = lowpass_taps(0.375 / p.dec as f32, half_taps);
            (0..full.len() / p.dec)
                .map(|k| {
                    let c = k * p.dec;
                    let lo = c.saturating_sub(half_taps);
                    let hi = (c + half_taps + 1).min(full.len());
                    full[lo..hi]
                        .iter()
                        .zip(&h[lo + half_taps - c..])
                        .map(|(a, b)| a * b)
                        .sum()
                })
                .collect()
        };
        Self { full, dec_sig, pad }
    }

    /// YIN at the frame centred on sample `centre`: `(f0 in Hz if pitched, periodicity)`.
    /// `cmnd` is scratch space.
    ///
    /// The integration window is centred on the frame for every lag (it compares
    /// x[c − W/2 − τ/2 + j] with x[c − W/2 + τ/2 + j]): with the paper's fixed window start a
    /// frame would describe audio up to max_lag/2 earlier for short periods than for long ones,
    /// which would delay pitch changes by up to 17 ms at fmin = 30 Hz.
    fn pitch(&self, centre: usize, p: &Params, cmnd: &mut Vec<f32>) -> (Option<f32>, f32) {
        let dec = p.dec;
        let srd = p.sr / dec as f32;
        let wd = p.w / dec;
        let lag_hi = p.max_lag / dec + 2;
        let lag_lo = ((srd / p.fmax).floor() as usize).max(2);
        // First sample of the span the longest lag reads, in the decimated copy.
        let cd = (centre + self.pad + dec / 2) / dec;
        let Some(base) = cd.checked_sub(wd / 2 + lag_hi / 2) else {
            return (None, 0.0);
        };
        let Some(seg) = self.dec_sig.get(base..base + wd + lag_hi + 1) else {
            return (None, 0.0);
        };
        // Steps 2–3: difference function d(τ) = Σ_j (x_j − x_{j+τ})² and its cumulative mean
        // normalised form d'(τ) = d(τ) · τ / Σ_{k≤τ} d(k), d'(0) = 1.
        cmnd.clear();
        cmnd.push(1.0);
        let mut running = 0.0f32;
        for tau in 1..=lag_hi {
            let o = lag_hi / 2 - tau / 2;
            let d = sq_diff_sum(&seg[o..o + wd], &seg[o + tau..o + tau + wd]);
            running += d;
            cmnd.push(if running > 0.0 {
                d * tau as f32 / running
            } else {
                1.0
            });
        }
        // Step 4: absolute threshold — the first dip below it, followed to its local minimum;
        // failing that, the global minimum (and the frame is unpitched).
        let last = lag_hi - 1;
        if lag_lo >= last {
            return (None, 0.0);
        }
        let mut best: Option<usize> = None;
        let mut tau = lag_lo;
        while tau <= last {
            if cmnd[tau] < p.yin_threshold {
                while tau < last && cmnd[tau + 1] < cmnd[tau] {
                    tau += 1;
                }
                best = Some(tau);
                break;
            }
            tau += 1;
        }
        let Some(tau) = best else {
            let min = cmnd[lag_lo..=last].iter().copied().fold(1.0f32, f32::min);
            return (None, (1.0 - min).clamp(0.0, 1.0));
        };
        let periodicity = (1.0 - cmnd[tau]).clamp(0.0, 1.0);
        let coarse = tau as f32 + parabolic_offset(cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]);
        let Some(mut period) = self.refine(centre, coarse * dec as f32, p) else {
            return (None, periodicity);
        };
        // Missing fundamental: when the partial at 1/period is absent (> 20 dB under the one at
        // twice that) and the signal is nearly periodic at half the period, the played note is
        // the octave above. Organ mixtures do this: a quint rank that "breaks back" to 1.5·f0
        // makes the waveform repeat an octave below the key (FluidR3 church organ, C5).
        let half = tau as f32 / 2.0;
        let near_half =
            (half.floor() as usize).saturating_sub(1).max(lag_lo)..=(half.ceil() as usize + 1);
        let f0 = p.sr / period;
        if 2.0 * f0 <= p.fmax * 1.03
            && cmnd
                .get(near_half)
                .is_some_and(|c| c.iter().any(|&v| v < OCTAVE_CMND))
            && self.partial(centre, f0, p) < from_db(-20.0) * self.partial(centre, 2.0 * f0, p)
            && let Some(up) = self.refine(centre, period / 2.0, p)
        {
            period = up;
        }
        let f0 = p.sr / period;
        if f0 >= p.fmin * 0.97 && f0 <= p.fmax * 1.03 {
            (Some(f0), periodicity)
        } else {
            (None, periodicity)
        }
    }

    /// YIN step 5 at full rate: re-measures d(τ) on the unfiltered signal for the lags within
    /// `dec + 1` of `lag`, takes the minimum and interpolates a parabola through it. The
    /// period in samples, `None` if the frame's span is out of range.
    fn refine(&self, centre: usize, lag: f32, p: &Params) -> Option<f32> {
        let dec = p.dec;
        let centre_lag = lag.round().max(1.0) as usize;
        let lo = centre_lag.saturating_sub(dec + 1).max(1);
        let hi = (centre_lag + dec + 1).min(p.max_lag + 2 * dec);
        let start = (centre + self.pad).checked_sub(p.w / 2 + hi.div_ceil(2) + 1)?;
        let seg = self.full.get(start..start + p.w + 2 * hi + 4)?;
        let mid = p.w / 2 + hi.div_ceil(2) + 1;
        let d = |t: usize| {
            let o = mid - p.w / 2 - t / 2;
            sq_diff_sum(&seg[o..o + p.w], &seg[o + t..o + t + p.w])
        };
        let mut best_t = lo;
        let mut best_d = f32::INFINITY;
        for t in lo..=hi {
            let v = d(t);
            if v < best_d {
                best_d = v;
                best_t = t;
            }
        }
        let period = if best_t > lo && best_t < hi {
            best_t as f32 + parabolic_offset(d(best_t - 1), best_d, d(best_t + 1))
        } else {
            best_t as f32
        };
        (period > 0.0).then_some(period)
    }

    /// Amplitude of the partial at `f` Hz over the frame's YIN span (Hann window, Goertzel).
    fn partial(&self, centre: usize, f: f32, p: &Params) -> f32 {
        let span = p.w + p.max_lag;
        let start = (centre + self.pad).saturating_sub(span / 2);
        let Some(seg) = self.full.get(start..start + span) else {
            return 0.0;
        };
        let w = 2.0 * std::f32::consts::PI * f / p.sr;
        let coef = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        let step = 2.0 * std::f32::consts::PI / span as f32;
        for (i, &v) in seg.iter().enumerate() {
            let hann = 0.5 - 0.5 * (step * i as f32).cos();
            let s0 = hann * v + coef * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        (s1 * s1 + s2 * s2 - coef * s1 * s2).max(0.0).sqrt()
    }
}

/// CMND at half the period below which a missing fundamental is taken as the octave above.
const OCTAVE_CMND: f32 = 0.3;

/// Prefix sums of x² (f64, so long files keep their precision): RMS of any span in O(1).
struct Energy {
    cum: Vec<f64>,
}

impl Energy {
    fn new(x: &[f32]) -> Self {
        let mut cum = Vec::with_capacity(x.len() + 1);
        let mut s = 0.0f64;
        cum.push(0.0);
        for &v in x {
            s += f64::from(v) * f64::from(v);
            cum.push(s);
        }
        Self { cum }
    }

    fn len(&self) -> usize {
        self.cum.len() - 1
    }

    /// RMS over samples [a, b) clipped to the signal; 0 for an empty span.
    fn rms(&self, a: usize, b: usize) -> f32 {
        let b = b.min(self.len());
        if a >= b {
            return 0.0;
        }
        ((self.cum[b] - self.cum[a]).max(0.0) / (b - a) as f64).sqrt() as f32
    }
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
    let gate = (loudest * from_db(p.gate_db)).max(from_db(p.gate_floor_dbfs));
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

    let level_db: Vec<f32> = rms.iter().map(|&r| to_db(r)).collect();
    let midi: Vec<Option<f32>> = out.frames.iter().map(|f| f.f0_hz.map(hz_to_midi)).collect();
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

/// Fills runs of `false` shorter than `min_gap` that lie between two `true`s.
fn close_gaps(active: &mut [bool], min_gap: usize) {
    let mut last_true: Option<usize> = None;
    for i in 0..active.len() {
        if active[i] {
            if let Some(j) = last_true
                && i - j > 1
                && i - j - 1 < min_gap
            {
                active[j + 1..i].iter_mut().for_each(|v| *v = true);
            }
            last_true = Some(i);
        }
    }
}

/// Maximal runs of `true` as [start, end) frame ranges.
fn runs(active: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, &a) in active.iter().enumerate() {
        match (a, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, active.len()));
    }
    out
}

/// Splits runs of sound into notes and measures them.
struct Segmenter<'a> {
    p: &'a Params,
    energy: &'a Energy,
    /// Factor from the working copy's units back to the input's.
    unscale: f32,
    /// Frame level, dBFS.
    level_db: &'a [f32],
    /// Frame pitch, fractional MIDI, `None` when unpitched or silent.
    midi: &'a [Option<f32>],
    /// Length of the signal, samples.
    n: usize,
}

impl Segmenter<'_> {
    /// Notes of the run of sounding frames [a, b); `prev_end` is where the previous note ended.
    fn run_notes(&self, a: usize, b: usize, prev_end: usize) -> Vec<Note> {
        let p = self.p;
        // Boundaries: pitch changes and re-attacks; keep the earliest of any that lie closer
        // together than a minimum note, and none that would leave a too-short note.
        let mut cands = self.pitch_boundaries(a, b);
        cands.extend(self.reattack_boundaries(a, b));
        cands.sort_unstable();
        let mut starts = vec![(a, a)];
        for (c, hint) in cands {
            let last = starts.last().map_or(a, |s| s.0);
            if c >= last + p.min_note_frames && c + p.min_note_frames <= b {
                starts.push((c, hint.max(last + 1)));
            }
        }
        // Onsets, refined to 1 ms.
        let mut onsets: Vec<usize> = Vec::with_capacity(starts.len());
        for (k, &(c, hint)) in starts.iter().enumerate() {
            let next = starts.get(k + 1).map_or(b, |s| s.0);
            let peak = self.peak_rms(c, next);
            let (lower_frame, lower_sample) = match (k, onsets.last()) {
                (0, _) | (_, None) => (a.saturating_sub(p.foot_frames), prev_end),
                (_, Some(&prev)) => (starts[k - 1].0 + 1, prev + 1),
            };
            onsets.push(self.refine_onset(c, hint, lower_frame, lower_sample, peak));
        }
        let run_end = (b * p.hop).min(self.n);
        let mut notes = Vec::with_capacity(starts.len());
        for (k, &(c, _)) in starts.iter().enumerate() {
            let next = starts.get(k + 1).map_or(b, |s| s.0);
            let onset = onsets[k];
            let end = onsets
                .get(k + 1)
                .copied()
                .unwrap_or(run_end)
                .max(onset + 1)
                .min(self.n);
            let onset = onset.min(end.saturating_sub(1));
            // Frames whose level window reaches into the next note are not this note's.
            let last_frame = if k + 1 < starts.len() {
                ((end.saturating_sub(p.rms_window / 2)) / p.hop).clamp(c + 1, next)
            } else {
                next
            };
            let release = match self.release_frame(c, last_frame) {
                Some(f) => (f * p.hop).clamp(onset, end),
                None => end,
            };
            let peak_rms = self.peak_rms(c, next);
            let (f0_hz, pitched) = self.note_pitch(onset, release, end);
            let velocity = from_db((to_db(peak_rms) + 3.01) / 2.0).clamp(0.0, 1.0);
            notes.push(Note {
                onset,
                release,
                end,
                f0_hz: if pitched { f0_hz } else { 0.0 },
                midi: if pitched { hz_to_midi(f0_hz) } else { 0.0 },
                peak_rms,
                velocity,
                pitched,
            });
        }
        notes
    }

    /// Largest frame RMS in frames [a, b), linear.
    fn peak_rms(&self, a: usize, b: usize) -> f32 {
        from_db(
            self.level_db[a..b]
                .iter()
                .copied()
                .fold(-200.0f32, f32::max),
        )
    }

    /// Boundaries where a stable pitch more than `split_st` away from the one before it
    /// starts: `(first frame of the new pitch, frame midway between the two pitches)`. The
    /// midpoint is the onset estimate when the level gives none (legato).
    ///
    /// Changes by an octave or two (±`split_st`) are not boundaries: they are YIN's typical
    /// error, and some instruments speak at the octave first (organ pipes). An octave leap is
    /// still split when it comes with a re-attack or a gap.
    fn pitch_boundaries(&self, a: usize, b: usize) -> Vec<(usize, usize)> {
        let p = self.p;
        let mut out = Vec::new();
        // (pitch, last frame) of the previous stable run.
        let mut current: Option<(f32, usize)> = None;
        let mut i = a;
        let mut vals = Vec::new();
        while i < b {
            let Some(m0) = self.midi[i] else {
                i += 1;
                continue;
            };
            // A stable run: consecutive pitched frames moving by less than half the split
            // interval from one frame to the next (vibrato and glides pass, jumps break it).
            let mut j = i + 1;
            let mut prev = m0;
            while j < b {
                match self.midi[j] {
                    Some(m) if (m - prev).abs() < 0.5 * p.split_st => {
                        prev = m;
                        j += 1;
                    }
                    _ => break,
                }
            }
            if j - i >= p.min_run_frames {
                vals.clear();
                vals.extend(self.midi[i..j].iter().flatten());
                if let Some(med) = median(&mut vals) {
                    if let Some((cur, cur_end)) = current {
                        let step = (med - cur).abs();
                        let octaves = (step / 12.0).round();
                        let octave_like = (1.0..=2.0).contains(&octaves)
                            && (step - 12.0 * octaves).abs() <= p.split_st;
                        if step > p.split_st && !octave_like {
                            out.push((i, (cur_end + i).div_ceil(2)));
                        }
                    }
                    current = Some((med, j - 1));
                }
            }
            i = j;
        }
        out
    }

    /// Frames where the level rises sharply after a long dip below the note's peak, as
    /// `(frame, frame)` pairs like those of [`Self::pitch_boundaries`].
    fn reattack_boundaries(&self, a: usize, b: usize) -> Vec<(usize, usize)> {
        let p = self.p;
        let l = self.level_db;
        let mut out: Vec<(usize, usize)> = Vec::new();
        let mut peak = l[a];
        let mut low_len = 0usize;
        // Frames since the last qualifying dip ended (None: no dip), so a rise that spans the
        // dip's edge is still seen.
        let mut since_dip: Option<usize> = None;
        for t in a..b {
            let lt = l[t];
            if let Some(s) = since_dip {
                let lo = l[t.saturating_sub(p.reattack_rise_frames).max(a)..t]
                    .iter()
                    .copied()
                    .fold(f32::INFINITY, f32::min);
                if lt - lo >= p.reattack_rise_db {
                    out.push((t, t));
                    peak = lt;
                    low_len = 0;
                    since_dip = None;
                    continue;
                }
                since_dip = if s > p.reattack_rise_frames {
                    None
                } else {
                    Some(s + 1)
                };
            }
            if lt < peak - p.reattack_depth_db {
                low_len += 1;
                if low_len >= p.reattack_min_dip_frames {
                    since_dip = Some(0);
                }
            } else {
                low_len = 0;
                peak = peak.max(lt);
            }
        }
        out
    }

    /// Onset sample of the note whose first frame is `c`: walk back to the foot of the rise
    /// in the frame level, then find the first 1 ms block at or above the onset threshold; if
    /// the level does not rise (legato), the frame `hint`. The search never goes before
    /// `lower_frame` / `lower_sample` (the previous note).
    fn refine_onset(
        &self,
        c: usize,
        hint: usize,
        lower_frame: usize,
        lower_sample: usize,
        peak: f32,
    ) -> usize {
        let p = self.p;
        let l = self.level_db;
        let limit = c.saturating_sub(p.foot_frames).max(lower_frame);
        let mut f = c;
        while f > limit && l[f - 1] < l[f] {
            f -= 1;
        }
        // The level window is centred, so the rise shows half a window before the onset.
        let f = f.min(c.saturating_sub(1));
        let start = (f * p.hop)
            .saturating_sub(p.rms_window / 2)
            .max(lower_sample)
            .min(self.n);
        let blk = ((p.sr / 1000.0) as usize).max(1);
        let stop = (c * p.hop + p.rms_window + 10 * blk).min(self.n);
        // What sounded just before (silence, or the previous note's tail), in working units.
        let bg = (0..10)
            .filter_map(|k| {
                let a = start.checked_sub((k + 1) * blk)?;
                (a >= lower_sample).then(|| self.energy.rms(a, a + blk))
            })
            .fold(0.0f32, f32::max);
        let thr = (std::f32::consts::SQRT_2 * bg)
            .max(peak / self.unscale * from_db(p.onset_db))
            .max(from_db(p.gate_floor_dbfs) / self.unscale);
        let mut s = start;
        while s < stop {
            if self.energy.rms(s, s + blk) >= thr {
                return s;
            }
            s += blk;
        }
        (hint * p.hop).clamp(lower_sample, self.n)
    }

    /// Release frame of the note in frames [a, b): where the level starts to fall for good,
    /// or `None` when it never falls `release_drop_db` below its held level.
    fn release_frame(&self, a: usize, b: usize) -> Option<usize> {
        let p = self.p;
        let l = &self.level_db[a..b];
        let fp = (0..l.len()).max_by(|&i, &j| l[i].total_cmp(&l[j]))?;
        let lp = l[fp];
        let mut suffix_max = vec![f32::NEG_INFINITY; l.len() + 1];
        for t in (0..l.len()).rev() {
            suffix_max[t] = suffix_max[t + 1].max(l[t]);
        }
        // Held level: median from the peak until the level has fallen 20 dB below the peak for
        // good, so a long release tail does not pull it down.
        let t20 = (fp..l.len())
            .find(|&t| suffix_max[t] < lp - 20.0)
            .unwrap_or(l.len());
        let mut held = l[fp..t20.max(fp + 1)].to_vec();
        let h = median(&mut held)?;
        // r: the first frame after which the level never again reaches h − release_drop_db.
        let target = h - p.release_drop_db;
        let r = (fp..l.len()).find(|&t| suffix_max[t] < target)?;
        // The fall starts at the knee (searched up to r) of a continuous two-segment line
        // fitted (least squares) to the level: a flat or slowly changing hold, then the
        // release, whatever its speed. The fit runs from the first frame within 1 dB of the
        // highest level in the 500 ms before r, so a flat hold is kept whole (it anchors a slow
        // release) while the rising side of a swell or a beat is left out (it would pull the
        // knee early), to where the level is 2·release_drop_db under the held level, so a fast
        // release has enough points to outweigh a slow fall of the hold before it.
        let look = r.saturating_sub(p.release_lookback_frames).max(fp);
        let top = l[look..=r]
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        let k0 = (look..=r).find(|&t| l[t] >= top - 1.0).unwrap_or(look);
        let k1 = (r..l.len())
            .find(|&t| l[t] < h - 2.0 * p.release_drop_db)
            .unwrap_or(l.len() - 1);
        let pts = &l[k0..=k1];
        let mut best: Option<(f32, usize)> = None;
        for knee in 1..(r + 1 - k0).min(pts.len().saturating_sub(1)) {
            if let Some((sse, s1, s2)) = hinge_fit(pts, knee)
                && s2 < s1.min(0.0)
                && best.is_none_or(|(b, _)| sse < b)
            {
                best = Some((sse, knee));
            }
        }
        let mut rel = k0 + best.map_or(0, |(_, k)| k);
        // "For good": if the level comes back up by 1 dB or more after the knee (a breath
        // before the real release, or the key let go at the bottom of a beat) while still
        // within 2·release_drop_db of the held level, the release is the top of the last such
        // rebound. The scan ends 20 dB under the held level, before any echo in the tail.
        let scan_end = (r..l.len()).find(|&t| l[t] < h - 20.0).unwrap_or(l.len());
        let mut lowest = l[rel];
        let mut last_rebound = None;
        for (t, &v) in l.iter().enumerate().take(scan_end).skip(rel) {
            lowest = lowest.min(v);
            if v >= lowest + 1.0 && v >= h - 2.0 * p.release_drop_db {
                last_rebound = Some(t);
            }
        }
        if let Some(mut t) = last_rebound {
            while t > rel && l[t - 1] >= l[t] {
                t -= 1;
            }
            while t + 1 < scan_end && l[t + 1] > l[t] {
                t += 1;
            }
            rel = t;
        }
        Some(a + rel)
    }

    /// Median f0 of the pitched frames of the held part [onset, release) (trimmed by half a
    /// YIN frame at each side, where the window still sees the neighbours), and whether at
    /// least half of its frames are pitched.
    fn note_pitch(&self, onset: usize, release: usize, end: usize) -> (f32, bool) {
        let p = self.p;
        let half = (p.w + p.max_lag) / 2;
        let frame_range = |s: usize, e: usize| (s.div_ceil(p.hop), e.div_ceil(p.hop));
        let (mut fa, mut fb) = frame_range(onset + half, release.saturating_sub(half));
        if fb <= fa {
            (fa, fb) = frame_range(onset, end);
        }
        let fb = fb.min(self.midi.len());
        if fb <= fa {
            return (0.0, false);
        }
        let mut f0s: Vec<f32> = self.midi[fa..fb]
            .iter()
            .flatten()
            .map(|&m| 440.0 * ((m - 69.0) / 12.0).exp2())
            .collect();
        let pitched = 2 * f0s.len() >= fb - fa;
        match median(&mut f0s) {
            Some(f) if pitched => (f, true),
            _ => (0.0, false),
        }
    }
}

/// Least-squares fit of y_t ≈ c + s1·min(t − k, 0) + s2·max(t − k, 0) for t = 0..y.len():
/// `(sum of squared errors, s1, s2)`, `None` if singular.
fn hinge_fit(y: &[f32], k: usize) -> Option<(f32, f32, f32)> {
    // Normal equations A^T A β = A^T y for the columns [1, u, v].
    let mut m = [[0.0f64; 3]; 3];
    let mut r = [0.0f64; 3];
    for (t, &yt) in y.iter().enumerate() {
        let d = t as f64 - k as f64;
        let row = [1.0, d.min(0.0), d.max(0.0)];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += row[i] * row[j];
            }
            r[i] += row[i] * f64::from(yt);
        }
    }
    let det3 = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let det = det3(&m);
    if det.abs() < 1e-9 {
        return None;
    }
    // Cramer's rule.
    let mut beta = [0.0f64; 3];
    for (col, b) in beta.iter_mut().enumerate() {
        let mut mc = m;
        for row in 0..3 {
            mc[row][col] = r[row];
        }
        *b = det3(&mc) / det;
    }
    let sse: f64 = y
        .iter()
        .enumerate()
        .map(|(t, &yt)| {
            let d = t as f64 - k as f64;
            let e = f64::from(yt) - (beta[0] + beta[1] * d.min(0.0) + beta[2] * d.max(0.0));
            e * e
        })
        .sum();
    Some((sse as f32, beta[1] as f32, beta[2] as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: f32 = 48_000.0;

    /// xorshift64*: a seeded generator, so the noise tests are reproducible.
    struct Rng(u64);

    impl Rng {
        /// Uniform in [−1, 1).
        fn next(&mut self) -> f32 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
            (v >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        }
    }

    /// Sum of `harmonics` partials of amplitude 1/k (a band-limited sawtooth), peak ≈ amp.
    fn harmonic(f0: f32, harmonics: usize, secs: f32, amp: f32) -> Vec<f32> {
        let n = (secs * SR) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(SR);
                let s: f64 = (1..=harmonics)
                    .map(|k| {
                        (2.0 * std::f64::consts::PI * k as f64 * f64::from(f0) * t).sin() / k as f64
                    })
                    .sum();
                amp * 0.55 * s as f32
            })
            .collect()
    }

    fn sine(f: f32, secs: f32, amp: f32) -> Vec<f32> {
        harmonic(f, 1, secs, amp / 0.55)
    }

    fn secs(samples: usize) -> f32 {
        samples as f32 / SR
    }

    /// f0 of every pitched frame in [t0, t1) s is within `tol` (relative), and at least 90 %
    /// of those frames are pitched.
    fn assert_steady_pitch(a: &Analysis, f0: f32, t0: f32, t1: f32, tol: f32) {
        let frames: Vec<&Frame> = a
            .frames
            .iter()
            .filter(|f| f.time_s >= t0 && f.time_s < t1)
            .collect();
        let pitched: Vec<f32> = frames.iter().filter_map(|f| f.f0_hz).collect();
        assert!(
            pitched.len() * 10 >= frames.len() * 9,
            "{f0} Hz: only {} of {} frames pitched",
            pitched.len(),
            frames.len()
        );
        for f in pitched {
            assert!((f / f0 - 1.0).abs() < tol, "{f0} Hz measured as {f} Hz");
        }
    }

    #[test]
    fn yin_is_accurate_on_steady_tones() {
        let cfg = AnalysisConfig::new(SR);
        for (f0, harmonics) in [
            (220.0, 100),
            (41.2, 30),
            (110.0, 40),
            (1000.0, 1),
            (1975.5, 1),
        ] {
            let x = harmonic(f0, harmonics, 1.0, 0.5);
            let a = analyze(&x, &cfg);
            assert_steady_pitch(&a, f0, 0.1, 0.9, 0.005);
            assert_eq!(a.notes.len(), 1, "{f0} Hz: {:?}", a.notes);
            assert!((a.notes[0].f0_hz / f0 - 1.0).abs() < 0.005);
        }
    }

    /// Adds a note to `x`: linear attack, hold, exponential release with time constant `tau`.
    fn add_note(x: &mut [f32], f0: f32, onset_s: f32, hold_s: f32, tau_s: f32, amp: f32) {
        let attack = 0.01;
        let tone = harmonic(f0, 6, hold_s + 12.0 * tau_s, amp);
        let start = (onset_s * SR) as usize;
        for (i, v) in tone.iter().enumerate() {
            let t = i as f32 / SR;
            let env = if t < attack {
                t / attack
            } else if t < hold_s {
                1.0
            } else {
                (-(t - hold_s) / tau_s).exp()
            };
            if let Some(o) = x.get_mut(start + i) {
                *o += env * v;
            }
        }
    }

    #[test]
    fn synthetic_notes_have_the_right_onsets_releases_and_pitch() {
        let mut x = vec![0.0f32; (3.4 * SR) as usize];
        let notes = [(196.0, 0.25, 0.5), (329.6, 1.25, 0.6), (523.3, 2.25, 0.4)];
        for &(f0, on, hold) in &notes {
            add_note(&mut x, f0, on, hold, 0.04, 0.4);
        }
        let a = analyze(&x, &AnalysisConfig::new(SR));
        assert_eq!(a.notes.len(), 3, "{:?}", a.notes);
        for (n, &(f0, on, hold)) in a.notes.iter().zip(&notes) {
            assert!(
                (secs(n.onset) - on).abs() < 0.010,
                "onset {} vs {on}",
                secs(n.onset)
            );
            let rel = on + hold;
            assert!(
                (secs(n.release) - rel).abs() < 0.030,
                "release {} vs {rel}",
                secs(n.release)
            );
            assert!((n.f0_hz / f0 - 1.0).abs() < 0.01, "f0 {} vs {f0}", n.f0_hz);
            assert!(n.pitched && n.end > n.release && n.release > n.onset);
            // 0.4 peak, six partials → RMS ≈ −14.4 dBFS → velocity ≈ 10^(−11.4/40) ≈ 0.52.
            assert!(
                n.velocity > 0.4 && n.velocity < 0.8,
                "velocity {}",
                n.velocity
            );
        }
    }

    #[test]
    fn legato_pitch_change_starts_a_note_without_a_level_dip() {
        // 220 Hz then 330 Hz, phase-continuous, constant amplitude.
        let n = (1.2 * SR) as usize;
        let mut phase = 0.0f64;
        let x: Vec<f32> = (0..n)
            .map(|i| {
                let f = if i < n / 2 { 220.0 } else { 330.0 };
                phase += f / f64::from(SR);
                let fade = ((n - i) as f32 / (0.005 * SR)).min(1.0);
                let s: f64 = (1..=5)
                    .map(|k| (2.0 * std::f64::consts::PI * k as f64 * phase).sin() / k as f64)
                    .sum();
                0.3 * fade * s as f32
            })
            .collect();
        let a = analyze(&x, &AnalysisConfig::new(SR));
        assert_eq!(a.notes.len(), 2, "{:?}", a.notes);
        assert!((a.notes[0].f0_hz / 220.0 - 1.0).abs() < 0.01);
        assert!((a.notes[1].f0_hz / 330.0 - 1.0).abs() < 0.01);
        assert!(
            (secs(a.notes[1].onset) - 0.6).abs() < 0.02,
            "onset {}",
            secs(a.notes[1].onset)
        );
        // Held until the next note: released when it ends.
        assert_eq!(a.notes[0].release, a.notes[0].end);
        assert_eq!(a.notes[0].end, a.notes[1].onset);
    }

    #[test]
    fn a_same_pitch_reattack_over_a_tail_starts_a_note() {
        // Long release (−29 dB left when the next note starts), same pitch again.
        let mut x = vec![0.0f32; (2.6 * SR) as usize];
        add_note(&mut x, 220.0, 0.1, 0.7, 0.15, 0.4);
        add_note(&mut x, 220.0, 1.3, 0.5, 0.05, 0.4);
        let a = analyze(&x, &AnalysisConfig::new(SR));
        assert_eq!(a.notes.len(), 2, "{:?}", a.notes);
        assert!(
            (secs(a.notes[1].onset) - 1.3).abs() < 0.01,
            "onset {}",
            secs(a.notes[1].onset)
        );
        assert!(
            (secs(a.notes[0].release) - 0.8).abs() < 0.03,
            "rel {}",
            secs(a.notes[0].release)
        );
        assert!(
            (secs(a.notes[1].release) - 1.8).abs() < 0.03,
            "rel {}",
            secs(a.notes[1].release)
        );
    }

    #[test]
    fn tremolo_and_vibrato_do_not_split_a_note() {
        // 6 Hz tremolo ±6 dB and 5.5 Hz vibrato ±0.3 semitone on a 2 s, 261.6 Hz tone.
        let n = (2.0 * SR) as usize;
        let mut phase = 0.0f64;
        let x: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(SR);
                let f = 261.6 * (0.3 / 12.0 * (2.0 * std::f64::consts::PI * 5.5 * t).sin()).exp2();
                phase += f / f64::from(SR);
                let trem = 10f64.powf(6.0 / 20.0 * (2.0 * std::f64::consts::PI * 6.0 * t).sin());
                let s: f64 = (1..=5)
                    .map(|k| (2.0 * std::f64::consts::PI * k as f64 * phase).sin() / k as f64)
                    .sum();
                (0.15 * trem * s) as f32
            })
            .collect();
        let a = analyze(&x, &AnalysisConfig::new(SR));
        assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
        assert!(
            (a.notes[0].midi - hz_to_midi(261.6)).abs() < 0.1,
            "{}",
            a.notes[0].midi
        );
    }

    #[test]
    fn bad_input_never_panics_and_is_counted() {
        let cfg = AnalysisConfig::new(SR);
        let a = analyze(&[], &cfg);
        assert!(a.frames.is_empty() && a.notes.is_empty() && a.skipped_non_finite == 0);

        let mut rng = Rng(0x5eed);
        let short: Vec<f32> = (0..10).map(|_| 0.5 * rng.next()).collect();
        let a = analyze(&short, &cfg);
        assert_eq!(a.frames.len(), 1);
        assert!(a.notes.is_empty(), "10 samples are shorter than a note");

        let a = analyze(&vec![f32::NAN; 48_000], &cfg);
        assert_eq!(a.skipped_non_finite, 48_000);
        assert!(a.notes.is_empty() && a.frames.iter().all(|f| f.rms == 0.0 && f.f0_hz.is_none()));

        let a = analyze(&vec![0.0; 48_000], &cfg);
        assert!(a.notes.is_empty() && a.frames.iter().all(|f| f.f0_hz.is_none()));

        // DC is not sound: the DC blocker removes it exactly.
        let a = analyze(&vec![0.5; 48_000], &cfg);
        assert!(a.notes.is_empty(), "{:?}", a.notes);
        assert!(a.frames.iter().all(|f| f.rms < 1e-6 && f.f0_hz.is_none()));

        // White noise at −10 dBFS RMS for 1 s: one unpitched note spanning it.
        let amp = from_db(-10.0) * 3f32.sqrt(); // uniform on [−a, a] has RMS a/√3
        let noise: Vec<f32> = (0..48_000).map(|_| amp * rng.next()).collect();
        let a = analyze(&noise, &cfg);
        assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
        let n = a.notes[0];
        assert!(!n.pitched && n.f0_hz == 0.0 && n.midi == 0.0);
        assert!(n.onset < 480 && n.end > 47_000, "{n:?}");
        let pitched = a.frames.iter().filter(|f| f.f0_hz.is_some()).count();
        assert!(
            pitched * 20 < a.frames.len(),
            "{pitched} noise frames pitched"
        );

        // A tone with NaN and Inf samples sprinkled in: counted, and the pitch still found.
        let mut tone = harmonic(440.0, 4, 1.0, 0.5);
        let mut bad = 0;
        for k in 0..60 {
            let i = (rng.next().abs() * 47_999.0) as usize;
            if tone[i].is_finite() {
                bad += 1;
            }
            tone[i] = if k % 3 == 0 { f32::INFINITY } else { f32::NAN };
        }
        let a = analyze(&tone, &cfg);
        assert_eq!(a.skipped_non_finite, bad);
        assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
        assert!(a.notes[0].pitched && (a.notes[0].f0_hz / 440.0 - 1.0).abs() < 0.005);

        // A tone riding on DC: same pitch, level of the tone alone.
        let tone: Vec<f32> = sine(220.0, 1.0, 0.3).iter().map(|v| v + 0.5).collect();
        let a = analyze(&tone, &cfg);
        assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
        assert!((a.notes[0].f0_hz / 220.0 - 1.0).abs() < 0.005);
        assert!((a.notes[0].peak_rms / (0.3 / 2f32.sqrt()) - 1.0).abs() < 0.05);

        // Huge finite values do not overflow the analysis.
        let a = analyze(&sine(220.0, 0.5, 1e30), &cfg);
        assert_eq!(a.notes.len(), 1);
        assert!((a.notes[0].f0_hz / 220.0 - 1.0).abs() < 0.005);

        // Unusable settings: no panic; an unusable sample rate gives no frames.
        for sr in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            let a = analyze(&short, &AnalysisConfig::new(sr));
            assert!(a.frames.is_empty() && a.notes.is_empty());
        }
        let wild = AnalysisConfig {
            hop: 0,
            frame: 0,
            rms_window: 0,
            fmin: f32::NAN,
            fmax: -5.0,
            yin_threshold: f32::INFINITY,
            gate_db: f32::NAN,
            min_note_s: -1.0,
            ..AnalysisConfig::new(SR)
        };
        let _ = analyze(&sine(220.0, 0.2, 0.5), &wild);
    }

    #[test]
    fn random_input_and_settings_never_panic() {
        let mut rng = Rng(0xfa11);
        let specials = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            -f32::MAX,
            1e-38,
        ];
        for round in 0..150 {
            let len = (rng.next().abs() * 12_000.0) as usize;
            let x: Vec<f32> = (0..len)
                .map(|i| match (rng.next() * 50.0) as i32 {
                    0 => specials[i % specials.len()],
                    1..=20 => 0.0,
                    _ => rng.next() * (round as f32 * 0.1).exp2().min(1e30),
                })
                .collect();
            let sr = [8_000.0, 22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0][round % 6];
            let mut cfg = AnalysisConfig::new(sr);
            if round % 3 == 0 {
                cfg.hop = (rng.next().abs() * 3000.0) as usize;
                cfg.frame = (rng.next().abs() * 5000.0) as usize;
                cfg.rms_window = (rng.next().abs() * 5000.0) as usize;
                cfg.fmin = rng.next() * 500.0;
                cfg.fmax = rng.next() * 30_000.0;
                cfg.min_note_s = rng.next() * 0.1;
            }
            let a = analyze(&x, &cfg);
            let bad = x.iter().filter(|v| !v.is_finite()).count();
            assert_eq!(a.skipped_non_finite, bad);
            for n in &a.notes {
                assert!(
                    n.onset <= n.release && n.release <= n.end && n.end <= len,
                    "{n:?}"
                );
                assert!(n.velocity.is_finite() && (0.0..=1.0).contains(&n.velocity));
            }
            for w in a.notes.windows(2) {
                assert!(w[0].end <= w[1].onset, "{:?}", w);
            }
        }
    }
}
