//! Plant render cost: nanoseconds per voice-sample at 48 kHz, f32, every oscillator and both
//! envelopes active. Criterion reports the throughput in voice-samples per second
//! (docs/RESULTS.md quotes 1e9 / throughput).
//!
//! `anchor_workload` renders the workload of `../shared/bench/anchor_fundsp`: 16 voices two
//! semitones apart from 110 Hz, 2 s notes released at 1.5 s, the filter envelope sweeping, in
//! 64-sample blocks; once with every note on the same sample, as the anchor plays them, and once
//! with the onsets staggered across the first block, as a player's notes fall, so each voice's
//! control step comes on its own sample. `cargo xtask bench` prints the ratio to the anchor.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dar_ddsp_core::num::units::note_to_hz;
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

/// The anchor's patch in this synth's knobs (../shared/bench/anchor_fundsp/src/params.rs).
fn anchor_theta() -> Theta<f32> {
    let mut theta = default_theta();
    for (p, v) in [
        (P::Saw, 0.40),
        (P::Pulse, 0.30),
        (P::Width, 0.35),
        (P::Sine, 0.25),
        (P::Noise, 0.05),
        (P::Cutoff, 150.0),
        // 150 Hz → 7150 Hz at the envelope's peak.
        (P::FilterEnvAmount, (7_150.0f32 / 150.0).log2()),
        (P::KeyTrack, 0.0),
        (P::Resonance, 3.0),
        (P::FilterAttack, 0.010),
        (P::FilterDecay, 2.5),
        (P::FilterSustain, 0.2),
        (P::FilterRelease, 0.5),
        (P::AmpAttack, 0.005),
        (P::AmpDecay, 0.3),
        (P::AmpSustain, 0.7),
        (P::AmpRelease, 0.4),
    ] {
        theta[p as usize] = v;
    }
    theta
}

/// Samples of the anchor's workload: 2 s at 48 kHz.
const ANCHOR_SAMPLES: usize = 96_000;
/// The anchor's block.
const ANCHOR_BLOCK: usize = 64;

/// One repetition of the anchor's workload; `stagger` samples between onsets. Returns the
/// mix's energy, so nothing is optimised away.
fn anchor_workload(stagger: usize) -> f32 {
    let mut synth = Synth::<f32>::new(48_000.0, &anchor_theta());
    let mut out = [0.0f32; ANCHOR_BLOCK];
    let (mut energy, release) = (0.0, 72_000);
    for start in (0..ANCHOR_SAMPLES).step_by(ANCHOR_BLOCK) {
        // Each event splits the block on its exact sample, as a host's events do.
        let mut pos = 0;
        for v in 0..MAX_VOICES {
            let key = 45 + 2 * v as u8;
            for (at, on) in [(v * stagger, true), (v * stagger + release, false)] {
                if (start..start + ANCHOR_BLOCK).contains(&at) {
                    synth.render(&mut out[pos..at - start]);
                    energy += out[pos..at - start].iter().map(|x| x * x).sum::<f32>();
                    pos = at - start;
                    if on {
                        synth.note_on_hz(key, note_to_hz(key as f32), 1.0);
                    } else {
                        synth.note_off(key);
                    }
                }
            }
        }
        synth.render(&mut out[pos..]);
        energy += out[pos..].iter().map(|x| x * x).sum::<f32>();
    }
    energy
}

fn anchor(c: &mut Criterion) {
    let mut group = c.benchmark_group("anchor_workload");
    group.throughput(Throughput::Elements((MAX_VOICES * ANCHOR_SAMPLES) as u64));
    group.sample_size(20);
    group.bench_function("together", |b| b.iter(|| black_box(anchor_workload(0))));
    group.bench_function("staggered", |b| b.iter(|| black_box(anchor_workload(3))));
    group.finish();
}

criterion_group!(benches, plant, anchor);
criterion_main!(benches);
