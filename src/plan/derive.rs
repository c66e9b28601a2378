//! The plan the cockpit proposes when no `--plan` file is given: the playbook's order
//! (staging, then non-critical, then critical namespaces, soaking between waves; then the
//! tags; then a day before the old control plane goes) applied to the live cluster.

use std::time::Duration;

use crate::mesh::injection::Selection;
use crate::mesh::records::UpgradeRecord;
use crate::mesh::rows::{NO_SIDECAR, NamespaceRow, namespace_row};
use crate::mesh::{Cluster, Mesh};

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

/// Why there is no derived plan, when there is none (the record's problem may follow).
pub const NOTHING_TO_UPGRADE: &str =
    "nothing to upgrade: every pod, namespace and tag is on the newest revision";

/// From the live state: from/to as the cluster's upgrade record names them when both
/// revisions still exist; otherwise from = the oldest revision still serving anything (pods,
/// namespace labels, tags) and to = the newest. None when there is nothing to upgrade. Waves
/// list the sidecar namespaces of each tier by name as they are now, those already moved
/// included (a wave's progress counts them); a tier without namespaces gets no wave. Ambient
/// and uninjected namespaces are not migrated.
pub fn derive(cluster: &Cluster) -> Option<Plan> {
    let mesh = Mesh::injectors(cluster);
    match usable_record(cluster, &mesh) {
        Some(record) => derive_between(cluster, &mesh, record.from.clone(), record.to.clone()),
        None => derive_live(cluster),
    }
}

/// The same from the live state alone, the upgrade record aside: what completes a plan file
/// that names its own revisions (the file wins over the record).
pub fn derive_live(cluster: &Cluster) -> Option<Plan> {
    let mesh = Mesh::injectors(cluster);
    let from = mesh.oldest_serving(cluster)?;
    let to = mesh.revisions.last()?.clone();
    derive_between(cluster, &mesh, from, to)
}

fn derive_between(cluster: &Cluster, mesh: &Mesh, from: String, to: String) -> Option<Plan> {
    if from == to {
        return None;
    }
    let mut tiered: Vec<Vec<String>> = vec![Vec::new(); TIERS.len() + 1];
    for ns in cluster.namespaces.values() {
        let row = namespace_row(cluster, mesh, ns);
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
    let mut tags: Vec<String> = cluster
        .webhooks
        .values()
        .filter_map(|hook| {
            let tag = hook.tag.as_ref()?;
            // Still on `from`, or already moved from it to `to` by a cockpit.
            let moved = hook.revision == to && hook.previous_revision.as_ref() == Some(&from);
            (hook.revision == from || moved).then(|| tag.clone())
        })
        .collect();
    tags.sort_by_key(|t| (tag_rank(t), t.clone()));
    tags.dedup();
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

/// The cluster's upgrade record, when it names two different revisions that both still exist.
pub fn usable_record<'a>(cluster: &'a Cluster, mesh: &Mesh) -> Option<&'a UpgradeRecord> {
    cluster.records.upgrade.as_ref().filter(|record| {
        record.from != record.to
            && mesh.revisions.contains(&record.from)
            && mesh.revisions.contains(&record.to)
    })
}

/// Why the cluster's upgrade record is not what the plan follows, when it is not: a revision
/// it names is gone, or the plan (from `--plan`) goes between other revisions.
pub fn record_problem(cluster: &Cluster, plan: Option<&Plan>) -> Option<String> {
    let record = cluster.records.upgrade.as_ref()?;
    let mesh = Mesh::injectors(cluster);
    let named = format!("upgrade record {} → {}", record.from, record.to);
    let gone: Vec<&str> = [&record.from, &record.to]
        .into_iter()
        .filter(|r| !mesh.revisions.contains(r))
        .map(String::as_str)
        .collect();
    if !gone.is_empty() {
        return Some(format!(
            "{named}: {} no longer exists, not used",
            gone.join(" and ")
        ));
    }
    let plan = plan?;
    (plan.from != record.from || plan.to != record.to)
        .then(|| format!("{named} is not the plan's: not used"))
}

