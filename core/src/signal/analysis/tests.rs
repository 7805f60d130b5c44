use super::*;
use crate::num::Rng;

const SR: f32 = 48_000.0;

/// Uniform noise in [−1, 1) from the crate's seeded generator.
fn symmetric(rng: &mut Rng) -> f32 {
    2.0 * rng.uniform() - 1.0
}

/// Sum of `harmonics` partials of amplitude 1/k (a band-limited sawtooth), peak ≈ amp.
fn harmonic(f0: f32, harmonics: usize, secs: f32, amp: f32) -> Vec<f32> {
    let n = (secs * SR) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(SR);
            let s: f64 = (1..=harmonics)
                .map(|k| {
                    (2.0 * std::f64::consts::PI * k as f64 * f64::from(f0) * t).sin() / k as f64
                })
                .sum();
            amp * 0.55 * s as f32
        })
        .collect()
}

fn sine(f: f32, secs: f32, amp: f32) -> Vec<f32> {
    harmonic(f, 1, secs, amp / 0.55)
}

fn secs(samples: usize) -> f32 {
    samples as f32 / SR
}

/// f0 of every pitched frame in [t0, t1) s is within `tol` (relative), and at least 90 %
/// of those frames are pitched.
fn assert_steady_pitch(a: &Analysis, f0: f32, t0: f32, t1: f32, tol: f32) {
    let frames: Vec<&Frame> = a
        .frames
        .iter()
        .filter(|f| f.time_s >= t0 && f.time_s < t1)
        .collect();
    let pitched: Vec<f32> = frames.iter().filter_map(|f| f.f0_hz).collect();
    assert!(
        pitched.len() * 10 >= frames.len() * 9,
        "{f0} Hz: only {} of {} frames pitched",
        pitched.len(),
        frames.len()
    );
    for f in pitched {
        assert!((f / f0 - 1.0).abs() < tol, "{f0} Hz measured as {f} Hz");
    }
}

#[test]
fn yin_is_accurate_on_steady_tones() {
    let cfg = AnalysisConfig::new(SR);
    for (f0, harmonics) in [
        (220.0, 100),
        (41.2, 30),
        (110.0, 40),
        (1000.0, 1),
        (1975.5, 1),
    ] {
        let x = harmonic(f0, harmonics, 1.0, 0.5);
        let a = analyze(&x, &cfg);
        assert_steady_pitch(&a, f0, 0.1, 0.9, 0.005);
        assert_eq!(a.notes.len(), 1, "{f0} Hz: {:?}", a.notes);
        assert!((a.notes[0].f0_hz / f0 - 1.0).abs() < 0.005);
    }
}

/// Adds a note to `x`: linear attack, hold, exponential release with time constant `tau`.
fn add_note(x: &mut [f32], f0: f32, onset_s: f32, hold_s: f32, tau_s: f32, amp: f32) {
    let attack = 0.01;
    let tone = harmonic(f0, 6, hold_s + 12.0 * tau_s, amp);
    let start = (onset_s * SR) as usize;
    for (i, v) in tone.iter().enumerate() {
        let t = i as f32 / SR;
        let env = if t < attack {
            t / attack
        } else if t < hold_s {
            1.0
        } else {
            (-(t - hold_s) / tau_s).exp()
        };
        if let Some(o) = x.get_mut(start + i) {
            *o += env * v;
        }
    }
}

#[test]
fn synthetic_notes_have_the_right_onsets_releases_and_pitch() {
    let mut x = vec![0.0f32; (3.4 * SR) as usize];
    let notes = [(196.0, 0.25, 0.5), (329.6, 1.25, 0.6), (523.3, 2.25, 0.4)];
    for &(f0, on, hold) in &notes {
        add_note(&mut x, f0, on, hold, 0.04, 0.4);
    }
    let a = analyze(&x, &AnalysisConfig::new(SR));
    assert_eq!(a.notes.len(), 3, "{:?}", a.notes);
    for (n, &(f0, on, hold)) in a.notes.iter().zip(&notes) {
        assert!(
            (secs(n.onset) - on).abs() < 0.010,
            "onset {} vs {on}",
            secs(n.onset)
        );
        let rel = on + hold;
        assert!(
            (secs(n.release) - rel).abs() < 0.030,
            "release {} vs {rel}",
            secs(n.release)
        );
        assert!((n.f0_hz / f0 - 1.0).abs() < 0.01, "f0 {} vs {f0}", n.f0_hz);
        assert!(n.pitched && n.end > n.release && n.release > n.onset);
        // 0.4 peak, six partials → RMS ≈ −14.4 dBFS → velocity ≈ 10^(−11.4/40) ≈ 0.52.
        assert!(
            n.velocity > 0.4 && n.velocity < 0.8,
            "velocity {}",
            n.velocity
        );
    }
}

