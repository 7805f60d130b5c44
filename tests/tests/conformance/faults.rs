//! Faults: the learner panics or starves, the host never deactivates, or unloads mid-learning.

use crate::Outcome;
use crate::memory::ensure_memory_sane;
use crate::play::{Feed, SR, feed, recording};
use crate::threads::{learners, settle};
use anyhow::{Result, ensure};
use dar_ddsp_tests::analysis::rms;
use dar_ddsp_tests::project::{memory_of, prototype_count};
use dar_ddsp_tests::usage::threads;
use dar_ddsp_tests::{ClapHost, load_plugin};
use rand::RngExt;
use rand_xorshift::XorShiftRng;
use std::time::{Duration, Instant};

/// Sets `DAR_DDSP_FAULT` for the instances created inside `f` (the learner reads it when it
/// starts, in debug builds), and clears it afterwards.
fn with_fault<T>(fault: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    // SAFETY: the suite runs on one thread, and no plugin thread reads the environment (the
    // learner's start, which reads it, runs on this thread).
    unsafe { std::env::set_var("DAR_DDSP_FAULT", fault) };
    let result = f();
    // SAFETY: as above.
    unsafe { std::env::remove_var("DAR_DDSP_FAULT") };
    result
}

/// Feeds `seconds` of the bass into the sidechain with notes, checking every block; the
/// output's RMS.
fn play_with_sidechain(host: &mut ClapHost, seconds: f64, block: usize) -> Result<f64> {
    let bass = recording("fingered_bass.wav")?;
    let out = feed(
        host,
        Feed {
            signal: &bass,
            len: (seconds * SR) as usize,
            block,
            key: 50,
            every: 24_000,
            in_place: false,
        },
    )?;
    Ok(rms(&out))
}

pub fn fault_panic(_: &mut XorShiftRng) -> Outcome {
    let base = threads()?;
    let level = with_fault("panic", || {
        let mut host = load_plugin()?;
        host.activate(SR, 256)?;
        play_with_sidechain(&mut host, 0.2, 256)?;
        // The learner takes its first chunk and panics; the panic is caught and the thread ends.
        let deadline = Instant::now() + Duration::from_secs(5);
        while learners()? > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        ensure!(
            learners()? == 0,
            "the learner thread is still there after panicking"
        );
        let level = play_with_sidechain(&mut host, 2.0, 256)?;
        ensure!(level > 1e-3, "audio stopped after the learner panicked");
        let state = host.save_state()?;
        ensure_memory_sane(&memory_of(&state)?)?;
        host.unload();
        Ok(level)
    })?;
    let after = settle(base, threads)?;
    ensure!(after == base, "threads {base} → {after}");
    Ok(format!(
        "learner panicked at its first chunk: caught, its thread ended, audio played on (RMS \
         {level:.3}), state saves, threads {base} → {after}"
    ))
}

pub fn fault_starve(_: &mut XorShiftRng) -> Outcome {
    let base = threads()?;
    let (wall, stop) = with_fault("slow=250", || {
        let mut host = load_plugin()?;
        host.activate(SR, 256)?;
        // 10 s of audio; a learner that takes 250 ms per 4096-sample chunk would need 29 s for
        // it, so an audio thread that waited on it could not finish in 10.
        let clock = Instant::now();
        let level = play_with_sidechain(&mut host, 10.0, 256)?;
        let wall = clock.elapsed();
        ensure!(level > 1e-3, "silent");
        ensure!(
            wall < Duration::from_secs(10),
            "10 s of audio took {wall:?}: the audio thread waited"
        );
        let clock = Instant::now();
        host.deactivate();
        let stop = clock.elapsed();
        host.unload();
        Ok((wall, stop))
    })?;
    let after = settle(base, threads)?;
    ensure!(after == base, "threads {base} → {after}");
    Ok(format!(
        "learner slowed to 250 ms per chunk: 10 s of audio with sidechain in {:.2} s of wall time \
         (the ring dropped what it could not hold), deactivate {:.0} ms, threads {base} → {after}",
        wall.as_secs_f64(),
        stop.as_secs_f64() * 1e3
    ))
}

pub fn fault_no_deactivate(_: &mut XorShiftRng) -> Outcome {
    let base = threads()?;
    let mut host = load_plugin()?;
    host.activate(SR, 256)?;
    play_with_sidechain(&mut host, 2.0, 256)?;
    ensure!(settle(1, learners)? == 1, "no learner thread");
    host.destroy_without_deactivating()?;
    let after = threads()?;
    ensure!(
        after == base,
        "destroyed while active: threads {base} → {after}"
    );
    Ok(format!(
        "destroyed while active and processing, no stop or deactivate: threads {base} → {after} when destroy returned"
    ))
}

pub fn fault_unload(rng: &mut XorShiftRng) -> Outcome {
    let base = threads()?;
    let mut worst = Duration::ZERO;
    for round in 0..5 {
        let mut host = load_plugin()?;
        host.activate(SR, 256)?;
        // The bass's first note is recognised (a prototype appears in the state), then refined
        // on the learner thread for about a second once it ends: unload somewhere in there.
        play_with_sidechain(&mut host, 2.5, 256)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let saved = loop {
            let state = host.save_state()?;
            let protos = prototype_count(&state)?;
            if protos > 0 {
                break state;
            }
            ensure!(
                Instant::now() < deadline,
                "round {round}: nothing recognised in 30 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        std::thread::sleep(Duration::from_millis(rng.random_range(0..300)));
        let clock = Instant::now();
        host.unload();
        let took = clock.elapsed();
        worst = worst.max(took);
        let after = threads()?;
        ensure!(
            after == base,
            "round {round}: threads {base} → {after} after unload"
        );
        // A refinement in progress ends at its next gradient step: unloading does not wait for
        // the rest of it (60 steps, most of a second).
        ensure!(
            took < Duration::from_secs(1),
            "round {round}: unloading took {took:?}"
        );
        // What it saved just before is whole.
        let mut fresh = load_plugin()?;
        fresh.load_state(&saved)?;
        ensure_memory_sane(&memory_of(&saved)?)?;
    }
    Ok(format!(
        "5 unloads while learning (0–0.3 s after the first prototype appeared): threads back when \
         unload returned, the state saved just before loads whole; slowest unload {:.0} ms",
        worst.as_secs_f64() * 1e3
    ))
}
