//! What a DAW's plugin scan reads from a bundle: the descriptor of every plugin its factory
//! lists.

use super::{ClapHost, open_entry};
use anyhow::{Context, Result};
use std::path::Path;

/// One plugin as a factory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// Plugin id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Vendor.
    pub vendor: String,
    /// Version string.
    pub version: String,
    /// Home page.
    pub url: String,
    /// One-line description.
    pub description: String,
    /// CLAP features ("instrument", "synthesizer", …).
    pub features: Vec<String>,
}

impl Descriptor {
    /// Reads a clack descriptor (missing strings become empty).
    pub(super) fn of(d: &clack_host::plugin::PluginDescriptor) -> Self {
        let text = |s: Option<&std::ffi::CStr>| {
            s.map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        Self {
            id: text(d.id()),
            name: text(d.name()),
            vendor: text(d.vendor()),
            version: text(d.version()),
            url: text(d.url()),
            description: text(d.description()),
            features: d
                .features()
                .map(|f| f.to_string_lossy().into_owned())
                .collect(),
        }
    }
}

/// What a DAW's plugin scan reads from a bundle: every plugin its factory describes.
pub fn scan(path: &Path) -> Result<Vec<Descriptor>> {
    let entry = open_entry(path)?;
    let factory = entry
        .get_plugin_factory()
        .with_context(|| format!("{} exposes no CLAP plugin factory", path.display()))?;
    Ok(factory.plugin_descriptors().map(Descriptor::of).collect())
}

impl ClapHost {
    /// The instance's descriptor.
    pub fn descriptor(&self) -> Result<Descriptor> {
        let d = self
            .instance
            .plugin_shared_handle()
            .descriptor()
            .context("the instance has no descriptor")?;
        Ok(Descriptor::of(d))
    }
}
