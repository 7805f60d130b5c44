//! Old presets and project memories play sample for sample as before.
//!
//! `fixtures/v3/` holds factory presets as the last version-3 build wrote them (the plant before
//! its LFO, drawbars, body and velocity sections), and `renders.txt` a
//! fingerprint of a phrase that build played with each of their prototypes: the FNV-1a hash of
//! every sample's bits, with the phrase's RMS and peak to read. Loaded by this build, each
//! prototype gets the new knobs at their defaults and must play the very same samples.
//!
//! `renders.txt` was written by the version-3 build (commit 215dd15) with this file's ignored
//! test: `cargo test -p dar-ddsp-core --test migration -- --ignored write_renders`.

use dar_ddsp_core::memory::encoder::EncoderWeights;
use dar_ddsp_core::num::units::note_to_hz;
use dar_ddsp_core::plant::Theta;
use dar_ddsp_core::plant::render::{NoteEvent, render_performance};
use dar_ddsp_core::store::preset::Preset;
use std::path::PathBuf;

const SR: f32 = 48_000.0;
/// The version-3 presets played.
const FILES: [&str; 4] = ["designed", "ensemble", "church_organ", "flute"];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v3")
}

/// Overlapping notes over the keyboard at several velocities, with releases.
fn phrase(theta: &Theta<f32>) -> Vec<f32> {
    let at = |s: f32| (s * SR) as usize;
    let events: Vec<NoteEvent> = [
        (48.0, 0.0, 0.6, 0.8),
        (64.0, 0.3, 1.2, 0.5),
        (79.0, 0.9, 2.0, 1.0),
        (33.0, 1.0, 1.1, 0.3),
        (72.0, 1.5, 1.6, 0.05),
    ]
    .iter()
    .map(|&(note, on, off, velocity)| NoteEvent {
        onset: at(on),
        release: at(off),
        f0_hz: note_to_hz(note),
        velocity,
    })
    .collect();
    render_performance(theta, &events, SR, at(3.0))
}

/// One line per prototype: file, index, hash of the samples' bits, RMS and peak.
fn fingerprints() -> Vec<String> {
    let weights = EncoderWeights::shipped().expect("shipped encoder");
    let mut lines = Vec::new();
    for file in FILES {
        let path = fixtures().join(format!("{file}.json"));
        let text = std::fs::read_to_string(&path).expect("fixture");
        let loaded = Preset::from_json(&text, &path.display().to_string(), &weights)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.version, 3, "{file} is a version-3 fixture");
        for (i, p) in loaded.preset.prototypes.iter().enumerate() {
            let out = phrase(&p.theta);
            let hash = out.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, s| {
                s.to_bits()
                    .to_le_bytes()
                    .iter()
                    .fold(h, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
            });
            let rms = (out.iter().map(|v| (v * v) as f64).sum::<f64>() / out.len() as f64).sqrt();
            let peak = out.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            lines.push(format!("{file} {i} {hash:016x} {rms:.6e} {peak:.6e}"));
        }
    }
    lines
}

#[test]
fn version_3_presets_play_the_same_samples() {
    let text = std::fs::read_to_string(fixtures().join("renders.txt")).expect("renders.txt");
    let expected: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let now = fingerprints();
    assert_eq!(now.len(), expected.len(), "prototype count");
    let differ: Vec<String> = now
        .iter()
        .zip(&expected)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("  was {b}\n  now {a}"))
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} prototypes play differently (file index hash rms peak):\n{}",
        differ.len(),
        now.len(),
        differ.join("\n")
    );
}

/// Writes `renders.txt` with this build's renders (run by the version-3 build only).
#[test]
#[ignore]
fn write_renders() {
    let mut text = String::from("# file prototype fnv1a64(sample bits) rms peak\n");
    for l in fingerprints() {
        text.push_str(&l);
        text.push('\n');
    }
    std::fs::write(fixtures().join("renders.txt"), text).expect("write renders.txt");
}
