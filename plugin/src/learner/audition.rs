//! Audition after a file learn: the file's last note as it was recorded, a short gap, then the
//! prototype that won it playing the same note (its pitch, its length, its loudness), so a
//! musician compares them by ear; and the two spectra the panel draws side by side.
//!
//! The learner makes the clip and publishes it through a triple buffer whose three clips are
//! allocated at full length when the learner starts; the audio thread plays the latest one
//! when the panel's button raises a counter. Nothing here allocates or waits on the audio
//! thread.

use dar_ddsp_core::learning::performance::match_velocities;
use dar_ddsp_core::memory::encoder::CONTEXT_OFFSET_S;
use dar_ddsp_core::memory::encoder::front::{Front, INPUT, MEL_BANDS};
use dar_ddsp_core::plant::Theta;
use dar_ddsp_core::plant::render::{NoteEvent, render_performance};
use dar_ddsp_core::signal::analysis::Note;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest stretch of the sample an audition plays, seconds; the prototype plays as long.
pub const CLIP_S: f32 = 3.0;
/// Silence between the sample and the prototype, seconds.
const GAP_S: f32 = 0.3;
/// How long after the note's end the clip goes on (its tail), seconds.
const TAIL_S: f32 = 0.25;

/// Samples a clip can hold at `sample_rate`: two parts of [`CLIP_S`] and the gap.
fn capacity(sample_rate: f32) -> usize {
    ((2.0 * CLIP_S + GAP_S) * sample_rate).ceil() as usize
}

/// One audition: the sample's note, a gap, then the prototype playing it. Learner writes, audio
/// thread reads (through the triple buffer).
#[derive(Debug, Clone, Default)]
pub struct Clip {
    /// The audio, mono; allocated at [`capacity`] when the learner starts, of which `len` is
    /// used.
    samples: Vec<f32>,
    /// Samples in use.
    len: usize,
    /// Which clip this is (each new one counts up), so a playing audition stops when its clip
    /// is replaced.
    id: u64,
}

impl Clip {
    /// An empty clip with room for any audition at `sample_rate`. Allocates (learner start).
    pub fn with_room(sample_rate: f32) -> Self {
        Self {
            samples: vec![0.0; capacity(sample_rate)],
            len: 0,
            id: 0,
        }
    }

    /// Holds `sample` (cut to fit), a gap of `gap` samples, then `played` (cut to fit) as clip
    /// `id`. Learner thread; allocates nothing.
    fn fill(&mut self, sample: &[f32], gap: usize, played: &[f32], id: u64) {
        let room = self.samples.len();
        let a = sample.len().min(room);
        self.samples[..a].copy_from_slice(&sample[..a]);
        let b_start = (a + gap).min(room);
        self.samples[a..b_start].fill(0.0);
        let b = played.len().min(room - b_start);
        self.samples[b_start..b_start + b].copy_from_slice(&played[..b]);
        self.len = b_start + b;
        self.id = id;
    }
}

/// What the panel shows of an audition.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditionView {
    /// The note's pitch, fractional MIDI note (0 when it had none: played at the reference).
    pub midi: f32,
    /// How long each part plays, seconds.
    pub seconds: f32,
    /// Mean log-mel bands of the sample's note (0–1, as the thumbnails), `None` when silent.
    pub sample: Option<[f32; MEL_BANDS]>,
    /// The same of the prototype playing it.
    pub played: Option<[f32; MEL_BANDS]>,
}

