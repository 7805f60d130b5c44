//! Reading recordings: the project's one audio reader, for the command line, the standalone's
//! sidechain files, the plugin's Learn from file and the tests. WAV (integer or float PCM) is
//! read by `hound`, exactly, as every figure in the docs was measured; FLAC, AIFF, OGG Vorbis
//! and MP3 are decoded by `symphonia`. Any channel count is mixed to mono, and [`read_audio_at`]
//! resamples with `rubato` to the rate the learner runs at. Every failure is one line naming
//! the file and what is wrong; a file that fails part-way gives nothing, never part of itself.

use std::io::Read;
use std::path::Path;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as Decode;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Sample rates a recording may have, Hz.
pub const RATES: std::ops::RangeInclusive<u32> = 8_000..=384_000;

/// The file extensions [`read_audio`] reads (lower case), for file pickers and folders.
pub const EXTENSIONS: [&str; 7] = ["wav", "flac", "aif", "aiff", "ogg", "oga", "mp3"];

/// A recording, mono.
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
pub enum AudioError {
    /// The path does not exist.
    #[error("{0}: no such file")]
    Missing(String),
    /// The file ends before its data does.
    #[error("{0}: damaged or truncated audio file")]
    Truncated(String),
    /// The file cannot be read at all.
    #[error("{0}: cannot read: {1}")]
    Io(String, std::io::Error),
    /// Not a format this program reads.
    #[error(
        "{0}: not an audio file this program reads ({1}); it reads WAV, FLAC, AIFF, OGG Vorbis and MP3"
    )]
    Format(String, String),
    /// A sample rate outside [`RATES`].
    #[error(
        "{0}: unsupported sample rate {1} Hz (use {lo}–{hi} Hz)",
        lo = RATES.start(),
        hi = RATES.end()
    )]
    Rate(String, u32),
    /// The audio data cannot be decoded.
    #[error("{0}: damaged audio data ({1})")]
    Data(String, String),
    /// Nothing to hear.
    #[error("{0}: the file holds no audio")]
    Empty(String),
}

/// Reads an audio file (WAV, FLAC, AIFF, OGG Vorbis or MP3, told by its content, not its name)
/// and mixes it to mono, at its own sample rate. Allocates.
pub fn read_audio(path: &Path) -> Result<Recording, AudioError> {
    let name = path.display().to_string();
    if !path.exists() {
        return Err(AudioError::Missing(name));
    }
    let mut magic = [0u8; 12];
    let read = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(|e| AudioError::Io(name.clone(), e))?;
    if read == 0 {
        return Err(AudioError::Empty(name));
    }
    if &magic[..4] == b"RIFF" && &magic[8..12] == b"WAVE" {
        read_wav(path, name)
    } else {
        decode(path, name)
    }
}

/// [`read_audio`], resampled to `sample_rate` when the file is at another rate. Allocates.
pub fn read_audio_at(path: &Path, sample_rate: f32) -> Result<Recording, AudioError> {
    let rec = read_audio(path)?;
    if rec.sample_rate == sample_rate {
        return Ok(rec);
    }
    let name = path.display().to_string();
    let samples = resample(&rec.samples, rec.sample_rate, sample_rate)
        .map_err(|e| AudioError::Data(name, format!("cannot resample: {e}")))?;
    Ok(Recording {
        samples,
        sample_rate,
    })
}

/// `samples` at `from` Hz resampled to `to` Hz (rates in [`RATES`], whole hertz) by `rubato`'s
/// FFT resampler, its delay trimmed: the output starts with the input. Allocates.
pub fn resample(samples: &[f32], from: f32, to: f32) -> Result<Vec<f32>, String> {
    let rate = |r: f32| {
        (r.fract() == 0.0 && RATES.contains(&(r as u32)))
            .then_some(r as usize)
            .ok_or_else(|| format!("a sample rate of {r} Hz"))
    };
    let (from, to) = (rate(from)?, rate(to)?);
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    // Non-finite samples would smear over the whole output: they resample as silence.
    let input: Vec<f32> = samples
        .iter()
        .map(|&x| if x.is_finite() { x } else { 0.0 })
        .collect();
    let mut resampler =
        Fft::<f32>::new(from, to, 1_024, 1, FixedSync::Input).map_err(|e| e.to_string())?;
    let mut out = vec![0.0f32; resampler.process_all_needed_output_len(input.len())];
    let frames_out = out.len();
    let reader = InterleavedSlice::new(&input, 1, input.len()).map_err(|e| e.to_string())?;
    let mut writer =
        InterleavedSlice::new_mut(&mut out, 1, frames_out).map_err(|e| e.to_string())?;
    let (_, produced) = resampler
        .process_all_into_buffer(&reader, &mut writer, input.len(), None)
        .map_err(|e| e.to_string())?;
    out.truncate(produced);
    Ok(out)
}

