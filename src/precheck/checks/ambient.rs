//! Ambient: the node agents against the control planes. Istio's order is base CRDs, then
//! istiod, then istio-cni, then ztunnel, each only after the one before.
//!
//! - `ambient-order`: blocker when istio-cni or ztunnel runs a newer version than every
//!   installed istiod (upgraded ahead of its control plane); warning when ztunnel is newer
//!   than istio-cni, or when either is more than one minor behind the target (it must
//!   follow in this window, after istiod).
//! - `ztunnel-strategy`: warning when ztunnel's rolling update restarts it on more than one
//!   node at a time (`maxUnavailable` above 1): each node's ztunnel restart cuts every
//!   ambient connection on that node, so several nodes lose theirs at once. One node at a
//!   time (Istio's chart default) or `OnDelete` (drain node by node) is silent.

use crate::mesh::resources::DaemonSetInfo;
use crate::mesh::version::{Version, skew};
use crate::precheck::Target;
use crate::precheck::finding::{CheckId, Finding, Severity, object};
use crate::precheck::inventory::{Strategy, WorkloadKind};
use crate::precheck::scope::Scope;

const ZTUNNEL: &str = "ztunnel";
const CNI: &str = "istio-cni-node";

pub(super) fn check(scope: &Scope<'_>, target: &Target, out: &mut Vec<Finding>) {
    let agent = |name: &str| scope.inventory.ambient.values().find(|d| d.name == name);
    let (cni, ztunnel) = (agent(CNI), agent(ZTUNNEL));
    let control = scope.newest_control_plane();
    for ds in [cni, ztunnel].into_iter().flatten() {
        let Some(version) = ds.version else { continue };
        let obj = object("DaemonSet", &ds.namespace, &ds.name);
        if let Some(control) = control.filter(|c| version > *c) {
            out.push(Finding::new(
                Severity::Blocker,
                CheckId::AmbientOrder,
                obj,
                format!("{} runs {version}, newer than every istiod ({control}): node agents must follow their control plane, never lead it", ds.name),
                format!("install istiod {} first, or roll {} back to {control}", target.to, ds.name),
            ));
        } else if skew(target.to, version).is_violation() && version < target.to {
            out.push(Finding::new(
                Severity::Warning,
                CheckId::AmbientOrder,
                obj,
                format!("{} runs {version}, more than one minor behind {}: upgrade it in this window, after istiod and in order (istio-cni before ztunnel)", ds.name, target.to),
                format!("after istiod {}: helm upgrade {} for istio-cni, then ztunnel, at version {}", target.to, ds.name, target.to),
            ));
        }
    }
    if let (Some(cni), Some(zt)) = (cni, ztunnel) {
        order(cni, zt, out);
    }
    strategy(scope, ztunnel, out);
}

fn order(cni: &DaemonSetInfo, ztunnel: &DaemonSetInfo, out: &mut Vec<Finding>) {
    let (Some(c), Some(z)) = (cni.version, ztunnel.version) else {
        return;
    };
    if newer_minor(z, c) {
        out.push(Finding::new(
            Severity::Warning,
            CheckId::AmbientOrder,
            object("DaemonSet", &ztunnel.namespace, &ztunnel.name),
            format!("ztunnel runs {z} but istio-cni runs {c}: ztunnel was upgraded before istio-cni, against Istio's order"),
            format!("upgrade istio-cni to {z} now, and keep the order (istio-cni, then ztunnel) from here on"),
        ));
    }
}

fn newer_minor(a: Version, b: Version) -> bool {
    (a.major, a.minor) > (b.major, b.minor)
}

fn strategy(scope: &Scope<'_>, ztunnel: Option<&DaemonSetInfo>, out: &mut Vec<Finding>) {
    let Some(zt) = ztunnel else { return };
    let key = (
        zt.namespace.clone(),
        WorkloadKind::DaemonSet,
        zt.name.clone(),
    );
    let Some(workload) = scope.inventory.workloads.get(&key) else {
        return;
    };
    if let Strategy::Rolling {
        max_unavailable, ..
    } = workload.strategy
        && max_unavailable > 1
    {
        out.push(Finding::new(
            Severity::Warning,
            CheckId::ZtunnelStrategy,
            workload.object(),
            format!("ztunnel's rolling update restarts it on {max_unavailable} nodes at a time: each restart cuts every ambient connection of the pods on that node, so several nodes lose theirs at once"),
            format!("roll one node at a time (kubectl -n {} patch daemonset {} -p '{{\"spec\":{{\"updateStrategy\":{{\"rollingUpdate\":{{\"maxUnavailable\":1}}}}}}}}'), or set OnDelete and upgrade node by node: drain, delete its ztunnel pod, uncordon", zt.namespace, zt.name),
        ));
    }
}
