//! Training E: a contrastive objective on plant renders and real sampled instruments
//! (docs/ARCHITECTURE.md §5).
//!
//! A class is one plant patch θ (random over the knob box, or an archetype nudged), rendered as
//! held notes at several random pitches and velocities, or one General MIDI program of the training
//! SoundFonts ([`soundfont`]) at notes across its range, velocities and fonts. Plant renders are
//! kept so the coupling still sees its own output. In a batch of distinct classes (half plant, half
//! real when both are there), two renders of one class are a positive pair and renders of the other
//! classes are negatives. With D the mean absolute difference per dimension (the Fuzzy ART match of
//! a one-point category is exactly 1 − D), the loss is mean D(a_i, p_i)² + mean_{i≠j} max(0, m −
//! D(a_i, p_j))²: one timbre at any note collapses to one point, and different timbres sit at least
//! m apart, well outside the vigilance test of the default ρ = 0.8 (D ≤ 0.2). Training is
//! single-threaded and seeded, so the same command gives the same weights.

pub mod soundfont;

use crate::learning::continual::adjusted_rand_index;
use crate::memory::art::{ArtConfig, Decision, Memory};
use crate::memory::encoder::front::{Front, INPUT};
use crate::memory::encoder::mlp::{self, Dense, Trace};
use crate::memory::encoder::{EMBED_DIM, Embedding, EncoderWeights, FORMAT, HIDDEN, VERSION};
use crate::num::Rng;
use crate::num::units::note_to_hz;
use crate::plant::archetypes::{archetypes, random_theta_with_sections};
use crate::plant::render::{NoteEvent, render_performance};
use crate::plant::{SPECS, Theta, default_theta};
use soundfont::{RealConfig, RealView};

/// General MIDI programs held out of training, for validation: one per family of eight.
pub fn held_out(program: u8) -> bool {
    program % 8 == 6
}

/// Settings of a training run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Patches rendered (the last tenth is held out for validation).
    pub patches: usize,
    /// Renders (pitch, velocity, offset) per patch.
    pub views: usize,
    /// Adam steps.
    pub steps: usize,
    /// Patches per batch.
    pub batch: usize,
    /// Peak learning rate (cosine decay to a tenth).
    pub learning_rate: f32,
    /// Margin m between different timbres, mean absolute difference per dimension.
    pub margin: f32,
    /// Sample rate of the renders, Hz.
    pub sample_rate: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 3,
            patches: 3_000,
            views: 4,
            steps: 4_000,
            batch: 64,
            learning_rate: 2e-3,
            margin: 0.4,
            sample_rate: 48_000.0,
        }
    }
}

/// What training reports as it goes and at the end.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrainReport {
    /// Step reached.
    pub step: usize,
    /// Training loss of the last batch.
    pub loss: f32,
    /// Held-out: mean D between two renders of one patch.
    pub positive: f32,
    /// Held-out: mean D between renders of different patches.
    pub negative: f32,
    /// Held-out: share of (anchor, other patch) pairs where the anchor's own other render is
    /// nearer.
    pub triplet_accuracy: f32,
    /// Held-out programs ([`held_out`]): mean D between two notes of one program.
    pub real_positive: f32,
    /// Held-out programs: mean D between notes of different programs.
    pub real_negative: f32,
    /// Held-out programs: triplet accuracy as for patches.
    pub real_triplet_accuracy: f32,
    /// Held-out programs, each font's program one "recording" of its notes at the middle
    /// velocity in pitch order, presented to a fresh Fuzzy ART at the default vigilance:
    /// adjusted Rand index of the prototypes against the recordings.
    pub real_ari: f32,
    /// Same run: prototypes per recording.
    pub real_prototypes_per_recording: f32,
}

/// A training patch: uniform over the first version's knobs with each section on one time in
/// three, or (one in four) an archetype nudged by up to ±15 % of each knob's travel, so musical
/// regions are well covered.
fn patch(rng: &mut Rng, archetypes: &[Theta<f32>]) -> Theta<f32> {
    if rng.uniform() < 0.25 && !archetypes.is_empty() {
        let a = archetypes[rng.below(archetypes.len())];
        std::array::from_fn(|k| {
            let z = SPECS[k].normalize(a[k]) + 0.3 * (rng.uniform() - 0.5);
            SPECS[k].denormalize(z.clamp(0.0, 1.0))
        })
    } else {
        random_theta_with_sections(rng, 1.0 / 3.0)
    }
}

