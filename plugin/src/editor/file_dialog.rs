//! The Browse… button's file dialog: rfd's desktop-portal dialog (zenity where no portal
//! answers), on a thread of its own, so the host's GUI thread never waits on it; the panel
//! polls for the answer each frame. The thread is not joined: a dialog left open outlives the
//! editor window and is forgotten when it closes.

use crossbeam_channel::Receiver;
use dar_ddsp_core::signal::audio_file::EXTENSIONS;
use std::path::PathBuf;

/// Opens the dialog; the receiver gets the chosen file, or `None` when it was cancelled or no
/// dialog could be shown. Disconnected without an answer if no thread could be started.
/// Allocates (GUI thread).
pub(super) fn pick_audio_file() -> Receiver<Option<PathBuf>> {
    let (answer, receiver) = crossbeam_channel::bounded(1);
    let started = std::thread::Builder::new()
        .name("dar-ddsp file dialog".into())
        .spawn(move || {
            let picked = rfd::FileDialog::new()
                .set_title("Learn from file")
                .add_filter("Audio", &EXTENSIONS)
                .pick_file();
            // The editor may have closed meanwhile: nobody to tell.
            let _ = answer.send(picked);
        });
    if let Err(e) = started {
        nice_plug::nice_error!("DAR-DDSP cannot open a file dialog: {e}");
    }
    receiver
}
