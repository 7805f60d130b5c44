//! DAR-DDSP as a CLAP and VST3 plugin: a thin shell (parameters, process, editor, the learner
//! thread) over `dar-ddsp-core`.

use dar_ddsp_core::live::state::STATE_VERSION;
use dar_ddsp_core::live::{LiveSettings, MAX_PROTOTYPES, MemoryState, Mode, Restored};
use dar_ddsp_core::memory::encoder::EncoderWeights;
use dar_ddsp_core::perform::controls::{Tag, Target};
use dar_ddsp_core::perform::{NoteExpression, Player};
use dar_ddsp_core::plant::algebra::{morph, with_offsets};
use dar_ddsp_core::plant::glide::Glide;
use dar_ddsp_core::plant::theta::ALL;
use dar_ddsp_core::plant::{MAX_VOICES, SPECS, Theta};
use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

mod editor;
pub mod learner;
pub mod params;
pub mod sidechain_file;

use learner::{AudioLinks, CommandLink, LearnerThread, Published, Snapshot};
pub use params::{DarDdspParams, SyncParam};

/// Samples between glide updates while a patch change is gliding (1.3 ms at 48 kHz: far finer
/// than the glide's 0.19 s, and the synth's own 5 ms smoother interpolates between).
const GLIDE_CHUNK: usize = 64;

/// Highest output sample, linear (+24 dBFS). Musical settings stay far below it; a filter at
/// full resonance under a loud chord at +12 dB gain can pass it, and then the ceiling protects
/// ears and speakers. Non-finite samples never leave the plugin either.
pub const CEILING: f32 = 16.0;

/// The plugin instance.
pub struct DarDdsp {
    /// Parameters shared with the host and the editor.
    params: Arc<DarDdspParams>,
    /// The polyphonic plant and its player (voice modes, controllers, expressions). Audio
    /// thread only; rebuilt on the main thread in `activate()`.
    player: Player,
    /// Voice ends the host's full event queue refused (never blocks). Audio thread only.
    voice_ends_dropped: u64,
    /// Peak level of the sidechain over the last block, linear. Audio thread writes, editor reads.
    sidechain_peak: Arc<AtomicF32>,
    /// The learner thread. Main thread only: started in `activate()`, stopped in
    /// `deactivate()` and on drop.
    learner: Option<LearnerThread>,
    /// The audio thread's ends of the learner's links (set with the learner).
    links: Option<AudioLinks>,
    /// What the panel shows. Learner writes, editor reads.
    snapshot: Arc<Mutex<Snapshot>>,
    /// Commands to the learner (editor sends, the running learner receives); made once, so
    /// they outlive learner restarts.
    commands: CommandLink,
    /// The learned patch's second-order glide. Audio thread only.
    glide: Glide,
    /// Whether a learned patch is playing (else the knobs alone). Audio thread only.
    learned: bool,
    /// Whether the host renders offline (the audio thread then lets the learner keep pace).
    /// Set in `activate()`.
    offline: bool,
    /// Whether blocks arrive much faster than real time (a renderer that does not say it is
    /// offline). Audio thread only; reset in `activate()`.
    pace: learner::Pace,
    /// Whether to watch the pace at all: VST3 only, whose headless hosts render as fast as they
    /// can without saying so; CLAP hosts say it with the render extension. Set in `activate()`.
    watch_pace: bool,
    /// Sample rate, Hz. Set in `activate()`.
    sample_rate: f32,
    /// Position in the standalone's sidechain recording, samples. Audio thread only.
    file_pos: usize,
    /// `DAR_DDSP_FAULT=alloc` (debug builds): `process()` allocates, so a test sees
    /// `assert_process_allocs` abort. Set in `activate()`.
    fault_alloc: bool,
    /// Raised by the panel's Audition button (editor writes, audio thread reads); made once.
    audition_request: Arc<AtomicU64>,
    /// Plays the latest file learn's audition when asked. Audio thread only.
    audition: learner::audition::Player,
}

impl Default for DarDdsp {
    fn default() -> Self {
        let params = Arc::new(DarDdspParams::default());
        let player = Player::new(48_000.0, &params.theta());
        let glide = Glide::new(&params.theta());
        let audition_request = Arc::new(AtomicU64::new(0));
        Self {
            params,
            player,
            voice_ends_dropped: 0,
            sidechain_peak: Arc::new(AtomicF32::new(0.0)),
            learner: None,
            links: None,
            snapshot: Arc::new(Mutex::new(Snapshot::default())),
            commands: learner::command_link(),
            glide,
            learned: false,
            offline: false,
            pace: learner::Pace::default(),
            watch_pace: false,
            sample_rate: 48_000.0,
            file_pos: 0,
            fault_alloc: false,
            audition_request: audition_request.clone(),
            audition: learner::audition::Player::new(audition_request),
        }
    }
}

