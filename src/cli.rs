//! Command-line interface: the cockpit on a cluster (the default), `precheck` (the upgrade's
//! checks once, for a terminal or CI), `demo` (the cockpit on the built-in simulated mesh),
//! `sim` (the simulated mesh alone, for kubectl and tests), and `completions` and `man` for
//! the shell.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

pub mod config;
mod error;
mod fleet;
mod precheck;
mod settings;
pub mod shell;
mod sim_args;

/// `0.1.0 (abc1234)`: the version and the git revision it was built from (`unknown` when the
/// source was not a git checkout).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("ISTIO_COCKPIT_REVISION"),
    ")"
);

/// Where keys are listed and rebound; shown under the cockpit's and the demo's --help.
const KEYS_HELP: &str = "Keys: `?` in the cockpit lists every key. To rebind them, write \
    $XDG_CONFIG_HOME/istio-cockpit/keys.toml (without XDG_CONFIG_HOME, \
    ~/.config/istio-cockpit/keys.toml), or the file --keys or config.toml's `keymap` names, e.g. \
    `[keys]` then `migrate = \"u\"`; the README's \
    Keys section names every action. A bad file is an error naming its line and field; \
    nothing runs.";

use crate::cluster::connect::Target;
use crate::cluster::prometheus_source::{PrometheusAuth, PrometheusTarget};
use crate::cockpit::{self, terminal};
use crate::sim;
use crate::ui::theme::Theme;
pub use error::{CliError, PrometheusFlagError, UrlError};
pub use sim_args::SimArgs;

#[derive(Parser, Debug)]
#[command(
    name = "istio-cockpit",
    version = VERSION,
    about = "A terminal cockpit for live, revision-based Istio upgrades",
    long_about = "A terminal cockpit for live, revision-based (canary) Istio upgrades: which pods run on \
                  which istiod revision and proxy version, istiod's NACKs, and the state of every \
                  namespace, streamed live from the cluster.\n\n\
                  Without a command it opens the cockpit on the current kubeconfig context. \
                  `istio-cockpit demo` opens it on the built-in simulated mesh; `istio-cockpit sim` \
                  serves the simulated mesh alone, for kubectl and Prometheus.",
    args_conflicts_with_subcommands = true,
    after_help = KEYS_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub view: ViewArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the cockpit on the built-in simulated mesh: try it, rehearse an upgrade.
    #[command(after_help = KEYS_HELP)]
    Demo(DemoArgs),
    /// Measure the cockpit on the simulated mesh at scale (start, event-to-screen latency,
    /// frame time, CPU, memory, log ingest, terminal bytes) beside kubectl on the same mesh.
    Bench(BenchArgs),
    /// Serve the simulated mesh: a Kubernetes API server with Istio on it, for kubectl,
    /// the cockpit and Prometheus.
    Sim(SimArgs),
    #[command(about = precheck::ABOUT, long_about = precheck::LONG_ABOUT,
              after_help = precheck::EXIT_CODES)]
    Precheck(precheck::PrecheckArgs),
    #[command(about = shell::COMPLETIONS_ABOUT, long_about = shell::COMPLETIONS_LONG_ABOUT)]
    Completions(shell::CompletionsArgs),
    #[command(about = shell::MAN_ABOUT, long_about = shell::MAN_LONG_ABOUT)]
    Man,
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Clusters in the simulated mesh: 2 or more make a primary-remote fleet, which the
    /// cockpit watches whole (changes are timed on the last remote, on screen meanwhile).
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=16))]
    pub clusters: u32,
    /// Application namespaces in the simulated mesh, in each cluster.
    #[arg(long, default_value_t = 2_000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub namespaces: u32,
    /// Pods in each of them.
    #[arg(long, default_value_t = 25, value_name = "M",
          value_parser = clap::value_parser!(u32).range(1..=500))]
    pub pods_per_namespace: u32,
    /// Seconds each steady-state measurement runs (idle CPU, churn CPU, log ingest, terminal
    /// bytes).
    #[arg(long, default_value_t = 10, value_name = "S",
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub seconds: u64,
    /// Print one JSON object (every figure named with its unit) instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// The kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current one). Repeat it, or separate names with
    /// commas, to watch a fleet: one row per cluster on top, the first primary upgraded first.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub context: Vec<String>,
    /// Watch every cluster of the kubeconfig (its first context of each), as a fleet.
    #[arg(long, conflicts_with = "context")]
    pub all_contexts: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ViewArgs {
    /// Watch only: the cockpit never writes and the action keys are disabled.
    #[arg(long)]
    pub read_only: bool,
    /// Theme: default, light, high-contrast, mono, or a path to a TOML theme file.
    /// Without it, NO_COLOR picks mono and the terminal's colour depth is respected.
    #[arg(long, value_name = "NAME|PATH")]
    pub theme: Option<String>,
    /// Send every write with dryRun=All: the API server checks it, nothing changes, and the
    /// journal says so.
    #[arg(long)]
    pub dry_run: bool,
    /// The local journal of actions, one JSON object per line (default:
    /// $XDG_STATE_HOME/istio-cockpit/journal.jsonl or ~/.local/state/istio-cockpit/journal.jsonl).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// The upgrade plan (TOML): from/to revisions, waves, tags, soak times, rollback
    /// thresholds. Without it the plan is derived from the cluster: waves by the namespaces'
    /// `tier` label. A bad file is an error naming the line and field; nothing runs.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// istiod log lines kept in memory (the oldest are dropped).
    #[arg(long, default_value_t = 20_000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(100..=2_000_000))]
    pub log_lines: u32,
    /// The Prometheus to read control-plane and traffic metrics from (http or https; a path
    /// prefix is kept). Without it, the plan's prometheus_service, else a Service whose name
    /// contains "prometheus" in istio-system or monitoring, is asked through the API server;
    /// when none answers, istiod and a sample of sidecars (the current wave's first) are
    /// scraped directly through the API server's pod proxy.
    #[arg(long, value_name = "URL", value_parser = check_prometheus_url)]
    pub prometheus: Option<String>,
    /// Bearer token sent to --prometheus.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "PROMETHEUS_TOKEN",
        hide_env_values = true
    )]
    pub prometheus_token: Option<String>,
    /// User for basic authentication to --prometheus; the password is read from
    /// $PROMETHEUS_PASSWORD (never from the command line, where `ps` would show it).
    #[arg(long, value_name = "USER", requires = "prometheus")]
    pub prometheus_user: Option<String>,
    /// The config file of defaults (theme, journal, keymap, a Prometheus per context); the
    /// flags win over it (default: $XDG_CONFIG_HOME/istio-cockpit/config.toml or
    /// ~/.config/istio-cockpit/config.toml, read when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The keys file that rebinds keys (default: the config file's `keymap`, else
    /// $XDG_CONFIG_HOME/istio-cockpit/keys.toml or ~/.config/istio-cockpit/keys.toml).
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
    /// Read no config file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
}

