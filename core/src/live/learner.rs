//! The live learner's state and its ear: the stream cut into notes on 10 ms frames, each note
//! recognised once one encoder context is heard, the memory edited on the panel's commands.

use super::{LiveConfig, LiveEvent, LiveSettings, MAX_PROTOTYPES, Mode};
use crate::learning::keeper::Keeper;
use crate::learning::reservoir::{KeptNote, Reservoir};
use crate::memory::art::{ArtConfig, Code, Decision, Memory, Prototype, code};
use crate::memory::encoder::CONTEXT_OFFSET_S;
use crate::memory::encoder::{Embedding, Encoder, EncoderWeights};
use crate::num::units::amplitude_to_db;
use crate::plant::default_theta;
use crate::signal::analysis::pitch_of;

/// The note segmenter's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Note {
    /// Between notes.
    Idle,
    /// In a note that started at stream sample `onset`.
    On {
        /// Stream sample of the onset.
        onset: u64,
        /// Loudest frame so far, dBFS.
        peak_db: f32,
        /// Level of the previous frame, dBFS.
        last_db: f32,
        /// Frames in a row below the gate.
        quiet: usize,
        /// Its embedding, once recognised (`None` for silence or before).
        embedding: Option<Embedding>,
        /// Whether it has been recognised.
        presented: bool,
    },
}

/// The run of notes one prototype is winning in a row (Learn mode).
#[derive(Debug, Clone)]
pub(super) struct Run {
    /// The prototype the run's notes resonate with.
    pub(super) from: usize,
    /// The prototype they are learned into: `from`, or the one they split off into.
    pub(super) into: usize,
    /// `from`'s category box before the run.
    pub(super) box_before: Code,
    /// The run's embeddings, oldest first (at most [`RUN_EMBEDDINGS`]).
    pub(super) embeddings: Vec<Embedding>,
    /// Whether `into` was committed during this run (by recognition or a split): a note the
    /// memory would give a prototype of its own first tries to join it.
    pub(super) fresh: bool,
}

/// Embeddings a run remembers for a split (the newest replace the oldest past it).
pub(super) const RUN_EMBEDDINGS: usize = 16;

impl Note {
    /// A note starting at stream sample `onset` with a first frame of `db`.
    fn starting(onset: u64, db: f32) -> Self {
        Self::On {
            onset,
            peak_db: db,
            last_db: db,
            quiet: 0,
            embedding: None,
            presented: false,
        }
    }
}

/// The live learner. Construction allocates; feeding audio allocates only when a note ends
/// (its analysis, its bank entry) or a prototype is committed — never on the audio thread.
pub struct LiveLearner {
    /// Fixed settings.
    pub(super) config: LiveConfig,
    /// The memory.
    pub(super) memory: Memory,
    /// Each prototype's kept notes, and the rule for changing its patch.
    pub(super) keeper: Keeper,
    /// The run of notes in progress (Learn mode).
    pub(super) run: Option<Run>,
    /// Refinements refused because an earlier group would have played worse.
    pub(super) splits: u64,
    /// Raised by the owner to end a refinement early (with the best patch found so far), so
    /// the thread running this learner can stop promptly. Set once by [`Self::set_stop`].
    pub(super) stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The encoder.
    pub(super) encoder: Encoder,
    /// Its weights (for each refinement's coupled objective).
    pub(super) weights: EncoderWeights,
    /// Samples of the current note (from a little before its onset), or the last few
    /// milliseconds between notes.
    pub(super) audio: Vec<f32>,
    /// Stream sample of `audio[0]`.
    pub(super) audio_start: u64,
    /// Samples of the frame being filled.
    pub(super) frame_fill: usize,
    /// Sum of squares of the frame being filled.
    pub(super) frame_energy: f64,
    /// Samples per frame (10 ms).
    pub(super) frame_len: usize,
    /// Samples kept before an onset.
    pub(super) pre: usize,
    /// Segmenter state.
    pub(super) note: Note,
    /// Samples fed so far.
    pub(super) fed: u64,
    /// Non-finite samples seen (read as silence, never learned from).
    pub(super) skipped: u64,
    /// The active prototype.
    pub(super) active: Option<usize>,
    /// Total gradient steps taken.
    pub(super) steps: u64,
    /// The last optimizer state of a refinement (α, μ, σ).
    pub(super) optimizer: (f32, f32, f32),
    /// Losses of recent refinements, oldest first (at most [`LOSS_HISTORY`]).
    pub(super) losses: Vec<f32>,
    /// Embedding of the last note presented (the panel's live point and match values).
    pub(super) last_input: Option<Embedding>,
}

