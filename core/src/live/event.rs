//! What the live learner tells its driver as it goes.

use crate::memory::art::Decision;
use crate::plant::Theta;

/// Something the learner did, for the caller to publish.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LiveEvent {
    /// A note was presented: the winner (if any), its match, and what the memory did.
    Presented {
        /// The decision.
        decision: Decision,
    },
    /// The active prototype changed (Learn and Follow modes).
    Active(Option<usize>),
    /// A refinement of `from` would have played its earlier notes worse, so the run of notes
    /// that asked for it split off into the new prototype `to` ("the patch could not play
    /// both").
    Split {
        /// The prototype that kept its patch.
        from: usize,
        /// The new prototype.
        to: usize,
    },
    /// Prototype `index`'s refinement so far: its best patch yet, to play until the refinement
    /// ends with [`LiveEvent::Refined`] (only for refinements that cannot be refused). The
    /// memory itself changes only when it ends.
    Refining {
        /// Which prototype (it may have been made by this very note: one past the last the
        /// caller has seen).
        index: usize,
        /// The interim patch, musical units.
        theta: Theta<f32>,
    },
    /// Prototype `index` has a new θ (refined, or committed).
    Refined {
        /// Which prototype.
        index: usize,
        /// Its loss after refining.
        loss: f32,
        /// Gradient steps taken.
        steps: usize,
    },
    /// The memory changed (a prototype committed, removed, renamed, locked, cleared, loaded).
    MemoryChanged,
}
