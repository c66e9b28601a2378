//! Counts of the pods, kept as pod events are applied, so a frame, the gates and the rollback
//! triggers read a few numbers per namespace instead of walking every pod.
//!
//! `update` keeps it in step with `State::pods`: every pod that enters is added, every pod
//! that leaves or is replaced is taken out, and a completed relist counts again from scratch.

use std::collections::{BTreeMap, BTreeSet};

use super::collection::Collection;
use super::collection::Watch;
use super::pod::PodInfo;
use super::version::Version;

/// Applies one watch event to the pods and keeps `tally` in step with them. Returns whether
/// the visible pods changed, as `Collection::apply` does.
pub fn apply(
    pods: &mut Collection<(String, String), PodInfo>,
    tally: &mut PodTally,
    event: Watch<PodInfo>,
) -> bool {
    let key = |p: &PodInfo| (p.namespace.clone(), p.name.clone());
    // The pod being replaced or deleted is the one shown, not the one in the event.
    if let Watch::Apply(p) | Watch::Delete(p) = &event
        && let Some(old) = pods.get(&key(p))
    {
        tally.remove(old);
    }
    if let Watch::Apply(p) = &event {
        tally.add(p);
    }
    let relisted = matches!(event, Watch::InitDone);
    let changed = pods.apply(event, key);
    if relisted {
        *tally = PodTally::of(pods.values());
    }
    changed
}

/// Pods of one namespace that share an injecting revision and a proxy version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub pods: usize,
    pub ready: usize,
}

/// The pods of one namespace, istiod's apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceTally {
    /// (revision that injected them, proxy version) -> how many, and how many ready.
    pub mix: BTreeMap<(Option<String>, Option<Version>), Count>,
    /// istiod pods in this namespace, counted apart from the workloads.
    pub istiod: usize,
}

impl NamespaceTally {
    pub fn pods(&self) -> usize {
        self.mix.values().map(|c| c.pods).sum()
    }

    pub fn ready(&self) -> usize {
        self.mix.values().map(|c| c.ready).sum()
    }

    /// Workload pods with a sidecar (or a revision that says one was injected).
    pub fn injected(&self) -> impl Iterator<Item = (Option<&str>, Option<Version>, Count)> {
        self.mix
            .iter()
            .filter(|((rev, proxy), _)| rev.is_some() || proxy.is_some())
            .map(|((rev, proxy), c)| (rev.as_deref(), *proxy, *c))
    }

