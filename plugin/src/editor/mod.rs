//! The editor: the plant's knobs, the prototype cards, the vigilance gauge, the embedding map,
//! the loss curve, and the memory's controls (mode, clear, presets).
//!
//! Real-time rules: the editor reads the learner's snapshot (a lock the audio thread never
//! takes) and sends commands over a bounded channel; parameters change through the host's
//! `ParamSetter`, so automation and undo work. Thumbnails and the map are computed here, on the
//! GUI thread, so nothing of the kind runs while the editor is closed.

mod projection;
mod thumbnail;
pub(crate) mod view;

use crate::learner::{Command, Snapshot};
use crate::params::{DarDdspParams, ModeParam};
use crossbeam_channel::Sender;
use dar_ddsp_core::live::{MAX_PROTOTYPES, Mode};
use dar_ddsp_core::memory::encoder::EncoderWeights;
use dar_ddsp_core::memory::encoder::front::{Front, MEL_BANDS};
use dar_ddsp_core::plant::Theta;
use dar_ddsp_core::store::factory;
use dar_ddsp_core::store::preset::{self, Preset, Settings};
use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, pos2, vec2};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp, RepaintNotifier,
    create_egui_editor,
};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use view::{PointKind, View};

/// The editor type the plugin exports.
pub type Editor = EguiEditor<App>;

/// Default editor size, logical pixels.
pub const DEFAULT_SIZE: (u32, u32) = (1120, 740);
/// Smallest and largest size a stored state may ask for, logical pixels.
pub const SIZE_LIMITS: ((u32, u32), (u32, u32)) = ((640, 400), (3840, 2160));

/// Editor state of `size` (logical pixels, clamped to [`SIZE_LIMITS`]).
pub fn state_of_size((w, h): (u32, u32)) -> Arc<EguiEditorState> {
    let ((w0, h0), (w1, h1)) = SIZE_LIMITS;
    let (w, h) = (w.clamp(w0, w1), h.clamp(h0, h1));
    EguiEditorState::from_size(LogicalSize::new(w as f32, h as f32), 1.0)
}

/// Builds the editor. May allocate (GUI thread, once per plugin instance).
pub fn create(
    params: Arc<DarDdspParams>,
    sidechain_peak: Arc<AtomicF32>,
    snapshot: Arc<Mutex<Snapshot>>,
    commands: Sender<Command>,
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
            gui: None,
            thumbs: HashMap::new(),
            front: None,
            weights: None,
            preset_name: String::from("my memory"),
            message: None,
            confirm_clear: false,
            renaming: None,
            rate: (Instant::now(), 0, 0.0),
        },
    )
}

/// A preset the load menu offers.
enum PresetRef {
    /// A factory preset, by name.
    Factory(&'static str),
    /// A file in the user preset directory.
    User(PathBuf),
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
    /// The last save or load outcome, shown in the top bar.
    message: Option<String>,
    /// "Clear memory" was pressed once and waits for confirmation.
    confirm_clear: bool,
    /// The card being renamed, with the name typed so far.
    renaming: Option<(usize, String)>,
    /// Gradient-step rate: when last measured, steps then, steps per second.
    rate: (Instant, u64, f32),
}

impl NiceEguiApp for App {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui = Some(gui);
        self.params.editor.open.store(true, Ordering::Relaxed);
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
            (p.proto.value(), p.proto_b.value(), p.morph.value()),
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
                self.learning(ui, &setter, &s, &v);
            });
        });
        // The gauges move with the audio: keep repainting while the editor is open.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(50));
    }

    fn editor_closed(&mut self) {
        self.gui = None;
        self.params.editor.open.store(false, Ordering::Relaxed);
        // Nothing GUI-only is kept while closed.
        self.thumbs.clear();
    }
}

