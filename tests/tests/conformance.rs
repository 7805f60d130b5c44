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

use anyhow::{Context, Result, bail, ensure};
use dar_ddsp_tests::analysis::{first_unclean, peak, rms};
use dar_ddsp_tests::{
    Block, ClapHost, Extra, NoteEv, ParamEv, ParamInfo, Sidechain, Transport, block_stats,
    clap_bundle, scan,
};
use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The plugin's CLAP id.
const PLUGIN_ID: &str = "org.dar-ddsp.synth";
/// The rate most checks run at.
const SR: f64 = 48_000.0;
/// No sample may exceed this (+24 dBFS): sixteen voices of a loud patch at full gain stay far
/// below; anything above is a blow-up.
const BOUND: f32 = 16.0;

/// The bundle under test (see [`clap_bundle`]).
fn plugin_path() -> Result<PathBuf> {
    clap_bundle()
}

fn load() -> Result<ClapHost> {
    ClapHost::load(&plugin_path()?, PLUGIN_ID)
}

/// Threads of this process now.
fn threads() -> Result<usize> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .context("no thread count in /proc/self/status")
}

/// Learner threads of this process now (by name; the kernel keeps 15 bytes of it). Other
/// threads come and go with the framework: nice-plug runs one shared worker while any instance
/// exists.
fn learners() -> Result<usize> {
    let mut n = 0;
    for task in std::fs::read_dir("/proc/self/task")? {
        let comm = std::fs::read_to_string(task?.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == "dar-ddsp learne" {
            n += 1;
        }
    }
    Ok(n)
}

/// Waits (up to 5 s) for `count` to reach `expected` (a thread names itself and ends a little
/// after the call that started or stopped it); the count it ended at.
fn settle(expected: usize, count: fn() -> Result<usize>) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n = count()?;
        if n == expected || Instant::now() > deadline {
            return Ok(n);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Resident memory of this process now, bytes (after handing freed memory back).
fn resident() -> Result<u64> {
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe { malloc_trim(0) };
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .context("no VmRSS in /proc/self/status")
}

unsafe extern "C" {
    fn malloc_trim(pad: usize) -> i32;
}

/// Fails on NaN, infinities, subnormals and samples beyond [`BOUND`].
fn ensure_clean(out: &[Vec<f32>; 2], what: &str) -> Result<()> {
    for (c, channel) in out.iter().enumerate() {
        if let Some((i, x)) = first_unclean(channel) {
            bail!("{what}: channel {c} sample {i} is {x:e} (not finite, or subnormal)");
        }
        let p = peak(channel);
        ensure!(
            p <= BOUND,
            "{what}: channel {c} peaks at {p} (bound {BOUND})"
        );
    }
    Ok(())
}

/// A recording of the eval set, mono, 48 kHz.
fn recording(name: &str) -> Result<Vec<f32>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/eval/instruments")
        .join(name);
    let mut reader =
        hound::WavReader::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    ensure!(
        reader.spec().sample_rate == SR as u32,
        "{} is not at 48 kHz",
        path.display()
    );
    Ok(reader
        .samples::<i16>()
        .map(|s| s.map(|v| v as f32 / 32_768.0))
        .collect::<Result<_, _>>()?)
}

/// The project state saved by the version-1 plugin after learning the bass: a memory with
/// prototypes, for the checks that need one.
fn memory_state() -> Result<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/clap-state-memory-v1.bin");
    std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
}

/// The memory part of a saved state (nice-plug's JSON: fields by id).
fn memory_of(state: &[u8]) -> Result<serde_json::Value> {
    // nice-plug's CLAP state: a little-endian u64 length, then the JSON.
    let json: serde_json::Value =
        serde_json::from_slice(state.get(8..).unwrap_or_default()).context("state is not JSON")?;
    let text = json["fields"]["memory"]
        .as_str()
        .context("the state has no memory field")?;
    serde_json::from_str(text).context("the memory field is not JSON")
}

/// Every number in `v` is finite, and every prototype's weights lie in 0–1.
fn ensure_memory_sane(memory: &serde_json::Value) -> Result<usize> {
    let protos = memory["prototypes"].as_array().context("no prototypes")?;
    for (j, p) in protos.iter().enumerate() {
        for w in p["weights"].as_array().context("no weights")? {
            let w = w.as_f64().context("weight not a number")?;
            ensure!((0.0..=1.0).contains(&w), "prototype {j} has weight {w}");
        }
        for (name, v) in p["theta"].as_object().context("no theta")? {
            let v = v.as_f64().context("theta not a number")?;
            ensure!(v.is_finite(), "prototype {j} has {name} = {v}");
        }
    }
    Ok(protos.len())
}

