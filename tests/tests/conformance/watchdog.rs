//! A deadline for a check that could deadlock: a deadlocked thread can be neither joined nor
//! killed, so the watchdog fails the whole run (exit status 1) instead of letting CI hang.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

/// Armed while it lives; dropping it disarms it.
pub struct Watchdog {
    /// Dropped with the watchdog, which tells its thread the check finished.
    _disarm: Sender<()>,
}

impl Watchdog {
    /// Fails the run if `what` has not finished within `limit` (or within
    /// `CONFORMANCE_WATCHDOG_S` seconds when set: the positive control, which makes a healthy
    /// check trip it).
    pub fn arm(what: &'static str, limit: Duration) -> Self {
        let limit = std::env::var("CONFORMANCE_WATCHDOG_S")
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or(limit, Duration::from_secs_f64);
        let (disarm, armed) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if armed.recv_timeout(limit) == Err(RecvTimeoutError::Timeout) {
                println!(
                    "FAIL  {what}: not finished after {:.0} s (deadlock?)",
                    limit.as_secs_f64()
                );
                std::process::exit(1);
            }
        });
        Self { _disarm: disarm }
    }
}
