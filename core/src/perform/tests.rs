use super::controls::{Tag, Target};
use super::*;
use crate::plant::theta::default_theta;

const SR: f32 = 48_000.0;

/// A pure sine, filter wide open, no envelope colour: its pitch is easy to read.
fn sine_patch() -> Theta<f32> {
    let mut t = default_theta();
    t[P::Saw as usize] = 0.0;
    t[P::Sine as usize] = 1.0;
    t[P::Cutoff as usize] = 20_000.0;
    t[P::FilterEnvAmount as usize] = 0.0;
    t[P::AmpSustain as usize] = 1.0;
    t[P::Gain as usize] = 0.0;
    t
}

fn tag(key: u8) -> Tag {
    Tag {
        id: None,
        channel: 0,
        key,
    }
}

fn with_id(key: u8, id: i32) -> Tag {
    Tag {
        id: Some(id),
        channel: 0,
        key,
    }
}

fn render(p: &mut Player, seconds: f32) -> (Vec<f32>, Vec<f32>) {
    let n = (seconds * SR) as usize;
    let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
    // Odd blocks, as a host's.
    let mut pos = 0;
    while pos < n {
        let end = (pos + 333).min(n);
        p.render_stereo(&mut l[pos..end], &mut r[pos..end]);
        pos = end;
    }
    (l, r)
}

