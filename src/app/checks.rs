//! The precheck in the cockpit: the objects only it reads, kept live from their streams, and
//! its findings, run again once they or the cluster changed, at most every `EVERY`.
//!
//! Pods, namespaces and the ambient DaemonSets are the cluster's own collections: they are
//! lent to the inventory while the checks run rather than kept twice (51,000 pods).

use chrono::{DateTime, Duration, Utc};

use super::event::InventoryChange;
use super::state::State;
use crate::mesh::collection::Collection;
use crate::precheck::inventory::{self as inv, Inventory, WorkloadInfo, WorkloadKind};
use crate::precheck::{self, Finding, NoTarget, Target};

/// The least time between two runs after a change to the objects only the checks read (a
/// budget, a workload, a webhook...).
pub const EVERY: Duration = Duration::seconds(3);
/// The least time between two runs when only the pods, namespaces or the plan changed: pods
/// churn all the time in a large cluster, and what the checks read of them moves slowly.
pub const CLUSTER_EVERY: Duration = Duration::seconds(60);

type Workloads = Collection<(String, String), WorkloadInfo>;
/// The inventory's changes, the cluster's generation and the plan's revisions.
type Seen = (u64, u64, Option<(String, String)>);

#[derive(Debug, Clone, Default)]
pub struct Checks {
    inventory: Inventory,
    /// Each kind of workload from its own stream: one collection would mix their lists.
    deployments: Workloads,
    statefulsets: Workloads,
    daemonsets: Workloads,
    server_seen: bool,
    /// Counts the changes to the objects above.
    changes: u64,
    /// What the last run saw: the changes, the cluster's generation and the plan's revisions.
    seen: Option<Seen>,
    ran_at: Option<DateTime<Utc>>,
    /// None until every object has been listed once and the upgrade's target is known.
    pub findings: Option<Vec<Finding>>,
    /// Why there are no findings yet.
    pub waiting: String,
}

fn workload_key(w: &WorkloadInfo) -> (String, String) {
    (w.namespace.clone(), w.name.clone())
}

/// Takes one change in. Returns whether anything changed.
pub fn apply(state: &mut State, change: InventoryChange) -> bool {
    let checks = &mut state.checks;
    let inventory = &mut checks.inventory;
    let changed = match change {
        InventoryChange::Server(version) => {
            let changed = !checks.server_seen || inventory.server != version;
            checks.server_seen = true;
            inventory.server = version;
            changed
        }
        InventoryChange::Injectors(w) => inv::apply(&mut inventory.injectors, w),
        InventoryChange::Services(w) => inv::apply(&mut inventory.services, w),
        InventoryChange::Workloads(kind, w) => {
            let collection = match kind {
                WorkloadKind::Deployment => &mut checks.deployments,
                WorkloadKind::StatefulSet => &mut checks.statefulsets,
                WorkloadKind::DaemonSet => &mut checks.daemonsets,
            };
            collection.apply(w, workload_key)
        }
        InventoryChange::Pdbs(w) => inv::apply(&mut inventory.pdbs, w),
        InventoryChange::Crds(w) => inv::apply(&mut inventory.crds, w),
        InventoryChange::Quotas(w) => inv::apply(&mut inventory.quotas, w),
        InventoryChange::Nodes(w) => inv::apply(&mut inventory.nodes, w),
        InventoryChange::MeshConfigs(w) => inv::apply(&mut inventory.mesh_configs, w),
        InventoryChange::Istiods(w) => inv::apply(&mut inventory.istiods, w),
    };
    if changed {
        checks.changes += 1;
    }
    changed
}

fn synced(state: &State) -> bool {
    let (checks, cluster) = (&state.checks, &state.cluster);
    let inventory = &checks.inventory;
    checks.server_seen
        && [
            inventory.injectors.synced,
            inventory.services.synced,
            inventory.pdbs.synced,
            inventory.crds.synced,
            inventory.quotas.synced,
            inventory.nodes.synced,
            inventory.mesh_configs.synced,
            inventory.istiods.synced,
            checks.deployments.synced,
            checks.statefulsets.synced,
            checks.daemonsets.synced,
            cluster.namespaces.synced,
            cluster.pods.synced,
            cluster.daemonsets.synced,
        ]
        .into_iter()
        .all(|s| s)
}

