//! The learner thread's body: it takes sidechain chunks from the ring, feeds the live learner,
//! applies the GUI's commands and publishes the patch table, the stored memory and the panel's
//! snapshot. A panic is caught and reported; the audio thread plays on with the last patch.

use super::audition::Clip;
use super::commands::{Command, ProtoView, Snapshot};
use super::faults::Faults;
use super::links::Shared;
use crossbeam_channel::Receiver;
use dar_ddsp_core::live::state::STATE_VERSION;
use dar_ddsp_core::live::{LiveEvent, LiveLearner, MAX_PROTOTYPES, MemoryState, PatchTable};
use dar_ddsp_core::memory::art::{Decision, code};
use dar_ddsp_core::memory::encoder::EMBED_DIM;
use dar_ddsp_core::store::preset::{KEPT_RATE, Preset};
use parking_lot::{Mutex, RwLock};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Samples the learner takes from the ring at a time.
const CHUNK: usize = 4_096;
/// How long the learner naps when the ring is empty (an offline render wakes it at once).
const IDLE_SLEEP: Duration = Duration::from_millis(2);

/// What the thread owns.
pub(super) struct Worker {
    /// The live learner.
    pub(super) learner: LiveLearner,
    /// Sidechain samples from the audio thread.
    pub(super) ring: rtrb::Consumer<f32>,
    /// The patch table to the audio thread.
    pub(super) table_in: triple_buffer::Input<PatchTable>,
    /// The table as last published.
    pub(super) table: PatchTable,
    /// Commands from the GUI.
    pub(super) command_rx: Receiver<Command>,
    /// Shared values.
    pub(super) shared: Arc<Shared>,
    /// The persisted memory (plugin state), kept current.
    pub(super) memory: Arc<RwLock<MemoryState>>,
    /// Raised when the host loads a state into `memory`.
    pub(super) loaded: Arc<AtomicBool>,
    /// The GUI's snapshot, kept current.
    pub(super) snapshot: Arc<Mutex<Snapshot>>,
    /// Faults injected by a test (none outside debug builds).
    pub(super) faults: Faults,
    /// Auditions to the audio thread (clips allocated at full length when the learner starts).
    pub(super) audition_in: triple_buffer::Input<Clip>,
    /// Auditions made so far (each clip's number).
    pub(super) auditions: u64,
}

/// The thread body: the loop, with a panic caught and reported (audio keeps the last patch).
pub(super) fn run(worker: Worker, shared: Arc<Shared>, snapshot: Arc<Mutex<Snapshot>>) {
    let result = catch_unwind(AssertUnwindSafe(move || work(worker)));
    if let Err(panic) = result {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        nice_plug::nice_error!("DAR-DDSP learner stopped: {message}");
        let text = format!(
            "The learner stopped: {message}. Playing goes on with the last patch; reload the \
             plugin to learn again."
        );
        snapshot.lock().error = Some(text.clone());
        *shared.error.lock() = Some(text);
    }
    shared.running.store(false, Ordering::Release);
}

fn work(mut w: Worker) {
    let mut buf = vec![0.0f32; CHUNK];
    let mut last_match = None;
    // The table and the snapshot now; the stored memory only once something changes, so a
    // state this build refused stays in the project untouched until the user learns anew.
    w.publish(&mut last_match, true, false);
    while !w.shared.stop.load(Ordering::Acquire) {
        let mut changed = false;
        if w.loaded.load(Ordering::Acquire) {
            // A memory of an older version or another encoder is stored back in this build's
            // form; one already in it, or one refused, stays in the state byte for byte, so
            // saving the project loses nothing and round-trips exactly.
            let rewrite = w.take_loaded_state();
            w.publish(&mut last_match, true, rewrite);
            // Cleared only once the loaded memory is published: an offline render waiting on
            // the flag then plays the loaded patches from its next block.
            w.loaded.store(false, Ordering::Release);
        }
        while let Ok(c) = w.command_rx.try_recv() {
            match c {
                Command::LearnFile(path) => {
                    w.learn_file(&path, &mut last_match);
                    changed = true;
                }
                c => changed |= w.command(c),
            }
        }
        if changed {
            // Before any feed: its interim patches index the memory as it is now.
            w.publish(&mut last_match, true, true);
            changed = false;
        }
        let n = w.ring.slots().min(CHUNK);
        if n == 0 {
            // Woken early by an offline render that waits on it.
            std::thread::park_timeout(IDLE_SLEEP);
            continue;
        }
        if let Ok(chunk) = w.ring.read_chunk(n) {
            let (a, b) = chunk.as_slices();
            buf[..a.len()].copy_from_slice(a);
            buf[a.len()..a.len() + b.len()].copy_from_slice(b);
            chunk.commit_all();
        }
        if w.faults.panic {
            panic!("fault injected by DAR_DDSP_FAULT=panic");
        }
        if !w.faults.slow.is_zero() {
            std::thread::sleep(w.faults.slow);
        }
        let settings = w.shared.settings();
        let mut events = Vec::new();
        let (table, table_in, memory) = (&mut w.table, &mut w.table_in, &w.memory);
        w.learner.feed(&buf[..n], &settings, &mut |e| {
            play_interim(table, table_in, memory, &e);
            events.push(e);
        });
        for e in &events {
            match e {
                LiveEvent::Split { from, to } => {
                    w.snapshot.lock().last_split = Some((*from, *to));
                    changed = true;
                }
                LiveEvent::Presented { decision } => {
                    last_match = match *decision {
                        Decision::Resonated { m, .. } => Some(m),
                        Decision::Unmatched { nearest } => nearest.map(|n| n.1),
                        Decision::Allocated { nearest, .. } => nearest.map(|n| n.1),
                    };
                }
                _ => changed = true,
            }
        }
        w.publish(&mut last_match, changed || !events.is_empty(), changed);
        // The counters move without any event (a sidechain of NaN only): shown all the same.
        w.publish_counters();
        // Only now is this chunk finished: an offline render waiting on it sees the new table.
        w.shared.consumed.fetch_add(n as u64, Ordering::Release);
    }
}

