//! The `dar-ddsp` binary as a user runs it: learn from a real recording then render, and every
//! kind of bad input answered with one clear message, a non-zero exit, and no output written.

use dar_ddsp_core::signal::distance::spectral_distance;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dar-ddsp"))
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dar-ddsp-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn eval_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/eval/instruments")
        .join(name)
}

fn read_mono(path: &Path) -> Vec<f32> {
    dar_ddsp_core::signal::audio_file::read_audio(path)
        .unwrap_or_else(|e| panic!("{e}"))
        .samples
}

fn write_wav(path: &Path, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create");
    for &s in samples {
        w.write_sample((s * 32_000.0) as i16).expect("write");
    }
    w.finalize().expect("finalize");
}

/// Runs `command`, asserts it failed ([`assert_fails`]) and left `out` holding "keep me".
fn assert_refused(command: &mut Command, out: &Path, what: &str) {
    let o = command.arg("--out").arg(out).output().expect("run");
    assert_fails(&o, what);
    assert_eq!(std::fs::read_to_string(out).expect("kept"), "keep me");
}

/// Asserts a failed run: status 1, one line on stderr mentioning `what`.
fn assert_fails(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(err.contains(what), "expected {what:?} in {err:?}");
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err:?}");
}

const LAYOUT: [&str; 6] = ["48", "55", "60", "64", "67", "72"];

