//! One gradient step of the learner: a dual-number render of an 8192-sample window of one note
//! (as the objective renders it) with a partial for every learned θ (the core and both bells,
//! the costliest set a probe chooses), the multi-resolution STFT loss (with its log-mel term)
//! and its gradient, chained to ∂L/∂θ. `dual_render_8192_core` renders with the core alone
//! learned, as a run's first 64 steps do (on [`GCore`], seven partials fewer), and
//! `dual_render_8192_drawbars` with the core and the drawbars, the probe's other full choice.
//! `plain_render_8192` and `loss_8192` are what any differentiation builds on: the window
//! rendered in f32 and the loss without its gradient.
//! Bound: 1.5× the first version's step, measured side by side (docs/RESULTS.md, "Benchmarks").

use criterion::{Criterion, criterion_group, criterion_main};
use dar_ddsp_core::Real;
use dar_ddsp_core::learning::loss::{DEFAULT_SIZES, MelTerm, MrStftLoss, chain_to_inputs};
use dar_ddsp_core::plant::render::{NoteSpec, render_window};
use dar_ddsp_core::plant::theta::{BODY1, BODY2};
use dar_ddsp_core::plant::{
    CORE, GCore, Learned, N_CORE, N_THETA, P, SECTION_NAMES, SECTIONS, SPECS, default_theta,
    dual_at_knobs,
};
use std::hint::black_box;

const WINDOW: usize = 8_192;
use dar_ddsp_core::plant::G;

/// A held A3 at velocity 0.8, as the learner renders a note's window.
fn render<T: Real>(theta: &[T; N_THETA], out: &mut [T]) {
    let note = NoteSpec {
        f0_hz: 220.0,
        velocity: 0.8,
        release_at: WINDOW,
    };
    render_window(theta, &note, 0, 48_000.0, out);
}

fn gradient_step(c: &mut Criterion) {
    let mut target_theta = default_theta();
    target_theta[P::Pulse as usize] = 0.6;
    target_theta[P::Cutoff as usize] = 1_200.0;
    let target_d: [G; N_THETA] = std::array::from_fn(|k| G::cst(target_theta[k]));
    let mut target = vec![G::default(); WINDOW];
    render(&target_d, &mut target);
    let target: Vec<f32> = target.iter().map(|s| s.v).collect();

    // As the learner builds it: with the log-mel term.
    let mel = MelTerm::yardstick(48_000.0, 1.0);
    let mut loss = MrStftLoss::<f32>::with_mel(&DEFAULT_SIZES, Some(mel));
    let spectra = loss.prepare(&target);
    let z: [f32; N_THETA] = std::array::from_fn(|k| SPECS[k].normalize(SPECS[k].default));
    let mut y = vec![G::default(); WINDOW];
    let mut values = vec![0.0f32; WINDOW];
    let mut dl_dy = vec![0.0f32; WINDOW];

    // The core and both bells, as a screened run may learn them.
    let learned = Learned::new(CORE.into_iter().chain(BODY1).chain(BODY2));
    c.bench_function("gradient_step_8192", |b| {
        b.iter(|| {
            let theta = dual_at_knobs(&z, &learned);
            render(&theta, &mut y);
            for (v, s) in values.iter_mut().zip(&y) {
                *v = s.v;
            }
            let l = loss.evaluate(&values, &spectra, Some(&mut dl_dy));
            black_box((l, chain_to_inputs(&y, &dl_dy)))
        })
    });
    // The two halves of the step, to see where the time goes.
    let theta = dual_at_knobs(&z, &learned);
    c.bench_function("dual_render_8192", |b| {
        b.iter(|| {
            render(black_box(&theta), &mut y);
            black_box(y[WINDOW - 1].v)
        })
    });
    let at = SECTION_NAMES
        .iter()
        .position(|n| *n == "drawbars")
        .expect("a drawbars section");
    let drawbars = SECTIONS[at].iter().copied();
    let drawbars = dual_at_knobs(&z, &Learned::new(CORE.into_iter().chain(drawbars)));
    c.bench_function("dual_render_8192_drawbars", |b| {
        b.iter(|| {
            render(black_box(&drawbars), &mut y);
            black_box(y[WINDOW - 1].v)
        })
    });
    // The core alone, on the narrower dual number a core step renders with.
    let theta_core = dual_at_knobs::<N_CORE>(&z, &Learned::core());
    let mut y_core = vec![GCore::default(); WINDOW];
    c.bench_function("dual_render_8192_core", |b| {
        b.iter(|| {
            render(black_box(&theta_core), &mut y_core);
            black_box(y_core[WINDOW - 1].v)
        })
    });
    c.bench_function("loss_and_gradient_8192", |b| {
        b.iter(|| black_box(loss.evaluate(black_box(&values), &spectra, Some(&mut dl_dy))))
    });
    // What any differentiation builds on: the same window rendered plain (f32, as the search's
    // plain evaluations render it) and its loss without the gradient.
    let plain: [f32; N_THETA] = std::array::from_fn(|k| theta[k].v);
    c.bench_function("plain_render_8192", |b| {
        b.iter(|| {
            render(black_box(&plain), &mut values);
            black_box(values[WINDOW - 1])
        })
    });
    c.bench_function("loss_8192", |b| {
        b.iter(|| black_box(loss.evaluate(black_box(&values), &spectra, None)))
    });
}

criterion_group!(benches, gradient_step);
criterion_main!(benches);
