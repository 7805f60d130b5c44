//! The plugin's parameters: one per θ of the plant (ids from `dar_ddsp_core::plant::SPECS`,
//! never renamed) plus the plugin's own.

use dar_ddsp_core::live::{MAX_PROTOTYPES, MemoryState, Mode};
use dar_ddsp_core::memory::art::DEFAULT_VIGILANCE;
use dar_ddsp_core::perform::{PlaySettings, VelocityCurve, VoiceMode};
#[cfg(test)]
use dar_ddsp_core::plant::N_THETA_V1;
use dar_ddsp_core::plant::synth::SYNTH_WIDE;
use dar_ddsp_core::plant::text::{self, format_significant};
use dar_ddsp_core::plant::{MAX_VOICES, N_THETA, P, SPECS, Scale, Theta, Unit};
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::params::persist::PersistentField;
use nice_plug::plugin::ParamValue;
use nice_plug::prelude::*;
use nice_plug_egui::EguiEditorState;
use parking_lot::RwLock;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Default editor size, logical pixels.
pub const DEFAULT_SIZE: (u32, u32) = (1120, 740);
/// Smallest and largest size a stored state may ask for, logical pixels.
pub const SIZE_LIMITS: ((u32, u32), (u32, u32)) = ((640, 400), (3840, 2160));

/// Editor state of `size` (logical pixels, clamped to [`SIZE_LIMITS`]).
pub fn state_of_size((w, h): (u32, u32)) -> Arc<EguiEditorState> {
    let ((w0, h0), (w1, h1)) = SIZE_LIMITS;
    let (w, h) = (w.clamp(w0, w1), h.clamp(h0, h1));
    EguiEditorState::from_size(LogicalSize::new(w as f32, h as f32), 1.0)
}

/// Every parameter the host sees. The host and the editor write them; the audio thread reads
/// them (atomics) at the start of every sub-block.
///
/// No parameter carries a nice-plug smoother: the synth glides θ itself at its control rate, so
/// the glide is the same whatever block size the host uses (and matches offline renders).
#[derive(Params)]
pub struct DarDdspParams {
    /// Editor window size and open state, the size saved with the project. GUI thread writes,
    /// audio thread never reads.
    #[persist = "editor"]
    pub editor: EditorField,

