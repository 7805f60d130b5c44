//! Live learning through the built CLAP bundle, as a user does it in a DAW: play a recording of
//! an instrument into the sidechain in Learn mode, then play the same notes from MIDI in Play
//! mode; save and reload; two instruments in a row and Follow mode. The host renders offline
//! (CLAP render extension), so the learner keeps pace with the audio and the result does not
//! depend on the machine's speed.

use anyhow::{Context, Result, ensure};
use dar_ddsp_tests::learning::{
    BLOCK, Recording, SR, closest, closest_of, distance, listen, listen_in_blocks, midi_of,
    offline_instance, play, prototype_count, recording, set,
};
use dar_ddsp_tests::project::{memory_of, state_blob, state_json};
use dar_ddsp_tests::{ClapHost, NoteEv, load_plugin};

#[test]
#[ignore = "learns from recordings (minutes in a debug build); `cargo xtask test` runs it on the release bundle"]
fn learns_an_instrument_from_the_sidechain_and_plays_it_from_midi() -> Result<()> {
    let bass = recording("fingered_bass.wav")?;
    let mut default = offline_instance()?;
    let d_default = distance(&play(&mut default, &bass)?, &bass);

    let mut host = offline_instance()?;
    listen(&mut host, &bass)?;
    let protos = prototype_count(&mut host)?;
    ensure!(protos >= 1, "nothing was learned");
    // The same input learns the same memory, however the host cuts it into blocks.
    let mut other = offline_instance()?;
    listen_in_blocks(&mut other, &bass, 173)?;
    ensure!(
        other.save_state()? == host.save_state()?,
        "another block size learned another memory"
    );
    set(&mut host, "Mode", "Play")?;
    set(&mut host, "Prototype", "1")?;
    let out = play(&mut host, &bass)?;
    let d_learned = distance(&out, &bass);
    println!(
        "bass: default patch {d_default:.2} dB, learned {d_learned:.2} dB, {protos} prototypes"
    );
    ensure!(
        d_learned <= 0.6 * d_default,
        "learned {d_learned:.2} dB is not within 0.6 × the default's {d_default:.2} dB"
    );

    // Save, reload into a fresh instance, render again: the same output, bit for bit.
    let state = host.save_state()?;
    let mut again = load_plugin()?;
    again.set_offline(true)?;
    again.load_state(&state)?;
    again.activate(SR, BLOCK as u32)?;
    let replay = play(&mut again, &bass)?;
    let mut first = offline_instance()?;
    first.load_state(&state)?;
    let reference = play(&mut first, &bass)?;
    ensure!(replay == reference, "a reloaded memory plays differently");
    ensure!(
        prototype_count(&mut again)? == protos,
        "the reloaded memory lost prototypes"
    );
    Ok(())
}

#[test]
#[ignore = "learns from recordings (minutes in a debug build); `cargo xtask test` runs it on the release bundle"]
fn two_instruments_get_their_own_prototypes_and_follow_switches() -> Result<()> {
    let bass = recording("fingered_bass.wav")?;
    let organ = recording("church_organ.wav")?;
    let mut host = offline_instance()?;
    listen(&mut host, &bass)?;
    let after_bass = prototype_count(&mut host)?;
    listen(&mut host, &organ)?;
    let after_both = prototype_count(&mut host)?;
    println!("prototypes: {after_bass} after the bass, {after_both} after the organ");
    ensure!(
        after_both > after_bass,
        "the organ got no prototype of its own"
    );

    // Play: each instrument's notes sound closest with a prototype learned from it.
    set(&mut host, "Mode", "Play")?;
    let (bass_best, d_bass) = closest(&mut host, &bass, after_both)?;
    let (organ_best, d_organ) = closest(&mut host, &organ, after_both)?;
    println!(
        "Play: the bass is closest with prototype {bass_best} ({d_bass:.2} dB), the organ with \
         prototype {organ_best} ({d_organ:.2} dB)"
    );
    ensure!(
        bass_best <= after_bass,
        "the bass plays best with a prototype the organ made"
    );
    ensure!(
        organ_best > after_bass,
        "the organ plays best with a prototype the bass made"
    );

    // Follow: the sidechain picks the patch that MIDI plays.
    set(&mut host, "Mode", "Follow")?;
    let follow = |host: &mut ClapHost, guide: &Recording, target: &Recording| -> Result<f32> {
        let sc: [&[f32]; 2] = [&guide.samples, &guide.samples];
        let [left, _] =
            host.render_with_sidechain(&midi_of(target), target.samples.len(), BLOCK, Some(&sc))?;
        Ok(distance(&left, target))
    };
    // The same MIDI (the bass's notes) under each guide: closer to the bass when the bass
    // leads than when the organ does.
    let with_bass = follow(&mut host, &bass, &bass)?;
    let with_organ = follow(&mut host, &organ, &bass)?;
    println!(
        "Follow, bass notes: bass leading {with_bass:.2} dB, organ leading {with_organ:.2} dB"
    );
    ensure!(
        with_bass < with_organ,
        "Follow did not switch the patch with the sidechain"
    );
    Ok(())
}

