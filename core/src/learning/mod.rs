//! Learning (docs/ARCHITECTURE.md §5): the loss and optimizer, the objective and the search that
//! fit θ to recorded notes, the coupling between the fit and the memory, the kept notes and the
//! keeper that never forgets, the command line's continual learner, and the encoder's training.

pub mod baselines;
pub mod continual;
pub mod coupling;
pub mod estimate;
pub mod harmonics;
pub mod keeper;
pub mod loss;
pub mod objective;
pub mod optimizer;
pub mod performance;
pub mod reservoir;
pub mod screening;
pub mod search;
pub mod training;
