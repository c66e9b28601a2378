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
pub mod injection;
pub mod kubeconfig;
pub mod logs;
pub mod mesh;
pub mod metrics_http;
pub mod names;
pub mod patch;
pub mod prometheus_config;
pub mod resources;
pub mod scenario;
pub mod serve;
pub mod store;
pub mod tls;
pub mod topology;
pub mod validation;
pub mod workloads;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, eyre};
use tokio::net::TcpListener;

use faults::Faults;
use logs::LogHub;
use store::Store;

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
    pub request_log: Option<std::sync::Mutex<std::fs::File>>,
}

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub listen: SocketAddr,
    pub kubeconfig_out: Option<PathBuf>,
    pub prometheus_config_out: Option<PathBuf>,
    pub scenario: scenario::Options,
    pub timing: Timing,
    /// Lines kept per container log.
    pub log_lines: usize,
    /// Changes kept for watches that resume from an older resourceVersion.
    pub watch_history: usize,
    /// Append `<verb> <method> <path>` for every API request to this file.
    pub request_log: Option<PathBuf>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            kubeconfig_out: None,
            prometheus_config_out: None,
            scenario: scenario::Options::default(),
            timing: Timing::default(),
            log_lines: 5_000,
            watch_history: store::DEFAULT_HISTORY,
            request_log: None,
        }
    }
}

/// A running simulator.
pub struct RunningSim {
    pub ctx: Arc<SimContext>,
    /// PEM of the CA clients must trust to reach the API over TLS.
    pub ca_pem: String,
    pub api_url: String,
    pub metrics_url: String,
    pub kubeconfig: PathBuf,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl RunningSim {
    /// The line `istio-cockpit sim` prints when it is ready.
    pub fn ready_line(&self) -> String {
        format!(
            "ready api={} kubeconfig={} metrics={}",
            self.api_url,
            self.kubeconfig.display(),
            self.metrics_url
        )
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
    }
}

fn token() -> String {
    (0..4)
        .map(|_| format!("{:08x}", rand::random::<u32>()))
        .collect()
}

/// Builds the scenario, binds the listener, writes the requested files and starts serving.
pub async fn start(opts: SimOptions) -> Result<RunningSim> {
    let listener = TcpListener::bind(opts.listen)
        .await
        .wrap_err_with(|| format!("cannot listen on {}", opts.listen))?;
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::IpAddr::from([127, 0, 0, 1]));
    }
    let api_url = format!("https://{addr}");
    let certificates = tls::generate(addr.ip()).map_err(|e| eyre!(e))?;
    let kubeconfig = opts.kubeconfig_out.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("istio-cockpit-sim-{}.kubeconfig", addr.port()))
    });

    let request_log = match &opts.request_log {
        Some(path) => Some(std::sync::Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .wrap_err_with(|| format!("cannot open the request log {}", path.display()))?,
        )),
        None => None,
    };
    let store = Arc::new(Store::new(opts.watch_history));
    store.set_admission(Box::new(|view, resource, obj| {
        if resource == "pods" {
            injection::admit_pod(view, obj);
        }
    }));
    scenario::load(&store, &opts.scenario)
        .map_err(|e| eyre!("building the scenario failed: {e:?}"))?;
    let logs = Arc::new(LogHub::new(opts.log_lines));
    let faults = Arc::new(Faults::default());
    let mesh = mesh::Mesh::new(
        store.clone(),
        logs.clone(),
        faults.clone(),
        opts.scenario.seed,
    );
    let ctx = Arc::new(SimContext {
        store,
        faults,
        logs,
        mesh,
        timing: opts.timing,
        admin_token: token(),
        viewer_token: token(),
        server_address: addr.to_string(),
        request_log,
    });
    let kubeconfig_text = kubeconfig::render(
        &api_url,
        &certificates.ca_pem,
        &ctx.admin_token,
        &ctx.viewer_token,
    );
    kubeconfig::write_private(&kubeconfig, &kubeconfig_text)
        .wrap_err_with(|| format!("cannot write the kubeconfig to {}", kubeconfig.display()))?;
    if let Some(path) = &opts.prometheus_config_out {
        // Prometheus verifies the simulator's certificate against this run's CA.
        let ca_path = path.with_extension("ca.pem");
        std::fs::write(&ca_path, &certificates.ca_pem).wrap_err_with(|| {
            format!("cannot write the CA certificate to {}", ca_path.display())
        })?;
        let text = prometheus_config::render(
            &api_url,
            &ctx.viewer_token,
            Some(&ca_path.to_string_lossy()),
        );
        std::fs::write(path, text).wrap_err_with(|| {
            format!("cannot write the Prometheus config to {}", path.display())
        })?;
    }

    fault_watcher::apply_current(&ctx);
    tokio::spawn(fault_watcher::run(ctx.clone()));
    controllers::spawn(ctx.clone());
    tokio::spawn(churn::run(ctx.clone()));
    ctx.mesh.clone().spawn();

    let (shutdown, stopped) = tokio::sync::watch::channel(false);
    let app = api::router(ctx.clone());
    let server = tokio::spawn(serve::run(
        listener,
        certificates.server_config.clone(),
        app,
        stopped,
    ));
    Ok(RunningSim {
        ctx,
        ca_pem: certificates.ca_pem,
        metrics_url: format!("{api_url}/sim/metrics"),
        api_url,
        kubeconfig,
        shutdown,
        server,
    })
}