/// Refinement losses kept for the panel's curve.
pub const LOSS_HISTORY: usize = 512;

impl LiveLearner {
    /// A learner holding `prototypes` (from the plugin's state; extras beyond capacity are
    /// dropped). Allocates.
    pub fn new(config: LiveConfig, weights: EncoderWeights, prototypes: Vec<Prototype>) -> Self {
        let mut memory = Memory::new(ArtConfig {
            capacity: config.capacity.min(MAX_PROTOTYPES),
            ..ArtConfig::default()
        });
        for p in prototypes {
            memory.insert(p);
        }
        let frame_len = ((config.sample_rate / 100.0) as usize).max(1);
        let mut keeper = Keeper::new(config.keeper);
        keeper.sync(memory.prototypes().len());
        let max_note = (config.max_note_s * config.sample_rate) as usize;
        Self {
            encoder: Encoder::new(weights.clone(), config.sample_rate),
            weights,
            memory,
            keeper,
            run: None,
            splits: 0,
            stop: None,
            audio: Vec::with_capacity(max_note + 4 * frame_len),
            audio_start: 0,
            frame_fill: 0,
            frame_energy: 0.0,
            frame_len,
            pre: frame_len,
            note: Note::Idle,
            fed: 0,
            skipped: 0,
            active: None,
            steps: 0,
            optimizer: (0.0, 0.0, 0.0),
            losses: Vec::with_capacity(LOSS_HISTORY),
            last_input: None,
            config,
        }
    }

    /// The memory.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// The active prototype.
    pub fn active(&self) -> Option<usize> {
        self.active
    }

    /// Sets the active prototype (restored state; Play mode selections are the caller's).
    pub fn set_active(&mut self, active: Option<usize>) {
        self.active = active.filter(|&i| i < self.memory.prototypes().len());
    }

    /// Samples fed so far.
    pub fn fed(&self) -> u64 {
        self.fed
    }

    /// Non-finite samples seen.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Hands the learner a flag that, once raised, ends a refinement in progress at its next
    /// gradient step, keeping the best patch found so far.
    pub fn set_stop(&mut self, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.stop = Some(stop);
    }

    /// Gradient steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The optimizer state (α, μ, σ) at the end of the last refinement.
    pub fn optimizer(&self) -> (f32, f32, f32) {
        self.optimizer
    }

    /// Embedding of the last note presented, if any.
    pub fn last_input(&self) -> Option<&Embedding> {
        self.last_input.as_ref()
    }

    /// Seconds of audio fed so far (the memory's clock).
    pub fn now(&self) -> f64 {
        self.fed as f64 / self.config.sample_rate as f64
    }

    /// Losses of recent refinements, oldest first.
    pub fn losses(&self) -> &[f32] {
        &self.losses
    }

    /// The encoder weights in use.
    pub fn weights(&self) -> &EncoderWeights {
        &self.weights
    }

    /// Each prototype's kept notes.
    pub fn reservoirs(&self) -> &[Reservoir] {
        self.keeper.reservoirs()
    }

    /// Each prototype's own distance (dB) over its kept notes, once refined.
    pub fn own(&self) -> &[Option<f32>] {
        self.keeper.own()
    }

    /// Sample rate of the stream, Hz.
    pub fn sample_rate(&self) -> f32 {
        self.config.sample_rate
    }

