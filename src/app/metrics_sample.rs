//! Which sidecars to scrape when there is no Prometheus: a small sample where the upgrade is
//! happening. The current wave's namespaces first, then namespaces on the move or labelled
//! for the plan's new revision, then the namespace on screen; in each, a few ready pods per
//! revision, always the first by name, so the same pods are scraped round after round and
//! their counters can be turned into rates.
//!
//! Room the upgrade leaves goes to every other injected namespace in turn (`spare`), a couple
//! at a time for three reads each, so that a namespace moved outside the cockpit (kubectl, a
//! GitOps controller) was seen before its move and has a baseline.
//!
//! It reads pods only through `pods_in` for the namespaces it picks: with 50,000 pods the
//! choice must not walk them all.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::plan_flow::current_phase;
use super::state::State;
use crate::mesh::pod::PodInfo;
pub use crate::metrics::data_plane::{SCRAPE_EVERY, Sample, SampleTarget};
use crate::plan::model::{Phase, Plan};

/// Pods sampled per namespace and revision.
pub const PODS_PER_REVISION: usize = 3;
/// Namespaces sampled at most.
pub const MAX_NAMESPACES: usize = 16;
/// Pods sampled at most, in all.
pub const MAX_PODS: usize = 48;

/// How much a cluster samples, and how often its pages are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub pods: usize,
    pub every: Duration,
}

/// A cluster alone, and in a fleet the one on screen or moving.
pub const FULL: Budget = Budget {
    pods: MAX_PODS,
    every: SCRAPE_EVERY,
};
/// A cluster of a fleet neither on screen nor moving: enough to keep its triggers and its
/// traffic to the other clusters known.
pub const QUIET: Budget = Budget {
    pods: 12,
    every: Duration::from_secs(15),
};

/// Pods the spare room gives to other namespaces, at most.
pub const SPARE_PODS: usize = 2 * PODS_PER_REVISION;
/// Reads each namespace gets while it has the spare room: the first only starts its counters.
const SPARE_READS: u32 = 3;

/// What to scrape within `budget`.
pub fn sample(state: &State, budget: Budget) -> Sample {
    let mut targets = targets(state, budget.pods);
    // Only the full sample has room to spare: a quiet cluster's few reads stay on its wave,
    // and its namespaces moved by others are judged against their old pods mid-move.
    if budget == FULL {
        let room = budget.pods.min(MAX_PODS).saturating_sub(targets.len());
        spare(state, budget, room.min(SPARE_PODS), &mut targets);
    }
    Sample {
        targets,
        every: budget.every,
    }
}

/// Adds, within `room`, the injected namespaces not sampled yet whose turn it is: the
/// namespaces the labels inject, in name order, a window of `SPARE_READS` reads each.
fn spare(state: &State, budget: Budget, room: usize, out: &mut Vec<SampleTarget>) {
    let per_window = room / PODS_PER_REVISION;
    if per_window == 0 {
        return;
    }
    let facts = state.namespace_facts();
    let sampled: BTreeSet<&str> = out.iter().map(|t| t.namespace.as_str()).collect();
    let others: Vec<&String> = facts
        .selects
        .keys()
        .filter(|ns| !sampled.contains(ns.as_str()))
        .collect();
    if others.is_empty() {
        return;
    }
    let window_seconds = (budget.every * SPARE_READS).as_secs().max(1);
    let window = u64::try_from(state.session.now.timestamp()).unwrap_or(0) / window_seconds;
    let start = usize::try_from(window)
        .unwrap_or(0)
        .wrapping_mul(per_window)
        % others.len();
    let mut left = room;
    for ns in others
        .iter()
        .cycle()
        .skip(start)
        .take(per_window.min(others.len()))
    {
        let before = out.len();
        sample_namespace(state, ns, left.min(PODS_PER_REVISION), out);
        left -= out.len() - before;
    }
}

