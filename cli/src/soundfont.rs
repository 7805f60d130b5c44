//! `dar-ddsp render-soundfont`: a General MIDI program of a SoundFont recorded as the
//! evaluation recordings are laid out, to learn from or to stream through `continual`.

use anyhow::{Result, bail};
use dar_ddsp_core::learning::training::soundfont::{Font, render_program, two_octaves};
use std::path::Path;

/// The `render-soundfont` command: checks the arguments, renders, normalises the peak to
/// −3 dBFS and writes the WAV atomically.
pub fn render_soundfont(
    soundfont: &Path,
    program: u8,
    notes: &[u8],
    (hold, gap, velocity): (f32, f32, u8),
    sample_rate: u32,
    out: &Path,
) -> Result<()> {
    if program > 127 {
        bail!("--program must be 0–127");
    }
    if notes.iter().any(|&n| n > 127) {
        bail!("--notes must be MIDI notes 0–127");
    }
    if !(1..=127).contains(&velocity) {
        bail!("--velocity must be 1–127");
    }
    if !(0.01..=60.0).contains(&hold) || !(0.0..=60.0).contains(&gap) {
        bail!("--hold must be 0.01–60 s and --gap 0–60 s");
    }
    if !crate::audio::RATES.contains(&sample_rate) {
        bail!("--sample-rate must be 8000–384000 Hz");
    }
    let font = Font::open(soundfont).map_err(anyhow::Error::msg)?;
    let notes = if notes.is_empty() {
        two_octaves(program).to_vec()
    } else {
        notes.to_vec()
    };
    let mut audio = render_program(&font, program, &notes, velocity, (hold, gap), sample_rate)
        .map_err(anyhow::Error::msg)?;
    let peak = audio.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak <= 1e-6 {
        bail!("{}: program {program} renders silence", soundfont.display());
    }
    let gain = dar_ddsp_core::num::units::db_to_amplitude(-3.0) / peak;
    audio.iter_mut().for_each(|v| *v *= gain);
    crate::audio::write_wav(out, &audio, sample_rate)?;
    eprintln!(
        "{}: program {program} of {}, notes {:?}, {:.1} s",
        out.display(),
        font.name,
        notes,
        audio.len() as f32 / sample_rate as f32
    );
    Ok(())
}
