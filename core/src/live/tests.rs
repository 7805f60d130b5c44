use super::*;
use crate::memory::encoder::EncoderWeights;
use crate::plant::Theta;
use crate::plant::archetypes::archetypes;
use crate::plant::render::{NoteEvent, render_performance};

const SR: f32 = 48_000.0;

/// Three notes of each patch in turn, 0.6 s held, 0.3 s apart.
fn stream(patches: &[Theta<f32>]) -> Vec<f32> {
    let mut out = Vec::new();
    for theta in patches {
        let events: Vec<NoteEvent> = [48.0f32, 55.0, 60.0]
            .iter()
            .enumerate()
            .map(|(i, n)| NoteEvent {
                onset: (i as f32 * 0.9 * SR) as usize + 4_800,
                release: (i as f32 * 0.9 * SR + 0.6 * SR) as usize + 4_800,
                f0_hz: crate::num::units::note_to_hz(*n),
                velocity: 0.8,
            })
            .collect();
        out.extend(render_performance(theta, &events, SR, (2.9 * SR) as usize));
    }
    out
}

fn learner(steps: usize) -> LiveLearner {
    let config = LiveConfig {
        steps_per_note: steps,
        ..LiveConfig::new(SR)
    };
    LiveLearner::new(
        config,
        EncoderWeights::shipped().expect("shipped"),
        Vec::new(),
    )
}

fn two_patches() -> [Theta<f32>; 2] {
    let a = archetypes();
    // The default saw and the soft sine with breath: clearly different timbres.
    [a[0], a[3]]
}

#[test]
fn the_same_stream_gives_the_same_memory_whatever_the_block_size() {
    let x = stream(&two_patches());
    let settings = LiveSettings::default();
    let run = |block: usize| {
        let mut l = learner(4);
        for chunk in x.chunks(block) {
            l.feed(chunk, &settings, &mut |_| {});
        }
        l.memory().prototypes().to_vec()
    };
    let (a, b) = (run(64), run(509));
    assert!(!a.is_empty());
    assert_eq!(a, b, "block size changed what was learned");
}

#[test]
fn a_raised_stop_flag_ends_refinement_at_once_keeping_a_patch() {
    let x = stream(&two_patches()[..1]);
    let settings = LiveSettings::default();
    let mut l = learner(60);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    l.set_stop(stop);
    l.feed(&x, &settings, &mut |_| {});
    assert!(
        !l.memory().prototypes().is_empty(),
        "notes were still recognised"
    );
    assert_eq!(l.steps(), 0, "a stopped learner took gradient steps");
    assert!(l.memory().prototypes().iter().all(|p| p.loss.is_finite()));
}

#[test]
fn banked_notes_stay_within_the_budget() {
    let x = stream(&two_patches());
    let settings = LiveSettings::default();
    let unbounded = {
        let mut l = learner(1);
        l.feed(&x, &settings, &mut |_| {});
        l.banked_samples()
    };
    // A budget of a bit more than half of what six notes of two prototypes take.
    let budget = unbounded * 6 / 10;
    let config = LiveConfig {
        steps_per_note: 1,
        bank_budget: budget,
        ..LiveConfig::new(SR)
    };
    let mut l = LiveLearner::new(
        config,
        EncoderWeights::shipped().expect("shipped"),
        Vec::new(),
    );
    l.feed(&x, &settings, &mut |_| {});
    l.feed(&x, &settings, &mut |_| {});
    assert!(l.memory().prototypes().len() >= 2);
    assert!(
        unbounded > 0 && l.banked_samples() <= budget,
        "{} > {budget}",
        l.banked_samples()
    );
    // Every prototype still has a note to learn from.
    assert!(l.reservoirs().iter().all(|r| !r.is_empty()));
}

#[test]
fn a_refinement_that_cannot_be_refused_plays_interim_patches_first() {
    let [p, _] = two_patches();
    let mut l = learner(12);
    let mut events = Vec::new();
    l.feed(&stream(&[p]), &LiveSettings::default(), &mut |e| {
        events.push(e)
    });
    // Each note's refinement (the run's prototype guards nothing earlier): interim patches of
    // the prototype it refines, then the refinement itself.
    let mut refined = 0;
    for (i, e) in events.iter().enumerate() {
        if let LiveEvent::Refined { index, .. } = *e {
            let interim: Vec<_> = events[..i]
                .iter()
                .rev()
                .take_while(|e| !matches!(e, LiveEvent::Refined { .. }))
                .filter_map(|e| match *e {
                    LiveEvent::Refining { index: j, theta } => Some((j, theta)),
                    _ => None,
                })
                .collect();
            // Two at most; the second may fall past a short budget's last step.
            assert!(
                (1..=2).contains(&interim.len()),
                "note {refined}: {interim:?}"
            );
            assert!(
                interim
                    .iter()
                    .all(|(j, t)| *j == index && t.iter().all(|v| v.is_finite()))
            );
            refined += 1;
        }
    }
    assert!(refined >= 2, "{events:?}");
}

#[test]
fn two_timbres_get_two_prototypes_and_follow_switches_between_them() {
    let [p, q] = two_patches();
    let mut l = learner(3);
    let mut events = Vec::new();
    let learn = LiveSettings::default();
    l.feed(&stream(&[p, q]), &learn, &mut |e| events.push(e));
    let protos = l.memory().prototypes().len();
    assert!(
        (2..=4).contains(&protos),
        "{protos} prototypes for two timbres"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, LiveEvent::Refined { .. }))
    );
    assert!(
        l.memory()
            .prototypes()
            .iter()
            .all(|p| p.theta.iter().all(|v| v.is_finite()))
    );

    // Follow: the memory stays as it is; the active prototype follows the sidechain.
    let before = l.memory().prototypes().to_vec();
    let follow = LiveSettings {
        mode: Mode::Follow,
        ..learn
    };
    let mut actives = Vec::new();
    l.feed(&stream(&[p]), &follow, &mut |e| {
        if let LiveEvent::Active(a) = e {
            actives.push(a);
        }
    });
    let first = l.active();
    l.feed(&stream(&[q]), &follow, &mut |e| {
        if let LiveEvent::Active(a) = e {
            actives.push(a);
        }
    });
    assert_ne!(first, l.active(), "Follow did not switch: {actives:?}");
    let after: Vec<_> = l
        .memory()
        .prototypes()
        .iter()
        .map(|p| (p.weights, p.theta))
        .collect();
    let was: Vec<_> = before.iter().map(|p| (p.weights, p.theta)).collect();
    assert_eq!(after, was, "Follow changed the memory");
}

#[test]
fn play_mode_and_hostile_input_leave_the_memory_alone() {
    let mut l = learner(2);
    let play = LiveSettings {
        mode: Mode::Play,
        ..LiveSettings::default()
    };
    l.feed(&stream(&[two_patches()[0]]), &play, &mut |_| {});
    assert!(l.memory().prototypes().is_empty());
    let mut bad = vec![f32::NAN; 4_800];
    bad.extend(std::iter::repeat_n(f32::INFINITY, 480));
    bad.extend(std::iter::repeat_n(1e-39, 48_000));
    bad.extend(std::iter::repeat_n(0.0, 48_000));
    l.feed(&bad, &LiveSettings::default(), &mut |_| {});
    assert_eq!(l.skipped(), 5_280);
    assert!(l.memory().prototypes().is_empty());
}
