//! Reading recordings: the project's one WAV reader (integer or float PCM, any channel count,
//! mixed to mono), for the command line, the standalone's sidechain files and the tests. Every
//! failure is one line naming the file and what to do.

use std::path::Path;

/// Sample rates the plant and the analysis support, Hz.
pub const RATES: std::ops::RangeInclusive<u32> = 8_000..=384_000;

/// A recording, mixed to mono.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Samples, nominally −1..1, as the file holds them: non-finite values are kept, for the
    /// analysis to skip and count (a caller that plays them replaces them).
    pub samples: Vec<f32>,
    /// Sample rate, Hz.
    pub sample_rate: f32,
}

/// Why a recording cannot be read. Each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// Nothing at the path.
    #[error("{0}: no such file")]
    Missing(String),
    /// The file ends before its header says it does.
    #[error("{0}: damaged or truncated WAV file")]
    Truncated(String),
    /// The system refused to read it.
    #[error("{0}: cannot read: {1}")]
    Io(String, std::io::Error),
    /// Not WAV, or a WAV encoding this reader does not decode (e.g. compressed).
    #[error("{0}: not a WAV file this program reads ({1})")]
    Format(String, String),
    /// A sample rate outside [`RATES`]: resample it.
    #[error(
        "{0}: unsupported sample rate {1} Hz (use {lo}–{hi} Hz)",
        lo = RATES.start(),
        hi = RATES.end()
    )]
    Rate(String, u32),
    /// The sample data is cut short or corrupt.
    #[error("{0}: damaged audio data ({1})")]
    Data(String, String),
    /// Not one whole frame of audio.
    #[error("{0}: the file holds no audio")]
    Empty(String),
}

/// Reads a WAV file and mixes it to mono. Allocates; nothing is returned half-read.
///
/// ```no_run
/// let rec = dar_ddsp_core::signal::wav::read_wav("violin.wav".as_ref())?;
/// println!("{} samples at {} Hz", rec.samples.len(), rec.sample_rate);
/// # Ok::<(), dar_ddsp_core::signal::wav::WavError>(())
/// ```
pub fn read_wav(path: &Path) -> Result<Recording, WavError> {
    let name = path.display().to_string();
    if !path.exists() {
        return Err(WavError::Missing(name));
    }
    let mut reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            WavError::Truncated(name.clone())
        }
        hound::Error::IoError(e) => WavError::Io(name.clone(), e),
        e => WavError::Format(name.clone(), e.to_string()),
    })?;
    let spec = reader.spec();
    if !RATES.contains(&spec.sample_rate) {
        return Err(WavError::Rate(name, spec.sample_rate));
    }
    let channels = spec.channels.max(1) as usize;
    let damaged = |e: hound::Error| WavError::Data(name.clone(), e.to_string());
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(damaged)?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(damaged)?
        }
    };
    if interleaved.len() < channels {
        return Err(WavError::Empty(name));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, channels: u16, rate: u32, frames: &[[i16; 2]]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for f in frames {
            for &s in &f[..channels as usize] {
                w.write_sample(s).unwrap();
            }
        }
        w.finalize().unwrap();
    }

    #[test]
    fn mixes_to_mono_and_refuses_what_it_cannot_read() {
        let dir = std::env::temp_dir().join(format!("dar-ddsp-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let stereo = dir.join("stereo.wav");
        write(&stereo, 2, 48_000, &[[16_384, 0], [-16_384, -16_384]]);
        let rec = read_wav(&stereo).unwrap();
        assert_eq!(rec.samples, [0.25, -0.5]);
        assert_eq!(rec.sample_rate, 48_000.0);

        let slow = dir.join("slow.wav");
        write(&slow, 1, 4_000, &[[0, 0]]);
        let empty = dir.join("empty.wav");
        write(&empty, 2, 48_000, &[]);
        let truncated = dir.join("truncated.wav");
        std::fs::write(&truncated, &std::fs::read(&stereo).unwrap()[..30]).unwrap();
        let text = dir.join("text.wav");
        std::fs::write(&text, "not audio").unwrap();
        for (path, says) in [
            (dir.join("missing.wav"), "no such file"),
            (slow, "unsupported sample rate 4000 Hz"),
            (empty, "holds no audio"),
            (truncated, "truncated"),
            (text, "not a WAV file"),
        ] {
            let e = read_wav(&path).unwrap_err().to_string();
            assert!(
                e.contains(says) && e.contains(&*path.to_string_lossy()),
                "{e}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
