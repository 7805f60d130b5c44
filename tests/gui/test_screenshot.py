"""The real editor, opened headless in the standalone build, learning from recordings: Xvfb,
the standalone with the dummy audio backend and three eval recordings looped into its sidechain
(the plugin's own live learner learns them), xdotool to find and click the window, and
imagemagick's `import` to capture it. The panel writes what it shows to a file
(`DAR_DDSP_PANEL_DUMP`: its cards, and where its named controls are), so the test waits until
the learner's cards are there and clicks controls by name. Then it learns a fourth recording
from the panel's Learn from file field (typing its path). The screenshot must not be blank
(pixel statistics) and is kept in target/screenshots/panel.png (the README shows a copy,
docs/panel.png). Then a preset is loaded and saved through the panel's controls."""

import json
import os
import pathlib
import shutil
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EVAL = ROOT.parent / "shared" / "eval" / "instruments"
DISPLAY = ":97"
# Three recordings of 12 s, looped; the shot is taken once each has a card of its own.
RECORDINGS = ["fingered_bass.wav", "church_organ.wav", "flute.wav"]
# Learned from the panel's Learn from file field before the shot.
FILE_LEARNED = "trumpet.wav"


def run(*args, env=None, check=True):
    return subprocess.run(list(args), env=env, capture_output=True, text=True, check=check)


def wait_for(what, f, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = f()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def panel(dump: pathlib.Path):
    """What the panel last wrote (written atomically, twice a second), or None."""
    try:
        return json.loads(dump.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def click(wid, dump, label, env):
    """Clicks the control the panel says is labelled `label`, once it is drawn."""
    at = wait_for(f"the control {label!r}",
                  lambda: (panel(dump) or {}).get("controls", {}).get(label), timeout=15.0)
    x, y = (round(v) for v in at)
    run("xdotool", "mousemove", "--window", wid, str(x), str(y), "click", "1", env=env)


def test_the_panel_shows_what_the_learner_learned(tmp_path):
    standalone = os.environ.get("DAR_DDSP_STANDALONE") or str(
        ROOT / "target" / "release" / "dar-ddsp-standalone")
    assert pathlib.Path(standalone).exists(), f"{standalone}: build the standalone first"
    for tool in ("Xvfb", "xdotool", "import", "identify"):
        assert shutil.which(tool), f"{tool} is missing: `cargo xtask setup` installs it"
    dump = tmp_path / "panel.json"
    env = {**os.environ, "DISPLAY": DISPLAY, "XDG_DATA_HOME": str(tmp_path / "data"),
           "LIBGL_ALWAYS_SOFTWARE": "1", "DAR_DDSP_PANEL_DUMP": str(dump)}
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = None
    try:
        wait_for("Xvfb", lambda: run("xdotool", "getdisplaygeometry", env=env,
                                     check=False).returncode == 0)
        args = [standalone, "--backend", "dummy", "--sample-rate", "48000", "--period-size", "512"]
        for name in RECORDINGS:
            args += ["--sidechain-file", str(EVAL / name)]
        log = open(tmp_path / "standalone.log", "w")
        app = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        window = wait_for("the editor window", lambda: run(
            "xdotool", "search", "--name", "^DAR-DDSP$", env=env, check=False).stdout.split())
        wid = window[0]
        # The learner hears the three recordings in turn (12 s each, in real time): wait until
        # the panel shows that every note of all three was presented (six notes each, counted
        # in the cards' wins) and at least one card per recording holds notes.
        started = time.monotonic()

        def learned():
            cards = (panel(dump) or {}).get("cards", [])
            heard = sum(c["uses"] for c in cards)
            keeping = [c for c in cards if c["kept"] > 0]
            done = heard >= 6 * len(RECORDINGS) and len(keeping) >= len(RECORDINGS)
            return app.poll() is None and done and cards

        cards = wait_for("learned cards for all three recordings", learned, timeout=150.0)
        assert app.poll() is None, (tmp_path / "standalone.log").read_text()[-2000:]
        print(f"{len(cards)} learned cards after {time.monotonic() - started:.0f} s: "
              f"{[(c['name'], c['kept']) for c in cards]}")

        # Learn from file, as a user would: the path typed into the field, then Enter; the shot
        # shows the finished learn, its audition and the two spectra.
        click(wid, dump, "file path", env)
        run("xdotool", "type", "--delay", "5", str(EVAL / FILE_LEARNED), env=env)
        run("xdotool", "key", "Return", env=env)
        started = time.monotonic()
        learned_file = wait_for("the file learn to end", lambda: (
            (panel(dump) or {}).get("file") or {}).get("done") and panel(dump)["file"],
            timeout=240.0)
        print(f"learned {FILE_LEARNED} from the panel in {time.monotonic() - started:.0f} s: "
              f"{learned_file}")
        assert learned_file["error"] is None and learned_file["notes"] >= 1, learned_file
        assert learned_file["audition"], learned_file
        time.sleep(1.0)  # the panel draws the result
        shots = ROOT / "target" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        shot = shots / "panel.png"
        run("import", "-window", wid, str(shot), env=env)
        stats = run("identify", "-format", "%w %h %k %[fx:standard_deviation] %[fx:mean]",
                    str(shot)).stdout.split()
        width, height, colours = int(stats[0]), int(stats[1]), int(stats[2])
        deviation, mean = float(stats[3]), float(stats[4])
        print(f"screenshot {width}×{height}: {colours} colours, mean {mean:.3f}, "
              f"standard deviation {deviation:.3f}")
        assert width >= 1000 and height >= 700, (width, height)
        assert colours > 200, f"only {colours} colours: the editor did not draw"
        assert deviation > 0.05, f"pixel standard deviation {deviation}: blank"

        # Then as a user would: Load preset… → the designed factory preset, then Save preset
        # (into the user preset directory, here a scratch XDG_DATA_HOME).
        designed = ["bright saw", "dark square", "breathy flute", "soft pad", "pluck"]
        click(wid, dump, "Load preset…", env)
        click(wid, dump, "factory: designed", env)
        wait_for("the designed preset's cards", lambda: [
            c["name"] for c in (panel(dump) or {}).get("cards", [])][:5] == designed)
        click(wid, dump, "Save preset", env)
        saved = tmp_path / "data" / "dar-ddsp" / "presets" / "my memory.json"
        preset = json.loads(wait_for("the saved preset", lambda: saved.exists() and saved.read_text()))
        names = [p["name"] for p in preset["prototypes"]]
        print(f"loaded the designed preset and saved {len(names)} prototypes: {names}")
        assert names[:5] == designed
    finally:
        if app is not None:
            app.terminate()
            try:
                app.wait(timeout=10)
            except subprocess.TimeoutExpired:
                app.kill()
        xvfb.terminate()
        xvfb.wait(timeout=10)