/// The parameter named `name`.
fn param<'p>(params: &'p [ParamInfo], name: &str) -> Result<&'p ParamInfo> {
    params
        .iter()
        .find(|p| p.name == name)
        .with_context(|| format!("no parameter named {name:?}"))
}

/// Whether a parameter is stepped (nice-plug declares stepped ones as `0..=steps`).
fn stepped(p: &ParamInfo) -> bool {
    p.max > 1.0 || is_toggle(p)
}

/// The plugin's toggles (on/off), whose CLAP values are 0 and 1 only.
fn is_toggle(p: &ParamInfo) -> bool {
    p.name == "Sidechain Listen"
}

/// A random CLAP value of `p` (whole steps for stepped ones).
fn random_value(rng: &mut XorShiftRng, p: &ParamInfo) -> f64 {
    if stepped(p) {
        rng.random_range(p.min as i64..=p.max as i64) as f64
    } else {
        rng.random_range(p.min..=p.max)
    }
}

/// White noise in ±`level`.
fn noise(rng: &mut XorShiftRng, len: usize, level: f32) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-level..=level)).collect()
}

/// Renders `frames` in blocks of `block` with `notes`, checking every block.
fn render(
    host: &mut ClapHost,
    notes: &[NoteEv],
    frames: usize,
    block: usize,
) -> Result<[Vec<f32>; 2]> {
    let out = host.render(notes, frames, block)?;
    ensure_clean(&out, "render")?;
    Ok(out)
}

/// How [`feed`] plays a sidechain signal.
#[derive(Clone, Copy)]
struct Feed<'a> {
    /// The sidechain, looped to `len`.
    signal: &'a [f32],
    /// Samples to play.
    len: usize,
    /// Block size.
    block: usize,
    /// A note-on of this key at the start of the block in which every `every`th sample falls.
    key: u8,
    /// See `key`.
    every: usize,
    /// Process in place (see [`Block::in_place`]).
    in_place: bool,
}

/// Plays `f.signal` into the sidechain with MIDI notes, checking every block; the left output.
fn feed(host: &mut ClapHost, f: Feed) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(f.len);
    let mut pos = 0;
    while pos < f.len {
        let n = f.block.min(f.len - pos);
        let at = if pos + n <= f.signal.len() {
            pos
        } else {
            pos % f.signal.len().saturating_sub(n).max(1)
        };
        let chans: [&[f32]; 1] = [&f.signal[at..at + n]];
        let note = [NoteEv::on(0, f.key, 0.8)];
        let notes: &[NoteEv] = if pos % f.every < n { &note } else { &[] };
        let b = host.process_block(&Block {
            frames: n,
            notes,
            sidechain: Sidechain::Audio(&chans),
            in_place: f.in_place,
            ..Block::default()
        })?;
        ensure_clean(&b.out, "with sidechain")?;
        out.extend_from_slice(&b.out[0]);
        pos += n;
    }
    Ok(out)
}

/// Ends every note (a CLAP note-off wildcard) in a one-sample call.
fn all_notes_off(host: &mut ClapHost) -> Result<()> {
    host.process_block(&Block {
        frames: 1,
        extra: &[Extra::AllNotesOff(0)],
        ..Block::default()
    })?;
    Ok(())
}

/// What a check reports: one line of figures.
type Outcome = Result<String>;

/// A check: its random stream in, its figures out.
type Check = fn(&mut XorShiftRng) -> Outcome;

/// The checks, in the order they run.
const CHECKS: &[(&str, Check)] = &[
    (
        "scan: descriptor, features, ports and parameters agree",
        scan_metadata,
    ),
    (
        "scan: 100 instances created and destroyed without activating",
        scan_100,
    ),
    (
        "lifecycle: 16 cycles at 22.05–192 kHz and 1234.5678 Hz",
        lifecycle,
    ),
    (
        "processing: block sizes 1–16384, odd, varying, zero-length",
        block_sizes,
    ),
    ("processing: in place and out of place agree", in_place),
    (
        "processing: sidechain absent, inactive, silent, then active",
        sidechain_modes,
    ),
    ("parameters: defaults exact after init", param_defaults),
    ("parameters: value → text → value", param_text),
    ("parameters: events in process and flush agree", param_flush),
    (
        "parameters: fuzz, extremes, changes every 1/10/100/1000 samples",
        param_fuzz,
    ),
    (
        "state: save → load → save identical, in prime-sized chunks",
        state_round_trip,
    ),
    (
        "state: empty, truncated and 3 × 1 MB random blobs refused",
        state_garbage,
    ),
    (
        "midi and transport: fuzz, orphan note-offs, all notes off",
        midi_fuzz,
    ),
    (
        "hostile sidechain: NaN, ±Inf, denormals, DC, clipping, noise, silence",
        hostile,
    ),
    (
        "concurrency: audio thread against parameter and state changes",
        concurrency,
    ),
    ("faults: the learner panics", fault_panic),
    ("faults: the learner starves", fault_starve),
    ("faults: the host never deactivates", fault_no_deactivate),
    ("faults: unloaded in the middle of learning", fault_unload),
    (
        "soak: one hour at 64-sample blocks, resident memory flat",
        soak,
    ),
];

