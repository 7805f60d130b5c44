"""Shared fixtures for the VST3 host tests (dawdreamer, pedalboard).

The bundle comes from $DAR_DDSP_VST3 (set by `cargo xtask test`), else target/bundled.
"""

import os
import pathlib
import re

import numpy as np
import pedalboard
import pedalboard._pedalboard
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SR = 48_000

# The synth's parameters as hosts name them: the 36 θ of the plant, the playing controls, then
# the plugin's own.
THETA_NAMES = [
    "Saw Level", "Pulse Level", "Pulse Width", "Sine Level", "Noise Level",
    "Filter Cutoff", "Filter Resonance", "Filter Env Amount", "Key Tracking",
    "Amp Attack", "Amp Decay", "Amp Sustain", "Amp Release",
    "Filter Attack", "Filter Decay", "Filter Sustain", "Filter Release",
    "Output Gain",
    "LFO Rate", "Vibrato Depth", "Tremolo Depth", "LFO Fade-In", "Drawbar 2", "Drawbar 3",
    "Drawbar 4", "Drawbar 5", "Drawbar 6", "Drawbar 8", "Body 1 Freq", "Body 1 Gain", "Body 1 Q",
    "Body 2 Freq", "Body 2 Gain", "Body 2 Q", "Velocity to Level", "Velocity to Brightness",
]
PLAYING_NAMES = [
    "Bend Range", "MPE", "MPE Bend Range", "Mod Wheel Vibrato", "Pressure Brightness", "Voices",
    "Voice Mode", "Glide", "Velocity Curve",
]
PARAM_NAMES = THETA_NAMES + PLAYING_NAMES + [
    "Sidechain Listen", "Mode", "Vigilance", "Learn Rate", "Resonance", "Prototype",
    "Morph Target", "Morph", "Learner Sync",
]


# pedalboard reads every parameter's text at 2000 points when it loads a plugin, except the
# hidden MIDI CC parameters it knows by JUCE's names ("MIDI CC …"). A VST3 takes MIDI CCs
# through 2080 such parameters, which nice-plug names "MIDI Ch. 1 CC 0" …: without this line,
# pedalboard reads all of them on every load. The README gives pedalboard users the same line.
pedalboard._pedalboard.PARAMETER_NAME_REGEXES_TO_IGNORE.add(re.compile(r"MIDI Ch\. \d+ "))


def load_plugin(path: str):
    """pedalboard's `load_plugin`, with nice-plug's MIDI CC parameters skipped (above)."""
    return pedalboard.load_plugin(path)


@pytest.fixture(scope="session")
def vst3_path() -> str:
    path = pathlib.Path(os.environ.get("DAR_DDSP_VST3", ROOT / "target/bundled/DAR-DDSP.vst3"))
    if not path.exists():
        pytest.fail(f"{path} does not exist: run `cargo xtask test`, which bundles it first")
    return str(path)


def midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def estimate_f0(x: np.ndarray, sr: int = SR, fmin: float = 40.0, fmax: float = 2000.0) -> float:
    """f0 by YIN's cumulative-mean-normalised difference (de Cheveigné & Kawahara 2002),
    with parabolic interpolation of the dip."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean()
    n = len(x)
    max_lag = int(sr / fmin)
    w = n - max_lag
    assert w > max_lag, "segment too short for the lowest pitch"
    # Difference function d(τ) = Σ (x_j − x_{j+τ})² over a fixed window, via FFT correlation.
    frame = x[:w]
    energy = np.concatenate(([0.0], np.cumsum(x * x)))
    size = 1 << int(np.ceil(np.log2(n + w)))
    corr = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(frame, size)), size)[: max_lag + 1]
    lags = np.arange(max_lag + 1)
    d = energy[w] + (energy[lags + w] - energy[lags]) - 2.0 * corr
    cmnd = np.ones_like(d)
    cum = np.cumsum(d[1:])
    cmnd[1:] = d[1:] * lags[1:] / np.maximum(cum, 1e-12)
    lo = int(sr / fmax)
    tau = lo + int(np.argmax(cmnd[lo:] < 0.1)) if np.any(cmnd[lo:] < 0.1) else lo + int(np.argmin(cmnd[lo:]))
    while tau + 1 < len(cmnd) and cmnd[tau + 1] < cmnd[tau]:
        tau += 1
    a, b, c = cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if abs(denom) > 1e-12 else 0.0
    return sr / (tau + shift)


def spectral_centroid(x: np.ndarray, sr: int = SR) -> float:
    x = np.asarray(x, dtype=np.float64)
    mag = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1.0 / sr)
    return float((mag * freqs).sum() / max(mag.sum(), 1e-20))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(np.asarray(x, dtype=np.float64)))))


def assert_clean(audio: np.ndarray) -> None:
    """No NaN, no Inf, no subnormal numbers, nothing absurdly loud."""
    a = np.asarray(audio, dtype=np.float32)
    assert np.all(np.isfinite(a)), "non-finite output"
    tiny = (a != 0) & (np.abs(a) < np.finfo(np.float32).tiny)
    assert not np.any(tiny), f"{int(tiny.sum())} subnormal samples"
    assert np.max(np.abs(a)) < 16.0, f"output peak {np.max(np.abs(a))}"
