//! The coupling of the two halves (docs/ARCHITECTURE.md §5.3): the resonance regularizer
//! L_total = L_task + λ_ART · D(E(φ(plant output)), w_j)², where D is the distance from the
//! embedding of the plant's sound to prototype j's category box (mean over dimensions, 0 inside
//! the box), with its exact gradient through the encoder and the plant.
//!
//! The theory's embedding dynamics h* ← h* + λ(w_j − h*) move the embedding toward its prototype;
//! the feedback β(h*_{t+1} − h*_t) lives in embedding space (d = 16) and cannot be added to θ
//! (18 values). Its image in θ-space is Jᵀ·Δh with J = ∂h/∂θ, and that is exactly
//! −∂(λ D²)/∂θ up to the factor 2D/d: so the regularizer's gradient, computed here by the dual
//! render (∂samples/∂θ) and the encoder's backward pass (∂h/∂samples), *is* the mapped
//! feedback, and each gradient step applies it.

use crate::learning::loss::chain_to_inputs;
use crate::memory::encoder::{CONTEXT_OFFSET_S, EMBED_DIM, Embedding, Encoder};
use crate::num::real::Real;
use crate::plant::render::{NoteSpec, render_window};
use crate::plant::{G, Learned, N_THETA, Theta};

/// Distance from `h` to the box [`lower`, `upper`], mean per dimension, with ∂/∂h.
pub fn box_distance(h: &Embedding, lower: &Embedding, upper: &Embedding) -> (f32, Embedding) {
    let mut d = 0.0;
    let mut grad = [0.0; EMBED_DIM];
    for k in 0..EMBED_DIM {
        if h[k] < lower[k] {
            d += lower[k] - h[k];
            grad[k] = -1.0 / EMBED_DIM as f32;
        } else if h[k] > upper[k] {
            d += h[k] - upper[k];
            grad[k] = 1.0 / EMBED_DIM as f32;
        }
    }
    (d / EMBED_DIM as f32, grad)
}

/// The regularizer for one prototype's box, scored on one note. Construction allocates;
/// evaluation does not.
pub struct Attractor {
    /// The encoder (the embedding space the box lives in).
    encoder: Encoder,
    /// The box's lower corner u.
    lower: Embedding,
    /// The box's upper corner v.
    upper: Embedding,
    /// λ_ART.
    weight: f32,
    /// The note played for the embedding.
    note: NoteSpec,
    /// Samples skipped after the onset before the context.
    skip: usize,
    /// Sample rate, Hz.
    sample_rate: f32,
    /// Dual render of the context.
    dual: Vec<G>,
    /// Plain values of the context.
    plain: Vec<f32>,
    /// ∂(term)/∂sample over the context.
    d_x: Vec<f32>,
}

impl Attractor {
    /// The regularizer toward the box [`lower`, `upper`] with weight `weight` (λ_ART ≥ 0),
    /// played on `note`. Allocates.
    pub fn new(
        encoder: Encoder,
        (lower, upper): (Embedding, Embedding),
        weight: f32,
        note: NoteSpec,
        sample_rate: f32,
    ) -> Self {
        let len = encoder.context_len();
        Self {
            encoder,
            lower,
            upper,
            weight: if weight.is_finite() {
                weight.max(0.0)
            } else {
                0.0
            },
            note,
            skip: (CONTEXT_OFFSET_S * sample_rate) as usize,
            sample_rate,
            dual: vec![G::cst(0.0); len],
            plain: vec![0.0; len],
            d_x: vec![0.0; len],
        }
    }

    /// The embedding of θ's sound on the note (`None` if it is silent).
    pub fn embedding(&mut self, theta: &Theta<f32>) -> Option<Embedding> {
        render_window(
            theta,
            &self.note,
            self.skip,
            self.sample_rate,
            &mut self.plain,
        );
        self.encoder.embed(&self.plain, self.note.f0_hz)
    }

    /// λ · D² for θ (0 for a silent sound: silence has no embedding to pull).
    pub fn term(&mut self, theta: &Theta<f32>) -> f32 {
        self.embedding(theta).map_or(0.0, |h| {
            let d = box_distance(&h, &self.lower, &self.upper).0;
            self.weight * d * d
        })
    }

