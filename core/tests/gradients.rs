//! Exact gradients of the plant: forward-mode dual numbers through oscillators, the recursive
//! filter, the envelopes and the learning-space map agree with central finite differences.

mod common;

use dar_ddsp_core::Dual;
use dar_ddsp_core::learning::loss::{MrStftLoss, chain_to_inputs};
use dar_ddsp_core::num::Rng;
use dar_ddsp_core::plant::{G, N_THETA, P, SPECS, Synth, Theta, default_theta};

type Grad = Dual<f64, N_THETA>;
type Num = Dual<f64, 0>;

const SR: f32 = 48_000.0;
const LEN: usize = 4_800;

/// Plays two overlapping notes (one released mid-way) and returns Σ w_n·y_n.
fn loss<T: dar_ddsp_core::Real>(
    theta: &Theta<T>,
    weights: &[f64],
    to_f64: impl Fn(T) -> f64,
) -> (T, Vec<T>) {
    let mut synth = Synth::<T>::new(SR, &default_theta());
    synth.set_theta(theta);
    synth.note_on(45, 0.9);
    let mut out = vec![T::cst(0.0); LEN];
    synth.render(&mut out[..1_000]);
    synth.note_on_hz(64, 331.7, 0.6);
    synth.render(&mut out[1_000..2_400]);
    synth.note_off(45);
    synth.render(&mut out[2_400..]);
    let mut l = T::cst(0.0);
    for (y, w) in out.iter().zip(weights) {
        assert!(to_f64(*y).is_finite());
        l += *y * (*w as f32);
    }
    (l, out)
}

/// The learner's map from learning space (each θ's knob position, 0–1) to musical units.
fn theta_from_unit<T: dar_ddsp_core::Real>(z: &[T; N_THETA]) -> Theta<T> {
    std::array::from_fn(|k| SPECS[k].denormalize(z[k]))
}

#[test]
fn every_partial_matches_central_differences() {
    let mut rng = Rng::from_state(0x5eed_1234_abcd_0001);
    for trial in 0..4 {
        // Random patches away from the range ends, in learning space.
        let z: [f64; N_THETA] = std::array::from_fn(|_| 0.15 + 0.7 * rng.uniform_f64());
        let weights: Vec<f64> = (0..LEN).map(|_| 2.0 * rng.uniform_f64() - 1.0).collect();

        let zd: [Grad; N_THETA] = std::array::from_fn(|k| Grad::variable(z[k], k));
        let (l, _) = loss(&theta_from_unit(&zd), &weights, |y: Grad| y.v);

        let h = 1e-6;
        let fd: Vec<f64> = (0..N_THETA)
            .map(|k| {
                let at = |dz: f64| {
                    let zk: [Num; N_THETA] = std::array::from_fn(|j| {
                        Num::constant(if j == k { z[j] + dz } else { z[j] })
                    });
                    loss(&theta_from_unit(&zk), &weights, |y: Num| y.v).0.v
                };
                (at(h) - at(-h)) / (2.0 * h)
            })
            .collect();

        let scale = fd.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        assert!(scale > 0.0, "trial {trial}: no gradient at all");
        for k in 0..N_THETA {
            let (g, f) = (l.d[k], fd[k]);
            // Relative 1e-3 where the derivative is not tiny next to the largest one.
            let tol = 1e-3 * f.abs() + 1e-6 * scale;
            assert!(
                (g - f).abs() <= tol,
                "trial {trial}, θ {} ({}): dual {g:e}, finite difference {f:e}",
                k,
                SPECS[k].id
            );
        }
    }
}

#[test]
fn dual_primal_matches_the_f32_plant() {
    // The learner hears what the audio thread plays: the learner's dual render (f32 partials)
    // has the very values of the f32 render, with every section sounding.
    let mut theta = default_theta();
    for (p, v) in [
        (P::VibratoDepth, 30.0),
        (P::TremoloDepth, 0.3),
        (P::Drawbar3, 0.4),
        (P::Drawbar8, 0.2),
        (P::Body1Gain, 9.0),
        (P::Body2Gain, -6.0),
        (P::VelocityToLevel, 0.5),
        (P::VelocityToBrightness, 1.5),
    ] {
        theta[p as usize] = v;
    }
    let weights = vec![1.0; LEN];
    let td: Theta<G> = std::array::from_fn(|k| G::variable(theta[k], k));
    let (_, yd) = loss(&td, &weights, |y: G| y.v as f64);
    let (_, yf) = loss(&theta, &weights, |y: f32| y as f64);
    let worst = yd
        .iter()
        .zip(&yf)
        .map(|(a, b)| (a.v - *b).abs())
        .fold(0.0f32, f32::max);
    assert_eq!(
        worst, 0.0,
        "the dual render's values differ from the f32 render"
    );
}

#[test]
fn spectral_loss_gradient_in_theta_matches_central_differences() {
    // ∂L/∂θ = (∂L/∂y)·(∂y/∂θ): the loss's adjoint chained with the plant's dual Jacobian.
    let mut rng = Rng::from_state(0x00c0_ffee_0000_0003);
    let weights = vec![0.0; LEN];
    let target_z: [Num; N_THETA] =
        std::array::from_fn(|_| Num::constant(0.2 + 0.6 * rng.uniform_f64()));
    let (_, target) = loss(&theta_from_unit(&target_z), &weights, |y: Num| y.v);
    let target: Vec<f64> = target.iter().map(|y| y.v).collect();
    let mut mr = MrStftLoss::<f64>::new(&[128, 512, 2048]);
    let spectra = mr.prepare(&target);

    let z: [f64; N_THETA] = std::array::from_fn(|_| 0.2 + 0.6 * rng.uniform_f64());
    let zd: [Grad; N_THETA] = std::array::from_fn(|k| Grad::variable(z[k], k));
    let (_, y) = loss(&theta_from_unit(&zd), &weights, |y: Grad| y.v);
    let values: Vec<f64> = y.iter().map(|s| s.v).collect();
    let mut dl_dy = vec![0.0; LEN];
    let l0 = mr.evaluate(&values, &spectra, Some(&mut dl_dy));
    assert!(l0 > 0.0);
    let g = chain_to_inputs(&y, &dl_dy);

    // Small: a larger step moves the attack's peak crossing to another sample, a kink in the
    // derivative (values stay continuous: the crossing is timed to the sub-sample).
    let h = 1e-8;
    let fd: Vec<f64> = (0..N_THETA)
        .map(|k| {
            let mut at = |dz: f64| {
                let zk: [Num; N_THETA] =
                    std::array::from_fn(|j| Num::constant(if j == k { z[j] + dz } else { z[j] }));
                let (_, y) = loss(&theta_from_unit(&zk), &weights, |y: Num| y.v);
                let v: Vec<f64> = y.iter().map(|s| s.v).collect();
                mr.evaluate(&v, &spectra, None)
            };
            (at(h) - at(-h)) / (2.0 * h)
        })
        .collect();
    let scale = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for k in 0..N_THETA {
        // The L1 terms have kinks where a bin's magnitudes cross; at this step none is crossed.
        let tol = 1e-3 * fd[k].abs() + 1e-5 * scale;
        assert!(
            (g[k] - fd[k]).abs() <= tol,
            "θ {} ({}): chained {:e}, finite difference {:e}",
            k,
            SPECS[k].id,
            g[k],
            fd[k]
        );
    }
}
