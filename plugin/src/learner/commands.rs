//! What crosses between the GUI and the learner: commands to the learner, and the snapshot of
//! the memory it publishes for the panel.

use crossbeam_channel::{Receiver, Sender, bounded};
use dar_ddsp_core::memory::encoder::Embedding;
use dar_ddsp_core::plant::Theta;
use dar_ddsp_core::store::preset::Preset;

/// A command from the GUI (or a test) to the learner.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Forget every prototype.
    Clear,
    /// Delete one prototype.
    Remove(usize),
    /// Rename one prototype.
    Rename(usize, String),
    /// Lock or unlock one prototype.
    Lock(usize, bool),
    /// Learn an audio file (WAV, FLAC, AIFF, OGG Vorbis, MP3) as if it arrived on the
    /// sidechain in Learn mode: decoded and resampled on the learner thread.
    LearnFile(std::path::PathBuf),
    /// Replace the whole memory with a preset the editor loaded (already checked and fitted
    /// to this encoder): its prototypes, the active one, and its kept notes where they were
    /// recorded at the learner's rate.
    Replace(Box<Preset>),
    /// Panic inside the learner (tests of the panic path; debug builds only).
    #[cfg(debug_assertions)]
    Crash,
}

/// One prototype as the panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtoView {
    /// Display name.
    pub name: String,
    /// Presentations won.
    pub uses: u64,
    /// Never changed by learning.
    pub locked: bool,
    /// The learner's last loss (∞ until learned).
    pub loss: f32,
    /// When it was committed, seconds of sidechain heard.
    pub created: f64,
    /// Centre of its category box in the embedding.
    pub center: Embedding,
    /// Match M_j of the last note presented with it (`None` before any note).
    pub m: Option<f32>,
    /// Its patch.
    pub theta: Theta<f32>,
    /// Notes kept in its reservoir (what its patch is refined on and guarded by).
    pub kept: usize,
}

/// What the panel shows, published by the learner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The prototypes, in memory order.
    pub prototypes: Vec<ProtoView>,
    /// The active prototype.
    pub active: Option<usize>,
    /// Match of the last presented note with its best prototype.
    pub last_match: Option<f32>,
    /// Embedding of the last presented note (the map's live point).
    pub live: Option<Embedding>,
    /// Seconds of sidechain heard (the clock of `created`).
    pub now: f64,
    /// Losses of recent refinements, oldest first.
    pub losses: Vec<f32>,
    /// Optimizer state (α, μ, σ) after the last refinement.
    pub optimizer: (f32, f32, f32),
    /// Gradient steps so far.
    pub steps: u64,
    /// Non-finite sidechain samples skipped.
    pub skipped: u64,
    /// Sidechain samples dropped because the learner fell behind (ring full).
    pub dropped: u64,
    /// Notes the full memory could not give a prototype.
    pub refused: u64,
    /// The last split (the prototype that kept its patch, the new one), if any.
    pub last_split: Option<(usize, usize)>,
    /// Refinements refused because the patch could not play both (each a split).
    pub splits: u64,
    /// Why learning stopped or a stored memory was refused, if so.
    pub error: Option<String>,
    /// The file being learned, or the last one learned.
    pub file: Option<FileLearn>,
}

/// A file learned by [`Command::LearnFile`], as the panel shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileLearn {
    /// The file's name.
    pub name: String,
    /// Share of the file fed to the learner, 0–1.
    pub progress: f32,
    /// Notes found so far.
    pub notes: usize,
    /// New prototypes the memory holds after it (made and kept).
    pub made: usize,
    /// Prototypes it refined (including ones it made).
    pub refined: usize,
    /// The spectral distance, dB, from the file to the prototype that won its last note, playing
    /// the file's notes; set when done.
    pub distance: Option<f32>,
    /// The prototype that won its last note (its index), when done.
    pub prototype: Option<usize>,
    /// Whether the whole file was learned (or refused).
    pub done: bool,
    /// Why the file could not be read, if so (one line naming it).
    pub error: Option<String>,
    /// The audition of its last note against the prototype that won it, when done.
    pub audition: Option<super::audition::AuditionView>,
}

/// The editor's and the plugin's way to the learner: a bounded channel made once per plugin
/// instance, so it outlives learner restarts (each learner takes a clone of the receiver).
#[derive(Debug, Clone)]
pub struct CommandLink {
    /// The GUI's and the plugin's end.
    pub sender: Sender<Command>,
    /// The learner's end.
    pub receiver: Receiver<Command>,
}

/// A new command link (64 commands in flight at most; a full queue refuses, never blocks).
pub fn command_link() -> CommandLink {
    let (sender, receiver) = bounded(64);
    CommandLink { sender, receiver }
}
