//! WAV in and out for the command line, with errors a user can act on.

use anyhow::{Context, Result, bail};
use std::path::Path;

/// Sample rates the plant and the analysis support, Hz.
pub const RATES: std::ops::RangeInclusive<u32> = 8_000..=384_000;

/// A recording, mixed to mono.
pub struct Recording {
    /// Samples, nominally −1..1; non-finite values are left for the analysis to skip and count.
    pub samples: Vec<f32>,
    /// Sample rate, Hz.
    pub sample_rate: f32,
}

/// Reads a WAV file (integer or float PCM, any channel count) and mixes it to mono. Allocates.
pub fn read_wav(path: &Path) -> Result<Recording> {
    let name = path.display();
    if !path.exists() {
        bail!("{name}: no such file");
    }
    let mut reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            anyhow::anyhow!("{name}: damaged or truncated WAV file")
        }
        hound::Error::IoError(e) => anyhow::anyhow!("{name}: cannot read: {e}"),
        e => anyhow::anyhow!("{name}: not a WAV file this program reads ({e})"),
    })?;
    let spec = reader.spec();
    if !RATES.contains(&spec.sample_rate) {
        bail!(
            "{name}: unsupported sample rate {} Hz (use {}–{} Hz)",
            spec.sample_rate,
            RATES.start(),
            RATES.end()
        );
    }
    let channels = spec.channels.max(1) as usize;
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .with_context(|| format!("{name}: damaged audio data"))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .with_context(|| format!("{name}: damaged audio data"))?
        }
    };
    if interleaved.len() < channels {
        bail!("{name}: the file holds no audio");
    }
    let samples = interleaved
        .chunks_exact(channels)
        .map(|f| f.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok(Recording {
        samples,
        sample_rate: spec.sample_rate as f32,
    })
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
