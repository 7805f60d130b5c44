//! φ: short-time Fourier transform → mel-band power, per frame.
//!
//! Triangular filters evenly spaced on the HTK mel scale (m = 2595·log10(1 + f/700)), applied to
//! the power spectrum of Hann-windowed frames. Construction allocates; [`LogMel::frame_into`]
//! does not, so the same code can run wherever frames arrive.

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

fn hz_to_mel(f: f32) -> f32 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_to_hz(m: f32) -> f32 {
    700.0 * (10f32.powf(m / 2595.0) - 1.0)
}

/// One triangular mel filter: its first FFT bin and weights.
#[derive(Debug, Clone)]
pub struct MelBand {
    /// FFT bin of the first weight.
    pub start: usize,
    /// Weights of bins `start..start + weights.len()`.
    pub weights: Vec<f32>,
}

/// Centre frequencies (Hz) of the bands [`mel_filterbank`] makes with the same arguments.
/// Allocates.
pub fn mel_centres(sample_rate: f32, bands: usize, fmin: f32, fmax: f32) -> Vec<f32> {
    let fmax = fmax.min(sample_rate / 2.0);
    let (mlo, mhi) = (hz_to_mel(fmin.max(0.0)), hz_to_mel(fmax));
    (1..=bands)
        .map(|i| mel_to_hz(mlo + (mhi - mlo) * i as f32 / (bands + 1) as f32))
        .collect()
}

/// Triangular filters for `bands` mel bands between `fmin` and `fmax` (limited to Nyquist) over
/// the `fft_size / 2 + 1` bins of a real FFT at `sample_rate`. Allocates.
pub fn mel_filterbank(
    sample_rate: f32,
    fft_size: usize,
    bands: usize,
    fmin: f32,
    fmax: f32,
) -> Vec<MelBand> {
    let n = fft_size;
    let bin_hz = sample_rate / n as f32;
    let fmax = fmax.min(sample_rate / 2.0);
    let (mlo, mhi) = (hz_to_mel(fmin.max(0.0)), hz_to_mel(fmax));
    let edges: Vec<f32> = (0..bands + 2)
        .map(|i| mel_to_hz(mlo + (mhi - mlo) * i as f32 / (bands + 1) as f32))
        .collect();
    (0..bands)
        .map(|b| {
            let (lo, mid, hi) = (edges[b], edges[b + 1], edges[b + 2]);
            let first = (lo / bin_hz).ceil() as usize;
            let last = ((hi / bin_hz).floor() as usize).min(n / 2);
            let mut weights: Vec<f32> = (first..=last.max(first))
                .map(|k| {
                    let f = k as f32 * bin_hz;
                    if f <= mid {
                        (f - lo) / (mid - lo)
                    } else {
                        (hi - f) / (hi - mid)
                    }
                })
                .map(|w| w.clamp(0.0, 1.0))
                .collect();
            // A band narrower than one bin still takes its nearest bin, so no band is empty.
            if weights.iter().all(|&w| w == 0.0) {
                let k = ((mid / bin_hz).round() as usize).min(n / 2);
                return MelBand {
                    start: k,
                    weights: vec![1.0],
                };
            }
            let start = first;
            while weights.last() == Some(&0.0) {
                weights.pop();
            }
            MelBand { start, weights }
        })
        .collect()
}

/// The settings of a log-mel analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MelConfig {
    /// Sample rate, Hz.
    pub sample_rate: f32,
    /// FFT (and window) size, samples.
    pub fft_size: usize,
    /// Hop between frames, samples.
    pub hop: usize,
    /// Number of mel bands.
    pub bands: usize,
    /// Lowest band edge, Hz.
    pub fmin: f32,
    /// Highest band edge, Hz (limited to Nyquist).
    pub fmax: f32,
}

/// Mel-band power analysis of one resolution.
pub struct LogMel {
    /// The settings.
    config: MelConfig,
    /// Hann window, `fft_size` long.
    window: Vec<f32>,
    /// Forward real FFT plan.
    fft: Arc<dyn RealToComplex<f32>>,
    /// Windowed frame buffer (destroyed by the FFT).
    frame: Vec<f32>,
    /// Spectrum buffer.
    spectrum: Vec<Complex<f32>>,
    /// FFT scratch.
    scratch: Vec<Complex<f32>>,
    /// The triangular filters.
    bands: Vec<MelBand>,
}

