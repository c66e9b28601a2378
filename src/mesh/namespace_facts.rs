//! What every namespace's labels say: the revision they select and the wave they belong to.
//!
//! The frame, the gates, the rollback triggers and the metrics sample all ask this of 2,000
//! namespaces several times a second, while the answer only changes when a namespace, an
//! injector (tags, revisions) or the plan's waves do. So it is worked out once per change and
//! kept beside the state, behind a key of everything it was computed from.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::cluster::Cluster;
use super::namespace_selector::NamespaceSelector;
use super::resources::NamespaceInfo;
use super::revisions::Mesh;

#[derive(Debug, Default, PartialEq)]
pub struct NamespaceFacts {
    /// The revision each namespace's labels select (directly or through a tag); namespaces
    /// that select none are absent.
    pub selects: BTreeMap<String, String>,
    /// How many namespaces select each revision.
    pub per_revision: BTreeMap<String, usize>,
    /// Each wave's namespaces, as its selector picks them.
    pub waves: Vec<Vec<String>>,
}

impl NamespaceFacts {
    pub fn selected(&self, namespace: &str) -> Option<&str> {
        self.selects.get(namespace).map(String::as_str)
    }

    /// The namespaces whose labels select `revision`, in name order.
    pub fn selecting<'a>(&'a self, revision: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.selects
            .iter()
            .filter(move |(_, selected)| *selected == revision)
            .map(|(name, _)| name)
    }

    /// The namespaces of wave `i`; none for a wave the plan does not have.
    pub fn wave(&self, i: usize) -> &[String] {
        self.waves.get(i).map_or(&[], Vec::as_slice)
    }
}

/// Everything the facts were computed from.
#[derive(Debug, Clone)]
struct Inputs {
    namespaces: u64,
    tags: BTreeMap<String, String>,
    revisions: Vec<String>,
    waves: Vec<NamespaceSelector>,
}

impl Inputs {
    /// Compared in place: the waves may list thousands of names, too many to copy each frame.
    fn are<'a>(
        &self,
        namespaces: u64,
        mesh: &Mesh,
        waves: impl ExactSizeIterator<Item = &'a NamespaceSelector>,
    ) -> bool {
        self.labels_are(namespaces, mesh)
            && self.waves.len() == waves.len()
            && self.waves.iter().zip(waves).all(|(a, b)| a == b)
    }

    /// Whether what the labels select is still current, whatever the waves.
    fn labels_are(&self, namespaces: u64, mesh: &Mesh) -> bool {
        self.namespaces == namespaces && self.tags == mesh.tags && self.revisions == mesh.revisions
    }
}

/// The last facts computed, and from what. Empty in a new or cloned-then-changed cluster.
#[derive(Debug, Clone, Default)]
pub struct FactsCache(RefCell<Option<(Inputs, Arc<NamespaceFacts>)>>);

/// The namespaces' facts in `cluster` as it is now, with the namespaces each of `waves` picks,
/// computed only if something they depend on changed since the last call.
pub fn of<'a, W>(cluster: &Cluster, waves: W) -> Arc<NamespaceFacts>
where
    W: ExactSizeIterator<Item = &'a NamespaceSelector> + Clone,
{
    let mesh = Mesh::injectors(cluster);
    let generation = cluster.namespaces.generation();
    let mut cache = cluster.namespace_facts.0.borrow_mut();
    if let Some((computed_from, facts)) = cache.as_ref()
        && computed_from.are(generation, &mesh, waves.clone())
    {
        return Arc::clone(facts);
    }
    let facts = Arc::new(compute(cluster, &mesh, waves.clone()));
    let inputs = Inputs {
        namespaces: generation,
        tags: mesh.tags,
        revisions: mesh.revisions,
        waves: waves.cloned().collect(),
    };
    *cache = Some((inputs, Arc::clone(&facts)));
    facts
}

