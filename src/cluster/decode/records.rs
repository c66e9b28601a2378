//! The cockpit's records read back from the cluster: the upgrade record and the journal from
//! their ConfigMaps, the driver from its Lease.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;

use crate::mesh::records::{Driver, JournalEntry, LEASE_SECONDS, UpgradeRecord};

use super::jiff_to_chrono;

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
            fleet: data
                .get("fleet")
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default(),
        })
    }
}

pub fn journal_from_configmap(cm: &ConfigMap) -> Vec<JournalEntry> {
    cm.data
        .as_ref()
        .and_then(|d| d.get("entries"))
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default()
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
}
