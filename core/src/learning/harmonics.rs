//! A first guess of the oscillator mix and the low-pass, measured from the recorded notes'
//! harmonics (docs/ARCHITECTURE.md §5.1).
//!
//! Which waveforms a timbre is made of decides the basin gradient descent ends in: a drawbar
//! organ's sparse series (harmonics 1, 2, 3, 4, 6, 8 loud, 7, 9, 10, 11 some 30 dB down) lies
//! far, through the loss, from a saw's full series, though a saw through a low-pass matches its
//! overall slope and is where descent from the default patch stays. So the harmonics are
//! measured in the middle of each note's hold, and the plant's own waveforms, rendered at each
//! note's pitch, are mixed to match them in dB (as the yardstick compares), through the
//! low-pass's exact response with key tracking. The fit is a small problem (nine levels, a pulse
//! width, a cutoff, key tracking and a Q) solved by coordinate descent over grids from three
//! starts.

use crate::num::units::amplitude_to_db;
use crate::plant::render::{NoteSpec, render_window};
use crate::plant::voice::KEY_REFERENCE_HZ;
use crate::plant::{P, SPECS, Theta, default_theta};
use crate::signal::stft::FrameFft;
use realfft::num_complex::Complex;

/// Most harmonics measured per note.
const HARMONICS: usize = 20;
/// Highest harmonic frequency measured, Hz (the yardstick's bands end at 16 kHz).
const HIGHEST_HZ: f32 = 12_000.0;
/// Floor of a harmonic's level relative to its note's harmonic energy, dB: below it a
/// recording's harmonic is lost in its noise and reverb.
const FLOOR_DB: f32 = -50.0;
/// Pulse widths the fit chooses among.
const WIDTHS: [f32; 5] = [0.5, 0.4, 0.3, 0.2, 0.1];
/// The drawbars, with the harmonic each one plays.
const BARS: [(P, usize); 6] = [
    (P::Drawbar2, 2),
    (P::Drawbar3, 3),
    (P::Drawbar4, 4),
    (P::Drawbar5, 5),
    (P::Drawbar6, 6),
    (P::Drawbar8, 8),
];
/// The mixed levels, in fit order: saw, pulse, sine, then the drawbars.
const LEVELS: usize = 3 + BARS.len();
/// Filter Q values the fit chooses among.
const QS: [f32; 5] = [0.707, 1.0, 1.5, 2.5, 4.0];
/// Key-tracking amounts the fit chooses among.
const KEY_TRACKS: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
/// Velocity the waveforms are rendered at: any one serves, the fit compares each note's
/// harmonics relative to their own energy.
const VELOCITY: f32 = 1.0;

/// One note's measured harmonics.
#[derive(Debug, Clone)]
pub struct NoteHarmonics {
    /// Fundamental, Hz (the analysis's).
    f0_hz: f32,
    /// First sample of the measured window, from the onset (the middle of the hold).
    start: usize,
    /// Key-up, samples from the onset.
    release_at: usize,
    /// FFT size of the window, samples.
    size: usize,
    /// Level of harmonic `h + 1`, dB relative to the note's harmonic energy, floored.
    level_db: Vec<f32>,
}

/// The recorded notes' harmonics, measured once per objective (one FFT per note).
#[derive(Debug, Clone, Default)]
pub struct HarmonicTargets {
    /// The measured notes.
    notes: Vec<NoteHarmonics>,
}

/// A recorded note to measure: its audio from the onset, pitch and key-up.
pub struct HeldNote<'a> {
    /// The note's samples from its onset to its end.
    pub audio: &'a [f32],
    /// Fundamental, Hz.
    pub f0_hz: f32,
    /// Key-up, samples from the onset.
    pub release_at: usize,
}

