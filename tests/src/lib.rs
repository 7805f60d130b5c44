//! End-to-end test support for the built DAR-DDSP bundles.
//!
//! The unit tests of `dar-ddsp` exercise the Rust crate; the tests here load the bundle a user
//! installs, through a real plugin API, so they also catch what only shows up once the plugin is
//! wrapped, exported and loaded by a host (parameter mapping, port layout, state format).
//!
//! - [`clap_host`]: a minimal CLAP host on clack-host.
//! - [`analysis`]: the signal measurements the tests assert on.

pub mod analysis;
pub mod clap_host;

pub use clap_host::{
    AudioPortDesc, AudioSide, Block, BlockOut, ClapHost, Descriptor, Extra, HostCallbacks,
    MainSide, NoteEv, ParamEv, ParamInfo, Sidechain, Transport, block_stats, scan,
};

/// The CLAP bundle under test: `$DAR_DDSP_CLAP` (set by `cargo xtask test`), else the first of
/// `target/bundled-debug` and `target/bundled` that holds one.
pub fn clap_bundle() -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    if let Some(path) = std::env::var_os("DAR_DDSP_CLAP") {
        return Ok(path.into());
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    [
        "target/bundled-debug/DAR-DDSP.clap",
        "target/bundled/DAR-DDSP.clap",
    ]
    .iter()
    .map(|c| root.join(c))
    .find(|p| p.exists())
    .context("no DAR-DDSP.clap built and $DAR_DDSP_CLAP unset: run `cargo xtask test`")
}
