//! W, the Fuzzy ART prototype memory (Carpenter, Grossberg & Rosen 1991; docs/ARCHITECTURE.md
//! §5.2) over complement-coded embeddings I = [h, 1 − h].
//!
//! Choice T_j = |I ∧ w_j| / (α + |w_j|) orders the candidates; the vigilance test
//! M_j = |I ∧ w_j| / |I| ≥ ρ accepts one (resonance) or passes to the next; if none resonates,
//! a new prototype is committed with w = I (fast first commitment). Resonance learns
//! w_j ← w_j + η((I ∧ w_j) − w_j), so weights only shrink (the category's box only grows) and
//! nothing another timbre taught is overwritten. With complement coding |I| = d for every
//! input, and for a category box [u, v] M_j = 1 − (size of the box + distance to it) / d, both
//! as L1 sums.
//!
//! Capacity policy: when the memory is full, nothing is overwritten and nothing is allocated:
//! an input that resonates with no prototype is answered with the best-choice prototype
//! (played, not learned from) and counted in [`Memory::refused`], so the user sees that the
//! memory is full and can delete or merge prototypes.

use crate::memory::encoder::{EMBED_DIM, Embedding};
use crate::plant::Theta;

/// Length of a complement-coded input.
pub const CODE_LEN: usize = 2 * EMBED_DIM;
/// Default vigilance ρ.
pub const DEFAULT_VIGILANCE: f32 = 0.8;
/// Default capacity (prototypes).
pub const DEFAULT_CAPACITY: usize = 256;
/// How far above a mispredicted category's match the vigilance rises in match tracking.
pub const MATCH_TRACKING_EPSILON: f32 = 1e-4;
/// Hard upper limit on capacity (memory, presets, and the GUI's list stay bounded).
pub const MAX_CAPACITY: usize = 1_024;

/// A prototype index with its match value M_j.
pub type Candidate = (usize, f32);

/// A complement-coded input or weight vector.
pub type Code = [f32; CODE_LEN];

/// Settings of the memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArtConfig {
    /// Vigilance ρ in [0, 1]: how close an input must be to resonate (higher = more, finer
    /// prototypes).
    pub vigilance: f32,
    /// Choice parameter α > 0 (small: prefer the categories that already contain the input).
    pub choice: f32,
    /// Resonance learning rate η in (0, 1]: slow learning keeps each category's box tight
    /// (seed: ~1e-3 per presentation; presentations come every 0.256 s of sound).
    pub learning_rate: f32,
    /// Most prototypes held.
    pub capacity: usize,
}

impl Default for ArtConfig {
    fn default() -> Self {
        Self {
            vigilance: DEFAULT_VIGILANCE,
            choice: 1e-3,
            learning_rate: 1e-2,
            capacity: DEFAULT_CAPACITY,
        }
    }
}

/// One remembered timbre.
#[derive(Debug, Clone, PartialEq)]
pub struct Prototype {
    /// Complement-coded weights [u, 1 − v] of the category box [u, v].
    pub weights: Code,
    /// Its learned patch θ_j.
    pub theta: Theta<f32>,
    /// Display name (user-renamable).
    pub name: String,
    /// Presentations it won.
    pub uses: u64,
    /// Stream time it was committed, seconds of audio heard.
    pub created: f64,
    /// Stream time it last won, seconds of audio heard.
    pub last_matched: f64,
    /// Locked prototypes are never changed (weights or θ).
    pub locked: bool,
    /// The learner's last loss for its θ (∞ until learned).
    pub loss: f32,
    /// The recordings it was learned from (file names; empty when learned live). Informational:
    /// kept through presets and project states.
    pub sources: Vec<String>,
}

