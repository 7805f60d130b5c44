//! The memory as it is stored — in the plugin's state (the DAW project) and, with a format name and
//! the learning settings around it, in preset files ([`crate::store::preset`]): versioned JSON with
//! every prototype's complement-coded weights and its θ as *named* values, so a parameter added
//! later does not break old files. Reading never panics: anything malformed is refused with a
//! reason, and the caller keeps what it had.
//!
//! Versions: 1 (the first plugin states) had no `embedding` and no `sources`; both default on
//! reading (a version-1 memory was always learned at 16 dimensions). Version 2 adds them.
//! Version 3 adds each prototype's kept notes (its reservoir, 16-bit PCM in base64) and its own
//! distance; a memory without them (older, or a preset written without its notes) gets, per
//! learned prototype, its own sound as its first kept group ([`crate::learning::keeper`]).
//! Version 4 adds the plant's sections (LFO, drawbars, body and velocity): their θ are absent
//! from older memories and take their defaults, which play the very samples the older plant
//! played (`tests/migration.rs`).

use crate::learning::reservoir::{Group, KeptNote, Reservoir, ReservoirLimits};
use crate::memory::art::{CODE_LEN, MAX_CAPACITY, Prototype};
use crate::memory::encoder::{EMBED_DIM, Encoder, EncoderWeights};
use crate::plant::{SPECS, Theta, default_theta};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the memory written by this build (plugin states and presets).
pub const STATE_VERSION: u32 = 4;
/// Most samples of kept notes a stored memory may hold over all its prototypes (4 M: 8 MB of
/// 16-bit PCM, 87 s at 48 kHz).
pub const MAX_KEPT_SAMPLES: usize = 1 << 22;
/// Longest prototype name kept, characters.
pub const MAX_NAME: usize = 64;
/// Most sources kept per prototype, and the longest kept, characters.
pub const MAX_SOURCES: usize = 64;
/// Sample rate at which prototypes are re-embedded, Hz (the encoder's training rate).
pub const REEMBED_RATE: f32 = 48_000.0;

fn version_1_embedding() -> usize {
    16
}

/// One prototype as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPrototype {
    /// Display name.
    pub name: String,
    /// Complement-coded weights [u, 1 − v], 2 × `embedding` values in 0–1.
    pub weights: Vec<f32>,
    /// θ by parameter id, musical units.
    pub theta: BTreeMap<String, f32>,
    /// Presentations won.
    pub uses: u64,
    /// Stream time committed, seconds.
    pub created: f64,
    /// Stream time last matched, seconds.
    pub last_matched: f64,
    /// Never changed by learning.
    pub locked: bool,
    /// The learner's last loss (absent until learned).
    pub loss: Option<f32>,
    /// Recordings it was learned from (version 2; empty when learned live).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Its kept notes, oldest group first (version 3; empty when not stored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<SavedGroup>,
    /// Mean distance of its patch over its kept notes, dB (version 3; absent until refined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_db: Option<f32>,
}

/// One group of kept notes as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedGroup {
    /// The notes.
    pub notes: Vec<SavedNote>,
}

/// One kept note as stored: 16-bit little-endian PCM, base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedNote {
    /// Sample rate, Hz.
    pub rate: u32,
    /// The samples.
    pub pcm: String,
    /// Its prototype's distance on it right after it was learned, dB (absent in older states
    /// and for notes not yet learned: the patch's distance when next refined stands in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_db: Option<f32>,
}

impl SavedNote {
    /// The stored form of `clip` at `rate`. Allocates.
    pub fn of(clip: &[f32], rate: f32) -> Self {
        let bytes: Vec<u8> = clip
            .iter()
            .flat_map(|&v| {
                let v = if v.is_finite() {
                    v.clamp(-1.0, 1.0)
                } else {
                    0.0
                };
                ((v * 32_767.0).round() as i16).to_le_bytes()
            })
            .collect();
        Self {
            rate: rate.round() as u32,
            pcm: BASE64.encode(bytes),
            reference_db: None,
        }
    }

