//! The audio ports the plugin declares, as the host reads them before every activation.

use super::ClapHost;
use anyhow::{Context, Result, ensure};
use clack_extensions::audio_ports::{AudioPortFlags, AudioPortInfoBuffer, PluginAudioPorts};
use clack_host::prelude::*;

/// One audio port as the plugin declares it through the CLAP audio-ports extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioPortDesc {
    /// Display name ("Sidechain", "Output", …).
    pub name: String,
    /// Number of channels.
    pub channels: u32,
    /// Whether this is the main port of its direction (otherwise an auxiliary one).
    pub is_main: bool,
}

impl ClapHost {
    /// Audio input ports, as read at load time or at the last activation.
    pub fn input_ports(&self) -> &[AudioPortDesc] {
        &self.input_ports
    }

    /// Audio output ports, as read at load time or at the last activation.
    pub fn output_ports(&self) -> &[AudioPortDesc] {
        &self.output_ports
    }

    /// Number of note input ports.
    pub fn note_input_ports(&self) -> u32 {
        self.note_inputs
    }

    /// Index of the main output port (the first output when none is flagged main).
    pub(super) fn main_output(&self) -> Result<usize> {
        ensure!(
            !self.output_ports.is_empty(),
            "the plugin has no audio output port"
        );
        Ok(self
            .output_ports
            .iter()
            .position(|p| p.is_main)
            .unwrap_or(0))
    }

    /// Re-reads the audio port layout (only meaningful while inactive).
    pub(super) fn refresh_ports(&mut self) -> Result<()> {
        let Some(ext) = self.audio_ports_ext else {
            self.input_ports.clear();
            self.output_ports.clear();
            return Ok(());
        };
        let handle = self.instance.plugin_handle();
        self.input_ports = read_ports(&ext, &handle, true)?;
        self.output_ports = read_ports(&ext, &handle, false)?;
        Ok(())
    }
}

/// The input or output ports the plugin declares.
pub(super) fn read_ports(
    ext: &PluginAudioPorts,
    handle: &PluginMainThreadHandle,
    is_input: bool,
) -> Result<Vec<AudioPortDesc>> {
    let direction = if is_input { "input" } else { "output" };
    let mut buffer = AudioPortInfoBuffer::new();
    (0..ext.count(handle, is_input))
        .map(|i| -> Result<AudioPortDesc> {
            let info = ext
                .get(handle, i, is_input, &mut buffer)
                .with_context(|| format!("the plugin has no info for {direction} port #{i}"))?;
            Ok(AudioPortDesc {
                name: String::from_utf8_lossy(info.name).into_owned(),
                channels: info.channel_count,
                is_main: info.flags.contains(AudioPortFlags::IS_MAIN),
            })
        })
        .collect()
}
