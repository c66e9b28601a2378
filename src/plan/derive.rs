//! The plan the cockpit proposes when no `--plan` file is given: the playbook's order
//! (staging, then non-critical, then critical namespaces, soaking between waves; then the
//! tags; then a day before the old control plane goes) applied to the live cluster.

use std::time::Duration;

use crate::app::injection::Selection;
use crate::app::state::State;
use crate::app::view::{Mesh, NO_SIDECAR, NamespaceRow, namespace_row};

use super::model::{DEFAULT_KEEP_OLD, DEFAULT_TAG_SOAK, NamespaceSelector, Plan, Thresholds, Wave};

const MINUTE: u64 = 60;

/// The waves by criticality tier, in the order they run, with their soaks. A tier value not
/// listed here counts as untiered: the namespace still moves, in the last wave.
const TIERS: [(&str, &[&str], u64); 3] = [
    ("staging", &["staging"], 10 * MINUTE),
    ("non-critical", &["internal", "non-critical"], 30 * MINUTE),
    ("critical", &["critical"], 60 * MINUTE),
];
const UNTIERED: (&str, u64) = ("untiered", 30 * MINUTE);

/// From the live state: from = the revision serving most pods, to = the newest revision;
/// None when there is nothing to upgrade. Waves list the sidecar namespaces of each tier by
/// name as they are now; a tier without namespaces gets no wave. Ambient and uninjected
/// namespaces are not migrated.
pub fn derive(state: &State) -> Option<Plan> {
    let mesh = Mesh::of(state);
    let from = mesh.old.clone()?;
    let to = mesh.new.clone()?;
    if from == to {
        return None;
    }
    let mut tiered: Vec<Vec<String>> = vec![Vec::new(); TIERS.len() + 1];
    for ns in state.namespaces.values() {
        let row = namespace_row(state, &mesh, ns);
        if !has_sidecars(&row) {
            continue;
        }
        let tier = ns.tier().map(str::to_ascii_lowercase);
        let index = TIERS
            .iter()
            .position(|(_, values, _)| tier.as_deref().is_some_and(|t| values.contains(&t)))
            .unwrap_or(TIERS.len());
        tiered[index].push(ns.name.clone());
    }
    let soaks = TIERS
        .iter()
        .map(|(name, _, soak)| (*name, *soak))
        .chain([UNTIERED]);
    let waves = soaks
        .zip(tiered)
        .filter(|(_, names)| !names.is_empty())
        .map(|((name, soak), names)| Wave {
            name: name.to_string(),
            selector: NamespaceSelector::Names(names),
            soak: Duration::from_secs(soak),
            pacing: Default::default(),
        })
        .collect();
    let mut tags: Vec<String> = mesh
        .tags_of(&from)
        .into_iter()
        .map(str::to_string)
        .collect();
    tags.sort_by_key(|t| (tag_rank(t), t.clone()));
    Some(Plan {
        from,
        to,
        waves,
        tags,
        tag_soak: DEFAULT_TAG_SOAK,
        keep_old: DEFAULT_KEEP_OLD,
        thresholds: Thresholds::default(),
        pacing: Default::default(),
        prometheus_service: None,
        derived: true,
    })
}

/// Whether the namespace is in the sidecar mesh: its labels select a revision, or it has
/// injected pods (labels removed by hand still leave pods to move).
fn has_sidecars(row: &NamespaceRow) -> bool {
    if row.resolution.selection == Selection::Ambient {
        return false;
    }
    row.resolution.revision.is_some() || row.by_revision.iter().any(|(rev, _)| rev != NO_SIDECAR)
}

