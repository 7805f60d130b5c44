//! A minimal CLAP host on clack-host: it loads a `.clap` bundle, instantiates one plugin and
//! drives it the way a DAW would (activate, process blocks of note and parameter events, save and
//! load state), so the tests check the bundle users install rather than the Rust crate.
//!
//! Everything runs on the calling thread, which is both the CLAP main thread and the audio
//! thread. CLAP allows that as long as main-thread and audio-thread calls never overlap, and they
//! cannot here: every call goes through `&mut self`.
//!
//! Parameter values are CLAP values, i.e. whatever the plugin declares in its parameter info.
//! nice-plug declares every continuous parameter as its normalised knob position in `[0, 1]`
//! (stepped ones as `0..=steps`), so plain values go through [`ClapHost::text_to_value`] and
//! [`ClapHost::value_to_text`], the plugin's own conversions.

use anyhow::{Context, Result, anyhow, bail, ensure};
use clack_extensions::audio_ports::{
    AudioPortFlags, AudioPortInfoBuffer, AudioPortRescanFlags, HostAudioPorts, HostAudioPortsImpl,
    PluginAudioPorts,
};
use clack_extensions::note_ports::{
    HostNotePorts, HostNotePortsImpl, NoteDialects, NotePortRescanFlags, PluginNotePorts,
};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamRescanFlags, PluginParams,
};
use clack_extensions::state::{HostState, HostStateImpl, PluginState};
use clack_host::events::Match;
use clack_host::events::event_types::{
    MidiEvent, NoteChokeEvent, NoteOffEvent, NoteOnEvent, ParamValueEvent, TransportEvent,
    TransportFlags,
};
use clack_host::events::{EventFlags, EventHeader};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};
use std::cell::Cell;
use std::ffi::CString;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A note event of one process call (or of a whole [`ClapHost::render`]).
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

/// One parameter as the plugin declares it through the CLAP params extension.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// The CLAP parameter id (stable across sessions).
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Module path ("group/subgroup"), empty at the top level.
    pub module: String,
    /// Lowest CLAP value.
    pub min: f64,
    /// Highest CLAP value.
    pub max: f64,
    /// CLAP value of the default.
    pub default: f64,
}

/// One audio port as the plugin declares it through the CLAP audio-ports extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioPortDesc {
    /// Display name ("Sidechain", "Output", …).
    pub name: String,
    /// Number of channels.
    pub channels: u32,
    /// Whether this is the main port of its direction (otherwise an auxiliary one).
    pub is_main: bool,
}

/// What the plugin has asked of the host so far (requests are recorded, not acted on, except
/// the main-thread callback and parameter flushes, which the host performs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCallbacks {
    /// The plugin asked to be deactivated and reactivated.
    pub restart_requested: bool,
    /// The plugin asked to be activated or to start processing.
    pub process_requested: bool,
    /// Times the plugin asked the host to rescan parameters.
    pub param_rescans: u32,
    /// Times the plugin asked the host to clear references to a parameter.
    pub param_clears: u32,
    /// Times the plugin asked the host to rescan audio ports.
    pub audio_port_rescans: u32,
    /// Times the plugin asked the host to rescan note ports.
    pub note_port_rescans: u32,
    /// The plugin marked its state as changed since the last save.
    pub state_dirty: bool,
}

/// Ties the host's callback handlers together for clack.
struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostParams>()
            .register::<HostState>()
            .register::<HostAudioPorts>()
            .register::<HostNotePorts>()
            .register::<clack_extensions::gui::HostGui>();
    }
}

/// Host state the plugin may touch from any thread.
#[derive(Default)]
struct HostShared {
    /// Set by `request_restart`.
    restart_requested: AtomicBool,
    /// Set by `request_process`.
    process_requested: AtomicBool,
    /// Set by `request_callback`; cleared when the host calls `on_main_thread`.
    callback_requested: AtomicBool,
    /// Set by the params `request_flush`; cleared when the host flushes.
    flush_requested: AtomicBool,
    /// Set when the plugin reports its editor closed or lost.
    gui_closed: AtomicBool,
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }

    fn request_process(&self) {
        self.process_requested.store(true, Ordering::SeqCst);
    }

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

/// The editor lives in a window this host owns: it accepts every size and show/hide request.
impl clack_extensions::gui::HostGuiImpl for HostShared {
    fn resize_hints_changed(&self) {}

    fn request_resize(
        &self,
        _new_size: clack_extensions::gui::GuiSize,
    ) -> Result<(), clack_host::prelude::HostError> {
        Ok(())
    }

    fn request_show(&self) -> Result<(), clack_host::prelude::HostError> {
        Ok(())
    }

    fn request_hide(&self) -> Result<(), clack_host::prelude::HostError> {
        Ok(())
    }

    fn closed(&self, _was_destroyed: bool) {
        self.gui_closed.store(true, Ordering::SeqCst);
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::SeqCst);
    }
}

/// Host state only the main thread touches: counters of what the plugin asked for.
#[derive(Default)]
struct HostMainThread {
    /// Calls to the params `rescan`.
    param_rescans: Cell<u32>,
    /// Calls to the params `clear`.
    param_clears: Cell<u32>,
    /// Calls to the audio-ports `rescan`.
    audio_port_rescans: Cell<u32>,
    /// Calls to the note-ports `rescan`.
    note_port_rescans: Cell<u32>,
    /// Set by the state `mark_dirty`.
    state_dirty: Cell<bool>,
}

/// Adds one to a callback counter.
fn bump(counter: &Cell<u32>) {
    counter.set(counter.get().saturating_add(1));
}

impl MainThreadHandler<'_> for HostMainThread {}

impl HostParamsImplMainThread for HostMainThread {
    fn rescan(&self, _flags: ParamRescanFlags) {
        // Parameter info is read fresh on every `params()` call, so a rescan needs no cache
        // invalidation; counting it lets tests check the plugin announces its changes.
        bump(&self.param_rescans);
    }

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {
        // This host keeps no automation or modulation to clear.
        bump(&self.param_clears);
    }
}

impl HostStateImpl for HostMainThread {
    fn mark_dirty(&self) {
        self.state_dirty.set(true);
    }
}