    /// Takes the kept notes and own distances of a stored memory (parallel to the prototypes;
    /// from [`crate::live::MemoryState::restore_at`] at this learner's rate).
    pub fn restore_kept(&mut self, kept: Vec<Reservoir>, own: Vec<Option<f32>>) {
        self.keeper
            .restore(self.memory.prototypes().len(), kept, own);
    }

    /// Refinements refused because an earlier group would have played worse (each split a run
    /// of notes into a new prototype).
    pub fn splits(&self) -> u64 {
        self.splits
    }

    /// Replaces the whole memory (a loaded state): `prototypes` beyond capacity are dropped,
    /// the kept notes are emptied, the note in progress is forgotten.
    pub fn replace_memory(&mut self, prototypes: Vec<Prototype>, active: Option<usize>) {
        self.memory.clear();
        for p in prototypes {
            self.memory.insert(p);
        }
        self.keeper.clear();
        self.keeper.sync(self.memory.prototypes().len());
        self.run = None;
        self.note = Note::Idle;
        self.set_active(active);
    }

    /// Forgets every prototype.
    pub fn clear(&mut self) -> LiveEvent {
        self.memory.clear();
        self.keeper.clear();
        self.run = None;
        self.active = None;
        LiveEvent::MemoryChanged
    }

    /// Removes prototype `index` (its kept notes too); later indices move down by one.
    pub fn remove(&mut self, index: usize) -> Option<LiveEvent> {
        self.memory.remove(index)?;
        self.keeper.remove(index);
        let shift = |i: usize| {
            if i > index {
                Some(i - 1)
            } else if i == index {
                None
            } else {
                Some(i)
            }
        };
        self.active = self.active.and_then(shift);
        self.run = self.run.take().and_then(|r| {
            Some(Run {
                from: shift(r.from)?,
                into: shift(r.into)?,
                ..r
            })
        });
        Some(LiveEvent::MemoryChanged)
    }

    /// Renames or (un)locks prototype `index`.
    pub fn edit(
        &mut self,
        index: usize,
        name: Option<String>,
        locked: Option<bool>,
    ) -> Option<LiveEvent> {
        let p = self.memory.prototype_mut(index)?;
        if let Some(n) = name {
            p.name = n;
        }
        if let Some(l) = locked {
            p.locked = l;
        }
        Some(LiveEvent::MemoryChanged)
    }

    /// Feeds stream samples; `emit` receives what happened, in order. Non-finite samples are
    /// counted and read as silence.
    pub fn feed(
        &mut self,
        samples: &[f32],
        settings: &LiveSettings,
        emit: &mut impl FnMut(LiveEvent),
    ) {
        self.memory.set_vigilance(settings.vigilance);
        for &s in samples {
            let s = if s.is_finite() {
                s
            } else {
                self.skipped += 1;
                0.0
            };
            self.audio.push(s);
            self.fed += 1;
            self.frame_energy += (s as f64) * (s as f64);
            self.frame_fill += 1;
            if self.frame_fill == self.frame_len {
                let rms = (self.frame_energy / self.frame_len as f64).sqrt() as f32;
                self.frame_fill = 0;
                self.frame_energy = 0.0;
                self.frame(amplitude_to_db(rms), settings, emit);
            }
        }
    }

