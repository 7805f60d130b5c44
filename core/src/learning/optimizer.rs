//! The error-driven learning law (docs/ARCHITECTURE.md §5.1): Adam whose first-moment rate is the
//! theory's momentum μ, with its adaptive hyperparameters.
//!
//! - m_t = μ m_{t−1} + (1 − μ) g_t, v_t = β₂ v_{t−1} + (1 − β₂) g_t² (bias-corrected, Kingma & Ba
//!   2015); θ ← θ − α m̂/(√v̂ + ε) + σ·D(θ)·η with η ~ N(0, 1).
//! - α multiplies up while the loss falls and down when it does not: judged against the loss
//!   [`TREND_STEPS`] steps back, so an oscillation that still makes progress keeps α, and one
//!   that stalls (noise, overshoot) shrinks it.
//! - μ is nudged up while the reward (−loss) trends up, down while it trends down.
//! - σ, the dither, is raised only on a plateau (no real improvement over a window of steps) and
//!   decays otherwise. D(θ) = α·I: the dither is measured in current step sizes, so it explores
//!   as far as the optimizer is moving and never swamps a fine convergence.
//!
//! Restarts and the population around this optimizer belong to the learner.

use crate::num::Rng;

/// How many steps back the α and μ rules compare the loss with.
pub const TREND_STEPS: usize = 4;

/// The optimizer's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerConfig {
    /// Initial learning rate α, learning-space units per step.
    pub alpha: f32,
    /// Bounds of α.
    pub alpha_range: (f32, f32),
    /// Factor on α after a step that lowered the loss.
    pub alpha_up: f32,
    /// Factor on α after a step that raised it.
    pub alpha_down: f32,
    /// Initial momentum μ (Adam's β₁).
    pub mu: f32,
    /// Bounds of μ.
    pub mu_range: (f32, f32),
    /// Change of μ per step, following the reward trend.
    pub mu_step: f32,
    /// Second-moment rate β₂.
    pub beta2: f32,
    /// Dither level when a plateau is first seen, in step sizes (α).
    pub sigma_start: f32,
    /// Highest dither level, in step sizes.
    pub sigma_max: f32,
    /// Factor on σ per plateau step.
    pub sigma_up: f32,
    /// Factor on σ per step off a plateau.
    pub sigma_decay: f32,
    /// Steps over which the best loss must improve, else it is a plateau.
    pub plateau_steps: usize,
    /// Relative improvement of the best loss that counts as progress.
    pub plateau_tolerance: f32,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            alpha: 0.05,
            alpha_range: (1e-4, 0.5),
            alpha_up: 1.03,
            alpha_down: 0.9,
            mu: 0.9,
            mu_range: (0.5, 0.95),
            mu_step: 0.01,
            beta2: 0.999,
            sigma_start: 0.5,
            sigma_max: 4.0,
            sigma_up: 1.5,
            sigma_decay: 0.8,
            plateau_steps: 12,
            plateau_tolerance: 1e-3,
        }
    }
}

impl OptimizerConfig {
    /// Plain Adam at a fixed learning rate: no α or μ adaptation, no dither. The reference the
    /// theory's rules are measured against.
    pub fn plain(alpha: f32) -> Self {
        Self {
            alpha,
            alpha_up: 1.0,
            alpha_down: 1.0,
            mu_step: 0.0,
            sigma_start: 0.0,
            sigma_max: 0.0,
            ..Self::default()
        }
    }
}

/// The optimizer's state over N parameters. Allocates nothing.
#[derive(Debug, Clone)]
pub struct Optimizer<const N: usize> {
    /// Settings.
    config: OptimizerConfig,
    /// First moment m.
    m: [f32; N],
    /// Second moment v.
    v: [f32; N],
    /// β₁^t and β₂^t for bias correction (β₁ = μ varies, so its product is tracked).
    bias: (f32, f32),
    /// Learning rate α now.
    alpha: f32,
    /// Momentum μ now.
    mu: f32,
    /// Dither σ now.
    sigma: f32,
    /// The last [`TREND_STEPS`] losses, oldest overwritten first.
    history: [f32; TREND_STEPS],
    /// Exponential average of the reward change (last loss − loss), the trend μ follows.
    trend: f32,
    /// Best loss seen, and the step it was seen at.
    best: (f32, usize),
    /// The θ that scored the best loss: the dither explores, this keeps what was found.
    best_theta: [f32; N],
    /// Steps taken.
    steps: usize,
    /// The dither noise's generator.
    rng: Rng,
}

