//! The project's search (docs/ARCHITECTURE.md §5.1): seeds from good starting points, a small
//! population thinned by successive halving, gradient runs, and the best result kept.
//!
//! Spectral losses have many local minima (plain Adam loses to random search and genetic
//! algorithms in published sound matching, e.g. Turian & Henry 2020; Masuda & Saito 2021), so
//! one gradient run is not enough; a population seeded from archetypes and from what the memory
//! already knows, with the worst runs dropped early, spends the budget where it pays.

use crate::learning::objective::{Objective, WHOLE_COST};
use crate::learning::optimizer::{Optimizer, OptimizerConfig};
use crate::learning::screening::{SCREEN_EVERY, screen};
use crate::num::Rng;
use crate::plant::archetypes::{archetypes, random_theta};
use crate::plant::{Learned, N_THETA, SECTIONS, SPECS, Theta, default_theta, from_knobs, to_knobs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// How long a search may run. Whichever limit is reached first ends it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Wall-clock limit, seconds.
    pub seconds: Option<f32>,
    /// Work limit in gradient-step equivalents (a plain loss evaluation counts
    /// [`PLAIN_EVAL_COST`]): reproducible on any machine.
    pub steps: Option<f32>,
}

/// Cost of a plain (f32) loss evaluation relative to a gradient step: an estimate from the
/// gradient benchmark's parts (the dual render is most of a step; a plain render and a loss
/// without its adjoint are a fraction of theirs).
pub const PLAIN_EVAL_COST: f32 = 0.3;

impl Budget {
    /// A wall-clock budget.
    pub fn seconds(s: f32) -> Self {
        Self {
            seconds: Some(s),
            steps: None,
        }
    }

    /// A work budget in gradient steps: the same result on every machine.
    pub fn steps(n: f32) -> Self {
        Self {
            seconds: None,
            steps: Some(n),
        }
    }
}

/// Tracks a [`Budget`] as a fraction used.
pub(crate) struct Meter {
    /// The budget.
    pub(crate) budget: Budget,
    /// Ends the search early once raised (see [`SearchConfig::stop`]).
    pub(crate) stop: Option<Arc<AtomicBool>>,
    /// When the search started.
    pub(crate) started: Instant,
    /// Work done, gradient-step equivalents.
    pub(crate) work: f32,
}

impl Meter {
    pub(crate) fn new(budget: Budget, stop: Option<Arc<AtomicBool>>) -> Self {
        Self {
            budget,
            stop,
            started: Instant::now(),
            work: 0.0,
        }
    }

    /// Fraction of the budget used, 0–1 (1 with no limit set, so a search always ends; 1 once
    /// asked to stop).
    pub(crate) fn used(&self) -> f32 {
        if self
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
        {
            return 1.0;
        }
        let t = self
            .budget
            .seconds
            .map(|s| self.started.elapsed().as_secs_f32() / s.max(1e-3));
        let w = self.budget.steps.map(|s| self.work / s.max(1e-3));
        match (t, w) {
            (None, None) => 1.0,
            (a, b) => a.unwrap_or(0.0).max(b.unwrap_or(0.0)).min(1.0),
        }
    }
}

/// What a search reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Fraction of the budget used, 0–1.
    pub used: f32,
    /// Best loss so far.
    pub best_loss: f32,
    /// Gradient steps taken.
    pub steps: usize,
    /// Runs still alive in the population.
    pub alive: usize,
    /// The leading run's α, μ, σ.
    pub optimizer: (f32, f32, f32),
    /// The leading run's best patch with the recorded loudness, at each of
    /// [`SearchConfig::previews`] points of the budget; `None` at every other step.
    pub preview: Option<Theta<f32>>,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The best patch, musical units.
    pub theta: Theta<f32>,
    /// Its loss.
    pub loss: f32,
    /// Best loss after each gradient step or evaluation, in order.
    pub history: Vec<f32>,
    /// Gradient steps taken.
    pub steps: usize,
    /// Plain loss evaluations made.
    pub evaluations: usize,
}

