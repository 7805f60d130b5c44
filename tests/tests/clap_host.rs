//! The built CLAP bundle in a CLAP host (clack-host): loading, notes, parameters, state, bad
//! input and the sidechain.
//!
//! The bundle is the one [`clap_bundle`] finds.

use anyhow::{Context, Result, ensure};
use dar_ddsp_core::num::rng::Rng;
use dar_ddsp_tests::analysis::{db, ensure_clean, estimate_f0, peak, rms, sine};
use dar_ddsp_tests::project::{memory_of, memory_v1_project, state_blob, state_json};
use dar_ddsp_tests::{ClapHost, NoteEv, PLUGIN_ID, clap_bundle, load_plugin, param};
use std::collections::HashSet;
/// Every test runs at 48 kHz.
const SR: f64 = 48_000.0;
/// Largest block the tests activate for.
const MAX_BLOCK: u32 = 1_024;
/// A typical host block.
const BLOCK: usize = 256;

/// The 36 θ of the plant, then the playing controls, then the plugin's own parameters, as hosts
/// see them.
const PARAM_NAMES: [&str; 54] = [
    "Saw Level",
    "Pulse Level",
    "Pulse Width",
    "Sine Level",
    "Noise Level",
    "Filter Cutoff",
    "Filter Resonance",
    "Filter Env Amount",
    "Key Tracking",
    "Amp Attack",
    "Amp Decay",
    "Amp Sustain",
    "Amp Release",
    "Filter Attack",
    "Filter Decay",
    "Filter Sustain",
    "Filter Release",
    "Output Gain",
    "LFO Rate",
    "Vibrato Depth",
    "Tremolo Depth",
    "LFO Fade-In",
    "Drawbar 2",
    "Drawbar 3",
    "Drawbar 4",
    "Drawbar 5",
    "Drawbar 6",
    "Drawbar 8",
    "Body 1 Freq",
    "Body 1 Gain",
    "Body 1 Q",
    "Body 2 Freq",
    "Body 2 Gain",
    "Body 2 Q",
    "Velocity to Level",
    "Velocity to Brightness",
    "Bend Range",
    "MPE",
    "MPE Bend Range",
    "Mod Wheel Vibrato",
    "Pressure Brightness",
    "Voices",
    "Voice Mode",
    "Glide",
    "Velocity Curve",
    "Sidechain Listen",
    "Mode",
    "Vigilance",
    "Learn Rate",
    "Resonance",
    "Prototype",
    "Morph Target",
    "Morph",
    "Learner Sync",
];

/// A duration in samples at [`SR`].
fn frames(seconds: f64) -> usize {
    (seconds * SR).round() as usize
}

/// A duration in samples at [`SR`], as an event time.
fn at(seconds: f64) -> u32 {
    u32::try_from(frames(seconds)).expect("event times fit in u32")
}

/// Checks that parameter `id` holds the plain value `plain` (in `unit`) within `rel`, using the
/// plugin's own text conversion to bracket it: CLAP values here are knob positions, not Hz.
fn ensure_plain_near(host: &mut ClapHost, id: u32, plain: f64, unit: &str, rel: f64) -> Result<()> {
    let value = host.param_value(id)?;
    let a = host.text_to_value(id, &format!("{} {unit}", plain * (1.0 - rel)))?;
    let b = host.text_to_value(id, &format!("{} {unit}", plain * (1.0 + rel)))?;
    let shown = host.value_to_text(id, value)?;
    ensure!(
        (a.min(b)..=a.max(b)).contains(&value),
        "parameter {id} is {value} ({shown}); {plain} {unit} ±{rel} spans [{a}, {b}]"
    );
    Ok(())
}

/// Deterministic pseudo-random bytes (xorshift64* from `seed`), for a garbage state blob.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::from_state(seed);
    (0..len).map(|_| (rng.next_u64() >> 56) as u8).collect()
}

#[test]
fn an_unknown_plugin_id_lists_the_ids_found() -> Result<()> {
    let Err(err) = ClapHost::load(&clap_bundle()?, "org.example.nothing") else {
        panic!("loading an unknown plugin id must fail");
    };
    let message = format!("{err:#}");
    assert!(message.contains(PLUGIN_ID), "{message}");
    Ok(())
}