/// Channel layouts: stereo out with a stereo sidechain, and plain stereo out for hosts that
/// cannot route a sidechain (the synth then plays from MIDI alone).
const LAYOUTS: &[AudioIOLayout] = &[
    AudioIOLayout {
        main_input_channels: None,
        main_output_channels: NonZeroU32::new(2),
        aux_input_ports: &[new_nonzero_u32(2)],
        aux_output_ports: &[],
        names: PortNames {
            layout: Some("Stereo + Sidechain"),
            main_input: None,
            main_output: Some("Output"),
            aux_inputs: &["Sidechain"],
            aux_outputs: &[],
        },
    },
    AudioIOLayout {
        main_input_channels: None,
        main_output_channels: NonZeroU32::new(2),
        aux_input_ports: &[],
        aux_output_ports: &[],
        names: PortNames {
            layout: Some("Stereo"),
            main_input: None,
            main_output: Some("Output"),
            aux_inputs: &[],
            aux_outputs: &[],
        },
    },
];

impl Plugin for DarDdsp {
    const NAME: &'static str = "DAR-DDSP";
    const VENDOR: &'static str = "DAR-DDSP";
    const URL: &'static str = env!("CARGO_PKG_HOMEPAGE");
    const EMAIL: &'static str = "dar-ddsp@example.invalid";
    // A debug build says so in its version (semver build metadata): it is the one that carries
    // `assert_process_allocs`.
    const VERSION: &'static str = if cfg!(debug_assertions) {
        concat!(env!("CARGO_PKG_VERSION"), "+debug")
    } else {
        env!("CARGO_PKG_VERSION")
    };

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = LAYOUTS;
    const MIDI_INPUT: MidiConfig = MidiConfig::MidiCCs;
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type Editor = editor::Editor;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn filter_state(state: &mut PluginState) {
        params::fill_missing_knobs(&mut state.params);
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(
            self.params.clone(),
            self.sidechain_peak.clone(),
            self.snapshot.clone(),
            self.commands.sender.clone(),
            self.audition_request.clone(),
        )
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        // Everything the audio thread touches is fixed-size; nothing to allocate per block size.
        self.player = Player::new(buffer_config.sample_rate, &self.params.theta());
        self.player.set_settings(self.params.play_settings());
        self.sample_rate = buffer_config.sample_rate;
        self.offline = buffer_config.process_mode == ProcessMode::Offline;
        self.pace = learner::Pace::default();
        self.watch_pace = context.plugin_api() == PluginApi::Vst3;
        self.fault_alloc = learner::Faults::from_env().alloc;
        self.learned = false;
        // The new learner numbers its clips afresh: nothing half-played carries over.
        self.audition = learner::audition::Player::new(self.audition_request.clone());
        // Hosts activate again after loading a state and when the rate or the render mode
        // changes: each time the learner restarts from the memory the state holds (one thread
        // at a time: the old one is joined first).
        self.start_learner();
        true
    }

    fn deactivate(&mut self) {
        self.stop_learner();
    }

    fn reset(&mut self) {
        self.player.reset();
        self.sidechain_peak.store(0.0, Ordering::Relaxed);
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        // nice-plug splits the block at every automation point, so reading the parameters here
        // lands each change on its exact sample.
        if cfg!(debug_assertions) && self.fault_alloc {
            std::hint::black_box(vec![0u8; 64]);
        }
        let knobs = self.params.theta();
        let num_samples = buffer.samples();
        // The standalone's recording stands in for a sidechain input.
        if let Some(file) = sidechain_file::get().filter(|f| f.sample_rate == self.sample_rate)
            && let Some(sc) = aux.inputs.first_mut()
        {
            sidechain_file::play_into(file, sc.as_slice(), &mut self.file_pos);
        }
        let learned = self.exchange_with_learner(aux, num_samples);
        match learned {
            Some(theta) if self.learned => self.glide.set_target(&theta),
            Some(theta) => {
                // The first learned patch after silence or a restart starts where it is.
                self.glide.jump(&theta);
                self.learned = true;
            }
            None => self.learned = false,
        }
        let dt = 1.0 / self.sample_rate;
        if self.learned {
            self.player
                .synth_mut()
                .set_target(&with_offsets(&self.glide.current(), &knobs));
        } else {
            self.player.synth_mut().set_target(&knobs);
        }
        // The voice count CLAP hosts see stays the pool's 16: the Voices knob and the mono
        // modes use fewer, never more (and telling the host from process() would run its
        // callback inline when a host processes on its main thread).
        self.player.set_settings(self.params.play_settings());

        let outputs = buffer.as_slice();
        let mut next_event = context.next_event();
        let mut pos = 0;
        while pos < num_samples {
            while let Some(event) = next_event {
                if event.timing() as usize > pos {
                    break;
                }
                self.handle_event(event);
                next_event = context.next_event();
            }
            let mut end =
                next_event.map_or(num_samples, |e| (e.timing() as usize).min(num_samples));
            if self.learned && self.glide.is_moving() {
                // A patch change is gliding: update θ every GLIDE_CHUNK samples.
                end = end.min(pos + GLIDE_CHUNK);
                let theta = self.glide.advance((end - pos) as f32 * dt);
                self.player
                    .synth_mut()
                    .set_target(&with_offsets(&theta, &knobs));
            }
            match outputs {
                [left, right, ..] => self
                    .player
                    .render_stereo(&mut left[pos..end], &mut right[pos..end]),
                [mono] => {
                    // One channel (no layout offers it; a host that passes one anyway): the
                    // left channel, the right rendered into scratch and dropped.
                    let mut scratch = [0.0f32; 64];
                    let mut at = pos;
                    while at < end {
                        let stop = (at + scratch.len()).min(end);
                        let part = &mut scratch[..stop - at];
                        self.player.render_stereo(&mut mono[at..stop], part);
                        at = stop;
                    }
                }
                [] => {}
            }
            // Ended voices tell the host, so it can free their per-voice modulation.
            let last = (end.max(pos + 1) - 1) as u32;
            let dropped = &mut self.voice_ends_dropped;
            self.player.drain_ended(|tag| {
                let end = NoteEvent::VoiceTerminated {
                    timing: last,
                    voice_id: tag.id.map_or(VoiceID::Wildcard, VoiceID::ID),
                    channel: Channel::Number(tag.channel),
                    key: Key::Number(tag.key),
                };
                if context.try_send_event(end).is_err() {
                    *dropped += 1;
                }
            });
            pos = end;
        }
        // Events stamped past the block's end (host misbehaviour) still take effect.
        while let Some(event) = next_event {
            self.handle_event(event);
            next_event = context.next_event();
        }

        // The panel's meter: a maximum over the block, cheap enough to keep whether or not the
        // editor is open (nice-plug-egui does not tell an app it closed).
        self.sidechain_peak
            .store(sidechain_peak(aux), Ordering::Relaxed);
        if self.params.sc_listen.value() {
            mix_sidechain(outputs, aux);
        }
        if let Some(links) = self.links.as_mut() {
            self.audition
                .play_into(links.audition(), outputs, num_samples);
        }
        for channel in outputs.iter_mut() {
            ceiling(channel);
        }
        ProcessStatus::Normal
    }
}

