//! θ: the plant's parameters, their stable ids, musical ranges and the learning-space map.
//!
//! One table ([`SPECS`]) serves the plugin (parameter ids, ranges, units), the presets (θ saved
//! as named values) and the learner (each θ's knob position 0–1, [`ThetaSpec::normalize`], mapped
//! onto the musical range, log-spaced for times and frequencies).

use crate::num::dual::Dual;
use crate::num::real::Real;

/// How a θ is spread over its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced: levels, sustain, width, octaves.
    Linear,
    /// Geometrically spaced: times and frequencies (a musician hears ratios).
    Log,
}

/// The unit a θ is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A 0–1 level, shown in percent.
    Percent,
    /// Hertz.
    Hertz,
    /// Seconds (shown as ms below one second).
    Seconds,
    /// A plain ratio (filter Q).
    Ratio,
    /// Octaves of filter-envelope sweep.
    Octaves,
    /// Decibels.
    Decibels,
    /// Cents (hundredths of a semitone).
    Cents,
    /// Semitones.
    Semitones,
}

/// The description of one θ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThetaSpec {
    /// Stable short id: the plugin parameter id and the preset key. Never renamed.
    pub id: &'static str,
    /// Human name shown in hosts and the GUI.
    pub name: &'static str,
    /// Display unit.
    pub unit: Unit,
    /// Lowest value, in the unit.
    pub min: f32,
    /// Highest value, in the unit.
    pub max: f32,
    /// Value of the default patch, in the unit.
    pub default: f32,
    /// Spacing over the range.
    pub scale: Scale,
}

/// Index of each θ in a [`Theta`] array. The order is the learning order; ids are what persist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum P {
    Saw,
    Pulse,
    Width,
    Sine,
    Noise,
    Cutoff,
    Resonance,
    FilterEnvAmount,
    KeyTrack,
    AmpAttack,
    AmpDecay,
    AmpSustain,
    AmpRelease,
    FilterAttack,
    FilterDecay,
    FilterSustain,
    FilterRelease,
    Gain,
    LfoRate,
    VibratoDepth,
    TremoloDepth,
    LfoFade,
    Drawbar2,
    Drawbar3,
    Drawbar4,
    Drawbar5,
    Drawbar6,
    Drawbar8,
    Body1Freq,
    Body1Gain,
    Body1Q,
    Body2Freq,
    Body2Gain,
    Body2Q,
    VelocityToLevel,
    VelocityToBrightness,
}

/// Number of θ values.
pub const N_THETA: usize = 36;

/// The θ of the first version's plant (oscillators, low-pass, two ADSRs, gain): the sections
/// after them start at values that leave the sound exactly as it was.
pub const N_THETA_V1: usize = 18;

/// Partials a gradient carries: the learner differentiates at most this many θ at once
/// ([`Learned`]), so a step costs the same however many sections the plant has.
pub const LEARNED: usize = 24;

/// The dual number θ is learned with: a value and one partial per learned θ.
pub type G = Dual<f32, LEARNED>;

/// Knobs in [`CORE`].
pub const N_CORE: usize = 17;

/// The dual number of a step that learns the [`CORE`] alone (a run's first steps): seven
/// partials fewer to carry than a [`G`], and the same bits in the ones it has.
pub type GCore = Dual<f32, N_CORE>;

/// The first version's θ that shape the sound (all of them but the output gain, whose level the
/// objective measures instead of learning): always learned.
pub const CORE: [P; N_CORE] = {
    // The first 17 of [`ALL`]: the output gain is the first version's last θ.
    let mut core = [P::Saw; N_CORE];
    let mut k = 0;
    while k < core.len() {
        core[k] = ALL[k];
        k += 1;
    }
    core
};

/// Which θ a gradient is taken with respect to: partial `i` of a [`G`] is ∂/∂θ of knob
/// `slots[i]`. Allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Learned {
    /// θ index of each used slot, in slot order.
    slots: [u8; LEARNED],
    /// Slots used.
    len: usize,
    /// Slot of each θ, or `u8::MAX` when it is not learned.
    slot_of: [u8; N_THETA],
}

impl Learned {
    /// The θ `knobs` (repeats and any beyond [`LEARNED`] ignored).
    pub fn new(knobs: impl IntoIterator<Item = P>) -> Self {
        let mut l = Self {
            slots: [0; LEARNED],
            len: 0,
            slot_of: [u8::MAX; N_THETA],
        };
        for p in knobs {
            let k = p as usize;
            if l.len < LEARNED && l.slot_of[k] == u8::MAX {
                l.slot_of[k] = l.len as u8;
                l.slots[l.len] = k as u8;
                l.len += 1;
            }
        }
        l
    }

