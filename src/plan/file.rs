//! The `--plan FILE` TOML: read by serde into tables that refuse unknown keys, with every
//! error naming the file, the line and the field; then completed from the derived plan for
//! what it leaves out.
//!
//! - `schema`: the tables; `values` and `numbers`: the typed values in them, each with the
//!   wording of its errors
//! - `checks`: the rules across values (a namespace in two waves, ...), by span
//! - `clusters`: the rules across `[[clusters]]` (a context twice, roles all or none, ...)
//! - `errors`: serde's and toml's mistakes in the plan's words
//! - `write`: a plan written back through the same tables
//!
//! ```toml
//! from = "1-24-0"
//! to = "1-25-0"
//! tags = ["stable", "default"]
//! tag_soak = "30m"
//! keep_old = "48h"
//! prometheus_service = "monitoring/prometheus"
//! wave_concurrency = 1
//! namespace_bake = "2m"
//! namespace_timeout = "10m"
//!
//! # A fleet, primary first; leave [[clusters]] out for the current context alone.
//! [[clusters]]
//! context = "prod-eu"
//! role = "primary"
//! name = "eu"
//! prometheus = "http://prometheus.eu.internal:9090"
//!
//! [[clusters]]
//! context = "prod-us"
//! role = "remote"
//!
//! [[waves]]
//! name = "staging"
//! selector = "tier in (staging)"
//! soak = "10m"
//! wave_concurrency = 3
//!
//! [[waves]]
//! name = "payments"
//! namespaces = ["checkout", "billing"]
//! soak = "1h"
//! namespace_bake = "10m"
//!
//! [rollback]
//! p99_latency_increase = "50%"
//! p99_latency_for = "2m"
//! error_ratio = "1%"
//! error_ratio_for = "1m"
//! xds_rejects = 0
//! mtls_errors = 0
//! convergence_p99 = "5s"
//! convergence_p99_for = "1m"
//! cross_cluster_error_ratio = "1%"
//! cross_cluster_error_ratio_for = "1m"
//! auto_rollback = false
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub use super::model::FleetCluster;
use super::model::{
    DEFAULT_KEEP_OLD, DEFAULT_TAG_SOAK, Pacing, PacingOverride, Plan, Thresholds, Wave,
};

mod checks;
mod clusters;
mod errors;
mod numbers;
mod schema;
mod values;
mod write;

pub use write::{fleet_to_toml, to_toml};

/// A wave's soak when the file does not say.
pub const DEFAULT_WAVE_SOAK: Duration = Duration::from_secs(30 * 60);

/// What is wrong with a plan, and where (`waves[1].soak` names a field by its path).
pub type PlanError = crate::toml_file::SettingError;

/// A plan file as written: what it sets, and on which line, for errors found when it is
/// completed (`resolve`). Rollback thresholds it leaves out have their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanFile {
    pub file: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `Some(vec![])` when the file says `waves = []`: no waves, only tags.
    pub waves: Option<Vec<Wave>>,
    pub tags: Option<Vec<String>>,
    pub tag_soak: Option<Duration>,
    pub keep_old: Option<Duration>,
    pub prometheus_service: Option<String>,
    /// `[[clusters]]`: the fleet the plan upgrades, primary first; empty for one cluster.
    pub clusters: Vec<FleetCluster>,
    pub thresholds: Thresholds,
    /// The pacing keys the file sets at its top level.
    pub pacing: PacingOverride,
    /// The 1-based line of each of from, to, tags, waves and clusters the file sets, for
    /// the errors of `resolve` and of whoever connects the clusters.
    pub lines: BTreeMap<String, usize>,
}

/// Parses a plan file; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<PlanFile, PlanError> {
    let doc = errors::Doc { text, file };
    let tables = crate::toml_file::read(text).map_err(|e| doc.read_error(&e))?;
    checks::plan_file(tables, &doc)
}

/// Reads and parses a plan file; an unreadable file is an error without a line.
pub fn load(path: &Path) -> Result<PlanFile, PlanError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PlanError {
        file: file.clone(),
        line: 0,
        field: String::new(),
        message: format!("cannot read the plan file: {e}"),
    })?;
    parse(&text, &file)
}

/// Completes a plan file from the derived plan: from, to, waves and tags the file leaves out
/// come from the cluster. Tags are only taken from the derived plan when it leaves the same
/// revision as the file; they would be another revision's tags otherwise.
pub fn resolve(file: PlanFile, derived: Option<Plan>) -> Result<Plan, PlanError> {
    let error = |field: &str, message: String| PlanError {
        file: file.file.clone(),
        line: file.lines.get(field).copied().unwrap_or(0),
        field: field.to_string(),
        message,
    };
    let underivable = "the cluster does not show two revisions to upgrade between \
                       (the oldest one still serving and a newer one)";
    let from = match (&file.from, &derived) {
        (Some(from), _) => from.clone(),
        (None, Some(d)) => d.from.clone(),
        (None, None) => {
            return Err(error(
                "from",
                format!("not set, and {underivable}; set from = \"<revision>\""),
            ));
        }
    };
    let to = match (&file.to, &derived) {
        (Some(to), _) => to.clone(),
        (None, Some(d)) => d.to.clone(),
        (None, None) => {
            return Err(error(
                "to",
                format!("not set, and {underivable}; set to = \"<revision>\""),
            ));
        }
    };
    if from == to {
        let field = if file.to.is_some() || file.from.is_none() {
            "to"
        } else {
            "from"
        };
        return Err(error(
            field,
            format!("`from` and `to` are both {to}: there is nothing to upgrade"),
        ));
    }
    let waves = match (&file.waves, &derived) {
        (Some(waves), _) => waves.clone(),
        (None, Some(d)) => d.waves.clone(),
        (None, None) => {
            return Err(error(
                "waves",
                format!(
                    "no [[waves]] in the file, and they cannot be derived: {underivable}; \
                     add [[waves]] tables, or waves = [] to only move tags"
                ),
            ));
        }
    };
    let tags = match (&file.tags, &derived) {
        (Some(tags), _) => tags.clone(),
        (None, Some(d)) if d.from == from => d.tags.clone(),
        (None, Some(d)) => {
            return Err(error(
                "tags",
                format!(
                    "not set, and the tags to move cannot be derived: the plan leaves {from} \
                     but the cluster upgrades from {}; list them, e.g. tags = [\"stable\", \"default\"], \
                     or tags = [] to move none",
                    d.from
                ),
            ));
        }
        (None, None) => {
            return Err(error(
                "tags",
                format!(
                    "not set, and they cannot be derived: {underivable}; list them, e.g. \
                     tags = [\"stable\", \"default\"], or tags = [] to move none"
                ),
            ));
        }
    };
    Ok(Plan {
        from,
        to,
        waves,
        tags,
        tag_soak: file.tag_soak.unwrap_or(DEFAULT_TAG_SOAK),
        keep_old: file.keep_old.unwrap_or(DEFAULT_KEEP_OLD),
        thresholds: file.thresholds,
        pacing: Pacing::default().with(&file.pacing),
        prometheus_service: file.prometheus_service,
        derived: false,
    })
}

#[cfg(test)]
mod clusters_tests;
#[cfg(test)]
mod tests;
