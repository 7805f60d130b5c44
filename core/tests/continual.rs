//! The continual learner on real recordings (`../shared/eval`): instruments streamed one after
//! another are told apart, and none is forgotten. Step budgets, so the result is the same on
//! any machine.

mod common;

use common::read_eval;
use dar_ddsp_core::learning::continual::{ContinualConfig, ContinualLearner};
use dar_ddsp_core::learning::reservoir::played_distance;
use dar_ddsp_core::learning::search::Budget;
use dar_ddsp_core::memory::encoder::EncoderWeights;
use dar_ddsp_core::signal::analysis::{AnalysisConfig, analyze};

/// Three woodwind and brass recordings that the plant-only encoder merged into one prototype
/// (whose refinements then overwrote each other's patches by 3.9–5.2 dB).
#[test]
fn streamed_instruments_keep_their_own_patches() {
    let config = ContinualConfig {
        budget: Budget::steps(40.0),
        ..ContinualConfig::default()
    };
    let mut learner = ContinualLearner::new(config, EncoderWeights::shipped().expect("weights"));
    let names = ["flute", "clarinet", "trumpet"];
    let mut recordings = Vec::new();
    // (own prototype, distance right after it was learned)
    let mut learned = Vec::new();
    for name in names {
        let (rate, samples) = read_eval(name);
        let sr = rate as f32;
        let analysis = analyze(&samples, &AnalysisConfig::new(sr));
        let report = learner.hear(&samples, &analysis, sr, true).expect("learns");
        let mut counts = std::collections::BTreeMap::<usize, usize>::new();
        for w in report.presentations.iter().flatten() {
            *counts.entry(*w).or_default() += 1;
        }
        let own = counts
            .iter()
            .max_by_key(|(j, c)| (**c, usize::MAX - **j))
            .map(|(j, _)| *j)
            .expect("a prototype");
        let theta = learner.memory().prototypes()[own].theta;
        let after = played_distance(&theta, &samples, &analysis, sr);
        println!("{name}: prototype {own}, {after:.2} dB, report {report:?}");
        learned.push((own, after));
        recordings.push((samples, analysis, sr));
    }
    let protos = learner.memory().prototypes();
    println!("{} prototypes", protos.len());
    assert!(
        protos.len() <= 2 * names.len(),
        "{} prototypes",
        protos.len()
    );
    for (i, ((own, after), (samples, analysis, sr))) in learned.iter().zip(&recordings).enumerate()
    {
        let end = played_distance(&protos[*own].theta, samples, analysis, *sr);
        // The guard refuses any refinement that plays a kept group more than 0.1 dB worse;
        // the whole recording is measured here, the kept notes there (at most 2 s each).
        assert!(
            end <= after + 0.15,
            "{}: {after:.2} dB right after learning, {end:.2} dB at the end",
            names[i]
        );
        // Every recording plays closest with its own prototype.
        let others: Vec<f32> = learned
            .iter()
            .filter(|(j, _)| j != own)
            .map(|(j, _)| played_distance(&protos[*j].theta, samples, analysis, *sr))
            .collect();
        assert!(
            others.iter().all(|&d| d > end),
            "{}: own {end:.2} dB, others {others:?}",
            names[i]
        );
    }
    let mut owns: Vec<usize> = learned.iter().map(|(j, _)| *j).collect();
    owns.sort_unstable();
    owns.dedup();
    assert_eq!(
        owns.len(),
        names.len(),
        "each recording has a prototype of its own"
    );
}
