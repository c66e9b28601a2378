//! The upgrade plan: which revision to leave and which to reach, the waves of namespaces in
//! order, the tags to move, how long to soak, and when to roll back.

use std::sync::Arc;
use std::time::Duration;

use crate::mesh::Cluster;
use crate::mesh::namespace_facts::{self, NamespaceFacts};
pub use crate::mesh::namespace_selector::NamespaceSelector;
use crate::mesh::resources::NamespaceInfo;

const MINUTE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq)]
pub struct Wave {
    pub name: String,
    pub selector: NamespaceSelector,
    /// How long the wave must run on the new revision before the next phase, counted from
    /// when its last namespace finished.
    pub soak: Duration,
    /// What this wave sets of the plan's pacing; the rest comes from the plan.
    pub pacing: PacingOverride,
}

/// How `M` moves a wave: how many namespaces at once, how long each bakes on the new
/// revision before the next starts, and how long its pods may take to get there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    pub concurrency: usize,
    pub bake: Duration,
    pub timeout: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            concurrency: 1,
            bake: 2 * MINUTE,
            timeout: 10 * MINUTE,
        }
    }
}

/// A wave's own pacing keys, each unset unless its `[[waves]]` table says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacingOverride {
    pub concurrency: Option<usize>,
    pub bake: Option<Duration>,
    pub timeout: Option<Duration>,
}

impl Pacing {
    pub fn with(self, o: &PacingOverride) -> Pacing {
        Pacing {
            concurrency: o.concurrency.unwrap_or(self.concurrency),
            bake: o.bake.unwrap_or(self.bake),
            timeout: o.timeout.unwrap_or(self.timeout),
        }
    }
}

/// When to roll back: the triggers the metrics gates evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Rise of p99 latency over the baseline, as a ratio: 0.5 is +50%.
    pub p99_latency_increase: f64,
    /// How long the rise must last to count.
    pub p99_latency_for: Duration,
    /// Share of 5xx responses: 0.01 is 1%.
    pub error_ratio: f64,
    pub error_ratio_for: Duration,
    /// More xDS rejections per minute from the new revision than this is a breach, at once
    /// (0: any rejection).
    pub xds_rejects: u64,
    /// More mTLS or certificate failures per minute in a namespace on the new revision than
    /// this is a breach, at once (0: any failure).
    pub mtls_errors: u64,
    /// p99 of the new revision's `pilot_proxy_convergence_time` above this many seconds ...
    pub convergence_p99_seconds: f64,
    /// ... for this long is a breach.
    pub convergence_p99_for: Duration,
    /// Share of 5xx in the requests from this cluster to another (or none left of a route that
    /// had them) ...
    pub cross_cluster_error_ratio: f64,
    /// ... for this long is a breach.
    pub cross_cluster_error_ratio_for: Duration,
    /// Revert the current wave without asking when a trigger fires.
    pub auto_rollback: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            p99_latency_increase: 0.5,
            p99_latency_for: 2 * MINUTE,
            error_ratio: 0.01,
            error_ratio_for: MINUTE,
            xds_rejects: 0,
            mtls_errors: 0,
            convergence_p99_seconds: 5.0,
            convergence_p99_for: MINUTE,
            cross_cluster_error_ratio: 0.01,
            cross_cluster_error_ratio_for: MINUTE,
            auto_rollback: false,
        }
    }
}

/// One `[[clusters]]` entry of a plan: a cluster of the fleet, by its kubeconfig context.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetCluster {
    pub context: String,
    /// None: told from the cluster (istiod of its own: primary).
    pub role: Option<crate::mesh::fleet::Role>,
    /// Its name on screen; the context when not given.
    pub name: Option<String>,
    /// Its Prometheus (http or https URL), else found in the cluster or scraped directly.
    pub prometheus: Option<reqwest::Url>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The revision being left.
    pub from: String,
    /// The revision being reached.
    pub to: String,
    pub waves: Vec<Wave>,
    /// Tags to point at `to`, in this order.
    pub tags: Vec<String>,
    /// Soak after the tags moved.
    pub tag_soak: Duration,
    /// How long the old control plane stays before it is decommissioned.
    pub keep_old: Duration,
    pub thresholds: Thresholds,
    /// How `M` paces a wave, unless the wave says otherwise.
    pub pacing: Pacing,
    /// `namespace/name` of the Prometheus service the metrics gates query.
    pub prometheus_service: Option<String>,
    /// True when derived from the cluster, false when read from a file.
    pub derived: bool,
}

