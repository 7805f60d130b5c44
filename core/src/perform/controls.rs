//! What the controllers hold: each MIDI channel's bend, mod wheel, pressure, timbre and pedal,
//! each note's own expressions, and how they combine into a voice's
//! [`Expression`](crate::plant::expression::Expression).

use super::settings::{PlaySettings, TIMBRE_OCTAVES};
use crate::plant::expression::Expression;

/// MIDI channels.
pub const CHANNELS: usize = 16;

/// One MIDI channel's controllers. Audio thread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelState {
    /// Pitch bend, −1 to 1 of the range (0: none).
    pub bend: f32,
    /// Mod wheel (CC 1), 0–1.
    pub wheel: f32,
    /// Channel pressure, 0–1.
    pub pressure: f32,
    /// Timbre (CC 74), 0–1; 0.5 is neutral, as MPE asks.
    pub timbre: f32,
    /// Whether the sustain pedal (CC 64) is down.
    pub sustain: bool,
}

impl Default for ChannelState {
    fn default() -> Self {
        Self {
            bend: 0.0,
            wheel: 0.0,
            pressure: 0.0,
            timbre: 0.5,
            sustain: false,
        }
    }
}

/// Who a note is: the host's note id (CLAP) if any, its channel and key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tag {
    /// The host's id of the note, if it gave one.
    pub id: Option<i32>,
    /// MIDI channel, 0–15.
    pub channel: u8,
    /// MIDI key, 0–127.
    pub key: u8,
}

/// Which notes an event is for; `None` in a field matches any (a CLAP wildcard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Target {
    /// The note id, or any.
    pub id: Option<i32>,
    /// The channel, or any.
    pub channel: Option<u8>,
    /// The key, or any.
    pub key: Option<u8>,
}

impl Target {
    /// Whether `tag` is one of the notes meant. Two note ids decide alone; a note that came
    /// without an id is found by its channel and key (a concrete key: an id with wildcards
    /// never reaches every id-less note).
    pub fn matches(&self, tag: &Tag) -> bool {
        let place = || {
            self.channel.is_none_or(|c| c == tag.channel) && self.key.is_none_or(|k| k == tag.key)
        };
        match (self.id, tag.id) {
            (Some(a), Some(b)) => a == b,
            (Some(_), None) => self.key.is_some() && place(),
            (None, _) => place(),
        }
    }
}

/// A note's own expressions (CLAP note expressions, polyphonic aftertouch). Audio thread; reset
/// at note-on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteState {
    /// Who the voice plays.
    pub tag: Tag,
    /// Whether the key is down (else released, or held by the pedal).
    pub key_down: bool,
    /// Tuning, semitones.
    pub tuning: f32,
    /// Volume, linear (1: unchanged).
    pub volume: f32,
    /// Pan, −1 to 1.
    pub pan: f32,
    /// Brightness, 0–1; 0.5 is neutral.
    pub brightness: f32,
    /// Pressure (polyphonic aftertouch or CLAP pressure), 0–1.
    pub pressure: f32,
    /// Vibrato amount, 0–1 (as the mod wheel).
    pub vibrato: f32,
}

impl Default for NoteState {
    fn default() -> Self {
        Self {
            tag: Tag::default(),
            key_down: false,
            tuning: 0.0,
            volume: 1.0,
            pan: 0.0,
            brightness: 0.5,
            pressure: 0.0,
            vibrato: 0.0,
        }
    }
}

impl NoteState {
    /// A fresh note: every expression at rest.
    pub fn new(tag: Tag) -> Self {
        Self {
            tag,
            key_down: true,
            ..Self::default()
        }
    }
}

/// The channel states that act on a note: its own channel, and in MPE the zone's master
/// channel (channel 1) too.
pub fn channels_of<'a>(
    note: &NoteState,
    channels: &'a [ChannelState; CHANNELS],
    s: &PlaySettings,
) -> (&'a ChannelState, Option<&'a ChannelState>) {
    let own = &channels[note.tag.channel as usize % CHANNELS];
    let master = (s.mpe && note.tag.channel != 0).then_some(&channels[0]);
    (own, master)
}

/// Whether the sustain pedal holds `note` (its channel's pedal, or in MPE the master's).
pub fn pedal_holds(
    note: &NoteState,
    channels: &[ChannelState; CHANNELS],
    s: &PlaySettings,
) -> bool {
    let (own, master) = channels_of(note, channels, s);
    own.sustain || master.is_some_and(|m| m.sustain)
}

/// Writes what the controllers and the note's own expressions make of the voice into `e`.
pub fn apply(
    note: &NoteState,
    channels: &[ChannelState; CHANNELS],
    s: &PlaySettings,
    e: &mut Expression,
) {
    let (own, master) = channels_of(note, channels, s);
    let bend = match master {
        // An MPE member channel bends its one note by the member range, on top of the zone's.
        Some(m) => m.bend * s.bend_range + own.bend * s.mpe_bend_range,
        None => own.bend * s.bend_range,
    };
    e.set_bend(bend + note.tuning);
    let wheel = own.wheel.max(master.map_or(0.0, |m| m.wheel));
    e.vibrato = wheel.max(note.vibrato).clamp(0.0, 1.0) * s.wheel_vibrato_cents / 1_200.0;
    let pressure = own
        .pressure
        .max(master.map_or(0.0, |m| m.pressure))
        .max(note.pressure)
        .clamp(0.0, 1.0);
    let timbre = (own.timbre - 0.5) + (note.brightness - 0.5);
    e.bright = 2.0 * TIMBRE_OCTAVES * timbre + pressure * s.pressure_octaves;
    e.gain = note.volume.clamp(0.0, 4.0);
    e.pan = note.pan.clamp(-1.0, 1.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_rest_a_note_has_no_expression() {
        let mut e = Expression::default();
        let n = NoteState::new(Tag::default());
        apply(
            &n,
            &[ChannelState::default(); CHANNELS],
            &PlaySettings::default(),
            &mut e,
        );
        assert_eq!(e, Expression::default());
    }

    #[test]
    fn mpe_members_bend_their_own_note_on_top_of_the_master() {
        let s = PlaySettings {
            mpe: true,
            ..Default::default()
        };
        let mut ch = [ChannelState::default(); CHANNELS];
        ch[0].bend = 0.5; // ±2 st range: +1 st
        ch[3].bend = -0.25; // ±48 st range: −12 st
        let mut e = Expression::default();
        let member = NoteState::new(Tag {
            id: None,
            channel: 3,
            key: 60,
        });
        apply(&member, &ch, &s, &mut e);
        assert_eq!(e.bend(), -11.0);
        let other = NoteState::new(Tag {
            id: None,
            channel: 4,
            key: 60,
        });
        apply(&other, &ch, &s, &mut e);
        assert_eq!(e.bend(), 1.0);
        // Without MPE a channel bends its own notes by the channel range only.
        apply(&member, &ch, &PlaySettings::default(), &mut e);
        assert_eq!(e.bend(), -0.5);
    }

    #[test]
    fn targets_match_by_id_else_by_channel_and_key() {
        let tag = Tag {
            id: Some(7),
            channel: 2,
            key: 64,
        };
        assert!(
            Target {
                id: Some(7),
                channel: Some(9),
                key: None
            }
            .matches(&tag)
        );
        assert!(
            !Target {
                id: Some(8),
                ..Default::default()
            }
            .matches(&tag)
        );
        assert!(Target::default().matches(&tag));
        assert!(
            !Target {
                id: None,
                channel: Some(2),
                key: Some(65)
            }
            .matches(&tag)
        );
    }
}
