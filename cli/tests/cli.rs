//! The `dar-ddsp` binary as a user runs it: learn from a real recording then render, and every
//! kind of bad input answered with one clear message, a non-zero exit, and no output written.

use dar_ddsp_core::distance::spectral_distance;
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
    let mut r = hound::WavReader::open(path).expect("wav");
    match r.spec().sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(|s| s.expect("sample")).collect(),
        hound::SampleFormat::Int => r
            .samples::<i32>()
            .map(|s| s.expect("sample") as f32 / 32_768.0)
            .collect(),
    }
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
        .args(["learn", "--budget-steps", "150", "--out"])
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
    assert!(text.contains("\"prototypes\"") && text.contains("\"cutoff\""));

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
        (&not_wav, "not a WAV file"),
        (&empty, "no audio"),
        (&silent, "no notes found"),
        (&slow, "unsupported sample rate"),
        (&truncated, "truncated"),
    ];
    for (wav, what) in cases {
        let o = bin()
            .args(["learn", "--budget-steps", "5", "--out"])
            .arg(&out)
            .arg(wav)
            .output()
            .expect("run");
        assert_fails(&o, what);
        assert_eq!(std::fs::read_to_string(&out).expect("kept"), "keep me");
    }
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
        (&empty, &[], "no prototype 0"),
        (&dir.join("none.json"), &[], "No such file"),
        (&empty, &["--velocity", "0"], "--velocity"),
    ];
    for (preset, extra, what) in cases {
        let o = bin()
            .args(["render", "--notes", "60"])
            .args(extra)
            .arg("--preset")
            .arg(preset)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("run");
        assert_fails(&o, what);
        assert_eq!(std::fs::read_to_string(&out).expect("kept"), "keep me");
    }
    std::fs::remove_dir_all(&dir).ok();
}
