//! The full learner on recorded audio: recognise (encoder + Fuzzy ART with match tracking),
//! then refine the winning prototype's patch on everything it has won (search with the
//! resonance regularizer), refusing a refinement that plays an earlier group of its notes
//! worse. The command line's `learn` and `continual` use it.
//!
//! Each note is presented once: the encoder context from 20 ms after its onset (attack and early
//! sustain, where a timbre identifies itself, and where the encoder was trained to look).
//!
//! - **Match tracking** (Fuzzy ARTMAP, Carpenter et al. 1992): a learned prototype that passes
//!   the vigilance test but whose patch cannot play the new note ([`Keeper::predicts`]) is a
//!   mispredicted category; the search goes on above its match, and a new prototype is
//!   committed if nothing else resonates.
//! - **No overwriting**: each prototype keeps a [`Reservoir`] of the notes it won, a group per
//!   recording. After a recording, each winner's patch is refined on its whole reservoir and
//!   accepted only if no earlier group plays worse ([`Keeper::refine`]); otherwise the
//!   recording's notes split off into a prototype of their own and the old one keeps its patch
//!   and its category box.
//!
//! A new prototype starts from its nearest neighbour's θ: the memory is the optimizer's
//! attractor. After a recording, the patches it taught are tried as starts for their
//! neighbours ([`Keeper::improve_from`]).

use crate::learning::keeper::{Keeper, KeeperConfig, Refined};
use crate::learning::objective::{LearnError, Objective, ObjectiveConfig};
use crate::learning::reservoir::{Group, KeptNote, Reservoir};
use crate::learning::search::{Budget, Outcome, SearchConfig, search};
use crate::memory::art::{ArtConfig, Code, Decision, Memory, code};
use crate::memory::encoder::CONTEXT_OFFSET_S;
use crate::memory::encoder::{Embedding, Encoder, EncoderWeights};
use crate::plant::{Theta, default_theta};
use crate::signal::analysis::Analysis;

/// Settings of the full learner.
#[derive(Debug, Clone)]
pub struct ContinualConfig {
    /// The memory's settings (ρ, η, capacity).
    pub art: ArtConfig,
    /// Search budget per prototype and recording.
    pub budget: Budget,
    /// λ_ART, the weight of the resonance regularizer (0 = off).
    pub resonance: f32,
    /// Search settings.
    pub search: SearchConfig,
    /// Objective settings.
    pub objective: ObjectiveConfig,
    /// Match tracking, the refinement guard and the reservoirs' bounds.
    pub keeper: KeeperConfig,
}

impl Default for ContinualConfig {
    fn default() -> Self {
        Self {
            art: ArtConfig::default(),
            budget: Budget::steps(150.0),
            resonance: 0.5,
            search: SearchConfig::default(),
            objective: ObjectiveConfig::default(),
            keeper: KeeperConfig::default(),
        }
    }
}

/// What learning one recording did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingReport {
    /// Winning prototype of every presented note, in order (`None`: no prototype, memory
    /// full), after splits.
    pub presentations: Vec<Option<usize>>,
    /// Winning prototype of every note (`None`: too short, silent or unmatched), after splits.
    pub notes: Vec<Option<usize>>,
    /// Prototypes committed while hearing it (by recognition or by a split).
    pub allocated: Vec<usize>,
    /// Prototypes whose θ was refined, with their final loss.
    pub refined: Vec<(usize, f32)>,
    /// Notes too short for one context (not presented).
    pub too_short: usize,
    /// Candidates that passed vigilance but were reset by match tracking.
    pub mispredicted: usize,
    /// Splits: (prototype whose refinement was refused, the new prototype its notes went to).
    pub splits: Vec<(usize, usize)>,
    /// Prototypes committed for this recording that joined another one it committed, because
    /// one patch plays the notes of both.
    pub merged: usize,
    /// Earlier prototypes fitted again from a patch this recording taught, because it played
    /// their notes better than their own ([`Keeper::improve_from`]).
    pub improved: Vec<usize>,
}

/// The memory, the encoder and the search, learning from recordings in sequence.
pub struct ContinualLearner {
    /// Settings.
    config: ContinualConfig,
    /// The memory.
    memory: Memory,
    /// Each prototype's kept notes, and the rule for changing its patch.
    keeper: Keeper,
    /// The encoder's weights (each objective gets its own encoder instance).
    weights: EncoderWeights,
    /// Stream time, seconds heard.
    clock: f64,
}

