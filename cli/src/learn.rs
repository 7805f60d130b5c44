//! The `learn` and `eval` commands.

use crate::audio::{EXTENSIONS, Recording, read_audio, read_audio_at, write_wav};
use anyhow::{Context, Result, bail};
use dar_ddsp_core::learning::baselines::{plain_adam, random_search};
use dar_ddsp_core::learning::continual::{ContinualConfig, ContinualLearner};
use dar_ddsp_core::learning::keeper::KeeperConfig;
use dar_ddsp_core::learning::objective::{Objective, ObjectiveConfig};
use dar_ddsp_core::learning::optimizer::OptimizerConfig;
use dar_ddsp_core::learning::performance::{events_of, match_velocities};
use dar_ddsp_core::learning::search::{Budget, Outcome, SearchConfig, search};
use dar_ddsp_core::live::MAX_PROTOTYPES;
use dar_ddsp_core::memory::art::ArtConfig;
use dar_ddsp_core::memory::encoder::EncoderWeights;
use dar_ddsp_core::plant::render::render_performance;
use dar_ddsp_core::plant::{SECTION_NAMES, SECTIONS, Theta, default_theta};
use dar_ddsp_core::signal::analysis::{Analysis, AnalysisConfig, analyze};
use dar_ddsp_core::signal::distance::spectral_distance;
use dar_ddsp_core::store::preset::{KEPT_RATE, Preset, Settings};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

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
    source(path, read_audio(path)?)
}

/// [`load`] resampled to `sample_rate` when the file is at another rate. Allocates.
pub(crate) fn load_at(path: &Path, sample_rate: f32) -> Result<Source> {
    source(path, read_audio_at(path, sample_rate)?)
}

