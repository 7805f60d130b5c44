//! Numbers: the number type the voice is written over ([`Real`]: `f32` to play, [`Dual`] to
//! learn), eight `f32` lanes for voices rendered side by side ([`lanes`]), fast approximations
//! of the transcendental functions, unit conversions and the one seeded random generator. The
//! bottom layer: it depends on nothing else in the crate.

pub mod dual;
pub mod fastmath;
pub mod lanes;
pub mod real;
pub mod rng;
pub mod units;

pub use dual::Dual;
pub use real::Real;
pub use rng::Rng;
