//! The main-thread side of an active plugin, for a test that runs it beside the audio side on
//! another thread ([`ClapHost::split`]); its state and parameter calls are in `state` and
//! `params`.

use super::ClapHost;
use super::audio::AudioSide;
use super::callbacks::TestHost;
use anyhow::{Context, Result};
use clack_extensions::params::PluginParams;
use clack_extensions::state::PluginState;
use clack_host::prelude::*;
use std::sync::atomic::Ordering;

/// The main-thread side of an active plugin while its audio side runs elsewhere (see
/// [`ClapHost::split`]): what a DAW's main thread does meanwhile.
pub struct MainSide<'h> {
    /// The plugin instance.
    pub(super) instance: &'h mut PluginInstance<TestHost>,
    /// The params extension.
    pub(super) params_ext: Option<PluginParams>,
    /// The state extension.
    pub(super) state_ext: Option<PluginState>,
}

impl MainSide<'_> {
    /// Runs the plugin's main-thread callback if it asked for one.
    pub fn pump(&mut self) {
        let callback = self
            .instance
            .access_shared_handler(|s| s.callback_requested.swap(false, Ordering::SeqCst));
        if callback {
            self.instance.call_on_main_thread_callback();
        }
    }
}

impl ClapHost {
    /// Splits the host into its audio side and its main-thread side, so a test can run them on
    /// two threads at once, as a DAW does (`std::thread::scope`). An error while inactive.
    pub fn split(&mut self) -> Result<(&mut AudioSide, MainSide<'_>)> {
        self.flush_params();
        let audio = self
            .audio
            .as_mut()
            .context("split() needs an active plugin: call activate()")?;
        let main = MainSide {
            instance: &mut self.instance,
            params_ext: self.params_ext,
            state_ext: self.state_ext,
        };
        Ok((audio, main))
    }

    /// The main-thread calls (state, parameter values and texts) on this instance.
    pub(super) fn main_side(&mut self) -> MainSide<'_> {
        MainSide {
            instance: &mut self.instance,
            params_ext: self.params_ext,
            state_ext: self.state_ext,
        }
    }
}
