//! The live learner: what the plugin's learner thread runs on the sidechain stream (DESIGN.md §2,
//! §5). Plain code with no threads of its own, so it is tested here and the plugin only drives
//! it.
//!
//! The stream is cut into notes on 10 ms frames (a level gate with hysteresis, and a re-attack
//! of 9 dB starting a new note). 20 ms after an onset plus one encoder context (≈ 0.28 s), the
//! note is presented to the memory: in Learn mode a mismatch commits a new prototype (its θ
//! starts from the nearest prototype's), a match refines the category; in Follow mode nothing
//! changes and the winner just becomes the active patch. When a learned note ends, it joins its
//! prototype's bank of recent notes and the prototype's θ is refined on that bank by the
//! project's search (a step budget, so the result does not depend on the machine's speed), with
//! the resonance regularizer pulling its sound into its category.
//!
//! Everything it does is a function of the samples it is fed, in order, and of the settings it
//! is given: the same stream gives the same memory, however the stream is cut into blocks.

pub mod state;
pub mod table;

pub use state::{MemoryState, Restored, SavedPrototype, StateError};
pub use table::PatchTable;

use crate::analysis::{Analysis, AnalysisConfig, analyze};
use crate::art::{ArtConfig, Decision, Memory, Prototype, code};
use crate::coupling::CONTEXT_OFFSET_S;
use crate::encoder::{Embedding, Encoder, EncoderWeights};
use crate::learner::{Budget, Objective, ObjectiveConfig, SearchConfig, search};
use crate::optimizer::OptimizerConfig;
use crate::plant::{N_THETA, SPECS, Theta, default_theta};

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
            vigilance: crate::art::DEFAULT_VIGILANCE,
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
    /// Recent notes each prototype keeps to learn from.
    pub bank_notes: usize,
    /// Most samples of banked notes over all prototypes together: the learner's memory stays
    /// bounded however many prototypes it makes (past it, the fullest other bank gives up its
    /// oldest note).
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
            bank_notes: 6,
            // 16 M samples (64 MB, 5.8 min at 48 kHz): six notes of about 40 prototypes.
            bank_budget: 1 << 24,
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
        /// The prototype the note was given to, once presented.
        winner: Option<usize>,
        /// Whether it has been presented.
        presented: bool,
    },
}