/// A RIFF WAVE file, through `hound`.
fn read_wav(path: &Path, name: String) -> Result<Recording, AudioError> {
    let mut reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Truncated(name.clone())
        }
        hound::Error::IoError(e) => AudioError::Io(name.clone(), e),
        e => AudioError::Format(name.clone(), e.to_string()),
    })?;
    let spec = reader.spec();
    if !RATES.contains(&spec.sample_rate) {
        return Err(AudioError::Rate(name, spec.sample_rate));
    }
    let channels = spec.channels.max(1) as usize;
    let damaged = |e: hound::Error| AudioError::Data(name.clone(), e.to_string());
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
    mono(&interleaved, channels, spec.sample_rate, name)
}

/// Any other format, through `symphonia`.
fn decode(path: &Path, name: String) -> Result<Recording, AudioError> {
    let file = std::fs::File::open(path).map_err(|e| AudioError::Io(name.clone(), e))?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let unreadable = |e: Decode| match e {
        Decode::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Truncated(name.clone())
        }
        Decode::IoError(e) => AudioError::Io(name.clone(), e),
        e => AudioError::Format(name.clone(), e.to_string()),
    };
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(unreadable)?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| AudioError::Format(name.clone(), "no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::Format(name.clone(), "no audio codec".into()))?
        .clone();
    let rate = params
        .sample_rate
        .ok_or_else(|| AudioError::Format(name.clone(), "no sample rate".into()))?;
    if !RATES.contains(&rate) {
        return Err(AudioError::Rate(name, rate));
    }
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| AudioError::Format(name.clone(), e.to_string()))?;
    let damaged = |e: Decode| match e {
        Decode::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Truncated(name.clone())
        }
        e => AudioError::Data(name.clone(), e.to_string()),
    };
    let (mut interleaved, mut block) = (Vec::<f32>::new(), Vec::<f32>::new());
    let mut channels = params.channels.as_ref().map_or(1, |c| c.count()).max(1);
    while let Some(packet) = format.next_packet().map_err(damaged)? {
        if packet.track_id != track_id {
            continue;
        }
        let audio = decoder.decode(&packet).map_err(damaged)?;
        channels = audio.spec().channels().count().max(1);
        block.resize(audio.samples_interleaved(), 0.0);
        audio.copy_to_slice_interleaved(&mut block);
        interleaved.extend_from_slice(&block);
    }
    mono(&interleaved, channels, rate, name)
}

