use super::*;
use crate::memory::art::{ArtConfig, code};
use crate::plant::archetypes::archetypes;

const SR: f32 = 48_000.0;

fn outcome(theta: Theta<f32>) -> Outcome {
    Outcome {
        theta,
        loss: 0.5,
        history: Vec::new(),
        steps: 1,
        evaluations: 0,
    }
}

/// Refines prototype 0 of `m` with `group` (one embedding, its box before fixed).
fn refine0(
    keeper: &mut Keeper,
    m: &mut Memory,
    group: Group,
    fit: impl FnMut(&Memory, usize, &Reservoir, Theta<f32>) -> Result<Outcome, LearnError>,
) -> Refined {
    let h = [0.35; crate::memory::encoder::EMBED_DIM];
    let box_before = code(&[0.3; crate::memory::encoder::EMBED_DIM]);
    keeper
        .refine(m, 0, group, false, box_before, &[h], 1.0, SR, fit)
        .expect("fits")
}

/// A memory holding one learned prototype with `theta` (as from a preset: nothing kept).
fn memory(theta: Theta<f32>) -> Memory {
    let mut m = Memory::new(ArtConfig::default());
    let k = m
        .commit(&[0.3; crate::memory::encoder::EMBED_DIM], 0.0, theta)
        .expect("room");
    if let Some(p) = m.prototype_mut(k) {
        p.loss = 0.4;
    }
    m
}

#[test]
fn a_prototype_with_nothing_kept_keeps_its_own_sound() {
    let a = archetypes();
    let (saw, sine) = (a[0], a[3]);
    let other = own_sound(&sine, SR, &ReservoirLimits::default());
    let box_before = code(&[0.3; crate::memory::encoder::EMBED_DIM]);
    // A refinement that keeps the patch is taken, and the own sound is now kept.
    let mut m = memory(saw);
    let mut keeper = Keeper::new(KeeperConfig::default());
    let r = refine0(&mut keeper, &mut m, other.clone(), |_, _, _, s| {
        Ok(outcome(s))
    });
    assert!(matches!(r, Refined::Accepted(_)), "{r:?}");
    assert_eq!(keeper.reservoirs()[0].groups.len(), 2);
    // One that would make it sound like another instrument splits the notes off instead.
    let mut m = memory(saw);
    let mut keeper = Keeper::new(KeeperConfig::default());
    let r = refine0(&mut keeper, &mut m, other, |_, _, _, _| Ok(outcome(sine)));
    let Refined::Split(Some((k, _))) = r else {
        panic!("no split: {r:?}")
    };
    assert_eq!(k, 1);
    assert_eq!(m.prototypes()[0].theta, saw, "the old patch is kept");
    assert_eq!(m.prototypes()[0].weights, box_before, "and its box");
    assert_eq!(m.prototypes()[1].theta, sine);
    assert_eq!(keeper.reservoirs()[1].len(), SEED_NOTES.len());
    // Match tracking: the split prototype predicts its own sound, not the saw's.
    let saw_note = &own_sound(&saw, SR, &ReservoirLimits::default()).notes[1];
    let sine_note = &own_sound(&sine, SR, &ReservoirLimits::default()).notes[1];
    let none = Rivals::default();
    assert!(keeper.predicts(1, &sine, sine_note, &none, SR));
    assert!(!keeper.predicts(1, &sine, saw_note, &none, SR));
}

/// Two learned prototypes, a saw (0) and a sine (1), each holding its own sound, with own
/// distances so loose that the tolerance alone would let either take any note.
fn saw_and_sine() -> (Memory, Keeper, Theta<f32>, Theta<f32>) {
    let a = archetypes();
    let (saw, sine) = (a[0], a[3]);
    let limits = ReservoirLimits::default();
    let mut m = memory(saw);
    m.commit(&[0.6; crate::memory::encoder::EMBED_DIM], 0.0, sine)
        .expect("room");
    let mut keeper = Keeper::new(KeeperConfig::default());
    let kept = [saw, sine].map(|t| {
        let mut r = Reservoir::default();
        r.add(own_sound(&t, SR, &limits), &limits);
        r
    });
    keeper.restore(2, kept.to_vec(), vec![Some(100.0); 2]);
    (m, keeper, saw, sine)
}

