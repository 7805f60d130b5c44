//! The project's one yardstick, "spectral distance" (docs/ARCHITECTURE.md §8), in dB; 0 is
//! identical.
//!
//! The candidate is scaled to the target's RMS (timbre, not level). Both get 64-band log-mel
//! power spectra from 30 Hz to 16 kHz with Hann windows of 512, 1024, 2048 and 4096 samples at
//! 48 kHz (scaled with the sample rate elsewhere), hop a quarter window, 10·log10 of band power,
//! floored 60 dB below the louder signal's peak. The distance is the mean absolute difference
//! in dB over the frames where either signal rises above the floor, averaged over the four
//! window sizes. Signals must already be aligned (same notes, same onsets); the longer one is
//! cut to the shorter.

use crate::num::units::power_to_db;
use crate::signal::features::{LogMel, MelConfig};

/// Window sizes at 48 kHz.
const WINDOWS_48K: [usize; 4] = [512, 1_024, 2_048, 4_096];
/// Floor below the louder signal's peak band power, dB.
const FLOOR_DB: f32 = 60.0;

/// Spectral distance in dB between an aligned `candidate` and `target` at `sample_rate`.
/// Allocates. Non-finite samples count as silence; two silent signals are 0 dB apart.
pub fn spectral_distance(candidate: &[f32], target: &[f32], sample_rate: f32) -> f32 {
    let len = candidate.len().min(target.len());
    let (c, t) = (&candidate[..len], &target[..len]);
    let rms = |x: &[f32]| {
        let s: f64 = x
            .iter()
            .filter(|v| v.is_finite())
            .map(|&v| (v as f64) * (v as f64))
            .sum();
        (s / len.max(1) as f64).sqrt()
    };
    let (rc, rt) = (rms(c), rms(t));
    let gain = if rc > 0.0 { (rt / rc) as f32 } else { 1.0 };
    let scaled: Vec<f32> = c.iter().map(|v| v * gain).collect();

    let mut per_size = Vec::new();
    for w in WINDOWS_48K {
        let size = ((w as f32 * sample_rate / 48_000.0).round() as usize).next_power_of_two();
        let mut mel = LogMel::new(MelConfig {
            sample_rate,
            fft_size: size,
            hop: size / 4,
            bands: 64,
            fmin: 30.0,
            fmax: 16_000.0,
        });
        let to_db = |p: Vec<f32>| -> Vec<f32> { p.into_iter().map(power_to_db).collect() };
        let (a, b) = (to_db(mel.frames(&scaled)), to_db(mel.frames(t)));
        if a.is_empty() {
            continue;
        }
        let peak = a.iter().chain(&b).fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let floor = peak - FLOOR_DB;
        let (mut sum, mut count) = (0.0f64, 0usize);
        for (fa, fb) in a.chunks(64).zip(b.chunks(64)) {
            let loud = fa.iter().chain(fb).any(|&v| v > floor);
            if !loud {
                continue;
            }
            for (&x, &y) in fa.iter().zip(fb) {
                sum += (x.max(floor) - y.max(floor)).abs() as f64;
            }
            count += 64;
        }
        if count > 0 {
            per_size.push(sum / count as f64);
        }
    }
    if per_size.is_empty() {
        return 0.0;
    }
    (per_size.iter().sum::<f64>() / per_size.len() as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f: f32, harmonics: usize, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| {
                let p = std::f32::consts::TAU * f * n as f32 / 48_000.0;
                (1..=harmonics)
                    .map(|h| (p * h as f32).sin() / h as f32)
                    .sum::<f32>()
            })
            .collect()
    }

    #[test]
    fn identical_and_rescaled_signals_are_zero_apart() {
        let x = tone(220.0, 8, 24_000);
        assert_eq!(spectral_distance(&x, &x, 48_000.0), 0.0);
        let louder: Vec<f32> = x.iter().map(|v| v * 3.0).collect();
        assert!(spectral_distance(&louder, &x, 48_000.0) < 1e-3);
    }

    #[test]
    fn more_different_timbres_are_further_apart() {
        let target = tone(220.0, 12, 24_000);
        let close = tone(220.0, 10, 24_000);
        let far = tone(220.0, 1, 24_000);
        let (dc, df) = (
            spectral_distance(&close, &target, 48_000.0),
            spectral_distance(&far, &target, 48_000.0),
        );
        assert!(dc > 0.0 && df > 2.0 * dc, "close {dc}, far {df}");
    }

    #[test]
    fn silence_and_short_input_are_safe() {
        assert_eq!(
            spectral_distance(&[0.0; 10_000], &[0.0; 10_000], 48_000.0),
            0.0
        );
        assert_eq!(spectral_distance(&[0.1; 100], &[0.2; 100], 48_000.0), 0.0);
        let d = spectral_distance(&[f32::NAN; 8_192], &tone(440.0, 3, 8_192), 48_000.0);
        assert!(d.is_finite());
    }
}
