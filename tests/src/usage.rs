//! What this test process uses, from `/proc/self/status`: threads and resident memory.

use anyhow::{Context, Result};

unsafe extern "C" {
    /// glibc: returns freed heap memory to the system, so resident memory shows what is live.
    fn malloc_trim(pad: usize) -> i32;
}

/// A number field of `/proc/self/status` ("Threads:", "VmRSS:" in kB).
fn status_field(name: &str) -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no {name} in /proc/self/status"))
}

/// Threads of this process now.
pub fn threads() -> Result<usize> {
    Ok(status_field("Threads:")? as usize)
}

/// Resident memory of this process now, bytes, after handing freed heap memory back.
pub fn resident_bytes() -> Result<u64> {
    // SAFETY: glibc's malloc_trim has no preconditions; it only returns free heap pages.
    unsafe { malloc_trim(0) };
    Ok(status_field("VmRSS:")? * 1024)
}
