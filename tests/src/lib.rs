//! End-to-end test support for the built DAR-DDSP bundles.
//!
//! The unit tests of `dar-ddsp` exercise the Rust crate; the tests here load the bundle a user
//! installs, through a real plugin API, so they also catch what only shows up once the plugin is
//! wrapped, exported and loaded by a host (parameter mapping, port layout, state format).
//!
//! - [`clap_host`]: a minimal CLAP host on clack-host.
//! - [`bundle`]: the bundle under test, and the plugin loaded from it.
//! - [`analysis`]: the signal measurements the tests assert on.
//! - [`project`]: the saved project state and the fixtures.
//! - [`eval`]: the eval recordings.
//! - [`usage`]: threads and resident memory of the test process.

pub mod analysis;
pub mod bundle;
pub mod clap_host;
pub mod eval;
pub mod learning;
pub mod project;
pub mod usage;

pub use bundle::{PLUGIN_ID, clap_bundle, clap_bundle_release, load_plugin};
pub use clap_host::{
    AudioPortDesc, AudioSide, Block, BlockOut, ClapHost, Descriptor, Extra, HostCallbacks,
    MainSide, NoteEv, NoteExpressionType, ParamEv, ParamInfo, Sidechain, Transport, block_stats,
    param, scan,
};
