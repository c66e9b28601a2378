use std::collections::BTreeSet;

use super::super::tests::{at, plan};
use super::super::{Finding, Guard, Metric, Scope};
use crate::metrics::cross_cluster::{CrossCluster, CrossTraffic, Route};
use crate::metrics::reading::{Reading, Traffic};

fn route(source: &str, destination: &str) -> Route {
    Route {
        source: source.into(),
        destination: destination.into(),
    }
}

/// A reading of `shop`'s traffic on `rev` and, unless None, these cross-cluster routes as
/// `(route, requests/s, 5xx share)`.
fn reading(s: i64, rev: &str, routes: Option<&[(Route, f64, f64)]>) -> Reading {
    let cross_cluster = routes.map(|routes| CrossCluster {
        requests_per_s: routes.iter().map(|r| r.1).sum(),
        error_ratio: None,
        routes: routes
            .iter()
            .map(|(route, rps, ratio)| {
                let traffic = CrossTraffic {
                    requests_per_s: *rps,
                    error_ratio: (*rps > 0.0).then_some(*ratio),
                };
                (route.clone(), traffic)
            })
            .collect(),
    });
    let shop = Traffic {
        requests_per_s: 20.0,
        error_ratio: Some(0.0),
        p99_ms: Some(50.0),
        mtls_failures_per_s: 0.0,
        sampled_pods: None,
    };
    Reading {
        at: at(s),
        source: "test".into(),
        control_plane: Default::default(),
        data_plane: [("shop".into(), [(rev.into(), shop)].into())].into(),
        cross_cluster,
        errors: Vec::new(),
    }
}

fn cross_findings(guard: &Guard, now: i64) -> Vec<Finding> {
    let plan = plan();
    let moved: BTreeSet<String> = ["shop".to_string()].into();
    guard
        .evaluate(&plan, at(now), &BTreeSet::new(), &moved)
        .into_iter()
        .filter(|f| f.metric == Metric::CrossCluster)
        .collect()
}

#[test]
fn a_5xx_share_over_the_limit_for_its_duration_breaches_naming_the_pair() {
    let mut guard = Guard::default();
    let failing = [
        (route("remote-1", "primary"), 3.0, 1.0),
        (route("remote-1", "remote-2"), 5.0, 0.0),
    ];
    for s in [0, 5, 10] {
        guard.observe(&reading(s, "1-24-0", Some(&failing)), &plan(), &|_| false);
    }
    let f = cross_findings(&guard, 10);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert_eq!(
        f[0].scope,
        Scope::CrossCluster(route("remote-1", "primary"))
    );
    assert!(f[0].is_breached(), "{:?}", f[0]);
    assert_eq!(
        f[0].to_string(),
        "remote-1 -> primary: cross-cluster traffic 100% 5xx for 10s, limit 1.0% 5xx or no requests for 10s"
    );
    assert!(f[1].state.is_healthy(), "{:?}", f[1]);
    assert_eq!(
        f[1].to_string(),
        "remote-1 -> remote-2: cross-cluster traffic 0% 5xx, limit 1.0% 5xx or no requests for 10s"
    );
    // Shorter than the duration: over, not yet breached.
    let mut guard = Guard::default();
    for s in [0, 5] {
        guard.observe(&reading(s, "1-24-0", Some(&failing)), &plan(), &|_| false);
    }
    assert!(!cross_findings(&guard, 5)[0].is_breached());
}

#[test]
fn a_route_that_stops_carrying_requests_after_the_move_breaches() {
    let mut guard = Guard::default();
    let busy = [(route("primary", "remote-1"), 4.0, 0.0)];
    for s in [0, 5, 10] {
        guard.observe(&reading(s, "1-24-0", Some(&busy)), &plan(), &|_| false);
    }
    let quiet = [(route("primary", "remote-1"), 0.0, 0.0)];
    // The route is gone from one reading and reads zero in the others: both are no requests.
    guard.observe(&reading(15, "1-25-0", Some(&[])), &plan(), &|_| true);
    for s in [20, 25] {
        guard.observe(&reading(s, "1-25-0", Some(&quiet)), &plan(), &|_| true);
    }
    let f = cross_findings(&guard, 25);
    assert!(f[0].is_breached(), "{f:#?}");
    assert_eq!(
        f[0].to_string(),
        "primary -> remote-1: cross-cluster traffic no requests (had 4.0/s) for 10s, \
         limit 1.0% 5xx or no requests for 10s"
    );
    // Requests flowing again, without errors: healthy.
    guard.observe(&reading(30, "1-25-0", Some(&busy)), &plan(), &|_| true);
    assert!(cross_findings(&guard, 30)[0].state.is_healthy());
}

#[test]
fn a_quiet_route_without_a_busy_baseline_is_healthy() {
    let mut guard = Guard::default();
    let quiet = [(route("primary", "remote-1"), 0.0, 0.0)];
    for s in [0, 5, 10] {
        guard.observe(&reading(s, "1-25-0", Some(&quiet)), &plan(), &|_| true);
    }
    let f = cross_findings(&guard, 10);
    assert!(f[0].state.is_healthy(), "{f:#?}");
    assert!(
        f[0].to_string().contains("traffic no requests, limit"),
        "{}",
        f[0]
    );
}

#[test]
fn without_cross_cluster_numbers_the_trigger_is_silent_and_goes_stale_once_seen() {
    let mut guard = Guard::default();
    for s in [0, 5, 10] {
        guard.observe(&reading(s, "1-25-0", None), &plan(), &|_| true);
    }
    assert!(cross_findings(&guard, 10).is_empty());
    let all = guard.evaluate(&plan(), at(10), &BTreeSet::new(), &["shop".into()].into());
    assert!(
        all.iter()
            .all(|f| !matches!(f.scope, Scope::CrossCluster(_)))
    );
    // Seen once, then no more numbers: unknown, never healthy.
    let ok = [(route("primary", "remote-1"), 4.0, 0.0)];
    guard.observe(&reading(15, "1-25-0", Some(&ok)), &plan(), &|_| true);
    guard.observe(&reading(20, "1-25-0", None), &plan(), &|_| true);
    let f = cross_findings(&guard, 60);
    assert!(f[0].is_unknown(), "{f:#?}");
}

#[test]
fn requests_whose_5xx_were_not_counted_are_unknown() {
    let mut guard = Guard::default();
    let mut r = reading(
        0,
        "1-25-0",
        Some(&[(route("primary", "remote-1"), 4.0, 0.0)]),
    );
    if let Some(c) = r.cross_cluster.as_mut() {
        c.routes.values_mut().for_each(|t| t.error_ratio = None);
    }
    guard.observe(&r, &plan(), &|_| true);
    let f = cross_findings(&guard, 0);
    assert!(f[0].is_unknown(), "{f:#?}");
    assert!(
        f[0].to_string().contains("its 5xx could not be counted"),
        "{}",
        f[0]
    );
}
