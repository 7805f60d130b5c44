//! The learner thread and its links (DESIGN.md §2): the audio thread hands sidechain samples to
//! the learner through an SPSC ring and plays the patch table the learner publishes through a
//! triple buffer; the GUI reads a snapshot and sends commands. Nobody waits on anybody, except
//! the audio thread in an offline render, which lets the learner catch up so that a bounce
//! learns the same thing however fast the host runs.

use crossbeam_channel::{Receiver, Sender, bounded};
use dar_ddsp_core::live::state::STATE_VERSION;
use dar_ddsp_core::live::{
    LiveConfig, LiveEvent, LiveLearner, LiveSettings, MAX_PROTOTYPES, MemoryState, Mode,
    PatchTable, Restored,
};
use dar_ddsp_core::memory::art::code;
use dar_ddsp_core::memory::encoder::{EMBED_DIM, Embedding, EncoderWeights};
use dar_ddsp_core::plant::Theta;
use dar_ddsp_core::store::preset::{KEPT_RATE, Preset};
use parking_lot::{Mutex, RwLock};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Sidechain ring capacity, samples (5.5 s at 48 kHz): room for the learner to finish refining
/// a prototype (≈ 1–2 s) while real-time audio keeps arriving.
pub const RING_CAPACITY: usize = 1 << 18;
/// Samples the learner takes from the ring at a time.
const CHUNK: usize = 4_096;
/// How long the learner naps when the ring is empty (an offline render wakes it at once).
const IDLE_SLEEP: Duration = Duration::from_millis(2);
/// Longest an offline render waits for the learner per block before playing on (a learner
/// that hangs must not hang the host's bounce).
pub const OFFLINE_WAIT: Duration = Duration::from_secs(60);

/// A command from the GUI (or a test) to the learner.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Forget every prototype.
    Clear,
    /// Delete one prototype.
    Remove(usize),
    /// Rename one prototype.
    Rename(usize, String),
    /// Lock or unlock one prototype.
    Lock(usize, bool),
    /// Replace the whole memory with a preset the editor loaded (already checked and fitted
    /// to this encoder): its prototypes, the active one, and its kept notes where they were
    /// recorded at the learner's rate.
    Replace(Box<Preset>),
    /// Panic inside the learner (tests of the panic path; debug builds only).
    #[cfg(debug_assertions)]
    Crash,
}

/// One prototype as the panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtoView {
    /// Display name.
    pub name: String,
    /// Presentations won.
    pub uses: u64,
    /// Never changed by learning.
    pub locked: bool,
    /// The learner's last loss (∞ until learned).
    pub loss: f32,
    /// When it was committed, seconds of sidechain heard.
    pub created: f64,
    /// Centre of its category box in the embedding.
    pub center: Embedding,
    /// Match M_j of the last note presented with it (`None` before any note).
    pub m: Option<f32>,
    /// Its patch.
    pub theta: Theta<f32>,
    /// Notes kept in its reservoir (what its patch is refined on and guarded by).
    pub kept: usize,
}

/// What the panel shows, published by the learner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The prototypes, in memory order.
    pub prototypes: Vec<ProtoView>,
    /// The active prototype.
    pub active: Option<usize>,
    /// Match of the last presented note with its best prototype.
    pub last_match: Option<f32>,
    /// Embedding of the last presented note (the map's live point).
    pub live: Option<Embedding>,
    /// Seconds of sidechain heard (the clock of `created`).
    pub now: f64,
    /// Losses of recent refinements, oldest first.
    pub losses: Vec<f32>,
    /// Optimizer state (α, μ, σ) after the last refinement.
    pub optimizer: (f32, f32, f32),
    /// Gradient steps so far.
    pub steps: u64,
    /// Non-finite sidechain samples skipped.
    pub skipped: u64,
    /// Sidechain samples dropped because the learner fell behind (ring full).
    pub dropped: u64,
    /// Notes the full memory could not give a prototype.
    pub refused: u64,
    /// The last split (the prototype that kept its patch, the new one), if any.
    pub last_split: Option<(usize, usize)>,
    /// Refinements refused because the patch could not play both (each a split).
    pub splits: u64,
    /// Why learning stopped or a stored memory was refused, if so.
    pub error: Option<String>,
}

