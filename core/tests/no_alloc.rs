//! The plant never allocates while rendering: every real-time entry point runs under
//! `assert_no_alloc`, which aborts the process on any allocation in builds with debug assertions.

use dar_ddsp_core::memory::art::{ArtConfig, Memory, code};
use dar_ddsp_core::memory::encoder::{EMBED_DIM, Encoder};
use dar_ddsp_core::perform::controls::{Tag, Target};
use dar_ddsp_core::perform::{NoteExpression, PlaySettings, Player, VelocityCurve, VoiceMode};
use dar_ddsp_core::plant::render::{NoteEvent, render_performance};
use dar_ddsp_core::plant::{MAX_VOICES, P, Synth, default_theta};
use nice_assert_no_alloc::{AllocDisabler, assert_no_alloc};
use std::hint::black_box;
use std::process::Command;

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

#[test]
fn rendering_and_events_never_allocate() {
    let mut synth = Synth::<f32>::new(48_000.0, &default_theta());
    let mut buffer = vec![0.0f32; 4_096];
    let mut theta = default_theta();
    assert_no_alloc(|| {
        for (i, block) in [1usize, 64, 512, 4_096, 7].into_iter().enumerate() {
            for n in 0..(MAX_VOICES + 3) {
                synth.note_on(30 + (n * 5 + i) as u8, 0.7);
            }
            theta[P::Cutoff as usize] = 200.0 * (i + 1) as f32;
            synth.set_target(&theta);
            synth.render(&mut buffer[..block]);
            synth.note_off(30);
            synth.choke(35);
            synth.all_notes_off();
            synth.render(&mut buffer[..block]);
        }
        synth.reset();
        synth.render(&mut buffer[..0]);
    });
    assert!(buffer.iter().all(|x| x.is_finite()));
}

/// Playing: every controller, expression, modulation and voice mode, and the stereo render
/// with panned voices, allocation-free once the player is made.
#[test]
fn playing_never_allocates() {
    let mut player = Player::new(48_000.0, &default_theta());
    let (mut left, mut right) = (vec![0.0f32; 4_096], vec![0.0f32; 4_096]);
    let mut ended = 0;
    assert_no_alloc(|| {
        for (i, mode) in [VoiceMode::Poly, VoiceMode::Mono, VoiceMode::Legato]
            .into_iter()
            .enumerate()
        {
            player.set_settings(PlaySettings {
                mode,
                polyphony: 4 + i,
                glide_seconds: 0.05,
                mpe: i == 2,
                velocity: VelocityCurve::Soft,
                ..Default::default()
            });
            for n in 0..(MAX_VOICES as u8 + 3) {
                let tag = Tag {
                    id: Some(n as i32),
                    channel: n % 16,
                    key: 40 + n,
                };
                player.note_on(tag, 0.7);
                player.poly_modulation(n as i32, P::Cutoff, -0.2);
                let target = Target::from(tag);
                player.expression(target, NoteExpression::Pan, -0.5);
                player.expression(target, NoteExpression::Tuning, 0.3);
                player.expression(target, NoteExpression::Vibrato, 0.5);
            }
            player.pitch_bend(0, 0.8);
            player.pitch_bend(3, 0.2);
            player.channel_pressure(0, 0.5);
            player.control_change(0, 1, 0.7);
            player.control_change(0, 64, 1.0);
            player.control_change(0, 74, 0.2);
            player.render_stereo(&mut left[..512], &mut right[..512]);
            player.note_off(Target::default());
            player.control_change(0, 64, 0.0);
            player.render_stereo(&mut left, &mut right);
            player.drain_ended(|_| ended += 1);
            player.control_change(0, 121, 0.0);
            player.control_change(0, 120, 0.0);
        }
    });
    assert!(ended > 0);
    assert!(left.iter().chain(&right).all(|x| x.is_finite()));
}

/// The learner thread's per-context work: embedding (forward and backward to the samples) and
/// the resonance search, allocation-free after construction.
#[test]
fn embedding_and_resonance_search_never_allocate() {
    let mut encoder = Encoder::shipped(48_000.0).expect("shipped weights");
    let len = encoder.context_len();
    let note = NoteEvent {
        onset: 0,
        release: len,
        f0_hz: 220.0,
        velocity: 0.8,
    };
    let audio = render_performance(&default_theta(), &[note], 48_000.0, len);
    let mut d_x = vec![0.0f32; len];
    let mut memory = Memory::new(ArtConfig::default());
    for v in [0.1f32, 0.5, 0.9] {
        memory.present(&[v; EMBED_DIM], 0.0, true, |_| default_theta());
    }
    let mut found = None;
    assert_no_alloc(|| {
        let h = encoder
            .embed(&audio, note.f0_hz)
            .unwrap_or([0.5; EMBED_DIM]);
        encoder.embed_backward(&audio, note.f0_hz, &[0.1; EMBED_DIM], &mut d_x);
        found = memory.search(&code(&h)).1;
        // A resonating presentation learns in place.
        memory.present(&[0.5; EMBED_DIM], 1.0, true, |_| default_theta());
    });
    assert!(found.is_some());
    assert!(d_x.iter().all(|v| v.is_finite()));
}

/// Run only as a child of [`allocation_is_detected`].
#[test]
#[ignore = "a probe that must abort; run by allocation_is_detected"]
fn allocating_probe() {
    if std::env::var_os("DAR_DDSP_ALLOC_PROBE").is_some() {
        assert_no_alloc(|| black_box(vec![0u8; 64]));
    }
}

/// The guard above is armed: an allocation under it really aborts the test binary.
#[test]
fn allocation_is_detected() {
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            "allocating_probe",
            "--test-threads",
            "1",
        ])
        .env("DAR_DDSP_ALLOC_PROBE", "1")
        .output()
        .expect("run the probe");
    // Not just any failure: the allocator's abort, for the probe's 64 bytes.
    let stderr = String::from_utf8_lossy(&out.stderr);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(6),
        "the probe did not abort (SIGABRT): {:?}\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("memory allocation of 64 bytes failed"),
        "the abort was not the allocation guard's:\n{stderr}"
    );
}
