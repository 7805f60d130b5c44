//! `dar-ddsp train-encoder`: remakes the encoder's shipped weights from a seed.

use anyhow::{Context, Result, bail};
use dar_ddsp_core::learning::training::soundfont::{Font, RealConfig, render_real};
use dar_ddsp_core::learning::training::{TrainConfig, render_set, train};
use dar_ddsp_core::store::atomic::write_atomically;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

/// The training fonts: Debian's `timgm6mb-soundfont` and `csound-soundfont` (`cargo xtask
/// train-encoder` installs both).
pub fn default_soundfonts() -> Vec<PathBuf> {
    vec![
        "/usr/share/sounds/sf2/TimGM6mb.sf2".into(),
        "/usr/share/sounds/sf2/sf_GMbank.sf2".into(),
    ]
}

/// File-name marks of FluidR3 and of the fonts made from it (MuseScore General is a fork of
/// FluidR3Mono, its own read-me says): never training data, the evaluation audio is FluidR3.
const REFUSED: [&str; 3] = ["fluid", "musescore_general", "default-gm"];

fn bar(len: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {elapsed:>3} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}

/// Renders the training set, trains, and writes the weights atomically to `out`.
pub fn train_encoder(
    out: &Path,
    seed: u64,
    steps: usize,
    patches: usize,
    soundfonts: &[PathBuf],
) -> Result<()> {
    if !(10..=1_000_000).contains(&steps) {
        bail!("--steps must be 10–1000000");
    }
    if !(20..=1_000_000).contains(&patches) {
        bail!("--patches must be 20–1000000");
    }
    for path in soundfonts {
        let name = path.to_string_lossy().to_lowercase();
        if let Some(mark) = REFUSED.iter().find(|m| name.contains(*m)) {
            bail!(
                "{}: refused ({mark:?}): FluidR3 and SoundFonts made from it are the evaluation \
                 audio's source and never training data",
                path.display()
            );
        }
    }
    let fonts: Vec<Font> = soundfonts
        .iter()
        .map(|p| Font::open(p))
        .collect::<Result<_, String>>()
        .map_err(anyhow::Error::msg)
        .context("install the training fonts with `cargo xtask train-encoder`, or name others")?;
    let config = TrainConfig {
        seed,
        steps,
        patches,
        ..TrainConfig::default()
    };
    let rendering = bar(patches as u64, "plant");
    let set = render_set(&config, |p| rendering.set_position(p as u64));
    rendering.finish_and_clear();
    let rendering = bar(128 * fonts.len() as u64, "real");
    let real = render_real(&fonts, &RealConfig::default(), seed, |p| {
        rendering.set_position(p as u64)
    })
    .map_err(anyhow::Error::msg)?;
    rendering.finish_and_clear();
    let training = bar(steps as u64, "train");
    let (weights, report) = train(&config, &set, &real, |r| {
        training.set_position(r.step as u64);
        training.set_message(format!(
            "loss {:.4}  held-out: same {:.3} other {:.3} triplets {:.3}",
            r.loss, r.positive, r.negative, r.triplet_accuracy
        ));
    });
    training.finish_and_clear();
    let json = serde_json::to_string(&weights).context("cannot serialise the weights")?;
    write_atomically(out, json.as_bytes())?;
    let names: Vec<&str> = fonts.iter().map(|f| f.name.as_str()).collect();
    eprintln!(
        "{}: encoder {} (seed {seed}, {steps} steps, {patches} patches, {} real notes from {})",
        out.display(),
        weights.identity(),
        real.len(),
        names.join(", ")
    );
    eprintln!(
        "held-out patches: same patch {:.3}, other patches {:.3} apart, triplet accuracy {:.3}",
        report.positive, report.negative, report.triplet_accuracy
    );
    eprintln!(
        "held-out programs: same program {:.3}, other programs {:.3} apart, triplet accuracy \
         {:.3}; Fuzzy ART at the default vigilance: adjusted Rand index {:.3}, {:.2} prototypes \
         per recording",
        report.real_positive,
        report.real_negative,
        report.real_triplet_accuracy,
        report.real_ari,
        report.real_prototypes_per_recording
    );
    Ok(())
}
