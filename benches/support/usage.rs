//! What a benchmark process used: CPU time and peak RSS. Shared by the benchmarks with
//! `#[path = "support/usage.rs"] mod usage;` (each bench is a crate of its own).
use std::time::Duration;

/// CPU time (user + system, getrusage) of this process so far. Unlike wall time it barely
/// depends on what else runs on the machine, so designs are compared by it.
pub fn cpu() -> Duration {
    rusage_cpu(libc::RUSAGE_SELF)
}

/// CPU time of this process's children that have ended and been waited for.
#[allow(dead_code)] // not every benchmark starts processes
pub fn children_cpu() -> Duration {
    rusage_cpu(libc::RUSAGE_CHILDREN)
}

fn rusage_cpu(who: libc::c_int) -> Duration {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut u) };
    let t = |tv: libc::timeval| {
        Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
    };
    t(u.ru_utime) + t(u.ru_stime)
}

/// Peak RSS of this process in kB (-1 when unknown). The peak is `VmHWM` from /proc, which
/// belongs to the address space this process got at exec; getrusage's `ru_maxrss` would also
/// count the orchestrator's memory inherited through fork.
#[allow(dead_code)] // not every benchmark reports memory
pub fn peak_rss_kb() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<i64>().ok())
        })
        .unwrap_or(-1)
}
