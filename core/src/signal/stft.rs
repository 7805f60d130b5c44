//! One Hann-windowed real FFT frame and its adjoint: the shared front of the loss (L_task) and
//! the encoder's features, both of which need ∂/∂samples of something computed from |X_k|.
//!
//! The adjoint: with G_k = ∂L/∂X_k expressed as a complex number (for ∂L/∂|X_k| = g_k it is
//! g_k·X_k/|X_k|; for ∂L/∂|X_k|² = g_k it is 2·g_k·X_k), ∂L/∂x_n = w_n · Re Σ_k G_k e^{+iφ},
//! one inverse real FFT per frame.

use realfft::num_complex::Complex;
use realfft::num_traits::Float;
use realfft::{ComplexToReal, FftNum, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// A windowed FFT of one frame size, with plans and buffers. Construction allocates; nothing
/// else does.
pub struct FrameFft<T: FftNum> {
    /// FFT size, samples.
    size: usize,
    /// Hann window divided by its sum (a full-scale sine peaks near 0.5 at every size).
    window: Vec<T>,
    /// Forward real FFT plan.
    forward: Arc<dyn RealToComplex<T>>,
    /// Inverse real FFT plan.
    inverse: Arc<dyn ComplexToReal<T>>,
    /// Windowed frame (the forward FFT's input, destroyed by it).
    frame: Vec<T>,
    /// Spectrum of the last frame; the caller overwrites it with G_k before the adjoint.
    pub spectrum: Vec<Complex<T>>,
    /// Time-domain gradient of one frame (the inverse FFT's output).
    frame_grad: Vec<T>,
    /// FFT scratch, long enough for both directions.
    scratch: Vec<Complex<T>>,
}

impl<T: FftNum + Float> FrameFft<T> {
    /// Plans an FFT of `size` samples (a power of two ≥ 8 is fastest; any size ≥ 2 works).
    /// Allocates.
    pub fn new(size: usize) -> Self {
        let size = size.max(2);
        let mut planner = RealFftPlanner::<T>::new();
        let forward = planner.plan_fft_forward(size);
        let inverse = planner.plan_fft_inverse(size);
        let scratch_len = forward.get_scratch_len().max(inverse.get_scratch_len());
        let raw: Vec<f64> = (0..size)
            .map(|n| 0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / size as f64).cos())
            .collect();
        let sum: f64 = raw.iter().sum();
        Self {
            size,
            window: raw.iter().map(|w| cast(w / sum)).collect(),
            frame: forward.make_input_vec(),
            spectrum: forward.make_output_vec(),
            frame_grad: inverse.make_output_vec(),
            scratch: vec![Complex::new(T::zero(), T::zero()); scratch_len],
            forward,
            inverse,
        }
    }

    /// Frame size, samples.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Number of bins, `size / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.spectrum.len()
    }

    /// Windowed spectrum of `x` (at least `size` samples; the first `size` are used) into
    /// [`Self::spectrum`]. Non-finite samples count as silence.
    pub fn analyse(&mut self, x: &[T]) {
        for ((f, &s), &w) in self.frame.iter_mut().zip(x).zip(&self.window) {
            *f = if s.is_finite() { s * w } else { T::zero() };
        }
        // Lengths are right by construction, so the FFT cannot fail.
        let _ = self.forward.process_with_scratch(
            &mut self.frame,
            &mut self.spectrum,
            &mut self.scratch,
        );
    }

    /// Adds `scale ·` the time-domain adjoint of [`Self::spectrum`] (holding G_k) to `out`
    /// (at least `size` samples). Destroys the spectrum.
    pub fn adjoint_into(&mut self, out: &mut [T], scale: T) {
        // irfft(G') = G'_0 + G'_{N/2}(−1)^n + 2 Re Σ_{0<k<N/2} G'_k e^{iφ}: halving the interior
        // bins gives Re Σ_{k=0}^{N/2} G_k e^{iφ}, each bin once.
        let last = self.spectrum.len() - 1;
        let half: T = cast(0.5);
        for (k, c) in self.spectrum.iter_mut().enumerate() {
            if k == 0 || (k == last && self.size.is_multiple_of(2)) {
                *c = Complex::new(c.re, T::zero());
            } else {
                *c = *c * half;
            }
        }
        let _ = self.inverse.process_with_scratch(
            &mut self.spectrum,
            &mut self.frame_grad,
            &mut self.scratch,
        );
        for ((o, &d), &w) in out.iter_mut().zip(&self.frame_grad).zip(&self.window) {
            *o = *o + d * w * scale;
        }
    }
}

/// Σ_k w_k |X_k|² over one band whose first bin is `spectrum[0]`.
pub fn band_power<T: Float>(spectrum: &[Complex<T>], weights: &[T]) -> T {
    spectrum
        .iter()
        .zip(weights)
        .fold(T::zero(), |acc, (c, &w)| {
            acc + (c.re * c.re + c.im * c.im) * w
        })
}

fn cast<T: Float>(v: f64) -> T {
    T::from(v).unwrap_or_else(T::zero)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adjoint of ‖X‖² (Σ_k |X_k|², each bin once) matches central differences.
    #[test]
    fn adjoint_of_power_matches_finite_differences() {
        let mut fft = FrameFft::<f64>::new(64);
        let x: Vec<f64> = (0..64).map(|n| ((n * 7 % 13) as f64 - 6.0) * 0.1).collect();
        let power = |fft: &mut FrameFft<f64>, x: &[f64]| {
            fft.analyse(x);
            fft.spectrum.iter().map(|c| c.norm_sqr()).sum::<f64>()
        };
        power(&mut fft, &x);
        for c in fft.spectrum.iter_mut() {
            *c *= 2.0;
        }
        let mut grad = vec![0.0; 64];
        fft.adjoint_into(&mut grad, 1.0);
        for n in 0..64 {
            let h = 1e-6;
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[n] += h;
            xm[n] -= h;
            let fd = (power(&mut fft, &xp) - power(&mut fft, &xm)) / (2.0 * h);
            assert!(
                (grad[n] - fd).abs() <= 1e-6 + 1e-6 * fd.abs(),
                "{n}: {} vs {fd}",
                grad[n]
            );
        }
    }
}
