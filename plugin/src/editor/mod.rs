//! The editor: the plant's knobs, the prototype cards, the vigilance gauge, the embedding map,
//! the loss curve, and the memory's controls (mode, clear, presets).
//!
//! Real-time rules: the editor reads the learner's snapshot (a lock the audio thread never
//! takes) and sends commands over a bounded channel; parameters change through the host's
//! `ParamSetter`, so automation and undo work. Thumbnails and the map are computed here, on the
//! GUI thread, so nothing of the kind runs while the editor is closed.

mod dump;
mod file_dialog;
#[cfg(target_os = "linux")]
mod gl_pin;
mod palette;
mod panels;
mod preset_dialog;
mod projection;
mod thumbnail;
pub(crate) mod view;
mod widgets;

use preset_dialog::PresetRef;

use crate::learner::{Command, Snapshot};
use crate::params::DarDdspParams;
use crossbeam_channel::Sender;
use dar_ddsp_core::live::Mode;
use dar_ddsp_core::memory::encoder::EncoderWeights;
use dar_ddsp_core::memory::encoder::front::{Front, MEL_BANDS};
use dar_ddsp_core::plant::Theta;
use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::*;
use nice_plug_egui::{
    EguiEditor, EguiNiceSettings, Frame, NiceEguiApp, RepaintNotifier, create_egui_editor,
};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;
use view::Pick;

/// The editor type the plugin exports.
pub type Editor = EguiEditor<App>;

/// Builds the editor. May allocate (GUI thread, once per plugin instance).
pub fn create(
    params: Arc<DarDdspParams>,
    sidechain_peak: Arc<AtomicF32>,
    snapshot: Arc<Mutex<Snapshot>>,
    commands: Sender<Command>,
    audition_request: Arc<AtomicU64>,
) -> Option<Editor> {
    let settings = EguiNiceSettings {
        title: "DAR-DDSP".to_owned(),
        ..Default::default()
    };
    let state = params.editor.state();
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        settings,
        App {
            params,
            sidechain_peak,
            snapshot,
            commands,
            audition_request,
            picking: None,
            gui: None,
            thumbs: HashMap::new(),
            front: None,
            weights: None,
            preset_name: String::from("my memory"),
            file_path: String::new(),
            message: None,
            confirm_clear: false,
            renaming: None,
            rate: StepRate {
                since: Instant::now(),
                steps: 0,
                per_second: 0.0,
            },
            dump: dump::PanelDump::from_env(),
        },
    )
}

/// The learner's gradient-step rate as last measured. GUI thread.
#[derive(Debug, Clone, Copy)]
struct StepRate {
    /// When it was measured.
    since: Instant,
    /// Steps taken by then.
    steps: u64,
    /// Steps per second over the second before.
    per_second: f32,
}

/// The editor's state on the GUI thread.
pub struct App {
    /// Parameters, shared with the plugin.
    params: Arc<DarDdspParams>,
    /// Sidechain peak, linear; written by the audio thread each block.
    sidechain_peak: Arc<AtomicF32>,
    /// The learner's latest snapshot. Learner writes, editor reads (never the audio thread).
    snapshot: Arc<Mutex<Snapshot>>,
    /// Commands to the learner (rename, lock, delete, clear, load).
    commands: Sender<Command>,
    /// Counted up by the Audition button; the audio thread plays the audition when it changes.
    audition_request: Arc<AtomicU64>,
    /// The Browse… dialog's answer, while one is open.
    picking: Option<crossbeam_channel::Receiver<Option<std::path::PathBuf>>>,
    /// The host context for setting parameters; arrives in `build()`, dropped on close.
    gui: Option<GuiContext>,
    /// Spectrum thumbnails by prototype index, with the θ they were made from.
    thumbs: HashMap<usize, (Theta<f32>, Option<[f32; MEL_BANDS]>)>,
    /// The thumbnail analyser (made on first use).
    front: Option<Front>,
    /// The encoder weights presets are loaded for (read on first use).
    weights: Option<EncoderWeights>,
    /// Name to save the memory under.
    preset_name: String,
    /// The audio file to learn, as typed (Learn from file).
    file_path: String,
    /// The last save or load outcome, shown in the top bar.
    message: Option<String>,
    /// "Clear memory" was pressed once and waits for confirmation.
    confirm_clear: bool,
    /// The card being renamed, with the name typed so far.
    renaming: Option<(usize, String)>,
    /// The learner's gradient-step rate, measured about once a second.
    rate: StepRate,
    /// The test hook that writes what the panel shows (off unless asked for).
    dump: dump::PanelDump,
}

impl NiceEguiApp for App {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui = Some(gui);
        // The window has made its GL context: keep the driver loaded from now on.
        #[cfg(target_os = "linux")]
        gl_pin::pin_gl_libraries();
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        let Some(gui) = self.gui.clone() else { return };
        let setter = gui.param_setter();
        let s = self.snapshot.lock().clone();
        let p = self.params.clone();
        let mode = Mode::from(p.mode.value());
        let v = view::view(
            &s,
            p.vigilance.value(),
            mode,
            Pick {
                a: p.proto.value(),
                b: p.proto_b.value(),
                morph: p.morph.value(),
            },
        );
        self.measure_rate(s.steps);
        self.top_bar(ui, &setter, mode, s.prototypes.len());
        ui.separator();
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(250.0);
                egui::ScrollArea::vertical()
                    .id_salt("knobs")
                    .show(ui, |ui| self.knobs(ui, &setter));
            });
            ui.separator();
            ui.vertical(|ui| {
                ui.set_width(430.0);
                self.cards(ui, &setter, &s, &v);
            });
            ui.separator();
            ui.vertical(|ui| {
                ui.set_width(380.0);
                // Scrolls when the window is too short for the file learn's audition.
                egui::ScrollArea::vertical()
                    .id_salt("learning")
                    .show(ui, |ui| self.learning(ui, &setter, &s, &v));
            });
        });
        self.dump.end_frame(&s.prototypes, s.file.as_ref());
        // The gauges move with the audio: keep repainting while the editor is open.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(50));
    }
}

impl App {
    /// Updates the gradient-step rate about once a second.
    fn measure_rate(&mut self, steps: u64) {
        let dt = self.rate.since.elapsed().as_secs_f32();
        if dt >= 1.0 {
            self.rate = StepRate {
                since: Instant::now(),
                steps,
                per_second: steps.saturating_sub(self.rate.steps) as f32 / dt,
            };
        }
    }

    /// The spectrum thumbnail of prototype `index` (remade when its θ changed).
    fn thumbnail(&mut self, index: usize, theta: &Theta<f32>) -> Option<[f32; MEL_BANDS]> {
        if let Some((t, thumb)) = self.thumbs.get(&index)
            && t == theta
        {
            return *thumb;
        }
        let front = self.front.get_or_insert_with(|| Front::new(THUMB_RATE));
        let thumb = thumbnail::spectrum(theta, front, THUMB_RATE);
        self.thumbs.insert(index, (*theta, thumb));
        thumb
    }

    fn weights(&mut self) -> Option<EncoderWeights> {
        if self.weights.is_none() {
            match EncoderWeights::shipped() {
                Ok(w) => self.weights = Some(w),
                Err(e) => self.message = Some(e.to_string()),
            }
        }
        self.weights.clone()
    }
}

/// Sample rate of the thumbnails, Hz.
const THUMB_RATE: f32 = 48_000.0;
