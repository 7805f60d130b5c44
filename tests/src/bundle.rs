//! The bundle under test, found one way for every test and bench, and the plugin loaded from
//! it.

use crate::ClapHost;
use anyhow::{Result, bail, ensure};
use std::path::{Path, PathBuf};

/// The plugin's CLAP id.
pub const PLUGIN_ID: &str = "org.dar-ddsp.synth";

/// The CLAP bundle under test: `$DAR_DDSP_CLAP` (set by `cargo xtask test`), else the first of
/// `target/bundled-debug` and `target/bundled` that holds one.
pub fn clap_bundle() -> Result<PathBuf> {
    find_bundle(
        &[
            "target/bundled-debug/DAR-DDSP.clap",
            "target/bundled/DAR-DDSP.clap",
        ],
        "run `cargo xtask test`, which bundles the plugin first",
    )
}

/// The release CLAP bundle, for measuring speed: `$DAR_DDSP_CLAP`, else the one in
/// `target/bundled`, where `cargo xtask bundle dar-ddsp --release` writes it.
pub fn clap_bundle_release() -> Result<PathBuf> {
    find_bundle(
        &["target/bundled/DAR-DDSP.clap"],
        "run `cargo xtask bundle dar-ddsp --release` first",
    )
}

/// `$DAR_DDSP_CLAP` when it is set (an error if it names nothing), else the first of
/// `candidates` (relative to the workspace) that exists; the error says what was looked for
/// and `what_to_run`.
fn find_bundle(candidates: &[&str], what_to_run: &str) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("DAR_DDSP_CLAP") {
        let path = PathBuf::from(path);
        ensure!(
            path.exists(),
            "$DAR_DDSP_CLAP is {}, which does not exist",
            path.display()
        );
        return Ok(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(path) = candidates.iter().map(|c| root.join(c)).find(|p| p.exists()) else {
        bail!(
            "no DAR-DDSP.clap in {} (looked for {candidates:?}) and $DAR_DDSP_CLAP is unset: \
             {what_to_run}",
            root.display()
        );
    };
    Ok(path)
}

/// A fresh, inactive instance of the plugin from the bundle under test ([`clap_bundle`]).
pub fn load_plugin() -> Result<ClapHost> {
    ClapHost::load(&clap_bundle()?, PLUGIN_ID)
}
