//! Rollback triggers: the plan's thresholds judged against each round of metrics. The new
//! revision's traffic is judged namespace by namespace (p99 latency against the namespace's
//! baseline, 5xx ratio, mTLS failures), and the new revision's istiod as a whole (xDS
//! rejects, convergence p99). In a fleet, each route of the cluster's cross-cluster traffic is
//! judged too (`cross_cluster`).
//!
//! A namespace's baseline is its traffic over the last minute before any of its pods ran the
//! new revision, so for a wave it is captured as the wave reaches the namespace. A namespace
//! first seen already moving (moved outside the cockpit, before any reading of it) is judged
//! against its old-revision pods while both run, and against what they showed once they are
//! gone. Numbers that are missing, stale or NaN make a trigger unknown, never healthy.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::duration;
use super::model::Plan;
use crate::metrics::cross_cluster::Route;
use crate::metrics::maths::{Trigger, TriggerState, UnknownReason};
use crate::metrics::reading::{Reading, Traffic};

/// A trigger whose latest reading is older than this cannot tell (three missed rounds).
pub const STALE_AFTER: Duration = Duration::from_secs(20);
/// Readings of a namespace's old traffic that make up its baseline (a minute at one per 5 s).
const BASELINE_READINGS: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    Latency,
    Errors,
    Mtls,
    Rejects,
    Convergence,
    CrossCluster,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Latency => "p99 latency",
            Metric::Errors => "5xx ratio",
            Metric::Mtls => "mTLS failures",
            Metric::Rejects => "xDS rejects",
            Metric::Convergence => "convergence p99",
            Metric::CrossCluster => "cross-cluster traffic",
        }
    }
}

/// What a trigger watches: one namespace's traffic on the new revision, the new revision's
/// istiod, or the requests from this cluster to another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Namespace(String),
    ControlPlane(String),
    CrossCluster(Route),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Namespace(ns) => write!(f, "{ns}"),
            Scope::ControlPlane(rev) => write!(f, "istiod {rev}"),
            Scope::CrossCluster(route) => write!(f, "{route}"),
        }
    }
}

/// A namespace's traffic before the move.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub p99_ms: Option<f64>,
    pub error_ratio: Option<f64>,
    pub requests_per_s: f64,
    /// The latest reading it includes.
    pub at: DateTime<Utc>,
}

/// The judgement of one trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub scope: Scope,
    pub metric: Metric,
    pub state: TriggerState,
    /// The latest value as people read it: `812 ms (+224% over 250 ms)`, `3.1%`.
    pub value: String,
    /// The threshold and its duration: `+50% for 2m`.
    pub limit: String,
    /// Why it cannot tell, when it cannot.
    pub unknown: Option<String>,
    /// How long the value has been over the threshold, when it is.
    pub held: Option<Duration>,
}

impl Finding {
    pub fn is_breached(&self) -> bool {
        self.state.is_breached()
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.state, TriggerState::Unknown(_))
    }
}

impl fmt::Display for Finding {
    /// `shop: p99 latency 812 ms (+224% over 250 ms) for 2m05s, limit +50% for 2m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scope, metric) = (&self.scope, self.metric.name());
        match (&self.state, &self.unknown) {
            (TriggerState::Unknown(_), why) => write!(
                f,
                "{scope}: {metric} unknown ({})",
                why.as_deref().unwrap_or("no numbers")
            ),
            (TriggerState::Healthy { .. }, _) => {
                write!(f, "{scope}: {metric} {}, limit {}", self.value, self.limit)
            }
            (TriggerState::Pending { .. } | TriggerState::Breached { .. }, _) => write!(
                f,
                "{scope}: {metric} {} for {}, limit {}",
                self.value,
                duration::format_coarse(self.held.unwrap_or_default()),
                self.limit
            ),
        }
    }
}

fn held(since: f64, last: f64) -> String {
    duration::format_coarse(Duration::from_secs_f64((last - since).max(0.0)))
}