/// Runs the checks again when what they read changed: `EVERY` after the last run for the
/// objects only they read, `CLUSTER_EVERY` for the cluster's pods and namespaces. Returns
/// whether the findings changed.
pub fn refresh(state: &mut State) -> bool {
    if !synced(state) {
        state.checks.waiting = "the objects the checks read are still loading".into();
        return false;
    }
    let plan = state
        .drive
        .plan
        .as_ref()
        .map(|p| (p.from.clone(), p.to.clone()));
    let seen = Some((state.checks.changes, state.cluster.generation(), plan));
    let now = state.session.now;
    let since = state.checks.ran_at.map(|at| now - at);
    let due = match &state.checks.seen {
        None => true,
        Some(last) if Some(last) == seen.as_ref() => false,
        Some((changes, _, _)) if *changes != state.checks.changes => {
            since.is_none_or(|s| s >= EVERY)
        }
        Some(_) => since.is_none_or(|s| s >= CLUSTER_EVERY),
    };
    if !due {
        return false;
    }
    let result = run(state, seen.as_ref().and_then(|s| s.2.as_ref()));
    let checks = &mut state.checks;
    checks.seen = seen;
    checks.ran_at = Some(now);
    match result {
        Ok(findings) => {
            let changed = checks.findings.as_ref() != Some(&findings);
            checks.findings = Some(findings);
            changed
        }
        Err(why) => {
            checks.waiting = why.to_string();
            checks.findings.take().is_some()
        }
    }
}