    /// The [`CORE`] knobs.
    pub fn core() -> Self {
        Self::new(CORE)
    }

    /// Whether θ `k` is learned.
    pub fn contains(&self, k: usize) -> bool {
        self.slot_of.get(k).is_some_and(|&s| s != u8::MAX)
    }

    /// How many θ are learned (slots used).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no θ is learned.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The learned θ indices, in slot order.
    pub fn knobs(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots[..self.len].iter().map(|&k| k as usize)
    }

    /// A gradient over every θ from the partials of a [`G`]: 0 for θ not learned.
    pub fn scatter(&self, partials: &[f32; LEARNED]) -> [f32; N_THETA] {
        let mut g = [0.0; N_THETA];
        for (slot, k) in self.knobs().enumerate() {
            g[k] = partials[slot];
        }
        g
    }
}

/// θ in musical units, indexed by [`P`].
pub type Theta<T> = [T; N_THETA];

const fn spec(
    id: &'static str,
    name: &'static str,
    unit: Unit,
    (min, max, default): (f32, f32, f32),
    scale: Scale,
) -> ThetaSpec {
    ThetaSpec {
        id,
        name,
        unit,
        min,
        max,
        default,
        scale,
    }
}

use Scale::{Linear, Log};
use Unit::*;

/// Every θ, in [`P`] order.
pub const SPECS: [ThetaSpec; N_THETA] = [
    spec("saw", "Saw Level", Percent, (0.0, 1.0, 0.8), Linear),
    spec("pulse", "Pulse Level", Percent, (0.0, 1.0, 0.0), Linear),
    spec("width", "Pulse Width", Percent, (0.05, 0.95, 0.5), Linear),
    spec("sine", "Sine Level", Percent, (0.0, 1.0, 0.0), Linear),
    spec("noise", "Noise Level", Percent, (0.0, 1.0, 0.0), Linear),
    spec(
        "cutoff",
        "Filter Cutoff",
        Hertz,
        (20.0, 20_000.0, 2_500.0),
        Log,
    ),
    spec("res", "Filter Resonance", Ratio, (0.5, 20.0, 0.707), Log),
    spec(
        "fenv",
        "Filter Env Amount",
        Octaves,
        (-6.0, 6.0, 2.0),
        Linear,
    ),
    spec("key", "Key Tracking", Percent, (0.0, 1.0, 0.0), Linear),
    spec("amp_a", "Amp Attack", Seconds, (0.0005, 5.0, 0.005), Log),
    spec("amp_d", "Amp Decay", Seconds, (0.005, 10.0, 0.6), Log),
    spec("amp_s", "Amp Sustain", Percent, (0.0, 1.0, 0.7), Linear),
    spec("amp_r", "Amp Release", Seconds, (0.005, 10.0, 0.3), Log),
    spec("flt_a", "Filter Attack", Seconds, (0.0005, 5.0, 0.005), Log),
    spec("flt_d", "Filter Decay", Seconds, (0.005, 10.0, 0.8), Log),
    spec("flt_s", "Filter Sustain", Percent, (0.0, 1.0, 0.3), Linear),
    spec("flt_r", "Filter Release", Seconds, (0.005, 10.0, 0.4), Log),
    spec("gain", "Output Gain", Decibels, (-48.0, 12.0, -9.0), Linear),
    // Vibrato and tremolo: one sine LFO per voice, from its note-on, faded in.
    spec("lfo_rate", "LFO Rate", Hertz, (0.5, 12.0, 5.5), Log),
    spec("vib", "Vibrato Depth", Cents, (0.0, 100.0, 0.0), Linear),
    spec("trem", "Tremolo Depth", Percent, (0.0, 1.0, 0.0), Linear),
    spec("lfo_fade", "LFO Fade-In", Seconds, (0.01, 3.0, 0.3), Log),
    // Drawbars: sines at harmonics of the note, beside the oscillators.
    spec("bar2", "Drawbar 2", Percent, (0.0, 1.0, 0.0), Linear),
    spec("bar3", "Drawbar 3", Percent, (0.0, 1.0, 0.0), Linear),
    spec("bar4", "Drawbar 4", Percent, (0.0, 1.0, 0.0), Linear),
    spec("bar5", "Drawbar 5", Percent, (0.0, 1.0, 0.0), Linear),
    spec("bar6", "Drawbar 6", Percent, (0.0, 1.0, 0.0), Linear),
    spec("bar8", "Drawbar 8", Percent, (0.0, 1.0, 0.0), Linear),
    // Body: two peaking (bell) filters after the low-pass.
    spec(
        "body1_f",
        "Body 1 Freq",
        Hertz,
        (60.0, 12_000.0, 500.0),
        Log,
    ),
    spec(
        "body1_g",
        "Body 1 Gain",
        Decibels,
        (-24.0, 24.0, 0.0),
        Linear,
    ),
    spec("body1_q", "Body 1 Q", Ratio, (0.3, 12.0, 1.0), Log),
    spec(
        "body2_f",
        "Body 2 Freq",
        Hertz,
        (60.0, 12_000.0, 2_500.0),
        Log,
    ),
    spec(
        "body2_g",
        "Body 2 Gain",
        Decibels,
        (-24.0, 24.0, 0.0),
        Linear,
    ),
    spec("body2_q", "Body 2 Q", Ratio, (0.3, 12.0, 1.0), Log),
    // Velocity: to level (100 %: level ∝ velocity) and to brightness (cutoff octaves at
    // velocity 0 relative to full velocity, negated: positive darkens soft notes).
    spec(
        "vel_lvl",
        "Velocity to Level",
        Percent,
        (0.0, 1.0, 1.0),
        Linear,
    ),
    spec(
        "vel_brt",
        "Velocity to Brightness",
        Octaves,
        (-4.0, 4.0, 0.0),
        Linear,
    ),
];