fn main() {
    let seed = std::env::var("CONFORMANCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    // Arguments cargo passes to test binaries (--nocapture, …) are not filters.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let bundle = plugin_path().map_or_else(|e| e.to_string(), |p| p.display().to_string());
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

// ---------------------------------------------------------------------------------------------
// Scanning

fn scan_metadata(_: &mut XorShiftRng) -> Outcome {
    let descriptors = scan(&plugin_path()?)?;
    ensure!(
        descriptors.len() == 1,
        "the factory lists {} plugins",
        descriptors.len()
    );
    let d = &descriptors[0];
    ensure!(d.id == PLUGIN_ID, "id {:?}", d.id);
    ensure!(d.name == "DAR-DDSP", "name {:?}", d.name);
    ensure!(!d.vendor.is_empty() && !d.description.is_empty(), "{d:?}");
    ensure!(
        d.version == env!("CARGO_PKG_VERSION"),
        "version {:?}",
        d.version
    );
    for f in ["instrument", "synthesizer", "stereo"] {
        ensure!(
            d.features.iter().any(|x| x == f),
            "feature {f} missing: {:?}",
            d.features
        );
    }
    // An instrument is not also an effect or an analyzer.
    for f in ["audio-effect", "note-effect", "analyzer"] {
        ensure!(
            !d.features.iter().any(|x| x == f),
            "feature {f} contradicts instrument"
        );
    }
    let mut host = load()?;
    ensure!(
        host.descriptor()? == *d,
        "the instance describes itself differently"
    );
    let outs = host.output_ports().to_vec();
    let ins = host.input_ports().to_vec();
    ensure!(
        outs.len() == 1 && outs[0].is_main && outs[0].channels == 2,
        "outputs {outs:?}"
    );
    ensure!(
        ins.len() == 1 && !ins[0].is_main && ins[0].channels == 2 && ins[0].name == "Sidechain",
        "inputs {ins:?}"
    );
    ensure!(
        host.note_input_ports() == 1,
        "note ports {}",
        host.note_input_ports()
    );
    let params = host.params()?;
    let mut ids = std::collections::HashSet::new();
    let mut names = std::collections::HashSet::new();
    for p in &params {
        ensure!(ids.insert(p.id), "parameter id {} twice", p.id);
        ensure!(
            !p.name.is_empty() && names.insert(p.name.clone()),
            "name {:?}",
            p.name
        );
        ensure!(p.min < p.max, "{}: range {}..{}", p.name, p.min, p.max);
        ensure!(
            (p.min..=p.max).contains(&p.default),
            "{}: default {} outside {}..{}",
            p.name,
            p.default,
            p.min,
            p.max
        );
    }
    Ok(format!(
        "1 plugin, features {:?}, {} parameters, stereo out + stereo sidechain",
        d.features,
        params.len()
    ))
}

fn scan_100(_: &mut XorShiftRng) -> Outcome {
    let path = plugin_path()?;
    let base = threads()?;
    let mut times = Vec::new();
    for i in 0..100 {
        let t = Instant::now();
        let mut host = ClapHost::load(&path, PLUGIN_ID)?;
        host.params()?;
        host.descriptor()?;
        let during = learners()?;
        drop(host);
        times.push(t.elapsed());
        ensure!(
            during == 0,
            "instance {i} started a learner thread without being activated"
        );
    }
    let after = settle(base, threads)?;
    ensure!(after == base, "threads {base} → {after}");
    times.sort();
    let worst = times[99];
    ensure!(
        worst < Duration::from_millis(100),
        "the slowest scan took {worst:?} (limit 100 ms)"
    );
    Ok(format!(
        "median {:.2} ms, worst {:.2} ms (limit 100 ms), threads {base} → {after}",
        times[50].as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3
    ))
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

fn lifecycle(_: &mut XorShiftRng) -> Outcome {
    let base = threads()?;
    let mut host = load()?;
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

// ---------------------------------------------------------------------------------------------
// Processing

fn block_sizes(rng: &mut XorShiftRng) -> Outcome {
    let mut host = load()?;
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
        let mut h = load()?;
        h.activate(SR, 16_384)?;
        render(&mut h, &notes, len, 512)?
    };
    ensure!(rms(&reference[0]) > 1e-3, "the reference is silent");
    let mut worst = 0.0f32;
    for variant in ["1", "random"] {
        let mut h = load()?;
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

fn in_place(_: &mut XorShiftRng) -> Outcome {
    // Offline, the learner keeps pace with the audio, so two runs learn the same.
    let sc = recording("flute.wav")?;
    let len = sc.len().min((3.0 * SR) as usize);
    let run = |in_place: bool| -> Result<(Vec<f32>, Vec<u8>)> {
        let mut host = load()?;
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

fn sidechain_modes(rng: &mut XorShiftRng) -> Outcome {
    let len = 24_000;
    let notes = [NoteEv::on(0, 60, 0.8), NoteEv::off(12_000, 60)];
    let mut outs = Vec::new();
    for mode in ["absent", "inactive", "silent"] {
        let mut host = load()?;
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
    // One instance through all four in turn, then learning from the active sidechain.
    let mut host = load()?;
    host.activate(SR, 512)?;
    let sc = recording("church_organ.wav")?;
    for mode in 0..4 {
        for k in 0..60 {
            let pos = (mode * 60 + k) * 512 % (sc.len() - 512);
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
    Ok("absent, inactive (constant) and silent play the same samples; switching between all four in one instance stays clean".into())
}

// ---------------------------------------------------------------------------------------------
// Parameters

fn param_defaults(_: &mut XorShiftRng) -> Outcome {
    let mut host = load()?;
    let params = host.params()?;
    for stage in ["after init", "after activate"] {
        if stage == "after activate" {
            host.activate(SR, 512)?;
        }
        for p in &params {
            let v = host.param_value(p.id)?;
            ensure!(
                v == p.default,
                "{} is {v} {stage}, default {}",
                p.name,
                p.default
            );
        }
    }
    Ok(format!(
        "{} parameters equal their declared defaults after init and after activate",
        params.len()
    ))
}

fn param_text(rng: &mut XorShiftRng) -> Outcome {
    let mut host = load()?;
    let params = host.params()?;
    let mut pairs = 0;
    let mut worst = 0.0f64;
    let mut worst_case = String::new();
    for p in &params {
        let mut values = vec![p.min, p.max, p.default];
        values.extend((0..12).map(|_| random_value(rng, p)));
        for v in values {
            let text = host.value_to_text(p.id, v)?;
            ensure!(!text.is_empty(), "{}: empty text for {v}", p.name);
            let back = host.text_to_value(p.id, &text)?;
            ensure!(
                (p.min..=p.max).contains(&back),
                "{}: {text:?} parses to {back}",
                p.name
            );
            let again = host.value_to_text(p.id, back)?;
            ensure!(
                again == text,
                "{}: {v} → {text:?} → {back} → {again:?}",
                p.name
            );
            // nice-plug keeps values as f32 knob positions: a step comes back within 1e-5.
            if stepped(p) {
                ensure!(
                    (back - v.round()).abs() < 1e-5,
                    "{}: step {v} → {text:?} → {back}",
                    p.name
                );
            }
            let off = (back - v).abs() / (p.max - p.min);
            if off > worst {
                worst = off;
                worst_case = format!("{}: {v} → {text:?} → {back}", p.name);
            }
            pairs += 1;
        }
    }
    // How far the value comes back is the display's resolution: on a power-law knob the bottom
    // few percent of travel all show the minimum ("0.500 ms"), so it is reported, not bounded.
    Ok(format!(
        "{pairs} values: text → value → text identical, steps exact; farthest knob position \
         back {:.2} % of the travel ({worst_case})",
        worst * 100.0
    ))
}

fn param_flush(rng: &mut XorShiftRng) -> Outcome {
    let probe = load()?.params()?;
    let changes: Vec<ParamEv> = probe
        .iter()
        .filter(|p| !["Mode", "Sidechain Listen"].contains(&p.name.as_str()))
        .map(|p| ParamEv {
            id: p.id,
            value: random_value(rng, p),
            time: 0,
        })
        .collect();
    let notes = [NoteEv::on(0, 62, 0.8)];
    let mut results = Vec::new();
    for via_flush in [true, false] {
        let mut host = load()?;
        host.activate(SR, 512)?;
        let first = if via_flush {
            flush_then_process(&mut host, &changes, &notes)?
        } else {
            host.process_block(&Block {
                frames: 512,
                notes: &notes,
                params: &changes,
                ..Block::default()
            })?
        };
        let mut o = first.out[0].clone();
        o.extend(render(&mut host, &[], 4_096, 512)?[0].iter().copied());
        let values: Vec<f64> = changes
            .iter()
            .map(|c| host.param_value(c.id))
            .collect::<Result<_>>()?;
        results.push((o, values));
    }
    ensure!(
        results[0].1 == results[1].1,
        "flushed and processed values differ"
    );
    for (c, v) in changes.iter().zip(&results[0].1) {
        let p = probe.iter().find(|p| p.id == c.id).context("param")?;
        ensure!(
            // Stored as f32 plain values: at the far end of a log knob the f32 plain value can
            // no longer tell positions 1 % of the travel apart.
            (v - c.value).abs() < 0.01 * (p.max - p.min),
            "{}: set {} reads {v}",
            p.name,
            c.value
        );
    }
    ensure!(
        results[0].0 == results[1].0,
        "flushed and processed changes sound different"
    );
    Ok(format!(
        "{} random values: flush then process = the same events in process (values and samples)",
        changes.len()
    ))
}

/// Delivers `changes` through the active flush, then processes a block with `notes`.
fn flush_then_process(
    host: &mut ClapHost,
    changes: &[ParamEv],
    notes: &[NoteEv],
) -> Result<dar_ddsp_tests::BlockOut> {
    for c in changes {
        host.set_param(c.id, c.value)?;
    }
    host.flush_params();
    host.process_block(&Block {
        frames: 512,
        notes,
        ..Block::default()
    })
}

fn param_fuzz(rng: &mut XorShiftRng) -> Outcome {
    let mut host = load()?;
    host.activate(SR, 1_024)?;
    let params = host.params()?;
    let chord: Vec<NoteEv> = (0..8).map(|k| NoteEv::on(0, 40 + 5 * k, 0.9)).collect();
    let mut peak_seen = 0.0f32;
    let mut blocks = 0;
    let mut check = |out: &[Vec<f32>; 2], what: &str| -> Result<()> {
        ensure_clean(out, what)?;
        peak_seen = peak_seen.max(peak(&out[0]));
        Ok(())
    };
    // The chord, then four more buffers, then all notes off.
    let mut five_buffers = |host: &mut ClapHost, what: &str| -> Result<()> {
        for b in 0..5 {
            let notes = if b == 0 { chord.clone() } else { Vec::new() };
            check(&host.process(&notes, 1_024, None)?, what)?;
            blocks += 1;
        }
        all_notes_off(host)
    };
    // 50 random sets × 5 buffers.
    for set in 0..50 {
        for p in &params {
            host.set_param(p.id, random_value(rng, p))?;
        }
        five_buffers(&mut host, &format!("random set {set}"))?;
    }
    // Extremes: everything at its minimum, at its maximum, and alternating.
    for (name, pick) in [("min", 0), ("max", 1), ("alternating", 2)] {
        for (i, p) in params.iter().enumerate() {
            let v = match pick {
                0 => p.min,
                1 => p.max,
                _ if i % 2 == 0 => p.min,
                _ => p.max,
            };
            host.set_param(p.id, v)?;
        }
        five_buffers(&mut host, &format!("all {name}"))?;
    }
    // Changes every 1, 10, 100 and 1000 samples, sample-accurate, over 4 × 1024 samples each.
    for every in [1usize, 10, 100, 1_000] {
        let mut t = 0usize;
        for b in 0..4 {
            let mut changes = Vec::new();
            while t < (b + 1) * 1_024 {
                let p = &params[rng.random_range(0..params.len())];
                changes.push(ParamEv {
                    id: p.id,
                    value: random_value(rng, p),
                    time: (t - b * 1_024) as u32,
                });
                t += every;
            }
            let notes = if b == 0 { chord.clone() } else { Vec::new() };
            let out = host.process_block(&Block {
                frames: 1_024,
                notes: &notes,
                params: &changes,
                ..Block::default()
            })?;
            check(&out.out, &format!("changes every {every}"))?;
            blocks += 1;
        }
    }
    // Values outside the declared range, as a careless host sends them: clamped, never unclean.
    for p in &params {
        for v in [p.min - 1.0, p.max + 1.0, f64::MAX, f64::MIN] {
            host.set_param(p.id, v)?;
        }
    }
    check(&host.process(&chord, 1_024, None)?, "out-of-range values")?;
    for p in &params {
        let v = host.param_value(p.id)?;
        ensure!(
            (p.min..=p.max).contains(&v),
            "{} reads {v} after out-of-range values",
            p.name
        );
    }
    Ok(format!(
        "50 sets × 5 buffers, 3 extremes, changes every 1/10/100/1000 samples, out-of-range values: \
         {blocks} blocks of 1024 clean, peak {peak_seen:.2}"
    ))
}

// ---------------------------------------------------------------------------------------------
// State

/// A state with a memory in it, random knobs and Learn mode: the v1 project (saved in Play
/// mode), loaded and saved by this build.
fn rich_state(rng: &mut XorShiftRng) -> Result<Vec<u8>> {
    let mut host = load()?;
    host.load_state(&memory_state()?)?;
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

fn state_round_trip(rng: &mut XorShiftRng) -> Outcome {
    let first = rich_state(rng)?;
    ensure!(
        memory_of(&first)?["version"] == dar_ddsp_core::live::state::STATE_VERSION,
        "the memory was not brought to this build's version"
    );
    let mut fresh = load()?;
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
        let mut other = load()?;
        other.load_state_chunked(&first, k)?;
        ensure!(
            other.save_state()? == first,
            "loaded in {k}-byte reads: different state"
        );
    }
    // And active: the same bytes, and the same sound from both.
    // Offline, so the learner has taken the loaded memory before the first block plays.
    let mut a = load()?;
    a.set_offline(true)?;
    a.load_state(&first)?;
    a.activate(SR, 512)?;
    let mut b = load()?;
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

fn state_garbage(rng: &mut XorShiftRng) -> Outcome {
    let good = rich_state(rng)?;
    let mut host = load()?;
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

// ---------------------------------------------------------------------------------------------
// MIDI and transport

fn random_transport(rng: &mut XorShiftRng) -> Option<Transport> {
    if rng.random_bool(0.3) {
        return None;
    }
    let wild = [0.0, -120.0, 1e9, f64::NAN, f64::INFINITY, 1e-300];
    let tempo = if rng.random_bool(0.3) {
        wild[rng.random_range(0..wild.len())]
    } else {
        rng.random_range(20.0..300.0)
    };
    Some(Transport {
        playing: rng.random_bool(0.5),
        recording: rng.random_bool(0.2),
        looping: rng.random_bool(0.3),
        tempo,
        beats: rng.random_range(-100.0..1e6),
        seconds: rng.random_range(-10.0..1e5),
        bar_start: rng.random_range(-100.0..1e6),
        bar_number: rng.random_range(i32::MIN..=i32::MAX),
        numerator: rng.random_range(0..=u16::MAX),
        denominator: [0, 1, 2, 4, 8, 16, 3, u16::MAX][rng.random_range(0..8)],
        loop_beats: (
            rng.random_range(-10.0..100.0),
            rng.random_range(-10.0..100.0),
        ),
    })
}

fn midi_fuzz(rng: &mut XorShiftRng) -> Outcome {
    let mut host = load()?;
    host.activate(SR, 1_024)?;
    let mut events = 0;
    for _ in 0..1_500 {
        let frames = rng.random_range(1..=1_024);
        let mut notes = Vec::new();
        let mut extra = Vec::new();
        for _ in 0..rng.random_range(0..8) {
            let time = rng.random_range(0..frames) as u32;
            match rng.random_range(0..10) {
                0..=3 => {
                    let velocity = [0.0, 1.0, 2.0, -1.0, f64::NAN, rng.random_range(0.0..1.0)]
                        [rng.random_range(0..6)];
                    notes.push(NoteEv::on(time, rng.random_range(0..=255), velocity));
                }
                // Note-offs mostly for keys never pressed.
                4..=6 => notes.push(NoteEv::off(time, rng.random_range(0..=255))),
                7 => extra.push(Extra::AllNotesOff(time)),
                8 => extra.push(Extra::ChokeAll(time)),
                _ => extra.push(Extra::Midi(
                    time,
                    [rng.random(), rng.random(), rng.random()],
                )),
            }
        }
        // Sorted by time, with CLAP's stable order at equal times.
        notes.sort_by_key(|n| n.time);
        extra.sort_by_key(|e| match *e {
            Extra::AllNotesOff(t) | Extra::ChokeAll(t) | Extra::Midi(t, _) => t,
        });
        events += notes.len() + extra.len();
        let out = host.process_block(&Block {
            frames,
            notes: &notes,
            extra: &extra,
            transport: random_transport(rng),
            ..Block::default()
        })?;
        ensure_clean(&out.out, "midi fuzz")?;
    }
    // All notes off, then the release tail dies away: no stuck note.
    host.process_block(&Block {
        frames: 1,
        extra: &[Extra::AllNotesOff(0)],
        ..Block::default()
    })?;
    let tail = render(&mut host, &[], (3.0 * SR) as usize, 1_024)?;
    let last = &tail[0][tail[0].len() - 4_800..];
    ensure!(
        peak(last) < 1e-4,
        "a note is stuck after all-notes-off: peak {}",
        peak(last)
    );
    // MIDI 1.0 CC 123 (all notes off) ends notes too.
    host.process(&[NoteEv::on(0, 60, 0.9), NoteEv::on(0, 67, 0.9)], 512, None)?;
    host.process_block(&Block {
        frames: 1,
        extra: &[Extra::Midi(0, [0xB0, 123, 0])],
        ..Block::default()
    })?;
    let tail = render(&mut host, &[], (3.0 * SR) as usize, 1_024)?;
    let cc = peak(&tail[0][tail[0].len() - 4_800..]);
    Ok(format!(
        "1500 blocks, {events} events (keys 0–255, velocities incl. NaN and < 0, orphan note-offs, \
         wildcards, random MIDI bytes), random or null transport incl. tempo 0/NaN/∞ and \
         denominator 0: clean; silent after all-notes-off; after CC 123 the tail peaks {cc:.1e}"
    ))
}

// ---------------------------------------------------------------------------------------------
// Hostile sidechain

fn hostile(rng: &mut XorShiftRng) -> Outcome {
    let mut host = load()?;
    host.load_state(&memory_state()?)?;
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
    let mut fresh = load()?;
    fresh.load_state(&state)?;
    fresh.activate(SR, 1_024)?;
    render(&mut fresh, &[NoteEv::on(0, 60, 0.8)], 9_600, 1_024)?;
    Ok(format!(
        "NaN, ±Inf, mixed: output clean, memory unchanged ({n_before} prototypes); then an organ \
         note with every 97th sample non-finite, denormals, DC, clipping, ±8 full scale, noise, \
         30 s silence: clean, memory finite with weights in 0–1 ({n_after} prototypes), reloads"
    ))
}

// ---------------------------------------------------------------------------------------------
// Concurrency

fn concurrency(rng: &mut XorShiftRng) -> Outcome {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;
    let states = [rich_state(rng)?, rich_state(rng)?];
    let bass = recording("fingered_bass.wav")?;
    let mut host = load()?;
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
            let deadline = Instant::now() + Duration::from_secs(300);
            while !done.load(Ordering::Acquire) {
                ensure!(
                    Instant::now() < deadline,
                    "the audio thread made no progress for 300 s (deadlock?)"
                );
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

// ---------------------------------------------------------------------------------------------
// Faults

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

fn fault_panic(_: &mut XorShiftRng) -> Outcome {
    let base = threads()?;
    let level = with_fault("panic", || {
        let mut host = load()?;
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

fn fault_starve(_: &mut XorShiftRng) -> Outcome {
    let base = threads()?;
    let (wall, stop) = with_fault("slow=250", || {
        let mut host = load()?;
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

fn fault_no_deactivate(_: &mut XorShiftRng) -> Outcome {
    let base = threads()?;
    let mut host = load()?;
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

fn fault_unload(rng: &mut XorShiftRng) -> Outcome {
    let base = threads()?;
    let mut worst = Duration::ZERO;
    for round in 0..5 {
        let mut host = load()?;
        host.activate(SR, 256)?;
        // The bass's first note is recognised (a prototype appears in the state), then refined
        // on the learner thread for about a second once it ends: unload somewhere in there.
        play_with_sidechain(&mut host, 2.5, 256)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let saved = loop {
            let state = host.save_state()?;
            let protos = memory_of(&state)?["prototypes"]
                .as_array()
                .map_or(0, Vec::len);
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
        let mut fresh = load()?;
        fresh.load_state(&saved)?;
        ensure_memory_sane(&memory_of(&saved)?)?;
    }
    Ok(format!(
        "5 unloads while learning (0–0.3 s after the first prototype appeared): threads back when \
         unload returned, the state saved just before loads whole; slowest unload {:.0} ms",
        worst.as_secs_f64() * 1e3
    ))
}

// ---------------------------------------------------------------------------------------------
// Soak

fn soak(_: &mut XorShiftRng) -> Outcome {
    const BLOCK: usize = 64;
    const LEARN_MINUTES: usize = 10;
    let hours: f64 = std::env::var("CONFORMANCE_SOAK_HOURS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let mut sidechain = Vec::new();
    for n in [
        "fingered_bass.wav",
        "church_organ.wav",
        "flute.wav",
        "saw_lead.wav",
    ] {
        sidechain.extend(recording(n)?);
    }
    let total = (hours * 3_600.0 * SR) as usize;
    let mut host = load()?;
    host.activate(SR, BLOCK as u32)?;
    let minute = (60.0 * SR) as usize;
    let mut rss = Vec::new();
    let mut worst = Duration::ZERO;
    let mut pos = 0;
    let cycle = (2.0 * SR) as usize;
    let mut notes = Vec::with_capacity(16);
    let mut peak_seen = 0.0f32;
    let mut series = Vec::new();
    let mb = |b: f64| b / (1 << 20) as f64;
    // Block times in 10 µs bins up to 50 ms, allocated before the soak so it measures itself
    // out of the resident memory it judges.
    let mut histogram = vec![0u32; 5_000];
    let mode = param(&host.params()?, "Mode")?.id;
    // Learn for ten minutes, then Follow: the sidechain keeps playing and the learner keeps
    // recognising notes and publishing the patch to play, but learns nothing more. Learning
    // itself takes memory as it goes (prototypes, their banks of notes, up to a fixed budget),
    // so flatness is judged from the eleventh minute.
    let follow_at = (LEARN_MINUTES * minute) / BLOCK * BLOCK;
    while pos < total {
        if pos == follow_at {
            host.set_param(mode, 1.0)?;
        }
        notes.clear();
        if pos % cycle < BLOCK {
            notes.extend((0..16).map(|k| NoteEv::on(0, 36 + 3 * k as u8, 0.8)));
        } else if (pos + cycle / 2) % cycle < BLOCK {
            notes.extend((0..16).map(|k| NoteEv::off(0, 36 + 3 * k as u8)));
        }
        let at = pos % (sidechain.len() - BLOCK);
        let chans: [&[f32]; 1] = [&sidechain[at..at + BLOCK]];
        let b = host.process_block(&Block {
            frames: BLOCK,
            notes: &notes,
            sidechain: Sidechain::Audio(&chans),
            ..Block::default()
        })?;
        if let Some((i, x)) = first_unclean(&b.out[0]) {
            bail!("unclean sample {x:e} at {}", pos + i);
        }
        peak_seen = peak_seen.max(peak(&b.out[0]));
        worst = worst.max(b.elapsed);
        histogram[((b.elapsed.as_micros() / 10) as usize).min(4_999)] += 1;
        pos += BLOCK;
        if pos % minute < BLOCK {
            rss.push(resident()?);
            if rss.len() % 5 == 0 {
                let protos = memory_of(&host.save_state()?)?["prototypes"]
                    .as_array()
                    .map_or(0, Vec::len);
                series.push(format!(
                    "{}′ {:.0} MB {protos} p",
                    rss.len(),
                    mb(rss[rss.len() - 1] as f64)
                ));
            }
        }
    }
    ensure!(peak_seen <= BOUND, "peak {peak_seen}");
    ensure!(
        rss.len() >= 2 * LEARN_MINUTES,
        "too short a soak to judge memory"
    );
    let from = rss[LEARN_MINUTES];
    let to = *rss.last().context("no sample")?;
    let grown = to as f64 - from as f64;
    ensure!(
        grown < 2.0 * (1 << 20) as f64,
        "resident memory grew {:.1} MB from minute {} to the end ({:.1} → {:.1} MB; {})",
        mb(grown),
        LEARN_MINUTES + 1,
        mb(from as f64),
        mb(to as f64),
        series.join(", ")
    );
    let protos = ensure_memory_sane(&memory_of(&host.save_state()?)?)?;
    let blocks = total / BLOCK;
    let mut seen = 0u64;
    let p999 = histogram
        .iter()
        .position(|&n| {
            seen += u64::from(n);
            seen as f64 >= 0.999 * blocks as f64
        })
        .map_or(50.0, |bin| bin as f64 * 0.01);
    // The block's own duration, 1.33 ms.
    let budget_bin = (BLOCK as f64 / SR * 1e5) as usize;
    let late: u32 = histogram[budget_bin..].iter().sum();
    Ok(format!(
        "{hours:.2} h of audio ({blocks} blocks), 16 voices, the recordings looping in the \
         sidechain, {LEARN_MINUTES} min learning ({protos} prototypes) then following: clean, \
         peak {peak_seen:.2}; blocks p99.9 {p999:.2} ms, worst {:.2} ms, {late} over their \
         1.33 ms; resident {:.1} MB at minute 1, {:.1} MB at minute {}, {:.1} MB at the end \
         (limit +2 MB from minute {})",
        worst.as_secs_f64() * 1e3,
        mb(rss[0] as f64),
        mb(from as f64),
        LEARN_MINUTES + 1,
        mb(to as f64),
        LEARN_MINUTES + 1
    ))
}