impl HostAudioPortsImpl for HostMainThread {
    fn is_rescan_flag_supported(&self, _flag: AudioPortRescanFlags) -> bool {
        // Ports are re-read before every activation, which covers every kind of rescan.
        true
    }

    fn rescan(&self, _flags: AudioPortRescanFlags) {
        bump(&self.audio_port_rescans);
    }
}

impl HostNotePortsImpl for HostMainThread {
    fn supported_dialects(&self) -> NoteDialects {
        // Notes go out as CLAP note events only.
        NoteDialects::CLAP
    }

    fn rescan(&self, _flags: NotePortRescanFlags) {
        bump(&self.note_port_rescans);
    }
}

/// Audio and event storage for process calls, sized at activation so processing never
/// reallocates (clack's `AudioPorts` must hold every channel pointer without growing).
struct ProcessBuffers {
    /// Per input port, per channel: `max_frames` samples.
    inputs: Vec<Vec<Vec<f32>>>,
    /// Per output port, per channel: `max_frames` samples.
    outputs: Vec<Vec<Vec<f32>>>,
    /// clack's CLAP buffer descriptors for the inputs.
    input_ports: AudioPorts,
    /// clack's CLAP buffer descriptors for the outputs.
    output_ports: AudioPorts,
    /// Events sent to the plugin in one call.
    events: EventBuffer,
    /// Events the plugin sends back (collected, then dropped).
    out_events: EventBuffer,
}

impl ProcessBuffers {
    /// Storage for the given port layout and block size.
    fn new(inputs: &[AudioPortDesc], outputs: &[AudioPortDesc], max_frames: usize) -> Self {
        let alloc = |ports: &[AudioPortDesc]| -> Vec<Vec<Vec<f32>>> {
            ports
                .iter()
                .map(|p| vec![vec![0.0; max_frames]; p.channels as usize])
                .collect()
        };
        let (inputs, outputs) = (alloc(inputs), alloc(outputs));
        let channels = |ports: &[Vec<Vec<f32>>]| ports.iter().map(Vec::len).sum::<usize>();
        Self {
            input_ports: AudioPorts::with_capacity(channels(&inputs), inputs.len()),
            output_ports: AudioPorts::with_capacity(channels(&outputs), outputs.len()),
            inputs,
            outputs,
            events: EventBuffer::with_capacity(256),
            out_events: EventBuffer::with_capacity(256),
        }
    }
}

/// Sample value written just past the frame count of every buffer before each call: a plugin
/// that writes (or a host that reads) beyond the block changes it.
const CANARY: f32 = 7.7e7;
/// Samples past the frame count checked for the canary.
const CANARY_SPAN: usize = 256;

/// Process calls made by every host in this process.
static BLOCKS: AtomicU64 = AtomicU64::new(0);
/// Longest process call seen, nanoseconds.
static WORST_NS: AtomicU64 = AtomicU64::new(0);
/// Frames of that call.
static WORST_FRAMES: AtomicU64 = AtomicU64::new(0);

/// Process calls made so far by every host in this process, the longest real-time one and its
/// frames.
pub fn block_stats() -> (u64, Duration, u64) {
    (
        BLOCKS.load(Ordering::Relaxed),
        Duration::from_nanos(WORST_NS.load(Ordering::Relaxed)),
        WORST_FRAMES.load(Ordering::Relaxed),
    )
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
    fn event(&self) -> TransportEvent {
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

/// What the sidechain input gets in one call.
#[derive(Debug, Clone, Copy, Default)]
pub enum Sidechain<'a> {
    /// Every input port is passed, with silence (the default).
    #[default]
    Silent,
    /// No input port is passed at all (`audio_inputs_count` 0): a host that routes nothing.
    Absent,
    /// The ports are passed flagged constant, with silence: an inactive bus.
    Constant,
    /// Audio for the first auxiliary input (one slice per channel, at least `frames` long; a
    /// mono one feeds every channel); other input ports get silence.
    Audio(&'a [&'a [f32]]),
}

/// One process call, as a DAW or a validator makes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Block<'a> {
    /// Frames in the call (0 is allowed as a robustness probe).
    pub frames: usize,
    /// Notes, on note port 0, channel 0; `time` below `frames`.
    pub notes: &'a [NoteEv],
    /// Parameter changes.
    pub params: &'a [ParamEv],
    /// Other events; `time` below `frames`.
    pub extra: &'a [Extra],
    /// The sidechain.
    pub sidechain: Sidechain<'a>,
    /// Transport (`None`: the host passes a null transport).
    pub transport: Option<Transport>,
    /// Process in place: the main output's channels are the sidechain's input buffers (needs
    /// [`Sidechain::Audio`]); the inputs are then not checked for being left alone.
    pub in_place: bool,
}

/// What one process call produced.
#[derive(Debug, Clone)]
pub struct BlockOut {
    /// The main output as stereo (a mono output duplicated).
    pub out: [Vec<f32>; 2],
    /// Wall time of the plugin's process call.
    pub elapsed: Duration,
}

/// The audio side of an active plugin: what the audio thread of a DAW owns. It can move to
/// another thread (see [`ClapHost::split`]).
pub struct AudioSide {
    /// The plugin's audio processor.
    processor: PluginAudioProcessor<TestHost>,
    /// Buffers of this activation.
    buffers: ProcessBuffers,
    /// Input ports of this activation.
    input_ports: Vec<AudioPortDesc>,
    /// Index of the main output port.
    main_out: usize,
    /// Note input ports.
    note_inputs: u32,
    /// Largest block of this activation.
    max_frames: u32,
    /// Samples processed since loading (CLAP `steady_time`).
    steady_time: u64,
    /// Whether this activation renders offline (its calls may wait on purpose: not counted in
    /// the worst block time).
    offline: bool,
}

impl AudioSide {
    /// Largest block of this activation.
    pub fn max_frames(&self) -> usize {
        self.max_frames as usize
    }

