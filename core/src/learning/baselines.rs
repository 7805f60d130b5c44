//! The eval table's references: plain Adam from one start, and uniform random search. Same
//! objective, budget and gain handling as [`crate::learning::search`].

use crate::learning::objective::Objective;
use crate::learning::optimizer::{Optimizer, OptimizerConfig};
use crate::learning::search::{Budget, Meter, Outcome, PLAIN_EVAL_COST, Run, SearchConfig, finish};
use crate::num::Rng;
use crate::plant::archetypes::random_theta;
use crate::plant::{Theta, default_theta};

/// Reference for the eval table: one run of plain Adam (fixed α and μ, no dither, no restarts)
/// from `start`, with the same gain handling as [`crate::learning::search::search`].
pub fn plain_adam(
    objective: &mut Objective,
    start: &Theta<f32>,
    budget: Budget,
    config: &SearchConfig,
) -> Outcome {
    let mut meter = Meter::new(budget, config.stop.clone());
    let t = config.neutralize(*start);
    let l0 = objective.loss(&t);
    meter.work += PLAIN_EVAL_COST;
    let opt = Optimizer::new(OptimizerConfig::plain(config.optimizer.alpha), config.seed);
    let mut run = Run::new(&t, l0, opt, config.sections_off);
    let mut history = Vec::new();
    while meter.used() < 1.0 {
        run.step(objective, &mut meter);
        history.push(run.best);
    }
    let steps = run.steps;
    finish(objective, vec![run], history, steps, 1)
}

/// Reference for the eval table: uniform random patches (gain matched), the best kept.
pub fn random_search(objective: &mut Objective, budget: Budget, seed: u64) -> Outcome {
    let mut meter = Meter::new(budget, None);
    let mut rng = Rng::from_state(seed | 1);
    let mut best = (f32::INFINITY, default_theta());
    let mut history = Vec::new();
    let mut evaluations = 0;
    while meter.used() < 1.0 {
        let t = random_theta(&mut rng);
        let l = objective.loss(&t);
        meter.work += PLAIN_EVAL_COST;
        evaluations += 1;
        if l < best.0 {
            best = (l, t);
        }
        history.push(best.0);
    }
    Outcome {
        theta: objective.with_recorded_gain(&best.1),
        loss: best.0,
        history,
        steps: 0,
        evaluations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{objective_for, patch, play};

    #[test]
    fn references_spend_their_budget() {
        let audio = play(&patch(), &[(60, 0.05, 0.5)], 1.0);
        let mut obj = objective_for(&audio);
        let adam = plain_adam(
            &mut obj,
            &default_theta(),
            Budget::steps(20.0),
            &Default::default(),
        );
        assert!((15..=20).contains(&adam.steps), "adam steps {}", adam.steps);
        let random = random_search(&mut obj, Budget::steps(20.0), 3);
        assert!(
            random.evaluations >= 30,
            "random evaluations {}",
            random.evaluations
        );
        assert!(adam.loss.is_finite() && random.loss.is_finite());
    }
}
