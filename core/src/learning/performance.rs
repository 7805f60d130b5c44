//! A recording as a performance: its analysed notes as note events, and the velocities that
//! play them as loud as recorded (loudness is measured, not learned).

use crate::learning::objective::level_scale;
use crate::plant::Theta;
use crate::plant::render::{NoteEvent, render_performance};
use crate::plant::voice::KEY_REFERENCE_HZ;
use crate::signal::analysis::Analysis;

/// The notes of an analysis as a performance at velocity 1 (unpitched notes at C4).
pub fn events_of(analysis: &Analysis) -> Vec<NoteEvent> {
    analysis
        .notes
        .iter()
        .map(|n| NoteEvent {
            onset: n.onset,
            release: n.release.max(n.onset),
            f0_hz: if n.pitched && n.f0_hz > 0.0 {
                n.f0_hz
            } else {
                KEY_REFERENCE_HZ
            },
            velocity: 1.0,
        })
        .collect()
}

/// Sets each event's velocity so that θ plays it as loud as the recording's note over the same
/// span (loudness is measured, not learned), the loudest at velocity 1. Allocates.
pub fn match_velocities(
    theta: &Theta<f32>,
    events: &mut [NoteEvent],
    recording: &[f32],
    sample_rate: f32,
) {
    let energy = |x: &[f32]| x.iter().map(|&v| v as f64 * v as f64).sum::<f64>();
    let mut scales = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let end = events
            .get(i + 1)
            .map_or(recording.len(), |n| n.onset)
            .clamp(e.onset, recording.len());
        let one = NoteEvent {
            onset: 0,
            release: e.release.saturating_sub(e.onset),
            velocity: 1.0,
            ..*e
        };
        let rendered = render_performance(theta, &[one], sample_rate, end - e.onset);
        let target: Vec<f32> = recording[e.onset.min(end)..end]
            .iter()
            .map(|v| if v.is_finite() { *v } else { 0.0 })
            .collect();
        scales.push(level_scale(energy(&target), energy(&rendered)));
    }
    let top = scales.iter().copied().fold(0.0, f64::max);
    for (e, s) in events.iter_mut().zip(scales) {
        e.velocity = if top > 0.0 { (s / top) as f32 } else { 1.0 };
    }
}
