//! The memory as the plugin's state stores it (in the DAW project): versioned JSON with every
//! prototype's complement-coded weights and its θ as *named* values, so a parameter added later
//! does not break old projects. Reading never panics: anything malformed is refused with a
//! reason, and the caller keeps what it had.

use crate::art::{CODE_LEN, MAX_CAPACITY, Prototype};
use crate::plant::{SPECS, default_theta};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the state written by this build.
pub const STATE_VERSION: u32 = 1;

/// One prototype as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPrototype {
    /// Display name.
    pub name: String,
    /// Complement-coded weights.
    pub weights: Vec<f32>,
    /// θ by parameter id.
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
}

/// The whole memory as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryState {
    /// [`STATE_VERSION`] when written.
    pub version: u32,
    /// Identity of the encoder the weights were learned with.
    pub encoder: String,
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
            active: None,
            prototypes: Vec::new(),
        }
    }
}

/// Why a stored memory was refused. Each variant says what the user can do.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StateError {
    /// Written by a newer DAR-DDSP: update the plugin to open it.
    #[error("the memory was saved by a newer DAR-DDSP (state version {0}); update the plugin")]
    Newer(u32),
    /// Learned with another encoder: its prototypes would not be recognised; relearn them.
    #[error("the memory was learned with another encoder ({0}); relearn it with this version")]
    Encoder(String),
    /// Malformed: the project's memory is damaged; it was not loaded.
    #[error("the stored memory is damaged ({0}); it was not loaded")]
    Damaged(String),
}

impl MemoryState {
    /// The state of `prototypes` learned with encoder `encoder`.
    pub fn of(prototypes: &[Prototype], active: Option<usize>, encoder: &str) -> Self {
        Self {
            version: STATE_VERSION,
            encoder: encoder.to_string(),
            active,
            prototypes: prototypes
                .iter()
                .map(|p| SavedPrototype {
                    name: p.name.clone(),
                    weights: p.weights.to_vec(),
                    theta: SPECS
                        .iter()
                        .zip(&p.theta)
                        .map(|(s, v)| (s.id.to_string(), *v))
                        .collect(),
                    uses: p.uses,
                    created: p.created,
                    last_matched: p.last_matched,
                    locked: p.locked,
                    loss: p.loss.is_finite().then_some(p.loss),
                })
                .collect(),
        }
    }

    /// The prototypes, checked against this build's encoder `encoder`. An empty state (never
    /// learned) is always accepted. Unknown θ ids are ignored and missing ones take their
    /// defaults; values are clamped into range.
    pub fn prototypes(&self, encoder: &str) -> Result<Vec<Prototype>, StateError> {
        if self.version > STATE_VERSION {
            return Err(StateError::Newer(self.version));
        }
        if self.prototypes.is_empty() {
            return Ok(Vec::new());
        }
        if self.encoder != encoder {
            return Err(StateError::Encoder(self.encoder.clone()));
        }
        if self.prototypes.len() > MAX_CAPACITY {
            return Err(StateError::Damaged(format!(
                "{} prototypes",
                self.prototypes.len()
            )));
        }
        self.prototypes
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let damaged =
                    |what: &str| StateError::Damaged(format!("prototype {}: {what}", i + 1));
                if s.weights.len() != CODE_LEN {
                    return Err(damaged("wrong embedding size"));
                }
                if !s
                    .weights
                    .iter()
                    .all(|w| w.is_finite() && (0.0..=1.0).contains(w))
                {
                    return Err(damaged("weights out of range"));
                }
                if !(s.created.is_finite() && s.last_matched.is_finite()) {
                    return Err(damaged("times not finite"));
                }
                let mut weights = [0.0; CODE_LEN];
                weights.copy_from_slice(&s.weights);
                let mut theta = default_theta();
                for (k, spec) in SPECS.iter().enumerate() {
                    if let Some(&v) = s.theta.get(spec.id) {
                        if !v.is_finite() {
                            return Err(damaged("θ not finite"));
                        }
                        theta[k] = v.clamp(spec.min, spec.max);
                    }
                }
                Ok(Prototype {
                    weights,
                    theta,
                    name: s.name.chars().take(64).collect(),
                    uses: s.uses,
                    created: s.created,
                    last_matched: s.last_matched,
                    locked: s.locked,
                    loss: s.loss.filter(|l| l.is_finite()).unwrap_or(f32::INFINITY),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::art::code;

    fn proto(v: f32) -> Prototype {
        Prototype {
            weights: code(&[v; crate::encoder::EMBED_DIM]),
            theta: default_theta(),
            name: format!("p{v}"),
            uses: 3,
            created: 1.5,
            last_matched: 2.5,
            locked: v > 0.5,
            loss: if v > 0.5 { 0.25 } else { f32::INFINITY },
        }
    }

    #[test]
    fn round_trips_exactly_through_json() {
        let protos = vec![proto(0.2), proto(0.7)];
        let state = MemoryState::of(&protos, Some(1), "abc");
        let json = serde_json::to_string(&state).unwrap();
        let back: MemoryState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
        assert_eq!(back.prototypes("abc").unwrap(), protos);
    }

    #[test]
    fn refuses_what_it_cannot_trust() {
        let mut state = MemoryState::of(&[proto(0.2)], None, "abc");
        assert!(matches!(
            state.prototypes("xyz"),
            Err(StateError::Encoder(_))
        ));
        state.version = 99;
        assert_eq!(state.prototypes("abc"), Err(StateError::Newer(99)));
        let mut short = MemoryState::of(&[proto(0.2)], None, "abc");
        short.prototypes[0].weights.pop();
        assert!(matches!(
            short.prototypes("abc"),
            Err(StateError::Damaged(_))
        ));
        let mut nan = MemoryState::of(&[proto(0.2)], None, "abc");
        nan.prototypes[0].theta.insert("cutoff".into(), f32::NAN);
        assert!(matches!(nan.prototypes("abc"), Err(StateError::Damaged(_))));
        // An unknown id is ignored, a missing one defaults.
        let mut odd = MemoryState::of(&[proto(0.2)], None, "abc");
        odd.prototypes[0].theta.insert("future_knob".into(), 3.0);
        odd.prototypes[0].theta.remove("saw");
        assert_eq!(odd.prototypes("abc").unwrap()[0].theta, default_theta());
        assert!(
            MemoryState::default()
                .prototypes("anything")
                .unwrap()
                .is_empty()
        );
    }
}
