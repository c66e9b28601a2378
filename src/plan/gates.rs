//! The gates of each phase: what must hold, read from the live state, before the upgrade may
//! leave it. Metric gates (latency, errors, convergence) join these with the metrics work.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::mesh::Cluster;
use crate::mesh::Mesh;
use crate::mesh::namespace_facts::NamespaceFacts;
use crate::mesh::sorted_join;
use crate::metrics::reading::Reading;
use crate::plan::triggers::Finding;

use super::duration;
use super::model::{NamespaceSelector, Phase, Plan};

#[derive(Debug, Clone, PartialEq)]
pub enum GateStatus {
    Pass,
    /// Known not to hold; the text says what is missing.
    Fail(String),
    /// Cannot be told yet; the text says why. Blocks like a failure.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub name: String,
    pub status: GateStatus,
}

impl fmt::Display for Gate {
    /// `soak 30m: 12m of 30m`, or just the name when it passes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.status {
            GateStatus::Pass => write!(f, "{}", self.name),
            GateStatus::Fail(why) => write!(f, "{}: {why}", self.name),
            GateStatus::Unknown(why) => write!(f, "{}: unknown, {why}", self.name),
        }
    }
}

pub struct GateInput<'a> {
    pub cluster: &'a Cluster,
    /// The newest round of metrics, if any.
    pub metrics: Option<&'a Reading>,
    /// The rollback triggers as last judged.
    pub findings: &'a [Finding],
    pub plan: &'a Plan,
    pub phase: Phase,
    /// When the current phase began (from the cluster's upgrade record).
    pub started: Option<DateTime<Utc>>,
    /// For a wave: when its last namespace finished (from the same record).
    pub finished: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// How many namespaces or pods a failing gate names before it only counts the rest.
const NAMED: usize = 3;

/// The gates that must pass to leave `input.phase`, in the order the phase bar shows them.
pub fn evaluate(input: &GateInput<'_>) -> Vec<Gate> {
    let plan = input.plan;
    let mesh = Mesh::of(input.cluster, Some((&plan.from, &plan.to)));
    match input.phase {
        Phase::Wave(i) => {
            let Some(wave) = plan.waves.get(i) else {
                return vec![gate(
                    "phase",
                    GateStatus::Fail(format!("the plan has no wave {}", i + 1)),
                )];
            };
            let facts = plan.namespace_facts(input.cluster);
            let names = facts.wave(i);
            let empty = match &wave.selector {
                NamespaceSelector::Names(_) => "none of its namespaces exists",
                NamespaceSelector::Labels(_) => "no namespace labelled for sidecars matches",
            };
            let on = if names.is_empty() {
                GateStatus::Fail(empty.into())
            } else {
                namespaces_on(input.cluster, &facts, names, &plan.to)
            };
            let soaked = wave_soak(wave.soak, input, &on);
            vec![
                gate(format!("namespaces on {}", plan.to), on),
                soaked,
                no_nacks(input),
                gate("no skew", no_skew(input.cluster, &mesh, names)),
                triggers(input),
            ]
        }
        Phase::MoveTags => vec![
            gate(format!("tags on {}", plan.to), tags_on(plan, &mesh)),
            triggers(input),
        ],
        Phase::Soak => vec![soak(plan.tag_soak, input), triggers(input)],
        Phase::Decommission => vec![
            gate(
                format!("nothing on {}", plan.from),
                nothing_on(input.cluster, &mesh, &plan.from),
            ),
            kept(plan.keep_old, input),
        ],
        Phase::Done => Vec::new(),
    }
}

/// True when every gate passes; an unknown gate blocks like a failing one.
pub fn all_pass(gates: &[Gate]) -> bool {
    gates.iter().all(|g| g.status == GateStatus::Pass)
}

fn gate(name: impl Into<String>, status: GateStatus) -> Gate {
    Gate {
        name: name.into(),
        status,
    }
}