    /// Runs one process call (see [`Block`]); an error if the plugin fails it or breaks a rule
    /// of the call: an input changed, a sample written past the frame count.
    ///
    /// Outputs are filled with NaN before the call, so a sample the plugin leaves unwritten
    /// shows up as non-finite.
    pub fn process(&mut self, b: &Block) -> Result<BlockOut> {
        let frames = b.frames;
        let max_frames = self.max_frames as usize;
        ensure!(
            frames <= max_frames,
            "{frames} frames exceed the activation's {max_frames}"
        );
        ensure!(
            b.notes.is_empty() || self.note_inputs > 0,
            "the plugin has no note input port for {} note events",
            b.notes.len()
        );
        let sidechain_port = self.input_ports.iter().position(|p| !p.is_main);
        if let Sidechain::Audio(sc) = b.sidechain {
            ensure!(
                sidechain_port.is_some(),
                "sidechain audio given, but the plugin has no auxiliary input port"
            );
            ensure!(!sc.is_empty(), "the sidechain has no channel");
            for (c, ch) in sc.iter().enumerate() {
                ensure!(
                    ch.len() >= frames,
                    "sidechain channel {c} has {} samples for a block of {frames}",
                    ch.len()
                );
            }
        }
        ensure!(
            !b.in_place || matches!(b.sidechain, Sidechain::Audio(_)),
            "in-place processing needs sidechain audio"
        );
        let ProcessBuffers {
            inputs,
            outputs,
            input_ports,
            output_ports,
            events,
            out_events,
        } = &mut self.buffers;

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
            let time = match *e {
                Extra::AllNotesOff(t) | Extra::ChokeAll(t) | Extra::Midi(t, _) => t,
            };
            ensure!(
                (time as usize) < frames,
                "{e:?} is outside a block of {frames} frames"
            );
            match *e {
                Extra::AllNotesOff(t) => events.push(&NoteOffEvent::new(t, Pckn::match_all(), 0.0)),
                Extra::ChokeAll(t) => events.push(&NoteChokeEvent::new(t, Pckn::match_all())),
                Extra::Midi(t, data) => events.push(&MidiEvent::new(t, 0, data)),
            }
        }
        // CLAP wants events in time order; the sort keeps insertion order at equal times, so
        // parameter changes at sample 0 land before notes at sample 0.
        events.sort();

        let canary = |ch: &mut Vec<f32>| {
            let end = (frames + CANARY_SPAN).min(ch.len());
            ch[frames..end].fill(CANARY);
        };
        for (p, port) in inputs.iter_mut().enumerate() {
            for (c, channel) in port.iter_mut().enumerate() {
                let dst = &mut channel[..frames];
                match b.sidechain {
                    Sidechain::Audio(sc) if Some(p) == sidechain_port => {
                        dst.copy_from_slice(&sc[c.min(sc.len() - 1)][..frames]);
                    }
                    _ => dst.fill(0.0),
                }
                canary(channel);
            }
        }
        for channel in outputs.iter_mut().flatten() {
            channel[..frames].fill(f32::NAN);
            canary(channel);
        }
        out_events.clear();
        // In place: the sidechain's channel pointers, to hand out again as the main output's.
        let aliases: Vec<*mut f32> = match (b.in_place, sidechain_port) {
            (true, Some(p)) => inputs[p].iter_mut().map(|ch| ch.as_mut_ptr()).collect(),
            _ => Vec::new(),
        };

        let passed_inputs = match b.sidechain {
            Sidechain::Absent => 0,
            _ => inputs.len(),
        };
        let constant = matches!(b.sidechain, Sidechain::Constant);
        let input_audio = input_ports.with_input_buffers(
            inputs
                .iter_mut()
                .take(passed_inputs)
                .map(move |port| AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only(
                        port.iter_mut()
                            .map(move |ch| InputChannel::from_buffer(&mut ch[..frames], constant)),
                    ),
                }),
        );
        let mut output_audio =
            output_ports.with_output_buffers(outputs.iter_mut().map(move |port| AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only(
                    port.iter_mut().map(move |ch| &mut ch[..frames]),
                ),
            }));
        if !aliases.is_empty() {
            let raw = output_audio.as_raw_buffers();
            let port = &mut raw[self.main_out];
            for c in 0..port.channel_count as usize {
                // SAFETY: `data32` points at clack's array of `channel_count` channel pointers
                // for this call; each alias is a live input channel of at least `frames`
                // samples that nothing else touches until the call returns.
                unsafe { *port.data32.add(c) = aliases[c.min(aliases.len() - 1)] };
            }
        }
        let input_events = InputEvents::from_buffer(&*events);
        let mut output_events = OutputEvents::from_buffer(out_events);
        let transport = b.transport.map(|t| t.event());

        let started = self
            .processor
            .ensure_processing_started()
            .context("the plugin refused to start processing")?;
        let clock = Instant::now();
        started
            .process(
                &input_audio,
                &mut output_audio,
                &input_events,
                &mut output_events,
                Some(self.steady_time),
                transport.as_ref(),
            )
            .with_context(|| format!("the plugin failed to process {frames} frames"))?;
        let elapsed = clock.elapsed();
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        let ns = elapsed.as_nanos() as u64;
        if !self.offline && WORST_NS.fetch_max(ns, Ordering::Relaxed) < ns {
            WORST_FRAMES.store(frames as u64, Ordering::Relaxed);
        }

        // Nothing past the frame count: inputs and outputs keep their canaries.
        let ports = inputs
            .iter()
            .map(|p| ("input", p))
            .chain(outputs.iter().map(|p| ("output", p)));
        for (p, (direction, port)) in ports.enumerate() {
            for (c, channel) in port.iter().enumerate() {
                let end = (frames + CANARY_SPAN).min(channel.len());
                if let Some(i) = channel[frames..end]
                    .iter()
                    .position(|&x| x.to_bits() != CANARY.to_bits())
                {
                    bail!(
                        "a sample past the block was written: {direction} port {p} channel {c}, \
                         sample {} of a {frames}-frame call",
                        frames + i
                    );
                }
            }
        }
        // Inputs are the host's: the plugin must leave them as they were.
        if !b.in_place {
            for (p, port) in inputs.iter().enumerate() {
                for (c, channel) in port.iter().enumerate() {
                    let changed = match b.sidechain {
                        Sidechain::Audio(sc) if Some(p) == sidechain_port => channel[..frames]
                            .iter()
                            .zip(&sc[c.min(sc.len() - 1)][..frames])
                            .position(|(a, b)| a.to_bits() != b.to_bits()),
                        _ => channel[..frames].iter().position(|x| x.to_bits() != 0),
                    };
                    if let Some(i) = changed {
                        bail!("the plugin changed input port {p} channel {c} at sample {i}");
                    }
                }
            }
        }

        let main = match (b.in_place, sidechain_port) {
            (true, Some(p)) => &inputs[p],
            _ => &outputs[self.main_out],
        };
        let left = main.first().context("the main output has no channel")?;
        let right = main.get(1).unwrap_or(left);
        let out = [left[..frames].to_vec(), right[..frames].to_vec()];
        self.steady_time += frames as u64;
        Ok(BlockOut { out, elapsed })
    }
}

