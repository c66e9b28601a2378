//! The smaller kinds the checks read: Services, PodDisruptionBudgets, CRDs, ResourceQuotas,
//! nodes, the mesh config and istiod's Deployments.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Node, ResourceQuota, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::proxy_config::ProxyConfig;
use super::selector;
use super::workload::PortInfo;
use super::{Keyed, WorkloadInfo};
use crate::k8s::quantity::{cpu_millis, memory_mib};
use crate::k8s::selector::LabelSelector;
use crate::mesh::version::Version;

/// Where Istio's control plane and its mesh config live.
pub const ISTIO_SYSTEM: &str = "istio-system";

/// A count or a percentage of a workload's replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(i32),
    Percent(i32),
}

impl IntOrPercent {
    pub fn parse(text: &str) -> Option<IntOrPercent> {
        match text.strip_suffix('%') {
            Some(p) => p.trim().parse().ok().map(IntOrPercent::Percent),
            None => text.trim().parse().ok().map(IntOrPercent::Int),
        }
    }

    pub fn from_k8s(value: &IntOrString) -> Option<IntOrPercent> {
        match value {
            IntOrString::Int(n) => Some(IntOrPercent::Int(*n)),
            IntOrString::String(s) => IntOrPercent::parse(s),
        }
    }

    /// As a count of `total`, rounding a percentage up or down.
    pub fn resolve(self, total: i32, round_up: bool) -> i32 {
        match self {
            IntOrPercent::Int(n) => n,
            IntOrPercent::Percent(p) => {
                let scaled = i64::from(total) * i64::from(p);
                let n = if round_up {
                    (scaled + 99) / 100
                } else {
                    scaled / 100
                };
                i32::try_from(n).unwrap_or(i32::MAX)
            }
        }
    }
}

/// CPU in millicores and memory in MiB; None where the source says nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resources {
    pub cpu_millis: Option<u32>,
    pub memory_mib: Option<u32>,
}

impl Resources {
    /// From a quantity map, trying each key in turn (`requests.cpu`, then `cpu`).
    fn from_map(map: Option<&BTreeMap<String, Quantity>>, cpu: &[&str], memory: &[&str]) -> Self {
        let find = |keys: &[&str]| keys.iter().find_map(|k| map?.get(*k)).map(|q| q.0.as_str());
        Resources {
            cpu_millis: find(cpu).map(cpu_millis),
            memory_mib: find(memory).map(memory_mib),
        }
    }
}

/// A Service: its name (injector webhooks call one), the pods it selects and its ports
/// (their names and `appProtocol` tell Istio the protocol).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<PortInfo>,
}

impl Keyed for ServiceInfo {
    type Key = (String, String);
    fn key(&self) -> Self::Key {
        (self.namespace.clone(), self.name.clone())
    }
}

impl ServiceInfo {
    pub fn from_service(service: &Service) -> Option<ServiceInfo> {
        let spec = service.spec.as_ref();
        Some(ServiceInfo {
            namespace: service.metadata.namespace.clone()?,
            name: service.metadata.name.clone()?,
            selector: spec.and_then(|s| s.selector.clone()).unwrap_or_default(),
            ports: spec
                .and_then(|s| s.ports.as_ref())
                .into_iter()
                .flatten()
                .map(|p| PortInfo {
                    port: p.port,
                    name: p.name.clone(),
                    app_protocol: p.app_protocol.clone(),
                })
                .collect(),
        })
    }

    /// Whether the Service sends traffic to the workload's pods.
    pub fn selects(&self, workload: &WorkloadInfo) -> bool {
        self.namespace == workload.namespace
            && !self.selector.is_empty()
            && self
                .selector
                .iter()
                .all(|(k, v)| workload.template_labels.get(k) == Some(v))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PdbInfo {
    pub namespace: String,
    pub name: String,
    /// None selects no pod (no selector, or one that cannot be read); an empty selector
    /// selects every pod of the namespace.
    pub selector: Option<LabelSelector>,
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
    /// From the status, once the disruption controller has written it.
    pub disruptions_allowed: Option<i32>,
    pub expected_pods: Option<i32>,
}

impl Keyed for PdbInfo {
    type Key = (String, String);
    fn key(&self) -> Self::Key {
        (self.namespace.clone(), self.name.clone())
    }
}

impl PdbInfo {
    pub fn from_pdb(pdb: &PodDisruptionBudget) -> Option<PdbInfo> {
        let spec = pdb.spec.as_ref();
        let status = pdb.status.as_ref();
        Some(PdbInfo {
            namespace: pdb.metadata.namespace.clone()?,
            name: pdb.metadata.name.clone()?,
            selector: spec
                .and_then(|s| s.selector.as_ref())
                .and_then(selector::from_api),
            min_available: spec
                .and_then(|s| s.min_available.as_ref())
                .and_then(IntOrPercent::from_k8s),
            max_unavailable: spec
                .and_then(|s| s.max_unavailable.as_ref())
                .and_then(IntOrPercent::from_k8s),
            disruptions_allowed: status.map(|s| s.disruptions_allowed),
            expected_pods: status.map(|s| s.expected_pods),
        })
    }

    pub fn selects(&self, workload: &WorkloadInfo) -> bool {
        self.namespace == workload.namespace
            && self
                .selector
                .as_ref()
                .is_some_and(|s| s.matches(&workload.template_labels))
    }

    /// How many of `replicas` pods may be down at once under this budget.
    pub fn allowed_down(&self, replicas: i32) -> i32 {
        if let Some(max) = self.max_unavailable {
            return max.resolve(replicas, true).max(0);
        }
        match self.min_available {
            Some(min) => (replicas - min.resolve(replicas, true)).max(0),
            // Neither set: the API refuses it; treat as no constraint.
            None => replicas,
        }
    }
}

/// A CustomResourceDefinition: its group, plural and the versions it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdInfo {
    pub name: String,
    pub group: String,
    pub plural: String,
    pub served: Vec<String>,
}

impl Keyed for CrdInfo {
    type Key = String;
    fn key(&self) -> String {
        self.name.clone()
    }
}

impl CrdInfo {
    pub fn from_crd(crd: &CustomResourceDefinition) -> Option<CrdInfo> {
        Some(CrdInfo {
            name: crd.metadata.name.clone()?,
            group: crd.spec.group.clone(),
            plural: crd.spec.names.plural.clone(),
            served: crd
                .spec
                .versions
                .iter()
                .filter(|v| v.served)
                .map(|v| v.name.clone())
                .collect(),
        })
    }
}

/// A ResourceQuota's limits on requested CPU and memory, and what is used of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaInfo {
    pub namespace: String,
    pub name: String,
    pub hard: Resources,
    pub used: Resources,
}

