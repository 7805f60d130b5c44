//! The live learner: what the plugin's learner thread runs on the sidechain stream (DESIGN.md §2,
//! §5). Plain code with no threads of its own, so it is tested here and the plugin only drives
//! it.
//!
//! The stream is cut into notes on 10 ms frames (a level gate with hysteresis, and a re-attack
//! of 9 dB starting a new note). 20 ms after an onset plus one encoder context (≈ 0.28 s), the
//! note is recognised: the prototype it resonates with (or the nearest) becomes the active
//! patch at once. In Learn mode the memory learns when the note ends, with the whole note
//! heard, by the same rule as the command line's learner ([`crate::learning::keeper`]): match tracking
//! against each candidate's patch, then the winner (or a new prototype, whose θ starts from the
//! nearest prototype's) is refined on its reservoir of kept notes by the project's search (a
//! step budget, so the result does not depend on the machine's speed), with the resonance
//! regularizer pulling its sound into its category, and the refinement is refused if an earlier
//! group of its notes would play worse: then the run of notes splits off into a prototype of
//! its own. A run is the notes one prototype wins in a row.
//!
//! Everything it does is a function of the samples it is fed, in order, and of the settings it
//! is given: the same stream gives the same memory, however the stream is cut into blocks.

pub mod state;
pub mod table;

pub use state::{MemoryState, Restored, SavedPrototype, StateError};
pub use table::PatchTable;

use crate::learning::keeper::{Keeper, KeeperConfig, Refined};
use crate::learning::objective::{LearnError, Objective, ObjectiveConfig};
use crate::learning::optimizer::OptimizerConfig;
use crate::learning::reservoir::{Group, KeptNote, Reservoir};
use crate::learning::search::{Budget, Outcome, SearchConfig, search};
use crate::memory::art::{ArtConfig, Code, Decision, Memory, Prototype, code};
use crate::memory::encoder::CONTEXT_OFFSET_S;
use crate::memory::encoder::{Embedding, Encoder, EncoderWeights};
use crate::plant::algebra::sanitize;
use crate::plant::{Theta, default_theta};
use crate::signal::analysis::pitch_of;

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
            bank_budget: state::MAX_KEPT_SAMPLES,
            capacity: MAX_PROTOTYPES,
        }
    }
}

/// Most prototypes the live memory (and the plugin's patch table) holds.
pub const MAX_PROTOTYPES: usize = 256;

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

/// The note segmenter's state.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Note {
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
struct Run {
    /// The prototype the run's notes resonate with.
    from: usize,
    /// The prototype they are learned into: `from`, or the one they split off into.
    into: usize,
    /// `from`'s category box before the run.
    box_before: Code,
    /// The run's embeddings, oldest first (at most [`RUN_EMBEDDINGS`]).
    embeddings: Vec<Embedding>,
    /// Whether `into` was committed during this run (by recognition or a split): a note the
    /// memory would give a prototype of its own first tries to join it.
    fresh: bool,
}