/// The sidecars to scrape this round, in priority order, at most `room`.
pub fn targets(state: &State, room: usize) -> Vec<SampleTarget> {
    let room = room.min(MAX_PODS);
    let mut out = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut namespaces = 0;
    for ns in candidates(state) {
        if namespaces == MAX_NAMESPACES || out.len() >= room {
            break;
        }
        let Some(ns) = state.cluster.namespaces.get(&ns).map(|n| n.name.as_str()) else {
            continue;
        };
        if !seen.insert(ns) {
            continue;
        }
        let before = out.len();
        sample_namespace(state, ns, room - out.len(), &mut out);
        if out.len() > before {
            namespaces += 1;
        }
    }
    out
}

/// Up to `room` pods of one namespace: the first `PODS_PER_REVISION` ready injected pods of
/// each revision, by name.
fn sample_namespace(state: &State, ns: &str, room: usize, out: &mut Vec<SampleTarget>) {
    let mut taken: BTreeMap<&str, usize> = BTreeMap::new();
    let mut left = room;
    for pod in state.cluster.pods_in(ns).filter(|p| scrapable(p)) {
        if left == 0 {
            return;
        }
        let Some(revision) = pod.revision.as_deref() else {
            continue;
        };
        let n = taken.entry(revision).or_default();
        if *n == PODS_PER_REVISION {
            continue;
        }
        *n += 1;
        left -= 1;
        out.push(SampleTarget {
            namespace: ns.to_string(),
            pod: pod.name.clone(),
            revision: revision.to_string(),
        });
    }
}

/// A pod whose sidecar serves its page: injected, running and ready.
fn scrapable(pod: &PodInfo) -> bool {
    pod.is_injected() && pod.phase == "Running" && pod.is_ready()
}

/// Namespace names in priority order, possibly repeated and possibly gone.
fn candidates(state: &State) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(plan) = &state.drive.plan {
        if let Phase::Wave(i) = current_phase(state, plan) {
            names.extend_from_slice(state.namespace_facts().wave(i));
        }
        names.extend(on_target(state, plan));
    }
    names.extend(state.ui.selected_namespace.clone());
    names
}

