//! Pods a rollout restart cannot move to the new revision.
//!
//! `unmovable-pod`, for running injected pods: warning for a bare pod (nothing recreates
//! it: it must be deleted and created again by hand, and is lost if that goes wrong); info
//! for an Argo Rollout's pods (restart them through Argo) and for Jobs and other owners
//! (their next run gets the new proxy; a long-running one needs a manual restart).

use crate::mesh::pod::Owner;
use crate::precheck::Target;
use crate::precheck::finding::{CheckId, Finding, Severity, object};
use crate::precheck::scope::Scope;

pub(super) fn check(scope: &Scope<'_>, target: &Target, out: &mut Vec<Finding>) {
    let running = |phase: &str| matches!(phase, "Running" | "Pending");
    for pod in scope.inventory.pods.values() {
        if !pod.is_injected() || pod.terminating || !running(&pod.phase) {
            continue;
        }
        if pod.revision.as_deref() == Some(target.new_revision.as_str()) {
            continue;
        }
        let Some(what) = pod.owner.manual_restart() else {
            continue;
        };
        let (ns, name) = (&pod.namespace, &pod.name);
        let (severity, fix) = match &pod.owner {
            Owner::Bare => (
                Severity::Warning,
                format!(
                    "recreate it after the namespace moves (kubectl -n {ns} get pod {name} -o yaml > {name}.yaml; kubectl -n {ns} replace --force -f {name}.yaml), or give it a Deployment"
                ),
            ),
            Owner::ArgoRollout => (
                Severity::Info,
                format!(
                    "restart it through Argo after the namespace moves: kubectl argo rollouts restart <rollout> -n {ns}"
                ),
            ),
            _ => (
                Severity::Info,
                format!(
                    "let it finish, or delete it after the namespace moves so its owner recreates it: kubectl -n {ns} delete pod {name}"
                ),
            ),
        };
        out.push(Finding::new(
            severity,
            CheckId::UnmovablePod,
            object("Pod", ns, name),
            format!("{}: a rollout restart does not replace it, so it keeps its {} proxy until restarted by hand", owned_by(&pod.owner, &what), pod.revision.as_deref().unwrap_or("old")),
            fix,
        ));
    }
}

/// Who owns the pod, as a sentence's start: a bare pod has no owner.
fn owned_by(owner: &Owner, what: &str) -> String {
    match owner {
        Owner::Bare => "a bare pod, owned by nothing".into(),
        _ => format!("owned by {what}"),
    }
}
