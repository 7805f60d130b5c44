//! The resonance half: one embedding (context features + encoder) and one Fuzzy ART resonance
//! search over 256 prototypes. Bounds: ≤ 100 µs and ≤ 20 µs.

use criterion::{Criterion, criterion_group, criterion_main};
use dar_ddsp_core::memory::art::{ArtConfig, Memory, code};
use dar_ddsp_core::memory::encoder::{EMBED_DIM, Embedding, Encoder};
use dar_ddsp_core::plant::default_theta;
use dar_ddsp_core::plant::render::{NoteEvent, render_performance};
use std::hint::black_box;

fn embedding(c: &mut Criterion) {
    let mut encoder = Encoder::shipped(48_000.0).expect("shipped weights");
    let len = encoder.context_len();
    let note = NoteEvent {
        onset: 0,
        release: len,
        f0_hz: 220.0,
        velocity: 0.8,
    };
    let audio = render_performance(&default_theta(), &[note], 48_000.0, len);
    c.bench_function("embedding (features + encoder)", |b| {
        b.iter(|| black_box(encoder.embed(black_box(&audio), note.f0_hz)))
    });
}

fn resonance_search(c: &mut Criterion) {
    let mut memory = Memory::new(ArtConfig {
        vigilance: 0.999,
        capacity: 256,
        ..ArtConfig::default()
    });
    let mut rng = dar_ddsp_core::num::Rng::new(12_345);
    let mut next = || rng.uniform();
    while memory.prototypes().len() < 256 {
        let h: Embedding = std::array::from_fn(|_| next());
        memory.present(&h, 0.0, true, |_| default_theta());
    }
    let probe = code(&[0.5; EMBED_DIM]);
    c.bench_function("ART resonance search, 256 prototypes", |b| {
        b.iter(|| black_box(memory.search(black_box(&probe))))
    });
}

criterion_group!(benches, embedding, resonance_search);
criterion_main!(benches);
