//! What the cockpit keeps in the cluster, next to the upgrade, so a dropped session loses
//! nothing and every watcher sees the same upgrade: the driver's Lease, the upgrade record
//! (phase and when each phase began) and the journal of actions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use serde::{Deserialize, Serialize};

use super::pod::jiff_to_chrono;

pub const NAMESPACE: &str = "istio-system";
pub const LEASE: &str = "istio-cockpit-driver";
pub const UPGRADE: &str = "istio-cockpit-upgrade";
pub const JOURNAL: &str = "istio-cockpit-journal";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by=istio-cockpit";
/// Entries the journal ConfigMap keeps (the local file keeps everything).
pub const JOURNAL_KEEP: usize = 200;
/// Seconds a driver's lease lasts without renewal.
pub const LEASE_SECONDS: i32 = 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub at: DateTime<Utc>,
    pub who: String,
    pub action: String,
    pub target: String,
    /// Exactly what was sent (patch bodies), or what would have been.
    pub change: serde_json::Value,
    /// `ok`, or the error.
    pub result: String,
    pub dry_run: bool,
    /// Why the cockpit did it, when it was not a key press alone (e.g. a rollback trigger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpgradeRecord {
    pub from: String,
    pub to: String,
    /// The current phase, by name (`wave 1: staging`, `move tags`, ...).
    pub phase: String,
    /// When each phase began.
    pub started: BTreeMap<String, DateTime<Utc>>,
    /// When each wave's last namespace finished (every pod on `to` and ready): its soak
    /// counts from there.
    pub finished: BTreeMap<String, DateTime<Utc>>,
}

impl UpgradeRecord {
    pub fn from_configmap(cm: &ConfigMap) -> Option<UpgradeRecord> {
        let data = cm.data.as_ref()?;
        Some(UpgradeRecord {
            from: data.get("from")?.clone(),
            to: data.get("to")?.clone(),
            phase: data.get("phase").cloned().unwrap_or_default(),
            started: data
                .get("started")
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default(),
            finished: data
                .get("finished")
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default(),
        })
    }

    pub fn to_data(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("from".to_string(), self.from.clone()),
            ("to".to_string(), self.to.clone()),
            ("phase".to_string(), self.phase.clone()),
            (
                "started".to_string(),
                serde_json::to_string(&self.started).unwrap_or_default(),
            ),
            (
                "finished".to_string(),
                serde_json::to_string(&self.finished).unwrap_or_default(),
            ),
        ])
    }
}

pub fn journal_from_configmap(cm: &ConfigMap) -> Vec<JournalEntry> {
    cm.data
        .as_ref()
        .and_then(|d| d.get("entries"))
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Driver {
    pub holder: String,
    pub since: Option<DateTime<Utc>>,
    pub renewed: Option<DateTime<Utc>>,
    pub seconds: i32,
}

impl Driver {
    pub fn from_lease(lease: &Lease) -> Option<Driver> {
        let spec = lease.spec.as_ref()?;
        Some(Driver {
            holder: spec.holder_identity.clone()?,
            since: spec
                .acquire_time
                .as_ref()
                .and_then(|t| jiff_to_chrono(&t.0)),
            renewed: spec.renew_time.as_ref().and_then(|t| jiff_to_chrono(&t.0)),
            seconds: spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS),
        })
    }

    /// A driver whose lease was not renewed in time has vanished.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.renewed
            .is_none_or(|r| now > r + chrono::Duration::seconds(i64::from(self.seconds)))
    }
}

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

/// A lease holder as people read it: `user@host`, without the per-process part.
pub fn display_holder(holder: &str) -> &str {
    holder.split_once('#').map_or(holder, |(person, _)| person)
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
pub fn pid_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only asks whether the pid exists.
    let answer = unsafe { libc::kill(pid, 0) };
    answer == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The text that says who drives, for a holder (already shown as `user@host`) or nobody.
pub fn drives_line(holder: &str) -> String {
    if holder == LEASE_EXPIRED {
        "the driver lease expired".into()
    } else {
        format!("{holder} drives")
    }
}

/// What a follower shows when this cockpit lost the lease and nobody else holds it.
pub const LEASE_EXPIRED: &str = "nobody";

#[cfg(test)]
mod tests {
    use super::*;

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
