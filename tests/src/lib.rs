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

pub use clap_host::{AudioPortDesc, ClapHost, HostCallbacks, NoteEv, ParamInfo};