impl HarmonicTargets {
    /// Measures the harmonics of those `notes` that are pitched and held long enough for a
    /// window that resolves them (at least four FFT bins between harmonics). Allocates.
    pub fn measure(notes: &[HeldNote], sample_rate: f32) -> Self {
        let scale = sample_rate / 48_000.0;
        let mut ffts: Vec<FrameFft<f32>> = Vec::new();
        let mut out = Vec::new();
        for n in notes {
            let held = n.release_at.min(n.audio.len());
            if n.f0_hz <= 0.0 || held == 0 {
                continue;
            }
            // The largest power of two up to 8192 (at 48 kHz) in the middle 80 % of the hold.
            let most = ((8_192.0 * scale) as usize).min(held * 4 / 5);
            if most < 256 {
                continue;
            }
            let size = 1usize << most.ilog2();
            if n.f0_hz < 4.0 * sample_rate / size as f32 {
                continue;
            }
            let start = held / 2 - size / 2;
            let fft = fft_of(&mut ffts, size);
            fft.analyse(&n.audio[start..start + size]);
            let bin_hz = sample_rate / size as f32;
            let count = harmonic_count(n.f0_hz, sample_rate);
            let amplitudes: Vec<f32> = (1..=count)
                .map(|h| peak_amplitude(&fft.spectrum, h as f32 * n.f0_hz / bin_hz, h))
                .collect();
            if !amplitudes.iter().any(|&a| a > 0.0 && a.is_finite()) {
                continue;
            }
            out.push(NoteHarmonics {
                f0_hz: n.f0_hz,
                start,
                release_at: n.release_at,
                size,
                level_db: relative_db(&amplitudes),
            });
        }
        Self { notes: out }
    }

    /// Whether no note could be measured.
    pub fn is_empty(&self) -> bool {
        self.notes.is_empty()
    }
}

/// The FFT of `size` among `ffts`, planned on first use.
fn fft_of(ffts: &mut Vec<FrameFft<f32>>, size: usize) -> &mut FrameFft<f32> {
    let i = match ffts.iter().position(|f| f.size() == size) {
        Some(i) => i,
        None => {
            ffts.push(FrameFft::new(size));
            ffts.len() - 1
        }
    };
    &mut ffts[i]
}

/// Harmonics measured for a note at `f0_hz`.
fn harmonic_count(f0_hz: f32, sample_rate: f32) -> usize {
    let top = HIGHEST_HZ.min(0.45 * sample_rate);
    ((top / f0_hz) as usize).clamp(1, HARMONICS)
}

/// The amplitude of the loudest peak near fractional bin `at` (harmonic `h`, which may stray
/// by up to 3 % or 0.4 of the spacing), refined by a parabola through the log magnitudes of
/// its bin and their neighbours (Hann: within about 0.2 dB).
fn peak_amplitude(spectrum: &[Complex<f32>], at: f32, h: usize) -> f32 {
    let spread = (at * 0.03).min(0.4 * at / h as f32).max(1.0);
    let lo = ((at - spread).floor().max(1.0)) as usize;
    let hi = ((at + spread).ceil() as usize).min(spectrum.len() - 2);
    if lo > hi {
        return 0.0;
    }
    let k = (lo..=hi)
        .max_by(|&a, &b| spectrum[a].norm_sqr().total_cmp(&spectrum[b].norm_sqr()))
        .unwrap_or(lo);
    let ln = |i: usize| spectrum[i].norm().max(1e-20).ln();
    let (a, b, c) = (ln(k - 1), ln(k), ln(k + 1));
    let curve = a - 2.0 * b + c;
    let peak = if curve < 0.0 {
        let p = (0.5 * (a - c) / curve).clamp(-0.5, 0.5);
        b - 0.25 * (a - c) * p
    } else {
        b
    };
    peak.exp()
}

/// Levels in dB relative to their total energy, floored at [`FLOOR_DB`].
fn relative_db(amplitudes: &[f32]) -> Vec<f32> {
    let energy: f32 = amplitudes.iter().map(|a| a * a).sum();
    let reference = amplitude_to_db(energy.sqrt().max(1e-20));
    amplitudes
        .iter()
        .map(|&a| (amplitude_to_db(a.max(1e-20)) - reference).max(FLOOR_DB))
        .collect()
}

/// The Hann window's magnitude response `delta` bins off a peak, relative to on it: how much
/// of a harmonic between two bins its nearest bin shows.
fn hann_response(delta: f32) -> f32 {
    let d = delta.abs();
    if d < 1e-4 {
        return 1.0;
    }
    let x = std::f32::consts::PI * d;
    (x.sin() / x) / (1.0 - d * d)
}

/// The oscillator mix and low-pass that best match recorded harmonics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixEstimate {
    /// Saw, pulse and sine levels, then the drawbars', 0–1 (the loudest 0.8).
    pub levels: [f32; LEVELS],
    /// Pulse width, 0–1.
    pub width: f32,
    /// Low-pass cutoff while a note is held, at C4, Hz.
    pub held_cutoff_hz: f32,
    /// Key tracking, 0–1.
    pub key_track: f32,
    /// Filter Q.
    pub q: f32,
    /// Mean absolute difference from the recorded harmonics, dB.
    pub error_db: f32,
}

