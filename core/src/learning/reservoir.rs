//! A prototype's reservoir: a bounded, representative set of the notes it has won over its
//! whole life, in groups (one group per recording or per run of notes it won), so its patch is
//! refined on all of them and a refinement that would play an earlier group worse can be
//! refused (no overwriting by construction, `docs/ARCHITECTURE.md`).
//!
//! Bound: at most [`ReservoirLimits::notes`] notes per prototype, each at most
//! [`ReservoirLimits::note_s`] long. Past it, the group with the most notes gives up the note
//! nearest in pitch to another of its notes (the range a group covers is kept), and with one
//! note left in every group the oldest group goes.

use crate::learning::performance::{events_of, match_velocities};
use crate::plant::Theta;
use crate::plant::render::render_performance;
use crate::signal::analysis::{Analysis, AnalysisConfig, analyze};
use crate::signal::distance::spectral_distance;

/// Bounds of one prototype's reservoir.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReservoirLimits {
    /// Most notes kept.
    pub notes: usize,
    /// Longest note kept, seconds (a longer note keeps its start).
    pub note_s: f32,
}

impl Default for ReservoirLimits {
    fn default() -> Self {
        Self {
            notes: 8,
            note_s: 2.0,
        }
    }
}

/// One kept note: its audio (from just before its onset) and its analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptNote {
    /// The note's samples, at the learner's sample rate.
    pub clip: Vec<f32>,
    /// The clip's analysis (one note, or more when the cut found more).
    pub analysis: Analysis,
    /// Distance (dB) of its prototype's patch on this note right after the note was learned:
    /// what a later refinement may not move it away from by more than the guard. `None` until
    /// learned (or when restored from a state that did not record it), when the patch's
    /// present distance stands in. Learner thread.
    pub reference_db: Option<f32>,
}

impl KeptNote {
    /// Cuts samples `from..end` of `samples` (at most `limits.note_s` long) and analyses them;
    /// `None` when the cut holds no note. Allocates.
    pub fn cut(
        samples: &[f32],
        from: usize,
        end: usize,
        sample_rate: f32,
        limits: &ReservoirLimits,
    ) -> Option<Self> {
        let longest = (limits.note_s * sample_rate) as usize;
        let end = end.min(samples.len()).min(from.saturating_add(longest));
        if end <= from {
            return None;
        }
        let clip = samples[from..end].to_vec();
        let analysis = analyze(&clip, &AnalysisConfig::new(sample_rate));
        (!analysis.notes.is_empty()).then_some(Self {
            clip,
            analysis,
            reference_db: None,
        })
    }

    /// MIDI pitch of its first note (0 when unpitched).
    fn midi(&self) -> f32 {
        self.analysis.notes.first().map_or(0.0, |n| n.midi)
    }

    /// Spectral distance (dB, the yardstick) of θ playing this note at its loudness.
    pub fn distance(&self, theta: &Theta<f32>, sample_rate: f32) -> f32 {
        played_distance(theta, &self.clip, &self.analysis, sample_rate)
    }
}

/// Spectral distance (dB, the yardstick) between `samples` and θ playing their notes (as
/// `analysis` found them) at their loudness. Allocates.
pub fn played_distance(
    theta: &Theta<f32>,
    samples: &[f32],
    analysis: &Analysis,
    sample_rate: f32,
) -> f32 {
    let mut events = events_of(analysis);
    match_velocities(theta, &mut events, samples, sample_rate);
    let rendered = render_performance(theta, &events, sample_rate, samples.len());
    spectral_distance(&rendered, samples, sample_rate)
}

/// Notes won together: one recording's, or one run of notes on the stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// The notes.
    pub notes: Vec<KeptNote>,
}

impl Group {
    /// A group of `notes`.
    pub fn new(notes: Vec<KeptNote>) -> Self {
        Self { notes }
    }

    /// Mean over the notes of each one's distance right after it was learned, the distance
    /// under `theta` standing in for a note not yet learned.
    pub fn reference(&self, theta: &Theta<f32>, sample_rate: f32) -> f32 {
        let n = self.notes.len().max(1) as f32;
        self.notes
            .iter()
            .map(|k| {
                k.reference_db
                    .unwrap_or_else(|| k.distance(theta, sample_rate))
            })
            .sum::<f32>()
            / n
    }

    /// Mean distance of θ over the group's notes (0 for an empty group).
    pub fn distance(&self, theta: &Theta<f32>, sample_rate: f32) -> f32 {
        let n = self.notes.len().max(1) as f32;
        self.notes
            .iter()
            .map(|k| k.distance(theta, sample_rate))
            .sum::<f32>()
            / n
    }
}

/// One prototype's kept notes, oldest group first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reservoir {
    /// The groups.
    pub groups: Vec<Group>,
}