/// The files to learn: each path itself, or a folder's audio files in name order.
pub(crate) fn audio_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("{}: cannot list the folder", path.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && is_audio(p))
            .collect();
        if found.is_empty() {
            bail!(
                "{}: no audio files in the folder (it reads {})",
                path.display(),
                EXTENSIONS.join(", ")
            );
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Whether the file's name ends in an audio extension this program reads.
fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// A recording and its notes, `path` naming it in messages.
fn source(path: &Path, rec: Recording) -> Result<Source> {
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

/// θ playing a recording's notes at its loudness. Allocates.
pub(crate) fn perform(theta: &Theta<f32>, s: &Source) -> Vec<f32> {
    let mut events = events_of(&s.analysis);
    let sr = s.rec.sample_rate;
    match_velocities(theta, &mut events, &s.rec.samples, sr);
    render_performance(theta, &events, sr, s.rec.samples.len())
}

/// Spectral distance between a recording and θ playing its notes at its loudness.
pub(crate) fn distance(theta: &Theta<f32>, s: &Source) -> f32 {
    spectral_distance(&perform(theta, s), &s.rec.samples, s.rec.sample_rate)
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
    config: &SearchConfig,
    label: &str,
) -> Outcome {
    let bar = bar(label);
    let out = search(objective, starts, budget, config, |p| {
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

/// Settings of the `learn` command.
pub struct LearnSettings {
    /// Vigilance ρ.
    pub vigilance: f32,
    /// λ_ART.
    pub resonance: f32,
    /// Budget per prototype and recording.
    pub budget: Budget,
    /// Seed of the searches.
    pub seed: u64,
    /// Match-tracking tolerance, dB.
    pub tolerance_db: f32,
}

impl LearnSettings {
    /// The full learner's settings, after checking the ranges.
    pub fn config(&self) -> Result<ContinualConfig> {
        if !(self.vigilance.is_finite() && (0.0..=1.0).contains(&self.vigilance)) {
            bail!("--vigilance must be between 0 and 1");
        }
        if !(self.resonance.is_finite() && (0.0..=100.0).contains(&self.resonance)) {
            bail!("--resonance must be between 0 and 100");
        }
        if !(self.tolerance_db.is_finite() && (0.0..=60.0).contains(&self.tolerance_db)) {
            bail!("--tolerance-db must be between 0 and 60");
        }
        Ok(ContinualConfig {
            art: ArtConfig {
                vigilance: self.vigilance,
                capacity: MAX_PROTOTYPES,
                ..ArtConfig::default()
            },
            budget: self.budget,
            resonance: self.resonance,
            search: SearchConfig {
                seed: self.seed,
                ..SearchConfig::default()
            },
            objective: objective_config(),
            keeper: KeeperConfig {
                tolerance_db: self.tolerance_db,
                ..KeeperConfig::default()
            },
        })
    }
}

/// The `learn` command: the recordings in order through the full learner (encoder, Fuzzy ART,
/// search), as the plugin learns from its sidechain, optionally continuing the memory of
/// preset `from` (with its kept notes, when it carries them); writes the memory as a preset,
/// with the kept notes when `keep_notes`.
pub fn learn(
    wavs: &[PathBuf],
    out: &Path,
    from: Option<&str>,
    keep_notes: bool,
    s: &LearnSettings,
) -> Result<()> {
    let config = s.config()?;
    let weights = EncoderWeights::shipped()?;
    // Read everything first: a bad file stops the run before minutes of learning.
    let start = from
        .map(|f| crate::presets::open(f, &weights))
        .transpose()?;
    // Every recording at the rate presets keep notes at, so each one's notes travel.
    let files = audio_files(wavs)?;
    let sources: Vec<Source> = files
        .iter()
        .map(|p| load_at(p, KEPT_RATE))
        .collect::<Result<_>>()?;
    let mut learner = ContinualLearner::new(config, weights.clone());
    if let Some(start) = &start {
        for p in &start.preset.prototypes {
            learner.memory_mut().insert(p.clone());
        }
        let preset = &start.preset;
        learner.restore_kept(preset.kept.clone(), preset.own_db.clone());
    }
    // One bar over every recording; each one's report is printed above it.
    let progress = ProgressBar::new(sources.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("learning {bar:24} {pos}/{len} {elapsed:>3} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.enable_steady_tick(std::time::Duration::from_millis(200));
    for src in &sources {
        progress.set_message(src.name.clone());
        let started = Instant::now();
        let report = learner.hear(&src.rec.samples, &src.analysis, src.rec.sample_rate, true)?;
        progress.inc(1);
        let stem = Path::new(&src.name)
            .file_stem()
            .map_or_else(|| src.name.clone(), |n| n.to_string_lossy().into());
        // New prototypes are named after the recording that made them.
        for (k, &j) in report.allocated.iter().enumerate() {
            if let Some(p) = learner.memory_mut().prototype_mut(j) {
                p.name = if k == 0 {
                    stem.clone()
                } else {
                    format!("{stem} {}", k + 1)
                };
            }
        }
        let mut won: Vec<usize> = report.notes.iter().flatten().copied().collect();
        won.sort_unstable();
        won.dedup();
        for &j in &won {
            if let Some(p) = learner.memory_mut().prototype_mut(j)
                && !p.sources.contains(&src.name)
            {
                p.sources.push(src.name.clone());
            }
        }
        let names: Vec<String> = won
            .iter()
            .map(|&j| {
                let p = &learner.memory().prototypes()[j];
                let new = if report.allocated.contains(&j) {
                    "new "
                } else {
                    ""
                };
                format!(
                    "{new}{} \"{}\" ({:.2} dB)",
                    j + 1,
                    p.name,
                    distance(&p.theta, src)
                )
            })
            .collect();
        progress.suspend(|| {
            eprintln!(
                "{}: {} notes → {}; {:.1} s",
                src.name,
                report.notes.len(),
                if names.is_empty() {
                    "no prototype (too short or the memory is full)".to_string()
                } else {
                    names.join(", ")
                },
                started.elapsed().as_secs_f32()
            )
        });
        if report.merged > 0 {
            progress.suspend(|| {
                eprintln!(
                    "  {} more new prototypes joined the first: one patch plays all their notes",
                    report.merged
                )
            });
        }
        for j in &report.improved {
            progress.suspend(|| {
                eprintln!(
                    "  improved {}: a patch learned from this recording plays its notes better, so \
                 it was fitted again from there",
                    j + 1
                )
            });
        }
        for (from, to) in &report.splits {
            progress.suspend(|| {
                eprintln!(
                    "  split: the patch of {} could not play both, so these notes went to {}",
                    from + 1,
                    to + 1
                )
            });
        }
    }
    let settings = start
        .as_ref()
        .map_or_else(Settings::default, |l| l.preset.settings);
    let preset = Preset {
        encoder: weights.identity(),
        settings: Settings {
            vigilance: s.vigilance,
            resonance: s.resonance,
            ..settings
        },
        prototypes: learner.memory().prototypes().to_vec(),
        active: (!learner.memory().prototypes().is_empty()).then_some(0),
        kept: Vec::new(),
        own_db: Vec::new(),
    };
    progress.finish_and_clear();
    let preset = if keep_notes {
        preset.carrying(learner.reservoirs().to_vec(), learner.own().to_vec())
    } else {
        preset
    };
    preset.save(out)?;
    eprintln!(
        "{}: {} prototype(s)",
        out.display(),
        preset.prototypes.len()
    );
    Ok(())
}

/// How `eval` runs the searches.
pub struct EvalSearch {
    /// Seed of the searches.
    pub seed: u64,
    /// Plant sections every method leaves at their defaults (an ablation), by name.
    pub without: Vec<String>,
    /// The project's search runs with the optimizer's adaptive rules and dither.
    pub adaptive: bool,
}

/// The `eval` command: each recording played by the default patch and learned by random
/// search, plain Adam and the project's search, as a Markdown table. With `renders`, writes
/// each method's performance there. Allocates.
pub fn eval(
    wavs: &[PathBuf],
    budget: Budget,
    search: &EvalSearch,
    renders: Option<&Path>,
) -> Result<()> {
    let seed = search.seed;
    let mut sections_off = [false; SECTIONS.len()];
    for name in &search.without {
        let Some(i) = SECTION_NAMES.iter().position(|n| n == name) else {
            bail!(
                "--without {name}: no such section; the sections are {}",
                SECTION_NAMES.join(", ")
            );
        };
        sections_off[i] = true;
    }
    let wavs = eval_files(wavs)?;
    if let Some(dir) = renders {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the renders folder", dir.display()))?;
    }
    let per = match (budget.steps, budget.seconds) {
        (Some(n), _) => format!("{n} gradient steps"),
        (None, Some(s)) => format!("{s} s"),
        (None, None) => "no budget".into(),
    };
    println!(
        "Spectral distance in dB (docs/ARCHITECTURE.md §8; lower is closer), {per} per method and recording;"
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
        let mut objective = Objective::new(&parts, s.rec.sample_rate, &objective_config())?;
        let config = SearchConfig {
            seed,
            sections_off,
            ..SearchConfig::default()
        };
        let ours_config = SearchConfig {
            optimizer: if search.adaptive {
                OptimizerConfig::default()
            } else {
                config.optimizer
            },
            ..config.clone()
        };
        let random = random_search(&mut objective, budget, seed);
        let adam = plain_adam(&mut objective, &default_theta(), budget, &config);
        let started = Instant::now();
        let ours = learn_with_bar(&mut objective, &[], budget, &ours_config, &s.name);
        let took = started.elapsed().as_secs_f32();
        let patches = [default_theta(), random.theta, adam.theta, ours.theta];
        let row = patches.map(|theta| distance(&theta, &s));
        if let Some(dir) = renders {
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            for (theta, method) in patches
                .iter()
                .zip(["default", "random", "adam", "dar-ddsp"])
            {
                let out = dir.join(format!("{stem}.{method}.wav"));
                write_wav(&out, &perform(theta, &s), s.rec.sample_rate as u32)?;
            }
        }
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

/// The objective the command line learns with: each step's notes scored on every thread of
/// rayon's pool (`--threads`; the same figures as on one thread, sooner).
fn objective_config() -> ObjectiveConfig {
    ObjectiveConfig {
        threads: rayon::current_num_threads(),
        ..ObjectiveConfig::default()
    }
}