#[test]
fn plays_a4_at_440_hz_then_releases_to_silence() -> Result<()> {
    let mut host = load_plugin()?;
    assert_eq!(host.plugin_id().as_deref(), Some(PLUGIN_ID));
    assert!(
        host.note_input_ports() >= 1,
        "an instrument needs a note input"
    );
    // nice-plug's first layout: no main input, a stereo "Sidechain" aux input, stereo main out.
    let inputs = host.input_ports();
    assert_eq!(inputs.len(), 1, "{inputs:?}");
    assert_eq!(
        (
            inputs[0].name.as_str(),
            inputs[0].channels,
            inputs[0].is_main
        ),
        ("Sidechain", 2, false)
    );
    let outputs = host.output_ports();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!((outputs[0].channels, outputs[0].is_main), (2, true));

    host.activate(SR, MAX_BLOCK)?;
    let held = frames(0.5);
    let notes = [NoteEv::on(0, 69, 0.8), NoteEv::off(at(0.5), 69)];
    let out = host.render(&notes, held + frames(3.0), BLOCK)?;
    ensure_clean(&out, "A4 note")?;

    for (c, channel) in out.iter().enumerate() {
        let level = rms(&channel[frames(0.05)..held]);
        assert!(
            level > 1e-3,
            "channel {c} is near silent while the note is held: rms {level}"
        );
        // Skip the attack; the default patch is a saw, so the pitch is the note's.
        let f0 = estimate_f0(&channel[frames(0.1)..held], SR, 100.0, 2_000.0)
            .context("no pitch found in the held note")?;
        assert!(
            (f0 / 440.0 - 1.0).abs() < 0.01,
            "channel {c} plays {f0:.2} Hz, not 440"
        );
        // Release is 0.3 s to −60 dB; 2.75 s later nothing may be left.
        let tail = peak(&channel[channel.len() - frames(0.25)..]);
        assert!(
            tail < 1e-5,
            "channel {c} still sounds 2.75 s after note-off: peak {tail:e}"
        );
    }

    host.deactivate();
    assert!(!host.is_active());
    host.unload();
    Ok(())
}

#[test]
fn parameters_are_listed_read_and_automated() -> Result<()> {
    let mut host = load_plugin()?;
    let params = host.params()?;
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(params.len(), PARAM_NAMES.len(), "{names:?}");
    for name in PARAM_NAMES {
        assert!(names.contains(&name), "no {name:?} among {names:?}");
    }
    let ids: HashSet<u32> = params.iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), params.len(), "parameter ids must be unique");
    for p in &params {
        assert!(
            p.min < p.max && (p.min..=p.max).contains(&p.default),
            "{p:?}"
        );
    }

    let cutoff = param(&params, "Filter Cutoff")?;
    let value = host.param_value(cutoff.id)?;
    assert!(
        (value - cutoff.default).abs() < 1e-9,
        "cutoff {value} is not its default"
    );
    ensure_plain_near(&mut host, cutoff.id, 2_500.0, "Hz", 1e-3)?;

    let listen = param(&params, "Sidechain Listen")?;
    assert_eq!(
        (listen.min, listen.max, listen.default),
        (0.0, 1.0, 0.0),
        "{listen:?}"
    );

    // Output Gain to its minimum through a parameter event, with a note held throughout.
    let gain = param(&params, "Output Gain")?;
    host.activate(SR, MAX_BLOCK)?;
    let before = host.render(&[NoteEv::on(0, 57, 0.8)], frames(1.5), BLOCK)?;
    host.set_param(gain.id, gain.min)?;
    let after = host.render(&[], frames(1.0), BLOCK)?;
    ensure_clean(&before, "default gain")?;
    ensure_clean(&after, "minimum gain")?;
    assert!(
        (host.param_value(gain.id)? - gain.min).abs() < 1e-9,
        "the event did not land"
    );

    // Steady state on both sides: the envelopes have settled by 1 s, and the ~5 ms parameter
    // glide is long over 0.5 s after the change.
    let loud = rms(&before[0][frames(1.0)..]);
    let quiet = rms(&after[0][frames(0.5)..]);
    assert!(quiet > 0.0, "the note must still sound at minimum gain");
    let attenuation = db(loud / quiet);
    assert!(
        attenuation > 30.0,
        "minimum gain is only {attenuation:.1} dB down ({loud} → {quiet})"
    );
    Ok(())
}