/// The sample's `note` (of `heard`, at `sample_rate`) and `theta` playing it, as a clip in
/// `out` numbered `id`, and what the panel shows of it. Learner thread; allocates.
pub fn make(
    theta: &Theta<f32>,
    heard: &[f32],
    note: &Note,
    sample_rate: f32,
    out: &mut Clip,
    id: u64,
) -> AuditionView {
    let start = note.onset.min(heard.len());
    let longest = (CLIP_S * sample_rate) as usize;
    let end = (note.end + (TAIL_S * sample_rate) as usize)
        .min(start + longest)
        .min(heard.len())
        .max(start);
    let sample = &heard[start..end];
    let f0_hz = if note.pitched && note.f0_hz > 0.0 {
        note.f0_hz
    } else {
        dar_ddsp_core::plant::voice::KEY_REFERENCE_HZ
    };
    let mut events = [NoteEvent {
        onset: 0,
        release: note.release.saturating_sub(start).min(sample.len()),
        f0_hz,
        velocity: 1.0,
    }];
    match_velocities(theta, &mut events, sample, sample_rate);
    let played = render_performance(theta, &events, sample_rate, sample.len());
    out.fill(sample, (GAP_S * sample_rate) as usize, &played, id);
    let mut front = Front::new(sample_rate);
    AuditionView {
        midi: if note.pitched { note.midi } else { 0.0 },
        seconds: sample.len() as f32 / sample_rate,
        sample: spectrum(&mut front, sample, f0_hz, sample_rate),
        played: spectrum(&mut front, &played, f0_hz, sample_rate),
    }
}

/// Mean log-mel bands of the note at the start of `x` as the encoder hears it (padded with
/// silence when shorter than its context); `None` for silence. Allocates.
fn spectrum(
    front: &mut Front,
    x: &[f32],
    f0_hz: f32,
    sample_rate: f32,
) -> Option<[f32; MEL_BANDS]> {
    let offset = ((CONTEXT_OFFSET_S * sample_rate) as usize).min(x.len());
    let mut context = x[offset..].to_vec();
    context.resize(context.len().max(front.context_len()), 0.0);
    let mut features = [0.0; INPUT];
    front.compute(&context, f0_hz, &mut features)?;
    let mut bands = [0.0; MEL_BANDS];
    bands.copy_from_slice(&features[..MEL_BANDS]);
    Some(bands)
}

/// The audio thread's audition player.
#[derive(Debug, Default)]
pub struct Player {
    /// Raised by the panel's button (GUI writes, audio thread reads).
    request: Arc<AtomicU64>,
    /// The last request seen. Audio thread only.
    seen: u64,
    /// The clip playing and where in it, samples. Audio thread only.
    playing: Option<(u64, usize)>,
}

impl Player {
    /// A player that starts whenever `request` changes.
    pub fn new(request: Arc<AtomicU64>) -> Self {
        let seen = request.load(Ordering::Acquire);
        Self {
            request,
            seen,
            playing: None,
        }
    }

    /// Adds the next `len` samples of the audition (if one is playing or was asked for) to each
    /// channel of `outputs`. Audio thread: allocation-free.
    pub fn play_into(&mut self, clip: &Clip, outputs: &mut [&mut [f32]], len: usize) {
        let asked = self.request.load(Ordering::Acquire);
        if asked != self.seen {
            self.seen = asked;
            self.playing = (clip.len > 0).then_some((clip.id, 0));
        }
        let Some((id, pos)) = self.playing else {
            return;
        };
        if id != clip.id {
            self.playing = None;
            return;
        }
        let pos = pos.min(clip.len);
        let n = len.min(clip.len - pos);
        let part = &clip.samples[pos..pos + n];
        for channel in outputs.iter_mut() {
            for (y, x) in channel.iter_mut().zip(part) {
                *y += x;
            }
        }
        self.playing = (pos + n < clip.len).then_some((id, pos + n));
    }

