//! Designed starting points of the search, and random patches over the knob box.

use crate::num::Rng;
use crate::plant::{P, SPECS, Theta, default_theta};

/// A random patch, uniform over each θ's knob travel (log for times and frequencies).
pub fn random_theta(rng: &mut Rng) -> Theta<f32> {
    std::array::from_fn(|k| SPECS[k].denormalize(rng.uniform()))
}

/// Designed starting points that cover the plant's main families: a search seeded only at
/// random rarely lands in the right basin of a spectral loss.
pub fn archetypes() -> Vec<Theta<f32>> {
    let base = default_theta();
    let with = |changes: &[(P, f32)]| {
        let mut t = base;
        for &(p, v) in changes {
            t[p as usize] = v;
        }
        t
    };
    use P::*;
    vec![
        base,
        // Bright sustained saw (brass, strings).
        with(&[
            (Cutoff, 6_000.0),
            (FilterEnvAmount, 1.0),
            (AmpSustain, 0.9),
            (KeyTrack, 0.5),
        ]),
        // Hollow square (clarinet, square lead).
        with(&[
            (Saw, 0.0),
            (Pulse, 0.8),
            (Width, 0.5),
            (Cutoff, 3_000.0),
            (AmpSustain, 0.9),
        ]),
        // Soft, nearly pure tone with breath (flute, organ).
        with(&[
            (Saw, 0.1),
            (Sine, 0.8),
            (Noise, 0.05),
            (Cutoff, 2_000.0),
            (FilterEnvAmount, 0.0),
            (AmpAttack, 0.04),
            (AmpSustain, 1.0),
        ]),
        // Dark plucked or bowed bass.
        with(&[
            (Cutoff, 600.0),
            (FilterEnvAmount, 2.5),
            (AmpDecay, 1.5),
            (AmpSustain, 0.4),
        ]),
        // Slow bowed attack.
        with(&[
            (AmpAttack, 0.12),
            (Cutoff, 3_500.0),
            (AmpSustain, 1.0),
            (KeyTrack, 0.7),
        ]),
    ]
}
