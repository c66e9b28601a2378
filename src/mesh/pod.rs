//! What the cockpit keeps of a pod: the revision that injected it (from its annotations, never
//! from labels) and the proxy version (from the `istio-proxy` image).

use chrono::{DateTime, Utc};

use super::version::Version;

#[derive(Debug, Clone, PartialEq)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    pub ready: u16,
    pub containers: u16,
    pub restarts: u32,
    pub created: Option<DateTime<Utc>>,
    pub terminating: bool,
    /// The revision that injected the sidecar.
    pub revision: Option<String>,
    pub proxy: Option<Version>,
    /// For istiod pods: the revision they serve (their `istio.io/rev` label) and version.
    pub istiod: Option<(String, Option<Version>)>,
    /// The `app` label, for grouping.
    pub app: Option<String>,
    pub cpu_millis: u32,
    pub memory_mib: u32,
    /// Who recreates the pod, as far as moving it to another revision goes.
    pub owner: Owner,
}

/// Whether a rollout restart of the namespace's workloads replaces a pod.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Owner {
    /// A ReplicaSet, StatefulSet or DaemonSet: the restart replaces it.
    #[default]
    Workload,
    /// No owner: a bare pod, deleted and created again by hand.
    Bare,
    /// An Argo Rollout: its own controller replaces its pods.
    ArgoRollout,
    /// Anything else (a Job, a CronJob's Job, an operator's kind), by kind.
    Other(String),
}

impl Owner {
    /// None when a rollout restart moves the pod; else what to say about it.
    pub fn manual_restart(&self) -> Option<String> {
        match self {
            Owner::Workload => None,
            Owner::Bare => Some("bare pod".into()),
            Owner::ArgoRollout => Some("Argo Rollout".into()),
            Owner::Other(kind) => Some(kind.clone()),
        }
    }
}

impl PodInfo {
    pub fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }

    pub fn is_injected(&self) -> bool {
        self.proxy.is_some() || self.revision.is_some()
    }

    pub fn is_ready(&self) -> bool {
        !self.terminating && self.containers > 0 && self.ready == self.containers
    }
}