/// A step of the upgrade, in order: the waves, moving the tags, a soak, decommissioning the
/// old control plane, done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Migrating the wave of this index in `Plan::waves`.
    Wave(usize),
    MoveTags,
    Soak,
    Decommission,
    Done,
}

pub const DEFAULT_TAG_SOAK: Duration = Duration::from_secs(30 * 60);
pub const DEFAULT_KEEP_OLD: Duration = Duration::from_secs(24 * 60 * 60);

impl Plan {
    /// Every phase, in order.
    pub fn phases(&self) -> Vec<Phase> {
        (0..self.waves.len())
            .map(Phase::Wave)
            .chain([
                Phase::MoveTags,
                Phase::Soak,
                Phase::Decommission,
                Phase::Done,
            ])
            .collect()
    }

    /// `wave 1: staging`, `move tags`, `soak`, `decommission 1-24-0`, `done`. Waves count
    /// from 1 for people.
    pub fn phase_name(&self, phase: Phase) -> String {
        match phase {
            Phase::Wave(i) => match self.waves.get(i) {
                Some(wave) => format!("wave {}: {}", i + 1, wave.name),
                None => format!("wave {}", i + 1),
            },
            Phase::MoveTags => "move tags".into(),
            Phase::Soak => "soak".into(),
            Phase::Decommission => format!("decommission {}", self.from),
            Phase::Done => "done".into(),
        }
    }

    /// The phase whose `phase_name` is `name`, e.g. as an upgrade record keeps it.
    pub fn phase_named(&self, name: &str) -> Option<Phase> {
        self.phases()
            .into_iter()
            .find(|p| self.phase_name(*p) == name)
    }

    /// The phase after `phase`; None after `Done`, or for a wave the plan does not have.
    pub fn next(&self, phase: Phase) -> Option<Phase> {
        let phases = self.phases();
        let i = phases.iter().position(|p| *p == phase)?;
        phases.get(i + 1).copied()
    }

    /// The pacing of a wave: its own keys over the plan's.
    pub fn wave_pacing(&self, wave: usize) -> Pacing {
        match self.waves.get(wave) {
            Some(w) => self.pacing.with(&w.pacing),
            None => self.pacing,
        }
    }

    /// The namespaces of a wave, in name order, among `namespaces` (the cockpit's
    /// NamespaceInfo list). A label selector only picks namespaces labelled for sidecar
    /// injection: ambient and uninjected namespaces have nothing to migrate.
    /// What every namespace's labels select, with this plan's waves.
    pub fn namespace_facts(&self, cluster: &Cluster) -> Arc<NamespaceFacts> {
        namespace_facts::of(cluster, self.waves.iter().map(|w| &w.selector))
    }