#[test]
fn automation_lands_on_its_exact_sample() -> Result<()> {
    // Two identical instances play the same note; one gets Output Gain automated to its minimum
    // at sample 300 of a block. Up to that sample the two must agree bit for bit; from it on
    // they must differ, and 20 ms later the automated one is far quieter.
    let mut a = load_plugin()?;
    let mut b = load_plugin()?;
    let gain = param(&a.params()?, "Output Gain")?.clone();
    for host in [&mut a, &mut b] {
        host.activate(SR, MAX_BLOCK)?;
        host.render(&[NoteEv::on(0, 60, 0.8)], frames(0.5), BLOCK)?;
    }
    const AT: usize = 300;
    b.set_param_at(gain.id, gain.min, AT as u32)?;
    let ra = a.render(&[], 2_048, MAX_BLOCK as usize)?;
    let rb = b.render(&[], 2_048, MAX_BLOCK as usize)?;
    ensure_clean(&rb, "automated")?;
    assert_eq!(
        ra[0][..AT],
        rb[0][..AT],
        "the change leaked before its sample"
    );
    assert_ne!(
        ra[0][AT], rb[0][AT],
        "the change did not start on its sample"
    );
    let late = AT + frames(0.02);
    let drop = db(rms(&ra[0][late..]) / rms(&rb[0][late..]));
    assert!(
        drop > 30.0,
        "20 ms after the change the level fell only {drop:.1} dB"
    );
    Ok(())
}

#[test]
fn state_round_trips_into_a_fresh_instance() -> Result<()> {
    let mut a = load_plugin()?;
    let params = a.params()?;
    let cutoff = param(&params, "Filter Cutoff")?.id;
    let target = a.text_to_value(cutoff, "500 Hz")?;

    // Set while processing: save_state flushes the queued change before saving.
    a.activate(SR, MAX_BLOCK)?;
    a.render(&[], frames(0.1), BLOCK)?;
    a.set_param(cutoff, target)?;
    let state = a.save_state()?;
    assert!(!state.is_empty());
    ensure_plain_near(&mut a, cutoff, 500.0, "Hz", 1e-3)?;

    let mut b = load_plugin()?;
    let rescans = b.callbacks().param_rescans;
    b.load_state(&state)?;
    ensure_plain_near(&mut b, cutoff, 500.0, "Hz", 1e-3)?;
    assert!(
        b.callbacks().param_rescans > rescans,
        "loading state must announce new values"
    );
    assert_eq!(
        b.save_state()?,
        state,
        "a loaded state must save back byte for byte"
    );

    // Reactivate `a` so both synths start from the same θ, without the glide `a` went through.
    a.deactivate();
    a.activate(SR, MAX_BLOCK)?;
    b.activate(SR, MAX_BLOCK)?;
    let notes = [
        NoteEv::on(0, 60, 0.9),
        NoteEv::on(at(0.1), 67, 0.6),
        NoteEv::off(at(0.3), 60),
    ];
    let out_a = a.render(&notes, frames(0.6), BLOCK)?;
    let out_b = b.render(&notes, frames(0.6), BLOCK)?;
    ensure_clean(&out_a, "original instance")?;
    ensure!(rms(&out_a[0]) > 1e-3, "the comparison render is silent");
    for (c, (x, y)) in out_a.iter().zip(&out_b).enumerate() {
        let diff = x
            .iter()
            .zip(y)
            .fold(0.0f32, |m, (p, q)| m.max((p - q).abs()));
        assert!(
            diff < 1e-6,
            "channel {c}: restored instance differs by up to {diff:e}"
        );
    }

    // Bad blobs are refused, leave the state as it was, and the synth keeps playing.
    assert!(b.load_state(&[]).is_err(), "an empty state must be refused");
    assert!(
        b.load_state(&garbage(1_024, 0x9e37_79b9_7f4a_7c15))
            .is_err(),
        "garbage accepted"
    );
    ensure_plain_near(&mut b, cutoff, 500.0, "Hz", 1e-3)?;
    let out = b.render(&[NoteEv::on(0, 64, 0.8)], frames(0.2), BLOCK)?;
    ensure_clean(&out, "after refused states")?;
    ensure!(rms(&out[0]) > 1e-3, "silent after refused states");
    Ok(())
}