/// A fixed "body": peaking filters (RBJ cookbook) at random centres, gains and widths, the
/// same for every note of a patch. Real instruments have resonances that do not move with the
/// note (a pipe's mouth, a bore, a body); the plant's filter mostly does, so without these
/// the encoder would learn that a moving spectral envelope is one timbre and a fixed one is not.
struct Body {
    /// Per section: `[b0, b1, b2, a1, a2]`, normalised.
    sections: Vec<[f32; 5]>,
}

impl Body {
    fn random(rng: &mut Rng, sample_rate: f32) -> Self {
        let count = rng.below(4);
        let sections = (0..count)
            .map(|_| {
                let f = 200.0 * 25f32.powf(rng.uniform());
                let gain_db = 24.0 * (rng.uniform() - 0.5);
                let q = 0.7 + 2.3 * rng.uniform();
                let a = 10f32.powf(gain_db / 40.0);
                let w = std::f32::consts::TAU * f.min(0.45 * sample_rate) / sample_rate;
                let alpha = w.sin() / (2.0 * q);
                let a0 = 1.0 + alpha / a;
                [
                    (1.0 + alpha * a) / a0,
                    -2.0 * w.cos() / a0,
                    (1.0 - alpha * a) / a0,
                    -2.0 * w.cos() / a0,
                    (1.0 - alpha / a) / a0,
                ]
            })
            .collect();
        Self { sections }
    }

    fn apply(&self, x: &mut [f32]) {
        for c in &self.sections {
            let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
            for v in x.iter_mut() {
                let y = c[0] * *v + c[1] * x1 + c[2] * x2 - c[3] * y1 - c[4] * y2;
                (x2, x1, y2, y1) = (x1, *v, y1, y);
                *v = y;
            }
        }
    }
}

/// Renders the training set: `patches × views` feature vectors (`None` where the render was
/// silent). Allocates.
pub fn render_set(
    config: &TrainConfig,
    mut progress: impl FnMut(usize),
) -> Vec<Option<[f32; INPUT]>> {
    let mut rng = Rng::new(config.seed);
    let arch = archetypes();
    let sr = config.sample_rate;
    let mut front = Front::new(sr);
    let jitter = (0.05 * sr) as usize;
    let len = front.context_len() + jitter;
    let mut set = Vec::with_capacity(config.patches * config.views);
    for p in 0..config.patches {
        let theta = patch(&mut rng, &arch);
        let body = Body::random(&mut rng, sr);
        for _ in 0..config.views {
            let note = 36.0 + 48.0 * rng.uniform();
            let f0_hz = note_to_hz(note);
            let event = NoteEvent {
                onset: 0,
                release: len,
                f0_hz,
                velocity: 0.5 + 0.5 * rng.uniform(),
            };
            let mut audio = render_performance(&theta, &[event], sr, len);
            body.apply(&mut audio);
            let start = rng.below(jitter);
            let mut f = [0.0; INPUT];
            set.push(front.compute(&audio[start..], f0_hz, &mut f).map(|_| f));
        }
        progress(p + 1);
    }
    set
}

/// Mean absolute difference per dimension.
fn distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / EMBED_DIM as f32
}

