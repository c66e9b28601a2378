//! Command-line interface.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::sim::{self, SimOptions, scenario};

#[derive(Parser, Debug)]
#[command(
    name = "istio-cockpit",
    version,
    about = "A terminal cockpit for live, revision-based Istio upgrades",
    long_about = "A terminal cockpit for live, revision-based (canary) Istio upgrades.\n\n\
                  `istio-cockpit sim` serves a simulated mesh: a Kubernetes API on loopback with two \
                  istiod revisions, revision tags and application namespaces, for rehearsals and tests."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the simulated mesh: a Kubernetes API server with Istio on it, for kubectl,
    /// the cockpit and Prometheus.
    Sim(SimArgs),
}

#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    /// Address to serve the Kubernetes API (and the metrics endpoints) on.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Where to write a kubeconfig with contexts `sim-admin` (current) and `sim-viewer`
    /// (read-only). Default: a file named after the port in the temporary directory.
    #[arg(long, value_name = "PATH")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Write a Prometheus configuration that scrapes the simulated istiod and sidecars.
    #[arg(long, value_name = "PATH")]
    pub prometheus_config_out: Option<PathBuf>,
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
    #[arg(long, default_value_t = sim::store::DEFAULT_HISTORY, value_name = "N",
          value_parser = clap::value_parser!(usize))]
    pub watch_history: usize,
}

impl SimArgs {
    pub fn options(&self) -> Result<SimOptions, String> {
        if !(0.0..=600.0).contains(&self.ready_after) {
            return Err(format!(
                "--ready-after must be between 0 and 600 seconds, got {}",
                self.ready_after
            ));
        }
        Ok(SimOptions {
            listen: self.listen,
            kubeconfig_out: self.kubeconfig_out.clone(),
            prometheus_config_out: self.prometheus_config_out.clone(),
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
            ..SimOptions::default()
        })
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Sim(args) => run_sim(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// One line, the way a user should read it: the context, then the root cause.
fn one_line(e: &color_eyre::eyre::Report) -> String {
    e.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

async fn run_sim(args: SimArgs) -> Result<(), String> {
    let opts = args.options()?;
    let sim = sim::start(opts).await.map_err(|e| one_line(&e))?;
    println!("{}", sim.ready_line());
    wait_for_shutdown_signal().await;
    sim.stop().await;
    Ok(())
}

async fn wait_for_shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}
