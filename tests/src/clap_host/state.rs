//! Saving and loading the plugin's state, whole or through streams that move a few bytes per
//! call.

use super::ClapHost;
use super::main_side::MainSide;
use anyhow::{Context, Result};

impl ClapHost {
    /// The plugin's state, as its state extension writes it. Queued parameter changes are
    /// flushed first so they are part of it.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        self.save_state_chunked(usize::MAX)
    }

    /// Loads `state` through the plugin's state extension (an error when the plugin rejects it).
    /// Queued parameter changes are flushed first, so they cannot override the loaded state.
    pub fn load_state(&mut self, state: &[u8]) -> Result<()> {
        self.load_state_chunked(state, usize::MAX)
    }

    /// [`Self::save_state`] through a stream that takes at most `max_write` bytes per call:
    /// CLAP lets a host's stream accept less than it is given.
    pub fn save_state_chunked(&mut self, max_write: usize) -> Result<Vec<u8>> {
        self.flush_params();
        let saved = self.main_side().save_state_chunked(max_write);
        self.pump_callbacks();
        saved
    }

    /// [`Self::load_state`] through a stream that gives at most `max_read` bytes per call.
    pub fn load_state_chunked(&mut self, state: &[u8], max_read: usize) -> Result<()> {
        self.flush_params();
        let loaded = self.main_side().load_state_chunked(state, max_read);
        // Pump even after a failure: the plugin may have queued work for the main thread.
        self.pump_callbacks();
        loaded
    }
}

impl MainSide<'_> {
    /// The plugin's state.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        self.save_state_chunked(usize::MAX)
    }

    /// [`Self::save_state`] through a stream that takes at most `max_write` bytes per call:
    /// CLAP lets a host's stream accept less than it is given.
    pub fn save_state_chunked(&mut self, max_write: usize) -> Result<Vec<u8>> {
        let ext = self
            .state_ext
            .context("the plugin has no state extension")?;
        let mut writer = ChunkWriter {
            bytes: Vec::new(),
            max: max_write.max(1),
        };
        ext.save(&self.instance.plugin_handle(), &mut writer)
            .context("the plugin failed to save its state")?;
        Ok(writer.bytes)
    }

    /// Loads a state (an error when the plugin rejects it).
    pub fn load_state(&mut self, state: &[u8]) -> Result<()> {
        self.load_state_chunked(state, usize::MAX)
    }

    /// [`Self::load_state`] through a stream that gives at most `max_read` bytes per call.
    pub fn load_state_chunked(&mut self, state: &[u8], max_read: usize) -> Result<()> {
        let ext = self
            .state_ext
            .context("the plugin has no state extension")?;
        let mut reader = ChunkReader {
            bytes: state,
            max: max_read.max(1),
        };
        ext.load(&self.instance.plugin_handle(), &mut reader)
            .with_context(|| format!("the plugin rejected a state of {} bytes", state.len()))
    }
}

/// A `Write` that takes at most `max` bytes per call, as a host's stream may.
struct ChunkWriter {
    /// What was written.
    bytes: Vec<u8>,
    /// Most bytes per call.
    max: usize,
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.max);
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A `Read` that gives at most `max` bytes per call, as a host's stream may.
struct ChunkReader<'a> {
    /// What is left.
    bytes: &'a [u8],
    /// Most bytes per call.
    max: usize,
}

impl std::io::Read for ChunkReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.max).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}
