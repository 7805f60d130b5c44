//! DAR-DDSP as a standalone application, for musicians without a DAW: JACK or ALSA audio and
//! MIDI (`--backend`), the sidechain from an input device (`--input-device`) or from
//! recordings looped into it (`--sidechain-file a.wav [--sidechain-file b.wav …]`, at the
//! standalone's sample rate), and the same editor as the plugin. `--help` lists the options.

use dar_ddsp::sidechain_file::{self, SidechainFile};
use dar_ddsp_core::signal::wav::{WavError, read_wav};

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
                Err(e) => fail(&e.to_string()),
            }
        }
        sidechain_file::set(file);
    }
    nice_plug::prelude::nice_export_standalone_with_args::<dar_ddsp::DarDdsp, _>(args);
}

/// The WAV at `path` mixed to mono, with its sample rate; NaN and Inf play as silence.
fn read_mono(path: &str) -> Result<(Vec<f32>, f32), WavError> {
    let mut rec = read_wav(path.as_ref())?;
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
