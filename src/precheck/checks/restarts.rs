//! Restart safety, for the workloads the upgrade restarts (see `scope`).
//!
//! - `pdb-blocks`: blocker when a PodDisruptionBudget over restarted pods allows no
//!   disruption (by its spec, or as its status says now): every eviction is refused, so a
//!   node drain or an eviction-driven move in the window hangs.
//! - `pdb-selects-nothing`: warning when a budget in a namespace labelled for injection
//!   selects no workload and no pod: it protects nothing through the restarts.
//! - `single-replica`: warning for a Deployment or StatefulSet of one replica without a
//!   budget: its restart is an outage unless a surge pod is ready first.
//! - `surge-below-pdb`: warning when a rollout's `maxUnavailable` takes down more pods than
//!   the workload's budget allows: the restart itself breaks the promise the budget makes.
//! - `max-surge-zero`: warning for a Deployment whose rollout starts no extra pod first
//!   (`maxSurge: 0`, or the `Recreate` strategy): each step removes serving capacity.
//! - `hold-until-proxy`: warning when neither the pod template's `proxy.istio.io/config`
//!   nor the new revision's mesh config sets `holdApplicationUntilProxyStarts`: the app may
//!   start before its proxy and fail its first calls (gateways are exempt: the proxy is
//!   the app).
//! - `grace-below-drain`: warning when `terminationGracePeriodSeconds` is shorter than the
//!   proxy's `terminationDrainDuration` (default 5 s): the proxy is killed mid-drain and
//!   in-flight requests fail.
//! - `long-lived-grace`: warning when a workload serves long-lived connections (gRPC,
//!   WebSocket, TCP and database protocols, by `appProtocol` or port name, on its pods or
//!   the Services selecting them) with a grace period under Kubernetes' default 30 s: the
//!   restart cuts its streams before clients can move.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::precheck::Target;
use crate::precheck::finding::{CheckId, Finding, Severity, object};
use crate::precheck::inventory::{PdbInfo, PortInfo, Strategy, WorkloadInfo, WorkloadKind};
use crate::precheck::scope::Scope;

/// Istio's default `terminationDrainDuration`.
const DEFAULT_DRAIN: Duration = Duration::from_secs(5);
/// Below this grace period, long-lived connections are cut rather than drained.
const LONG_LIVED_GRACE_SECONDS: i64 = 30;
/// Protocols whose connections outlive a request, as `appProtocol` or port-name prefix.
const LONG_LIVED: &[&str] = &[
    "grpc",
    "grpc-web",
    "tcp",
    "ws",
    "wss",
    "websocket",
    "kubernetes.io/ws",
    "kubernetes.io/wss",
    "mongo",
    "mysql",
    "redis",
];

pub(super) fn check(scope: &Scope<'_>, target: &Target, out: &mut Vec<Finding>) {
    let restarted: Vec<&WorkloadInfo> = scope.restarted().collect();
    budgets(scope, &restarted, out);
    for workload in &restarted {
        let pdbs: Vec<&PdbInfo> = scope
            .inventory
            .pdbs_in(&workload.namespace)
            .filter(|p| p.selects(workload))
            .collect();
        rollout(workload, &pdbs, out);
        proxy(scope, target, workload, out);
    }
}

