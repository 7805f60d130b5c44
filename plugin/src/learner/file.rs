//! Learning from a file (the panel's Learn from file…): the learner thread decodes it, resamples
//! it to its own rate and feeds it to the live learner exactly as a sidechain in Learn mode,
//! publishing as it goes, so the audio plays each new patch from its next block and the panel
//! shows the progress. The audio thread never waits on any of it.

use super::audition;
use super::commands::FileLearn;
use super::worker::Worker;
use dar_ddsp_core::learning::reservoir::played_distance;
use dar_ddsp_core::live::{LiveEvent, Mode};
use dar_ddsp_core::memory::art::Decision;
use dar_ddsp_core::signal::analysis::{AnalysisConfig, analyze};
use dar_ddsp_core::signal::audio_file::read_audio_at;
use std::path::Path;
use std::sync::atomic::Ordering;

/// Samples fed between two publications.
const CHUNK: usize = 4_096;

/// Silence fed after the file, seconds: its last note (a one-shot's only note) ends and is
/// learned, as a sidechain falling quiet would end it.
const TAIL_S: f32 = 0.5;

impl Worker {
    /// Learns the audio file at `path` (see the module). Allocates (learner thread).
    pub(super) fn learn_file(&mut self, path: &Path, last_match: &mut Option<f32>) {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        );
        let mut shown = FileLearn {
            name,
            ..FileLearn::default()
        };
        self.show_file(&shown);
        let rate = self.learner.sample_rate();
        let rec = match read_audio_at(path, rate) {
            Ok(rec) => rec,
            Err(e) => {
                shown.error = Some(e.to_string());
                shown.done = true;
                self.show_file(&shown);
                return;
            }
        };
        let mut samples = rec.samples;
        samples.extend(std::iter::repeat_n(0.0, (TAIL_S * rate) as usize));
        // Exactly as a sidechain in Learn mode, whatever the mode knob says.
        let settings = dar_ddsp_core::live::LiveSettings {
            mode: Mode::Learn,
            ..self.shared.settings()
        };
        let before = self.learner.memory().prototypes().len();
        let mut refined = Vec::new();
        let total = samples.len();
        for (k, chunk) in samples.chunks(CHUNK).enumerate() {
            if self.shared.stop.load(Ordering::Acquire) {
                return;
            }
            let mut events = Vec::new();
            self.learner.feed(chunk, &settings, &mut |e| events.push(e));
            let mut changed = false;
            for e in &events {
                match *e {
                    LiveEvent::Presented { decision } => {
                        shown.notes += 1;
                        *last_match = match decision {
                            Decision::Resonated { m, .. } => Some(m),
                            Decision::Allocated { nearest, .. }
                            | Decision::Unmatched { nearest } => nearest.map(|n| n.1),
                        };
                    }
                    LiveEvent::Split { .. } => changed = true,
                    LiveEvent::Refined { index, .. } => {
                        if !refined.contains(&index) {
                            refined.push(index);
                        }
                        changed = true;
                    }
                    _ => changed = true,
                }
            }
            // New prototypes the memory kept (one allocated for a stray onset may be let go).
            shown.made = self
                .learner
                .memory()
                .prototypes()
                .len()
                .saturating_sub(before);
            shown.refined = refined.len();
            shown.progress = ((k + 1) * CHUNK).min(total) as f32 / total as f32;
            self.publish(last_match, changed || !events.is_empty(), changed);
            self.show_file(&shown);
        }
        // How close the prototype that won the last note plays the file's notes: the active
        // one, which the learner keeps right when a prototype is let go and indices move.
        // Non-finite samples were heard as silence (and counted); so they are measured.
        let heard: Vec<f32> = samples[..total - (TAIL_S * rate) as usize]
            .iter()
            .map(|&x| if x.is_finite() { x } else { 0.0 })
            .collect();
        let heard = &heard[..];
        let analysis = analyze(heard, &AnalysisConfig::new(rate));
        if let Some(j) = self.learner.active()
            && let Some(p) = self.learner.memory().prototypes().get(j)
            && !analysis.notes.is_empty()
        {
            shown.distance = Some(played_distance(&p.theta, heard, &analysis, rate));
            shown.prototype = Some(j);
            if let Some(note) = analysis.notes.last() {
                self.auditions += 1;
                let clip = self.audition_in.input_buffer_mut();
                shown.audition = Some(audition::make(
                    &p.theta,
                    heard,
                    note,
                    rate,
                    clip,
                    self.auditions,
                ));
                self.audition_in.publish();
            }
        }
        shown.done = true;
        self.show_file(&shown);
    }

    /// Shows `f` in the panel's snapshot.
    fn show_file(&self, f: &FileLearn) {
        self.snapshot.lock().file = Some(f.clone());
    }
}
