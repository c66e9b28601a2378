//! Versions: the cluster's Kubernetes against the target Istio's supported range, and the
//! size of the jump.
//!
//! - `k8s-version`: blocker when Kubernetes is older than the target's oldest supported
//!   minor (Istio may rely on APIs it lacks; `istioctl x precheck` refuses it too); warning
//!   when newer than the newest supported one (untested), or when the Istio release is not
//!   in the matrix or the cluster's version is unknown.
//! - `skip-minor`: blocker when the upgrade jumps more than two minors (revision-based
//!   upgrades may skip one: 1.23 -> 1.25) or changes major; warning for a downgrade.

use crate::precheck::Target;
use crate::precheck::finding::{CheckId, Finding, Severity};
use crate::precheck::scope::Scope;
use crate::precheck::support;

/// Cluster-wide findings name the cluster itself.
const CLUSTER: &str = "Cluster/version";

pub(super) fn check(scope: &Scope<'_>, target: &Target, out: &mut Vec<Finding>) {
    kubernetes(scope, target, out);
    jump(target, out);
}

fn kubernetes(scope: &Scope<'_>, target: &Target, out: &mut Vec<Finding>) {
    let to = target.to;
    let istio = format!("{}.{}", to.major, to.minor);
    let Some(server) = scope.inventory.server else {
        out.push(Finding::new(
            Severity::Warning,
            CheckId::K8sVersion,
            CLUSTER,
            format!("the cluster's Kubernetes version is unknown: cannot tell whether Istio {istio} supports it"),
            "check `kubectl version` against Istio's supported releases page",
        ));
        return;
    };
    let Some((min, max)) = support::kubernetes_range(to.major, to.minor) else {
        out.push(Finding::new(
            Severity::Warning,
            CheckId::K8sVersion,
            CLUSTER,
            format!("Istio {istio} is not in the cockpit's support matrix: cannot tell whether it supports Kubernetes {server}"),
            "check Istio's supported releases page for this release",
        ));
        return;
    };
    let range = format!("1.{min} to 1.{max}");
    if server.major != 1 || server.minor < min {
        out.push(Finding::new(
            Severity::Blocker,
            CheckId::K8sVersion,
            CLUSTER,
            format!("Kubernetes {server} is older than Istio {istio} supports ({range}): the new control plane may use APIs this cluster lacks"),
            format!("upgrade Kubernetes to 1.{min} or later first, or choose an Istio release that supports {server}"),
        ));
    } else if server.minor > max {
        out.push(Finding::new(
            Severity::Warning,
            CheckId::K8sVersion,
            CLUSTER,
            format!("Kubernetes {server} is newer than Istio {istio} is tested on ({range})"),
            format!("prefer an Istio release that supports Kubernetes {server}, or rehearse the upgrade on a staging cluster of this version"),
        ));
    }
}

fn jump(target: &Target, out: &mut Vec<Finding>) {
    let (from, to) = (target.from, target.to);
    let object = format!("Revision/{}", target.new_revision);
    if to.major != from.major || to.minor > from.minor + 2 {
        out.push(Finding::new(
            Severity::Blocker,
            CheckId::SkipMinor,
            object,
            format!("{from} -> {to} skips more than one minor release: Istio supports canary upgrades across at most two minors, and the old proxies would be out of skew with the new control plane"),
            format!("upgrade in steps, e.g. to 1.{}.x first", from.minor + 2),
        ));
    } else if to < from {
        out.push(Finding::new(
            Severity::Warning,
            CheckId::SkipMinor,
            object,
            format!("{from} -> {to} is a downgrade: proxies newer than their control plane are unsupported"),
            "make sure this is a rollback you mean, and move namespaces back before removing the newer revision",
        ));
    }
}
