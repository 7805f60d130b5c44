//! The live learner: what the plugin's learner thread runs on the sidechain stream
//! (docs/ARCHITECTURE.md §2, §6). Plain code with no threads of its own, so it is tested here and
//! the plugin only drives it.
//!
//! The stream is cut into notes on 10 ms frames (a level gate with hysteresis, and a re-attack of 9
//! dB starting a new note). 20 ms after an onset plus one encoder context (≈ 0.28 s), the note is
//! recognised: the prototype it resonates with (or the nearest) becomes the active patch at once.
//! In Learn mode the memory learns when the note ends, with the whole note heard, by the same rule
//! as the command line's learner ([`crate::learning::keeper`]): match tracking against each
//! candidate's patch, then the winner (or a new prototype, whose θ starts from the nearest
//! prototype's) is refined on its reservoir of kept notes by the project's search (a step budget,
//! so the result does not depend on the machine's speed), with the resonance regularizer pulling
//! its sound into its category, and the refinement is refused if an earlier group of its notes
//! would play worse: then the run of notes splits off into a prototype of its own. A run is the
//! notes one prototype wins in a row.
//!
//! Everything it does is a function of the samples it is fed, in order, and of the settings it
//! is given: the same stream gives the same memory, however the stream is cut into blocks.

mod event;
mod learner;
mod learning;
mod settings;
pub mod state;
pub mod table;

pub use event::LiveEvent;
pub use learner::{LOSS_HISTORY, LiveLearner};
pub use settings::{LiveConfig, LiveSettings, MAX_PROTOTYPES, Mode};
pub use state::{MemoryState, Restored, SavedPrototype, StateError};
pub use table::PatchTable;

#[cfg(test)]
mod tests;
