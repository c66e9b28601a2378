//! What the checks share: the mesh's tags and revisions as the injectors and istiods say,
//! what each namespace's labels select, and which workloads the upgrade will restart.
//!
//! Restart scope: a workload is restarted by the upgrade when its pods get a sidecar (its
//! namespace's labels select a revision or tag, or, in an unlabelled namespace, its template's
//! `istio.io/rev` label does), it has not opted out (`sidecar.istio.io/inject=false`, as a
//! template label or, older, annotation) and it
//! runs at least one pod. Ambient namespaces need no restart; kube-system and other
//! namespaces outside the mesh are never touched.

use std::collections::{BTreeMap, BTreeSet};

use crate::mesh::injection::{self, Resolution, Selection};
use crate::mesh::version::Version;

use super::inventory::{Inventory, WorkloadInfo};

pub const INJECT: &str = "sidecar.istio.io/inject";

/// Through which label and tag a workload's pods are injected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    /// The revision, when the label resolves to one.
    pub revision: Option<String>,
    pub via_tag: Option<String>,
    /// Where the choice comes from: `namespace` or `pod template`.
    pub from: &'static str,
}

pub struct Scope<'a> {
    pub inventory: &'a Inventory,
    /// tag -> revision
    pub tags: BTreeMap<String, String>,
    /// Revisions with an injector or an istiod.
    pub revisions: Vec<String>,
    /// Each revision's version: its istiod's image, else its name.
    pub versions: BTreeMap<String, Version>,
    /// Each namespace's labels, resolved.
    pub namespaces: BTreeMap<String, Resolution>,
}

impl<'a> Scope<'a> {
    pub fn new(inventory: &'a Inventory) -> Scope<'a> {
        let mut tags = BTreeMap::new();
        let mut revisions = BTreeSet::new();
        for injector in inventory.injectors.values() {
            match &injector.tag {
                Some(tag) => {
                    tags.insert(tag.clone(), injector.revision.clone());
                }
                None => {
                    revisions.insert(injector.revision.clone());
                }
            }
        }
        let mut versions = BTreeMap::new();
        for istiod in inventory.istiods.values() {
            revisions.insert(istiod.revision.clone());
            if let Some(v) = istiod.version {
                versions.insert(istiod.revision.clone(), v);
            }
        }
        for rev in &revisions {
            if let Some(v) = Version::parse(rev) {
                versions.entry(rev.clone()).or_insert(v);
            }
        }
        let revisions: Vec<String> = revisions.into_iter().collect();
        let namespaces = inventory
            .namespaces
            .values()
            .map(|ns| {
                let resolved = injection::resolve(&ns.labels, &tags, &revisions);
                (ns.name.clone(), resolved)
            })
            .collect();
        Scope {
            inventory,
            tags,
            revisions,
            versions,
            namespaces,
        }
    }

    /// Whether the namespace's labels ask for sidecars (whether or not the label resolves).
    pub fn sidecar_namespace(&self, namespace: &str) -> bool {
        self.namespaces
            .get(namespace)
            .is_some_and(|r| matches!(r.selection, Selection::DefaultTag | Selection::Rev(_)))
    }

    /// How the workload's pods get their sidecar; None when they get none.
    pub fn injection(&self, workload: &WorkloadInfo) -> Option<Injection> {
        // The label wins over the older annotation; Istio's own components (istiod, ztunnel,
        // istio-cni) opt out with either.
        let opt = workload
            .label(INJECT)
            .or(workload.inject_annotation.as_deref());
        if opt == Some("false") {
            return None;
        }
        let resolved = self.namespaces.get(&workload.namespace)?;
        match resolved.selection {
            Selection::DefaultTag | Selection::Rev(_) => Some(Injection {
                revision: resolved.revision.clone(),
                via_tag: resolved.via_tag.clone(),
                from: "namespace",
            }),
            Selection::None => {
                let value = workload.label(injection::REV)?;
                let (revision, via_tag) = match self.tags.get(value) {
                    Some(rev) => (Some(rev.clone()), Some(value.to_string())),
                    None => (
                        self.revisions
                            .iter()
                            .any(|r| r == value)
                            .then(|| value.to_string()),
                        None,
                    ),
                };
                Some(Injection {
                    revision,
                    via_tag,
                    from: "pod template",
                })
            }
            Selection::Disabled | Selection::Ambient => None,
        }
    }

    /// The workloads the upgrade will restart, in key order.
    pub fn restarted(&self) -> impl Iterator<Item = &'a WorkloadInfo> + '_ {
        self.inventory
            .workloads
            .values()
            .filter(|w| w.replicas > 0 && self.injection(w).is_some())
    }

    /// The newest version an installed istiod runs.
    pub fn newest_control_plane(&self) -> Option<Version> {
        self.inventory
            .istiods
            .values()
            .filter_map(|i| i.version)
            .max()
    }
}
