//! `dar-ddsp`: learn patches from recordings, render them, and measure the learner.
//!
//! Every failure prints one line naming the file and the problem and exits with status 1; no
//! output file is ever left half written (WAVs and presets are written atomically).

mod audio;
mod continual;
mod learn;
mod presets;
mod soundfont;
mod train;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use dar_ddsp_core::memory::encoder::EncoderWeights;
use dar_ddsp_core::num::units::note_to_hz;
use dar_ddsp_core::plant::P;
use dar_ddsp_core::plant::render::{NoteEvent, render_performance};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "dar-ddsp",
    version,
    about = "DAR-DDSP: a synth that learns timbres from audio"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Threads that learn, in `learn`, `eval` and `continual` (each step's notes are scored in
    /// parallel; the results are the same bits on any count) [default: one per core].
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

#[derive(Subcommand)]
enum Command {
    /// Learn recordings in order into a memory of prototypes (encoder, Fuzzy ART and search, as
    /// the plugin learns from its sidechain) and write it as a preset.
    Learn {
        /// Audio files (WAV, FLAC, AIFF, OGG Vorbis, MP3) or folders of them, learned in order
        /// (a folder's files in name order).
        #[arg(required = true)]
        wavs: Vec<PathBuf>,
        /// The preset to write (replaced atomically when learning is done).
        #[arg(long)]
        out: PathBuf,
        /// Go on learning into this preset's memory (a file, or a factory or user preset's
        /// name) instead of an empty one.
        #[arg(long)]
        from: Option<String>,
        /// Write each prototype's kept notes into the preset (16-bit PCM at 48 kHz, at most
        /// 4 M samples, about 11 MB), so learning on from it (`--from`, or in the plugin)
        /// guards the notes themselves rather than the patch's own sound.
        #[arg(long)]
        keep_notes: bool,
        /// Vigilance ρ, 0–1: how close a note must sound to a prototype to refine it rather
        /// than get a prototype of its own.
        #[arg(long, default_value_t = dar_ddsp_core::memory::art::DEFAULT_VIGILANCE)]
        vigilance: f32,
        /// λ_ART, the weight of the resonance regularizer (0 = off).
        #[arg(long, default_value_t = 0.5)]
        resonance: f32,
        /// Learning time per prototype and recording, seconds.
        #[arg(long, default_value_t = 10.0)]
        budget_seconds: f32,
        /// Learning work per prototype and recording in gradient steps, instead of time: the
        /// same result on every machine.
        #[arg(long)]
        budget_steps: Option<f32>,
        /// Seed of the search's random patches and dither.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Match tracking: a prototype whose patch plays a new note this much worse (dB) than
        /// its own notes does not take it.
        #[arg(long, default_value_t = dar_ddsp_core::learning::keeper::DEFAULT_TOLERANCE_DB)]
        tolerance_db: f32,
    },
    /// Look into, combine, list and make presets.
    Preset {
        #[command(subcommand)]
        action: PresetAction,
    },
    /// Render notes with a learned patch through the plugin's synth.
    Render {
        /// The preset: a file, or a factory or user preset's name (`dar-ddsp preset list`).
        #[arg(long)]
        preset: String,
        /// Which prototype: its number (from 1, as in `preset info` and the plugin) or its
        /// name.
        #[arg(long, default_value = "1")]
        prototype: String,
        /// MIDI notes, played one after another, e.g. 48,55,60.
        #[arg(long, value_delimiter = ',', required = true)]
        notes: Vec<u8>,
        #[command(flatten)]
        playing: Playing,
    },
    /// Record a General MIDI program of a SoundFont playing notes one after another (through
    /// the font player's reverb and chorus, peak at −3 dBFS): instruments to learn from, laid
    /// out as the evaluation recordings are.
    RenderSoundfont {
        /// The SoundFont (.sf2).
        #[arg(long)]
        soundfont: PathBuf,
        /// General MIDI program, 0–127 (bank 0).
        #[arg(long)]
        program: u8,
        /// MIDI notes, e.g. 48,55,60 [default: six notes over two octaves in the middle of the
        /// program family's range].
        #[arg(long, value_delimiter = ',')]
        notes: Vec<u8>,
        #[command(flatten)]
        playing: Playing,
    },
    /// Learn each recording and compare, by the spectral distance of docs/ARCHITECTURE.md §8, the
    /// learned patch with the default patch, plain Adam and random search under the same budget.
    Eval {
        /// Recordings; default: every WAV in ../shared/eval/instruments.
        wavs: Vec<PathBuf>,
        /// Time per recording and method, seconds.
        #[arg(long, default_value_t = 10.0)]
        budget_seconds: f32,
        /// Work per recording and method in gradient steps, instead of time: the same table on
        /// every machine.
        #[arg(long)]
        budget_steps: Option<f32>,
        /// Seed of the searches.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write what each method learned, playing the recording's notes, into this folder
        /// (`<recording>.<method>.wav`, 32-bit float), to listen to beside the recording.
        #[arg(long)]
        renders: Option<PathBuf>,
        /// Leave these plant sections at their defaults in every method, to measure what each
        /// one brings: lfo, drawbars, body1, body2, velocity (comma-separated).
        #[arg(long, value_delimiter = ',')]
        without: Vec<String>,
        /// Run the search's runs with the theory's adaptive α and μ and its dither (the
        /// optimizer's own defaults) instead of plain Adam, to compare the two.
        #[arg(long)]
        adaptive: bool,
    },
    /// Stream recordings one after another through the full learner (encoder, Fuzzy ART,
    /// search) and print prototypes, clustering and forgetting beside a one-patch baseline.
    Continual {
        /// Recordings, in order; default: every WAV in ../shared/eval/instruments.
        wavs: Vec<PathBuf>,
        /// Vigilance ρ (0–1).
        #[arg(long, default_value_t = dar_ddsp_core::memory::art::DEFAULT_VIGILANCE)]
        vigilance: f32,
        /// λ_ART, the weight of the resonance regularizer.
        #[arg(long, default_value_t = 0.5)]
        resonance: f32,
        /// Gradient steps per prototype and recording.
        #[arg(long, default_value_t = 150.0)]
        budget_steps: f32,
        /// Seed of the searches.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Match tracking: a prototype whose patch plays a new note this much worse (dB) than
        /// its own notes does not take it.
        #[arg(long, default_value_t = dar_ddsp_core::learning::keeper::DEFAULT_TOLERANCE_DB)]
        tolerance_db: f32,
        /// Stream the recordings in a shuffled order (this seed; 0 = the order given).
        #[arg(long, default_value_t = 0)]
        order_seed: u64,
    },
    /// Print the spectral distance (docs/ARCHITECTURE.md §8, dB) between two aligned recordings at
    /// the same sample rate (stereo files are mixed to mono).
    Distance {
        /// The candidate (scaled to the target's loudness first).
        candidate: PathBuf,
        /// The target.
        target: PathBuf,
    },
    /// Train the timbre encoder on plant renders and write its weights (the shipped weights are
    /// `core/assets/encoder.json`, made with the defaults).
    TrainEncoder {
        /// Where to write the weights JSON.
        #[arg(long)]
        out: PathBuf,
        /// Seed of the training set and the initial weights (the shipped weights' seed was
        /// chosen among 1–4 on the held-out programs; docs/RESULTS.md).
        #[arg(long, default_value_t = 3)]
        seed: u64,
        /// Adam steps.
        #[arg(long, default_value_t = 4_000)]
        steps: usize,
        /// Random patches rendered.
        #[arg(long, default_value_t = 3_000)]
        patches: usize,
        /// General MIDI SoundFonts (.sf2) whose programs are the real instruments of the
        /// training set. FluidR3 and fonts made from it are refused: the evaluation recordings
        /// are FluidR3.
        #[arg(long = "soundfont", default_values_os_t = train::default_soundfonts())]
        soundfonts: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PresetAction {
    /// Print a preset's settings and prototypes.
    Info {
        /// A file, or a factory or user preset's name.
        preset: String,
    },
    /// Combine two memories: A's prototypes, then B's (renamed where names clash).
    Merge {
        /// The first preset (its settings are kept).
        a: String,
        /// The second preset.
        b: String,
        /// The preset to write (replaced atomically).
        #[arg(long)]
        out: PathBuf,
    },
    /// List the factory presets and those in the user's preset directory.
    List,
    /// Write the designed factory patches (bright saw, dark square, …) as a preset.
    Design {
        /// The preset to write.
        #[arg(long)]
        out: PathBuf,
    },
}

/// How notes are played into a WAV: shared by the commands that render.
#[derive(clap::Args)]
struct Playing {
    /// Seconds each note is held.
    #[arg(long, default_value_t = 1.5)]
    hold: f32,
    /// Seconds between one note's release and the next note.
    #[arg(long, default_value_t = 0.5)]
    gap: f32,
    /// MIDI velocity, 1–127.
    #[arg(long, default_value_t = 100)]
    velocity: u8,
    /// Output sample rate, Hz.
    #[arg(long, default_value_t = 48_000)]
    sample_rate: u32,
    /// The WAV to write (32-bit float, mono).
    #[arg(long)]
    out: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n.into())
            .build_global();
        if let Err(e) = pool {
            eprintln!("dar-ddsp: --threads {n}: {e}");
            std::process::exit(1);
        }
    }
    let result = match cli.command {
        Command::Learn {
            wavs,
            out,
            from,
            keep_notes,
            vigilance,
            resonance,
            budget_seconds,
            budget_steps,
            seed,
            tolerance_db,
        } => learn::budget(budget_seconds, budget_steps).and_then(|budget| {
            learn::learn(
                &wavs,
                &out,
                from.as_deref(),
                keep_notes,
                &learn::LearnSettings {
                    vigilance,
                    resonance,
                    budget,
                    seed,
                    tolerance_db,
                },
            )
        }),
        Command::Preset { action } => match action {
            PresetAction::Info { preset } => presets::info(&preset),
            PresetAction::Merge { a, b, out } => presets::merge(&a, &b, &out),
            PresetAction::List => presets::list(),
            PresetAction::Design { out } => presets::design(&out),
        },
        Command::Render {
            preset,
            prototype,
            notes,
            playing: p,
        } => render(
            &preset,
            &prototype,
            &notes,
            (p.hold, p.gap, p.velocity),
            p.sample_rate,
            &p.out,
        ),
        Command::RenderSoundfont {
            soundfont,
            program,
            notes,
            playing: p,
        } => soundfont::render_soundfont(
            &soundfont,
            program,
            &notes,
            (p.hold, p.gap, p.velocity),
            p.sample_rate,
            &p.out,
        ),
        Command::Eval {
            wavs,
            budget_seconds,
            budget_steps,
            seed,
            renders,
            without,
            adaptive,
        } => learn::budget(budget_seconds, budget_steps).and_then(|budget| {
            let search = learn::EvalSearch {
                seed,
                without,
                adaptive,
            };
            learn::eval(&wavs, budget, &search, renders.as_deref())
        }),
        Command::Continual {
            wavs,
            vigilance,
            resonance,
            budget_steps,
            seed,
            tolerance_db,
            order_seed,
        } => learn::budget(10.0, Some(budget_steps)).and_then(|budget| {
            continual::continual(
                &wavs,
                &learn::LearnSettings {
                    vigilance,
                    budget,
                    resonance,
                    seed,
                    tolerance_db,
                },
                order_seed,
            )
        }),
        Command::Distance { candidate, target } => distance(&candidate, &target),
        Command::TrainEncoder {
            out,
            seed,
            steps,
            patches,
            soundfonts,
        } => train::train_encoder(&out, seed, steps, patches, &soundfonts),
    };
    if let Err(e) = result {
        eprintln!("dar-ddsp: {e:#}");
        std::process::exit(1);
    }
}

/// The `distance` command.
fn distance(candidate: &std::path::Path, target: &std::path::Path) -> Result<()> {
    let (c, t) = (audio::read_audio(candidate)?, audio::read_audio(target)?);
    if c.sample_rate != t.sample_rate {
        bail!(
            "{} is at {} Hz and {} at {} Hz: compare recordings at one rate",
            candidate.display(),
            c.sample_rate,
            target.display(),
            t.sample_rate
        );
    }
    let d =
        dar_ddsp_core::signal::distance::spectral_distance(&c.samples, &t.samples, c.sample_rate);
    println!("{d:.3}");
    Ok(())
}

/// The `render` command.
fn render(
    preset: &str,
    which: &str,
    notes: &[u8],
    (hold, gap, velocity): (f32, f32, u8),
    sample_rate: u32,
    out: &std::path::Path,
) -> Result<()> {
    if !(hold.is_finite() && hold > 0.0 && hold <= 600.0) {
        bail!("--hold must be between 0 and 600 seconds");
    }
    if !(gap.is_finite() && (0.0..=600.0).contains(&gap)) {
        bail!("--gap must be between 0 and 600 seconds");
    }
    if !(1..=127).contains(&velocity) {
        bail!("--velocity must be 1–127");
    }
    if notes.iter().any(|&n| n > 127) {
        bail!("--notes must be MIDI notes 0–127");
    }
    if !audio::RATES.contains(&sample_rate) {
        bail!("--sample-rate must be 8000–384000 Hz");
    }
    let loaded = presets::open(preset, &EncoderWeights::shipped()?)?;
    let protos = &loaded.preset.prototypes;
    let proto = match which.parse::<usize>() {
        Ok(i) => i
            .checked_sub(1)
            .and_then(|i| protos.get(i))
            .with_context(|| format!("no prototype {i}: the preset holds 1–{}", protos.len()))?,
        Err(_) => protos
            .iter()
            .find(|p| p.name == which)
            .with_context(|| format!("no prototype named {which:?}"))?,
    };
    let sr = sample_rate as f32;
    let step = ((hold + gap) * sr) as usize;
    let events: Vec<NoteEvent> = notes
        .iter()
        .enumerate()
        .map(|(i, &n)| NoteEvent {
            onset: i * step,
            release: i * step + (hold * sr) as usize,
            f0_hz: note_to_hz(n as f32),
            velocity: velocity as f32 / 127.0,
        })
        .collect();
    // After the last key-up: the release (to −60 dB) and a little air.
    let tail = proto.theta[P::AmpRelease as usize] + 0.1;
    let len = events.last().map_or(0, |e| e.release) + (tail * sr) as usize;
    let samples = render_performance(&proto.theta, &events, sr, len);
    audio::write_wav(out, &samples, sample_rate)?;
    eprintln!(
        "{}: {} notes with \"{}\", {:.2} s",
        out.display(),
        notes.len(),
        proto.name,
        len as f32 / sr
    );
    Ok(())
}
