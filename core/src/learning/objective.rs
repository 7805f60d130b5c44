//! The learner's objective (docs/ARCHITECTURE.md §5.1): the plant played at the target's
//! measured pitch, velocity and gate timing, scored by the multi-resolution STFT loss on short
//! windows of every note, with exact gradients from dual numbers.

use crate::learning::coupling::Attractor;
use crate::learning::estimate::EnvelopeEstimate;
use crate::learning::harmonics::{HarmonicTargets, HeldNote, MixEstimate};
use crate::learning::loss::{DEFAULT_SIZES, MelTerm, MrStftLoss, TargetSpectra, chain_to_inputs};
use crate::memory::encoder::{Embedding, Encoder};
use crate::num::Real;
use crate::num::dual::Dual;
use crate::num::units::power_to_db;
use crate::plant::render::{NoteSpec, render_window};
use crate::plant::voice::KEY_REFERENCE_HZ;
use crate::plant::{G, GCore, LEARNED, Learned, N_CORE, N_THETA, P, SPECS, Theta, dual_at_knobs};
use crate::signal::analysis::{Analysis, Note};
use crate::signal::features::{LogMel, MelConfig};

/// Why an objective could not be built. Each variant says what the caller should do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LearnError {
    /// Nothing above the gate: the audio is silent or too quiet. Give it audio with notes in it.
    #[error("no notes found: the audio is silent or too quiet to learn from")]
    NoNotes,
    /// The sample rate is outside what the plant and analysis support. Resample the audio.
    #[error("unsupported sample rate {0} Hz: use 8 kHz to 384 kHz")]
    SampleRate(f32),
}

/// Settings of an [`Objective`].
#[derive(Debug, Clone)]
pub struct ObjectiveConfig {
    /// Length of each scored window, samples at 48 kHz (scaled with the rate).
    pub window: usize,
    /// Samples rendered before each window and not scored, so the filter state is settled when
    /// scoring starts (the render before them only advances envelopes and phases).
    pub warmup: usize,
    /// Most notes scored; more notes are thinned evenly (the cost of a step is bounded).
    pub max_notes: usize,
    /// FFT sizes of the loss.
    pub fft_sizes: Vec<usize>,
    /// Weight of the loss's log-mel term (64 bands, 30 Hz–16 kHz, as the yardstick); 0 = none.
    pub mel_weight: f32,
    /// Threads that score the notes of one evaluation (rayon's pool): 1 scores them on the
    /// calling thread. The command line uses the machine's cores; the plugin's learner keeps 1,
    /// so that it takes one core beside the host's. The figures are the same bits either way.
    pub threads: usize,
}

impl Default for ObjectiveConfig {
    fn default() -> Self {
        Self {
            window: 4_096,
            warmup: 1_024,
            max_notes: 8,
            fft_sizes: DEFAULT_SIZES.to_vec(),
            mel_weight: 1.0,
            threads: 1,
        }
    }
}

/// One scored window of one note.
struct Window {
    /// First scored sample, from the note's onset.
    start: usize,
    /// Scored length, samples.
    len: usize,
    /// The target's spectra over the window.
    spectra: TargetSpectra<f32>,
}

/// One note of the objective with its windows.
struct TargetNote {
    /// How the plant plays it.
    spec: NoteSpec,
    /// Its scored windows.
    windows: Vec<Window>,
    /// The target's energy over the scored windows (sum of squares).
    energy: f64,
}