    /// Saw level, 0–1.
    #[id = "saw"]
    pub saw: FloatParam,
    /// Pulse level, 0–1.
    #[id = "pulse"]
    pub pulse: FloatParam,
    /// Pulse width, fraction of the period.
    #[id = "width"]
    pub width: FloatParam,
    /// Sine level, 0–1.
    #[id = "sine"]
    pub sine: FloatParam,
    /// Noise level, 0–1.
    #[id = "noise"]
    pub noise: FloatParam,
    /// Filter cutoff, Hz.
    #[id = "cutoff"]
    pub cutoff: FloatParam,
    /// Filter resonance, Q.
    #[id = "res"]
    pub res: FloatParam,
    /// Filter envelope amount, octaves.
    #[id = "fenv"]
    pub fenv: FloatParam,
    /// Filter key tracking, 0–1 (1: the cutoff keeps its ratio to the note's pitch).
    #[id = "key"]
    pub key: FloatParam,
    /// Amplitude attack, seconds.
    #[id = "amp_a"]
    pub amp_a: FloatParam,
    /// Amplitude decay (to −60 dB of the way to sustain), seconds.
    #[id = "amp_d"]
    pub amp_d: FloatParam,
    /// Amplitude sustain level, 0–1.
    #[id = "amp_s"]
    pub amp_s: FloatParam,
    /// Amplitude release (to −60 dB), seconds.
    #[id = "amp_r"]
    pub amp_r: FloatParam,
    /// Filter-envelope attack, seconds.
    #[id = "flt_a"]
    pub flt_a: FloatParam,
    /// Filter-envelope decay, seconds.
    #[id = "flt_d"]
    pub flt_d: FloatParam,
    /// Filter-envelope sustain level, 0–1.
    #[id = "flt_s"]
    pub flt_s: FloatParam,
    /// Filter-envelope release, seconds.
    #[id = "flt_r"]
    pub flt_r: FloatParam,
    /// Output gain, dB.
    #[id = "gain"]
    pub gain: FloatParam,
    /// LFO rate, Hz. Host writes, audio thread reads.
    #[id = "lfo_rate"]
    pub lfo_rate: FloatParam,
    /// Vibrato depth, cents. Host writes, audio thread reads.
    #[id = "vib"]
    pub vib: FloatParam,
    /// Tremolo depth, 0–1. Host writes, audio thread reads.
    #[id = "trem"]
    pub trem: FloatParam,
    /// LFO fade-in, seconds. Host writes, audio thread reads.
    #[id = "lfo_fade"]
    pub lfo_fade: FloatParam,
    /// Drawbar at the 2nd harmonic, 0–1. Host writes, audio thread reads.
    #[id = "bar2"]
    pub bar2: FloatParam,
    /// Drawbar at the 3rd harmonic, 0–1. Host writes, audio thread reads.
    #[id = "bar3"]
    pub bar3: FloatParam,
    /// Drawbar at the 4th harmonic, 0–1. Host writes, audio thread reads.
    #[id = "bar4"]
    pub bar4: FloatParam,
    /// Drawbar at the 5th harmonic, 0–1. Host writes, audio thread reads.
    #[id = "bar5"]
    pub bar5: FloatParam,
    /// Drawbar at the 6th harmonic, 0–1. Host writes, audio thread reads.
    #[id = "bar6"]
    pub bar6: FloatParam,
    /// Drawbar at the 8th harmonic, 0–1. Host writes, audio thread reads.
    #[id = "bar8"]
    pub bar8: FloatParam,
    /// Body bell 1 frequency, Hz. Host writes, audio thread reads.
    #[id = "body1_f"]
    pub body1_f: FloatParam,
    /// Body bell 1 gain, dB. Host writes, audio thread reads.
    #[id = "body1_g"]
    pub body1_g: FloatParam,
    /// Body bell 1 Q. Host writes, audio thread reads.
    #[id = "body1_q"]
    pub body1_q: FloatParam,
    /// Body bell 2 frequency, Hz. Host writes, audio thread reads.
    #[id = "body2_f"]
    pub body2_f: FloatParam,
    /// Body bell 2 gain, dB. Host writes, audio thread reads.
    #[id = "body2_g"]
    pub body2_g: FloatParam,
    /// Body bell 2 Q. Host writes, audio thread reads.
    #[id = "body2_q"]
    pub body2_q: FloatParam,
    /// Velocity to level, 0–1. Host writes, audio thread reads.
    #[id = "vel_lvl"]
    pub vel_lvl: FloatParam,
    /// Velocity to brightness, octaves. Host writes, audio thread reads.
    #[id = "vel_brt"]
    pub vel_brt: FloatParam,

    /// Pitch-bend range, semitones. Host writes, audio thread reads.
    #[id = "bend_range"]
    pub bend_range: IntParam,
    /// MPE (lower zone: channel 1 master, 2–16 one note each). Host writes, audio thread reads.
    #[id = "mpe"]
    pub mpe: BoolParam,
    /// Pitch-bend range of MPE member channels, semitones. Host writes, audio thread reads.
    #[id = "mpe_bend"]
    pub mpe_bend: IntParam,
    /// Vibrato at full mod wheel, cents. Host writes, audio thread reads.
    #[id = "wheel_vib"]
    pub wheel_vib: FloatParam,
    /// Cutoff rise at full pressure (aftertouch), octaves. Host writes, audio thread reads.
    #[id = "press_brt"]
    pub press_brt: FloatParam,
    /// Voices in poly mode, 1–16. Host writes, audio thread reads.
    #[id = "voices"]
    pub voices: IntParam,
    /// Poly, mono or legato. Host writes, audio thread reads.
    #[id = "voice_mode"]
    pub voice_mode: EnumParam<VoiceModeParam>,
    /// Glide (portamento) time, seconds. Host writes, audio thread reads.
    #[id = "glide"]
    pub glide: FloatParam,
    /// Velocity curve. Host writes, audio thread reads.
    #[id = "vel_curve"]
    pub vel_curve: EnumParam<VelocityCurveParam>,

