//! Who this cockpit is: `user@host` for people, `user@host#pid-random` for the driver lease,
//! and whether a holder's process still runs on this machine.

/// `user@host`: how people are named on screen and, without a better answer from the API
/// server, in the journal.
pub fn user_at_host() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "someone".into());
    format!("{user}@{}", host())
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "somewhere".into())
}

/// The lease holder identity of one cockpit process: `user@host#pid-random`. The pid lets a
/// cockpit on the same host tell whether the holder still runs; the random part tells two
/// processes apart when a pid is reused.
pub fn process_identity() -> String {
    format!(
        "{}#{}-{:08x}",
        user_at_host(),
        std::process::id(),
        rand::random::<u32>()
    )
}

/// The holder's host and pid, when the identity carries them.
fn host_and_pid(holder: &str) -> Option<(&str, u32)> {
    let (person, process) = holder.split_once('#')?;
    let (_, host) = person.rsplit_once('@')?;
    let pid = process.split_once('-').map_or(process, |(pid, _)| pid);
    Some((host, pid.parse().ok()?))
}

/// Whether the holder's process is provably gone: it ran on `my_host` and its pid no longer
/// runs there. A holder from another host, or without a pid, is never provably gone.
pub fn holder_gone(holder: &str, my_host: &str, running: impl Fn(u32) -> bool) -> Option<u32> {
    let (host, pid) = host_and_pid(holder)?;
    (host == my_host && !running(pid)).then_some(pid)
}

/// This machine's host name, as identities carry it.
pub fn this_host() -> String {
    host()
}

/// Whether a process with this pid runs on this machine (signal 0 checks without sending).
#[allow(
    unsafe_code,
    reason = "signal 0 is the portable way to ask whether a pid runs"
)]
pub fn pid_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only asks whether the pid exists.
    let answer = unsafe { libc::kill(pid, 0) };
    answer == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::records::display_holder;

    #[test]
    fn a_process_identity_shows_as_user_at_host() {
        let id = process_identity();
        assert_eq!(display_holder(&id), user_at_host());
        assert_ne!(
            id,
            process_identity(),
            "two processes never share an identity"
        );
        assert_eq!(display_holder("alice@laptop"), "alice@laptop");
        assert_eq!(
            host_and_pid("alice@lap.top#4242-00ff00ff"),
            Some(("lap.top", 4242))
        );
        assert_eq!(host_and_pid("alice@laptop"), None);
        assert_eq!(host_and_pid("alice@laptop#x-1"), None);
    }

    #[test]
    fn only_a_holder_on_this_host_whose_pid_is_gone_is_gone() {
        let dead = |_: u32| false;
        let alive = |_: u32| true;
        assert_eq!(holder_gone("bob@jump#77-abcd", "jump", dead), Some(77));
        assert_eq!(holder_gone("bob@jump#77-abcd", "jump", alive), None);
        assert_eq!(holder_gone("bob@other#77-abcd", "jump", dead), None);
        assert_eq!(holder_gone("bob@jump", "jump", dead), None);
    }

    #[test]
    fn this_process_runs() {
        assert!(pid_running(std::process::id()));
        assert!(!pid_running(u32::MAX));
    }
}
