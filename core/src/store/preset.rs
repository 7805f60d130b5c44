//! The preset file: a learned memory to keep, share and ship. Versioned JSON: the format name,
//! the version, the encoder identity, the learning settings, and the memory exactly as the
//! plugin's state stores it ([`crate::live::state`]): every prototype with its
//! complement-coded weights and its θ as *named* values. `presets/README.md` documents it with
//! an example.
//!
//! Reading validates everything before returning and never panics; a file this build cannot
//! use is refused with a message naming the problem, and the caller's memory is untouched.
//! Prototypes learned with another encoder (or from a version-1 file, which had no weights) are
//! re-embedded from their θ ([`crate::memory::reembed`]) and the load says so. Writing is atomic
//! (temporary file, sync, rename).

use crate::learning::reservoir::Reservoir;
use crate::live::state::{MemoryState, REEMBED_RATE, STATE_VERSION, SavedPrototype, StateError};
use crate::memory::art::{MAX_CAPACITY, Prototype};
use crate::memory::encoder::{EMBED_DIM, EncoderWeights};
use crate::store::atomic::write_atomically;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The `format` field of every preset.
pub const FORMAT: &str = "dar-ddsp-preset";
/// The version this build writes and the newest it reads (the memory's version).
pub const VERSION: u32 = STATE_VERSION;
/// Largest preset file read, bytes (a full memory of 1024 prototypes is about 2 MB; kept notes
/// add at most about 11 MB).
pub const MAX_BYTES: u64 = 16 << 20;
/// File extension of presets.
pub const EXTENSION: &str = "json";
/// Sample rate of the kept notes a preset carries, Hz (the encoder's training rate; notes
/// learned at another rate are left out, and their prototype then guards its own sound).
pub const KEPT_RATE: f32 = REEMBED_RATE;

/// Why a preset could not be read or written. Each variant says what the user should do.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// The file could not be opened, read or written: check the path and permissions.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Larger than [`MAX_BYTES`]: not a preset.
    #[error("{path}: {bytes} bytes is too large for a preset (limit {MAX_BYTES})")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        bytes: u64,
    },
    /// Not JSON, or not shaped like a preset: the file is damaged or is something else.
    #[error("{path}: not a DAR-DDSP preset: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// What was wrong, with the JSON position when there is one.
        reason: String,
    },
    /// Written by a newer DAR-DDSP: update the program.
    #[error(
        "{path}: preset version {found} is newer than this program reads ({VERSION}); update DAR-DDSP"
    )]
    NewerVersion {
        /// The file.
        path: String,
        /// The version in the file.
        found: u32,
    },
    /// Shaped like a preset, but its memory cannot be used (damaged values, too many
    /// prototypes): the message names the prototype and the problem.
    #[error("{path}: {source}")]
    Memory {
        /// The file.
        path: String,
        /// What is wrong with the memory.
        source: StateError,
    },
}

/// The learning settings a memory was built with; loading a preset in the plugin sets them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Vigilance ρ, 0–1.
    pub vigilance: f32,
    /// The optimizer's base learning rate α, 0–1.
    pub learn_rate: f32,
    /// λ_ART, the weight of the resonance regularizer, 0–100.
    pub resonance: f32,
}

impl Default for Settings {
    fn default() -> Self {
        let live = crate::live::LiveSettings::default();
        Self {
            vigilance: live.vigilance,
            learn_rate: live.learn_rate,
            resonance: live.resonance,
        }
    }
}

impl Settings {
    /// What is wrong with these settings, if anything.
    fn problem(&self) -> Option<String> {
        let ok = |v: f32, lo: f32, hi: f32| v.is_finite() && (lo..=hi).contains(&v);
        if !ok(self.vigilance, 0.0, 1.0) {
            Some(format!("vigilance {} is outside 0–1", self.vigilance))
        } else if !(ok(self.learn_rate, 0.0, 1.0) && self.learn_rate > 0.0) {
            Some(format!("learn_rate {} is outside (0, 1]", self.learn_rate))
        } else if !ok(self.resonance, 0.0, 100.0) {
            Some(format!("resonance {} is outside 0–100", self.resonance))
        } else {
            None
        }
    }
}