    /// Mixes the sidechain into the output, to hear what the learner hears.
    #[id = "sc_listen"]
    pub sc_listen: BoolParam,

    /// What the sidechain does: Learn, Follow or Play.
    #[id = "mode"]
    pub mode: EnumParam<ModeParam>,
    /// Vigilance ρ: how alike two sounds must be to share a prototype.
    #[id = "vigilance"]
    pub vigilance: FloatParam,
    /// The optimizer's base learning rate α.
    #[id = "learn_rate"]
    pub learn_rate: FloatParam,
    /// λ_ART: how strongly a prototype's sound is pulled into its category while it learns.
    #[id = "resonance"]
    pub resonance: FloatParam,
    /// Play mode: the prototype played (1-based).
    #[id = "proto"]
    pub proto: IntParam,
    /// Play mode: the prototype morphed toward (1-based).
    #[id = "proto_b"]
    pub proto_b: IntParam,
    /// Play mode: 0 plays `proto`, 1 plays `proto_b`, between morphs in knob space.
    #[id = "morph"]
    pub morph: FloatParam,
    /// When the audio thread waits for the learner to catch up with the sidechain
    /// (docs/ARCHITECTURE.md §2).
    #[id = "sync"]
    pub sync: EnumParam<SyncParam>,

    /// The learned memory (prototypes, weights, θ, names, locks, the active one), saved with
    /// the DAW project. The learner thread writes it; the host reads it when saving; the audio
    /// thread never touches it.
    #[persist = "memory"]
    pub memory: MemoryField,
}

/// The persisted memory with a flag raised whenever the host loads a state into it, so the
/// learner (which owns the live memory) takes the loaded one. nice-plug does not reactivate a
/// plugin after a state load, so this flag is how the load reaches the learner.
pub struct MemoryField {
    /// The stored memory. Learner writes, host (main thread) reads and loads.
    pub state: Arc<RwLock<MemoryState>>,
    /// Set by a state load, cleared by the learner once it holds the loaded memory.
    pub loaded: Arc<AtomicBool>,
}

impl Default for MemoryField {
    fn default() -> Self {
        Self {
            state: Arc::new(RwLock::new(MemoryState::default())),
            loaded: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl<'a> PersistentField<'a, MemoryState> for MemoryField {
    fn set(&self, new_value: MemoryState) {
        *self.state.write() = new_value;
        self.loaded.store(true, Ordering::Release);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&MemoryState) -> R,
    {
        f(&self.state.read())
    }
}

/// The editor's state with its size persisted (nice-plug-egui's state is not serde). A loaded
/// size takes effect the next time the editor opens.
pub struct EditorField {
    /// The state the next editor opens with. Main thread writes on load, GUI reads.
    state: RwLock<Arc<EguiEditorState>>,
}

impl EditorField {
    /// The state to open the editor with.
    pub fn state(&self) -> Arc<EguiEditorState> {
        self.state.read().clone()
    }
}

impl Default for EditorField {
    fn default() -> Self {
        Self {
            state: RwLock::new(state_of_size(DEFAULT_SIZE)),
        }
    }
}

impl<'a> PersistentField<'a, (u32, u32)> for EditorField {
    fn set(&self, size: (u32, u32)) {
        *self.state.write() = state_of_size(size);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&(u32, u32)) -> R,
    {
        let size = self.state.read().logical_size();
        f(&(size.width.round() as u32, size.height.round() as u32))
    }
}

/// The `mode` parameter's values (docs/ARCHITECTURE.md §6).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeParam {
    /// The sidechain teaches.
    #[id = "learn"]
    Learn,
    /// The sidechain picks the prototype that plays.
    #[id = "follow"]
    Follow,
    /// The memory is frozen; `proto`, `proto_b` and `morph` pick what plays.
    #[id = "play"]
    Play,
}

/// The `voice_mode` parameter's values ([`VoiceMode`]).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceModeParam {
    /// Every note its own voice.
    #[id = "poly"]
    Poly,
    /// One voice; every note restarts the envelopes.
    #[id = "mono"]
    Mono,
    /// One voice; overlapping notes glide without restarting the envelopes.
    #[id = "legato"]
    Legato,
}

impl From<VoiceModeParam> for VoiceMode {
    fn from(m: VoiceModeParam) -> Self {
        match m {
            VoiceModeParam::Poly => VoiceMode::Poly,
            VoiceModeParam::Mono => VoiceMode::Mono,
            VoiceModeParam::Legato => VoiceMode::Legato,
        }
    }
}

/// The `vel_curve` parameter's values ([`VelocityCurve`]).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum VelocityCurveParam {
    /// As played.
    #[id = "linear"]
    Linear,
    /// √v: soft playing sounds louder.
    #[id = "soft"]
    Soft,
    /// v²: needs a firm touch.
    #[id = "hard"]
    Hard,
    /// Every note at full velocity.
    #[id = "fixed"]
    Fixed,
}

