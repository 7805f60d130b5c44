//! What keeps each prototype's notes and decides whether its patch may change: the coupling of
//! the error-driven law to the resonance law (`docs/ARCHITECTURE.md`), one rule for the command
//! line's learner ([`crate::learning::continual`]) and the plugin's ([`crate::live`]).
//!
//! - **Prediction** for match tracking (Fuzzy ARTMAP, Carpenter et al. 1992): a learned
//!   prototype predicts a note when its patch plays it at most [`KeeperConfig::tolerance_db`]
//!   worse than its own kept notes, and no other learned prototype's patch among the
//!   [`NEIGHBOURS`] nearest ([`Rivals`]) plays it better: the category whose patch plays a
//!   note best is the one that predicts it. One not yet learned predicts everything.
//! - **Guarded refinement**: a prototype is refined on its whole [`Reservoir`], the newest
//!   group included; the result is accepted only if no earlier group plays more than
//!   [`KeeperConfig::guard_db`] worse than right after its notes were learned (each kept note
//!   holds that distance, so refinements cannot add up), and only if the newest group, fitted
//!   alone, does not play better by more than [`KeeperConfig::tolerance_db`] than with the
//!   shared patch (the patch could not play both). Otherwise the newest group splits off into
//!   a prototype of its own, and the old one keeps its patch and gets back its category box.
//! - **Learning from a later patch** ([`Keeper::improve_from`]): a prototype's first fit starts
//!   from whatever patch was nearest then. When a patch learned later plays a neighbour's kept
//!   notes better than the neighbour's own patch does, the neighbour is fitted again from it,
//!   and kept only if it plays its notes better and no group worse than the guard allows.

use crate::learning::objective::LearnError;
use crate::learning::reservoir::{Group, KeptNote, Reservoir, ReservoirLimits};
use crate::learning::search::Outcome;
use crate::memory::art::{Code, Memory};
use crate::memory::encoder::Embedding;
use crate::plant::Theta;
use crate::plant::render::render_note;

/// Default match-tracking tolerance, dB (the yardstick): between how much worse a patch plays
/// the other notes of its own instrument than those it was fitted on, and how much worse it
/// plays another instrument (measured on the eval recordings when it was chosen; the continual
/// table in `docs/RESULTS.md` shows the instruments it keeps apart).
pub const DEFAULT_TOLERANCE_DB: f32 = 1.5;
/// Default refinement guard, dB.
pub const DEFAULT_GUARD_DB: f32 = 0.1;
/// Learned prototypes compared per note, and per refined patch, by category match (the
/// nearest ones): bounds the renders a note costs the learner.
pub const NEIGHBOURS: usize = 8;

/// Settings of a [`Keeper`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeeperConfig {
    /// Match tracking: a prototype whose patch plays a new note more than this much worse (dB)
    /// than its own kept notes does not predict it.
    pub tolerance_db: f32,
    /// A refinement that plays an earlier group of a prototype's notes more than this much
    /// worse (dB) is refused, and the newest group splits off.
    pub guard_db: f32,
    /// Bounds of each prototype's reservoir.
    pub reservoir: ReservoirLimits,
}

impl Default for KeeperConfig {
    fn default() -> Self {
        Self {
            tolerance_db: DEFAULT_TOLERANCE_DB,
            guard_db: DEFAULT_GUARD_DB,
            reservoir: ReservoirLimits::default(),
        }
    }
}

/// What a guarded refinement did.
#[derive(Debug, Clone, PartialEq)]
pub enum Refined {
    /// The patch was refined and taken.
    Accepted(Outcome),
    /// An earlier note would have played worse than right after it was learned, or the newest
    /// group plays much better with a patch of its own: the newest group went to a new
    /// prototype (`Some(index)`, with its fit), or nowhere when the memory is full (`None`).
    Split(Option<(usize, Outcome)>),
}

/// How the learned prototypes nearest to a new note play it ([`Keeper::rivals`]): the plant's
/// side of match tracking, measured once per note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rivals {
    /// (prototype, distance in dB of its patch on the note), nearest category first.
    distances: Vec<(usize, f32)>,
    /// The prototype left out: judged by the tolerance alone.
    forming: Option<usize>,
}