/// A preset: a memory fitted to one encoder, and the settings it was learned with.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Identity of the encoder the prototypes' weights belong to.
    pub encoder: String,
    /// Learning settings.
    pub settings: Settings,
    /// The prototypes, in memory order.
    pub prototypes: Vec<Prototype>,
    /// The prototype that was playing.
    pub active: Option<usize>,
    /// Each prototype's kept notes at [`KEPT_RATE`], parallel to `prototypes`; empty when the
    /// preset carries none (the factory presets, and `dar-ddsp learn` without
    /// `--keep-notes`). Written thinned to the stored memory's bound.
    pub kept: Vec<Reservoir>,
    /// Each prototype's own distance over its kept notes, dB, parallel to `kept`.
    pub own_db: Vec<Option<f32>>,
}

/// A preset as read, with what had to be done to use it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The preset, fitted to the encoder it was loaded for.
    pub preset: Preset,
    /// The file's version (older ones are migrated).
    pub version: u32,
    /// Prototypes that got new weights from their θ (learned with another encoder, or from a
    /// version-1 file).
    pub reembedded: usize,
}

impl Loaded {
    /// A line for the user about migration and re-embedding; `None` when nothing was done.
    pub fn notice(&self) -> Option<String> {
        (self.reembedded > 0).then(|| {
            let why = if self.version < 2 {
                "the file is version 1, which stored no embedding"
            } else {
                "it was learned with another encoder"
            };
            format!(
                "{} prototype(s) re-embedded from their patches: {why}",
                self.reembedded
            )
        })
    }
}

/// Version 2, as written.
#[derive(Serialize, Deserialize)]
struct FileV2 {
    format: String,
    version: u32,
    encoder: String,
    embedding: usize,
    settings: Settings,
    active: Option<usize>,
    prototypes: Vec<SavedPrototype>,
}

/// Version 1: θ only, no weights, no encoder.
#[derive(Deserialize)]
struct FileV1 {
    vigilance: f32,
    prototypes: Vec<PrototypeV1>,
}

#[derive(Deserialize)]
struct PrototypeV1 {
    name: String,
    theta: BTreeMap<String, f32>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    loss: Option<f32>,
}

/// Just the header, read first so a newer version is reported as such and not as malformed.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

impl Preset {
    /// The preset carrying `kept` and `own_db` (parallel to its prototypes), or nothing kept
    /// when every reservoir is empty.
    pub fn carrying(self, kept: Vec<Reservoir>, own_db: Vec<Option<f32>>) -> Self {
        if kept.iter().any(|r| !r.is_empty()) {
            Self {
                kept,
                own_db,
                ..self
            }
        } else {
            Self {
                kept: Vec::new(),
                own_db: Vec::new(),
                ..self
            }
        }
    }