impl From<VelocityCurveParam> for VelocityCurve {
    fn from(c: VelocityCurveParam) -> Self {
        match c {
            VelocityCurveParam::Linear => VelocityCurve::Linear,
            VelocityCurveParam::Soft => VelocityCurve::Soft,
            VelocityCurveParam::Hard => VelocityCurve::Hard,
            VelocityCurveParam::Fixed => VelocityCurve::Fixed,
        }
    }
}

/// The `sync` parameter's values: when a block waits for the learner, so that a render learns
/// the same on any machine (docs/ARCHITECTURE.md §2).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncParam {
    /// Waits while the host renders offline: when it says so, or (VST3) when blocks arrive far
    /// faster than real time. Live playing never waits.
    #[id = "auto"]
    Auto,
    /// Every block waits: for scripted and headless renders whose host neither says it renders
    /// offline nor renders fast enough to be seen doing so. Live, the audio would drop out
    /// while the learner refines a note.
    #[id = "every_block"]
    #[name = "Every Block"]
    EveryBlock,
}

impl From<ModeParam> for Mode {
    fn from(m: ModeParam) -> Self {
        match m {
            ModeParam::Learn => Mode::Learn,
            ModeParam::Follow => Mode::Follow,
            ModeParam::Play => Mode::Play,
        }
    }
}

/// Range of `vigilance`: below 0.5 everything is one timbre; above 0.99 every note is new.
pub fn vigilance_range() -> FloatRange {
    FloatRange::Linear {
        min: 0.5,
        max: 0.99,
    }
}

/// Range of `learn_rate` (log: its useful values span two decades).
pub fn learn_rate_range() -> FloatRange {
    FloatRange::Skewed {
        min: 0.001,
        max: 0.5,
        factor: FloatRange::skew_factor(-2.0),
    }
}

/// Range of `resonance` (λ_ART; 0 turns the regularizer off).
pub fn resonance_range() -> FloatRange {
    FloatRange::Linear { min: 0.0, max: 5.0 }
}

/// Range of `proto` and `proto_b` (1-based prototype numbers).
pub fn proto_range() -> IntRange {
    IntRange::Linear {
        min: 1,
        max: MAX_PROTOTYPES as i32,
    }
}

/// The host-facing range of a θ: its musical range, log-spaced ones skewed so the middle of the
/// knob sits near the geometric mean.
pub fn theta_range(p: P) -> FloatRange {
    let s = &SPECS[p as usize];
    match s.scale {
        Scale::Linear => FloatRange::Linear {
            min: s.min,
            max: s.max,
        },
        Scale::Log => FloatRange::Skewed {
            min: s.min,
            max: s.max,
            factor: log_skew(s.min, s.max),
        },
    }
}