fn budgets(scope: &Scope<'_>, restarted: &[&WorkloadInfo], out: &mut Vec<Finding>) {
    // By namespace: a budget only ever selects workloads of its own.
    let mut by_namespace: BTreeMap<&str, Vec<&WorkloadInfo>> = BTreeMap::new();
    for w in restarted {
        by_namespace
            .entry(w.namespace.as_str())
            .or_default()
            .push(w);
    }
    for pdb in scope.inventory.pdbs.values() {
        let covered: Vec<&&WorkloadInfo> = by_namespace
            .get(pdb.namespace.as_str())
            .into_iter()
            .flatten()
            .filter(|w| pdb.selects(w))
            .collect();
        let object = object("PodDisruptionBudget", &pdb.namespace, &pdb.name);
        if !covered.is_empty() {
            let replicas: i32 = covered.iter().map(|w| w.replicas).sum();
            let by_spec = pdb.allowed_down(replicas) == 0;
            let by_status =
                pdb.disruptions_allowed == Some(0) && pdb.expected_pods.is_some_and(|n| n > 0);
            if by_spec || by_status {
                let names: Vec<String> = covered.iter().map(|w| w.object()).collect();
                out.push(Finding::new(
                    Severity::Blocker,
                    CheckId::PdbBlocks,
                    object,
                    format!("it allows no disruption of {} ({replicas} pod(s)): every eviction is refused, so node drains or eviction-driven moves during the upgrade hang", names.join(", ")),
                    format!("allow at least one disruption: kubectl -n {} patch pdb {} --type merge -p '{{\"spec\":{{\"minAvailable\":null,\"maxUnavailable\":1}}}}'", pdb.namespace, pdb.name),
                ));
            }
            continue;
        }
        let selects_workload = scope
            .inventory
            .workloads_in(&pdb.namespace)
            .any(|w| pdb.selects(w));
        let selects_pods = pdb.expected_pods.is_some_and(|n| n > 0);
        if scope.sidecar_namespace(&pdb.namespace) && !selects_workload && !selects_pods {
            out.push(Finding::new(
                Severity::Warning,
                CheckId::PdbSelectsNothing,
                object,
                "its selector matches no workload or pod: it protects nothing while the upgrade restarts this namespace (a stale selector?)",
                format!("fix its selector to the pods it should protect, or delete it: kubectl -n {} delete pdb {}", pdb.namespace, pdb.name),
            ));
        }
    }
}

fn rollout(workload: &WorkloadInfo, pdbs: &[&PdbInfo], out: &mut Vec<Finding>) {
    let (ns, name, kind) = (&workload.namespace, &workload.name, workload.kind);
    let resource = kind.as_str().to_lowercase();
    if kind != WorkloadKind::DaemonSet && workload.replicas == 1 && pdbs.is_empty() {
        out.push(Finding::new(
            Severity::Warning,
            CheckId::SingleReplica,
            workload.object(),
            "one replica and no PodDisruptionBudget: while its pod restarts onto the new proxy, or is evicted, nothing else serves",
            format!("run at least two replicas with a budget: kubectl -n {ns} scale {resource} {name} --replicas=2, then create a PodDisruptionBudget with maxUnavailable: 1"),
        ));
    }
    match workload.strategy {
        Strategy::Rolling { max_surge, max_unavailable } => {
            for pdb in pdbs {
                let allowed = pdb.allowed_down(workload.replicas);
                if max_unavailable > 0 && allowed > 0 && max_unavailable > allowed {
                    out.push(Finding::new(
                        Severity::Warning,
                        CheckId::SurgeBelowPdb,
                        workload.object(),
                        format!("its rollout may take {max_unavailable} of {} pods down at once, but PodDisruptionBudget {} allows {allowed}: the upgrade's restart drops it below what the budget promises", workload.replicas, pdb.name),
                        format!("roll with maxUnavailable: 0 and a surge: kubectl -n {ns} patch {resource} {name} -p '{{\"spec\":{{\"strategy\":{{\"rollingUpdate\":{{\"maxUnavailable\":0,\"maxSurge\":1}}}}}}}}'"),
                    ));
                }
            }
            if kind == WorkloadKind::Deployment && max_surge == 0 {
                out.push(Finding::new(
                    Severity::Warning,
                    CheckId::MaxSurgeZero,
                    workload.object(),
                    format!("maxSurge resolves to 0: each step of the restart stops {max_unavailable} pod(s) before a replacement is ready, so capacity drops throughout the rollout"),
                    format!("kubectl -n {ns} patch deployment {name} -p '{{\"spec\":{{\"strategy\":{{\"rollingUpdate\":{{\"maxSurge\":1,\"maxUnavailable\":0}}}}}}}}'"),
                ));
            }
        }
        Strategy::Recreate => out.push(Finding::new(
            Severity::Warning,
            CheckId::MaxSurgeZero,
            workload.object(),
            "the Recreate strategy stops every pod before starting new ones: the upgrade's restart is a full outage of this workload",
            format!("use a rolling update with a surge: kubectl -n {ns} patch deployment {name} -p '{{\"spec\":{{\"strategy\":{{\"type\":\"RollingUpdate\",\"rollingUpdate\":{{\"maxSurge\":1,\"maxUnavailable\":0}}}}}}}}'"),
        )),
        Strategy::OnDelete => {}
    }
}

