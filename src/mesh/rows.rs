//! The rows the panes show of namespaces and control planes, derived from the cluster's
//! tallies and the mesh's revisions.

use std::collections::BTreeMap;

use super::cluster::Cluster;
use super::injection::{self, Resolution, Selection};
use super::namespace_facts;
use super::resources::NamespaceInfo;
use super::revisions::{Mesh, own_istiod_pods};
use super::version::Version;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Migration {
    /// No injected pods and no injection label.
    NoMesh,
    Ambient,
    /// Every injected pod runs the old revision.
    OnOld,
    /// Every injected pod runs the new revision.
    OnNew,
    /// The labels select the new revision and some pods still run another one.
    Migrating,
    /// Pods on several revisions without the labels pointing at the new one.
    Mixed,
    /// Every pod runs one revision that is neither old nor new.
    On(String),
}

impl Migration {
    pub fn label(&self) -> String {
        match self {
            Migration::NoMesh => "no mesh".into(),
            Migration::Ambient => "ambient".into(),
            Migration::OnOld => "on old".into(),
            Migration::OnNew => "on new".into(),
            Migration::Migrating => "migrating".into(),
            Migration::Mixed => "mixed".into(),
            Migration::On(r) => format!("on {r}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceRow {
    pub name: String,
    pub tier: Option<String>,
    /// The injection labels as set, e.g. `istio.io/rev=stable`.
    pub labels: String,
    pub resolution: Resolution,
    /// Pods per revision ("-" for pods without a sidecar), in revision order.
    pub by_revision: Vec<(String, usize)>,
    pub versions: Vec<(Version, usize)>,
    pub pods: usize,
    pub ready: usize,
    pub migration: Migration,
    pub warnings: Vec<String>,
}

pub const NO_SIDECAR: &str = "-";

pub fn namespace_row(cluster: &Cluster, mesh: &Mesh, ns: &NamespaceInfo) -> NamespaceRow {
    let resolution = mesh.resolve(ns);
    let mut by_revision: BTreeMap<String, usize> = BTreeMap::new();
    let mut versions: BTreeMap<Version, usize> = BTreeMap::new();
    let (mut pods, mut ready, mut skewed, mut uninjected) = (0, 0, 0, 0);
    let tally = cluster.pod_tally.namespace(&ns.name);
    for ((revision, proxy), count) in tally.into_iter().flat_map(|t| &t.mix) {
        pods += count.pods;
        ready += count.ready;
        let rev = revision.clone().unwrap_or_else(|| NO_SIDECAR.to_string());
        *by_revision.entry(rev).or_default() += count.pods;
        match proxy {
            Some(v) => *versions.entry(*v).or_default() += count.pods,
            None => uninjected += count.pods,
        }
        if mesh.skew_of(revision.as_deref(), *proxy).is_some() {
            skewed += count.pods;
        }
    }
    let mut warnings: Vec<String> = resolution
        .problems
        .iter()
        .map(super::injection::LabelProblem::describe)
        .collect();
    if skewed > 0 {
        warnings.push(format!(
            "skew: {skewed} pod{}",
            if skewed == 1 { "" } else { "s" }
        ));
    }
    let injected_ns = resolution.revision.is_some();
    if injected_ns && uninjected > 0 {
        warnings.push(format!(
            "{uninjected} pod{} without sidecar",
            if uninjected == 1 { "" } else { "s" }
        ));
    }
    let sidecar_revs: Vec<&String> = by_revision.keys().filter(|r| *r != NO_SIDECAR).collect();
    let migration = if resolution.selection == Selection::Ambient {
        Migration::Ambient
    } else if sidecar_revs.is_empty() {
        Migration::NoMesh
    } else if sidecar_revs.len() == 1 {
        let only = sidecar_revs[0];
        let target_differs = resolution.revision.as_ref().is_some_and(|t| t != only);
        if target_differs && resolution.revision == mesh.new {
            Migration::Migrating
        } else if Some(only) == mesh.new.as_ref() {
            Migration::OnNew
        } else if Some(only) == mesh.old.as_ref() {
            Migration::OnOld
        } else {
            Migration::On(only.clone())
        }
    } else if resolution.revision.is_some() && resolution.revision == mesh.new {
        Migration::Migrating
    } else {
        Migration::Mixed
    };
    let mut by_revision: Vec<(String, usize)> = by_revision.into_iter().collect();
    by_revision.sort_by_key(|(r, _)| (r == NO_SIDECAR, mesh.versions.get(r).copied(), r.clone()));
    let labels = [
        injection::INJECTION,
        injection::REV,
        injection::DATAPLANE_MODE,
    ]
    .iter()
    .filter_map(|k| ns.labels.get(*k).map(|v| format!("{k}={v}")))
    .collect::<Vec<_>>()
    .join(",");
    NamespaceRow {
        name: ns.name.clone(),
        tier: ns.tier().map(str::to_string),
        labels,
        resolution,
        by_revision,
        versions: versions.into_iter().collect(),
        pods,
        ready,
        migration,
        warnings,
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ControlPlaneRow {
    pub revision: String,
    pub version: Option<Version>,
    pub istiod_ready: usize,
    pub istiod_total: usize,
    pub tags: Vec<String>,
    pub namespaces: usize,
    pub pods: usize,
    pub cpu_millis: u64,
    pub memory_mib: u64,
    pub nacks: u64,
    /// The primary whose istiod pods serve this revision here (a remote has none of its own).
    pub served_by: Option<String>,
}

pub fn control_plane_rows(cluster: &Cluster, mesh: &Mesh) -> Vec<ControlPlaneRow> {
    let mut rows: BTreeMap<&str, ControlPlaneRow> = mesh
        .revisions
        .iter()
        .map(|r| {
            (
                r.as_str(),
                ControlPlaneRow {
                    revision: r.clone(),
                    version: mesh.versions.get(r).copied(),
                    tags: mesh.tags_of(r).into_iter().map(str::to_string).collect(),
                    nacks: cluster.logs.nacks_for(r),
                    ..ControlPlaneRow::default()
                },
            )
        })
        .collect();
    for (rev, n) in &cluster.pod_tally.served {
        if let Some(row) = rows.get_mut(rev.as_str()) {
            row.pods += n;
        }
    }
    // The pods of a primary that serves this cluster count as its istiod, not its resources.
    let served_by = cluster.served_by.iter().flat_map(|s| {
        s.istiods
            .iter()
            .filter_map(move |pod| Some((pod.istiod.as_ref()?.0.as_str(), pod, &s.cluster)))
    });
    for (rev, pod, primary) in served_by {
        if let Some(row) = rows.get_mut(rev) {
            row.istiod_total += 1;
            row.istiod_ready += usize::from(pod.is_ready());
            row.served_by = Some(primary.clone());
        }
    }
    for pod in own_istiod_pods(cluster) {
        if let Some((rev, _)) = &pod.istiod
            && let Some(row) = rows.get_mut(rev.as_str())
        {
            row.istiod_total += 1;
            row.istiod_ready += usize::from(pod.is_ready());
            row.cpu_millis += u64::from(pod.cpu_millis);
            row.memory_mib += u64::from(pod.memory_mib);
            // Counted among the istiod pods of its row, not among the pods it serves.
            if let Some(served) = &pod.revision
                && let Some(row) = rows.get_mut(served.as_str())
            {
                row.pods -= 1;
            }
        }
    }
    for (rev, n) in &namespace_facts::selection(cluster).per_revision {
        if let Some(row) = rows.get_mut(rev.as_str()) {
            row.namespaces += n;
        }
    }
    mesh.revisions
        .iter()
        .filter_map(|r| rows.remove(r.as_str()))
        .collect()
}
