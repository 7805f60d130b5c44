//! Faults a test injects into the learner and the audio thread (debug builds only).

use std::time::Duration;

/// Faults a test injects through the environment variable `DAR_DDSP_FAULT`, read when the
/// plugin activates; debug builds only, so a release build never looks. `panic`: the learner
/// panics at its first sidechain chunk; `slow=MS`: the learner spends MS more milliseconds on
/// every chunk (starved of CPU); `alloc`: `process()` allocates, the positive control of
/// `assert_process_allocs`. Several may be given, comma-separated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Panic at the first sidechain chunk.
    pub panic: bool,
    /// Extra time per chunk.
    pub slow: Duration,
    /// Allocate in every `process()` call.
    pub alloc: bool,
}

impl Faults {
    /// Parses the variable's text; unknown words are ignored.
    pub fn parse(text: &str) -> Self {
        let mut f = Self::default();
        for word in text.split(',').map(str::trim) {
            if word == "panic" {
                f.panic = true;
            } else if word == "alloc" {
                f.alloc = true;
            } else if let Some(ms) = word.strip_prefix("slow=").and_then(|m| m.parse().ok()) {
                f.slow = Duration::from_millis(ms);
            }
        }
        f
    }

    /// The faults asked for in the environment (debug builds), else none. Main thread.
    pub fn from_env() -> Self {
        if !cfg!(debug_assertions) {
            return Self::default();
        }
        std::env::var("DAR_DDSP_FAULT")
            .map(|t| Self::parse(&t))
            .unwrap_or_default()
    }
}
