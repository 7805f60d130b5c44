//! Factory presets: the files in `presets/`, built into the program so the plugin and the
//! command line offer them without an installed data directory. Most are learned from the
//! recordings in `../shared/eval` by `cargo xtask presets` (which runs `dar-ddsp learn`); one
//! holds designed patches, defined here by hand and embedded like any other patch.

use crate::live::state::REEMBED_RATE;
use crate::memory::art::Prototype;
use crate::memory::encoder::{Encoder, EncoderWeights};
use crate::plant::{SPECS, Theta, default_theta};
use crate::store::preset::{Loaded, Preset, PresetError, Settings};

/// Name of the designed-patch preset (its file is `presets/<name>.json`).
pub const DESIGNED: &str = "designed";

/// The factory presets: (name, JSON), in `presets/` name order.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "church_organ",
        include_str!("../../../presets/church_organ.json"),
    ),
    ("clarinet", include_str!("../../../presets/clarinet.json")),
    ("designed", include_str!("../../../presets/designed.json")),
    ("ensemble", include_str!("../../../presets/ensemble.json")),
    (
        "fingered_bass",
        include_str!("../../../presets/fingered_bass.json"),
    ),
    ("flute", include_str!("../../../presets/flute.json")),
    ("saw_lead", include_str!("../../../presets/saw_lead.json")),
    (
        "square_lead",
        include_str!("../../../presets/square_lead.json"),
    ),
    ("trumpet", include_str!("../../../presets/trumpet.json")),
    ("violin", include_str!("../../../presets/violin.json")),
];

/// Hand-made patches: name and the knobs that differ from the defaults (musical units).
const PATCHES: &[(&str, &[(&str, f32)])] = &[
    (
        "bright saw",
        &[
            ("saw", 1.0),
            ("cutoff", 6_000.0),
            ("res", 1.2),
            ("fenv", 1.0),
            ("key", 0.5),
            ("amp_d", 0.3),
            ("amp_s", 0.85),
            ("amp_r", 0.25),
            ("flt_d", 0.4),
            ("flt_s", 0.6),
            ("gain", -14.0),
        ],
    ),
    (
        "dark square",
        &[
            ("saw", 0.0),
            ("pulse", 1.0),
            ("width", 0.5),
            ("cutoff", 650.0),
            ("res", 0.9),
            ("fenv", 0.8),
            ("key", 0.3),
            ("amp_a", 0.01),
            ("amp_s", 0.8),
            ("amp_r", 0.2),
            ("gain", -10.0),
        ],
    ),
    (
        "breathy flute",
        &[
            ("saw", 0.04),
            ("sine", 0.9),
            ("noise", 0.22),
            ("cutoff", 2_600.0),
            ("res", 0.8),
            ("fenv", 0.5),
            ("key", 0.6),
            ("amp_a", 0.08),
            ("amp_d", 0.3),
            ("amp_s", 0.9),
            ("amp_r", 0.15),
            ("flt_a", 0.06),
            ("gain", -8.0),
        ],
    ),
    (
        "soft pad",
        &[
            ("saw", 0.5),
            ("pulse", 0.4),
            ("width", 0.3),
            ("cutoff", 1_200.0),
            ("fenv", 1.0),
            ("amp_a", 0.6),
            ("amp_d", 1.5),
            ("amp_s", 0.8),
            ("amp_r", 1.2),
            ("flt_a", 0.8),
            ("flt_d", 2.0),
            ("flt_s", 0.5),
            ("flt_r", 1.0),
            ("gain", -12.0),
        ],
    ),
    (
        "pluck",
        &[
            ("saw", 0.7),
            ("pulse", 0.3),
            ("cutoff", 400.0),
            ("res", 2.0),
            ("fenv", 3.5),
            ("key", 0.5),
            ("amp_d", 0.6),
            ("amp_s", 0.0),
            ("amp_r", 0.3),
            ("flt_d", 0.25),
            ("flt_s", 0.0),
            ("gain", -9.0),
        ],
    ),
];

/// θ of one designed patch.
fn theta_of(knobs: &[(&str, f32)]) -> Theta<f32> {
    let mut theta = default_theta();
    for (id, v) in knobs {
        if let Some(k) = SPECS.iter().position(|s| s.id == *id) {
            theta[k] = SPECS[k].sanitize(*v);
        }
    }
    theta
}

/// The designed patches as a preset for encoder `weights` (each embedded from renders of
/// itself). Allocates.
pub fn designed(weights: &EncoderWeights) -> Preset {
    let mut encoder = Encoder::new(weights.clone(), REEMBED_RATE);
    let prototypes = PATCHES
        .iter()
        .map(|(name, knobs)| {
            let theta = theta_of(knobs);
            Prototype {
                weights: crate::memory::reembed::weights_for(&theta, &mut encoder, REEMBED_RATE),
                theta,
                name: (*name).into(),
                uses: 0,
                created: 0.0,
                last_matched: 0.0,
                locked: true,
                loss: f32::INFINITY,
                sources: Vec::new(),
            }
        })
        .collect();
    Preset {
        encoder: weights.identity(),
        settings: Settings::default(),
        prototypes,
        active: Some(0),
        kept: Vec::new(),
        own_db: Vec::new(),
    }
}

/// Factory preset `name`, read for encoder `weights`. `None` if there is no such preset.
/// Allocates.
pub fn load(name: &str, weights: &EncoderWeights) -> Option<Result<Loaded, PresetError>> {
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| Preset::from_json(text, &format!("factory preset {n}"), weights))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::units::note_to_hz;
    use crate::plant::render::{NoteEvent, render_performance};

    fn weights() -> EncoderWeights {
        EncoderWeights::shipped().expect("shipped encoder")
    }

    #[test]
    fn every_file_in_presets_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../presets");
        let files: Vec<String> = crate::store::preset::files_in(&dir)
            .iter()
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        let built_in: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        assert_eq!(files, built_in);
    }

    #[test]
    fn the_designed_preset_is_what_the_code_makes() {
        let made = designed(&weights()).to_json();
        let shipped = PRESETS
            .iter()
            .find(|(n, _)| *n == DESIGNED)
            .map(|(_, t)| *t)
            .expect("designed preset");
        assert_eq!(
            made.trim_end(),
            shipped.trim_end(),
            "run `cargo xtask presets`"
        );
    }

    /// Every factory preset loads for the shipped encoder as it is (no re-embedding) and every
    /// prototype in it plays: a finite, audible note at three pitches.
    #[test]
    fn every_factory_preset_loads_and_every_prototype_plays() {
        let w = weights();
        let sr = 48_000.0;
        let mut total = 0;
        for (name, _) in PRESETS {
            let loaded = load(name, &w).expect("listed").expect("loads");
            assert_eq!(loaded.reembedded, 0, "{name} was made with another encoder");
            assert!(!loaded.preset.prototypes.is_empty(), "{name} is empty");
            for p in &loaded.preset.prototypes {
                for note in [40.0, 60.0, 76.0] {
                    let events = [NoteEvent {
                        onset: 0,
                        release: 24_000,
                        f0_hz: note_to_hz(note),
                        velocity: 0.8,
                    }];
                    let audio = render_performance(&p.theta, &events, sr, 36_000);
                    let rms =
                        (audio.iter().map(|x| x * x).sum::<f32>() / audio.len() as f32).sqrt();
                    assert!(audio.iter().all(|x| x.is_finite()), "{name}/{}", p.name);
                    assert!(rms > 1e-3, "{name}/{} is silent at note {note}", p.name);
                }
                total += 1;
            }
        }
        assert!(total >= PRESETS.len());
    }
}
