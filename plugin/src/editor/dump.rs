//! A test hook: with `DAR_DDSP_PANEL_DUMP=<file>` set when the editor opens, the panel writes
//! what it shows (the prototype cards, the last file learn, and where its named controls are) to that file about
//! twice a second, atomically. A headless test then waits for learned cards and clicks controls
//! by name instead of by pixel. Unset, as it always is for a user, it does nothing. GUI thread.

use crate::learner::{FileLearn, ProtoView};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often the file is rewritten.
const EVERY: Duration = Duration::from_millis(500);

/// The panel's dump. GUI thread only.
#[derive(Debug, Default)]
pub(super) struct PanelDump {
    /// The file written; `None` when the variable is unset.
    path: Option<PathBuf>,
    /// Controls drawn this frame: label and centre, logical points from the window's corner.
    controls: Vec<(String, [f32; 2])>,
    /// When the file was last written.
    written: Option<Instant>,
}

impl PanelDump {
    /// Reads `DAR_DDSP_PANEL_DUMP`. GUI thread, when the editor is created.
    pub(super) fn from_env() -> Self {
        Self {
            path: std::env::var_os("DAR_DDSP_PANEL_DUMP").map(PathBuf::from),
            ..Self::default()
        }
    }

    /// Notes where the control `label` was drawn this frame (nothing when not dumping).
    pub(super) fn control(&mut self, label: &str, rect: egui::Rect) {
        if self.path.is_some() {
            let c = rect.center();
            self.controls.push((label.to_owned(), [c.x, c.y]));
        }
    }

    /// Ends a frame: writes the file when it is due, and forgets this frame's controls.
    /// Allocates (only when dumping).
    pub(super) fn end_frame(&mut self, cards: &[ProtoView], file: Option<&FileLearn>) {
        let Some(path) = &self.path else { return };
        if self.written.is_none_or(|t| t.elapsed() >= EVERY) {
            let controls: serde_json::Map<String, serde_json::Value> = self
                .controls
                .iter()
                .map(|(label, at)| (label.clone(), serde_json::json!(at)))
                .collect();
            let cards: Vec<serde_json::Value> = cards
                .iter()
                .map(|c| serde_json::json!({"name": c.name, "uses": c.uses, "kept": c.kept}))
                .collect();
            let file = file.map(|f| {
                serde_json::json!({"name": f.name, "done": f.done, "notes": f.notes, "made": f.made,
                    "refined": f.refined, "distance": f.distance, "error": f.error,
                    "audition": f.audition.is_some()})
            });
            let text =
                serde_json::json!({"cards": cards, "controls": controls, "file": file}).to_string();
            // A test polls the file: a failed write is retried at the next frame.
            if dar_ddsp_core::store::atomic::write_atomically(path, text.as_bytes()).is_ok() {
                self.written = Some(Instant::now());
            }
        }
        self.controls.clear();
    }
}
