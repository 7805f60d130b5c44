//! E, the deep encoder (docs/ARCHITECTURE.md §5.2): a context of log-mel frames → an embedding
//! h* in [0, 1]^`EMBED_DIM`, where one timbre lands in one place whatever note it plays.
//!
//! A small network (`front::INPUT` → 64 → 64 → 16, tanh, logistic output) over the context summary
//! of [`front`]. Its weights are trained by `dar-ddsp train-encoder` (see
//! [`crate::learning::training`]) on plant renders of random patches at random pitches, and shipped
//! in `core/assets/encoder.json`. Inference and the backward pass to the samples allocate nothing.

pub mod front;
pub mod mlp;

use front::{Front, INPUT};
use mlp::{Dense, Trace};
use serde::{Deserialize, Serialize};

/// Where in a note the embedding's context starts, seconds after the onset (past the click of
/// a key-on, as the live learner's presentations).
pub const CONTEXT_OFFSET_S: f32 = 0.02;

/// Size of the embedding.
pub const EMBED_DIM: usize = 16;
/// Width of the hidden layers.
pub const HIDDEN: usize = 64;
/// `format` of an encoder weights file.
pub const FORMAT: &str = "dar-ddsp-encoder";
/// Version of the weights file this build reads and writes.
pub const VERSION: u32 = 1;

/// The shipped weights, made by `cargo xtask train-encoder` (see the README).
const SHIPPED: &str = include_str!("../../../assets/encoder.json");

/// An embedding.
pub type Embedding = [f32; EMBED_DIM];

/// Why weights cannot be used. Each variant says what to do.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    /// The file is not encoder weights JSON: retrain or restore it.
    #[error("encoder weights are not readable: {0}; retrain them with `cargo xtask train-encoder`")]
    Parse(String),
    /// Weights of another format, version or shape: retrain them with this version.
    #[error(
        "encoder weights do not fit this build ({0}); retrain them with `cargo xtask train-encoder`"
    )]
    Shape(String),
}

/// The trained encoder's parameters and provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderWeights {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] when written.
    pub version: u32,
    /// Seed of the training run that made them.
    pub seed: u64,
    /// Training steps taken.
    pub steps: usize,
    /// Per-feature mean of the training inputs (subtracted before the network).
    pub input_mean: Vec<f32>,
    /// Per-feature 1/deviation of the training inputs (multiplied after the mean).
    pub input_scale: Vec<f32>,
    /// The layers, input first.
    pub layers: Vec<Dense>,
}

impl EncoderWeights {
    /// Checks format, version, shapes and finiteness.
    pub fn validate(&self) -> Result<(), EncoderError> {
        let bad = |m: String| Err(EncoderError::Shape(m));
        if self.format != FORMAT {
            return bad(format!("format {:?}", self.format));
        }
        if self.version != VERSION {
            return bad(format!("version {}", self.version));
        }
        if self.input_mean.len() != INPUT || self.input_scale.len() != INPUT {
            return bad("input normalisation size".into());
        }
        let finite = self
            .input_mean
            .iter()
            .chain(&self.input_scale)
            .all(|v| v.is_finite());
        if !finite || self.layers.is_empty() || !self.layers.iter().all(Dense::is_valid) {
            return bad("non-finite or misshapen layers".into());
        }
        let chained = self.layers.windows(2).all(|p| p[0].outputs == p[1].inputs);
        if self.layers[0].inputs != INPUT
            || self.layers.last().map(|l| l.outputs) != Some(EMBED_DIM)
            || !chained
        {
            return bad("layer sizes".into());
        }
        Ok(())
    }

    /// Parses and validates weights JSON. Allocates.
    pub fn from_json(text: &str) -> Result<Self, EncoderError> {
        let w: Self = serde_json::from_str(text).map_err(|e| EncoderError::Parse(e.to_string()))?;
        w.validate()?;
        Ok(w)
    }

