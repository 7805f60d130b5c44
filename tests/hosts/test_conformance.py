"""The VST3 side of the conformance suite (the CLAP side is tests/tests/conformance/): what the
VST3 SDK validator and pluginval check, through pedalboard and dawdreamer — sample rates and
block sizes, parameter fuzz and extremes, state round trips and garbage, a hostile sidechain.

Random choices come from one seed, printed in every failure; CONFORMANCE_SEED=<seed> reruns it.
"""

import os
import time

import dawdreamer as daw
import numpy as np
import pytest

from conftest import SR, load_plugin, rms

SEED = int(os.environ.get("CONFORMANCE_SEED", time.time_ns() % 2**32))
# The plugin's ceiling (+24 dBFS): no sample may pass it.
BOUND = 16.0


def rng(salt: int) -> np.random.Generator:
    return np.random.default_rng([SEED, salt])


def check(audio: np.ndarray, what: str) -> None:
    """Finite, no subnormals, within the ceiling."""
    audio = np.asarray(audio, dtype=np.float32)
    bad = ~np.isfinite(audio)
    assert not bad.any(), f"{what}: non-finite output (seed {SEED})"
    tiny = (audio != 0) & (np.abs(audio) < np.finfo(np.float32).tiny)
    assert not tiny.any(), f"{what}: subnormal output (seed {SEED})"
    peak = float(np.abs(audio).max(initial=0.0))
    assert peak <= BOUND, f"{what}: peak {peak} (seed {SEED})"


def chord(start: float = 0.0, hold: float = 0.2):
    out = []
    for note in (45, 52, 57, 61):
        out.append((bytes([0x90, note, 100]), start))
        out.append((bytes([0x80, note, 0]), start + hold))
    return out


@pytest.mark.parametrize("sample_rate", [22_050, 44_100, 48_000, 96_000, 192_000])
def test_sample_rates_and_block_sizes(vst3_path, sample_rate):
    plugin = load_plugin(vst3_path)
    outs = {}
    for block in (1, 7, 64, 511, 4096, 16_384):
        audio = plugin(chord(), duration=0.3, sample_rate=sample_rate, num_channels=2,
                       buffer_size=block, reset=True)
        check(audio, f"{sample_rate} Hz, blocks of {block}")
        assert rms(audio) > 1e-3, f"{sample_rate} Hz, blocks of {block}: silent"
        outs[block] = audio
    # The synth keeps its own control rate: the block size changes nothing.
    for block, audio in outs.items():
        np.testing.assert_allclose(audio, outs[64], atol=1e-6,
                                   err_msg=f"blocks of {block} vs 64 at {sample_rate} Hz")


def test_parameter_fuzz_and_extremes(vst3_path):
    plugin = load_plugin(vst3_path)
    params = list(plugin.parameters.values())
    r = rng(1)
    for n in range(50):
        for p in params:
            p.raw_value = float(r.random())
        audio = plugin(chord(), duration=5 * 512 / SR, sample_rate=SR, num_channels=2,
                       buffer_size=512, reset=True)
        check(audio, f"random set {n}")
    for name, value in (("all at 0", 0.0), ("all at 1", 1.0)):
        for p in params:
            p.raw_value = value
        audio = plugin(chord(), duration=0.25, sample_rate=SR, num_channels=2, reset=True)
        check(audio, name)


def test_state_round_trips_and_garbage_is_refused(vst3_path):
    a = load_plugin(vst3_path)
    r = rng(2)
    for p in a.parameters.values():
        if p.name != "Mode":
            p.raw_value = float(r.random())
    a([], duration=0.01, sample_rate=SR, num_channels=2)
    state = a.raw_state
    b = load_plugin(vst3_path)
    b.raw_state = state
    assert b.raw_state == state, f"save → load → save changed the state (seed {SEED})"

    reference = b(chord(), duration=0.3, sample_rate=SR, num_channels=2, reset=True)
    check(reference, "the loaded state")
    blobs = {"empty": b"", "truncated to 1": state[:1],
             "truncated to half": state[: len(state) // 2], "truncated by 1": state[:-1]}
    for i in range(3):
        blobs[f"1 MB random #{i}"] = r.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    for what, blob in blobs.items():
        try:
            b.raw_state = blob
        except Exception:  # pedalboard raises when the plugin refuses; refusing is the point.
            pass
        assert b.raw_state == state, f"{what}: the refused state changed the plugin (seed {SEED})"
        audio = b(chord(), duration=0.3, sample_rate=SR, num_channels=2, reset=True)
        check(audio, what)
        # Still the loaded patch: the same samples as before the refused blob.
        np.testing.assert_allclose(audio, reference, atol=1e-6,
                                   err_msg=f"{what}: the sound changed (seed {SEED})")


@pytest.mark.parametrize("signal", ["nan", "inf", "-inf", "denormal", "dc", "clipping", "noise",
                                    "silence"])
def test_hostile_sidechain_in_dawdreamer(vst3_path, signal):
    seconds = 3.0
    n = int(seconds * SR)
    r = rng(3)
    x = {
        "nan": np.full(n, np.nan),
        "inf": np.full(n, np.inf),
        "-inf": np.full(n, -np.inf),
        "denormal": np.full(n, 1e-40),
        "dc": np.full(n, 0.5),
        "clipping": np.sign(np.sin(2 * np.pi * 110 * np.arange(n) / SR)) * 8.0,
        "noise": r.uniform(-1.0, 1.0, n),
        "silence": np.zeros(n),
    }[signal].astype(np.float32)
    engine = daw.RenderEngine(SR, 256)
    sidechain = engine.make_playback_processor("sidechain", np.stack([x, x]))
    synth = engine.make_plugin_processor("synth", vst3_path)
    for k, start in enumerate(np.arange(0.0, seconds - 0.5, 0.5)):
        synth.add_midi_note(48 + k, 100, float(start), 0.4)
    engine.load_graph([(sidechain, []), (synth, ["sidechain"])])
    engine.render(seconds)
    audio = engine.get_audio()
    check(audio, f"sidechain {signal}")
    assert rms(audio) > 1e-3, f"sidechain {signal}: the synth stopped playing"