#[derive(Debug, Clone, Default)]
struct BaselineTracker {
    /// Readings of the old traffic before the move, newest last.
    recent: VecDeque<(DateTime<Utc>, Traffic)>,
}

impl BaselineTracker {
    fn record(&mut self, at: DateTime<Utc>, t: &Traffic) {
        if self.recent.len() == BASELINE_READINGS {
            self.recent.pop_front();
        }
        self.recent.push_back((at, t.clone()));
    }

    fn baseline(&self) -> Option<Baseline> {
        let (at, ..) = *self.recent.back()?;
        let p99s: Vec<f64> = self.recent.iter().filter_map(|r| r.1.p99_ms).collect();
        let ratios: Vec<f64> = self.recent.iter().filter_map(|r| r.1.error_ratio).collect();
        let rps: Vec<f64> = self.recent.iter().map(|r| r.1.requests_per_s).collect();
        Some(Baseline {
            p99_ms: median(p99s),
            error_ratio: median(ratios),
            requests_per_s: median(rps).unwrap_or(0.0),
            at,
        })
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// The busiest of a namespace's revisions other than `to`: its traffic before the move.
fn old_traffic<'a>(revisions: &'a BTreeMap<String, Traffic>, to: &str) -> Option<&'a Traffic> {
    revisions
        .iter()
        .filter(|(rev, _)| rev.as_str() != to)
        .map(|(_, t)| t)
        .max_by(|a, b| a.requests_per_s.total_cmp(&b.requests_per_s))
}

fn unix(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

/// Baselines and triggers, fed one reading at a time.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    baselines: BTreeMap<String, BaselineTracker>,
    /// For namespaces without a baseline: their old-revision pods' traffic during the move.
    beside: BTreeMap<String, BaselineTracker>,
    triggers: BTreeMap<(Scope, Metric), Trigger>,
    /// The latest p99 (ms) of each namespace's traffic on the new revision, for the text.
    latest_p99: BTreeMap<String, f64>,
    cross_cluster: cross_cluster::CrossClusterWatch,
}

impl Guard {
    /// Takes in a round of metrics. `moved` says whether a namespace has pods on the plan's
    /// new revision (from the cluster's state, not from the metrics).
    pub fn observe(&mut self, reading: &Reading, plan: &Plan, moved: &dyn Fn(&str) -> bool) {
        let at = unix(reading.at);
        let t = &plan.thresholds;
        let before_move = !reading.data_plane.keys().any(|ns| moved(ns));
        let cross = (t.cross_cluster_error_ratio, t.cross_cluster_error_ratio_for);
        for (route, value) in self
            .cross_cluster
            .observe(reading.cross_cluster.as_ref(), before_move)
        {
            self.feed(
                &Scope::CrossCluster(route),
                Metric::CrossCluster,
                cross,
                at,
                value,
            );
        }
        for (ns, revisions) in &reading.data_plane {
            if !moved(ns) {
                if let Some(old) = old_traffic(revisions, &plan.to) {
                    self.baselines
                        .entry(ns.clone())
                        .or_default()
                        .record(reading.at, old);
                }
                continue;
            }
            let Some(new) = revisions.get(&plan.to) else {
                continue;
            };
            let scope = Scope::Namespace(ns.clone());
            if self.baseline(ns).and_then(|b| b.p99_ms).is_none()
                && let Some(old) = old_traffic(revisions, &plan.to).filter(|t| t.p99_ms.is_some())
            {
                self.beside
                    .entry(ns.clone())
                    .or_default()
                    .record(reading.at, old);
            }
            if let Some((base, _)) = self.latency_base(ns) {
                let rise = new.p99_ms.map_or(f64::NAN, |p| p / base - 1.0);
                self.feed(
                    &scope,
                    Metric::Latency,
                    (t.p99_latency_increase, t.p99_latency_for),
                    at,
                    rise,
                );
            }
            match new.p99_ms {
                Some(p) => self.latest_p99.insert(ns.clone(), p),
                None => self.latest_p99.remove(ns),
            };
            let ratio = new.error_ratio.unwrap_or(f64::NAN);
            self.feed(
                &scope,
                Metric::Errors,
                (t.error_ratio, t.error_ratio_for),
                at,
                ratio,
            );
            self.feed(
                &scope,
                Metric::Mtls,
                (t.mtls_errors as f64, Duration::ZERO),
                at,
                new.mtls_failures_per_s * 60.0,
            );
        }
        if let Some(cp) = reading.control_plane.get(&plan.to) {
            let scope = Scope::ControlPlane(plan.to.clone());
            self.feed(
                &scope,
                Metric::Rejects,
                (t.xds_rejects as f64, Duration::ZERO),
                at,
                cp.rejects_per_s * 60.0,
            );
            self.feed(
                &scope,
                Metric::Convergence,
                (t.convergence_p99_seconds, t.convergence_p99_for),
                at,
                cp.convergence_p99.unwrap_or(f64::NAN),
            );
        }
    }

