//! The namespaces filter by state: `state:mixed` (sidecars of more than one revision),
//! `state:skew` (a proxy its control plane does not support), `state:not-ready` (a pod not
//! ready) and `state:breached` (a rollback trigger over its threshold). Typed in the
//! namespaces filter like any text; anything else after `state:` filters nothing out, so a
//! half-typed word still shows every namespace.

use std::collections::BTreeSet;

use super::state::State;
use crate::mesh::Mesh;
use crate::mesh::tally::NamespaceTally;
use crate::plan::triggers::Scope;

pub const PREFIX: &str = "state:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    Mixed,
    Skew,
    NotReady,
    Breached,
}

impl StateFilter {
    /// The filter a lowercase filter text names, if it starts with `state:`.
    pub fn parse(filter: &str) -> Option<Option<StateFilter>> {
        let word = filter.strip_prefix(PREFIX)?.trim();
        Some(match word {
            "mixed" => Some(StateFilter::Mixed),
            "skew" => Some(StateFilter::Skew),
            "not-ready" | "notready" | "not ready" => Some(StateFilter::NotReady),
            "breached" => Some(StateFilter::Breached),
            _ => None,
        })
    }
}

/// What the filter needs beyond each namespace's own tally, computed once per listing.
pub struct Judge<'a> {
    filter: StateFilter,
    state: &'a State,
    mesh: Option<Mesh>,
    breached: BTreeSet<&'a str>,
}

impl<'a> Judge<'a> {
    pub fn new(state: &'a State, filter: StateFilter) -> Judge<'a> {
        let breached = super::rollback::breaches(state)
            .filter_map(|f| match &f.scope {
                Scope::Namespace(ns) => Some(ns.as_str()),
                _ => None,
            })
            .collect();
        let mesh = (filter == StateFilter::Skew).then(|| state.mesh());
        Judge {
            filter,
            state,
            mesh,
            breached,
        }
    }

    pub fn keeps(&self, namespace: &str) -> bool {
        let tally = self.state.cluster.pod_tally.namespace(namespace);
        match self.filter {
            StateFilter::Breached => self.breached.contains(namespace),
            StateFilter::Mixed => tally.is_some_and(mixed),
            StateFilter::NotReady => tally.is_some_and(|t| t.ready() < t.pods()),
            StateFilter::Skew => tally.is_some_and(|t| self.skewed(t)),
        }
    }

    fn skewed(&self, tally: &NamespaceTally) -> bool {
        let Some(mesh) = &self.mesh else {
            return false;
        };
        tally
            .injected()
            .any(|(revision, proxy, _)| mesh.skew_of(revision, proxy).is_some())
    }
}

/// Sidecars of more than one revision.
fn mixed(tally: &NamespaceTally) -> bool {
    let revisions: BTreeSet<&str> = tally.injected().filter_map(|(r, _, _)| r).collect();
    revisions.len() > 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::{Filter, Pane};
    use crate::app::view::visible_namespaces;
    use crate::fixture::cluster::demo;

    fn shown(state: &mut State, text: &str) -> Vec<String> {
        state.ui.filters.insert(
            Pane::Namespaces,
            Filter {
                text: text.into(),
                editing: false,
            },
        );
        visible_namespaces(state)
            .into_iter()
            .map(|n| n.name.clone())
            .collect()
    }

    #[test]
    fn each_state_keeps_only_its_namespaces() {
        let mut s = demo().state;
        let all = shown(&mut s, "");
        assert_eq!(shown(&mut s, "state:mixed"), ["staging-web"]);
        assert_eq!(shown(&mut s, "state:skew"), ["search"]);
        assert!(
            shown(&mut s, "state:breached").is_empty(),
            "no trigger breached"
        );
        // A half-typed state hides nothing.
        assert_eq!(shown(&mut s, "state:mi"), all);

        let pod = crate::fixture::pod(
            "checkout",
            "cart-starting",
            Some("1-24-0"),
            Some("1.24.0"),
            false,
        );
        crate::mesh::tally::apply(
            &mut s.cluster.pods,
            &mut s.cluster.pod_tally,
            crate::app::event::Watch::Apply(pod),
        );
        assert!(shown(&mut s, "state:not-ready").contains(&"checkout".to_string()));
    }

    #[test]
    fn breached_keeps_the_namespaces_a_trigger_names() {
        let mut s = crate::fixture::metrics::breached(160, 45, |_, _| 10);
        let breached: Vec<String> = shown(&mut s, "state:breached");
        assert!(!breached.is_empty());
        for ns in &breached {
            assert!(
                super::super::rollback::breaches(&s)
                    .any(|f| f.scope == Scope::Namespace(ns.clone())),
                "{ns}"
            );
        }
    }
}