/// Settings of the project's search.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    /// The optimizer each run uses. Plain Adam by default: with the theory's α and μ rules and
    /// its dither inside each run (`dar-ddsp eval --adaptive`), the search's median on
    /// `../shared/eval` is 3.38 dB against 3.10 dB with plain runs (docs/RESULTS.md); the
    /// population and the halving already do what the dither is for, leaving a poor basin.
    pub optimizer: OptimizerConfig,
    /// Runs started after seeding (halved at each stage).
    pub population: usize,
    /// Share of the budget spent scoring seeds (starts, archetypes, random patches).
    pub seeding: f32,
    /// Share of the runs' budget over which the population is halved down to one run (the
    /// leader has the rest alone).
    pub ranking: f32,
    /// Seed of the random patches and the dither.
    pub seed: u64,
    /// The plant's [`SECTIONS`] the search leaves at their defaults (neutral): no seed sets
    /// them and no probe learns them. What `dar-ddsp eval --without` measures a section by.
    pub sections_off: [bool; SECTIONS.len()],
    /// Raised, it ends the search at its next step with the best patch found so far (the live
    /// learner's thread passes its stop flag, so a plugin unloads without waiting for a
    /// refinement to finish).
    pub stop: Option<Arc<AtomicBool>>,
    /// Interim patches the search hands out through [`Progress::preview`], evenly spaced over
    /// the gradient runs' share of the budget (the live learner plays them while a refinement
    /// that cannot be refused goes on). Making one costs one plain evaluation outside the
    /// budget; the search's result is the same with or without them.
    pub previews: usize,
}

impl SearchConfig {
    /// `theta` with the knobs of every section in [`SearchConfig::sections_off`] at their
    /// defaults.
    pub fn neutralize(&self, mut theta: Theta<f32>) -> Theta<f32> {
        for (section, _) in SECTIONS
            .iter()
            .zip(self.sections_off)
            .filter(|(_, off)| *off)
        {
            for &p in *section {
                theta[p as usize] = SPECS[p as usize].default;
            }
        }
        theta
    }
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerConfig::plain(OptimizerConfig::default().alpha),
            population: 4,
            seeding: 0.05,
            ranking: 0.25,
            seed: 1,
            sections_off: [false; SECTIONS.len()],
            stop: None,
            previews: 0,
        }
    }
}

/// One gradient run of the population.
pub(crate) struct Run {
    /// Position in learning space.
    pub(crate) z: [f32; N_THETA],
    /// Its optimizer.
    pub(crate) opt: Optimizer<N_THETA>,
    /// Its best loss.
    pub(crate) best: f32,
    /// Its best θ (musical units).
    pub(crate) best_theta: Theta<f32>,
    /// Steps it took.
    pub(crate) steps: usize,
    /// The knobs its steps learn, chosen by the last probe ([`screen`]).
    pub(crate) learned: Learned,
    /// Its best loss when it was last checked whole ([`Objective::whole_distance`]).
    pub(crate) checked: f32,
    /// Sections its probes never choose ([`SearchConfig::sections_off`]).
    pub(crate) sections_off: [bool; SECTIONS.len()],
}

impl Run {
    /// A run from `theta` (whose loss is `loss`) with optimizer `opt`; its probes never choose
    /// the sections in `sections_off`.
    pub(crate) fn new(
        theta: &Theta<f32>,
        loss: f32,
        opt: Optimizer<N_THETA>,
        sections_off: [bool; SECTIONS.len()],
    ) -> Self {
        Self {
            z: to_knobs(theta),
            opt,
            best: loss,
            best_theta: *theta,
            steps: 0,
            learned: Learned::core(),
            checked: f32::INFINITY,
            sections_off,
        }
    }