impl DarDdsp {
    /// Starts (or restarts) the learner from the memory in the state. Main thread only;
    /// allocates. A memory of this encoder is checked here, so the first block already plays
    /// it; one from another encoder is left to the learner thread, which re-embeds it (a
    /// moment's work). A memory the state refuses (newer, damaged, too large) is reported and
    /// left as it is in the state, and learning starts empty.
    fn start_learner(&mut self) {
        self.stop_learner();
        let weights = match EncoderWeights::shipped() {
            Ok(w) => w,
            Err(e) => {
                nice_error!("DAR-DDSP cannot learn: {e}");
                return;
            }
        };
        let state = self.params.memory.state.read().clone();
        let here = state.prototypes.is_empty() || state.encoder == weights.identity();
        let rate = self.sample_rate;
        let (restored, refused) =
            match here.then(|| state.restore_at(&weights, MAX_PROTOTYPES, rate)) {
                Some(Ok(r)) => {
                    // An older version is stored back in this build's form at once.
                    if state.version != STATE_VERSION {
                        *self.params.memory.state.write() = MemoryState::with_kept(
                            &r.prototypes,
                            r.active,
                            &weights.identity(),
                            &r.kept,
                            &r.own_db,
                            rate,
                        );
                    }
                    (r, None)
                }
                Some(Err(e)) => (Restored::default(), Some(e.to_string())),
                None => (Restored::default(), None),
            };
        // Not checked here: the learner takes it as a freshly loaded state (an offline render
        // waits for that).
        self.params.memory.loaded.store(!here, Ordering::Release);
        let settings = self.settings();
        let started = LearnerThread::start(
            self.sample_rate,
            weights,
            restored,
            &settings,
            Published {
                memory: self.params.memory.state.clone(),
                loaded: self.params.memory.loaded.clone(),
                snapshot: self.snapshot.clone(),
            },
            self.commands.clone(),
        );
        match started {
            Ok((thread, links)) => {
                if let Some(reason) = refused {
                    nice_error!("DAR-DDSP: {reason}");
                    self.snapshot.lock().error = Some(reason.clone());
                    *thread.shared().error.lock() = Some(reason);
                }
                self.learner = Some(thread);
                self.links = Some(links);
            }
            Err(e) => nice_error!("DAR-DDSP cannot start its learner thread: {e}"),
        }
    }

