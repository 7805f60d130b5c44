//! The learner thread and its links (docs/ARCHITECTURE.md §2): the audio thread hands sidechain
//! samples to the learner through an SPSC ring and plays the patch table the learner publishes
//! through a triple buffer; the GUI reads a snapshot and sends commands. Nobody waits on anybody,
//! except the audio thread in an offline render, which lets the learner catch up so that a bounce
//! learns the same thing however fast the host runs.

pub mod audition;
mod commands;
mod faults;
mod file;
mod links;
mod worker;

pub use commands::{Command, CommandLink, FileLearn, ProtoView, Snapshot, command_link};
pub use faults::Faults;
pub use links::{AudioLinks, OFFLINE_WAIT, Pace, RING_CAPACITY, Shared};

use crossbeam_channel::Sender;
use dar_ddsp_core::live::{
    LiveConfig, LiveLearner, LiveSettings, MemoryState, PatchTable, Restored,
};
use dar_ddsp_core::memory::encoder::EncoderWeights;
use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use worker::{Worker, run};

/// What the learner keeps current for the other threads.
#[derive(Debug, Clone)]
pub struct Published {
    /// The persisted memory (plugin state). Learner writes, host (main thread) reads and loads.
    pub memory: Arc<RwLock<MemoryState>>,
    /// Raised by a state load into `memory`; the learner takes the loaded memory and clears it.
    pub loaded: Arc<AtomicBool>,
    /// The panel's view of the memory. Learner writes, GUI reads.
    pub snapshot: Arc<Mutex<Snapshot>>,
}

/// The learner thread, owned by the plugin (main thread). Dropping it stops and joins it.
pub struct LearnerThread {
    /// The thread.
    handle: Option<JoinHandle<()>>,
    /// Shared values.
    shared: Arc<Shared>,
    /// Commands to the learner.
    commands: Sender<Command>,
}