    /// One gradient step of the run, counted in `meter`; keeps its best patch. Every
    /// [`SCREEN_EVERY`] steps a probe first chooses the knobs it learns.
    pub(crate) fn step(&mut self, objective: &mut Objective, meter: &mut Meter) {
        if self.steps > 0 && self.steps.is_multiple_of(SCREEN_EVERY) {
            self.learned = screen(objective, &self.z, &self.sections_off).1;
            meter.work += 1.0;
        }
        let (l, g) = objective.loss_and_gradient(&self.z, &self.learned);
        meter.work += 1.0;
        self.steps += 1;
        if l.is_finite() && l < self.best {
            self.best = l;
            self.best_theta = from_knobs(&self.z);
        }
        self.opt.step(&mut self.z, &g, l);
        project(&mut self.z);
    }
}

/// Steps of a run between two whole-note checks of its best patch.
const CHECK_EVERY: usize = 100;

/// The patch a search returns: of the runs' best patches as they were checked whole, the one
/// closest to the recording by [`Objective::whole_distance`], with its loss.
#[derive(Default)]
struct Choice {
    /// (whole-note distance dB, loss, θ) of the closest so far.
    best: Option<(f32, f32, Theta<f32>)>,
}

impl Choice {
    /// Checks `run`'s best patch whole if it improved since its last check, counted in `meter`.
    fn check(&mut self, run: &mut Run, objective: &mut Objective, meter: &mut Meter) {
        if run.best >= run.checked {
            return;
        }
        run.checked = run.best;
        let d = objective.whole_distance(&run.best_theta);
        meter.work += WHOLE_COST;
        if d.is_finite() && self.best.as_ref().is_none_or(|b| d < b.0) {
            self.best = Some((d, run.best, run.best_theta));
        }
    }
}

/// Projects a learning-space point (knob space) back into the box after a step. A box, not a
/// sigmoid's open line: at a sigmoid's far ends the gradient vanishes, and an oscillator level
/// that starts at 0 could not be brought in (measured: a pulse wave the target needed stayed off
/// for 200 steps).
fn project(z: &mut [f32; N_THETA]) {
    z.iter_mut().for_each(|v| {
        *v = if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.5
        }
    });
}

