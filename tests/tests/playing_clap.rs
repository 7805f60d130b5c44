//! Playing the built CLAP bundle as a musician's CLAP host does: note ids, note expressions,
//! polyphonic modulation, voice ends told to the host, and the mono, legato and glide modes.
//!
//! The bundle is the one [`dar_ddsp_tests::clap_bundle`] finds; in `cargo xtask test` the debug
//! bundle, whose `assert_process_allocs` proves every one of these paths allocation-free.

use anyhow::{Result, ensure};
use dar_ddsp_tests::analysis::{ensure_clean, estimate_f0, rms};
use dar_ddsp_tests::{Block, ClapHost, Extra, NoteExpressionType, load_plugin, param};

/// Every test runs at 48 kHz.
const SR: f64 = 48_000.0;
/// The host's block.
const BLOCK: usize = 256;

/// A loaded, active plugin whose patch is a pure sine with its filter open (a pitch is then
/// easy to read), with `settings` (parameter name, CLAP value) applied.
fn sine_synth(settings: &[(&str, f64)]) -> Result<ClapHost> {
    let mut host = load_plugin()?;
    let params = host.params()?;
    let mut set = vec![
        ("Saw Level", 0.0),
        ("Sine Level", 1.0),
        ("Filter Cutoff", 1.0),
        ("Filter Env Amount", 0.5),
        ("Amp Sustain", 1.0),
    ];
    set.extend_from_slice(settings);
    for (name, value) in set {
        let id = param(&params, name)?.id;
        host.set_param(id, value)?;
    }
    host.activate(SR, BLOCK as u32)?;
    Ok(host)
}

/// The CLAP value of parameter `name` that reads as `text`.
fn value_of(host: &mut ClapHost, name: &str, text: &str) -> Result<f64> {
    let params = host.params()?;
    let id = param(&params, name)?.id;
    host.text_to_value(id, text)
}

/// Renders `frames` samples in host blocks, delivering `events` at their sample; the stereo
/// output and the note ids the plugin said ended.
fn play(host: &mut ClapHost, frames: usize, events: &[Extra]) -> Result<([Vec<f32>; 2], Vec<u32>)> {
    let mut out = [Vec::with_capacity(frames), Vec::with_capacity(frames)];
    let mut ended = Vec::new();
    let mut start = 0;
    while start < frames {
        let n = BLOCK.min(frames - start);
        let range = start as u32..(start + n) as u32;
        let extra: Vec<Extra> = events
            .iter()
            .filter(|e| range.contains(&e.time()))
            .map(|e| e.at(e.time() - range.start))
            .collect();
        let b = host.process_block(&Block {
            frames: n,
            extra: &extra,
            ..Block::default()
        })?;
        out[0].extend_from_slice(&b.out[0]);
        out[1].extend_from_slice(&b.out[1]);
        ended.extend(b.ended);
        start += n;
    }
    ensure_clean(&out, "the render")?;
    Ok((out, ended))
}

fn note(time: u32, id: u32, key: u16, on: bool) -> Extra {
    Extra::IdNote {
        time,
        id,
        channel: 0,
        key,
        velocity: if on { 0.9 } else { 0.0 },
        on,
    }
}

/// Renders notes 1 (A3) and 2 (E4), or note 2 alone, with or without `change` on note 2 at
/// 50 ms: the output with both notes must move exactly as note 2 alone moves, so note 1 is
/// untouched, and it must move.
fn ensure_only_its_voice(what: &str, change: &[Extra]) -> Result<()> {
    let frames = 14_400;
    let render = |both: bool, changed: bool| -> Result<[Vec<f32>; 2]> {
        let mut host = load_plugin()?;
        host.activate(SR, BLOCK as u32)?;
        let mut events = vec![note(0, 2, 64, true)];
        if both {
            events.push(note(0, 1, 57, true));
        }
        if changed {
            events.extend_from_slice(change);
        }
        let (out, _) = play(&mut host, frames, &events)?;
        host.unload();
        Ok(out)
    };
    let (a, b) = (render(true, false)?, render(true, true)?);
    let (c, d) = (render(false, false)?, render(false, true)?);
    let mut moved = 0.0f32;
    for ch in 0..2 {
        for i in 0..frames {
            let (both, alone) = (b[ch][i] - a[ch][i], d[ch][i] - c[ch][i]);
            moved = moved.max(both.abs());
            ensure!(
                (both - alone).abs() < 1e-4,
                "{what}: the other voice moved too, channel {ch} sample {i}: {both} against {alone}"
            );
        }
    }
    ensure!(moved > 0.01, "{what} changed nothing ({moved})");
    Ok(())
}

