//! Keeps the GL driver loaded once an editor window has used it.
//!
//! baseview opens a new EGL (or GLX) display for every editor window and closes it with the
//! window, and Mesa then unloads its driver: every open loaded libEGL, the DRI driver and
//! libX11 afresh, and each load left about 10 kB of heap and 30 kB of resident memory behind
//! (LLVM's code pages among them), measured by opening and closing the editor 100 times
//! (`tests/tests/editor_clap.rs`). Holding one reference to each of those libraries keeps
//! them loaded for the rest of the process, as a host that draws with GL itself does.

use std::ffi::{CStr, CString, c_int, c_void};
use std::sync::Once;

/// Parts of the names of the libraries kept loaded.
const GL_LIBRARIES: [&str; 8] = [
    "libEGL",
    "libGLX",
    "libGL.",
    "libGLdispatch",
    "libglapi",
    "_dri.so",
    "libgallium",
    "libX11.",
];

/// Takes one lasting reference to every GL library loaded now. Runs once per process, on the
/// GUI thread after the first window made its GL context. Allocates.
pub fn pin_gl_libraries() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut names: Vec<CString> = Vec::new();
        // SAFETY: the callback only reads the entry's name while dl_iterate_phdr runs, and
        // `names` outlives the call.
        unsafe { libc::dl_iterate_phdr(Some(collect), (&raw mut names).cast::<c_void>()) };
        for name in &names {
            // RTLD_NOLOAD: only a library already loaded; RTLD_NODELETE: never unloaded. The
            // handle is kept on purpose (one reference for the process's life).
            // SAFETY: `name` is a valid C string; the library is already loaded.
            unsafe {
                libc::dlopen(
                    name.as_ptr(),
                    libc::RTLD_LAZY | libc::RTLD_NOLOAD | libc::RTLD_NODELETE,
                )
            };
        }
    });
}

/// dl_iterate_phdr's callback: collects the GL libraries' names (dlopen is not called here,
/// inside the loader's iteration).
unsafe extern "C" fn collect(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: dl_iterate_phdr passes a valid entry and our `data` pointer.
    let (info, names) = unsafe { (&*info, &mut *data.cast::<Vec<CString>>()) };
    if info.dlpi_name.is_null() {
        return 0;
    }
    // SAFETY: a non-null dlpi_name is a C string owned by the loader.
    let name = unsafe { CStr::from_ptr(info.dlpi_name) };
    let text = name.to_string_lossy();
    if GL_LIBRARIES.iter().any(|part| text.contains(part)) {
        names.push(name.to_owned());
    }
    0
}