    /// λ · D² and its gradient with respect to the `learned` knobs `theta` carries partials
    /// for (0 for the others).
    pub fn term_and_gradient(
        &mut self,
        theta: &Theta<G>,
        learned: &Learned,
    ) -> (f32, [f32; N_THETA]) {
        render_window(
            theta,
            &self.note,
            self.skip,
            self.sample_rate,
            &mut self.dual,
        );
        for (p, y) in self.plain.iter_mut().zip(&self.dual) {
            *p = y.v;
        }
        let Some(h) = self.encoder.embed(&self.plain, self.note.f0_hz) else {
            return (0.0, [0.0; N_THETA]);
        };
        let (d, dd_dh) = box_distance(&h, &self.lower, &self.upper);
        if d == 0.0 || self.weight == 0.0 {
            return (0.0, [0.0; N_THETA]);
        }
        let d_h: Embedding = std::array::from_fn(|k| 2.0 * self.weight * d * dd_dh[k]);
        self.d_x.fill(0.0);
        self.encoder
            .embed_backward(&self.plain, self.note.f0_hz, &d_h, &mut self.d_x);
        let partials = chain_to_inputs(&self.dual, &self.d_x);
        (self.weight * d * d, learned.scatter(&partials))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::{Learned, dual_at_knobs, from_knobs};
    use crate::plant::{SPECS, default_theta};

    fn note() -> NoteSpec {
        NoteSpec {
            f0_hz: 196.0,
            velocity: 0.8,
            release_at: 48_000,
        }
    }

    #[test]
    fn box_distance_is_zero_inside_and_mean_l1_outside() {
        let lower = [0.2; EMBED_DIM];
        let upper = [0.6; EMBED_DIM];
        assert_eq!(box_distance(&[0.4; EMBED_DIM], &lower, &upper).0, 0.0);
        let (d, g) = box_distance(&[0.9; EMBED_DIM], &lower, &upper);
        assert!((d - 0.3).abs() < 1e-6);
        assert!(g.iter().all(|&v| v > 0.0));
    }

    /// The regularizer's gradient (dual render → encoder backward → Jᵀ) against central
    /// differences of the term, in the learner's 0–1 knob space.
    #[test]
    fn regularizer_gradient_matches_finite_differences() {
        let sr = 48_000.0;
        let encoder = Encoder::shipped(sr).expect("shipped weights");
        let start = default_theta();
        let z: [f32; N_THETA] =
            std::array::from_fn(|k| SPECS[k].normalize(start[k]).clamp(0.1, 0.9));
        let theta_of = |z: &[f32; N_THETA]| -> Theta<f32> { from_knobs(z) };
        let mut probe = Attractor::new(
            encoder,
            ([0.0; EMBED_DIM], [1.0; EMBED_DIM]),
            1.0,
            note(),
            sr,
        );
        let h0 = probe.embedding(&theta_of(&z)).expect("audible");
        // A point box away from the sound's embedding, so the term and its gradient are not 0.
        let target: Embedding = std::array::from_fn(|k| {
            if h0[k] > 0.5 {
                h0[k] - 0.3
            } else {
                h0[k] + 0.3
            }
        });
        let encoder = Encoder::shipped(sr).expect("shipped weights");
        let mut a = Attractor::new(encoder, (target, target), 2.0, note(), sr);
        let learned = Learned::core();
        let dual = dual_at_knobs(&z, &learned);
        let (term, grad) = a.term_and_gradient(&dual, &learned);
        assert!(term > 0.0);
        assert!((term - a.term(&theta_of(&z))).abs() <= 1e-4 * term);
        let scale = grad.iter().fold(0.0f32, |m, g| m.max(g.abs()));
        assert!(scale > 0.0);
        let mut agree = 0;
        for k in learned.knobs() {
            let h = 1e-3;
            let (mut zp, mut zm) = (z, z);
            zp[k] += h;
            zm[k] -= h;
            let fd = (a.term(&theta_of(&zp)) - a.term(&theta_of(&zm))) / (2.0 * h);
            let ok = (grad[k] - fd).abs() <= 0.05 * fd.abs() + 0.02 * scale;
            if !ok {
                println!("θ{k}: gradient {} vs differences {fd}", grad[k]);
            }
            agree += usize::from(ok);
        }
        // f32 renders and an L1 box distance (kinks) leave a partial or two noisy.
        let n = learned.knobs().count();
        assert!(agree >= n - 2, "{agree} of {n} partials agree");
    }
}
