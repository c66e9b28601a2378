//! Why a bench run stopped before its report.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use crate::cluster::connect::ConnectError;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot create {}: {error}", .dir.display())]
    CreateDir { dir: PathBuf, error: io::Error },
    #[error("cannot find this program: {0}")]
    OwnProgram(io::Error),
    #[error("cannot start the simulated mesh: {0}")]
    StartSim(io::Error),
    #[error(
        "the simulated mesh did not start ({status:?}); try `istio-cockpit sim` with the same sizes"
    )]
    SimNotReady { status: Option<ExitStatus> },
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("no default theme")]
    NoTheme,
    #[error("the cockpit had no complete state within {0:?}")]
    Incomplete(Duration),
    /// A request of the bench's own load (a label patch, a pod, the churn) failed.
    #[error("{what}: {error}")]
    Api { what: String, error: kube::Error },
    #[error("{0}")]
    PodJson(serde_json::Error),
    #[error("cannot open a pty: {0}")]
    Pty(io::Error),
    #[error("{0}")]
    Terminal(io::Error),
    #[error("cannot start the probe's runtime: {0}")]
    ProbeRuntime(io::Error),
    #[error("the API probe did not finish: {0}")]
    ProbeJoin(tokio::task::JoinError),
    #[error("the API probe failed")]
    ProbePanicked,
}

impl BenchError {
    pub(super) fn api(what: impl Into<String>) -> impl FnOnce(kube::Error) -> BenchError {
        let what = what.into();
        move |error| BenchError::Api { what, error }
    }
}
