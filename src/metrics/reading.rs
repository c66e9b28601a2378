//! One round of metrics, whichever source produced it (Prometheus, or istiod and a sample of
//! sidecars scraped directly): what the metrics pane draws and the rollback triggers judge.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::control_plane::Rates;
use super::cross_cluster::CrossCluster;

#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub at: DateTime<Utc>,
    /// Where the numbers come from, as the pane says it.
    pub source: String,
    /// istiod's numbers, by revision.
    pub control_plane: BTreeMap<String, Rates>,
    /// Inbound traffic by namespace, then by the revision of the pods that served it.
    pub data_plane: BTreeMap<String, BTreeMap<String, Traffic>>,
    /// Requests this cluster's sidecars sent to other clusters; None when no series says
    /// which cluster a request went to (one cluster, or a mesh that does not label them).
    pub cross_cluster: Option<CrossCluster>,
    /// What could not be read this round; with no numbers at all, the source is down.
    pub errors: Vec<String>,
}

/// Requests served by the pods of one namespace that run one revision, over the last interval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    pub requests_per_s: f64,
    /// Share of 5xx responses; None without requests.
    pub error_ratio: Option<f64>,
    /// p99 of the request duration in milliseconds; None without requests.
    pub p99_ms: Option<f64>,
    /// Outbound connections that failed before any response (`UF,URX`: mTLS or certificate
    /// trouble), per second.
    pub mtls_failures_per_s: f64,
    /// How many pods were measured, when only a sample was (direct scrape).
    pub sampled_pods: Option<usize>,
}

impl Reading {
    /// A round that produced nothing but errors: the source is unreachable or broken.
    pub fn is_down(&self) -> bool {
        self.control_plane.is_empty() && self.data_plane.is_empty() && !self.errors.is_empty()
    }

    /// One namespace's traffic on one revision.
    pub fn traffic(&self, namespace: &str, revision: &str) -> Option<&Traffic> {
        self.data_plane.get(namespace)?.get(revision)
    }
}
