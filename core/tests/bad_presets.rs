//! Fuzz-style: thousands of seeded mutations of a valid preset (flipped, deleted, duplicated
//! and inserted bytes, truncations, numbers swapped for hostile ones). Every one is either
//! refused with a message naming the file, or accepted with every value in range; none panics.
//! A failure prints its seed and mutation number, which reproduce it.

use dar_ddsp_core::memory::art::{MAX_CAPACITY, Prototype, code};
use dar_ddsp_core::memory::encoder::{EMBED_DIM, EncoderWeights};
use dar_ddsp_core::num::Rng;
use dar_ddsp_core::plant::{SPECS, default_theta};
use dar_ddsp_core::store::preset::{Preset, Settings};

/// Uniform in 0..n (0 for n = 0), from the crate's seeded generator: a plain modulo, not
/// `Rng::below`, so the cases are the ones this test has always drawn.
fn below(rng: &mut Rng, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

const HOSTILE: [&str; 14] = [
    "NaN",
    "-1e999",
    "1e999",
    "-1",
    "1e38",
    "\"x\"",
    "null",
    "[]",
    "{}",
    "true",
    "18446744073709551616",
    "-0",
    "0.5e-45",
    "99999999999",
];

fn valid() -> String {
    let weights = EncoderWeights::shipped().expect("shipped encoder");
    let prototypes = (0..4)
        .map(|i| Prototype {
            weights: code(&[0.1 + 0.2 * i as f32; EMBED_DIM]),
            theta: default_theta(),
            name: format!("timbre {i}"),
            uses: i as u64,
            created: i as f64,
            last_matched: 2.0 * i as f64,
            locked: i == 2,
            loss: 0.1 * i as f32,
            sources: vec![format!("r{i}.wav")],
        })
        .collect();
    Preset {
        encoder: weights.identity(),
        settings: Settings::default(),
        prototypes,
        active: Some(1),
        kept: Vec::new(),
        own_db: Vec::new(),
    }
    .to_json()
}

fn mutate(text: &str, rng: &mut Rng) -> Vec<u8> {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..1 + below(rng, 4) {
        let at = below(rng, b.len());
        match below(rng, 7) {
            0 => b[at] ^= 1 << below(rng, 8),
            1 => {
                let n = below(rng, 40).min(b.len() - at);
                b.drain(at..at + n);
            }
            2 => b.truncate(at),
            3 => {
                let n = below(rng, 60).min(b.len() - at);
                let copy = b[at..at + n].to_vec();
                b.splice(at..at, copy);
            }
            4 => b.insert(at, b"{}[],:\"0e-9"[below(rng, 11)]),
            _ => {
                // Replace the number that starts nearest after `at` with a hostile token.
                if let Some(s) = (at..b.len()).find(|&i| b[i].is_ascii_digit()) {
                    let e = (s..b.len())
                        .find(|&i| !matches!(b[i], b'0'..=b'9' | b'.' | b'e' | b'-' | b'+'))
                        .unwrap_or(b.len());
                    let token = HOSTILE[below(rng, HOSTILE.len())].as_bytes();
                    b.splice(s..e, token.iter().copied());
                }
            }
        }
        if b.is_empty() {
            break;
        }
    }
    b
}

#[test]
fn mutated_presets_are_refused_or_sane_and_never_panic() {
    let weights = EncoderWeights::shipped().expect("shipped encoder");
    let good = valid();
    let seed = 0x5eed_0006;
    let mut rng = Rng::from_state(seed);
    let (mut refused, mut accepted) = (0, 0);
    for case in 0..3_000 {
        let bytes = mutate(&good, &mut rng);
        let Ok(text) = String::from_utf8(bytes) else {
            refused += 1;
            continue;
        };
        let result = std::panic::catch_unwind(|| Preset::from_json(&text, "fuzz.json", &weights));
        let result = result.unwrap_or_else(|_| panic!("seed {seed:#x} case {case}: panicked"));
        match result {
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with("fuzz.json: ") && msg.len() > 12,
                    "seed {seed:#x} case {case}: unclear error {msg:?}"
                );
                refused += 1;
            }
            Ok(loaded) => {
                let p = &loaded.preset;
                assert!(p.prototypes.len() <= MAX_CAPACITY);
                assert!(p.active.is_none_or(|a| a < p.prototypes.len()));
                assert!((0.0..=1.0).contains(&p.settings.vigilance));
                for q in &p.prototypes {
                    assert!(
                        q.weights.iter().all(|w| (0.0..=1.0).contains(w)),
                        "seed {seed:#x} case {case}: weights out of range"
                    );
                    for (v, s) in q.theta.iter().zip(&SPECS) {
                        assert!(
                            v.is_finite() && (s.min..=s.max).contains(v),
                            "seed {seed:#x} case {case}: {} = {v}",
                            s.id
                        );
                    }
                    assert!(q.name.chars().count() <= 64);
                }
                accepted += 1;
            }
        }
    }
    println!("3000 mutated presets: {refused} refused, {accepted} accepted with sane values");
    assert!(refused > 1_000, "the mutations hardly hit anything");
}