/// The skew factor that puts the knob's midpoint on the geometric mean √(min·max):
/// nice-plug maps a knob position x to min + (max − min)·x^(1/factor).
fn log_skew(min: f32, max: f32) -> f32 {
    let mid = ((min.sqrt() * max.sqrt()) - min) / (max - min);
    (0.5f32).ln() / mid.ln()
}

fn theta_param(p: P) -> FloatParam {
    let s = &SPECS[p as usize];
    let mut param = FloatParam::new(s.name, s.default, theta_range(p));
    // Every knob of a voice takes CLAP polyphonic modulation; its id is its θ index.
    if !SYNTH_WIDE.contains(&p) {
        param = param.with_poly_modulation_id(p as u32);
    }
    // One format per unit, in the core (`plant::text`), where its round trip is tested.
    let unit = s.unit;
    param
        .with_value_to_string(Arc::new(move |v| text::format(unit, v)))
        .with_string_to_value(Arc::new(move |t| text::parse(unit, t)))
}

/// A knob of the plugin's own in one of the θ units, formatted as the θ are.
fn unit_param(name: &str, default: f32, range: FloatRange, unit: Unit) -> FloatParam {
    FloatParam::new(name, default, range)
        .with_value_to_string(Arc::new(move |v| text::format(unit, v)))
        .with_string_to_value(Arc::new(move |t| text::parse(unit, t)))
}

/// A saved state's knobs filled in for a load: every θ the state does not hold (a project saved
/// before the plant had that knob) gets its default, which plays exactly as the plant did without
/// it, whatever the instance had before the load. Allocates.
pub fn fill_missing_knobs(params: &mut std::collections::BTreeMap<String, ParamValue>) {
    for spec in &SPECS {
        params
            .entry(spec.id.to_string())
            .or_insert(ParamValue::F32(spec.default));
    }
}

