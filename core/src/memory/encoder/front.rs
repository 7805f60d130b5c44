//! The encoder's input: a context of log-mel frames summarised into a fixed vector, with the
//! exact gradient of that vector with respect to the samples.
//!
//! `CONTEXT_FRAMES` non-overlapping Hann frames of 1024 samples at 48 kHz (scaled with the rate;
//! 0.256 s in all), `MEL_BANDS` mel bands from 30 Hz to 16 kHz, in dB relative to the loudest
//! band of the context (so level is not timbre), floored `FLOOR_DB` below it and mapped to
//! [0, 1]. The summary is the per-band mean (spectral envelope), the per-band standard
//! deviation over time (movement) and the per-frame mean (the amplitude envelope: attack,
//! decay). Frames do not overlap, so one embedding costs `CONTEXT_FRAMES` FFTs.

use crate::signal::features::{mel_centres, mel_filterbank};
use crate::signal::stft::{FrameFft, band_power};

/// Mel bands of the encoder's input.
pub const MEL_BANDS: usize = 32;
/// Frames in one context.
pub const CONTEXT_FRAMES: usize = 12;
/// Frame size at 48 kHz, samples (the hop is the same).
pub const FRAME_48K: usize = 1_024;
/// Points of the pitch-relative profile: the band means read at f0 · 2^(k / 4), six octaves.
pub const RELATIVE: usize = 24;
/// Length of the feature vector: band means, band deviations, frame means, the pitch-relative
/// profile and the pitch itself.
pub const INPUT: usize = 2 * MEL_BANDS + CONTEXT_FRAMES + RELATIVE + 1;
/// Where the pitch-relative profile starts in the feature vector.
const RELATIVE_AT: usize = 2 * MEL_BANDS + CONTEXT_FRAMES;
/// The pitch a context of unknown f0 is read at, Hz (middle C).
pub const REFERENCE_HZ: f32 = 261.63;
/// Depth of the dB scale below the context's loudest band.
const FLOOR_DB: f32 = 80.0;
/// A context whose loudest band is below this (dB, a full-scale sine is about −6) is silence:
/// it has no timbre and gets no embedding.
pub const SILENCE_DB: f32 = -90.0;
/// Added to band powers before the log (−120 dB).
const POWER_FLOOR: f32 = 1e-12;
/// Keeps the deviation's derivative finite on a perfectly steady band.
const STD_EPS: f32 = 1e-6;

/// Feature extractor of one sample rate. Construction allocates; nothing else does.
pub struct Front {
    /// The windowed FFT (and its adjoint), one frame.
    fft: FrameFft<f32>,
    /// Mel filters `(first bin, weights)`.
    mel: Vec<(usize, Vec<f32>)>,
    /// Centre of each mel band, log2 Hz.
    centres: Vec<f32>,
    /// The pitch-relative profile's reading of the band means: `(lower band, weight of the
    /// upper band)` per point, set by each `compute` from its f0.
    reading: [(usize, f32); RELATIVE],
    /// Band powers of the context, `[frame * MEL_BANDS + band]`.
    power: Vec<f32>,
    /// The context in [0, 1] units, same layout.
    unit: Vec<f32>,
    /// Index of the loudest band of the context (the dB reference).
    loudest: usize,
    /// ∂/∂unit, same layout (backward only).
    d_unit: Vec<f32>,
    /// ∂/∂|X_k|² of one frame (backward only).
    d_bins: Vec<f32>,
}