/// One note's harmonics as each of the plant's waveforms plays them, with the filter open.
struct NoteBasis {
    /// Each waveform's complex harmonic `h + 1` (saw, the pulse at each of [`WIDTHS`], sine,
    /// the drawbars), corrected for where the harmonic falls between bins.
    waves: Vec<Vec<Complex<f32>>>,
    /// tan(π·f_h/fs) of each harmonic: the filter's pre-warped frequency.
    warped: Vec<f32>,
    /// Key tracking octaves of the note above C4.
    key_octaves: f32,
}

/// The fit's free choices: indices into its grids.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Choice {
    levels: [usize; LEVELS],
    width: usize,
    cutoff: usize,
    key: usize,
    q: usize,
}

impl MixEstimate {
    /// Fits the mix and the low-pass to `targets` (notes at `sample_rate`), rendering the
    /// plant's waveforms at each note's pitch. `None` when no note was measured. Allocates; some
    /// tens of milliseconds.
    pub fn fit(targets: &HarmonicTargets, sample_rate: f32) -> Option<Self> {
        if targets.is_empty() {
            return None;
        }
        let bases: Vec<NoteBasis> = targets
            .notes
            .iter()
            .map(|n| NoteBasis::render(n, sample_rate))
            .collect();
        let grid = Grids::new(sample_rate);
        let score = |c: &Choice| {
            let (mut sum, mut count) = (0.0f32, 0usize);
            let mut model = [0.0f32; HARMONICS];
            for (n, b) in targets.notes.iter().zip(&bases) {
                b.model(c, &grid, &mut model[..n.level_db.len()]);
                let m = relative_db(&model[..n.level_db.len()]);
                sum += m
                    .iter()
                    .zip(&n.level_db)
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f32>();
                count += m.len();
            }
            sum / count.max(1) as f32
        };
        let open = grid.cutoffs.len() - 1;
        let lone = |i: usize| {
            let mut levels = [0; LEVELS];
            levels[i] = grid.levels.len() - 1;
            Choice {
                levels,
                width: 0,
                cutoff: open,
                key: 0,
                q: 0,
            }
        };
        // From a saw, a square and a sine alone: the three families of waveform.
        let (best, error) = [lone(0), lone(1), lone(2)]
            .into_iter()
            .map(|c| descend(c, &grid, &score))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        let mut levels = best.levels.map(|i| grid.levels[i]);
        let top = levels.iter().copied().fold(0.0, f32::max);
        if top > 0.0 {
            levels.iter_mut().for_each(|l| *l *= 0.8 / top);
        }
        Some(Self {
            levels,
            width: WIDTHS[best.width],
            held_cutoff_hz: grid.cutoffs[best.cutoff],
            key_track: KEY_TRACKS[best.key],
            q: QS[best.q],
            error_db: error,
        })
    }

    /// `theta` with this mix and low-pass; the cutoff set so that with θ's own filter envelope
    /// (amount × sustain) the held cutoff is the fitted one.
    pub fn apply(&self, theta: &Theta<f32>) -> Theta<f32> {
        let mut t = *theta;
        for (p, v) in [(P::Saw, 0), (P::Pulse, 1), (P::Sine, 2)] {
            t[p as usize] = self.levels[v];
        }
        for (i, (p, _)) in BARS.iter().enumerate() {
            t[*p as usize] = self.levels[3 + i];
        }
        t[P::Width as usize] = self.width;
        t[P::KeyTrack as usize] = self.key_track;
        t[P::Resonance as usize] = SPECS[P::Resonance as usize].sanitize(self.q);
        let held_octaves = t[P::FilterEnvAmount as usize] * t[P::FilterSustain as usize];
        t[P::Cutoff as usize] =
            SPECS[P::Cutoff as usize].sanitize(self.held_cutoff_hz * (-held_octaves).exp2());
        t
    }
}

/// The values behind the fit's grid indices.
struct Grids {
    /// Levels: 0, then −48 dB to 0 dB in 2 dB steps.
    levels: Vec<f32>,
    /// Held cutoffs at C4, Hz: 100 Hz to the plant's highest, in sixth-octave steps.
    cutoffs: Vec<f32>,
    /// tan(π·fc/fs) of each cutoff (limited as the plant limits it).
    warped_cutoffs: Vec<f32>,
    /// Sample rate, Hz.
    sample_rate: f32,
}

