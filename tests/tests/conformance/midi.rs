//! MIDI and transport: random events and transports, orphan note-offs, all notes off.

use crate::Outcome;
use crate::play::{SR, ensure_clean, render};
use anyhow::{Result, ensure};
use dar_ddsp_tests::analysis::peak;
use dar_ddsp_tests::{Block, ClapHost, Extra, NoteEv, Transport, load_plugin};
use rand::RngExt;
use rand_xorshift::XorShiftRng;

fn random_transport(rng: &mut XorShiftRng) -> Option<Transport> {
    if rng.random_bool(0.3) {
        return None;
    }
    let wild = [0.0, -120.0, 1e9, f64::NAN, f64::INFINITY, 1e-300];
    let tempo = if rng.random_bool(0.3) {
        wild[rng.random_range(0..wild.len())]
    } else {
        rng.random_range(20.0..300.0)
    };
    Some(Transport {
        playing: rng.random_bool(0.5),
        recording: rng.random_bool(0.2),
        looping: rng.random_bool(0.3),
        tempo,
        beats: rng.random_range(-100.0..1e6),
        seconds: rng.random_range(-10.0..1e5),
        bar_start: rng.random_range(-100.0..1e6),
        bar_number: rng.random_range(i32::MIN..=i32::MAX),
        numerator: rng.random_range(0..=u16::MAX),
        denominator: [0, 1, 2, 4, 8, 16, 3, u16::MAX][rng.random_range(0..8)],
        loop_beats: (
            rng.random_range(-10.0..100.0),
            rng.random_range(-10.0..100.0),
        ),
    })
}

pub fn midi_fuzz(rng: &mut XorShiftRng) -> Outcome {
    let mut host = load_plugin()?;
    host.activate(SR, 1_024)?;
    let mut events = 0;
    for _ in 0..1_500 {
        let frames = rng.random_range(1..=1_024);
        let mut notes = Vec::new();
        let mut extra = Vec::new();
        for _ in 0..rng.random_range(0..8) {
            let time = rng.random_range(0..frames) as u32;
            match rng.random_range(0..10) {
                0..=3 => {
                    let velocity = [0.0, 1.0, 2.0, -1.0, f64::NAN, rng.random_range(0.0..1.0)]
                        [rng.random_range(0..6)];
                    notes.push(NoteEv::on(time, rng.random_range(0..=255), velocity));
                }
                // Note-offs mostly for keys never pressed.
                4..=6 => notes.push(NoteEv::off(time, rng.random_range(0..=255))),
                7 => extra.push(Extra::AllNotesOff(time)),
                8 => extra.push(Extra::ChokeAll(time)),
                _ => extra.push(Extra::Midi(
                    time,
                    [rng.random(), rng.random(), rng.random()],
                )),
            }
        }
        // Sorted by time, with CLAP's stable order at equal times.
        notes.sort_by_key(|n| n.time);
        extra.sort_by_key(Extra::time);
        events += notes.len() + extra.len();
        let out = host.process_block(&Block {
            frames,
            notes: &notes,
            extra: &extra,
            transport: random_transport(rng),
            ..Block::default()
        })?;
        ensure_clean(&out.out, "midi fuzz")?;
    }
    // All notes off, then the release tail dies away: no stuck note.
    host.process_block(&Block {
        frames: 1,
        extra: &[Extra::AllNotesOff(0)],
        ..Block::default()
    })?;
    let tail = render(&mut host, &[], (3.0 * SR) as usize, 1_024)?;
    let last = &tail[0][tail[0].len() - 4_800..];
    ensure!(
        peak(last) < 1e-4,
        "a note is stuck after all-notes-off: peak {}",
        peak(last)
    );
    // MIDI 1.0 channel mode messages on the note port: all notes off (CC 123) releases the
    // held notes, whose tail then dies away; all sound off (CC 120) ends them at once.
    let tail = hold_then_cc(&mut host, 123, (3.0 * SR) as usize)?;
    let cc123 = peak(&tail[tail.len() - 4_800..]);
    ensure!(
        cc123 < 1e-4,
        "a note is stuck after CC 123 (all notes off): peak {cc123}"
    );
    let cc120 = peak(&hold_then_cc(&mut host, 120, 1_024)?);
    ensure!(
        cc120 == 0.0,
        "sound after CC 120 (all sound off): peak {cc120}"
    );
    Ok(format!(
        "1500 blocks, {events} events (keys 0–255, velocities incl. NaN and < 0, orphan note-offs, \
         wildcards, random MIDI bytes), random or null transport incl. tempo 0/NaN/∞ and \
         denominator 0: clean; silent after all-notes-off; CC 123 releases (tail {cc123:.1e}); CC 120 silences at once"
    ))
}

/// Holds two notes for 512 samples, sends MIDI 1.0 control change `cc` (value 0) on the note
/// port, and returns the left channel of the `len` samples that follow.
fn hold_then_cc(host: &mut ClapHost, cc: u8, len: usize) -> Result<Vec<f32>> {
    host.process(&[NoteEv::on(0, 60, 0.9), NoteEv::on(0, 67, 0.9)], 512, None)?;
    host.process_block(&Block {
        frames: 1,
        extra: &[Extra::Midi(0, [0xB0, cc, 0])],
        ..Block::default()
    })?;
    let [left, _] = render(host, &[], len, 1_024)?;
    Ok(left)
}
