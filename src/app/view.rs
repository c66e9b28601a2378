//! What the panes show, derived from the state on demand: revisions and tags, namespace rows
//! with their migration state and warnings, control-plane rows.

use std::collections::{BTreeMap, BTreeSet};

use super::injection::{self, Resolution, Selection};
use super::pod::PodInfo;
use super::resources::NamespaceInfo;
use super::state::State;
use super::text_match;
use super::version::{Skew, Version, skew};

/// The mesh's revisions, tags and versions, computed once per frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mesh {
    /// tag -> revision
    pub tags: BTreeMap<String, String>,
    /// Every revision known from injectors or istiod pods, oldest version first.
    pub revisions: Vec<String>,
    pub versions: BTreeMap<String, Version>,
    /// Where the upgrade comes from: the plan's `from`; without a plan, the oldest revision
    /// still serving anything (pods, namespace labels, tags).
    pub old: Option<String>,
    /// Where it goes: the plan's `to`; without a plan, the newest revision.
    pub new: Option<String>,
}

impl Mesh {
    pub fn of(state: &State) -> Mesh {
        let mut mesh = Mesh::injectors(state);
        match &state.plan {
            Some(plan) => {
                mesh.old = Some(plan.from.clone());
                mesh.new = Some(plan.to.clone());
            }
            None => {
                mesh.old = mesh.oldest_serving(state);
                mesh.new = mesh.revisions.last().cloned();
            }
        }
        mesh
    }

    /// Tags, revisions and versions alone: all that resolving namespace labels needs. `old`
    /// and `new` are left empty.
    pub fn injectors(state: &State) -> Mesh {
        let mut tags = BTreeMap::new();
        let mut revisions: BTreeSet<String> = BTreeSet::new();
        for hook in state.webhooks.values() {
            match &hook.tag {
                Some(tag) => {
                    tags.insert(tag.clone(), hook.revision.clone());
                }
                None => {
                    revisions.insert(hook.revision.clone());
                }
            }
        }
        let mut versions = BTreeMap::new();
        for pod in istiod_pods(state) {
            if let Some((rev, version)) = &pod.istiod {
                revisions.insert(rev.clone());
                if let Some(v) = version {
                    versions.insert(rev.clone(), *v);
                }
            }
        }
        for rev in &revisions {
            if !versions.contains_key(rev)
                && let Some(v) = Version::parse(rev)
            {
                versions.insert(rev.clone(), v);
            }
        }
        let mut revisions: Vec<String> = revisions.into_iter().collect();
        revisions.sort_by_key(|r| (versions.get(r).copied(), r.clone()));
        Mesh {
            tags,
            revisions,
            versions,
            old: None,
            new: None,
        }
    }

    /// The oldest known revision (by version) that injected a running pod, is selected by a
    /// namespace's labels, or is the target of a tag.
    pub fn oldest_serving(&self, state: &State) -> Option<String> {
        let selected = super::namespace_facts::of(state);
        self.revisions
            .iter()
            .find(|rev| {
                state.pod_tally.served.contains_key(*rev)
                    || selected.per_revision.contains_key(*rev)
                    || self.tags.values().any(|target| target == *rev)
            })
            .cloned()
    }

    pub fn resolve(&self, ns: &NamespaceInfo) -> Resolution {
        injection::resolve(&ns.labels, &self.tags, &self.revisions)
    }

    pub fn tags_of(&self, revision: &str) -> Vec<&str> {
        self.tags
            .iter()
            .filter(|(_, r)| *r == revision)
            .map(|(t, _)| t.as_str())
            .collect()
    }

    /// The skew problem of a pod against the istiod of its revision, if any.
    pub fn pod_skew(&self, pod: &PodInfo) -> Option<(Skew, Version)> {
        self.skew_of(pod.revision.as_deref(), pod.proxy)
    }

    /// The skew problem of a proxy injected by `revision`, if any.
    pub fn skew_of(
        &self,
        revision: Option<&str>,
        proxy: Option<Version>,
    ) -> Option<(Skew, Version)> {
        let proxy = proxy?;
        let control = self.versions.get(revision?)?;
        let s = skew(*control, proxy);
        s.is_violation().then_some((s, *control))
    }
}