    /// Serialises to pretty JSON. Allocates.
    pub fn to_json(&self) -> String {
        let memory = if self.kept.iter().any(|r| !r.is_empty()) {
            MemoryState::with_kept(
                &self.prototypes,
                self.active,
                &self.encoder,
                &self.kept,
                &self.own_db,
                KEPT_RATE,
            )
        } else {
            MemoryState::of(&self.prototypes, self.active, &self.encoder)
        };
        let file = FileV2 {
            format: FORMAT.into(),
            version: VERSION,
            encoder: self.encoder.clone(),
            embedding: EMBED_DIM,
            settings: self.settings,
            active: self.active,
            prototypes: memory.prototypes,
        };
        // Strings, finite numbers and maps always serialise.
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Parses and validates preset JSON for encoder `weights`; `path` names the source in
    /// errors. Allocates.
    pub fn from_json(
        text: &str,
        path: &str,
        weights: &EncoderWeights,
    ) -> Result<Loaded, PresetError> {
        let malformed = |reason: String| PresetError::Malformed {
            path: path.into(),
            reason,
        };
        let header: Header = serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
        if header.format != FORMAT {
            return Err(malformed(format!(
                "format is \"{}\", expected \"{FORMAT}\"",
                header.format
            )));
        }
        if header.version > VERSION {
            return Err(PresetError::NewerVersion {
                path: path.into(),
                found: header.version,
            });
        }
        let (settings, memory) = match header.version {
            0 => return Err(malformed("version 0 does not exist".into())),
            1 => {
                let v1: FileV1 =
                    serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
                let settings = Settings {
                    vigilance: v1.vigilance,
                    ..Settings::default()
                };
                (settings, migrate_v1(v1))
            }
            _ => {
                let v2: FileV2 =
                    serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
                let memory = MemoryState {
                    version: v2.version,
                    encoder: v2.encoder,
                    embedding: v2.embedding,
                    active: v2.active,
                    prototypes: v2.prototypes,
                };
                (v2.settings, memory)
            }
        };
        if let Some(problem) = settings.problem() {
            return Err(malformed(problem));
        }
        let restored =
            memory
                .restore(weights, MAX_CAPACITY)
                .map_err(|source| PresetError::Memory {
                    path: path.into(),
                    source,
                })?;
        Ok(Loaded {
            preset: Preset {
                encoder: weights.identity(),
                settings,
                prototypes: restored.prototypes,
                active: restored.active,
                kept: Vec::new(),
                own_db: Vec::new(),
            }
            .carrying(restored.kept, restored.own_db),
            version: header.version,
            reembedded: restored.reembedded,
        })
    }

    /// Reads and validates a preset file (at most [`MAX_BYTES`]) for encoder `weights`.
    /// Allocates.
    ///
    /// ```
    /// use dar_ddsp_core::memory::encoder::EncoderWeights;
    /// use dar_ddsp_core::store::preset::Preset;
    ///
    /// let weights = EncoderWeights::shipped()?;
    /// let path = std::env::temp_dir().join("dar-ddsp-doctest-designed.json");
    /// // Write a factory preset out as a user would keep it, then open it.
    /// dar_ddsp_core::store::factory::load("designed", &weights).unwrap()?.preset.save(&path)?;
    /// let loaded = Preset::load(&path, &weights)?;
    /// assert_eq!(loaded.preset.prototypes.len(), 5);
    /// println!("{}", loaded.preset.prototypes[0].name);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(path: &Path, weights: &EncoderWeights) -> Result<Loaded, PresetError> {
        let name = path.display().to_string();
        let io = |source| PresetError::Io {
            path: name.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let bytes = file.metadata().map_err(io)?.len();
        if bytes > MAX_BYTES {
            return Err(PresetError::TooLarge { path: name, bytes });
        }
        let mut raw = Vec::new();
        // `take` bounds the read even if the file grows after the size check.
        file.take(MAX_BYTES + 1).read_to_end(&mut raw).map_err(io)?;
        if raw.len() as u64 > MAX_BYTES {
            return Err(PresetError::TooLarge {
                path: name,
                bytes: raw.len() as u64,
            });
        }
        let text = String::from_utf8(raw).map_err(|_| PresetError::Malformed {
            path: name.clone(),
            reason: "not UTF-8 text".into(),
        })?;
        Self::from_json(&text, &name, weights)
    }

    /// Writes the preset atomically: a crash mid-write leaves the old file (if any) whole.
    pub fn save(&self, path: &Path) -> Result<(), PresetError> {
        write_atomically(path, self.to_json().as_bytes()).map_err(|source| PresetError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// `self`'s prototypes followed by `other`'s (both fitted to the same encoder), at most
    /// `capacity`; a name already taken gets a number. Settings and the active prototype are
    /// `self`'s. Allocates.
    pub fn merge(&self, other: &Preset, capacity: usize) -> Result<Preset, StateError> {
        let found = self.prototypes.len() + other.prototypes.len();
        if found > capacity {
            return Err(StateError::TooMany {
                found,
                limit: capacity,
            });
        }
        let mut merged = self.clone();
        if !(self.kept.is_empty() && other.kept.is_empty()) {
            let padded = |p: &Preset| {
                (0..p.prototypes.len())
                    .map(|i| {
                        let kept = p.kept.get(i).cloned().unwrap_or_default();
                        (kept, p.own_db.get(i).copied().flatten())
                    })
                    .collect::<Vec<_>>()
            };
            (merged.kept, merged.own_db) = padded(self).into_iter().chain(padded(other)).unzip();
        }
        for p in &other.prototypes {
            let mut p = p.clone();
            let base = p.name.clone();
            let mut n = 2;
            while merged.prototypes.iter().any(|q| q.name == p.name) {
                p.name = format!("{base} ({n})");
                n += 1;
            }
            merged.prototypes.push(p);
        }
        Ok(merged)
    }
}

/// A version-1 file as a memory without an encoder (so every prototype is re-embedded).
fn migrate_v1(v1: FileV1) -> MemoryState {
    let active = (!v1.prototypes.is_empty()).then_some(0);
    MemoryState {
        version: 1,
        encoder: String::new(),
        embedding: 0,
        active,
        prototypes: v1
            .prototypes
            .into_iter()
            .map(|p| SavedPrototype {
                name: p.name,
                weights: Vec::new(),
                theta: p.theta,
                uses: 0,
                created: 0.0,
                last_matched: 0.0,
                locked: false,
                loss: p.loss,
                sources: p.sources,
                kept: Vec::new(),
                own_db: None,
            })
            .collect(),
    }
}

/// The user's preset directory: `$XDG_DATA_HOME/dar-ddsp/presets` (by default
/// `~/.local/share/dar-ddsp/presets`) on Linux, the platform's data directory elsewhere.
/// `None` when the system names no home directory. Not created here.
pub fn user_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("dar-ddsp").join("presets"))
}

/// The preset files in `dir` (`*.json`), by name; an unreadable or missing directory lists
/// nothing. Allocates.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .is_some_and(|x| x.eq_ignore_ascii_case(EXTENSION))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::art::code;
    use crate::plant::{P, default_theta};

