//! `dar-ddsp preset …`: look into, combine, list and make presets, and find a preset by file
//! or by name (factory presets, then the user's preset directory).

use anyhow::{Context, Result, bail};
use dar_ddsp_core::live::MAX_PROTOTYPES;
use dar_ddsp_core::memory::encoder::EncoderWeights;
use dar_ddsp_core::plant::P;
use dar_ddsp_core::store::factory;
use dar_ddsp_core::store::preset::{self, Loaded, Preset};
use std::path::Path;

/// Opens preset `what`: a file path, else a factory preset's name, else a preset in the user's
/// directory by name (without `.json`). Prints a notice when prototypes were re-embedded.
/// Allocates.
pub fn open(what: &str, weights: &EncoderWeights) -> Result<Loaded> {
    let path = Path::new(what);
    let loaded = if path.is_file() {
        Preset::load(path, weights)?
    } else if let Some(found) = factory::load(what, weights) {
        found?
    } else if let Some(user) = preset::user_dir()
        .map(|d| d.join(format!("{what}.{}", preset::EXTENSION)))
        .filter(|p| p.is_file())
    {
        Preset::load(&user, weights)?
    } else if path.exists() {
        bail!("{what}: not a file")
    } else {
        bail!(
            "{what}: no such file, and no factory or user preset of that name (`dar-ddsp preset \
             list` lists them)"
        )
    };
    if let Some(notice) = loaded.notice() {
        eprintln!("{what}: {notice}");
    }
    Ok(loaded)
}

/// `preset info`: a summary of the preset and its prototypes.
pub fn info(what: &str) -> Result<()> {
    let weights = EncoderWeights::shipped()?;
    let loaded = open(what, &weights)?;
    let p = &loaded.preset;
    let s = &p.settings;
    println!(
        "{what}: DAR-DDSP preset, version {} (this program writes {}), encoder {}",
        loaded.version,
        preset::VERSION,
        p.encoder
    );
    println!(
        "settings: vigilance {:.2}, learn rate {:.3}, resonance {:.2}",
        s.vigilance, s.learn_rate, s.resonance
    );
    let active = p
        .active
        .and_then(|a| {
            p.prototypes
                .get(a)
                .map(|q| format!(" (active: {} \"{}\")", a + 1, q.name))
        })
        .unwrap_or_default();
    println!("{} prototype(s){active}", p.prototypes.len());
    if p.prototypes.is_empty() {
        return Ok(());
    }
    println!(
        "{:>3}  {:<20} {:>5} {:>6} {:>7} {:>9} {:>7} {:>6}  sources",
        "#", "name", "uses", "locked", "loss", "cutoff", "attack", "gain"
    );
    for (i, q) in p.prototypes.iter().enumerate() {
        let loss = if q.loss.is_finite() {
            format!("{:.4}", q.loss)
        } else {
            "—".into()
        };
        println!(
            "{:>3}  {:<20} {:>5} {:>6} {:>7} {:>6.0} Hz {:>5.3} s {:>3.0} dB  {}",
            i + 1,
            q.name,
            q.uses,
            if q.locked { "yes" } else { "no" },
            loss,
            q.theta[P::Cutoff as usize],
            q.theta[P::AmpAttack as usize],
            q.theta[P::Gain as usize],
            q.sources.join(", ")
        );
    }
    Ok(())
}

/// `preset merge`: `a`'s memory followed by `b`'s, written atomically to `out`.
pub fn merge(a: &str, b: &str, out: &Path) -> Result<()> {
    let weights = EncoderWeights::shipped()?;
    let (pa, pb) = (open(a, &weights)?, open(b, &weights)?);
    let merged = pa
        .preset
        .merge(&pb.preset, MAX_PROTOTYPES)
        .with_context(|| format!("merging {a} and {b}"))?;
    merged.save(out)?;
    eprintln!(
        "{}: {} + {} = {} prototype(s)",
        out.display(),
        pa.preset.prototypes.len(),
        pb.preset.prototypes.len(),
        merged.prototypes.len()
    );
    Ok(())
}

/// `preset list`: the factory presets and the user's, each with its prototypes.
pub fn list() -> Result<()> {
    let weights = EncoderWeights::shipped()?;
    println!("factory presets:");
    for (name, _) in factory::PRESETS {
        match factory::load(name, &weights) {
            Some(Ok(l)) => println!("  {name:<16} {}", names(&l.preset)),
            Some(Err(e)) => println!("  {name:<16} unreadable: {e}"),
            None => {}
        }
    }
    match preset::user_dir() {
        None => println!("user presets: no home directory, so no user preset directory"),
        Some(dir) => {
            let files = preset::files_in(&dir);
            println!("user presets in {} ({}):", dir.display(), files.len());
            for f in files {
                let name = f
                    .file_stem()
                    .map_or_else(String::new, |n| n.to_string_lossy().into());
                match Preset::load(&f, &weights) {
                    Ok(l) => println!("  {name:<16} {}", names(&l.preset)),
                    Err(e) => println!("  {name:<16} unreadable: {e}"),
                }
            }
        }
    }
    Ok(())
}

/// `preset design`: writes the designed factory patches.
pub fn design(out: &Path) -> Result<()> {
    let preset = factory::designed(&EncoderWeights::shipped()?);
    preset.save(out)?;
    eprintln!("{}: {}", out.display(), names(&preset));
    Ok(())
}

fn names(p: &Preset) -> String {
    let names: Vec<&str> = p.prototypes.iter().map(|q| q.name.as_str()).collect();
    format!("{} prototype(s): {}", names.len(), names.join(", "))
}