#[test]
fn bad_input_never_breaks_the_output() -> Result<()> {
    let mut host = load_plugin()?;
    host.activate(SR, MAX_BLOCK)?;

    let out = host.process(&[], 0, None)?;
    assert!(out[0].is_empty() && out[1].is_empty());

    let out = host.process(&[NoteEv::off(0, 60)], 64, None)?;
    ensure_clean(&out, "note-off without note-on")?;
    assert_eq!(out[0].len(), 64);

    let out = host.process(&[NoteEv::on(0, 64, 1.0)], 1, None)?;
    ensure_clean(&out, "one-sample block")?;
    assert_eq!(out[0].len(), 1);

    // A key out of MIDI's range is ignored, not played and not a crash.
    let out = host.process(&[NoteEv::on(0, 200, 1.0), NoteEv::off(10, 255)], 256, None)?;
    ensure_clean(&out, "out-of-range keys")?;

    // Extreme keys, zero velocity, a retrigger and overlapping offs, at the edges of blocks.
    let notes = [
        NoteEv::on(0, 0, 1.0),
        NoteEv::on(0, 127, 0.0),
        NoteEv::on(1, 72, 0.5),
        NoteEv::on(2, 72, 0.9),
        NoteEv::off(at(0.05), 72),
        NoteEv::off(at(0.05), 72),
        NoteEv::off(at(0.06), 0),
        NoteEv::off(at(0.06), 127),
    ];
    for block in [1, 7, 64, 513] {
        let out = host.render(&notes, frames(0.1), block)?;
        ensure_clean(&out, &format!("blocks of {block}"))?;
        assert_eq!(out[0].len(), frames(0.1));
    }
    Ok(())
}

#[test]
fn sidechain_listen_passes_the_sidechain_through() -> Result<()> {
    let mut host = load_plugin()?;
    let params = host.params()?;
    let listen = param(&params, "Sidechain Listen")?.id;
    host.activate(SR, MAX_BLOCK)?;

    let len = frames(0.25);
    let tone = sine(1_000.0, 0.5, SR, len);
    let sidechain = [tone.as_slice(), tone.as_slice()];

    let off = host.render_with_sidechain(&[], len, BLOCK, Some(&sidechain[..]))?;
    ensure_clean(&off, "listen off")?;
    for (c, channel) in off.iter().enumerate() {
        let p = peak(channel);
        assert!(
            p < 1e-6,
            "channel {c}: listen is off and no note plays, yet peak is {p:e}"
        );
    }

    host.set_param(listen, 1.0)?;
    let on = host.render_with_sidechain(&[], len, BLOCK, Some(&sidechain[..]))?;
    ensure_clean(&on, "listen on")?;
    assert!(
        (host.param_value(listen)? - 1.0).abs() < 1e-9,
        "listen did not switch on"
    );
    let expected = 0.5 / 2f64.sqrt();
    for (c, channel) in on.iter().enumerate() {
        let level = rms(channel);
        assert!(
            (level / expected - 1.0).abs() < 0.1,
            "channel {c}: rms {level:.4}, expected the sidechain's {expected:.4}"
        );
    }
    Ok(())
}