/// Frequency of a sine from its upward zero crossings (interpolated), Hz.
fn f0(x: &[f32]) -> f32 {
    let ups: Vec<f32> = x
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
        .map(|(i, w)| i as f32 + w[0] / (w[0] - w[1]))
        .collect();
    assert!(ups.len() > 2, "no pitch");
    (ups.len() - 1) as f32 * SR / (ups[ups.len() - 1] - ups[0])
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

fn player() -> Player {
    Player::new(SR, &sine_patch())
}

#[test]
fn pitch_bend_moves_the_pitch_by_the_range() {
    let mut p = player();
    p.note_on(tag(69), 1.0);
    let (a, _) = render(&mut p, 0.2);
    approx::assert_relative_eq!(f0(&a[2_000..]), 440.0, max_relative = 1e-3);
    // Full bend up: +2 semitones at the default range.
    p.pitch_bend(0, 1.0);
    let (b, _) = render(&mut p, 0.2);
    approx::assert_relative_eq!(f0(&b[200..]), 493.88, max_relative = 1e-3);
    // A wider range, half down: −6 semitones.
    p.set_settings(PlaySettings {
        bend_range: 12.0,
        ..Default::default()
    });
    p.pitch_bend(0, 0.25);
    let (c, _) = render(&mut p, 0.2);
    approx::assert_relative_eq!(f0(&c[200..]), 311.13, max_relative = 1e-3);
    // A held bend applies to the next note from its start; another channel's bend does not.
    p.pitch_bend(3, 1.0);
    p.note_off(tag(69));
    render(&mut p, 2.0);
    p.note_on(tag(81), 1.0);
    let (d, _) = render(&mut p, 0.2);
    approx::assert_relative_eq!(f0(&d[100..]), 622.25, max_relative = 1e-3);
}

#[test]
fn the_sustain_pedal_holds_released_notes_until_it_lifts() {
    let mut p = player();
    p.control_change(0, 64, 1.0);
    p.note_on(tag(60), 1.0);
    render(&mut p, 0.1);
    p.note_off(tag(60));
    let (held, _) = render(&mut p, 1.0);
    // Sustain 100 %: the level holds.
    assert!(rms(&held[40_000..]) > 0.5 * rms(&held[..4_800]));
    assert_eq!(p.synth().active_voices(), 1);
    p.control_change(0, 64, 0.0);
    render(&mut p, 3.0);
    assert_eq!(p.synth().active_voices(), 0);
    // Without the pedal the same note fades at its release.
    p.note_on(tag(60), 1.0);
    render(&mut p, 0.1);
    p.note_off(tag(60));
    render(&mut p, 3.0);
    assert_eq!(p.synth().active_voices(), 0);
}

#[test]
fn stealing_takes_a_pedal_held_voice_before_a_key_still_down() {
    let mut p = player();
    p.set_settings(PlaySettings {
        polyphony: 2,
        ..Default::default()
    });
    p.control_change(0, 64, 1.0);
    p.note_on(tag(60), 1.0);
    p.note_off(tag(60)); // held by the pedal only
    render(&mut p, 0.01);
    p.note_on(tag(64), 1.0); // key down
    render(&mut p, 0.01);
    p.note_on(tag(67), 1.0);
    let notes: Vec<u8> = p
        .synth()
        .voices()
        .iter()
        .filter(|v| v.is_active())
        .map(|v| v.note())
        .collect();
    assert_eq!(p.synth().active_voices(), 2);
    assert!(notes.contains(&64) && notes.contains(&67), "{notes:?}");
}

#[test]
fn the_mod_wheel_adds_vibrato() {
    let mut p = player();
    p.note_on(tag(69), 1.0);
    let (still, _) = render(&mut p, 0.5);
    p.control_change(0, 1, 1.0);
    let (moving, _) = render(&mut p, 0.5);
    // Pitch per 20 ms frame: flat without the wheel, swinging ±50 cents with it.
    let spread = |x: &[f32]| {
        let f: Vec<f32> = x.chunks(960).map(f0).collect();
        let lo = f.iter().cloned().fold(f32::MAX, f32::min);
        let hi = f.iter().cloned().fold(0.0, f32::max);
        1_200.0 * (hi / lo).log2()
    };
    assert!(spread(&still[4_800..]) < 1.0, "{}", spread(&still[4_800..]));
    assert!(spread(&moving) > 40.0, "{}", spread(&moving));
}

#[test]
fn aftertouch_and_timbre_brighten_and_darken() {
    // A saw through the low-pass: brightness shows as high-frequency energy.
    let mut t = default_theta();
    t[P::Cutoff as usize] = 400.0;
    t[P::FilterEnvAmount as usize] = 0.0;
    let hf = |pressure: f32, timbre: f32| {
        let mut p = Player::new(SR, &t);
        p.channel_pressure(0, pressure);
        p.control_change(0, 74, timbre);
        p.note_on(tag(48), 1.0);
        let (x, _) = render(&mut p, 0.3);
        let d: Vec<f32> = x.windows(2).map(|w| w[1] - w[0]).collect();
        rms(&d[4_800..]) / rms(&x[4_800..])
    };
    let rest = hf(0.0, 0.5);
    assert!(hf(1.0, 0.5) > 1.3 * rest);
    assert!(hf(0.0, 1.0) > 1.3 * rest);
    assert!(hf(0.0, 0.0) < rest / 1.3);
}

#[test]
fn mono_plays_one_voice_and_returns_to_the_held_key() {
    let mut p = player();
    p.set_settings(PlaySettings {
        mode: VoiceMode::Mono,
        ..Default::default()
    });
    p.note_on(tag(69), 1.0);
    render(&mut p, 0.1);
    p.note_on(tag(81), 1.0);
    let (a, _) = render(&mut p, 0.1);
    assert_eq!(p.synth().active_voices(), 1);
    approx::assert_relative_eq!(f0(&a[500..]), 880.0, max_relative = 1e-3);
    p.note_off(tag(81));
    let (b, _) = render(&mut p, 0.1);
    approx::assert_relative_eq!(f0(&b[500..]), 440.0, max_relative = 1e-3);
    p.note_off(tag(69));
    render(&mut p, 2.0);
    assert_eq!(p.synth().active_voices(), 0);
}

#[test]
fn legato_keeps_the_envelope_and_mono_restarts_it() {
    // Decays to a low sustain: a restarted envelope jumps back up to its peak.
    let mut t = sine_patch();
    t[P::AmpSustain as usize] = 0.2;
    t[P::AmpDecay as usize] = 0.1;
    let level_after_second_note = |mode| {
        let mut p = Player::new(SR, &t);
        p.set_settings(PlaySettings {
            mode,
            ..Default::default()
        });
        p.note_on(tag(60), 1.0);
        render(&mut p, 0.5);
        p.note_on(tag(62), 1.0);
        let (x, _) = render(&mut p, 0.05);
        rms(&x[240..720])
    };
    let legato = level_after_second_note(VoiceMode::Legato);
    let mono = level_after_second_note(VoiceMode::Mono);
    assert!(mono > 2.0 * legato, "mono {mono} legato {legato}");
}

#[test]
fn glide_slides_between_notes_in_its_time() {
    let mut p = player();
    p.set_settings(PlaySettings {
        mode: VoiceMode::Legato,
        glide_seconds: 0.2,
        ..Default::default()
    });
    p.note_on(tag(57), 1.0);
    render(&mut p, 0.1);
    p.note_on(tag(69), 1.0);
    let (x, _) = render(&mut p, 0.4);
    let early = f0(&x[480..1_440]);
    let late = f0(&x[12_000..19_200]);
    // Linear in pitch: a tenth of the way (1.2 semitones above 220 Hz) at 20 ms, there at 0.2 s.
    approx::assert_relative_eq!(early, 235.0, max_relative = 0.02);
    approx::assert_relative_eq!(late, 440.0, max_relative = 2e-3);
    // Without glide the pitch jumps.
    let mut p = player();
    p.set_settings(PlaySettings {
        mode: VoiceMode::Legato,
        ..Default::default()
    });
    p.note_on(tag(57), 1.0);
    render(&mut p, 0.1);
    p.note_on(tag(69), 1.0);
    let (x, _) = render(&mut p, 0.1);
    approx::assert_relative_eq!(f0(&x[100..1_000]), 440.0, max_relative = 2e-3);
}

#[test]
fn polyphony_limits_the_voices() {
    let mut p = player();
    p.set_settings(PlaySettings {
        polyphony: 3,
        ..Default::default()
    });
    for k in 60..66 {
        p.note_on(tag(k), 1.0);
    }
    assert_eq!(p.synth().active_voices(), 3);
}

/// Two voices, the second (id 2) changed: the output changes exactly by what the second
/// voice alone changes, so the first is untouched.
fn only_its_own_voice(change: impl Fn(&mut Player)) {
    let play = |both: bool, changed: bool| {
        let mut p = player();
        if both {
            p.note_on(with_id(57, 1), 1.0);
        }
        p.note_on(with_id(64, 2), 1.0);
        render(&mut p, 0.05);
        if changed {
            change(&mut p);
        }
        render(&mut p, 0.2)
    };
    let (a, a_r) = play(true, false);
    let (b, b_r) = play(true, true);
    let (c, c_r) = play(false, false);
    let (d, d_r) = play(false, true);
    let mut moved = 0.0f32;
    for i in 0..a.len() {
        moved = moved.max((b[i] - a[i]).abs()).max((b_r[i] - a_r[i]).abs());
        // Voices sum linearly (no bells in this patch).
        assert!(((b[i] - a[i]) - (d[i] - c[i])).abs() < 1e-4, "left {i}");
        assert!(
            ((b_r[i] - a_r[i]) - (d_r[i] - c_r[i])).abs() < 1e-4,
            "right {i}"
        );
    }
    assert!(moved > 0.05, "the change did nothing: {moved}");
}

#[test]
fn poly_modulation_changes_only_its_voice() {
    only_its_own_voice(|p| p.poly_modulation(2, P::Sine, -0.5));
    let mut p = player();
    p.note_on(with_id(60, 9), 1.0);
    p.poly_modulation(9, P::Cutoff, 0.25);
    assert_eq!(p.voice_offset(9, P::Cutoff), Some(0.25));
    // The synth-wide output gain takes no per-voice offset.
    p.poly_modulation(9, P::Gain, 0.25);
    assert_eq!(p.voice_offset(9, P::Gain), Some(0.0));
}

#[test]
fn note_expressions_change_only_their_voice() {
    let id2 = Target {
        id: Some(2),
        channel: None,
        key: None,
    };
    only_its_own_voice(|p| p.expression(id2, NoteExpression::Tuning, 1.0));
    only_its_own_voice(|p| p.expression(id2, NoteExpression::Volume, 0.25));
    only_its_own_voice(|p| p.expression(id2, NoteExpression::Pan, -1.0));
    only_its_own_voice(|p| p.expression(id2, NoteExpression::Vibrato, 1.0));
}

#[test]
fn pan_moves_a_voice_to_one_side() {
    let mut p = player();
    p.note_on(with_id(60, 1), 1.0);
    p.expression(
        Target {
            id: Some(1),
            ..Default::default()
        },
        NoteExpression::Pan,
        -1.0,
    );
    let (l, r) = render(&mut p, 0.1);
    assert!(rms(&l) > 0.1);
    assert_eq!(rms(&r), 0.0);
}

#[test]
fn ended_voices_are_told_once() {
    let mut p = player();
    p.note_on(with_id(60, 5), 1.0);
    render(&mut p, 0.05);
    p.note_off(with_id(60, 5));
    render(&mut p, 2.0);
    let mut ended = Vec::new();
    p.drain_ended(|t| ended.push(t));
    assert_eq!(ended, vec![with_id(60, 5)]);
    p.drain_ended(|_| panic!("told twice"));
    // A stolen voice ends its old note.
    p.set_settings(PlaySettings {
        polyphony: 1,
        ..Default::default()
    });
    p.note_on(with_id(60, 6), 1.0);
    p.note_on(with_id(62, 7), 1.0);
    let mut ended = Vec::new();
    p.drain_ended(|t| ended.push(t));
    assert_eq!(ended, vec![with_id(60, 6)]);
}

#[test]
fn mpe_notes_on_their_own_channels_bend_alone() {
    let mut p = player();
    p.set_settings(PlaySettings {
        mpe: true,
        ..Default::default()
    });
    let on = |ch, key| Tag {
        id: None,
        channel: ch,
        key,
    };
    p.note_on(on(1, 69), 1.0);
    p.note_on(on(2, 69), 1.0);
    assert_eq!(p.synth().active_voices(), 2);
    // Member channel 2 bends its note up an octave (a quarter of ±48 st).
    p.pitch_bend(2, 0.625);
    render(&mut p, 0.05);
    let pitches: Vec<f32> = p
        .synth()
        .voices()
        .iter()
        .filter(|v| v.is_active())
        .map(|v| v.expression().bend())
        .collect();
    assert_eq!(pitches.len(), 2);
    assert!(
        pitches.contains(&0.0) && pitches.contains(&12.0),
        "{pitches:?}"
    );
}

#[test]
fn hostile_controller_values_are_harmless() {
    let mut p = player();
    p.note_on(tag(60), f32::NAN);
    p.pitch_bend(0, f32::INFINITY);
    p.pitch_bend(200, 1.0);
    p.control_change(0, 1, f32::NAN);
    p.control_change(99, 64, 1.0);
    p.channel_pressure(0, -5.0);
    p.expression(Target::default(), NoteExpression::Tuning, f32::NAN);
    p.expression(Target::default(), NoteExpression::Volume, 1e9);
    p.poly_modulation(0, P::Cutoff, f32::NAN);
    let (l, r) = render(&mut p, 0.2);
    assert!(l.iter().chain(&r).all(|x| x.is_finite() && x.abs() < 16.0));
}
