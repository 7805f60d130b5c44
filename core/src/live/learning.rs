//! How the live learner learns a note that ended: match tracking against the candidates'
//! patches, refinement on the winner's kept notes, a split when a refinement would forget, and
//! later patches improving earlier prototypes.

use super::learner::{LOSS_HISTORY, RUN_EMBEDDINGS, Run};
use super::{LiveEvent, LiveLearner, LiveSettings};
use crate::learning::keeper::Refined;
use crate::learning::objective::{LearnError, Objective, ObjectiveConfig};
use crate::learning::optimizer::OptimizerConfig;
use crate::learning::reservoir::{Group, KeptNote, Reservoir};
use crate::learning::search::{Budget, Outcome, SearchConfig, search};
use crate::memory::art::{Code, Decision, Memory, code};
use crate::memory::encoder::{Embedding, Encoder, EncoderWeights};
use crate::plant::algebra::sanitize;
use crate::plant::{Theta, default_theta};

impl LiveLearner {
    /// Presents a finished note's embedding `h` with match tracking and refines its winner.
    pub(super) fn learn(
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
        // A refinement that guards no earlier notes is always accepted: its interim patches
        // play while it goes on (`LiveEvent::Refining`), so the note is heard refined sooner.
        let previews = if self.keeper.unguarded(&self.memory, target, extend) {
            PREVIEWS
        } else {
            0
        };
        let config = SearchConfig {
            previews,
            ..self.search_config(settings)
        };
        let mut fitter = Fitter {
            weights: &self.weights,
            config,
            budget: self.config.steps_per_note,
            settings,
            sample_rate: sr,
            steps: &mut self.steps,
        };
        let mut last = (0.0, 0.0, 0.0);
        let fit = |memory: &Memory, k: usize, reservoir: &Reservoir, start: Theta<f32>| {
            let mut preview = |theta: Theta<f32>| {
                emit(LiveEvent::Refining {
                    index: k,
                    theta: sanitize(&theta),
                });
            };
            let (outcome, optimizer) = fitter.fit(memory, k, reservoir, start, &mut preview)?;
            last = optimizer;
            Ok(outcome)
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
    pub(super) fn improve_from(
        &mut self,
        donor: usize,
        settings: &LiveSettings,
        emit: &mut impl FnMut(LiveEvent),
    ) {
        let sr = self.config.sample_rate;
        let mut fitter = Fitter {
            weights: &self.weights,
            config: self.search_config(settings),
            budget: self.config.steps_per_note,
            settings,
            sample_rate: sr,
            steps: &mut self.steps,
        };
        let fit = |memory: &Memory, k: usize, reservoir: &Reservoir, start: Theta<f32>| {
            Ok(fitter.fit(memory, k, reservoir, start, &mut |_| {})?.0)
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
    pub(super) fn search_config(&self, settings: &LiveSettings) -> SearchConfig {
        let alpha = if settings.learn_rate.is_finite() {
            settings.learn_rate.clamp(1e-4, 0.5)
        } else {
            OptimizerConfig::default().alpha
        };
        let defaults = SearchConfig::default();
        SearchConfig {
            optimizer: OptimizerConfig {
                alpha,
                ..defaults.optimizer
            },
            seed: self.steps.wrapping_add(1),
            stop: self.stop.clone(),
            ..defaults
        }
    }

    /// Thins kept notes until all reservoirs together fit [`LiveConfig::bank_budget`]: from
    /// the fullest reservoir that keeps a note afterwards, preferring others to `keep` (the one
    /// just refined); a reservoir is emptied only when every one is down to one note.
    pub(super) fn keep_within_budget(&mut self, keep: usize) {
        self.keeper.keep_within(self.config.bank_budget, keep);
    }

    /// Samples of kept notes over all prototypes.
    pub fn banked_samples(&self) -> usize {
        self.keeper.samples()
    }

    /// Drops buffered audio before stream sample `at`.
    pub(super) fn trim_to(&mut self, at: u64) {
        if at > self.audio_start {
            let n = ((at - self.audio_start) as usize).min(self.audio.len());
            self.audio.drain(..n);
            self.audio_start += n as u64;
        }
    }
}

/// Interim patches a refinement that cannot be refused hands out (at a third and two thirds of
/// its gradient steps).
const PREVIEWS: usize = 2;

/// What every fit of one learning event shares; it counts the steps taken.
struct Fitter<'a> {
    /// The encoder's weights (for the resonance regularizer).
    weights: &'a EncoderWeights,
    /// The search's settings.
    config: SearchConfig,
    /// Gradient steps per fit.
    budget: usize,
    /// The live settings (λ_ART).
    settings: &'a LiveSettings,
    /// Sample rate, Hz.
    sample_rate: f32,
    /// The learner's count of gradient steps taken.
    steps: &'a mut u64,
}

impl Fitter<'_> {
    /// The search for prototype `j` on `reservoir`'s notes from `start`, coupled to its
    /// category box; the outcome with the optimizer's last state (α, μ, σ). `preview` gets the
    /// interim patches the config asks for. Allocates.
    fn fit(
        &mut self,
        memory: &Memory,
        j: usize,
        reservoir: &Reservoir,
        start: Theta<f32>,
        preview: &mut dyn FnMut(Theta<f32>),
    ) -> Result<(Outcome, (f32, f32, f32)), LearnError> {
        let parts = reservoir.parts();
        let sr = self.sample_rate;
        let mut objective = Objective::new(&parts, sr, &ObjectiveConfig::default())?;
        let resonance = self.settings.resonance;
        if let Some(bounds) = memory.bounds(j).filter(|_| resonance > 0.0) {
            let encoder = Encoder::new(self.weights.clone(), sr);
            objective.set_attractor(Some((encoder, bounds, resonance)));
        }
        let mut last = (0.0, 0.0, 0.0);
        let outcome = search(
            &mut objective,
            &[start],
            Budget::steps(self.budget as f32),
            &self.config,
            |p| {
                last = p.optimizer;
                if let Some(theta) = p.preview {
                    preview(theta);
                }
            },
        );
        *self.steps += outcome.steps as u64;
        Ok((outcome, last))
    }
}