fn proxy(scope: &Scope<'_>, target: &Target, workload: &WorkloadInfo, out: &mut Vec<Finding>) {
    let (ns, name) = (&workload.namespace, &workload.name);
    let resource = workload.kind.as_str().to_lowercase();
    let mesh = scope
        .inventory
        .mesh_config(&target.new_revision)
        .map(|m| m.defaults)
        .unwrap_or_default();
    let own = workload.proxy_config;
    let hold = own
        .hold_application_until_proxy_starts
        .or(mesh.hold_application_until_proxy_starts)
        .unwrap_or(false);
    if !hold && !workload.is_gateway() {
        out.push(Finding::new(
            Severity::Warning,
            CheckId::HoldUntilProxy,
            workload.object(),
            format!("holdApplicationUntilProxyStarts is not set (pod annotation proxy.istio.io/config or revision {}'s mesh config): after the restart the app may start before its proxy and fail its first outbound calls", target.new_revision),
            format!("set it for the mesh (meshConfig.defaultConfig.holdApplicationUntilProxyStarts: true) or on the pod template: kubectl -n {ns} patch {resource} {name} -p '{{\"spec\":{{\"template\":{{\"metadata\":{{\"annotations\":{{\"proxy.istio.io/config\":\"holdApplicationUntilProxyStarts: true\"}}}}}}}}}}'"),
        ));
    }
    let drain = own
        .termination_drain_duration
        .or(mesh.termination_drain_duration)
        .unwrap_or(DEFAULT_DRAIN);
    let grace = workload.grace_seconds;
    if u64::try_from(grace).unwrap_or(0) < drain.as_secs() {
        out.push(Finding::new(
            Severity::Warning,
            CheckId::GraceBelowDrain,
            workload.object(),
            format!("terminationGracePeriodSeconds is {grace}s, shorter than the proxy's drain of {}s: the proxy is killed mid-drain at restart and in-flight requests fail", drain.as_secs()),
            format!("kubectl -n {ns} patch {resource} {name} -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"terminationGracePeriodSeconds\":{}}}}}}}}}'", drain.as_secs() + 5),
        ));
    }
    let long_lived = long_lived_ports(scope, workload);
    if grace < LONG_LIVED_GRACE_SECONDS && !long_lived.is_empty() {
        out.push(Finding::new(
            Severity::Warning,
            CheckId::LongLivedGrace,
            workload.object(),
            format!("it serves long-lived connections ({}) with a grace period of {grace}s: the restart cuts open streams before clients can reconnect elsewhere", long_lived.into_iter().collect::<Vec<_>>().join(", ")),
            format!("give connections time to drain (terminationGracePeriodSeconds of {LONG_LIVED_GRACE_SECONDS}s or more, and a matching terminationDrainDuration), and make clients reconnect"),
        ));
    }
}

/// The workload's ports whose protocol keeps connections open, as `name (protocol)`.
fn long_lived_ports(scope: &Scope<'_>, workload: &WorkloadInfo) -> BTreeSet<String> {
    let services = scope
        .inventory
        .services_in(&workload.namespace)
        .filter(|s| s.selects(workload))
        .flat_map(|s| &s.ports);
    workload
        .ports
        .iter()
        .chain(services)
        .filter_map(|p| protocol(p).map(|proto| format!("{} {proto}", p.port)))
        .collect()
}

fn protocol(port: &PortInfo) -> Option<String> {
    let by_app = port.app_protocol.as_deref().map(str::to_lowercase);
    let by_name = port.name.as_deref().map(|n| {
        let lower = n.to_lowercase();
        match lower.strip_prefix("grpc-web") {
            Some(_) => "grpc-web".to_string(),
            None => lower.split('-').next().unwrap_or_default().to_string(),
        }
    });
    [by_app, by_name]
        .into_iter()
        .flatten()
        .find(|p| LONG_LIVED.contains(&p.as_str()))
}
