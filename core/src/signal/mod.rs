//! Signals: the STFT, log-mel features, the yardstick distance (docs/ARCHITECTURE.md §8) and the
//! analysis that cuts a recording into notes. Depends only on [`crate::num`].

pub mod analysis;
pub mod audio_file;
pub mod distance;
pub mod features;
pub mod stft;