    pub fn wave_namespaces(&self, wave: usize, namespaces: &[&NamespaceInfo]) -> Vec<String> {
        let Some(wave) = self.waves.get(wave) else {
            return Vec::new();
        };
        wave.selector.select(namespaces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::namespace as ns;

    fn plan() -> Plan {
        let wave = |name: &str, selector| Wave {
            name: name.into(),
            selector,
            soak: 10 * MINUTE,
            pacing: PacingOverride::default(),
        };
        Plan {
            from: "1-24-0".into(),
            to: "1-25-0".into(),
            waves: vec![
                wave(
                    "staging",
                    NamespaceSelector::Labels("tier in (staging)".into()),
                ),
                wave(
                    "critical",
                    NamespaceSelector::Names(vec!["search".into(), "checkout".into()]),
                ),
            ],
            tags: vec!["stable".into(), "default".into()],
            tag_soak: DEFAULT_TAG_SOAK,
            keep_old: DEFAULT_KEEP_OLD,
            thresholds: Thresholds::default(),
            pacing: Pacing::default(),
            prometheus_service: None,
            derived: false,
        }
    }

    #[test]
    fn phases_run_through_the_waves_then_tags_soak_and_decommission() {
        let plan = plan();
        assert_eq!(
            plan.phases(),
            [
                Phase::Wave(0),
                Phase::Wave(1),
                Phase::MoveTags,
                Phase::Soak,
                Phase::Decommission,
                Phase::Done
            ]
        );
        let names: Vec<String> = plan.phases().iter().map(|p| plan.phase_name(*p)).collect();
        assert_eq!(
            names,
            [
                "wave 1: staging",
                "wave 2: critical",
                "move tags",
                "soak",
                "decommission 1-24-0",
                "done"
            ]
        );
        for phase in plan.phases() {
            assert_eq!(plan.phase_named(&plan.phase_name(phase)), Some(phase));
        }
        assert_eq!(plan.phase_named("wave 3: staging"), None);
        assert_eq!(plan.next(Phase::Wave(0)), Some(Phase::Wave(1)));
        assert_eq!(plan.next(Phase::Wave(1)), Some(Phase::MoveTags));
        assert_eq!(plan.next(Phase::Decommission), Some(Phase::Done));
        assert_eq!(plan.next(Phase::Done), None);
        assert_eq!(plan.next(Phase::Wave(7)), None);
        assert!(Phase::Wave(3) < Phase::MoveTags && Phase::Soak < Phase::Done);
    }

    #[test]
    fn a_plan_without_waves_starts_by_moving_tags() {
        let plan = Plan {
            waves: Vec::new(),
            ..plan()
        };
        assert_eq!(plan.phases()[0], Phase::MoveTags);
        assert_eq!(plan.phase_name(Phase::Wave(0)), "wave 1");
    }

    #[test]
    fn wave_namespaces_by_name_and_by_label() {
        let all = [
            ns(
                "checkout",
                &[("istio.io/rev", "stable"), ("tier", "critical")],
            ),
            ns(
                "edge",
                &[("istio.io/dataplane-mode", "ambient"), ("tier", "staging")],
            ),
            ns("plain", &[("tier", "staging")]),
            ns("search", &[("istio-injection", "enabled")]),
            ns(
                "staging-web",
                &[("istio.io/rev", "1-25-0"), ("tier", "staging")],
            ),
            ns(
                "staging-api",
                &[("istio-injection", "enabled"), ("tier", "staging")],
            ),
            ns(
                "staging-off",
                &[("istio-injection", "disabled"), ("tier", "staging")],
            ),
        ];
        let refs: Vec<&NamespaceInfo> = all.iter().collect();
        let plan = plan();
        // Ambient, unlabelled and disabled namespaces are not migrated by a selector.
        assert_eq!(
            plan.wave_namespaces(0, &refs),
            ["staging-api", "staging-web"]
        );
        // Listed names in name order, absent ones skipped.
        assert_eq!(plan.wave_namespaces(1, &refs), ["checkout", "search"]);
        assert_eq!(plan.wave_namespaces(1, &refs[..1]), ["checkout"]);
        assert!(plan.wave_namespaces(2, &refs).is_empty());
    }

    #[test]
    fn a_wave_paces_by_its_own_keys_over_the_plans() {
        let mut plan = plan();
        assert_eq!(plan.wave_pacing(0), Pacing::default());
        assert_eq!(
            (Pacing::default().concurrency, Pacing::default().bake),
            (1, 2 * MINUTE)
        );
        plan.pacing.bake = MINUTE;
        plan.waves[1].pacing.concurrency = Some(3);
        assert_eq!(plan.wave_pacing(0).bake, MINUTE);
        let second = plan.wave_pacing(1);
        assert_eq!(
            (second.concurrency, second.bake, second.timeout),
            (3, MINUTE, 10 * MINUTE)
        );
        assert_eq!(plan.wave_pacing(9), plan.pacing);
    }

    #[test]
    fn default_thresholds_are_the_playbooks() {
        let t = Thresholds::default();
        assert_eq!(t.p99_latency_increase, 0.5);
        assert_eq!(t.p99_latency_for, Duration::from_secs(120));
        assert_eq!((t.error_ratio, t.error_ratio_for), (0.01, MINUTE));
        assert_eq!((t.xds_rejects, t.mtls_errors), (0, 0));
        assert_eq!(t.convergence_p99_seconds, 5.0);
        assert!(!t.auto_rollback);
    }
}
