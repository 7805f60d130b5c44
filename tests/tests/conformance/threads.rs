//! The plugin's learner threads, counted by name, and waiting for a count to settle.

use anyhow::Result;
use std::time::{Duration, Instant};

/// Learner threads of this process now (by name; the kernel keeps 15 bytes of it). Other
/// threads come and go with the framework: nice-plug runs one shared worker while any instance
/// exists.
pub fn learners() -> Result<usize> {
    let mut n = 0;
    for task in std::fs::read_dir("/proc/self/task")? {
        let comm = std::fs::read_to_string(task?.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == "dar-ddsp learne" {
            n += 1;
        }
    }
    Ok(n)
}

/// Waits (up to 5 s) for `count` to reach `expected` (a thread names itself and ends a little
/// after the call that started or stopped it); the count it ended at.
pub fn settle(expected: usize, count: fn() -> Result<usize>) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n = count()?;
        if n == expected || Instant::now() > deadline {
            return Ok(n);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