/// Faults a test injects into the learner through the environment variable
/// `DAR_DDSP_FAULT`, read when the learner starts; debug builds only, so a release build never
/// looks. `panic`: panic at the first sidechain chunk; `slow=MS`: spend MS more milliseconds
/// on every chunk (a learner starved of CPU). Both may be given, comma-separated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Panic at the first sidechain chunk.
    pub panic: bool,
    /// Extra time per chunk.
    pub slow: Duration,
}

impl Faults {
    /// Parses the variable's text; unknown words are ignored.
    pub fn parse(text: &str) -> Self {
        let mut f = Self::default();
        for word in text.split(',').map(str::trim) {
            if word == "panic" {
                f.panic = true;
            } else if let Some(ms) = word.strip_prefix("slow=").and_then(|m| m.parse().ok()) {
                f.slow = Duration::from_millis(ms);
            }
        }
        f
    }

    /// The faults asked for in the environment (debug builds), else none. Main thread.
    pub fn from_env() -> Self {
        if !cfg!(debug_assertions) {
            return Self::default();
        }
        std::env::var("DAR_DDSP_FAULT")
            .map(|t| Self::parse(&t))
            .unwrap_or_default()
    }
}

/// The editor's and the plugin's way to the learner: a bounded channel made once per plugin
/// instance, so it outlives learner restarts (each learner takes a clone of the receiver).
pub fn command_link() -> (Sender<Command>, Receiver<Command>) {
    bounded(64)
}

/// Values shared between the threads: settings the audio thread writes every block, counters,
/// and the learner's health. All atomics except `error` (learner and GUI only).
#[derive(Debug, Default)]
pub struct Shared {
    /// [`Mode`] as 0, 1, 2. Audio thread writes, learner reads.
    mode: AtomicU8,
    /// ρ (f32 bits). Audio thread writes, learner reads.
    vigilance: AtomicU32,
    /// Base α (f32 bits). Audio thread writes, learner reads.
    learn_rate: AtomicU32,
    /// λ_ART (f32 bits). Audio thread writes, learner reads.
    resonance: AtomicU32,
    /// Samples written into the ring. Audio thread writes, learner and tests read.
    accepted: AtomicU64,
    /// Samples the learner has finished with (learning included). Learner writes.
    consumed: AtomicU64,
    /// Samples dropped because the ring was full. Audio thread writes, GUI reads.
    pub dropped: AtomicU64,
    /// Whether the learner thread is running. Learner writes (false when it stops or fails).
    running: AtomicBool,
    /// Asks the learner to stop (also ends a refinement in progress). Main thread writes.
    stop: Arc<AtomicBool>,
    /// The learner's last failure, if any (shown by the GUI, written to the log).
    pub error: Mutex<Option<String>>,
}

impl Shared {
    /// Settings as the audio thread last wrote them.
    pub fn settings(&self) -> LiveSettings {
        LiveSettings {
            mode: match self.mode.load(Ordering::Relaxed) {
                1 => Mode::Follow,
                2 => Mode::Play,
                _ => Mode::Learn,
            },
            vigilance: f32::from_bits(self.vigilance.load(Ordering::Relaxed)),
            learn_rate: f32::from_bits(self.learn_rate.load(Ordering::Relaxed)),
            resonance: f32::from_bits(self.resonance.load(Ordering::Relaxed)),
        }
    }