/// Namespaces likely to have pods on the plan's `to` revision, told from per-namespace data
/// rather than from every pod: those being migrated or reverted right now, then those whose
/// labels select `to` (directly or through a tag), in name order.
fn on_target(state: &State, plan: &Plan) -> Vec<String> {
    let facts = state.namespace_facts();
    let moving = state.drive.activity.keys().cloned();
    let labelled = facts.selecting(&plan.to).cloned();
    moving.chain(labelled).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::activity::Activity;
    use crate::fixture::Cluster;
    use crate::mesh::records::UpgradeRecord;
    use crate::plan::model::{NamespaceSelector, Thresholds, Wave};

    fn plan(waves: &[&[&str]]) -> Plan {
        Plan {
            from: "1-24-0".into(),
            to: "1-25-0".into(),
            waves: waves
                .iter()
                .enumerate()
                .map(|(i, names)| Wave {
                    name: format!("w{}", i + 1),
                    selector: NamespaceSelector::Names(
                        names.iter().map(ToString::to_string).collect(),
                    ),
                    soak: Duration::from_secs(60),
                    pacing: Default::default(),
                })
                .collect(),
            tags: vec!["default".into()],
            tag_soak: Duration::from_secs(60),
            keep_old: Duration::from_secs(60),
            thresholds: Thresholds::default(),
            pacing: Default::default(),
            prometheus_service: None,
            derived: false,
        }
    }

    /// `n` ready pods `<prefix>-<i>` of `revision` in `ns`.
    fn pods(c: &mut Cluster, ns: &str, prefix: &str, revision: &str, n: usize) {
        let version = revision.replace('-', ".");
        for i in 0..n {
            c.pod(ns, &format!("{prefix}-{i:02}"), revision, &version, true);
        }
    }

    fn cluster() -> Cluster {
        let mut c = Cluster::new();
        c.revision("1-24-0")
            .revision("1-25-0")
            .tag("default", "1-24-0")
            .tag("canary", "1-25-0");
        c
    }

    fn namespaces(targets: &[SampleTarget]) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in targets {
            if out.last() != Some(&t.namespace.as_str()) {
                out.push(&t.namespace);
            }
        }
        out
    }

    #[test]
    fn three_ready_injected_pods_per_revision_by_name() {
        let mut c = cluster();
        c.namespace("shop", &[("istio-injection", "enabled")]);
        pods(&mut c, "shop", "web", "1-24-0", 5);
        pods(&mut c, "shop", "api", "1-25-0", 2);
        c.pod("shop", "aaa-not-ready", "1-24-0", "1.24.0", false)
            .bare_pod("shop", "aaa-bare");
        c.state.ui.selected_namespace = Some("shop".into());
        let got = targets(&c.state, MAX_PODS);
        let names: Vec<(&str, &str)> = got
            .iter()
            .map(|t| (t.pod.as_str(), t.revision.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("api-00", "1-25-0"),
                ("api-01", "1-25-0"),
                ("web-00", "1-24-0"),
                ("web-01", "1-24-0"),
                ("web-02", "1-24-0"),
            ]
        );
        // Stable: the same pods again; a pod gone is replaced by the next by name.
        assert_eq!(targets(&c.state, MAX_PODS), got);
        c.remove_pod("shop", "web-01");
        let again: Vec<String> = targets(&c.state, MAX_PODS)
            .into_iter()
            .map(|t| t.pod)
            .collect();
        assert_eq!(again, ["api-00", "api-01", "web-00", "web-02", "web-03"]);
    }

    #[test]
    fn the_wave_comes_first_then_namespaces_on_the_new_revision_then_the_selection() {
        let mut c = cluster();
        for ns in ["a-wave", "b-wave"] {
            c.namespace(ns, &[("istio-injection", "enabled")]);
            pods(&mut c, ns, "p", "1-24-0", 1);
        }
        c.namespace("c-canary", &[("istio.io/rev", "canary")])
            .namespace("d-direct", &[("istio.io/rev", "1-25-0")])
            .namespace("e-moving", &[("istio-injection", "enabled")])
            .namespace("f-selected", &[("istio-injection", "enabled")])
            .namespace("g-unrelated", &[("istio-injection", "enabled")]);
        for ns in [
            "c-canary",
            "d-direct",
            "e-moving",
            "f-selected",
            "g-unrelated",
        ] {
            pods(&mut c, ns, "p", "1-25-0", 1);
        }
        let mut s = c.state.clone();
        s.drive.plan = Some(plan(&[&["g-unrelated"], &["b-wave", "a-wave"]]));
        s.cluster.records.upgrade = Some(UpgradeRecord {
            from: "1-24-0".into(),
            to: "1-25-0".into(),
            phase: "wave 2: w2".into(),
            ..Default::default()
        });
        s.drive
            .activity
            .insert("e-moving".into(), Activity::towards("1-24-0", true));
        s.ui.selected_namespace = Some("f-selected".into());
        assert_eq!(
            namespaces(&targets(&s, MAX_PODS)),
            [
                "a-wave",
                "b-wave",
                "e-moving",
                "c-canary",
                "d-direct",
                "f-selected"
            ]
        );
        // Without a recorded phase the first wave is current.
        s.cluster.records.upgrade = None;
        assert_eq!(namespaces(&targets(&s, MAX_PODS))[0], "g-unrelated");
        // Without a plan only the selected namespace is sampled.
        s.drive.plan = None;
        assert_eq!(namespaces(&targets(&s, MAX_PODS)), ["f-selected"]);
        s.ui.selected_namespace = None;
        assert!(targets(&s, MAX_PODS).is_empty());
    }

    #[test]
    fn bounded_in_namespaces_and_pods() {
        let mut c = cluster();
        // 30 namespaces on the new revision, one pod each: 16 namespaces.
        for i in 0..30 {
            let ns = format!("ns-{i:02}");
            c.namespace(&ns, &[("istio.io/rev", "1-25-0")]);
            pods(&mut c, &ns, "p", "1-25-0", 1);
        }
        // An empty namespace does not use up a place.
        c.namespace("ns-00-empty", &[("istio.io/rev", "1-25-0")]);
        let mut s = c.state.clone();
        s.drive.plan = Some(plan(&[&["nowhere"]]));
        let got = targets(&s, MAX_PODS);
        assert_eq!(got.len(), MAX_NAMESPACES);
        assert_eq!(namespaces(&got)[..2], ["ns-00", "ns-01"]);
        assert_eq!(namespaces(&got).last(), Some(&"ns-15"));

        // 20 namespaces with 10 pods on each of two revisions: 48 pods, 8 namespaces.
        let mut c = cluster();
        for i in 0..20 {
            let ns = format!("big-{i:02}");
            c.namespace(&ns, &[("istio.io/rev", "1-25-0")]);
            pods(&mut c, &ns, "old", "1-24-0", 10);
            pods(&mut c, &ns, "new", "1-25-0", 10);
        }
        let mut s = c.state.clone();
        s.drive.plan = Some(plan(&[&["nowhere"]]));
        let got = targets(&s, MAX_PODS);
        assert_eq!(got.len(), MAX_PODS);
        assert_eq!(namespaces(&got).len(), 8);
        let mut per: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for t in &got {
            *per.entry((&t.namespace, &t.revision)).or_default() += 1;
        }
        assert!(per.values().all(|n| *n == PODS_PER_REVISION), "{per:?}");

        // A smaller room takes the same pods in the same order, fewer of them.
        let quiet = targets(&s, QUIET.pods);
        assert_eq!(quiet[..], got[..QUIET.pods]);
        assert_eq!(namespaces(&quiet), ["big-00", "big-01"]);
    }

    #[test]
    fn spare_room_visits_every_other_injected_namespace_in_turn() {
        let mut c = cluster();
        c.namespace("a-wave", &[("istio-injection", "enabled")]);
        pods(&mut c, "a-wave", "p", "1-24-0", 3);
        for i in 0..5 {
            let ns = format!("other-{i}");
            c.namespace(&ns, &[("istio-injection", "enabled")]);
            pods(&mut c, &ns, "p", "1-24-0", 4);
        }
        c.namespace("no-mesh", &[]);
        pods(&mut c, "no-mesh", "p", "1-24-0", 2);
        let mut s = c.state.clone();
        s.drive.plan = Some(plan(&[&["a-wave"]]));
        // At the start of a window of both budgets.
        let start =
            s.session.now - chrono::Duration::seconds(s.session.now.timestamp().rem_euclid(45));
        let spare = |s: &State| -> Vec<String> {
            let got = sample(s, FULL).targets;
            assert_eq!(namespaces(&got[..3]), ["a-wave"], "the wave comes first");
            namespaces(&got[3..])
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        let mut seen = BTreeSet::new();
        let mut windows = Vec::new();
        for w in 0..3 {
            s.session.now = start + chrono::Duration::seconds(15 * w);
            let now = spare(&s);
            assert_eq!(now.len(), 2, "two namespaces at a time: {now:?}");
            // The same for the whole window: the same pods read three times.
            s.session.now += chrono::Duration::seconds(4);
            assert_eq!(spare(&s), now);
            seen.extend(now.clone());
            windows.push(now);
        }
        assert_ne!(windows[0], windows[1]);
        let all: BTreeSet<String> = (0..5).map(|i| format!("other-{i}")).collect();
        assert_eq!(
            seen, all,
            "every injected namespace, not no-mesh, within three windows"
        );
        let got = sample(&s, FULL).targets;
        assert_eq!(got.len(), 3 + SPARE_PODS);
        // A quiet cluster of a fleet keeps its few reads for its wave.
        assert_eq!(sample(&s, QUIET).targets.len(), 3);
    }
}