impl Default for DarDdspParams {
    fn default() -> Self {
        Self {
            editor: EditorField::default(),
            saw: theta_param(P::Saw),
            pulse: theta_param(P::Pulse),
            width: theta_param(P::Width),
            sine: theta_param(P::Sine),
            noise: theta_param(P::Noise),
            cutoff: theta_param(P::Cutoff),
            res: theta_param(P::Resonance),
            fenv: theta_param(P::FilterEnvAmount),
            key: theta_param(P::KeyTrack),
            amp_a: theta_param(P::AmpAttack),
            amp_d: theta_param(P::AmpDecay),
            amp_s: theta_param(P::AmpSustain),
            amp_r: theta_param(P::AmpRelease),
            flt_a: theta_param(P::FilterAttack),
            flt_d: theta_param(P::FilterDecay),
            flt_s: theta_param(P::FilterSustain),
            flt_r: theta_param(P::FilterRelease),
            gain: theta_param(P::Gain),
            lfo_rate: theta_param(P::LfoRate),
            vib: theta_param(P::VibratoDepth),
            trem: theta_param(P::TremoloDepth),
            lfo_fade: theta_param(P::LfoFade),
            bar2: theta_param(P::Drawbar2),
            bar3: theta_param(P::Drawbar3),
            bar4: theta_param(P::Drawbar4),
            bar5: theta_param(P::Drawbar5),
            bar6: theta_param(P::Drawbar6),
            bar8: theta_param(P::Drawbar8),
            body1_f: theta_param(P::Body1Freq),
            body1_g: theta_param(P::Body1Gain),
            body1_q: theta_param(P::Body1Q),
            body2_f: theta_param(P::Body2Freq),
            body2_g: theta_param(P::Body2Gain),
            body2_q: theta_param(P::Body2Q),
            vel_lvl: theta_param(P::VelocityToLevel),
            vel_brt: theta_param(P::VelocityToBrightness),
            bend_range: IntParam::new("Bend Range", 2, IntRange::Linear { min: 0, max: 48 })
                .with_unit(" st"),
            mpe: BoolParam::new("MPE", false),
            mpe_bend: IntParam::new("MPE Bend Range", 48, IntRange::Linear { min: 1, max: 96 })
                .with_unit(" st"),
            wheel_vib: unit_param(
                "Mod Wheel Vibrato",
                50.0,
                FloatRange::Linear {
                    min: 0.0,
                    max: 100.0,
                },
                Unit::Cents,
            ),
            press_brt: unit_param(
                "Pressure Brightness",
                1.0,
                FloatRange::Linear { min: 0.0, max: 4.0 },
                Unit::Octaves,
            ),
            voices: IntParam::new(
                "Voices",
                MAX_VOICES as i32,
                IntRange::Linear {
                    min: 1,
                    max: MAX_VOICES as i32,
                },
            ),
            voice_mode: EnumParam::new("Voice Mode", VoiceModeParam::Poly),
            glide: unit_param(
                "Glide",
                0.0,
                FloatRange::Skewed {
                    min: 0.0,
                    max: 2.0,
                    factor: FloatRange::skew_factor(-2.0),
                },
                Unit::Seconds,
            ),
            vel_curve: EnumParam::new("Velocity Curve", VelocityCurveParam::Linear),
            sc_listen: BoolParam::new("Sidechain Listen", false),
            mode: EnumParam::new("Mode", ModeParam::Learn),
            // None of these carry a smoother: the learner reads them per chunk of sidechain.
            vigilance: FloatParam::new("Vigilance", DEFAULT_VIGILANCE, vigilance_range())
                .with_value_to_string(formatters::v2s_f32_rounded(2)),
            learn_rate: FloatParam::new("Learn Rate", 0.05, learn_rate_range())
                .with_value_to_string(Arc::new(|v| format_significant(v, 3))),
            resonance: FloatParam::new("Resonance", 0.5, resonance_range())
                .with_value_to_string(formatters::v2s_f32_rounded(2)),
            proto: IntParam::new("Prototype", 1, proto_range()),
            proto_b: IntParam::new("Morph Target", 2, proto_range()),
            // No smoother: the patch glide (second order) already smooths a morph.
            morph: FloatParam::new("Morph", 0.0, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            sync: EnumParam::new("Learner Sync", SyncParam::Auto),
            memory: MemoryField::default(),
        }
    }
}

impl DarDdspParams {
    /// The θ parameters, in [`P`] order.
    pub fn theta_params(&self) -> [&FloatParam; N_THETA] {
        [
            &self.saw,
            &self.pulse,
            &self.width,
            &self.sine,
            &self.noise,
            &self.cutoff,
            &self.res,
            &self.fenv,
            &self.key,
            &self.amp_a,
            &self.amp_d,
            &self.amp_s,
            &self.amp_r,
            &self.flt_a,
            &self.flt_d,
            &self.flt_s,
            &self.flt_r,
            &self.gain,
            &self.lfo_rate,
            &self.vib,
            &self.trem,
            &self.lfo_fade,
            &self.bar2,
            &self.bar3,
            &self.bar4,
            &self.bar5,
            &self.bar6,
            &self.bar8,
            &self.body1_f,
            &self.body1_g,
            &self.body1_q,
            &self.body2_f,
            &self.body2_g,
            &self.body2_q,
            &self.vel_lvl,
            &self.vel_brt,
        ]
    }

    /// How the synth is played now. Lock-free: atomic reads only.
    pub fn play_settings(&self) -> PlaySettings {
        PlaySettings {
            mode: self.voice_mode.value().into(),
            polyphony: self.voices.value().clamp(1, MAX_VOICES as i32) as usize,
            glide_seconds: self.glide.value(),
            bend_range: self.bend_range.value() as f32,
            mpe: self.mpe.value(),
            mpe_bend_range: self.mpe_bend.value() as f32,
            wheel_vibrato_cents: self.wheel_vib.value(),
            pressure_octaves: self.press_brt.value(),
            velocity: self.vel_curve.value().into(),
        }
    }