/// Mirrors into `table` what the audio needs of `e` while the learner is busy, and publishes an
/// interim patch of a refinement under way at once, to the audio and to the stored memory
/// (where the prototype is already stored), so the note is heard refined before the
/// refinement ends. The chunk's own publication puts the learner's whole table back after.
fn play_interim(
    table: &mut PatchTable,
    table_in: &mut triple_buffer::Input<PatchTable>,
    memory: &RwLock<MemoryState>,
    e: &LiveEvent,
) {
    match *e {
        LiveEvent::Active(a) => table.active = a,
        LiveEvent::Refining { index, theta } if index <= table.len && index < MAX_PROTOTYPES => {
            table.thetas[index] = theta;
            table.len = table.len.max(index + 1);
            table_in.write(table.clone());
            memory.write().set_theta(index, &theta);
        }
        _ => {}
    }
}

impl Worker {
    /// Replaces the live memory with the one the host just loaded (re-embedded when it was
    /// learned with another encoder); a memory this build refuses is reported and the live one
    /// kept. Whether the stored form must be rewritten (it was migrated or re-embedded).
    fn take_loaded_state(&mut self) -> bool {
        let state = self.memory.read().clone();
        let migrated = state.version != STATE_VERSION;
        let rate = self.learner.sample_rate();
        match state.restore_at(self.learner.weights(), MAX_PROTOTYPES, rate) {
            Ok(r) => {
                if r.reembedded > 0 {
                    nice_plug::nice_log!(
                        "DAR-DDSP: {} prototypes were learned with another encoder and were \
                         re-embedded from their patches",
                        r.reembedded
                    );
                }
                let rewrite = migrated || r.reembedded > 0;
                self.learner.replace_memory(r.prototypes, r.active);
                self.learner.restore_kept(r.kept, r.own_db);
                self.snapshot.lock().error = None;
                rewrite
            }
            Err(e) => {
                nice_plug::nice_error!("DAR-DDSP: {e}");
                self.snapshot.lock().error = Some(e.to_string());
                false
            }
        }
    }

    /// Applies a command; whether the memory changed.
    fn command(&mut self, c: Command) -> bool {
        match c {
            Command::Clear => {
                self.learner.clear();
                true
            }
            Command::Remove(i) => self.learner.remove(i).is_some(),
            Command::Rename(i, name) => self.learner.edit(i, Some(name), None).is_some(),
            Command::Lock(i, locked) => self.learner.edit(i, None, Some(locked)).is_some(),
            Command::Replace(preset) => {
                let Preset {
                    prototypes,
                    active,
                    kept,
                    own_db,
                    ..
                } = *preset;
                self.learner.replace_memory(prototypes, active);
                if self.learner.sample_rate() == KEPT_RATE {
                    self.learner.restore_kept(kept, own_db);
                }
                true
            }
            // Handled by the loop, which publishes as the file is learned.
            Command::LearnFile(_) => false,
            #[cfg(debug_assertions)]
            Command::Crash => panic!("crash requested by a test"),
        }
    }

