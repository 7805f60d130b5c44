//! The theory's "resonance" on θ: a patch change reaches the voices through a critically damped
//! spring–damper (second order: no jump in θ or in its rate of change, so no click and no
//! overshoot), in knob space so every parameter takes the same time.

use crate::plant::{N_THETA, Theta, from_knobs, to_knobs};

/// Natural frequency of the spring, rad/s: a step settles to 95 % in ≈ 4.74/ω ≈ 0.19 s, quick
/// enough to follow a change of instrument, slow enough not to click.
pub const OMEGA: f32 = 25.0;

/// The glide of one patch. Allocation-free; the audio thread owns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Glide {
    /// Position in knob space (0–1 per θ).
    pos: [f32; N_THETA],
    /// Velocity in knob space per second.
    vel: [f32; N_THETA],
    /// Target in knob space.
    target: [f32; N_THETA],
    /// Whether it is still moving.
    moving: bool,
}

impl Glide {
    /// At rest on `theta`.
    pub fn new(theta: &Theta<f32>) -> Self {
        let z = to_knobs(theta);
        Self {
            pos: z,
            vel: [0.0; N_THETA],
            target: z,
            moving: false,
        }
    }

    /// Jumps to `theta` (no glide: a new instance, or state loaded while silent).
    pub fn jump(&mut self, theta: &Theta<f32>) {
        *self = Self::new(theta);
    }

    /// Sets where to glide to.
    pub fn set_target(&mut self, theta: &Theta<f32>) {
        let z = to_knobs(theta);
        if z != self.target {
            self.target = z;
            self.moving = true;
        }
    }

    /// Whether it is still moving.
    pub fn is_moving(&self) -> bool {
        self.moving
    }

    /// Advances `dt` seconds (exact solution of the critically damped spring over the step,
    /// so any step size is stable) and returns θ now.
    pub fn advance(&mut self, dt: f32) -> Theta<f32> {
        if self.moving {
            let e = (-OMEGA * dt).exp();
            let mut still = true;
            for k in 0..N_THETA {
                // x(t) = (x0 + (v0 + ω x0) t) e^{−ωt} for the offset x from the target.
                let x0 = self.pos[k] - self.target[k];
                let v0 = self.vel[k];
                let c = v0 + OMEGA * x0;
                let x = (x0 + c * dt) * e;
                let v = (c - OMEGA * (x0 + c * dt)) * e;
                self.pos[k] = self.target[k] + x;
                self.vel[k] = v;
                if x.abs() > 1e-5 || v.abs() > 1e-4 {
                    still = false;
                }
            }
            if still {
                self.pos = self.target;
                self.vel = [0.0; N_THETA];
                self.moving = false;
            }
        }
        self.current()
    }

    /// θ now.
    pub fn current(&self) -> Theta<f32> {
        from_knobs(&self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::{P, default_theta};

    #[test]
    fn glides_without_jump_or_overshoot_and_settles() {
        let a = default_theta();
        let mut b = a;
        b[P::Cutoff as usize] = 8_000.0;
        let mut g = Glide::new(&a);
        g.set_target(&b);
        let k = P::Cutoff as usize;
        let mut last = a[k];
        let mut first_step = 0.0;
        for i in 0..2_000 {
            let now = g.advance(1.0 / 1_000.0)[k];
            assert!(now >= last - 1e-3 && now <= b[k] + 1e-2, "step {i}: {now}");
            if i == 0 {
                first_step = now - last;
            }
            last = now;
        }
        // Second order: the first millisecond barely moves (no jump in θ's rate).
        assert!(first_step < 0.01 * (b[k] - a[k]), "{first_step}");
        assert!(!g.is_moving());
        assert!((g.current()[k] - b[k]).abs() < 1.0);
    }

    #[test]
    fn step_size_does_not_change_the_path() {
        let a = default_theta();
        let mut b = a;
        b[P::AmpAttack as usize] = 0.5;
        let (mut g1, mut g2) = (Glide::new(&a), Glide::new(&a));
        g1.set_target(&b);
        g2.set_target(&b);
        for _ in 0..100 {
            g1.advance(0.001);
        }
        g2.advance(0.05);
        g2.advance(0.05);
        let (x, y) = (g1.current(), g2.current());
        assert!(
            x.iter()
                .zip(&y)
                .all(|(p, q)| (p - q).abs() <= 1e-3 * p.abs().max(1e-3))
        );
    }
}