/// Four instruments stream one after another into the sidechain in Learn mode, as a set of
/// recordings played into a DAW track would. Then, in Play mode, every instrument plays closest
/// with one of its own prototypes (those committed while it played), and the first is not
/// forgotten: its prototype plays it within 0.15 dB of its distance right after it was learned
/// (the keeper's guard holds its kept notes to 0.1 dB).
#[test]
#[ignore = "learns from recordings (minutes in a debug build); `cargo xtask test` runs it on the release bundle"]
fn four_instruments_in_a_row_each_keep_their_own_prototype() -> Result<()> {
    let names = [
        "fingered_bass.wav",
        "flute.wav",
        "trumpet.wav",
        "church_organ.wav",
    ];
    let mut host = offline_instance()?;
    // (name, recording, its own prototypes, the closest of them and its distance right after
    // the recording was learned)
    let mut heard = Vec::new();
    let mut count = 0;
    for name in names {
        let r = recording(name)?;
        set(&mut host, "Mode", "Learn")?;
        listen(&mut host, &r)?;
        let own = count + 1..=prototype_count(&mut host)?;
        count = *own.end();
        ensure!(!own.is_empty(), "{name} got no prototype of its own");
        set(&mut host, "Mode", "Play")?;
        let (best, after) = closest_of(&mut host, &r, own.clone())?;
        println!("{name}: prototypes {own:?}, closest with {best} ({after:.2} dB)");
        heard.push((name, r, own, best, after));
    }
    for (i, (name, r, own, first_best, after)) in heard.iter().enumerate() {
        let (best, d) = closest(&mut host, r, count)?;
        println!(
            "after all four: {name} closest with prototype {best} ({d:.2} dB; {after:.2} dB with \
             {first_best} right after it was learned)"
        );
        ensure!(
            own.contains(&best),
            "{name} plays closest with prototype {best}, which is not one of its own {own:?}"
        );
        if i == 0 {
            set(&mut host, "Prototype", &first_best.to_string())?;
            let end = distance(&play(&mut host, r)?, r);
            // The guard refuses any refinement that plays a kept group more than 0.1 dB worse;
            // the whole recording is measured here, the kept notes there (as `continual.rs`).
            ensure!(
                end <= after + 0.15,
                "{name} was forgotten: {after:.2} dB right after it was learned, {end:.2} dB now"
            );
        }
    }
    Ok(())
}

