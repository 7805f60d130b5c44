//! Re-embedding: weights for a prototype in this build's embedding space, made from its patch.
//!
//! Prototype weights only mean something in the embedding space they were learned in. A memory
//! learned with another encoder, a version-1 preset (which had no weights) and a designed patch
//! all get their weights the same way: θ is rendered as a held note at a few pitches, each
//! render is embedded where the live learner looks (its context starts
//! [`CONTEXT_OFFSET_S`] after the onset), and the prototype's box is the smallest holding them
//! all — Fuzzy ART's fast learning (β = 1) over the renders. θ itself is never changed.

use crate::memory::art::{CODE_LEN, Code, code};
use crate::memory::encoder::CONTEXT_OFFSET_S;
use crate::memory::encoder::Encoder;
use crate::num::units::note_to_hz;
use crate::plant::Theta;
use crate::plant::render::render_note;

/// MIDI notes rendered: an octave either side of middle C, the register of the eval set.
pub const NOTES: [f32; 3] = [48.0, 60.0, 72.0];
/// Velocity of the renders (0–1): a firm, not maximal, touch.
pub const VELOCITY: f32 = 0.8;

/// Weights of a prototype that no input ever matches (M = 0 for every input) but that still
/// plays: given to a patch too quiet to embed, so the sidechain never trains it by accident.
pub const SILENT: Code = [0.0; CODE_LEN];

/// The weights for `theta` in `encoder`'s space ([`SILENT`] when every render is silent).
/// Allocates (one render per note).
pub fn weights_for(theta: &Theta<f32>, encoder: &mut Encoder, sample_rate: f32) -> Code {
    let offset = (CONTEXT_OFFSET_S * sample_rate) as usize;
    let len = offset + encoder.context_len();
    let mut weights: Option<Code> = None;
    for &note in &NOTES {
        let audio = render_note(theta, note, VELOCITY, len, sample_rate, len);
        let Some(h) = encoder.embed(&audio[offset..], note_to_hz(note)) else {
            continue;
        };
        let input = code(&h);
        weights = Some(match weights {
            None => input,
            Some(mut w) => {
                for (w, i) in w.iter_mut().zip(&input) {
                    *w = w.min(*i);
                }
                w
            }
        });
    }
    weights.unwrap_or(SILENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::art::{ArtConfig, Decision, Memory};
    use crate::plant::{P, default_theta};

    const SR: f32 = 48_000.0;

    #[test]
    fn a_reembedded_patch_recognises_its_own_notes() {
        let mut encoder = Encoder::shipped(SR).expect("shipped encoder");
        let mut bright = default_theta();
        bright[P::Cutoff as usize] = 8_000.0;
        let mut dark = default_theta();
        dark[P::Saw as usize] = 0.0;
        dark[P::Sine as usize] = 1.0;
        dark[P::Cutoff as usize] = 300.0;
        let w_bright = weights_for(&bright, &mut encoder, SR);
        let w_dark = weights_for(&dark, &mut encoder, SR);
        assert_ne!(w_bright, SILENT);
        // Rendered again the same way, each patch is exactly reproducible.
        assert_eq!(weights_for(&bright, &mut encoder, SR), w_bright);
        let mut memory = Memory::new(ArtConfig::default());
        for (name, (theta, weights)) in [("bright", (bright, w_bright)), ("dark", (dark, w_dark))] {
            memory.insert(crate::memory::art::Prototype {
                weights,
                theta,
                name: name.into(),
                uses: 0,
                created: 0.0,
                last_matched: 0.0,
                locked: false,
                loss: f32::INFINITY,
                sources: Vec::new(),
            });
        }
        // A note between the rendered ones, of each patch, resonates with its own prototype.
        for (want, theta) in [(0, bright), (1, dark)] {
            let offset = (CONTEXT_OFFSET_S * SR) as usize;
            let len = offset + encoder.context_len();
            let audio = render_note(&theta, 55.0, 0.7, len, SR, len);
            let h = encoder
                .embed(&audio[offset..], note_to_hz(55.0))
                .expect("audible");
            match memory.present(&h, 1.0, false, |_| theta) {
                Decision::Resonated { index, .. } => assert_eq!(index, want),
                other => panic!("patch {want} did not resonate with its prototype: {other:?}"),
            }
        }
    }

    #[test]
    fn a_silent_patch_gets_weights_nothing_matches() {
        let mut encoder = Encoder::shipped(SR).expect("shipped encoder");
        let mut silent = default_theta();
        for p in [P::Saw, P::Pulse, P::Sine, P::Noise] {
            silent[p as usize] = 0.0;
        }
        assert_eq!(weights_for(&silent, &mut encoder, SR), SILENT);
    }
}
