//! API objects turned into the domain's values (`crate::mesh`): pods are decoded straight
//! into the fields the cockpit reads, never into whole objects.

pub mod fleet;
mod objects;
mod pod;
pub mod pod_fields;
mod records;

pub use records::journal_from_configmap;

use chrono::{DateTime, Utc};

/// Kubernetes types carry jiff timestamps; the cockpit's own clock is chrono.
pub fn jiff_to_chrono(t: &k8s_openapi::jiff::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().max(0) as u32)
}