impl ContinualLearner {
    /// A learner with an empty memory. Allocates.
    pub fn new(config: ContinualConfig, weights: EncoderWeights) -> Self {
        Self {
            memory: Memory::new(config.art),
            keeper: Keeper::new(config.keeper),
            config,
            weights,
            clock: 0.0,
        }
    }

    /// The memory.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// The memory, to rename, lock or insert prototypes (a prototype inserted this way starts
    /// with nothing kept).
    pub fn memory_mut(&mut self) -> &mut Memory {
        &mut self.memory
    }

    /// Each prototype's kept notes.
    pub fn reservoirs(&self) -> &[Reservoir] {
        self.keeper.reservoirs()
    }

    /// Each prototype's own distance over its kept notes, dB, once refined.
    pub fn own(&self) -> &[Option<f32>] {
        self.keeper.own()
    }

    /// Takes the kept notes and own distances of a stored memory (parallel to the prototypes
    /// inserted through [`Self::memory_mut`]; a prototype without them guards its own sound).
    pub fn restore_kept(&mut self, kept: Vec<Reservoir>, own: Vec<Option<f32>>) {
        (self.keeper).restore(self.memory.prototypes().len(), kept, own);
    }

    /// The encoder weights in use.
    pub fn weights(&self) -> &EncoderWeights {
        &self.weights
    }

    /// Recognises every note of `samples` (analysed as `analysis`), then refines each winning
    /// prototype's θ on its reservoir with the recording's notes as a new group. With `learn`
    /// false only recognises (Follow mode). Allocates.
    pub fn hear(
        &mut self,
        samples: &[f32],
        analysis: &Analysis,
        sample_rate: f32,
        learn: bool,
    ) -> Result<RecordingReport, LearnError> {
        self.keeper.sync(self.memory.prototypes().len());
        let mut encoder = Encoder::new(self.weights.clone(), sample_rate);
        let context = encoder.context_len();
        let offset = (CONTEXT_OFFSET_S * sample_rate) as usize;
        let pre = (0.01 * sample_rate) as usize;
        let before: Vec<_> = self.memory.prototypes().iter().map(|p| p.weights).collect();
        let mut report = RecordingReport::default();
        // Per note: its kept cut and its embedding.
        let mut heard: Vec<Option<(KeptNote, Embedding)>> = Vec::new();
        for note in &analysis.notes {
            let start = note.onset + offset;
            let end = note.end.min(samples.len());
            if start + context > end {
                report.too_short += 1;
                report.notes.push(None);
                heard.push(None);
                continue;
            }
            let now = self.clock + start as f64 / sample_rate as f64;
            let Some(h) = encoder.embed(&samples[start..start + context], note.f0_hz) else {
                report.notes.push(None);
                heard.push(None);
                continue;
            };
            let kept = KeptNote::cut(
                samples,
                note.onset.saturating_sub(pre),
                end,
                sample_rate,
                &self.config.keeper.reservoir,
            );
            // A new prototype starts from its nearest neighbour's θ (read before the memory is
            // borrowed mutably).
            let (_, nearest) = self.memory.search(&code(&h));
            let start_theta: Theta<f32> =
                nearest.map_or_else(default_theta, |(j, _)| self.memory.prototypes()[j].theta);
            let thetas: Vec<Theta<f32>> =
                self.memory.prototypes().iter().map(|p| p.theta).collect();
            let keeper = &self.keeper;
            let rivals = (kept.as_ref()).map(|k| {
                (
                    k,
                    keeper.rivals(&self.memory, &code(&h), k, None, sample_rate),
                )
            });
            let predicts = |j: usize| {
                (rivals.as_ref())
                    .is_none_or(|(k, r)| keeper.predicts(j, &thetas[j], k, r, sample_rate))
            };
            let (decision, reset) =
                self.memory
                    .present_tracked(&h, now, learn, |_| start_theta, predicts);
            report.mispredicted += reset;
            let winner = match decision {
                Decision::Resonated { index, .. } => Some(index),
                Decision::Allocated { index, .. } => {
                    report.allocated.push(index);
                    Some(index)
                }
                Decision::Unmatched { nearest } => nearest.map(|n| n.0),
            };
            report.presentations.push(winner);
            report.notes.push(winner);
            heard.push(kept.map(|k| (k, h)));
        }
        self.clock += samples.len() as f64 / sample_rate as f64;
        if !learn {
            return Ok(report);
        }
        // Prototypes learned before are refined first (their notes may split off). Then the
        // prototypes this recording made become one where one patch plays their notes, and
        // those not fitted yet are fitted.
        let fresh_from = self.memory.prototypes().len() - report.allocated.len();
        let winners = |report: &RecordingReport| {
            let mut w: Vec<usize> = report.notes.iter().flatten().copied().collect();
            w.sort_unstable();
            w.dedup();
            w
        };
        for j in winners(&report).into_iter().filter(|&j| j < fresh_from) {
            self.refine(j, &before, &heard, sample_rate, &mut report)?;
        }
        let fitted = self.consolidate(fresh_from, &heard, sample_rate, &mut report)?;
        for j in winners(&report).into_iter().filter(|&j| j >= fresh_from) {
            if !fitted.contains(&j) {
                self.refine(j, &before, &heard, sample_rate, &mut report)?;
            }
        }
        // The patches this recording taught may play their neighbours' notes better.
        for donor in winners(&report) {
            let fit = fitter(&self.config, &self.weights, sample_rate);
            let improved = (self.keeper).improve_from(&mut self.memory, donor, sample_rate, fit)?;
            report.improved.extend(improved.into_iter().map(|(j, _)| j));
        }
        report.presentations = report
            .notes
            .iter()
            .copied()
            .filter(Option::is_some)
            .collect();
        Ok(report)
    }
}

