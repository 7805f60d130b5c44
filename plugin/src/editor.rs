//! The editor: the plant's knobs, grouped as a musician reads a synth, and a sidechain meter.
//! The full learning panel (prototypes, vigilance, loss) builds on this.

use crate::learner::Snapshot;
use crate::params::DarDdspParams;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp, RepaintNotifier,
    create_egui_editor,
};
use parking_lot::Mutex;
use std::sync::Arc;

/// The editor type the plugin exports.
pub type Editor = EguiEditor<App>;

/// Initial editor size in logical pixels.
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(LogicalSize::new(720.0, 480.0), 1.0)
}

/// Builds the editor. May allocate (GUI thread, once per plugin instance).
pub fn create(
    params: Arc<DarDdspParams>,
    sidechain_peak: Arc<AtomicF32>,
    snapshot: Arc<Mutex<Snapshot>>,
) -> Option<Editor> {
    let settings = EguiNiceSettings {
        title: "DAR-DDSP".to_owned(),
        ..Default::default()
    };
    let state = params.editor_state.clone();
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        settings,
        App {
            params,
            sidechain_peak,
            snapshot,
            gui: None,
        },
    )
}

/// The editor's state on the GUI thread.
pub struct App {
    /// Parameters, shared with the plugin.
    params: Arc<DarDdspParams>,
    /// Sidechain peak, linear; written by the audio thread each block.
    sidechain_peak: Arc<AtomicF32>,
    /// The learner's latest snapshot. Learner writes, editor reads (never the audio thread).
    snapshot: Arc<Mutex<Snapshot>>,
    /// The host context for setting parameters; arrives in `build()`, dropped on close.
    gui: Option<GuiContext>,
}

impl NiceEguiApp for App {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui = Some(gui);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        let Some(gui) = &self.gui else { return };
        let setter = gui.param_setter();
        let p = &*self.params;
        ui.heading("DAR-DDSP");
        ui.columns(3, |cols| {
            section(
                &mut cols[0],
                "Oscillators",
                &[&p.saw, &p.pulse, &p.width, &p.sine, &p.noise],
                &setter,
            );
            section(&mut cols[0], "Output", &[&p.gain], &setter);
            section(
                &mut cols[1],
                "Filter",
                &[&p.cutoff, &p.res, &p.fenv, &p.key],
                &setter,
            );
            section(
                &mut cols[1],
                "Filter envelope",
                &[&p.flt_a, &p.flt_d, &p.flt_s, &p.flt_r],
                &setter,
            );
            section(
                &mut cols[2],
                "Amp envelope",
                &[&p.amp_a, &p.amp_d, &p.amp_s, &p.amp_r],
                &setter,
            );
            let ui = &mut cols[2];
            ui.separator();
            ui.strong("Sidechain");
            let peak = self
                .sidechain_peak
                .load(std::sync::atomic::Ordering::Relaxed);
            let db = 20.0 * peak.max(1e-6).log10();
            ui.add(
                egui::ProgressBar::new(((db + 60.0) / 60.0).clamp(0.0, 1.0))
                    .text(format!("{db:.1} dBFS")),
            );
            ui.add(ParamSlider::for_param(&p.sc_listen, &setter));
            section(
                ui,
                "Learning",
                &[&p.vigilance, &p.learn_rate, &p.resonance, &p.morph],
                &setter,
            );
            ui.add(ParamSlider::for_param(&p.mode, &setter));
            ui.add(ParamSlider::for_param(&p.proto, &setter));
            ui.add(ParamSlider::for_param(&p.proto_b, &setter));
            let s = self.snapshot.lock().clone();
            ui.label(format!(
                "{} prototypes, active: {}",
                s.prototypes.len(),
                s.active
                    .and_then(|i| s.prototypes.get(i))
                    .map_or("none", |p| p.0.as_str())
            ));
            if let Some(m) = s.last_match {
                ui.label(format!(
                    "last match {m:.2} (vigilance {:.2})",
                    p.vigilance.value()
                ));
            }
            ui.label(format!(
                "{} gradient steps, {} bad samples skipped",
                s.steps, s.skipped
            ));
            if let Some(e) = &s.error {
                ui.colored_label(egui::Color32::LIGHT_RED, e);
            }
        });
        // The meter moves with the audio: keep repainting while the editor is open.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(50));
    }

    fn editor_closed(&mut self) {
        self.gui = None;
    }
}

fn section(ui: &mut egui::Ui, title: &str, params: &[&FloatParam], setter: &ParamSetter) {
    ui.separator();
    ui.strong(title);
    for p in params {
        ui.label(p.name());
        ui.add(ParamSlider::for_param(*p, setter).with_width(150.0));
    }
}