impl Reservoir {
    /// Adds a group and thins the reservoir back to `limits`.
    pub fn add(&mut self, group: Group, limits: &ReservoirLimits) {
        if group.notes.is_empty() {
            return;
        }
        self.groups.push(group);
        self.thin(limits);
    }

    /// Notes kept.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.notes.len()).sum()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Samples kept.
    pub fn samples(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|g| &g.notes)
            .map(|k| k.clip.len())
            .sum()
    }

    /// Every kept note as an objective source.
    pub fn parts(&self) -> Vec<(&[f32], &Analysis)> {
        self.groups
            .iter()
            .flat_map(|g| &g.notes)
            .map(|k| (k.clip.as_slice(), &k.analysis))
            .collect()
    }

    /// Mean distance of θ over every kept note (0 when empty).
    pub fn distance(&self, theta: &Theta<f32>, sample_rate: f32) -> f32 {
        let n = self.len().max(1) as f32;
        self.groups
            .iter()
            .flat_map(|g| &g.notes)
            .map(|k| k.distance(theta, sample_rate))
            .sum::<f32>()
            / n
    }

    /// Drops notes until `limits` hold (see the module's bound).
    pub fn thin(&mut self, limits: &ReservoirLimits) {
        let most = limits.notes.max(1);
        while self.len() > most {
            let fullest = self
                .groups
                .iter()
                .enumerate()
                .filter(|(_, g)| g.notes.len() > 1)
                .max_by_key(|(i, g)| (g.notes.len(), usize::MAX - i));
            match fullest {
                Some((gi, _)) => {
                    let notes = &mut self.groups[gi].notes;
                    // The note nearest in pitch to another: the rest still span the range.
                    let crowded = (0..notes.len())
                        .min_by(|&a, &b| {
                            let gap = |i: usize| {
                                (0..notes.len())
                                    .filter(|&j| j != i)
                                    .map(|j| (notes[i].midi() - notes[j].midi()).abs())
                                    .fold(f32::INFINITY, f32::min)
                            };
                            gap(a).total_cmp(&gap(b))
                        })
                        .unwrap_or(0);
                    notes.remove(crowded);
                }
                None => {
                    self.groups.remove(0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::analysis::Note;

    fn note(midi: f32) -> KeptNote {
        KeptNote {
            clip: vec![0.0; 10],
            analysis: Analysis {
                notes: vec![Note {
                    onset: 0,
                    release: 10,
                    end: 10,
                    f0_hz: 440.0,
                    midi,
                    peak_rms: 0.1,
                    velocity: 0.5,
                    pitched: true,
                }],
                ..Analysis::default()
            },
            reference_db: None,
        }
    }

    #[test]
    fn thinning_keeps_every_group_and_the_range() {
        let limits = ReservoirLimits {
            notes: 4,
            note_s: 1.0,
        };
        let mut r = Reservoir::default();
        r.add(
            Group::new(vec![note(48.0), note(60.0), note(61.0), note(72.0)]),
            &limits,
        );
        assert_eq!(r.len(), 4);
        r.add(Group::new(vec![note(50.0), note(70.0)]), &limits);
        assert_eq!(r.len(), 4);
        assert_eq!(r.groups.len(), 2, "both groups kept");
        let first: Vec<f32> = r.groups[0].notes.iter().map(KeptNote::midi).collect();
        assert_eq!(first, vec![48.0, 72.0], "the extremes of the range stay");
        // Single-note groups past the bound: the oldest goes.
        for m in [40.0, 41.0, 42.0, 43.0, 44.0] {
            r.add(Group::new(vec![note(m)]), &limits);
        }
        assert_eq!(r.len(), 4);
        let kept: Vec<f32> = r.groups.iter().map(|g| g.notes[0].midi()).collect();
        assert_eq!(kept, vec![41.0, 42.0, 43.0, 44.0]);
    }

    #[test]
    fn a_cut_is_bounded_and_holds_a_note() {
        let sr = 48_000.0;
        let tone: Vec<f32> = (0..96_000)
            .map(|i| {
                let env = if (4_800..72_000).contains(&i) {
                    0.5
                } else {
                    0.0
                };
                env * (std::f32::consts::TAU * 220.0 * i as f32 / sr).sin()
            })
            .collect();
        let limits = ReservoirLimits {
            notes: 8,
            note_s: 1.0,
        };
        let k = KeptNote::cut(&tone, 4_000, 96_000, sr, &limits).expect("a note");
        assert_eq!(k.clip.len(), 48_000);
        assert!((k.midi() - 57.0).abs() < 0.2, "{}", k.midi());
        assert!(KeptNote::cut(&vec![0.0; 48_000], 0, 48_000, sr, &limits).is_none());
    }
}
