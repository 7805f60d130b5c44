//! A hostile sidechain: NaN, ±Inf, denormals, DC, clipping, noise and silence.

use crate::Outcome;
use crate::memory::ensure_memory_sane;
use crate::play::{Feed, SR, feed, recording, render};
use crate::random::noise;
use anyhow::{Context, Result, ensure};
use dar_ddsp_tests::project::{memory_of, memory_v1_project};
use dar_ddsp_tests::{ClapHost, NoteEv, load_plugin, param};
use rand_xorshift::XorShiftRng;

pub fn hostile(rng: &mut XorShiftRng) -> Outcome {
    let mut host = load_plugin()?;
    host.load_state(&memory_v1_project()?)?;
    // The project was saved in Play mode: listen again.
    let mode = param(&host.params()?, "Mode")?.id;
    host.set_param(mode, 0.0)?;
    // Offline, the learner has finished with each block before the next: what it learned is
    // settled when the state is read.
    host.set_offline(true)?;
    host.activate(SR, 1_024)?;
    host.render(&[], 4_096, 1_024)?;
    let before = memory_of(&host.save_state()?)?;
    let n_before = ensure_memory_sane(&before)?;
    let secs = |s: f64| (s * SR) as usize;
    let play = |host: &mut ClapHost, signal: &[f32], what: &str| -> Result<()> {
        let f = Feed {
            signal,
            len: signal.len(),
            block: 1_024,
            key: 55,
            every: 20 * 1_024,
            in_place: false,
        };
        feed(host, f).with_context(|| what.to_string()).map(|_| ())
    };
    let mut nonfinite: Vec<(&str, Vec<f32>)> = vec![
        ("NaN", vec![f32::NAN; secs(3.0)]),
        ("+Inf", vec![f32::INFINITY; secs(3.0)]),
        ("-Inf", vec![f32::NEG_INFINITY; secs(3.0)]),
    ];
    let mixed: Vec<f32> = (0..secs(3.0))
        .map(|i| [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][i % 3])
        .collect();
    nonfinite.push(("NaN/±Inf mixed", mixed));
    for (what, signal) in &nonfinite {
        play(&mut host, signal, what)?;
        let after = memory_of(&host.save_state()?)?;
        ensure!(
            after == before,
            "{what} in the sidechain changed the memory"
        );
    }
    // Non-finite samples inside a real note: the note is learned from its finite samples only.
    let mut organ = recording("church_organ.wav")?;
    organ.truncate(secs(4.0));
    for i in (0..organ.len()).step_by(97) {
        organ[i] = if i % 2 == 0 { f32::NAN } else { f32::INFINITY };
    }
    play(&mut host, &organ, "organ with NaN/Inf")?;
    let learned = memory_of(&host.save_state()?)?;
    ensure!(
        learned != before,
        "the learner learned nothing from the organ note"
    );
    ensure_memory_sane(&learned)?;
    let finite: Vec<(&str, Vec<f32>)> = vec![
        (
            "denormals",
            (0..secs(3.0))
                .map(|i| if i % 2 == 0 { 1e-40 } else { -1e-42 })
                .collect(),
        ),
        ("DC 0.5", vec![0.5; secs(3.0)]),
        (
            "full-scale clipping",
            (0..secs(3.0))
                .map(|i| if (i / 55) % 2 == 0 { 1.0 } else { -1.0 })
                .collect(),
        ),
        (
            "beyond full scale",
            (0..secs(2.0))
                .map(|i| if (i / 80) % 2 == 0 { 8.0 } else { -8.0 })
                .collect(),
        ),
        ("white noise", noise(rng, secs(3.0), 1.0)),
        ("30 s of silence", vec![0.0; secs(30.0)]),
    ];
    for (what, signal) in &finite {
        play(&mut host, signal, what)?;
    }
    let state = host.save_state()?;
    let after = memory_of(&state)?;
    let n_after = ensure_memory_sane(&after)?;
    let mut fresh = load_plugin()?;
    fresh.load_state(&state)?;
    fresh.activate(SR, 1_024)?;
    render(&mut fresh, &[NoteEv::on(0, 60, 0.8)], 9_600, 1_024)?;
    Ok(format!(
        "NaN, ±Inf, mixed: output clean, memory unchanged ({n_before} prototypes); then an organ \
         note with every 97th sample non-finite, denormals, DC, clipping, ±8 full scale, noise, \
         30 s silence: clean, memory finite with weights in 0–1 ({n_after} prototypes), reloads"
    ))
}