/// Ten minutes of audio through process() at 64-sample blocks, in real time mode (the audio
/// thread never waits), with 16 voices playing and the learner busy learning the eval
/// recordings from the sidechain (it falls behind in a debug build: the ring then drops and
/// counts). In the debug bundle `assert_process_allocs` aborts on any allocation. Prints the
/// worst and the 99.9th-percentile block times.
#[test]
fn ten_minutes_at_64_sample_blocks_with_the_learner_busy() -> Result<()> {
    const SOAK_BLOCK: usize = 64;
    let names = [
        "fingered_bass.wav",
        "church_organ.wav",
        "flute.wav",
        "saw_lead.wav",
    ];
    let mut sidechain = Vec::new();
    for n in names {
        sidechain.extend(recording(n)?.samples);
    }
    let total = (600.0 * SR) as usize;
    let mut host = load_plugin()?;
    host.activate(SR, SOAK_BLOCK as u32)?;
    let mut times = Vec::with_capacity(total / SOAK_BLOCK + 1);
    let mut block_sc = [vec![0.0f32; SOAK_BLOCK], vec![0.0f32; SOAK_BLOCK]];
    let mut pos = 0;
    let mut peak = 0.0f32;
    while pos < total {
        // 16 voices: a chord of 16 notes, retriggered every 2 s.
        let mut notes = Vec::new();
        let cycle = (2.0 * SR) as usize;
        if pos % cycle < SOAK_BLOCK {
            notes.extend((0..16).map(|k| NoteEv::on(0, 36 + 3 * k as u8, 0.8)));
        } else if (pos + cycle / 2) % cycle < SOAK_BLOCK {
            notes.extend((0..16).map(|k| NoteEv::off(0, 36 + 3 * k as u8)));
        }
        for (i, s) in block_sc[0].iter_mut().enumerate() {
            *s = sidechain[(pos + i) % sidechain.len()];
        }
        let copy = block_sc[0].clone();
        block_sc[1].copy_from_slice(&copy);
        let sc: [&[f32]; 2] = [&block_sc[0], &block_sc[1]];
        let started = std::time::Instant::now();
        let [left, right] = host.process(&notes, SOAK_BLOCK, Some(&sc))?;
        times.push(started.elapsed().as_secs_f64());
        for x in left.iter().chain(&right) {
            ensure!(
                x.is_finite() && (*x == 0.0 || x.abs() >= f32::MIN_POSITIVE),
                "unclean sample {x:e} at {pos}"
            );
            peak = peak.max(x.abs());
        }
        pos += SOAK_BLOCK;
    }
    let protos = prototype_count(&mut host)?;
    times.sort_by(f64::total_cmp);
    let worst = times.last().copied().unwrap_or(0.0);
    let p999 = times[(times.len() as f64 * 0.999) as usize];
    let budget = SOAK_BLOCK as f64 / SR;
    println!(
        "soak: {} blocks, worst {:.3} ms, 99.9th percentile {:.3} ms, median {:.3} ms (budget {:.3} ms), peak {peak:.2}, {protos} prototypes learned",
        times.len(),
        worst * 1e3,
        p999 * 1e3,
        times[times.len() / 2] * 1e3,
        budget * 1e3
    );
    // Sixteen voices of a learned patch add up; the bound is "finite and sane", not a level.
    ensure!(peak < 100.0, "output peak {peak} is out of bounds");
    ensure!(
        protos >= 1,
        "the learner learned nothing while the audio ran"
    );
    host.deactivate();
    Ok(())
}

/// A project whose stored memory this build cannot use (damaged, or from a newer version) still
/// opens: the plugin plays (its knobs), and the stored memory is kept exactly as it was, so
/// saving the project again loses nothing.
#[test]
#[ignore = "learns from recordings (minutes in a debug build); `cargo xtask test` runs it on the release bundle"]
fn a_memory_this_build_cannot_use_is_kept_untouched() -> Result<()> {
    let bass = recording("fingered_bass.wav")?;
    let mut host = offline_instance()?;
    listen(&mut host, &bass)?;
    let state = host.save_state()?;
    let mut json = state_json(&state)?;
    let memory = json["fields"]["memory"]
        .as_str()
        .context("no memory field")?
        .to_string();
    let mut damaged: serde_json::Value = serde_json::from_str(&memory)?;
    damaged["prototypes"][0]["weights"] = serde_json::json!([0.5]);
    let mut newer: serde_json::Value = serde_json::from_str(&memory)?;
    newer["version"] = serde_json::json!(99);
    for (what, bad) in [("damaged", damaged), ("newer", newer)] {
        let text = serde_json::to_string(&bad)?;
        json["fields"]["memory"] = serde_json::Value::String(text);
        let blob = state_blob(&json)?;
        let mut other = load_plugin()?;
        other.set_offline(true)?;
        other.load_state(&blob)?;
        other.activate(SR, BLOCK as u32)?;
        set(&mut other, "Mode", "Play")?;
        let out = play(&mut other, &bass)?;
        ensure!(
            out.iter().any(|x| x.abs() > 1e-3),
            "{what}: the plugin went silent"
        );
        let kept = memory_of(&other.save_state()?)?;
        ensure!(kept == bad, "{what}: the stored memory was changed");
    }
    Ok(())
}

