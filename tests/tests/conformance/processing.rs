//! Processing: every block size, in place against out of place, and each kind of sidechain.

use crate::Outcome;
use crate::memory::ensure_memory_sane;
use crate::play::{Feed, SR, ensure_clean, feed, recording, render};
use crate::random::noise;
use anyhow::{Result, ensure};
use dar_ddsp_tests::analysis::rms;
use dar_ddsp_tests::project::{memory_of, prototype_count};
use dar_ddsp_tests::{Block, NoteEv, Sidechain, load_plugin};
use rand::RngExt;
use rand_xorshift::XorShiftRng;

pub fn block_sizes(rng: &mut XorShiftRng) -> Outcome {
    let mut host = load_plugin()?;
    host.activate(SR, 16_384)?;
    let sizes = [
        1, 2, 3, 5, 7, 13, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 500, 511, 512,
        513, 1000, 1023, 1024, 1025, 2047, 2048, 4095, 4096, 8191, 8192, 16_383, 16_384,
    ];
    let sc = noise(rng, 16_384, 0.3);
    let chans: [&[f32]; 2] = [&sc, &sc];
    let mut calls = 0;
    for (i, &n) in sizes.iter().enumerate() {
        let notes = if i % 4 == 0 {
            vec![NoteEv::on(0, 48 + i as u8, 0.7)]
        } else {
            Vec::new()
        };
        let out = host.process_block(&Block {
            frames: n,
            notes: &notes,
            sidechain: Sidechain::Audio(&chans),
            ..Block::default()
        })?;
        ensure_clean(&out.out, &format!("block of {n}"))?;
        // A zero-length call between any two.
        host.process_block(&Block::default())?;
        calls += 2;
    }
    for _ in 0..200 {
        let n = rng.random_range(1..=16_384);
        let out = host.process_block(&Block {
            frames: n,
            sidechain: Sidechain::Audio(&chans),
            ..Block::default()
        })?;
        ensure_clean(&out.out, &format!("block of {n}"))?;
        calls += 1;
    }
    host.unload();

    // The same notes in blocks of 1, 512, and a random size every call: the same samples.
    let notes = [
        NoteEv::on(0, 57, 0.9),
        NoteEv::on(7_001, 64, 0.5),
        NoteEv::off(20_000, 57),
        NoteEv::off(30_011, 64),
    ];
    let len = 36_000;
    let reference = {
        let mut h = load_plugin()?;
        h.activate(SR, 16_384)?;
        render(&mut h, &notes, len, 512)?
    };
    ensure!(rms(&reference[0]) > 1e-3, "the reference is silent");
    let mut worst = 0.0f32;
    for variant in ["1", "random"] {
        let mut h = load_plugin()?;
        h.activate(SR, 16_384)?;
        let out = if variant == "1" {
            render(&mut h, &notes, len, 1)?
        } else {
            let mut out = [Vec::new(), Vec::new()];
            let mut pos = 0;
            while pos < len {
                let n = rng.random_range(1..=4_000).min(len - pos);
                let ev: Vec<NoteEv> = notes
                    .iter()
                    .filter(|e| (pos..pos + n).contains(&(e.time as usize)))
                    .map(|e| NoteEv {
                        time: e.time - pos as u32,
                        ..*e
                    })
                    .collect();
                let [l, r] = h.process(&ev, n, None)?;
                out[0].extend(l);
                out[1].extend(r);
                pos += n;
                calls += 1;
            }
            out
        };
        let diff = out[0]
            .iter()
            .zip(&reference[0])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        worst = worst.max(diff);
        ensure!(
            diff <= 1e-6,
            "blocks of {variant}: differs from blocks of 512 by {diff:e}"
        );
    }
    Ok(format!(
        "{} fixed sizes + 200 random (1–16384) with a zero-length call between, {calls} calls; \
         blocks of 1 and random sizes match 512 within {worst:e}",
        sizes.len()
    ))
}