/// Interleaved frames of `channels` mixed to mono.
fn mono(
    interleaved: &[f32],
    channels: usize,
    rate: u32,
    name: String,
) -> Result<Recording, AudioError> {
    if interleaved.len() < channels {
        return Err(AudioError::Empty(name));
    }
    let samples = interleaved
        .chunks_exact(channels)
        .map(|f| f.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok(Recording {
        samples,
        sample_rate: rate as f32,
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
        let rec = read_audio(&stereo).unwrap();
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
            (text, "not an audio file this program reads"),
        ] {
            let e = read_audio(&path).unwrap_err().to_string();
            assert!(
                e.contains(says) && e.contains(&*path.to_string_lossy()),
                "{e}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The fixtures beside the tests: one 0.1 s stereo tone (440 + 1320 Hz left, 660 Hz right,
    /// 22.05 kHz, 16-bit) as WAV and as each other format (how they were made:
    /// `core/tests/fixtures/audio/README.md`).
    fn fixture(ext: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/audio/tone.{ext}"))
    }

    /// RMS of `a − b` over RMS of `b`, on their common length.
    fn relative_error(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let err: f32 = a[..n]
            .iter()
            .zip(&b[..n])
            .map(|(x, y)| (x - y) * (x - y))
            .sum();
        let sig: f32 = b[..n].iter().map(|y| y * y).sum();
        (err / sig).sqrt()
    }

    #[test]
    fn every_format_decodes_to_the_wav_original() {
        let wav = read_audio(&fixture("wav")).unwrap();
        assert_eq!((wav.samples.len(), wav.sample_rate), (2_205, 22_050.0));
        // Lossless: the very samples.
        for ext in ["flac", "aiff"] {
            let rec = read_audio(&fixture(ext)).unwrap();
            assert_eq!(rec, wav, "{ext}");
        }
        // Lossy: the same length and alignment (both formats carry their encoder's delay and
        // padding, and the decoder trims them) and the tone within the codec's error, RMS of the
        // difference over RMS of the tone (measured: Vorbis q4 2.0 %, MP3 128 kbit/s at
        // 22.05 kHz 5.0 %; one sample of misalignment would make 18 %).
        for (ext, tolerance) in [("ogg", 0.03), ("mp3", 0.07)] {
            let rec = read_audio(&fixture(ext)).unwrap();
            assert_eq!(rec.sample_rate, 22_050.0, "{ext}");
            assert!(
                rec.samples.len().abs_diff(wav.samples.len()) <= 1,
                "{ext}: {} samples",
                rec.samples.len()
            );
            let e = relative_error(&rec.samples, &wav.samples);
            assert!(e <= tolerance, "{ext}: relative error {e}");
        }
    }

    #[test]
    fn a_file_at_another_rate_is_resampled_to_the_learners() {
        let wav = read_audio(&fixture("wav")).unwrap();
        let flac = read_audio_at(&fixture("flac"), 48_000.0).unwrap();
        assert_eq!(flac.sample_rate, 48_000.0);
        let want = (2_205.0f32 * 48_000.0 / 22_050.0).round() as usize;
        assert!(
            flac.samples.len().abs_diff(want) <= 2,
            "{} samples",
            flac.samples.len()
        );
        // The same tone: its RMS within 1 %, and its level at 440 Hz (a DFT bin of the middle
        // 20 ms at each rate) within 2 %.
        let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
        let (a, b) = (rms(&wav.samples), rms(&flac.samples));
        assert!((a - b).abs() <= 0.01 * a, "RMS {a} → {b}");
        let at = |x: &[f32], sr: f32| {
            let n = (0.02 * sr) as usize;
            let x = &x[x.len() / 2 - n / 2..][..n];
            let (mut re, mut im) = (0.0f32, 0.0f32);
            for (i, v) in x.iter().enumerate() {
                let w = std::f32::consts::TAU * 440.0 * i as f32 / sr;
                (re, im) = (re + v * w.cos(), im + v * w.sin());
            }
            (re * re + im * im).sqrt() / n as f32
        };
        let (a, b) = (at(&wav.samples, 22_050.0), at(&flac.samples, 48_000.0));
        assert!((a - b).abs() <= 0.02 * a, "440 Hz {a} → {b}");
        // At its own rate nothing changes.
        assert_eq!(read_audio_at(&fixture("wav"), 22_050.0).unwrap(), wav);
    }

    #[test]
    fn damaged_files_are_refused_with_one_line() {
        let dir = std::env::temp_dir().join(format!("dar-ddsp-damaged-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cases = Vec::new();
        for ext in ["flac", "ogg", "mp3", "aiff"] {
            let bytes = std::fs::read(fixture(ext)).unwrap();
            let truncated = dir.join(format!("truncated.{ext}"));
            std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
            cases.push(truncated);
            // The right name, the wrong content: seeded noise.
            let wrong = dir.join(format!("wrong.{ext}"));
            let mut rng = crate::num::Rng::new(bytes.len() as u64);
            let garbage: Vec<u8> = (0..4_096).map(|_| rng.next_u64() as u8).collect();
            std::fs::write(&wrong, &garbage).unwrap();
            cases.push(wrong);
        }
        let empty = dir.join("empty.flac");
        std::fs::write(&empty, b"").unwrap();
        cases.push(empty);
        for path in &cases {
            match read_audio(path) {
                Err(e) => {
                    let line = e.to_string();
                    assert!(
                        !line.contains('\n') && line.contains(&*path.to_string_lossy()),
                        "{line}"
                    );
                }
                // A truncated stream may still end on a whole packet: then it is what it holds,
                // shorter, never garbage.
                Ok(rec) => assert!(
                    path.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("truncated")
                        && rec.samples.len() < 2_205
                        && rec.samples.iter().all(|x| x.abs() <= 1.5),
                    "{} read as {} samples",
                    path.display(),
                    rec.samples.len()
                ),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
