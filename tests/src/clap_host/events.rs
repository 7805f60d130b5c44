//! The events of a process call: notes, parameter changes, extras (all notes off, chokes, raw
//! MIDI) and the transport, and the CLAP event list built from them.

use super::audio::Block;
use anyhow::{Context, Result, ensure};
use clack_host::events::Match;
use clack_host::events::event_types::{
    MidiEvent, NoteChokeEvent, NoteExpressionEvent, NoteExpressionType, NoteOffEvent, NoteOnEvent,
    ParamModEvent, ParamValueEvent, TransportEvent, TransportFlags,
};
use clack_host::events::{EventFlags, EventHeader};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};

/// A note event of one process call (or of a whole
/// [`ClapHost::render`](super::ClapHost::render)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteEv {
    /// Sample offset from the start of the call.
    pub time: u32,
    /// MIDI key, 0–127 (69 is A4).
    pub key: u8,
    /// Velocity, 0–1.
    pub velocity: f64,
    /// `true` for a note-on, `false` for a note-off.
    pub on: bool,
}

impl NoteEv {
    /// A note-on.
    pub fn on(time: u32, key: u8, velocity: f64) -> Self {
        Self {
            time,
            key,
            velocity,
            on: true,
        }
    }

    /// A note-off, with release velocity 0.
    pub fn off(time: u32, key: u8) -> Self {
        Self {
            time,
            key,
            velocity: 0.0,
            on: false,
        }
    }
}

/// A parameter change inside a process call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamEv {
    /// The CLAP parameter id.
    pub id: u32,
    /// CLAP value.
    pub value: f64,
    /// Sample offset in the block (clamped into it).
    pub time: u32,
}

/// Events beyond plain notes and parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extra {
    /// A note-off for every key and channel (CLAP wildcard: key −1), at this sample.
    AllNotesOff(u32),
    /// A choke of every note (wildcard), at this sample.
    ChokeAll(u32),
    /// A raw MIDI 1.0 message on note port 0, at this sample.
    Midi(u32, [u8; 3]),
    /// A note with a host note id, as Bitwig and other CLAP hosts send them.
    IdNote {
        /// Sample of the event.
        time: u32,
        /// The host's note id.
        id: u32,
        /// MIDI channel, 0–15.
        channel: u16,
        /// MIDI key.
        key: u16,
        /// Velocity, 0–1.
        velocity: f64,
        /// Note-on (else note-off).
        on: bool,
    },
    /// A CLAP note expression for note `id` on `key`, channel 0.
    Expression {
        /// Sample of the event.
        time: u32,
        /// The host's note id.
        id: u32,
        /// MIDI key.
        key: u16,
        /// Which expression.
        kind: NoteExpressionType,
        /// Its value, in CLAP's units for it.
        value: f64,
    },
    /// A polyphonic modulation of parameter `param` for note `id` on `key`, channel 0; `amount`
    /// in the parameter's CLAP value units.
    ParamMod {
        /// Sample of the event.
        time: u32,
        /// The host's note id.
        id: u32,
        /// MIDI key.
        key: u16,
        /// The CLAP parameter id.
        param: u32,
        /// Offset from the parameter's value.
        amount: f64,
    },
}

impl Extra {
    /// The same event at sample `t`.
    pub fn at(mut self, t: u32) -> Self {
        match &mut self {
            Self::AllNotesOff(time) | Self::ChokeAll(time) | Self::Midi(time, _) => *time = t,
            Self::IdNote { time, .. }
            | Self::Expression { time, .. }
            | Self::ParamMod { time, .. } => *time = t,
        }
        self
    }

    /// The sample it lands on.
    pub fn time(&self) -> u32 {
        match *self {
            Self::AllNotesOff(t) | Self::ChokeAll(t) | Self::Midi(t, _) => t,
            Self::IdNote { time, .. }
            | Self::Expression { time, .. }
            | Self::ParamMod { time, .. } => time,
        }
    }
}

/// What the host tells the plugin about its transport for one call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transport {
    /// Playing (else stopped).
    pub playing: bool,
    /// Recording.
    pub recording: bool,
    /// Loop active.
    pub looping: bool,
    /// Tempo, beats per minute (any value: hosts have sent 0 and worse).
    pub tempo: f64,
    /// Song position, beats.
    pub beats: f64,
    /// Song position, seconds.
    pub seconds: f64,
    /// Start of the bar, beats.
    pub bar_start: f64,
    /// Bar number.
    pub bar_number: i32,
    /// Time signature numerator.
    pub numerator: u16,
    /// Time signature denominator.
    pub denominator: u16,
    /// Loop start and end, beats.
    pub loop_beats: (f64, f64),
}