/// The main-thread side of an active plugin while its audio side runs elsewhere (see
/// [`ClapHost::split`]): what a DAW's main thread does meanwhile.
pub struct MainSide<'h> {
    /// The plugin instance.
    instance: &'h mut PluginInstance<TestHost>,
    /// The params extension.
    params_ext: Option<PluginParams>,
    /// The state extension.
    state_ext: Option<PluginState>,
}

impl MainSide<'_> {
    /// The plugin's state.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        self.save_state_chunked(usize::MAX)
    }

    /// [`Self::save_state`] through a stream that takes at most `max_write` bytes per call:
    /// CLAP lets a host's stream accept less than it is given.
    pub fn save_state_chunked(&mut self, max_write: usize) -> Result<Vec<u8>> {
        let ext = self
            .state_ext
            .context("the plugin has no state extension")?;
        let mut writer = ChunkWriter {
            bytes: Vec::new(),
            max: max_write.max(1),
        };
        ext.save(&self.instance.plugin_handle(), &mut writer)
            .context("the plugin failed to save its state")?;
        Ok(writer.bytes)
    }

    /// Loads a state (an error when the plugin rejects it).
    pub fn load_state(&mut self, state: &[u8]) -> Result<()> {
        self.load_state_chunked(state, usize::MAX)
    }

    /// [`Self::load_state`] through a stream that gives at most `max_read` bytes per call.
    pub fn load_state_chunked(&mut self, state: &[u8], max_read: usize) -> Result<()> {
        let ext = self
            .state_ext
            .context("the plugin has no state extension")?;
        let mut reader = ChunkReader {
            bytes: state,
            max: max_read.max(1),
        };
        ext.load(&self.instance.plugin_handle(), &mut reader)
            .with_context(|| format!("the plugin rejected a state of {} bytes", state.len()))
    }

    /// The current CLAP value of parameter `id`.
    pub fn param_value(&mut self, id: u32) -> Result<f64> {
        let ext = self
            .params_ext
            .context("the plugin has no params extension")?;
        let clap_id = ClapId::from_raw(id).context("u32::MAX is not a parameter id")?;
        ext.get_value(&self.instance.plugin_handle(), clap_id)
            .with_context(|| format!("the plugin has no value for parameter {id}"))
    }

    /// The plugin's display text for CLAP value `value` of parameter `id`.
    pub fn value_to_text(&mut self, id: u32, value: f64) -> Result<String> {
        let ext = self
            .params_ext
            .context("the plugin has no params extension")?;
        let clap_id = ClapId::from_raw(id).context("u32::MAX is not a parameter id")?;
        let mut buffer = [0u8; 256];
        let text = ext
            .value_to_text(&self.instance.plugin_handle(), clap_id, value, &mut buffer)
            .map_err(|_| anyhow!("the plugin cannot show value {value} of parameter {id}"))?;
        Ok(String::from_utf8_lossy(text).into_owned())
    }

    /// Runs the plugin's main-thread callback if it asked for one.
    pub fn pump(&mut self) {
        let callback = self
            .instance
            .access_shared_handler(|s| s.callback_requested.swap(false, Ordering::SeqCst));
        if callback {
            self.instance.call_on_main_thread_callback();
        }
    }
}

/// One plugin as a factory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// Plugin id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Vendor.
    pub vendor: String,
    /// Version string.
    pub version: String,
    /// Home page.
    pub url: String,
    /// One-line description.
    pub description: String,
    /// CLAP features ("instrument", "synthesizer", …).
    pub features: Vec<String>,
}

impl Descriptor {
    /// Reads a clack descriptor (missing strings become empty).
    fn of(d: &clack_host::plugin::PluginDescriptor) -> Self {
        let text = |s: Option<&std::ffi::CStr>| {
            s.map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        Self {
            id: text(d.id()),
            name: text(d.name()),
            vendor: text(d.vendor()),
            version: text(d.version()),
            url: text(d.url()),
            description: text(d.description()),
            features: d
                .features()
                .map(|f| f.to_string_lossy().into_owned())
                .collect(),
        }
    }
}

/// What a DAW's plugin scan reads from a bundle: every plugin its factory describes.
pub fn scan(path: &Path) -> Result<Vec<Descriptor>> {
    let entry = open_entry(path)?;
    let factory = entry
        .get_plugin_factory()
        .with_context(|| format!("{} exposes no CLAP plugin factory", path.display()))?;
    Ok(factory.plugin_descriptors().map(Descriptor::of).collect())
}

/// Loads the CLAP bundle at `path` and keeps it mapped for the rest of the process, as DAWs
/// do. If it were unloaded while threads that ran the plugin are still alive, glibc would later
/// call a thread-specific data destructor the library registered on those threads into
/// unmapped memory (SIGSEGV in __nptl_deallocate_tsd, seen with parallel tests). clack caches
/// entries, so the one extra reference costs nothing per load.
fn open_entry(path: &Path) -> Result<PluginEntry> {
    ensure!(path.exists(), "{} does not exist", path.display());
    // SAFETY: loading a shared library runs its initialisers with full access to this
    // process. The bundle is this workspace's own build; a CLAP entry must be loadable.
    let entry = unsafe { PluginEntry::load(path) }
        .map_err(|e| anyhow!("cannot load the CLAP bundle {}: {e}", path.display()))?;
    std::mem::forget(entry.clone());
    Ok(entry)
}

/// A `Write` that takes at most `max` bytes per call, as a host's stream may.
struct ChunkWriter {
    /// What was written.
    bytes: Vec<u8>,
    /// Most bytes per call.
    max: usize,
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.max);
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A `Read` that gives at most `max` bytes per call, as a host's stream may.
struct ChunkReader<'a> {
    /// What is left.
    bytes: &'a [u8],
    /// Most bytes per call.
    max: usize,
}

