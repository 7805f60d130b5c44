//! The eval recordings the tests play into the sidechain: `../shared/eval` beside the
//! workspace.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The eval set's folder (recordings in `instruments/`, their notes in `labels.json`).
pub fn eval_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval")
}

/// The file of the eval recording `name` ("flute.wav").
pub fn eval_path(name: &str) -> PathBuf {
    eval_dir().join("instruments").join(name)
}

/// The eval recording `name` (16-bit mono) as samples in [-1, 1), and its sample rate.
pub fn eval_recording(name: &str) -> Result<(Vec<f32>, u32)> {
    let path = eval_path(name);
    let mut reader =
        hound::WavReader::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let rate = reader.spec().sample_rate;
    let samples = reader
        .samples::<i16>()
        .map(|s| s.map(|v| v as f32 / 32_768.0))
        .collect::<Result<_, _>>()?;
    Ok((samples, rate))
}
