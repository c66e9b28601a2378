//! This process's CPU time and memory, from `/proc/self` (Linux).

use std::time::Duration;

/// User plus system CPU time used so far by every thread of this process, to the nanosecond
/// (`/proc/self/stat` counts in ticks of 10 ms, too coarse for an idle process).
pub fn cpu_time() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// The same for the calling thread alone.
pub fn thread_cpu_time() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

#[allow(
    unsafe_code,
    reason = "the CPU clocks to the nanosecond are only in libc"
)]
fn clock(id: libc::clockid_t) -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only into the timespec it is given.
    if unsafe { libc::clock_gettime(id, &mut t) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        t.tv_sec.max(0) as u64,
        t.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resident memory now, in MiB.
pub fn rss_mib() -> f64 {
    status_kib("VmRSS:").unwrap_or(0) as f64 / 1024.0
}

/// The most resident memory so far, in MiB.
pub fn peak_rss_mib() -> f64 {
    status_kib("VmHWM:").unwrap_or(0) as f64 / 1024.0
}

/// CPU used while `f` runs, as a percentage of one core over `wall`.
pub fn cpu_percent(before: Duration, after: Duration, wall: Duration) -> f64 {
    if wall.is_zero() {
        return 0.0;
    }
    (after.saturating_sub(before)).as_secs_f64() / wall.as_secs_f64() * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work_and_memory_is_read() {
        let before = cpu_time();
        // Work until 20 ms of CPU are counted; a busy machine may take longer to give them.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while cpu_time() < before + Duration::from_millis(20) {
            for _ in 0..10_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "CPU time did not grow: {before:?} -> {:?}",
                cpu_time()
            );
        }
        std::hint::black_box(x);
        // Other tests share the process: read the current size first, so the peak read after
        // it can only be larger.
        let rss = rss_mib();
        assert!(rss > 1.0);
        assert!(peak_rss_mib() >= rss);
    }
}
