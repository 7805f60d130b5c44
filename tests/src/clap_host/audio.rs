//! The process call: buffers sized at activation, what one call gets ([`Block`]) and gives
//! ([`BlockOut`]), the audio side that makes it with the host's canaries around every buffer,
//! and the block statistics of the whole process.

use super::callbacks::TestHost;
use super::events::{Extra, NoteEv, ParamEv, Transport, fill_events};
use super::ports::AudioPortDesc;
use anyhow::{Context, Result, bail, ensure};
use clack_host::events::Match;
use clack_host::events::event_types::NoteEndEvent;
use clack_host::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Audio and event storage for process calls, sized at activation so processing never
/// reallocates (clack's `AudioPorts` must hold every channel pointer without growing).
pub(super) struct ProcessBuffers {
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
    pub(super) fn new(
        inputs: &[AudioPortDesc],
        outputs: &[AudioPortDesc],
        max_frames: usize,
    ) -> Self {
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
    /// Note ids of the voices the plugin said ended (CLAP note-end events), in order.
    pub ended: Vec<u32>,
}

/// The audio side of an active plugin: what the audio thread of a DAW owns. It can move to
/// another thread (see [`ClapHost::split`](super::ClapHost::split)).
pub struct AudioSide {
    /// The plugin's audio processor.
    pub(super) processor: PluginAudioProcessor<TestHost>,
    /// Buffers of this activation.
    pub(super) buffers: ProcessBuffers,
    /// Input ports of this activation.
    pub(super) input_ports: Vec<AudioPortDesc>,
    /// Index of the main output port.
    pub(super) main_out: usize,
    /// Note input ports.
    pub(super) note_inputs: u32,
    /// Largest block of this activation.
    pub(super) max_frames: u32,
    /// Samples processed since loading (CLAP `steady_time`).
    pub(super) steady_time: u64,
    /// Whether this activation renders offline (its calls may wait on purpose: not counted in
    /// the worst block time).
    pub(super) offline: bool,
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

        fill_events(events, b)?;

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
        let ended = out_events
            .iter()
            .filter_map(|e| e.as_event::<NoteEndEvent>())
            .filter_map(|e| match e.note_id() {
                Match::Specific(id) => Some(id),
                Match::All => None,
            })
            .collect();
        Ok(BlockOut {
            out,
            elapsed,
            ended,
        })
    }
}