impl Grids {
    fn new(sample_rate: f32) -> Self {
        let levels = std::iter::once(0.0)
            .chain((0..=24).map(|i| 10f32.powf((i as f32 * 2.0 - 48.0) / 20.0)))
            .collect();
        let top = SPECS[P::Cutoff as usize].max;
        let cutoffs: Vec<f32> = (0..)
            .map(|i| 100.0 * (i as f32 / 6.0).exp2())
            .take_while(|&f| f < top)
            .chain(std::iter::once(top))
            .collect();
        let warped_cutoffs = cutoffs.iter().map(|&f| warp(f, sample_rate)).collect();
        Self {
            levels,
            cutoffs,
            warped_cutoffs,
            sample_rate,
        }
    }
}

/// tan(π·f/fs), with f limited to [1 Hz, 0.45 fs] as the plant's filter limits its cutoff.
fn warp(f: f32, sample_rate: f32) -> f32 {
    (std::f32::consts::PI * f.clamp(1.0, 0.45 * sample_rate) / sample_rate).tan()
}

impl NoteBasis {
    /// Renders each waveform alone (filter open, no envelope movement) over the note's window.
    fn render(note: &NoteHarmonics, sample_rate: f32) -> Self {
        let mut base = default_theta();
        for p in [P::Saw, P::Pulse, P::Sine, P::Noise]
            .into_iter()
            .chain(BARS.map(|b| b.0))
        {
            base[p as usize] = 0.0;
        }
        base[P::Cutoff as usize] = SPECS[P::Cutoff as usize].max;
        base[P::Resonance as usize] = std::f32::consts::FRAC_1_SQRT_2;
        base[P::FilterEnvAmount as usize] = 0.0;
        base[P::KeyTrack as usize] = 0.0;
        base[P::AmpSustain as usize] = 1.0;
        base[P::Gain as usize] = 0.0;
        let mut waves: Vec<Theta<f32>> = Vec::new();
        let with = |p: P, v: f32, extra: Option<(P, f32)>| {
            let mut t = base;
            t[p as usize] = v;
            if let Some((q, w)) = extra {
                t[q as usize] = w;
            }
            t
        };
        waves.push(with(P::Saw, 1.0, None));
        waves.extend(WIDTHS.map(|w| with(P::Pulse, 1.0, Some((P::Width, w)))));
        waves.push(with(P::Sine, 1.0, None));
        waves.extend(BARS.map(|(p, _)| with(p, 1.0, None)));

        let spec = NoteSpec {
            f0_hz: note.f0_hz,
            velocity: VELOCITY,
            release_at: note.release_at,
        };
        let warm = note.start.min((1_024.0 * sample_rate / 48_000.0) as usize);
        let mut buf = vec![0.0f32; warm + note.size];
        let mut fft = FrameFft::<f32>::new(note.size);
        let bin_hz = sample_rate / note.size as f32;
        let count = note.level_db.len();
        let waves = waves
            .iter()
            .map(|t| {
                render_window(t, &spec, note.start - warm, sample_rate, &mut buf);
                fft.analyse(&buf[warm..]);
                (1..=count)
                    .map(|h| {
                        let at = h as f32 * note.f0_hz / bin_hz;
                        let k = (at.round() as usize).min(fft.bins() - 1);
                        fft.spectrum[k] / hann_response(at - k as f32)
                    })
                    .collect()
            })
            .collect();
        Self {
            waves,
            warped: (1..=count)
                .map(|h| warp(h as f32 * note.f0_hz, sample_rate))
                .collect(),
            key_octaves: (note.f0_hz / KEY_REFERENCE_HZ).log2(),
        }
    }

    /// The amplitudes of each harmonic with the mix and filter of `c`, into `out`.
    fn model(&self, c: &Choice, grid: &Grids, out: &mut [f32]) {
        // The pulse's basis is the one at the chosen width.
        let wave = |i: usize| match i {
            0 => &self.waves[0],
            1 => &self.waves[1 + c.width],
            _ => &self.waves[WIDTHS.len() + i - 1],
        };
        let cutoff = grid.cutoffs[c.cutoff] * (KEY_TRACKS[c.key] * self.key_octaves).exp2();
        let g = if KEY_TRACKS[c.key] == 0.0 {
            grid.warped_cutoffs[c.cutoff]
        } else {
            warp(cutoff, grid.sample_rate)
        };
        let k = 1.0 / QS[c.q];
        for (h, o) in out.iter_mut().enumerate() {
            let mut sum = Complex::new(0.0f32, 0.0);
            for (i, &l) in c.levels.iter().enumerate() {
                if l > 0 {
                    sum += wave(i)[h] * grid.levels[l];
                }
            }
            // The TPT state-variable low-pass: the analogue 1/(s² + k·s + 1) at the pre-warped
            // frequency Ω = tan(πf/fs) / tan(πfc/fs).
            let w = self.warped[h] / g;
            let response = 1.0 / ((1.0 - w * w).powi(2) + (k * w).powi(2)).sqrt();
            *o = sum.norm() * response;
        }
    }
}