#[test]
fn legato_pitch_change_starts_a_note_without_a_level_dip() {
    // 220 Hz then 330 Hz, phase-continuous, constant amplitude.
    let n = (1.2 * SR) as usize;
    let mut phase = 0.0f64;
    let x: Vec<f32> = (0..n)
        .map(|i| {
            let f = if i < n / 2 { 220.0 } else { 330.0 };
            phase += f / f64::from(SR);
            let fade = ((n - i) as f32 / (0.005 * SR)).min(1.0);
            let s: f64 = (1..=5)
                .map(|k| (2.0 * std::f64::consts::PI * k as f64 * phase).sin() / k as f64)
                .sum();
            0.3 * fade * s as f32
        })
        .collect();
    let a = analyze(&x, &AnalysisConfig::new(SR));
    assert_eq!(a.notes.len(), 2, "{:?}", a.notes);
    assert!((a.notes[0].f0_hz / 220.0 - 1.0).abs() < 0.01);
    assert!((a.notes[1].f0_hz / 330.0 - 1.0).abs() < 0.01);
    assert!(
        (secs(a.notes[1].onset) - 0.6).abs() < 0.02,
        "onset {}",
        secs(a.notes[1].onset)
    );
    // Held until the next note: released when it ends.
    assert_eq!(a.notes[0].release, a.notes[0].end);
    assert_eq!(a.notes[0].end, a.notes[1].onset);
}

#[test]
fn a_same_pitch_reattack_over_a_tail_starts_a_note() {
    // Long release (−29 dB left when the next note starts), same pitch again.
    let mut x = vec![0.0f32; (2.6 * SR) as usize];
    add_note(&mut x, 220.0, 0.1, 0.7, 0.15, 0.4);
    add_note(&mut x, 220.0, 1.3, 0.5, 0.05, 0.4);
    let a = analyze(&x, &AnalysisConfig::new(SR));
    assert_eq!(a.notes.len(), 2, "{:?}", a.notes);
    assert!(
        (secs(a.notes[1].onset) - 1.3).abs() < 0.01,
        "onset {}",
        secs(a.notes[1].onset)
    );
    assert!(
        (secs(a.notes[0].release) - 0.8).abs() < 0.03,
        "rel {}",
        secs(a.notes[0].release)
    );
    assert!(
        (secs(a.notes[1].release) - 1.8).abs() < 0.03,
        "rel {}",
        secs(a.notes[1].release)
    );
}

#[test]
fn tremolo_and_vibrato_do_not_split_a_note() {
    // 6 Hz tremolo ±6 dB and 5.5 Hz vibrato ±0.3 semitone on a 2 s, 261.6 Hz tone.
    let n = (2.0 * SR) as usize;
    let mut phase = 0.0f64;
    let x: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(SR);
            let f = 261.6 * (0.3 / 12.0 * (2.0 * std::f64::consts::PI * 5.5 * t).sin()).exp2();
            phase += f / f64::from(SR);
            let trem = 10f64.powf(6.0 / 20.0 * (2.0 * std::f64::consts::PI * 6.0 * t).sin());
            let s: f64 = (1..=5)
                .map(|k| (2.0 * std::f64::consts::PI * k as f64 * phase).sin() / k as f64)
                .sum();
            (0.15 * trem * s) as f32
        })
        .collect();
    let a = analyze(&x, &AnalysisConfig::new(SR));
    assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
    assert!(
        (a.notes[0].midi - hz_to_note(261.6)).abs() < 0.1,
        "{}",
        a.notes[0].midi
    );
}