/// Tags move from the narrowest to the widest: `stable`-like tags first, then the others,
/// `default` last, because it also serves every `istio-injection=enabled` namespace.
fn tag_rank(tag: &str) -> u8 {
    if tag == "default" {
        2
    } else if tag.contains("stable") {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::model::Phase;
    use crate::plan::testing::{Cluster, demo};

    fn names(plan: &Plan) -> Vec<(String, Vec<String>, u64)> {
        plan.waves
            .iter()
            .map(|w| match &w.selector {
                NamespaceSelector::Names(n) => (w.name.clone(), n.clone(), w.soak.as_secs() / 60),
                NamespaceSelector::Labels(l) => panic!("derived waves list names, got {l}"),
            })
            .collect()
    }

    fn wave(name: &str, namespaces: &[&str], minutes: u64) -> (String, Vec<String>, u64) {
        (
            name.into(),
            namespaces.iter().map(|n| n.to_string()).collect(),
            minutes,
        )
    }

    #[test]
    fn the_demo_upgrade_goes_from_the_busiest_to_the_newest_revision_tier_by_tier() {
        let plan = derive(&demo().state).expect("two revisions: something to upgrade");
        assert_eq!((plan.from.as_str(), plan.to.as_str()), ("1-24-0", "1-25-0"));
        // Ambient (edge-ambient), uninjected (legacy-batch) and istio-system stay out; the
        // half-migrated staging-web is in, and `internal` counts as non-critical.
        assert_eq!(
            names(&plan),
            [
                wave("staging", &["staging-web"], 10),
                wave("non-critical", &["notifications", "search"], 30),
                wave("critical", &["checkout"], 60),
            ]
        );
        assert_eq!(plan.tags, ["stable", "default"]);
        assert_eq!(plan.tag_soak, Duration::from_secs(30 * 60));
        assert_eq!(plan.keep_old, Duration::from_secs(24 * 3600));
        assert_eq!(plan.thresholds, Thresholds::default());
        assert!(plan.derived && plan.prometheus_service.is_none());
        assert_eq!(plan.phase_name(Phase::Wave(2)), "wave 3: critical");
        assert_eq!(plan.phase_name(Phase::Decommission), "decommission 1-24-0");
    }

    #[test]
    fn untiered_namespaces_go_last_and_empty_tiers_get_no_wave() {
        let mut c = Cluster::new();
        c.revision("1-24-0")
            .revision("1-25-0")
            .tag("default", "1-24-0")
            .tag("canary", "1-24-0")
            .tag("prod-stable", "1-24-0")
            .tag("next", "1-25-0")
            .namespace("zeta", &[("istio-injection", "enabled")])
            .namespace("alpha", &[("istio.io/rev", "1-24-0"), ("tier", "gold")])
            .namespace(
                "billing",
                &[("istio.io/rev", "default"), ("tier", "Critical")],
            )
            // Labels removed by hand, pods still injected: it must still move.
            .namespace("orphan", &[])
            .namespace(
                "off",
                &[("istio-injection", "disabled"), ("tier", "staging")],
            )
            .pod("orphan", "o-1", "1-24-0", "1.24.0", true)
            .pod("zeta", "z-1", "1-24-0", "1.24.0", true);
        let plan = derive(&c.state).unwrap();
        assert_eq!(
            names(&plan),
            [
                wave("critical", &["billing"], 60),
                wave("untiered", &["alpha", "orphan", "zeta"], 30),
            ]
        );
        // Only tags on the old revision move; `stable`-like first, `default` last.
        assert_eq!(plan.tags, ["prod-stable", "canary", "default"]);
    }

    #[test]
    fn nothing_to_upgrade_gives_no_plan() {
        assert_eq!(derive(&Cluster::new().state), None);
        let mut one = Cluster::new();
        one.revision("1-24-0")
            .namespace("shop", &[("istio-injection", "enabled")])
            .tag("default", "1-24-0")
            .pod("shop", "web-1", "1-24-0", "1.24.0", true);
        assert_eq!(derive(&one.state), None);
        // Everything already on the newest revision: old and new are the same.
        let mut done = Cluster::new();
        done.revision("1-24-0")
            .revision("1-25-0")
            .namespace("shop", &[("istio.io/rev", "1-25-0")])
            .pod("shop", "web-1", "1-25-0", "1.25.0", true);
        assert_eq!(derive(&done.state), None);
    }
}
