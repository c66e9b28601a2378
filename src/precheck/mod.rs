//! Precheck: what will break the upgrade, found before the change window.
//!
//! Pure: it reads an `Inventory` of one cluster (decoded by the cluster layer or filled from
//! one list) and the `Target` of the upgrade, and returns `Finding`s. No I/O, no client,
//! no runtime; the command line, the cockpit's Checks pane and the first wave's gate call
//! `run` and render with `report`.
//!
//! - `inventory`: the decoded objects the checks read; `scope`: tags, revisions and the
//!   workloads the upgrade restarts; `support`: Istio's Kubernetes support matrix
//! - `checks`: one file per family (versions, CRDs, room, webhooks, namespaces, restarts,
//!   unmovable pods, ambient, gateways)
//! - `finding`: severities and check ids; `report`: text, Markdown, JSON and the exit status
//! - `target`: which upgrade is judged, from the plan or from the revisions installed

use crate::mesh::version::Version;

mod checks;
pub mod finding;
pub mod inventory;
pub mod report;
mod scope;
pub mod support;
mod target;

#[cfg(test)]
mod testing;

pub use finding::{CheckId, Finding, Severity};
pub use inventory::Inventory;
pub use report::{ClusterFindings, FailOn};
pub use target::{NoTarget, derived_revisions};

/// What the upgrade is: the caller fills it from the plan or from the revisions installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub from: Version,
    pub to: Version,
    /// The revision the upgrade installs or moves to, e.g. `1-25-0`.
    pub new_revision: String,
}

impl Target {
    /// An upgrade to `to` installed under Istio's revision name for it.
    pub fn new(from: Version, to: Version) -> Target {
        Target {
            from,
            to,
            new_revision: to.revision_name(),
        }
    }
}

/// Every finding on the cluster for this upgrade, worst first, then by check and object.
/// Run it on a synced inventory (`Inventory::synced`): what is not yet listed looks missing.
pub fn run(inventory: &Inventory, target: &Target) -> Vec<Finding> {
    let scope = scope::Scope::new(inventory);
    let mut findings = checks::all(&scope, target);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    findings
}