    fn weights() -> EncoderWeights {
        EncoderWeights::shipped().expect("shipped encoder")
    }

    fn proto(name: &str, v: f32) -> Prototype {
        let mut theta = default_theta();
        theta[P::Cutoff as usize] = 1_234.5;
        Prototype {
            weights: code(&[v; EMBED_DIM]),
            theta,
            name: name.into(),
            uses: 7,
            created: 1.0,
            last_matched: 9.5,
            locked: true,
            loss: 0.1,
            sources: vec!["flute.wav".into()],
        }
    }

    fn preset() -> Preset {
        Preset {
            encoder: weights().identity(),
            settings: Settings {
                vigilance: 0.75,
                learn_rate: 0.05,
                resonance: 0.5,
            },
            prototypes: vec![proto("flute", 0.3), proto("oboe", 0.6)],
            active: Some(1),
            kept: Vec::new(),
            own_db: Vec::new(),
        }
    }

    #[test]
    fn round_trips_exactly() {
        let p = preset();
        let back = Preset::from_json(&p.to_json(), "x", &weights()).expect("valid");
        assert_eq!(back.preset, p);
        assert_eq!(
            (back.version, back.reembedded, back.notice()),
            (VERSION, 0, None)
        );
        // Written twice, the bytes are the same.
        assert_eq!(back.preset.to_json(), p.to_json());
    }

    /// A preset may carry its prototypes' kept notes (16-bit PCM, with their references):
    /// they come back note for note, and the file written again is the same.
    #[test]
    fn kept_notes_round_trip() {
        let limits = crate::learning::reservoir::ReservoirLimits::default();
        let mut p = preset();
        let mut r = Reservoir::default();
        let mut group =
            crate::learning::keeper::own_sound(&p.prototypes[0].theta, KEPT_RATE, &limits);
        for (k, n) in group.notes.iter_mut().enumerate() {
            n.reference_db = Some(1.5 + k as f32);
        }
        r.add(group, &limits);
        p.kept = vec![r, Reservoir::default()];
        p.own_db = vec![Some(2.0), None];
        let text = p.to_json();
        let back = Preset::from_json(&text, "x", &weights())
            .expect("valid")
            .preset;
        assert_eq!(back.kept.len(), 2);
        assert_eq!(
            back.kept[0].len(),
            crate::learning::keeper::SEED_NOTES.len()
        );
        assert!(back.kept[1].is_empty());
        assert_eq!(back.own_db, p.own_db);
        let refs: Vec<Option<f32>> = (back.kept[0].groups.iter())
            .flat_map(|g| g.notes.iter().map(|n| n.reference_db))
            .collect();
        assert_eq!(refs, vec![Some(1.5), Some(2.5), Some(3.5)]);
        assert_eq!(back.to_json(), text);
        // Merged with a preset that carries none, the other's prototypes keep nothing.
        let merged = back.merge(&preset(), 16).expect("room");
        assert_eq!(merged.kept.len(), 4);
        assert_eq!(merged.kept[0], back.kept[0]);
        assert!(merged.kept[2..].iter().all(Reservoir::is_empty));
    }