impl Rivals {
    /// The distance of prototype `j`'s patch on the note, when `j` is a rival.
    fn of(&self, j: usize) -> Option<f32> {
        self.distances.iter().find(|r| r.0 == j).map(|r| r.1)
    }

    /// The best distance among the rivals other than `j`.
    fn best_other(&self, j: usize) -> Option<f32> {
        (self.distances.iter())
            .filter(|r| r.0 != j)
            .map(|r| r.1)
            .min_by(f32::total_cmp)
    }
}

/// Notes at which a prototype stored without kept notes is rendered as its first group.
pub const SEED_NOTES: [f32; 3] = [48.0, 60.0, 72.0];

/// θ playing [`SEED_NOTES`] (1 s held, 0.3 s of release each) as one group: the first group of
/// a learned prototype that has no kept notes, so a refinement may not move its sound by more
/// than the guard, and a different timbre splits off. Allocates.
pub fn own_sound(theta: &Theta<f32>, sample_rate: f32, limits: &ReservoirLimits) -> Group {
    let (held, len) = ((1.0 * sample_rate) as usize, (1.3 * sample_rate) as usize);
    let notes = SEED_NOTES
        .iter()
        .filter_map(|&n| {
            let audio = render_note(theta, n, 0.8, held, sample_rate, len);
            KeptNote::cut(&audio, 0, len, sample_rate, limits)
        })
        .collect();
    Group::new(notes)
}

/// Thins `reservoirs` until together they hold at most `budget` samples: one note at a time
/// from the fullest that keeps a note afterwards, preferring others to `keep`; a reservoir is
/// emptied only when every one is down to one note.
pub fn thin_to(reservoirs: &mut [Reservoir], budget: usize, keep: Option<usize>) {
    let total = |rs: &[Reservoir]| rs.iter().map(Reservoir::samples).sum::<usize>();
    while total(reservoirs) > budget {
        let fullest = |rs: &[Reservoir], min_len: usize, skip: Option<usize>| {
            rs.iter()
                .enumerate()
                .filter(|(i, r)| Some(*i) != skip && r.len() > min_len)
                .max_by_key(|(_, r)| r.samples())
                .map(|(i, _)| i)
        };
        let victim = fullest(reservoirs, 1, keep)
            .or_else(|| fullest(reservoirs, 1, None))
            .or_else(|| fullest(reservoirs, 0, keep))
            .or_else(|| fullest(reservoirs, 0, None));
        let Some(v) = victim else { break };
        let r = &mut reservoirs[v];
        let notes = r.len().saturating_sub(1);
        if notes == 0 {
            r.groups.clear();
        } else {
            r.thin(&ReservoirLimits {
                notes,
                note_s: f32::INFINITY,
            });
        }
    }
}

/// Each prototype's kept notes and its own distance (parallel to the memory's prototypes).
#[derive(Debug, Clone, Default)]
pub struct Keeper {
    /// Settings.
    config: KeeperConfig,
    /// Kept notes per prototype.
    reservoirs: Vec<Reservoir>,
    /// Mean distance (dB) of each prototype's patch over its reservoir, once refined.
    own: Vec<Option<f32>>,
}

