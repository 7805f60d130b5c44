//! The performance layer (docs/ARCHITECTURE.md §4.3): plays the plant as a musician's synth.
//! Notes take voices by the voice mode; pitch bend, the mod wheel, the sustain pedal, channel
//! and polyphonic aftertouch, MPE and CLAP note expressions shape each voice; polyphonic
//! modulation offsets a voice's knobs. Allocation-free after [`Player::new`]: every event is
//! handled on the audio thread.

pub mod controls;
pub mod settings;

use crate::num::units::note_to_hz;
use crate::plant::{MAX_VOICES, P, Synth, Theta};
use controls::{CHANNELS, ChannelState, NoteState, Tag, Target};
pub use settings::{PlaySettings, VelocityCurve, VoiceMode};

/// Keys a mono or legato voice remembers while held (beyond, the oldest is forgotten).
const STACK: usize = 16;

/// Voice ends waiting to be told to the host (CLAP's voice-terminated events).
const ENDED: usize = 64;

/// A CLAP note expression, by what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteExpression {
    /// Tuning, semitones.
    Tuning,
    /// Volume, linear gain 0–4.
    Volume,
    /// Pan, −1 to 1.
    Pan,
    /// Brightness, 0–1 (0.5 neutral).
    Brightness,
    /// Pressure, 0–1.
    Pressure,
    /// Vibrato, 0–1.
    Vibrato,
}

/// The polyphonic synth with its player. Audio thread only, after construction.
///
/// ```
/// use dar_ddsp_core::perform::{Player, controls::Tag};
/// use dar_ddsp_core::plant::default_theta;
///
/// let mut player = Player::new(48_000.0, &default_theta());
/// let a4 = Tag { id: None, channel: 0, key: 69 };
/// player.note_on(a4, 0.8);
/// player.pitch_bend(0, 1.0); // full bend up: +2 semitones at the default range
/// let (mut left, mut right) = (vec![0.0; 512], vec![0.0; 512]);
/// player.render_stereo(&mut left, &mut right);
/// assert_eq!(left, right); // no voice is panned
/// assert!(left.iter().any(|x| x.abs() > 0.01));
/// ```
pub struct Player {
    /// The voices and the patch.
    synth: Synth<f32>,
    /// Voice mode, ranges and curves; set from the knobs.
    settings: PlaySettings,
    /// Each MIDI channel's controllers.
    channels: [ChannelState; CHANNELS],
    /// What each voice slot plays and its note's own expressions.
    notes: [NoteState; MAX_VOICES],
    /// Keys held in mono and legato modes, oldest first, with their velocities.
    stack: [(Tag, f32); STACK],
    /// Entries of `stack` in use.
    held: usize,
    /// The pitch of the last note played (MIDI note number), where a glide starts.
    last_note: Option<u8>,
    /// Whether each slot was sounding after the last render, to see voices end.
    sounding: [bool; MAX_VOICES],
    /// Voices that ended or were taken, not yet told to the host.
    ended: [Tag; ENDED],
    /// Entries of `ended` in use.
    ended_len: usize,
    /// Ends that found `ended` full (never expected: it drains every render).
    ended_dropped: u64,
}

impl Player {
    /// A player at `sample_rate` playing `theta`. Allocates (the voices' modulation room).
    pub fn new(sample_rate: f32, theta: &Theta<f32>) -> Self {
        let mut synth = Synth::new(sample_rate, theta);
        synth.enable_voice_modulation();
        Self {
            synth,
            settings: PlaySettings::default(),
            channels: [ChannelState::default(); CHANNELS],
            notes: [NoteState::default(); MAX_VOICES],
            stack: [(Tag::default(), 0.0); STACK],
            held: 0,
            last_note: None,
            sounding: [false; MAX_VOICES],
            ended: [Tag::default(); ENDED],
            ended_len: 0,
            ended_dropped: 0,
        }
    }

    /// The synth, to set its patch or render it.
    pub fn synth_mut(&mut self) -> &mut Synth<f32> {
        &mut self.synth
    }

    /// The synth.
    pub fn synth(&self) -> &Synth<f32> {
        &self.synth
    }

    /// The settings now.
    pub fn settings(&self) -> &PlaySettings {
        &self.settings
    }

