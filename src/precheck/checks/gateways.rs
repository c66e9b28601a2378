//! Gateways injected through a revision tag.
//!
//! `gateway-on-tag`: info for a gateway (pod template annotated
//! `inject.istio.io/templates: gateway`) whose injection goes through a tag: when the tag
//! moves to the new revision, the gateway changes version at its next restart, whenever
//! that is; restart it on purpose right after moving the tag, or pin it to a revision.

use crate::precheck::Target;
use crate::precheck::finding::{CheckId, Finding, Severity};
use crate::precheck::scope::Scope;

pub(super) fn check(scope: &Scope<'_>, target: &Target, out: &mut Vec<Finding>) {
    for workload in scope.restarted().filter(|w| w.is_gateway()) {
        let Some(injection) = scope.injection(workload) else {
            continue;
        };
        let Some(tag) = injection.via_tag else {
            continue;
        };
        let resource = workload.kind.as_str().to_lowercase();
        out.push(Finding::new(
            Severity::Info,
            CheckId::GatewayOnTag,
            workload.object(),
            format!(
                "this gateway is injected through tag {tag} (by its {} label, now revision {}): moving the tag to {} changes its version at its next restart, whenever that happens",
                injection.from,
                injection.revision.as_deref().unwrap_or("none"),
                target.new_revision
            ),
            format!(
                "restart it right after moving the tag (kubectl -n {} rollout restart {resource} {}), or pin it to a revision with istio.io/rev={}",
                workload.namespace, workload.name, target.new_revision
            ),
        ));
    }
}
