"""The real editor, opened headless in the standalone build, learning from recordings: Xvfb,
the standalone with the dummy audio backend and three eval recordings looped into its sidechain
(the plugin's own live learner learns them), xdotool to find and click the window, and
imagemagick's `import` to capture it. The screenshot must not be blank (pixel statistics) and is
kept in target/screenshots/panel.png (the README shows a copy, docs/panel.png). Then a preset
is loaded and saved through the panel's controls."""

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
# Three recordings of 12 s; the shot is taken after all of them were heard and refined.
RECORDINGS = ["fingered_bass.wav", "church_organ.wav", "flute.wav"]
LISTEN_S = 42.0


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


def click(wid, x, y, env):
    run("xdotool", "mousemove", "--window", wid, str(x), str(y), "click", "1", env=env)
    time.sleep(0.8)


def test_the_panel_shows_what_the_learner_learned(tmp_path):
    standalone = os.environ.get("DAR_DDSP_STANDALONE") or str(
        ROOT / "target" / "release" / "dar-ddsp-standalone")
    assert pathlib.Path(standalone).exists(), f"{standalone}: build the standalone first"
    for tool in ("Xvfb", "xdotool", "import", "identify"):
        assert shutil.which(tool), f"{tool} is missing: `cargo xtask setup` installs it"
    env = {**os.environ, "DISPLAY": DISPLAY, "XDG_DATA_HOME": str(tmp_path / "data"),
           "LIBGL_ALWAYS_SOFTWARE": "1"}
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
        run("xdotool", "mousemove", "--window", wid, "400", "300", "click", "1", env=env)
        time.sleep(LISTEN_S)
        assert app.poll() is None, (tmp_path / "standalone.log").read_text()[-2000:]
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
        # (into the user preset directory, here a scratch XDG_DATA_HOME). The window has a
        # fixed size, so the controls are where the screenshot shows them.
        click(wid, 555, 10, env)  # Load preset…
        click(wid, 525, 84, env)  # factory: designed
        click(wid, 798, 10, env)  # Save preset
        saved = tmp_path / "data" / "dar-ddsp" / "presets" / "my memory.json"
        preset = json.loads(wait_for("the saved preset", lambda: saved.exists() and saved.read_text()))
        names = [p["name"] for p in preset["prototypes"]]
        print(f"loaded the designed preset and saved {len(names)} prototypes: {names}")
        assert names[:5] == ["bright saw", "dark square", "breathy flute", "soft pad", "pluck"]
    finally:
        if app is not None:
            app.terminate()
            try:
                app.wait(timeout=10)
            except subprocess.TimeoutExpired:
                app.kill()
        xvfb.terminate()
        xvfb.wait(timeout=10)