    /// The samples, checked. Allocates.
    fn samples(&self, longest: usize) -> Result<Vec<f32>, String> {
        // Checked before decoding, so a huge string is refused without its copy.
        if self.pcm.len() / 4 * 3 > 2 * longest + 3 {
            return Err("a kept note is longer than the reservoir keeps".into());
        }
        let bytes = BASE64
            .decode(&self.pcm)
            .map_err(|e| format!("a kept note is not base64 PCM: {e}"))?;
        if bytes.len() % 2 != 0 || bytes.len() / 2 > longest {
            return Err("a kept note has a broken length".into());
        }
        Ok(bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32_767.0)
            .collect())
    }
}

/// The whole memory as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryState {
    /// [`STATE_VERSION`] when written.
    pub version: u32,
    /// Identity of the encoder the weights were learned with ([`EncoderWeights::identity`]).
    pub encoder: String,
    /// Embedding size the weights were learned at (version 2; 16 for version 1).
    #[serde(default = "version_1_embedding")]
    pub embedding: usize,
    /// The active prototype.
    pub active: Option<usize>,
    /// The prototypes.
    pub prototypes: Vec<SavedPrototype>,
}

impl Default for MemoryState {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            encoder: String::new(),
            embedding: EMBED_DIM,
            active: None,
            prototypes: Vec::new(),
        }
    }
}

/// Why a stored memory was refused. Each variant says what the user can do.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StateError {
    /// Written by a newer DAR-DDSP: update the plugin to open it.
    #[error("the memory was saved by a newer DAR-DDSP (version {0}); update DAR-DDSP to open it")]
    Newer(u32),
    /// More prototypes than the memory holds: delete some (or merge fewer presets) first.
    #[error("the memory holds {found} prototypes, more than the {limit} this memory can hold")]
    TooMany {
        /// Prototypes in the file.
        found: usize,
        /// The receiving memory's capacity.
        limit: usize,
    },
    /// Malformed: the memory is damaged; it was not loaded.
    #[error("the memory is damaged ({0}); it was not loaded")]
    Damaged(String),
}

/// A stored memory made ready for this build's encoder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Restored {
    /// The prototypes, checked.
    pub prototypes: Vec<Prototype>,
    /// Each prototype's kept notes at the rate asked for (empty where none were stored).
    pub kept: Vec<Reservoir>,
    /// Each prototype's own distance, dB, where stored.
    pub own_db: Vec<Option<f32>>,
    /// The active prototype (dropped when out of range).
    pub active: Option<usize>,
    /// How many prototypes got new weights from their θ because they were learned with another
    /// encoder (0 when the encoder matched).
    pub reembedded: usize,
}

/// θ as stored: each value under its parameter's id. Allocates.
fn theta_by_id(theta: &Theta<f32>) -> BTreeMap<String, f32> {
    SPECS
        .iter()
        .zip(theta)
        .map(|(s, v)| (s.id.to_string(), *v))
        .collect()
}

impl SavedPrototype {
    /// The stored form of `p`. Allocates.
    pub fn of(p: &Prototype) -> Self {
        Self {
            name: p.name.clone(),
            weights: p.weights.to_vec(),
            theta: theta_by_id(&p.theta),
            uses: p.uses,
            created: p.created,
            last_matched: p.last_matched,
            locked: p.locked,
            loss: p.loss.is_finite().then_some(p.loss),
            sources: p.sources.clone(),
            kept: Vec::new(),
            own_db: None,
        }
    }

    /// The stored form of `p` with its kept notes (at the learner's `rate`) and its own
    /// distance. Allocates.
    pub fn with_kept(p: &Prototype, kept: &Reservoir, own_db: Option<f32>, rate: f32) -> Self {
        Self {
            kept: kept
                .groups
                .iter()
                .map(|g| SavedGroup {
                    notes: g
                        .notes
                        .iter()
                        .map(|n| SavedNote {
                            reference_db: n.reference_db.filter(|d| d.is_finite()),
                            ..SavedNote::of(&n.clip, rate)
                        })
                        .collect(),
                })
                .collect(),
            own_db: own_db.filter(|d| d.is_finite()),
            ..Self::of(p)
        }
    }

