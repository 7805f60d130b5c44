//! Real sampled instruments for training E: General MIDI SoundFonts rendered in-process with
//! `rustysynth`, so the encoder learns what one instrument sounds like across its range from
//! recordings no plant made.
//!
//! Every General MIDI program of bank 0 that a font has is played as single held notes across
//! its family's playing range at several velocities, dry or through the font player's reverb
//! and chorus. The context starts at a random point of the first 60 ms after the onset, as the
//! live learner's note contexts do. Which fonts are used is the caller's choice; the training
//! command refuses FluidR3 and fonts made from it (see `docs/` and the command's help), because
//! the evaluation recordings are FluidR3.

use crate::memory::encoder::front::{Front, INPUT};
use crate::num::Rng;
use crate::num::units::note_to_hz;
use rustysynth::{SoundFont, Synthesizer, SynthesizerSettings};
use std::path::Path;
use std::sync::Arc;

/// Playing range (lowest, highest MIDI note) of each of the 16 General MIDI program families
/// (piano, chromatic percussion, organ, guitar, bass, strings, ensemble, brass, reed, pipe,
/// synth lead, synth pad, synth effects, ethnic, percussive, sound effects).
const FAMILY_RANGE: [(u8, u8); 16] = [
    (28, 96),
    (48, 96),
    (36, 88),
    (40, 84),
    (24, 60),
    (36, 96),
    (36, 84),
    (40, 82),
    (40, 84),
    (55, 96),
    (36, 96),
    (36, 84),
    (36, 84),
    (48, 84),
    (36, 72),
    (36, 84),
];

/// A SoundFont loaded for rendering.
pub struct Font {
    /// File name, for reports.
    pub name: String,
    /// The parsed font, shared by its synthesizers.
    font: Arc<SoundFont>,
}

impl Font {
    /// Loads and parses `path`. Allocates (the whole font).
    pub fn open(path: &Path) -> Result<Self, String> {
        let mut file = std::fs::File::open(path)
            .map_err(|e| format!("{}: cannot open the SoundFont: {e}", path.display()))?;
        let font = SoundFont::new(&mut file)
            .map_err(|e| format!("{}: not a readable SoundFont 2 file: {e:?}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        );
        Ok(Self {
            name,
            font: Arc::new(font),
        })
    }

    /// Whether the font has General MIDI program `program` in bank 0.
    pub fn has_program(&self, program: u8) -> bool {
        self.font
            .get_presets()
            .iter()
            .any(|p| p.get_bank_number() == 0 && p.get_patch_number() == program as i32)
    }
}

/// Settings of the real-instrument renders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RealConfig {
    /// Notes per program and font, spread over the family's range.
    pub notes: usize,
    /// MIDI velocities each note is played at.
    pub velocities: [u8; 3],
    /// Share of renders through the font player's reverb and chorus.
    pub wet_share: f32,
    /// Sample rate, Hz.
    pub sample_rate: f32,
}

impl Default for RealConfig {
    fn default() -> Self {
        Self {
            notes: 12,
            velocities: [56, 88, 120],
            wet_share: 0.5,
            sample_rate: 48_000.0,
        }
    }
}

/// One rendered note of a real instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RealView {
    /// General MIDI program, 0–127.
    pub program: u8,
    /// Index of the font it came from.
    pub font: u8,
    /// MIDI note.
    pub note: u8,
    /// MIDI velocity.
    pub velocity: u8,
    /// The encoder's input features of its context.
    pub features: [f32; INPUT],
}

/// The MIDI notes a program is rendered at: `count` notes evenly over its family's range, each
/// moved by up to ±2 semitones.
fn notes_of(program: u8, count: usize, rng: &mut Rng) -> Vec<u8> {
    let (lo, hi) = FAMILY_RANGE[(program / 8) as usize];
    (0..count)
        .map(|i| {
            let t = (i as f32 + 0.5) / count as f32;
            let n = lo as f32 + t * (hi - lo) as f32 + 4.0 * (rng.uniform() - 0.5);
            n.round().clamp(lo as f32, hi as f32) as u8
        })
        .collect()
}