/// Names the first few items and counts the rest: `a; b; c; and 4 more`.
fn few(items: &[String], separator: &str) -> String {
    named_and_counted(&items[..items.len().min(NAMED)], items.len(), separator)
}

/// `named` (the first few of `total` items), then how many more there are.
fn named_and_counted(named: &[String], total: usize, separator: &str) -> String {
    let mut text = named.join(separator);
    if total > named.len() {
        text.push_str(&format!("{separator}and {} more", total - named.len()));
    }
    text
}

/// Problems of a gate over many namespaces: only the ones the gate names are written out, so
/// a wave of thousands of namespaces costs no more than counting them.
#[derive(Default)]
struct Problems {
    named: Vec<String>,
    count: usize,
}

impl Problems {
    fn push(&mut self, describe: impl FnOnce() -> String) {
        if self.named.len() < NAMED {
            self.named.push(describe());
        }
        self.count += 1;
    }

    /// The same text `few` writes for the full list.
    fn status(self) -> GateStatus {
        if self.count == 0 {
            return GateStatus::Pass;
        }
        GateStatus::Fail(named_and_counted(&self.named, self.count, "; "))
    }
}

fn fail_if_any(problems: Vec<String>) -> GateStatus {
    if problems.is_empty() {
        GateStatus::Pass
    } else {
        GateStatus::Fail(few(&problems, "; "))
    }
}

/// Every namespace's labels select `to`, and every injected pod in it runs `to` and is ready.
fn namespaces_on(
    cluster: &Cluster,
    facts: &NamespaceFacts,
    names: &[String],
    to: &str,
) -> GateStatus {
    let mut problems = Problems::default();
    let selections = sorted_join::lookup(names, &facts.selects);
    let tallies = sorted_join::lookup(names, &cluster.pod_tally.namespaces);
    for ((name, selected), tally) in names.iter().zip(selections).zip(tallies) {
        let selected = selected.map(String::as_str);
        let (mut injected, mut done) = (0, 0);
        for (revision, _, count) in tally.into_iter().flat_map(|t| t.injected()) {
            injected += count.pods;
            if revision == Some(to) {
                done += count.ready;
            }
        }
        let labelled = selected == Some(to);
        if labelled && done >= injected {
            continue;
        }
        problems.push(|| {
            let mut issues = Vec::new();
            match selected {
                Some(rev) if rev == to => {}
                Some(rev) => issues.push(format!("labels select {rev}")),
                None => issues.push("labels select no revision".to_string()),
            }
            if done < injected {
                issues.push(format!("{done} of {injected} pods ready on {to}"));
            }
            let manual = crate::mesh::manual_restart::needed(cluster, name, Some(to));
            if !manual.is_empty() {
                issues.push(format!("restart by hand {}", few(&manual, ", ")));
            }
            format!("{name}: {}", issues.join(", "))
        });
    }
    problems.status()
}

/// The name of the metrics gate, which `M` also watches mid-wave.
pub const TRIGGERS: &str = "rollback triggers";

/// No rollback trigger over its threshold, and every one of them measured: missing, stale or
/// broken metrics make the gate unknown, never a pass.
fn triggers(input: &GateInput<'_>) -> Gate {
    let status = match input.metrics {
        None => GateStatus::Unknown("no metrics yet".into()),
        Some(r) if r.is_down() && (input.now - r.at).num_seconds() < 30 => {
            GateStatus::Unknown(format!(
                "metrics unavailable: {}",
                r.errors.first().map_or("", |e| e.as_str())
            ))
        }
        Some(_) => {
            let over: Vec<String> = input
                .findings
                .iter()
                .filter(|f| {
                    matches!(
                        f.state,
                        crate::metrics::maths::TriggerState::Breached { .. }
                            | crate::metrics::maths::TriggerState::Pending { .. }
                    )
                })
                .map(ToString::to_string)
                .collect();
            let unknown: Vec<String> = input
                .findings
                .iter()
                .filter(|f| f.is_unknown())
                .map(ToString::to_string)
                .collect();
            if !over.is_empty() {
                GateStatus::Fail(few(&over, "; "))
            } else if !unknown.is_empty() {
                GateStatus::Unknown(few(&unknown, "; "))
            } else {
                GateStatus::Pass
            }
        }
    };
    gate(TRIGGERS, status)
}

