//! DAR-DDSP's engine: the differentiable DSP plant and, in later modules, the learner.
//!
//! No plugin framework and no GUI live here, so everything is testable with `cargo test`.

pub mod analysis;
pub mod art;
pub mod continual;
pub mod coupling;
pub mod distance;
pub mod dual;
pub mod encoder;
pub mod factory;
pub mod fastmath;
pub mod features;
pub mod glide;
pub mod keeper;
pub mod learner;
pub mod live;
pub mod loss;
pub mod optimizer;
pub mod plant;
pub mod preset;
pub mod projection;
pub mod real;
pub mod reembed;
pub mod reservoir;
pub mod stft;
pub mod thumbnail;

pub use dual::Dual;
pub use real::Real;