impl LogMel {
    /// Builds the analysis. Allocates the plan, the buffers and the filterbank.
    pub fn new(config: MelConfig) -> Self {
        let n = config.fft_size.max(16);
        let config = MelConfig {
            fft_size: n,
            hop: config.hop.max(1),
            ..config
        };
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        let window = (0..n)
            .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos())
            .collect();
        let bands = mel_filterbank(
            config.sample_rate,
            n,
            config.bands,
            config.fmin,
            config.fmax,
        );
        Self {
            config,
            window,
            frame: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            bands,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &MelConfig {
        &self.config
    }

    /// Number of whole frames in a signal of `len` samples.
    pub fn frame_count(&self, len: usize) -> usize {
        if len < self.config.fft_size {
            0
        } else {
            (len - self.config.fft_size) / self.config.hop + 1
        }
    }

    /// Mel-band power of one frame (`fft_size` samples) into `out` (`bands` values, linear
    /// power). Allocates nothing.
    pub fn frame_into(&mut self, samples: &[f32], out: &mut [f32]) {
        for ((f, &s), &w) in self.frame.iter_mut().zip(samples).zip(&self.window) {
            *f = if s.is_finite() { s * w } else { 0.0 };
        }
        let _ =
            self.fft
                .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch);
        for (o, band) in out.iter_mut().zip(&self.bands) {
            *o = self.spectrum[band.start..]
                .iter()
                .zip(&band.weights)
                .map(|(c, w)| (c.re * c.re + c.im * c.im) * w)
                .sum();
        }
    }

    /// Mel-band power of every frame of `x`, frame-major (`frame_count · bands` values).
    /// Allocates the result.
    pub fn frames(&mut self, x: &[f32]) -> Vec<f32> {
        let bands = self.config.bands;
        let count = self.frame_count(x.len());
        let mut out = vec![0.0; count * bands];
        for f in 0..count {
            let start = f * self.config.hop;
            let (frame, dst) = (
                &x[start..start + self.config.fft_size],
                &mut out[f * bands..],
            );
            self.frame_into(frame, &mut dst[..bands]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(n: usize) -> MelConfig {
        MelConfig {
            sample_rate: 48_000.0,
            fft_size: n,
            hop: n / 4,
            bands: 64,
            fmin: 30.0,
            fmax: 16_000.0,
        }
    }

    #[test]
    fn a_sine_lights_the_band_around_its_frequency() {
        let mut mel = LogMel::new(config(2_048));
        let x: Vec<f32> = (0..2_048)
            .map(|n| (std::f32::consts::TAU * 1_000.0 * n as f32 / 48_000.0).sin())
            .collect();
        let mut out = vec![0.0; 64];
        mel.frame_into(&x, &mut out);
        let loudest = out
            .iter()
            .enumerate()
            .fold(0, |b, (i, &v)| if v > out[b] { i } else { b });
        let centre = |b: usize| {
            let (mlo, mhi) = (hz_to_mel(30.0), hz_to_mel(16_000.0));
            mel_to_hz(mlo + (mhi - mlo) * (b + 1) as f32 / 65.0)
        };
        assert!(
            (centre(loudest) / 1_000.0 - 1.0).abs() < 0.15,
            "band {loudest}"
        );
        assert!(out.iter().all(|v| v.is_finite() && *v >= 0.0));
    }

    #[test]
    fn every_band_has_weights_even_at_small_sizes() {
        let mel = LogMel::new(config(512));
        assert_eq!(mel.bands.len(), 64);
        assert!(mel.bands.iter().all(|b| !b.weights.is_empty()));
    }

    #[test]
    fn frames_count_and_bad_samples_are_safe() {
        let mut mel = LogMel::new(config(1_024));
        assert_eq!(mel.frames(&[0.0; 100]).len(), 0);
        let mut x = vec![0.1f32; 4_096];
        x[7] = f32::NAN;
        x[900] = f32::INFINITY;
        let f = mel.frames(&x);
        assert_eq!(f.len(), mel.frame_count(4_096) * 64);
        assert!(f.iter().all(|v| v.is_finite()));
    }
}
