//! Activation: activate for a rate and block size, stop, reset and deactivate, and the render
//! mode the next activation gets.

use super::ClapHost;
use super::audio::{AudioSide, ProcessBuffers};
use anyhow::{Context, Result, ensure};
use clack_host::prelude::*;

impl ClapHost {
    /// Whether the plugin is activated.
    pub fn is_active(&self) -> bool {
        self.audio.is_some()
    }

    /// Activates the plugin for `sample_rate` and blocks of 1 to `max_frames` samples.
    ///
    /// Processing starts lazily, with the first [`Self::process`] call.
    pub fn activate(&mut self, sample_rate: f64, max_frames: u32) -> Result<()> {
        ensure!(!self.is_active(), "the plugin is already active");
        ensure!(
            sample_rate.is_finite() && sample_rate > 0.0,
            "invalid sample rate {sample_rate}"
        );
        // clack panics on a zero block size; refuse it here instead.
        ensure!(max_frames >= 1, "max_frames must be at least 1");
        // The port layout can only change while inactive: read the one this activation gets.
        self.refresh_ports()?;
        let main_out = self.main_output()?;
        ensure!(
            self.output_ports[main_out].channels >= 1,
            "the main output port has no channel"
        );

        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_frames,
        };
        let processor = self
            .instance
            .activate(|_, _| (), config)
            .with_context(|| format!("the plugin refused to activate at {sample_rate} Hz"))?;
        self.audio = Some(AudioSide {
            processor: processor.into(),
            buffers: ProcessBuffers::new(
                &self.input_ports,
                &self.output_ports,
                max_frames as usize,
            ),
            input_ports: self.input_ports.clone(),
            main_out,
            note_inputs: self.note_inputs,
            max_frames,
            steady_time: self.steady_time,
            offline: self.offline,
        });
        self.pump_callbacks();
        Ok(())
    }

    /// Stops processing and deactivates the plugin; a no-op when it is not active.
    pub fn deactivate(&mut self) {
        if let Some(audio) = self.audio.take() {
            self.steady_time = audio.steady_time;
            // `into_stopped` calls stop_processing first when processing had started.
            self.instance.deactivate(audio.processor.into_stopped());
        }
        self.pump_callbacks();
    }

    /// Stops processing (CLAP `stop_processing`) without deactivating; the next process call
    /// starts it again. A no-op when inactive or already stopped.
    pub fn stop_processing(&mut self) {
        if let Some(audio) = self.audio.as_mut() {
            audio.processor.ensure_processing_stopped();
        }
    }

    /// CLAP `reset`: the plugin clears its voices and buffers. A no-op while inactive.
    pub fn reset(&mut self) {
        if let Some(audio) = self.audio.as_mut() {
            audio.processor.reset();
        }
    }

    /// Asks the plugin to render offline (`true`) or in real time, as a DAW does before a
    /// bounce; it takes effect at the next activation. An error if the plugin refuses.
    pub fn set_offline(&mut self, offline: bool) -> Result<()> {
        use clack_extensions::render::{PluginRender, RenderMode};
        let handle = self.instance.plugin_handle();
        let ext = handle
            .get_extension::<PluginRender>()
            .context("the plugin has no render extension")?;
        let mode = if offline {
            RenderMode::Offline
        } else {
            RenderMode::Realtime
        };
        ext.set(&self.instance.plugin_handle(), mode)
            .map_err(|_| anyhow::anyhow!("the plugin refused the render mode"))?;
        self.offline = offline;
        Ok(())
    }
}
