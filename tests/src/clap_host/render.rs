//! Process calls through the host: one block with the queued parameter changes going first, or
//! a whole render cut into blocks with each note in its block.

use super::ClapHost;
use super::audio::{Block, BlockOut, Sidechain};
use super::events::{NoteEv, ParamEv};
use anyhow::{Context, Result, ensure};

impl ClapHost {
    /// Runs one process call of `frames` samples and returns the main output, as stereo (a mono
    /// output is duplicated).
    ///
    /// - `notes` go out as CLAP note-on/note-off events on note port 0, channel 0, note id -1
    ///   (the host does not track voices); their `time` must be below `frames`.
    /// - Parameter changes from [`Self::set_param`] go first, at sample 0.
    /// - `sidechain` (one slice per channel, at least `frames` long; a mono sidechain feeds every
    ///   channel) goes to the first auxiliary input port. Every input port gets silence
    ///   otherwise: plugins may read any port they declare.
    ///
    /// Outputs are filled with NaN before the call, so a sample the plugin leaves unwritten
    /// shows up as non-finite. `frames == 0` is allowed as a robustness probe even though it is
    /// below the activation's minimum block size; parameter changes then stay queued.
    pub fn process(
        &mut self,
        notes: &[NoteEv],
        frames: usize,
        sidechain: Option<&[&[f32]]>,
    ) -> Result<[Vec<f32>; 2]> {
        let block = Block {
            frames,
            notes,
            sidechain: sidechain.map_or(Sidechain::Silent, Sidechain::Audio),
            ..Block::default()
        };
        Ok(self.process_block(&block)?.out)
    }

    /// One process call as described by `block` (see [`Block`]), with the parameter changes
    /// queued by [`Self::set_param`] going first. Checks what a validator checks on every
    /// call: inputs unmodified, nothing written past the frame count.
    pub fn process_block(&mut self, block: &Block) -> Result<BlockOut> {
        let audio = self
            .audio
            .as_mut()
            .context("process() needs an active plugin: call activate()")?;
        if block.frames == 0 {
            // Parameter changes stay queued: a zero-length block has no sample to put them on.
            return audio.process(block);
        }
        if self.pending_params.is_empty() {
            return audio.process(block);
        }
        let mut params: Vec<ParamEv> = self
            .pending_params
            .drain(..)
            .map(|(id, value, time)| ParamEv {
                id: id.get(),
                value,
                time,
            })
            .collect();
        params.extend_from_slice(block.params);
        audio.process(&Block {
            params: &params,
            ..*block
        })
    }

    /// Renders `total_frames` samples in blocks of at most `block`, with `notes` timed from the
    /// start of the render (each one lands in its block, shifted to the block's start).
    pub fn render(
        &mut self,
        notes: &[NoteEv],
        total_frames: usize,
        block: usize,
    ) -> Result<[Vec<f32>; 2]> {
        self.render_with_sidechain(notes, total_frames, block, None)
    }

    /// [`Self::render`], feeding `sidechain` (one slice per channel, at least `total_frames`
    /// long) to the auxiliary input as [`Self::process`] does.
    pub fn render_with_sidechain(
        &mut self,
        notes: &[NoteEv],
        total_frames: usize,
        block: usize,
        sidechain: Option<&[&[f32]]>,
    ) -> Result<[Vec<f32>; 2]> {
        ensure!(block >= 1, "the block size must be at least 1");
        if let Some(sc) = sidechain {
            for (c, channel) in sc.iter().enumerate() {
                ensure!(
                    channel.len() >= total_frames,
                    "sidechain channel {c} has {} samples for a render of {total_frames}",
                    channel.len()
                );
            }
        }
        let mut sorted = notes.to_vec();
        // Stable: a note-off and a note-on at the same sample keep the caller's order.
        sorted.sort_by_key(|n| n.time);
        if let Some(last) = sorted.last() {
            ensure!(
                (last.time as usize) < total_frames,
                "{last:?} is past the end of a render of {total_frames} frames"
            );
        }

        let mut out = [
            Vec::with_capacity(total_frames),
            Vec::with_capacity(total_frames),
        ];
        let mut block_notes = Vec::new();
        let mut next = 0;
        let mut start = 0;
        while start < total_frames {
            let len = block.min(total_frames - start);
            let offset = u32::try_from(start).context("render longer than u32::MAX frames")?;
            block_notes.clear();
            while let Some(n) = sorted.get(next).filter(|n| (n.time as usize) < start + len) {
                block_notes.push(NoteEv {
                    time: n.time - offset,
                    ..*n
                });
                next += 1;
            }
            let sc_block: Option<Vec<&[f32]>> =
                sidechain.map(|sc| sc.iter().map(|ch| &ch[start..start + len]).collect());
            let [left, right] = self.process(&block_notes, len, sc_block.as_deref())?;
            out[0].extend_from_slice(&left);
            out[1].extend_from_slice(&right);
            start += len;
        }
        Ok(out)
    }
}