/// The project's search: scores `starts` (e.g. the memory's nearest prototypes), the
/// [`archetypes`] (each also with the envelope and mix measured from the recording) and random
/// patches; runs [`SearchConfig::optimizer`] from the best few, drops the worse half of the runs
/// at each stage, and spends what is left on the leader. Every run's best patch is checked over
/// whole notes ([`Objective::whole_distance`]); the closest is returned, gain matched to the
/// target.
///
/// Learning a recording: its notes analysed, an objective built on them, the search run on a
/// budget of gradient steps (the same result on every machine).
///
/// ```
/// use dar_ddsp_core::learning::objective::{Objective, ObjectiveConfig};
/// use dar_ddsp_core::learning::search::{Budget, SearchConfig, search};
/// use dar_ddsp_core::plant::{P, default_theta};
/// use dar_ddsp_core::plant::render::render_note;
/// use dar_ddsp_core::signal::analysis::{AnalysisConfig, analyze};
///
/// // A recording to learn: here a darker patch than the default (a WAV would come from
/// // `dar_ddsp_core::signal::audio_file::read_audio`).
/// let sr = 48_000.0;
/// let mut target = default_theta();
/// target[P::Cutoff as usize] = 700.0;
/// let mut audio = vec![0.0; 4_800];
/// audio.extend(render_note(&target, 57.0, 0.8, 24_000, sr, 36_000));
/// let analysis = analyze(&audio, &AnalysisConfig::new(sr));
/// let mut objective =
///     Objective::new(&[(&audio, &analysis)], sr, &ObjectiveConfig::default()).unwrap();
/// let before = objective.loss(&default_theta());
/// let config = SearchConfig::default();
/// let learned = search(&mut objective, &[], Budget::steps(30.0), &config, |_| {});
/// assert!(learned.loss < before);
/// ```
pub fn search(
    objective: &mut Objective,
    starts: &[Theta<f32>],
    budget: Budget,
    config: &SearchConfig,
    mut progress: impl FnMut(&Progress),
) -> Outcome {
    let mut meter = Meter::new(budget, config.stop.clone());
    let mut rng = Rng::from_state(config.seed | 1);
    let mut history = Vec::new();
    let mut evaluations = 0;

    // Seeding: every start and archetype, then random patches while the seeding share lasts.
    let mut seeds: Vec<(f32, Theta<f32>)> = Vec::new();
    // Each start and archetype as it is, with the envelope measured from the recording, and
    // with that envelope and the mix and low-pass fitted to the recorded harmonics.
    let measured = objective.envelope();
    let mix = objective.mix_estimate();
    let mut fixed = starts.iter().copied().chain(archetypes()).flat_map(|t| {
        let shaped = measured.map_or(t, |e| e.apply(&t));
        std::iter::once(t)
            .chain(measured.map(|_| shaped))
            .chain(mix.map(|m| m.apply(&shaped)))
    });
    let mut best = f32::INFINITY;
    loop {
        let theta = match fixed.next() {
            Some(t) => config.neutralize(t),
            None if meter.used() < config.seeding => random_theta(&mut rng),
            None => break,
        };
        let l = objective.loss(&theta);
        meter.work += PLAIN_EVAL_COST;
        evaluations += 1;
        if l.is_finite() {
            seeds.push((l, theta));
            best = best.min(l);
        }
        history.push(best);
    }
    seeds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut runs: Vec<Run> = seeds
        .iter()
        .take(config.population.max(1))
        .enumerate()
        .map(|(i, (l, t))| {
            let opt = Optimizer::new(config.optimizer, config.seed.wrapping_add(i as u64 * 7919));
            Run::new(t, *l, opt, config.sections_off)
        })
        .collect();
    if runs.is_empty() {
        // Every seed was non-finite (cannot happen with a finite target): keep the default.
        let t = default_theta();
        let loss = objective.loss(&t);
        return Outcome {
            theta: objective.with_recorded_gain(&t),
            loss,
            history,
            steps: 0,
            evaluations: evaluations + 1,
        };
    }

    // Successive halving: the population shrinks by half each time another equal part of the
    // ranking share of the remaining budget is used; the leader has the rest alone.
    let halvings = (runs.len() as f32).log2().ceil().max(1.0);
    let ranking = config.ranking;
    let start_used = meter.used();
    let mut steps = 0;
    let mut choice = Choice::default();
    let mut previewed = 0;
    loop {
        let used = meter.used();
        if used >= 1.0 {
            break;
        }
        let run_share = (used - start_used) / (1.0 - start_used).max(1e-6);
        let stage = ((run_share / ranking.max(1e-6)) * halvings) as usize;
        let alive = (runs.len() >> stage.min(63)).max(1);
        if alive < runs.len() {
            runs.sort_by(|a, b| a.best.total_cmp(&b.best));
            // A dropped run's best is still a candidate.
            for run in &mut runs[alive..] {
                choice.check(run, objective, &mut meter);
            }
            runs.truncate(alive);
        }
        for run in runs.iter_mut() {
            run.step(objective, &mut meter);
            steps += 1;
            if run.steps.is_multiple_of(CHECK_EVERY) {
                choice.check(run, objective, &mut meter);
            }
        }
        let leader = runs
            .iter()
            .min_by(|a, b| a.best.total_cmp(&b.best))
            .map(|r| {
                (
                    r.best,
                    (r.opt.alpha(), r.opt.mu(), r.opt.sigma()),
                    r.best_theta,
                )
            })
            .unwrap_or((f32::INFINITY, (0.0, 0.0, 0.0), default_theta()));
        // Runs start from the best seeds, so the leader is never worse than the best seed.
        history.push(leader.0);
        // The k-th preview once k / (previews + 1) of the runs' share is used.
        let share = (meter.used() - start_used) / (1.0 - start_used).max(1e-6);
        let due = previewed < config.previews
            && share * (config.previews + 1) as f32 >= (previewed + 1) as f32
            && leader.0.is_finite();
        let preview = due.then(|| {
            previewed += 1;
            objective.with_recorded_gain(&leader.2)
        });
        progress(&Progress {
            used: meter.used(),
            best_loss: leader.0,
            steps,
            alive: runs.len(),
            optimizer: leader.1,
            preview,
        });
    }
    // The last best of every run still alive is a candidate too (past the budget by at most
    // one check per run).
    for run in runs.iter_mut() {
        choice.check(run, objective, &mut meter);
    }
    let mut out = finish(objective, runs, history, steps, evaluations);
    if let Some((_, loss, theta)) = choice.best {
        out.theta = objective.with_recorded_gain(&theta);
        out.loss = loss;
    }
    out
}

