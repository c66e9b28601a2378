//! The gates of each phase: what must hold, read from the live state, before the upgrade may
//! leave it. Metric gates (latency, errors, convergence) join these with the metrics work.

mod fleet;
mod precheck;

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::mesh::Cluster;
use crate::mesh::Mesh;
use crate::mesh::fleet::FleetFacts;
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

/// What a gate checks. Code that looks for a gate asks for its kind; the name beside it is
/// only for the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GateKind {
    /// The plan has no such phase: the one gate of a phase that cannot be judged.
    Phase,
    /// Every namespace of the wave labelled for the new revision, its pods there and ready.
    NamespacesOn,
    /// Time since the phase began (or, in a wave, since its last namespace finished).
    Soak,
    /// No NACK from the new revision's istiod since the phase began.
    NoNacks,
    /// No proxy of the wave on an istiod that does not support it.
    NoSkew,
    /// No rollback trigger over its threshold, and every one measured.
    Triggers,
    /// Every tag of the plan on the new revision.
    TagsOn,
    /// Nothing left on the old revision.
    NothingOn,
    /// The old revision kept for as long as the plan says.
    Kept,
    /// In a fleet, on a remote's waves: the primary's new revision serving, every istiod pod
    /// of it ready, and the primary's first wave finished.
    PrimaryFirst,
    /// In a fleet: one root CA in every cluster.
    RootCa,
    /// In a fleet: every cluster's east-west gateway ready.
    EastWest,
    /// In a fleet: no cluster's proxies unsupported by the control plane that serves them.
    FleetSkew,
    /// In a fleet, on the primary's decommission: no remote left on the old revision.
    RemotesOff,
    /// On the first wave: the precheck found nothing that blocks the upgrade.
    NoBlockers,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub kind: GateKind,
    /// As the screen shows it: `namespaces on 1-25-0`, `soak 10m`, ...
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
    /// In a fleet: this cluster's place and what it knows of the others.
    pub fleet: Option<&'a FleetFacts>,
    /// The newest round of metrics, if any.
    pub metrics: Option<&'a Reading>,
    /// The rollback triggers as last judged.
    pub findings: &'a [Finding],
    /// The precheck's findings; None until it could run.
    pub checks: Option<&'a [crate::precheck::Finding]>,
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

/// The gates that must pass to leave `input.phase`, in the order the phase bar shows them;
/// in a fleet, with the fleet's gates around them.
pub fn evaluate(input: &GateInput<'_>) -> Vec<Gate> {
    let own = cluster_gates(input);
    match input.fleet {
        None => own,
        Some(facts) => {
            let (mut gates, after) = fleet::gates(facts, input.plan, input.phase);
            gates.extend(own);
            gates.extend(after);
            gates
        }
    }
}

fn cluster_gates(input: &GateInput<'_>) -> Vec<Gate> {
    let plan = input.plan;
    let mesh = Mesh::of(input.cluster, Some((&plan.from, &plan.to)));
    match input.phase {
        Phase::Wave(i) => {
            let Some(wave) = plan.waves.get(i) else {
                return vec![gate(
                    GateKind::Phase,
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
            let mut gates = vec![
                gate(
                    GateKind::NamespacesOn,
                    format!("namespaces on {}", plan.to),
                    on,
                ),
                soaked,
                no_nacks(input),
                gate(
                    GateKind::NoSkew,
                    "no skew",
                    no_skew(input.cluster, &mesh, names),
                ),
                triggers(input),
            ];
            if i == 0 {
                gates.push(precheck::no_blockers(input.checks));
            }
            gates
        }
        Phase::MoveTags => vec![
            gate(
                GateKind::TagsOn,
                format!("tags on {}", plan.to),
                tags_on(plan, &mesh),
            ),
            triggers(input),
        ],
        Phase::Soak => vec![soak(plan.tag_soak, input), triggers(input)],
        Phase::Decommission => vec![
            gate(
                GateKind::NothingOn,
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

fn gate(kind: GateKind, name: impl Into<String>, status: GateStatus) -> Gate {
    Gate {
        kind,
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
        for (revision, _, count) in tally
            .into_iter()
            .flat_map(super::super::mesh::tally::NamespaceTally::injected)
        {
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

/// The name of the metrics gate.
const TRIGGERS: &str = "rollback triggers";

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
    gate(GateKind::Triggers, TRIGGERS, status)
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
        GateKind::Soak,
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
    gate(
        GateKind::Soak,
        format!("soak {}", duration::format(needed)),
        status,
    )
}

fn kept(needed: Duration, input: &GateInput<'_>) -> Gate {
    gate(
        GateKind::Kept,
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
    gate(GateKind::NoNacks, format!("no NACKs from {to}"), status)
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
        .flat_map(super::super::mesh::tally::NamespaceTally::injected)
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
mod tests;
