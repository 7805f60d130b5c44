//! Loading and saving presets from the panel: the factory presets and the user's preset
//! directory; a load replaces the learner's memory and sets the learning parameters.

use super::App;
use super::panels::set;
use crate::learner::Command;
use dar_ddsp_core::live::MAX_PROTOTYPES;
use dar_ddsp_core::store::factory;
use dar_ddsp_core::store::preset::{self, Preset, Settings};
use nice_plug::prelude::*;
use std::path::PathBuf;

/// A preset the load menu offers.
pub(super) enum PresetRef {
    /// A factory preset, by name.
    Factory(&'static str),
    /// A file in the user preset directory.
    User(PathBuf),
}

impl App {
    /// Loads a preset into the learner and its settings into the parameters.
    pub(super) fn load_preset(&mut self, which: PresetRef, setter: &ParamSetter) {
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
    pub(super) fn save_preset(&mut self) {
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