/// The istiod pods, in key order, without walking the others.
fn istiod_pods(state: &State) -> impl Iterator<Item = &PodInfo> {
    state
        .pod_tally
        .istiod
        .iter()
        .filter_map(|key| state.pods.get(key))
}

/// How many istiod pods of `revision` are ready, of how many.
pub fn istiod_readiness(state: &State, revision: &str) -> (usize, usize) {
    istiod_pods(state)
        .filter(|pod| pod.istiod.as_ref().is_some_and(|(rev, _)| rev == revision))
        .fold((0, 0), |(ready, total), pod| {
            (ready + usize::from(pod.is_ready()), total + 1)
        })
}

/// Revisions with an injector: how many rows the control-plane pane needs, cheaply (the
/// layout asks on every selection change, and must not walk every pod).
pub fn revision_count(state: &State) -> usize {
    let revisions: BTreeSet<&str> = state
        .webhooks
        .values()
        .filter(|h| h.tag.is_none())
        .map(|h| h.revision.as_str())
        .collect();
    revisions.len()
}

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

pub fn namespace_row(state: &State, mesh: &Mesh, ns: &NamespaceInfo) -> NamespaceRow {
    let resolution = mesh.resolve(ns);
    let mut by_revision: BTreeMap<String, usize> = BTreeMap::new();
    let mut versions: BTreeMap<Version, usize> = BTreeMap::new();
    let (mut pods, mut ready, mut skewed, mut uninjected) = (0, 0, 0, 0);
    let tally = state.pod_tally.namespace(&ns.name);
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
    let mut warnings: Vec<String> = resolution.problems.iter().map(|p| p.describe()).collect();
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
}

pub fn control_plane_rows(state: &State, mesh: &Mesh) -> Vec<ControlPlaneRow> {
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
                    nacks: state.logs.nacks_for(r),
                    ..ControlPlaneRow::default()
                },
            )
        })
        .collect();
    for (rev, n) in &state.pod_tally.served {
        if let Some(row) = rows.get_mut(rev.as_str()) {
            row.pods += n;
        }
    }
    for pod in istiod_pods(state) {
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
    for (rev, n) in &super::namespace_facts::of(state).per_revision {
        if let Some(row) = rows.get_mut(rev.as_str()) {
            row.namespaces += n;
        }
    }
    mesh.revisions
        .iter()
        .filter_map(|r| rows.remove(r.as_str()))
        .collect()
}

/// Namespaces in name order that match the namespaces filter (name, labels or tier).
pub fn visible_namespaces(state: &State) -> Vec<&NamespaceInfo> {
    let filter = state
        .ui
        .filter(super::state::Pane::Namespaces)
        .to_lowercase();
    state
        .namespaces
        .values()
        .filter(|ns| {
            filter.is_empty()
                || ns.name.contains(&filter)
                || ns
                    .labels
                    .iter()
                    .any(|(k, v)| text_match::pair_contains(k, v, &filter))
        })
        .collect()
}

/// Pods of the selected namespace that match the pods filter (name, revision or version).
pub fn visible_pods(state: &State) -> Vec<&PodInfo> {
    let Some(ns) = &state.ui.selected_namespace else {
        return Vec::new();
    };
    let filter = state.ui.filter(super::state::Pane::Pods).to_lowercase();
    state
        .pods_in(ns)
        .filter(|p| {
            filter.is_empty()
                || p.name.contains(&filter)
                || p.revision.as_deref().is_some_and(|r| r.contains(&filter))
                || p.proxy.is_some_and(|v| v.to_string().contains(&filter))
                || p.phase.to_lowercase().contains(&filter)
        })
        .collect()
}

/// Log entries the logs pane shows: the NACK-only toggle and the text filter applied.
pub fn visible_logs(state: &State) -> Vec<&super::logs::LogEntry> {
    let filter = state.ui.filter(super::state::Pane::Logs).to_lowercase();
    state
        .logs
        .entries()
        .filter(|e| !state.ui.nack_only || e.line.nack.is_some())
        .filter(|e| {
            filter.is_empty()
                || text_match::contains_lowercase(&e.line.message, &filter)
                || e.revision.contains(&filter)
                || e.pod.contains(&filter)
        })
        .collect()
}
