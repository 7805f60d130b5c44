//! For the standalone application: recordings played into the sidechain in a loop, for
//! musicians without an input device (`dar-ddsp-standalone --sidechain-file a.wav …`), and for
//! the headless screenshot test. Set once at start-up, before the plugin exists; then read-only.

use std::sync::OnceLock;

/// A recording to loop into the sidechain.
#[derive(Debug)]
pub struct SidechainFile {
    /// Mono samples.
    pub samples: Vec<f32>,
    /// Their sample rate, Hz (played only when the plugin runs at this rate).
    pub sample_rate: f32,
}

/// The recording: set by the standalone's `main` before the plugin exists, read by the audio
/// thread (a `OnceLock` read is a plain load once set).
static FILE: OnceLock<SidechainFile> = OnceLock::new();

/// Sets the recording (once; later calls are ignored). Main thread, at start-up.
pub fn set(file: SidechainFile) {
    let _ = FILE.set(file);
}

/// The recording, if one was set and it is not empty.
pub fn get() -> Option<&'static SidechainFile> {
    FILE.get().filter(|f| !f.samples.is_empty())
}

/// Writes the recording from `*pos` into every channel of `channels` (looping), advancing
/// `*pos`. Allocation-free.
pub fn play_into(file: &SidechainFile, channels: &mut [&mut [f32]], pos: &mut usize) {
    let len = channels.iter().map(|c| c.len()).min().unwrap_or(0);
    for i in 0..len {
        let x = file.samples[(*pos + i) % file.samples.len()];
        for c in channels.iter_mut() {
            c[i] = x;
        }
    }
    *pos = (*pos + len) % file.samples.len();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_the_recording_into_every_channel() {
        let file = SidechainFile {
            samples: vec![1.0, 2.0, 3.0],
            sample_rate: 48_000.0,
        };
        let (mut a, mut b) = (vec![0.0; 4], vec![0.0; 4]);
        let mut pos = 1;
        play_into(&file, &mut [&mut a[..], &mut b[..]], &mut pos);
        assert_eq!(a, [2.0, 3.0, 1.0, 2.0]);
        assert_eq!(a, b);
        assert_eq!(pos, 2);
    }
}