    /// Its kept notes at `rate`, checked and analysed (notes stored at another rate are left
    /// out: resampling them is not this build's). Allocates.
    fn restore_kept(&self, rate: f32) -> Result<Reservoir, String> {
        let limits = ReservoirLimits::default();
        let longest = (limits.note_s * rate) as usize + 1;
        let count: usize = self.kept.iter().map(|g| g.notes.len()).sum();
        if count > limits.notes {
            return Err(format!(
                "{count} kept notes, more than the {} kept",
                limits.notes
            ));
        }
        let mut reservoir = Reservoir::default();
        for g in &self.kept {
            let mut group = Group::default();
            for n in g.notes.iter().filter(|n| n.rate as f32 == rate.round()) {
                let clip = n.samples(longest)?;
                let len = clip.len();
                if let Some(mut k) = KeptNote::cut(&clip, 0, len, rate, &limits) {
                    k.reference_db = n.reference_db.filter(|d| d.is_finite() && *d >= 0.0);
                    group.notes.push(k);
                }
            }
            if !group.notes.is_empty() {
                reservoir.groups.push(group);
            }
        }
        Ok(reservoir)
    }

    /// The prototype, checked; `weights` false skips the weights (they are about to be
    /// re-embedded). Unknown θ ids are ignored, missing ones take their defaults, values are
    /// clamped into range. The error says what is wrong.
    fn restore(&self, weights: bool) -> Result<Prototype, String> {
        let mut w = [0.0; CODE_LEN];
        if weights {
            if self.weights.len() != CODE_LEN {
                return Err(format!(
                    "wrong embedding size: {} weights, this build uses {CODE_LEN}",
                    self.weights.len()
                ));
            }
            if !self
                .weights
                .iter()
                .all(|w| w.is_finite() && (0.0..=1.0).contains(w))
            {
                return Err("weights outside 0–1".into());
            }
            w.copy_from_slice(&self.weights);
        }
        if !(self.created.is_finite() && self.last_matched.is_finite()) {
            return Err("times are not finite".into());
        }
        let mut theta = default_theta();
        for (k, spec) in SPECS.iter().enumerate() {
            if let Some(&v) = self.theta.get(spec.id) {
                if !v.is_finite() {
                    return Err(format!("{} is not a finite number", spec.id));
                }
                theta[k] = spec.sanitize(v);
            }
        }
        Ok(Prototype {
            weights: w,
            theta,
            name: self.name.chars().take(MAX_NAME).collect(),
            uses: self.uses,
            created: self.created,
            last_matched: self.last_matched,
            locked: self.locked,
            loss: self.loss.filter(|l| l.is_finite()).unwrap_or(f32::INFINITY),
            sources: self
                .sources
                .iter()
                .take(MAX_SOURCES)
                .map(|s| s.chars().take(256).collect())
                .collect(),
        })
    }
}

impl MemoryState {
    /// Stores `theta` as prototype `j`'s patch (an interim patch of a refinement under way,
    /// `LiveEvent::Refining`); `false` when `j` is not stored. Allocates.
    pub fn set_theta(&mut self, j: usize, theta: &Theta<f32>) -> bool {
        let Some(p) = self.prototypes.get_mut(j) else {
            return false;
        };
        p.theta = theta_by_id(theta);
        true
    }

    /// The state of `prototypes` learned with encoder `encoder`, without kept notes.
    /// Allocates.
    pub fn of(prototypes: &[Prototype], active: Option<usize>, encoder: &str) -> Self {
        Self {
            version: STATE_VERSION,
            encoder: encoder.to_string(),
            embedding: EMBED_DIM,
            active,
            prototypes: prototypes.iter().map(SavedPrototype::of).collect(),
        }
    }