impl Note {
    /// A note starting at stream sample `onset` with a first frame of `db`.
    fn starting(onset: u64, db: f32) -> Self {
        Self::On {
            onset,
            peak_db: db,
            last_db: db,
            quiet: 0,
            winner: None,
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
    /// Recent notes per prototype (parallel to the memory's prototypes).
    banks: Vec<Vec<(Vec<f32>, Analysis)>>,
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
        let banks = vec![Vec::new(); memory.prototypes().len()];
        let max_note = (config.max_note_s * config.sample_rate) as usize;
        Self {
            encoder: Encoder::new(weights.clone(), config.sample_rate),
            weights,
            memory,
            banks,
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

    /// Replaces the whole memory (a loaded state): `prototypes` beyond capacity are dropped,
    /// the banks of recent notes are emptied, the note in progress is forgotten.
    pub fn replace_memory(&mut self, prototypes: Vec<Prototype>, active: Option<usize>) {
        self.memory.clear();
        for p in prototypes {
            self.memory.insert(p);
        }
        self.banks = vec![Vec::new(); self.memory.prototypes().len()];
        self.note = Note::Idle;
        self.set_active(active);
    }

    /// Forgets every prototype.
    pub fn clear(&mut self) -> LiveEvent {
        self.memory.clear();
        self.banks.clear();
        self.active = None;
        if let Note::On { winner, .. } = &mut self.note {
            *winner = None;
        }
        LiveEvent::MemoryChanged
    }

    /// Removes prototype `index` (its bank too); later indices move down by one.
    pub fn remove(&mut self, index: usize) -> Option<LiveEvent> {
        self.memory.remove(index)?;
        if index < self.banks.len() {
            self.banks.remove(index);
        }
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
        if let Note::On { winner, .. } = &mut self.note {
            *winner = winner.and_then(shift);
        }
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
                winner,
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
                    winner,
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

    /// Presents the current note once enough of it has been heard.
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
        let embedding = self
            .encoder
            .embed(&self.audio[start..start + context as usize]);
        let learn = settings.mode == Mode::Learn;
        let mut winner = None;
        if let Some(h) = embedding {
            self.last_input = Some(h);
            let (_, nearest) = self.memory.search(&code(&h));
            let start_theta =
                nearest.map_or_else(default_theta, |(j, _)| self.memory.prototypes()[j].theta);
            let now = onset as f64 / self.config.sample_rate as f64;
            let decision = self.memory.present(&h, now, learn, |_| start_theta);
            winner = match decision {
                Decision::Resonated { index, .. } => Some(index),
                Decision::Allocated { index, .. } => {
                    self.banks.push(Vec::new());
                    emit(LiveEvent::MemoryChanged);
                    Some(index)
                }
                Decision::Unmatched { nearest } => nearest.map(|n| n.0),
            };
            emit(LiveEvent::Presented { decision });
            if winner.is_some() && winner != self.active {
                self.active = winner;
                emit(LiveEvent::Active(winner));
            }
        }
        if let Note::On {
            winner: w,
            presented,
            ..
        } = &mut self.note
        {
            *w = winner.filter(|_| learn);
            *presented = true;
        }
    }

    /// Ends the current note at stream sample `end`; in Learn mode, banks it and refines its
    /// prototype.
    fn end_note(&mut self, end: u64, settings: &LiveSettings, emit: &mut impl FnMut(LiveEvent)) {
        let Note::On { onset, winner, .. } = self.note else {
            return;
        };
        self.note = Note::Idle;
        if let Some(j) = winner.filter(|_| settings.mode == Mode::Learn) {
            let from = onset.saturating_sub(self.pre as u64).max(self.audio_start);
            let a = (from - self.audio_start) as usize;
            let b = ((end - self.audio_start) as usize).min(self.audio.len());
            if b > a {
                let clip = self.audio[a..b].to_vec();
                // Analysed once when banked, not again at every later refinement.
                let analysis = analyze(&clip, &AnalysisConfig::new(self.config.sample_rate));
                if let Some(bank) = self.banks.get_mut(j) {
                    bank.push((clip, analysis));
                    if bank.len() > self.config.bank_notes {
                        bank.remove(0);
                    }
                }
                self.keep_banks_in_budget(j);
                self.refine(j, settings, emit);
            }
        }
        self.trim_to(end.saturating_sub(self.pre as u64));
    }

    /// Drops oldest banked notes until all banks together fit [`LiveConfig::bank_budget`]: from
    /// the fullest bank that keeps a note afterwards, preferring others to `keep` (the one just
    /// refined); a bank is emptied only when every bank is down to one note.
    fn keep_banks_in_budget(&mut self, keep: usize) {
        let size =
            |bank: &Vec<(Vec<f32>, Analysis)>| -> usize { bank.iter().map(|(c, _)| c.len()).sum() };
        let mut total: usize = self.banks.iter().map(size).sum();
        while total > self.config.bank_budget {
            let fullest = |min_len: usize, skip: Option<usize>| {
                self.banks
                    .iter()
                    .enumerate()
                    .filter(|(i, b)| Some(*i) != skip && b.len() > min_len)
                    .max_by_key(|(_, b)| size(b))
                    .map(|(i, _)| i)
            };
            let victim = fullest(1, Some(keep))
                .or_else(|| fullest(1, None))
                .or_else(|| fullest(0, Some(keep)));
            let Some(v) = victim else { break };
            let (clip, _) = self.banks[v].remove(0);
            total -= clip.len();
        }
    }

    /// Samples of banked notes over all prototypes.
    pub fn banked_samples(&self) -> usize {
        self.banks.iter().flatten().map(|(c, _)| c.len()).sum()
    }

    /// Drops buffered audio before stream sample `at`.
    fn trim_to(&mut self, at: u64) {
        if at > self.audio_start {
            let n = ((at - self.audio_start) as usize).min(self.audio.len());
            self.audio.drain(..n);
            self.audio_start += n as u64;
        }
    }

    /// Refines prototype `j`'s θ on its bank (unless it is locked).
    fn refine(&mut self, j: usize, settings: &LiveSettings, emit: &mut impl FnMut(LiveEvent)) {
        let Some(proto) = self.memory.prototypes().get(j) else {
            return;
        };
        if proto.locked || self.config.steps_per_note == 0 {
            return;
        }
        let start = proto.theta;
        let sr = self.config.sample_rate;
        let parts: Vec<(&[f32], &Analysis)> = self.banks[j]
            .iter()
            .filter(|(_, a)| !a.notes.is_empty())
            .map(|(c, a)| (c.as_slice(), a))
            .collect();
        if parts.is_empty() {
            return;
        }
        let Ok(mut objective) = Objective::new(&parts, sr, &ObjectiveConfig::default()) else {
            return;
        };
        if let Some(bounds) = self.memory.bounds(j).filter(|_| settings.resonance > 0.0) {
            let encoder = Encoder::new(self.weights.clone(), sr);
            objective.set_attractor(Some((encoder, bounds, settings.resonance)));
        }
        let alpha = if settings.learn_rate.is_finite() {
            settings.learn_rate.clamp(1e-4, 0.5)
        } else {
            OptimizerConfig::default().alpha
        };
        let config = SearchConfig {
            optimizer: OptimizerConfig {
                alpha,
                ..OptimizerConfig::default()
            },
            seed: self.steps.wrapping_add(1),
            stop: self.stop.clone(),
            ..SearchConfig::default()
        };
        let mut last = (0.0, 0.0, 0.0);
        let outcome = search(
            &mut objective,
            &[start],
            Budget::steps(self.config.steps_per_note as f32),
            &config,
            |p| last = p.optimizer,
        );
        self.steps += outcome.steps as u64;
        self.optimizer = last;
        if self.losses.len() == LOSS_HISTORY {
            self.losses.remove(0);
        }
        self.losses.push(outcome.loss);
        let theta = sanitize(&outcome.theta);
        if let Some(p) = self.memory.prototype_mut(j) {
            p.theta = theta;
            p.loss = outcome.loss;
        }
        emit(LiveEvent::Refined {
            index: j,
            loss: outcome.loss,
            steps: outcome.steps,
        });
    }
}

/// θ clamped into each parameter's range; non-finite values become the default.
pub fn sanitize(theta: &Theta<f32>) -> Theta<f32> {
    let d = default_theta();
    std::array::from_fn(|k| {
        let v = theta[k];
        if v.is_finite() {
            v.clamp(SPECS[k].min, SPECS[k].max)
        } else {
            d[k]
        }
    })
}

/// θ between `a` and `b` at `t` (0 = a, 1 = b), interpolated in knob space (log for times and
/// frequencies), so a morph moves the way the knobs would.
pub fn morph(a: &Theta<f32>, b: &Theta<f32>, t: f32) -> Theta<f32> {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    if t == 0.0 {
        return *a;
    }
    if t == 1.0 {
        return *b;
    }
    std::array::from_fn(|k| {
        let (za, zb) = (SPECS[k].normalize(a[k]), SPECS[k].normalize(b[k]));
        SPECS[k].denormalize(za + (zb - za) * t)
    })
}

/// Applies the plant knobs as offsets: each knob moved from its default by some share of its
/// travel moves the learned value by the same share (clamped to the range). Knobs at their
/// defaults play the learned patch exactly.
pub fn with_offsets(learned: &Theta<f32>, knobs: &Theta<f32>) -> Theta<f32> {
    let d = default_theta();
    std::array::from_fn(|k| {
        let s = &SPECS[k];
        let offset = s.normalize(knobs[k]) - s.normalize(d[k]);
        if offset == 0.0 {
            learned[k]
        } else {
            s.denormalize((s.normalize(learned[k]) + offset).clamp(0.0, 1.0))
        }
    })
}

/// Number of θ values (re-exported for the plugin's patch table).
pub const THETA_LEN: usize = N_THETA;

#[cfg(test)]
mod tests;