    /// Writes the settings (audio thread, every block; atomics only).
    pub fn set_settings(&self, s: &LiveSettings) {
        let mode = match s.mode {
            Mode::Learn => 0,
            Mode::Follow => 1,
            Mode::Play => 2,
        };
        self.mode.store(mode, Ordering::Relaxed);
        self.vigilance
            .store(s.vigilance.to_bits(), Ordering::Relaxed);
        self.learn_rate
            .store(s.learn_rate.to_bits(), Ordering::Relaxed);
        self.resonance
            .store(s.resonance.to_bits(), Ordering::Relaxed);
    }

    /// Whether the learner is running.
    pub fn running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// Samples the learner has finished with.
    pub fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Acquire)
    }

    /// Samples handed to the learner.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Acquire)
    }
}

/// Audio that must arrive this much faster than real time before a host that did not say it
/// renders offline is treated as rendering offline: 2 s of audio within 0.5 s of wall time. A
/// live host cannot sustain 4× real time for 2 s (anticipative processing runs at most a few
/// hundred milliseconds ahead); a headless renderer that does not report offline (dawdreamer)
/// does so at once.
const FAST_AUDIO_S: f64 = 2.0;
/// See [`FAST_AUDIO_S`].
const FAST_WALL_S: f64 = 0.5;

/// Tells whether blocks arrive much faster than real time. Audio thread only; reads the
/// monotonic clock (vDSO, no syscall), allocates nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pace {
    /// When the current measuring window started.
    since: Option<Instant>,
    /// Audio seen in the window, seconds.
    audio_s: f64,
    /// Latched once the host has been seen rendering faster than real time.
    fast: bool,
}

impl Pace {
    /// Counts a block of `seconds` of audio; whether the host renders faster than real time.
    pub fn block(&mut self, seconds: f64) -> bool {
        if self.fast {
            return true;
        }
        let now = Instant::now();
        let since = *self.since.get_or_insert(now);
        let wall = now.duration_since(since).as_secs_f64();
        if wall > FAST_WALL_S {
            self.since = Some(now);
            self.audio_s = 0.0;
        }
        self.audio_s += seconds;
        self.fast = self.audio_s >= FAST_AUDIO_S && wall <= FAST_WALL_S;
        self.fast
    }
}

/// The audio thread's ends of the links. Everything here is allocation-free and wait-free.
pub struct AudioLinks {
    /// Sidechain samples to the learner.
    sidechain: rtrb::Producer<f32>,
    /// The learner's latest patch table.
    table: triple_buffer::Output<PatchTable>,
    /// Settings, counters, health.
    pub shared: Arc<Shared>,
    /// The learner thread, to wake it when an offline render waits on it.
    thread: Option<std::thread::Thread>,
}

impl AudioLinks {
    /// Hands sidechain samples to the learner; what does not fit is dropped and counted.
    pub fn push(&mut self, samples: impl ExactSizeIterator<Item = f32>) {
        let want = samples.len();
        let n = want.min(self.sidechain.slots());
        if let Some(chunk) = (n > 0)
            .then(|| self.sidechain.write_chunk_uninit(n).ok())
            .flatten()
        {
            let written = chunk.fill_from_iter(samples);
            self.shared
                .accepted
                .fetch_add(written as u64, Ordering::Release);
        }
        if want > n {
            self.shared
                .dropped
                .fetch_add((want - n) as u64, Ordering::Relaxed);
        }
    }

    /// Offline renders only: waits until the learner has finished with everything handed to
    /// it and has taken a freshly loaded state (`loaded` cleared), or stopped, or
    /// [`OFFLINE_WAIT`] passed. Never call it in real time.
    pub fn wait_for_learner(&self, loaded: &AtomicBool) {
        let target = self.shared.accepted();
        // Offline, a syscall is allowed: wake the learner rather than wait out its idle nap.
        if let Some(t) = &self.thread {
            t.unpark();
        }
        let deadline = Instant::now() + OFFLINE_WAIT;
        while (self.shared.consumed() < target || loaded.load(Ordering::Acquire))
            && self.shared.running()
            && Instant::now() < deadline
        {
            std::thread::yield_now();
        }
    }

