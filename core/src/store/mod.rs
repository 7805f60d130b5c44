//! Storage (docs/ARCHITECTURE.md §7): preset files, the factory presets built into the binary,
//! and atomic file writes. The top layer.

pub mod atomic;
pub mod factory;
pub mod preset;
