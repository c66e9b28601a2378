//! Deployments, StatefulSets and DaemonSets, kept as what a rolling restart depends on:
//! replicas, update strategy (resolved against the replicas), the pod template's labels,
//! grace period, proxy config and ports.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Keyed;
use super::objects::IntOrPercent;
use super::proxy_config::ProxyConfig;

/// The pod annotation Istio reads per-workload proxy settings from.
pub const PROXY_CONFIG: &str = "proxy.istio.io/config";
/// The pod annotation naming the injection templates (`gateway` for gateways).
pub const TEMPLATES: &str = "inject.istio.io/templates";
/// The pod annotation that opts a pod out of injection (deprecated for the label of the same
/// name, which wins over it, but still honoured by the injector).
pub const INJECT_ANNOTATION: &str = "sidecar.istio.io/inject";
/// Kubernetes' default `terminationGracePeriodSeconds`.
pub const DEFAULT_GRACE_SECONDS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }
}

/// How a restart replaces the pods, with percentages already resolved against the replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// At most `max_surge` extra pods, at most `max_unavailable` missing ones.
    Rolling {
        max_surge: i32,
        max_unavailable: i32,
    },
    /// A Deployment's `Recreate`: every old pod stops before a new one starts.
    Recreate,
    /// `OnDelete`: nothing is replaced until someone deletes the pods.
    OnDelete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    pub port: i32,
    pub name: Option<String>,
    pub app_protocol: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadInfo {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    /// Desired replicas (for a DaemonSet: the nodes it runs on, from its status).
    pub replicas: i32,
    pub strategy: Strategy,
    pub template_labels: BTreeMap<String, String>,
    /// The template's `inject.istio.io/templates` annotation.
    pub inject_templates: Option<String>,
    /// The template's `sidecar.istio.io/inject` annotation.
    pub inject_annotation: Option<String>,
    pub grace_seconds: i64,
    /// The template's `proxy.istio.io/config` annotation, read.
    pub proxy_config: ProxyConfig,
    pub ports: Vec<PortInfo>,
}

impl Keyed for WorkloadInfo {
    type Key = (String, WorkloadKind, String);
    fn key(&self) -> Self::Key {
        (self.namespace.clone(), self.kind, self.name.clone())
    }
}

impl WorkloadInfo {
    pub fn object(&self) -> String {
        super::super::finding::object(self.kind.as_str(), &self.namespace, &self.name)
    }

    /// A template label (`istio.io/rev`, `sidecar.istio.io/inject`, ...).
    pub fn label(&self, key: &str) -> Option<&str> {
        self.template_labels.get(key).map(String::as_str)
    }

    /// Whether Istio injects the template as a gateway.
    pub fn is_gateway(&self) -> bool {
        self.inject_templates
            .as_deref()
            .is_some_and(|t| t.split(',').any(|t| t.trim() == "gateway"))
    }

    pub fn from_deployment(deploy: &Deployment) -> Option<WorkloadInfo> {
        let spec = deploy.spec.as_ref()?;
        let replicas = spec.replicas.unwrap_or(1);
        let strategy = match spec.strategy.as_ref() {
            Some(s) if s.type_.as_deref() == Some("Recreate") => Strategy::Recreate,
            s => {
                let rolling = s.and_then(|s| s.rolling_update.as_ref());
                let surge = rolling.and_then(|r| r.max_surge.as_ref());
                let unavailable = rolling.and_then(|r| r.max_unavailable.as_ref());
                Strategy::Rolling {
                    max_surge: resolve(surge, "25%", replicas, true),
                    max_unavailable: resolve(unavailable, "25%", replicas, false),
                }
            }
        };
        Some(from_template(
            WorkloadKind::Deployment,
            &deploy.metadata,
            replicas,
            strategy,
            &spec.template,
        ))
    }

    pub fn from_statefulset(set: &StatefulSet) -> Option<WorkloadInfo> {
        let spec = set.spec.as_ref()?;
        let replicas = spec.replicas.unwrap_or(1);
        let strategy = match spec.update_strategy.as_ref() {
            Some(s) if s.type_.as_deref() == Some("OnDelete") => Strategy::OnDelete,
            s => {
                let unavailable = s
                    .and_then(|s| s.rolling_update.as_ref())
                    .and_then(|r| r.max_unavailable.as_ref());
                Strategy::Rolling {
                    max_surge: 0,
                    max_unavailable: resolve(unavailable, "1", replicas, false).max(1),
                }
            }
        };
        Some(from_template(
            WorkloadKind::StatefulSet,
            &set.metadata,
            replicas,
            strategy,
            &spec.template,
        ))
    }

    pub fn from_daemonset(set: &DaemonSet) -> Option<WorkloadInfo> {
        let spec = set.spec.as_ref()?;
        let nodes = set
            .status
            .as_ref()
            .map_or(0, |s| s.desired_number_scheduled);
        let strategy = match spec.update_strategy.as_ref() {
            Some(s) if s.type_.as_deref() == Some("OnDelete") => Strategy::OnDelete,
            s => {
                let rolling = s.and_then(|s| s.rolling_update.as_ref());
                let surge = rolling.and_then(|r| r.max_surge.as_ref());
                let unavailable = rolling.and_then(|r| r.max_unavailable.as_ref());
                Strategy::Rolling {
                    max_surge: resolve(surge, "0", nodes, true),
                    max_unavailable: resolve(unavailable, "1", nodes, false),
                }
            }
        };
        Some(from_template(
            WorkloadKind::DaemonSet,
            &set.metadata,
            nodes,
            strategy,
            &spec.template,
        ))
    }
}

/// Kubernetes rounds a surge percentage up and an unavailability percentage down.
fn resolve(value: Option<&IntOrString>, default: &str, replicas: i32, round_up: bool) -> i32 {
    let parsed = match value {
        Some(v) => IntOrPercent::from_k8s(v),
        None => IntOrPercent::parse(default),
    };
    parsed.map_or(0, |v| v.resolve(replicas, round_up))
}

fn from_template(
    kind: WorkloadKind,
    meta: &ObjectMeta,
    replicas: i32,
    strategy: Strategy,
    template: &PodTemplateSpec,
) -> WorkloadInfo {
    let template_meta = template.metadata.as_ref();
    let annotations = template_meta.and_then(|m| m.annotations.as_ref());
    let pod = template.spec.as_ref();
    let ports = pod
        .into_iter()
        .flat_map(|p| &p.containers)
        .flat_map(|c| c.ports.iter().flatten())
        .map(|p| PortInfo {
            port: p.container_port,
            name: p.name.clone(),
            app_protocol: None,
        })
        .collect();
    WorkloadInfo {
        kind,
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        replicas,
        strategy,
        template_labels: template_meta
            .and_then(|m| m.labels.clone())
            .unwrap_or_default(),
        inject_templates: annotations.and_then(|a| a.get(TEMPLATES)).cloned(),
        inject_annotation: annotations.and_then(|a| a.get(INJECT_ANNOTATION)).cloned(),
        grace_seconds: pod
            .and_then(|p| p.termination_grace_period_seconds)
            .unwrap_or(DEFAULT_GRACE_SECONDS),
        proxy_config: annotations
            .and_then(|a| a.get(PROXY_CONFIG))
            .map(|text| ProxyConfig::from_annotation(text))
            .unwrap_or_default(),
        ports,
    }
}
