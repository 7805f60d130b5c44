//! How the synth is played: voice mode, polyphony, glide, bend ranges, where the controllers
//! go and the velocity curve. The plugin's knobs set them; the learner never uses them.

/// How notes take voices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VoiceMode {
    /// Every note its own voice, up to the polyphony; glide (if set) slides each new note from
    /// the last one played.
    #[default]
    Poly,
    /// One voice; every note restarts the envelopes, and glide (if set) slides into it. Lifting
    /// the sounding key returns to the last key still held.
    Mono,
    /// One voice; a note played while another is held changes the pitch (gliding, if set)
    /// without restarting the envelopes. A note after silence starts them afresh.
    Legato,
}

/// How a key's velocity becomes the note's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VelocityCurve {
    /// As played.
    #[default]
    Linear,
    /// √v: soft playing sounds louder.
    Soft,
    /// v²: needs a firm touch.
    Hard,
    /// Every note at full velocity.
    Fixed,
}

impl VelocityCurve {
    /// The note's velocity (0–1) for a key's `v` (0–1).
    pub fn apply(self, v: f32) -> f32 {
        let v = if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            1.0
        };
        match self {
            Self::Linear => v,
            Self::Soft => v.sqrt(),
            Self::Hard => v * v,
            Self::Fixed if v > 0.0 => 1.0,
            Self::Fixed => 0.0,
        }
    }
}

/// The player's settings. Audio thread; set from the knobs at every sub-block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaySettings {
    /// Poly, mono or legato.
    pub mode: VoiceMode,
    /// Voices in poly mode, 1–16.
    pub polyphony: usize,
    /// Portamento time, seconds (to 60 dB of the interval; 0: none).
    pub glide_seconds: f32,
    /// Pitch-bend range of the channel (and of an MPE zone's master channel), semitones.
    pub bend_range: f32,
    /// MPE (lower zone): channel 1 is the master, channels 2–16 carry one note each with its own
    /// bend, pressure and timbre.
    pub mpe: bool,
    /// Pitch-bend range of MPE member channels, semitones (the MPE default is 48).
    pub mpe_bend_range: f32,
    /// Vibrato depth at full mod wheel (or full vibrato expression), cents.
    pub wheel_vibrato_cents: f32,
    /// Cutoff rise at full pressure (channel and polyphonic aftertouch, MPE and CLAP pressure),
    /// octaves.
    pub pressure_octaves: f32,
    /// Velocity curve.
    pub velocity: VelocityCurve,
}

impl Default for PlaySettings {
    fn default() -> Self {
        Self {
            mode: VoiceMode::Poly,
            polyphony: crate::plant::MAX_VOICES,
            glide_seconds: 0.0,
            bend_range: 2.0,
            mpe: false,
            mpe_bend_range: 48.0,
            wheel_vibrato_cents: 50.0,
            pressure_octaves: 1.0,
            velocity: VelocityCurve::Linear,
        }
    }
}

/// Cutoff offset at full timbre (MPE CC74, CLAP brightness) either side of its neutral middle,
/// octaves.
pub const TIMBRE_OCTAVES: f32 = 2.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_keep_the_ends_and_bend_the_middle() {
        for c in [
            VelocityCurve::Linear,
            VelocityCurve::Soft,
            VelocityCurve::Hard,
            VelocityCurve::Fixed,
        ] {
            assert_eq!(c.apply(0.0), 0.0);
            assert_eq!(c.apply(1.0), 1.0);
        }
        assert!(VelocityCurve::Soft.apply(0.25) > 0.25);
        assert!(VelocityCurve::Hard.apply(0.5) < 0.5);
        assert_eq!(VelocityCurve::Fixed.apply(0.1), 1.0);
        assert_eq!(VelocityCurve::Linear.apply(f32::NAN), 1.0);
    }
}
