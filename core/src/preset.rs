//! The preset file: versioned JSON holding learned patches (prototypes) with θ as named values.
//!
//! Version 1 (this issue's format; the memory issue adds the embedding weights):
//!
//! ```json
//! { "format": "dar-ddsp-preset", "version": 1, "vigilance": 0.8,
//!   "prototypes": [ { "name": "flute", "theta": { "saw": 0.12, "cutoff": 2400.0, ... },
//!                     "sources": ["flute.wav"], "loss": 0.08 } ] }
//! ```
//!
//! θ is keyed by the stable parameter ids of [`crate::plant::SPECS`], so adding a parameter later
//! does not break old files: a missing id takes its default, an unknown one is ignored. Reading
//! validates everything before returning; writing is atomic (temporary file, then rename).

use crate::plant::{SPECS, Theta, default_theta};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

/// The `format` field of every preset.
pub const FORMAT: &str = "dar-ddsp-preset";
/// The version this build writes and the newest it reads.
pub const VERSION: u32 = 1;
/// Most prototypes a preset may hold.
pub const MAX_PROTOTYPES: usize = 1_024;
/// Largest preset file read, bytes.
pub const MAX_BYTES: u64 = 16 << 20;

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
}

/// One learned patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Prototype {
    /// Name shown to the user.
    pub name: String,
    /// The patch, musical units, in [`crate::plant::P`] order.
    pub theta: Theta<f32>,
    /// The recordings it was learned from (file names).
    pub sources: Vec<String>,
    /// The learner's loss when it was saved (lower is closer).
    pub loss: Option<f32>,
}

/// A preset: prototypes and the settings they were learned with.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Vigilance ρ the memory was built with, 0–1.
    pub vigilance: f32,
    /// The learned patches.
    pub prototypes: Vec<Prototype>,
}

#[derive(Serialize, Deserialize)]
struct FileV1 {
    format: String,
    version: u32,
    vigilance: f32,
    prototypes: Vec<PrototypeV1>,
}

#[derive(Serialize, Deserialize)]
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
    /// Serialises to pretty JSON. Allocates.
    pub fn to_json(&self) -> String {
        let file = FileV1 {
            format: FORMAT.into(),
            version: VERSION,
            vigilance: self.vigilance,
            prototypes: self
                .prototypes
                .iter()
                .map(|p| PrototypeV1 {
                    name: p.name.clone(),
                    theta: SPECS
                        .iter()
                        .zip(&p.theta)
                        .map(|(s, v)| (s.id.to_string(), *v))
                        .collect(),
                    sources: p.sources.clone(),
                    loss: p.loss.filter(|l| l.is_finite()),
                })
                .collect(),
        };
        // A struct of strings, numbers and maps always serialises.
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Parses and validates preset JSON; `path` names the source in errors. Allocates.
    pub fn from_json(text: &str, path: &str) -> Result<Self, PresetError> {
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
        if header.version == 0 {
            return Err(malformed("version 0 does not exist".into()));
        }
        let file: FileV1 = serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
        if !(0.0..=1.0).contains(&file.vigilance) {
            return Err(malformed(format!(
                "vigilance {} is outside 0–1",
                file.vigilance
            )));
        }
        if file.prototypes.len() > MAX_PROTOTYPES {
            return Err(malformed(format!(
                "{} prototypes (at most {MAX_PROTOTYPES})",
                file.prototypes.len()
            )));
        }
        let mut prototypes = Vec::with_capacity(file.prototypes.len());
        for (i, p) in file.prototypes.into_iter().enumerate() {
            let mut theta = default_theta();
            for (k, spec) in SPECS.iter().enumerate() {
                if let Some(&v) = p.theta.get(spec.id) {
                    if !v.is_finite() {
                        return Err(malformed(format!(
                            "prototype {i} (\"{}\"): {} is not a finite number",
                            p.name, spec.id
                        )));
                    }
                    theta[k] = spec.sanitize(v);
                }
            }
            prototypes.push(Prototype {
                name: p.name,
                theta,
                sources: p.sources,
                loss: p.loss.filter(|l| l.is_finite()),
            });
        }
        Ok(Self {
            vigilance: file.vigilance,
            prototypes,
        })
    }

    /// Reads and validates a preset file (at most [`MAX_BYTES`]). Allocates.
    pub fn load(path: &Path) -> Result<Self, PresetError> {
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
        let mut text = String::new();
        file.take(MAX_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidData => PresetError::Malformed {
                    path: name.clone(),
                    reason: "not UTF-8 text".into(),
                },
                _ => io(e),
            })?;
        Self::from_json(&text, &name)
    }

    /// Writes the preset atomically: a crash mid-write leaves the old file (if any) whole.
    pub fn save(&self, path: &Path) -> Result<(), PresetError> {
        write_atomically(path, self.to_json().as_bytes()).map_err(|source| PresetError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, then renames it over `path`: the
/// destination is either the old file or the complete new one, never a partial write.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::P;

    fn preset() -> Preset {
        let mut theta = default_theta();
        theta[P::Cutoff as usize] = 1_234.5;
        Preset {
            vigilance: 0.8,
            prototypes: vec![Prototype {
                name: "flute".into(),
                theta,
                sources: vec!["flute.wav".into()],
                loss: Some(0.1),
            }],
        }
    }

    #[test]
    fn round_trips_exactly() {
        let p = preset();
        assert_eq!(Preset::from_json(&p.to_json(), "x").expect("valid"), p);
    }

    #[test]
    fn missing_ids_take_defaults_and_unknown_ids_are_ignored() {
        let text = r#"{"format":"dar-ddsp-preset","version":1,"vigilance":0.7,
            "prototypes":[{"name":"a","theta":{"cutoff":500.0,"future_knob":3.0}}]}"#;
        let p = Preset::from_json(text, "x").expect("valid");
        let mut want = default_theta();
        want[P::Cutoff as usize] = 500.0;
        assert_eq!(p.prototypes[0].theta, want);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let good = preset().to_json();
        let cases = [
            (good[..good.len() / 2].to_string(), "EOF"),
            ("[1, 2]".to_string(), "not a DAR-DDSP preset"),
            (good.replace("dar-ddsp-preset", "other"), "format"),
            (good.replace("\"version\": 1", "\"version\": 9"), "newer"),
            (good.replace("1234.5", "\"loud\""), "invalid type"),
            (good.replace("1234.5", "1e999"), "not a DAR-DDSP preset"),
            (good.replace("0.8", "7.0"), "vigilance"),
        ];
        for (text, want) in cases {
            let err = Preset::from_json(&text, "x").expect_err(want).to_string();
            assert!(err.contains(want), "{err:?} should mention {want:?}");
        }
    }

    #[test]
    fn saving_is_atomic_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("dar-ddsp-preset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("p.json");
        std::fs::write(&path, "old").expect("write");
        preset().save(&path).expect("save");
        assert_eq!(Preset::load(&path).expect("load"), preset());
        let names: Vec<_> = std::fs::read_dir(&dir).expect("dir").flatten().collect();
        assert_eq!(names.len(), 1);
        // Saving into a missing directory fails and creates nothing.
        assert!(preset().save(&dir.join("missing/p.json")).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