    /// Refreshes the snapshot's counters (skipped, dropped, refused) alone.
    fn publish_counters(&self) {
        let mut s = self.snapshot.lock();
        s.skipped = self.learner.skipped();
        s.dropped = self.shared.dropped.load(Ordering::Relaxed);
        s.refused = self.learner.memory().refused();
        s.splits = self.learner.splits();
    }

    /// Publishes the table and the snapshot (when `changed`), and the persisted memory (when
    /// `store`).
    pub(super) fn publish(&mut self, last_match: &mut Option<f32>, changed: bool, store: bool) {
        if !changed {
            return;
        }
        let protos = self.learner.memory().prototypes();
        self.table.fill(protos, self.learner.active());
        self.table_in.write(self.table.clone());
        if store {
            *self.memory.write() = MemoryState::with_kept(
                protos,
                self.learner.active(),
                &self.learner.weights().identity(),
                self.learner.reservoirs(),
                self.learner.own(),
                self.learner.sample_rate(),
            );
        }
        let input = self.learner.last_input().map(code);
        let memory = self.learner.memory();
        let views: Vec<ProtoView> = protos
            .iter()
            .enumerate()
            .map(|(j, p)| ProtoView {
                name: p.name.clone(),
                uses: p.uses,
                locked: p.locked,
                loss: p.loss,
                created: p.created,
                center: memory.bounds(j).map_or([0.5; EMBED_DIM], |(lo, hi)| {
                    std::array::from_fn(|i| 0.5 * (lo[i] + hi[i]))
                }),
                m: input.as_ref().map(|i| memory.match_value(j, i)),
                theta: p.theta,
                kept: self.learner.reservoirs().get(j).map_or(0, |r| r.len()),
            })
            .collect();
        let mut s = self.snapshot.lock();
        s.prototypes = views;
        s.active = self.learner.active();
        s.last_match = *last_match;
        s.live = self.learner.last_input().copied();
        s.now = self.learner.now();
        s.losses = self.learner.losses().to_vec();
        s.optimizer = self.learner.optimizer();
        s.steps = self.learner.steps();
        drop(s);
        self.publish_counters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dar_ddsp_core::memory::art::{CODE_LEN, Prototype};
    use dar_ddsp_core::plant::{P, default_theta};

    #[test]
    fn an_interim_patch_plays_at_once_where_the_table_and_the_store_hold_it() {
        let proto = Prototype {
            weights: [0.5; CODE_LEN],
            theta: default_theta(),
            name: "bass".into(),
            uses: 1,
            created: 0.0,
            last_matched: 0.0,
            locked: false,
            loss: 1.0,
            sources: Vec::new(),
        };
        let mut table = PatchTable::default();
        table.fill(std::slice::from_ref(&proto), Some(0));
        let (mut table_in, mut table_out) = triple_buffer::triple_buffer(&table);
        let memory = RwLock::new(MemoryState::of(std::slice::from_ref(&proto), Some(0), "e"));
        let patch = |cutoff: f32| {
            let mut t = default_theta();
            t[P::Cutoff as usize] = cutoff;
            t
        };
        let stored_cutoff =
            |m: &RwLock<MemoryState>, j: usize| m.read().prototypes[j].theta["cutoff"];

        // An interim patch of the stored prototype: played and stored at once.
        let e = LiveEvent::Refining {
            index: 0,
            theta: patch(900.0),
        };
        play_interim(&mut table, &mut table_in, &memory, &e);
        assert_eq!(table_out.read().thetas[0], patch(900.0));
        assert_eq!(stored_cutoff(&memory, 0), 900.0);

        // A new prototype (made by this very note): its activation is mirrored, not played
        // alone; its interim patch is, and the store (which does not hold it yet) is untouched.
        play_interim(
            &mut table,
            &mut table_in,
            &memory,
            &LiveEvent::Active(Some(1)),
        );
        assert_eq!(table_out.read().active, Some(0));
        let e = LiveEvent::Refining {
            index: 1,
            theta: patch(3_000.0),
        };
        play_interim(&mut table, &mut table_in, &memory, &e);
        let played = table_out.read();
        assert_eq!((played.len, played.active), (2, Some(1)));
        assert_eq!(played.thetas[1], patch(3_000.0));
        assert_eq!(memory.read().prototypes.len(), 1);

        // An index past the end is nobody's: ignored.
        let e = LiveEvent::Refining {
            index: 5,
            theta: patch(100.0),
        };
        play_interim(&mut table, &mut table_in, &memory, &e);
        assert_eq!(table_out.read().len, 2);
    }
}
