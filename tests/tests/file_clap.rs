//! Learn from file, as a user does it: the CLAP host embeds the real editor in a window on an X
//! server, the test types the path of an eval recording saved as FLAC into the panel's Learn
//! from file field and presses Enter (xdotool, the keys a user would press), so the learner gets
//! the very command the panel's button sends. The memory it learns must play the instrument as
//! close as learning the recording from the sidechain does. `cargo xtask test` runs it under
//! `xvfb-run` on the release bundle.
//!
//! The panel says what it shows through `DAR_DDSP_PANEL_DUMP` (its controls' places and the
//! file learn's state), so the test clicks the field by name and waits for the learn to end.

use anyhow::{Context, Result, bail, ensure};
use dar_ddsp_tests::ClapHost;
use dar_ddsp_tests::clap_host::x11_parent_window;
use dar_ddsp_tests::learning::{
    BLOCK, Recording, SR, closest, distance, listen, offline_instance, play, prototype_count,
    recording, set,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How far the file-learned memory may play from the sidechain-learned one, dB.
const TOLERANCE_DB: f32 = 0.2;

/// Longest wait for the learner to finish the file.
const LEARN_TIMEOUT: Duration = Duration::from_secs(300);

/// A duration in samples at [`SR`].
fn frames(seconds: f64) -> usize {
    (seconds * SR).round() as usize
}

/// `r` as 16-bit mono FLAC at 48 kHz in `path` (the recordings are 16-bit: lossless), padded
/// with silence to whole blocks (under 0.09 s): flacenc writes a short last block's length as
/// the stream's minimum, which symphonia 0.6 then takes for every block's and refuses the file
/// as truncated (the reference encoder's files, and these padded ones, decode exactly).
fn write_flac(r: &Recording, path: &Path) -> Result<()> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|e| anyhow::anyhow!("FLAC encoder configuration: {e:?}"))?;
    let mut ints: Vec<i32> = r
        .samples
        .iter()
        .map(|&x| (x * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i32)
        .collect();
    ints.resize(
        ints.len().div_ceil(config.block_size) * config.block_size,
        0,
    );
    let source = flacenc::source::MemSource::from_samples(&ints, 1, 16, 48_000);
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| anyhow::anyhow!("FLAC encoding: {e:?}"))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream
        .write(&mut sink)
        .map_err(|e| anyhow::anyhow!("FLAC writing: {e:?}"))?;
    std::fs::write(path, sink.as_slice()).with_context(|| format!("writing {}", path.display()))
}

/// What the panel last wrote, or `None` before its first write.
fn panel(dump: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(dump).ok()?).ok()
}