impl ContinualLearner {
    /// Refines prototype `j` on its reservoir with the notes of this recording it won as a new
    /// group (`before`: the category boxes before the recording); a split relabels them.
    fn refine(
        &mut self,
        j: usize,
        before: &[Code],
        heard: &[Option<(KeptNote, Embedding)>],
        sample_rate: f32,
        report: &mut RecordingReport,
    ) -> Result<(), LearnError> {
        if self.memory.prototypes()[j].locked {
            return Ok(());
        }
        let mine: Vec<usize> = (0..report.notes.len())
            .filter(|&i| report.notes[i] == Some(j) && heard[i].is_some())
            .collect();
        let (notes, embeddings): (Vec<KeptNote>, Vec<Embedding>) =
            mine.iter().filter_map(|&i| heard[i].clone()).unzip();
        if notes.is_empty() {
            return Ok(());
        }
        let box_before = before
            .get(j)
            .copied()
            .unwrap_or(self.memory.prototypes()[j].weights);
        let fit = fitter(&self.config, &self.weights, sample_rate);
        match self.keeper.refine(
            &mut self.memory,
            j,
            Group::new(notes),
            false,
            box_before,
            &embeddings,
            self.clock,
            sample_rate,
            fit,
        )? {
            Refined::Accepted(outcome) => report.refined.push((j, outcome.loss)),
            Refined::Split(Some((k, outcome))) => {
                for &i in &mine {
                    report.notes[i] = Some(k);
                }
                report.allocated.push(k);
                report.splits.push((j, k));
                report.refined.push((k, outcome.loss));
            }
            Refined::Split(None) => {}
        }
        Ok(())
    }

    /// The prototypes this recording made (from `fresh_from` on: committed by recognition,
    /// not fitted yet, or by a split, fitted) join the first one it committed by recognition
    /// where one patch plays their notes ([`Keeper::consolidate`]); the report's indices
    /// follow. Returns the split-made prototypes that stayed apart (already fitted).
    fn consolidate(
        &mut self,
        fresh_from: usize,
        heard: &[Option<(KeptNote, Embedding)>],
        sample_rate: f32,
        report: &mut RecordingReport,
    ) -> Result<Vec<usize>, LearnError> {
        let split_made: Vec<usize> = report.splits.iter().map(|s| s.1).collect();
        let mut family: Vec<usize> = report.allocated.clone();
        family.sort_unstable();
        // Only a prototype not fitted yet can take others in.
        let Some(&first) = family.iter().find(|k| !split_made.contains(k)) else {
            return Ok(split_made);
        };
        family.retain(|&k| k >= first && k >= fresh_from);
        if family.len() < 2 {
            return Ok(split_made);
        }
        let of = |k: usize| -> (Group, Vec<Embedding>) {
            let (notes, hs): (Vec<KeptNote>, Vec<Embedding>) = (0..report.notes.len())
                .filter(|&i| report.notes[i] == Some(k))
                .filter_map(|i| heard[i].clone())
                .unzip();
            (Group::new(notes), hs)
        };
        let (groups, embeddings): (Vec<Group>, Vec<Vec<Embedding>>) =
            family.iter().map(|&k| of(k)).unzip();
        let fit = fitter(&self.config, &self.weights, sample_rate);
        let removed = self.keeper.consolidate(
            &mut self.memory,
            &family,
            &groups,
            &embeddings,
            sample_rate,
            fit,
        )?;
        let moved = |k: usize| {
            let k = if removed.contains(&k) { first } else { k };
            k - removed.iter().filter(|&&r| r < k).count()
        };
        for n in report.notes.iter_mut().flatten() {
            *n = moved(*n);
        }
        report.allocated = (report.allocated.iter())
            .filter(|k| !removed.contains(k))
            .map(|&k| moved(k))
            .collect();
        for s in &mut report.splits {
            s.1 = moved(s.1);
        }
        report.refined.retain(|r| !removed.contains(&r.0));
        for r in &mut report.refined {
            r.0 = moved(r.0);
        }
        report.merged = removed.len();
        Ok(split_made
            .into_iter()
            .filter(|k| !removed.contains(k))
            .map(moved)
            .collect())
    }
}