    fn feed(&mut self, scope: &Scope, metric: Metric, limit: (f64, Duration), at: f64, v: f64) {
        self.triggers
            .entry((scope.clone(), metric))
            .or_insert_with(|| Trigger::new(limit.0, limit.1, STALE_AFTER))
            .feed(at, v);
    }

    /// A namespace's baseline: its old traffic over the last minute before the move.
    pub fn baseline(&self, namespace: &str) -> Option<Baseline> {
        self.baselines.get(namespace)?.baseline()
    }

    /// The p99 (ms) a namespace's new traffic is compared with: its baseline, else its old
    /// pods' during the move (then true).
    fn latency_base(&self, namespace: &str) -> Option<(f64, bool)> {
        let positive = |b: Option<Baseline>| b.and_then(|b| b.p99_ms).filter(|p| *p > 0.0);
        if let Some(p) = positive(self.baseline(namespace)) {
            return Some((p, false));
        }
        let beside = self
            .beside
            .get(namespace)
            .and_then(BaselineTracker::baseline);
        positive(beside).map(|p| (p, true))
    }

    /// Every trigger that applies now: the new revision's istiod, the namespaces in `required`
    /// (which must have numbers: missing ones are unknown) and the other namespaces in
    /// `moved` that have numbers; then every route of cross-cluster traffic a reading named.
    pub fn evaluate(
        &self,
        plan: &Plan,
        now: DateTime<Utc>,
        required: &BTreeSet<String>,
        moved: &BTreeSet<String>,
    ) -> Vec<Finding> {
        let now = unix(now);
        let mut findings = Vec::new();
        let cp = Scope::ControlPlane(plan.to.clone());
        for metric in [Metric::Rejects, Metric::Convergence] {
            findings.push(self.finding(&cp, metric, now, plan));
        }
        for ns in moved {
            let scope = Scope::Namespace(ns.clone());
            let judged = self.triggers.contains_key(&(scope.clone(), Metric::Errors));
            if !judged && !required.contains(ns) {
                continue;
            }
            for metric in [Metric::Latency, Metric::Errors, Metric::Mtls] {
                let mut f = self.finding(&scope, metric, now, plan);
                if metric == Metric::Latency
                    && !self.triggers.contains_key(&(scope.clone(), metric))
                {
                    f.unknown = Some(match self.baseline(ns) {
                        None => "no baseline: its traffic was not seen before the move, nor its old pods during it".into(),
                        Some(_) => "no baseline: no requests were seen before the move".into(),
                    });
                }
                findings.push(f);
            }
        }
        let routes = self
            .triggers
            .keys()
            .filter(|(scope, _)| matches!(scope, Scope::CrossCluster(_)));
        for (scope, metric) in routes {
            findings.push(self.finding(scope, *metric, now, plan));
        }
        findings
    }

