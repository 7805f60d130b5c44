//! process() through the built (release) CLAP bundle: one 64-sample block at 48 kHz with 16
//! voices sounding and the learner on (Learn mode, a recording streaming into the sidechain, the
//! learner thread working beside). Bound: ≤ 10 % of the block's real-time budget
//! (1.333 ms), i.e. ≤ 133 µs.

use criterion::{Criterion, criterion_group, criterion_main};
use dar_ddsp_tests::eval::eval_recording;
use dar_ddsp_tests::{ClapHost, NoteEv, PLUGIN_ID, clap_bundle_release};

fn process_block(c: &mut Criterion) {
    let (sidechain, _) =
        eval_recording("trumpet.wav").expect("the eval recordings sit in ../shared/eval");
    let mut host = clap_bundle_release()
        .and_then(|path| ClapHost::load(&path, PLUGIN_ID))
        .expect("run `cargo xtask bundle dar-ddsp --release` first");
    host.activate(48_000.0, 64).expect("activates");
    let chord: Vec<NoteEv> = (0..16)
        .map(|k| NoteEv::on(0, 36 + 3 * k as u8, 0.8))
        .collect();
    host.process(&chord, 64, None).expect("process");
    let mut pos = 0;
    c.bench_function("process 64 samples, 16 voices, learning", |b| {
        b.iter(|| {
            let block = &sidechain[pos..pos + 64];
            pos = (pos + 64) % (sidechain.len() - 64);
            let sc: [&[f32]; 2] = [block, block];
            host.process(&[], 64, Some(&sc)).expect("process")
        })
    });
}

criterion_group!(benches, process_block);
criterion_main!(benches);