    /// One 10 ms frame of level `db` has ended at the current stream position.
    pub(super) fn frame(
        &mut self,
        db: f32,
        settings: &LiveSettings,
        emit: &mut impl FnMut(LiveEvent),
    ) {
        let hang = ((self.config.hang_s * 100.0) as usize).max(1);
        let max_len = (self.config.max_note_s * self.config.sample_rate) as u64;
        let frame_start = self.fed - self.frame_len as u64;
        match self.note {
            Note::Idle => {
                if db > self.config.gate_db && settings.mode != Mode::Play {
                    self.note = Note::starting(frame_start, db);
                } else {
                    // Keep only the frame before a possible onset.
                    self.trim_to(self.fed.saturating_sub(self.pre as u64));
                }
            }
            Note::On {
                onset,
                peak_db,
                last_db,
                quiet,
                embedding,
                presented,
            } => {
                let peak_db = peak_db.max(db);
                let silent = db < self.config.gate_db.max(peak_db - 40.0);
                let quiet = if silent { quiet + 1 } else { 0 };
                let reattack =
                    !silent && db > last_db + 9.0 && self.fed - onset > 4 * self.frame_len as u64;
                let too_long = self.fed - onset >= max_len;
                self.note = Note::On {
                    onset,
                    peak_db,
                    last_db: db,
                    quiet,
                    embedding,
                    presented,
                };
                if !presented {
                    self.maybe_present(onset, settings, emit);
                }
                if quiet >= hang || reattack || too_long || settings.mode == Mode::Play {
                    let end = if reattack { frame_start } else { self.fed };
                    self.end_note(end, settings, emit);
                    if reattack && settings.mode != Mode::Play {
                        self.note = Note::starting(frame_start, db);
                    }
                }
            }
        }
    }

    /// Recognises the current note once enough of it has been heard: the prototype it
    /// resonates with (or the nearest) plays at once. Follow mode counts the presentation; Learn
    /// mode learns when the note ends ([`Self::end_note`]).
    pub(super) fn maybe_present(
        &mut self,
        onset: u64,
        settings: &LiveSettings,
        emit: &mut impl FnMut(LiveEvent),
    ) {
        let offset = (CONTEXT_OFFSET_S * self.config.sample_rate) as u64;
        let context = self.encoder.context_len() as u64;
        let from = onset + offset;
        if self.fed < from + context || from < self.audio_start {
            return;
        }
        let start = (from - self.audio_start) as usize;
        let heard = &self.audio[start..start + context as usize];
        let embedding = self
            .encoder
            .embed(heard, pitch_of(heard, self.config.sample_rate));
        if let Some(h) = embedding {
            self.last_input = Some(h);
            let winner = if settings.mode == Mode::Learn {
                let (resonant, nearest) = self.memory.search(&code(&h));
                resonant.or(nearest).map(|c| c.0)
            } else {
                let now = onset as f64 / self.config.sample_rate as f64;
                let decision = self.memory.present(&h, now, false, |_| default_theta());
                emit(LiveEvent::Presented { decision });
                match decision {
                    Decision::Resonated { index, .. } => Some(index),
                    Decision::Allocated { index, .. } => Some(index),
                    Decision::Unmatched { nearest } => nearest.map(|n| n.0),
                }
            };
            if winner.is_some() && winner != self.active {
                self.active = winner;
                emit(LiveEvent::Active(winner));
            }
        }
        if let Note::On {
            embedding: e,
            presented,
            ..
        } = &mut self.note
        {
            *e = embedding;
            *presented = true;
        }
    }

    /// Ends the current note at stream sample `end`; in Learn mode, learns it: match tracking,
    /// then the winner refined on its reservoir with the note kept (or a split).
    pub(super) fn end_note(
        &mut self,
        end: u64,
        settings: &LiveSettings,
        emit: &mut impl FnMut(LiveEvent),
    ) {
        let Note::On {
            onset, embedding, ..
        } = self.note
        else {
            return;
        };
        self.note = Note::Idle;
        if let Some(h) = embedding.filter(|_| settings.mode == Mode::Learn) {
            let from = onset.saturating_sub(self.pre as u64).max(self.audio_start);
            let a = (from - self.audio_start) as usize;
            let b = ((end - self.audio_start) as usize).min(self.audio.len());
            let sr = self.config.sample_rate;
            let kept = KeptNote::cut(&self.audio, a, b, sr, &self.config.keeper.reservoir);
            self.learn(h, kept, onset, settings, emit);
        }
        self.trim_to(end.saturating_sub(self.pre as u64));
    }
}