    #[test]
    fn a_version_1_file_migrates_by_reembedding() {
        let text = r#"{"format":"dar-ddsp-preset","version":1,"vigilance":0.7,
            "prototypes":[{"name":"a","theta":{"cutoff":500.0,"future_knob":3.0},
            "sources":["a.wav"],"loss":0.2}]}"#;
        let loaded = Preset::from_json(text, "x", &weights()).expect("valid");
        assert_eq!(loaded.version, 1);
        assert_eq!(loaded.reembedded, 1);
        assert!(loaded.notice().expect("a notice").contains("version 1"));
        let p = &loaded.preset.prototypes[0];
        let mut want = default_theta();
        want[P::Cutoff as usize] = 500.0;
        assert_eq!(p.theta, want);
        assert_eq!(p.sources, vec!["a.wav".to_string()]);
        assert_eq!(loaded.preset.settings.vigilance, 0.7);
        assert_ne!(p.weights, crate::memory::reembed::SILENT);
        // Saved again, it is this version and needs nothing done.
        let again = Preset::from_json(&loaded.preset.to_json(), "y", &weights()).expect("valid");
        assert_eq!(again.preset, loaded.preset);
        assert_eq!(again.reembedded, 0);
    }

    #[test]
    fn another_encoders_preset_is_reembedded_with_a_notice() {
        let mut p = preset();
        p.encoder = "0000000000000000".into();
        let loaded = Preset::from_json(&p.to_json(), "x", &weights()).expect("valid");
        assert_eq!(loaded.reembedded, 2);
        assert!(loaded.notice().expect("notice").contains("another encoder"));
        assert_eq!(loaded.preset.prototypes[0].theta, p.prototypes[0].theta);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let good = preset().to_json();
        let this = format!("\"version\": {VERSION}");
        let cases = [
            (good[..good.len() / 2].to_string(), "EOF"),
            ("[1, 2]".to_string(), "not a DAR-DDSP preset"),
            (good.replace("dar-ddsp-preset", "other"), "format"),
            (good.replace(&this, "\"version\": 9"), "newer"),
            (good.replace(&this, "\"version\": 0"), "version 0"),
            (good.replace("1234.5", "\"loud\""), "invalid type"),
            (good.replace("1234.5", "1e999"), "out of range"),
            (good.replace("1234.5", "NaN"), "expected value"),
            (good.replace("0.75", "7.0"), "vigilance"),
            (
                good.replace("\"embedding\": 16", "\"embedding\": 8"),
                "embedding size 8",
            ),
            (good.replacen("0.3,", "", 1), "wrong embedding size"),
            (good.replacen("0.3,", "1.5,", 1), "weights outside 0–1"),
            (
                good.replace("\"prototypes\"", "\"prototypez\""),
                "missing field",
            ),
        ];
        for (text, want) in cases {
            let err = Preset::from_json(&text, "x", &weights())
                .expect_err(want)
                .to_string();
            assert!(err.contains(want), "{err:?} should mention {want:?}");
        }
        // Too many prototypes.
        let mut many = preset();
        many.prototypes = vec![proto("x", 0.5); MAX_CAPACITY + 1];
        let err = Preset::from_json(&many.to_json(), "x", &weights())
            .expect_err("too many")
            .to_string();
        assert!(err.contains("1025 prototypes"), "{err}");
    }

    #[test]
    fn merging_keeps_both_memories_and_renames_clashes() {
        let a = preset();
        let merged = a.merge(&a, 256).expect("fits");
        let names: Vec<_> = merged.prototypes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["flute", "oboe", "flute (2)", "oboe (2)"]);
        assert_eq!(merged.settings, a.settings);
        assert!(matches!(
            a.merge(&a, 3),
            Err(StateError::TooMany { found: 4, .. })
        ));
    }

    #[test]
    fn saving_is_atomic_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("dar-ddsp-preset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("p.json");
        std::fs::write(&path, "old").expect("write");
        preset().save(&path).expect("save");
        assert_eq!(
            Preset::load(&path, &weights()).expect("load").preset,
            preset()
        );
        let names: Vec<_> = std::fs::read_dir(&dir).expect("dir").flatten().collect();
        assert_eq!(names.len(), 1);
        assert_eq!(files_in(&dir), vec![path.clone()]);
        // Saving into a missing directory fails and creates nothing (that a failed write keeps
        // the old file is `store::atomic`'s test).
        assert!(preset().save(&dir.join("missing/p.json")).is_err());
        assert!(!dir.join("missing").exists());
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 1);
        // A file of 1 GB (sparse: no disk used) is refused by its size before it is read.
        let big = dir.join("big.json");
        std::fs::File::create(&big)
            .and_then(|f| f.set_len(1 << 30))
            .expect("sparse file");
        let err = Preset::load(&big, &weights())
            .expect_err("1 GB")
            .to_string();
        assert!(err.contains("too large"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