/// The learner's loss over a set of recorded notes: the plant rendered on windows at the start,
/// middle and release of every note, each note scaled to the target note's energy (loudness is
/// measured, not learned: docs/ARCHITECTURE.md §5), each window scored by the multi-resolution STFT
/// loss; the mean over windows. The scaling makes the loss blind to overall level, so output gain
/// and an oscillator mix's overall level get no gradient and cannot drift against each other. Built
/// once (allocates); evaluations allocate nothing.
pub struct Objective {
    /// Sample rate, Hz.
    sample_rate: f32,
    /// The notes played, with their windows.
    notes: Vec<TargetNote>,
    /// Scored windows in all.
    window_count: usize,
    /// How a note's windows are laid out in the render buffers.
    layout: Layout,
    /// One set of buffers per thread that scores notes.
    scratch: Vec<Scratch>,
    /// What each note contributed to the last evaluation, summed in note order.
    terms: Vec<NoteTerms>,
    /// The resonance regularizer toward a prototype's box, if coupled.
    attractor: Option<Attractor>,
    /// The amplitude envelope measured from the notes' level curves, if any note shows it.
    envelope: Option<EnvelopeEstimate>,
    /// The recorded notes' harmonics, for a first guess of the mix.
    harmonics: HarmonicTargets,
    /// The notes whole, for [`Self::whole_distance`].
    whole: WholeNotes,
}

/// The picked notes whole, as the yardstick sees them: their mel-band levels over every frame.
struct WholeNotes {
    /// Each note: how the plant plays it, its length (onset to end), the recorded energy over
    /// that length, and the recording's band levels (dB, 64 per frame).
    notes: Vec<(NoteSpec, usize, f64, Vec<f32>)>,
    /// The analysis (one resolution, frames not overlapping: a cheap version of the yardstick).
    mel: LogMel,
}

/// FFT size of [`Objective::whole_distance`] at 48 kHz.
const WHOLE_FFT: usize = 2_048;
/// Longest part of a note [`Objective::whole_distance`] plays, seconds.
const WHOLE_MAX_S: f32 = 3.0;
/// Cost of one [`Objective::whole_distance`] in gradient steps: a plain render of every note
/// whole and one mel analysis of it cost 0.80–0.85 of a step with the core learned (six
/// 2-second notes of the flute and the bass of `../shared/eval`).
pub const WHOLE_COST: f32 = 1.0;

/// Most windows scored per note.
const WINDOWS_PER_NOTE: usize = 3;

/// How a note's windows sit in a render buffer.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Sample rate, Hz.
    sample_rate: f32,
    /// Unscored warm-up before each window, samples.
    warmup: usize,
    /// Samples per window slot in the render buffers (warm-up + longest window).
    slot: usize,
}

impl Layout {
    /// Renders `note`'s windows with θ into `buf` (one slot per window) and returns the energy
    /// of the scored parts.
    fn render_note<T: Real>(&self, theta: &Theta<T>, note: &TargetNote, buf: &mut [T]) -> T {
        let mut energy = T::cst(0.0);
        for (w, slot) in note.windows.iter().zip(buf.chunks_mut(self.slot)) {
            let out = &mut slot[..self.warm(w) + w.len];
            render_window(
                theta,
                &note.spec,
                w.start - self.warm(w),
                self.sample_rate,
                out,
            );
            for &y in &out[self.warm(w)..] {
                energy += y * y;
            }
        }
        energy
    }

    /// The warm-up rendered before window `w` (shorter at the onset).
    fn warm(&self, w: &Window) -> usize {
        w.start.min(self.warmup)
    }
}

/// A thread's dual render buffers, one slot per window of a note, one buffer per width of
/// dual number.
struct Duals {
    /// For steps that learn sections.
    wide: Vec<G>,
    /// For steps that learn the core alone.
    core: Vec<GCore>,
}

/// The buffers one thread scores notes with. Allocated when the objective is built.
struct Scratch {
    /// Dual render buffers.
    duals: Duals,
    /// Plain render buffer: one slot per window of a note.
    plain: Vec<f32>,
    /// Scaled values of one dual window.
    values: Vec<f32>,
    /// ∂L/∂sample over one window.
    dl_dy: Vec<f32>,
    /// The loss with its FFT plans and buffers.
    loss: MrStftLoss<f32>,
}

/// What one note contributes to a loss and its gradient. Kept per note so that notes scored
/// on several threads are summed in note order, to the same bits as on one.
#[derive(Debug, Clone, Copy, Default)]
struct NoteTerms {
    /// The note's level scale c = √(E_target / E(θ)).
    c: f32,
    /// The level scale's partials (as many as the step's dual number has, then 0).
    dc: [f32; LEARNED],
    /// Each window's loss.
    loss: [f32; WINDOWS_PER_NOTE],
    /// Each window's ∂L/∂θ through its samples, before the scale.
    grad: [[f32; LEARNED]; WINDOWS_PER_NOTE],
    /// Each window's Σ ∂L/∂y · y, for ∂L/∂c.
    dl_dc: [f32; WINDOWS_PER_NOTE],
}