/// Match tracking compares patches: the prototype whose patch plays a note better than
/// another's is the one that predicts it, whatever the tolerance allows.
#[test]
fn the_patch_that_plays_a_note_best_predicts_it() {
    let (m, keeper, saw, sine) = saw_and_sine();
    let limits = ReservoirLimits::default();
    let saw_note = &own_sound(&saw, SR, &limits).notes[1];
    let input = code(&[0.45; crate::memory::encoder::EMBED_DIM]);
    let rivals = keeper.rivals(&m, &input, saw_note, None, SR);
    assert_eq!(rivals.distances.len(), 2, "both are learned neighbours");
    assert!(keeper.predicts(0, &saw, saw_note, &rivals, SR));
    assert!(!keeper.predicts(1, &sine, saw_note, &rivals, SR));
    // Without rivals the loose tolerance lets the sine take it.
    assert!(keeper.predicts(1, &sine, saw_note, &Rivals::default(), SR));
}

/// A prototype whose kept notes a later patch plays better is fitted again from that
/// patch, and its notes' references drop; one the later patch plays worse is left alone.
#[test]
fn a_later_patch_that_plays_a_neighbours_notes_better_improves_it() {
    let (mut m, mut keeper, saw, sine) = saw_and_sine();
    let limits = ReservoirLimits::default();
    // Prototype 1 holds saw notes but plays a sine: badly fitted.
    let mut r = Reservoir::default();
    r.add(own_sound(&saw, SR, &limits), &limits);
    keeper.restore(2, vec![r.clone(), r], vec![Some(1.0), Some(9.0)]);
    let before = keeper.reservoirs()[1].distance(&sine, SR);
    let mut starts = Vec::new();
    let improved = keeper
        .improve_from(&mut m, 0, SR, |_, k, _, start| {
            starts.push(k);
            Ok(outcome(start))
        })
        .expect("fits");
    assert_eq!(
        starts,
        vec![1],
        "only the neighbour the saw plays better is fitted"
    );
    assert_eq!(improved.len(), 1);
    assert_eq!(m.prototypes()[1].theta, saw);
    let after = keeper.reservoirs()[1].distance(&saw, SR);
    assert!(after + 1.0 < before, "{before:.2} → {after:.2} dB");
    for k in keeper.reservoirs()[1].groups.iter().flat_map(|g| &g.notes) {
        let reference = k.reference_db.expect("a reference");
        assert!((reference - k.distance(&saw, SR)).abs() < 1e-4);
    }
    // The sine (as a donor) plays nobody's notes better: nothing is fitted.
    let (mut m2, mut keeper2, _, _) = saw_and_sine();
    let none = keeper2
        .improve_from(&mut m2, 1, SR, |_, _, _, _| panic!("nothing to fit"))
        .expect("no fit");
    assert!(none.is_empty());
}

/// The new notes split off when a patch of their own plays them much better than the
/// shared one, even though the shared one kept the old notes; and each kept note is held
/// to its distance right after it was learned, not to the last refinement's.
#[test]
fn notes_a_shared_patch_cannot_play_split_and_references_hold() {
    let a = archetypes();
    let (saw, sine) = (a[0], a[3]);
    let limits = ReservoirLimits::default();
    let sine_notes = own_sound(&sine, SR, &limits);
    let alone_len = sine_notes.notes.len();
    // The shared fit keeps the saw (so the saw's notes are kept as they were); the new
    // notes fitted alone become the sine.
    let mut m = memory(saw);
    let mut keeper = Keeper::new(KeeperConfig::default());
    let r = refine0(&mut keeper, &mut m, sine_notes.clone(), |_, _, r, s| {
        Ok(outcome(if r.len() == alone_len { sine } else { s }))
    });
    assert!(matches!(r, Refined::Split(Some((1, _)))), "{r:?}");
    assert_eq!(m.prototypes()[0].theta, saw);
    assert_eq!(m.prototypes()[1].theta, sine);
    assert!(
        keeper.reservoirs()[1]
            .groups
            .iter()
            .flat_map(|g| &g.notes)
            .all(|k| k.reference_db.is_some()),
        "learned notes carry their reference"
    );
    // A patch that plays its notes exactly as now is refused once they were learned
    // 0.2 dB better than now: the guard counts from the reference.
    let mut m = memory(saw);
    let mut keeper = Keeper::new(KeeperConfig::default());
    let mut own = Reservoir::default();
    let mut group = own_sound(&saw, SR, &limits);
    for k in &mut group.notes {
        k.reference_db = Some(k.distance(&saw, SR) - 0.2);
    }
    own.add(group, &limits);
    keeper.restore(1, vec![own], vec![Some(1.0)]);
    let r = refine0(
        &mut keeper,
        &mut m,
        own_sound(&saw, SR, &limits),
        |_, _, _, s| Ok(outcome(s)),
    );
    assert!(matches!(r, Refined::Split(_)), "{r:?}");
}