impl App {
    fn top_bar(&mut self, ui: &mut egui::Ui, setter: &ParamSetter, mode: Mode, count: usize) {
        let p = self.params.clone();
        ui.horizontal(|ui| {
            ui.heading("DAR-DDSP");
            ui.separator();
            ui.label("Mode");
            for (m, value, name) in [
                (Mode::Learn, ModeParam::Learn, "Learn"),
                (Mode::Follow, ModeParam::Follow, "Follow"),
                (Mode::Play, ModeParam::Play, "Play"),
            ] {
                if ui.selectable_label(mode == m, name).clicked() {
                    set(setter, &p.mode, value);
                }
            }
            ui.separator();
            if self.confirm_clear {
                ui.colored_label(
                    Color32::LIGHT_RED,
                    format!("Forget all {count} prototypes?"),
                );
                if ui.button("Yes, clear").clicked() {
                    let _ = self.commands.try_send(Command::Clear);
                    self.confirm_clear = false;
                    self.message = Some("memory cleared".into());
                }
                if ui.button("Keep").clicked() {
                    self.confirm_clear = false;
                }
            } else if ui.button("Clear memory…").clicked() {
                self.confirm_clear = true;
            }
            ui.separator();
            let mut chosen = None;
            egui::ComboBox::from_id_salt("load")
                .selected_text("Load preset…")
                .width(170.0)
                .show_ui(ui, |ui| {
                    for (name, _) in factory::PRESETS {
                        if ui
                            .selectable_label(false, format!("factory: {name}"))
                            .clicked()
                        {
                            chosen = Some(PresetRef::Factory(name));
                        }
                    }
                    if let Some(dir) = preset::user_dir() {
                        for path in preset::files_in(&dir) {
                            let stem = path
                                .file_stem()
                                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
                            if ui
                                .selectable_label(false, format!("user: {stem}"))
                                .clicked()
                            {
                                chosen = Some(PresetRef::User(path));
                            }
                        }
                    }
                });
            if let Some(which) = chosen {
                self.load_preset(which, setter);
            }
            ui.add(egui::TextEdit::singleline(&mut self.preset_name).desired_width(110.0));
            if ui.button("Save preset").clicked() {
                self.save_preset();
            }
            if let Some(m) = &self.message {
                ui.label(m.as_str());
            }
        });
    }

    fn knobs(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = &*self.params;
        section(
            ui,
            "Oscillators",
            &[&p.saw, &p.pulse, &p.width, &p.sine, &p.noise],
            setter,
        );
        section(ui, "Filter", &[&p.cutoff, &p.res, &p.fenv, &p.key], setter);
        section(
            ui,
            "Filter envelope",
            &[&p.flt_a, &p.flt_d, &p.flt_s, &p.flt_r],
            setter,
        );
        section(
            ui,
            "Amp envelope",
            &[&p.amp_a, &p.amp_d, &p.amp_s, &p.amp_r],
            setter,
        );
        section(ui, "Output", &[&p.gain], setter);
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
        ui.add(ParamSlider::for_param(&p.sc_listen, setter));
        section(ui, "Learning", &[&p.learn_rate, &p.resonance], setter);
    }

    fn cards(&mut self, ui: &mut egui::Ui, setter: &ParamSetter, s: &Snapshot, v: &View) {
        let p = self.params.clone();
        ui.strong(format!("Prototypes ({})", v.cards.len()));
        if v.cards.iter().any(|c| c.morph_target) {
            ui.horizontal(|ui| {
                ui.label("Morph");
                ui.add(ParamSlider::for_param(&p.morph, setter).with_width(200.0));
            });
        }
        if v.cards.is_empty() {
            ui.label("Nothing learned yet: play an instrument into the sidechain in Learn mode.");
        }
        let rho = v.gauge.rho;
        egui::ScrollArea::vertical()
            .id_salt("cards")
            .show(ui, |ui| {
                for card in &v.cards {
                    let theta = s.prototypes[card.index].theta;
                    let thumb = self.thumbnail(card.index, &theta);
                    let fill = if card.active {
                        Color32::from_rgb(40, 70, 110)
                    } else {
                        ui.visuals().faint_bg_color
                    };
                    egui::Frame::group(ui.style()).fill(fill).show(ui, |ui| {
                        ui.set_width(410.0);
                        ui.horizontal(|ui| {
                            draw_thumbnail(ui, thumb.as_ref());
                            ui.vertical(|ui| {
                                self.card_title(ui, card.index, &card.name, card.active);
                                let loss = card
                                    .loss
                                    .map_or("not refined".into(), |l| format!("loss {l:.3}"));
                                ui.label(format!(
                                    "{} notes · {} kept · {} old · {loss}",
                                    card.uses, card.kept, card.age
                                ));
                                draw_match(ui, card.m, rho);
                                ui.horizontal(|ui| {
                                    if ui.button("Play").clicked() {
                                        set(setter, &p.proto, card.index as i32 + 1);
                                        set(setter, &p.mode, ModeParam::Play);
                                    }
                                    let morph = if card.morph_target {
                                        "Morph target ✔"
                                    } else {
                                        "Morph to"
                                    };
                                    if ui.button(morph).clicked() {
                                        set(setter, &p.proto_b, card.index as i32 + 1);
                                        if p.morph.value() == 0.0 {
                                            set(setter, &p.morph, 0.5);
                                        }
                                        set(setter, &p.mode, ModeParam::Play);
                                    }
                                    let lock = if card.locked { "Unlock" } else { "Lock" };
                                    if ui.button(lock).clicked() {
                                        let _ = self
                                            .commands
                                            .try_send(Command::Lock(card.index, !card.locked));
                                    }
                                    if ui.button("Delete").clicked() {
                                        let _ = self.commands.try_send(Command::Remove(card.index));
                                        self.thumbs.clear();
                                    }
                                });
                            });
                        });
                    });
                }
            });
    }

