//! One step of learning a real recording, as `dar-ddsp learn` takes it: the objective of the
//! fingered bass from `../shared/eval` (its six notes, three windows each, warm-up included),
//! on one thread. `objective_loss_fingered_bass` is a plain evaluation (the windows rendered
//! in f32, the loss without its gradient): what a step costs at least, however its gradient
//! is taken. `objective_gradient_*` are the steps the search takes, the core alone and the
//! core with both bells. Learning a recording takes 600 of them (docs/RESULTS.md, "Benchmarks").

use criterion::{Criterion, criterion_group, criterion_main};
use dar_ddsp_core::learning::objective::{Objective, ObjectiveConfig};
use dar_ddsp_core::plant::theta::{BODY1, BODY2};
use dar_ddsp_core::plant::{CORE, Learned, N_THETA, SPECS, default_theta};
use dar_ddsp_core::signal::analysis::{AnalysisConfig, analyze};
use dar_ddsp_core::signal::audio_file::read_audio;
use std::hint::black_box;
use std::path::Path;

fn objective(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/eval/instruments/fingered_bass.wav");
    let rec = read_audio(&path)
        .unwrap_or_else(|e| panic!("{e}: the eval recordings sit in ../shared beside the clone"));
    let analysis = analyze(&rec.samples, &AnalysisConfig::new(rec.sample_rate));
    let config = ObjectiveConfig {
        threads: 1,
        ..ObjectiveConfig::default()
    };
    let mut objective = Objective::new(&[(&rec.samples, &analysis)], rec.sample_rate, &config)
        .expect("the bass has notes");
    let theta = default_theta();
    let z: [f32; N_THETA] = std::array::from_fn(|k| SPECS[k].normalize(theta[k]));
    c.bench_function("objective_loss_fingered_bass", |b| {
        b.iter(|| black_box(objective.loss(black_box(&theta))))
    });
    let core = Learned::core();
    c.bench_function("objective_gradient_core_fingered_bass", |b| {
        b.iter(|| black_box(objective.loss_and_gradient(black_box(&z), &core)))
    });
    let bells = Learned::new(CORE.into_iter().chain(BODY1).chain(BODY2));
    c.bench_function("objective_gradient_bells_fingered_bass", |b| {
        b.iter(|| black_box(objective.loss_and_gradient(black_box(&z), &bells)))
    });
}

criterion_group!(benches, objective);
criterion_main!(benches);
