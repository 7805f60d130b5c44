//! The project's seeded random generator: xorshift64* (Vigna 2016, "An experimental exploration
//! of Marsaglia's xorshift generators, scrambled"). Small, portable and reproducible: the same
//! seed gives the same numbers on every machine, which is what the search, the encoder's
//! training and the seeded tests need. Not for cryptography.
//!
//! Two others stay, on purpose: the voice's noise source keeps a 32-bit xorshift
//! ([`crate::plant::oscillator`]), as it runs per sample on the audio thread inside the generic
//! voice; and the conformance suite draws through `rand`'s API from `rand_xorshift`.
//!
//! ```
//! use dar_ddsp_core::num::rng::Rng;
//! let (mut a, mut b) = (Rng::new(7), Rng::new(7));
//! assert_eq!(a.next_u64(), b.next_u64());
//! assert!((0.0..1.0).contains(&a.uniform()));
//! ```

/// A xorshift64* generator. Its state is never zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng(u64);

impl Rng {
    /// A generator from any `seed`: the seed is mixed (× the golden ratio) so that nearby seeds
    /// start far apart.
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A generator starting from `state` as given (0, which xorshift cannot leave, becomes 1).
    pub fn from_state(state: u64) -> Self {
        Self(state.max(1))
    }

    /// The next 64 scrambled bits; the high bits are the best.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1), 24 bits.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32
    }

    /// Uniform in (0, 1), 24 bits: never 0, so its logarithm is finite.
    pub fn open_uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 + 0.5) / (1u32 << 24) as f32
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn uniform_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (0 for n = 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f32) as usize).min(n.saturating_sub(1))
    }

    /// A standard normal sample (Box–Muller).
    pub fn gaussian(&mut self) -> f32 {
        let (u1, u2) = (self.open_uniform(), self.open_uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_range_and_spread() {
        let mut rng = Rng::new(1);
        let mut buckets = [0usize; 10];
        for _ in 0..10_000 {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            buckets[(u * 10.0) as usize] += 1;
            assert!(rng.below(7) < 7);
            assert!(rng.open_uniform() > 0.0);
        }
        // 1000 expected per bucket; 5 σ ≈ 150.
        assert!(
            buckets.iter().all(|&b| (850..1150).contains(&b)),
            "{buckets:?}"
        );
        assert_eq!(Rng::new(3).below(0), 0);
        assert_eq!(Rng::from_state(0), Rng::from_state(1));
    }

    #[test]
    fn gaussian_has_unit_variance() {
        let mut rng = Rng::new(9);
        let n = 20_000;
        let v: Vec<f32> = (0..n).map(|_| rng.gaussian()).collect();
        let mean = v.iter().sum::<f32>() / n as f32;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n as f32;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
