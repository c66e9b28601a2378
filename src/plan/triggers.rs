//! Rollback triggers: the plan's thresholds judged against each round of metrics. The new
//! revision's traffic is judged namespace by namespace (p99 latency against the namespace's
//! baseline, 5xx ratio, mTLS failures), and the new revision's istiod as a whole (xDS
//! rejects, convergence p99).
//!
//! A namespace's baseline is its traffic over the last minute before any of its pods ran the
//! new revision, so for a wave it is captured as the wave reaches the namespace. Numbers that
//! are missing, stale or NaN make a trigger unknown, never healthy.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::duration;
use super::model::Plan;
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
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Latency => "p99 latency",
            Metric::Errors => "5xx ratio",
            Metric::Mtls => "mTLS failures",
            Metric::Rejects => "xDS rejects",
            Metric::Convergence => "convergence p99",
        }
    }
}

/// What a trigger watches: one namespace's traffic on the new revision, or the new
/// revision's istiod.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Namespace(String),
    ControlPlane(String),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Namespace(ns) => write!(f, "{ns}"),
            Scope::ControlPlane(rev) => write!(f, "istiod {rev}"),
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
    triggers: BTreeMap<(Scope, Metric), Trigger>,
    /// The latest p99 (ms) of each namespace's traffic on the new revision, for the text.
    latest_p99: BTreeMap<String, f64>,
}

