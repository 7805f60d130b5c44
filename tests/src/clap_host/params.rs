//! Parameters: what the plugin declares, their values and texts, and changes sent to it (queued
//! for the next process call, or flushed).

use super::ClapHost;
use super::main_side::MainSide;
use anyhow::{Context, Result, anyhow};
use clack_extensions::params::{ParamInfoBuffer, ParamInfoFlags, PluginParams};
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;
use std::ffi::CString;
use std::sync::atomic::Ordering;

/// One parameter as the plugin declares it through the CLAP params extension.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// The CLAP parameter id (stable across sessions).
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Module path ("group/subgroup"), empty at the top level.
    pub module: String,
    /// Lowest CLAP value.
    pub min: f64,
    /// Highest CLAP value.
    pub max: f64,
    /// CLAP value of the default.
    pub default: f64,
    /// Whether only whole values are valid (`CLAP_PARAM_IS_STEPPED`: toggles, choices, counts).
    pub stepped: bool,
}

/// The parameter named `name`.
pub fn param<'p>(params: &'p [ParamInfo], name: &str) -> Result<&'p ParamInfo> {
    params.iter().find(|p| p.name == name).with_context(|| {
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        format!("no parameter named {name:?}; the plugin has {names:?}")
    })
}

impl ClapHost {
    /// Every parameter the plugin declares, in its order.
    pub fn params(&mut self) -> Result<Vec<ParamInfo>> {
        let Some(ext) = self.params_ext else {
            return Ok(Vec::new());
        };
        let handle = self.instance.plugin_handle();
        let mut buffer = ParamInfoBuffer::new();
        (0..ext.count(&handle))
            .map(|i| -> Result<ParamInfo> {
                let info = ext
                    .get_info(&handle, i, &mut buffer)
                    .with_context(|| format!("the plugin has no info for parameter #{i}"))?;
                Ok(ParamInfo {
                    id: info.id.get(),
                    name: String::from_utf8_lossy(info.name).into_owned(),
                    module: String::from_utf8_lossy(info.module).into_owned(),
                    min: info.min_value,
                    max: info.max_value,
                    default: info.default_value,
                    stepped: info.flags.contains(ParamInfoFlags::IS_STEPPED),
                })
            })
            .collect()
    }

    /// The current CLAP value of parameter `id` (changes queued by [`Self::set_param`] while
    /// active only show once a process call or [`Self::flush_params`] delivered them).
    pub fn param_value(&mut self, id: u32) -> Result<f64> {
        self.main_side().param_value(id)
    }

    /// The plugin's display text for CLAP value `value` of parameter `id` ("2.5 kHz").
    pub fn value_to_text(&mut self, id: u32, value: f64) -> Result<String> {
        self.main_side().value_to_text(id, value)
    }

    /// The CLAP value of parameter `id` the plugin parses from `text` ("500 Hz").
    pub fn text_to_value(&mut self, id: u32, text: &str) -> Result<f64> {
        let (ext, clap_id) = self.param_target(id)?;
        let c_text = CString::new(text).context("parameter text contains a NUL byte")?;
        ext.text_to_value(&self.instance.plugin_handle(), clap_id, &c_text)
            .with_context(|| format!("the plugin cannot parse {text:?} for parameter {id}"))
    }

    /// Sets parameter `id` to CLAP value `value`.
    ///
    /// While active the change is queued and goes out as a `ParamValueEvent` at sample 0 of the
    /// next process call (or with [`Self::flush_params`]); while inactive it is flushed at once,
    /// the CLAP way to change parameters without processing.
    pub fn set_param(&mut self, id: u32, value: f64) -> Result<()> {
        self.set_param_at(id, value, 0)
    }

    /// Like [`Self::set_param`], but the event lands at sample `time` of the next process call
    /// (clamped into the block): sample-accurate automation.
    pub fn set_param_at(&mut self, id: u32, value: f64, time: u32) -> Result<()> {
        let (_, clap_id) = self.param_target(id)?;
        self.pending_params.push((clap_id, value, time));
        if !self.is_active() {
            self.flush_params();
        }
        Ok(())
    }

    /// Delivers queued parameter changes through the params extension's `flush` now, without
    /// processing audio.
    pub fn flush_params(&mut self) {
        let requested = self
            .instance
            .access_shared_handler(|s| s.flush_requested.swap(false, Ordering::SeqCst));
        // The plugin may ask for a flush to hand over its own changes, so flush when asked even
        // with nothing queued; otherwise there is nothing to deliver.
        if self.pending_params.is_empty() && !requested {
            return;
        }
        let Some(ext) = self.params_ext else {
            self.pending_params.clear();
            return;
        };
        let mut events = EventBuffer::with_capacity(self.pending_params.len());
        for (id, value, _) in self.pending_params.drain(..) {
            events.push(&ParamValueEvent::new(0, id, Pckn::match_all(), value));
        }
        let input = InputEvents::from_buffer(&events);
        let mut output = OutputEvents::void();
        match self.audio.as_mut() {
            // Active: flush belongs to the audio thread, which is this one, between process calls.
            Some(audio) => {
                ext.flush_active(&mut audio.processor.plugin_handle(), &input, &mut output)
            }
            None => {
                if let Some(mut handle) = self.instance.inactive_plugin_handle() {
                    ext.flush(&mut handle, &input, &mut output);
                }
            }
        }
    }

    /// The params extension and the CLAP id for parameter `id`.
    pub(super) fn param_target(&self, id: u32) -> Result<(PluginParams, ClapId)> {
        let ext = self
            .params_ext
            .context("the plugin has no params extension")?;
        let clap_id = ClapId::from_raw(id).context("u32::MAX is not a valid CLAP parameter id")?;
        Ok((ext, clap_id))
    }
}

impl MainSide<'_> {
    /// The current CLAP value of parameter `id`.
    pub fn param_value(&mut self, id: u32) -> Result<f64> {
        let ext = self
            .params_ext
            .context("the plugin has no params extension")?;
        let clap_id = ClapId::from_raw(id).context("u32::MAX is not a parameter id")?;
        ext.get_value(&self.instance.plugin_handle(), clap_id)
            .with_context(|| format!("the plugin has no value for parameter {id}"))
    }

    /// The plugin's display text for CLAP value `value` of parameter `id`.
    pub fn value_to_text(&mut self, id: u32, value: f64) -> Result<String> {
        let ext = self
            .params_ext
            .context("the plugin has no params extension")?;
        let clap_id = ClapId::from_raw(id).context("u32::MAX is not a parameter id")?;
        let mut buffer = [0u8; 256];
        let text = ext
            .value_to_text(&self.instance.plugin_handle(), clap_id, value, &mut buffer)
            .map_err(|_| anyhow!("the plugin cannot show value {value} of parameter {id}"))?;
        Ok(String::from_utf8_lossy(text).into_owned())
    }
}
