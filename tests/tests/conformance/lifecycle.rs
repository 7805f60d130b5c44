//! Lifecycle: activate, start, stop, reset and deactivate at every common rate and an odd one.

use crate::Outcome;
use crate::play::ensure_clean;
use crate::threads::{learners, settle};
use anyhow::ensure;
use dar_ddsp_tests::analysis::{peak, rms};
use dar_ddsp_tests::usage::threads;
use dar_ddsp_tests::{NoteEv, load_plugin};
use rand_xorshift::XorShiftRng;

pub fn lifecycle(_: &mut XorShiftRng) -> Outcome {
    let base = threads()?;
    let mut host = load_plugin()?;
    let rates = [
        22_050.0,
        44_100.0,
        48_000.0,
        88_200.0,
        96_000.0,
        176_400.0,
        192_000.0,
        1_234.567_8,
    ];
    let mut cycles = 0;
    for round in 0..2 {
        for &rate in &rates {
            let max = if round == 0 { 512 } else { 4096 };
            host.activate(rate, max)?;
            ensure!(
                settle(1, learners)? == 1,
                "not one learner thread at {rate} Hz"
            );
            let len = ((rate * 0.1) as usize).max(64);
            let notes = [NoteEv::on(0, 60, 0.8)];
            let a = host.render(&notes, len, max as usize)?;
            ensure_clean(&a, "first start")?;
            host.stop_processing();
            host.reset();
            // After a reset the voice is gone: silence until a new note.
            let quiet = host.render(&[], len, max as usize)?;
            ensure_clean(&quiet, "after reset")?;
            ensure!(
                peak(&quiet[0]) < 1e-4,
                "{rate} Hz: sound after reset ({})",
                peak(&quiet[0])
            );
            let b = host.render(&notes, len, max as usize)?;
            ensure_clean(&b, "second start")?;
            if rate >= 22_050.0 {
                ensure!(rms(&b[0]) > 1e-3, "{rate} Hz: silent note");
            }
            host.deactivate();
            // The learner is joined before deactivate returns.
            let n = learners()?;
            ensure!(n == 0, "{rate} Hz: {n} learner threads after deactivate");
            cycles += 1;
        }
    }
    host.unload();
    let after = threads()?;
    ensure!(after == base, "threads {base} → {after} after destroy");
    Ok(format!(
        "{cycles} cycles (activate, start, stop, reset, start, deactivate), threads {base} → {after}"
    ))
}