impl Keyed for QuotaInfo {
    type Key = (String, String);
    fn key(&self) -> Self::Key {
        (self.namespace.clone(), self.name.clone())
    }
}

impl QuotaInfo {
    pub fn from_quota(quota: &ResourceQuota) -> Option<QuotaInfo> {
        const CPU: [&str; 2] = ["requests.cpu", "cpu"];
        const MEMORY: [&str; 2] = ["requests.memory", "memory"];
        let status = quota.status.as_ref();
        let hard = status
            .and_then(|s| s.hard.as_ref())
            .or_else(|| quota.spec.as_ref().and_then(|s| s.hard.as_ref()));
        Some(QuotaInfo {
            namespace: quota.metadata.namespace.clone()?,
            name: quota.metadata.name.clone()?,
            hard: Resources::from_map(hard, &CPU, &MEMORY),
            used: Resources::from_map(status.and_then(|s| s.used.as_ref()), &CPU, &MEMORY),
        })
    }
}

/// A node's allocatable CPU and memory, and whether new pods may be scheduled on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    pub allocatable: Resources,
    pub schedulable: bool,
}

impl Keyed for NodeInfo {
    type Key = String;
    fn key(&self) -> String {
        self.name.clone()
    }
}

impl NodeInfo {
    pub fn from_node(node: &Node) -> Option<NodeInfo> {
        Some(NodeInfo {
            name: node.metadata.name.clone()?,
            allocatable: Resources::from_map(
                node.status.as_ref().and_then(|s| s.allocatable.as_ref()),
                &["cpu"],
                &["memory"],
            ),
            schedulable: !node
                .spec
                .as_ref()
                .and_then(|s| s.unschedulable)
                .unwrap_or(false),
        })
    }
}

/// The mesh config a revision's proxies read: ConfigMap `istio-<revision>` (or `istio` for
/// the default revision) in `istio-system`, key `mesh`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshConfigInfo {
    pub name: String,
    pub defaults: ProxyConfig,
}

impl Keyed for MeshConfigInfo {
    type Key = String;
    fn key(&self) -> String {
        self.name.clone()
    }
}

impl MeshConfigInfo {
    /// None for any other ConfigMap.
    pub fn from_config_map(cm: &ConfigMap) -> Option<MeshConfigInfo> {
        let name = cm.metadata.name.as_deref()?;
        if cm.metadata.namespace.as_deref() != Some(ISTIO_SYSTEM)
            || !(name == "istio" || name.starts_with("istio-"))
        {
            return None;
        }
        let mesh = cm.data.as_ref()?.get("mesh")?;
        Some(MeshConfigInfo {
            name: name.to_string(),
            defaults: ProxyConfig::from_mesh_yaml(mesh),
        })
    }
}

/// An istiod Deployment: the revision it serves, its version and what its pods request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IstiodInfo {
    pub name: String,
    pub revision: String,
    pub version: Option<Version>,
    pub replicas: i32,
    /// Requests of one pod, all containers summed.
    pub requests: Resources,
}

impl Keyed for IstiodInfo {
    type Key = String;
    fn key(&self) -> String {
        self.name.clone()
    }
}

impl IstiodInfo {
    /// None for any Deployment whose pods are not labelled `app=istiod`.
    pub fn from_deployment(deploy: &Deployment) -> Option<IstiodInfo> {
        let spec = deploy.spec.as_ref()?;
        let labels = spec.template.metadata.as_ref()?.labels.as_ref()?;
        if labels.get("app").map(String::as_str) != Some("istiod") {
            return None;
        }
        let containers = spec
            .template
            .spec
            .as_ref()
            .map(|s| &s.containers[..])
            .unwrap_or_default();
        let (mut cpu, mut memory) = (0, 0);
        for c in containers {
            let req = c.resources.as_ref().and_then(|r| r.requests.as_ref());
            let r = Resources::from_map(req, &["cpu"], &["memory"]);
            cpu += r.cpu_millis.unwrap_or(0);
            memory += r.memory_mib.unwrap_or(0);
        }
        Some(IstiodInfo {
            name: deploy.metadata.name.clone()?,
            revision: labels
                .get("istio.io/rev")
                .cloned()
                .unwrap_or_else(|| "default".into()),
            version: containers
                .iter()
                .find(|c| c.name == "discovery")
                .and_then(|c| c.image.as_deref())
                .and_then(Version::from_image),
            replicas: spec.replicas.unwrap_or(1),
            requests: Resources {
                cpu_millis: Some(cpu),
                memory_mib: Some(memory),
            },
        })
    }
}