    /// The state of `prototypes` with their kept notes (`kept` and `own_db` parallel to them,
    /// at the learner's `rate`), thinned to [`MAX_KEPT_SAMPLES`] in all: the fullest
    /// reservoirs give up notes first. Allocates.
    pub fn with_kept(
        prototypes: &[Prototype],
        active: Option<usize>,
        encoder: &str,
        kept: &[Reservoir],
        own_db: &[Option<f32>],
        rate: f32,
    ) -> Self {
        let total: usize = kept.iter().map(Reservoir::samples).sum();
        let thinned;
        let kept = if total > MAX_KEPT_SAMPLES {
            let mut k = kept.to_vec();
            crate::learning::keeper::thin_to(&mut k, MAX_KEPT_SAMPLES, None);
            thinned = k;
            &thinned[..]
        } else {
            kept
        };
        let none = Reservoir::default();
        Self {
            prototypes: prototypes
                .iter()
                .zip(kept.iter().chain(std::iter::repeat(&none)))
                .enumerate()
                .map(|(i, (p, r))| {
                    SavedPrototype::with_kept(p, r, own_db.get(i).copied().flatten(), rate)
                })
                .collect(),
            ..Self::of(&[], active, encoder)
        }
    }

    /// The prototypes, checked, for a memory of `capacity` using encoder `weights`, with their kept
    /// notes at [`REEMBED_RATE`]. Prototypes learned with another encoder get new weights from
    /// their θ ([`crate::memory::reembed`]); an empty memory (never learned) is always accepted.
    /// Allocates.
    pub fn restore(
        &self,
        weights: &EncoderWeights,
        capacity: usize,
    ) -> Result<Restored, StateError> {
        self.restore_at(weights, capacity, REEMBED_RATE)
    }

