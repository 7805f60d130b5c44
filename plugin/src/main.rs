//! DAR-DDSP as a standalone application, for musicians without a DAW: JACK or ALSA audio and
//! MIDI (`--backend`), the sidechain from an input device (`--input-device`) or from
//! recordings looped into it (`--sidechain-file a.flac [--sidechain-file b.wav …]`: WAV, FLAC,
//! AIFF, OGG Vorbis or MP3, each at the first one's rate, played when the standalone runs at that
//! rate), and the same editor as the plugin. `--help` lists the options.

use dar_ddsp::sidechain_file::{self, SidechainFile};
use dar_ddsp_core::signal::audio_file::{AudioError, read_audio, read_audio_at};

fn main() {
    let mut args = Vec::new();
    let mut files = Vec::new();
    let mut it = std::env::args();
    while let Some(a) = it.next() {
        if a == "--sidechain-file" {
            match it.next() {
                Some(path) => files.push(path),
                None => fail("--sidechain-file needs an audio file"),
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
            // Every file at the first one's rate (rubato, in the core's reader).
            let rate = (!file.samples.is_empty()).then_some(file.sample_rate);
            match read_mono(path, rate) {
                Ok((samples, rate)) => {
                    file.sample_rate = rate;
                    file.samples.extend(samples);
                }
                Err(e) => fail(&e.to_string()),
            }
        }
        sidechain_file::set(file);
    }
    nice_plug::prelude::nice_export_standalone_with_args::<dar_ddsp::DarDdsp, _>(args);
}

/// The audio file at `path` mixed to mono, at `rate` if given (else its own), with its sample
/// rate; NaN and Inf play as silence.
fn read_mono(path: &str, rate: Option<f32>) -> Result<(Vec<f32>, f32), AudioError> {
    let mut rec = match rate {
        Some(rate) => read_audio_at(path.as_ref(), rate)?,
        None => read_audio(path.as_ref())?,
    };
    rec.samples
        .iter_mut()
        .filter(|x| !x.is_finite())
        .for_each(|x| *x = 0.0);
    Ok((rec.samples, rec.sample_rate))
}

fn fail(message: &str) -> ! {
    eprintln!("dar-ddsp-standalone: {message}");
    std::process::exit(1);
}