/// The checks on the upgrade the plan names (or, without one, the one the revisions tell),
/// as the `precheck` command judges it.
fn run(state: &mut State, plan: Option<&(String, String)>) -> Result<Vec<Finding>, NoTarget> {
    let (checks, cluster) = (&mut state.checks, &mut state.cluster);
    let lend = |checks: &mut Checks, cluster: &mut crate::mesh::Cluster| {
        std::mem::swap(&mut checks.inventory.pods, &mut cluster.pods);
        std::mem::swap(&mut checks.inventory.namespaces, &mut cluster.namespaces);
        std::mem::swap(&mut checks.inventory.ambient, &mut cluster.daemonsets);
    };
    checks.inventory.workloads = inv::listed(
        [
            &checks.deployments,
            &checks.statefulsets,
            &checks.daemonsets,
        ]
        .into_iter()
        .flat_map(|c| c.values().cloned()),
    );
    lend(checks, cluster);
    let plan = plan.map(|(from, to)| (from.as_str(), to.as_str()));
    let findings = Target::from_inventory(&checks.inventory, plan)
        .map(|target| precheck::run(&checks.inventory, &target));
    // Given back: the same swap again; the merged workloads are only for the run.
    lend(checks, cluster);
    checks.inventory.workloads = Collection::default();
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::event::Watch;
    use crate::fixture::cluster::demo;
    use crate::mesh::version::Version;
    use crate::precheck::CheckId;
    use crate::precheck::inventory::ServerVersion;

    fn listed(state: &mut State) {
        for (start, done) in [
            (
                InventoryChange::Injectors(Watch::Init),
                InventoryChange::Injectors(Watch::InitDone),
            ),
            (
                InventoryChange::Services(Watch::Init),
                InventoryChange::Services(Watch::InitDone),
            ),
            (
                InventoryChange::Pdbs(Watch::Init),
                InventoryChange::Pdbs(Watch::InitDone),
            ),
            (
                InventoryChange::Crds(Watch::Init),
                InventoryChange::Crds(Watch::InitDone),
            ),
            (
                InventoryChange::Quotas(Watch::Init),
                InventoryChange::Quotas(Watch::InitDone),
            ),
            (
                InventoryChange::Nodes(Watch::Init),
                InventoryChange::Nodes(Watch::InitDone),
            ),
            (
                InventoryChange::MeshConfigs(Watch::Init),
                InventoryChange::MeshConfigs(Watch::InitDone),
            ),
            (
                InventoryChange::Istiods(Watch::Init),
                InventoryChange::Istiods(Watch::InitDone),
            ),
        ] {
            apply(state, start);
            apply(state, done);
        }
        for kind in [
            WorkloadKind::Deployment,
            WorkloadKind::StatefulSet,
            WorkloadKind::DaemonSet,
        ] {
            apply(state, InventoryChange::Workloads(kind, Watch::Init));
            apply(state, InventoryChange::Workloads(kind, Watch::InitDone));
        }
        for (revision, minor) in [("1-24-0", 24), ("1-25-0", 25)] {
            let istiod = inv::IstiodInfo {
                name: format!("istiod-{revision}"),
                revision: revision.into(),
                version: Some(Version {
                    major: 1,
                    minor,
                    patch: 0,
                }),
                replicas: 2,
                requests: Default::default(),
            };
            apply(state, InventoryChange::Istiods(Watch::Apply(istiod)));
        }
    }

    fn server(minor: u16) -> InventoryChange {
        InventoryChange::Server(Some(ServerVersion { major: 1, minor }))
    }

    fn fresh() -> State {
        let mut state = demo().state;
        state.checks = Checks::default();
        state.cluster.pods.synced = true;
        state.cluster.namespaces.synced = true;
        state.cluster.daemonsets.synced = true;
        state
    }

    fn has(state: &State, check: CheckId) -> bool {
        state
            .checks
            .findings
            .iter()
            .flatten()
            .any(|f| f.check == check)
    }

    #[test]
    fn the_checks_run_once_everything_is_listed_and_give_the_pods_back() {
        let mut state = fresh();
        let pods = state.cluster.pods.len();
        listed(&mut state);
        assert!(
            !refresh(&mut state),
            "the server's version is not known yet"
        );
        assert_eq!(state.checks.findings, None);
        apply(&mut state, server(32));
        refresh(&mut state);
        assert!(state.checks.findings.is_some(), "{}", state.checks.waiting);
        assert!(
            !has(&state, CheckId::K8sVersion),
            "{:?}",
            state.checks.findings
        );
        // Lent for the run and given back whole.
        assert_eq!(state.cluster.pods.len(), pods);
        assert!(state.checks.inventory.pods.is_empty());
    }

    #[test]
    fn a_change_is_checked_again_but_not_more_often_than_every_few_seconds() {
        let mut state = fresh();
        listed(&mut state);
        apply(&mut state, server(32));
        refresh(&mut state);
        apply(&mut state, server(20));
        assert!(!refresh(&mut state), "too soon after the last run");
        assert!(!has(&state, CheckId::K8sVersion));
        state.session.now += EVERY;
        assert!(refresh(&mut state));
        assert!(
            has(&state, CheckId::K8sVersion),
            "{:?}",
            state.checks.findings
        );
        // Nothing new: nothing run.
        state.session.now += EVERY;
        assert!(!refresh(&mut state));
    }

    #[test]
    fn pods_alone_are_checked_again_less_often() {
        let mut state = fresh();
        listed(&mut state);
        apply(&mut state, server(32));
        refresh(&mut state);
        let ran = state.checks.ran_at;
        let pod = crate::fixture::pod("legacy-batch", "bare-1", None, None, true);
        crate::mesh::tally::apply(
            &mut state.cluster.pods,
            &mut state.cluster.pod_tally,
            Watch::Apply(pod),
        );
        state.session.now += EVERY;
        refresh(&mut state);
        assert_eq!(state.checks.ran_at, ran, "a pod alone waits longer");
        state.session.now += CLUSTER_EVERY;
        refresh(&mut state);
        assert_ne!(state.checks.ran_at, ran);
    }
}
