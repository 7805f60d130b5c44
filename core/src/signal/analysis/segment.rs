//! Segmentation: runs of sound above the gate, split into notes at new stable pitches and
//! re-attacks; onsets refined to 1 ms; a release at the knee of a two-segment fit to the level
//! in dB (docs of [`super`], step 5).

use super::level::Energy;
use super::{Note, Params, median};
use crate::num::units::{amplitude_to_db, db_to_amplitude, hz_to_note, note_to_hz};

/// Fills runs of `false` shorter than `min_gap` that lie between two `true`s.
pub(super) fn close_gaps(active: &mut [bool], min_gap: usize) {
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
pub(super) fn runs(active: &[bool]) -> Vec<(usize, usize)> {
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
pub(super) struct Segmenter<'a> {
    pub(super) p: &'a Params,
    pub(super) energy: &'a Energy,
    /// Factor from the working copy's units back to the input's.
    pub(super) unscale: f32,
    /// Frame level, dBFS.
    pub(super) level_db: &'a [f32],
    /// Frame pitch, fractional MIDI, `None` when unpitched or silent.
    pub(super) midi: &'a [Option<f32>],
    /// Length of the signal, samples.
    pub(super) n: usize,
}

impl Segmenter<'_> {
    /// Notes of the run of sounding frames [a, b); `prev_end` is where the previous note ended.
    pub(super) fn run_notes(&self, a: usize, b: usize, prev_end: usize) -> Vec<Note> {
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
            let velocity =
                db_to_amplitude((amplitude_to_db(peak_rms) + 3.01) / 2.0).clamp(0.0, 1.0);
            notes.push(Note {
                onset,
                release,
                end,
                f0_hz: if pitched { f0_hz } else { 0.0 },
                midi: if pitched { hz_to_note(f0_hz) } else { 0.0 },
                peak_rms,
                velocity,
                pitched,
            });
        }
        notes
    }

    /// Largest frame RMS in frames [a, b), linear.
    pub(super) fn peak_rms(&self, a: usize, b: usize) -> f32 {
        db_to_amplitude(
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
    pub(super) fn pitch_boundaries(&self, a: usize, b: usize) -> Vec<(usize, usize)> {
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
    pub(super) fn reattack_boundaries(&self, a: usize, b: usize) -> Vec<(usize, usize)> {
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
    pub(super) fn refine_onset(
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
            .max(peak / self.unscale * db_to_amplitude(p.onset_db))
            .max(db_to_amplitude(p.gate_floor_dbfs) / self.unscale);
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
    pub(super) fn release_frame(&self, a: usize, b: usize) -> Option<usize> {
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
    pub(super) fn note_pitch(&self, onset: usize, release: usize, end: usize) -> (f32, bool) {
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
            .map(|&m| note_to_hz(m))
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
pub(super) fn hinge_fit(y: &[f32], k: usize) -> Option<(f32, f32, f32)> {
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