/// A project saved by the first plugin build with a memory (state version 1: no embedding
/// size, no sources; `tests/fixtures/clap-state-memory-v1.bin`, saved after learning the
/// fingered bass, switching to Play and turning the cutoff to 1500 Hz) opens in this build with
/// every parameter and prototype, is stored back in this build's version (re-embedded when the
/// fixture's encoder is not this build's), and from then on saves and loads byte for byte.
#[test]
fn a_version_1_project_migrates_then_round_trips_bit_exactly() -> Result<()> {
    let v1 = memory_v1_project()?;
    let old = memory_of(&v1)?;
    ensure!(old["version"] == 1 && old.get("embedding").is_none());
    let old_protos = old["prototypes"].as_array().context("prototypes")?.clone();
    ensure!(!old_protos.is_empty(), "the fixture has no prototypes");

    let mut a = load_plugin()?;
    a.set_offline(true)?;
    a.load_state(&v1)?;
    let params = a.params()?;
    let cutoff = param(&params, "Filter Cutoff")?.id;
    ensure_plain_near(&mut a, cutoff, 1500.0, "Hz", 1e-3)?;
    let mode = param(&params, "Mode")?.id;
    let mode_value = a.param_value(mode)?;
    let mode_text = a.value_to_text(mode, mode_value)?;
    ensure!(mode_text == "Play", "mode is {mode_text:?}, not Play");
    a.activate(SR, MAX_BLOCK)?;
    let notes = [NoteEv::on(0, 40, 0.8), NoteEv::off(at(0.4), 40)];
    let out_a = a.render(&notes, frames(0.8), BLOCK)?;
    ensure_clean(&out_a, "migrated project")?;
    ensure!(rms(&out_a[0]) > 1e-3, "the migrated project is silent");

    let saved = a.save_state()?;
    let new = memory_of(&saved)?;
    ensure!(
        new["version"] == dar_ddsp_core::live::state::STATE_VERSION && new["embedding"] == 16,
        "stored back as {} / {}",
        new["version"],
        new["embedding"]
    );
    // Prototypes only mean something in their encoder's space: learned with another encoder,
    // they are re-embedded from their patches; with this one, kept as they were.
    let same_encoder = old["encoder"] == new["encoder"];
    let new_protos = new["prototypes"].as_array().context("prototypes")?;
    ensure!(new_protos.len() == old_protos.len(), "prototypes lost");
    for (o, n) in old_protos.iter().zip(new_protos) {
        if same_encoder {
            ensure!(
                o["weights"] == n["weights"],
                "prototype {}: weights changed",
                o["name"]
            );
        }
        for key in ["name", "uses", "created", "last_matched", "locked"] {
            ensure!(o[key] == n[key], "prototype {}: {key} changed", o["name"]);
        }
        // θ: every stored knob as it was, and each knob the old version lacked at its default.
        let (o_theta, n_theta) = (&o["theta"], &n["theta"]);
        for (id, value) in n_theta.as_object().context("theta")? {
            match o_theta.get(id) {
                Some(old_value) => {
                    ensure!(old_value == value, "prototype {}: {id} changed", o["name"])
                }
                None => {
                    let (_, spec) =
                        dar_ddsp_core::plant::theta::spec_by_id(id).context("unknown id")?;
                    ensure!(
                        value.as_f64().map(|v| v as f32) == Some(spec.default),
                        "prototype {}: new knob {id} is {value}, not its default",
                        o["name"]
                    );
                }
            }
        }
        let lost = o_theta
            .as_object()
            .context("theta")?
            .keys()
            .find(|k| !n_theta[k].is_number());
        ensure!(lost.is_none(), "prototype {}: {lost:?} lost", o["name"]);
    }

    // Saved → loaded into a fresh instance → saved: the same bytes, and the same sound.
    let mut b = load_plugin()?;
    b.set_offline(true)?;
    b.load_state(&saved)?;
    b.activate(SR, MAX_BLOCK)?;
    let out_b = b.render(&notes, frames(0.8), BLOCK)?;
    ensure!(
        b.save_state()? == saved,
        "a loaded state saved back differently"
    );
    ensure!(out_a == out_b, "the reloaded project plays differently");
    Ok(())
}

