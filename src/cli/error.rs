//! What the command line reports when a command cannot run: one line, after `error: `, that
//! says what to do next.

use std::io;
use std::path::PathBuf;

use super::config::ConfigError;
use crate::app::keymap::KeymapError;
use crate::bench::BenchError;
use crate::cluster::connect::ConnectError;
use crate::cockpit::CockpitError;
use crate::metrics::prometheus_url::UrlError as PrometheusUrlError;
use crate::plan::PlanError;
use crate::ui::theme::ThemeError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
    #[error("bad theme: {0}")]
    Theme(ThemeError),
    #[error("bad plan: {0}")]
    Plan(PlanError),
    #[error("bad keys: {0}")]
    Keys(KeymapError),
    #[error("bad config: {0}")]
    Config(ConfigError),
    /// The config file's theme does not load: the theme's error, then where it was set.
    #[error("bad theme: {error} (set by `theme` in {set_at})")]
    ConfigTheme { error: ThemeError, set_at: String },
    /// The keys file the config file names does not load.
    #[error("bad keys: {error} (set by `keymap` in {set_at})")]
    ConfigKeys { error: KeymapError, set_at: String },
    #[error("cannot print: {0}")]
    Print(io::Error),
    #[error(transparent)]
    Prometheus(#[from] PrometheusFlagError),
    #[error("--ready-after must be between 0 and 600 seconds, got {0}")]
    ReadyAfter(f64),
    #[error("--topology needs a fleet: add --clusters 2 or more")]
    TopologyWithOneCluster,
    #[error("cannot create {}: {error}", .dir.display())]
    CreateDir { dir: PathBuf, error: io::Error },
    /// The simulated mesh did not start: the context, then the root cause.
    #[error("{}", one_line(.0))]
    Sim(color_eyre::Report),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Fleet(#[from] super::fleet::FleetChoiceError),
    #[error(transparent)]
    Cockpit(#[from] CockpitError),
    #[error(transparent)]
    Bench(#[from] BenchError),
}

/// A `--prometheus` URL the cockpit will not use; credentials in it are pointed at the flags
/// and variables that carry them instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}{hint}", hint = login_hint(.0))]
pub struct UrlError(pub PrometheusUrlError);

fn login_hint(error: &PrometheusUrlError) -> &'static str {
    match error {
        PrometheusUrlError::Credentials => {
            " (the process list shows it): use --prometheus-user with $PROMETHEUS_PASSWORD, or $PROMETHEUS_TOKEN"
        }
        _ => "",
    }
}

/// The `--prometheus` flags do not make one Prometheus with one way to log in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrometheusFlagError {
    #[error("--prometheus {text:?}: {error}")]
    Url { text: String, error: UrlError },
    #[error(
        "--prometheus-user and --prometheus-token (or $PROMETHEUS_TOKEN) both given: use one (unset PROMETHEUS_TOKEN for basic authentication)"
    )]
    TwoLogins,
    #[error("--prometheus-user needs the password in $PROMETHEUS_PASSWORD")]
    NoPassword,
}

/// One line, the way a user should read it: the context, then the root cause.
fn one_line(e: &color_eyre::eyre::Report) -> String {
    e.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}