impl<const N: usize> Optimizer<N> {
    /// A fresh optimizer; `seed` fixes its dither noise.
    pub fn new(config: OptimizerConfig, seed: u64) -> Self {
        Self {
            config,
            m: [0.0; N],
            v: [0.0; N],
            bias: (1.0, 1.0),
            alpha: config.alpha,
            mu: config.mu,
            sigma: 0.0,
            history: [f32::NAN; TREND_STEPS],
            trend: 0.0,
            best: (f32::INFINITY, 0),
            best_theta: [0.0; N],
            steps: 0,
            rng: Rng::from_state(seed | 1),
        }
    }

    /// Learning rate α now.
    pub fn alpha(&self) -> f32 {
        self.alpha
    }

    /// Momentum μ now.
    pub fn mu(&self) -> f32 {
        self.mu
    }

    /// Dither σ now.
    pub fn sigma(&self) -> f32 {
        self.sigma
    }

    /// Steps taken.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The best loss seen and the θ it was measured at (`None` before the first finite loss).
    pub fn best(&self) -> Option<(f32, &[f32; N])> {
        self.best
            .0
            .is_finite()
            .then_some((self.best.0, &self.best_theta))
    }

    /// One step: `loss` and `grad` were measured at `theta`, which is updated in place.
    /// Non-finite gradients are ignored (the step adapts the hyperparameters only).
    pub fn step(&mut self, theta: &mut [f32; N], grad: &[f32; N], loss: f32) {
        if loss.is_finite() && loss < self.best.0 {
            self.best_theta = *theta;
        }
        self.adapt(loss);
        self.steps += 1;
        if !grad.iter().all(|g| g.is_finite()) {
            return;
        }
        let c = self.config;
        self.bias.0 *= self.mu;
        self.bias.1 *= c.beta2;
        let (b1, b2) = (1.0 - self.bias.0, 1.0 - self.bias.1);
        for k in 0..N {
            let g = grad[k];
            self.m[k] = self.mu * self.m[k] + (1.0 - self.mu) * g;
            self.v[k] = c.beta2 * self.v[k] + (1.0 - c.beta2) * g * g;
            let step = self.alpha * (self.m[k] / b1.max(1e-12)) / ((self.v[k] / b2).sqrt() + 1e-8);
            // The dither explores along the knobs the step learns only: a knob with no partial
            // has nothing pulling it back, and would wander.
            let dither = if self.sigma > 0.0 && g != 0.0 {
                self.sigma * self.alpha * self.gaussian()
            } else {
                0.0
            };
            theta[k] -= step;
            theta[k] += dither;
        }
    }

    /// The theory's adaptive rules (docs/ARCHITECTURE.md §5.1), from the loss just measured.
    fn adapt(&mut self, loss: f32) {
        if !loss.is_finite() {
            self.alpha = (self.alpha * self.config.alpha_down).max(self.config.alpha_range.0);
            return;
        }
        let c = self.config;
        let slot = self.steps % TREND_STEPS;
        let then = self.history[slot];
        // While dithering, the loss moves because of the dither: α and μ hold still.
        if then.is_finite() && self.sigma == 0.0 {
            let (lo, hi) = c.alpha_range;
            self.alpha = if loss < then {
                self.alpha * c.alpha_up
            } else {
                self.alpha * c.alpha_down
            }
            .clamp(lo, hi);
            // Reward is −loss: its change is then − loss. Normalise by the loss scale.
            let change = (then - loss) / then.abs().max(1e-12);
            self.trend = 0.8 * self.trend + 0.2 * change;
            let (mlo, mhi) = c.mu_range;
            self.mu = if self.trend > 0.0 {
                self.mu + c.mu_step
            } else {
                self.mu - c.mu_step
            }
            .clamp(mlo, mhi);
        }
        self.history[slot] = loss;

        // Progress (for the plateau test) needs a real improvement; the best θ any improvement.
        if loss < self.best.0 * (1.0 - c.plateau_tolerance) || !self.best.0.is_finite() {
            self.best.1 = self.steps;
        }
        self.best.0 = self.best.0.min(loss);
        let plateau = self.steps >= self.best.1 + c.plateau_steps;
        self.sigma = if plateau {
            (self.sigma * c.sigma_up)
                .max(c.sigma_start)
                .min(c.sigma_max)
        } else {
            self.sigma * c.sigma_decay
        };
        if self.sigma < 1e-6 {
            self.sigma = 0.0;
        }
    }

