//! `cargo xtask`: the project's own tasks on top of nice-plug's bundler.
//!
//! - `cargo xtask install` — bundle the release CLAP + VST3 and copy them to `~/.clap` and
//!   `~/.vst3`.
//! - `cargo xtask test` — everything CI checks: formatting, clippy, unit and end-to-end tests,
//!   and the built bundles in real hosts (a CLAP host on clack-host; dawdreamer and pedalboard
//!   for VST3, in a Python virtual environment this task creates).
//! - `cargo xtask setup` — only the system packages and the Python environment.
//! - `cargo xtask train-encoder` — retrain the timbre encoder with its shipped seed and settings
//!   and rewrite `core/assets/encoder.json` (the same bytes on the same toolchain).
//! - `cargo xtask presets` — remake the factory presets in `presets/`: each recording of
//!   `../shared/eval/instruments` learned alone, all of them in sequence as one memory, and the
//!   designed patches (the same bytes on the same toolchain: budgets are in steps).
//! - `cargo xtask bench` — the plant's render beside the fundsp anchor of
//!   `../shared/bench/anchor_fundsp`, run one after the other, and their ratio.
//! - anything else (`bundle …`) goes to nice-plug-xtask.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The plugin package and the bundle name from `bundler.toml`.
const PACKAGE: &str = "dar-ddsp";
const BUNDLE: &str = "DAR-DDSP";

/// Debian packages the build and the host tests need (the README lists the same).
const APT_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libx11-dev",
    "libx11-xcb-dev",
    "libxcb1-dev",
    "libxcb-icccm4-dev",
    "libxcb-dri2-0-dev",
    "libxcursor-dev",
    "libgl-dev",
    "python3",
    "python3-venv",
    "python3-pip",
    // The standalone application's audio backends.
    "libasound2-dev",
    "libjack-jackd2-dev",
    // The headless editor tests: X server (xvfb-run needs xauth), window finder, capture,
    // software OpenGL.
    "xvfb",
    "xauth",
    "xdotool",
    "imagemagick",
    "libgl1-mesa-dri",
];

/// The General MIDI SoundFonts the encoder trains on (neither is FluidR3 nor made from it).
const SOUNDFONT_PACKAGES: &[&str] = &["timgm6mb-soundfont", "csound-soundfont"];

/// Python packages of the VST3 host tests, pinned to the versions checked to work.
const PY_PACKAGES: &[&str] = &[
    "dawdreamer==0.9.0",
    "pedalboard==0.9.26",
    "numpy>=1.26,<3",
    "pytest>=8,<9",
];

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(command) = args.next() else {
        bail!(
            "usage: cargo xtask <install | test | setup | train-encoder | presets | bench | bundle ...>"
        );
    };
    nice_plug_xtask::chdir_workspace_root()?;
    let root = std::env::current_dir()?;
    match command.as_str() {
        "install" => install(&root),
        "test" => test(&root),
        "train-encoder" => {
            install_system_packages(SOUNDFONT_PACKAGES)?;
            let status = Command::new("cargo")
                .args([
                    "run",
                    "--release",
                    "-p",
                    "dar-ddsp-cli",
                    "--",
                    "train-encoder",
                ])
                .args(["--out", "core/assets/encoder.json"])
                .args(args)
                .status()
                .context("cannot run cargo")?;
            if !status.success() {
                bail!("training the encoder failed");
            }
            Ok(())
        }
        "presets" => presets(&root),
        "bench" => bench(&root),
        "setup" => {
            install_system_packages(APT_PACKAGES)?;
            python_env(&root).map(|_| ())
        }
        _ => nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(command).chain(args)),
    }
}