/// In real time, as a player's sidechain arrives block by block at the pace of the audio: the
/// time from each note's key-up to the learner publishing the memory it learned from that note
/// (the patch table the audio thread plays from its next block, published with the memory the
/// host saves). Prints each note's latency and their median: a speed figure, measured on a
/// shared machine, not a bound. Fails if some note's key-up is followed by nothing learned
/// before the stream ends, 3 s after the recording.
#[test]
#[ignore = "runs 15 s in real time; `cargo xtask test` runs it alone on the release bundle"]
fn each_note_is_learned_soon_after_its_end_in_real_time() -> Result<()> {
    let bass = recording("fingered_bass.wav")?;
    let mut host = load_plugin()?;
    host.activate(SR, BLOCK as u32)?;
    let mut sidechain = bass.samples.clone();
    sidechain.resize(bass.samples.len() + 3 * SR as usize, 0.0);
    let block_s = BLOCK as f64 / SR;
    let first_state = host.save_state()?;
    let mut last = first_state.clone();
    // (time, state) at each change of the stored memory; read after the run, off its pace.
    let mut changes = Vec::new();
    let start = std::time::Instant::now();
    for (k, block) in sidechain.chunks_exact(BLOCK).enumerate() {
        host.process(&[], BLOCK, Some(&[block, block]))?;
        let now = (k + 1) as f64 * block_s;
        // The host's pace: the next block waits for its time.
        let ahead = now - start.elapsed().as_secs_f64();
        if ahead > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(ahead));
        }
        let state = host.save_state()?;
        if state != last {
            changes.push((now, state.clone()));
            last = state;
        }
    }
    host.deactivate();
    // What each change was: a refinement's end sets a prototype's loss (or adds a prototype);
    // an interim patch of a refinement under way (§6 of the architecture) moves a θ alone; a
    // note recognised only counts its use.
    let losses_and_thetas = |state: &[u8]| -> Result<(Vec<String>, Vec<String>)> {
        let memory = memory_of(state)?;
        let protos = memory["prototypes"].as_array().cloned().unwrap_or_default();
        Ok((
            protos.iter().map(|p| p["loss"].to_string()).collect(),
            protos.iter().map(|p| p["theta"].to_string()).collect(),
        ))
    };
    let mut before = losses_and_thetas(&first_state)?;
    // (time, a refinement ended, a patch changed)
    let mut kinds = Vec::new();
    for (t, state) in &changes {
        let now = losses_and_thetas(state)?;
        kinds.push((*t, now.0 != before.0, now.1 != before.1));
        before = now;
    }
    let (mut first, mut done) = (Vec::new(), Vec::new());
    for (i, &onset) in bass.onsets.iter().enumerate() {
        let key_up = onset + bass.hold;
        let after = |want: fn(&(f64, bool, bool)) -> bool| {
            kinds
                .iter()
                .find(|k| k.0 > key_up && want(k))
                .map(|k| k.0 - key_up)
        };
        let (Some(a), Some(b)) = (after(|k| k.1 || k.2), after(|k| k.1)) else {
            anyhow::bail!("nothing was learned from note {} ({kinds:?})", i + 1);
        };
        first.push(a);
        done.push(b);
    }
    let line = |v: &mut Vec<f64>| {
        let shown: Vec<String> = v.iter().map(|l| format!("{l:.2}")).collect();
        v.sort_by(f64::total_cmp);
        format!(
            "per note [{}] s, median {:.2} s",
            shown.join(", "),
            v[v.len() / 2]
        )
    };
    println!(
        "real time: key-up to the first refined patch played, {}; to the refinement's end, {}",
        line(&mut first),
        line(&mut done)
    );
    Ok(())
}
