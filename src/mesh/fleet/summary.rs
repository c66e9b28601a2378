//! One cluster's row of the fleet pane, worked out from its tallies and a few small
//! collections: it runs every frame for every cluster, so it never walks the workload pods.

use std::collections::BTreeMap;

use super::roles::{control_versions, runs_istiod, skewed};
use crate::mesh::cluster::Cluster;
use crate::mesh::revisions::{Mesh, istiod_pods};
use crate::mesh::version::Version;

/// Where the east-west gateway's pods run, and the label that names them.
const EASTWEST_NAMESPACE: &str = "istio-system";
pub const EASTWEST_APP: &str = "istio-eastwestgateway";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionSummary {
    pub revision: String,
    pub version: Option<Version>,
    pub istiod_ready: usize,
    pub istiod_total: usize,
    /// The primary whose istiod serves this revision here, for a remote.
    pub served_by: Option<String>,
    /// Pods it injected in this cluster.
    pub pods: usize,
}

/// The east-west gateway: its proxies' version (the newest, when they differ) and readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EastWest {
    pub version: Option<Version>,
    pub ready: usize,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterSummary {
    /// Oldest version first.
    pub revisions: Vec<RevisionSummary>,
    /// Sidecar versions and how many pods run each, oldest first.
    pub proxies: Vec<(Version, usize)>,
    /// Pods whose proxy the control plane that serves them does not support.
    pub skewed: usize,
    /// tag -> revision
    pub tags: BTreeMap<String, String>,
    pub eastwest: Option<EastWest>,
    /// Names of the remote secrets.
    pub remote_secrets: Vec<String>,
    pub root_ca: Option<String>,
    /// NACKs in `serving`'s istiod logs that name this cluster's pods.
    pub nacks: u64,
}

/// What the fleet pane shows of `cluster`, whose proxies `serving` (itself, or its primary)
/// configures.
pub fn summary(cluster: &Cluster, serving: &Cluster) -> ClusterSummary {
    let mesh = Mesh::injectors(cluster);
    let versions = control_versions(cluster, Some(serving));
    let served_by = cluster
        .served_by
        .as_ref()
        .filter(|_| !runs_istiod(cluster))
        .map(|s| s.cluster.clone());
    let mut revisions: Vec<RevisionSummary> = mesh
        .revisions
        .iter()
        .map(|revision| RevisionSummary {
            revision: revision.clone(),
            version: versions.get(revision).copied(),
            istiod_ready: 0,
            istiod_total: 0,
            served_by: served_by.clone(),
            pods: cluster.pod_tally.served.get(revision).copied().unwrap_or(0),
        })
        .collect();
    for pod in istiod_pods(cluster) {
        let Some((revision, _)) = &pod.istiod else {
            continue;
        };
        if let Some(row) = revisions.iter_mut().find(|r| r.revision == *revision) {
            row.istiod_total += 1;
            row.istiod_ready += usize::from(pod.is_ready());
        }
    }
    let mut proxies: BTreeMap<Version, usize> = BTreeMap::new();
    for tally in cluster.pod_tally.namespaces.values() {
        for (_, proxy, count) in tally.injected() {
            if let Some(proxy) = proxy {
                *proxies.entry(proxy).or_default() += count.pods;
            }
        }
    }
    let nacks = serving
        .logs
        .nacks_by_pod
        .iter()
        .filter(|(pod, _)| cluster.pods.get(pod).is_some())
        .map(|(_, n)| n)
        .sum();
    ClusterSummary {
        revisions,
        proxies: proxies.into_iter().collect(),
        skewed: skewed(cluster, &versions).pods,
        tags: mesh.tags,
        eastwest: eastwest(cluster),
        remote_secrets: cluster
            .remote_secrets
            .values()
            .map(|s| s.name.clone())
            .collect(),
        root_ca: cluster.root_ca_fingerprint().map(str::to_string),
        nacks,
    }
}

/// The east-west gateway's pods (`app=istio-eastwestgateway` in `istio-system`); None when
/// there are none.
pub fn eastwest(cluster: &Cluster) -> Option<EastWest> {
    let mut found: Option<EastWest> = None;
    for pod in cluster.pods_in(EASTWEST_NAMESPACE) {
        if pod.app.as_deref() != Some(EASTWEST_APP) {
            continue;
        }
        let gw = found.get_or_insert(EastWest {
            version: None,
            ready: 0,
            total: 0,
        });
        gw.total += 1;
        gw.ready += usize::from(pod.is_ready());
        gw.version = gw.version.max(pod.proxy);
    }
    found
}
