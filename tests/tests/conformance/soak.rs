//! The soak: an hour of 64-sample blocks with resident memory flat.

use crate::Outcome;
use crate::memory::ensure_memory_sane;
use crate::play::{BOUND, SR, recording};
use anyhow::{Context, bail, ensure};
use dar_ddsp_tests::analysis::{first_unclean, peak};
use dar_ddsp_tests::project::{memory_of, prototype_count};
use dar_ddsp_tests::usage::resident_bytes;
use dar_ddsp_tests::{Block, NoteEv, Sidechain, load_plugin, param};
use rand_xorshift::XorShiftRng;
use std::time::Duration;

pub fn soak(_: &mut XorShiftRng) -> Outcome {
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
    let mut host = load_plugin()?;
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
            rss.push(resident_bytes()?);
            if rss.len() % 5 == 0 {
                let protos = prototype_count(&host.save_state()?)?;
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