    /// Stops and joins the learner (main thread; the audio thread is not running).
    fn stop_learner(&mut self) {
        self.links = None;
        if let Some(mut l) = self.learner.take() {
            l.stop();
        }
    }

    /// The learner's settings from the parameters.
    fn settings(&self) -> LiveSettings {
        let p = &self.params;
        LiveSettings {
            mode: p.mode.value().into(),
            vigilance: p.vigilance.value(),
            learn_rate: p.learn_rate.value(),
            resonance: p.resonance.value(),
        }
    }

    /// Hands the sidechain to the learner and returns the learned patch to play, if any.
    /// Allocation-free; waits for the learner only in offline renders.
    fn exchange_with_learner(
        &mut self,
        aux: &mut AuxiliaryBuffers,
        len: usize,
    ) -> Option<Theta<f32>> {
        let settings = self.settings();
        let p = &self.params;
        let links = self.links.as_mut()?;
        links.shared.set_settings(&settings);
        // Play mode does not listen: the memory is frozen.
        let listening = settings.mode != Mode::Play;
        if let Some(sc) = aux.inputs.first_mut().filter(|_| listening) {
            let channels = sc.as_slice();
            let n = channels.len();
            if n > 0 && channels.iter().all(|c| c.len() >= len) {
                let scale = 1.0 / n as f32;
                let channels = &*channels;
                links.push((0..len).map(|i| channels.iter().map(|c| c[i]).sum::<f32>() * scale));
            }
        }
        // Offline (said, or seen: far faster than real time), the learner keeps pace with the
        // audio, so a bounce learns the same whatever the machine's speed.
        let fast = self.watch_pace && self.pace.block(len as f64 / self.sample_rate as f64);
        if self.offline || fast || p.sync.value() == SyncParam::EveryBlock {
            links.wait_for_learner(&p.memory.loaded);
        }
        let table = links.table();
        match settings.mode {
            Mode::Play => {
                let a = table.get((p.proto.value() - 1).max(0) as usize)?;
                let b = table
                    .get((p.proto_b.value() - 1).max(0) as usize)
                    .unwrap_or(a);
                Some(morph(a, b, p.morph.value()))
            }
            _ => table.active.and_then(|i| table.get(i)).copied(),
        }
    }