/// Embeddings a run remembers for a split (the newest replace the oldest past it).
const RUN_EMBEDDINGS: usize = 16;

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
    config: LiveConfig,
    /// The memory.
    memory: Memory,
    /// Each prototype's kept notes, and the rule for changing its patch.
    keeper: Keeper,
    /// The run of notes in progress (Learn mode).
    run: Option<Run>,
    /// Refinements refused because an earlier group would have played worse.
    splits: u64,
    /// Raised by the owner to end a refinement early (with the best patch found so far), so
    /// the thread running this learner can stop promptly. Set once by [`Self::set_stop`].
    stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The encoder.
    encoder: Encoder,
    /// Its weights (for each refinement's coupled objective).
    weights: EncoderWeights,
    /// Samples of the current note (from a little before its onset), or the last few
    /// milliseconds between notes.
    audio: Vec<f32>,
    /// Stream sample of `audio[0]`.
    audio_start: u64,
    /// Samples of the frame being filled.
    frame_fill: usize,
    /// Sum of squares of the frame being filled.
    frame_energy: f64,
    /// Samples per frame (10 ms).
    frame_len: usize,
    /// Samples kept before an onset.
    pre: usize,
    /// Segmenter state.
    note: Note,
    /// Samples fed so far.
    fed: u64,
    /// Non-finite samples seen (read as silence, never learned from).
    skipped: u64,
    /// The active prototype.
    active: Option<usize>,
    /// Total gradient steps taken.
    steps: u64,
    /// The last optimizer state of a refinement (α, μ, σ).
    optimizer: (f32, f32, f32),
    /// Losses of recent refinements, oldest first (at most [`LOSS_HISTORY`]).
    losses: Vec<f32>,
    /// Embedding of the last note presented (the panel's live point and match values).
    last_input: Option<Embedding>,
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
    /// from [`MemoryState::restore_at`] at this learner's rate).
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
                self.frame(20.0 * rms.max(1e-10).log10(), settings, emit);
            }
        }
    }

    /// One 10 ms frame of level `db` has ended at the current stream position.
    fn frame(&mut self, db: f32, settings: &LiveSettings, emit: &mut impl FnMut(LiveEvent)) {
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
    fn maybe_present(
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
    fn end_note(&mut self, end: u64, settings: &LiveSettings, emit: &mut impl FnMut(LiveEvent)) {
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

    /// Presents a finished note's embedding `h` with match tracking and refines its winner.
    fn learn(
        &mut self,
        h: Embedding,
        kept: Option<KeptNote>,
        onset: u64,
        settings: &LiveSettings,
        emit: &mut impl FnMut(LiveEvent),
    ) {
        let sr = self.config.sample_rate;
        let now = onset as f64 / sr as f64;
        let (_, nearest) = self.memory.search(&code(&h));
        let start_theta =
            nearest.map_or_else(default_theta, |(j, _)| self.memory.prototypes()[j].theta);
        let boxes: Vec<Code> = self.memory.prototypes().iter().map(|p| p.weights).collect();
        let thetas: Vec<Theta<f32>> = self.memory.prototypes().iter().map(|p| p.theta).collect();
        let keeper = &self.keeper;
        let forming = self.run.as_ref().filter(|r| r.fresh).map(|r| r.into);
        let rivals =
            (kept.as_ref()).map(|k| (k, keeper.rivals(&self.memory, &code(&h), k, forming, sr)));
        let predicts = |j: usize| {
            (rivals.as_ref()).is_none_or(|(k, r)| keeper.predicts(j, &thetas[j], k, r, sr))
        };
        let (decision, _) = self
            .memory
            .present_tracked(&h, now, true, |_| start_theta, predicts);
        emit(LiveEvent::Presented { decision });
        let winner = match decision {
            Decision::Resonated { index, .. } => Some(index),
            Decision::Allocated { index, .. } => {
                self.keeper.sync(self.memory.prototypes().len());
                emit(LiveEvent::MemoryChanged);
                Some(index)
            }
            Decision::Unmatched { .. } => None,
        };
        let Some(j) = winner else {
            self.run = None;
            return;
        };
        // A note the memory gives a new prototype first tries to join the one this run made,
        // as a recording's new prototypes join (`Keeper::consolidate`), note by note: the new
        // one (the last) is taken back, and the note is refined into the run's prototype as a
        // group of its own, guarded; a split gives it a prototype of its own again.
        let allocated = matches!(decision, Decision::Allocated { .. });
        let joining = allocated
            && self.run.as_ref().is_some_and(|r| {
                r.fresh
                    && r.into < j
                    && j + 1 == self.memory.prototypes().len()
                    && !self.memory.prototypes()[r.into].locked
            });
        // The run goes on while its prototype (or, after a split, the one it came from) wins.
        let run = match self.run.take() {
            Some(r) if joining => {
                self.memory.remove(j);
                self.keeper.remove(j);
                emit(LiveEvent::MemoryChanged);
                let into = r.into;
                let box_before = self.memory.prototypes()[into].weights;
                self.memory.widen(into, &h);
                (
                    Run {
                        from: into,
                        into,
                        box_before,
                        embeddings: vec![h],
                        fresh: true,
                    },
                    false,
                )
            }
            Some(r) if r.from == j || r.into == j => {
                if r.into != j {
                    // Notes of a split run still resonate with the old prototype: they are the
                    // new one's, and the old box stays as it was.
                    if let Some(w) = boxes.get(j) {
                        self.memory.restore_weights(j, *w, 1);
                    }
                    self.memory.widen(r.into, &h);
                }
                let mut r = r;
                if r.embeddings.len() == RUN_EMBEDDINGS {
                    r.embeddings.remove(0);
                }
                r.embeddings.push(h);
                (r, true)
            }
            _ => (
                Run {
                    from: j,
                    into: j,
                    box_before: boxes
                        .get(j)
                        .copied()
                        .unwrap_or(self.memory.prototypes()[j].weights),
                    embeddings: vec![h],
                    fresh: allocated,
                },
                false,
            ),
        };
        let (mut run, extend) = run;
        let target = run.into;
        if Some(target) != self.active {
            self.active = Some(target);
            emit(LiveEvent::Active(self.active));
        }
        let locked = self
            .memory
            .prototypes()
            .get(target)
            .is_none_or(|p| p.locked);
        let Some(kept) = kept.filter(|_| !locked && self.config.steps_per_note > 0) else {
            self.run = Some(run);
            return;
        };
        let config = self.search_config(settings);
        let (weights, steps, budget) = (&self.weights, &mut self.steps, self.config.steps_per_note);
        let mut last = (0.0, 0.0, 0.0);
        let fit = |memory: &Memory, k: usize, reservoir: &Reservoir, start: Theta<f32>| {
            let outcome = fit(
                memory, weights, k, reservoir, start, &config, budget, settings, sr,
            );
            if let Ok((o, _)) = &outcome {
                *steps += o.steps as u64;
            }
            outcome.map(|(o, opt)| {
                last = opt;
                o
            })
        };
        let refined = self.keeper.refine(
            &mut self.memory,
            target,
            Group::new(vec![kept]),
            extend,
            run.box_before,
            &run.embeddings,
            now,
            sr,
            fit,
        );
        self.optimizer = last;
        let (index, outcome) = match refined {
            Ok(Refined::Accepted(o)) => (target, o),
            Ok(Refined::Split(Some((k, o)))) => {
                self.splits += 1;
                emit(LiveEvent::MemoryChanged);
                emit(LiveEvent::Split {
                    from: run.from,
                    to: k,
                });
                run.into = k;
                run.fresh = true;
                self.active = Some(k);
                emit(LiveEvent::Active(self.active));
                (k, o)
            }
            Ok(Refined::Split(None)) | Err(_) => {
                self.run = Some(run);
                return;
            }
        };
        self.run = Some(run);
        if let Some(p) = self.memory.prototype_mut(index) {
            p.theta = sanitize(&p.theta);
        }
        if self.losses.len() == LOSS_HISTORY {
            self.losses.remove(0);
        }
        self.losses.push(outcome.loss);
        self.keep_within_budget(index);
        emit(LiveEvent::Refined {
            index,
            loss: outcome.loss,
            steps: outcome.steps,
        });
        self.improve_from(index, settings, emit);
    }

    /// The patch prototype `donor` just got, tried as a start for its neighbours
    /// ([`Keeper::improve_from`]); each one improved is announced as refined.
    fn improve_from(
        &mut self,
        donor: usize,
        settings: &LiveSettings,
        emit: &mut impl FnMut(LiveEvent),
    ) {
        let sr = self.config.sample_rate;
        let config = self.search_config(settings);
        let (weights, steps, budget) = (&self.weights, &mut self.steps, self.config.steps_per_note);
        let fit = |memory: &Memory, k: usize, reservoir: &Reservoir, start: Theta<f32>| {
            let outcome = fit(
                memory, weights, k, reservoir, start, &config, budget, settings, sr,
            );
            if let Ok((o, _)) = &outcome {
                *steps += o.steps as u64;
            }
            outcome.map(|(o, _)| o)
        };
        let Ok(improved) = self.keeper.improve_from(&mut self.memory, donor, sr, fit) else {
            return;
        };
        for (index, outcome) in improved {
            if let Some(p) = self.memory.prototype_mut(index) {
                p.theta = sanitize(&p.theta);
            }
            emit(LiveEvent::Refined {
                index,
                loss: outcome.loss,
                steps: outcome.steps,
            });
        }
    }

    /// The search's settings from the live settings (α from Learn Rate, seeded by the steps
    /// taken so far, with the stop flag).
    fn search_config(&self, settings: &LiveSettings) -> SearchConfig {
        let alpha = if settings.learn_rate.is_finite() {
            settings.learn_rate.clamp(1e-4, 0.5)
        } else {
            OptimizerConfig::default().alpha
        };
        SearchConfig {
            optimizer: OptimizerConfig {
                alpha,
                ..OptimizerConfig::default()
            },
            seed: self.steps.wrapping_add(1),
            stop: self.stop.clone(),
            ..SearchConfig::default()
        }
    }

    /// Thins kept notes until all reservoirs together fit [`LiveConfig::bank_budget`]: from
    /// the fullest reservoir that keeps a note afterwards, preferring others to `keep` (the one
    /// just refined); a reservoir is emptied only when every one is down to one note.
    fn keep_within_budget(&mut self, keep: usize) {
        self.keeper.keep_within(self.config.bank_budget, keep);
    }

    /// Samples of kept notes over all prototypes.
    pub fn banked_samples(&self) -> usize {
        self.keeper.samples()
    }

    /// Drops buffered audio before stream sample `at`.
    fn trim_to(&mut self, at: u64) {
        if at > self.audio_start {
            let n = ((at - self.audio_start) as usize).min(self.audio.len());
            self.audio.drain(..n);
            self.audio_start += n as u64;
        }
    }
}

/// The search for prototype `j` on `reservoir`'s notes from `start`, coupled to its category
/// box; the outcome with the optimizer's last state (α, μ, σ).
#[allow(clippy::too_many_arguments)]
fn fit(
    memory: &Memory,
    weights: &EncoderWeights,
    j: usize,
    reservoir: &Reservoir,
    start: Theta<f32>,
    config: &SearchConfig,
    steps: usize,
    settings: &LiveSettings,
    sample_rate: f32,
) -> Result<(Outcome, (f32, f32, f32)), LearnError> {
    let parts = reservoir.parts();
    let mut objective = Objective::new(&parts, sample_rate, &ObjectiveConfig::default())?;
    if let Some(bounds) = memory.bounds(j).filter(|_| settings.resonance > 0.0) {
        let encoder = Encoder::new(weights.clone(), sample_rate);
        objective.set_attractor(Some((encoder, bounds, settings.resonance)));
    }
    let mut last = (0.0, 0.0, 0.0);
    let outcome = search(
        &mut objective,
        &[start],
        Budget::steps(steps as f32),
        config,
        |p| last = p.optimizer,
    );
    Ok((outcome, last))
}

#[cfg(test)]
mod tests;