    /// Applies new settings; a change of mode or polyphony releases the voices it takes away,
    /// a change of range re-reads every controller.
    pub fn set_settings(&mut self, s: PlaySettings) {
        if s == self.settings {
            return;
        }
        let voices = match s.mode {
            VoiceMode::Poly => s.polyphony,
            VoiceMode::Mono | VoiceMode::Legato => 1,
        };
        if s.mode != self.settings.mode {
            self.held = 0;
        }
        self.settings = s;
        self.synth.set_polyphony(voices);
        self.refresh(|_| true);
    }

    /// A key goes down.
    pub fn note_on(&mut self, tag: Tag, velocity: f32) {
        let velocity = self.settings.velocity.apply(velocity);
        if velocity <= 0.0 {
            self.note_off(tag);
            return;
        }
        match self.settings.mode {
            VoiceMode::Poly => {
                let from = self.last_note;
                if let Some(slot) = self.start(tag, velocity) {
                    self.glide(slot, from, tag.key);
                }
            }
            VoiceMode::Mono | VoiceMode::Legato => self.mono_on(tag, velocity),
        }
        self.last_note = Some(tag.key);
    }

    /// A key goes up (a wildcard key or channel: every matching key).
    pub fn note_off(&mut self, target: impl Into<Target>) {
        let target = target.into();
        if self.settings.mode != VoiceMode::Poly {
            self.mono_off(target);
            return;
        }
        for slot in 0..MAX_VOICES {
            if self.notes[slot].key_down
                && target.matches(&self.notes[slot].tag)
                && self.synth.voices()[slot].is_active()
            {
                self.key_up(slot);
            }
        }
    }

    /// Silences the matching notes at once (a host's choke).
    pub fn choke(&mut self, target: Target) {
        for slot in 0..MAX_VOICES {
            if target.matches(&self.notes[slot].tag) && self.synth.voices()[slot].is_active() {
                self.synth.voice_mut(slot).reset();
                self.notes[slot].key_down = false;
            }
        }
        self.held = 0;
    }

    /// Pitch bend on `channel`, `value` 0–1 with 0.5 at rest (MIDI's 14 bits, normalised).
    pub fn pitch_bend(&mut self, channel: u8, value: f32) {
        if let Some(ch) = self.channels.get_mut(channel as usize)
            && value.is_finite()
        {
            ch.bend = ((value - 0.5) * 2.0).clamp(-1.0, 1.0);
            self.refresh_channel(channel);
        }
    }

    /// Channel pressure on `channel`, 0–1.
    pub fn channel_pressure(&mut self, channel: u8, value: f32) {
        if let Some(ch) = self.channels.get_mut(channel as usize)
            && value.is_finite()
        {
            ch.pressure = value.clamp(0.0, 1.0);
            self.refresh_channel(channel);
        }
    }

    /// A MIDI control change, `value` 0–1: the mod wheel (1), the sustain pedal (64), timbre
    /// (74), all sound off (120), reset all controllers (121) and all notes off (123).
    pub fn control_change(&mut self, channel: u8, cc: u8, value: f32) {
        let Some(ch) = self.channels.get_mut(channel as usize) else {
            return;
        };
        let value = if value.is_finite() {
            value.clamp(0.0, 1.0)
        } else {
            0.0
        };
        match cc {
            1 => ch.wheel = value,
            74 => ch.timbre = value,
            // MIDI 1.0: 0–63 is off, 64–127 on.
            64 => {
                let down = value >= 64.0 / 127.0 - 1e-4;
                let was = std::mem::replace(&mut ch.sustain, down);
                if was && !down {
                    self.pedal_up();
                }
                return;
            }
            120 => {
                self.synth.silence();
                self.held = 0;
                return;
            }
            121 => {
                let sustained = ch.sustain;
                *ch = ChannelState::default();
                if sustained {
                    self.pedal_up();
                }
            }
            123 => {
                self.synth.all_notes_off();
                self.notes.iter_mut().for_each(|n| n.key_down = false);
                self.held = 0;
                return;
            }
            _ => return,
        }
        self.refresh_channel(channel);
    }