#[test]
fn bad_input_never_panics_and_is_counted() {
    let cfg = AnalysisConfig::new(SR);
    let a = analyze(&[], &cfg);
    assert!(a.frames.is_empty() && a.notes.is_empty() && a.skipped_non_finite == 0);

    let mut rng = Rng::from_state(0x5eed);
    let short: Vec<f32> = (0..10).map(|_| 0.5 * symmetric(&mut rng)).collect();
    let a = analyze(&short, &cfg);
    assert_eq!(a.frames.len(), 1);
    assert!(a.notes.is_empty(), "10 samples are shorter than a note");

    let a = analyze(&vec![f32::NAN; 48_000], &cfg);
    assert_eq!(a.skipped_non_finite, 48_000);
    assert!(a.notes.is_empty() && a.frames.iter().all(|f| f.rms == 0.0 && f.f0_hz.is_none()));

    let a = analyze(&vec![0.0; 48_000], &cfg);
    assert!(a.notes.is_empty() && a.frames.iter().all(|f| f.f0_hz.is_none()));

    // DC is not sound: the DC blocker removes it exactly.
    let a = analyze(&vec![0.5; 48_000], &cfg);
    assert!(a.notes.is_empty(), "{:?}", a.notes);
    assert!(a.frames.iter().all(|f| f.rms < 1e-6 && f.f0_hz.is_none()));

    // White noise at −10 dBFS RMS for 1 s: one unpitched note spanning it.
    let amp = db_to_amplitude(-10.0) * 3f32.sqrt(); // uniform on [−a, a] has RMS a/√3
    let noise: Vec<f32> = (0..48_000).map(|_| amp * symmetric(&mut rng)).collect();
    let a = analyze(&noise, &cfg);
    assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
    let n = a.notes[0];
    assert!(!n.pitched && n.f0_hz == 0.0 && n.midi == 0.0);
    assert!(n.onset < 480 && n.end > 47_000, "{n:?}");
    let pitched = a.frames.iter().filter(|f| f.f0_hz.is_some()).count();
    assert!(
        pitched * 20 < a.frames.len(),
        "{pitched} noise frames pitched"
    );

    // A tone with NaN and Inf samples sprinkled in: counted, and the pitch still found.
    let mut tone = harmonic(440.0, 4, 1.0, 0.5);
    let mut bad = 0;
    for k in 0..60 {
        let i = (symmetric(&mut rng).abs() * 47_999.0) as usize;
        if tone[i].is_finite() {
            bad += 1;
        }
        tone[i] = if k % 3 == 0 { f32::INFINITY } else { f32::NAN };
    }
    let a = analyze(&tone, &cfg);
    assert_eq!(a.skipped_non_finite, bad);
    assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
    assert!(a.notes[0].pitched && (a.notes[0].f0_hz / 440.0 - 1.0).abs() < 0.005);

    // A tone riding on DC: same pitch, level of the tone alone.
    let tone: Vec<f32> = sine(220.0, 1.0, 0.3).iter().map(|v| v + 0.5).collect();
    let a = analyze(&tone, &cfg);
    assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
    assert!((a.notes[0].f0_hz / 220.0 - 1.0).abs() < 0.005);
    assert!((a.notes[0].peak_rms / (0.3 / 2f32.sqrt()) - 1.0).abs() < 0.05);

    // Huge finite values do not overflow the analysis.
    let a = analyze(&sine(220.0, 0.5, 1e30), &cfg);
    assert_eq!(a.notes.len(), 1);
    assert!((a.notes[0].f0_hz / 220.0 - 1.0).abs() < 0.005);

    // Unusable settings: no panic; an unusable sample rate gives no frames.
    for sr in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        let a = analyze(&short, &AnalysisConfig::new(sr));
        assert!(a.frames.is_empty() && a.notes.is_empty());
    }
    let wild = AnalysisConfig {
        hop: 0,
        frame: 0,
        rms_window: 0,
        fmin: f32::NAN,
        fmax: -5.0,
        yin_threshold: f32::INFINITY,
        gate_db: f32::NAN,
        min_note_s: -1.0,
        ..AnalysisConfig::new(SR)
    };
    let _ = analyze(&sine(220.0, 0.2, 0.5), &wild);
}

#[test]
fn random_input_and_settings_never_panic() {
    let mut rng = Rng::from_state(0xfa11);
    let specials = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MAX,
        -f32::MAX,
        1e-38,
    ];
    for round in 0..150 {
        let len = (symmetric(&mut rng).abs() * 12_000.0) as usize;
        let x: Vec<f32> = (0..len)
            .map(|i| match (symmetric(&mut rng) * 50.0) as i32 {
                0 => specials[i % specials.len()],
                1..=20 => 0.0,
                _ => symmetric(&mut rng) * (round as f32 * 0.1).exp2().min(1e30),
            })
            .collect();
        let sr = [8_000.0, 22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0][round % 6];
        let mut cfg = AnalysisConfig::new(sr);
        if round % 3 == 0 {
            cfg.hop = (symmetric(&mut rng).abs() * 3000.0) as usize;
            cfg.frame = (symmetric(&mut rng).abs() * 5000.0) as usize;
            cfg.rms_window = (symmetric(&mut rng).abs() * 5000.0) as usize;
            cfg.fmin = symmetric(&mut rng) * 500.0;
            cfg.fmax = symmetric(&mut rng) * 30_000.0;
            cfg.min_note_s = symmetric(&mut rng) * 0.1;
        }
        let a = analyze(&x, &cfg);
        let bad = x.iter().filter(|v| !v.is_finite()).count();
        assert_eq!(a.skipped_non_finite, bad);
        for n in &a.notes {
            assert!(
                n.onset <= n.release && n.release <= n.end && n.end <= len,
                "{n:?}"
            );
            assert!(n.velocity.is_finite() && (0.0..=1.0).contains(&n.velocity));
        }
        for w in a.notes.windows(2) {
            assert!(w[0].end <= w[1].onset, "{:?}", w);
        }
    }
}
