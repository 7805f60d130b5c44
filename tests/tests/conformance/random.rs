//! Random inputs drawn from a check's stream: parameter values and noise.

use dar_ddsp_tests::ParamInfo;
use rand::RngExt;
use rand_xorshift::XorShiftRng;

/// A random CLAP value of `p` (whole steps for stepped ones).
pub fn random_value(rng: &mut XorShiftRng, p: &ParamInfo) -> f64 {
    if p.stepped {
        rng.random_range(p.min as i64..=p.max as i64) as f64
    } else {
        rng.random_range(p.min..=p.max)
    }
}

/// White noise in ±`level`.
pub fn noise(rng: &mut XorShiftRng, len: usize, level: f32) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-level..=level)).collect()
}