/// Runs `f` on every note with its terms, the notes split into one run per scratch, each run on
/// its own thread of rayon's pool when there are several.
fn for_each_note<F>(notes: &[TargetNote], scratch: &mut [Scratch], terms: &mut [NoteTerms], f: F)
where
    F: Fn(&TargetNote, &mut Scratch, &mut NoteTerms) + Sync,
{
    let per = notes.len().div_ceil(scratch.len().max(1)).max(1);
    let run = |(s, (notes, terms)): (&mut Scratch, (&[TargetNote], &mut [NoteTerms]))| {
        notes.iter().zip(terms).for_each(|(n, t)| f(n, s, t));
    };
    if scratch.len() > 1 {
        use rayon::prelude::*;
        let work = notes.par_chunks(per).zip(terms.par_chunks_mut(per));
        scratch.par_iter_mut().zip(work).for_each(run);
    } else {
        let work = notes.chunks(per).zip(terms.chunks_mut(per));
        scratch.iter_mut().zip(work).for_each(run);
    }
}

impl Objective {
    /// Builds the objective from one or more recordings, each with its analysis (the notes to
    /// play). Allocates.
    pub fn new(
        sources: &[(&[f32], &Analysis)],
        sample_rate: f32,
        config: &ObjectiveConfig,
    ) -> Result<Self, LearnError> {
        if !(8_000.0..=384_000.0).contains(&sample_rate) {
            return Err(LearnError::SampleRate(sample_rate));
        }
        let scale = sample_rate / 48_000.0;
        let window = ((config.window as f32 * scale) as usize).max(256);
        let warmup = (config.warmup as f32 * scale) as usize;
        let mel_term =
            (config.mel_weight > 0.0).then_some(MelTerm::yardstick(sample_rate, config.mel_weight));
        let mut loss = MrStftLoss::<f32>::with_mel(&config.fft_sizes, mel_term);

        let all: Vec<(&[f32], &Note)> = sources
            .iter()
            .flat_map(|(audio, a)| a.notes.iter().map(move |n| (*audio, n)))
            .filter(|(audio, n)| n.end > n.onset && n.end <= audio.len())
            .collect();
        let picked: Vec<(&[f32], &Note)> = spread(&all, config.max_notes.max(1));
        let held: Vec<HeldNote> = picked
            .iter()
            .filter(|(_, n)| n.pitched && n.f0_hz > 0.0)
            .map(|(audio, n)| HeldNote {
                audio: &audio[n.onset..n.end],
                f0_hz: n.f0_hz,
                release_at: n.release.saturating_sub(n.onset),
            })
            .collect();
        let harmonics = HarmonicTargets::measure(&held, sample_rate);
        let mut mel = LogMel::new(MelConfig {
            sample_rate,
            fft_size: (WHOLE_FFT as f32 * scale) as usize,
            hop: (WHOLE_FFT as f32 * scale) as usize,
            bands: 64,
            fmin: 30.0,
            fmax: 16_000.0,
        });
        let whole_notes = picked
            .iter()
            .filter_map(|(audio, n)| {
                let len = (n.end - n.onset).min((WHOLE_MAX_S * sample_rate) as usize);
                let seg: Vec<f32> = audio[n.onset..n.onset + len]
                    .iter()
                    .map(|v| if v.is_finite() { *v } else { 0.0 })
                    .collect();
                let energy: f64 = seg.iter().map(|&v| v as f64 * v as f64).sum();
                let spec = NoteSpec {
                    f0_hz: played_f0(n),
                    velocity: NOMINAL_VELOCITY,
                    release_at: n.release.saturating_sub(n.onset).min(len),
                };
                let db: Vec<f32> = mel.frames(&seg).into_iter().map(power_to_db).collect();
                (energy > 0.0 && !db.is_empty()).then_some((spec, len, energy, db))
            })
            .collect();

        let mut notes = Vec::new();
        for (audio, n) in picked {
            let len = n.end - n.onset;
            let release_at = n.release.saturating_sub(n.onset).min(len);
            let f0_hz = played_f0(n);
            let w = window.min(len);
            // Onset, the middle of the held part, and from the key-up: the attack, the
            // sustain level and timbre, and the release's first fall all get scored.
            let mut starts = vec![0, (release_at / 2).saturating_sub(w / 2)];
            if release_at < len {
                starts.push(release_at);
            }
            starts.iter_mut().for_each(|s| *s = (*s).min(len - w));
            starts.sort_unstable();
            starts.dedup_by(|a, b| a.abs_diff(*b) < w / 2);
            starts.truncate(WINDOWS_PER_NOTE);
            let mut energy = 0.0f64;
            let windows = starts
                .into_iter()
                .map(|start| {
                    let seg: Vec<f32> = audio[n.onset + start..n.onset + start + w]
                        .iter()
                        .map(|v| if v.is_finite() { *v } else { 0.0 })
                        .collect();
                    energy += seg.iter().map(|&v| v as f64 * v as f64).sum::<f64>();
                    Window {
                        start,
                        len: w,
                        spectra: loss.prepare(&seg),
                    }
                })
                .collect();
            if energy > 0.0 {
                notes.push(TargetNote {
                    spec: NoteSpec {
                        f0_hz,
                        velocity: NOMINAL_VELOCITY,
                        release_at,
                    },
                    windows,
                    energy,
                });
            }
        }
        if notes.is_empty() {
            return Err(LearnError::NoNotes);
        }
        let slot = warmup + window;
        // As many threads as runs of notes: four notes on three threads make two runs of two.
        let per = notes.len().div_ceil(config.threads.max(1));
        let threads = notes.len().div_ceil(per);
        let scratch = std::iter::once(loss)
            .chain((1..threads).map(|_| MrStftLoss::with_mel(&config.fft_sizes, mel_term)))
            .map(|loss| Scratch {
                duals: Duals {
                    wide: vec![G::default(); slot * WINDOWS_PER_NOTE],
                    core: vec![GCore::default(); slot * WINDOWS_PER_NOTE],
                },
                plain: vec![0.0; slot * WINDOWS_PER_NOTE],
                values: vec![0.0; window],
                dl_dy: vec![0.0; window],
                loss,
            })
            .collect();
        Ok(Self {
            sample_rate,
            window_count: notes.iter().map(|n| n.windows.len()).sum(),
            terms: vec![NoteTerms::default(); notes.len()],
            notes,
            layout: Layout {
                sample_rate,
                warmup,
                slot,
            },
            scratch,
            attractor: None,
            envelope: EnvelopeEstimate::measure(
                &sources.iter().map(|(_, a)| *a).collect::<Vec<_>>(),
                sample_rate,
            ),
            harmonics,
            whole: WholeNotes {
                notes: whole_notes,
                mel,
            },
        })
    }