/// Refuses a bad URL while the arguments are parsed, before the terminal is taken.
fn check_prometheus_url(text: &str) -> Result<String, UrlError> {
    prometheus_url(text).map(|_| text.to_string())
}

fn prometheus_url(text: &str) -> Result<reqwest::Url, UrlError> {
    crate::metrics::prometheus_url::parse(text).map_err(UrlError)
}

impl ViewArgs {
    /// The Prometheus given on the command line with its credentials, or None to look for one.
    pub fn prometheus_target(&self) -> Result<Option<PrometheusTarget>, PrometheusFlagError> {
        self.prometheus_target_with(std::env::var("PROMETHEUS_PASSWORD").ok())
    }

    fn prometheus_target_with(
        &self,
        password: Option<String>,
    ) -> Result<Option<PrometheusTarget>, PrometheusFlagError> {
        let Some(text) = &self.prometheus else {
            return Ok(None);
        };
        let url = prometheus_url(text).map_err(|error| PrometheusFlagError::Url {
            text: text.clone(),
            error,
        })?;
        let token = self.prometheus_token.clone().filter(|t| !t.is_empty());
        let auth = match (token, &self.prometheus_user) {
            (Some(_), Some(_)) => return Err(PrometheusFlagError::TwoLogins),
            (Some(token), None) => PrometheusAuth::Bearer(token),
            (None, Some(user)) => PrometheusAuth::Basic {
                user: user.clone(),
                password: password
                    .filter(|p| !p.is_empty())
                    .ok_or(PrometheusFlagError::NoPassword)?,
            },
            (None, None) => PrometheusAuth::None,
        };
        Ok(Some(PrometheusTarget::Url { url, auth }))
    }
}

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// Parses the command line; under kubectl, usage lines say `kubectl istio-cockpit`.
fn parse() -> Result<Cli, clap::Error> {
    let mut command = Cli::command();
    if let Some(name) = shell::bin_name(std::env::args_os().next().as_deref()) {
        command = command.bin_name(name);
    }
    let mut matches = command.try_get_matches()?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut Cli::command()))
}

