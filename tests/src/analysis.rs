//! Signal measurements shared by the end-to-end tests, and the check every rendered output
//! passes: no sample a host must never receive.

use anyhow::{Result, bail, ensure};

/// Root mean square of `x`, accumulated in `f64`; 0 for an empty slice.
pub fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let sum: f64 = x.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / x.len() as f64).sqrt()
}

/// Largest absolute sample of `x` (NaN is ignored, so check [`first_unclean`] as well).
pub fn peak(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

/// An amplitude ratio in decibels.
pub fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

/// The first sample a host must never receive: NaN, infinite, or subnormal (subnormals are
/// legal floats, but they mean a decaying state was not flushed and cost CPU downstream).
pub fn first_unclean(x: &[f32]) -> Option<(usize, f32)> {
    x.iter()
        .copied()
        .enumerate()
        .find(|&(_, s)| s != 0.0 && !s.is_normal())
}

/// `len` samples of a sine at `freq` Hz and peak `amplitude`, starting at phase 0.
pub fn sine(freq: f64, amplitude: f64, sample_rate: f64, len: usize) -> Vec<f32> {
    let w = std::f64::consts::TAU * freq / sample_rate;
    (0..len)
        .map(|i| (amplitude * (w * i as f64).sin()) as f32)
        .collect()
}

/// Fundamental frequency of `x` in Hz, searched in `[fmin, fmax]`, by YIN's cumulative-mean
/// normalised difference (de Cheveigné & Kawahara 2002) with parabolic interpolation of the dip.
///
/// YIN rather than a plain autocorrelation peak: a saw has strong harmonics, and the normalised
/// difference picks the first period instead of an octave error. `None` when `x` is too short
/// for `fmin` or the range is empty.
pub fn estimate_f0(x: &[f32], sample_rate: f64, fmin: f64, fmax: f64) -> Option<f64> {
    let max_lag = (sample_rate / fmin).ceil() as usize;
    let min_lag = ((sample_rate / fmax).floor() as usize).max(2);
    if min_lag >= max_lag || x.len() < 2 * (max_lag + 1) {
        return None;
    }
    let mean = x.iter().map(|&s| f64::from(s)).sum::<f64>() / x.len() as f64;
    let xs: Vec<f64> = x.iter().map(|&s| f64::from(s) - mean).collect();
    // A fixed window, so every lag sums the same number of terms.
    let window = xs.len() - (max_lag + 1);
    let diff: Vec<f64> = (0..=max_lag + 1)
        .map(|tau| {
            xs[..window]
                .iter()
                .zip(&xs[tau..tau + window])
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
        })
        .collect();
    let mut cmnd = vec![1.0; diff.len()];
    let mut cumulative = 0.0;
    for (tau, (c, &d)) in cmnd.iter_mut().zip(&diff).enumerate().skip(1) {
        cumulative += d;
        if cumulative > 0.0 {
            *c = d * tau as f64 / cumulative;
        }
    }
    // The first dip under the threshold, else the deepest one; then slide to its bottom.
    let search = min_lag..=max_lag;
    let mut tau = search
        .clone()
        .find(|&t| cmnd[t] < 0.1)
        .or_else(|| search.min_by(|&a, &b| cmnd[a].total_cmp(&cmnd[b])))?;
    while tau < max_lag && cmnd[tau + 1] < cmnd[tau] {
        tau += 1;
    }
    let (a, b, c) = (cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]);
    let curvature = a - 2.0 * b + c;
    let shift = if curvature.abs() > 1e-12 {
        (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some(sample_rate / (tau as f64 + shift))
}

/// Fails on NaN, infinities and subnormals in either channel, naming `what` and the sample.
pub fn ensure_clean(out: &[Vec<f32>; 2], what: &str) -> Result<()> {
    ensure_clean_within(out, what, f32::INFINITY)
}

/// [`ensure_clean`], and fails on a sample beyond ±`bound` as well.
pub fn ensure_clean_within(out: &[Vec<f32>; 2], what: &str, bound: f32) -> Result<()> {
    for (c, channel) in out.iter().enumerate() {
        if let Some((i, x)) = first_unclean(channel) {
            bail!("{what}: channel {c} sample {i} is {x:e} (not finite, or subnormal)");
        }
        let p = peak(channel);
        ensure!(
            p <= bound,
            "{what}: channel {c} peaks at {p} (bound {bound})"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yin_finds_the_pitch_of_a_sine_and_a_saw() {
        let sr = 48_000.0;
        let s = sine(440.0, 0.5, sr, 9_600);
        let f = estimate_f0(&s, sr, 100.0, 2_000.0).expect("a pitch");
        assert!((f / 440.0 - 1.0).abs() < 1e-3, "{f}");

        // A naive saw: all harmonics at 1/n, the case where autocorrelation alone can slip.
        let saw: Vec<f32> = (0..9_600)
            .map(|i| ((i as f64 * 261.63 / sr).fract() * 2.0 - 1.0) as f32)
            .collect();
        let f = estimate_f0(&saw, sr, 100.0, 2_000.0).expect("a pitch");
        assert!((f / 261.63 - 1.0).abs() < 2e-3, "{f}");
    }

    #[test]
    fn measurements_of_simple_signals() {
        let s = sine(1_000.0, 0.5, 48_000.0, 48_000);
        assert!((rms(&s) - 0.5 / 2f64.sqrt()).abs() < 1e-4);
        assert!((peak(&s) - 0.5).abs() < 1e-4);
        assert_eq!(first_unclean(&s), None);
        assert_eq!(
            first_unclean(&[0.0, 1.0, f32::MIN_POSITIVE / 2.0]),
            Some((2, f32::MIN_POSITIVE / 2.0))
        );
        assert!(first_unclean(&[f32::NAN]).is_some());
        assert!((db(0.1) + 20.0).abs() < 1e-12);
    }
}
