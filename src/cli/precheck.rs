//! `istio-cockpit precheck`: the upgrade's checks run once on one or more clusters, reported
//! as text, Markdown or JSON, with an exit status CI can act on. It reads (one paginated LIST
//! per kind), never watches, never writes, never opens the terminal UI.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::error::CliError;
use super::fleet;
use crate::cluster::connect::{self, ConnectError, Target as KubeTarget};
use crate::cluster::inventory::{self, InventoryError};
use crate::plan::file::PlanFile;
use crate::precheck::{self, ClusterFindings, FailOn, NoTarget, Target, report};

pub const ABOUT: &str =
    "Check the clusters for what will break the upgrade, before the change window";

pub const LONG_ABOUT: &str = "Check the clusters for what will break the upgrade, before the \
    change window: Kubernetes against the target Istio's support matrix, Istio's CRDs, room for \
    the new control plane, injector webhooks, namespace labels, how safely each workload the \
    upgrade restarts can restart, pods a restart cannot move, the ambient components and \
    gateways on tags.\n\n\
    The upgrade judged is the plan's (from, to) with --plan; without one, from the oldest \
    revision that still has sidecars to the newest istiod installed. It only reads (get and \
    list): nothing in the cluster changes, and no terminal UI opens.";

pub const EXIT_CODES: &str = "Exit status:\n  \
    0  every check ran and found no blocker (warnings and info allowed)\n  \
    2  at least one blocker (with --fail-on warning: at least one blocker or warning)\n  \
    1  it could not check: bad kubeconfig, unknown context, unreachable API server, forbidden \
    list, bad plan; the reason is one line on stderr";

#[derive(Args, Debug, Clone)]
pub struct PrecheckArgs {
    /// The kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to check (default: the current one, or the plan's clusters).
    /// Repeat it or separate names with commas to check several clusters: each is checked
    /// on its own and its findings carry the context as `cluster`.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub context: Vec<String>,
    /// Check every cluster of the kubeconfig (the first context of each).
    #[arg(long, conflicts_with = "context")]
    pub all_contexts: bool,
    /// The upgrade plan (TOML): its `from` and `to` revisions name the upgrade checked (the
    /// new revision need not be installed: its version is read from its name, e.g. 1-26-0),
    /// and its [[clusters]] are checked when no --context is given.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// How to report: `text` for a terminal, `markdown` for a ticket or pull request, `json`
    /// for CI ({"findings": [...], "summary": {...}}). Text and Markdown group the findings by
    /// severity, then by check.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The lowest severity that makes the run exit 2: `blocker` (default) or `warning`.
    #[arg(long, value_enum, default_value_t = Severity::Blocker, value_name = "SEVERITY")]
    pub fail_on: Severity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Severity {
    Blocker,
    Warning,
}

/// Why one cluster could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error("no upgrade to check: {0}")]
    NoTarget(#[from] NoTarget),
}

/// Why the precheck could not check: exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum PrecheckError {
    #[error(transparent)]
    Cli(#[from] CliError),
    #[error("context {context:?}: {error}")]
    Cluster {
        context: String,
        error: ClusterError,
    },
}

/// Runs the checks and prints the report; returns the exit status (0 or 2).
pub async fn run(args: PrecheckArgs) -> Result<u8, PrecheckError> {
    let plan = match &args.plan {
        Some(path) => Some(crate::plan::file::load(path).map_err(CliError::Plan)?),
        None => None,
    };
    let kubeconfig = KubeTarget {
        kubeconfig: args.kubeconfig.clone(),
        context: None,
    };
    let chosen = fleet::choose(&args.context, args.all_contexts, &kubeconfig, plan.as_ref())?;
    // None chosen: the kubeconfig's current context.
    let contexts: Vec<Option<String>> = if chosen.is_empty() {
        vec![None]
    } else {
        chosen.into_iter().map(|c| Some(c.context)).collect()
    };
    let checks = contexts.iter().map(|context| {
        let target = KubeTarget {
            kubeconfig: args.kubeconfig.clone(),
            context: context.clone(),
        };
        check_one(target, plan.as_ref())
    });
    let mut clusters = Vec::new();
    for (context, checked) in contexts.iter().zip(futures::future::join_all(checks).await) {
        match checked {
            Ok((findings, notes)) => {
                for note in notes {
                    eprintln!("note: {}: {note}", findings.cluster);
                }
                clusters.push(findings);
            }
            Err((named, error)) => {
                return Err(PrecheckError::Cluster {
                    context: context.clone().or(named).unwrap_or_default(),
                    error,
                });
            }
        }
    }
    let out = match args.format {
        Format::Text => report::text(&clusters),
        Format::Markdown => report::markdown(&clusters),
        Format::Json => report::json(&clusters) + "\n",
    };
    print!("{out}");
    let fail_on = match args.fail_on {
        Severity::Blocker => FailOn::Blocker,
        Severity::Warning => FailOn::Warning,
    };
    Ok(u8::try_from(report::exit_status(&clusters, fail_on)).unwrap_or(1))
}

type Checked = (ClusterFindings, Vec<String>);

/// One cluster: connect, list, judge. An error carries the context's name when it is known.
async fn check_one(
    target: KubeTarget,
    plan: Option<&PlanFile>,
) -> Result<Checked, (Option<String>, ClusterError)> {
    let conn = connect::connect(&target)
        .await
        .map_err(|e| (None, e.into()))?;
    let named = |error: ClusterError| (Some(conn.context.clone()), error);
    let listed = inventory::list_noting(&conn.client)
        .await
        .map_err(|e| named(e.into()))?;
    let upgrade = upgrade_of(&listed.inventory, plan).map_err(|e| named(e.into()))?;
    let findings = precheck::run(&listed.inventory, &upgrade);
    Ok((
        ClusterFindings {
            cluster: conn.context.clone(),
            findings,
        },
        listed.notes,
    ))
}

/// The plan's revisions, the ones it leaves out derived from the cluster.
fn upgrade_of(inv: &precheck::Inventory, plan: Option<&PlanFile>) -> Result<Target, NoTarget> {
    let Some((from, to)) = plan.map(|p| (p.from.clone(), p.to.clone())) else {
        return Target::from_inventory(inv, None);
    };
    let (from, to) = match (from, to) {
        (Some(from), Some(to)) => (from, to),
        (from, to) => {
            let (derived_from, derived_to) = precheck::derived_revisions(inv)?;
            (from.unwrap_or(derived_from), to.unwrap_or(derived_to))
        }
    };
    Target::from_inventory(inv, Some((&from, &to)))
}