    /// The notes played whole with θ against the recording, by a cheap form of the yardstick
    /// (docs/ARCHITECTURE.md §8: one resolution, frames side by side, each note scaled to its
    /// recorded energy), dB. The loss sees a few windows of each note; this sees all of it, to
    /// choose among candidates that the loss ranks alike. Allocates; costs about
    /// [`WHOLE_COST`] gradient steps.
    pub fn whole_distance(&mut self, theta: &Theta<f32>) -> f32 {
        let (mut sum, mut count) = (0.0f64, 0usize);
        for (spec, len, energy, target) in &self.whole.notes {
            let mut out = vec![0.0f32; *len];
            render_window(theta, spec, 0, self.sample_rate, &mut out);
            let e: f64 = out.iter().map(|&v| v as f64 * v as f64).sum();
            let c = level_scale(*energy, e) as f32;
            out.iter_mut().for_each(|v| *v *= c);
            let db: Vec<f32> = self
                .whole
                .mel
                .frames(&out)
                .into_iter()
                .map(power_to_db)
                .collect();
            let peak = db
                .iter()
                .chain(target)
                .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let floor = peak - 60.0;
            for (fa, fb) in db.chunks(64).zip(target.chunks(64)) {
                if !fa.iter().chain(fb).any(|&v| v > floor) {
                    continue;
                }
                for (&x, &y) in fa.iter().zip(fb) {
                    sum += (x.max(floor) - y.max(floor)).abs() as f64;
                }
                count += 64;
            }
        }
        if count == 0 {
            return f32::INFINITY;
        }
        (sum / count as f64) as f32
    }