    /// A standard normal sample.
    fn gaussian(&mut self) -> f32 {
        self.rng.gaussian()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt() -> Optimizer<2> {
        Optimizer::new(OptimizerConfig::default(), 42)
    }

    #[test]
    fn alpha_rises_on_a_falling_loss() {
        let mut o = opt();
        let mut th = [0.0; 2];
        let a0 = o.alpha();
        for i in 0..20 {
            o.step(&mut th, &[0.1, 0.1], 1.0 - 0.04 * i as f32);
        }
        assert!(o.alpha() > a0 * 1.3, "{} vs {a0}", o.alpha());
    }

    #[test]
    fn alpha_falls_on_a_noisy_loss() {
        let mut o = opt();
        let mut th = [0.0; 2];
        let a0 = o.alpha();
        // Noise around a level that does not fall.
        let noise = [0.0, 0.03, -0.02, 0.05, -0.04, 0.01, 0.04, -0.03];
        for i in 0..24 {
            o.step(&mut th, &[0.1, 0.1], 1.0 + noise[i % noise.len()]);
        }
        assert!(o.alpha() < a0 * 0.8, "{} vs {a0}", o.alpha());
    }

    #[test]
    fn mu_follows_the_reward_trend() {
        let mut up = opt();
        let mut down = opt();
        let mut th = [0.0; 2];
        for i in 0..10 {
            up.step(&mut th, &[0.0, 0.0], 1.0 / (1.0 + i as f32));
            down.step(&mut th, &[0.0, 0.0], 1.0 + i as f32);
        }
        assert!(
            up.mu() > 0.9 && down.mu() < 0.9,
            "up {} down {}",
            up.mu(),
            down.mu()
        );
    }

    #[test]
    fn sigma_rises_only_on_a_plateau() {
        let mut o = opt();
        let mut th = [0.0; 2];
        for i in 0..30 {
            o.step(&mut th, &[0.01, 0.01], 1.0 / (1.0 + i as f32));
            assert_eq!(o.sigma(), 0.0, "dither while improving, step {i}");
        }
        let mut seen = 0.0;
        for _ in 0..30 {
            o.step(&mut th, &[0.01, 0.01], 0.5);
            seen = o.sigma();
        }
        assert!(
            seen >= OptimizerConfig::default().sigma_start,
            "no dither on a plateau"
        );
        // Progress again: the dither decays away.
        for i in 0..40 {
            o.step(&mut th, &[0.01, 0.01], 0.4 / (1.0 + i as f32));
        }
        assert!(o.sigma() < 0.01 * seen, "{}", o.sigma());
    }

    #[test]
    fn descends_a_badly_scaled_quadratic() {
        // The gradient law with its α and μ adaptation, dither off: on a convex bowl it must
        // converge by itself (the dither is for the spectral loss's local minima).
        let config = OptimizerConfig {
            sigma_start: 0.0,
            sigma_max: 0.0,
            ..Default::default()
        };
        let mut o = Optimizer::<2>::new(config, 42);
        let mut th = [3.0f32, -2.0];
        let f = |t: &[f32; 2]| 100.0 * t[0] * t[0] + 0.5 * t[1] * t[1];
        for _ in 0..600 {
            let g = [200.0 * th[0], th[1]];
            let l = f(&th);
            o.step(&mut th, &g, l);
        }
        let (best, at) = o.best().expect("a best point");
        assert!(best < 1e-3 && f(at) == best, "best {best} at {at:?}");
    }

    #[test]
    fn non_finite_input_changes_nothing_but_alpha() {
        let mut o = opt();
        let mut th = [1.0f32, 1.0];
        o.step(&mut th, &[f32::NAN, 0.0], 1.0);
        assert_eq!(th, [1.0, 1.0]);
        let a = o.alpha();
        o.step(&mut th, &[0.0, 0.0], f32::INFINITY);
        assert!(o.alpha() < a);
        assert!(th.iter().all(|t| t.is_finite()));
    }
}