    /// The latest patch table.
    pub fn table(&mut self) -> &PatchTable {
        self.table.read()
    }
}

/// The learner thread, owned by the plugin (main thread). Dropping it stops and joins it.
pub struct LearnerThread {
    /// The thread.
    handle: Option<JoinHandle<()>>,
    /// Shared values.
    shared: Arc<Shared>,
    /// Commands to the learner.
    commands: Sender<Command>,
    /// Sample rate it runs at.
    sample_rate: f32,
}

impl LearnerThread {
    /// Starts a learner at `sample_rate` holding `restored` (the prototypes of the restored
    /// state, their kept notes at this rate, the active one).
    /// It keeps `memory` (the persisted state) and `snapshot` (the GUI's view) current.
    /// Allocates; main thread only. Returns the thread and the audio thread's links, or an
    /// error if the OS refuses a thread.
    pub fn start(
        sample_rate: f32,
        weights: EncoderWeights,
        restored: Restored,
        settings: &LiveSettings,
        (memory, loaded): (Arc<RwLock<MemoryState>>, Arc<AtomicBool>),
        snapshot: Arc<Mutex<Snapshot>>,
        (commands, command_rx): (Sender<Command>, Receiver<Command>),
    ) -> std::io::Result<(Self, AudioLinks)> {
        let (producer, consumer) = rtrb::RingBuffer::new(RING_CAPACITY);
        let mut learner =
            LiveLearner::new(LiveConfig::new(sample_rate), weights, restored.prototypes);
        learner.restore_kept(restored.kept, restored.own_db);
        learner.set_active(restored.active);
        let shared = Arc::new(Shared::default());
        learner.set_stop(shared.stop.clone());
        let table = PatchTable::of(learner.memory().prototypes(), learner.active());
        let (table_in, table_out) = triple_buffer::triple_buffer(&table);
        shared.set_settings(settings);
        shared.running.store(true, Ordering::Release);
        let worker = Worker {
            learner,
            ring: consumer,
            table_in,
            table,
            command_rx,
            shared: shared.clone(),
            memory,
            loaded,
            snapshot,
            faults: Faults::from_env(),
        };
        let thread_shared = shared.clone();
        let thread_snapshot = worker.snapshot.clone();
        let handle = std::thread::Builder::new()
            .name("dar-ddsp learner".into())
            .spawn(move || run(worker, thread_shared, thread_snapshot));
        let handle = match handle {
            Ok(h) => h,
            Err(e) => {
                shared.running.store(false, Ordering::Release);
                return Err(e);
            }
        };
        let links = AudioLinks {
            sidechain: producer,
            table: table_out,
            shared: shared.clone(),
            thread: Some(handle.thread().clone()),
        };
        Ok((
            Self {
                handle: Some(handle),
                shared,
                commands,
                sample_rate,
            },
            links,
        ))
    }

    /// Sample rate it runs at.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Shared values.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Sends a command; `false` if the queue is full or the learner is gone.
    pub fn send(&self, command: Command) -> bool {
        self.commands.try_send(command).is_ok()
    }

    /// Stops and joins the thread (idempotent).
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            // A panic was already caught inside; a join error cannot carry anything new.
            let _ = handle.join();
        }
    }
}

impl Drop for LearnerThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the thread owns.
struct Worker {
    /// The live learner.
    learner: LiveLearner,
    /// Sidechain samples from the audio thread.
    ring: rtrb::Consumer<f32>,
    /// The patch table to the audio thread.
    table_in: triple_buffer::Input<PatchTable>,
    /// The table as last published.
    table: PatchTable,
    /// Commands from the GUI.
    command_rx: Receiver<Command>,
    /// Shared values.
    shared: Arc<Shared>,
    /// The persisted memory (plugin state), kept current.
    memory: Arc<RwLock<MemoryState>>,
    /// Raised when the host loads a state into `memory`.
    loaded: Arc<AtomicBool>,
    /// The GUI's snapshot, kept current.
    snapshot: Arc<Mutex<Snapshot>>,
    /// Faults injected by a test (none outside debug builds).
    faults: Faults,
}