    /// A CLAP note expression (or polyphonic aftertouch, as [`NoteExpression::Pressure`]) for
    /// the matching notes.
    pub fn expression(&mut self, target: Target, kind: NoteExpression, value: f32) {
        if !value.is_finite() {
            return;
        }
        let mut any = false;
        for n in self.notes.iter_mut().filter(|n| target.matches(&n.tag)) {
            match kind {
                NoteExpression::Tuning => n.tuning = value.clamp(-128.0, 128.0),
                NoteExpression::Volume => n.volume = value.clamp(0.0, 4.0),
                NoteExpression::Pan => n.pan = value.clamp(-1.0, 1.0),
                NoteExpression::Brightness => n.brightness = value.clamp(0.0, 1.0),
                NoteExpression::Pressure => n.pressure = value.clamp(0.0, 1.0),
                NoteExpression::Vibrato => n.vibrato = value.clamp(0.0, 1.0),
            }
            any = true;
        }
        if any {
            self.refresh(|n| target.matches(&n.tag));
        }
    }

    /// Polyphonic modulation: offsets θ `p` of the voice the host calls `id` by `offset` of the
    /// knob's range (normalised units).
    pub fn poly_modulation(&mut self, id: i32, p: P, offset: f32) {
        for slot in 0..MAX_VOICES {
            if self.notes[slot].tag.id == Some(id) && self.synth.voices()[slot].is_active() {
                self.synth.set_voice_offset(slot, p, offset);
            }
        }
    }

    /// The offset of θ `p` on the voice playing `id`, if one does.
    pub fn voice_offset(&self, id: i32, p: P) -> Option<f32> {
        (0..MAX_VOICES)
            .find(|&s| self.notes[s].tag.id == Some(id) && self.synth.voices()[s].is_active())
            .map(|s| self.synth.voice_offset(s, p))
    }

    /// Renders a stereo pair and notes the voices that ended.
    pub fn render_stereo(&mut self, left: &mut [f32], right: &mut [f32]) {
        self.synth.render_stereo(left, right);
        for slot in 0..MAX_VOICES {
            let now = self.synth.voices()[slot].is_active();
            if self.sounding[slot] && !now {
                self.notes[slot].key_down = false;
                self.push_ended(self.notes[slot].tag);
            }
            self.sounding[slot] = now;
        }
    }

    /// Hands every voice end since the last call to `f` (oldest first) and forgets them.
    pub fn drain_ended(&mut self, mut f: impl FnMut(Tag)) {
        for tag in &self.ended[..self.ended_len] {
            f(*tag);
        }
        self.ended_len = 0;
    }

    /// Voice ends lost to a full queue since the start.
    pub fn ended_dropped(&self) -> u64 {
        self.ended_dropped
    }

    /// Silences everything and forgets held keys and controllers (the host's reset).
    pub fn reset(&mut self) {
        self.synth.reset();
        self.channels = [ChannelState::default(); CHANNELS];
        self.notes = [NoteState::default(); MAX_VOICES];
        self.held = 0;
        self.last_note = None;
        self.sounding = [false; MAX_VOICES];
        self.ended_len = 0;
    }

    /// Starts `tag` on a voice of its own (poly) and returns the slot.
    fn start(&mut self, tag: Tag, velocity: f32) -> Option<usize> {
        let slot =
            self.synth
                .start_voice(tag.key, tag.channel, note_to_hz(tag.key as f32), velocity)?;
        let old = self.notes[slot].tag;
        if self.sounding[slot] && old != tag {
            // A stolen (or retaken) voice ends its old note for the host.
            self.push_ended(old);
        }
        self.sounding[slot] = true;
        self.notes[slot] = NoteState::new(tag);
        self.apply(slot);
        Some(slot)
    }

    /// Slides the voice in `slot` from note `from` to `to` if glide is set.
    fn glide(&mut self, slot: usize, from: Option<u8>, to: u8) {
        if let Some(from) = from.filter(|_| self.settings.glide_seconds > 0.0) {
            let rate = self.synth.control_rate();
            let secs = self.settings.glide_seconds;
            self.synth.voice_mut(slot).expression_mut().glide_from(
                from as f32 - to as f32,
                secs,
                rate,
            );
        }
    }