impl ThetaSpec {
    /// The θ's position in its range, 0 at `min` and 1 at `max` (log-spaced for [`Scale::Log`]).
    /// Out-of-range and non-finite inputs are clamped (NaN maps to the default).
    pub fn normalize(&self, value: f32) -> f32 {
        let v = self.sanitize(value);
        match self.scale {
            Linear => (v - self.min) / (self.max - self.min),
            Log => (v / self.min).ln() / (self.max / self.min).ln(),
        }
    }

    /// The value at position `u` ∈ [0, 1] of the range; the inverse of [`Self::normalize`].
    pub fn denormalize<T: Real>(&self, u: T) -> T {
        let u = u.clamp_val(0.0, 1.0);
        match self.scale {
            Linear => u * (self.max - self.min) + self.min,
            Log => (u * (self.max / self.min).ln()).exp() * self.min,
        }
    }

    /// Clamps into the range; NaN becomes the default, so a bad host value can never reach DSP.
    pub fn sanitize(&self, value: f32) -> f32 {
        if value.is_nan() {
            self.default
        } else {
            value.clamp(self.min, self.max)
        }
    }
}

/// θ's position in knob space: each value's place on its knob's travel, 0–1 (log for times and
/// frequencies). The learner searches here, glides move here, morphs blend here.
pub fn to_knobs(theta: &Theta<f32>) -> [f32; N_THETA] {
    std::array::from_fn(|k| SPECS[k].normalize(theta[k]))
}

/// The patch at knob-space position `u` (clamped into the box); the inverse of [`to_knobs`].
pub fn from_knobs<T: Real>(u: &[f32; N_THETA]) -> Theta<T> {
    std::array::from_fn(|k| SPECS[k].denormalize(T::cst(u[k])))
}

/// The patch at knob-space position `z` as dual numbers, each learned θ seeded with ∂/∂z = 1 in
/// its slot and the others constant: what the learner renders to get the gradient with respect
/// to the knobs.
/// With `N` partials ([`G`], or [`GCore`] when the core alone is learned): `learned` must not
/// hold more than `N` θ.
pub fn dual_at_knobs<const N: usize>(z: &[f32; N_THETA], learned: &Learned) -> Theta<Dual<f32, N>> {
    debug_assert!(
        learned.len <= N,
        "{} θ learned with {N} partials",
        learned.len
    );
    std::array::from_fn(|k| {
        let x = match learned.slot_of[k] {
            u8::MAX => Dual::cst(z[k]),
            slot => Dual::variable(z[k], slot as usize),
        };
        SPECS[k].denormalize(x)
    })
}

/// The default patch.
pub fn default_theta() -> Theta<f32> {
    SPECS.map(|s| s.default)
}

