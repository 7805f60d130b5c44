use super::front::{CONTEXT_FRAMES, Front, INPUT, MEL_BANDS, REFERENCE_HZ, RELATIVE};
use super::*;
use crate::num::Rng;
use crate::plant::default_theta;
use crate::plant::render::{NoteEvent, render_performance};

/// A harmonic tone with a decaying envelope and a little seeded noise.
fn tone(len: usize, f: f32, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..len)
        .map(|n| {
            let noise = rng.uniform() - 0.5;
            let p = std::f32::consts::TAU * f * n as f32 / 48_000.0;
            let env = (-(n as f32) / 20_000.0).exp();
            env * (0.5 * p.sin() + 0.2 * (2.0 * p).sin() + 0.1 * (5.0 * p).sin()) + 0.01 * noise
        })
        .collect()
}

fn random_weights(seed: u64) -> EncoderWeights {
    let mut generator = Rng::new(seed);
    let mut rng = move || generator.uniform();
    EncoderWeights {
        format: FORMAT.into(),
        version: VERSION,
        seed,
        steps: 0,
        input_mean: vec![0.5; INPUT],
        input_scale: vec![4.0; INPUT],
        layers: vec![
            Dense::init(INPUT, HIDDEN, &mut rng),
            Dense::init(HIDDEN, HIDDEN, &mut rng),
            Dense::init(HIDDEN, EMBED_DIM, &mut rng),
        ],
    }
}

#[test]
fn features_are_in_range_and_silence_has_none() {
    let mut front = Front::new(48_000.0);
    let x = tone(front.context_len(), 220.0, 3);
    let mut f = [0.0; INPUT];
    assert!(front.compute(&x, 220.0, &mut f).is_some());
    assert!(
        f[..INPUT - 1]
            .iter()
            .all(|v| v.is_finite() && (-1e-6..=1.0 + 1e-6).contains(v))
    );
    // The last feature is the pitch, octaves from middle C.
    assert!((f[INPUT - 1] - (220.0 / REFERENCE_HZ).log2()).abs() < 1e-6);
    // Level is not timbre: a copy 20 dB quieter has the same features.
    let quiet: Vec<f32> = x.iter().map(|v| v * 0.1).collect();
    let mut g = [0.0; INPUT];
    front.compute(&quiet, 220.0, &mut g);
    assert!(f.iter().zip(&g).all(|(a, b)| (a - b).abs() < 2e-3));
    assert!(
        front
            .compute(&vec![0.0; front.context_len()], 220.0, &mut g)
            .is_none()
    );
    assert!(front.compute(&x[..100], 220.0, &mut g).is_none());
    // An unknown pitch is read at middle C.
    for unknown in [0.0, f32::NAN, -5.0] {
        front.compute(&x, unknown, &mut g);
        assert_eq!(g[INPUT - 1], 0.0);
    }
    let mut bad = x.clone();
    bad[10] = f32::NAN;
    bad[2_000] = f32::INFINITY;
    if front.compute(&bad, 220.0, &mut g).is_some() {
        assert!(g.iter().all(|v| v.is_finite()));
    }
}

/// ∂h/∂samples through the network, the summary, the moving dB reference, the mel filters and
/// the FFT, against central differences of h itself.
#[test]
fn embedding_gradient_matches_finite_differences() {
    let mut enc = Encoder::new(random_weights(5), 48_000.0);
    let x = tone(enc.context_len(), 330.0, 9);
    let d_h: Embedding = std::array::from_fn(|k| if k % 3 == 0 { 1.0 } else { -0.5 });
    let mut grad = vec![0.0f32; x.len()];
    enc.embed_backward(&x, 330.0, &d_h, &mut grad)
        .expect("not silent");
    let score = |enc: &mut Encoder, x: &[f32]| -> f64 {
        let h = enc.embed(x, 330.0).expect("not silent");
        h.iter()
            .zip(&d_h)
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum()
    };
    let scale = grad.iter().fold(0.0f32, |m, g| m.max(g.abs()));
    assert!(scale > 0.0);
    let (mut checked, mut within) = (0, 0);
    for n in (0..x.len()).step_by(997) {
        let h = 2e-3 * x[n].abs().max(0.05);
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp[n] += h;
        xm[n] -= h;
        let fd = ((score(&mut enc, &xp) - score(&mut enc, &xm)) / (2.0 * h as f64)) as f32;
        checked += 1;
        // f32 features: a tolerance of 2 % of the largest partial or 5 % of this one.
        within += usize::from((grad[n] - fd).abs() <= 0.05 * fd.abs() + 0.02 * scale);
    }
    assert!(
        within * 10 >= checked * 9,
        "{within} of {checked} partials agree"
    );
}