/// What a presentation did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Prototype `index` passed the vigilance test with match `m` (and learned, if asked and
    /// unlocked).
    Resonated { index: usize, m: f32 },
    /// No prototype passed; a new one was committed at `index`. `nearest` is the best-choice
    /// prototype before it, with its match, if any.
    Allocated {
        index: usize,
        nearest: Option<(usize, f32)>,
    },
    /// No prototype passed and the memory is full (or learning is off): the best-choice
    /// prototype and its match, if the memory is not empty.
    Unmatched { nearest: Option<(usize, f32)> },
}

/// The prototype memory.
#[derive(Debug, Clone)]
pub struct Memory {
    /// Settings.
    config: ArtConfig,
    /// The prototypes, in commitment order.
    prototypes: Vec<Prototype>,
    /// Inputs refused because the memory was full.
    refused: u64,
    /// Presentations so far.
    presented: u64,
}

/// Complement code of an embedding (values clamped to [0, 1]; non-finite ones read as 0.5).
pub fn code(h: &Embedding) -> Code {
    let mut c = [0.0; CODE_LEN];
    for (k, &v) in h.iter().enumerate() {
        let v = if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.5
        };
        c[k] = v;
        c[EMBED_DIM + k] = 1.0 - v;
    }
    c
}

/// |a ∧ b| (fuzzy AND: element-wise minimum, L1 norm).
fn and_norm(a: &Code, b: &Code) -> f32 {
    a.iter().zip(b).map(|(x, y)| x.min(*y)).sum()
}

fn norm(a: &Code) -> f32 {
    a.iter().sum()
}

impl Memory {
    /// An empty memory. Allocates room for every prototype.
    pub fn new(config: ArtConfig) -> Self {
        let config = ArtConfig {
            vigilance: if config.vigilance.is_finite() {
                config.vigilance.clamp(0.0, 1.0)
            } else {
                DEFAULT_VIGILANCE
            },
            choice: if config.choice.is_finite() {
                config.choice.max(1e-9)
            } else {
                1e-3
            },
            learning_rate: if config.learning_rate.is_finite() {
                config.learning_rate.clamp(0.0, 1.0)
            } else {
                0.0
            },
            capacity: config.capacity.clamp(1, MAX_CAPACITY),
        };
        Self {
            config,
            prototypes: Vec::with_capacity(config.capacity),
            refused: 0,
            presented: 0,
        }
    }

    /// Settings in use.
    pub fn config(&self) -> &ArtConfig {
        &self.config
    }

    /// Sets ρ (clamped to [0, 1]; non-finite values are ignored).
    pub fn set_vigilance(&mut self, rho: f32) {
        if rho.is_finite() {
            self.config.vigilance = rho.clamp(0.0, 1.0);
        }
    }

    /// The prototypes.
    pub fn prototypes(&self) -> &[Prototype] {
        &self.prototypes
    }

    /// One prototype, to rename, lock or set its θ (a locked one's θ is the caller's to keep).
    pub fn prototype_mut(&mut self, index: usize) -> Option<&mut Prototype> {
        self.prototypes.get_mut(index)
    }

    /// Inputs refused because the memory was full.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Presentations so far.
    pub fn presented(&self) -> u64 {
        self.presented
    }

    /// Match M_j of an input with prototype `index`.
    pub fn match_value(&self, index: usize, input: &Code) -> f32 {
        self.prototypes
            .get(index)
            .map_or(0.0, |p| and_norm(input, &p.weights) / norm(input).max(1e-9))
    }

    /// The `k` prototypes whose match with `input` is highest, best first (ties to the older).
    /// Allocates.
    pub fn nearest(&self, input: &Code, k: usize) -> Vec<usize> {
        let mut all: Vec<(usize, f32)> = (0..self.prototypes.len())
            .map(|j| (j, self.match_value(j, input)))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.into_iter().take(k).map(|(j, _)| j).collect()
    }

    /// Resonance search without learning: the first candidate in choice order that passes
    /// vigilance, else `None`, and the best-choice candidate with its match. Allocates nothing.
    ///
    /// Searching in choice order and stopping at the first candidate that passes is the same as
    /// taking the highest-choice candidate among those that pass, so one pass over the
    /// prototypes does it, with no sort (ties go to the older prototype either way).
    pub fn search(&mut self, input: &Code) -> (Option<Candidate>, Option<Candidate>) {
        self.search_above(input, self.config.vigilance)
    }

