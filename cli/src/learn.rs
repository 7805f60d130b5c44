//! The `learn` and `eval` commands.

use crate::audio::{Recording, read_wav};
use anyhow::{Result, bail};
use dar_ddsp_core::analysis::{Analysis, AnalysisConfig, analyze};
use dar_ddsp_core::distance::spectral_distance;
use dar_ddsp_core::learner::{
    Budget, Objective, ObjectiveConfig, Outcome, SearchConfig, events_of, match_velocities,
    plain_adam, random_search, render_performance, search,
};
use dar_ddsp_core::plant::{Theta, default_theta};
use dar_ddsp_core::preset::{Preset, Prototype};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Spectral distance (dB) at which the match value reaches 0: M = 1 − d / this. With the default
/// ρ = 0.8 a recording within 4 dB of a prototype refines it (other real instruments sit
/// 6–10 dB apart on the eval set). The memory issue replaces this with Fuzzy ART on embeddings.
const MATCH_SCALE_DB: f32 = 20.0;

/// A recording with its analysis, ready to learn from.
pub(crate) struct Source {
    /// Its file name, for the preset and messages.
    pub name: String,
    /// The audio.
    pub rec: Recording,
    /// Its notes.
    pub analysis: Analysis,
}

pub(crate) fn load(path: &Path) -> Result<Source> {
    let rec = read_wav(path)?;
    let analysis = analyze(&rec.samples, &AnalysisConfig::new(rec.sample_rate));
    if analysis.notes.is_empty() {
        bail!(
            "{}: no notes found: the audio is silent or too quiet to learn from",
            path.display()
        );
    }
    if analysis.skipped_non_finite > 0 {
        eprintln!(
            "{}: {} NaN/Inf samples skipped",
            path.display(),
            analysis.skipped_non_finite
        );
    }
    Ok(Source {
        name: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        ),
        rec,
        analysis,
    })
}

/// Spectral distance between a recording and θ playing its notes at its loudness.
pub(crate) fn distance(theta: &Theta<f32>, s: &Source) -> f32 {
    let mut events = events_of(&s.analysis);
    let sr = s.rec.sample_rate;
    match_velocities(theta, &mut events, &s.rec.samples, sr);
    let rendered = render_performance(theta, &events, sr, s.rec.samples.len());
    spectral_distance(&rendered, &s.rec.samples, sr)
}

fn bar(label: &str) -> ProgressBar {
    let bar = ProgressBar::new(1_000);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>14} [{bar:30}] {elapsed:>3} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}

/// Runs the project's search with a progress bar.
fn learn_with_bar(
    objective: &mut Objective,
    starts: &[Theta<f32>],
    budget: Budget,
    seed: u64,
    label: &str,
) -> Outcome {
    let bar = bar(label);
    let config = SearchConfig {
        seed,
        ..SearchConfig::default()
    };
    let out = search(objective, starts, budget, &config, |p| {
        bar.set_position((p.used * 1_000.0) as u64);
        bar.set_message(format!(
            "loss {:.4}  steps {}  runs {}  α {:.3} μ {:.2} σ {:.2}",
            p.best_loss, p.steps, p.alive, p.optimizer.0, p.optimizer.1, p.optimizer.2
        ));
    });
    bar.finish_and_clear();
    out
}

fn check_budget(budget: f32) -> Result<()> {
    if !(budget.is_finite() && budget > 0.0 && budget <= 86_400.0) {
        bail!("--budget-seconds must be between 0 and 86400");
    }
    Ok(())
}

/// The learning budget from the command line: steps when given (reproducible), else seconds.
pub fn budget(seconds: f32, steps: Option<f32>) -> Result<Budget> {
    match steps {
        Some(s) if (1.0..=1e7).contains(&s) => Ok(Budget::steps(s)),
        Some(_) => bail!("--budget-steps must be between 1 and 10000000"),
        None => check_budget(seconds).map(|_| Budget::seconds(seconds)),
    }
}

