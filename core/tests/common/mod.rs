//! What the end-to-end tests of `core` share: the evaluation recordings and a seeded generator.

#![allow(dead_code)] // each test binary uses its own part

use std::path::PathBuf;

/// The recordings in `../shared/eval/instruments` with their MIDI notes (from labels.json). In
/// every file note k starts at [`NOTE_SPACING_S`]·k seconds and is held [`HOLD_S`].
pub const EVAL: [(&str, [u8; 6]); 8] = [
    ("flute", [48, 55, 60, 64, 67, 72]),
    ("trumpet", [48, 55, 60, 64, 67, 72]),
    ("violin", [48, 55, 60, 64, 67, 72]),
    ("clarinet", [48, 55, 60, 64, 67, 72]),
    ("fingered_bass", [28, 33, 36, 40, 43, 48]),
    ("square_lead", [48, 55, 60, 64, 67, 72]),
    ("saw_lead", [48, 55, 60, 64, 67, 72]),
    ("church_organ", [48, 55, 60, 64, 67, 72]),
];
/// Seconds between note onsets in every eval file.
pub const NOTE_SPACING_S: f32 = 2.0;
/// Seconds each note is held.
pub const HOLD_S: f32 = 1.5;

/// `../shared/eval`, beside the project; a missing folder fails the test with a clear message.
pub fn eval_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval");
    assert!(
        dir.join("labels.json").is_file(),
        "{} is missing: the evaluation recordings sit beside the project (shared/eval)",
        dir.display()
    );
    dir
}

/// One recording as (sample rate, samples in [−1, 1)).
pub fn read_eval(name: &str) -> (u32, Vec<f32>) {
    let path = eval_dir().join(format!("instruments/{name}.wav"));
    let mut reader =
        hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rate = reader.spec().sample_rate;
    let samples = reader
        .samples::<i16>()
        .map(|s| s.map(|v| v as f32 / 32_768.0))
        .collect::<Result<Vec<f32>, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (rate, samples)
}
