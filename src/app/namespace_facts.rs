//! What every namespace's labels say: the revision they select and the wave they belong to.
//!
//! The frame, the gates, the rollback triggers and the metrics sample all ask this of 2,000
//! namespaces several times a second, while the answer only changes when a namespace, an
//! injector (tags, revisions) or the plan's waves do. So it is worked out once per change and
//! kept beside the state, behind a key of everything it was computed from.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::resources::NamespaceInfo;
use super::state::State;
use super::view::Mesh;
use crate::plan::model::{NamespaceSelector, Plan};

#[derive(Debug, Default, PartialEq)]
pub struct NamespaceFacts {
    /// The revision each namespace's labels select (directly or through a tag); namespaces
    /// that select none are absent.
    pub selects: BTreeMap<String, String>,
    /// How many namespaces select each revision.
    pub per_revision: BTreeMap<String, usize>,
    /// Each wave's namespaces, as `Plan::wave_namespaces` lists them.
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
    fn are(&self, namespaces: u64, mesh: &Mesh, plan: Option<&Plan>) -> bool {
        let waves = plan.map_or(&[][..], |p| p.waves.as_slice());
        self.namespaces == namespaces
            && self.tags == mesh.tags
            && self.revisions == mesh.revisions
            && self.waves.len() == waves.len()
            && self.waves.iter().zip(waves).all(|(a, b)| *a == b.selector)
    }
}

/// The last facts computed, and from what. Empty in a new or cloned-then-changed state.
#[derive(Debug, Clone, Default)]
pub struct FactsCache(RefCell<Option<(Inputs, Arc<NamespaceFacts>)>>);

/// The namespaces' facts in `state` as it is now, with the waves of its plan, computed only if
/// something they depend on changed since the last call.
pub fn of(state: &State) -> Arc<NamespaceFacts> {
    for_plan(state, state.plan.as_ref())
}

/// The same, with the waves of `plan` (the gates may be asked about a plan not yet adopted).
pub fn for_plan(state: &State, plan: Option<&Plan>) -> Arc<NamespaceFacts> {
    let mesh = Mesh::injectors(state);
    let generation = state.namespaces.generation();
    let mut cache = state.namespace_facts.0.borrow_mut();
    if let Some((computed_from, facts)) = cache.as_ref()
        && computed_from.are(generation, &mesh, plan)
    {
        return Arc::clone(facts);
    }
    let facts = Arc::new(compute(state, &mesh, plan));
    let inputs = Inputs {
        namespaces: generation,
        tags: mesh.tags,
        revisions: mesh.revisions,
        waves: plan
            .iter()
            .flat_map(|p| &p.waves)
            .map(|w| w.selector.clone())
            .collect(),
    };
    *cache = Some((inputs, Arc::clone(&facts)));
    facts
}

fn compute(state: &State, mesh: &Mesh, plan: Option<&Plan>) -> NamespaceFacts {
    let mut facts = NamespaceFacts::default();
    for ns in state.namespaces.values() {
        if let Some(revision) = mesh.resolve(ns).revision {
            *facts.per_revision.entry(revision.clone()).or_default() += 1;
            facts.selects.insert(ns.name.clone(), revision);
        }
    }
    if let Some(plan) = plan {
        let all: Vec<&NamespaceInfo> = state.namespaces.values().collect();
        facts.waves = (0..plan.waves.len())
            .map(|i| plan.wave_namespaces(i, &all))
            .collect();
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::event::{Event, Watch};
    use crate::app::update::update;
    use crate::fixture::demo;

    fn labelled(state: &mut State, name: &str, labels: &[(&str, &str)]) {
        let mut ns = state.namespaces.get(&name.to_string()).unwrap().clone();
        ns.labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        update(state, Event::Namespaces(Watch::Apply(ns)), |_, _| 20);
    }

    /// The cached answer must always be the one computed from scratch.
    fn assert_fresh(state: &State) {
        assert_eq!(
            *of(state),
            compute(state, &Mesh::injectors(state), state.plan.as_ref())
        );
    }

    #[test]
    fn facts_follow_every_change_they_depend_on() {
        let mut state = demo().state;
        state.plan = crate::plan::derive(&state);
        let first = of(&state);
        assert!(!first.selects.is_empty() && !first.waves.is_empty());
        assert!(
            Arc::ptr_eq(&first, &of(&state)),
            "unchanged: not computed again"
        );

        // A namespace relabelled onto the new revision.
        let name = first.wave(0)[0].clone();
        labelled(&mut state, &name, &[("istio.io/rev", "1-25-0")]);
        assert_eq!(of(&state).selected(&name), Some("1-25-0"));
        assert_fresh(&state);

        // A namespace out of the mesh.
        labelled(&mut state, &name, &[]);
        assert_eq!(of(&state).selected(&name), None);
        assert_fresh(&state);

        // A tag moved: every namespace behind it follows.
        let mut hooks: Vec<_> = state.webhooks.values().cloned().collect();
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
        state.plan.as_mut().unwrap().waves.truncate(1);
        assert_eq!(of(&state).waves.len(), 1);
        assert_fresh(&state);
        state.plan = None;
        assert!(of(&state).waves.is_empty());
    }

    #[test]
    fn a_wave_the_plan_does_not_have_is_empty() {
        assert!(NamespaceFacts::default().wave(3).is_empty());
    }
}