#[test]
fn learn_then_render_moves_toward_the_instrument() {
    let dir = scratch("learn");
    let wav = eval_file("trumpet.wav");
    let preset = dir.join("trumpet.json");
    let out = bin()
        .args(["learn", "--keep-notes", "--budget-steps", "150", "--out"])
        .arg(&preset)
        .arg(&wav)
        .output()
        .expect("run learn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&preset).expect("preset written");
    assert!(text.contains("\"version\": 4") && text.contains("\"weights\""));
    assert!(text.contains("\"cutoff\"") && text.contains("\"trumpet.wav\""));
    // The kept notes travel in the preset, and learning on from it guards those notes (not
    // the patch's own sound, which stands in when a preset carries none).
    let first_notes = |path: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(path).expect("preset");
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        (json["prototypes"][0]["kept"]
            .as_array()
            .into_iter()
            .flatten())
        .flat_map(|g| g["notes"].as_array().into_iter().flatten())
        .filter_map(|n| n["pcm"].as_str().map(str::to_owned))
        .collect()
    };
    let kept = first_notes(&preset);
    assert!(!kept.is_empty(), "no kept notes in the preset");
    let again = dir.join("again.json");
    let out = bin()
        .args(["learn", "--keep-notes", "--budget-steps", "20", "--from"])
        .arg(&preset)
        .arg("--out")
        .arg(&again)
        .arg(&wav)
        .output()
        .expect("run learn --from");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let carried = first_notes(&again);
    assert!(
        carried.iter().any(|n| kept.contains(n)),
        "the first prototype's kept notes did not come through --from"
    );

    // Render the file's layout (labels.json: 6 notes, 2 s apart, held 1.5 s) with the learned
    // patch and with the default patch; the learned one must be clearly closer.
    let render = |preset: &Path, out: &Path| {
        let o = bin()
            .args([
                "render",
                "--notes",
                &LAYOUT.join(","),
                "--hold",
                "1.5",
                "--gap",
                "0.5",
            ])
            .arg("--preset")
            .arg(preset)
            .arg("--out")
            .arg(out)
            .output()
            .expect("run render");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        read_mono(out)
    };
    let learned = render(&preset, &dir.join("learned.wav"));
    let default_preset = dir.join("default.json");
    std::fs::write(
        &default_preset,
        r#"{"format":"dar-ddsp-preset","version":1,"vigilance":0.8,
            "prototypes":[{"name":"default","theta":{}}]}"#,
    )
    .expect("write");
    let default = render(&default_preset, &dir.join("default.wav"));
    let target = read_mono(&wav);
    let (d, d0) = (
        spectral_distance(&learned, &target, 48_000.0),
        spectral_distance(&default, &target, 48_000.0),
    );
    eprintln!("learned {d:.2} dB, default patch {d0:.2} dB");
    assert!(d < d0 - 1.0, "learned {d:.2} dB vs default {d0:.2} dB");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn eval_prints_its_table_and_writes_each_methods_render() {
    let dir = scratch("eval");
    let wav = eval_file("fingered_bass.wav");
    let renders = dir.join("renders");
    let out = bin()
        .args(["eval", "--budget-steps", "10", "--renders"])
        .arg(&renders)
        .arg(&wav)
        .output()
        .expect("run eval");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("| fingered_bass.wav |"))
        .unwrap_or_else(|| panic!("no row for the recording in {text}"));
    // Each render is the method's patch playing the recording's notes: as long as the
    // recording, and as far from it as the table says (to its two decimals).
    let target = read_mono(&wav);
    let columns: Vec<&str> = row.split('|').map(str::trim).collect();
    for (k, method) in ["default", "random", "adam", "dar-ddsp"].iter().enumerate() {
        let render = read_mono(&renders.join(format!("fingered_bass.{method}.wav")));
        assert_eq!(render.len(), target.len(), "{method}");
        let d = spectral_distance(&render, &target, 48_000.0);
        let shown: f32 = columns[2 + k]
            .trim_matches('*')
            .parse()
            .expect("a distance");
        assert!(
            (d - shown).abs() <= 0.006,
            "{method}: render {d:.3} dB, table {shown}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_recordings_are_refused_and_nothing_is_written() {
    let dir = scratch("bad");
    let out = dir.join("out.json");
    std::fs::write(&out, "keep me").expect("write");
    let not_wav = dir.join("notes.wav");
    std::fs::write(&not_wav, "this is not audio").expect("write");
    let empty = dir.join("empty.wav");
    write_wav(&empty, 48_000, &[]);
    let silent = dir.join("silent.wav");
    write_wav(&silent, 48_000, &vec![0.0; 48_000]);
    let slow = dir.join("slow.wav");
    write_wav(&slow, 4_000, &vec![0.1; 4_000]);
    let truncated = dir.join("truncated.wav");
    let full = std::fs::read(eval_file("flute.wav")).expect("read");
    std::fs::write(&truncated, &full[..30]).expect("write");
    let cases: [(&Path, &str); 6] = [
        (&dir.join("missing.wav"), "no such file"),
        (&not_wav, "not an audio file this program reads"),
        (&empty, "no audio"),
        (&silent, "no notes found"),
        (&slow, "unsupported sample rate"),
        (&truncated, "truncated"),
    ];
    for (wav, what) in cases {
        let mut command = bin();
        command.args(["learn", "--budget-steps", "5"]).arg(wav);
        assert_refused(&mut command, &out, what);
    }
    // A folder with no audio file in it.
    let folder = dir.join("folder");
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(folder.join("readme.txt"), "no audio here").expect("write");
    let mut command = bin();
    command.args(["learn", "--budget-steps", "5"]).arg(&folder);
    assert_refused(&mut command, &out, "no audio files in the folder");
    std::fs::remove_dir_all(&dir).ok();
}

/// A folder is learned file by file in name order, whatever its files' formats and rates (a
/// FLAC at 22.05 kHz among them, resampled to the 48 kHz the learner keeps notes at); other
/// files in it are left alone.
#[test]
fn learn_takes_a_folder_in_name_order() {
    let dir = scratch("folder");
    let folder = dir.join("samples");
    std::fs::create_dir_all(&folder).expect("folder");
    for name in ["trumpet.wav", "flute.wav"] {
        std::fs::copy(eval_file(name), folder.join(format!("b {name}"))).expect("copy");
    }
    let tone = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/audio/tone.flac");
    std::fs::copy(tone, folder.join("a tone.flac")).expect("copy");
    std::fs::write(folder.join("notes.txt"), "not audio").expect("write");
    let out = dir.join("out.json");
    let o = bin()
        .args(["learn", "--budget-steps", "20", "--keep-notes", "--out"])
        .arg(&out)
        .arg(&folder)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let order: Vec<usize> = ["a tone.flac:", "b flute.wav:", "b trumpet.wav:"]
        .iter()
        .map(|f| {
            err.find(f)
                .unwrap_or_else(|| panic!("{f} not reported: {err}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{err}");
    assert!(!err.contains("notes.txt"), "{err}");
    let preset = std::fs::read_to_string(&out).expect("preset");
    assert!(preset.contains("b flute.wav") && preset.contains("b trumpet.wav"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_presets_and_arguments_are_refused() {
    let dir = scratch("preset");
    let out = dir.join("out.wav");
    std::fs::write(&out, "keep me").expect("write");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        "{\"format\": \"dar-ddsp-preset\", \"version\": 1, \"vigil",
    )
    .expect("w");
    let newer = dir.join("newer.json");
    std::fs::write(
        &newer,
        r#"{"format":"dar-ddsp-preset","version":99,"vigilance":0.8,"prototypes":[]}"#,
    )
    .expect("write");
    let empty = dir.join("empty.json");
    std::fs::write(
        &empty,
        r#"{"format":"dar-ddsp-preset","version":1,"vigilance":0.8,"prototypes":[]}"#,
    )
    .expect("write");
    let cases: [(&Path, &[&str], &str); 5] = [
        (&bad, &[], "not a DAR-DDSP preset"),
        (&newer, &[], "newer"),
        (&empty, &[], "no prototype 1"),
        (
            &dir.join("none.json"),
            &[],
            "no such file, and no factory or user preset",
        ),
        (&empty, &["--velocity", "0"], "--velocity"),
    ];
    for (preset, extra, what) in cases {
        let mut command = bin();
        command.args(["render", "--notes", "60"]).args(extra);
        assert_refused(command.arg("--preset").arg(preset), &out, what);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `render-soundfont` refuses what is not a whole SoundFont, and bad arguments, with one line,
/// and leaves the output alone.
#[test]
fn bad_soundfonts_are_refused() {
    let dir = scratch("soundfont");
    let out = dir.join("out.wav");
    std::fs::write(&out, "keep me").expect("write");
    let text = dir.join("text.sf2");
    std::fs::write(&text, "RIFF but not really").expect("write");
    let empty = dir.join("empty.sf2");
    std::fs::write(&empty, "").expect("write");
    let cases: [(&Path, &[&str], &str); 5] = [
        (&dir.join("none.sf2"), &[], "cannot open the SoundFont"),
        (&text, &[], "not a readable SoundFont 2 file"),
        (&empty, &[], "not a readable SoundFont 2 file"),
        (&text, &["--velocity", "0"], "--velocity"),
        (&text, &["--notes", "60,200"], "--notes"),
    ];
    for (font, extra, what) in cases {
        let mut command = bin();
        command
            .args(["render-soundfont", "--program", "70"])
            .args(extra);
        assert_refused(command.arg("--soundfont").arg(font), &out, what);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `preset info`, `merge` and `list` as a user runs them, with the user preset directory in a
/// scratch `XDG_DATA_HOME`; bad presets get one clear line and nothing is written.
#[test]
fn presets_are_shown_merged_and_listed() {
    let dir = scratch("presets");
    let data = dir.join("data");
    let user = data.join("dar-ddsp/presets");
    std::fs::create_dir_all(&user).expect("user dir");
    let run = |args: &[&str]| {
        bin()
            .env("XDG_DATA_HOME", &data)
            .args(args)
            .output()
            .expect("run")
    };
    let ok = |o: &Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // The designed factory preset, by name.
    let info = ok(&run(&["preset", "info", "designed"]));
    assert!(
        info.contains("version 4") && info.contains("bright saw"),
        "{info}"
    );
    assert!(info.contains("5 prototype(s)"), "{info}");

    // Merge a factory preset with itself into the user directory: names made unique.
    let merged = user.join("twice.json");
    ok(&run(&[
        "preset",
        "merge",
        "designed",
        "designed",
        "--out",
        merged.to_str().expect("utf-8 path"),
    ]));
    let info = ok(&run(&["preset", "info", "twice"]));
    assert!(
        info.contains("10 prototype(s)") && info.contains("bright saw (2)"),
        "{info}"
    );

    // Listed beside the factory presets, with an unreadable file named as such.
    std::fs::write(user.join("broken.json"), "{").expect("write");
    let list = ok(&run(&["preset", "list"]));
    assert!(
        list.contains("designed") && list.contains("ensemble"),
        "{list}"
    );
    assert!(
        list.contains("twice") && list.contains("10 prototype(s)"),
        "{list}"
    );
    assert!(
        list.contains("broken") && list.contains("unreadable"),
        "{list}"
    );

    // A named prototype of a factory preset renders.
    let wav = dir.join("flute.wav");
    ok(&run(&[
        "render",
        "--preset",
        "designed",
        "--prototype",
        "breathy flute",
        "--notes",
        "72",
        "--hold",
        "0.5",
        "--out",
        wav.to_str().expect("utf-8 path"),
    ]));
    let audio = read_mono(&wav);
    assert!(audio.iter().any(|x| x.abs() > 0.01), "silent render");

    // Bad inputs: one line, exit 1, the output untouched.
    let out = dir.join("out.json");
    std::fs::write(&out, "keep me").expect("write");
    let out_s = out.to_str().expect("utf-8 path");
    let broken = user.join("broken.json");
    let broken_s = broken.to_str().expect("utf-8 path");
    for (args, what) in [
        (
            vec!["preset", "info", "nothing-here"],
            "no factory or user preset",
        ),
        (vec!["preset", "info", broken_s], "not a DAR-DDSP preset"),
        (
            vec!["preset", "merge", "designed", broken_s, "--out", out_s],
            "broken.json",
        ),
    ] {
        assert_fails(&run(&args), what);
        assert_eq!(std::fs::read_to_string(&out).expect("kept"), "keep me");
    }
    // Doubling a memory by merging it with itself stops at the plugin's 256 prototypes.
    let big = dir.join("big.json");
    let big_s = big.to_str().expect("utf-8 path");
    std::fs::copy(&merged, &big).expect("copy");
    for size in [20, 40, 80, 160] {
        ok(&run(&["preset", "merge", big_s, big_s, "--out", big_s]));
        let info = ok(&run(&["preset", "info", big_s]));
        assert!(info.contains(&format!("{size} prototype(s)")), "{info}");
    }
    assert_fails(
        &run(&["preset", "merge", big_s, big_s, "--out", out_s]),
        "320 prototypes, more than the 256",
    );
    assert_eq!(std::fs::read_to_string(&out).expect("kept"), "keep me");
    std::fs::remove_dir_all(&dir).ok();
}
