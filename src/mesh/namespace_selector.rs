//! A set of namespaces, by name or by label selector: what a wave of the plan moves.

use std::collections::BTreeSet;

use super::injection::{self, Selection};
use super::resources::NamespaceInfo;
use crate::k8s::selector::LabelSelector;

#[derive(Debug, Clone, PartialEq)]
pub enum NamespaceSelector {
    /// Namespaces by name.
    Names(Vec<String>),
    /// A label selector, e.g. `tier in (staging)`, over namespaces labelled for sidecars;
    /// parsed when the plan is read.
    Labels(LabelSelector),
}

impl NamespaceSelector {
    /// The namespaces selected, in name order, among `namespaces`. A label selector only
    /// picks namespaces labelled for sidecar injection: ambient and uninjected namespaces
    /// have nothing to migrate.
    pub fn select(&self, namespaces: &[&NamespaceInfo]) -> Vec<String> {
        let mut names: Vec<String> = match self {
            NamespaceSelector::Names(listed) => {
                let listed: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
                namespaces
                    .iter()
                    .filter(|ns| listed.contains(ns.name.as_str()))
                    .map(|ns| ns.name.clone())
                    .collect()
            }
            NamespaceSelector::Labels(selector) => namespaces
                .iter()
                .filter(|ns| labelled_for_sidecars(ns) && selector.matches(&ns.labels))
                .map(|ns| ns.name.clone())
                .collect(),
        };
        names.sort();
        names.dedup();
        names
    }
}

fn labelled_for_sidecars(ns: &NamespaceInfo) -> bool {
    matches!(
        injection::selection(&ns.labels),
        Selection::DefaultTag | Selection::Rev(_)
    )
}