    /// Plays one note, controller or modulation event (allocation-free).
    fn handle_event(&mut self, event: NoteEvent<()>) {
        let p = &mut self.player;
        match event {
            NoteEvent::NoteOn {
                voice_id,
                channel,
                key,
                velocity,
                ..
            } => {
                if let Some(key) = key.number() {
                    let tag = Tag {
                        id: voice_id.id(),
                        channel: channel.number().unwrap_or(0),
                        key,
                    };
                    p.note_on(tag, velocity);
                }
            }
            NoteEvent::NoteOff {
                voice_id,
                channel,
                key,
                ..
            } => p.note_off(target(voice_id, channel, key)),
            NoteEvent::Choke {
                voice_id,
                channel,
                key,
                ..
            } => p.choke(target(voice_id, channel, key)),
            NoteEvent::PolyModulation {
                voice_id,
                poly_modulation_id,
                normalized_offset,
                ..
            } => {
                if let Some(&knob) = self.params.theta_params().get(poly_modulation_id as usize) {
                    let spec = &SPECS[poly_modulation_id as usize];
                    // The host's offset is in the knob's host range; the synth's in θ's own.
                    let base = knob.unmodulated_normalized_value();
                    let at = |u: f32| spec.normalize(knob.preview_plain(u));
                    let offset = at(base + normalized_offset) - at(base);
                    p.poly_modulation(voice_id, ALL[poly_modulation_id as usize], offset);
                }
            }
            NoteEvent::PolyPressure {
                voice_id,
                channel,
                key,
                pressure,
                ..
            } => p.expression(
                target(voice_id, channel, key),
                NoteExpression::Pressure,
                pressure,
            ),
            NoteEvent::PolyVolume {
                voice_id,
                channel,
                key,
                gain,
                ..
            } => p.expression(target(voice_id, channel, key), NoteExpression::Volume, gain),
            NoteEvent::PolyPan {
                voice_id,
                channel,
                key,
                pan,
                ..
            } => p.expression(target(voice_id, channel, key), NoteExpression::Pan, pan),
            NoteEvent::PolyTuning {
                voice_id,
                channel,
                key,
                tuning,
                ..
            } => p.expression(
                target(voice_id, channel, key),
                NoteExpression::Tuning,
                tuning,
            ),
            NoteEvent::PolyVibrato {
                voice_id,
                channel,
                key,
                vibrato,
                ..
            } => p.expression(
                target(voice_id, channel, key),
                NoteExpression::Vibrato,
                vibrato,
            ),
            NoteEvent::PolyBrightness {
                voice_id,
                channel,
                key,
                brightness,
                ..
            } => p.expression(
                target(voice_id, channel, key),
                NoteExpression::Brightness,
                brightness,
            ),
            NoteEvent::MidiChannelPressure {
                channel, pressure, ..
            } => p.channel_pressure(channel, pressure),
            NoteEvent::MidiPitchBend { channel, value, .. } => p.pitch_bend(channel, value),
            NoteEvent::MidiCC {
                channel, cc, value, ..
            } => p.control_change(channel, cc, value),
            _ => {}
        }
    }
}

/// The notes a host event means (CLAP wildcards as `None`).
fn target(voice_id: VoiceID, channel: Channel, key: Key) -> Target {
    Target {
        id: voice_id.id(),
        channel: channel.number(),
        key: key.number(),
    }
}

/// Holds every sample within ±[`CEILING`]; a NaN (never produced by the synth, but this is the
/// last line before the host) becomes silence.
fn ceiling(samples: &mut [f32]) {
    for x in samples.iter_mut() {
        if x.is_nan() {
            *x = 0.0;
        } else if x.abs() > CEILING {
            *x = CEILING.copysign(*x);
        }
    }
}

/// Largest finite absolute sample of the sidechain (NaN and Inf are ignored).
fn sidechain_peak(aux: &mut AuxiliaryBuffers) -> f32 {
    aux.inputs
        .iter_mut()
        .flat_map(|b| b.as_slice().iter())
        .flat_map(|c| c.iter())
        .filter(|x| x.is_finite())
        .fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Adds the sidechain to the output; non-finite samples are dropped so they never reach the host.
fn mix_sidechain(outputs: &mut [&mut [f32]], aux: &mut AuxiliaryBuffers) {
    let Some(sc) = aux.inputs.first_mut() else {
        return;
    };
    let sc = sc.as_slice();
    if sc.is_empty() {
        return;
    }
    for (i, out) in outputs.iter_mut().enumerate() {
        let src = &sc[i.min(sc.len() - 1)];
        for (o, s) in out.iter_mut().zip(src.iter()) {
            if s.is_finite() {
                *o += *s;
            }
        }
    }
}

impl Drop for DarDdsp {
    fn drop(&mut self) {
        self.stop_learner();
    }
}

impl ClapPlugin for DarDdsp {
    const CLAP_ID: &'static str = "org.dar-ddsp.synth";
    const CLAP_POLY_MODULATION_CONFIG: Option<PolyModulationConfig> = Some(PolyModulationConfig {
        max_voice_capacity: MAX_VOICES as u32,
        supports_overlapping_voices: true,
    });
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("A synthesizer that learns timbres from its sidechain");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::Instrument,
        ClapFeature::Synthesizer,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for DarDdsp {
    const VST3_CLASS_ID: [u8; 16] = *b"DarDdspLearnSynt";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Instrument, Vst3SubCategory::Synth];
}

nice_export_clap!(DarDdsp);
nice_export_vst3!(DarDdsp);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_holds_loud_and_non_finite_samples() {
        let mut x = [
            0.5,
            -3.0,
            20.0,
            -1e30,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            16.0,
        ];
        ceiling(&mut x);
        assert_eq!(x, [0.5, -3.0, 16.0, -16.0, 0.0, 16.0, -16.0, 16.0]);
    }
}