/// Two prototypes one recording committed become one when one patch plays both groups,
/// and stay two when the second group, fitted alone, plays much better.
#[test]
fn fresh_prototypes_join_when_one_patch_plays_them() {
    let a = archetypes();
    let (saw, sine) = (a[0], a[3]);
    let limits = ReservoirLimits::default();
    let fresh = |m: &mut Memory| {
        for v in [0.2, 0.7] {
            m.commit(&[v; crate::memory::encoder::EMBED_DIM], 0.0, saw);
        }
    };
    let points = vec![
        vec![[0.2; crate::memory::encoder::EMBED_DIM]],
        vec![[0.7; crate::memory::encoder::EMBED_DIM]],
    ];
    // One instrument: every fit plays the saw.
    let mut m = Memory::new(ArtConfig::default());
    fresh(&mut m);
    let mut keeper = Keeper::new(KeeperConfig::default());
    let groups = [own_sound(&saw, SR, &limits), own_sound(&saw, SR, &limits)];
    let removed = keeper
        .consolidate(&mut m, &[0, 1], &groups, &points, SR, |_, _, _, s| {
            Ok(outcome(s))
        })
        .expect("fits");
    assert_eq!(removed, vec![1]);
    assert_eq!(m.prototypes().len(), 1);
    let (lo, hi) = m.bounds(0).expect("one box");
    assert!(
        lo[0] <= 0.2 && hi[0] >= 0.7,
        "the box holds both: {lo:?} {hi:?}"
    );
    // Two instruments: the second group alone is the sine, which the shared saw cannot play.
    let mut m = Memory::new(ArtConfig::default());
    fresh(&mut m);
    let groups = [own_sound(&saw, SR, &limits), own_sound(&sine, SR, &limits)];
    let alone_len = groups[1].notes.len();
    let whole = groups.iter().map(|g| g.notes.len()).sum::<usize>();
    assert_ne!(alone_len, whole);
    let removed = keeper
        .consolidate(&mut m, &[0, 1], &groups, &points, SR, |_, k, r, s| {
            Ok(outcome(if k == 1 && r.len() == alone_len {
                sine
            } else {
                s
            }))
        })
        .expect("fits");
    assert!(removed.is_empty());
    assert_eq!(m.prototypes().len(), 2);
}

#[test]
fn thinning_to_a_budget_takes_from_the_fullest_first() {
    let limits = ReservoirLimits::default();
    let saw = archetypes()[0];
    let group = || own_sound(&saw, SR, &limits);
    let mut rs = vec![Reservoir::default(), Reservoir::default()];
    rs[0].add(group(), &limits);
    rs[0].add(group(), &limits);
    rs[1].add(group(), &limits);
    let note = rs[1].samples() / 3;
    thin_to(&mut rs, 4 * note, Some(1));
    assert_eq!((rs[0].len(), rs[1].len()), (1, 3), "the kept one is spared");
    thin_to(&mut rs, 2 * note, Some(1));
    assert_eq!((rs[0].len(), rs[1].len()), (1, 1));
}