    /// The card's name: a label, or a text field while renaming (Enter or leaving it renames).
    fn card_title(&mut self, ui: &mut egui::Ui, index: usize, name: &str, active: bool) {
        match &mut self.renaming {
            Some((i, text)) if *i == index => {
                let r = ui.add(egui::TextEdit::singleline(text).desired_width(200.0));
                if r.lost_focus() {
                    let new = text.trim().to_string();
                    if !new.is_empty() {
                        let _ = self.commands.try_send(Command::Rename(index, new));
                    }
                    self.renaming = None;
                } else {
                    r.request_focus();
                }
            }
            _ => {
                let text = egui::RichText::new(format!("{}  {name}", index + 1)).strong();
                let text = if active {
                    text.color(Color32::WHITE)
                } else {
                    text
                };
                if ui
                    .add(egui::Label::new(text).sense(Sense::click()))
                    .on_hover_text("click to rename")
                    .clicked()
                {
                    self.renaming = Some((index, name.to_string()));
                }
            }
        }
    }

    fn learning(&mut self, ui: &mut egui::Ui, setter: &ParamSetter, s: &Snapshot, v: &View) {
        let p = self.params.clone();
        ui.strong("Vigilance");
        ui.add(ParamSlider::for_param(&p.vigilance, setter).with_width(250.0));
        draw_gauge(ui, v);
        ui.label(v.gauge.verdict.as_str());
        ui.separator();
        ui.strong("Embedding map (the memory's two main axes)");
        draw_map(ui, v, s.active);
        ui.separator();
        ui.strong("Learning");
        draw_loss(ui, v);
        let (alpha, mu, sigma) = s.optimizer;
        ui.label(format!(
            "α {alpha:.3}  μ {mu:.2}  σ {sigma:.2} · {} steps ({:.0}/s)",
            s.steps, self.rate.2
        ));
        ui.label(view::counters(s));
        if let Some(line) = view::split_line(s) {
            ui.colored_label(Color32::LIGHT_YELLOW, line);
        }
        if let Some(e) = &s.error {
            ui.colored_label(Color32::LIGHT_RED, e.as_str());
        }
    }