impl Keeper {
    /// A keeper with nothing kept.
    pub fn new(config: KeeperConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Each prototype's kept notes.
    pub fn reservoirs(&self) -> &[Reservoir] {
        &self.reservoirs
    }

    /// Samples kept over all prototypes.
    pub fn samples(&self) -> usize {
        self.reservoirs.iter().map(Reservoir::samples).sum()
    }

    /// Follows the memory's size: prototypes added from outside start with nothing kept.
    pub fn sync(&mut self, prototypes: usize) {
        self.reservoirs.resize_with(prototypes, Reservoir::default);
        self.own.resize(prototypes, None);
    }

    /// Forgets prototype `index`'s notes (it was removed; later ones move down).
    pub fn remove(&mut self, index: usize) {
        if index < self.reservoirs.len() {
            self.reservoirs.remove(index);
            self.own.remove(index);
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.reservoirs.clear();
        self.own.clear();
    }

    /// Thins kept notes until all reservoirs together hold at most `budget` samples: one note at
    /// a time from the fullest reservoir that keeps a note afterwards, preferring others to
    /// `keep`; a reservoir is emptied only when every one is down to one note.
    pub fn keep_within(&mut self, budget: usize, keep: usize) {
        thin_to(&mut self.reservoirs, budget, Some(keep));
    }

    /// Each prototype's own distance (dB) over its kept notes, once refined.
    pub fn own(&self) -> &[Option<f32>] {
        &self.own
    }

    /// Takes kept notes and own distances from a stored memory, parallel to its `prototypes`
    /// (missing ones are empty). A learned prototype stored without notes gets its own sound as
    /// its first group when it is next refined ([`own_sound`]). Allocates.
    pub fn restore(&mut self, prototypes: usize, kept: Vec<Reservoir>, own: Vec<Option<f32>>) {
        self.reservoirs = kept;
        self.own = own;
        self.reservoirs.truncate(prototypes);
        self.own.truncate(prototypes);
        self.sync(prototypes);
    }

    /// How the [`NEIGHBOURS`] learned prototypes nearest to the code `input` play `note`;
    /// `forming` (the prototype a run of notes is still forming, fitted on a few of them) is
    /// left out of the comparison, as a prototype not yet learned is. Allocates.
    pub fn rivals(
        &self,
        memory: &Memory,
        input: &Code,
        note: &KeptNote,
        forming: Option<usize>,
        sample_rate: f32,
    ) -> Rivals {
        let learned = |j: &usize| self.own.get(*j).copied().flatten().is_some();
        let distances = memory
            .nearest(input, memory.prototypes().len())
            .into_iter()
            .filter(|j| learned(j) && Some(*j) != forming)
            .take(NEIGHBOURS)
            .map(|j| (j, note.distance(&memory.prototypes()[j].theta, sample_rate)))
            .collect();
        Rivals { distances, forming }
    }

    /// Whether prototype `j`, playing `theta`, predicts `note`: it plays the note at most the
    /// tolerance worse than its own notes, and no rival plays it better.
    pub fn predicts(
        &self,
        j: usize,
        theta: &Theta<f32>,
        note: &KeptNote,
        rivals: &Rivals,
        sample_rate: f32,
    ) -> bool {
        let Some(own) = self.own.get(j).copied().flatten() else {
            return true;
        };
        let d = rivals
            .of(j)
            .unwrap_or_else(|| note.distance(theta, sample_rate));
        let rival = (rivals.forming != Some(j))
            .then(|| rivals.best_other(j))
            .flatten();
        d <= own + self.config.tolerance_db && rival.is_none_or(|b| d <= b)
    }

    /// Whether [`Self::refine`] of `j` (with `extend` as there) would guard no earlier group:
    /// such a refinement is always accepted, so its search's interim patches may be played
    /// before it ends.
    pub fn unguarded(&self, memory: &Memory, j: usize, extend: bool) -> bool {
        let kept = self.reservoirs.get(j).map_or(0, |r| r.groups.len());
        // `refine` gives a learned prototype with nothing kept its own sound as a group.
        let own_sound = kept == 0
            && memory
                .prototypes()
                .get(j)
                .is_some_and(|p| p.loss.is_finite());
        let groups = kept + usize::from(own_sound);
        groups == 0 || (groups == 1 && extend)
    }

    /// Refines prototype `j` with `group` as its newest group (or, with `extend`, added to its
    /// newest group: the same run of notes goes on). `fit(memory, j, reservoir, start)` runs the
    /// search. On a split, `box_before` is `j`'s category box before the group's notes were
    /// learned and `embeddings` are theirs; `now` is the stream time. Allocates.
    #[allow(clippy::too_many_arguments)]
    pub fn refine(
        &mut self,
        memory: &mut Memory,
        j: usize,
        group: Group,
        extend: bool,
        box_before: Code,
        embeddings: &[Embedding],
        now: f64,
        sample_rate: f32,
        mut fit: impl FnMut(&Memory, usize, &Reservoir, Theta<f32>) -> Result<Outcome, LearnError>,
    ) -> Result<Refined, LearnError> {
        self.sync(memory.prototypes().len());
        let old = memory.prototypes()[j].theta;
        // A learned prototype with nothing kept (a preset, an older project) keeps its own
        // sound: nothing it played is lost.
        if self.reservoirs[j].is_empty() && memory.prototypes()[j].loss.is_finite() {
            let group = own_sound(&old, sample_rate, &self.config.reservoir);
            self.reservoirs[j].add(group, &self.config.reservoir);
        }
        let mut candidate = self.reservoirs[j].clone();
        let earlier = candidate.groups.len() - usize::from(extend && !candidate.groups.is_empty());
        match candidate.groups.last_mut().filter(|_| extend) {
            Some(last) => {
                last.notes.extend(group.notes.iter().cloned());
                candidate.thin(&self.config.reservoir);
            }
            None => candidate.add(group.clone(), &self.config.reservoir),
        }
        // Groups thinned away are no longer guarded; the newest is never its own guard. Each
        // guarded group is held to its distance right after it was learned, so refinements
        // cannot add up to more than the guard.
        let guarded = earlier.min(candidate.groups.len().saturating_sub(1));
        for k in candidate.groups[..guarded]
            .iter_mut()
            .flat_map(|g| &mut g.notes)
        {
            if k.reference_db.is_none() {
                k.reference_db = Some(k.distance(&old, sample_rate));
            }
        }
        let outcome = fit(memory, j, &candidate, old)?;
        let worse = candidate.groups[..guarded].iter().any(|g| {
            g.distance(&outcome.theta, sample_rate)
                > g.reference(&old, sample_rate) + self.config.guard_db
        });
        // The patch could not play both when the new notes, fitted alone, play better by more
        // than the match-tracking tolerance than the shared patch plays them.
        let apart = !worse && guarded > 0 && {
            let mut alone = Reservoir::default();
            alone.add(group.clone(), &self.config.reservoir);
            let solo = fit(memory, j, &alone, old)?;
            alone.distance(&outcome.theta, sample_rate)
                > alone.distance(&solo.theta, sample_rate) + self.config.tolerance_db
        };
        if !worse && !apart {
            self.accept(memory, j, candidate, &outcome, sample_rate);
            return Ok(Refined::Accepted(outcome));
        }
        let Some((first, rest)) = embeddings.split_first() else {
            return Ok(Refined::Split(None));
        };
        let Some(k) = memory.commit(first, now, old) else {
            return Ok(Refined::Split(None));
        };
        for h in rest {
            memory.widen(k, h);
        }
        memory.restore_weights(j, box_before, embeddings.len() as u64);
        self.sync(memory.prototypes().len());
        let mut own = Reservoir::default();
        own.add(group, &self.config.reservoir);
        let outcome = fit(memory, k, &own, old)?;
        self.accept(memory, k, own, &outcome, sample_rate);
        Ok(Refined::Split(Some((k, outcome))))
    }

    /// After prototype `donor` got a new patch: each of its [`NEIGHBOURS`] nearest learned
    /// prototypes whose kept notes `donor`'s patch plays better (by more than the guard) than
    /// their own patch does is fitted again on its reservoir from `donor`'s patch. The new
    /// patch is kept when it plays the whole reservoir better than the old one and no group
    /// worse than its reference allows; the notes' references then drop to their new distances.
    /// Returns the prototypes that changed, with their fits. `fit` as for [`Self::refine`].
    /// Allocates.
    pub fn improve_from(
        &mut self,
        memory: &mut Memory,
        donor: usize,
        sample_rate: f32,
        mut fit: impl FnMut(&Memory, usize, &Reservoir, Theta<f32>) -> Result<Outcome, LearnError>,
    ) -> Result<Vec<(usize, Outcome)>, LearnError> {
        self.sync(memory.prototypes().len());
        let Some(d) = memory.prototypes().get(donor) else {
            return Ok(Vec::new());
        };
        let (start, input) = (d.theta, d.weights);
        let targets: Vec<usize> = memory
            .nearest(&input, memory.prototypes().len())
            .into_iter()
            .filter(|&j| j != donor && self.own[j].is_some() && !memory.prototypes()[j].locked)
            .take(NEIGHBOURS)
            .collect();
        let mut improved = Vec::new();
        for j in targets {
            let reservoir = &self.reservoirs[j];
            let old = memory.prototypes()[j].theta;
            let own = reservoir.distance(&old, sample_rate);
            let theirs = reservoir.distance(&start, sample_rate);
            if theirs + self.config.guard_db >= own {
                continue;
            }
            let outcome = fit(memory, j, reservoir, start)?;
            let now = reservoir.distance(&outcome.theta, sample_rate);
            let holds = reservoir.groups.iter().all(|g| {
                g.distance(&outcome.theta, sample_rate)
                    <= g.reference(&old, sample_rate) + self.config.guard_db
            });
            if !holds || now >= own {
                continue;
            }
            let mut reservoir = reservoir.clone();
            for k in reservoir.groups.iter_mut().flat_map(|g| &mut g.notes) {
                let d = k.distance(&outcome.theta, sample_rate);
                k.reference_db = Some(k.reference_db.map_or(d, |r| r.min(d)));
            }
            self.accept(memory, j, reservoir, &outcome, sample_rate);
            improved.push((j, outcome));
        }
        Ok(improved)
    }

    /// Prototypes committed one after another for one run of notes (`fresh`, none fitted yet;
    /// `groups[i]` the notes `fresh[i]` won, `embeddings[i]` theirs) become one where a single
    /// patch plays them: all their notes are fitted together, and each later group joins the
    /// first unless, fitted alone, it plays better than with the shared patch by more than
    /// [`KeeperConfig::tolerance_db`] (the same test a refinement splits by). A joining
    /// prototype's notes widen the first one's category box and it is removed from `memory`
    /// and from here. Returns the removed prototypes, highest first (later indices move
    /// down by one for each). `fit` as for [`Self::refine`]. Allocates.
    #[allow(clippy::too_many_arguments)]
    pub fn consolidate(
        &mut self,
        memory: &mut Memory,
        fresh: &[usize],
        groups: &[Group],
        embeddings: &[Vec<Embedding>],
        sample_rate: f32,
        mut fit: impl FnMut(&Memory, usize, &Reservoir, Theta<f32>) -> Result<Outcome, LearnError>,
    ) -> Result<Vec<usize>, LearnError> {
        let Some(&first) = fresh.first() else {
            return Ok(Vec::new());
        };
        if fresh.len() < 2 || groups.len() != fresh.len() || embeddings.len() != fresh.len() {
            return Ok(Vec::new());
        }
        let limits = ReservoirLimits {
            notes: usize::MAX,
            ..self.config.reservoir
        };
        let mut all = Reservoir::default();
        for g in groups {
            all.add(g.clone(), &limits);
        }
        let start = memory.prototypes()[first].theta;
        let shared = fit(memory, first, &all, start)?;
        let mut removed = Vec::new();
        for i in (1..fresh.len()).rev() {
            let mut alone = Reservoir::default();
            alone.add(groups[i].clone(), &limits);
            let solo = fit(memory, fresh[i], &alone, shared.theta)?;
            let apart = alone.distance(&shared.theta, sample_rate)
                > alone.distance(&solo.theta, sample_rate) + self.config.tolerance_db;
            if !apart {
                for h in &embeddings[i] {
                    memory.widen(first, h);
                }
                memory.remove(fresh[i]);
                self.remove(fresh[i]);
                removed.push(fresh[i]);
            }
        }
        Ok(removed)
    }

    /// Takes a refinement: the patch, the reservoir (groups without a reference take their
    /// distance now) and its own distance.
    fn accept(
        &mut self,
        memory: &mut Memory,
        j: usize,
        mut reservoir: Reservoir,
        outcome: &Outcome,
        sample_rate: f32,
    ) {
        for k in reservoir.groups.iter_mut().flat_map(|g| &mut g.notes) {
            if k.reference_db.is_none() {
                k.reference_db = Some(k.distance(&outcome.theta, sample_rate));
            }
        }
        self.own[j] = Some(reservoir.distance(&outcome.theta, sample_rate));
        self.reservoirs[j] = reservoir;
        if let Some(p) = memory.prototype_mut(j) {
            p.theta = outcome.theta;
            p.loss = outcome.loss;
        }
    }
}

#[cfg(test)]
mod tests;
