//! Scanning: the descriptor, features, ports and parameters a DAW reads, and 100 instances
//! created and destroyed.

use crate::Outcome;
use crate::threads::{learners, settle};
use anyhow::ensure;
use dar_ddsp_tests::usage::threads;
use dar_ddsp_tests::{ClapHost, PLUGIN_ID, clap_bundle, load_plugin, scan};
use rand_xorshift::XorShiftRng;
use std::time::{Duration, Instant};

pub fn scan_metadata(_: &mut XorShiftRng) -> Outcome {
    let descriptors = scan(&clap_bundle()?)?;
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
        d.version.trim_end_matches("+debug") == env!("CARGO_PKG_VERSION"),
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
    let mut host = load_plugin()?;
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

pub fn scan_100(_: &mut XorShiftRng) -> Outcome {
    let path = clap_bundle()?;
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