    /// Updates the gradient-step rate about once a second.
    fn measure_rate(&mut self, steps: u64) {
        let (then, before, _) = self.rate;
        let dt = then.elapsed().as_secs_f32();
        if dt >= 1.0 {
            self.rate = (
                Instant::now(),
                steps,
                steps.saturating_sub(before) as f32 / dt,
            );
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

    /// Loads a preset into the learner and its settings into the parameters.
    fn load_preset(&mut self, which: PresetRef, setter: &ParamSetter) {
        let Some(weights) = self.weights() else {
            return;
        };
        let (name, loaded) = match which {
            PresetRef::Factory(name) => match factory::load(name, &weights) {
                Some(l) => (name.to_string(), l),
                None => return,
            },
            PresetRef::User(path) => (
                path.file_stem()
                    .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
                Preset::load(&path, &weights),
            ),
        };
        let loaded = match loaded {
            Ok(l) => l,
            Err(e) => {
                self.message = Some(e.to_string());
                return;
            }
        };
        let preset = &loaded.preset;
        if preset.prototypes.len() > MAX_PROTOTYPES {
            self.message = Some(format!(
                "{name}: {} prototypes, more than the {MAX_PROTOTYPES} the plugin holds",
                preset.prototypes.len()
            ));
            return;
        }
        let p = &self.params;
        set(setter, &p.vigilance, preset.settings.vigilance);
        set(setter, &p.learn_rate, preset.settings.learn_rate);
        set(setter, &p.resonance, preset.settings.resonance);
        let sent = self
            .commands
            .try_send(Command::Replace(Box::new(preset.clone())));
        self.thumbs.clear();
        let notice = loaded
            .notice()
            .map(|n| format!("; {n}"))
            .unwrap_or_default();
        self.message = Some(if sent.is_ok() {
            format!(
                "loaded {name} ({} prototypes){notice}",
                preset.prototypes.len()
            )
        } else {
            format!("{name}: the learner is busy; try again")
        });
    }

    /// Saves the memory as it is stored in the project into the user preset directory.
    fn save_preset(&mut self) {
        let name: String = self
            .preset_name
            .trim()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .collect();
        if name.is_empty() {
            self.message = Some("type a name (letters, digits, space, - or _)".into());
            return;
        }
        let Some(dir) = preset::user_dir() else {
            self.message = Some("no home directory: nowhere to save presets".into());
            return;
        };
        let Some(weights) = self.weights() else {
            return;
        };
        let state = self.params.memory.state.read().clone();
        let restored = match state.restore(&weights, MAX_PROTOTYPES) {
            Ok(r) => r,
            Err(e) => {
                self.message = Some(e.to_string());
                return;
            }
        };
        let p = &self.params;
        let preset = Preset {
            encoder: weights.identity(),
            settings: Settings {
                vigilance: p.vigilance.value(),
                learn_rate: p.learn_rate.value(),
                resonance: p.resonance.value(),
            },
            prototypes: restored.prototypes,
            active: restored.active,
            kept: Vec::new(),
            own_db: Vec::new(),
        }
        .carrying(restored.kept, restored.own_db);
        let path = dir.join(format!("{name}.{}", preset::EXTENSION));
        let result = std::fs::create_dir_all(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))
            .and_then(|_| preset.save(&path).map_err(|e| e.to_string()));
        self.message = Some(match result {
            Ok(()) => format!(
                "saved {} prototypes to {}",
                preset.prototypes.len(),
                path.display()
            ),
            Err(e) => e,
        });
    }
}

/// Sample rate of the thumbnails, Hz.
const THUMB_RATE: f32 = 48_000.0;

/// One gesture on a parameter, as the host expects it (for automation and undo).
fn set<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

fn section(ui: &mut egui::Ui, title: &str, params: &[&FloatParam], setter: &ParamSetter) {
    ui.separator();
    ui.strong(title);
    for p in params {
        ui.label(p.name());
        ui.add(ParamSlider::for_param(*p, setter).with_width(150.0));
    }
}

/// The mean log-mel spectrum as bars, low bands on the left.
fn draw_thumbnail(ui: &mut egui::Ui, thumb: Option<&[f32; MEL_BANDS]>) {
    let (rect, _) = ui.allocate_exact_size(vec2(96.0, 48.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(20));
    let Some(bands) = thumb else {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "silent",
            FontId::proportional(11.0),
            Color32::GRAY,
        );
        return;
    };
    let w = rect.width() / MEL_BANDS as f32;
    for (k, &b) in bands.iter().enumerate() {
        let x = rect.left() + k as f32 * w;
        let top = rect.bottom() - b.clamp(0.0, 1.0) * rect.height();
        painter.rect_filled(
            Rect::from_min_max(pos2(x, top), pos2(x + w - 0.5, rect.bottom())),
            0.0,
            Color32::from_rgb(90, 170, 230),
        );
    }
}

/// A match value as a bar with the vigilance line across it.
fn draw_match(ui: &mut egui::Ui, m: Option<f32>, rho: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(200.0, 10.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(35));
    if let Some(m) = m {
        let color = if m >= rho {
            Color32::from_rgb(80, 200, 120)
        } else {
            Color32::from_rgb(220, 150, 60)
        };
        let x = rect.left() + m.clamp(0.0, 1.0) * rect.width();
        painter.rect_filled(
            Rect::from_min_max(rect.min, pos2(x, rect.bottom())),
            2.0,
            color,
        );
    }
    let x = rect.left() + rho * rect.width();
    painter.line_segment(
        [pos2(x, rect.top() - 2.0), pos2(x, rect.bottom() + 2.0)],
        Stroke::new(2.0, Color32::WHITE),
    );
}

/// The vigilance gauge: the last match M against ρ, big.
fn draw_gauge(ui: &mut egui::Ui, v: &View) {
    let (rect, _) = ui.allocate_exact_size(vec2(360.0, 30.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(30));
    let rho = v.gauge.rho;
    let bar = rect.shrink2(vec2(0.0, 6.0));
    if let Some(m) = v.gauge.m {
        let color = if m >= rho {
            Color32::from_rgb(80, 200, 120)
        } else {
            Color32::from_rgb(220, 150, 60)
        };
        let x = bar.left() + m.clamp(0.0, 1.0) * bar.width();
        painter.rect_filled(
            Rect::from_min_max(bar.min, pos2(x, bar.bottom())),
            3.0,
            color,
        );
        painter.text(
            pos2(bar.left() + 4.0, bar.center().y),
            Align2::LEFT_CENTER,
            format!("M {m:.2}"),
            FontId::proportional(12.0),
            Color32::BLACK,
        );
    }
    let x = rect.left() + rho * rect.width();
    painter.line_segment(
        [pos2(x, rect.top()), pos2(x, rect.bottom())],
        Stroke::new(2.5, Color32::WHITE),
    );
    painter.text(
        pos2(x + 4.0, rect.top() + 2.0),
        Align2::LEFT_TOP,
        format!("ρ {rho:.2}"),
        FontId::proportional(11.0),
        Color32::WHITE,
    );
}

/// The embedding map: prototypes as numbered dots (the active one ringed), the last sidechain
/// note as a red cross.
fn draw_map(ui: &mut egui::Ui, v: &View, active: Option<usize>) {
    let (rect, _) = ui.allocate_exact_size(vec2(360.0, 210.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(20));
    let inner = rect.shrink(18.0);
    let at = |x: f32, y: f32| -> Pos2 {
        pos2(
            inner.center().x + x * inner.width() / 2.0,
            inner.center().y - y * inner.height() / 2.0,
        )
    };
    painter.line_segment(
        [
            pos2(inner.left(), inner.center().y),
            pos2(inner.right(), inner.center().y),
        ],
        Stroke::new(1.0, Color32::from_gray(50)),
    );
    painter.line_segment(
        [
            pos2(inner.center().x, inner.top()),
            pos2(inner.center().x, inner.bottom()),
        ],
        Stroke::new(1.0, Color32::from_gray(50)),
    );
    if v.map.is_empty() {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "no prototypes yet",
            FontId::proportional(12.0),
            Color32::GRAY,
        );
    }
    for point in &v.map {
        let pos = at(point.x, point.y);
        match point.kind {
            PointKind::Prototype(i) => {
                painter.circle_filled(pos, 6.0, Color32::from_rgb(90, 170, 230));
                if active == Some(i) {
                    painter.circle_stroke(pos, 9.0, Stroke::new(2.0, Color32::WHITE));
                }
                painter.text(
                    pos + vec2(8.0, -8.0),
                    Align2::LEFT_BOTTOM,
                    format!("{}", i + 1),
                    FontId::proportional(11.0),
                    Color32::LIGHT_GRAY,
                );
            }
            PointKind::Live => {
                let s = Stroke::new(2.5, Color32::from_rgb(240, 80, 80));
                painter.line_segment([pos - vec2(6.0, 6.0), pos + vec2(6.0, 6.0)], s);
                painter.line_segment([pos - vec2(6.0, -6.0), pos + vec2(6.0, -6.0)], s);
            }
        }
    }
}

/// The refinement losses, log scale.
fn draw_loss(ui: &mut egui::Ui, v: &View) {
    let (rect, _) = ui.allocate_exact_size(vec2(360.0, 120.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(20));
    if v.loss.is_empty() {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "loss: nothing refined yet",
            FontId::proportional(12.0),
            Color32::GRAY,
        );
        return;
    }
    let (lo, hi) = v.loss.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
        (lo.min(p[1]), hi.max(p[1]))
    });
    let (lo, hi) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
    let n = v.loss.last().map_or(1.0, |p| p[0].max(1.0));
    let inner = rect.shrink2(vec2(36.0, 10.0));
    let points: Vec<Pos2> = v
        .loss
        .iter()
        .map(|p| {
            pos2(
                inner.left() + p[0] / n * inner.width(),
                inner.bottom() - (p[1] - lo) / (hi - lo) * inner.height(),
            )
        })
        .collect();
    painter.add(egui::Shape::line(
        points,
        Stroke::new(1.5, Color32::from_rgb(230, 200, 90)),
    ));
    for (y, value) in [(inner.top(), hi), (inner.bottom(), lo)] {
        painter.text(
            pos2(rect.left() + 4.0, y),
            Align2::LEFT_CENTER,
            format!("1e{value:.0}"),
            FontId::proportional(10.0),
            Color32::GRAY,
        );
    }
    painter.text(
        pos2(inner.right(), rect.bottom() - 2.0),
        Align2::RIGHT_BOTTOM,
        format!("{} refinements", v.loss.len()),
        FontId::proportional(10.0),
        Color32::GRAY,
    );
}
