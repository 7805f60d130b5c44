//! What the plugin asks of the host: clack's handler types with the host side of the params,
//! state, audio-ports, note-ports and gui extensions, the record of those requests
//! ([`HostCallbacks`]), and the host running the main-thread work the plugin asked for.

use super::ClapHost;
use clack_extensions::audio_ports::{AudioPortRescanFlags, HostAudioPorts, HostAudioPortsImpl};
use clack_extensions::note_ports::{
    HostNotePorts, HostNotePortsImpl, NoteDialects, NotePortRescanFlags,
};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamRescanFlags,
};
use clack_extensions::state::{HostState, HostStateImpl};
use clack_host::prelude::*;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the plugin has asked of the host so far (requests are recorded, not acted on, except
/// the main-thread callback and parameter flushes, which the host performs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCallbacks {
    /// The plugin asked to be deactivated and reactivated.
    pub restart_requested: bool,
    /// The plugin asked to be activated or to start processing.
    pub process_requested: bool,
    /// Times the plugin asked the host to rescan parameters.
    pub param_rescans: u32,
    /// Times the plugin asked the host to clear references to a parameter.
    pub param_clears: u32,
    /// Times the plugin asked the host to rescan audio ports.
    pub audio_port_rescans: u32,
    /// Times the plugin asked the host to rescan note ports.
    pub note_port_rescans: u32,
    /// The plugin marked its state as changed since the last save.
    pub state_dirty: bool,
}

/// Ties the host's callback handlers together for clack.
pub(super) struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostParams>()
            .register::<HostState>()
            .register::<HostAudioPorts>()
            .register::<HostNotePorts>()
            .register::<clack_extensions::gui::HostGui>();
    }
}

/// Host state the plugin may touch from any thread.
#[derive(Default)]
pub(super) struct HostShared {
    /// Set by `request_restart`.
    pub(super) restart_requested: AtomicBool,
    /// Set by `request_process`.
    pub(super) process_requested: AtomicBool,
    /// Set by `request_callback`; cleared when the host calls `on_main_thread`.
    pub(super) callback_requested: AtomicBool,
    /// Set by the params `request_flush`; cleared when the host flushes.
    pub(super) flush_requested: AtomicBool,
    /// Set when the plugin reports its editor closed or lost.
    gui_closed: AtomicBool,
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }

    fn request_process(&self) {
        self.process_requested.store(true, Ordering::SeqCst);
    }

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

/// The editor lives in a window this host owns: it accepts every size and show/hide request.
impl clack_extensions::gui::HostGuiImpl for HostShared {
    fn resize_hints_changed(&self) {}

    fn request_resize(
        &self,
        _new_size: clack_extensions::gui::GuiSize,
    ) -> Result<(), clack_host::prelude::HostError> {
        Ok(())
    }

    fn request_show(&self) -> Result<(), clack_host::prelude::HostError> {
        Ok(())
    }

    fn request_hide(&self) -> Result<(), clack_host::prelude::HostError> {
        Ok(())
    }

    fn closed(&self, _was_destroyed: bool) {
        self.gui_closed.store(true, Ordering::SeqCst);
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::SeqCst);
    }
}

/// Host state only the main thread touches: counters of what the plugin asked for.
#[derive(Default)]
pub(super) struct HostMainThread {
    /// Calls to the params `rescan`.
    param_rescans: Cell<u32>,
    /// Calls to the params `clear`.
    param_clears: Cell<u32>,
    /// Calls to the audio-ports `rescan`.
    audio_port_rescans: Cell<u32>,
    /// Calls to the note-ports `rescan`.
    note_port_rescans: Cell<u32>,
    /// Set by the state `mark_dirty`.
    state_dirty: Cell<bool>,
}

/// Adds one to a callback counter.
fn bump(counter: &Cell<u32>) {
    counter.set(counter.get().saturating_add(1));
}

impl MainThreadHandler<'_> for HostMainThread {}

impl HostParamsImplMainThread for HostMainThread {
    fn rescan(&self, _flags: ParamRescanFlags) {
        // Parameter info is read fresh on every `params()` call, so a rescan needs no cache
        // invalidation; counting it lets tests check the plugin announces its changes.
        bump(&self.param_rescans);
    }

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {
        // This host keeps no automation or modulation to clear.
        bump(&self.param_clears);
    }
}

impl HostStateImpl for HostMainThread {
    fn mark_dirty(&self) {
        self.state_dirty.set(true);
    }
}

impl HostAudioPortsImpl for HostMainThread {
    fn is_rescan_flag_supported(&self, _flag: AudioPortRescanFlags) -> bool {
        // Ports are re-read before every activation, which covers every kind of rescan.
        true
    }

    fn rescan(&self, _flags: AudioPortRescanFlags) {
        bump(&self.audio_port_rescans);
    }
}

impl HostNotePortsImpl for HostMainThread {
    fn supported_dialects(&self) -> NoteDialects {
        // Notes go out as CLAP note events only.
        NoteDialects::CLAP
    }

    fn rescan(&self, _flags: NotePortRescanFlags) {
        bump(&self.note_port_rescans);
    }
}

impl ClapHost {
    /// What the plugin has asked of the host so far.
    pub fn callbacks(&self) -> HostCallbacks {
        let (restart_requested, process_requested) = self.instance.access_shared_handler(|s| {
            (
                s.restart_requested.load(Ordering::SeqCst),
                s.process_requested.load(Ordering::SeqCst),
            )
        });
        self.instance.access_handler(|m| HostCallbacks {
            restart_requested,
            process_requested,
            param_rescans: m.param_rescans.get(),
            param_clears: m.param_clears.get(),
            audio_port_rescans: m.audio_port_rescans.get(),
            note_port_rescans: m.note_port_rescans.get(),
            state_dirty: m.state_dirty.get(),
        })
    }

    /// Runs what the plugin asked the main thread for: its `on_main_thread` callback and
    /// parameter flushes. A DAW does this from its event loop; here it follows every call.
    pub(super) fn pump_callbacks(&mut self) {
        let (callback, flush) = self.instance.access_shared_handler(|s| {
            (
                s.callback_requested.swap(false, Ordering::SeqCst),
                s.flush_requested.load(Ordering::SeqCst),
            )
        });
        if callback {
            self.instance.call_on_main_thread_callback();
        }
        // While active the next process call delivers everything a flush would.
        if flush && !self.is_active() {
            self.flush_params();
        }
    }
}