#[test]
fn weights_files_are_validated() {
    let w = random_weights(1);
    let json = serde_json::to_string(&w).expect("serialises");
    let back = EncoderWeights::from_json(&json).expect("valid");
    assert_eq!(back.identity(), w.identity());
    assert_ne!(random_weights(2).identity(), w.identity());
    assert!(EncoderWeights::from_json("{").is_err());
    assert!(EncoderWeights::from_json(&json.replace(FORMAT, "other")).is_err());
    let mut short = w.clone();
    short.layers[2].outputs = 8;
    assert!(short.validate().is_err());
    let mut nan = w;
    nan.layers[0].w[3] = f32::NAN;
    assert!(nan.validate().is_err());
}

/// The shipped encoder on patches it never saw: one patch at two notes an octave and a half
/// apart lands closer than two different patches (measured: 98.8 % of triplets), and inside the
/// default vigilance (measured: every patch).
#[test]
fn shipped_encoder_is_pitch_invariant_on_unseen_patches() {
    let mut enc = Encoder::shipped(48_000.0).expect("shipped weights are valid");
    let len = enc.context_len() + 4_800;
    let mut rng = crate::num::Rng::from_state(0x005e_ed0f_u64);
    let embed = |theta: &crate::plant::Theta<f32>, note: f32, enc: &mut Encoder| {
        let e = NoteEvent {
            onset: 0,
            release: len,
            f0_hz: crate::num::units::note_to_hz(note),
            velocity: 0.8,
        };
        let audio = render_performance(theta, &[e], 48_000.0, len);
        enc.embed(&audio[2_400..], e.f0_hz)
    };
    let patches: Vec<_> = (0..40)
        .map(|_| crate::plant::archetypes::random_theta(&mut rng))
        .chain([default_theta()])
        .collect();
    let pairs: Vec<(Embedding, Embedding)> = patches
        .iter()
        .filter_map(|t| Some((embed(t, 50.0, &mut enc)?, embed(t, 68.0, &mut enc)?)))
        .collect();
    assert!(pairs.len() >= 30);
    let d = |a: &Embedding, b: &Embedding| {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / EMBED_DIM as f32
    };
    let (mut right, mut total, mut inside) = (0, 0, 0);
    for (i, (a, p)) in pairs.iter().enumerate() {
        inside += usize::from(d(a, p) <= 0.2);
        for (j, (_, other)) in pairs.iter().enumerate() {
            if i != j {
                right += usize::from(d(a, p) < d(a, other));
                total += 1;
            }
        }
    }
    let accuracy = right as f32 / total as f32;
    let share_inside = inside as f32 / pairs.len() as f32;
    println!(
        "unseen patches: triplet accuracy {accuracy:.3}, same patch within 0.2: {share_inside:.2}"
    );
    // Seeded patches and the shipped weights: the figures are fixed until the encoder is
    // retrained, which may lose a pair or two.
    assert!(accuracy >= 0.95, "triplet accuracy {accuracy}");
    assert!(
        share_inside >= 0.95,
        "same patch within vigilance: {share_inside}"
    );
}

#[test]
fn constants_are_consistent() {
    assert_eq!(INPUT, 2 * MEL_BANDS + CONTEXT_FRAMES + RELATIVE + 1);
}

/// One harmonic spectrum played an octave apart: read from its fundamental up, the profile
/// moves much less than the absolute band means, which shift with the note.
#[test]
fn pitch_relative_profile_follows_the_fundamental() {
    let mut front = Front::new(48_000.0);
    let len = front.context_len();
    let (mut low, mut high) = ([0.0; INPUT], [0.0; INPUT]);
    front.compute(&tone(len, 220.0, 3), 220.0, &mut low);
    front.compute(&tone(len, 440.0, 3), 440.0, &mut high);
    let at = 2 * MEL_BANDS + CONTEXT_FRAMES;
    let mean_gap = |a: &[f32], b: &[f32]| {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
    };
    // The first four octaves hold the tone's partials (1, 2 and 5).
    let relative = mean_gap(&low[at..at + 16], &high[at..at + 16]);
    let absolute = mean_gap(&low[..MEL_BANDS], &high[..MEL_BANDS]);
    println!("mean change: profile {relative:.3}, band means {absolute:.3}");
    // Measured: 0.079 against 0.140. The bands are wider than the partials' spacing below
    // about 1 kHz, so a partial falls on a band's flank at one pitch and its centre at the
    // other: the profile moves, but about half as much.
    assert!(
        relative < 0.7 * absolute,
        "profile moved by {relative}, band means by {absolute}"
    );
}