impl std::io::Read for ChunkReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.max).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// A loaded CLAP plugin instance and everything needed to drive it.
///
/// Dropping it deactivates the plugin, destroys the instance, then releases the bundle.
pub struct ClapHost {
    /// The audio side of the current activation; `None` while inactive. Declared before
    /// `instance` so it goes first: clack only destroys an instance once its processor is gone.
    audio: Option<AudioSide>,
    /// The plugin instance.
    instance: PluginInstance<TestHost>,
    /// The plugin's params extension, if it has one.
    params_ext: Option<PluginParams>,
    /// The plugin's state extension, if it has one.
    state_ext: Option<PluginState>,
    /// The plugin's audio-ports extension, if it has one (without it a plugin has no ports).
    audio_ports_ext: Option<PluginAudioPorts>,
    /// Audio inputs as last read from the plugin.
    input_ports: Vec<AudioPortDesc>,
    /// Audio outputs as last read from the plugin.
    output_ports: Vec<AudioPortDesc>,
    /// Number of note input ports the plugin declares.
    note_inputs: u32,
    /// Parameter changes (id, value, sample offset) waiting for the next process call or flush.
    pending_params: Vec<(ClapId, f64, u32)>,
    /// Samples processed since loading, passed as CLAP `steady_time` (carried across
    /// activations).
    steady_time: u64,
    /// Whether the plugin was last told to render offline (applies from the next activation).
    offline: bool,
    /// The loaded bundle, held only to outlive the instance: last, so it drops last.
    _entry: PluginEntry,
}

impl ClapHost {
    /// Loads the CLAP bundle at `path` and instantiates the plugin `plugin_id` from it.
    ///
    /// On Linux and Windows a bundle is the shared library itself; on macOS clack resolves the
    /// library inside the `.clap` directory.
    pub fn load(path: &Path, plugin_id: &str) -> Result<Self> {
        let entry = open_entry(path)?;
        let factory = entry
            .get_plugin_factory()
            .with_context(|| format!("{} exposes no CLAP plugin factory", path.display()))?;
        let ids: Vec<String> = factory
            .plugin_descriptors()
            .filter_map(|d| d.id())
            .map(|id| id.to_string_lossy().into_owned())
            .collect();
        if !ids.iter().any(|id| id == plugin_id) {
            bail!(
                "no plugin {plugin_id:?} in {}; plugin ids found: {ids:?}",
                path.display()
            );
        }
        let c_id = CString::new(plugin_id).context("plugin id contains a NUL byte")?;
        let host_info = HostInfo::new(
            "DAR-DDSP test host",
            "DAR-DDSP developers",
            "https://example.invalid/dar-ddsp",
            env!("CARGO_PKG_VERSION"),
        )
        .context("invalid host info")?;
        let mut instance = PluginInstance::<TestHost>::new(
            |_| HostShared::default(),
            |_| HostMainThread::default(),
            &entry,
            &c_id,
            &host_info,
        )
        .with_context(|| format!("cannot instantiate {plugin_id} from {}", path.display()))?;

        let (params_ext, state_ext, audio_ports_ext, note_ports_ext) = {
            let handle = instance.plugin_handle();
            (
                handle.get_extension::<PluginParams>(),
                handle.get_extension::<PluginState>(),
                handle.get_extension::<PluginAudioPorts>(),
                handle.get_extension::<PluginNotePorts>(),
            )
        };
        let note_inputs = match note_ports_ext {
            Some(ext) => ext.count(&instance.plugin_handle(), true),
            None => 0,
        };

        let mut host = Self {
            audio: None,
            instance,
            params_ext,
            state_ext,
            audio_ports_ext,
            input_ports: Vec::new(),
            output_ports: Vec::new(),
            note_inputs,
            pending_params: Vec::new(),
            steady_time: 0,
            offline: false,
            _entry: entry,
        };
        host.refresh_ports()?;
        host.pump_callbacks();
        Ok(host)
    }

    /// The id of the plugin, as its descriptor reports it.
    pub fn plugin_id(&self) -> Option<String> {
        let descriptor = self.instance.plugin_shared_handle().descriptor()?;
        Some(descriptor.id()?.to_string_lossy().into_owned())
    }

    /// Audio input ports, as read at load time or at the last activation.
    pub fn input_ports(&self) -> &[AudioPortDesc] {
        &self.input_ports
    }

    /// Audio output ports, as read at load time or at the last activation.
    pub fn output_ports(&self) -> &[AudioPortDesc] {
        &self.output_ports
    }

    /// Number of note input ports.
    pub fn note_input_ports(&self) -> u32 {
        self.note_inputs
    }

    /// Whether the plugin is activated.
    pub fn is_active(&self) -> bool {
        self.audio.is_some()
    }

    /// What the plugin has asked of the host so far.
    pub fn callbacks(&self) -> HostCallbacks {
        let (restart_requested, process_requested) = self.instance.access_shared_handler(|s| {
            (
                s.restart_requested.load(Ordering::SeqCst),
                s.process_requested.load(Ordering::SeqCst),
            )
        });
        self.instance.access_handler(|m| HostCallbacks {
            restart_requested,
            process_requested,
            param_rescans: m.param_rescans.get(),
            param_clears: m.param_clears.get(),
            audio_port_rescans: m.audio_port_rescans.get(),
            note_port_rescans: m.note_port_rescans.get(),
            state_dirty: m.state_dirty.get(),
        })
    }

