//! Concurrency: the audio thread against parameter and state changes on the main thread.

use crate::Outcome;
use crate::memory::ensure_memory_sane;
use crate::play::{SR, ensure_clean, recording};
use crate::random::random_value;
use crate::state::rich_state;
use crate::watchdog::Watchdog;
use anyhow::{Result, ensure};
use dar_ddsp_tests::project::memory_of;
use dar_ddsp_tests::{Block, NoteEv, ParamEv, ParamInfo, Sidechain, load_plugin, param};
use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;
use std::time::{Duration, Instant};

pub fn concurrency(rng: &mut XorShiftRng) -> Outcome {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;
    let states = [rich_state(rng)?, rich_state(rng)?];
    let bass = recording("fingered_bass.wav")?;
    let mut host = load_plugin()?;
    host.load_state(&states[1])?;
    host.activate(SR, 32)?;
    let params = host.params()?;
    let mode = param(&params, "Mode")?.id;
    let knobs: Vec<ParamInfo> = params.iter().filter(|p| p.id != mode).cloned().collect();
    let (tx, rx) = mpsc::channel::<ParamEv>();
    let done = AtomicBool::new(false);
    const BLOCKS: usize = 6_000;
    let (audio, mut main) = host.split()?;
    let seeds = (rng.random::<u64>(), rng.random::<u64>());
    // 6 000 blocks take 4 s at the audio thread's pace; 300 s without finishing is a deadlock.
    let watchdog = Watchdog::arm("concurrency", Duration::from_secs(300));
    let (audio_result, main_result) = std::thread::scope(|s| {
        let done = &done;
        let bass = &bass;
        let audio_thread = s.spawn(move || -> Result<(usize, Duration)> {
            let mut rng = XorShiftRng::seed_from_u64(seeds.0);
            let mut worst = Duration::ZERO;
            let mut pending = Vec::new();
            // Paced like a DAW's audio thread: one 32-sample block every 0.67 ms.
            let start = Instant::now();
            let result = (|| {
                for k in 0..BLOCKS {
                    let due = start + Duration::from_secs_f64(k as f64 * 32.0 / SR);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    pending.clear();
                    while let Ok(p) = rx.try_recv() {
                        pending.push(ParamEv {
                            time: rng.random_range(0..32),
                            ..p
                        });
                    }
                    pending.sort_by_key(|p| p.time);
                    let pos = (k * 32) % (bass.len() - 32);
                    let chans: [&[f32]; 1] = [&bass[pos..pos + 32]];
                    let notes = match k % 400 {
                        0 => vec![NoteEv::on(0, 40 + (k / 400 % 24) as u8, 0.8)],
                        200 => vec![NoteEv::off(5, 40 + (k / 400 % 24) as u8)],
                        _ => Vec::new(),
                    };
                    let b = audio.process(&Block {
                        frames: 32,
                        notes: &notes,
                        params: &pending,
                        sidechain: Sidechain::Audio(&chans),
                        ..Block::default()
                    })?;
                    ensure_clean(&b.out, &format!("block {k}"))?;
                    worst = worst.max(b.elapsed);
                }
                Ok((BLOCKS, worst))
            })();
            done.store(true, Ordering::Release);
            result
        });
        let main_result = (|| -> Result<(usize, usize, usize)> {
            let mut rng = XorShiftRng::seed_from_u64(seeds.1);
            let (mut loads, mut saves, mut sets) = (0, 0, 0);
            while !done.load(Ordering::Acquire) {
                let p = &knobs[rng.random_range(0..knobs.len())];
                // A send fails only once the audio thread has finished.
                let _ = tx.send(ParamEv {
                    id: p.id,
                    value: random_value(&mut rng, p),
                    time: 0,
                });
                sets += 1;
                main.param_value(p.id)?;
                main.value_to_text(p.id, random_value(&mut rng, p))?;
                if sets % 10 == 0 {
                    let saved = main.save_state()?;
                    memory_of(&saved)?;
                    saves += 1;
                }
                if sets % 25 == 0 {
                    main.load_state(&states[loads % 2])?;
                    loads += 1;
                }
                main.pump();
                std::thread::sleep(Duration::from_micros(200));
            }
            Ok((sets, saves, loads))
        })();
        (audio_thread.join(), main_result)
    });
    drop(watchdog);
    let (blocks, worst) =
        audio_result.map_err(|_| anyhow::anyhow!("the audio thread panicked"))??;
    let (sets, saves, loads) = main_result?;
    ensure!(
        loads >= 5 && saves >= 5,
        "only {loads} loads and {saves} saves ran during the audio"
    );
    let state = host.save_state()?;
    ensure_memory_sane(&memory_of(&state)?)?;
    host.unload();
    Ok(format!(
        "{blocks} × 32-sample blocks with bass in the sidechain (learner learning and publishing) \
         while the main thread made {sets} parameter changes, {saves} saves and {loads} state \
         loads: no deadlock, clean, worst block {:.2} ms",
        worst.as_secs_f64() * 1e3
    ))
}