    /// The oscillator mix and low-pass that best match the recorded notes' harmonics (a first
    /// guess for the search), if any note is pitched and held long enough. Allocates; some tens
    /// of milliseconds.
    pub fn mix_estimate(&self) -> Option<MixEstimate> {
        MixEstimate::fit(&self.harmonics, self.sample_rate)
    }

    /// The amplitude envelope measured from the recorded notes' level curves (a first guess
    /// for the search), if any note is long enough to show it.
    pub fn envelope(&self) -> Option<EnvelopeEstimate> {
        self.envelope
    }

    /// The notes the objective plays (at [`NOMINAL_VELOCITY`], each scaled to its recorded
    /// note's energy).
    pub fn notes(&self) -> Vec<NoteSpec> {
        self.notes.iter().map(|n| n.spec).collect()
    }

    /// Runs `f` on every note with the layout, a thread's buffers and the note's terms
    /// ([`for_each_note`]).
    fn score_notes<F>(&mut self, f: F)
    where
        F: Fn(&Layout, &TargetNote, &mut Scratch, &mut NoteTerms) + Sync,
    {
        let layout = self.layout;
        for_each_note(
            &self.notes,
            &mut self.scratch,
            &mut self.terms,
            |n, s, t| f(&layout, n, s, t),
        );
    }

    /// The loss of θ (musical units).
    pub fn loss(&mut self, theta: &Theta<f32>) -> f32 {
        self.score_notes(|layout, note, s, t| {
            let energy = layout.render_note(theta, note, &mut s.plain);
            let c = level_scale(note.energy, energy as f64) as f32;
            for (k, (w, slot)) in note
                .windows
                .iter()
                .zip(s.plain.chunks_mut(layout.slot))
                .enumerate()
            {
                let scored = &mut slot[layout.warm(w)..layout.warm(w) + w.len];
                scored.iter_mut().for_each(|v| *v *= c);
                t.loss[k] = s.loss.evaluate(scored, &w.spectra, None);
            }
        });
        let mut total = 0.0;
        for (note, t) in self.notes.iter().zip(&self.terms) {
            t.loss[..note.windows.len()].iter().for_each(|l| total += l);
        }
        let task = total / self.window_count as f32;
        task + self.attractor.as_mut().map_or(0.0, |a| a.term(theta))
    }

    /// The loss at learning-space point `z` (each θ's knob position, 0–1) and its gradient
    /// with respect to the `learned` knobs of `z` (0 for the others). A step that learns the
    /// core alone carries [`GCore`]'s partials, the others [`G`]'s: the same bits either way.
    pub fn loss_and_gradient(
        &mut self,
        z: &[f32; N_THETA],
        learned: &Learned,
    ) -> (f32, [f32; N_THETA]) {
        if learned.len() <= N_CORE {
            self.gradient::<N_CORE>(z, learned, |d| &mut d.core)
        } else {
            self.gradient::<LEARNED>(z, learned, |d| &mut d.wide)
        }
    }