impl LearnerThread {
    /// Starts a learner at `sample_rate` holding `restored` (the prototypes of the restored
    /// state, their kept notes at this rate, the active one).
    /// It keeps what `published` holds current and takes commands from `commands`.
    /// Allocates; main thread only. Returns the thread and the audio thread's links, or an
    /// error if the OS refuses a thread.
    pub fn start(
        sample_rate: f32,
        weights: EncoderWeights,
        restored: Restored,
        settings: &LiveSettings,
        published: Published,
        commands: CommandLink,
    ) -> std::io::Result<(Self, AudioLinks)> {
        let Published {
            memory,
            loaded,
            snapshot,
        } = published;
        let (producer, consumer) = rtrb::RingBuffer::new(RING_CAPACITY);
        let mut learner =
            LiveLearner::new(LiveConfig::new(sample_rate), weights, restored.prototypes);
        learner.restore_kept(restored.kept, restored.own_db);
        learner.set_active(restored.active);
        let shared = Arc::new(Shared::default());
        learner.set_stop(shared.stop.clone());
        let table = PatchTable::of(learner.memory().prototypes(), learner.active());
        let (table_in, table_out) = triple_buffer::triple_buffer(&table);
        let (audition_in, audition_out) =
            triple_buffer::triple_buffer(&audition::Clip::with_room(sample_rate));
        shared.set_settings(settings);
        shared.running.store(true, Ordering::Release);
        let worker = Worker {
            learner,
            ring: consumer,
            table_in,
            table,
            command_rx: commands.receiver,
            shared: shared.clone(),
            memory,
            loaded,
            snapshot,
            faults: Faults::from_env(),
            audition_in,
            auditions: 0,
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
            audition: audition_out,
            shared: shared.clone(),
            thread: Some(handle.thread().clone()),
        };
        Ok((
            Self {
                handle: Some(handle),
                shared,
                commands: commands.sender,
            },
            links,
        ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use dar_ddsp_core::live::MAX_PROTOTYPES;
    use dar_ddsp_core::plant::archetypes::archetypes;
    use dar_ddsp_core::plant::render::{NoteEvent, render_performance};
    use std::time::{Duration, Instant};

    fn start() -> (
        LearnerThread,
        AudioLinks,
        Arc<Mutex<Snapshot>>,
        Arc<RwLock<MemoryState>>,
    ) {
        let memory = Arc::new(RwLock::new(MemoryState::default()));
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let published = Published {
            memory: memory.clone(),
            loaded: Arc::new(AtomicBool::new(false)),
            snapshot: snapshot.clone(),
        };
        let (thread, links) = LearnerThread::start(
            48_000.0,
            EncoderWeights::shipped().expect("shipped weights"),
            Restored::default(),
            &LiveSettings::default(),
            published,
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

    /// A one-note sample of 1.5 s at 44.1 kHz (a one-shot, which other neural plugins refuse),
    /// learned through the file command the panel's button sends: it becomes a prototype that
    /// plays it at least 3 dB closer than the default patch. A damaged file is refused with one
    /// line naming it and changes nothing.
    #[test]
    fn a_one_note_file_becomes_a_prototype() {
        use dar_ddsp_core::learning::reservoir::played_distance;
        use dar_ddsp_core::plant::{P, default_theta};
        use dar_ddsp_core::signal::analysis::{AnalysisConfig, analyze};
        use dar_ddsp_core::signal::audio_file::read_audio_at;
        let (thread, mut links, snapshot, _memory) = start();
        let dir = std::env::temp_dir().join(format!("dar-ddsp-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("one shot.wav");
        let sr = 44_100.0;
        let note = NoteEvent {
            onset: 2_205,
            release: 44_100,
            f0_hz: 196.0,
            velocity: 0.9,
        };
        // A hollow, bright square with a slow attack: nothing like the default saw.
        let mut theta = default_theta();
        for (p, v) in [
            (P::Saw, 0.0),
            (P::Pulse, 0.8),
            (P::Width, 0.3),
            (P::Cutoff, 6_000.0),
            (P::Resonance, 3.0),
            (P::AmpAttack, 0.08),
        ] {
            theta[p as usize] = v;
        }
        let audio = render_performance(&theta, &[note], sr, 66_150);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 44_100,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(&path, spec).expect("create");
        audio
            .iter()
            .for_each(|&x| w.write_sample(x).expect("write"));
        w.finalize().expect("finalize");

        assert!(thread.send(Command::LearnFile(path.clone())));
        let done = |name: &str| {
            let name = name.to_string();
            let snapshot = snapshot.clone();
            move || {
                snapshot
                    .lock()
                    .file
                    .as_ref()
                    .is_some_and(|f| f.done && f.name == name)
            }
        };
        wait_until("the file learned", done("one shot.wav"));
        let f = snapshot.lock().file.clone().expect("shown");
        assert!(
            f.error.is_none() && f.notes == 1 && f.made == 1 && f.refined == 1,
            "{f:?}"
        );
        assert_eq!(links.table().len, 1);
        let heard = read_audio_at(&path, 48_000.0).expect("reads");
        let analysis = analyze(&heard.samples, &AnalysisConfig::new(48_000.0));
        let default = played_distance(&default_theta(), &heard.samples, &analysis, 48_000.0);
        let learned = f.distance.expect("a distance");
        println!("one-note file: learned {learned:.2} dB, default patch {default:.2} dB");
        assert!(
            learned <= default - 3.0,
            "learned {learned:.2} dB, default patch {default:.2} dB"
        );
        // Its audition: the note, then the prototype, with both spectra, on the audio's side.
        let a = f.audition.expect("an audition");
        assert!(a.sample.is_some() && a.played.is_some(), "{a:?}");
        assert!(a.seconds > 1.0 && a.seconds <= audition::CLIP_S, "{a:?}");
        let clip = links.audition();
        let onset = analysis.notes[0].onset;
        let mut out = vec![0.0f32; 2 * (a.seconds * 48_000.0) as usize];
        let request = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut player = audition::Player::new(request.clone());
        request.fetch_add(1, Ordering::Release);
        player.play_into(clip, &mut [&mut out], 2 * (a.seconds * 48_000.0) as usize);
        assert_eq!(&out[..1_000], &heard.samples[onset..onset + 1_000]);

        let bad = dir.join("bad.flac");
        std::fs::write(&bad, b"not audio at all").expect("write");
        assert!(thread.send(Command::LearnFile(bad)));
        wait_until("the bad file refused", done("bad.flac"));
        let f = snapshot.lock().file.clone().expect("shown");
        let error = f.error.expect("refused");
        assert!(
            error.contains("bad.flac") && !error.contains('\n'),
            "{error}"
        );
        assert_eq!(snapshot.lock().prototypes.len(), 1);
        std::fs::remove_dir_all(&dir).ok();
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
        assert!(f.panic && !f.alloc);
        assert!(Faults::parse("alloc").alloc);
        assert_eq!(f.slow, Duration::from_millis(25));
    }
}
