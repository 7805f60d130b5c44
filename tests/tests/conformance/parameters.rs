//! Parameters: defaults, text conversions, flush against process events, and fuzz.

use crate::Outcome;
use crate::play::{SR, all_notes_off, ensure_clean, render};
use crate::random::random_value;
use anyhow::{Context, Result, ensure};
use dar_ddsp_tests::analysis::peak;
use dar_ddsp_tests::{Block, ClapHost, NoteEv, ParamEv, load_plugin};
use rand::RngExt;
use rand_xorshift::XorShiftRng;

pub fn param_defaults(_: &mut XorShiftRng) -> Outcome {
    let mut host = load_plugin()?;
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

pub fn param_text(rng: &mut XorShiftRng) -> Outcome {
    let mut host = load_plugin()?;
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
            if p.stepped {
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

pub fn param_flush(rng: &mut XorShiftRng) -> Outcome {
    let probe = load_plugin()?.params()?;
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
        let mut host = load_plugin()?;
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

pub fn param_fuzz(rng: &mut XorShiftRng) -> Outcome {
    let mut host = load_plugin()?;
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