/// Builds the release bundles and copies them where hosts look on Linux.
fn install(root: &Path) -> Result<()> {
    install_system_packages(APT_PACKAGES)?;
    bundle_release(root)?;
    let home = PathBuf::from(std::env::var_os("HOME").context("$HOME is not set")?);
    let bundled = root.join("target/bundled");
    for (name, dir) in [
        (format!("{BUNDLE}.clap"), ".clap"),
        (format!("{BUNDLE}.vst3"), ".vst3"),
    ] {
        let dest_dir = home.join(dir);
        std::fs::create_dir_all(&dest_dir)
            .with_context(|| format!("cannot create {}", dest_dir.display()))?;
        let dest = dest_dir.join(&name);
        copy_tree(&bundled.join(&name), &dest)?;
        println!("installed {}", dest.display());
    }
    // The command line (`dar-ddsp learn / render / eval`) goes where user binaries live.
    run(Command::new("cargo").args(["build", "--release", "--package", "dar-ddsp-cli"]))?;
    let bin_dir = home.join(".local/bin");
    std::fs::create_dir_all(&bin_dir)
        .with_context(|| format!("cannot create {}", bin_dir.display()))?;
    let dest = bin_dir.join("dar-ddsp");
    std::fs::copy(root.join("target/release/dar-ddsp"), &dest)
        .with_context(|| format!("cannot install {}", dest.display()))?;
    println!("installed {}", dest.display());
    // The standalone application, for playing without a DAW.
    build_standalone(true)?;
    let dest = bin_dir.join("dar-ddsp-standalone");
    std::fs::copy(root.join("target/release/dar-ddsp-standalone"), &dest)
        .with_context(|| format!("cannot install {}", dest.display()))?;
    println!("installed {}", dest.display());
    Ok(())
}

/// Builds `dar-ddsp-standalone` into `target/{debug,release}`. Only the binary gets the
/// `standalone` feature (nice-plug's standalone wrapper, JACK and ALSA): the plugin library a
/// bundle packs is a separate build of its own features, which this leaves as it was (cargo
/// keeps one build per feature set), so the two share every other dependency.
fn build_standalone(release: bool) -> Result<()> {
    let mut cargo = Command::new("cargo");
    cargo.arg("build");
    if release {
        cargo.arg("--release");
    }
    run(cargo.args([
        "-p",
        PACKAGE,
        "--features",
        "standalone",
        "--bin",
        "dar-ddsp-standalone",
    ]))
}

