//! DAR-DDSP as a CLAP and VST3 plugin: a thin shell (parameters, process, editor) over
//! `dar-ddsp-core`'s plant.

use dar_ddsp_core::plant::Synth;
use nice_plug::prelude::*;
use std::sync::Arc;
use std::sync::atomic::Ordering;

mod editor;
pub mod params;

pub use params::DarDdspParams;

/// The plugin instance.
pub struct DarDdsp {
    /// Parameters shared with the host and the editor.
    params: Arc<DarDdspParams>,
    /// The polyphonic plant. Audio thread only; rebuilt on the main thread in `initialize()`.
    synth: Synth<f32>,
    /// Peak level of the sidechain over the last block, linear. Audio thread writes, editor reads.
    sidechain_peak: Arc<AtomicF32>,
}

impl Default for DarDdsp {
    fn default() -> Self {
        let params = Arc::new(DarDdspParams::default());
        let synth = Synth::new(48_000.0, &params.theta());
        Self {
            params,
            synth,
            sidechain_peak: Arc::new(AtomicF32::new(0.0)),
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
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = LAYOUTS;
    const MIDI_INPUT: MidiConfig = MidiConfig::Basic;
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type Editor = editor::Editor;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(self.params.clone(), self.sidechain_peak.clone())
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        // Everything the audio thread touches is fixed-size; nothing to allocate per block size.
        self.synth = Synth::new(buffer_config.sample_rate, &self.params.theta());
        true
    }

    fn reset(&mut self) {
        self.synth.reset();
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
        self.synth.set_target(&self.params.theta());

        let num_samples = buffer.samples();
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
            let end = next_event.map_or(num_samples, |e| (e.timing() as usize).min(num_samples));
            if let Some((first, rest)) = outputs.split_first_mut() {
                self.synth.render(&mut first[pos..end]);
                for channel in rest.iter_mut() {
                    channel[pos..end].copy_from_slice(&first[pos..end]);
                }
            }
            pos = end;
        }
        // Events stamped past the block's end (host misbehaviour) still take effect.
        while let Some(event) = next_event {
            self.handle_event(event);
            next_event = context.next_event();
        }

        // The meter is GUI-only work: skip it while the editor is closed.
        if self.params.editor_state.is_open() {
            self.sidechain_peak
                .store(sidechain_peak(aux), Ordering::Relaxed);
        }
        if self.params.sc_listen.value() {
            mix_sidechain(outputs, aux);
        }
        ProcessStatus::Normal
    }
}

impl DarDdsp {
    fn handle_event(&mut self, event: NoteEvent<()>) {
        match event {
            NoteEvent::NoteOn { key, velocity, .. } => {
                if let Some(note) = key.number() {
                    self.synth.note_on(note, velocity);
                }
            }
            NoteEvent::NoteOff { key, .. } => match key.number() {
                Some(note) => self.synth.note_off(note),
                None => self.synth.all_notes_off(),
            },
            NoteEvent::Choke { key, .. } => match key.number() {
                Some(note) => self.synth.choke(note),
                None => self.synth.reset(),
            },
            _ => {}
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

impl ClapPlugin for DarDdsp {
    const CLAP_ID: &'static str = "org.dar-ddsp.synth";
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
