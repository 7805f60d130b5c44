//! Designed starting points of the search, and random patches over the knob box.

use crate::num::Rng;
use crate::plant::theta::N_THETA_V1;
use crate::plant::{P, SECTIONS, SPECS, Theta, default_theta};

/// A random patch: the first version's knobs uniform over their travel (log for times and
/// frequencies), the sections after them at their defaults, which leave the sound as it was.
/// A search seeded with random sections lands in patches whose every section is busy, which
/// the loss's short windows cannot tell from a simple patch that plays the whole note right.
pub fn random_theta(rng: &mut Rng) -> Theta<f32> {
    std::array::from_fn(|k| {
        if k < N_THETA_V1 {
            SPECS[k].denormalize(rng.uniform())
        } else {
            SPECS[k].default
        }
    })
}

/// A random patch with sections: [`random_theta`], then each of the plant's [`SECTIONS`] switched
/// on with probability `share`, its knobs uniform over their travel. What the encoder trains on,
/// so that it has heard every part of the plant.
pub fn random_theta_with_sections(rng: &mut Rng, share: f32) -> Theta<f32> {
    let mut t = random_theta(rng);
    for section in SECTIONS {
        if rng.uniform() < share {
            for &p in section {
                t[p as usize] = SPECS[p as usize].denormalize(rng.uniform());
            }
        }
    }
    t
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
        // Organ: a sine with drawbars at the octaves and the twelfth.
        with(&[
            (Saw, 0.0),
            (Sine, 0.8),
            (Drawbar2, 0.6),
            (Drawbar3, 0.3),
            (Drawbar4, 0.5),
            (Drawbar6, 0.2),
            (Drawbar8, 0.3),
            (Cutoff, 8_000.0),
            (FilterEnvAmount, 0.0),
            (AmpAttack, 0.03),
            (AmpSustain, 1.0),
            (AmpRelease, 0.2),
        ]),
        // Reed: a hollow square through a body resonance near 3 kHz, a little noise.
        with(&[
            (Saw, 0.0),
            (Pulse, 0.8),
            (Width, 0.5),
            (Noise, 0.03),
            (Cutoff, 4_000.0),
            (Body2Freq, 2_800.0),
            (Body2Gain, 12.0),
            (Body2Q, 1.5),
            (AmpAttack, 0.03),
            (AmpSustain, 1.0),
        ]),
        // Bowed string: a saw through two body resonances.
        with(&[
            (Cutoff, 5_000.0),
            (Body1Freq, 450.0),
            (Body1Gain, 6.0),
            (Body1Q, 2.0),
            (Body2Freq, 3_000.0),
            (Body2Gain, 6.0),
            (Body2Q, 1.5),
            (AmpAttack, 0.08),
            (AmpSustain, 1.0),
        ]),
        // Breathy flute: a sine with noise, a body resonance lifting the noise near 3 kHz.
        with(&[
            (Saw, 0.1),
            (Sine, 0.7),
            (Noise, 0.1),
            (Cutoff, 3_000.0),
            (FilterEnvAmount, 0.0),
            (Body2Freq, 3_000.0),
            (Body2Gain, 6.0),
            (AmpAttack, 0.06),
            (AmpSustain, 1.0),
        ]),
        // Brass: a saw whose filter opens on the attack.
        with(&[
            (Saw, 0.9),
            (Cutoff, 2_000.0),
            (FilterEnvAmount, 2.0),
            (FilterAttack, 0.05),
            (Body2Freq, 1_500.0),
            (Body2Gain, 4.0),
            (AmpAttack, 0.03),
            (AmpSustain, 0.9),
        ]),
    ]
}