pub fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        // CI reads precheck's 2 as "a blocker was found": a bad argument there is a run that
        // could not check (1). Every other command keeps clap's own status.
        Err(e) if e.use_stderr() && std::env::args().nth(1).as_deref() == Some("precheck") => {
            let _ = e.print();
            return ExitCode::FAILURE;
        }
        Err(e) => e.exit(),
    };
    let printed = match &cli.command {
        Some(Command::Completions(args)) => Some(shell::completions(args)),
        Some(Command::Man) => Some(shell::man_page()),
        _ => None,
    };
    if let Some(text) = printed {
        return match shell::print(&text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&CliError::Print(e)),
        };
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let _ = color_eyre::install();
    // Only a cockpit owns the terminal and must end on any panic; the sim answers a request
    // that panicked with a 500 and goes on.
    if matches!(cli.command, None | Some(Command::Demo(_))) {
        terminal::install_panic_hook();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&CliError::Runtime(e)),
    };
    if let Some(Command::Precheck(args)) = cli.command {
        let status = runtime.block_on(precheck::run(args));
        runtime.shutdown_timeout(Duration::from_millis(200));
        return match status {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Sim(args)) => run_sim(args).await.map(|()| cockpit::Exit::Done),
            Some(Command::Demo(args)) => run_demo(args).await,
            Some(Command::Bench(args)) => run_bench(args).await.map(|()| cockpit::Exit::Done),
            None => run_cockpit(cli.cluster, cli.view).await,
            // Handled above: they end with their own exit status.
            Some(Command::Precheck(_) | Command::Completions(_) | Command::Man) => {
                Ok(cockpit::Exit::Done)
            }
        }
    });
    // Watch streams and log tails end with the process; do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(cockpit::Exit::Done) => ExitCode::SUCCESS,
        // The shell's convention: 128 plus the signal's number.
        Ok(cockpit::Exit::Signal(number)) => ExitCode::from(128 + number.clamp(0, 127) as u8),
        Err(e) => fail(&e),
    }
}

fn fail(e: &CliError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}

fn cockpit_options(
    view: &ViewArgs,
    config: &config::Config,
    theme: Theme,
) -> Result<cockpit::Options, CliError> {
    let plan = match &view.plan {
        Some(path) => Some(crate::plan::file::load(path).map_err(CliError::Plan)?),
        None => None,
    };
    Ok(cockpit::Options {
        prometheus: view.prometheus_target()?,
        plan,
        read_only: view.read_only,
        dry_run: view.dry_run,
        journal_file: settings::journal_file(view, config),
        theme,
        keys: settings::keys(view, config)?,
        log_lines: view.log_lines as usize,
    })
}

fn init_logging() {
    let _ = tui_logger::init_logger(log::LevelFilter::Info);
    tui_logger::set_default_level(log::LevelFilter::Info);
}

async fn run_cockpit(cluster: ClusterArgs, view: ViewArgs) -> Result<cockpit::Exit, CliError> {
    let config = settings::config(&view)?;
    let theme = settings::theme(&view, &config)?;
    let mut options = cockpit_options(&view, &config, theme)?;
    init_logging();
    let target = Target {
        kubeconfig: cluster.kubeconfig,
        context: None,
    };
    let chosen = fleet::choose(
        &cluster.context,
        cluster.all_contexts,
        &target,
        options.plan.as_ref(),
    )?;
    let clusters = fleet::connect_all(
        &target,
        chosen,
        options.prometheus.take(),
        &config.prometheus,
    )
    .await?;
    Ok(cockpit::run(clusters, options).await?)
}

