//! What the filters leave of the namespaces, pods and log lines: the rows the panes list,
//! before `crate::mesh::rows` derives what each row shows.

use super::state::State;
use super::text_match;
use crate::mesh::logs::LogEntry;
use crate::mesh::pod::PodInfo;
use crate::mesh::resources::NamespaceInfo;

/// Namespaces in name order that match the namespaces filter (name, labels or tier), or its
/// state (`state:mixed`, see `state_filter`).
pub fn visible_namespaces(state: &State) -> Vec<&NamespaceInfo> {
    let filter = state
        .ui
        .filter(super::state::Pane::Namespaces)
        .to_lowercase();
    if let Some(by_state) = super::state_filter::StateFilter::parse(&filter) {
        let judge = by_state.map(|f| super::state_filter::Judge::new(state, f));
        return state
            .cluster
            .namespaces
            .values()
            .filter(|ns| judge.as_ref().is_none_or(|j| j.keeps(&ns.name)))
            .collect();
    }
    state
        .cluster
        .namespaces
        .values()
        .filter(|ns| {
            filter.is_empty()
                || ns.name.contains(&filter)
                || ns
                    .labels
                    .iter()
                    .any(|(k, v)| text_match::pair_contains(k, v, &filter))
        })
        .collect()
}

/// Pods of the selected namespace that match the pods filter (name, revision or version).
pub fn visible_pods(state: &State) -> Vec<&PodInfo> {
    let Some(ns) = &state.ui.selected_namespace else {
        return Vec::new();
    };
    let filter = state.ui.filter(super::state::Pane::Pods).to_lowercase();
    state
        .cluster
        .pods_in(ns)
        .filter(|p| {
            filter.is_empty()
                || p.name.contains(&filter)
                || p.revision.as_deref().is_some_and(|r| r.contains(&filter))
                || p.proxy.is_some_and(|v| v.to_string().contains(&filter))
                || p.phase.to_lowercase().contains(&filter)
        })
        .collect()
}

/// Log entries the logs pane shows: the NACK-only toggle and the text filter applied.
pub fn visible_logs(state: &State) -> Vec<&LogEntry> {
    let filter = state.ui.filter(super::state::Pane::Logs).to_lowercase();
    state
        .cluster
        .logs
        .entries()
        .filter(|e| !state.ui.nack_only || e.line.nack.is_some())
        .filter(|e| {
            filter.is_empty()
                || text_match::contains_lowercase(&e.line.message, &filter)
                || e.revision.contains(&filter)
                || e.pod.contains(&filter)
        })
        .collect()
}
