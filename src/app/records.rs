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

/// `user@host`: who this cockpit acts as in the lease and the journal.
pub fn identity() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "someone".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "somewhere".into());
    format!("{user}@{host}")
}