async fn run_demo(args: DemoArgs) -> Result<cockpit::Exit, CliError> {
    let config = settings::config(&args.view)?;
    let theme = settings::theme(&args.view, &config)?;
    let options = cockpit_options(&args.view, &config, theme)?;
    init_logging();
    let mut opts = args.sim.options()?;
    let dir = std::env::temp_dir().join(format!("istio-cockpit-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|error| CliError::CreateDir {
        dir: dir.clone(),
        error,
    })?;
    if opts.kubeconfig_out.is_none() {
        opts.kubeconfig_out = Some(dir.join("kubeconfig"));
    }
    let sim = sim::start(opts).await.map_err(CliError::Sim)?;
    log::info!("simulated mesh: {}", sim.ready_line());
    let target = Target {
        kubeconfig: Some(sim.kubeconfig.clone()),
        context: None,
    };
    // Every cluster of a simulated fleet, by its admin context, primary first.
    let chosen = sim
        .clusters
        .iter()
        .map(|c| crate::plan::file::FleetCluster {
            context: c.admin_context.clone(),
            role: None,
            name: None,
            prometheus: None,
        })
        .collect();
    let mut options = options;
    let flag_prometheus = options.prometheus.take();
    let result =
        match fleet::connect_all(&target, chosen, flag_prometheus, &config.prometheus).await {
            Ok(clusters) => cockpit::run(clusters, options)
                .await
                .map_err(CliError::from),
            Err(e) => Err(e),
        };
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_bench(args: BenchArgs) -> Result<(), CliError> {
    let report = crate::bench::run(crate::bench::Options {
        clusters: args.clusters,
        namespaces: args.namespaces,
        pods_per_namespace: args.pods_per_namespace,
        seconds: args.seconds,
    })
    .await?;
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

async fn run_sim(args: SimArgs) -> Result<(), CliError> {
    let opts = args.options()?;
    let sim = sim::start(opts).await.map_err(CliError::Sim)?;
    // Listen for SIGTERM before saying "ready", so a stop sent right after is handled.
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    println!("{}", sim.ready_line());
    wait_for_shutdown_signal(term).await;
    sim.stop().await;
    Ok(())
}

async fn wait_for_shutdown_signal(mut term: Option<tokio::signal::unix::Signal>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn view(args: &[&str]) -> Result<ViewArgs, String> {
        let cli =
            Cli::try_parse_from([&["istio-cockpit"], args].concat()).map_err(|e| e.to_string())?;
        Ok(cli.view)
    }

    #[test]
    fn prometheus_url_and_credentials() {
        let v = view(&[
            "--prometheus",
            "https://mon.example.com/prom",
            "--prometheus-token",
            "t0k",
        ])
        .unwrap();
        let Some(PrometheusTarget::Url { url, auth }) = v.prometheus_target_with(None).unwrap()
        else {
            panic!("no target")
        };
        assert_eq!(url.as_str(), "https://mon.example.com/prom");
        assert_eq!(auth, PrometheusAuth::Bearer("t0k".into()));

        let v = view(&[
            "--prometheus",
            "http://10.0.0.5:9090",
            "--prometheus-user",
            "ops",
        ])
        .unwrap();
        let err = v.prometheus_target_with(None).unwrap_err();
        assert_eq!(err, PrometheusFlagError::NoPassword);
        assert!(err.to_string().contains("PROMETHEUS_PASSWORD"), "{err}");
        let Some(PrometheusTarget::Url { auth, .. }) =
            v.prometheus_target_with(Some("pw".into())).unwrap()
        else {
            panic!("no target")
        };
        assert_eq!(
            auth,
            PrometheusAuth::Basic {
                user: "ops".into(),
                password: "pw".into()
            }
        );

        let both = view(&[
            "--prometheus",
            "http://p:9090",
            "--prometheus-user",
            "ops",
            "--prometheus-token",
            "t",
        ])
        .unwrap();
        assert_eq!(
            both.prometheus_target_with(Some("pw".into())),
            Err(PrometheusFlagError::TwoLogins)
        );
        assert_eq!(view(&[]).unwrap().prometheus_target_with(None), Ok(None));
        // The demo takes the same flag.
        let cli = Cli::try_parse_from([
            "istio-cockpit",
            "demo",
            "--prometheus",
            "http://127.0.0.1:9090",
        ])
        .unwrap();
        let Some(Command::Demo(demo)) = cli.command else {
            panic!("not demo")
        };
        assert!(demo.view.prometheus.is_some());
    }

    #[test]
    fn a_bad_prometheus_url_is_refused_while_parsing() {
        for (bad, says) in [
            ("prometheus:9090", "http:// or https://"),
            ("not a url", "expected a URL"),
            ("ftp://p:9090", "http:// or https://"),
            ("http://ops:pw@p:9090", "credentials"),
            ("http://p:9090/api/v1/query?query=up", "base URL"),
        ] {
            let err = view(&["--prometheus", bad]).unwrap_err();
            assert!(
                err.contains("--prometheus") && err.contains(says),
                "{bad}: {err}"
            );
        }
        let err = view(&["--prometheus-user", "ops"]).unwrap_err();
        assert!(err.contains("--prometheus <URL>"), "{err}");
    }

    #[test]
    fn credentials_in_the_url_are_pointed_at_the_login_flags() {
        let err = view(&["--prometheus", "http://ops:pw@p:9090"]).unwrap_err();
        assert!(
            err.contains("keep credentials out of the URL (the process list shows it): use --prometheus-user with $PROMETHEUS_PASSWORD, or $PROMETHEUS_TOKEN"),
            "{err}"
        );
    }
}