/// Everything CI runs.
fn test(root: &Path) -> Result<()> {
    install_system_packages(APT_PACKAGES)?;
    let python = python_env(root)?;

    run(Command::new("cargo").args(["fmt", "--all", "--check"]))?;
    run(Command::new("cargo").args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;

    // Debug bundles first: they carry nice-plug's `assert_process_allocs`, so every host test
    // below also proves process() never allocates. Building the whole workspace with all
    // targets resolves features as `cargo test --workspace` does, so the tests reuse every
    // artifact instead of rebuilding the dependency tree.
    run(Command::new("cargo").args(["build", "--workspace", "--all-targets"]))?;
    bundle_debug_build(root)?;
    let debug_dir = root.join("target/bundled-debug");
    move_dir(&root.join("target/bundled"), &debug_dir)?;
    run(Command::new("cargo")
        .args(["test", "--workspace"])
        .env("DAR_DDSP_CLAP", debug_dir.join(format!("{BUNDLE}.clap"))))?;
    // The editor opened and closed 100 times in the CLAP host, on an X server that outlives
    // every connection the editor made.
    // `--workspace` everywhere: `-p` alone resolves features differently and would rebuild a
    // dozen crates (1.5 minutes) for nothing.
    run(Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24", "cargo", "test"])
        .args([
            "--workspace",
            "--test",
            "editor_clap",
            "--",
            "--ignored",
            "--nocapture",
        ])
        .env("DAR_DDSP_CLAP", debug_dir.join(format!("{BUNDLE}.clap"))))?;

    // Learn from file through the real editor (the path typed into the panel, on an X
    // server), on the debug bundle first: the audition and the interim patches it plays go
    // through process() under `assert_process_allocs`.
    let file_clap = |dir: &Path| {
        run(Command::new("xvfb-run")
            .args(["-a", "-s", "-screen 0 1280x800x24", "cargo", "test"])
            .args([
                "--workspace",
                "--test",
                "file_clap",
                "--",
                "--ignored",
                "--nocapture",
            ])
            .env("DAR_DDSP_CLAP", dir.join(format!("{BUNDLE}.clap"))))
    };
    file_clap(&debug_dir)?;

    clap_validator(root, &debug_dir)?;

    // Then the release bundles a user installs.
    bundle_release(root)?;
    let release_dir = root.join("target/bundled");
    clap_validator(root, &release_dir)?;
    run(Command::new("cargo")
        .args(["test", "--workspace", "--test", "clap_host"])
        .env("DAR_DDSP_CLAP", release_dir.join(format!("{BUNDLE}.clap"))))?;
    // Learning from recordings through the host, on the bundle a user installs (minutes in a
    // debug build; the debug run above covers the same code under `assert_process_allocs`
    // with the ten-minute soak).
    let live_clap = |args: &[&str]| {
        run(Command::new("cargo")
            .args(["test", "--workspace", "--test", "live_clap"])
            .args(args)
            .env("DAR_DDSP_CLAP", release_dir.join(format!("{BUNDLE}.clap"))))
    };
    live_clap(&["--", "--ignored", "--nocapture", "--skip", "in_real_time"])?;
    // Alone, so no other test's learner shares the cores with the one it times.
    live_clap(&["in_real_time", "--", "--ignored", "--nocapture"])?;
    file_clap(&release_dir)?;

    // The host tests measure with the project's own yardstick through the command line.
    let cli = root.join("target/debug/dar-ddsp");
    for dir in [&debug_dir, &release_dir] {
        run(Command::new(&python)
            .args(["-m", "pytest", "-q", "tests/hosts"])
            .env("DAR_DDSP_VST3", dir.join(format!("{BUNDLE}.vst3")))
            .env("DAR_DDSP_CLI", &cli))?;
    }
    // The editor, headless, in the standalone build.
    build_standalone(false)?;
    run(Command::new(&python)
        .args(["-m", "pytest", "-q", "-s", "tests/gui"])
        .env(
            "DAR_DDSP_STANDALONE",
            root.join("target/debug/dar-ddsp-standalone"),
        ))?;
    println!("cargo xtask test: all checks passed");
    Ok(())
}

/// How long free-audio's clap-validator fuzzes each bundle.
const FUZZ_DURATION: &str = "60s";

/// free-audio's clap-validator on the `.clap` in `dir`: every test of `validate`, then
/// [`FUZZ_DURATION`] of `fuzz`, through `../shared/validators/clap-validate` (it builds the
/// validator from the source beside it into `target/clap-validator`, once). Without
/// `../shared` beside the repository, says so and goes on.
fn clap_validator(root: &Path, dir: &Path) -> Result<()> {
    let script = root.join("../shared/validators/clap-validate");
    if !script.exists() {
        println!(
            "clap-validator skipped: {} is not there (CI has it beside the repository)",
            script.display()
        );
        return Ok(());
    }
    run(Command::new("bash")
        .arg(&script)
        .arg(dir.join(format!("{BUNDLE}.clap")))
        .arg(FUZZ_DURATION)
        .current_dir(root))
}

/// Gradient steps per prototype and recording for the factory presets.
const PRESET_STEPS: &str = "600";

/// `cargo xtask presets`: the factory presets, remade by the command line a user has.
fn presets(root: &Path) -> Result<()> {
    run(Command::new("cargo").args(["build", "--release", "-p", "dar-ddsp-cli"]))?;
    let cli = root.join("target/release/dar-ddsp");
    let eval = root.join("../shared/eval/instruments");
    let mut wavs: Vec<PathBuf> = std::fs::read_dir(&eval)
        .with_context(|| format!("{}: the eval recordings are needed", eval.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    wavs.sort();
    let out = root.join("presets");
    for wav in &wavs {
        let stem = wav.file_stem().context("a file name")?.to_string_lossy();
        run(Command::new(&cli)
            .args(["learn", "--budget-steps", PRESET_STEPS, "--out"])
            .arg(out.join(format!("{stem}.json")))
            .arg(wav))?;
    }
    run(Command::new(&cli)
        .args(["learn", "--budget-steps", PRESET_STEPS, "--out"])
        .arg(out.join("ensemble.json"))
        .args(&wavs))?;
    run(Command::new(&cli)
        .args(["preset", "design", "--out"])
        .arg(out.join("designed.json")))
}

/// Voice-samples in one repetition of the anchor's workload: 16 voices × 2 s at 48 kHz.
const ANCHOR_VOICE_SAMPLES: f64 = 16.0 * 96_000.0;

/// `cargo xtask bench`: the fundsp anchor, the plant's `anchor_workload` benchmarks, the anchor
/// again, and the ratios (medians; the anchor's figure is the mean of its two runs' medians).
fn bench(root: &Path) -> Result<()> {
    let mut anchor = vec![anchor_fundsp(root)?];
    run(Command::new("cargo").args([
        "bench",
        "-p",
        "dar-ddsp-core",
        "--bench",
        "plant",
        "--",
        "--noplot",
    ]))?;
    anchor.push(anchor_fundsp(root)?);
    let fundsp = anchor.iter().sum::<f64>() / anchor.len() as f64;
    println!(
        "fundsp 0.23 PolyBLEP + SVF, process(64): {:.2} and {:.2} ns per voice-sample",
        anchor[0], anchor[1]
    );
    for case in ["together", "staggered"] {
        let file = root.join(format!(
            "target/criterion/anchor_workload/{case}/new/estimates.json"
        ));
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("{}: criterion wrote no estimate", file.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)?;
        let median = json["median"]["point_estimate"]
            .as_f64()
            .with_context(|| format!("{}: no median", file.display()))?;
        let ns = median / ANCHOR_VOICE_SAMPLES;
        println!(
            "plant, anchor workload, onsets {case}: {ns:.2} ns per voice-sample, {:.2}× faster \
             than the anchor",
            fundsp / ns
        );
    }
    Ok(())
}

/// Builds and runs `../shared/bench/anchor_fundsp` (10 repetitions of its PolyBLEP + SVF
/// voice in 64-sample blocks) and returns its median, ns per voice-sample.
fn anchor_fundsp(root: &Path) -> Result<f64> {
    let manifest = root.join("../shared/bench/anchor_fundsp/Cargo.toml");
    let out = Command::new("cargo")
        .args(["run", "--release", "--locked", "--manifest-path"])
        .arg(&manifest)
        .args(["--", "10", "polyblep+svf  process"])
        .env("CARGO_TARGET_DIR", root.join("target/anchor_fundsp"))
        .output()
        .with_context(|| format!("cannot run the anchor {}", manifest.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "the anchor failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // "fundsp polyblep+svf  process(64)   min   median   max ..."
    text.lines()
        .find_map(|l| l.strip_prefix("fundsp polyblep+svf  process(64)"))
        .and_then(|rest| rest.split_whitespace().nth(1)?.parse().ok())
        .with_context(|| format!("the anchor printed no median:\n{text}"))
}

/// Bundles the debug build already in `target/debug` (nice-plug-xtask's copy step alone).
fn bundle_debug_build(root: &Path) -> Result<()> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    nice_plug_xtask::bundle(&target_dir, PACKAGE, &[], false)?;
    check_bundled(root)
}

/// Builds and bundles the release plugin.
fn bundle_release(root: &Path) -> Result<()> {
    let args = ["bundle", PACKAGE, "--release"].map(str::to_owned);
    nice_plug_xtask::main_with_args("cargo xtask", args)?;
    check_bundled(root)
}

fn check_bundled(root: &Path) -> Result<()> {
    let clap = root.join(format!("target/bundled/{BUNDLE}.clap"));
    if !clap.exists() {
        bail!("bundling did not produce {}", clap.display());
    }
    Ok(())
}

/// Installs the Debian `packages` that are missing (as root, or through sudo).
fn install_system_packages(packages: &[&str]) -> Result<()> {
    if Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("not a Debian system: install the equivalents of {packages:?} yourself");
        return Ok(());
    }
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| {
            let out = Command::new("dpkg-query").args(["-W", "-f=${Status}", p]).output();
            !matches!(out, Ok(o) if String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("installing Debian packages: {}", missing.join(" "));
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut c = if is_root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !is_root {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    run(&mut install)
}

/// Creates `target/host-venv` with the pinned host packages; returns its python.
fn python_env(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/host-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("installed.txt");
    let wanted = PY_PACKAGES.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return Ok(python);
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(&python)
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .args(PY_PACKAGES))?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    println!("$ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("failed ({status}): {shown}");
    }
    Ok(())
}

fn move_dir(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("cannot remove {}", to.display()))?;
    }
    std::fs::rename(from, to)
        .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))
}

/// Copies a file or a directory tree, replacing what was there.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if to.is_dir() {
        std::fs::remove_dir_all(to)?;
    }
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        std::fs::copy(from, to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}
