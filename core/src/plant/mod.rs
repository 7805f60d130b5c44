//! The plant: the playable, differentiable subtractive synth (DESIGN.md §3).

pub mod envelope;
pub mod filter;
pub mod oscillator;
pub mod synth;
pub mod theta;
pub mod voice;

pub use synth::{MAX_VOICES, Synth};
pub use theta::{N_THETA, P, SPECS, Scale, Theta, ThetaSpec, Unit, default_theta};
pub use voice::{Voice, VoiceCoeffs, note_to_hz};
