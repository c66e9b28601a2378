//! The simulated mesh: a loopback Kubernetes API server with Istio's objects, controllers
//! that behave like Kubernetes and Istio, istiod logs, and metrics for Prometheus.
//!
//! - `store`: objects, resourceVersions, watch history
//! - `api`: the HTTP surface (discovery, list/watch/get, writes, logs, pod and service proxies)
//! - `scenario`: the objects a run starts with
//! - `controllers`: Deployments, ReplicaSets, DaemonSets, the kubelet's pod lifecycle
//! - `injection`: sidecar injection through the revision and tag webhooks
//! - `mesh`: traffic, istiod and sidecar metrics, istiod logs, shaped by `faults`

pub mod api;
pub mod churn;
pub mod controllers;
pub mod fault_watcher;
pub mod faults;
pub mod fleet;
pub mod injection;
pub mod kubeconfig;
pub mod logs;
pub mod mesh;
pub mod metrics_http;
pub mod names;
pub mod outage;
pub mod patch;
pub mod prometheus_config;
pub mod quantity;
pub mod request_log;
pub mod resources;
pub mod scenario;
pub mod secrets;
pub mod serve;
mod start;
pub mod store;
pub mod tls;
pub mod topology;
pub mod validation;
pub mod workloads;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use faults::Faults;
use logs::LogHub;
pub use start::start;
use store::Store;
pub use topology::Topology;

/// How long simulated lifecycle steps take.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// From a pod's creation until it is ready.
    pub readiness: Duration,
    /// From a pod's deletion until it is gone (capped by its grace period).
    pub termination: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            readiness: Duration::from_secs(3),
            termination: Duration::from_secs(2),
        }
    }
}

pub struct SimContext {
    pub store: Arc<Store>,
    pub faults: Arc<Faults>,
    pub logs: Arc<LogHub>,
    pub mesh: Arc<mesh::Mesh>,
    pub timing: Timing,
    pub admin_token: String,
    pub viewer_token: String,
    /// `host:port` the API answers on.
    pub server_address: String,
    /// Where every API request is recorded, one line each, when asked for.
    pub request_log: Option<request_log::RequestLog>,
    /// This cluster's place in a fleet; None for a lone cluster.
    pub fleet: Option<Arc<fleet::Member>>,
    /// A simulated outage of this cluster's API server (`api.down-s`).
    pub outage: Arc<outage::ApiOutage>,
    /// The `gitVersion` `/version` answers, which the scenario picks (`v1.32.4`).
    pub kubernetes_version: &'static str,
}

impl SimContext {
    /// The cluster's name in its fleet; None for a lone cluster.
    pub fn cluster_name(&self) -> Option<&str> {
        self.fleet.as_deref().map(|m| m.name.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub listen: SocketAddr,
    pub kubeconfig_out: Option<PathBuf>,
    pub prometheus_config_out: Option<PathBuf>,
    /// Which target labels that configuration gives the series.
    pub prometheus_style: prometheus_config::Style,
    pub scenario: scenario::Options,
    pub timing: Timing,
    /// Lines kept per container log.
    pub log_lines: usize,
    /// Changes kept for watches that resume from an older resourceVersion.
    pub watch_history: usize,
    /// Append `<verb> <method> <path>` for every API request to this file (in a fleet, each
    /// line starts with the cluster's name).
    pub request_log: Option<PathBuf>,
    /// How many clusters to serve: 1 is a lone cluster, 2 or more a fleet.
    pub clusters: usize,
    /// How a fleet's clusters share their control plane; ignored for one cluster.
    pub topology: Topology,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            kubeconfig_out: None,
            prometheus_config_out: None,
            prometheus_style: prometheus_config::Style::default(),
            scenario: scenario::Options::default(),
            timing: Timing::default(),
            log_lines: 5_000,
            watch_history: store::DEFAULT_HISTORY,
            request_log: None,
            clusters: 1,
            topology: Topology::default(),
        }
    }
}

/// One simulated cluster of a running simulator.
pub struct ClusterHandle {
    /// `primary`, `remote-1`, ... (`primary` for a lone cluster too).
    pub name: String,
    pub api_url: String,
    pub metrics_url: String,
    /// PEM of the CA its API server's certificate chains to.
    pub ca_pem: String,
    /// Its kubeconfig contexts: `sim-admin`/`sim-viewer` alone, `<name>`/`<name>-viewer` in a fleet.
    pub admin_context: String,
    pub viewer_context: String,
    pub ctx: Arc<SimContext>,
}

/// A running simulator. The fields outside `clusters` are the first cluster's.
pub struct RunningSim {
    pub ctx: Arc<SimContext>,
    /// PEM of the CA clients must trust to reach the API over TLS.
    pub ca_pem: String,
    pub api_url: String,
    pub metrics_url: String,
    pub kubeconfig: PathBuf,
    /// Every cluster, the first (the primary) first.
    pub clusters: Vec<ClusterHandle>,
    shutdown: tokio::sync::watch::Sender<bool>,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningSim {
    /// The line `istio-cockpit sim` prints when it is ready; a fleet's names its clusters.
    pub fn ready_line(&self) -> String {
        let mut line = format!(
            "ready api={} kubeconfig={} metrics={}",
            self.api_url,
            self.kubeconfig.display(),
            self.metrics_url
        );
        if self.clusters.len() > 1 {
            let names: Vec<&str> = self.clusters.iter().map(|c| c.name.as_str()).collect();
            line.push_str(&format!(" clusters={}", names.join(",")));
        }
        line
    }

    /// The first cluster's admin context: where a cockpit on this simulator connects.
    pub fn admin_context(&self) -> &str {
        self.clusters
            .first()
            .map_or("sim-admin", |c| c.admin_context.as_str())
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for server in self.servers {
            let _ = server.await;
        }
    }
}