/// Coordinate descent over the grids from `start`: each choice in turn set to its best value,
/// until a sweep improves nothing. Returns the choice and its score.
fn descend(start: Choice, grid: &Grids, score: &impl Fn(&Choice) -> f32) -> (Choice, f32) {
    let mut best = (start, score(&start));
    for _sweep in 0..12 {
        let before = best.1;
        for var in 0..LEVELS + 4 {
            let values = match var {
                v if v < LEVELS => grid.levels.len(),
                v if v == LEVELS => WIDTHS.len(),
                v if v == LEVELS + 1 => grid.cutoffs.len(),
                v if v == LEVELS + 2 => KEY_TRACKS.len(),
                _ => QS.len(),
            };
            for value in 0..values {
                let mut c = best.0;
                match var {
                    v if v < LEVELS => c.levels[v] = value,
                    v if v == LEVELS => c.width = value,
                    v if v == LEVELS + 1 => c.cutoff = value,
                    v if v == LEVELS + 2 => c.key = value,
                    _ => c.q = value,
                }
                if c.levels.iter().all(|&l| l == 0) || c == best.0 {
                    continue;
                }
                let s = score(&c);
                if s < best.1 {
                    best = (c, s);
                }
            }
        }
        if best.1 >= before - 1e-4 {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::SR;

    /// Harmonic targets of notes the plant plays with θ.
    fn measured(theta: &Theta<f32>, notes: &[f32]) -> HarmonicTargets {
        let audio: Vec<Vec<f32>> = notes
            .iter()
            .map(|&f0| {
                let spec = NoteSpec {
                    f0_hz: f0,
                    velocity: VELOCITY,
                    release_at: 48_000,
                };
                let mut out = vec![0.0; 60_000];
                render_window(theta, &spec, 0, SR, &mut out);
                out
            })
            .collect();
        let held: Vec<HeldNote> = audio
            .iter()
            .zip(notes)
            .map(|(a, &f0_hz)| HeldNote {
                audio: a,
                f0_hz,
                release_at: 48_000,
            })
            .collect();
        HarmonicTargets::measure(&held, SR)
    }

    #[test]
    fn an_organ_is_found_to_be_drawbars_and_a_saw_a_saw() {
        let mut organ = default_theta();
        organ[P::Saw as usize] = 0.0;
        organ[P::Sine as usize] = 0.8;
        for (p, v) in [(P::Drawbar2, 0.8), (P::Drawbar3, 0.5), (P::Drawbar4, 0.6)] {
            organ[p as usize] = v;
        }
        organ[P::Cutoff as usize] = 12_000.0;
        let est = MixEstimate::fit(&measured(&organ, &[130.8, 261.6, 523.3]), SR).unwrap();
        eprintln!("organ: {est:?}");
        assert!(est.error_db < 2.0, "{est:?}");
        let [saw, pulse, sine, b2, b3, b4, b5, _, b8] = est.levels;
        // Equivalent fits may keep a saw or pulse 15 dB down, filtered below the floor.
        assert!(saw < 0.15 && pulse < 0.15, "{est:?}");
        assert!(sine > 0.3 && b2 > 0.3 && b3 > 0.15 && b4 > 0.2, "{est:?}");
        assert!(b5 < 0.05 && b8 < 0.05, "{est:?}");

        let mut saw = default_theta();
        saw[P::Cutoff as usize] = 1_500.0;
        saw[P::FilterEnvAmount as usize] = 0.0;
        let est = MixEstimate::fit(&measured(&saw, &[110.0, 220.0, 440.0]), SR).unwrap();
        eprintln!("saw: {est:?}");
        assert!(est.error_db < 2.0, "{est:?}");
        assert!(est.levels[0] > 0.5, "{est:?}");
        let fitted = est.apply(&saw);
        let c = fitted[P::Cutoff as usize];
        assert!((c / 1_500.0).log2().abs() < 0.5, "cutoff {c}");
    }

    #[test]
    fn silence_and_unpitched_notes_measure_nothing() {
        let silent = vec![0.0; 30_000];
        let notes = [HeldNote {
            audio: &silent,
            f0_hz: 0.0,
            release_at: 20_000,
        }];
        let t = HarmonicTargets::measure(&notes, SR);
        assert!(t.is_empty());
        assert!(MixEstimate::fit(&t, SR).is_none());
    }
}