/// Time since the phase began against `needed`: `12m of 30m`.
fn elapsed_status(needed: Duration, input: &GateInput<'_>) -> GateStatus {
    let Some(started) = input.started else {
        return GateStatus::Unknown("the phase's start time is not recorded".into());
    };
    // A start in the future (clocks apart) counts as just begun.
    let elapsed = (input.now - started).to_std().unwrap_or(Duration::ZERO);
    if elapsed >= needed {
        GateStatus::Pass
    } else {
        GateStatus::Fail(format!(
            "{} of {}",
            duration::format_coarse(elapsed),
            duration::format(needed)
        ))
    }
}

fn soak(needed: Duration, input: &GateInput<'_>) -> Gate {
    gate(
        format!("soak {}", duration::format(needed)),
        elapsed_status(needed, input),
    )
}

/// A wave's soak counts from when its last namespace finished, not from the phase's start.
fn wave_soak(needed: Duration, input: &GateInput<'_>, on: &GateStatus) -> Gate {
    let status = match input.finished {
        Some(at) => match elapsed_status(
            needed,
            &GateInput {
                started: Some(at),
                ..*input
            },
        ) {
            GateStatus::Fail(so_far) => GateStatus::Fail(format!(
                "{so_far} since the wave finished at {}",
                at.format("%H:%M:%S UTC")
            )),
            other => other,
        },
        // Nothing recorded of the wave yet: as unknown as any phase not started.
        None if input.started.is_none() => elapsed_status(needed, input),
        None if *on == GateStatus::Pass => {
            GateStatus::Unknown("the wave's end is not recorded yet (the driver records it)".into())
        }
        None => GateStatus::Fail("counts from when the wave's last namespace finishes".into()),
    };
    gate(format!("soak {}", duration::format(needed)), status)
}

fn kept(needed: Duration, input: &GateInput<'_>) -> Gate {
    gate(
        format!("kept {}", duration::format(needed)),
        elapsed_status(needed, input),
    )
}

/// No NACK from the new revision's istiod since the phase began.
fn no_nacks(input: &GateInput<'_>) -> Gate {
    let to = &input.plan.to;
    let status = match (input.cluster.logs.last_nack.get(to), input.started) {
        (None, _) => GateStatus::Pass,
        (Some(at), Some(started)) if *at >= started => {
            GateStatus::Fail(format!("last NACK at {}", at.format("%H:%M:%S UTC")))
        }
        (Some(_), Some(_)) => GateStatus::Pass,
        (Some(at), None) => GateStatus::Unknown(format!(
            "last NACK at {}, and the phase's start time is not recorded",
            at.format("%H:%M:%S UTC")
        )),
    };
    gate(format!("no NACKs from {to}"), status)
}

/// No pod of the wave runs a proxy its istiod does not support.
fn no_skew(cluster: &Cluster, mesh: &Mesh, names: &[String]) -> GateStatus {
    let mut problems = Vec::new();
    let tallies = sorted_join::lookup(names, &cluster.pod_tally.namespaces);
    for (name, tally) in names.iter().zip(tallies) {
        // Only a namespace whose counts show a skewed proxy has pods worth naming; istiod's
        // own pods are not in those counts, so their namespace is always looked at.
        let may_skew = tally.is_some_and(|t| {
            t.istiod > 0
                || t.mix
                    .keys()
                    .any(|(rev, proxy)| mesh.skew_of(rev.as_deref(), *proxy).is_some())
        });
        if !may_skew {
            continue;
        }
        for pod in cluster.pods_in(name) {
            if let (Some((skew, control)), Some(proxy)) = (mesh.pod_skew(pod), pod.proxy) {
                problems.push(format!(
                    "{name}/{}: proxy {proxy} on istiod {control} ({})",
                    pod.name,
                    skew.describe()
                ));
            }
        }
    }
    fail_if_any(problems)
}

