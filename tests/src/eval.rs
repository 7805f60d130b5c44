//! The eval recordings the tests play into the sidechain: `../shared/eval` beside the
//! workspace.

use anyhow::Result;
use std::path::{Path, PathBuf};

/// The eval set's folder (recordings in `instruments/`, their notes in `labels.json`).
pub fn eval_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval")
}

/// The file of the eval recording `name` ("flute.wav").
pub fn eval_path(name: &str) -> PathBuf {
    eval_dir().join("instruments").join(name)
}

/// The eval recording `name` mixed to mono by the project's WAV reader, and its sample rate.
pub fn eval_recording(name: &str) -> Result<(Vec<f32>, u32)> {
    let rec = dar_ddsp_core::signal::audio_file::read_audio(&eval_path(name))?;
    Ok((rec.samples, rec.sample_rate as u32))
}
