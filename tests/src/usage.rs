//! What this test process uses: threads and resident memory (`/proc/self/status`), and the
//! heap memory it holds live (glibc's `mallinfo2`, every arena).

use anyhow::{Context, Result};

/// glibc's `struct mallinfo2` (malloc.h), every field in bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct MallInfo2 {
    /// Non-mmapped space allocated from the system.
    arena: usize,
    /// Free chunks.
    ordblks: usize,
    /// Free fastbin blocks.
    smblks: usize,
    /// Mmapped regions.
    hblks: usize,
    /// Space in mmapped regions.
    hblkhd: usize,
    /// Unused (always 0).
    usmblks: usize,
    /// Space in freed fastbin blocks.
    fsmblks: usize,
    /// Space in use, non-mmapped.
    uordblks: usize,
    /// Free space, non-mmapped.
    fordblks: usize,
    /// Topmost releasable space.
    keepcost: usize,
}

unsafe extern "C" {
    /// glibc: returns freed heap memory to the system, so resident memory shows what is live.
    fn malloc_trim(pad: usize) -> i32;
    /// glibc: the allocator's figures, summed over every arena.
    fn mallinfo2() -> MallInfo2;
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

/// Heap memory this process holds now (in use in every arena, and in mmapped blocks), bytes:
/// what a leak grows. Resident memory also counts freed memory glibc keeps in the arenas of
/// threads that have ended, which it reuses but never returns (`malloc_trim` trims only the
/// main arena's top).
pub fn live_heap_bytes() -> u64 {
    // SAFETY: mallinfo2 has no preconditions; it reads the allocator's statistics.
    let m = unsafe { mallinfo2() };
    (m.uordblks + m.hblkhd) as u64
}