/// The `learn` command.
pub fn learn(
    wavs: &[PathBuf],
    out: &Path,
    vigilance: f32,
    budget: Budget,
    seed: u64,
) -> Result<()> {
    if !(0.0..=1.0).contains(&vigilance) {
        bail!("--vigilance must be between 0 and 1");
    }
    // Read everything first: a bad file stops the run before minutes of learning.
    let sources: Vec<Source> = wavs.iter().map(|p| load(p)).collect::<Result<_>>()?;
    let mut prototypes: Vec<(Prototype, Vec<usize>)> = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        // Resonance test: the prototype that plays this recording's notes closest to it.
        let matches: Vec<(usize, f32)> = prototypes
            .iter()
            .enumerate()
            .map(|(j, (p, _))| (j, distance(&p.theta, s)))
            .collect();
        let best = matches.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
        let resonates = best.filter(|&(_, d)| 1.0 - d / MATCH_SCALE_DB >= vigilance);
        let (slot, members, starts) = match resonates {
            Some((j, _)) => {
                let mut members = prototypes[j].1.clone();
                members.push(i);
                (Some(j), members, vec![prototypes[j].0.theta])
            }
            None => {
                let mut nearest = matches.clone();
                nearest.sort_by(|a, b| a.1.total_cmp(&b.1));
                let starts = nearest
                    .iter()
                    .map(|&(j, _)| prototypes[j].0.theta)
                    .collect();
                (None, vec![i], starts)
            }
        };
        let parts: Vec<(&[f32], &Analysis)> = members
            .iter()
            .map(|&m| (sources[m].rec.samples.as_slice(), &sources[m].analysis))
            .collect();
        let mut objective = Objective::new(&parts, s.rec.sample_rate, &ObjectiveConfig::default())?;
        let started = Instant::now();
        let outcome = learn_with_bar(&mut objective, &starts, budget, seed, &s.name);
        let d = distance(&outcome.theta, s);
        let d0 = distance(&default_theta(), s);
        let stem = Path::new(&s.name)
            .file_stem()
            .map_or_else(|| s.name.clone(), |n| n.to_string_lossy().into());
        let action = match slot {
            Some(j) => {
                prototypes[j].0.theta = outcome.theta;
                prototypes[j].0.loss = Some(outcome.loss);
                prototypes[j].0.sources.push(s.name.clone());
                prototypes[j].1 = members;
                format!("refined prototype {j} \"{}\"", prototypes[j].0.name)
            }
            None => {
                prototypes.push((
                    Prototype {
                        name: stem,
                        theta: outcome.theta,
                        sources: vec![s.name.clone()],
                        loss: Some(outcome.loss),
                    },
                    members,
                ));
                format!("new prototype {}", prototypes.len() - 1)
            }
        };
        eprintln!(
            "{}: {action}; {:.2} dB from the recording (default patch {:.2} dB); {} steps in {:.1} s",
            s.name,
            d,
            d0,
            outcome.steps,
            started.elapsed().as_secs_f32()
        );
    }
    let preset = Preset {
        vigilance,
        prototypes: prototypes.into_iter().map(|(p, _)| p).collect(),
    };
    preset.save(out)?;
    eprintln!(
        "{}: {} prototype(s)",
        out.display(),
        preset.prototypes.len()
    );
    Ok(())
}

/// The `eval` command: prints a Markdown table.
pub fn eval(wavs: &[PathBuf], budget: Budget, seed: u64) -> Result<()> {
    let wavs = eval_files(wavs)?;
    let per = match (budget.steps, budget.seconds) {
        (Some(n), _) => format!("{n} gradient steps"),
        (None, Some(s)) => format!("{s} s"),
        (None, None) => "no budget".into(),
    };
    println!(
        "Spectral distance in dB (DESIGN.md §8; lower is closer), {per} per method and recording;"
    );
    println!("the learner's own loss for plain Adam and DAR-DDSP; DAR-DDSP's steps and time.");
    println!();
    println!(
        "| recording | default patch | random search | plain Adam | DAR-DDSP | loss Adam / DAR-DDSP | steps | time |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut columns: [Vec<f32>; 4] = Default::default();
    for path in &wavs {
        let s = load(path)?;
        let parts = [(s.rec.samples.as_slice(), &s.analysis)];
        let mut objective = Objective::new(&parts, s.rec.sample_rate, &ObjectiveConfig::default())?;
        let config = SearchConfig {
            seed,
            ..SearchConfig::default()
        };
        let random = random_search(&mut objective, budget, seed);
        let adam = plain_adam(&mut objective, &default_theta(), budget, &config);
        let started = Instant::now();
        let ours = learn_with_bar(&mut objective, &[], budget, seed, &s.name);
        let took = started.elapsed().as_secs_f32();
        let row = [
            distance(&default_theta(), &s),
            distance(&random.theta, &s),
            distance(&adam.theta, &s),
            distance(&ours.theta, &s),
        ];
        for (c, v) in columns.iter_mut().zip(row) {
            c.push(v);
        }
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | **{:.2}** | {:.4} / {:.4} | {} | {took:.1} s |",
            s.name, row[0], row[1], row[2], row[3], adam.loss, ours.loss, ours.steps
        );
    }
    let median = |v: &mut Vec<f32>| {
        v.sort_by(f32::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        }
    };
    let m: Vec<f32> = columns.iter_mut().map(median).collect();
    println!(
        "| **median** | {:.2} | {:.2} | {:.2} | **{:.2}** | | | |",
        m[0], m[1], m[2], m[3]
    );
    Ok(())
}

/// The named WAVs, or every WAV in `../shared/eval/instruments` in name order.
pub(crate) fn eval_files(wavs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let wavs: Vec<PathBuf> = if wavs.is_empty() {
        let dir = Path::new("../shared/eval/instruments");
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| anyhow::anyhow!("{}: {e}; name the WAV files instead", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav")))
            .collect();
        found.sort();
        found
    } else {
        wavs.to_vec()
    };
    if wavs.is_empty() {
        bail!("no WAV files to evaluate");
    }
    Ok(wavs)
}