pub fn in_place(_: &mut XorShiftRng) -> Outcome {
    // Offline, the learner keeps pace with the audio, so two runs learn the same.
    let sc = recording("flute.wav")?;
    let len = sc.len().min((3.0 * SR) as usize);
    let run = |in_place: bool| -> Result<(Vec<f32>, Vec<u8>)> {
        let mut host = load_plugin()?;
        host.set_offline(true)?;
        host.activate(SR, 256)?;
        let out = feed(
            &mut host,
            Feed {
                signal: &sc[..len],
                len,
                block: 256,
                key: 69,
                every: 24_000,
                in_place,
            },
        )?;
        let state = host.save_state()?;
        Ok((out, state))
    };
    let (a, sa) = run(false)?;
    let (b, sb) = run(true)?;
    ensure!(rms(&a) > 1e-3, "silent");
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    ensure!(
        diff == 0.0,
        "in place differs from out of place by {diff:e}"
    );
    ensure!(
        memory_of(&sa)? == memory_of(&sb)?,
        "the memories learned differ"
    );
    let protos = ensure_memory_sane(&memory_of(&sa)?)?;
    Ok(format!(
        "3 s of flute in the sidechain, the output aliasing it: identical samples, identical \
         memory ({protos} prototypes)"
    ))
}

pub fn sidechain_modes(rng: &mut XorShiftRng) -> Outcome {
    let len = 24_000;
    let notes = [NoteEv::on(0, 60, 0.8), NoteEv::off(12_000, 60)];
    let mut outs = Vec::new();
    for mode in ["absent", "inactive", "silent"] {
        let mut host = load_plugin()?;
        host.activate(SR, 512)?;
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < len {
            let ev: Vec<NoteEv> = notes
                .iter()
                .filter(|e| (pos..pos + 512).contains(&(e.time as usize)))
                .map(|e| NoteEv {
                    time: e.time - pos as u32,
                    ..*e
                })
                .collect();
            let sidechain = match mode {
                "absent" => Sidechain::Absent,
                "inactive" => Sidechain::Constant,
                _ => Sidechain::Silent,
            };
            let b = host.process_block(&Block {
                frames: 512,
                notes: &ev,
                sidechain,
                ..Block::default()
            })?;
            ensure_clean(&b.out, mode)?;
            out.extend(b.out[0].iter().copied());
            pos += 512;
        }
        outs.push(out);
    }
    ensure!(
        outs[0] == outs[1] && outs[1] == outs[2],
        "absent, inactive and silent sidechains play differently"
    );
    ensure!(rms(&outs[0]) > 1e-3, "silent");
    // One instance through all four in turn, then learning from the active sidechain. Offline,
    // so every block waits for the learner and what it learned is in the state at once.
    let mut host = load_plugin()?;
    host.set_offline(true)?;
    host.activate(SR, 512)?;
    let sc = recording("church_organ.wav")?;
    for mode in 0..4 {
        // The active sidechain plays the organ from its start for 4.3 s: two whole notes.
        let blocks = if mode == 3 { 400 } else { 60 };
        for k in 0..blocks {
            let pos = if mode == 3 {
                k * 512
            } else {
                (mode * 60 + k) * 512 % (sc.len() - 512)
            };
            let chans: [&[f32]; 1] = [&sc[pos..pos + 512]];
            let sidechain = match mode {
                0 => Sidechain::Absent,
                1 => Sidechain::Constant,
                2 => Sidechain::Silent,
                _ => Sidechain::Audio(&chans),
            };
            let notes = if k % 50 == 0 {
                vec![NoteEv::on(0, rng.random_range(40..80), 0.8)]
            } else {
                Vec::new()
            };
            let b = host.process_block(&Block {
                frames: 512,
                notes: &notes,
                sidechain,
                ..Block::default()
            })?;
            ensure_clean(&b.out, "switching sidechain")?;
        }
    }
    let learned = prototype_count(&host.save_state()?)?;
    ensure!(learned >= 1, "the active sidechain taught nothing");
    host.unload();
    Ok(format!(
        "absent, inactive (constant) and silent play the same samples; switching between all \
         four in one instance stays clean; then two organ notes in the active sidechain made \
         {learned} prototype(s)"
    ))
}
