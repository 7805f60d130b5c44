//! The project state as the plugin saves it, read and written by the tests: nice-plug's CLAP
//! state (a little-endian u64 length, then JSON with the parameters and fields by id), whose
//! `memory` field holds the learned memory as a JSON string; and the saved projects in
//! `tests/fixtures`.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// A file in `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The project saved by the first plugin build with a memory (state version 1; saved after
/// learning the fingered bass, switching to Play and turning the cutoff to 1500 Hz).
pub fn memory_v1_project() -> Result<Vec<u8>> {
    let path = fixture("clap-state-memory-v1.bin");
    std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
}

/// The JSON of a saved state.
pub fn state_json(state: &[u8]) -> Result<serde_json::Value> {
    serde_json::from_slice(state.get(8..).unwrap_or_default()).context("state is not JSON")
}

/// A state blob around `json`.
pub fn state_blob(json: &serde_json::Value) -> Result<Vec<u8>> {
    let body = serde_json::to_vec(json)?;
    let mut blob = (body.len() as u64).to_le_bytes().to_vec();
    blob.extend(body);
    Ok(blob)
}

/// The memory stored in a state.
pub fn memory_of(state: &[u8]) -> Result<serde_json::Value> {
    let json = state_json(state)?;
    let text = json["fields"]["memory"]
        .as_str()
        .context("the state has no memory field")?;
    serde_json::from_str(text).context("the memory field is not JSON")
}

/// How many prototypes the memory stored in a state holds.
pub fn prototype_count(state: &[u8]) -> Result<usize> {
    Ok(memory_of(state)?["prototypes"]
        .as_array()
        .map_or(0, Vec::len))
}