/// Trains the encoder on rendered plant patches (`set`, `views` renders per patch) and real
/// instrument notes (`real`, classes by program; programs that [`held_out`] names only
/// validate). `progress` sees every 100th step. Allocates.
pub fn train(
    config: &TrainConfig,
    set: &[Option<[f32; INPUT]>],
    real: &[RealView],
    mut progress: impl FnMut(&TrainReport),
) -> (EncoderWeights, TrainReport) {
    let views = config.views.max(2);
    let mut rng = Rng::from_state(config.seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
    // Patches with at least two audible renders, split train / held out.
    let usable: Vec<Vec<[f32; INPUT]>> = set
        .chunks(views)
        .map(|c| c.iter().flatten().copied().collect::<Vec<_>>())
        .filter(|v| v.len() >= 2)
        .collect();
    let held = (usable.len() / 10).max(2).min(usable.len() / 2);
    let (valid, plant) = usable.split_at(held);
    // Real programs with at least two renders, split by [`held_out`].
    let program_views = |keep: fn(u8) -> bool| -> Vec<Vec<[f32; INPUT]>> {
        (0..128u8)
            .filter(|&p| keep(p))
            .map(|p| {
                real.iter()
                    .filter(|v| v.program == p)
                    .map(|v| v.features)
                    .collect::<Vec<_>>()
            })
            .filter(|v| v.len() >= 2)
            .collect()
    };
    let programs = program_views(|p| !held_out(p));

    // Input normalisation from the training features.
    let all = || plant.iter().chain(&programs).flatten();
    let count = all().count().max(1) as f32;
    let mut mean = vec![0.0f32; INPUT];
    for f in all() {
        mean.iter_mut().zip(f).for_each(|(m, v)| *m += v / count);
    }
    let mut var = vec![0.0f32; INPUT];
    for f in all() {
        var.iter_mut()
            .zip(f)
            .zip(&mean)
            .for_each(|((s, v), m)| *s += (v - m).powi(2) / count);
    }
    let scale: Vec<f32> = var.iter().map(|v| 1.0 / (v.sqrt() + 1e-3)).collect();

    let mut uniform = || rng.uniform();
    let layers = vec![
        Dense::init(INPUT, HIDDEN, &mut uniform),
        Dense::init(HIDDEN, HIDDEN, &mut uniform),
        Dense::init(HIDDEN, EMBED_DIM, &mut uniform),
    ];
    let mut weights = EncoderWeights {
        format: FORMAT.into(),
        version: VERSION,
        seed: config.seed,
        steps: config.steps,
        input_mean: mean,
        input_scale: scale,
        layers,
    };
    let zeros = |w: &EncoderWeights| -> Vec<Dense> {
        w.layers
            .iter()
            .map(|l| Dense {
                w: vec![0.0; l.w.len()],
                b: vec![0.0; l.b.len()],
                ..*l
            })
            .collect()
    };
    let (mut grads, mut m1, mut m2) = (zeros(&weights), zeros(&weights), zeros(&weights));
    let classes = plant.len() + programs.len();
    let batch = config.batch.clamp(2, classes.max(2));
    // Real programs take half of each batch when there are enough of them.
    let real_share = if programs.len() >= 2 {
        (batch / 2).min(programs.len())
    } else {
        0
    };
    let mut traces: Vec<Trace> = (0..2 * batch)
        .map(|_| Trace::new(INPUT, &weights.layers))
        .collect();
    let mut d_out = vec![[0.0f32; EMBED_DIM]; 2 * batch];
    let mut chosen: Vec<usize> = Vec::with_capacity(batch);
    let mut report = TrainReport::default();

    for step in 0..config.steps {
        if classes < 2 || plant.len() < batch - real_share {
            break;
        }
        // Distinct classes: `real_share` programs, the rest plant patches (indices past
        // `plant.len()` are programs).
        chosen.clear();
        while chosen.len() < batch {
            let c = if chosen.len() < real_share {
                plant.len() + rng.below(programs.len())
            } else {
                rng.below(plant.len())
            };
            if !chosen.contains(&c) {
                chosen.push(c);
            }
        }
        // Forward: anchors in traces[0..batch], positives in traces[batch..].
        for (i, &c) in chosen.iter().enumerate() {
            let renders = if c < plant.len() {
                &plant[c]
            } else {
                &programs[c - plant.len()]
            };
            let a = rng.below(renders.len());
            let p = (a + 1 + rng.below(renders.len() - 1)) % renders.len();
            for (slot, f) in [(i, &renders[a]), (batch + i, &renders[p])] {
                normalise(&weights, f, &mut traces[slot].input);
                mlp::forward(&weights.layers, &mut traces[slot]);
            }
        }
        let out = |t: &Trace| t.layers.last().cloned().unwrap_or_default();
        let embeds: Vec<Vec<f32>> = traces.iter().map(out).collect();
        // Loss and ∂loss/∂embedding.
        d_out.iter_mut().for_each(|d| d.fill(0.0));
        let mut loss = 0.0;
        let (pos_w, neg_w) = (1.0 / batch as f32, 1.0 / (batch * (batch - 1)) as f32);
        for i in 0..batch {
            for j in 0..batch {
                let (a, b) = (&embeds[i], &embeds[batch + j]);
                let d = distance(a, b);
                let (value, slope) = if i == j {
                    (pos_w * d * d, pos_w * 2.0 * d)
                } else if d < config.margin {
                    let gap = config.margin - d;
                    (neg_w * gap * gap, -neg_w * 2.0 * gap)
                } else {
                    continue;
                };
                loss += value;
                for k in 0..EMBED_DIM {
                    let s = slope * sign(a[k] - b[k]) / EMBED_DIM as f32;
                    d_out[i][k] += s;
                    d_out[batch + j][k] -= s;
                }
            }
        }
        // Backward and an Adam step with cosine decay.
        for g in grads.iter_mut() {
            g.w.fill(0.0);
            g.b.fill(0.0);
        }
        for (t, d) in traces.iter_mut().zip(&d_out) {
            mlp::backward(&weights.layers, t, d, Some(&mut grads), None);
        }
        let progress_share = step as f32 / config.steps.max(1) as f32;
        let lr = config.learning_rate
            * (0.1 + 0.9 * 0.5 * (1.0 + (std::f32::consts::PI * progress_share).cos()));
        adam(&mut weights.layers, &grads, &mut m1, &mut m2, lr, step + 1);
        report.step = step + 1;
        report.loss = loss;
        if (step + 1) % 100 == 0 || step + 1 == config.steps {
            validate(&weights, valid, &mut report);
            progress(&report);
        }
    }
    validate(&weights, valid, &mut report);
    validate_real(&weights, real, &mut report);
    (weights, report)
}

fn normalise(w: &EncoderWeights, f: &[f32; INPUT], input: &mut [f32]) {
    for (((x, &v), &m), &s) in input
        .iter_mut()
        .zip(f)
        .zip(&w.input_mean)
        .zip(&w.input_scale)
    {
        *x = (v - m) * s;
    }
}

fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// The encoder's embedding of one feature vector. Allocates.
fn embed_with(w: &EncoderWeights, trace: &mut Trace, f: &[f32; INPUT]) -> Vec<f32> {
    normalise(w, f, &mut trace.input);
    mlp::forward(&w.layers, trace);
    trace.layers.last().cloned().unwrap_or_default()
}

/// Mean positive and negative distances and triplet accuracy over pairs (two renders of one
/// class each).
fn pair_stats(pairs: &[(Vec<f32>, Vec<f32>)]) -> (f32, f32, f32) {
    let n = pairs.len();
    let (mut pos, mut neg, mut right, mut total) = (0.0, 0.0, 0usize, 0usize);
    for i in 0..n {
        let dp = distance(&pairs[i].0, &pairs[i].1);
        pos += dp / n as f32;
        for (j, other) in pairs.iter().enumerate() {
            if i != j {
                let dn = distance(&pairs[i].0, &other.1);
                neg += dn / (n * (n - 1)) as f32;
                right += usize::from(dp < dn);
                total += 1;
            }
        }
    }
    (pos, neg, right as f32 / total.max(1) as f32)
}

/// Held-out patches: mean positive and negative distances and triplet accuracy (first two
/// renders of each patch) into `report`.
fn validate(w: &EncoderWeights, valid: &[Vec<[f32; INPUT]>], report: &mut TrainReport) {
    let mut trace = Trace::new(INPUT, &w.layers);
    let pairs: Vec<(Vec<f32>, Vec<f32>)> = valid
        .iter()
        .map(|v| {
            (
                embed_with(w, &mut trace, &v[0]),
                embed_with(w, &mut trace, &v[1]),
            )
        })
        .collect();
    (report.positive, report.negative, report.triplet_accuracy) = pair_stats(&pairs);
}

/// Held-out programs ([`held_out`]): distances, triplets and the Fuzzy ART clustering figures
/// of [`TrainReport`] into `report`.
pub fn validate_real(w: &EncoderWeights, real: &[RealView], report: &mut TrainReport) {
    let mut trace = Trace::new(INPUT, &w.layers);
    // One "recording" per (program, font): its notes at the middle velocity, in pitch order.
    let mut recordings: Vec<Vec<&RealView>> = Vec::new();
    for v in real.iter().filter(|v| held_out(v.program)) {
        match recordings
            .iter_mut()
            .find(|r| r[0].program == v.program && r[0].font == v.font)
        {
            Some(r) => r.push(v),
            None => recordings.push(vec![v]),
        }
    }
    let pairs: Vec<(Vec<f32>, Vec<f32>)> = recordings
        .iter()
        .filter(|r| r.len() >= 2)
        .map(|r| {
            let a = r[0];
            let b = r.iter().find(|v| v.note != a.note).unwrap_or(&r[1]);
            (
                embed_with(w, &mut trace, &a.features),
                embed_with(w, &mut trace, &b.features),
            )
        })
        .collect();
    (
        report.real_positive,
        report.real_negative,
        report.real_triplet_accuracy,
    ) = pair_stats(&pairs);
    let mut memory = Memory::new(ArtConfig::default());
    let (mut labels, mut clusters) = (Vec::new(), Vec::new());
    for r in &recordings {
        let mid = RealConfig::default().velocities[1];
        let mut notes: Vec<&&RealView> = r.iter().filter(|v| v.velocity == mid).collect();
        notes.sort_by_key(|v| v.note);
        for v in notes {
            let e = embed_with(w, &mut trace, &v.features);
            let h: Embedding = std::array::from_fn(|k| e.get(k).copied().unwrap_or(0.5));
            let winner = match memory.present(&h, 0.0, true, |_| default_theta()) {
                Decision::Resonated { index, .. } | Decision::Allocated { index, .. } => index,
                Decision::Unmatched { nearest } => nearest.map_or(usize::MAX, |n| n.0),
            };
            labels.push(r[0].program as usize);
            clusters.push(winner);
        }
    }
    report.real_ari = adjusted_rand_index(&labels, &clusters) as f32;
    report.real_prototypes_per_recording =
        memory.prototypes().len() as f32 / recordings.len().max(1) as f32;
}

/// One Adam step (β₁ 0.9, β₂ 0.999) on every layer.
fn adam(
    layers: &mut [Dense],
    grads: &[Dense],
    m1: &mut [Dense],
    m2: &mut [Dense],
    lr: f32,
    t: usize,
) {
    let (b1, b2) = (0.9f32, 0.999f32);
    let c1 = 1.0 - b1.powi(t as i32);
    let c2 = 1.0 - b2.powi(t as i32);
    for (((l, g), a), v) in layers
        .iter_mut()
        .zip(grads)
        .zip(m1.iter_mut())
        .zip(m2.iter_mut())
    {
        let params = l.w.iter_mut().chain(l.b.iter_mut());
        let gs = g.w.iter().chain(&g.b);
        let firsts = a.w.iter_mut().chain(a.b.iter_mut());
        let seconds = v.w.iter_mut().chain(v.b.iter_mut());
        for (((p, &gk), mk), vk) in params.zip(gs).zip(firsts).zip(seconds) {
            *mk = b1 * *mk + (1.0 - b1) * gk;
            *vk = b2 * *vk + (1.0 - b2) * gk * gk;
            *p -= lr * (*mk / c1) / ((*vk / c2).sqrt() + 1e-8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_is_reproducible_and_separates_patches() {
        let config = TrainConfig {
            patches: 120,
            views: 3,
            steps: 300,
            batch: 24,
            ..TrainConfig::default()
        };
        let set = render_set(&config, |_| {});
        let (a, report) = train(&config, &set, &[], |_| {});
        let (b, _) = train(&config, &set, &[], |_| {});
        assert_eq!(a.identity(), b.identity(), "same seed, same weights");
        assert!(report.triplet_accuracy > 0.7, "{report:?}");
        assert!(report.positive < report.negative, "{report:?}");
    }
}
