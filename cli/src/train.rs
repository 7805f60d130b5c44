//! `dar-ddsp train-encoder`: remakes the encoder's shipped weights from a seed.

use anyhow::{Context, Result, bail};
use dar_ddsp_core::encoder::train::{TrainConfig, render_set, train};
use dar_ddsp_core::preset::write_atomically;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

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
pub fn train_encoder(out: &Path, seed: u64, steps: usize, patches: usize) -> Result<()> {
    if !(10..=1_000_000).contains(&steps) {
        bail!("--steps must be 10–1000000");
    }
    if !(20..=1_000_000).contains(&patches) {
        bail!("--patches must be 20–1000000");
    }
    let config = TrainConfig {
        seed,
        steps,
        patches,
        ..TrainConfig::default()
    };
    let rendering = bar(patches as u64, "render");
    let set = render_set(&config, |p| rendering.set_position(p as u64));
    rendering.finish_and_clear();
    let training = bar(steps as u64, "train");
    let (weights, report) = train(&config, &set, |r| {
        training.set_position(r.step as u64);
        training.set_message(format!(
            "loss {:.4}  held-out: same {:.3} other {:.3} triplets {:.3}",
            r.loss, r.positive, r.negative, r.triplet_accuracy
        ));
    });
    training.finish_and_clear();
    let json = serde_json::to_string(&weights).context("cannot serialise the weights")?;
    write_atomically(out, json.as_bytes())?;
    eprintln!(
        "{}: encoder {} (seed {seed}, {steps} steps, {patches} patches); held-out: same patch \
         {:.3}, other patches {:.3} apart, triplet accuracy {:.3}",
        out.display(),
        weights.identity(),
        report.positive,
        report.negative,
        report.triplet_accuracy
    );
    Ok(())
}
