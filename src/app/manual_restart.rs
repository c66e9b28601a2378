//! Pods a rollout restart cannot move to another revision: bare pods, Jobs, Argo Rollouts
//! and other owners. The previews and the wave's gate name them, so the driver restarts them
//! by hand.

use super::state::State;

/// The injected pods of `namespace` that need a manual restart and are not yet on `to`
/// (all of them when `to` is None), as `name (owner)`, in name order.
pub fn needed(state: &State, namespace: &str, to: Option<&str>) -> Vec<String> {
    state
        .pods_in(namespace)
        .filter(|p| p.is_injected() && !p.terminating)
        .filter(|p| to.is_none_or(|to| p.revision.as_deref() != Some(to)))
        .filter_map(|p| {
            let what = p.owner.manual_restart()?;
            Some(format!("{} ({what})", p.name))
        })
        .collect()
}

/// The preview's line for one namespace, when it has such pods.
pub fn preview_line(state: &State, namespace: &str) -> Option<String> {
    let pods = needed(state, namespace, None);
    (!pods.is_empty()).then(|| {
        format!(
            "  {namespace}: a restart does not move {}: restart by hand",
            pods.join(", ")
        )
    })
}
