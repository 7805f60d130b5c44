//! The panel's parts, laid out: the top bar (mode, memory, presets), the plant's knobs, the
//! prototype cards and the learning view.

use super::view::{self, View};
use super::widgets::{self, draw_gauge, draw_loss, draw_map, draw_match, draw_thumbnail};
use super::{App, PresetRef, file_dialog, palette};
use crate::learner::{Command, Snapshot};
use crate::params::ModeParam;
use dar_ddsp_core::live::Mode;
use dar_ddsp_core::num::units::amplitude_to_db;
use dar_ddsp_core::store::{factory, preset};
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

impl App {
    pub(super) fn top_bar(
        &mut self,
        ui: &mut egui::Ui,
        setter: &ParamSetter,
        mode: Mode,
        count: usize,
    ) {
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
                ui.colored_label(palette::ERROR, format!("Forget all {count} prototypes?"));
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
            let dump = &mut self.dump;
            let load = egui::ComboBox::from_id_salt("load")
                .selected_text("Load preset…")
                .width(170.0)
                .show_ui(ui, |ui| {
                    for (name, _) in factory::PRESETS {
                        let label = format!("factory: {name}");
                        let item = ui.selectable_label(false, &label);
                        dump.control(&label, item.rect);
                        if item.clicked() {
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
            self.dump.control("Load preset…", load.response.rect);
            if let Some(which) = chosen {
                self.load_preset(which, setter);
            }
            ui.add(egui::TextEdit::singleline(&mut self.preset_name).desired_width(110.0));
            let save = ui.button("Save preset");
            self.dump.control("Save preset", save.rect);
            if save.clicked() {
                self.save_preset();
            }
            if let Some(m) = &self.message {
                ui.label(m.as_str());
            }
        });
    }

    pub(super) fn knobs(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
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
        let db = amplitude_to_db(peak.max(1e-6));
        ui.add(
            egui::ProgressBar::new(((db + 60.0) / 60.0).clamp(0.0, 1.0))
                .text(format!("{db:.1} dBFS")),
        );
        ui.add(ParamSlider::for_param(&p.sc_listen, setter));
        section(ui, "Learning", &[&p.learn_rate, &p.resonance], setter);
        ui.label(p.sync.name()).on_hover_text(
            "Every Block: each block waits for the learner, for renders whose host does not say \
             it renders offline. Never live: the audio would drop out.",
        );
        ui.add(ParamSlider::for_param(&p.sync, setter).with_width(150.0));
    }

    pub(super) fn cards(
        &mut self,
        ui: &mut egui::Ui,
        setter: &ParamSetter,
        s: &Snapshot,
        v: &View,
    ) {
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
                        palette::ACTIVE_CARD
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
                    text.color(palette::TEXT)
                } else {
                    text
                };
                if ui
                    .add(egui::Label::new(text).sense(egui::Sense::click()))
                    .on_hover_text("click to rename")
                    .clicked()
                {
                    self.renaming = Some((index, name.to_string()));
                }
            }
        }
    }

    pub(super) fn learning(
        &mut self,
        ui: &mut egui::Ui,
        setter: &ParamSetter,
        s: &Snapshot,
        v: &View,
    ) {
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
            s.steps, self.rate.per_second
        ));
        ui.label(view::counters(s));
        if let Some(line) = view::split_line(s) {
            ui.colored_label(palette::NOTICE, line);
        }
        if let Some(e) = &s.error {
            ui.colored_label(palette::ERROR, e.as_str());
        }
        ui.separator();
        self.learn_from_file(ui, s);
    }

    /// Learn from file: a path (typed, pasted or picked with Browse…) learned as if it arrived
    /// on the sidechain in Learn mode, by the learner thread; the panel shows its progress and
    /// result, then the audition and the two spectra. Dropping a file on the panel cannot work
    /// yet: egui-baseview 0.9 does not pass the window's drops on to egui.
    fn learn_from_file(&mut self, ui: &mut egui::Ui, s: &Snapshot) {
        ui.strong("Learn from file (WAV, FLAC, AIFF, OGG, MP3)");
        let mut learn = self.picked();
        ui.horizontal(|ui| {
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.file_path)
                    .hint_text("path to an audio file")
                    .desired_width(200.0),
            );
            self.dump.control("file path", field.rect);
            let button = ui.button("Learn from file");
            self.dump.control("Learn from file", button.rect);
            let browse = ui.add_enabled(self.picking.is_none(), egui::Button::new("Browse…"));
            if browse.clicked() {
                self.picking = Some(file_dialog::pick_audio_file());
            }
            let typed = self.file_path.trim();
            if (button.clicked()
                || field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
                && !typed.is_empty()
            {
                learn = Some(std::path::PathBuf::from(typed));
            }
        });
        if let Some(path) = learn
            && self.commands.try_send(Command::LearnFile(path)).is_err()
        {
            self.message = Some("the learner is busy: try again".into());
        }
        if let Some(line) = view::file_line(s) {
            let error = s.file.as_ref().is_some_and(|f| f.error.is_some());
            ui.colored_label(
                if error {
                    palette::ERROR
                } else {
                    palette::NOTICE
                },
                line,
            );
        }
        self.audition(ui, s);
    }

    /// The file the Browse… dialog answered with, once (the path field shows it).
    fn picked(&mut self) -> Option<std::path::PathBuf> {
        let answer = self.picking.as_ref()?.try_recv();
        match answer {
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Ok(path) => {
                self.picking = None;
                let path = path?;
                self.file_path = path.display().to_string();
                Some(path)
            }
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                self.picking = None;
                self.message = Some("no file dialog could be opened: type the path".into());
                None
            }
        }
    }

    /// The Audition button, what it plays, and the sample's and the prototype's spectra side
    /// by side (after a file learn).
    fn audition(&mut self, ui: &mut egui::Ui, s: &Snapshot) {
        let (Some(line), Some(f)) = (view::audition_line(s), s.file.as_ref()) else {
            return;
        };
        let (Some(a), Some(j)) = (f.audition.as_ref(), f.prototype) else {
            return;
        };
        ui.horizontal_wrapped(|ui| {
            let button = ui.button("Audition");
            self.dump.control("Audition", button.rect);
            if button.clicked() {
                self.audition_request
                    .fetch_add(1, std::sync::atomic::Ordering::Release);
            }
            ui.label(line);
        });
        ui.horizontal(|ui| {
            for (title, bands) in [
                ("the sample".to_owned(), a.sample.as_ref()),
                (format!("prototype {}", j + 1), a.played.as_ref()),
            ] {
                ui.vertical(|ui| {
                    ui.small(title);
                    widgets::draw_spectrum(ui, bands, egui::vec2(150.0, 40.0));
                });
            }
        });
    }
}

/// One gesture on a parameter, as the host expects it (for automation and undo).
pub(super) fn set<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
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
