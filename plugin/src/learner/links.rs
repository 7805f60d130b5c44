//! The links between the audio thread and the learner: the sidechain ring, the patch table's
//! triple buffer, and the atomics both read (docs/ARCHITECTURE.md §2). Everything the audio
//! thread touches here is allocation-free and wait-free.

use super::audition::Clip;
use dar_ddsp_core::live::{LiveSettings, Mode, PatchTable};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Sidechain ring capacity, samples (5.5 s at 48 kHz): room for the learner to finish refining
/// a prototype (≈ 1–2 s) while real-time audio keeps arriving.
pub const RING_CAPACITY: usize = 1 << 18;
/// Longest an offline render waits for the learner per block before playing on (a learner
/// that hangs must not hang the host's bounce).
pub const OFFLINE_WAIT: Duration = Duration::from_secs(60);

/// Values shared between the threads: settings the audio thread writes every block, counters,
/// and the learner's health. All atomics except `error` (learner and GUI only).
#[derive(Debug, Default)]
pub struct Shared {
    /// [`Mode`] as 0, 1, 2. Audio thread writes, learner reads.
    pub(super) mode: AtomicU8,
    /// ρ (f32 bits). Audio thread writes, learner reads.
    pub(super) vigilance: AtomicU32,
    /// Base α (f32 bits). Audio thread writes, learner reads.
    pub(super) learn_rate: AtomicU32,
    /// λ_ART (f32 bits). Audio thread writes, learner reads.
    pub(super) resonance: AtomicU32,
    /// Samples written into the ring. Audio thread writes, learner and tests read.
    pub(super) accepted: AtomicU64,
    /// Samples the learner has finished with (learning included). Learner writes.
    pub(super) consumed: AtomicU64,
    /// Samples dropped because the ring was full. Audio thread writes, GUI reads.
    pub dropped: AtomicU64,
    /// Whether the learner thread is running. Learner writes (false when it stops or fails).
    pub(super) running: AtomicBool,
    /// Asks the learner to stop (also ends a refinement in progress). Main thread writes.
    pub(super) stop: Arc<AtomicBool>,
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
        self.block_at(Instant::now(), seconds)
    }

    /// [`Self::block`] with the clock read by the caller, `now`.
    fn block_at(&mut self, now: Instant, seconds: f64) -> bool {
        if self.fast {
            return true;
        }
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
    pub(super) sidechain: rtrb::Producer<f32>,
    /// The learner's latest patch table.
    pub(super) table: triple_buffer::Output<PatchTable>,
    /// The latest audition clip (Learn from file).
    pub(super) audition: triple_buffer::Output<Clip>,
    /// Settings, counters, health.
    pub shared: Arc<Shared>,
    /// The learner thread, to wake it when an offline render waits on it.
    pub(super) thread: Option<std::thread::Thread>,
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

    /// Offline renders (said, seen, or asked for with Learner Sync at Every Block): waits until
    /// the learner has finished with everything handed to it and has taken a freshly loaded
    /// state (`loaded` cleared), or stopped, or [`OFFLINE_WAIT`] passed. Never call it in real
    /// time unless the user asked for it.
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

    /// The latest audition clip.
    pub fn audition(&mut self) -> &Clip {
        self.audition.read()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `blocks` blocks of `frames` samples at 48 kHz, the clock moving `wall` per block;
    /// the block at which the pace was judged fast, if any.
    fn judged_fast_at(
        pace: &mut Pace,
        start: Instant,
        blocks: usize,
        frames: usize,
        wall: Duration,
    ) -> Option<usize> {
        (0..blocks).find(|&k| pace.block_at(start + wall * k as u32, frames as f64 / 48_000.0))
    }

    #[test]
    fn real_time_is_never_fast() {
        // 64-sample blocks at their real-time period (1.33 ms), for 60 s.
        let mut pace = Pace::default();
        let period = Duration::from_secs_f64(64.0 / 48_000.0);
        assert_eq!(
            judged_fast_at(&mut pace, Instant::now(), 45_000, 64, period),
            None
        );
        // A host working ahead by 400 ms (anticipative processing) in one burst is not offline.
        let mut pace = Pace::default();
        let start = Instant::now();
        assert_eq!(
            judged_fast_at(&mut pace, start, 300, 64, Duration::ZERO),
            None
        );
        let later = start + Duration::from_millis(600);
        assert_eq!(judged_fast_at(&mut pace, later, 45_000, 64, period), None);
    }

    #[test]
    fn faster_than_four_times_real_time_is_fast_and_stays_so() {
        // No time passes at all (a renderer that does not say it is offline): fast once 2 s
        // of audio are in, i.e. at the 1500th 64-sample block (one later if the sum of the
        // block lengths rounds below 2 s).
        let mut pace = Pace::default();
        let start = Instant::now();
        let at = judged_fast_at(&mut pace, start, 10_000, 64, Duration::ZERO);
        assert!(matches!(at, Some(1_499..=1_500)), "{at:?}");
        // 5× real time is fast too; then it stays latched even at real-time pace.
        let mut pace = Pace::default();
        let period = Duration::from_secs_f64(64.0 / 48_000.0 / 5.0);
        assert!(judged_fast_at(&mut pace, start, 10_000, 64, period).is_some());
        assert!(pace.block_at(start + Duration::from_secs(100), 64.0 / 48_000.0));
    }

    #[test]
    fn three_times_real_time_is_not_fast() {
        let mut pace = Pace::default();
        let period = Duration::from_secs_f64(64.0 / 48_000.0 / 3.0);
        assert_eq!(
            judged_fast_at(&mut pace, Instant::now(), 30_000, 64, period),
            None
        );
    }
}
