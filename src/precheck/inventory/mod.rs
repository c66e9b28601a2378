//! Everything the checks read of one cluster, as small decoded values, never whole objects.
//!
//! Each kind is a `Collection` keyed like the cockpit's own, so the cluster layer can keep an
//! inventory live from watch events (`apply`), or fill it from one list (`listed`) for the
//! command line. Pods, namespaces and the ambient DaemonSets are the values the cockpit
//! already decodes (`crate::mesh`); the rest have a `from_<kind>` constructor here.

use k8s_openapi::apimachinery::pkg::version::Info;

use crate::mesh::collection::{Collection, Watch};
use crate::mesh::pod::PodInfo;
use crate::mesh::resources::{DaemonSetInfo, NamespaceInfo};

mod injector;
mod objects;
mod proxy_config;
mod selector;
mod workload;

pub use injector::{InjectorHook, InjectorInfo, ServiceRef};
pub use objects::{
    CrdInfo, ISTIO_SYSTEM, IntOrPercent, IstiodInfo, MeshConfigInfo, NodeInfo, PdbInfo, QuotaInfo,
    Resources, ServiceInfo,
};
pub use proxy_config::ProxyConfig;
pub use workload::{PortInfo, Strategy, WorkloadInfo, WorkloadKind};

/// The Kubernetes version the API server reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion {
    pub major: u16,
    pub minor: u16,
}

impl ServerVersion {
    /// From `/version`. Managed clusters write the minor as `32+`: only the digits count.
    pub fn from_info(info: &Info) -> Option<ServerVersion> {
        let number = |s: &str| {
            let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u16>().ok()
        };
        Some(ServerVersion {
            major: number(&info.major)?,
            minor: number(&info.minor)?,
        })
    }
}

impl std::fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A value's key in its collection.
pub trait Keyed {
    type Key: Ord + Clone;
    fn key(&self) -> Self::Key;
}

/// A collection holding exactly `items`, marked as listed.
pub fn listed<T: Keyed>(items: impl IntoIterator<Item = T>) -> Collection<T::Key, T> {
    let mut collection = Collection::default();
    apply(&mut collection, Watch::Init);
    for item in items {
        apply(&mut collection, Watch::InitApply(item));
    }
    apply(&mut collection, Watch::InitDone);
    collection
}

/// Applies one watch event to a collection of the inventory. Returns whether it changed.
pub fn apply<T: Keyed>(collection: &mut Collection<T::Key, T>, event: Watch<T>) -> bool {
    collection.apply(event, T::key)
}

/// What the checks read of one cluster.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// None when `/version` could not be read or parsed.
    pub server: Option<ServerVersion>,
    pub namespaces: Collection<String, NamespaceInfo>,
    pub pods: Collection<(String, String), PodInfo>,
    pub injectors: Collection<String, InjectorInfo>,
    pub services: Collection<(String, String), ServiceInfo>,
    pub workloads: Collection<(String, WorkloadKind, String), WorkloadInfo>,
    pub pdbs: Collection<(String, String), PdbInfo>,
    pub crds: Collection<String, CrdInfo>,
    pub quotas: Collection<(String, String), QuotaInfo>,
    pub nodes: Collection<String, NodeInfo>,
    pub mesh_configs: Collection<String, MeshConfigInfo>,
    pub istiods: Collection<String, IstiodInfo>,
    /// `ztunnel` and `istio-cni-node`.
    pub ambient: Collection<(String, String), DaemonSetInfo>,
}

impl Inventory {
    /// Whether every kind has been listed once: checks run on a partial inventory would
    /// report what is merely not yet seen as missing.
    pub fn synced(&self) -> bool {
        self.namespaces.synced
            && self.pods.synced
            && self.injectors.synced
            && self.services.synced
            && self.workloads.synced
            && self.pdbs.synced
            && self.crds.synced
            && self.quotas.synced
            && self.nodes.synced
            && self.mesh_configs.synced
            && self.istiods.synced
            && self.ambient.synced
    }

    /// The workloads of one namespace, by kind and name.
    pub fn workloads_in<'a>(
        &'a self,
        namespace: &str,
    ) -> impl Iterator<Item = &'a WorkloadInfo> + 'a {
        // Every key of this namespace sorts between (ns, first kind, "") and (ns + "\0", ...).
        let start = (
            namespace.to_string(),
            WorkloadKind::Deployment,
            String::new(),
        );
        let end = (
            format!("{namespace}\0"),
            WorkloadKind::Deployment,
            String::new(),
        );
        self.workloads.range(start..end)
    }

    /// The pods of one namespace, by name.
    pub fn pods_in<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a PodInfo> + 'a {
        self.pods.range(in_namespace(namespace))
    }

    /// The Services of one namespace, by name.
    pub fn services_in<'a>(
        &'a self,
        namespace: &str,
    ) -> impl Iterator<Item = &'a ServiceInfo> + 'a {
        self.services.range(in_namespace(namespace))
    }

    /// The disruption budgets of one namespace, by name.
    pub fn pdbs_in<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a PdbInfo> + 'a {
        self.pdbs.range(in_namespace(namespace))
    }

    /// The mesh config a proxy injected by `revision` reads: `istio-<revision>`, else `istio`.
    pub fn mesh_config(&self, revision: &str) -> Option<&MeshConfigInfo> {
        self.mesh_configs
            .get(&format!("istio-{revision}"))
            .or_else(|| self.mesh_configs.get(&"istio".to_string()))
    }
}

/// Every `(namespace, name)` key of one namespace: they sort from `(ns, "")` up to
/// `(ns + "\0", "")`.
fn in_namespace(namespace: &str) -> std::ops::Range<(String, String)> {
    (namespace.to_string(), String::new())..(format!("{namespace}\0"), String::new())
}

impl Keyed for NamespaceInfo {
    type Key = String;
    fn key(&self) -> String {
        self.name.clone()
    }
}

impl Keyed for PodInfo {
    type Key = (String, String);
    fn key(&self) -> (String, String) {
        (self.namespace.clone(), self.name.clone())
    }
}

impl Keyed for DaemonSetInfo {
    type Key = (String, String);
    fn key(&self) -> (String, String) {
        (self.namespace.clone(), self.name.clone())
    }
}

#[cfg(test)]
mod tests;
