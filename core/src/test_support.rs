//! Fixtures shared by the unit tests of several layers.

use crate::learning::objective::{Objective, ObjectiveConfig};
use crate::num::units::note_to_hz;
use crate::plant::render::{NoteEvent, render_performance};
use crate::plant::{P, Theta, default_theta};
use crate::signal::analysis::{AnalysisConfig, analyze};

/// Sample rate of the fixtures, Hz.
pub const SR: f32 = 48_000.0;

/// Plays notes (MIDI note, onset s, hold s) at velocity 0.8 with θ through the real synth.
pub fn play(theta: &Theta<f32>, notes: &[(u8, f32, f32)], len_s: f32) -> Vec<f32> {
    let events: Vec<NoteEvent> = notes
        .iter()
        .map(|&(n, on, hold)| NoteEvent {
            onset: (on * SR) as usize,
            release: ((on + hold) * SR) as usize,
            f0_hz: note_to_hz(n as f32),
            velocity: 0.8,
        })
        .collect();
    render_performance(theta, &events, SR, (len_s * SR) as usize)
}

/// A saw + pulse patch through a resonant filter, away from every knob's default.
pub fn patch() -> Theta<f32> {
    let mut t = default_theta();
    t[P::Saw as usize] = 0.2;
    t[P::Pulse as usize] = 0.7;
    t[P::Width as usize] = 0.3;
    t[P::Cutoff as usize] = 1_200.0;
    t[P::Resonance as usize] = 2.5;
    t[P::AmpAttack as usize] = 0.02;
    t[P::AmpRelease as usize] = 0.15;
    t
}

/// The objective of `audio`, analysed at [`SR`], with default settings.
pub fn objective_for(audio: &[f32]) -> Objective {
    let a = analyze(audio, &AnalysisConfig::new(SR));
    Objective::new(&[(audio, &a)], SR, &ObjectiveConfig::default()).expect("notes")
}
