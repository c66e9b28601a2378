//! The simulated mesh's flags, shared by `sim` and `demo`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::CliError;
use crate::sim::{self, SimOptions, scenario};

#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    /// Address to serve the Kubernetes API (and the metrics endpoints) on, over HTTPS.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Where to write a kubeconfig with contexts `sim-admin` (current) and `sim-viewer`
    /// (read-only); with --clusters N, per cluster an admin context named after it and a
    /// `<name>-viewer` one, `primary` current. Default: a file named after the (first) port
    /// in the temporary directory.
    #[arg(long, value_name = "PATH")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Write a Prometheus configuration that scrapes the simulated istiod and sidecars (of
    /// every cluster, each target labelled `cluster`), with each cluster's CA beside it.
    #[arg(long, value_name = "PATH")]
    pub prometheus_config_out: Option<PathBuf>,
    /// Which labels that configuration gives the series: `revision` (also `istio_io_rev`,
    /// copied from the pods) or `stock` (only `namespace`, `pod` and `app`, as Istio's
    /// Prometheus addon or a Prometheus Operator PodMonitor leave them).
    #[arg(long, value_enum, default_value = "revision", value_name = "STYLE")]
    pub prometheus_style: sim::prometheus_config::Style,
    /// What the mesh looks like when it starts.
    #[arg(long, value_enum, default_value = "default", value_name = "NAME")]
    pub scenario: scenario::Scenario,
    /// Number of application namespaces (the hand-written ones first, then generated).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub namespaces: Option<u32>,
    /// Pods in each application namespace.
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u32).range(1..=500))]
    pub pods_per_namespace: Option<u32>,
    /// Seed for the simulated traffic and log noise.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Seconds a new pod takes to become ready.
    #[arg(long, default_value_t = 3.0, value_name = "SECONDS")]
    pub ready_after: f64,
    /// Changes kept for watches that reconnect from an older resourceVersion; older ones get
    /// `410 Expired` and must list again.
    #[arg(long, default_value_t = sim::store::DEFAULT_HISTORY, value_name = "N")]
    pub watch_history: usize,
    /// Append one line per API request (`<verb> <method> <path>`) to this file: what a
    /// client really asked for. A fleet's clusters share the file, each line then starting
    /// with the cluster's name.
    #[arg(long, value_name = "PATH")]
    pub request_log: Option<PathBuf>,
    /// Serve a fleet of N clusters in one process, each its own API server on its own port
    /// (the first on --listen, the others on free ports), named `primary`, `remote-1`,
    /// `remote-2`, ... in either topology; the fleet's phase is recorded on `primary`. Each
    /// has an east-west gateway, remote secrets for the others and the shared root CA in
    /// every namespace's istio-ca-root-cert. --namespaces and --pods-per-namespace apply
    /// per cluster; each cluster's sim-system/faults ConfigMap applies to it alone.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=16))]
    pub clusters: u32,
    /// How a fleet (--clusters 2 or more) shares its control plane: `primary-remote` (only
    /// `primary` runs istiod; the remotes' webhooks reach it through its east-west gateway)
    /// or `multi-primary` (every cluster runs both istiod revisions). Default: primary-remote.
    #[arg(long, value_enum, value_name = "TOPOLOGY")]
    pub topology: Option<sim::Topology>,
}

impl SimArgs {
    pub fn options(&self) -> Result<SimOptions, CliError> {
        if !(0.0..=600.0).contains(&self.ready_after) {
            return Err(CliError::ReadyAfter(self.ready_after));
        }
        if self.topology.is_some() && self.clusters < 2 {
            return Err(CliError::TopologyWithOneCluster);
        }
        Ok(SimOptions {
            listen: self.listen,
            kubeconfig_out: self.kubeconfig_out.clone(),
            prometheus_config_out: self.prometheus_config_out.clone(),
            prometheus_style: self.prometheus_style,
            scenario: scenario::Options {
                scenario: self.scenario,
                namespaces: self.namespaces.map(|n| n as usize),
                pods_per_namespace: self.pods_per_namespace.map(|n| n as usize),
                seed: self.seed,
            },
            timing: sim::Timing {
                readiness: Duration::from_secs_f64(self.ready_after),
                ..sim::Timing::default()
            },
            watch_history: self.watch_history.max(1),
            request_log: self.request_log.clone(),
            clusters: self.clusters as usize,
            topology: self.topology.unwrap_or_default(),
            ..SimOptions::default()
        })
    }
}
