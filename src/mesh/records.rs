//! What the cockpit keeps in the cluster, next to the upgrade, so a dropped session loses
//! nothing and every watcher sees the same upgrade: the driver's Lease, the upgrade record
//! (phase and when each phase began) and the journal of actions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::journal::{JournalAction, JournalResult};

pub const NAMESPACE: &str = "istio-system";
pub const LEASE: &str = "istio-cockpit-driver";
pub const UPGRADE: &str = "istio-cockpit-upgrade";
pub const JOURNAL: &str = "istio-cockpit-journal";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by=istio-cockpit";
/// Entries the journal ConfigMap keeps (the local file keeps everything).
pub const JOURNAL_KEEP: usize = 200;
/// Seconds a driver's lease lasts without renewal.
pub const LEASE_SECONDS: i32 = 30;

/// The cockpit's records as last read from the cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Records {
    pub driver: Option<Driver>,
    pub upgrade: Option<UpgradeRecord>,
    pub journal: Vec<JournalEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub at: DateTime<Utc>,
    pub who: String,
    pub action: JournalAction,
    pub target: String,
    /// Exactly what was sent (patch bodies), or what would have been.
    pub change: serde_json::Value,
    pub result: JournalResult,
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
    /// In a fleet, on the primary's record: each cluster's phase, by the cluster's name.
    pub fleet: BTreeMap<String, String>,
}

impl UpgradeRecord {
    pub fn to_data(&self) -> BTreeMap<String, String> {
        let mut data = BTreeMap::from([
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
        ]);
        if !self.fleet.is_empty() {
            let fleet = serde_json::to_string(&self.fleet).unwrap_or_default();
            data.insert("fleet".to_string(), fleet);
        }
        data
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Driver {
    pub holder: String,
    pub since: Option<DateTime<Utc>>,
    pub renewed: Option<DateTime<Utc>>,
    pub seconds: i32,
}

impl Driver {
    /// A driver whose lease was not renewed in time has vanished.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.renewed
            .is_none_or(|r| now > r + chrono::Duration::seconds(i64::from(self.seconds)))
    }
}

/// A lease holder as people read it: `user@host`, without the per-process part.
pub fn display_holder(holder: &str) -> &str {
    holder.split_once('#').map_or(holder, |(person, _)| person)
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
