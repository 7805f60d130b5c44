"""Live learning through dawdreamer (VST3), as a user does it in a DAW: a recording plays into
the sidechain in Learn mode, then the same notes come from MIDI alone in Play mode. Distances are
the project's yardstick, computed by `dar-ddsp distance` (DESIGN.md §8)."""

import json
import os
import pathlib
import subprocess
import tempfile
import wave

import dawdreamer as daw
import numpy as np
import pytest

from conftest import ROOT, SR, assert_clean

EVAL = ROOT.parent / "shared" / "eval"
BLOCK = 512


def cli() -> str:
    """The `dar-ddsp` command: $DAR_DDSP_CLI (set by `cargo xtask test`), else a built one."""
    if "DAR_DDSP_CLI" in os.environ:
        return os.environ["DAR_DDSP_CLI"]
    for build in ("debug", "release"):
        path = ROOT / "target" / build / "dar-ddsp"
        if path.exists():
            return str(path)
    pytest.fail("no dar-ddsp binary: run `cargo xtask test`, which builds it first")


def read_wav(path: pathlib.Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() == SR
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def write_wav(path: pathlib.Path, x: np.ndarray) -> None:
    peak = max(float(np.max(np.abs(x))), 1e-9)
    pcm = np.round(x / peak * 0.9 * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def distance(candidate: np.ndarray, target: np.ndarray) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        a, b = pathlib.Path(tmp, "a.wav"), pathlib.Path(tmp, "b.wav")
        write_wav(a, candidate)
        write_wav(b, target)
        out = subprocess.run([cli(), "distance", str(a), str(b)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return float(out.stdout)


def param_index(synth, name: str) -> int:
    for p in synth.get_parameters_description():
        if p["name"] == name:
            return int(p["index"])
    raise AssertionError(f"no parameter named {name!r}")


def recording(name: str):
    labels = json.loads((EVAL / "labels.json").read_text())["files"][f"instruments/{name}"]
    return read_wav(EVAL / "instruments" / name), labels


def play_notes(engine, synth, labels, seconds: float) -> np.ndarray:
    synth.clear_midi()
    for note, onset in zip(labels["midi_notes"], labels["onsets_s"]):
        synth.add_midi_note(note, 100, onset, labels["hold_s"])
    engine.load_graph([(synth, [])])
    engine.render(seconds)
    audio = engine.get_audio()
    assert_clean(audio)
    return audio[0]


def test_learns_from_the_sidechain_then_plays_from_midi(vst3_path):
    bass, labels = recording("fingered_bass.wav")
    seconds = len(bass) / SR

    fresh_engine = daw.RenderEngine(SR, BLOCK)
    fresh = fresh_engine.make_plugin_processor("fresh", vst3_path)
    d_default = distance(play_notes(fresh_engine, fresh, labels, seconds), bass)

    engine = daw.RenderEngine(SR, BLOCK)
    synth = engine.make_plugin_processor("synth", vst3_path)
    sidechain = engine.make_playback_processor("sidechain", np.stack([bass, bass]))
    engine.load_graph([(sidechain, []), (synth, ["sidechain"])])
    engine.render(seconds)
    assert_clean(engine.get_audio())

    synth.set_parameter(param_index(synth, "Mode"), 1.0)  # Play
    learned = play_notes(engine, synth, labels, seconds)
    d_learned = distance(learned, bass)
    print(f"bass through dawdreamer: default patch {d_default:.2f} dB, learned {d_learned:.2f} dB")
    assert d_learned <= 0.6 * d_default, (d_learned, d_default)
