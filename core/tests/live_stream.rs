//! The live learner (what the plugin's learner thread runs) on four real recordings streamed
//! one after another, in Learn mode: each instrument ends up played best by its own
//! prototype, and the first is not forgotten. Step budgets, so the same on any machine.

mod common;

use common::read_eval;
use dar_ddsp_core::learning::reservoir::played_distance;
use dar_ddsp_core::live::{LiveConfig, LiveLearner, LiveSettings};
use dar_ddsp_core::memory::encoder::EncoderWeights;
use dar_ddsp_core::signal::analysis::{AnalysisConfig, analyze};

#[test]
fn four_streamed_instruments_each_keep_their_own_prototype() {
    let names = ["fingered_bass", "flute", "trumpet", "church_organ"];
    let sr = 48_000.0;
    let mut learner = LiveLearner::new(
        LiveConfig {
            steps_per_note: 30,
            ..LiveConfig::new(sr)
        },
        EncoderWeights::shipped().expect("weights"),
        Vec::new(),
    );
    let settings = LiveSettings::default();
    // (samples, analysis, own prototype, distance right after it was learned)
    let mut heard = Vec::new();
    for name in names {
        let (rate, samples) = read_eval(name);
        assert_eq!(rate as f32, sr);
        let mut wins = std::collections::BTreeMap::<usize, usize>::new();
        for block in samples.chunks(4_096) {
            learner.feed(block, &settings, &mut |e| {
                if let dar_ddsp_core::live::LiveEvent::Refined { index, .. } = e {
                    *wins.entry(index).or_default() += 1;
                }
            });
        }
        let own = wins
            .iter()
            .max_by_key(|(j, c)| (**c, usize::MAX - **j))
            .map(|(j, _)| *j)
            .expect("learned");
        let analysis = analyze(&samples, &AnalysisConfig::new(sr));
        let theta = learner.memory().prototypes()[own].theta;
        let after = played_distance(&theta, &samples, &analysis, sr);
        println!("{name}: prototype {own}, {after:.2} dB, wins {wins:?}");
        heard.push((samples, analysis, own, after));
    }
    let protos = learner.memory().prototypes();
    println!("{} prototypes, {} splits", protos.len(), learner.splits());
    for (i, (samples, analysis, own, after)) in heard.iter().enumerate() {
        let end = played_distance(&protos[*own].theta, samples, analysis, sr);
        let others: Vec<f32> = heard
            .iter()
            .filter(|h| h.2 != *own)
            .map(|h| played_distance(&protos[h.2].theta, samples, analysis, sr))
            .collect();
        println!("{}: end {end:.2} dB, others {others:?}", names[i]);
        assert!(
            others.iter().all(|&d| d > end),
            "{}: own {end:.2} dB, others {others:?}",
            names[i]
        );
        if i == 0 {
            assert!(
                end <= after + 0.1,
                "the first instrument: {after:.2} dB right after, {end:.2} dB at the end"
            );
        }
    }
}
