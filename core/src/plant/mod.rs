//! The plant (docs/ARCHITECTURE.md §4): the playable, differentiable subtractive synth, written
//! once over the number type ([`crate::num::Real`]), and what plays it: rendering of notes and
//! performances, designed starting patches, θ algebra and the glide between patches.

pub mod algebra;
pub mod archetypes;
pub mod body;
pub mod envelope;
pub mod expression;
pub mod filter;
pub mod glide;
pub mod oscillator;
pub mod render;
pub mod synth;
pub mod text;
pub mod theta;
pub mod voice;

pub use synth::{MAX_VOICES, Synth};
pub use theta::{
    CORE, G, GCore, LEARNED, Learned, N_CORE, N_THETA, N_THETA_V1, P, SECTION_NAMES, SECTIONS,
    SPECS, Scale, Theta, ThetaSpec, Unit, default_theta, dual_at_knobs, from_knobs, to_knobs,
};
pub use voice::{Voice, VoiceCoeffs};
