//! Pods a rollout restart cannot move to another revision: bare pods, Jobs, Argo Rollouts
//! and other owners. The previews and the wave's gate name them, so the driver restarts them
//! by hand.

use super::cluster::Cluster;

/// The injected pods of `namespace` that need a manual restart and are not yet on `to`
/// (all of them when `to` is None), as `name (owner)`, in name order.
pub fn needed(cluster: &Cluster, namespace: &str, to: Option<&str>) -> Vec<String> {
    cluster
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
pub fn preview_line(cluster: &Cluster, namespace: &str) -> Option<String> {
    let pods = needed(cluster, namespace, None);
    (!pods.is_empty()).then(|| {
        format!(
            "  {namespace}: a restart does not move {}: restart by hand",
            pods.join(", ")
        )
    })
}