impl Guard {
    /// Takes in a round of metrics. `moved` says whether a namespace has pods on the plan's
    /// new revision (from the cluster's state, not from the metrics).
    pub fn observe(&mut self, reading: &Reading, plan: &Plan, moved: &dyn Fn(&str) -> bool) {
        let at = unix(reading.at);
        let t = &plan.thresholds;
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
            let base = self.baseline(ns).and_then(|b| b.p99_ms);
            if let Some(base) = base.filter(|b| *b > 0.0) {
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

    /// Every trigger that applies now: the new revision's istiod, the namespaces in `required`
    /// (which must have numbers: missing ones are unknown) and the other namespaces in
    /// `moved` that have numbers.
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
                        None => "no baseline: its traffic was not seen before the move".into(),
                        Some(_) => "no baseline: no requests were seen before the move".into(),
                    });
                }
                findings.push(f);
            }
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
                    Scope::ControlPlane(_) => "",
                };
                let base = self.baseline(ns).and_then(|b| b.p99_ms);
                match (self.latest_p99.get(ns), base) {
                    (Some(p), Some(b)) => {
                        format!("{} ({} over {})", ms(*p), signed_percent(value), ms(b))
                    }
                    _ => signed_percent(value),
                }
            }
            Metric::Errors => percent(value),
            Metric::Mtls | Metric::Rejects => format!("{}/min", count(value)),
            Metric::Convergence => format!("{value:.2} s"),
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::metrics::control_plane::Rates;
    use crate::plan::model::Thresholds;

    fn plan() -> Plan {
        Plan {
            from: "1-24-0".into(),
            to: "1-25-0".into(),
            waves: Vec::new(),
            tags: Vec::new(),
            tag_soak: Duration::ZERO,
            keep_old: Duration::ZERO,
            thresholds: Thresholds {
                p99_latency_for: Duration::from_secs(10),
                error_ratio_for: Duration::from_secs(10),
                convergence_p99_for: Duration::from_secs(10),
                ..Thresholds::default()
            },
            pacing: Default::default(),
            prometheus_service: None,
            derived: false,
        }
    }

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
    }

    fn traffic(p99: f64, ratio: f64) -> Traffic {
        Traffic {
            requests_per_s: 20.0,
            error_ratio: Some(ratio),
            p99_ms: Some(p99),
            mtls_failures_per_s: 0.0,
            sampled_pods: None,
        }
    }

    fn reading(s: i64, ns: &str, rev: &str, t: Traffic) -> Reading {
        let mut r = Reading {
            at: at(s),
            source: "test".into(),
            control_plane: BTreeMap::new(),
            data_plane: BTreeMap::new(),
            errors: Vec::new(),
        };
        r.data_plane
            .entry(ns.into())
            .or_default()
            .insert(rev.into(), t);
        r
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn find<'a>(fs: &'a [Finding], scope: &str, metric: Metric) -> &'a Finding {
        fs.iter()
            .find(|f| f.scope.to_string() == scope && f.metric == metric)
            .unwrap_or_else(|| panic!("no {scope} {metric:?} in {fs:#?}"))
    }

    #[test]
    fn latency_breaches_after_its_duration_over_the_baseline_before_the_move() {
        let (plan, mut guard) = (plan(), Guard::default());
        for (s, p99) in [(0, 90.0), (5, 100.0), (10, 110.0)] {
            guard.observe(
                &reading(s, "shop", "1-24-0", traffic(p99, 0.0)),
                &plan,
                &|_| false,
            );
        }
        assert_eq!(guard.baseline("shop").unwrap().p99_ms, Some(100.0));
        let (required, moved) = (set(&["shop"]), set(&["shop"]));
        for s in [15, 20, 25] {
            guard.observe(
                &reading(s, "shop", "1-25-0", traffic(250.0, 0.0)),
                &plan,
                &|_| true,
            );
        }
        let f = guard.evaluate(&plan, at(25), &required, &moved);
        let latency = find(&f, "shop", Metric::Latency);
        assert!(latency.is_breached(), "{latency:?}");
        assert_eq!(
            latency.to_string(),
            "shop: p99 latency 250 ms (+150% over 100 ms) for 10s, limit +50% for 10s"
        );
        assert!(find(&f, "shop", Metric::Errors).state.is_healthy());
        // The baseline stays what it was before the move.
        assert_eq!(guard.baseline("shop").unwrap().p99_ms, Some(100.0));
    }

    #[test]
    fn a_rise_shorter_than_the_duration_is_pending_and_a_fall_is_healthy() {
        let (plan, mut guard) = (plan(), Guard::default());
        guard.observe(
            &reading(0, "shop", "1-24-0", traffic(100.0, 0.0)),
            &plan,
            &|_| false,
        );
        guard.observe(
            &reading(5, "shop", "1-25-0", traffic(300.0, 0.0)),
            &plan,
            &|_| true,
        );
        let moved = set(&["shop"]);
        let f = guard.evaluate(&plan, at(5), &moved, &moved);
        assert!(matches!(
            find(&f, "shop", Metric::Latency).state,
            TriggerState::Pending { .. }
        ));
        guard.observe(
            &reading(10, "shop", "1-25-0", traffic(120.0, 0.0)),
            &plan,
            &|_| true,
        );
        let f = guard.evaluate(&plan, at(10), &moved, &moved);
        assert!(find(&f, "shop", Metric::Latency).state.is_healthy());
    }

    #[test]
    fn missing_stale_or_empty_numbers_are_unknown_never_healthy() {
        let (plan, mut guard) = (plan(), Guard::default());
        let required = set(&["shop", "cart"]);
        // Moved before the cockpit saw any traffic: no baseline.
        guard.observe(
            &reading(0, "shop", "1-25-0", traffic(100.0, 0.0)),
            &plan,
            &|_| true,
        );
        let f = guard.evaluate(&plan, at(0), &required, &required);
        let latency = find(&f, "shop", Metric::Latency);
        assert!(latency.is_unknown());
        assert!(latency.to_string().contains("no baseline"), "{latency}");
        // A required namespace without any numbers is judged, and unknown.
        assert!(find(&f, "cart", Metric::Errors).is_unknown());
        // istiod of the new revision was never read.
        assert!(find(&f, "istiod 1-25-0", Metric::Rejects).is_unknown());
        // Stale after the source went quiet.
        let later = guard.evaluate(&plan, at(60), &required, &required);
        let errors = find(&later, "shop", Metric::Errors);
        assert!(errors.is_unknown());
        assert!(errors.to_string().contains("no numbers for 1m"), "{errors}");
        // No requests: no ratio to judge.
        let quiet = Traffic {
            requests_per_s: 0.0,
            error_ratio: None,
            p99_ms: None,
            ..traffic(0.0, 0.0)
        };
        guard.observe(&reading(65, "shop", "1-25-0", quiet), &plan, &|_| true);
        let f = guard.evaluate(&plan, at(65), &required, &required);
        assert!(find(&f, "shop", Metric::Errors).is_unknown());
        // A namespace neither required nor measured is not judged at all.
        let f = guard.evaluate(&plan, at(65), &set(&[]), &set(&["other"]));
        assert!(f.iter().all(|f| f.scope.to_string() != "other"));
    }

    #[test]
    fn rejects_and_mtls_failures_breach_at_once_and_convergence_after_its_duration() {
        let (plan, mut guard) = (plan(), Guard::default());
        let mut r = reading(0, "shop", "1-25-0", traffic(100.0, 0.0));
        r.data_plane
            .get_mut("shop")
            .unwrap()
            .get_mut("1-25-0")
            .unwrap()
            .mtls_failures_per_s = 0.05;
        let cp = |rejects: f64, p99: Option<f64>| Rates {
            rejects_per_s: rejects,
            convergence_p99: p99,
            ..Rates::default()
        };
        r.control_plane.insert("1-25-0".into(), cp(0.5, Some(8.0)));
        guard.observe(&r, &plan, &|_| true);
        let moved = set(&["shop"]);
        let f = guard.evaluate(&plan, at(0), &moved, &moved);
        let mtls = find(&f, "shop", Metric::Mtls);
        assert!(mtls.is_breached());
        assert_eq!(
            mtls.to_string(),
            "shop: mTLS failures 3.0/min for 0s, limit any"
        );
        assert!(find(&f, "istiod 1-25-0", Metric::Rejects).is_breached());
        assert!(matches!(
            find(&f, "istiod 1-25-0", Metric::Convergence).state,
            TriggerState::Pending { .. }
        ));
        let mut r = reading(12, "shop", "1-25-0", traffic(100.0, 0.0));
        r.control_plane.insert("1-25-0".into(), cp(0.0, Some(9.0)));
        guard.observe(&r, &plan, &|_| true);
        let f = guard.evaluate(&plan, at(12), &moved, &moved);
        assert!(
            find(&f, "istiod 1-25-0", Metric::Rejects)
                .state
                .is_healthy()
        );
        let convergence = find(&f, "istiod 1-25-0", Metric::Convergence);
        assert!(convergence.is_breached());
        assert_eq!(
            convergence.to_string(),
            "istiod 1-25-0: convergence p99 9.00 s for 12s, limit 5 s for 10s"
        );
    }

    #[test]
    fn error_ratio_over_its_limit_for_its_duration_breaches() {
        let (plan, mut guard) = (plan(), Guard::default());
        for s in [0, 5, 10] {
            guard.observe(
                &reading(s, "cart", "1-25-0", traffic(50.0, 0.05)),
                &plan,
                &|_| true,
            );
        }
        let moved = set(&["cart"]);
        let f = guard.evaluate(&plan, at(10), &moved, &moved);
        let errors = find(&f, "cart", Metric::Errors);
        assert!(errors.is_breached());
        assert_eq!(
            errors.to_string(),
            "cart: 5xx ratio 5.0% for 10s, limit 1.0% for 10s"
        );
    }
}