    /// [`Self::loss_and_gradient`] on dual numbers with `N` partials, rendered into the buffer
    /// `buffer` picks.
    fn gradient<const N: usize>(
        &mut self,
        z: &[f32; N_THETA],
        learned: &Learned,
        buffer: fn(&mut Duals) -> &mut Vec<Dual<f32, N>>,
    ) -> (f32, [f32; N_THETA]) {
        const { assert!(N <= LEARNED) };
        let theta = dual_at_knobs::<N>(z, learned);
        self.score_notes(|layout, note, s, t| {
            let Scratch {
                duals,
                values,
                dl_dy,
                loss,
                ..
            } = s;
            let dual = buffer(duals);
            let energy = layout.render_note(&theta, note, dual);
            // c = √(E_target / E(θ)), differentiated: ∂(c·y)/∂θ = c ∂y/∂θ + y ∂c/∂θ.
            let c = if energy.v > 0.0 {
                (energy.recip() * note.energy as f32).sqrt()
            } else {
                Dual::cst(1.0)
            };
            (t.c, t.dc) = (c.v, [0.0; LEARNED]);
            t.dc[..N].copy_from_slice(&c.d);
            for (k, (w, slot)) in note
                .windows
                .iter()
                .zip(dual.chunks(layout.slot))
                .enumerate()
            {
                let scored = &slot[layout.warm(w)..layout.warm(w) + w.len];
                for (v, y) in values.iter_mut().zip(scored) {
                    *v = y.v * c.v;
                }
                let dl = &mut dl_dy[..w.len];
                t.loss[k] = loss.evaluate(&values[..w.len], &w.spectra, Some(dl));
                t.grad[k] = [0.0; LEARNED];
                t.grad[k][..N].copy_from_slice(&chain_to_inputs(scored, dl));
                t.dl_dc[k] = dl.iter().zip(scored).map(|(d, y)| d * y.v).sum::<f32>();
            }
        });
        // Summed in note order, as one thread would.
        let mut total = 0.0;
        let mut grad = [0.0f32; LEARNED];
        for (note, t) in self.notes.iter().zip(&self.terms) {
            let mut dl_dc = 0.0f32;
            for k in 0..note.windows.len() {
                total += t.loss[k];
                grad.iter_mut()
                    .zip(&t.grad[k])
                    .for_each(|(a, b)| *a += t.c * b);
                dl_dc += t.dl_dc[k];
            }
            grad.iter_mut()
                .zip(&t.dc)
                .for_each(|(a, dc)| *a += dl_dc * dc);
        }
        let n = self.window_count as f32;
        grad.iter_mut().for_each(|g| *g /= n);
        let mut grad = learned.scatter(&grad);
        let mut total = total / n;
        if let Some(a) = self.attractor.as_mut() {
            let (term, g) = a.term_and_gradient(&dual_at_knobs(z, learned), learned);
            total += term;
            grad.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
        }
        (total, grad)
    }

    /// Couples the objective to a prototype: adds λ_ART · D(E(plant output), box)² scored on
    /// the middle note (see [`crate::learning::coupling`]); `None` removes it. Allocates.
    pub fn set_attractor(&mut self, coupling: Option<(Encoder, (Embedding, Embedding), f32)>) {
        self.attractor = coupling.and_then(|(encoder, bounds, weight)| {
            let note = self.notes.get(self.notes.len() / 2)?.spec;
            Some(Attractor::new(
                encoder,
                bounds,
                weight,
                note,
                self.sample_rate,
            ))
        });
    }

    /// θ with its output gain set so that velocity 1 plays the loudest recorded note at its
    /// recorded level ([`crate::learning::performance::match_velocities`] gives the others theirs).
    pub fn with_recorded_gain(&mut self, theta: &Theta<f32>) -> Theta<f32> {
        let plain = &mut self.scratch[0].plain;
        let top = self
            .notes
            .iter()
            .map(|note| {
                let e = self.layout.render_note(theta, note, plain) as f64;
                level_scale(note.energy, e) * NOMINAL_VELOCITY as f64
            })
            .fold(0.0, f64::max);
        let mut out = *theta;
        if top > 0.0 && top.is_finite() {
            let g = &SPECS[P::Gain as usize];
            let db = theta[P::Gain as usize] + 20.0 * top.log10() as f32;
            out[P::Gain as usize] = db.clamp(g.min, g.max);
        }
        out
    }
}

/// The velocity the learner plays every note at while fitting (MIDI 100).
pub const NOMINAL_VELOCITY: f32 = 100.0 / 127.0;

