//! Room for the new control plane: a canary upgrade runs two istiods side by side.
//!
//! Once the new revision's istiod is installed it has its room: nothing to check. Before,
//! its requests are taken from the newest installed istiod (the new revision is installed
//! with the same values) and compared with:
//! - the nodes: allocatable CPU and memory of schedulable nodes minus what every running
//!   pod requests (summed over the cluster: the cockpit does not keep pods' placement, so
//!   this is an upper bound on the room; a shortfall is certain);
//! - every ResourceQuota in `istio-system` that limits requested CPU or memory.
//!
//! `control-plane-room`: blocker when either has less room than the new istiod requests:
//! its pods stay Pending and the upgrade cannot start.

use crate::mesh::pod::PodInfo;
use crate::precheck::Target;
use crate::precheck::finding::{CheckId, Finding, Severity, object};
use crate::precheck::inventory::{ISTIO_SYSTEM, IstiodInfo, Resources};
use crate::precheck::scope::Scope;

pub(super) fn check(scope: &Scope<'_>, target: &Target, out: &mut Vec<Finding>) {
    let inventory = scope.inventory;
    if inventory
        .istiods
        .values()
        .any(|i| i.revision == target.new_revision)
    {
        return;
    }
    let Some(model) = inventory.istiods.values().max_by_key(|i| i.version) else {
        return;
    };
    let need = needed(model);
    let istiod = object(
        "Deployment",
        ISTIO_SYSTEM,
        &format!("istiod-{}", target.new_revision),
    );
    let what = format!(
        "istiod {} needs {} ({} replica(s))",
        target.new_revision,
        describe(need),
        model.replicas
    );
    nodes(scope, need, &istiod, &what, out);
    for quota in inventory
        .quotas
        .values()
        .filter(|q| q.namespace == ISTIO_SYSTEM)
    {
        let room = |hard: Option<u32>, used: Option<u32>| {
            hard.map(|h| h.saturating_sub(used.unwrap_or(0)))
        };
        let free = (
            room(quota.hard.cpu_millis, quota.used.cpu_millis),
            room(quota.hard.memory_mib, quota.used.memory_mib),
        );
        if free.0.is_some_and(|f| f < need.0) || free.1.is_some_and(|f| f < need.1) {
            out.push(Finding::new(
                Severity::Blocker,
                CheckId::ControlPlaneRoom,
                object("ResourceQuota", &quota.namespace, &quota.name),
                format!(
                    "{what}, but the quota leaves {} in {ISTIO_SYSTEM}: the new control plane's pods will be refused",
                    describe_free(free)
                ),
                format!(
                    "raise the quota: kubectl -n {ISTIO_SYSTEM} edit resourcequota {}",
                    quota.name
                ),
            ));
        }
    }
}

/// CPU millicores and memory MiB for all the new istiod's replicas.
fn needed(model: &IstiodInfo) -> (u32, u32) {
    let replicas = u32::try_from(model.replicas.max(1)).unwrap_or(1);
    (
        model.requests.cpu_millis.unwrap_or(0) * replicas,
        model.requests.memory_mib.unwrap_or(0) * replicas,
    )
}

fn nodes(scope: &Scope<'_>, need: (u32, u32), istiod: &str, what: &str, out: &mut Vec<Finding>) {
    let inventory = scope.inventory;
    let schedulable: Vec<_> = inventory.nodes.values().filter(|n| n.schedulable).collect();
    if schedulable.is_empty() {
        return;
    }
    let total = |f: fn(&Resources) -> Option<u32>| -> u64 {
        schedulable
            .iter()
            .map(|n| u64::from(f(&n.allocatable).unwrap_or(0)))
            .sum()
    };
    let running =
        |p: &&PodInfo| !p.terminating && !matches!(p.phase.as_str(), "Succeeded" | "Failed");
    let requested_cpu: u64 = inventory
        .pods
        .values()
        .filter(running)
        .map(|p| u64::from(p.cpu_millis))
        .sum();
    let requested_memory: u64 = inventory
        .pods
        .values()
        .filter(running)
        .map(|p| u64::from(p.memory_mib))
        .sum();
    let free_cpu = total(|r| r.cpu_millis).saturating_sub(requested_cpu);
    let free_memory = total(|r| r.memory_mib).saturating_sub(requested_memory);
    if free_cpu < u64::from(need.0) || free_memory < u64::from(need.1) {
        out.push(Finding::new(
            Severity::Blocker,
            CheckId::ControlPlaneRoom,
            istiod,
            format!(
                "{what}, but the {} schedulable node(s) have only {free_cpu}m CPU and {free_memory}Mi memory left unrequested: its pods would stay Pending",
                schedulable.len()
            ),
            "add nodes (or free requests) before installing the new revision, or lower its requests in the install values",
        ));
    }
}

fn describe((cpu, memory): (u32, u32)) -> String {
    format!("{cpu}m CPU and {memory}Mi memory")
}

fn describe_free((cpu, memory): (Option<u32>, Option<u32>)) -> String {
    let part = |v: Option<u32>, unit: &str, what: &str| v.map(|v| format!("{v}{unit} {what}"));
    [part(cpu, "m", "CPU"), part(memory, "Mi", "memory")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and ")
}
