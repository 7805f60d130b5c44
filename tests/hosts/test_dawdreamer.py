"""The VST3 bundle in dawdreamer: parameters, MIDI, pitch, cutoff, sidechain routing."""

import dawdreamer as daw
import numpy as np
import pytest

from conftest import PARAM_NAMES, SR, assert_clean, estimate_f0, midi_hz, rms, spectral_centroid

BLOCK = 256


def make(vst3_path):
    engine = daw.RenderEngine(SR, BLOCK)
    synth = engine.make_plugin_processor("synth", vst3_path)
    return engine, synth


def param_index(synth, name: str) -> int:
    for p in synth.get_parameters_description():
        if p["name"] == name:
            return int(p["index"])
    raise AssertionError(f"no parameter named {name!r}")


def render(engine, synth, seconds: float) -> np.ndarray:
    engine.load_graph([(synth, [])])
    engine.render(seconds)
    audio = engine.get_audio()
    assert audio.shape[0] == 2, audio.shape
    assert_clean(audio)
    return audio


def test_lists_every_parameter(vst3_path):
    _, synth = make(vst3_path)
    names = [p["name"] for p in synth.get_parameters_description()]
    for name in PARAM_NAMES:
        assert name in names, f"{name} missing from {names}"


@pytest.mark.parametrize("note", [33, 45, 57, 69, 81])
def test_rendered_pitch_matches_the_note(vst3_path, note):
    engine, synth = make(vst3_path)
    synth.add_midi_note(note, 100, 0.0, 1.0)
    audio = render(engine, synth, 1.5)
    held = audio[0, int(0.3 * SR): int(0.9 * SR)]
    assert rms(held) > 0.01, "silent while the note is held"
    f0 = estimate_f0(held)
    assert abs(f0 / midi_hz(note) - 1.0) < 0.01, f"note {note}: {f0:.2f} Hz vs {midi_hz(note):.2f}"
    # The release has finished well before the end.
    assert rms(audio[0, -int(0.1 * SR):]) < 1e-4


def test_lower_cutoff_lowers_the_spectral_centroid(vst3_path):
    centroids = []
    for cutoff in (0.85, 0.6, 0.35):
        engine, synth = make(vst3_path)
        synth.set_parameter(param_index(synth, "Filter Cutoff"), cutoff)
        synth.add_midi_note(48, 100, 0.0, 1.0)
        audio = render(engine, synth, 1.0)
        centroids.append(spectral_centroid(audio[0, int(0.3 * SR): int(0.9 * SR)]))
    assert centroids[0] > centroids[1] > centroids[2], centroids
    assert centroids[0] > 2.0 * centroids[2], centroids


def test_second_processor_feeds_the_sidechain(vst3_path):
    engine, synth = make(vst3_path)
    t = np.arange(int(1.0 * SR)) / SR
    tone = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)
    sidechain = engine.make_playback_processor("sidechain", np.stack([tone, tone]))
    synth.set_parameter(param_index(synth, "Sidechain Listen"), 1.0)
    engine.load_graph([(sidechain, []), (synth, ["sidechain"])])
    engine.render(1.0)
    audio = engine.get_audio()
    assert_clean(audio)
    # No MIDI: the only sound is the sidechain, heard through the Listen switch.
    steady = audio[:, int(0.1 * SR): int(0.9 * SR)]
    assert abs(rms(steady[0]) / (0.5 / np.sqrt(2)) - 1.0) < 0.1, rms(steady[0])
    assert abs(estimate_f0(steady[0, :SR // 4], fmax=2500.0) - 1000.0) < 10.0

    # With Listen off the same routing is silent: the sidechain is for learning, not output.
    engine2, synth2 = make(vst3_path)
    sidechain2 = engine2.make_playback_processor("sidechain", np.stack([tone, tone]))
    engine2.load_graph([(sidechain2, []), (synth2, ["sidechain"])])
    engine2.render(1.0)
    assert rms(engine2.get_audio()) < 1e-6