    /// [`Self::search`] with the vigilance `rho` instead of the memory's own (match tracking
    /// raises it per input).
    fn search_above(&self, input: &Code, rho: f32) -> (Option<Candidate>, Option<Candidate>) {
        let size = norm(input).max(1e-9);
        let mut best: Option<(f32, Candidate)> = None;
        let mut resonant: Option<(f32, Candidate)> = None;
        for (j, p) in self.prototypes.iter().enumerate() {
            let overlap = and_norm(input, &p.weights);
            let t = overlap / (self.config.choice + norm(&p.weights));
            let m = overlap / size;
            if best.is_none_or(|(bt, _)| t > bt) {
                best = Some((t, (j, m)));
            }
            if m >= rho && resonant.is_none_or(|(rt, _)| t > rt) {
                resonant = Some((t, (j, m)));
            }
        }
        (resonant.map(|r| r.1), best.map(|b| b.1))
    }

    /// Presents an embedding heard at stream time `now` (seconds). With `learn`, a resonating
    /// prototype learns (unless locked) and a mismatch commits a new prototype whose θ is
    /// `new_theta(nearest)` (the memory as the optimizer's attractor: start from the nearest
    /// prototype's patch). Without `learn` nothing changes but the counts. Allocates only when
    /// it commits a prototype (its name).
    pub fn present(
        &mut self,
        h: &Embedding,
        now: f64,
        learn: bool,
        new_theta: impl FnOnce(Option<usize>) -> Theta<f32>,
    ) -> Decision {
        self.present_tracked(h, now, learn, new_theta, |_| true).0
    }

    /// [`Self::present`] with match tracking (Fuzzy ARTMAP, Carpenter et al. 1992): a
    /// prototype that passes the vigilance test but whose patch `predicts(j)` says cannot play
    /// the input is a mispredicted category, so the vigilance rises just above its match for
    /// this input and the search goes on; if nothing else resonates, a new prototype is
    /// committed. Returns the decision and how many candidates match tracking reset.
    pub fn present_tracked(
        &mut self,
        h: &Embedding,
        now: f64,
        learn: bool,
        new_theta: impl FnOnce(Option<usize>) -> Theta<f32>,
        mut predicts: impl FnMut(usize) -> bool,
    ) -> (Decision, usize) {
        self.presented += 1;
        let input = code(h);
        let mut rho = self.config.vigilance;
        let mut reset = 0;
        let (resonant, nearest) = loop {
            let (resonant, nearest) = self.search_above(&input, rho);
            match resonant {
                Some((j, m)) if !predicts(j) => {
                    reset += 1;
                    rho = m + MATCH_TRACKING_EPSILON;
                }
                _ => break (resonant, nearest),
            }
        };
        (
            self.commit_or_learn(input, resonant, nearest, now, learn, new_theta),
            reset,
        )
    }

    /// The second half of a presentation: learn in the resonant prototype, or commit a new one.
    fn commit_or_learn(
        &mut self,
        input: Code,
        resonant: Option<Candidate>,
        nearest: Option<Candidate>,
        now: f64,
        learn: bool,
        new_theta: impl FnOnce(Option<usize>) -> Theta<f32>,
    ) -> Decision {
        if let Some((index, m)) = resonant {
            let eta = self.config.learning_rate;
            let p = &mut self.prototypes[index];
            p.uses += 1;
            p.last_matched = now;
            if learn && !p.locked {
                for (w, &i) in p.weights.iter_mut().zip(&input) {
                    *w += eta * (i.min(*w) - *w);
                }
            }
            return Decision::Resonated { index, m };
        }
        if !learn {
            return Decision::Unmatched { nearest };
        }
        if self.prototypes.len() >= self.config.capacity {
            self.refused += 1;
            return Decision::Unmatched { nearest };
        }
        let theta = new_theta(nearest.map(|n| n.0));
        let index = self.prototypes.len();
        self.prototypes.push(Prototype {
            weights: input,
            theta,
            name: format!("Timbre {}", index + 1),
            uses: 1,
            created: now,
            last_matched: now,
            locked: false,
            loss: f32::INFINITY,
            sources: Vec::new(),
        });
        Decision::Allocated { index, nearest }
    }