    fn finding(&self, scope: &Scope, metric: Metric, now: f64, plan: &Plan) -> Finding {
        let trigger = self.triggers.get(&(scope.clone(), metric));
        let state = trigger.map_or(TriggerState::Unknown(UnknownReason::NoData), |t| {
            t.state(now)
        });
        let last_at = trigger.and_then(|t| t.points().last().map(|p| p.0));
        let held_for = match state {
            TriggerState::Pending { since, .. } | TriggerState::Breached { since, .. } => {
                last_at.map(|last| Duration::from_secs_f64((last - since).max(0.0)))
            }
            _ => None,
        };
        let value = match state {
            TriggerState::Healthy { value }
            | TriggerState::Pending { value, .. }
            | TriggerState::Breached { value, .. } => self.describe(scope, metric, value),
            TriggerState::Unknown(_) => String::new(),
        };
        let unknown = match state {
            TriggerState::Unknown(UnknownReason::NoData) => Some("no numbers yet".to_string()),
            TriggerState::Unknown(UnknownReason::Stale { last }) => {
                Some(format!("no numbers for {}", held(last, now)))
            }
            TriggerState::Unknown(UnknownReason::NotANumber) => Some(match metric {
                Metric::Convergence => "no pushes to measure".to_string(),
                Metric::CrossCluster => "its 5xx could not be counted".to_string(),
                _ => "no requests to measure".to_string(),
            }),
            _ => None,
        };
        Finding {
            scope: scope.clone(),
            metric,
            state,
            value,
            limit: limit_text(metric, plan),
            unknown,
            held: held_for,
        }
    }

    fn describe(&self, scope: &Scope, metric: Metric, value: f64) -> String {
        match metric {
            Metric::Latency => {
                let ns = match scope {
                    Scope::Namespace(ns) => ns.as_str(),
                    Scope::ControlPlane(_) | Scope::CrossCluster(_) => "",
                };
                match (self.latest_p99.get(ns), self.latency_base(ns)) {
                    (Some(p), Some((b, false))) => {
                        format!("{} ({} over {})", ms(*p), signed_percent(value), ms(b))
                    }
                    (Some(p), Some((b, true))) => format!(
                        "{} ({} over {} of its old pods during the move)",
                        ms(*p),
                        signed_percent(value),
                        ms(b)
                    ),
                    _ => signed_percent(value),
                }
            }
            Metric::Errors => percent(value),
            Metric::Mtls | Metric::Rejects => format!("{}/min", count(value)),
            Metric::Convergence => format!("{value:.2} s"),
            Metric::CrossCluster => match scope {
                Scope::CrossCluster(route) => self.cross_cluster.describe(route, value),
                _ => percent(value),
            },
        }
    }
}

fn limit_text(metric: Metric, plan: &Plan) -> String {
    let t = &plan.thresholds;
    let at_once = |n: u64| {
        if n == 0 {
            "any".to_string()
        } else {
            format!("over {n}/min")
        }
    };
    match metric {
        Metric::Latency => format!(
            "{} for {}",
            signed_percent(t.p99_latency_increase),
            duration::format(t.p99_latency_for)
        ),
        Metric::Errors => format!(
            "{} for {}",
            percent(t.error_ratio),
            duration::format(t.error_ratio_for)
        ),
        Metric::Mtls => at_once(t.mtls_errors),
        Metric::Rejects => at_once(t.xds_rejects),
        Metric::Convergence => format!(
            "{} s for {}",
            t.convergence_p99_seconds,
            duration::format(t.convergence_p99_for)
        ),
        Metric::CrossCluster => format!(
            "{} 5xx or no requests for {}",
            percent(t.cross_cluster_error_ratio),
            duration::format(t.cross_cluster_error_ratio_for)
        ),
    }
}

pub fn ms(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

pub fn percent(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p >= 10.0 || p == 0.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

fn signed_percent(ratio: f64) -> String {
    format!("{:+.0}%", ratio * 100.0)
}

fn count(v: f64) -> String {
    if v >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

mod cross_cluster;

#[cfg(test)]
mod tests;