/// The spec of a θ by its stable id.
pub fn spec_by_id(id: &str) -> Option<(P, &'static ThetaSpec)> {
    SPECS
        .iter()
        .position(|s| s.id == id)
        .map(|i| (ALL[i], &SPECS[i]))
}

/// The plant's sections after the first version's knobs, each a group of θ that is neutral at
/// its defaults: the LFO, the drawbars, the two body bells and velocity. (A pitch envelope and
/// a breath noise were tried and measurably helped no instrument: docs/RESULTS.md.)
pub const SECTIONS: [&[P]; 5] = [
    &[P::LfoRate, P::VibratoDepth, P::TremoloDepth, P::LfoFade],
    &[
        P::Drawbar2,
        P::Drawbar3,
        P::Drawbar4,
        P::Drawbar5,
        P::Drawbar6,
        P::Drawbar8,
    ],
    &BODY1,
    &BODY2,
    &[P::VelocityToLevel, P::VelocityToBrightness],
];

/// The first body bell's θ: a section of [`SECTIONS`], played on the voices' sum.
pub const BODY1: [P; 3] = [P::Body1Freq, P::Body1Gain, P::Body1Q];

/// The second body bell's θ: a section of [`SECTIONS`], played on the voices' sum.
pub const BODY2: [P; 3] = [P::Body2Freq, P::Body2Gain, P::Body2Q];

/// The name of each of [`SECTIONS`], as the command line takes it (`dar-ddsp eval --without`).
pub const SECTION_NAMES: [&str; SECTIONS.len()] = ["lfo", "drawbars", "body1", "body2", "velocity"];

/// Every [`P`], in order.
pub const ALL: [P; N_THETA] = [
    P::Saw,
    P::Pulse,
    P::Width,
    P::Sine,
    P::Noise,
    P::Cutoff,
    P::Resonance,
    P::FilterEnvAmount,
    P::KeyTrack,
    P::AmpAttack,
    P::AmpDecay,
    P::AmpSustain,
    P::AmpRelease,
    P::FilterAttack,
    P::FilterDecay,
    P::FilterSustain,
    P::FilterRelease,
    P::Gain,
    P::LfoRate,
    P::VibratoDepth,
    P::TremoloDepth,
    P::LfoFade,
    P::Drawbar2,
    P::Drawbar3,
    P::Drawbar4,
    P::Drawbar5,
    P::Drawbar6,
    P::Drawbar8,
    P::Body1Freq,
    P::Body1Gain,
    P::Body1Q,
    P::Body2Freq,
    P::Body2Gain,
    P::Body2Q,
    P::VelocityToLevel,
    P::VelocityToBrightness,
];

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    #[test]
    fn ids_are_unique_short_and_in_order() {
        for (i, s) in SPECS.iter().enumerate() {
            assert_eq!(ALL[i] as usize, i, "P order");
            assert!(s.id.len() <= 8 && s.id.is_ascii(), "{}", s.id);
            assert!(
                s.min < s.max && s.default >= s.min && s.default <= s.max,
                "{}",
                s.id
            );
            if s.scale == Log {
                assert!(s.min > 0.0, "{}", s.id);
            }
            assert_eq!(SPECS.iter().filter(|t| t.id == s.id).count(), 1);
            assert_eq!(spec_by_id(s.id).map(|(p, _)| p), Some(ALL[i]));
        }
        assert!(spec_by_id("nope").is_none());
    }

    #[test]
    fn log_ranges_put_the_geometric_mean_in_the_middle() {
        let s = &SPECS[P::Cutoff as usize];
        assert_relative_eq!(
            s.denormalize(0.5f32),
            (20.0f32 * 20_000.0).sqrt(),
            max_relative = 1e-4
        );
    }

    #[test]
    fn nan_and_out_of_range_are_sanitised() {
        for s in &SPECS {
            assert_eq!(s.sanitize(f32::NAN), s.default);
            assert_eq!(s.sanitize(f32::INFINITY), s.max);
            assert_eq!(s.sanitize(f32::NEG_INFINITY), s.min);
        }
    }

    proptest! {
        #[test]
        fn normalize_round_trips(i in 0usize..N_THETA, u in 0.0f32..=1.0) {
            let s = &SPECS[i];
            let v = s.denormalize(u);
            prop_assert!(v >= s.min * 0.9999 && v <= s.max * 1.0001);
            prop_assert!((s.normalize(v) - u).abs() < 1e-4);
        }
    }
}