/// √(target / candidate) energy, 1 when either is empty or not finite.
pub(crate) fn level_scale(target: f64, candidate: f64) -> f64 {
    let c = (target / candidate).sqrt();
    if c.is_finite() && c > 0.0 { c } else { 1.0 }
}

/// The pitch a recorded note is played at: its own, or C4 for an unpitched note (noise has no
/// f0, and the filter tracks from C4).
fn played_f0(n: &Note) -> f32 {
    if n.pitched && n.f0_hz > 0.0 {
        n.f0_hz
    } else {
        KEY_REFERENCE_HZ
    }
}

/// Up to `n` items spread evenly over `items` (all of them when there are few).
fn spread<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n)
        .map(|i| items[i * (items.len() - 1) / (n - 1).max(1)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::from_knobs;
    use crate::plant::{default_theta, to_knobs};
    use crate::signal::analysis::{AnalysisConfig, analyze};
    use crate::test_support::{SR, objective_for, patch, play};

    /// Moves the sections' knobs off the ends of their travel (where they rest when off), so
    /// central differences do not straddle a bound.
    fn inside_the_box(t: &mut Theta<f32>) {
        for (p, v) in [
            (P::VibratoDepth, 10.0),
            (P::TremoloDepth, 0.1),
            (P::Drawbar2, 0.05),
            (P::Drawbar3, 0.05),
            (P::Drawbar4, 0.05),
            (P::Drawbar5, 0.05),
            (P::Drawbar6, 0.05),
            (P::Drawbar8, 0.05),
            (P::VelocityToLevel, 0.9),
        ] {
            t[p as usize] = v;
        }
    }

    #[test]
    fn notes_scored_on_several_threads_give_the_same_bits() {
        let theta = patch();
        let notes = [
            (48, 0.05, 0.3),
            (55, 0.45, 0.3),
            (62, 0.85, 0.3),
            (67, 1.25, 0.3),
        ];
        let audio = play(&theta, &notes, 1.7);
        let a = analyze(&audio, &AnalysisConfig::new(SR));
        let objective = |threads| {
            let config = ObjectiveConfig {
                threads,
                ..ObjectiveConfig::default()
            };
            Objective::new(&[(&audio, &a)], SR, &config).expect("notes")
        };
        let (mut one, mut three) = (objective(1), objective(3));
        assert_eq!(
            three.scratch.len(),
            2,
            "one set of buffers per run of notes"
        );
        let z = to_knobs(&default_theta());
        for learned in [
            Learned::core(),
            Learned::new(crate::learning::screening::section_knobs()),
        ] {
            let (l1, g1) = one.loss_and_gradient(&z, &learned);
            let (l3, g3) = three.loss_and_gradient(&z, &learned);
            assert_eq!(l1.to_bits(), l3.to_bits(), "loss");
            assert_eq!(g1.map(f32::to_bits), g3.map(f32::to_bits), "gradient");
        }
        let (p1, p3) = (one.loss(&theta), three.loss(&theta));
        assert_eq!(p1.to_bits(), p3.to_bits(), "plain loss");
    }

    #[test]
    fn the_core_learns_the_same_bits_on_fewer_partials() {
        let theta = patch();
        let audio = play(&theta, &[(50, 0.05, 0.4), (62, 0.6, 0.3)], 1.2);
        let mut obj = objective_for(&audio);
        let mut start = default_theta();
        start[P::Pulse as usize] = 0.3;
        start[P::Noise as usize] = 0.05;
        let z = to_knobs(&start);
        let core = Learned::core();
        let (l1, g1) = obj.gradient::<N_CORE>(&z, &core, |d| &mut d.core);
        let (l2, g2) = obj.gradient::<LEARNED>(&z, &core, |d| &mut d.wide);
        assert_eq!(l1.to_bits(), l2.to_bits(), "loss");
        assert_eq!(g1.map(f32::to_bits), g2.map(f32::to_bits), "gradient");
        assert!(g1.iter().any(|g| *g != 0.0), "a gradient to compare");
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let theta = patch();
        let audio = play(&theta, &[(50, 0.05, 0.4), (62, 0.6, 0.3)], 1.2);
        let mut obj = objective_for(&audio);
        // Inside the box, so central differences do not straddle a bound.
        let mut start = default_theta();
        start[P::Pulse as usize] = 0.3;
        start[P::Sine as usize] = 0.2;
        start[P::Noise as usize] = 0.05;
        start[P::KeyTrack as usize] = 0.3;
        inside_the_box(&mut start);
        let z = to_knobs(&start);
        // Every θ but the gain, in two steps' worth of partials: the core, then the sections.
        let (l, core) = obj.loss_and_gradient(&z, &Learned::core());
        let sections = Learned::new(crate::learning::screening::section_knobs());
        let (_, rest) = obj.loss_and_gradient(&z, &sections);
        let g: [f32; N_THETA] = std::array::from_fn(|k| core[k] + rest[k]);
        assert!(
            (l - obj.loss(&start)).abs() < 1e-4 * l.max(1e-3),
            "dual and plain agree"
        );
        let scale = g.iter().fold(0.0f32, |m, v| m.max(v.abs()));

        for k in (0..N_THETA).filter(|&k| k != P::Gain as usize) {
            // Small: the loss is rippled in pulse width (comb notches move with k·width). The
            // knobs that bend the pitch move the phase of the whole note, which the loss hardly
            // feels: at 1e-3 of their travel the f32 loss's rounding (≈ 3e-4 of the loss, summed
            // over 24 windows) swamps the difference, so they step 3e-2.
            // The LFO's rate is not checked here: the loss oscillates in it (the LFO's phase in
            // a window moves by rate·t), and no step is both above the rounding and inside one
            // ripple. Its exact partial is checked per sample in `tests/gradients.rs`.
            if k == P::LfoRate as usize {
                continue;
            }
            let bends = [P::VibratoDepth, P::LfoFade];
            let h = if bends.iter().any(|&p| p as usize == k) {
                3e-2
            } else {
                1e-3
            };
            let (mut zp, mut zm) = (z, z);
            zp[k] += h;
            zm[k] -= h;
            let fd = (obj.loss(&from_knobs(&zp)) - obj.loss(&from_knobs(&zm))) / (2.0 * h);
            // f32 renders over thousands of samples: loose, but wrong signs or scales fail.
            assert!(
                (g[k] - fd).abs() <= 0.1 * fd.abs() + 0.02 * scale,
                "{}: {} vs {fd}",
                SPECS[k].id,
                g[k]
            );
        }
    }

    #[test]
    fn small_frames_depend_on_where_they_fall_in_the_waveform() {
        // Why the loss starts at 512: a plant-made C3 (period 367 samples) against itself
        // 16 samples (0.3 ms) later, by FFT size. Onsets are never measured to the sample.
        let note = NoteSpec {
            f0_hz: crate::num::units::note_to_hz(48.0),
            velocity: 0.8,
            release_at: 48_000,
        };
        let mut x = vec![0.0f32; 12_000 + 16 + 4_096];
        render_window(&patch(), &note, 0, SR, &mut x);
        let (a, b) = (&x[12_000..12_000 + 4_096], &x[12_016..12_016 + 4_096]);
        let at = |size: usize| {
            let mut l = MrStftLoss::<f32>::new(&[size]);
            let t = l.prepare(a);
            l.evaluate(b, &t, None)
        };
        let sizes = [64, 256, 512, 2_048];
        let losses = sizes.map(at);
        eprintln!("misalignment loss by size {sizes:?}: {losses:?}");
        assert!(losses.windows(2).all(|w| w[1] < w[0]), "{losses:?}");
        assert!(losses[0] > 20.0 * losses[3], "{losses:?}");
    }

    #[test]
    fn silence_has_no_notes() {
        let audio = vec![0.0f32; 48_000];
        let a = analyze(&audio, &AnalysisConfig::new(SR));
        let r = Objective::new(&[(&audio, &a)], SR, &ObjectiveConfig::default());
        assert_eq!(r.err(), Some(LearnError::NoNotes));
        let r = Objective::new(&[(&audio, &a)], 1_000.0, &ObjectiveConfig::default());
        assert_eq!(r.err(), Some(LearnError::SampleRate(1_000.0)));
    }
}