    /// The weights shipped with this build. Allocates.
    pub fn shipped() -> Result<Self, EncoderError> {
        Self::from_json(SHIPPED)
    }

    /// Identity of these weights: FNV-1a (64 bit) over every parameter's bits, as 16 hex
    /// digits. Prototypes only mean something in the embedding space they were learned in, so
    /// presets record this.
    pub fn identity(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let values = self
            .input_mean
            .iter()
            .chain(&self.input_scale)
            .chain(self.layers.iter().flat_map(|l| l.w.iter().chain(&l.b)));
        for v in values {
            for byte in v.to_bits().to_le_bytes() {
                h ^= byte as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }
}

/// The encoder at one sample rate, with its buffers. Construction allocates; embedding and
/// the backward pass do not.
pub struct Encoder {
    /// The context summariser.
    front: Front,
    /// The weights.
    weights: EncoderWeights,
    /// Activations of the last forward pass.
    trace: Trace,
    /// Feature vector scratch.
    features: [f32; INPUT],
    /// ∂/∂features scratch.
    d_features: [f32; INPUT],
}

impl Encoder {
    /// The encoder with `weights` at `sample_rate`. Allocates.
    pub fn new(weights: EncoderWeights, sample_rate: f32) -> Self {
        let trace = Trace::new(INPUT, &weights.layers);
        Self {
            front: Front::new(sample_rate),
            weights,
            trace,
            features: [0.0; INPUT],
            d_features: [0.0; INPUT],
        }
    }

    /// The shipped encoder at `sample_rate`. Allocates.
    pub fn shipped(sample_rate: f32) -> Result<Self, EncoderError> {
        Ok(Self::new(EncoderWeights::shipped()?, sample_rate))
    }

    /// The weights in use.
    pub fn weights(&self) -> &EncoderWeights {
        &self.weights
    }

    /// Samples one embedding's context spans.
    pub fn context_len(&self) -> usize {
        self.front.context_len()
    }

    /// Frame size (the granularity of contexts), samples.
    pub fn frame_len(&self) -> usize {
        self.front.frame_len()
    }

    /// Embeds the context at the start of `x`, whose fundamental is `f0_hz` (measured; 0 when
    /// unknown); `None` for silence or too few samples.
    pub fn embed(&mut self, x: &[f32], f0_hz: f32) -> Option<Embedding> {
        self.front.compute(x, f0_hz, &mut self.features)?;
        Some(self.embed_features())
    }

    fn embed_features(&mut self) -> Embedding {
        let w = &self.weights;
        for (((t, &f), &m), &s) in self
            .trace
            .input
            .iter_mut()
            .zip(&self.features)
            .zip(&w.input_mean)
            .zip(&w.input_scale)
        {
            *t = (f - m) * s;
        }
        mlp::forward(&w.layers, &mut self.trace);
        let mut h = [0.0; EMBED_DIM];
        if let Some(out) = self.trace.layers.last() {
            h.copy_from_slice(&out[..EMBED_DIM]);
        }
        h
    }

    /// Embeds the context at the start of `x` (fundamental `f0_hz`, a constant of the context)
    /// and adds ∂(d_h · h)/∂x to `d_x`; returns the embedding (`None` for silence, when nothing
    /// is added).
    pub fn embed_backward(
        &mut self,
        x: &[f32],
        f0_hz: f32,
        d_h: &Embedding,
        d_x: &mut [f32],
    ) -> Option<Embedding> {
        let h = self.embed(x, f0_hz)?;
        mlp::backward(
            &self.weights.layers,
            &mut self.trace,
            d_h,
            None,
            Some(&mut self.d_features),
        );
        for (d, &s) in self.d_features.iter_mut().zip(&self.weights.input_scale) {
            *d *= s;
        }
        self.front.backward(x, f0_hz, &self.d_features, d_x);
        Some(h)
    }
}

#[cfg(test)]
mod tests;
