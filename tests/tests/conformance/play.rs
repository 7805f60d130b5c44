//! Playing the plugin with every block checked: the rate, the bound on samples, the eval
//! recordings, rendering, feeding a sidechain and ending every note.

use anyhow::{Result, ensure};
use dar_ddsp_tests::analysis::ensure_clean_within;
use dar_ddsp_tests::eval::{eval_path, eval_recording};
use dar_ddsp_tests::{Block, ClapHost, Extra, NoteEv, Sidechain};

/// The rate most checks run at.
pub const SR: f64 = 48_000.0;
/// No sample may exceed this (+24 dBFS): sixteen voices of a loud patch at full gain stay far
/// below; anything above is a blow-up.
pub const BOUND: f32 = 16.0;

/// Fails on NaN, infinities, subnormals and samples beyond [`BOUND`].
pub fn ensure_clean(out: &[Vec<f32>; 2], what: &str) -> Result<()> {
    ensure_clean_within(out, what, BOUND)
}

/// A recording of the eval set, mono, 48 kHz.
pub fn recording(name: &str) -> Result<Vec<f32>> {
    let (samples, rate) = eval_recording(name)?;
    ensure!(
        rate == SR as u32,
        "{} is not at 48 kHz",
        eval_path(name).display()
    );
    Ok(samples)
}

/// Renders `frames` in blocks of `block` with `notes`, checking every block.
pub fn render(
    host: &mut ClapHost,
    notes: &[NoteEv],
    frames: usize,
    block: usize,
) -> Result<[Vec<f32>; 2]> {
    let out = host.render(notes, frames, block)?;
    ensure_clean(&out, "render")?;
    Ok(out)
}

/// How [`feed`] plays a sidechain signal.
#[derive(Clone, Copy)]
pub struct Feed<'a> {
    /// The sidechain, looped to `len`.
    pub signal: &'a [f32],
    /// Samples to play.
    pub len: usize,
    /// Block size.
    pub block: usize,
    /// A note-on of this key at the start of the block in which every `every`th sample falls.
    pub key: u8,
    /// See `key`.
    pub every: usize,
    /// Process in place (see [`Block::in_place`]).
    pub in_place: bool,
}

/// Plays `f.signal` into the sidechain with MIDI notes, checking every block; the left output.
pub fn feed(host: &mut ClapHost, f: Feed) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(f.len);
    let mut pos = 0;
    while pos < f.len {
        let n = f.block.min(f.len - pos);
        let at = if pos + n <= f.signal.len() {
            pos
        } else {
            pos % f.signal.len().saturating_sub(n).max(1)
        };
        let chans: [&[f32]; 1] = [&f.signal[at..at + n]];
        let note = [NoteEv::on(0, f.key, 0.8)];
        let notes: &[NoteEv] = if pos % f.every < n { &note } else { &[] };
        let b = host.process_block(&Block {
            frames: n,
            notes,
            sidechain: Sidechain::Audio(&chans),
            in_place: f.in_place,
            ..Block::default()
        })?;
        ensure_clean(&b.out, "with sidechain")?;
        out.extend_from_slice(&b.out[0]);
        pos += n;
    }
    Ok(out)
}

/// Ends every note (a CLAP note-off wildcard) in a one-sample call.
pub fn all_notes_off(host: &mut ClapHost) -> Result<()> {
    host.process_block(&Block {
        frames: 1,
        extra: &[Extra::AllNotesOff(0)],
        ..Block::default()
    })?;
    Ok(())
}