/// Hundreds of damaged project states (bytes flipped, cut and duplicated in the blob, or inside
/// the stored memory so the outer state still parses): none crashes the plugin; a state it
/// refuses leaves the saved state exactly as it was; the output stays finite and bounded.
/// A failure names its seed and case.
#[test]
fn damaged_project_states_never_break_the_plugin() -> Result<()> {
    let seed = 0xda7a_0006_u64;
    let mut rng = Rng::from_state(seed);
    // A plain modulo, not `Rng::below`: the cases stay the ones this test has always drawn.
    let mut next = move |n: usize| -> usize { ((rng.next_u64() >> 33) % n.max(1) as u64) as usize };
    let mut host = load_plugin()?;
    host.set_offline(true)?;
    host.load_state(&memory_v1_project()?)?;
    host.activate(SR, MAX_BLOCK)?;
    let notes = [NoteEv::on(0, 45, 0.8), NoteEv::off(at(0.1), 45)];
    host.render(&notes, frames(0.2), BLOCK)?;
    let good = host.save_state()?;
    let good_json = state_json(&good)?;
    let memory = good_json["fields"]["memory"]
        .as_str()
        .context("memory")?
        .to_string();
    let (mut refused, mut taken) = (0, 0);
    for case in 0..200 {
        let blob = if case % 2 == 0 {
            // Damage the blob itself.
            let mut b = good.clone();
            for _ in 0..1 + next(3) {
                let at = next(b.len());
                match next(3) {
                    0 => b[at] ^= 1 << next(8),
                    1 => b.truncate(at),
                    _ => {
                        let n = next(64).min(b.len() - at);
                        b.drain(at..at + n);
                    }
                }
            }
            b
        } else {
            // Damage the memory inside a state that still parses.
            let mut m = memory.clone().into_bytes();
            for _ in 0..1 + next(3) {
                let at = next(m.len());
                match next(3) {
                    0 => m[at] = b"0123456789.-e,[]{}\":"[next(20)],
                    1 => m.truncate(at),
                    _ => {
                        let n = next(32).min(m.len() - at);
                        m.drain(at..at + n);
                    }
                }
            }
            let mut json = good_json.clone();
            json["fields"]["memory"] =
                serde_json::Value::String(String::from_utf8_lossy(&m).into_owned());
            state_blob(&json)?
        };
        let before = host.save_state()?;
        match host.load_state(&blob) {
            Err(_) => {
                refused += 1;
                ensure!(
                    host.save_state()? == before,
                    "seed {seed:#x} case {case}: a refused state changed the saved state"
                );
            }
            Ok(()) => taken += 1,
        }
        let out = host.render(&notes, frames(0.2), BLOCK)?;
        ensure_clean(&out, &format!("seed {seed:#x} case {case}"))?;
        ensure!(
            peak(&out[0]) < 4.0,
            "seed {seed:#x} case {case}: output peaks at {}",
            peak(&out[0])
        );
    }
    println!("200 damaged states: {refused} refused by the plugin, {taken} loaded");
    ensure!(refused > 50, "the damage hardly reached the state reader");
    // The good state still loads, saves back identically and plays.
    host.load_state(&good)?;
    let out = host.render(&notes, frames(0.2), BLOCK)?;
    ensure!(rms(&out[0]) > 1e-3, "silent after the damaged states");
    ensure!(
        host.save_state()? == good,
        "the good state no longer round-trips"
    );
    Ok(())
}

/// Run only as a child of [`an_allocation_in_process_aborts_a_debug_bundle`].
#[test]
#[ignore = "a probe that must abort in a debug bundle; run by the test below"]
fn allocating_process_probe() -> Result<()> {
    let mut host = load_plugin()?;
    host.activate(48_000.0, 64)?;
    host.process(&[NoteEv::on(0, 60, 0.8)], 64, None)?;
    host.unload();
    Ok(())
}

/// `assert_process_allocs` is really on in a debug bundle: with `DAR_DDSP_FAULT=alloc` its
/// `process()` allocates, and the host dies by SIGABRT. A release bundle (version without
/// `+debug`) reads no faults, so there the same probe plays normally.
#[test]
fn an_allocation_in_process_aborts_a_debug_bundle() -> Result<()> {
    use std::os::unix::process::ExitStatusExt;
    let debug = ClapHost::load(&clap_bundle()?, PLUGIN_ID)?
        .descriptor()?
        .version
        .ends_with("+debug");
    let out = std::process::Command::new(std::env::current_exe()?)
        .args([
            "--ignored",
            "--exact",
            "allocating_process_probe",
            "--nocapture",
        ])
        .env("DAR_DDSP_FAULT", "alloc")
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if debug {
        ensure!(
            out.status.signal() == Some(6),
            "a debug bundle allocated in process() and was not stopped: {:?}\n{stderr}",
            out.status
        );
        ensure!(
            stderr.contains("memory allocation of 64 bytes failed"),
            "the host aborted, but not on the allocation guard:\n{stderr}"
        );
        println!("debug bundle: the allocation in process() aborted the host");
    } else {
        ensure!(
            out.status.success(),
            "a release bundle failed the probe: {:?}\n{stderr}",
            out.status
        );
        println!("release bundle: no fault read, the probe played");
    }
    Ok(())
}
