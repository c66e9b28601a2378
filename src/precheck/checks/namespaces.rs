//! Namespaces: their injection labels and the pods they run.
//!
//! - `label-conflict`: warning when a namespace carries more than one of `istio-injection`,
//!   `istio.io/rev`, `istio.io/dataplane-mode` (Istio's IST0123): `istio-injection` wins,
//!   so relabelling `istio.io/rev` alone does not move the namespace.
//! - `label-unknown-revision`: warning when `istio.io/rev` names no tag or revision: a
//!   restart there gives pods no sidecar (or fails), and the upgrade cannot move it.
//! - `pod-no-sidecar`: warning for running pods without a sidecar in a namespace labelled
//!   for injection (unless their workload opted out): the next restart changes them.
//! - `proxy-image-mismatch`: warning for an injected pod whose proxy's minor version is not
//!   its revision's (a pinned or stale image): the upgrade will not move it as planned.

use std::collections::BTreeMap;

use crate::mesh::injection::LabelProblem;
use crate::mesh::pod::PodInfo;
use crate::mesh::version::skew;
use crate::precheck::Target;
use crate::precheck::finding::{CheckId, Finding, Severity, object};
use crate::precheck::inventory::WorkloadInfo;
use crate::precheck::scope::{INJECT, Scope};

pub(super) fn check(scope: &Scope<'_>, target: &Target, out: &mut Vec<Finding>) {
    labels(scope, target, out);
    pods(scope, out);
}

fn labels(scope: &Scope<'_>, target: &Target, out: &mut Vec<Finding>) {
    for (name, resolved) in &scope.namespaces {
        let object = format!("Namespace/{name}");
        for problem in &resolved.problems {
            match problem {
                LabelProblem::Conflicting(keys) => {
                    let extra: Vec<&str> = keys.iter().skip(1).copied().collect();
                    out.push(Finding::new(
                        Severity::Warning,
                        CheckId::LabelConflict,
                        &object,
                        format!("{}: {} takes precedence, so moving the namespace to {} by its istio.io/rev label has no effect", problem.describe(), keys[0], target.new_revision),
                        format!("keep one injection label: kubectl label namespace {name} {}", extra.iter().map(|k| format!("{k}-")).collect::<Vec<_>>().join(" ")),
                    ));
                }
                LabelProblem::UnknownRevision(value) => out.push(Finding::new(
                    Severity::Warning,
                    CheckId::LabelUnknownRevision,
                    &object,
                    format!("istio.io/rev={value} names no tag or revision: pods restarted here get no sidecar, and the upgrade cannot move the namespace"),
                    format!("label it with an existing tag or revision: kubectl label namespace {name} istio.io/rev={} --overwrite", target.new_revision),
                )),
            }
        }
    }
}

/// The workload a pod belongs to, by name: `<deployment>-<hash>-<id>`, `<set>-<n>`,
/// `<daemonset>-<id>` (pods are kept without their labels).
fn owner<'a>(workloads: &[&'a WorkloadInfo], pod: &PodInfo) -> Option<&'a WorkloadInfo> {
    workloads
        .iter()
        .filter(|w| {
            pod.name
                .strip_prefix(w.name.as_str())
                .is_some_and(|rest| rest.starts_with('-'))
        })
        .max_by_key(|w| w.name.len())
        .copied()
}

fn pods(scope: &Scope<'_>, out: &mut Vec<Finding>) {
    let inventory = scope.inventory;
    for ns in inventory.namespaces.values() {
        let workloads: Vec<&WorkloadInfo> = inventory.workloads_in(&ns.name).collect();
        let running =
            |p: &&PodInfo| !p.terminating && matches!(p.phase.as_str(), "Running" | "Pending");
        if scope.sidecar_namespace(&ns.name) {
            let mut bare: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for pod in inventory.pods_in(&ns.name).filter(running) {
                if pod.is_injected() || pod.istiod.is_some() {
                    continue;
                }
                let workload = owner(&workloads, pod);
                if workload.is_some_and(|w| w.label(INJECT) == Some("false")) {
                    continue;
                }
                let key = workload
                    .map_or_else(|| object("Pod", &ns.name, &pod.name), WorkloadInfo::object);
                bare.entry(key).or_default().push(&pod.name);
            }
            for (object, pods) in bare {
                out.push(Finding::new(
                    Severity::Warning,
                    CheckId::PodNoSidecar,
                    object,
                    format!("{} pod(s) run without a sidecar in namespace {}, which is labelled for injection ({}): the upgrade's restart gives them one, changing how they talk to the mesh mid-window", pods.len(), ns.name, pods.join(", ")),
                    "restart them before the window so they join the mesh now, or opt them out with the pod label sidecar.istio.io/inject=false",
                ));
            }
        }
        for pod in inventory.pods_in(&ns.name).filter(running) {
            let (Some(revision), Some(proxy)) = (pod.revision.as_deref(), pod.proxy) else {
                continue;
            };
            let Some(control) = scope.versions.get(revision).copied() else {
                continue;
            };
            if (proxy.major, proxy.minor) == (control.major, control.minor) {
                continue;
            }
            out.push(Finding::new(
                Severity::Warning,
                CheckId::ProxyImageMismatch,
                object("Pod", &pod.namespace, &pod.name),
                format!("its proxy runs {proxy} but revision {revision} injects {control} ({}): a pinned or stale proxy image, which the upgrade's restart will not move as planned", skew(control, proxy).describe()),
                "remove the pinned image (annotation sidecar.istio.io/proxyImage or a custom injection template) and restart the pod's workload",
            ));
        }
    }
}
