"""The VST3 bundle in pedalboard: instrument, parameters, MIDI, state round trip."""

import numpy as np

from conftest import PARAM_NAMES, SR, assert_clean, load_plugin, rms

NOTES = [(48, 0.0, 0.8), (55, 0.25, 0.8), (64, 0.5, 0.6)]


def messages(notes=NOTES, velocity=100):
    out = []
    for note, start, hold in notes:
        out.append((bytes([0x90, note, velocity]), start))
        out.append((bytes([0x80, note, 0]), start + hold))
    return out


def by_name(plugin):
    """Parameters by their display name (pedalboard's keys also carry the unit)."""
    return {p.name: p for p in plugin.parameters.values()}


def test_loads_as_an_instrument_with_every_parameter(vst3_path):
    plugin = load_plugin(vst3_path)
    # pedalboard also reports it as an effect: the sidechain is an audio input.
    assert plugin.is_instrument
    names = by_name(plugin)
    for name in PARAM_NAMES:
        assert name in names, f"{name} not in {list(names)}"


def test_renders_midi(vst3_path):
    plugin = load_plugin(vst3_path)
    audio = plugin(messages(), duration=2.0, sample_rate=SR, num_channels=2)
    assert audio.shape == (2, 2 * SR)
    assert_clean(audio)
    assert rms(audio[:, : SR // 2]) > 0.01
    assert rms(audio[:, -SR // 10:]) < 1e-4
    np.testing.assert_array_equal(audio[0], audio[1])


def test_state_round_trips_into_a_fresh_instance(vst3_path):
    changed = {"Filter Cutoff": 0.3, "Filter Resonance": 0.6, "Pulse Level": 0.75}
    a = load_plugin(vst3_path)
    for name, value in changed.items():
        by_name(a)[name].raw_value = value
    # VST3 hands parameter changes to the processor with the next block, as in a DAW.
    a([], duration=0.01, sample_rate=SR, num_channels=2)
    state = a.raw_state
    assert len(state) > 0

    b = load_plugin(vst3_path)
    b.raw_state = state
    for name, value in changed.items():
        assert abs(by_name(b)[name].raw_value - value) < 1e-6, name
    assert b.raw_state == state

    ra = a(messages(), duration=1.5, sample_rate=SR, num_channels=2, reset=True)
    rb = b(messages(), duration=1.5, sample_rate=SR, num_channels=2, reset=True)
    assert_clean(ra)
    np.testing.assert_array_equal(ra, rb)

    # And the state really changed the sound compared with the default patch.
    c = load_plugin(vst3_path)
    rc = c(messages(), duration=1.5, sample_rate=SR, num_channels=2, reset=True)
    assert np.max(np.abs(rc - ra)) > 1e-3


def test_bad_midi_never_breaks_the_output(vst3_path):
    plugin = load_plugin(vst3_path)
    bad = [
        (bytes([0x80, 60, 0]), 0.0),  # note-off without note-on
        (bytes([0x90, 127, 127]), 0.1),  # highest note
        (bytes([0x90, 0, 1]), 0.1),  # lowest note, softest
        (bytes([0x90, 61, 0]), 0.2),  # note-on with velocity 0 is a note-off
        (bytes([0xB0, 123, 0]), 0.3),  # all notes off: releases the two notes still held
    ]
    audio = plugin(bad, duration=2.0, sample_rate=SR, num_channels=2)
    assert_clean(audio)
    assert np.max(np.abs(audio[:, int(0.1 * SR):int(0.3 * SR)])) > 1e-3, "the notes did not sound"
    # The default release falls 60 dB in 0.3 s: 1.4 s after all-notes-off nothing is left.
    tail = np.max(np.abs(audio[:, int(1.7 * SR):]))
    assert tail < 1e-4, f"a note is stuck: peak {tail} 1.4 s after all-notes-off (CC 123)"


def test_all_sound_off_silences_at_once(vst3_path):
    plugin = load_plugin(vst3_path)
    chord = [(bytes([0x90, n, 100]), 0.0) for n in (48, 55, 64)]
    audio = plugin(chord + [(bytes([0xB0, 120, 0]), 0.5)], duration=1.0, sample_rate=SR,
                   num_channels=2)
    assert_clean(audio)
    assert np.max(np.abs(audio[:, int(0.25 * SR):int(0.5 * SR)])) > 1e-3, "the chord did not sound"
    # All sound off (CC 120) ends the held chord without its release; pedalboard's blocks
    # place the event within 512 samples.
    after = np.max(np.abs(audio[:, int(0.5 * SR) + 512:]))
    assert after < 1e-6, f"still sounding after all-sound-off: peak {after}"