/// The facts with whichever waves were last asked for, for callers that read only what the
/// labels select: asking without waves would throw away the waves the frame keeps asking for.
pub fn selection(cluster: &Cluster) -> Arc<NamespaceFacts> {
    let waves = {
        let cache = cluster.namespace_facts.0.borrow();
        match cache.as_ref() {
            // The waves may list thousands of names: only copied when the facts are stale.
            Some((inputs, facts)) => {
                let mesh = Mesh::injectors(cluster);
                if inputs.are(cluster.namespaces.generation(), &mesh, inputs.waves.iter()) {
                    return Arc::clone(facts);
                }
                inputs.waves.clone()
            }
            None => Vec::new(),
        }
    };
    of(cluster, waves.iter())
}

fn compute<'a>(
    cluster: &Cluster,
    mesh: &Mesh,
    waves: impl Iterator<Item = &'a NamespaceSelector>,
) -> NamespaceFacts {
    let mut facts = NamespaceFacts::default();
    for ns in cluster.namespaces.values() {
        if let Some(revision) = mesh.resolve(ns).revision {
            *facts.per_revision.entry(revision.clone()).or_default() += 1;
            facts.selects.insert(ns.name.clone(), revision);
        }
    }
    let all: Vec<&NamespaceInfo> = cluster.namespaces.values().collect();
    facts.waves = waves.map(|selector| selector.select(&all)).collect();
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::event::{Event, Watch};
    use crate::app::state::State;
    use crate::app::update::update;
    use crate::fixture::demo;

    fn labelled(state: &mut State, name: &str, labels: &[(&str, &str)]) {
        let mut ns = state
            .cluster
            .namespaces
            .get(&name.to_string())
            .unwrap()
            .clone();
        ns.labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        update(state, Event::Namespaces(Watch::Apply(ns)), |_, _| 20);
    }

    /// The cached answer must always be the one computed from scratch.
    fn assert_fresh(state: &State) {
        let waves = state
            .drive
            .plan
            .as_ref()
            .map_or(&[][..], |p| p.waves.as_slice());
        let selectors = waves.iter().map(|w| &w.selector);
        let fresh = compute(&state.cluster, &Mesh::injectors(&state.cluster), selectors);
        // Asked first without waves (the cache may be stale), the labels' answer is current.
        let selected = selection(&state.cluster);
        assert_eq!(
            (&selected.selects, &selected.per_revision),
            (&fresh.selects, &fresh.per_revision)
        );
        assert_eq!(*state.namespace_facts(), fresh);
    }

    #[test]
    fn facts_follow_every_change_they_depend_on() {
        let mut state = demo().state;
        state.drive.plan = crate::plan::derive(&state.cluster);
        let first = state.namespace_facts();
        assert!(!first.selects.is_empty() && !first.waves.is_empty());
        assert!(
            Arc::ptr_eq(&first, &state.namespace_facts()),
            "unchanged: not computed again"
        );

        // A namespace relabelled onto the new revision.
        let name = first.wave(0)[0].clone();
        labelled(&mut state, &name, &[("istio.io/rev", "1-25-0")]);
        assert_eq!(state.namespace_facts().selected(&name), Some("1-25-0"));
        assert_fresh(&state);

        // A namespace out of the mesh.
        labelled(&mut state, &name, &[]);
        assert_eq!(state.namespace_facts().selected(&name), None);
        assert_fresh(&state);

        // A tag moved: every namespace behind it follows.
        let mut hooks: Vec<_> = state.cluster.webhooks.values().cloned().collect();
        for hook in &mut hooks {
            if hook.tag.is_some() {
                hook.revision = "1-25-0".into();
            }
        }
        for hook in hooks {
            update(&mut state, Event::Webhooks(Watch::Apply(hook)), |_, _| 20);
        }
        assert_fresh(&state);

        // The plan's waves changed without any event.
        state.drive.plan.as_mut().unwrap().waves.truncate(1);
        assert_eq!(state.namespace_facts().waves.len(), 1);
        assert_fresh(&state);
        state.drive.plan = None;
        assert!(state.namespace_facts().waves.is_empty());
    }

    #[test]
    fn a_wave_the_plan_does_not_have_is_empty() {
        assert!(NamespaceFacts::default().wave(3).is_empty());
    }
}
