//! DAR-DDSP's engine: the differentiable DSP plant, the signal analysis, the memory, the
//! learners and the stored state. No plugin framework and no GUI live here, so everything is
//! testable with `cargo test`.
//!
//! The modules are layers, each depending only on the ones before it (docs/ARCHITECTURE.md §3):
//! [`num`] → [`plant`] → [`perform`] → [`signal`] → [`memory`] → [`learning`] → [`live`] →
//! [`store`].

pub mod learning;
pub mod live;
pub mod memory;
pub mod num;
pub mod perform;
pub mod plant;
pub mod signal;
pub mod store;

#[cfg(test)]
mod test_support;

pub use num::{Dual, Real};
