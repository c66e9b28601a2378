//! The mesh's revisions and tags, their versions, and where the upgrade comes from and goes:
//! computed from the injectors and istiod pods on demand.

use std::collections::{BTreeMap, BTreeSet};

use super::cluster::Cluster;
use super::injection::{self, Resolution};
use super::namespace_facts;
use super::pod::PodInfo;
use super::resources::NamespaceInfo;
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
    /// The mesh with the upgrade's `(from, to)` revisions, when a plan names them.
    pub fn of(cluster: &Cluster, upgrade: Option<(&str, &str)>) -> Mesh {
        let mut mesh = Mesh::injectors(cluster);
        match upgrade {
            Some((from, to)) => {
                mesh.old = Some(from.to_string());
                mesh.new = Some(to.to_string());
            }
            None => {
                mesh.old = mesh.oldest_serving(cluster);
                mesh.new = mesh.revisions.last().cloned();
            }
        }
        mesh
    }

    /// Tags, revisions and versions alone: all that resolving namespace labels needs. `old`
    /// and `new` are left empty.
    pub fn injectors(cluster: &Cluster) -> Mesh {
        let mut tags = BTreeMap::new();
        let mut revisions: BTreeSet<String> = BTreeSet::new();
        for hook in cluster.webhooks.values() {
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
        for pod in istiod_pods(cluster) {
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
    pub fn oldest_serving(&self, cluster: &Cluster) -> Option<String> {
        let selected = namespace_facts::selection(cluster);
        self.revisions
            .iter()
            .find(|rev| {
                cluster.pod_tally.served.contains_key(*rev)
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

/// The istiod pods that serve the cluster, without walking the others: its own, in key
/// order, then those of the primary that serves it, if any.
pub(super) fn istiod_pods(cluster: &Cluster) -> impl Iterator<Item = &PodInfo> {
    own_istiod_pods(cluster).chain(
        cluster
            .served_by
            .iter()
            .flat_map(|served| served.istiods.iter()),
    )
}

/// The istiod pods running in the cluster itself.
pub(super) fn own_istiod_pods(cluster: &Cluster) -> impl Iterator<Item = &PodInfo> {
    cluster
        .pod_tally
        .istiod
        .iter()
        .filter_map(|key| cluster.pods.get(key))
}

/// How many istiod pods of `revision` are ready, of how many.
pub fn istiod_readiness(cluster: &Cluster, revision: &str) -> (usize, usize) {
    istiod_pods(cluster)
        .filter(|pod| pod.istiod.as_ref().is_some_and(|(rev, _)| rev == revision))
        .fold((0, 0), |(ready, total), pod| {
            (ready + usize::from(pod.is_ready()), total + 1)
        })
}

/// Revisions with an injector: how many rows the control-plane pane needs, cheaply (the
/// layout asks on every selection change, and must not walk every pod).
pub fn revision_count(cluster: &Cluster) -> usize {
    let revisions: BTreeSet<&str> = cluster
        .webhooks
        .values()
        .filter(|h| h.tag.is_none())
        .map(|h| h.revision.as_str())
        .collect();
    revisions.len()
}