/// Every tag the plan moves points at `to`.
fn tags_on(plan: &Plan, mesh: &Mesh) -> GateStatus {
    let problems = plan
        .tags
        .iter()
        .filter_map(|tag| match mesh.tags.get(tag) {
            Some(rev) if *rev == plan.to => None,
            Some(rev) => Some(format!("{tag} on {rev}")),
            None => Some(format!("no tag named {tag}")),
        })
        .collect();
    fail_if_any(problems)
}

/// Nothing depends on the old control plane any more: no injected pod, no namespace label
/// (directly or through a tag), no tag, and no ambient DaemonSet (ztunnel, istio-cni) of it.
fn nothing_on(cluster: &Cluster, mesh: &Mesh, from: &str) -> GateStatus {
    let pods: usize = cluster
        .pod_tally
        .namespaces
        .values()
        .flat_map(|t| t.injected())
        .filter(|(revision, _, _)| *revision == Some(from))
        .map(|(_, _, count)| count.pods)
        .sum();
    let namespaces: Vec<String> = crate::mesh::namespace_facts::selection(cluster)
        .selecting(from)
        .cloned()
        .collect();
    let tags: Vec<String> = mesh.tags_of(from).into_iter().map(str::to_string).collect();
    let daemonsets: Vec<String> = cluster
        .daemonsets
        .values()
        .filter(|d| d.revision.as_deref() == Some(from))
        .map(|d| format!("{}/{}", d.namespace, d.name))
        .collect();
    let mut parts = Vec::new();
    if pods > 0 {
        parts.push(format!("{pods} {}", if pods == 1 { "pod" } else { "pods" }));
    }
    for (one, many, items) in [
        ("namespace", "namespaces", namespaces),
        ("tag", "tags", tags),
        ("DaemonSet", "DaemonSets", daemonsets),
    ] {
        if !items.is_empty() {
            let noun = if items.len() == 1 { one } else { many };
            parts.push(format!("{noun} {}", few(&items, ", ")));
        }
    }
    if parts.is_empty() {
        GateStatus::Pass
    } else {
        GateStatus::Fail(parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration as Span;

    use super::*;
    use crate::plan::derive::derive;
    use crate::plan::testing::{Cluster, at, demo, now};

    fn gates(c: &Cluster, plan: &Plan, phase: Phase, started: Option<DateTime<Utc>>) -> Vec<Gate> {
        wave_gates(c, plan, phase, started, None)
    }

    fn wave_gates(
        c: &Cluster,
        plan: &Plan,
        phase: Phase,
        started: Option<DateTime<Utc>>,
        finished: Option<DateTime<Utc>>,
    ) -> Vec<Gate> {
        evaluate(&GateInput {
            cluster: &c.state.cluster,
            metrics: c.state.metrics.readings.back(),
            findings: &c.state.metrics.findings,
            plan,
            phase,
            started,
            finished,
            now: now(),
        })
    }

    fn statuses(gates: &[Gate]) -> Vec<(&str, &GateStatus)> {
        gates.iter().map(|g| (g.name.as_str(), &g.status)).collect()
    }

    fn fail(text: &str) -> GateStatus {
        GateStatus::Fail(text.into())
    }

    fn minutes_ago(m: i64) -> Option<DateTime<Utc>> {
        Some(now() - Span::minutes(m))
    }

    fn healthy(p99_ms: f64) -> crate::metrics::reading::Traffic {
        crate::metrics::reading::Traffic {
            requests_per_s: 10.0,
            error_ratio: Some(0.0),
            p99_ms: Some(p99_ms),
            mtls_failures_per_s: 0.0,
            sampled_pods: None,
        }
    }

    /// Healthy numbers for staging-web and the new istiod, with a baseline from before the
    /// move, judged as the cockpit judges them.
    fn measured(c: &mut Cluster, plan: &Plan) {
        use crate::metrics::reading::Reading;
        c.state.drive.plan = Some(plan.clone());
        c.state.session.now = now();
        let mut before = Reading {
            at: now() - Span::seconds(10),
            source: "test".into(),
            control_plane: Default::default(),
            data_plane: Default::default(),
            errors: Vec::new(),
        };
        before
            .data_plane
            .entry("staging-web".into())
            .or_default()
            .insert("1-24-0".into(), healthy(100.0));
        c.state.metrics.guard.observe(&before, plan, &|_| false);
        let mut after = before.clone();
        after.at = now();
        after.data_plane.clear();
        after
            .data_plane
            .entry("staging-web".into())
            .or_default()
            .insert("1-25-0".into(), healthy(105.0));
        after.control_plane.insert(
            "1-25-0".into(),
            crate::metrics::control_plane::Rates {
                convergence_p99: Some(0.2),
                ..Default::default()
            },
        );
        crate::app::rollback::observe(&mut c.state, &mut Default::default(), &after);
        c.state.metrics.readings.push_back(after);
    }

    /// The demo with the staging wave finished: every staging pod on 1-25-0 and ready.
    fn staging_done() -> Cluster {
        let mut c = demo();
        c.remove_pod("staging-web", "frontend-old-1").pod(
            "staging-web",
            "frontend-new-2",
            "1-25-0",
            "1.25.0",
            true,
        );
        c
    }

    #[test]
    fn a_wave_in_progress_names_what_is_missing() {
        let c = demo();
        let plan = derive(&c.state.cluster).unwrap();
        let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(4));
        assert_eq!(
            statuses(&g),
            [
                (
                    "namespaces on 1-25-0",
                    &fail("staging-web: 1 of 3 pods ready on 1-25-0")
                ),
                (
                    "soak 10m",
                    &fail("counts from when the wave's last namespace finishes")
                ),
                ("no NACKs from 1-25-0", &GateStatus::Pass),
                ("no skew", &GateStatus::Pass),
                (TRIGGERS, &GateStatus::Unknown("no metrics yet".into())),
            ]
        );
        assert!(!all_pass(&g));
    }

    #[test]
    fn a_finished_soaked_wave_passes() {
        let mut c = staging_done();
        let plan = derive(&c.state.cluster).unwrap();
        measured(&mut c, &plan);
        let g = wave_gates(&c, &plan, Phase::Wave(0), minutes_ago(60), minutes_ago(10));
        assert!(all_pass(&g), "{g:?}");
        assert_eq!(g[0].to_string(), "namespaces on 1-25-0");
    }

    #[test]
    fn a_waves_soak_counts_from_when_its_last_namespace_finished() {
        let mut c = staging_done();
        let plan = derive(&c.state.cluster).unwrap();
        measured(&mut c, &plan);
        // Started an hour ago, finished 4 minutes ago: 4 of its 10 minutes.
        let g = wave_gates(&c, &plan, Phase::Wave(0), minutes_ago(60), minutes_ago(4));
        assert_eq!(
            g[1].to_string(),
            "soak 10m: 4m of 10m since the wave finished at 21:26:00 UTC"
        );
        // Every namespace there, but the end not recorded: unknown, never a pass.
        let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(60));
        assert_eq!(
            g[1].status,
            GateStatus::Unknown(
                "the wave's end is not recorded yet (the driver records it)".into()
            )
        );
    }

    #[test]
    fn a_breached_or_unmeasured_trigger_holds_the_wave() {
        let mut c = staging_done();
        let mut plan = derive(&c.state.cluster).unwrap();
        plan.thresholds.error_ratio_for = std::time::Duration::ZERO;
        measured(&mut c, &plan);
        let mut bad = c.state.metrics.readings.back().unwrap().clone();
        bad.data_plane
            .get_mut("staging-web")
            .unwrap()
            .get_mut("1-25-0")
            .unwrap()
            .error_ratio = Some(0.2);
        crate::app::rollback::observe(&mut c.state, &mut Default::default(), &bad);
        c.state.metrics.readings.push_back(bad);
        let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(10));
        assert_eq!(
            g[4].to_string(),
            "rollback triggers: staging-web: 5xx ratio 20% for 0s, limit 1.0% for 0s"
        );
        // A source that answers nothing: unknown, however good the last numbers were.
        let mut down = c.state.metrics.readings.back().unwrap().clone();
        down.control_plane.clear();
        down.data_plane.clear();
        down.errors = vec!["Prometheus at http://127.0.0.1:9: connection refused".into()];
        c.state.metrics.readings.push_back(down);
        let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(10));
        assert_eq!(
            g[4].status,
            GateStatus::Unknown(
                "metrics unavailable: Prometheus at http://127.0.0.1:9: connection refused".into()
            )
        );
    }

    #[test]
    fn labels_still_on_the_old_revision_and_skewed_proxies_block_a_wave() {
        let c = demo();
        let plan = derive(&c.state.cluster).unwrap();
        let g = gates(&c, &plan, Phase::Wave(1), minutes_ago(31));
        assert_eq!(
            g[0].status,
            fail(
                "notifications: labels select 1-24-0, 0 of 1 pods ready on 1-25-0; \
                 search: labels select 1-24-0, 0 of 2 pods ready on 1-25-0"
            )
        );
        assert_eq!(
            g[1].status,
            fail("counts from when the wave's last namespace finishes")
        );
        assert_eq!(
            g[3].status,
            fail(
                "search/search-api-1: proxy 1.22.4 on istiod 1.24.0 (proxy 2 minors behind its istiod)"
            )
        );
    }

    #[test]
    fn long_lists_name_a_few_and_count_the_rest() {
        let mut c = Cluster::new();
        c.revision("1-24-0").revision("1-25-0");
        for i in 0..5 {
            let ns = format!("ns-{i}");
            c.namespace(&ns, &[("istio-injection", "enabled"), ("tier", "staging")])
                .pod(&ns, "web", "1-24-0", "1.24.0", true);
        }
        c.tag("default", "1-24-0");
        let plan = derive(&c.state.cluster).unwrap();
        let g = gates(&c, &plan, Phase::Wave(0), minutes_ago(1));
        assert_eq!(
            g[0].status,
            fail(
                "ns-0: labels select 1-24-0, 0 of 1 pods ready on 1-25-0; \
                 ns-1: labels select 1-24-0, 0 of 1 pods ready on 1-25-0; \
                 ns-2: labels select 1-24-0, 0 of 1 pods ready on 1-25-0; and 2 more"
            )
        );
    }

    #[test]
    fn a_wave_that_selects_nothing_fails() {
        let c = demo();
        let mut plan = derive(&c.state.cluster).unwrap();
        plan.waves[0].selector = NamespaceSelector::Names(vec!["gone".into()]);
        plan.waves[1].selector = NamespaceSelector::Labels("tier=gold".into());
        let g0 = gates(&c, &plan, Phase::Wave(0), minutes_ago(60));
        assert_eq!(g0[0].status, fail("none of its namespaces exists"));
        let g1 = gates(&c, &plan, Phase::Wave(1), minutes_ago(60));
        assert_eq!(
            g1[0].status,
            fail("no namespace labelled for sidecars matches")
        );
        let g9 = gates(&c, &plan, Phase::Wave(9), minutes_ago(60));
        assert_eq!(statuses(&g9), [("phase", &fail("the plan has no wave 10"))]);
    }

    #[test]
    fn nacks_count_only_from_the_phase_start() {
        let mut c = staging_done();
        c.nack("1-25-0", "2026-11-24T21:25:00Z");
        // Old revision NACKs are not the new revision's problem.
        c.nack("1-24-0", "2026-11-24T21:29:00Z");
        let plan = derive(&c.state.cluster).unwrap();
        let nacks = |started| gates(&c, &plan, Phase::Wave(0), started)[2].status.clone();
        assert_eq!(nacks(minutes_ago(30)), fail("last NACK at 21:25:00 UTC"));
        // Exactly at the start counts: the NACK happened during the phase.
        assert_eq!(
            nacks(Some(at("2026-11-24T21:25:00Z"))),
            fail("last NACK at 21:25:00 UTC")
        );
        assert_eq!(nacks(minutes_ago(4)), GateStatus::Pass);
        assert_eq!(
            nacks(None),
            GateStatus::Unknown(
                "last NACK at 21:25:00 UTC, and the phase's start time is not recorded".into()
            )
        );
    }

    #[test]
    fn soak_arithmetic() {
        let c = staging_done();
        let plan = derive(&c.state.cluster).unwrap();
        let soak = |started| gates(&c, &plan, Phase::Soak, started);
        assert_eq!(soak(minutes_ago(29))[0].status, fail("29m of 30m"));
        assert_eq!(
            soak(Some(now() - Span::seconds(29 * 60 + 59)))[0].status,
            fail("29m of 30m")
        );
        assert_eq!(
            soak(Some(now() - Span::seconds(45)))[0].status,
            fail("45s of 30m")
        );
        assert_eq!(soak(minutes_ago(30))[0].status, GateStatus::Pass);
        assert_eq!(soak(minutes_ago(600))[0].status, GateStatus::Pass);
        // A start ahead of the clock counts as just begun.
        assert_eq!(soak(minutes_ago(-5))[0].status, fail("0s of 30m"));
        let unknown = soak(None);
        assert_eq!(
            statuses(&unknown)[0],
            (
                "soak 30m",
                &GateStatus::Unknown("the phase's start time is not recorded".into())
            )
        );
        assert!(!all_pass(&unknown));
        assert_eq!(
            unknown[0].to_string(),
            "soak 30m: unknown, the phase's start time is not recorded"
        );
    }

    #[test]
    fn moving_tags_waits_for_every_tag_of_the_plan() {
        let mut c = demo();
        let mut plan = derive(&c.state.cluster).unwrap();
        let g = gates(&c, &plan, Phase::MoveTags, minutes_ago(1));
        assert_eq!(
            statuses(&g)[0],
            (
                "tags on 1-25-0",
                &fail("stable on 1-24-0; default on 1-24-0")
            )
        );
        c.tag("stable", "1-25-0").tag("default", "1-25-0");
        measured(&mut c, &plan);
        assert!(all_pass(&gates(&c, &plan, Phase::MoveTags, None)));
        plan.tags.push("canary".into());
        assert_eq!(
            gates(&c, &plan, Phase::MoveTags, None)[0].status,
            fail("no tag named canary")
        );
    }

    #[test]
    fn decommission_waits_until_nothing_uses_the_old_revision_and_it_was_kept() {
        let c = demo();
        let plan = derive(&c.state.cluster).unwrap();
        let g = gates(&c, &plan, Phase::Decommission, Some(now() - Span::hours(3)));
        assert_eq!(
            statuses(&g),
            [
                (
                    "nothing on 1-24-0",
                    &fail(
                        "6 pods; namespaces checkout, notifications, search; \
                         tags default, stable; DaemonSet istio-system/ztunnel"
                    )
                ),
                ("kept 24h", &fail("3h of 24h")),
            ]
        );
        let mut empty = Cluster::new();
        empty
            .revision("1-24-0")
            .revision("1-25-0")
            .tag("default", "1-25-0")
            .namespace("shop", &[("istio-injection", "enabled")])
            .pod("shop", "web-1", "1-25-0", "1.25.0", true)
            .daemonset("ztunnel", "1-25-0");
        let g = gates(
            &empty,
            &plan,
            Phase::Decommission,
            Some(now() - Span::hours(24)),
        );
        assert!(all_pass(&g), "{g:?}");
        assert!(gates(&empty, &plan, Phase::Done, None).is_empty());
        assert!(all_pass(&[]));
    }
}
