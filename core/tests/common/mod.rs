//! What the end-to-end tests of `core` share: the evaluation recordings.

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

/// One recording as (sample rate, mono samples in [−1, 1)), read by the project's WAV reader.
pub fn read_eval(name: &str) -> (u32, Vec<f32>) {
    let path = eval_dir().join(format!("instruments/{name}.wav"));
    let rec =
        dar_ddsp_core::signal::audio_file::read_audio(&path).unwrap_or_else(|e| panic!("{e}"));
    (rec.sample_rate as u32, rec.samples)
}