impl Front {
    /// The extractor for `sample_rate` (Hz). Allocates.
    pub fn new(sample_rate: f32) -> Self {
        let sr = if sample_rate.is_finite() {
            sample_rate.clamp(8_000.0, 384_000.0)
        } else {
            48_000.0
        };
        let size = ((FRAME_48K as f32 * sr / 48_000.0).round() as usize).next_power_of_two();
        let fft = FrameFft::new(size);
        let mel = mel_filterbank(sr, size, MEL_BANDS, 30.0, 16_000.0)
            .into_iter()
            .map(|b| (b.start, b.weights))
            .collect();
        let centres = mel_centres(sr, MEL_BANDS, 30.0, 16_000.0)
            .into_iter()
            .map(f32::log2)
            .collect();
        let n = CONTEXT_FRAMES * MEL_BANDS;
        Self {
            d_bins: vec![0.0; fft.bins()],
            fft,
            mel,
            centres,
            reading: [(0, 0.0); RELATIVE],
            power: vec![0.0; n],
            unit: vec![0.0; n],
            loudest: 0,
            d_unit: vec![0.0; n],
        }
    }

    /// Samples one context spans.
    pub fn context_len(&self) -> usize {
        CONTEXT_FRAMES * self.fft.size()
    }

    /// Frame size (and hop), samples.
    pub fn frame_len(&self) -> usize {
        self.fft.size()
    }

    /// The features of the context at the start of `x` (at least [`Self::context_len`]
    /// samples), whose fundamental is `f0_hz` (measured, not learned; 0 or not finite when
    /// unknown: read at [`REFERENCE_HZ`]), into `out`; `None` for silence (or a short `x`),
    /// `Some(loudest band dB)` otherwise. Allocates nothing.
    pub fn compute(&mut self, x: &[f32], f0_hz: f32, out: &mut [f32; INPUT]) -> Option<f32> {
        let n = self.fft.size();
        if x.len() < self.context_len() {
            return None;
        }
        for t in 0..CONTEXT_FRAMES {
            self.fft.analyse(&x[t * n..]);
            for (b, (first, w)) in self.mel.iter().enumerate() {
                let p = band_power(self.fft.spectrum.get(*first..).unwrap_or(&[]), w);
                self.power[t * MEL_BANDS + b] = p;
            }
        }
        let (loudest, peak) =
            self.power.iter().enumerate().fold(
                (0, 0.0f32),
                |(i, m), (j, &p)| if p > m { (j, p) } else { (i, m) },
            );
        let peak_db = db(peak);
        if peak_db.is_nan() || peak_db < SILENCE_DB {
            return None;
        }
        self.loudest = loudest;
        for (u, &p) in self.unit.iter_mut().zip(&self.power) {
            *u = ((db(p) - peak_db).max(-FLOOR_DB) + FLOOR_DB) / FLOOR_DB;
        }
        summarise(&self.unit, out);
        self.read_relative(f0_hz, out);
        Some(peak_db)
    }

    /// Adds ∂(d_features · features)/∂x to `d_x` for the context at the start of `x`: the
    /// chain through the summary, the dB scale (with its moving reference), the mel filters and
    /// the FFT. Recomputes the forward pass; allocates nothing. Does nothing for silence.
    pub fn backward(&mut self, x: &[f32], f0_hz: f32, d_features: &[f32; INPUT], d_x: &mut [f32]) {
        let mut scratch = [0.0f32; INPUT];
        if self.compute(x, f0_hz, &mut scratch).is_none() || d_x.len() < self.context_len() {
            return;
        }
        // The profile reads the band means linearly (f0 is a constant of the context).
        let mut d_mean = [0.0f32; MEL_BANDS];
        d_mean.copy_from_slice(&d_features[..MEL_BANDS]);
        for (k, &(i, t)) in self.reading.iter().enumerate() {
            let d = d_features[RELATIVE_AT + k];
            d_mean[i] += (1.0 - t) * d;
            if t > 0.0 {
                d_mean[i + 1] += t * d;
            }
        }
        // Summary → unit values.
        let c = CONTEXT_FRAMES as f32;
        for b in 0..MEL_BANDS {
            let mean = scratch[b];
            let std = scratch[MEL_BANDS + b];
            for t in 0..CONTEXT_FRAMES {
                let i = t * MEL_BANDS + b;
                let d_std = d_features[MEL_BANDS + b] * (self.unit[i] - mean) / (c * std);
                self.d_unit[i] =
                    d_mean[b] / c + d_std + d_features[2 * MEL_BANDS + t] / MEL_BANDS as f32;
            }
        }
        // Unit values → dB → power. A floored value is flat; every unfloored one also moves
        // with the reference (the loudest band), whose own unit value is constant.
        let to_db = 10.0 / std::f32::consts::LN_10;
        let peak_db = db(self.power[self.loudest]);
        let mut d_ref = 0.0;
        for (i, d) in self.d_unit.iter_mut().enumerate() {
            let p = self.power[i];
            if db(p) - peak_db > -FLOOR_DB {
                let g = *d / FLOOR_DB;
                d_ref -= g;
                *d = g * to_db / (p + POWER_FLOOR);
            } else {
                *d = 0.0;
            }
        }
        self.d_unit[self.loudest] += d_ref * to_db / (self.power[self.loudest] + POWER_FLOOR);
        // Power → |X_k|² → samples, frame by frame.
        let n = self.fft.size();
        for t in 0..CONTEXT_FRAMES {
            self.d_bins.fill(0.0);
            for (b, (first, w)) in self.mel.iter().enumerate() {
                let g = self.d_unit[t * MEL_BANDS + b];
                for (d, &wk) in self.d_bins[*first..].iter_mut().zip(w) {
                    *d += g * wk;
                }
            }
            self.fft.analyse(&x[t * n..]);
            for (c, &g) in self.fft.spectrum.iter_mut().zip(&self.d_bins) {
                *c *= 2.0 * g;
            }
            self.fft.adjoint_into(&mut d_x[t * n..], 1.0);
        }
    }
}

