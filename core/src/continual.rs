//! The full learner on recorded audio: recognise (encoder + Fuzzy ART), then refine the winning
//! prototype's patch (search with the resonance regularizer). The command line's `learn` and
//! `continual` use it, and the plugin's learner thread runs the same steps on its sidechain.
//!
//! Each note is presented once: the encoder context from 20 ms after its onset (attack and early
//! sustain, where a timbre identifies itself, and where the encoder was trained to look). Each
//! prototype then learns from the notes it won, starting from its own θ (a new prototype starts from its
//! nearest neighbour's θ: the memory is the optimizer's attractor).

use crate::analysis::Analysis;
use crate::art::{ArtConfig, Decision, Memory};
use crate::coupling::CONTEXT_OFFSET_S;
use crate::encoder::{Encoder, EncoderWeights};
use crate::learner::{Budget, LearnError, Objective, ObjectiveConfig, SearchConfig, search};
use crate::plant::{Theta, default_theta};

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
}

impl Default for ContinualConfig {
    fn default() -> Self {
        Self {
            art: ArtConfig::default(),
            budget: Budget::steps(150.0),
            resonance: 0.5,
            search: SearchConfig::default(),
            objective: ObjectiveConfig::default(),
        }
    }
}

/// What learning one recording did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingReport {
    /// Winning prototype of every presented note, in order (`None`: no prototype, memory
    /// full).
    pub presentations: Vec<Option<usize>>,
    /// Winning prototype of every note (`None`: too short, silent or unmatched).
    pub notes: Vec<Option<usize>>,
    /// Prototypes committed while hearing it.
    pub allocated: Vec<usize>,
    /// Prototypes whose θ was refined, with their final loss.
    pub refined: Vec<(usize, f32)>,
    /// Notes too short for one context (not presented).
    pub too_short: usize,
}

/// The memory, the encoder and the search, learning from recordings in sequence.
pub struct ContinualLearner {
    /// Settings.
    config: ContinualConfig,
    /// The memory.
    memory: Memory,
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
            config,
            weights,
            clock: 0.0,
        }
    }

    /// The memory.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// The memory, to rename, lock or insert prototypes.
    pub fn memory_mut(&mut self) -> &mut Memory {
        &mut self.memory
    }

    /// The encoder weights in use.
    pub fn weights(&self) -> &EncoderWeights {
        &self.weights
    }

    /// Recognises every note of `samples` (analysed as `analysis`), then refines each winning
    /// prototype's θ on the notes it won. With `learn` false only recognises (Follow mode).
    /// Allocates.
    pub fn hear(
        &mut self,
        samples: &[f32],
        analysis: &Analysis,
        sample_rate: f32,
        learn: bool,
    ) -> Result<RecordingReport, LearnError> {
        let mut encoder = Encoder::new(self.weights.clone(), sample_rate);
        let context = encoder.context_len();
        let offset = (CONTEXT_OFFSET_S * sample_rate) as usize;
        let mut report = RecordingReport::default();
        for note in &analysis.notes {
            let start = note.onset + offset;
            let end = note.end.min(samples.len());
            if start + context > end {
                report.too_short += 1;
                report.notes.push(None);
                continue;
            }
            let now = self.clock + start as f64 / sample_rate as f64;
            let Some(h) = encoder.embed(&samples[start..start + context]) else {
                report.notes.push(None);
                continue;
            };
            // A new prototype starts from its nearest neighbour's θ (read before the memory is
            // borrowed mutably).
            let (_, nearest) = self.memory.search(&crate::art::code(&h));
            let start_theta: Theta<f32> =
                nearest.map_or_else(default_theta, |(j, _)| self.memory.prototypes()[j].theta);
            let winner = match self.memory.present(&h, now, learn, |_| start_theta) {
                Decision::Resonated { index, .. } => Some(index),
                Decision::Allocated { index, .. } => {
                    report.allocated.push(index);
                    Some(index)
                }
                Decision::Unmatched { nearest } => nearest.map(|n| n.0),
            };
            report.presentations.push(winner);
            report.notes.push(winner);
        }
        self.clock += samples.len() as f64 / sample_rate as f64;
        if !learn {
            return Ok(report);
        }
        // Refine each winner on its notes.
        let mut winners: Vec<usize> = report.notes.iter().flatten().copied().collect();
        winners.sort_unstable();
        winners.dedup();
        for j in winners {
            if self.memory.prototypes()[j].locked {
                continue;
            }
            let mine = Analysis {
                notes: analysis
                    .notes
                    .iter()
                    .zip(&report.notes)
                    .filter(|(_, w)| **w == Some(j))
                    .map(|(n, _)| *n)
                    .collect(),
                ..analysis.clone()
            };
            let mut objective =
                Objective::new(&[(samples, &mine)], sample_rate, &self.config.objective)?;
            if let Some(bounds) = self
                .memory
                .bounds(j)
                .filter(|_| self.config.resonance > 0.0)
            {
                let encoder = Encoder::new(self.weights.clone(), sample_rate);
                objective.set_attractor(Some((encoder, bounds, self.config.resonance)));
            }
            let start = self.memory.prototypes()[j].theta;
            let outcome = search(
                &mut objective,
                &[start],
                self.config.budget,
                &self.config.search,
                |_| {},
            );
            if let Some(p) = self.memory.prototype_mut(j) {
                p.theta = outcome.theta;
                p.loss = outcome.loss;
            }
            report.refined.push((j, outcome.loss));
        }
        Ok(report)
    }
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
