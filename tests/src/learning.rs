//! Learning through a CLAP host, as a user does in a DAW: an eval recording with its labelled
//! notes, a fresh offline instance, the recording into the sidechain, its notes from MIDI, and
//! the spectral distance of what plays to the recording.

use crate::analysis::first_unclean;
use crate::eval::{eval_dir, eval_recording};
use crate::{ClapHost, NoteEv, load_plugin, param};
use anyhow::{Context, Result, ensure};
use dar_ddsp_core::signal::distance::spectral_distance;

/// The sample rate the learning tests run at, Hz.
pub const SR: f64 = 48_000.0;
/// The host's block, samples.
pub const BLOCK: usize = 512;

/// One recording from `../shared/eval` with its labelled notes.
pub struct Recording {
    /// The recording, mono.
    pub samples: Vec<f32>,
    /// Its notes' MIDI keys, in order.
    pub notes: Vec<u8>,
    /// When each note starts, seconds.
    pub onsets: Vec<f64>,
    /// How long every note is held, seconds.
    pub hold: f64,
}

pub fn recording(name: &str) -> Result<Recording> {
    let (samples, _) = eval_recording(name)?;
    let labels: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(eval_dir().join("labels.json"))?)?;
    let entry = &labels["files"][format!("instruments/{name}")];
    let notes = entry["midi_notes"]
        .as_array()
        .context("midi_notes")?
        .iter()
        .filter_map(|v| v.as_u64().map(|n| n as u8))
        .collect();
    let onsets = entry["onsets_s"]
        .as_array()
        .context("onsets_s")?
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    let hold = entry["hold_s"].as_f64().context("hold_s")?;
    Ok(Recording {
        samples,
        notes,
        onsets,
        hold,
    })
}

/// The recording's notes as MIDI (velocity 100).
pub fn midi_of(r: &Recording) -> Vec<NoteEv> {
    r.notes
        .iter()
        .zip(&r.onsets)
        .flat_map(|(&n, &t)| {
            [
                NoteEv::on((t * SR) as u32, n, 100.0 / 127.0),
                NoteEv::off(((t + r.hold) * SR) as u32, n),
            ]
        })
        .collect()
}

/// Sets a parameter by the text a user would type.
pub fn set(host: &mut ClapHost, name: &str, text: &str) -> Result<()> {
    let params = host.params()?;
    let id = param(&params, name)?.id;
    let value = host.text_to_value(id, text)?;
    host.set_param(id, value)
}

/// A fresh instance, offline, active at 48 kHz.
pub fn offline_instance() -> Result<ClapHost> {
    let mut host = load_plugin()?;
    host.set_offline(true)?;
    host.activate(SR, BLOCK as u32)?;
    Ok(host)
}

/// Feeds `r` into the sidechain (no MIDI) in the current mode.
pub fn listen(host: &mut ClapHost, r: &Recording) -> Result<()> {
    listen_in_blocks(host, r, BLOCK)
}

/// [`listen`] in blocks of `block` samples.
pub fn listen_in_blocks(host: &mut ClapHost, r: &Recording, block: usize) -> Result<()> {
    let sc: [&[f32]; 2] = [&r.samples, &r.samples];
    let out = host.render_with_sidechain(&[], r.samples.len(), block, Some(&sc))?;
    ensure!(
        out.iter().all(|c| first_unclean(c).is_none()),
        "unclean output while learning"
    );
    Ok(())
}

/// Plays `r`'s notes from MIDI alone; the left channel.
pub fn play(host: &mut ClapHost, r: &Recording) -> Result<Vec<f32>> {
    let [left, _] = host.render(&midi_of(r), r.samples.len(), BLOCK)?;
    ensure!(first_unclean(&left).is_none(), "unclean output");
    Ok(left)
}

pub fn distance(out: &[f32], r: &Recording) -> f32 {
    spectral_distance(out, &r.samples, SR as f32)
}

/// How many prototypes the plugin's memory holds now, as its saved state tells.
pub fn prototype_count(host: &mut ClapHost) -> Result<usize> {
    crate::project::prototype_count(&host.save_state()?)
}

/// In Play mode: the prototype (1-based, of the first `count`) whose patch plays `r`'s notes
/// closest to `r`, and that distance in dB.
pub fn closest(host: &mut ClapHost, r: &Recording, count: usize) -> Result<(usize, f32)> {
    closest_of(host, r, 1..=count)
}

/// [`closest`] among the prototypes `candidates` (1-based).
pub fn closest_of(
    host: &mut ClapHost,
    r: &Recording,
    candidates: std::ops::RangeInclusive<usize>,
) -> Result<(usize, f32)> {
    let mut best = (0, f32::INFINITY);
    for k in candidates {
        set(host, "Prototype", &k.to_string())?;
        let d = distance(&play(host, r)?, r);
        if d < best.1 {
            best = (k, d);
        }
    }
    Ok(best)
}
