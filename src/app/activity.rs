//! Namespaces on the move after a migrate or revert: how far each workload has come, and
//! when it is done (every pod on the target revision and ready, none terminating).

use std::collections::BTreeMap;

use super::state::State;
use crate::mesh::pod::PodInfo;

/// A namespace on the move: towards which revision, and whether it is a revert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub target: String,
    pub reverting: bool,
}

impl Activity {
    pub fn towards(target: &str, reverting: bool) -> Activity {
        Activity {
            target: target.to_string(),
            reverting,
        }
    }
}

/// The pods of a namespace that count for progress: injected, not on their way out.
fn counted_pods<'a>(state: &'a State, ns: &str) -> Vec<&'a PodInfo> {
    state
        .cluster
        .pods_in(ns)
        .filter(|p| p.is_injected() && !p.terminating)
        .collect()
}

/// Drops finished migrations and reverts from the activity list: every pod on the target
/// revision and ready, and none of another revision left.
pub fn settle_activity(state: &mut State) {
    let done: Vec<String> = state
        .drive
        .activity
        .iter()
        .filter(|(ns, activity)| settled(state, ns, &activity.target))
        .map(|(ns, _)| ns.clone())
        .collect();
    for ns in done {
        state.drive.activity.remove(&ns);
    }
}

/// Every pod of `ns` on `target` and ready, and none of another revision left.
pub fn settled(state: &State, ns: &str, target: &str) -> bool {
    let pods = counted_pods(state, ns);
    !pods.is_empty()
        && pods
            .iter()
            .all(|p| p.is_ready() && p.revision.as_deref() == Some(target))
        && state.cluster.pods_in(ns).all(|p| !p.terminating)
}

/// `staging-web: 3/5 pods on 1-25-0 and ready` for each namespace in progress.
pub fn progress(state: &State) -> Vec<String> {
    state
        .drive
        .activity
        .iter()
        .map(|(ns, activity)| {
            let pods = counted_pods(state, ns);
            let target = &activity.target;
            let done = pods
                .iter()
                .filter(|p| p.is_ready() && p.revision.as_deref() == Some(target.as_str()))
                .count();
            let verb = if activity.reverting {
                "reverting, "
            } else {
                ""
            };
            // Per workload (the pods' `app` label), so a stuck Deployment stands out.
            let mut by_workload: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
            for p in &pods {
                let entry = by_workload
                    .entry(p.app.as_deref().unwrap_or("other"))
                    .or_default();
                entry.1 += 1;
                if p.is_ready() && p.revision.as_deref() == Some(target.as_str()) {
                    entry.0 += 1;
                }
            }
            let workloads = by_workload
                .iter()
                .map(|(w, (d, n))| format!("{w} {d}/{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "{ns}: {verb}{done}/{} pods on {target} and ready ({workloads})",
                pods.len()
            )
        })
        .collect()
}