/// Why there is no plan: nothing to upgrade, and what is wrong with the record if anything.
pub fn nothing_to_upgrade(cluster: &Cluster, plan: Option<&Plan>) -> String {
    match record_problem(cluster, plan) {
        Some(problem) => format!("{NOTHING_TO_UPGRADE}; {problem}"),
        None => NOTHING_TO_UPGRADE.into(),
    }
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
    use crate::app::event::{Event, Watch};
    use crate::fixture::{Cluster, demo};
    use crate::mesh::resources::{NamespaceInfo, WebhookInfo};
    use crate::plan::model::Phase;

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
            namespaces.iter().map(ToString::to_string).collect(),
            minutes,
        )
    }

    #[test]
    fn the_demo_upgrade_goes_from_the_oldest_to_the_newest_revision_tier_by_tier() {
        let plan = derive(&demo().state.cluster).expect("two revisions: something to upgrade");
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
        let plan = derive(&c.state.cluster).unwrap();
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
        assert_eq!(derive(&Cluster::new().state.cluster), None);
        let mut one = Cluster::new();
        one.revision("1-24-0")
            .namespace("shop", &[("istio-injection", "enabled")])
            .tag("default", "1-24-0")
            .pod("shop", "web-1", "1-24-0", "1.24.0", true);
        assert_eq!(derive(&one.state.cluster), None);
        // Everything already on the newest revision: old and new are the same.
        let mut done = Cluster::new();
        done.revision("1-24-0")
            .revision("1-25-0")
            .namespace("shop", &[("istio.io/rev", "1-25-0")])
            .pod("shop", "web-1", "1-25-0", "1.25.0", true);
        assert_eq!(derive(&done.state.cluster), None);
    }

    fn apply(c: &mut Cluster, event: crate::app::event::Event) {
        crate::app::update::update(&mut c.state, event, |_, _| 20);
    }

    fn record(c: &mut Cluster, from: &str, to: &str, phase: &str) {
        let record = UpgradeRecord {
            from: from.into(),
            to: to.into(),
            phase: phase.into(),
            ..UpgradeRecord::default()
        };
        apply(
            c,
            Event::Records(Watch::Apply(crate::app::event::Record::Upgrade(record))),
        );
    }

    fn moved_tag(c: &mut Cluster, tag: &str, revision: &str, previous: &str) {
        apply(
            c,
            Event::Webhooks(Watch::Apply(WebhookInfo {
                name: format!("istio-revision-tag-{tag}"),
                revision: revision.into(),
                tag: Some(tag.into()),
                previous_revision: Some(previous.into()),
            })),
        );
    }

    /// Most pods already on 1-25-0: staging and non-critical moved, critical not yet.
    fn mostly_moved() -> Cluster {
        let mut c = Cluster::new();
        c.revision("1-24-0")
            .revision("1-25-0")
            .tag("default", "1-24-0")
            .tag("stable", "1-24-0")
            .namespace("web", &[("istio.io/rev", "1-25-0"), ("tier", "staging")])
            .namespace(
                "search",
                &[("istio.io/rev", "1-25-0"), ("tier", "non-critical")],
            )
            .namespace(
                "checkout",
                &[("istio.io/rev", "stable"), ("tier", "critical")],
            )
            .pod("web", "web-1", "1-25-0", "1.25.0", true)
            .pod("web", "web-2", "1-25-0", "1.25.0", true)
            .pod("search", "search-1", "1-25-0", "1.25.0", true)
            .pod("search", "search-2", "1-25-0", "1.25.0", true)
            .pod("checkout", "cart-1", "1-24-0", "1.24.0", true);
        c
    }

    #[test]
    fn an_upgrade_mostly_done_still_goes_from_the_oldest_revision_serving_anything() {
        let mut c = mostly_moved();
        let plan = derive(&c.state.cluster).expect("checkout and the tags are still on 1-24-0");
        assert_eq!((plan.from.as_str(), plan.to.as_str()), ("1-24-0", "1-25-0"));
        // The namespaces already moved stay in their waves: the waves' progress counts them.
        assert_eq!(
            names(&plan),
            [
                wave("staging", &["web"], 10),
                wave("non-critical", &["search"], 30),
                wave("critical", &["checkout"], 60),
            ]
        );
        assert_eq!(plan.tags, ["stable", "default"]);

        // Every namespace moved and `stable` moved by a cockpit: only `default` serves 1-24-0,
        // and the moved tag stays in the plan.
        apply(
            &mut c,
            Event::Namespaces(Watch::Apply(NamespaceInfo {
                name: "checkout".into(),
                labels: [("istio.io/rev", "1-25-0"), ("tier", "critical")]
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .into(),
                annotations: Default::default(),
                created: None,
            })),
        );
        c.pod("checkout", "cart-1", "1-25-0", "1.25.0", true);
        moved_tag(&mut c, "stable", "1-25-0", "1-24-0");
        let plan = derive(&c.state.cluster).expect("the default tag is still on 1-24-0");
        assert_eq!((plan.from.as_str(), plan.to.as_str()), ("1-24-0", "1-25-0"));
        assert_eq!(plan.tags, ["stable", "default"]);

        moved_tag(&mut c, "default", "1-25-0", "1-24-0");
        assert_eq!(
            derive(&c.state.cluster),
            None,
            "nothing serves 1-24-0 any more"
        );
        assert_eq!(
            nothing_to_upgrade(&c.state.cluster, None),
            NOTHING_TO_UPGRADE,
            "no record: nothing to add"
        );
    }

    #[test]
    fn the_upgrade_record_names_from_and_to_while_both_revisions_exist() {
        let mut c = mostly_moved();
        // A straggler on an older revision: the live state alone would start from it.
        c.revision("1-23-0")
            .namespace("legacy", &[("istio.io/rev", "1-23-0")]);
        assert_eq!(derive(&c.state.cluster).unwrap().from, "1-23-0");
        record(&mut c, "1-24-0", "1-25-0", "wave 2: non-critical");
        let plan = derive(&c.state.cluster).unwrap();
        assert_eq!((plan.from.as_str(), plan.to.as_str()), ("1-24-0", "1-25-0"));
        assert_eq!(
            record_problem(&c.state.cluster, c.state.drive.plan.as_ref()),
            None
        );
        // A plan file naming its own revisions is completed from the live state alone.
        assert_eq!(derive_live(&c.state.cluster).unwrap().from, "1-23-0");

        // A record naming a revision that is gone is not followed, and says why.
        record(&mut c, "1-22-0", "1-25-0", "soak");
        assert_eq!(derive(&c.state.cluster).unwrap().from, "1-23-0");
        assert_eq!(
            record_problem(&c.state.cluster, c.state.drive.plan.as_ref()).as_deref(),
            Some("upgrade record 1-22-0 → 1-25-0: 1-22-0 no longer exists, not used")
        );
    }

    #[test]
    fn a_plan_file_between_other_revisions_shows_the_record_as_a_problem() {
        let mut c = mostly_moved();
        record(&mut c, "1-24-0", "1-25-0", "wave 2: non-critical");
        let mut plan = derive(&c.state.cluster).unwrap();
        plan.from = "1-23-0".into();
        plan.derived = false;
        c.state.drive.plan = Some(plan);
        assert_eq!(
            record_problem(&c.state.cluster, c.state.drive.plan.as_ref()).as_deref(),
            Some("upgrade record 1-24-0 → 1-25-0 is not the plan's: not used")
        );
        assert!(
            !crate::app::plan_flow::derived_plan_outdated(&c.state),
            "a plan from a file is never derived again"
        );
    }

    #[test]
    fn a_record_seen_after_the_plan_was_derived_replaces_it() {
        let mut c = mostly_moved();
        c.revision("1-23-0")
            .namespace("legacy", &[("istio.io/rev", "1-23-0")]);
        for event in [
            Event::Namespaces(Watch::InitDone),
            Event::Pods(Watch::InitDone),
            Event::Webhooks(Watch::InitDone),
        ] {
            apply(&mut c, event);
        }
        assert_eq!(c.state.drive.plan.as_ref().unwrap().from, "1-23-0");
        record(&mut c, "1-24-0", "1-25-0", "wave 3: critical");
        let plan = c
            .state
            .drive
            .plan
            .clone()
            .expect("derived again from the record");
        assert_eq!((plan.from.as_str(), plan.to.as_str()), ("1-24-0", "1-25-0"));
        assert_eq!(
            crate::app::plan_flow::current_phase(&c.state, &plan),
            Phase::Wave(2)
        );
    }
}
