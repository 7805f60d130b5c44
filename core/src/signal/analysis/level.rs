//! Level: the causal DC blocker and RMS over a window by prefix sums (docs of [`super`], steps
//! 2 and 3).

/// One-pole DC blocker y[n] = x[n] − x[n−1] + R·y[n−1] at 5 Hz. Causal on purpose: a
/// zero-phase (forward-backward) pass would smear a note's DC step backwards by its 32 ms time
/// constant and move the onset earlier; the causal one only delays phase below ~30 Hz by under
/// a millisecond. The state starts as if the signal had been constant at its first value
/// forever, so a pure DC input gives exactly zero instead of a start-up transient.
pub(super) fn dc_block(x: &mut [f32], sr: f32) {
    let r = 1.0 - 2.0 * std::f32::consts::PI * 5.0 / sr;
    let mut prev_x = x.first().copied().unwrap_or(0.0);
    let mut y = 0.0f32;
    for v in x.iter_mut() {
        y = *v - prev_x + r * y;
        prev_x = *v;
        *v = y;
    }
}

/// Prefix sums of x² (f64, so long files keep their precision): RMS of any span in O(1).
pub(super) struct Energy {
    pub(super) cum: Vec<f64>,
}

impl Energy {
    pub(super) fn new(x: &[f32]) -> Self {
        let mut cum = Vec::with_capacity(x.len() + 1);
        let mut s = 0.0f64;
        cum.push(0.0);
        for &v in x {
            s += f64::from(v) * f64::from(v);
            cum.push(s);
        }
        Self { cum }
    }

    pub(super) fn len(&self) -> usize {
        self.cum.len() - 1
    }

    /// RMS over samples [a, b) clipped to the signal; 0 for an empty span.
    pub(super) fn rms(&self, a: usize, b: usize) -> f32 {
        let b = b.min(self.len());
        if a >= b {
            return 0.0;
        }
        ((self.cum[b] - self.cum[a]).max(0.0) / (b - a) as f64).sqrt() as f32
    }
}
