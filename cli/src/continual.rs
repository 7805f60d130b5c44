//! `dar-ddsp continual`: streams recordings one after another through the full learner
//! (encoder, Fuzzy ART, search with the resonance regularizer) and measures what it keeps,
//! beside a baseline that trains one patch on everything in turn.

use crate::learn::{LearnSettings, Source, distance, eval_files, load};
use anyhow::Result;
use dar_ddsp_core::learning::continual::{ContinualLearner, adjusted_rand_index, purity};
use dar_ddsp_core::learning::objective::Objective;
use dar_ddsp_core::learning::search::search;
use dar_ddsp_core::memory::encoder::EncoderWeights;
use dar_ddsp_core::plant::default_theta;
use std::path::PathBuf;

/// Runs the stream and prints the table (Markdown).
pub fn continual(wavs: &[PathBuf], s: &LearnSettings, order_seed: u64) -> Result<()> {
    let config = s.config()?;
    let mut sources: Vec<Source> = eval_files(wavs)?
        .iter()
        .map(|p| load(p))
        .collect::<Result<_>>()?;
    shuffle(&mut sources, order_seed);
    let weights = EncoderWeights::shipped()?;
    let mut learner = ContinualLearner::new(config.clone(), weights);
    let mut baseline = default_theta();
    let (mut labels, mut clusters) = (Vec::new(), Vec::new());
    // Per recording: (allocated, own prototype, ours right after, baseline right after).
    let mut rows = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let report = learner.hear(&src.rec.samples, &src.analysis, src.rec.sample_rate, true)?;
        for w in &report.presentations {
            labels.push(i);
            clusters.push(w.unwrap_or(usize::MAX));
        }
        let mut counts: Vec<(usize, usize)> = Vec::new();
        for w in report.presentations.iter().flatten() {
            match counts.iter_mut().find(|c| c.0 == *w) {
                Some(c) => c.1 += 1,
                None => counts.push((*w, 1)),
            }
        }
        let own = counts
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|c| c.0);
        let ours_after = own.map(|j| distance(&learner.memory().prototypes()[j].theta, src));
        // Baseline: one patch, trained on each recording in turn with the same budget.
        let parts = [(src.rec.samples.as_slice(), &src.analysis)];
        let mut objective = Objective::new(&parts, src.rec.sample_rate, &config.objective)?;
        baseline = search(
            &mut objective,
            &[baseline],
            config.budget,
            &config.search,
            |_| {},
        )
        .theta;
        let base_after = distance(&baseline, src);
        eprintln!(
            "{}: {} presentations, new prototypes {:?}, own prototype {:?}, {} mispredicted, \
             splits {:?}, {} merged, improved {:?}",
            src.name,
            report.presentations.len(),
            report.allocated,
            own,
            report.mispredicted,
            report.splits,
            report.merged,
            report.improved
        );
        rows.push((report.allocated.len(), own, ours_after, base_after));
    }
    println!(
        "Continual learning, recordings streamed in this order (order seed {order_seed}); ρ = {}, \
         match-tracking tolerance {} dB, λ_ART = {}, {} per prototype and recording. Spectral distance in dB (docs/ARCHITECTURE.md §8) of each recording \
         played by its own prototype right after it was learned and at the end, and by the nearest \
         of the other recordings' own prototypes at the end; the baseline \
         trains one patch on every recording in turn.",
        s.vigilance,
        s.tolerance_db,
        s.resonance,
        match (s.budget.steps, s.budget.seconds) {
            (Some(n), _) => format!("{n} gradient steps"),
            (None, Some(t)) => format!("{t} s"),
            _ => "no budget".into(),
        }
    );
    println!();
    println!(
        "| recording | new prototypes | own prototype | after | end | forgetting | closest other | baseline after | baseline end | baseline forgetting |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut worst: f32 = 0.0;
    let mut closest_own = 0;
    let owns: Vec<Option<usize>> = rows.iter().map(|r| r.1).collect();
    for (src, (allocated, own, after, base_after)) in sources.iter().zip(&rows) {
        let end = own.map(|j| distance(&learner.memory().prototypes()[j].theta, src));
        // The other recordings' own prototypes playing this one: the nearest of them.
        let other = owns
            .iter()
            .flatten()
            .filter(|&&j| Some(j) != *own)
            .map(|&j| distance(&learner.memory().prototypes()[j].theta, src))
            .fold(f32::INFINITY, f32::min);
        closest_own += usize::from(end.is_some_and(|e| e < other));
        let base_end = distance(&baseline, src);
        let fmt = |v: Option<f32>| v.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"));
        let forgetting = after.zip(end).map(|(a, e)| e - a);
        worst = worst.max(forgetting.unwrap_or(0.0));
        println!(
            "| {} | {allocated} | {} | {} | {} | {} | {} | {base_after:.2} | {base_end:.2} | {:+.2} |",
            src.name,
            own.map_or_else(|| "—".to_string(), |j| (j + 1).to_string()),
            fmt(*after),
            fmt(end),
            forgetting.map_or_else(|| "—".to_string(), |f| format!("{f:+.2}")),
            fmt(other.is_finite().then_some(other)),
            base_end - base_after,
        );
    }
    let protos = learner.memory().prototypes().len();
    println!();
    println!(
        "Prototypes: {protos} for {} recordings ({:.2} per recording); presentations: {}; \
         adjusted Rand index {:.3}; purity {:.3}; worst forgetting {worst:+.2} dB; played \
         closest by their own prototype: {closest_own} of {}.",
        sources.len(),
        protos as f32 / sources.len().max(1) as f32,
        labels.len(),
        adjusted_rand_index(&labels, &clusters),
        purity(&labels, &clusters),
        sources.len(),
    );
    Ok(())
}

/// Shuffles `items` with a seeded Fisher–Yates (0 keeps the order).
fn shuffle<T>(items: &mut [T], seed: u64) {
    if seed == 0 {
        return;
    }
    let mut rng = dar_ddsp_core::num::Rng::new(seed);
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() >> 33) as usize % (i + 1);
        items.swap(i, j);
    }
}