    /// Commits a prototype for `h` with patch `theta` at stream time `now` (a split: its notes
    /// were recognised as another prototype's, whose patch could not play them). `None` when
    /// full. Allocates (its name).
    pub fn commit(&mut self, h: &Embedding, now: f64, theta: Theta<f32>) -> Option<usize> {
        match self.commit_or_learn(code(h), None, None, now, true, |_| theta) {
            Decision::Allocated { index, .. } => Some(index),
            _ => None,
        }
    }

    /// Fast learning of `h` in prototype `index` (η = 1: its box grows just enough to hold
    /// `h`), as a split prototype takes in the rest of its notes.
    pub fn widen(&mut self, index: usize, h: &Embedding) {
        if let Some(p) = self.prototypes.get_mut(index) {
            let input = code(h);
            for (w, &i) in p.weights.iter_mut().zip(&input) {
                *w = w.min(i);
            }
            p.uses += 1;
        }
    }

    /// Puts back prototype `index`'s weights as they were before a recording whose notes split
    /// off, and takes back the `uses` those notes counted.
    pub fn restore_weights(&mut self, index: usize, weights: Code, uses: u64) {
        if let Some(p) = self.prototypes.get_mut(index) {
            p.weights = weights;
            p.uses = p.uses.saturating_sub(uses);
        }
    }

    /// Adds a prototype as it is (from a preset). `None` when full.
    pub fn insert(&mut self, prototype: Prototype) -> Option<usize> {
        if self.prototypes.len() >= self.config.capacity {
            return None;
        }
        self.prototypes.push(prototype);
        Some(self.prototypes.len() - 1)
    }

    /// Removes prototype `index` (deallocates its name; not for the audio thread).
    pub fn remove(&mut self, index: usize) -> Option<Prototype> {
        (index < self.prototypes.len()).then(|| self.prototypes.remove(index))
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.prototypes.clear();
        self.refused = 0;
        self.presented = 0;
    }

