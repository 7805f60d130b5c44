//! The encoder's network: dense layers, tanh inside, a logistic output in [0, 1]^d, with the
//! backward pass (for training, and for the resonance regularizer's ∂h/∂samples).

use serde::{Deserialize, Serialize};

/// One dense layer `y = W x + b`, `W` row-major (`outputs × inputs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// Weights, `outputs · inputs`, row-major.
    pub w: Vec<f32>,
    /// Biases, `outputs`.
    pub b: Vec<f32>,
}

impl Dense {
    /// A layer with uniform Glorot initial weights from `rng` and zero biases. Allocates.
    pub fn init(inputs: usize, outputs: usize, rng: &mut impl FnMut() -> f32) -> Self {
        let limit = (6.0 / (inputs + outputs) as f32).sqrt();
        Self {
            inputs,
            outputs,
            w: (0..inputs * outputs)
                .map(|_| (2.0 * rng() - 1.0) * limit)
                .collect(),
            b: vec![0.0; outputs],
        }
    }

    /// Whether the shapes agree and every value is finite.
    pub fn is_valid(&self) -> bool {
        self.w.len() == self.inputs * self.outputs
            && self.b.len() == self.outputs
            && self.w.iter().chain(&self.b).all(|v| v.is_finite())
    }

    /// `y = W x + b`.
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        for (o, (row, &b)) in y
            .iter_mut()
            .zip(self.w.chunks_exact(self.inputs).zip(&self.b))
        {
            *o = b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>();
        }
    }

    /// Given ∂L/∂y, adds ∂L/∂x to `dx` (if given) and ∂L/∂W, ∂L/∂b to `grad` (if given).
    pub fn backward(
        &self,
        x: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        grad: Option<&mut Dense>,
    ) {
        if let Some(dx) = dx {
            for (row, &g) in self.w.chunks_exact(self.inputs).zip(dy) {
                for (d, &w) in dx.iter_mut().zip(row) {
                    *d += g * w;
                }
            }
        }
        if let Some(grad) = grad {
            for ((row, db), &g) in grad
                .w
                .chunks_exact_mut(self.inputs)
                .zip(&mut grad.b)
                .zip(dy)
            {
                *db += g;
                for (d, &v) in row.iter_mut().zip(x) {
                    *d += g * v;
                }
            }
        }
    }
}

/// Activations of one forward pass, kept for the backward pass. Allocated once.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The normalised input.
    pub input: Vec<f32>,
    /// Outputs of each layer after its activation.
    pub layers: Vec<Vec<f32>>,
    /// Per-layer ∂L/∂(pre-activation) scratch.
    pub deltas: Vec<Vec<f32>>,
}

impl Trace {
    /// Buffers for `layers`. Allocates.
    pub fn new(inputs: usize, layers: &[Dense]) -> Self {
        Self {
            input: vec![0.0; inputs],
            layers: layers.iter().map(|l| vec![0.0; l.outputs]).collect(),
            deltas: layers.iter().map(|l| vec![0.0; l.outputs]).collect(),
        }
    }
}

/// Forward through `layers` (tanh between, logistic at the end) from `trace.input`; the
/// output is `trace.layers.last()`.
pub fn forward(layers: &[Dense], trace: &mut Trace) {
    for (i, layer) in layers.iter().enumerate() {
        let (before, after) = trace.layers.split_at_mut(i);
        let x: &[f32] = if i == 0 { &trace.input } else { &before[i - 1] };
        let y = &mut after[0];
        layer.forward(x, y);
        let last = i + 1 == layers.len();
        for v in y.iter_mut() {
            *v = if last {
                1.0 / (1.0 + (-*v).exp())
            } else {
                v.tanh()
            };
        }
    }
}

/// Backward from ∂L/∂output: adds parameter gradients to `grads` (if given) and writes
/// ∂L/∂input into `d_input` (if given). Uses the activations `trace` holds.
pub fn backward(
    layers: &[Dense],
    trace: &mut Trace,
    d_output: &[f32],
    mut grads: Option<&mut [Dense]>,
    d_input: Option<&mut [f32]>,
) {
    let n = layers.len();
    // δ of the last layer through the logistic: σ' = y(1 − y).
    for ((d, &y), &g) in trace.deltas[n - 1]
        .iter_mut()
        .zip(&trace.layers[n - 1])
        .zip(d_output)
    {
        *d = g * y * (1.0 - y);
    }
    for i in (0..n).rev() {
        let (lower, upper) = trace.deltas.split_at_mut(i);
        let delta = &upper[0];
        let x: &[f32] = if i == 0 {
            &trace.input
        } else {
            &trace.layers[i - 1]
        };
        let grad = grads.as_deref_mut().map(|g| &mut g[i]);
        if i > 0 {
            let below = &mut lower[i - 1];
            below.fill(0.0);
            layers[i].backward(x, delta, Some(below), grad);
            // Through tanh: 1 − y².
            for (d, &y) in below.iter_mut().zip(&trace.layers[i - 1]) {
                *d *= 1.0 - y * y;
            }
        } else {
            layers[i].backward(x, delta, None, grad);
        }
    }
    if let Some(d_input) = d_input {
        d_input.fill(0.0);
        let (first, delta) = (&layers[0], &trace.deltas[0]);
        for (row, &g) in first.w.chunks_exact(first.inputs).zip(delta) {
            for (d, &w) in d_input.iter_mut().zip(row) {
                *d += g * w;
            }
        }
    }
}
