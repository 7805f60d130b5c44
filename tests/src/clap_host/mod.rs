//! A minimal CLAP host on clack-host: it loads a `.clap` bundle, instantiates one plugin and
//! drives it the way a DAW would (activate, process blocks of note and parameter events, save and
//! load state), so the tests check the bundle users install rather than the Rust crate.
//!
//! Everything runs on the calling thread, which is both the CLAP main thread and the audio
//! thread. CLAP allows that as long as main-thread and audio-thread calls never overlap, and they
//! cannot here: every call goes through `&mut self`.
//!
//! Parameter values are CLAP values, i.e. whatever the plugin declares in its parameter info.
//! nice-plug declares every continuous parameter as its normalised knob position in `[0, 1]`
//! (stepped ones as `0..=steps`), so plain values go through [`ClapHost::text_to_value`] and
//! [`ClapHost::value_to_text`], the plugin's own conversions.
//!
//! One concern a file: [`ClapHost`] and loading here; `callbacks` (what the plugin asks of the
//! host), `ports` (the audio port layout), `activation` (activate, deactivate, reset, render
//! mode), `events` (notes, parameter changes, extras and transport as CLAP events), `audio`
//! (the buffers and the process call), `render` (process calls through the host), `params`,
//! `state`, `editor`, `main_side` (the main thread beside a running audio side) and `scan`
//! (what a DAW's plugin scan reads).

mod activation;
mod audio;
mod callbacks;
mod editor;
mod events;
mod main_side;
mod params;
mod ports;
mod render;
mod scan;
mod state;

pub use audio::{AudioSide, Block, BlockOut, Sidechain, block_stats};
pub use callbacks::HostCallbacks;
pub use clack_host::events::event_types::NoteExpressionType;
pub use editor::x11_parent_window;
pub use events::{Extra, NoteEv, ParamEv, Transport};
pub use main_side::MainSide;
pub use params::{ParamInfo, param};
pub use ports::AudioPortDesc;
pub use scan::{Descriptor, scan};

use anyhow::{Context, Result, anyhow, bail, ensure};
use callbacks::{HostMainThread, HostShared, TestHost};
use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::note_ports::PluginNotePorts;
use clack_extensions::params::PluginParams;
use clack_extensions::state::PluginState;
use clack_host::prelude::*;
use std::ffi::CString;
use std::path::Path;

/// A loaded CLAP plugin instance and everything needed to drive it.
///
/// Dropping it deactivates the plugin, destroys the instance, then releases the bundle.
pub struct ClapHost {
    /// The audio side of the current activation; `None` while inactive. Declared before
    /// `instance` so it goes first: clack only destroys an instance once its processor is gone.
    audio: Option<AudioSide>,
    /// The plugin instance.
    instance: PluginInstance<TestHost>,
    /// The plugin's params extension, if it has one.
    params_ext: Option<PluginParams>,
    /// The plugin's state extension, if it has one.
    state_ext: Option<PluginState>,
    /// The plugin's audio-ports extension, if it has one (without it a plugin has no ports).
    audio_ports_ext: Option<PluginAudioPorts>,
    /// Audio inputs as last read from the plugin.
    input_ports: Vec<AudioPortDesc>,
    /// Audio outputs as last read from the plugin.
    output_ports: Vec<AudioPortDesc>,
    /// Number of note input ports the plugin declares.
    note_inputs: u32,
    /// Parameter changes (id, value, sample offset) waiting for the next process call or flush.
    pending_params: Vec<(ClapId, f64, u32)>,
    /// Samples processed since loading, passed as CLAP `steady_time` (carried across
    /// activations).
    steady_time: u64,
    /// Whether the plugin was last told to render offline (applies from the next activation).
    offline: bool,
    /// The loaded bundle, held only to outlive the instance: last, so it drops last.
    _entry: PluginEntry,
}