    /// θ as the host has set it now (plain values). Lock-free: atomic reads only.
    pub fn theta(&self) -> Theta<f32> {
        self.theta_params().map(|p| p.value())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_state_without_the_sections_knobs_gets_their_defaults() {
        // A version-3 project: the first version's θ only, some moved from their defaults.
        let mut saved: std::collections::BTreeMap<String, ParamValue> = SPECS[..N_THETA_V1]
            .iter()
            .map(|s| (s.id.to_string(), ParamValue::F32(s.default)))
            .collect();
        saved.insert("cutoff".into(), ParamValue::F32(900.0));
        saved.insert("mode".into(), ParamValue::String("play".into()));
        fill_missing_knobs(&mut saved);
        for spec in &SPECS {
            let want = if spec.id == "cutoff" {
                900.0
            } else {
                spec.default
            };
            assert!(
                matches!(saved.get(spec.id), Some(ParamValue::F32(v)) if *v == want),
                "{}: {:?}",
                spec.id,
                saved.get(spec.id)
            );
        }
        assert!(matches!(saved.get("mode"), Some(ParamValue::String(m)) if m == "play"));
    }
    use super::*;

    #[test]
    fn parameter_ids_match_the_theta_table() {
        let params = DarDdspParams::default();
        let map = params.param_map();
        for (i, spec) in SPECS.iter().enumerate() {
            let (id, ptr, _) = map
                .iter()
                .find(|(id, _, _)| id == spec.id)
                .unwrap_or_else(|| panic!("no parameter with id {}", spec.id));
            assert_eq!(id, spec.id);
            // SAFETY: the pointer comes from `params`, which outlives this loop.
            let name = unsafe { ptr.name() };
            assert_eq!(name, spec.name);
            assert_eq!(params.theta_params()[i].value(), spec.default);
        }
    }

    #[test]
    fn log_ranges_centre_on_the_geometric_mean() {
        let r = theta_range(P::Cutoff);
        approx::assert_relative_eq!(
            r.unnormalize(0.5),
            (20.0f32 * 20_000.0).sqrt(),
            max_relative = 1e-3
        );
        for p in dar_ddsp_core::plant::theta::ALL {
            let r = theta_range(p);
            let s = &SPECS[p as usize];
            approx::assert_relative_eq!(r.unnormalize(0.0), s.min, max_relative = 1e-5);
            approx::assert_relative_eq!(r.unnormalize(1.0), s.max, max_relative = 1e-5);
        }
    }

    /// Every knob the host sees, at 2001 positions, through the host's own path: position →
    /// text → position → text gives the same text (what clap-validator's conversion test and
    /// its fuzzer check), and a θ reads back within one display step.
    #[test]
    fn every_parameter_round_trips_through_its_text() {
        let params = DarDdspParams::default();
        let positions = (0..=2_000).map(|i| i as f32 / 2_000.0);
        for (id, ptr, _) in params.param_map() {
            for u in positions.clone() {
                // SAFETY: the pointer comes from `params`, which outlives this loop.
                let (text, back, again) = unsafe {
                    let text = ptr.normalized_value_to_string(u, true);
                    let back = ptr
                        .string_to_normalized_value(&text)
                        .unwrap_or_else(|| panic!("{id}: cannot read {text:?}"));
                    (text, back, ptr.normalized_value_to_string(back, true))
                };
                assert_eq!(again, text, "{id} at {u} (read back at {back})");
            }
        }
        for (p, spec) in params.theta_params().iter().zip(&SPECS) {
            for u in positions.clone() {
                let text = p.normalized_value_to_string(u, true);
                let back = p.string_to_normalized_value(&text).expect("reads");
                let (a, b) = (p.preview_plain(u), p.preview_plain(back));
                let step = text::display_step(spec.unit, a) * 1.01 + a.abs() * 1e-5;
                assert!(
                    (a - b).abs() <= step,
                    "{}: {a} reads back as {b} from {text}",
                    spec.id
                );
            }
        }
    }
}
