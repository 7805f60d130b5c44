//! Audio in and out for the command line, with errors a user can act on: reading is the core's
//! one reader (WAV, FLAC, AIFF, OGG Vorbis, MP3); writing is WAV, atomic.

use anyhow::{Context, Result};
use std::path::Path;

pub use dar_ddsp_core::signal::audio_file::{EXTENSIONS, RATES, Recording};

/// Reads an audio file and mixes it to mono (the core's reader, its errors as the command's).
/// Allocates.
pub fn read_audio(path: &Path) -> Result<Recording> {
    Ok(dar_ddsp_core::signal::audio_file::read_audio(path)?)
}

/// [`read_audio`] resampled to `sample_rate`. Allocates.
pub fn read_audio_at(path: &Path, sample_rate: f32) -> Result<Recording> {
    Ok(dar_ddsp_core::signal::audio_file::read_audio_at(
        path,
        sample_rate,
    )?)
}

/// Writes mono 32-bit float WAV atomically: an existing file is replaced only by a complete one.
/// Allocates.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut bytes = std::io::Cursor::new(Vec::new());
    {
        let mut w = hound::WavWriter::new(&mut bytes, spec)?;
        for &s in samples {
            w.write_sample(if s.is_finite() { s } else { 0.0 })?;
        }
        w.finalize()?;
    }
    dar_ddsp_core::store::atomic::write_atomically(path, bytes.get_ref())
        .with_context(|| format!("{}: cannot write", path.display()))
}
