"""Playing the VST3 bundle with a keyboard's MIDI bytes in pedalboard: pitch bend, the sustain
pedal and the mod wheel, as a musician's controller sends them.

pedalboard hands a controller change (pitch bend, CCs) to a VST3 as a parameter change at the
start of its 8192-sample buffer, not at the message's own sample, so each is measured where it
holds whatever that buffer: after the message, and 0.2 s before the next one."""

import numpy as np

from conftest import SR, assert_clean, estimate_f0, load_plugin, midi_hz, rms


def sine_synth(vst3_path):
    """The synth playing a pure sine with its filter open, so a pitch is easy to read."""
    plugin = load_plugin(vst3_path)
    names = {p.name: p for p in plugin.parameters.values()}
    for name, value in [("Saw Level", 0.0), ("Sine Level", 1.0), ("Filter Cutoff", 1.0),
                        ("Filter Env Amount", 0.5), ("Amp Sustain", 1.0)]:
        names[name].raw_value = value
    # VST3 hands parameter changes to the processor with the next block, as in a DAW.
    plugin([], duration=0.01, sample_rate=SR, num_channels=2)
    return plugin


def bend(value14: int, t: float):
    """A pitch-bend message on channel 1: 14 bits, 8192 at rest."""
    return (bytes([0xE0, value14 & 0x7F, value14 >> 7]), t)


def cc(number: int, value: int, t: float):
    return (bytes([0xB0, number, value]), t)


def note(on: bool, key: int, t: float):
    return (bytes([0x90 if on else 0x80, key, 100 if on else 0]), t)


def render(plugin, msgs, seconds):
    audio = plugin(msgs, duration=seconds, sample_rate=SR, num_channels=2, reset=True)
    assert_clean(audio)
    return audio[0]


def window(x, start, end):
    return x[int(start * SR): int(end * SR)]


def test_pitch_bend_moves_the_pitch_by_the_bend(vst3_path):
    plugin = sine_synth(vst3_path)
    # A4 held; full bend up at 0.5 s (+2 semitones at the default range), half down at 1 s.
    x = render(plugin, [note(True, 69, 0.0), bend(16383, 0.5), bend(4096, 1.0),
                        note(False, 69, 1.5)], 2.0)
    for (start, end), semitones in [((0.1, 0.3), 0.0), ((0.55, 0.8), 2.0 * 8191 / 8192),
                                    ((1.05, 1.45), -1.0)]:
        f0 = estimate_f0(window(x, start, end))
        want = midi_hz(69 + semitones)
        assert abs(f0 / want - 1.0) < 0.003, f"{f0:.2f} Hz, want {want:.2f} Hz"


def test_the_sustain_pedal_holds_a_released_note_until_it_lifts(vst3_path):
    plugin = sine_synth(vst3_path)
    # Pedal down, note played and released at 0.3 s, pedal up at 1.2 s.
    x = render(plugin, [cc(64, 127, 0.0), note(True, 60, 0.05), note(False, 60, 0.3),
                        cc(64, 0, 1.2)], 2.5)
    held = rms(window(x, 0.6, 0.95))
    assert held > 0.5 * rms(window(x, 0.1, 0.3)), f"faded under the pedal: {held}"
    assert rms(window(x, 2.2, 2.5)) < 1e-3, "still sounding after the pedal lifted"
    # Without the pedal the same note is gone long before.
    y = render(plugin, [note(True, 60, 0.05), note(False, 60, 0.3)], 2.5)
    assert rms(window(y, 0.6, 0.95)) < 0.05 * held


def test_the_mod_wheel_adds_vibrato(vst3_path):
    plugin = sine_synth(vst3_path)
    x = render(plugin, [note(True, 69, 0.0), cc(1, 127, 1.0), note(False, 69, 2.0)], 2.2)

    def spread_cents(seg):
        frames = [estimate_f0(f, fmin=200.0) for f in np.array_split(seg, len(seg) // 960)]
        return 1200.0 * np.log2(max(frames) / min(frames))

    still = spread_cents(window(x, 0.2, 0.8))
    moving = spread_cents(window(x, 1.05, 2.0))
    assert still < 2.0, f"pitch moved without the wheel: {still:.1f} cents"
    # Full wheel: ±50 cents of vibrato at the default depth.
    assert moving > 40.0, f"the wheel did not move the pitch: {moving:.1f} cents"
