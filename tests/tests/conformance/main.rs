//! The conformance suite: what free-audio's clap-validator, Tracktion's pluginval (strictness
//! 10) and the VST3 SDK validator check, run on the built CLAP bundle through the clack host —
//! scanning, lifecycle, processing, parameters, state, MIDI and transport fuzz, a hostile
//! sidechain, concurrency, a one-hour soak and faults. The VST3 side is
//! `tests/hosts/test_conformance.py` (dawdreamer, pedalboard).
//!
//! It has its own harness: the checks run in order on one thread (thread counts and resident
//! memory are measured per process), each prints one line, and a summary ends the run: checks
//! run and passed, process calls made, the worst block time. Every random choice comes from one
//! seed, printed first; `CONFORMANCE_SEED=<seed>` reruns exactly that. A name given as an
//! argument runs only the checks whose names contain it.
//!
//! Besides what each check asserts, every process call of the suite checks that the plugin left
//! its inputs unmodified and wrote nothing past the frame count (the host's canaries), and the
//! debug bundle `cargo xtask test` passes here aborts on any allocation in `process()`
//! (nice-plug's `assert_process_allocs`).
//!
//! This file is the harness: the checks in order and the run. The checks live one group a
//! file beside it (`scan`, `lifecycle`, `processing`, `parameters`, `state`, `midi`, `hostile`,
//! `concurrency`, `faults`, `soak`), with what they share in `play`, `random`, `memory`,
//! `threads` and `watchdog`.

mod concurrency;
mod faults;
mod hostile;
mod lifecycle;
mod memory;
mod midi;
mod parameters;
mod play;
mod processing;
mod random;
mod scan;
mod soak;
mod state;
mod threads;
mod watchdog;

use anyhow::Result;
use dar_ddsp_tests::{block_stats, clap_bundle};
use rand::SeedableRng;
use rand_xorshift::XorShiftRng;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

/// What a check reports: one line of figures.
type Outcome = Result<String>;

/// A check: its random stream in, its figures out.
type Check = fn(&mut XorShiftRng) -> Outcome;

/// The checks, in the order they run.
const CHECKS: &[(&str, Check)] = &[
    (
        "scan: descriptor, features, ports and parameters agree",
        scan::scan_metadata,
    ),
    (
        "scan: 100 instances created and destroyed without activating",
        scan::scan_100,
    ),
    (
        "lifecycle: 16 cycles at 22.05–192 kHz and 1234.5678 Hz",
        lifecycle::lifecycle,
    ),
    (
        "processing: block sizes 1–16384, odd, varying, zero-length",
        processing::block_sizes,
    ),
    (
        "processing: in place and out of place agree",
        processing::in_place,
    ),
    (
        "processing: sidechain absent, inactive, silent, then active",
        processing::sidechain_modes,
    ),
    (
        "parameters: defaults exact after init",
        parameters::param_defaults,
    ),
    ("parameters: value → text → value", parameters::param_text),
    (
        "parameters: events in process and flush agree",
        parameters::param_flush,
    ),
    (
        "parameters: fuzz, extremes, changes every 1/10/100/1000 samples",
        parameters::param_fuzz,
    ),
    (
        "state: save → load → save identical, in prime-sized chunks",
        state::state_round_trip,
    ),
    (
        "state: empty, truncated and 3 × 1 MB random blobs refused",
        state::state_garbage,
    ),
    (
        "midi and transport: fuzz, orphan note-offs, all notes off",
        midi::midi_fuzz,
    ),
    (
        "hostile sidechain: NaN, ±Inf, denormals, DC, clipping, noise, silence",
        hostile::hostile,
    ),
    (
        "concurrency: audio thread against parameter and state changes",
        concurrency::concurrency,
    ),
    ("faults: the learner panics", faults::fault_panic),
    ("faults: the learner starves", faults::fault_starve),
    (
        "faults: the host never deactivates",
        faults::fault_no_deactivate,
    ),
    (
        "faults: unloaded in the middle of learning",
        faults::fault_unload,
    ),
    (
        "soak: one hour at 64-sample blocks, resident memory flat",
        soak::soak,
    ),
];

/// Options of the test harness's command line that take a value as the next argument.
const OPTIONS_WITH_VALUE: &[&str] = &[
    "--test-threads",
    "--skip",
    "--logfile",
    "--format",
    "--color",
    "--shuffle-seed",
    "-Z",
];

/// The name filter among the arguments cargo passes to a test binary: the first positional
/// argument. Options (`--nocapture`) and the values of options that take one (`--test-threads
/// 2`) are not filters.
fn name_filter(args: impl IntoIterator<Item = String>) -> Option<String> {
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        if OPTIONS_WITH_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}

fn main() {
    let seed = std::env::var("CONFORMANCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let filter = name_filter(std::env::args().skip(1));
    let bundle = clap_bundle().map_or_else(|e| e.to_string(), |p| p.display().to_string());
    println!("conformance suite on {bundle}");
    println!("seed {seed} (rerun exactly: CONFORMANCE_SEED={seed})");
    let clock = Instant::now();
    let (mut run, mut passed) = (0, 0);
    let mut failed = Vec::new();
    for (i, (name, check)) in CHECKS.iter().enumerate() {
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        run += 1;
        // Each check has its own stream, so one runs alone exactly as in the whole suite.
        let mut rng =
            XorShiftRng::seed_from_u64(seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| check(&mut rng))).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(anyhow::anyhow!("panicked: {msg}"))
        });
        let secs = started.elapsed().as_secs_f64();
        match result {
            Ok(figures) => {
                passed += 1;
                println!("ok    {name} ({secs:.1} s): {figures}");
            }
            Err(e) => {
                println!("FAIL  {name} ({secs:.1} s): {e:#}");
                failed.push(*name);
            }
        }
    }
    if run == 0 {
        // A filter that matches nothing checked nothing: that is not a pass.
        println!("FAIL  no check's name contains {filter:?}: nothing was checked");
        std::process::exit(1);
    }
    let (blocks, worst, worst_frames) = block_stats();
    println!(
        "conformance summary: {run} checks run, {passed} passed, {} failed; {blocks} process \
         calls, worst block {:.2} ms ({worst_frames} frames); {:.0} s; seed {seed}",
        failed.len(),
        worst.as_secs_f64() * 1e3,
        clock.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        for name in &failed {
            println!(
                "failed: {name} — rerun: CONFORMANCE_SEED={seed} cargo test -p dar-ddsp-tests --test conformance -- \"{name}\""
            );
        }
        std::process::exit(1);
    }
}