    fn is_empty(&self) -> bool {
        self.mix.is_empty() && self.istiod == 0
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodTally {
    pub namespaces: BTreeMap<String, NamespaceTally>,
    /// Keys of the istiod pods: few, and read whole by the mesh and the control-plane rows.
    pub istiod: BTreeSet<(String, String)>,
    /// Pods of any kind by the revision that injected them.
    pub served: BTreeMap<String, usize>,
}

impl PodTally {
    pub fn of<'a>(pods: impl IntoIterator<Item = &'a PodInfo>) -> PodTally {
        let mut tally = PodTally::default();
        for pod in pods {
            tally.add(pod);
        }
        tally
    }

    pub fn add(&mut self, pod: &PodInfo) {
        self.change(pod, true);
    }

    pub fn remove(&mut self, pod: &PodInfo) {
        self.change(pod, false);
    }

    pub fn namespace(&self, name: &str) -> Option<&NamespaceTally> {
        self.namespaces.get(name)
    }

    fn change(&mut self, pod: &PodInfo, add: bool) {
        if let Some(rev) = &pod.revision {
            if add {
                *self.served.entry(rev.clone()).or_default() += 1;
            } else if let Some(n) = self.served.get_mut(rev) {
                *n -= 1;
                if *n == 0 {
                    self.served.remove(rev);
                }
            }
        }
        if pod.istiod.is_some() {
            let key = (pod.namespace.clone(), pod.name.clone());
            if add {
                self.istiod.insert(key);
            } else {
                self.istiod.remove(&key);
            }
        }
        let ns = match self.namespaces.get_mut(&pod.namespace) {
            Some(ns) => ns,
            None if add => self.namespaces.entry(pod.namespace.clone()).or_default(),
            None => return,
        };
        if pod.istiod.is_some() {
            ns.istiod = if add { ns.istiod + 1 } else { ns.istiod - 1 };
        } else {
            let key = (pod.revision.clone(), pod.proxy);
            let count = ns.mix.entry(key.clone()).or_default();
            let ready = usize::from(pod.is_ready());
            if add {
                count.pods += 1;
                count.ready += ready;
            } else {
                count.pods -= 1;
                count.ready -= ready;
            }
            if count.pods == 0 {
                ns.mix.remove(&key);
            }
        }
        if ns.is_empty() {
            self.namespaces.remove(&pod.namespace);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::app::event::Event;
    use crate::app::state::{Mode, State};
    use crate::app::update::update;

    fn pod(ns: &str, name: &str, rev: Option<&str>, proxy: Option<&str>, ready: bool) -> PodInfo {
        PodInfo {
            namespace: ns.into(),
            name: name.into(),
            phase: "Running".into(),
            ready: u16::from(ready) + 1,
            containers: 2,
            restarts: 0,
            created: None,
            terminating: false,
            revision: rev.map(str::to_string),
            proxy: proxy.and_then(Version::parse),
            istiod: None,
            app: None,
            cpu_millis: 0,
            memory_mib: 0,
            owner: Default::default(),
        }
    }

    fn istiod(name: &str, rev: &str) -> PodInfo {
        PodInfo {
            istiod: Some((rev.into(), Version::parse("1.25.0"))),
            ..pod("istio-system", name, None, None, true)
        }
    }

    #[test]
    fn adding_replacing_and_deleting_pods_counts_like_a_fresh_count() {
        let mut pods = Collection::default();
        let mut tally = PodTally::default();
        let events = [
            Watch::Apply(pod("shop", "web-1", Some("1-24-0"), Some("1.24.0"), true)),
            Watch::Apply(pod("shop", "web-2", Some("1-24-0"), Some("1.24.0"), false)),
            Watch::Apply(pod("shop", "batch", None, None, true)),
            Watch::Apply(istiod("istiod-a", "1-25-0")),
            // Restarted onto the new revision, then ready.
            Watch::Apply(pod("shop", "web-2", Some("1-25-0"), Some("1.25.0"), false)),
            Watch::Apply(pod("shop", "web-2", Some("1-25-0"), Some("1.25.0"), true)),
            Watch::Delete(pod("shop", "web-1", None, None, true)),
            // Deleting what is not there changes nothing.
            Watch::Delete(pod("shop", "gone", Some("1-24-0"), None, true)),
        ];
        for e in events {
            apply(&mut pods, &mut tally, e);
        }
        assert_eq!(tally, PodTally::of(pods.values()));
        let shop = tally.namespace("shop").unwrap();
        assert_eq!((shop.pods(), shop.ready()), (2, 2));
        assert_eq!(
            shop.mix.keys().cloned().collect::<Vec<_>>(),
            [
                (None, None),
                (Some("1-25-0".into()), Version::parse("1.25.0"))
            ]
        );
        assert_eq!(tally.served, BTreeMap::from([("1-25-0".into(), 1)]));
        assert_eq!(tally.istiod.len(), 1);
        apply(
            &mut pods,
            &mut tally,
            Watch::Delete(istiod("istiod-a", "1-25-0")),
        );
        assert!(
            tally.namespace("istio-system").is_none(),
            "emptied namespaces go"
        );
        assert!(tally.istiod.is_empty());
    }

    #[test]
    fn a_relist_counts_again_only_when_complete() {
        let mut pods = Collection::default();
        let mut tally = PodTally::default();
        apply(
            &mut pods,
            &mut tally,
            Watch::Apply(pod("a", "1", Some("1-24-0"), None, true)),
        );
        apply(&mut pods, &mut tally, Watch::Init);
        apply(
            &mut pods,
            &mut tally,
            Watch::InitApply(pod("b", "1", Some("1-25-0"), None, true)),
        );
        assert!(tally.namespace("a").is_some(), "the old list still counts");
        apply(&mut pods, &mut tally, Watch::InitDone);
        assert!(tally.namespace("a").is_none());
        assert_eq!(tally.namespace("b").unwrap().pods(), 1);
        assert_eq!(tally, PodTally::of(pods.values()));
    }

    /// Random pod events through `update`, over a small world of names so pods are often
    /// replaced and deleted, relists included: after every event the kept counts equal a
    /// count from scratch.
    #[test]
    fn any_sequence_of_events_keeps_the_counts_exact() {
        let revisions = [None, Some("1-24-0"), Some("1-25-0"), Some("stable")];
        let proxies = [None, Some("1.24.0"), Some("1.25.0"), Some("1.22.4")];
        for seed in 0..20 {
            let mut rng = SmallRng::seed_from_u64(seed);
            let mut state = State::new("test", Mode::Driver, 10, chrono::Utc::now());
            for _ in 0..400 {
                let ns = ["a", "b", "c", "istio-system"][rng.random_range(0..4)];
                let name = format!("p{}", rng.random_range(0..6));
                let mut p = pod(
                    ns,
                    &name,
                    revisions[rng.random_range(0..revisions.len())],
                    proxies[rng.random_range(0..proxies.len())],
                    rng.random_bool(0.7),
                );
                p.terminating = rng.random_bool(0.1);
                if rng.random_bool(0.15) {
                    p.istiod = Some(("1-25-0".into(), None));
                }
                let event = match rng.random_range(0..10) {
                    0..=5 => Watch::Apply(p),
                    6 | 7 => Watch::Delete(p),
                    8 => Watch::InitApply(p),
                    _ if rng.random_bool(0.5) => Watch::Init,
                    _ => Watch::InitDone,
                };
                update(&mut state, Event::Pods(event), |_, _| 10);
                assert_eq!(
                    state.cluster.pod_tally,
                    PodTally::of(state.cluster.pods.values()),
                    "seed {seed}"
                );
            }
        }
    }
}
