//! The precheck in the cockpit: the objects only it reads, kept live from their streams, and
//! its findings, run again once they or the cluster changed, at most every `EVERY`.
//!
//! Pods, namespaces and the ambient DaemonSets are the cluster's own collections: they are
//! lent to the inventory while the checks run rather than kept twice (51,000 pods).

use chrono::{DateTime, Duration, Utc};

use super::event::InventoryChange;
use super::state::State;
use crate::mesh::collection::Collection;
use crate::mesh::version::Version;
use crate::precheck::inventory::{self as inv, Inventory, WorkloadInfo, WorkloadKind};
use crate::precheck::{self, Finding, Severity, Target};

/// The least time between two runs while the cluster keeps changing.
pub const EVERY: Duration = Duration::seconds(3);

type Workloads = Collection<(String, String), WorkloadInfo>;

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
    /// What the last run saw: the changes, the cluster's generation and the target.
    seen: Option<(u64, u64, Option<Target>)>,
    ran_at: Option<DateTime<Utc>>,
    /// None until every object has been listed once and the upgrade's target is known.
    pub findings: Option<Vec<Finding>>,
    /// Why there are no findings yet.
    pub waiting: &'static str,
}

impl Checks {
    pub fn blockers(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .flatten()
            .filter(|f| f.severity == Severity::Blocker)
    }
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

/// The upgrade the checks judge: the mesh's old and new revisions (the plan's, when there is
/// one), with the versions their istiods run, or that their names say.
fn target(state: &State) -> Option<Target> {
    let mesh = state.mesh();
    let (old, new) = (mesh.old.as_ref()?, mesh.new.as_ref()?);
    let version = |revision: &String| {
        mesh.versions
            .get(revision)
            .copied()
            .or_else(|| Version::parse(&revision.replace('-', ".")))
    };
    Some(Target {
        from: version(old)?,
        to: version(new)?,
        new_revision: new.clone(),
    })
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

/// Runs the checks again when what they read changed and `EVERY` has passed since the last
/// run. Returns whether the findings changed.
pub fn refresh(state: &mut State) -> bool {
    if !synced(state) {
        state.checks.waiting = "the objects the checks read are still loading";
        return false;
    }
    let Some(target) = target(state) else {
        state.checks.waiting = "the upgrade's revisions are not known yet";
        return false;
    };
    let now = state.session.now;
    let seen = Some((
        state.checks.changes,
        state.cluster.generation(),
        Some(target.clone()),
    ));
    let recent = state.checks.ran_at.is_some_and(|at| now - at < EVERY);
    if state.checks.seen == seen || recent {
        return false;
    }
    let findings = run(state, &target);
    let checks = &mut state.checks;
    checks.seen = seen;
    checks.ran_at = Some(now);
    let changed = checks.findings.as_ref() != Some(&findings);
    checks.findings = Some(findings);
    changed
}

fn run(state: &mut State, target: &Target) -> Vec<Finding> {
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
    let findings = precheck::run(&checks.inventory, target);
    // Given back: the same swap again.
    lend(checks, cluster);
    findings
}