#[test]
fn note_expressions_change_only_their_own_voice() -> Result<()> {
    use NoteExpressionType::*;
    for (kind, value) in [
        (Tuning, 1.0),
        (Volume, 0.25),
        (Pan, 0.0),
        (Brightness, 1.0),
        (Pressure, 1.0),
        (Vibrato, 1.0),
    ] {
        let e = Extra::Expression {
            time: 2_400,
            id: 2,
            key: 64,
            kind,
            value,
        };
        ensure_only_its_voice(&format!("{kind:?}"), &[e])?;
    }
    Ok(())
}

#[test]
fn polyphonic_modulation_changes_only_its_own_voice() -> Result<()> {
    let mut host = load_plugin()?;
    let params = host.params()?;
    for name in ["Filter Cutoff", "Saw Level", "Filter Env Amount"] {
        let m = Extra::ParamMod {
            time: 2_400,
            id: 2,
            key: 64,
            param: param(&params, name)?.id,
            amount: -0.4,
        };
        ensure_only_its_voice(name, &[m])?;
    }
    host.unload();
    Ok(())
}

#[test]
fn ended_voices_are_told_to_the_host() -> Result<()> {
    let mut host = load_plugin()?;
    host.activate(SR, BLOCK as u32)?;
    let events = [note(0, 7, 60, true), note(4_800, 7, 60, false)];
    // The default release is 0.3 s (to −60 dB): two seconds is long past it.
    let (_, ended) = play(&mut host, 96_000, &events)?;
    ensure!(ended == vec![7], "voice ends told: {ended:?}");
    host.unload();
    Ok(())
}

/// Pitch of `x` in Hz, between 100 Hz and 2 kHz.
fn pitch(x: &[f32]) -> Result<f64> {
    estimate_f0(x, SR, 100.0, 2_000.0).ok_or_else(|| anyhow::anyhow!("no pitch"))
}

#[test]
fn mono_plays_the_newest_key_and_returns_to_the_one_still_held() -> Result<()> {
    let mut host = sine_synth(&[("Voice Mode", 1.0)])?;
    let events = [
        note(0, 1, 57, true),
        note(9_600, 2, 69, true),
        note(19_200, 2, 69, false),
        note(28_800, 1, 57, false),
    ];
    let (out, _) = play(&mut host, 33_600, &events)?;
    let x = &out[0];
    let (first, second, back) = (
        pitch(&x[4_800..9_600])?,
        pitch(&x[14_400..19_200])?,
        pitch(&x[24_000..28_800])?,
    );
    ensure!((first / 220.0 - 1.0).abs() < 0.01, "first note {first} Hz");
    ensure!(
        (second / 440.0 - 1.0).abs() < 0.01,
        "second note {second} Hz"
    );
    ensure!(
        (back / 220.0 - 1.0).abs() < 0.01,
        "back to the held key: {back} Hz"
    );
    // One voice: the lower note is silent while the upper one plays, so the sine is pure.
    let low = rms(&x[14_400..19_200]);
    ensure!(low > 0.05, "too quiet: {low}");
    host.unload();
    Ok(())
}

#[test]
fn legato_glides_in_the_glide_time() -> Result<()> {
    let mut probe = load_plugin()?;
    let glide = value_of(&mut probe, "Glide", "200 ms")?;
    probe.unload();
    let mut host = sine_synth(&[("Voice Mode", 2.0), ("Glide", glide)])?;
    let events = [note(0, 1, 57, true), note(9_600, 2, 69, true)];
    let (out, _) = play(&mut host, 24_000, &events)?;
    let x = &out[0];
    // Linear in pitch: half-way (311 Hz) 100 ms after the second key, there (440 Hz) at 200 ms.
    let mid = pitch(&x[13_680..15_120])?;
    let end = pitch(&x[20_000..24_000])?;
    ensure!((mid / 311.1 - 1.0).abs() < 0.02, "half-way {mid} Hz");
    ensure!((end / 440.0 - 1.0).abs() < 0.005, "arrived at {end} Hz");
    host.unload();
    Ok(())
}