    /// [`Self::restore`] with the kept notes at the learner's sample `rate`.
    pub fn restore_at(
        &self,
        weights: &EncoderWeights,
        capacity: usize,
        rate: f32,
    ) -> Result<Restored, StateError> {
        if self.version > STATE_VERSION {
            return Err(StateError::Newer(self.version));
        }
        if self.version == 0 {
            return Err(StateError::Damaged("version 0 does not exist".into()));
        }
        let limit = capacity.min(MAX_CAPACITY);
        if self.prototypes.len() > limit {
            return Err(StateError::TooMany {
                found: self.prototypes.len(),
                limit,
            });
        }
        let same = self.encoder == weights.identity();
        if same && self.embedding != EMBED_DIM {
            return Err(StateError::Damaged(format!(
                "embedding size {} for an encoder of {EMBED_DIM}",
                self.embedding
            )));
        }
        let mut prototypes = self
            .prototypes
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.restore(same).map_err(|e| {
                    StateError::Damaged(format!("prototype {} (\"{}\"): {e}", i + 1, s.name))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let kept_samples: usize = self
            .prototypes
            .iter()
            .flat_map(|p| p.kept.iter().flat_map(|g| &g.notes))
            .map(|n| n.pcm.len() / 4 * 3 / 2)
            .sum();
        if kept_samples > MAX_KEPT_SAMPLES + MAX_KEPT_SAMPLES / 100 {
            return Err(StateError::Damaged(format!(
                "{kept_samples} samples of kept notes, more than the {MAX_KEPT_SAMPLES} stored"
            )));
        }
        let kept = self
            .prototypes
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.restore_kept(rate).map_err(|e| {
                    StateError::Damaged(format!("prototype {} (\"{}\"): {e}", i + 1, s.name))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let own_db = self
            .prototypes
            .iter()
            .map(|s| s.own_db.filter(|d| d.is_finite() && *d >= 0.0))
            .collect();
        let mut reembedded = 0;
        if !same && !prototypes.is_empty() {
            let mut encoder = Encoder::new(weights.clone(), REEMBED_RATE);
            for p in &mut prototypes {
                p.weights =
                    crate::memory::reembed::weights_for(&p.theta, &mut encoder, REEMBED_RATE);
                reembedded += 1;
            }
        }
        let active = self.active.filter(|&a| a < prototypes.len());
        Ok(Restored {
            prototypes,
            kept,
            own_db,
            active,
            reembedded,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::art::code;

    fn proto(v: f32) -> Prototype {
        Prototype {
            weights: code(&[v; EMBED_DIM]),
            theta: default_theta(),
            name: format!("p{v}"),
            uses: 3,
            created: 1.5,
            last_matched: 2.5,
            locked: v > 0.5,
            loss: if v > 0.5 { 0.25 } else { f32::INFINITY },
            sources: vec![format!("s{v}.wav")],
        }
    }

    fn shipped() -> EncoderWeights {
        EncoderWeights::shipped().expect("shipped encoder")
    }

    #[test]
    fn round_trips_exactly_through_json() {
        let w = shipped();
        let protos = vec![proto(0.2), proto(0.7)];
        let state = MemoryState::of(&protos, Some(1), &w.identity());
        let json = serde_json::to_string(&state).unwrap();
        let back: MemoryState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
        let restored = back.restore(&w, 256).unwrap();
        assert_eq!(restored.prototypes, protos);
        assert_eq!(restored.active, Some(1));
        assert_eq!(restored.reembedded, 0);
    }

    #[test]
    fn a_version_1_memory_migrates() {
        // As the first plugin builds wrote it: no embedding size, no sources.
        let w = shipped();
        let weights: Vec<String> = code(&[0.25; EMBED_DIM])
            .iter()
            .map(|x| x.to_string())
            .collect();
        let text = format!(
            r#"{{"version":1,"encoder":"{}","active":0,"prototypes":[{{"name":"bass",
            "weights":[{}],"theta":{{"cutoff":900.0}},"uses":4,"created":0.5,
            "last_matched":3.0,"locked":false,"loss":0.3}}]}}"#,
            w.identity(),
            weights.join(",")
        );
        let state: MemoryState = serde_json::from_str(&text).unwrap();
        assert_eq!(state.embedding, 16);
        let restored = state.restore(&w, 256).unwrap();
        let p = &restored.prototypes[0];
        assert_eq!(p.weights, code(&[0.25; EMBED_DIM]));
        assert_eq!(p.theta[crate::plant::P::Cutoff as usize], 900.0);
        assert!(p.sources.is_empty());
        // Saved again it is this version and reads back the same.
        let again = MemoryState::of(&restored.prototypes, restored.active, &w.identity());
        assert_eq!(again.version, STATE_VERSION);
        assert_eq!(again.restore(&w, 256).unwrap(), restored);
    }

    /// A decaying 220 Hz tone of `secs` at 48 kHz, quantised as the store does.
    fn tone(secs: f32) -> Vec<f32> {
        (0..(secs * 48_000.0) as usize)
            .map(|i| {
                let t = i as f32 / 48_000.0;
                let v = 0.5 * (-3.0 * t).exp() * (std::f32::consts::TAU * 220.0 * t).sin();
                (v * 32_767.0).round() / 32_767.0
            })
            .collect()
    }

    fn kept_of(clips: &[Vec<f32>]) -> Reservoir {
        let limits = ReservoirLimits::default();
        Reservoir {
            groups: vec![Group::new(
                clips
                    .iter()
                    .filter_map(|c| KeptNote::cut(c, 0, c.len(), 48_000.0, &limits))
                    .collect(),
            )],
        }
    }

    #[test]
    fn kept_notes_round_trip_and_are_bounded() {
        let w = shipped();
        let protos = vec![proto(0.2), proto(0.7)];
        let mut kept = vec![kept_of(&[tone(1.0), tone(0.5)]), Reservoir::default()];
        // A learned note keeps its reference distance; one not yet learned has none.
        kept[0].groups[0].notes[0].reference_db = Some(2.5);
        let own = vec![Some(3.25), None];
        let state = MemoryState::with_kept(&protos, Some(0), &w.identity(), &kept, &own, 48_000.0);
        assert_eq!(state.version, STATE_VERSION);
        let json = serde_json::to_string(&state).unwrap();
        let back: MemoryState = serde_json::from_str(&json).unwrap();
        let r = back.restore_at(&w, 256, 48_000.0).unwrap();
        assert_eq!(r.prototypes, protos);
        assert_eq!(r.kept, kept, "the kept notes come back sample for sample");
        assert_eq!(r.own_db, own);
        // Saved again, the same bytes.
        let again = MemoryState::with_kept(
            &protos,
            Some(0),
            &w.identity(),
            &r.kept,
            &r.own_db,
            48_000.0,
        );
        assert_eq!(serde_json::to_string(&again).unwrap(), json);
        // At another rate the notes are left out, the prototypes kept.
        let other = back.restore_at(&w, 256, 44_100.0).unwrap();
        assert!(other.kept.iter().all(Reservoir::is_empty));
        assert_eq!(other.prototypes, protos);
        // Damaged notes are refused with a reason.
        let mut bad = back.clone();
        bad.prototypes[0].kept[0].notes[0].pcm = "not base64!".into();
        let err = bad.restore(&w, 256).unwrap_err().to_string();
        assert!(err.contains("not base64"), "{err}");
        let mut long = back.clone();
        long.prototypes[0].kept[0].notes[0] = SavedNote::of(&tone(3.0), 48_000.0);
        let err = long.restore(&w, 256).unwrap_err().to_string();
        assert!(err.contains("longer than the reservoir keeps"), "{err}");
        let mut many = back.clone();
        let note = many.prototypes[0].kept[0].notes[0].clone();
        many.prototypes[0].kept[0].notes = vec![note; 9];
        let err = many.restore(&w, 256).unwrap_err().to_string();
        assert!(err.contains("9 kept notes"), "{err}");
        // The store keeps at most MAX_KEPT_SAMPLES in all, the fullest reservoirs thinned first.
        let big: Vec<Reservoir> = (0..24).map(|_| kept_of(&vec![tone(2.0); 8])).collect();
        let protos40 = vec![proto(0.2); 24];
        let state = MemoryState::with_kept(&protos40, None, &w.identity(), &big, &[], 48_000.0);
        let stored: usize = state
            .prototypes
            .iter()
            .flat_map(|p| p.kept.iter().flat_map(|g| &g.notes))
            .map(|n| n.pcm.len() / 4 * 3 / 2)
            .sum();
        assert!(stored <= MAX_KEPT_SAMPLES, "{stored}");
        assert!(state.prototypes.iter().all(|p| !p.kept.is_empty()));
        assert!(state.restore(&w, 256).is_ok());
    }

    #[test]
    fn another_encoders_memory_is_reembedded_from_theta() {
        let w = shipped();
        let state = MemoryState::of(&[proto(0.2), proto(0.7)], None, "another-encoder");
        let restored = state.restore(&w, 256).unwrap();
        assert_eq!(restored.reembedded, 2);
        let p = &restored.prototypes[0];
        assert_ne!(p.weights, code(&[0.2; EMBED_DIM]));
        assert_eq!(p.theta, default_theta());
        assert_eq!(p.name, "p0.2");
        // Even at another embedding size: the weights are not read, θ is.
        let mut other = state.clone();
        other.embedding = 8;
        other.prototypes[0].weights.truncate(16);
        assert_eq!(other.restore(&w, 256).unwrap(), restored);
    }

    #[test]
    fn refuses_what_it_cannot_trust() {
        let w = shipped();
        let id = w.identity();
        let mut state = MemoryState::of(&[proto(0.2)], None, &id);
        state.version = 99;
        assert_eq!(state.restore(&w, 256), Err(StateError::Newer(99)));
        let mut short = MemoryState::of(&[proto(0.2)], None, &id);
        short.prototypes[0].weights.pop();
        let err = short.restore(&w, 256).unwrap_err().to_string();
        assert!(err.contains("wrong embedding size"), "{err}");
        let mut nan = MemoryState::of(&[proto(0.2)], None, &id);
        nan.prototypes[0].theta.insert("cutoff".into(), f32::NAN);
        let err = nan.restore(&w, 256).unwrap_err().to_string();
        assert!(err.contains("cutoff is not a finite number"), "{err}");
        let many = MemoryState::of(&vec![proto(0.2); 300], None, &id);
        assert_eq!(
            many.restore(&w, 256),
            Err(StateError::TooMany {
                found: 300,
                limit: 256
            })
        );
        // An unknown id is ignored, a missing one defaults, an active index out of range is
        // dropped.
        let mut odd = MemoryState::of(&[proto(0.2)], Some(7), &id);
        odd.prototypes[0].theta.insert("future_knob".into(), 3.0);
        odd.prototypes[0].theta.remove("saw");
        let restored = odd.restore(&w, 256).unwrap();
        assert_eq!(restored.prototypes[0].theta, default_theta());
        assert_eq!(restored.active, None);
        assert!(
            MemoryState::default()
                .restore(&w, 256)
                .unwrap()
                .prototypes
                .is_empty()
        );
    }
}