/// The thread body: the loop, with a panic caught and reported (audio keeps the last patch).
fn run(worker: Worker, shared: Arc<Shared>, snapshot: Arc<Mutex<Snapshot>>) {
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
            changed |= w.command(c);
        }
        let n = w.ring.slots().min(CHUNK);
        if n == 0 {
            if changed {
                w.publish(&mut last_match, true, true);
            }
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
        w.learner
            .feed(&buf[..n], &settings, &mut |e| events.push(e));
        for e in &events {
            match e {
                LiveEvent::Split { from, to } => {
                    w.snapshot.lock().last_split = Some((*from, *to));
                    changed = true;
                }
                LiveEvent::Presented { decision } => {
                    last_match = match *decision {
                        dar_ddsp_core::memory::art::Decision::Resonated { m, .. } => Some(m),
                        dar_ddsp_core::memory::art::Decision::Unmatched { nearest } => {
                            nearest.map(|n| n.1)
                        }
                        dar_ddsp_core::memory::art::Decision::Allocated { nearest, .. } => {
                            nearest.map(|n| n.1)
                        }
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
    fn publish(&mut self, last_match: &mut Option<f32>, changed: bool, store: bool) {
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
    use dar_ddsp_core::plant::archetypes::archetypes;
    use dar_ddsp_core::plant::render::{NoteEvent, render_performance};

    fn start() -> (
        LearnerThread,
        AudioLinks,
        Arc<Mutex<Snapshot>>,
        Arc<RwLock<MemoryState>>,
    ) {
        let memory = Arc::new(RwLock::new(MemoryState::default()));
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let (thread, links) = LearnerThread::start(
            48_000.0,
            EncoderWeights::shipped().expect("shipped weights"),
            Restored::default(),
            &LiveSettings::default(),
            (memory.clone(), Arc::new(AtomicBool::new(false))),
            snapshot.clone(),
            command_link(),
        )
        .expect("a thread");
        (thread, links, snapshot, memory)
    }

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn starts_learns_stops_and_restarts() {
        let (mut thread, mut links, snapshot, memory) = start();
        assert!(thread.shared().running());
        // One note of a plant patch through the ring: a prototype appears.
        let note = NoteEvent {
            onset: 4_800,
            release: 40_000,
            f0_hz: 220.0,
            velocity: 0.8,
        };
        let audio = render_performance(&archetypes()[1], &[note], 48_000.0, 60_000);
        for block in audio.chunks(512) {
            links.push(block.iter().copied());
        }
        links.wait_for_learner(&AtomicBool::new(false));
        assert_eq!(links.shared.consumed(), audio.len() as u64);
        wait_until("a prototype", || links.table().len == 1);
        assert_eq!(snapshot.lock().prototypes.len(), 1);
        assert_eq!(
            memory.read().prototypes.len(),
            1,
            "the state was not kept current"
        );
        thread.stop();
        assert!(!thread.shared().running());
        thread.stop(); // idempotent
        // A new learner starts cleanly after the old one is joined.
        let (again, _links, _, _) = start();
        assert!(again.shared().running());
    }

    #[test]
    fn a_factory_preset_replaces_the_memory_and_is_stored() {
        let (thread, mut links, snapshot, memory) = start();
        let weights = EncoderWeights::shipped().expect("shipped weights");
        let loaded = dar_ddsp_core::store::factory::load("designed", &weights)
            .expect("a factory preset")
            .expect("loads");
        let mut preset = loaded.preset;
        // The first prototype carries kept notes (48 kHz, the learner's rate): they come along.
        let limits = dar_ddsp_core::learning::reservoir::ReservoirLimits::default();
        let mut kept = dar_ddsp_core::learning::reservoir::Reservoir::default();
        let theta = preset.prototypes[0].theta;
        kept.add(
            dar_ddsp_core::learning::keeper::own_sound(&theta, 48_000.0, &limits),
            &limits,
        );
        let mut all =
            vec![dar_ddsp_core::learning::reservoir::Reservoir::default(); preset.prototypes.len()];
        all[0] = kept;
        preset.own_db = vec![None; all.len()];
        preset.own_db[0] = Some(1.25);
        preset.kept = all;
        assert!(thread.send(Command::Replace(Box::new(preset.clone()))));
        // The audio's table is published first, then the stored memory, then the snapshot.
        wait_until("the preset", || {
            links.table().len == preset.prototypes.len()
                && snapshot.lock().prototypes.len() == preset.prototypes.len()
        });
        let names: Vec<String> = snapshot
            .lock()
            .prototypes
            .iter()
            .map(|p| p.name.clone())
            .collect();
        let want: Vec<String> = preset.prototypes.iter().map(|p| p.name.clone()).collect();
        assert_eq!(names, want);
        // The project state now holds it, so saving the project keeps it.
        wait_until("the stored memory", || {
            memory.read().prototypes.len() == preset.prototypes.len()
        });
        let stored = memory
            .read()
            .restore(&weights, MAX_PROTOTYPES)
            .expect("valid");
        assert_eq!(stored.prototypes, preset.prototypes);
        assert_eq!(
            stored.kept[0].len(),
            dar_ddsp_core::learning::keeper::SEED_NOTES.len()
        );
        assert_eq!(stored.own_db[0], Some(1.25));
        assert!(stored.kept[1..].iter().all(|r| r.is_empty()));
    }

    #[test]
    fn non_finite_sidechain_is_skipped_counted_and_shown() {
        let (thread, mut links, snapshot, memory) = start();
        let bad = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.25];
        links.push((0..10_000).map(|i| bad[i % 4]));
        wait_until("the learner to count them", || {
            snapshot.lock().skipped == 7_500
        });
        let line = crate::editor::view::counters(&snapshot.lock());
        assert!(line.contains("skipped: 7500 non-finite samples"), "{line}");
        assert!(memory.read().prototypes.is_empty());
        drop(thread);
    }

    #[test]
    fn a_full_ring_drops_and_counts_instead_of_blocking() {
        let (mut thread, mut links, _, _) = start();
        thread.shared.stop.store(true, Ordering::Release);
        wait_until("the learner to stop", || !thread.shared().running());
        let block = vec![0.0f32; RING_CAPACITY / 2 + 1_000];
        links.push(block.iter().copied());
        links.push(block.iter().copied());
        assert!(links.shared.dropped.load(Ordering::Relaxed) >= 2_000);
        thread.stop();
    }

    #[test]
    fn a_panic_is_caught_reported_and_audio_goes_on() {
        let (thread, mut links, snapshot, _) = start();
        assert!(thread.send(Command::Crash));
        wait_until("the learner to stop", || !thread.shared().running());
        let error = snapshot.lock().error.clone().expect("the error is shown");
        assert!(error.contains("crash requested"), "{error}");
        assert!(thread.shared().error.lock().is_some());
        // The audio side still works: pushing never blocks, the last table stays readable, and
        // an offline wait returns at once instead of hanging on a dead learner.
        links.push([0.1f32; 64].into_iter());
        links.wait_for_learner(&AtomicBool::new(false));
        assert_eq!(links.table().len, 0);
        drop(thread);
    }

    #[test]
    fn faults_parse_from_their_text() {
        assert_eq!(Faults::parse(""), Faults::default());
        assert_eq!(Faults::parse("nonsense,slow=x"), Faults::default());
        let f = Faults::parse("panic, slow=25");
        assert!(f.panic);
        assert_eq!(f.slow, Duration::from_millis(25));
    }
}
