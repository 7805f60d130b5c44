//! DAR-DDSP as a standalone application, for musicians without a DAW: JACK or ALSA audio and
//! MIDI (`--backend`), the sidechain from an input device (`--input-device`) or from
//! recordings looped into it (`--sidechain-file a.wav [--sidechain-file b.wav …]`, at the
//! standalone's sample rate), and the same editor as the plugin. `--help` lists the options.

use dar_ddsp::sidechain_file::{self, SidechainFile};

fn main() {
    let mut args = Vec::new();
    let mut files = Vec::new();
    let mut it = std::env::args();
    while let Some(a) = it.next() {
        if a == "--sidechain-file" {
            match it.next() {
                Some(path) => files.push(path),
                None => fail("--sidechain-file needs a WAV file"),
            }
        } else {
            args.push(a);
        }
    }
    if !files.is_empty() {
        let mut file = SidechainFile {
            samples: Vec::new(),
            sample_rate: 0.0,
        };
        for path in &files {
            match read_mono(path) {
                Ok((samples, rate)) if file.samples.is_empty() || rate == file.sample_rate => {
                    file.sample_rate = rate;
                    file.samples.extend(samples);
                }
                Ok((_, rate)) => fail(&format!(
                    "{path}: {rate} Hz, but the first file is {} Hz",
                    file.sample_rate
                )),
                Err(e) => fail(&format!("{path}: {e}")),
            }
        }
        sidechain_file::set(file);
    }
    nice_plug::prelude::nice_export_standalone_with_args::<dar_ddsp::DarDdsp, _>(args);
}

/// The WAV at `path` mixed to mono, with its sample rate; NaN and Inf read as silence.
fn read_mono(path: &str) -> Result<(Vec<f32>, f32), hound::Error> {
    let mut reader = hound::WavReader::open(path)?;
    let spec = reader.spec();
    let channels = spec.channels.max(1) as usize;
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<Result<_, _>>()?
        }
    };
    let mono = interleaved
        .chunks(channels)
        .map(|frame| {
            let x = frame.iter().sum::<f32>() / channels as f32;
            if x.is_finite() { x } else { 0.0 }
        })
        .collect();
    Ok((mono, spec.sample_rate as f32))
}

fn fail(message: &str) -> ! {
    eprintln!("dar-ddsp-standalone: {message}");
    std::process::exit(1);
}
