//! Plant render cost: nanoseconds per voice-sample at 48 kHz, f32, every oscillator and both
//! envelopes active. Criterion reports the throughput in voice-samples per second; the README
//! quotes 1e9 / throughput against the target of 25 ns.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dar_ddsp_core::plant::{MAX_VOICES, P, Synth, Theta, default_theta};
use std::hint::black_box;

const BLOCK: usize = 512;

fn all_active_synth() -> Synth<f32> {
    synth_of(core_theta())
}

/// Every oscillator and both envelopes active; the sections after them neutral.
fn core_theta() -> Theta<f32> {
    let mut theta = default_theta();
    theta[P::Saw as usize] = 0.6;
    theta[P::Pulse as usize] = 0.5;
    theta[P::Width as usize] = 0.3;
    theta[P::Sine as usize] = 0.4;
    theta[P::Noise as usize] = 0.1;
    theta[P::FilterEnvAmount as usize] = 3.0;
    // Long decays and full sustain keep the envelopes running for the whole measurement.
    theta[P::AmpDecay as usize] = 10.0;
    theta[P::FilterDecay as usize] = 10.0;
    theta
}

/// And every section sounding: vibrato and tremolo, drawbars, both bells, velocity.
fn all_sections_theta() -> Theta<f32> {
    let mut theta = core_theta();
    for (p, v) in [
        (P::VibratoDepth, 20.0),
        (P::TremoloDepth, 0.2),
        (P::Drawbar2, 0.3),
        (P::Drawbar3, 0.2),
        (P::Drawbar4, 0.2),
        (P::Drawbar5, 0.1),
        (P::Drawbar6, 0.1),
        (P::Drawbar8, 0.1),
        (P::Body1Gain, 6.0),
        (P::Body2Gain, -6.0),
        (P::VelocityToLevel, 0.5),
        (P::VelocityToBrightness, 1.0),
    ] {
        theta[p as usize] = v;
    }
    theta
}

fn synth_of(theta: Theta<f32>) -> Synth<f32> {
    let mut synth = Synth::new(48_000.0, &theta);
    for v in 0..MAX_VOICES {
        synth.note_on(36 + 3 * v as u8, 0.8);
    }
    synth
}

fn plant(c: &mut Criterion) {
    let mut group = c.benchmark_group("plant");
    group.throughput(Throughput::Elements((MAX_VOICES * BLOCK) as u64));
    let mut synth = all_active_synth();
    let mut out = vec![0.0f32; BLOCK];
    group.bench_function("render_16_voices_512_samples", |b| {
        b.iter(|| {
            synth.render(black_box(&mut out));
            // Retrigger if a voice ever ended, so every iteration measures 16 voices.
            if synth.active_voices() < MAX_VOICES {
                synth = all_active_synth();
            }
        })
    });
    let mut synth = synth_of(all_sections_theta());
    group.bench_function("render_16_voices_512_samples_all_sections", |b| {
        b.iter(|| {
            synth.render(black_box(&mut out));
            if synth.active_voices() < MAX_VOICES {
                synth = synth_of(all_sections_theta());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, plant);
criterion_main!(benches);
