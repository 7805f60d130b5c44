//! What the audio thread plays from: every prototype's θ and the active one, published whole by
//! the learner through a triple buffer (the "latest snapshot" link: the audio thread reads
//! without waiting, copying or allocating).

use super::MAX_PROTOTYPES;
use crate::memory::art::Prototype;
use crate::plant::{Theta, default_theta};

/// The prototypes' patches as the audio thread sees them. Plain data (no heap), so a triple
/// buffer of it never allocates after construction.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchTable {
    /// Prototypes held (the first `len` of `thetas` are meaningful).
    pub len: usize,
    /// The active prototype (Learn and Follow modes).
    pub active: Option<usize>,
    /// Each prototype's θ.
    pub thetas: [Theta<f32>; MAX_PROTOTYPES],
}

impl Default for PatchTable {
    fn default() -> Self {
        Self {
            len: 0,
            active: None,
            thetas: [default_theta(); MAX_PROTOTYPES],
        }
    }
}

impl PatchTable {
    /// The table of `prototypes` (at most [`MAX_PROTOTYPES`]) with `active`.
    pub fn of(prototypes: &[Prototype], active: Option<usize>) -> Self {
        let mut t = Self::default();
        t.fill(prototypes, active);
        t
    }

    /// Rewrites the table in place.
    pub fn fill(&mut self, prototypes: &[Prototype], active: Option<usize>) {
        self.len = prototypes.len().min(MAX_PROTOTYPES);
        for (slot, p) in self.thetas.iter_mut().zip(prototypes) {
            *slot = crate::plant::algebra::sanitize(&p.theta);
        }
        self.active = active.filter(|&i| i < self.len);
    }

    /// θ of prototype `index` (clamped to the last one), if any.
    pub fn get(&self, index: usize) -> Option<&Theta<f32>> {
        (self.len > 0).then(|| &self.thetas[index.min(self.len - 1)])
    }
}