    /// Whether an audition is playing.
    pub fn is_playing(&self) -> bool {
        self.playing.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dar_ddsp_core::plant::default_theta;

    const SR: f32 = 48_000.0;

    fn note(onset: usize, release: usize, end: usize) -> Note {
        Note {
            onset,
            release,
            end,
            f0_hz: 220.0,
            midi: 57.0,
            peak_rms: 0.1,
            velocity: 0.6,
            pitched: true,
        }
    }

    #[test]
    fn the_clip_is_the_note_a_gap_then_the_prototype_at_its_pitch() {
        // A 220 Hz tone from 0.5 s to 1.5 s in 2 s of audio.
        let heard: Vec<f32> = (0..(2.0 * SR) as usize)
            .map(|i| {
                let t = i as f32 / SR;
                if (0.5..1.5).contains(&t) {
                    0.2 * (std::f32::consts::TAU * 220.0 * t).sin()
                } else {
                    0.0
                }
            })
            .collect();
        let n = note(
            (0.5 * SR) as usize,
            (1.5 * SR) as usize,
            (1.5 * SR) as usize,
        );
        let mut clip = Clip::with_room(SR);
        let view = make(&default_theta(), &heard, &n, SR, &mut clip, 7);
        // The note and its 0.25 s tail, the gap, the prototype as long.
        let part = (1.25 * SR) as usize;
        let gap = (GAP_S * SR) as usize;
        assert_eq!((clip.len, clip.id), (2 * part + gap, 7));
        assert!((view.seconds - 1.25).abs() < 1e-3, "{}", view.seconds);
        assert_eq!(view.midi, 57.0);
        assert_eq!(&clip.samples[..part], &heard[n.onset..n.onset + part]);
        assert!(clip.samples[part..part + gap].iter().all(|&x| x == 0.0));
        let played = &clip.samples[part + gap..clip.len];
        let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
        // At the sample's loudness, within 6 dB (velocity matched to its energy).
        let (a, b) = (
            rms(&heard[n.onset..n.release]),
            rms(&played[..n.release - n.onset]),
        );
        assert!(b > a / 2.0 && b < a * 2.0, "sample {a}, prototype {b}");
        // At its pitch: the played part's zero crossings say 220 Hz within 2 %.
        let held = &played[(0.2 * SR) as usize..(0.9 * SR) as usize];
        let rises = held
            .windows(2)
            .filter(|w| w[0] <= 0.0 && w[1] > 0.0)
            .count();
        let hz = rises as f32 / (held.len() as f32 / SR);
        assert!((hz - 220.0).abs() < 4.4, "{hz} Hz");
        assert!(view.sample.is_some() && view.played.is_some());
    }

    #[test]
    fn a_long_note_is_cut_and_a_short_one_still_plays() {
        let heard = vec![0.1f32; (10.0 * SR) as usize];
        let mut clip = Clip::with_room(SR);
        make(
            &default_theta(),
            &heard,
            &note(0, (9.0 * SR) as usize, (9.0 * SR) as usize),
            SR,
            &mut clip,
            1,
        );
        assert_eq!(
            clip.len,
            2 * 144_000 + 14_400,
            "two parts of {CLIP_S} s and the gap"
        );
        let short = note(100, 600, 700);
        let view = make(&default_theta(), &heard[..800], &short, SR, &mut clip, 2);
        assert!(
            clip.len > 1_000 && view.seconds < 0.02,
            "{} {}",
            clip.len,
            view.seconds
        );
    }

    #[test]
    fn the_player_plays_the_clip_once_when_asked_and_stops_when_it_is_replaced() {
        let request = Arc::new(AtomicU64::new(0));
        let mut player = Player::new(request.clone());
        let mut clip = Clip::with_room(1_000.0);
        clip.fill(&[1.0; 100], 10, &[0.5; 100], 1);
        let (mut l, mut r) = (vec![0.0f32; 64], vec![0.0f32; 64]);
        player.play_into(&clip, &mut [&mut l, &mut r], 64);
        assert!(
            !player.is_playing() && l.iter().all(|&x| x == 0.0),
            "not asked yet"
        );
        request.fetch_add(1, Ordering::Release);
        let mut played = Vec::new();
        for _ in 0..4 {
            let (mut l, mut r) = (vec![0.0f32; 64], vec![0.0f32; 64]);
            player.play_into(&clip, &mut [&mut l, &mut r], 64);
            assert_eq!(l, r);
            played.extend(l);
        }
        assert_eq!(&played[..100], &[1.0; 100]);
        assert_eq!(&played[100..110], &[0.0; 10]);
        assert_eq!(&played[110..210], &[0.5; 100]);
        assert!(played[210..].iter().all(|&x| x == 0.0));
        assert!(!player.is_playing());
        // Asked again, then the clip replaced mid-way: it stops.
        request.fetch_add(1, Ordering::Release);
        player.play_into(&clip, &mut [&mut l], 32);
        assert!(player.is_playing());
        clip.fill(&[0.25; 10], 1, &[0.25; 10], 2);
        let mut l = vec![0.0f32; 64];
        player.play_into(&clip, &mut [&mut l], 64);
        assert!(!player.is_playing() && l.iter().all(|&x| x == 0.0));
    }
}