/// Runs xdotool with `args`; fails with its error output.
fn xdotool(args: &[&str]) -> Result<()> {
    let out = Command::new("xdotool")
        .args(args)
        .output()
        .context("xdotool is missing: `cargo xtask setup` installs it")?;
    ensure!(
        out.status.success(),
        "xdotool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Pumps the editor until `f` finds what it waits for in the panel's dump (`what`, for the
/// error), for at most `timeout`.
fn wait(
    host: &mut ClapHost,
    dump: &Path,
    what: &str,
    timeout: Duration,
    f: &dyn Fn(&serde_json::Value) -> Option<serde_json::Value>,
) -> Result<serde_json::Value> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        host.pump_editor();
        if let Some(v) = panel(dump).as_ref().and_then(f) {
            return Ok(v);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!(
        "timed out waiting for {what}: the panel shows {:?}",
        panel(dump)
    )
}

/// Clicks the control the panel says is labelled `label` in the X window `window`, once drawn.
fn click(host: &mut ClapHost, dump: &Path, window: u32, label: &str) -> Result<()> {
    let at = wait(host, dump, label, Duration::from_secs(30), &|p| {
        p["controls"].get(label).cloned()
    })?;
    let x = at[0].as_f64().context("x")?.round().to_string();
    let y = at[1].as_f64().context("y")?.round().to_string();
    xdotool(&[
        "mousemove",
        "--window",
        &window.to_string(),
        &x,
        &y,
        "click",
        "1",
    ])
}

#[test]
#[ignore = "needs an X server and learns a recording; `cargo xtask test` runs it under xvfb-run"]
fn a_flac_file_learned_from_the_panel_plays_as_close_as_the_sidechain() -> Result<()> {
    let bass = recording("fingered_bass.wav")?;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("file-learn");
    std::fs::create_dir_all(&dir)?;
    let flac = dir.join("fingered bass.flac");
    write_flac(&bass, &flac)?;
    let dump = dir.join("panel.json");
    let _ = std::fs::remove_file(&dump);

    // Learned from the sidechain, as the live tests do.
    let mut side = offline_instance()?;
    listen(&mut side, &bass)?;
    let n_side = prototype_count(&mut side)?;
    set(&mut side, "Mode", "Play")?;
    let (k_side, d_side) = closest(&mut side, &bass, n_side)?;
    // The default patch, for scale (about 7 dB).
    let d_default = distance(&play(&mut offline_instance()?, &bass)?, &bass);
    // One instance at a time while the editor is open, as in the editor test.
    drop(side);

    // Learned from the file, through the panel.
    // SAFETY: this test binary holds one test; no other thread of it reads the environment
    // (the instances above are gone with their threads).
    unsafe { std::env::set_var("DAR_DDSP_PANEL_DUMP", &dump) };
    let (_x11, window) = x11_parent_window(1200, 800)?;
    let mut host = offline_instance()?;
    // SAFETY: `window` lives until the end of the test, after the editor is closed.
    unsafe { host.open_editor(u64::from(window))? };
    let path = flac.to_str().context("a path a keyboard can type")?;
    click(&mut host, &dump, window, "file path")?;
    host.pump_editor();
    std::thread::sleep(Duration::from_millis(200));
    xdotool(&["type", "--delay", "5", path])?;
    xdotool(&["key", "Return"])?;
    let started = Instant::now();
    let file = wait(
        &mut host,
        &dump,
        "the file learn to end",
        LEARN_TIMEOUT,
        &|p| {
            let f = &p["file"];
            (f["done"] == true).then(|| f.clone())
        },
    )?;
    let took = started.elapsed().as_secs_f32();
    ensure!(file["error"].is_null(), "the file was refused: {file}");
    ensure!(
        file["name"] == "fingered bass.flac",
        "another file was learned: {file}"
    );
    let n_file = prototype_count(&mut host)?;
    set(&mut host, "Mode", "Play")?;
    let (k_file, d_file) = closest(&mut host, &bass, n_file)?;
    println!(
        "fingered bass: from the sidechain {d_side:.2} dB (prototype {k_side} of {n_side}); \
         from the FLAC file through the panel {d_file:.2} dB (prototype {k_file} of {n_file}), \
         learned in {took:.1} s; the panel said {file}"
    );
    // The same notes, learned the same way, make as many prototypes (half the file, learned
    // alone, plays the bass as well but makes one).
    ensure!(
        n_file == n_side,
        "the file made {n_file} prototypes, the sidechain {n_side}"
    );
    ensure!(
        (d_file - d_side).abs() <= TOLERANCE_DB,
        "the file learned {d_file:.2} dB against the sidechain's {d_side:.2} dB"
    );
    ensure!(
        d_file < d_default - 1.0,
        "the file learned {d_file:.2} dB, the default plays {d_default:.2} dB"
    );

    ensure!(file["audition"] == true, "no audition: {file}");

    // Audition: the file's last note as recorded, then the prototype playing it.
    click(&mut host, &dump, window, "Audition")?;
    for _ in 0..10 {
        host.pump_editor();
        std::thread::sleep(Duration::from_millis(50));
    }
    let [heard, _] = host.render(&[], (7.0 * SR) as usize, BLOCK)?;
    let start = heard
        .iter()
        .position(|&x| x != 0.0)
        .context("the audition played nothing")?;
    // The clip starts at the last labelled note (10 s): the recording's very samples there.
    let span = 4_800;
    let found = (frames(9.8)..frames(10.3))
        .find(|&i| bass.samples[i..i + span] == heard[start..start + span])
        .context("the audition does not start with the recording's last note")?;
    // Then a gap of silence, then the prototype.
    let gap = (start..heard.len() - frames(0.25))
        .find(|&i| heard[i..i + frames(0.25)].iter().all(|&x| x == 0.0))
        .context("no gap after the sample")?;
    let played_at = (gap..heard.len())
        .find(|&i| heard[i] != 0.0)
        .context("nothing after the gap")?;
    let played = &heard[played_at..(played_at + frames(1.0)).min(heard.len())];
    let level = (played.iter().map(|x| x * x).sum::<f32>() / played.len() as f32).sqrt();
    println!(
        "audition: the recording from {:.3} s for {:.2} s, a gap of {:.2} s, then the \
         prototype (RMS {level:.4})",
        found as f64 / SR,
        (gap - start) as f64 / SR,
        (played_at - gap) as f64 / SR
    );
    ensure!(level > 1e-3, "the prototype's part is silent");
    host.close_editor()?;
    drop(host);
    Ok(())
}