/// Six notes over two octaves in the middle of `program`'s family range, laid out as the
/// evaluation recordings are (a root, its fifth, octave, tenth, twelfth and double octave).
pub fn two_octaves(program: u8) -> [u8; 6] {
    let (lo, hi) = FAMILY_RANGE[usize::from(program / 8) % FAMILY_RANGE.len()];
    let root = ((lo as i32 + hi as i32) / 2 - 12).clamp(lo as i32, (hi as i32 - 24).max(lo as i32));
    [0, 7, 12, 16, 19, 24].map(|d| (root + d).clamp(0, 127) as u8)
}

/// A recording of General MIDI `program` (bank 0) from `font`: `notes` one after another,
/// each held `hold_s` seconds and followed by `gap_s` seconds, at MIDI `velocity`, through the
/// font player's reverb and chorus, then `gap_s` more seconds, mixed to mono at
/// `sample_rate`. The same arguments give the same samples. Allocates.
pub fn render_program(
    font: &Font,
    program: u8,
    notes: &[u8],
    velocity: u8,
    (hold_s, gap_s): (f32, f32),
    sample_rate: u32,
) -> Result<Vec<f32>, String> {
    if !font.has_program(program) {
        return Err(format!("{} has no program {program} in bank 0", font.name));
    }
    let mut settings = SynthesizerSettings::new(sample_rate as i32);
    settings.enable_reverb_and_chorus = true;
    let mut synth =
        Synthesizer::new(&font.font, &settings).map_err(|e| format!("{}: {e:?}", font.name))?;
    synth.process_midi_message(0, 0xC0, i32::from(program), 0);
    let sr = sample_rate as f32;
    let (hold, gap) = ((hold_s * sr) as usize, (gap_s * sr) as usize);
    let mut out = Vec::with_capacity((hold + gap) * (notes.len() + 1));
    let render = |synth: &mut Synthesizer, len: usize, out: &mut Vec<f32>| {
        let (mut left, mut right) = (vec![0.0f32; len], vec![0.0f32; len]);
        synth.render(&mut left, &mut right);
        out.extend(left.iter().zip(&right).map(|(l, r)| 0.5 * (l + r)));
    };
    for &note in notes {
        synth.note_on(0, i32::from(note), i32::from(velocity));
        render(&mut synth, hold, &mut out);
        synth.note_off(0, i32::from(note));
        render(&mut synth, gap, &mut out);
    }
    render(&mut synth, gap, &mut out);
    Ok(out)
}

/// Renders every program of every font (notes × velocities each) into feature vectors;
/// silent renders are left out. `progress` sees each finished program. Allocates.
pub fn render_real(
    fonts: &[Font],
    config: &RealConfig,
    seed: u64,
    mut progress: impl FnMut(usize),
) -> Result<Vec<RealView>, String> {
    let mut rng = Rng::new(seed ^ 0x5EA1_1257_0F0F_0F0F);
    let sr = config.sample_rate;
    let mut front = Front::new(sr);
    let jitter = (0.06 * sr) as usize;
    let len = front.context_len() + jitter;
    let (mut left, mut right) = (vec![0.0f32; len], vec![0.0f32; len]);
    let mut views = Vec::new();
    let mut done = 0;
    for (fi, font) in fonts.iter().enumerate() {
        let synth = |wet: bool| {
            let mut s = SynthesizerSettings::new(sr as i32);
            s.enable_reverb_and_chorus = wet;
            Synthesizer::new(&font.font, &s).map_err(|e| format!("{}: {e:?}", font.name))
        };
        let mut synths = [synth(false)?, synth(true)?];
        for program in 0..128u8 {
            if !font.has_program(program) {
                done += 1;
                progress(done);
                continue;
            }
            for note in notes_of(program, config.notes, &mut rng) {
                for &velocity in &config.velocities {
                    let s = &mut synths[usize::from(rng.uniform() < config.wet_share)];
                    s.reset();
                    s.process_midi_message(0, 0xC0, program as i32, 0);
                    s.note_on(0, note as i32, velocity as i32);
                    s.render(&mut left, &mut right);
                    for (l, r) in left.iter_mut().zip(&right) {
                        *l = 0.5 * (*l + r);
                    }
                    let start = rng.below(jitter);
                    let mut features = [0.0; INPUT];
                    let f0 = note_to_hz(note as f32);
                    if front.compute(&left[start..], f0, &mut features).is_some() {
                        views.push(RealView {
                            program,
                            font: fi as u8,
                            note,
                            velocity,
                            features,
                        });
                    }
                }
            }
            done += 1;
            progress(done);
        }
    }
    Ok(views)
}