    /// The category box [u, v] of prototype `index`, per embedding dimension.
    pub fn bounds(&self, index: usize) -> Option<(Embedding, Embedding)> {
        let p = self.prototypes.get(index)?;
        let lo = std::array::from_fn(|k| p.weights[k]);
        let hi = std::array::from_fn(|k| 1.0 - p.weights[EMBED_DIM + k]);
        Some((lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::default_theta;
    use proptest::prelude::*;

    fn embedding() -> impl Strategy<Value = Embedding> {
        proptest::array::uniform16(0.0f32..=1.0)
    }

    fn no_theta(_: Option<usize>) -> Theta<f32> {
        default_theta()
    }

    proptest! {
        #[test]
        fn complement_coding_keeps_the_input_size(h in embedding()) {
            prop_assert!((norm(&code(&h)) - EMBED_DIM as f32).abs() < 1e-4);
        }

        #[test]
        fn weights_never_grow(first in embedding(), rest in proptest::collection::vec(embedding(), 1..40),
                              rho in 0.0f32..1.0, eta in 0.0f32..=1.0) {
            let mut m = Memory::new(ArtConfig { vigilance: rho, learning_rate: eta, ..ArtConfig::default() });
            m.present(&first, 0.0, true, no_theta);
            for h in &rest {
                let before: Vec<Code> = m.prototypes().iter().map(|p| p.weights).collect();
                m.present(h, 0.0, true, no_theta);
                for (b, p) in before.iter().zip(m.prototypes()) {
                    prop_assert!(b.iter().zip(&p.weights).all(|(x, y)| y <= x));
                }
            }
        }

        #[test]
        fn a_prototype_matches_itself(hs in proptest::collection::vec(embedding(), 1..30), rho in 0.5f32..1.0) {
            let mut m = Memory::new(ArtConfig { vigilance: rho, ..ArtConfig::default() });
            for h in &hs {
                m.present(h, 0.0, true, no_theta);
            }
            for j in 0..m.prototypes().len() {
                // The box's corner u lies inside the box: M = 1 − size/d ≥ ρ for its own input
                // when the box is still a point, and exactly |w|/d otherwise.
                let (lo, _) = m.bounds(j).unwrap();
                let w = m.prototypes()[j].weights;
                prop_assert!((m.match_value(j, &code(&lo)) - norm(&w) / EMBED_DIM as f32).abs() < 1e-4);
            }
        }

        #[test]
        fn locked_prototypes_never_change(hs in proptest::collection::vec(embedding(), 2..30)) {
            let mut m = Memory::new(ArtConfig { vigilance: 0.0, learning_rate: 1.0, ..ArtConfig::default() });
            m.present(&hs[0], 0.0, true, no_theta);
            m.prototype_mut(0).unwrap().locked = true;
            let before = m.prototypes()[0].clone();
            for h in &hs[1..] {
                m.present(h, 1.0, true, no_theta);
            }
            prop_assert_eq!(m.prototypes()[0].weights, before.weights);
            prop_assert_eq!(m.prototypes()[0].theta, before.theta);
        }
    }

    #[test]
    fn a_committed_point_resonates_with_itself() {
        let mut m = Memory::new(ArtConfig::default());
        let h = [0.3; EMBED_DIM];
        assert!(matches!(
            m.present(&h, 0.0, true, no_theta),
            Decision::Allocated {
                index: 0,
                nearest: None
            }
        ));
        match m.present(&h, 1.0, true, no_theta) {
            Decision::Resonated { index: 0, m } => assert!((m - 1.0).abs() < 1e-6),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn distinct_clusters_get_their_own_prototypes() {
        let mut m = Memory::new(ArtConfig::default());
        let mut rng = crate::num::Rng::new(7);
        let mut noise = || (rng.uniform() - 0.5) * 0.1;
        let centres = [
            [0.2; EMBED_DIM],
            [0.8; EMBED_DIM],
            std::array::from_fn(|k| if k % 2 == 0 { 0.1 } else { 0.9 }),
        ];
        let mut labels = Vec::new();
        for round in 0..20 {
            for (c, centre) in centres.iter().enumerate() {
                let h: Embedding = std::array::from_fn(|k| centre[k] + noise());
                let d = m.present(&h, round as f64, true, no_theta);
                let j = match d {
                    Decision::Resonated { index, .. } | Decision::Allocated { index, .. } => index,
                    Decision::Unmatched { .. } => usize::MAX,
                };
                labels.push((c, j));
            }
        }
        assert_eq!(m.prototypes().len(), 3);
        assert!(labels.iter().all(|&(c, j)| c == j));
        assert_eq!(m.prototypes()[0].uses, 20);
    }

    #[test]
    fn a_full_memory_refuses_and_overwrites_nothing() {
        let mut m = Memory::new(ArtConfig {
            capacity: 2,
            vigilance: 0.95,
            ..ArtConfig::default()
        });
        for v in [0.1, 0.5, 0.9] {
            m.present(&[v; EMBED_DIM], 0.0, true, no_theta);
        }
        assert_eq!(m.prototypes().len(), 2);
        assert_eq!(m.refused(), 1);
        assert_eq!(m.prototypes()[1].weights, code(&[0.5; EMBED_DIM]));
        // Non-finite embeddings are read safely.
        let d = m.present(&[f32::NAN; EMBED_DIM], 0.0, true, no_theta);
        assert!(!matches!(d, Decision::Allocated { .. }));
    }
}
