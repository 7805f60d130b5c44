//! f0 by YIN (de Cheveigné & Kawahara 2002, JASA 111(4)) on a low-passed, decimated copy,
//! re-measured and interpolated at full rate around the chosen dip (docs of [`super`], step 4).

use super::Params;
use crate::num::units::db_to_amplitude;

/// Σ (a_j − b_j)² with eight partial sums, so the compiler can vectorise it (a single running
/// sum is a serial dependency chain it may not reorder).
pub(super) fn sq_diff_sum(a: &[f32], b: &[f32]) -> f32 {
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
pub(super) fn parabolic_offset(a: f32, b: f32, c: f32) -> f32 {
    let den = a - 2.0 * b + c;
    if den > 0.0 && den.is_finite() {
        (0.5 * (a - c) / den).clamp(-0.5, 0.5)
    } else {
        0.0
    }
}

/// Symmetric windowed-sinc (Blackman) low-pass with cutoff `fc` in cycles per sample and
/// `2·half + 1` taps, normalised to unit DC gain.
pub(super) fn lowpass_taps(fc: f32, half: usize) -> Vec<f32> {
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
pub(super) struct YinInput {
    /// Full-rate signal with `pad` zeros on both sides.
    pub(super) full: Vec<f32>,
    /// Low-passed `full`, every `dec`-th sample: `dec_sig[k]` sits at `full[k · dec]`.
    pub(super) dec_sig: Vec<f32>,
    pub(super) pad: usize,
}

impl YinInput {
    pub(super) fn new(x: &[f32], p: &Params) -> Self {
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
    pub(super) fn pitch(
        &self,
        centre: usize,
        p: &Params,
        cmnd: &mut Vec<f32>,
    ) -> (Option<f32>, f32) {
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
            && self.partial(centre, f0, p)
                < db_to_amplitude(-20.0) * self.partial(centre, 2.0 * f0, p)
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
    pub(super) fn refine(&self, centre: usize, lag: f32, p: &Params) -> Option<f32> {
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
    pub(super) fn partial(&self, centre: usize, f: f32, p: &Params) -> f32 {
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
pub(super) const OCTAVE_CMND: f32 = 0.3;