    /// Mono and legato: a key goes down.
    fn mono_on(&mut self, tag: Tag, velocity: f32) {
        let was_held = self.held > 0;
        self.forget(Target {
            id: None,
            channel: Some(tag.channel),
            key: Some(tag.key),
        });
        if self.held == STACK {
            self.stack.copy_within(1.., 0);
            self.held -= 1;
        }
        self.stack[self.held] = (tag, velocity);
        self.held += 1;
        let from = self.last_note;
        if self.settings.mode == VoiceMode::Legato && was_held && self.synth.voices()[0].is_active()
        {
            self.legato_to(tag, from);
        } else if let Some(slot) = self.start(tag, velocity) {
            self.glide(slot, from, tag.key);
        }
    }

    /// Mono and legato: a key goes up; the voice returns to the last key still held.
    fn mono_off(&mut self, target: Target) {
        let sounding = self.notes[0].tag;
        self.forget(target);
        if !target.matches(&sounding) || !self.notes[0].key_down {
            return;
        }
        if self.held == 0 {
            self.key_up(0);
            return;
        }
        let (tag, velocity) = self.stack[self.held - 1];
        let from = Some(sounding.key);
        if self.settings.mode == VoiceMode::Legato {
            self.legato_to(tag, from);
        } else if let Some(slot) = self.start(tag, velocity) {
            self.glide(slot, from, tag.key);
        }
        self.last_note = Some(tag.key);
    }

    /// Moves the sounding voice to `tag` without restarting its envelopes.
    fn legato_to(&mut self, tag: Tag, from: Option<u8>) {
        let old = self.notes[0].tag;
        if old.id != tag.id {
            self.push_ended(old);
        }
        let voice = self.synth.voice_mut(0);
        voice.retune(tag.key, note_to_hz(tag.key as f32));
        voice.set_channel(tag.channel);
        voice.set_pedal_held(false);
        self.notes[0] = NoteState::new(tag);
        self.apply(0);
        self.glide(0, from, tag.key);
    }

    /// Removes the keys `target` matches from the mono stack.
    fn forget(&mut self, target: Target) {
        let mut kept = 0;
        for i in 0..self.held {
            if !target.matches(&self.stack[i].0) {
                self.stack[kept] = self.stack[i];
                kept += 1;
            }
        }
        self.held = kept;
    }

    /// The key of `slot` is up: the voice releases, unless the sustain pedal holds it.
    fn key_up(&mut self, slot: usize) {
        self.notes[slot].key_down = false;
        if controls::pedal_holds(&self.notes[slot], &self.channels, &self.settings) {
            self.synth.voice_mut(slot).set_pedal_held(true);
        } else {
            self.synth.voice_mut(slot).release();
        }
    }

    /// A sustain pedal went up: the voices it held release (a pedal still down elsewhere, as an
    /// MPE master's, keeps its own).
    fn pedal_up(&mut self) {
        for slot in 0..MAX_VOICES {
            let voice = &self.synth.voices()[slot];
            if voice.is_pedal_held()
                && !controls::pedal_holds(&self.notes[slot], &self.channels, &self.settings)
            {
                let v = self.synth.voice_mut(slot);
                v.set_pedal_held(false);
                v.release();
            }
        }
    }

    /// Re-reads the controllers of the notes on `channel` (all notes for an MPE master).
    fn refresh_channel(&mut self, channel: u8) {
        let all = self.settings.mpe && channel == 0;
        self.refresh(|n| all || n.tag.channel == channel);
    }

    /// Re-reads the controllers and expressions of the sounding notes `which` picks.
    fn refresh(&mut self, which: impl Fn(&NoteState) -> bool) {
        for slot in 0..MAX_VOICES {
            if self.synth.voices()[slot].is_active() && which(&self.notes[slot]) {
                self.apply(slot);
            }
        }
    }

    fn apply(&mut self, slot: usize) {
        let e = self.synth.voice_mut(slot).expression_mut();
        controls::apply(&self.notes[slot], &self.channels, &self.settings, e);
    }

    fn push_ended(&mut self, tag: Tag) {
        if self.ended_len < ENDED {
            self.ended[self.ended_len] = tag;
            self.ended_len += 1;
        } else {
            self.ended_dropped += 1;
        }
    }
}

impl From<Tag> for Target {
    fn from(t: Tag) -> Self {
        Self {
            id: t.id,
            channel: Some(t.channel),
            key: Some(t.key),
        }
    }
}

#[cfg(test)]
mod tests;
