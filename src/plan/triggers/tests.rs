use chrono::TimeZone;

use super::*;
use crate::metrics::control_plane::Rates;
use crate::plan::model::Thresholds;

pub(super) fn plan() -> Plan {
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
            cross_cluster_error_ratio_for: Duration::from_secs(10),
            ..Thresholds::default()
        },
        pacing: Default::default(),
        prometheus_service: None,
        derived: false,
    }
}

pub(super) fn at(s: i64) -> DateTime<Utc> {
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
        cross_cluster: None,
        errors: Vec::new(),
    };
    r.data_plane
        .entry(ns.into())
        .or_default()
        .insert(rev.into(), t);
    r
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(ToString::to_string).collect()
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

#[test]
fn a_namespace_first_seen_mid_move_is_judged_against_its_old_pods() {
    let (plan, mut guard) = (plan(), Guard::default());
    let moved = set(&["shop"]);
    // Moved outside the cockpit: the first reading already has pods of both revisions.
    for s in (0..=20).step_by(5) {
        let mut r = reading(s, "shop", "1-24-0", traffic(20.0, 0.0));
        r.data_plane
            .get_mut("shop")
            .unwrap()
            .insert("1-25-0".into(), traffic(6600.0, 0.0));
        guard.observe(&r, &plan, &|_| true);
    }
    assert!(
        guard.baseline("shop").is_none(),
        "no reading before the move"
    );
    let f = guard.evaluate(&plan, at(20), &moved, &moved);
    let latency = find(&f, "shop", Metric::Latency);
    assert!(latency.is_breached(), "{latency}");
    assert_eq!(
        latency.value,
        "6600 ms (+32900% over 20 ms of its old pods during the move)"
    );
    // Once the old pods are gone, what they showed still stands.
    for s in (25..=40).step_by(5) {
        guard.observe(
            &reading(s, "shop", "1-25-0", traffic(22.0, 0.0)),
            &plan,
            &|_| true,
        );
    }
    let f = guard.evaluate(&plan, at(40), &moved, &moved);
    let latency = find(&f, "shop", Metric::Latency);
    assert!(latency.state.is_healthy(), "{latency}");
    assert!(
        latency.value.contains("over 20 ms of its old pods"),
        "{latency}"
    );
}
