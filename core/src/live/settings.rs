//! The live learner's settings: what the plugin's parameters set every block, and what is
//! fixed when it starts.

use crate::learning::keeper::KeeperConfig;
use crate::learning::optimizer::OptimizerConfig;

/// What the sidechain does to the memory (the plugin's `mode` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The sidechain teaches: new timbres get prototypes, the winner's θ is refined and plays.
    #[default]
    Learn,
    /// Nothing is learned; the sidechain's winning prototype becomes the active patch.
    Follow,
    /// The memory is frozen; the user picks (or morphs between) prototypes.
    Play,
}

/// Settings the learner reads as it goes (the plugin's parameters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveSettings {
    /// The mode.
    pub mode: Mode,
    /// Vigilance ρ.
    pub vigilance: f32,
    /// The optimizer's base learning rate α.
    pub learn_rate: f32,
    /// λ_ART, the weight of the resonance regularizer.
    pub resonance: f32,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            mode: Mode::Learn,
            vigilance: crate::memory::art::DEFAULT_VIGILANCE,
            learn_rate: OptimizerConfig::default().alpha,
            resonance: 0.5,
        }
    }
}

/// Fixed settings of a live learner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveConfig {
    /// Sample rate of the stream, Hz.
    pub sample_rate: f32,
    /// Level a frame must pass to start a note, dBFS.
    pub gate_db: f32,
    /// A note ends after this long below the gate (or 40 dB under its peak), seconds.
    pub hang_s: f32,
    /// A note longer than this is cut (and learned), seconds.
    pub max_note_s: f32,
    /// Gradient steps spent refining a prototype after each learned note.
    pub steps_per_note: usize,
    /// Match tracking, the refinement guard and each prototype's reservoir bound.
    pub keeper: KeeperConfig,
    /// Most samples of kept notes over all prototypes together: the learner's memory stays
    /// bounded however many prototypes it makes (past it, the fullest other reservoir gives up
    /// a note).
    pub bank_budget: usize,
    /// Most prototypes.
    pub capacity: usize,
}

impl LiveConfig {
    /// The defaults at `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        Self {
            sample_rate: if sample_rate.is_finite() {
                sample_rate.clamp(8_000.0, 384_000.0)
            } else {
                48_000.0
            },
            gate_db: -50.0,
            hang_s: 0.1,
            max_note_s: 4.0,
            steps_per_note: 60,
            keeper: KeeperConfig::default(),
            // What the project state stores (4 M samples, 16 MB here, 87 s at 48 kHz).
            bank_budget: super::state::MAX_KEPT_SAMPLES,
            capacity: MAX_PROTOTYPES,
        }
    }
}

/// Most prototypes the live memory (and the plugin's patch table) holds.
pub const MAX_PROTOTYPES: usize = 256;