impl ClapHost {
    /// Loads the CLAP bundle at `path` and instantiates the plugin `plugin_id` from it.
    ///
    /// On Linux and Windows a bundle is the shared library itself; on macOS clack resolves the
    /// library inside the `.clap` directory.
    pub fn load(path: &Path, plugin_id: &str) -> Result<Self> {
        let entry = open_entry(path)?;
        let factory = entry
            .get_plugin_factory()
            .with_context(|| format!("{} exposes no CLAP plugin factory", path.display()))?;
        let ids: Vec<String> = factory
            .plugin_descriptors()
            .filter_map(|d| d.id())
            .map(|id| id.to_string_lossy().into_owned())
            .collect();
        if !ids.iter().any(|id| id == plugin_id) {
            bail!(
                "no plugin {plugin_id:?} in {}; plugin ids found: {ids:?}",
                path.display()
            );
        }
        let c_id = CString::new(plugin_id).context("plugin id contains a NUL byte")?;
        let host_info = HostInfo::new(
            "DAR-DDSP test host",
            "DAR-DDSP developers",
            "https://example.invalid/dar-ddsp",
            env!("CARGO_PKG_VERSION"),
        )
        .context("invalid host info")?;
        let mut instance = PluginInstance::<TestHost>::new(
            |_| HostShared::default(),
            |_| HostMainThread::default(),
            &entry,
            &c_id,
            &host_info,
        )
        .with_context(|| format!("cannot instantiate {plugin_id} from {}", path.display()))?;

        let (params_ext, state_ext, audio_ports_ext, note_ports_ext) = {
            let handle = instance.plugin_handle();
            (
                handle.get_extension::<PluginParams>(),
                handle.get_extension::<PluginState>(),
                handle.get_extension::<PluginAudioPorts>(),
                handle.get_extension::<PluginNotePorts>(),
            )
        };
        let note_inputs = match note_ports_ext {
            Some(ext) => ext.count(&instance.plugin_handle(), true),
            None => 0,
        };

        let mut host = Self {
            audio: None,
            instance,
            params_ext,
            state_ext,
            audio_ports_ext,
            input_ports: Vec::new(),
            output_ports: Vec::new(),
            note_inputs,
            pending_params: Vec::new(),
            steady_time: 0,
            offline: false,
            _entry: entry,
        };
        host.refresh_ports()?;
        host.pump_callbacks();
        Ok(host)
    }

    /// The id of the plugin, as its descriptor reports it.
    pub fn plugin_id(&self) -> Option<String> {
        let descriptor = self.instance.plugin_shared_handle().descriptor()?;
        Some(descriptor.id()?.to_string_lossy().into_owned())
    }

    /// Deactivates the plugin, destroys the instance and releases the bundle, in that order.
    /// Dropping the host does the same; this only makes the end of a test explicit.
    pub fn unload(mut self) {
        self.deactivate();
    }

    /// Destroys the plugin the way a misbehaving host does: straight `destroy`, without
    /// stopping or deactivating it first. The host's own wrappers are then leaked on purpose
    /// (they would otherwise deactivate and destroy it a second time).
    pub fn destroy_without_deactivating(self) -> Result<()> {
        let raw = self.instance.raw_instance();
        let destroy = raw.destroy.context("the plugin has no destroy function")?;
        // SAFETY: `raw` is this live instance; nothing else calls into it afterwards, because
        // every wrapper that could is forgotten below without running its drop.
        unsafe { destroy(raw) };
        std::mem::forget(self);
        Ok(())
    }
}

impl Drop for ClapHost {
    fn drop(&mut self) {
        // The fields then drop in declaration order: instance before bundle.
        self.deactivate();
    }
}

/// Loads the CLAP bundle at `path` and keeps it mapped for the rest of the process, as DAWs
/// do. If it were unloaded while threads that ran the plugin are still alive, glibc would later
/// call a thread-specific data destructor the library registered on those threads into
/// unmapped memory (SIGSEGV in __nptl_deallocate_tsd, seen with parallel tests). clack caches
/// entries, so the one extra reference costs nothing per load.
fn open_entry(path: &Path) -> Result<PluginEntry> {
    ensure!(path.exists(), "{} does not exist", path.display());
    // SAFETY: loading a shared library runs its initialisers with full access to this
    // process. The bundle is this workspace's own build; a CLAP entry must be loadable.
    let entry = unsafe { PluginEntry::load(path) }
        .map_err(|e| anyhow!("cannot load the CLAP bundle {}: {e}", path.display()))?;
    std::mem::forget(entry.clone());
    Ok(entry)
}
