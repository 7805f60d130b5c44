//! State: save → load → save round trips, and blobs that must be refused.

use crate::Outcome;
use crate::memory::ensure_memory_sane;
use crate::play::{SR, all_notes_off, ensure_clean, render};
use crate::random::random_value;
use anyhow::{Result, ensure};
use dar_ddsp_tests::analysis::rms;
use dar_ddsp_tests::project::{memory_of, memory_v1_project};
use dar_ddsp_tests::{NoteEv, load_plugin};
use rand::RngExt;
use rand_xorshift::XorShiftRng;

/// A state with a memory in it, random knobs and Learn mode: the v1 project (saved in Play
/// mode), loaded and saved by this build.
pub fn rich_state(rng: &mut XorShiftRng) -> Result<Vec<u8>> {
    let mut host = load_plugin()?;
    host.load_state(&memory_v1_project()?)?;
    // The learner rewrites a version-1 memory in this build's version (re-embedded when its
    // encoder is not this build's) once it has taken it: an offline render waits for that.
    host.set_offline(true)?;
    host.activate(SR, 512)?;
    host.render(&[], 4_800, 512)?;
    host.deactivate();
    host.set_offline(false)?;
    for p in host.params()? {
        let value = if p.name == "Mode" {
            0.0
        } else {
            random_value(rng, &p)
        };
        host.set_param(p.id, value)?;
    }
    host.save_state()
}

pub fn state_round_trip(rng: &mut XorShiftRng) -> Outcome {
    let first = rich_state(rng)?;
    ensure!(
        memory_of(&first)?["version"] == dar_ddsp_core::live::state::STATE_VERSION,
        "the memory was not brought to this build's version"
    );
    let mut fresh = load_plugin()?;
    fresh.load_state(&first)?;
    let second = fresh.save_state()?;
    ensure!(
        second == first,
        "save → load → save changed the state ({} → {} bytes)",
        first.len(),
        second.len()
    );
    let primes = [1usize, 2, 3, 7, 13, 127, 1_021, 65_521];
    for &k in &primes {
        let chunked = fresh.save_state_chunked(k)?;
        ensure!(
            chunked == first,
            "saved in {k}-byte writes: different bytes"
        );
        let mut other = load_plugin()?;
        other.load_state_chunked(&first, k)?;
        ensure!(
            other.save_state()? == first,
            "loaded in {k}-byte reads: different state"
        );
    }
    // And active: the same bytes, and the same sound from both.
    // Offline, so the learner has taken the loaded memory before the first block plays.
    let mut a = load_plugin()?;
    a.set_offline(true)?;
    a.load_state(&first)?;
    a.activate(SR, 512)?;
    let mut b = load_plugin()?;
    b.set_offline(true)?;
    b.activate(SR, 512)?;
    b.load_state(&first)?;
    // The note starts after 0.5 s: a state loaded while active glides its knobs there (5 ms),
    // one loaded before activation starts on them.
    let notes = [NoteEv::on(24_000, 45, 0.9)];
    let (oa, ob) = (
        render(&mut a, &notes, 33_600, 512)?,
        render(&mut b, &notes, 33_600, 512)?,
    );
    ensure!(
        oa[0] == ob[0],
        "loaded before and after activation: different sound"
    );
    ensure!(
        a.save_state()? == first && b.save_state()? == first,
        "active instances save differently"
    );
    Ok(format!(
        "{} bytes with {} prototypes: identical after save → load → save, in writes and reads of \
         {primes:?} bytes, and loaded inactive or active",
        first.len(),
        ensure_memory_sane(&memory_of(&first)?)?
    ))
}

pub fn state_garbage(rng: &mut XorShiftRng) -> Outcome {
    let good = rich_state(rng)?;
    let mut host = load_plugin()?;
    host.load_state(&good)?;
    host.activate(SR, 512)?;
    let mut blobs: Vec<(String, Vec<u8>)> = vec![("empty".into(), Vec::new())];
    for cut in [
        1,
        2,
        10,
        good.len() / 3,
        good.len() / 2,
        good.len() - 2,
        good.len() - 1,
    ] {
        blobs.push((format!("truncated to {cut}"), good[..cut].to_vec()));
    }
    for i in 0..3 {
        let mut blob = vec![0u8; 1 << 20];
        rng.fill(&mut blob[..]);
        blobs.push((format!("1 MB random #{i}"), blob));
    }
    let mut refused = 0;
    for (what, blob) in &blobs {
        ensure!(host.load_state(blob).is_err(), "{what} was accepted");
        refused += 1;
        ensure!(
            host.save_state()? == good,
            "{what}: the state changed although it was refused"
        );
        let out = host.process(&[NoteEv::on(0, 52, 0.8)], 512, None)?;
        ensure_clean(&out, what)?;
        let more = render(&mut host, &[], 2_048, 512)?;
        // Random knobs can make a quiet patch (−80 dBFS); silence is what is looked for.
        ensure!(rms(&more[0]) > 1e-6, "{what}: the plugin stopped playing");
        all_notes_off(&mut host)?;
    }
    Ok(format!(
        "{refused} blobs refused (empty, 7 truncations, 3 × 1 MB random); state byte for byte kept, playing on"
    ))
}