/// [`fit`] with the learner's settings, as the keeper calls it: `(memory, j, reservoir, start)`.
fn fitter<'a>(
    config: &'a ContinualConfig,
    weights: &'a EncoderWeights,
    sample_rate: f32,
) -> impl FnMut(&Memory, usize, &Reservoir, Theta<f32>) -> Result<Outcome, LearnError> + 'a {
    move |memory, j, reservoir, start| {
        fit(config, weights, memory, j, reservoir, start, sample_rate)
    }
}

/// The search on `reservoir`'s notes for prototype `j` (coupled to its category box),
/// starting from `start`.
fn fit(
    config: &ContinualConfig,
    weights: &EncoderWeights,
    memory: &Memory,
    j: usize,
    reservoir: &Reservoir,
    start: Theta<f32>,
    sample_rate: f32,
) -> Result<Outcome, LearnError> {
    let parts = reservoir.parts();
    let mut objective = Objective::new(&parts, sample_rate, &config.objective)?;
    if let Some(bounds) = memory.bounds(j).filter(|_| config.resonance > 0.0) {
        let encoder = Encoder::new(weights.clone(), sample_rate);
        objective.set_attractor(Some((encoder, bounds, config.resonance)));
    }
    Ok(search(
        &mut objective,
        &[start],
        config.budget,
        &config.search,
        |_| {},
    ))
}

/// Adjusted Rand index of a clustering against labels (Hubert & Arabie 1985): 1 is identical,
/// about 0 is chance.
pub fn adjusted_rand_index(labels: &[usize], clusters: &[usize]) -> f64 {
    let n = labels.len().min(clusters.len());
    if n < 2 {
        return 1.0;
    }
    let mut table: std::collections::BTreeMap<(usize, usize), u64> = Default::default();
    let mut rows: std::collections::BTreeMap<usize, u64> = Default::default();
    let mut cols: std::collections::BTreeMap<usize, u64> = Default::default();
    for (&l, &c) in labels.iter().zip(clusters) {
        *table.entry((l, c)).or_default() += 1;
        *rows.entry(l).or_default() += 1;
        *cols.entry(c).or_default() += 1;
    }
    let pairs = |x: u64| (x * x.saturating_sub(1)) as f64 / 2.0;
    let index: f64 = table.values().map(|&v| pairs(v)).sum();
    let a: f64 = rows.values().map(|&v| pairs(v)).sum();
    let b: f64 = cols.values().map(|&v| pairs(v)).sum();
    let expected = a * b / pairs(n as u64);
    let max = 0.5 * (a + b);
    if (max - expected).abs() < 1e-12 {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

/// Purity: the share of items whose cluster's most common label is their own.
pub fn purity(labels: &[usize], clusters: &[usize]) -> f64 {
    let mut table: std::collections::BTreeMap<usize, std::collections::BTreeMap<usize, u64>> =
        Default::default();
    for (&l, &c) in labels.iter().zip(clusters) {
        *table.entry(c).or_default().entry(l).or_default() += 1;
    }
    let right: u64 = table
        .values()
        .map(|m| m.values().copied().max().unwrap_or(0))
        .sum();
    right as f64 / labels.len().min(clusters.len()).max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand_index_of_known_clusterings() {
        let labels = [0, 0, 0, 1, 1, 1];
        assert!((adjusted_rand_index(&labels, &[5, 5, 5, 7, 7, 7]) - 1.0).abs() < 1e-12);
        // Splitting one class in two is penalised but beats chance.
        let split = adjusted_rand_index(&labels, &[0, 0, 2, 1, 1, 1]);
        assert!(split > 0.3 && split < 1.0, "{split}");
        assert!(adjusted_rand_index(&labels, &[0, 1, 0, 1, 0, 1]) < 0.1);
        assert!((purity(&labels, &[0, 0, 2, 1, 1, 1]) - 1.0).abs() < 1e-12);
        assert!((purity(&labels, &[0, 0, 0, 0, 0, 0]) - 0.5).abs() < 1e-12);
    }
}