impl Front {
    /// Fills the pitch-relative profile and the pitch of `out` from its band means: each point
    /// f0 · 2^(k / 4) interpolated in log frequency between the two nearest band centres (held
    /// at the end bands). Below the fundamental a band holds no harmonic of the note, so the
    /// absolute band means shift with the note; read from f0 up, one instrument's profile
    /// stays put while its pitch moves.
    fn read_relative(&mut self, f0_hz: f32, out: &mut [f32; INPUT]) {
        let f0 = if f0_hz.is_finite() && f0_hz > 0.0 {
            f0_hz
        } else {
            REFERENCE_HZ
        };
        let last = MEL_BANDS - 1;
        for k in 0..RELATIVE {
            let f = f0.log2() + k as f32 / 4.0;
            let upper = self.centres.partition_point(|&c| c <= f);
            self.reading[k] = if upper == 0 {
                (0, 0.0)
            } else if upper > last {
                (last, 0.0)
            } else {
                let (a, b) = (self.centres[upper - 1], self.centres[upper]);
                (upper - 1, (f - a) / (b - a))
            };
            let (i, t) = self.reading[k];
            let upper_value = if t > 0.0 { out[i + 1] } else { 0.0 };
            out[RELATIVE_AT + k] = (1.0 - t) * out[i] + t * upper_value;
        }
        out[INPUT - 1] = (f0 / REFERENCE_HZ).log2();
    }
}

fn db(p: f32) -> f32 {
    10.0 * (p + POWER_FLOOR).log10()
}

/// Band means, band deviations and frame means of a context in unit values.
fn summarise(unit: &[f32], out: &mut [f32; INPUT]) {
    let c = CONTEXT_FRAMES as f32;
    for b in 0..MEL_BANDS {
        let mean = (0..CONTEXT_FRAMES)
            .map(|t| unit[t * MEL_BANDS + b])
            .sum::<f32>()
            / c;
        let var = (0..CONTEXT_FRAMES)
            .map(|t| (unit[t * MEL_BANDS + b] - mean).powi(2))
            .sum::<f32>()
            / c;
        out[b] = mean;
        out[MEL_BANDS + b] = (var + STD_EPS).sqrt();
    }
    for t in 0..CONTEXT_FRAMES {
        out[2 * MEL_BANDS + t] =
            unit[t * MEL_BANDS..(t + 1) * MEL_BANDS].iter().sum::<f32>() / MEL_BANDS as f32;
    }
}