    /// Activates the plugin for `sample_rate` and blocks of 1 to `max_frames` samples.
    ///
    /// Processing starts lazily, with the first [`Self::process`] call.
    pub fn activate(&mut self, sample_rate: f64, max_frames: u32) -> Result<()> {
        ensure!(!self.is_active(), "the plugin is already active");
        ensure!(
            sample_rate.is_finite() && sample_rate > 0.0,
            "invalid sample rate {sample_rate}"
        );
        // clack panics on a zero block size; refuse it here instead.
        ensure!(max_frames >= 1, "max_frames must be at least 1");
        // The port layout can only change while inactive: read the one this activation gets.
        self.refresh_ports()?;
        let main_out = self.main_output()?;
        ensure!(
            self.output_ports[main_out].channels >= 1,
            "the main output port has no channel"
        );

        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_frames,
        };
        let processor = self
            .instance
            .activate(|_, _| (), config)
            .with_context(|| format!("the plugin refused to activate at {sample_rate} Hz"))?;
        self.audio = Some(AudioSide {
            processor: processor.into(),
            buffers: ProcessBuffers::new(
                &self.input_ports,
                &self.output_ports,
                max_frames as usize,
            ),
            input_ports: self.input_ports.clone(),
            main_out,
            note_inputs: self.note_inputs,
            max_frames,
            steady_time: self.steady_time,
            offline: self.offline,
        });
        self.pump_callbacks();
        Ok(())
    }

    /// Stops processing and deactivates the plugin; a no-op when it is not active.
    pub fn deactivate(&mut self) {
        if let Some(audio) = self.audio.take() {
            self.steady_time = audio.steady_time;
            // `into_stopped` calls stop_processing first when processing had started.
            self.instance.deactivate(audio.processor.into_stopped());
        }
        self.pump_callbacks();
    }

    /// Stops processing (CLAP `stop_processing`) without deactivating; the next process call
    /// starts it again. A no-op when inactive or already stopped.
    pub fn stop_processing(&mut self) {
        if let Some(audio) = self.audio.as_mut() {
            audio.processor.ensure_processing_stopped();
        }
    }

    /// CLAP `reset`: the plugin clears its voices and buffers. A no-op while inactive.
    pub fn reset(&mut self) {
        if let Some(audio) = self.audio.as_mut() {
            audio.processor.reset();
        }
    }

    /// Deactivates the plugin, destroys the instance and releases the bundle, in that order.
    /// Dropping the host does the same; this only makes the end of a test explicit.
    pub fn unload(mut self) {
        self.deactivate();
    }

    /// Runs one process call of `frames` samples and returns the main output, as stereo (a mono
    /// output is duplicated).
    ///
    /// - `notes` go out as CLAP note-on/note-off events on note port 0, channel 0, note id -1
    ///   (the host does not track voices); their `time` must be below `frames`.
    /// - Parameter changes from [`Self::set_param`] go first, at sample 0.
    /// - `sidechain` (one slice per channel, at least `frames` long; a mono sidechain feeds every
    ///   channel) goes to the first auxiliary input port. Every input port gets silence
    ///   otherwise: plugins may read any port they declare.
    ///
    /// Outputs are filled with NaN before the call, so a sample the plugin leaves unwritten
    /// shows up as non-finite. `frames == 0` is allowed as a robustness probe even though it is
    /// below the activation's minimum block size; parameter changes then stay queued.
    pub fn process(
        &mut self,
        notes: &[NoteEv],
        frames: usize,
        sidechain: Option<&[&[f32]]>,
    ) -> Result<[Vec<f32>; 2]> {
        let block = Block {
            frames,
            notes,
            sidechain: sidechain.map_or(Sidechain::Silent, Sidechain::Audio),
            ..Block::default()
        };
        Ok(self.process_block(&block)?.out)
    }

    /// One process call as described by `block` (see [`Block`]), with the parameter changes
    /// queued by [`Self::set_param`] going first. Checks what a validator checks on every
    /// call: inputs unmodified, nothing written past the frame count.
    pub fn process_block(&mut self, block: &Block) -> Result<BlockOut> {
        let audio = self
            .audio
            .as_mut()
            .context("process() needs an active plugin: call activate()")?;
        if block.frames == 0 {
            // Parameter changes stay queued: a zero-length block has no sample to put them on.
            return audio.process(block);
        }
        if self.pending_params.is_empty() {
            return audio.process(block);
        }
        let mut params: Vec<ParamEv> = self
            .pending_params
            .drain(..)
            .map(|(id, value, time)| ParamEv {
                id: id.get(),
                value,
                time,
            })
            .collect();
        params.extend_from_slice(block.params);
        audio.process(&Block {
            params: &params,
            ..*block
        })
    }

    /// Splits the host into its audio side and its main-thread side, so a test can run them on
    /// two threads at once, as a DAW does (`std::thread::scope`). An error while inactive.
    pub fn split(&mut self) -> Result<(&mut AudioSide, MainSide<'_>)> {
        self.flush_params();
        let audio = self
            .audio
            .as_mut()
            .context("split() needs an active plugin: call activate()")?;
        let main = MainSide {
            instance: &mut self.instance,
            params_ext: self.params_ext,
            state_ext: self.state_ext,
        };
        Ok((audio, main))
    }

    /// Renders `total_frames` samples in blocks of at most `block`, with `notes` timed from the
    /// start of the render (each one lands in its block, shifted to the block's start).
    pub fn render(
        &mut self,
        notes: &[NoteEv],
        total_frames: usize,
        block: usize,
    ) -> Result<[Vec<f32>; 2]> {
        self.render_with_sidechain(notes, total_frames, block, None)
    }

    /// [`Self::render`], feeding `sidechain` (one slice per channel, at least `total_frames`
    /// long) to the auxiliary input as [`Self::process`] does.
    pub fn render_with_sidechain(
        &mut self,
        notes: &[NoteEv],
        total_frames: usize,
        block: usize,
        sidechain: Option<&[&[f32]]>,
    ) -> Result<[Vec<f32>; 2]> {
        ensure!(block >= 1, "the block size must be at least 1");
        if let Some(sc) = sidechain {
            for (c, channel) in sc.iter().enumerate() {
                ensure!(
                    channel.len() >= total_frames,
                    "sidechain channel {c} has {} samples for a render of {total_frames}",
                    channel.len()
                );
            }
        }
        let mut sorted = notes.to_vec();
        // Stable: a note-off and a note-on at the same sample keep the caller's order.
        sorted.sort_by_key(|n| n.time);
        if let Some(last) = sorted.last() {
            ensure!(
                (last.time as usize) < total_frames,
                "{last:?} is past the end of a render of {total_frames} frames"
            );
        }

        let mut out = [
            Vec::with_capacity(total_frames),
            Vec::with_capacity(total_frames),
        ];
        let mut block_notes = Vec::new();
        let mut next = 0;
        let mut start = 0;
        while start < total_frames {
            let len = block.min(total_frames - start);
            let offset = u32::try_from(start).context("render longer than u32::MAX frames")?;
            block_notes.clear();
            while let Some(n) = sorted.get(next).filter(|n| (n.time as usize) < start + len) {
                block_notes.push(NoteEv {
                    time: n.time - offset,
                    ..*n
                });
                next += 1;
            }
            let sc_block: Option<Vec<&[f32]>> =
                sidechain.map(|sc| sc.iter().map(|ch| &ch[start..start + len]).collect());
            let [left, right] = self.process(&block_notes, len, sc_block.as_deref())?;
            out[0].extend_from_slice(&left);
            out[1].extend_from_slice(&right);
            start += len;
        }
        Ok(out)
    }

    /// Every parameter the plugin declares, in its order.
    pub fn params(&mut self) -> Result<Vec<ParamInfo>> {
        let Some(ext) = self.params_ext else {
            return Ok(Vec::new());
        };
        let handle = self.instance.plugin_handle();
        let mut buffer = ParamInfoBuffer::new();
        (0..ext.count(&handle))
            .map(|i| -> Result<ParamInfo> {
                let info = ext
                    .get_info(&handle, i, &mut buffer)
                    .with_context(|| format!("the plugin has no info for parameter #{i}"))?;
                Ok(ParamInfo {
                    id: info.id.get(),
                    name: String::from_utf8_lossy(info.name).into_owned(),
                    module: String::from_utf8_lossy(info.module).into_owned(),
                    min: info.min_value,
                    max: info.max_value,
                    default: info.default_value,
                })
            })
            .collect()
    }

    /// The current CLAP value of parameter `id` (changes queued by [`Self::set_param`] while
    /// active only show once a process call or [`Self::flush_params`] delivered them).
    pub fn param_value(&mut self, id: u32) -> Result<f64> {
        self.main_side().param_value(id)
    }

    /// The plugin's display text for CLAP value `value` of parameter `id` ("2.5 kHz").
    pub fn value_to_text(&mut self, id: u32, value: f64) -> Result<String> {
        self.main_side().value_to_text(id, value)
    }

    /// The CLAP value of parameter `id` the plugin parses from `text` ("500 Hz").
    pub fn text_to_value(&mut self, id: u32, text: &str) -> Result<f64> {
        let (ext, clap_id) = self.param_target(id)?;
        let c_text = CString::new(text).context("parameter text contains a NUL byte")?;
        ext.text_to_value(&self.instance.plugin_handle(), clap_id, &c_text)
            .with_context(|| format!("the plugin cannot parse {text:?} for parameter {id}"))
    }

    /// Sets parameter `id` to CLAP value `value`.
    ///
    /// While active the change is queued and goes out as a `ParamValueEvent` at sample 0 of the
    /// next process call (or with [`Self::flush_params`]); while inactive it is flushed at once,
    /// the CLAP way to change parameters without processing.
    pub fn set_param(&mut self, id: u32, value: f64) -> Result<()> {
        self.set_param_at(id, value, 0)
    }

    /// Like [`Self::set_param`], but the event lands at sample `time` of the next process call
    /// (clamped into the block): sample-accurate automation.
    pub fn set_param_at(&mut self, id: u32, value: f64, time: u32) -> Result<()> {
        let (_, clap_id) = self.param_target(id)?;
        self.pending_params.push((clap_id, value, time));
        if !self.is_active() {
            self.flush_params();
        }
        Ok(())
    }

    /// Delivers queued parameter changes through the params extension's `flush` now, without
    /// processing audio.
    pub fn flush_params(&mut self) {
        let requested = self
            .instance
            .access_shared_handler(|s| s.flush_requested.swap(false, Ordering::SeqCst));
        // The plugin may ask for a flush to hand over its own changes, so flush when asked even
        // with nothing queued; otherwise there is nothing to deliver.
        if self.pending_params.is_empty() && !requested {
            return;
        }
        let Some(ext) = self.params_ext else {
            self.pending_params.clear();
            return;
        };
        let mut events = EventBuffer::with_capacity(self.pending_params.len());
        for (id, value, _) in self.pending_params.drain(..) {
            events.push(&ParamValueEvent::new(0, id, Pckn::match_all(), value));
        }
        let input = InputEvents::from_buffer(&events);
        let mut output = OutputEvents::void();
        match self.audio.as_mut() {
            // Active: flush belongs to the audio thread, which is this one, between process calls.
            Some(audio) => {
                ext.flush_active(&mut audio.processor.plugin_handle(), &input, &mut output)
            }
            None => {
                if let Some(mut handle) = self.instance.inactive_plugin_handle() {
                    ext.flush(&mut handle, &input, &mut output);
                }
            }
        }
    }

    /// Opens the plugin's editor embedded in the X11 window `parent` (CLAP gui extension:
    /// create, set_parent, show), then runs what the editor asked of the main thread.
    ///
    /// # Safety
    ///
    /// `parent` must be a live X11 window until [`Self::close_editor`] returns.
    pub unsafe fn open_editor(&mut self, parent: u64) -> Result<()> {
        use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window};
        let handle = self.instance.plugin_handle();
        let gui = handle
            .get_extension::<PluginGui>()
            .context("the plugin has no gui extension")?;
        let config = GuiConfiguration {
            api_type: GuiApiType::X11,
            is_floating: false,
        };
        let main = self.instance.plugin_handle();
        gui.create(&main, config)
            .map_err(|e| anyhow!("gui.create failed: {e:?}"))?;
        // SAFETY: the caller keeps `parent` alive until the editor is destroyed.
        unsafe { gui.set_parent(&main, Window::from_x11_handle(parent as _)) }
            .map_err(|e| anyhow!("gui.set_parent failed: {e:?}"))?;
        gui.show(&main)
            .map_err(|e| anyhow!("gui.show failed: {e:?}"))?;
        self.pump_callbacks();
        Ok(())
    }

    /// Runs the main-thread work the editor asked for (its event loop runs on it, as in a
    /// DAW); call it regularly while the editor is open.
    pub fn pump_editor(&mut self) {
        self.pump_callbacks();
    }

    /// Hides and destroys the editor (CLAP gui extension), then runs pending main-thread work.
    pub fn close_editor(&mut self) -> Result<()> {
        use clack_extensions::gui::PluginGui;
        let handle = self.instance.plugin_handle();
        let gui = handle
            .get_extension::<PluginGui>()
            .context("the plugin has no gui extension")?;
        let main = self.instance.plugin_handle();
        let _ = gui.hide(&main);
        gui.destroy(&main);
        self.pump_callbacks();
        Ok(())
    }

    /// Asks the plugin to render offline (`true`) or in real time, as a DAW does before a
    /// bounce; it takes effect at the next activation. An error if the plugin refuses.
    pub fn set_offline(&mut self, offline: bool) -> Result<()> {
        use clack_extensions::render::{PluginRender, RenderMode};
        let handle = self.instance.plugin_handle();
        let ext = handle
            .get_extension::<PluginRender>()
            .context("the plugin has no render extension")?;
        let mode = if offline {
            RenderMode::Offline
        } else {
            RenderMode::Realtime
        };
        ext.set(&self.instance.plugin_handle(), mode)
            .map_err(|_| anyhow::anyhow!("the plugin refused the render mode"))?;
        self.offline = offline;
        Ok(())
    }

    /// The plugin's state, as its state extension writes it. Queued parameter changes are
    /// flushed first so they are part of it.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        self.save_state_chunked(usize::MAX)
    }

    /// Loads `state` through the plugin's state extension (an error when the plugin rejects it).
    /// Queued parameter changes are flushed first, so they cannot override the loaded state.
    pub fn load_state(&mut self, state: &[u8]) -> Result<()> {
        self.load_state_chunked(state, usize::MAX)
    }

    /// [`Self::save_state`] through a stream that takes at most `max_write` bytes per call:
    /// CLAP lets a host's stream accept less than it is given.
    pub fn save_state_chunked(&mut self, max_write: usize) -> Result<Vec<u8>> {
        self.flush_params();
        let saved = self.main_side().save_state_chunked(max_write);
        self.pump_callbacks();
        saved
    }

    /// [`Self::load_state`] through a stream that gives at most `max_read` bytes per call.
    pub fn load_state_chunked(&mut self, state: &[u8], max_read: usize) -> Result<()> {
        self.flush_params();
        let loaded = self.main_side().load_state_chunked(state, max_read);
        // Pump even after a failure: the plugin may have queued work for the main thread.
        self.pump_callbacks();
        loaded
    }

    /// The main-thread calls (state, parameter values and texts) on this instance.
    fn main_side(&mut self) -> MainSide<'_> {
        MainSide {
            instance: &mut self.instance,
            params_ext: self.params_ext,
            state_ext: self.state_ext,
        }
    }

    /// The instance's descriptor.
    pub fn descriptor(&self) -> Result<Descriptor> {
        let d = self
            .instance
            .plugin_shared_handle()
            .descriptor()
            .context("the instance has no descriptor")?;
        Ok(Descriptor::of(d))
    }

    /// Destroys the plugin the way a misbehaving host does: straight `destroy`, without
    /// stopping or deactivating it first. The host's own wrappers are then leaked on purpose
    /// (they would otherwise deactivate and destroy it a second time).
    pub fn destroy_without_deactivating(self) -> Result<()> {
        let raw = self.instance.raw_instance();
        let destroy = raw.destroy.context("the plugin has no destroy function")?;
        // SAFETY: `raw` is this live instance; nothing else calls into it afterwards, because
        // every wrapper that could is forgotten below without running its drop.
        unsafe { destroy(raw) };
        std::mem::forget(self);
        Ok(())
    }

    /// Runs what the plugin asked the main thread for: its `on_main_thread` callback and
    /// parameter flushes. A DAW does this from its event loop; here it follows every call.
    fn pump_callbacks(&mut self) {
        let (callback, flush) = self.instance.access_shared_handler(|s| {
            (
                s.callback_requested.swap(false, Ordering::SeqCst),
                s.flush_requested.load(Ordering::SeqCst),
            )
        });
        if callback {
            self.instance.call_on_main_thread_callback();
        }
        // While active the next process call delivers everything a flush would.
        if flush && !self.is_active() {
            self.flush_params();
        }
    }

    /// The params extension and the CLAP id for parameter `id`.
    fn param_target(&self, id: u32) -> Result<(PluginParams, ClapId)> {
        let ext = self
            .params_ext
            .context("the plugin has no params extension")?;
        let clap_id = ClapId::from_raw(id).context("u32::MAX is not a valid CLAP parameter id")?;
        Ok((ext, clap_id))
    }

    /// Index of the main output port (the first output when none is flagged main).
    fn main_output(&self) -> Result<usize> {
        ensure!(
            !self.output_ports.is_empty(),
            "the plugin has no audio output port"
        );
        Ok(self
            .output_ports
            .iter()
            .position(|p| p.is_main)
            .unwrap_or(0))
    }

    /// Re-reads the audio port layout (only meaningful while inactive).
    fn refresh_ports(&mut self) -> Result<()> {
        let Some(ext) = self.audio_ports_ext else {
            self.input_ports.clear();
            self.output_ports.clear();
            return Ok(());
        };
        let handle = self.instance.plugin_handle();
        self.input_ports = read_ports(&ext, &handle, true)?;
        self.output_ports = read_ports(&ext, &handle, false)?;
        Ok(())
    }
}

impl Drop for ClapHost {
    fn drop(&mut self) {
        // The fields then drop in declaration order: instance before bundle.
        self.deactivate();
    }
}

/// The input or output ports the plugin declares.
fn read_ports(
    ext: &PluginAudioPorts,
    handle: &PluginMainThreadHandle,
    is_input: bool,
) -> Result<Vec<AudioPortDesc>> {
    let direction = if is_input { "input" } else { "output" };
    let mut buffer = AudioPortInfoBuffer::new();
    (0..ext.count(handle, is_input))
        .map(|i| -> Result<AudioPortDesc> {
            let info = ext
                .get(handle, i, is_input, &mut buffer)
                .with_context(|| format!("the plugin has no info for {direction} port #{i}"))?;
            Ok(AudioPortDesc {
                name: String::from_utf8_lossy(info.name).into_owned(),
                channels: info.channel_count,
                is_main: info.flags.contains(AudioPortFlags::IS_MAIN),
            })
        })
        .collect()
}
