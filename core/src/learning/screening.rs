//! Which knobs a gradient step learns (docs/ARCHITECTURE.md §5.1).
//!
//! A step carries [`LEARNED`] partials, not one per θ: the dual render's cost grows with its
//! partials and with every section it must differentiate, and most sections are idle for any
//! one instrument. The [`CORE`] knobs are always learned. The remaining slots go to whole
//! sections, those whose knobs promise most in a probe step that learns every section knob at
//! once: the largest |∂L/∂z| in knob space that the box lets a knob follow (Gauss–Southwell
//! selection, as in block coordinate descent). The probe is repeated every [`SCREEN_EVERY`]
//! steps of a run.

use crate::learning::objective::Objective;
use crate::plant::theta::ALL;
use crate::plant::{self, CORE, LEARNED, Learned, N_THETA, P};

/// Steps of a run between two probes.
pub const SCREEN_EVERY: usize = 64;

/// The sections a probe may choose (indices into [`plant::SECTIONS`]: the drawbars and the two
/// bells), each learned whole. The
/// LFO and velocity are not among them: the objective's windows see a few tenths of a second of
/// each note at one velocity, so a fitted LFO matches its phase in the windows and not over the
/// note, and velocity cannot be told from level. They stay at their defaults, to be played.
pub const SCREENED: [usize; 3] = [1, 2, 3];

/// Every θ that is neither core nor the output gain: the sections' knobs.
pub fn section_knobs() -> impl Iterator<Item = P> {
    ALL.into_iter()
        .filter(|p| *p != P::Gain && !CORE.contains(p))
}

/// A probe at `z`: the gradient with respect to every section knob (they fit one step's
/// partials), then the core and the sections that promise most, while they fit; never a
/// section marked in `off`. Costs one gradient step; returns its loss too.
pub fn screen(
    objective: &mut Objective,
    z: &[f32; N_THETA],
    off: &[bool; plant::SECTIONS.len()],
) -> (f32, Learned) {
    let probe = Learned::new(section_knobs());
    let (loss, g) = objective.loss_and_gradient(z, &probe);
    // A knob pinned at an end of its travel, with the descent pointing out of the box, cannot
    // move: it promises nothing.
    let promise = |p: &P| {
        let k = *p as usize;
        let blocked = (z[k] <= 0.0 && g[k] > 0.0) || (z[k] >= 1.0 && g[k] < 0.0);
        if blocked || !g[k].is_finite() {
            0.0
        } else {
            g[k].abs()
        }
    };
    let mut ranked: Vec<(f32, &[P])> = SCREENED
        .iter()
        .filter(|&&i| !off[i])
        .map(|&i| plant::SECTIONS[i])
        .map(|s| (s.iter().map(promise).fold(0.0, f32::max), s))
        .filter(|(score, _)| *score > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut free = LEARNED - CORE.len();
    let mut chosen: Vec<P> = CORE.to_vec();
    for (_, section) in ranked {
        if section.len() <= free {
            chosen.extend_from_slice(section);
            free -= section.len();
        }
    }
    (loss, Learned::new(chosen))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::{SPECS, default_theta, to_knobs};
    use crate::test_support::{objective_for, patch, play};

    #[test]
    fn the_sections_fill_one_probe_and_the_core_is_always_learned() {
        // Every section knob fits one probe's partials.
        assert!(section_knobs().count() <= LEARNED);
        assert_eq!(CORE.len() + section_knobs().count() + 1, N_THETA);
        let screened = SCREENED.iter().map(|&i| plant::SECTIONS[i].len());
        assert_eq!(screened.sum::<usize>(), 12);
        // A target with a body resonance the default patch lacks: the probe picks that bell.
        let mut target = patch();
        target[P::Body2Gain as usize] = 12.0;
        target[P::Body2Freq as usize] = 2_000.0;
        let audio = play(&target, &[(50, 0.05, 0.4), (62, 0.6, 0.3)], 1.2);
        let mut obj = objective_for(&audio);
        let none_off = [false; plant::SECTIONS.len()];
        let (loss, learned) = screen(&mut obj, &to_knobs(&default_theta()), &none_off);
        assert!(loss.is_finite());
        for p in CORE {
            assert!(learned.contains(p as usize), "{}", SPECS[p as usize].id);
        }
        assert!(learned.contains(P::Body2Gain as usize) || learned.contains(P::Body1Gain as usize));
        // With both bells off, the probe chooses among the others only.
        let mut off = none_off;
        off[2] = true;
        off[3] = true;
        let (_, learned) = screen(&mut obj, &to_knobs(&default_theta()), &off);
        for p in plant::SECTIONS[2].iter().chain(plant::SECTIONS[3]) {
            assert!(!learned.contains(*p as usize), "{}", SPECS[*p as usize].id);
        }
    }
}