impl Transport {
    /// The CLAP transport event.
    pub(super) fn event(&self) -> TransportEvent {
        let mut flags = TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_SECONDS_TIMELINE
            | TransportFlags::HAS_TIME_SIGNATURE;
        for (on, flag) in [
            (self.playing, TransportFlags::IS_PLAYING),
            (self.recording, TransportFlags::IS_RECORDING),
            (self.looping, TransportFlags::IS_LOOP_ACTIVE),
        ] {
            if on {
                flags |= flag;
            }
        }
        let tempo = self.tempo.max(1e-9);
        TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags,
            song_pos_beats: BeatTime::from_float(self.beats),
            song_pos_seconds: SecondsTime::from_float(self.seconds),
            tempo: self.tempo,
            tempo_inc: 0.0,
            loop_start_beats: BeatTime::from_float(self.loop_beats.0),
            loop_end_beats: BeatTime::from_float(self.loop_beats.1),
            loop_start_seconds: SecondsTime::from_float(self.loop_beats.0 * 60.0 / tempo),
            loop_end_seconds: SecondsTime::from_float(self.loop_beats.1 * 60.0 / tempo),
            bar_start: BeatTime::from_float(self.bar_start),
            bar_number: self.bar_number,
            time_signature_numerator: self.numerator,
            time_signature_denominator: self.denominator,
        }
    }
}

/// Fills `events` with what `b` sends, in time order: its parameter changes (none in a
/// zero-length call), its notes on note port 0, channel 0, and its extras. An error for a note
/// or an extra outside the block.
pub(super) fn fill_events(events: &mut EventBuffer, b: &Block) -> Result<()> {
    let frames = b.frames;
    events.clear();
    if frames > 0 {
        for p in b.params {
            let id = ClapId::from_raw(p.id).context("u32::MAX is not a parameter id")?;
            let time = p.time.min(frames as u32 - 1);
            events.push(&ParamValueEvent::new(time, id, Pckn::match_all(), p.value));
        }
    }
    for n in b.notes {
        ensure!(
            (n.time as usize) < frames,
            "{n:?} is outside a block of {frames} frames"
        );
        // Keys above 127 are sent as they are: out-of-range input is a test case.
        let pckn = Pckn::new(0u16, 0u16, u16::from(n.key), Match::<u32>::All);
        if n.on {
            events.push(&NoteOnEvent::new(n.time, pckn, n.velocity));
        } else {
            events.push(&NoteOffEvent::new(n.time, pckn, n.velocity));
        }
    }
    for e in b.extra {
        let time = e.time();
        ensure!(
            (time as usize) < frames,
            "{e:?} is outside a block of {frames} frames"
        );
        match *e {
            Extra::AllNotesOff(t) => events.push(&NoteOffEvent::new(t, Pckn::match_all(), 0.0)),
            Extra::ChokeAll(t) => events.push(&NoteChokeEvent::new(t, Pckn::match_all())),
            Extra::Midi(t, data) => events.push(&MidiEvent::new(t, 0, data)),
            Extra::IdNote {
                time,
                id,
                channel,
                key,
                velocity,
                on,
            } => {
                let pckn = Pckn::new(0u16, channel, key, id);
                if on {
                    events.push(&NoteOnEvent::new(time, pckn, velocity));
                } else {
                    events.push(&NoteOffEvent::new(time, pckn, velocity));
                }
            }
            Extra::Expression {
                time,
                id,
                key,
                kind,
                value,
            } => {
                let pckn = Pckn::new(0u16, 0u16, key, id);
                events.push(&NoteExpressionEvent::new(time, pckn, kind, value));
            }
            Extra::ParamMod {
                time,
                id,
                key,
                param,
                amount,
            } => {
                let param = ClapId::from_raw(param).context("u32::MAX is not a parameter id")?;
                let pckn = Pckn::new(0u16, 0u16, key, id);
                events.push(&ParamModEvent::new(time, param, pckn, amount));
            }
        }
    }
    // CLAP wants events in time order; the sort keeps insertion order at equal times, so
    // parameter changes at sample 0 land before notes at sample 0.
    events.sort();
    Ok(())
}
