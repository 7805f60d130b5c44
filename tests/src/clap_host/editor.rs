//! The plugin's editor, embedded in a window the test owns (CLAP gui extension).

use super::ClapHost;
use anyhow::{Context, Result, anyhow};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, WindowClass};
use x11rb::rust_connection::RustConnection;

/// A mapped top-level window of `width` × `height` on the X server `$DISPLAY`, for a host to
/// embed the editor in, with the connection that keeps it alive (the window closes with it).
pub fn x11_parent_window(width: u16, height: u16) -> Result<(RustConnection, u32)> {
    let display = std::env::var("DISPLAY")
        .context("no X server: run it as `cargo xtask test` does, under xvfb-run")?;
    let (conn, screen) = x11rb::connect(Some(&display)).context("cannot reach the X server")?;
    let root = conn.setup().roots[screen].root;
    let window = conn.generate_id()?;
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        window,
        root,
        0,
        0,
        width,
        height,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new(),
    )?;
    conn.map_window(window)?;
    conn.flush()?;
    Ok((conn, window))
}

impl ClapHost {
    /// Opens the plugin's editor embedded in the X11 window `parent` (CLAP gui extension:
    /// create, set_parent, show), then runs what the editor asked of the main thread.
    ///
    /// # Safety
    ///
    /// `parent` must be a live X11 window until [`Self::close_editor`] returns.
    pub unsafe fn open_editor(&mut self, parent: u64) -> Result<()> {
        use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window};
        let handle = self.instance.plugin_handle();
        let gui = handle
            .get_extension::<PluginGui>()
            .context("the plugin has no gui extension")?;
        let config = GuiConfiguration {
            api_type: GuiApiType::X11,
            is_floating: false,
        };
        let main = self.instance.plugin_handle();
        gui.create(&main, config)
            .map_err(|e| anyhow!("gui.create failed: {e:?}"))?;
        // SAFETY: the caller keeps `parent` alive until the editor is destroyed.
        unsafe { gui.set_parent(&main, Window::from_x11_handle(parent as _)) }
            .map_err(|e| anyhow!("gui.set_parent failed: {e:?}"))?;
        gui.show(&main)
            .map_err(|e| anyhow!("gui.show failed: {e:?}"))?;
        self.pump_callbacks();
        Ok(())
    }

    /// Runs the main-thread work the editor asked for (its event loop runs on it, as in a
    /// DAW); call it regularly while the editor is open.
    pub fn pump_editor(&mut self) {
        self.pump_callbacks();
    }

    /// Hides and destroys the editor (CLAP gui extension), then runs pending main-thread work.
    pub fn close_editor(&mut self) -> Result<()> {
        use clack_extensions::gui::PluginGui;
        let handle = self.instance.plugin_handle();
        let gui = handle
            .get_extension::<PluginGui>()
            .context("the plugin has no gui extension")?;
        let main = self.instance.plugin_handle();
        let _ = gui.hide(&main);
        gui.destroy(&main);
        self.pump_callbacks();
        Ok(())
    }
}