/// The best run's patch, with the output gain that plays the recording's loudness.
pub(crate) fn finish(
    objective: &mut Objective,
    runs: Vec<Run>,
    history: Vec<f32>,
    steps: usize,
    evaluations: usize,
) -> Outcome {
    let best = runs
        .into_iter()
        .min_by(|a, b| a.best.total_cmp(&b.best))
        .map(|r| (r.best, r.best_theta));
    let (loss, theta) = best.unwrap_or((f32::INFINITY, default_theta()));
    Outcome {
        theta: objective.with_recorded_gain(&theta),
        loss,
        history,
        steps,
        evaluations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{SR, objective_for, patch, play};

    #[test]
    fn previews_come_at_their_points_and_change_nothing() {
        const NOTES: [(u8, f32, f32); 2] = [(48, 0.05, 0.5), (60, 0.8, 0.5)];
        let audio = play(&patch(), &NOTES, 1.6);
        let run = |previews: usize| {
            let mut obj = objective_for(&audio);
            let mut seen = Vec::new();
            let config = SearchConfig {
                previews,
                ..SearchConfig::default()
            };
            let out = search(&mut obj, &[], Budget::steps(30.0), &config, |p| {
                if let Some(t) = p.preview {
                    seen.push((p.used, p.best_loss, t));
                }
            });
            (out, seen)
        };
        let (plain, none) = run(0);
        let (with, seen) = run(2);
        assert!(none.is_empty());
        assert_eq!(plain, with, "previews changed the search");
        assert_eq!(seen.len(), 2, "{seen:?}");
        // In order, past the seeding, each no worse than the one before, the last no better
        // than the result.
        assert!(seen[0].0 < seen[1].0 && seen[0].1 >= seen[1].1 && seen[1].1 >= with.loss);
        assert!(seen.iter().all(|s| s.2.iter().all(|v| v.is_finite())));
    }

    #[test]
    fn search_recovers_a_patch_the_plant_made() {
        const NOTES: [(u8, f32, f32); 3] = [(48, 0.05, 0.6), (55, 0.9, 0.6), (64, 1.75, 0.6)];
        let theta = patch();
        let audio = play(&theta, &NOTES, 2.7);
        let mut obj = objective_for(&audio);
        assert_eq!(obj.notes().len(), 3);
        let start_loss = obj.loss(&default_theta());
        let out = search(
            &mut obj,
            &[],
            Budget::steps(250.0),
            &SearchConfig::default(),
            |_| {},
        );
        assert!(out.steps > 150, "steps {}", out.steps);
        // The plant's own patch does not score 0: the analysed onsets are 0.3 ms off. Full
        // recovery of a saw + narrow pulse mix is not reached in 250 steps.
        let true_loss = obj.loss(&theta);
        assert!(
            out.loss < 0.45 * start_loss,
            "loss {start_loss} → {}",
            out.loss
        );
        // The best loss never rises.
        assert!(out.history.windows(2).all(|w| w[1] <= w[0]));
        // It sounds like the target by the project's yardstick.
        let d =
            crate::signal::distance::spectral_distance(&play(&out.theta, &NOTES, 2.7), &audio, SR);
        let d0 = crate::signal::distance::spectral_distance(
            &play(&default_theta(), &NOTES, 2.7),
            &audio,
            SR,
        );
        eprintln!(
            "recovery: loss {start_loss:.3} → {:.3} (true patch {true_loss:.3}); \
             distance {d0:.2} dB → {d:.2} dB",
            out.loss
        );
        assert!(d < 0.5 * d0 && d < 3.0, "distance {d0} dB → {d} dB");
    }
}
