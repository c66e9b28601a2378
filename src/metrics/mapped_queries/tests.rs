use chrono::Utc;

use super::*;
use crate::metrics::label_mapping::POD_LABELS;
use crate::metrics::labels;
use crate::metrics::queries::Failure;

const OLD: &str = "1-24-0";
const NEW: &str = "1-25-0";

fn stock() -> Layout {
    Layout {
        sidecars: Revisions::Pods(POD_LABELS[0]),
        istiod: Revisions::Pods(POD_LABELS[0]),
        cluster: None,
        warning: None,
    }
}

fn pods() -> PodRevisions {
    PodRevisions {
        namespaces: BTreeMap::from([
            ("shop".to_string(), OLD.to_string()),
            ("done".to_string(), NEW.to_string()),
        ]),
        mixed: BTreeMap::from([(
            "moving".to_string(),
            BTreeMap::from([
                ("web-a".to_string(), OLD.to_string()),
                ("web-b".to_string(), NEW.to_string()),
                ("web-c".to_string(), NEW.to_string()),
            ]),
        )]),
        istiod: BTreeMap::from([
            (("istio-system".into(), "istiod-1".into()), OLD.to_string()),
            (("istio-system".into(), "istiod-2".into()), OLD.to_string()),
            (
                ("istio-system".into(), "istiod-new".into()),
                NEW.to_string(),
            ),
        ]),
    }
}

fn vector_of(series: &[(&[(&str, &str)], f64)]) -> Answer {
    Ok(QueryResult::Vector(
        series
            .iter()
            .map(|(pairs, v)| (labels(pairs), 0.0, *v))
            .collect(),
    ))
}

fn empty() -> Answer {
    Err(Failure::Query(QueryError::Empty(ResultType::Vector)))
}

#[test]
fn the_revision_layout_asks_todays_queries() {
    let asks = plan(&Layout::default(), &pods());
    assert_eq!(asks.len(), Query::ALL.len());
    for ((ask, text), q) in asks.iter().zip(Query::ALL) {
        assert_eq!(*ask, Ask::Labelled(q));
        assert_eq!(*text, q.promql());
    }
}

#[test]
fn the_stock_layout_asks_by_namespace_and_by_pod_only_where_revisions_mix() {
    let asks: BTreeMap<Ask, String> = plan(&stock(), &pods()).into_iter().collect();
    assert_eq!(
        asks[&Ask::ByNamespace(Query::Requests)],
        "sum by (namespace) (rate(istio_requests_total{reporter=\"destination\"}[1m]))"
    );
    assert_eq!(
        asks[&Ask::ByNamespace(Query::Latency)],
        "histogram_quantile(0.99, sum by (namespace, le) (rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\"}[1m])))"
    );
    assert_eq!(
        asks[&Ask::ByPod(Query::Latency)],
        "sum by (namespace, pod, le) (rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\",namespace=~\"moving\"}[1m]))"
    );
    assert_eq!(
        asks[&Ask::ByPod(Query::MtlsFailures)],
        "sum by (namespace, pod) (rate(istio_requests_total{reporter=\"source\",response_code=\"503\",response_flags=~\"UF|UF,URX\",namespace=~\"moving\"}[1m]))"
    );
    assert_eq!(
        asks[&Ask::ByIstiod(Query::Convergence)],
        "sum by (namespace, pod, le) (rate(pilot_proxy_convergence_time_bucket[1m]))"
    );
    assert!(asks.keys().all(|a| !matches!(a, Ask::Labelled(_))));
    // Six istiod queries, four by namespace, four by pod.
    assert_eq!(asks.len(), 14);
    // Without a namespace of two revisions nothing is asked by pod.
    let calm = PodRevisions {
        mixed: BTreeMap::new(),
        ..pods()
    };
    let asks = plan(&stock(), &calm);
    assert_eq!(asks.len(), 10);
    assert!(asks.iter().all(|(a, _)| !matches!(a, Ask::ByPod(_))));
}

#[test]
fn the_cluster_filter_reaches_the_mapped_queries() {
    let layout = Layout {
        cluster: Some("remote-1".into()),
        ..stock()
    };
    for (ask, text) in plan(&layout, &pods()) {
        assert!(text.contains("cluster=\"remote-1\""), "{ask:?}: {text}");
    }
    assert_eq!(
        plan(&layout, &pods())[0].1,
        "sum by (namespace, pod, type) (rate(pilot_xds_pushes{cluster=\"remote-1\"}[1m]))"
    );
}

/// Buckets of `(le, cumulative count)` for one pod.
fn buckets(ns: &str, pod: &str, counts: &[(&str, f64)]) -> Vec<(Labels, f64, f64)> {
    counts
        .iter()
        .map(|(le, c)| {
            (
                labels(&[("namespace", ns), ("pod", pod), ("le", le)]),
                0.0,
                *c,
            )
        })
        .collect()
}

#[test]
fn a_namespace_of_two_revisions_is_summed_per_revision_from_its_pods() {
    let mut got = BTreeMap::new();
    got.insert(
        Ask::ByNamespace(Query::Requests),
        vector_of(&[
            (&[("namespace", "shop")], 10.0),
            (&[("namespace", "moving")], 9.0),
            (&[("namespace", "unwatched")], 1.0),
        ]),
    );
    got.insert(
        Ask::ByPod(Query::Requests),
        vector_of(&[
            (&[("namespace", "moving"), ("pod", "web-a")], 3.0),
            (&[("namespace", "moving"), ("pod", "web-b")], 2.0),
            (&[("namespace", "moving"), ("pod", "web-c")], 4.0),
            (&[("namespace", "moving"), ("pod", "gone-1")], 7.0),
        ]),
    );
    got.insert(Ask::ByNamespace(Query::ServerErrors), empty());
    got.insert(
        Ask::ByPod(Query::ServerErrors),
        vector_of(&[(&[("namespace", "moving"), ("pod", "web-b")], 1.5)]),
    );
    got.insert(
        Ask::ByNamespace(Query::Latency),
        vector_of(&[(&[("namespace", "shop")], 12.0)]),
    );
    // web-a: fast; web-b and web-c: every request over 250 ms.
    let mut latency = buckets(
        "moving",
        "web-a",
        &[("10", 99.0), ("250", 100.0), ("+Inf", 100.0)],
    );
    latency.extend(buckets(
        "moving",
        "web-b",
        &[("10", 0.0), ("250", 0.0), ("+Inf", 50.0)],
    ));
    latency.extend(buckets(
        "moving",
        "web-c",
        &[("10", 0.0), ("250", 10.0), ("+Inf", 50.0)],
    ));
    got.insert(Ask::ByPod(Query::Latency), Ok(QueryResult::Vector(latency)));
    got.insert(Ask::ByNamespace(Query::MtlsFailures), empty());
    got.insert(Ask::ByPod(Query::MtlsFailures), empty());
    let (answers, notes) = answers(&stock(), &pods(), got);
    assert!(notes.is_empty());
    let r = queries::reading(answers, "test".into(), Utc::now());
    assert_eq!(r.data_plane.keys().collect::<Vec<_>>(), ["moving", "shop"]);
    let old = r.traffic("moving", OLD).expect("old revision");
    let new = r.traffic("moving", NEW).expect("new revision");
    assert_eq!(old.requests_per_s, 3.0);
    assert_eq!(new.requests_per_s, 6.0);
    assert_eq!(old.error_ratio, Some(0.0));
    assert_eq!(new.error_ratio, Some(0.25));
    assert!(old.p99_ms.is_some_and(|p| p <= 250.0), "{old:?}");
    assert_eq!(new.p99_ms, Some(250.0), "{new:?}");
    let shop = r.traffic("shop", OLD).expect("shop");
    assert_eq!((shop.requests_per_s, shop.p99_ms), (10.0, Some(12.0)));
    assert_eq!(r.data_plane["shop"].len(), 1);
}

#[test]
fn istiod_pods_are_summed_per_revision() {
    let by = |pod: &str, extra: &[(&str, &str)], v: f64| {
        let mut l = labels(&[("namespace", "istio-system"), ("pod", pod)]);
        for (k, x) in extra {
            l.insert((*k).into(), (*x).into());
        }
        (l, 0.0, v)
    };
    let mut got = BTreeMap::new();
    got.insert(
        Ask::ByIstiod(Query::Pushes),
        Ok(QueryResult::Vector(vec![
            by("istiod-1", &[("type", "eds")], 2.0),
            by("istiod-2", &[("type", "eds")], 3.0),
            by("istiod-new", &[("type", "cds")], 1.0),
        ])),
    );
    got.insert(
        Ask::ByIstiod(Query::Rejects),
        Ok(QueryResult::Vector(vec![
            by("istiod-1", &[], 0.0),
            by("istiod-2", &[], 0.5),
            by("istiod-new", &[], 0.0),
        ])),
    );
    got.insert(
        Ask::ByIstiod(Query::Convergence),
        Ok(QueryResult::Vector(vec![
            by("istiod-1", &[("le", "0.1")], 10.0),
            by("istiod-1", &[("le", "+Inf")], 10.0),
            by("istiod-2", &[("le", "0.1")], 0.0),
            by("istiod-2", &[("le", "+Inf")], 10.0),
        ])),
    );
    got.insert(
        Ask::ByIstiod(Query::Proxies),
        Ok(QueryResult::Vector(vec![
            by("istiod-1", &[("version", "1.24.0")], 40.0),
            by("istiod-2", &[("version", "1.24.0")], 60.0),
        ])),
    );
    for q in [
        Query::Requests,
        Query::ServerErrors,
        Query::Latency,
        Query::MtlsFailures,
    ] {
        got.insert(Ask::ByNamespace(q), empty());
    }
    let (answers, _) = answers(&stock(), &pods(), got);
    let r = queries::reading(answers, "test".into(), Utc::now());
    assert_eq!(r.control_plane.keys().collect::<Vec<_>>(), [OLD, NEW]);
    let old = &r.control_plane[OLD];
    assert_eq!(old.pushes_per_s["eds"], 5.0);
    assert_eq!(old.rejects_per_s, 0.5);
    assert_eq!(old.proxies["1.24.0"], 100.0);
    // Half the pushes at once, half beyond 0.1 s: p99 from the summed buckets.
    assert_eq!(old.convergence_p99, Some(0.1));
    assert_eq!(r.control_plane[NEW].pushes_per_s["cds"], 1.0);
}

#[test]
fn a_failed_half_fails_the_whole_and_too_many_mixed_namespaces_are_said() {
    let mut many = pods();
    for i in 0..MAX_MIXED_NAMESPACES + 3 {
        many.mixed.insert(
            format!("ns-{i:03}"),
            BTreeMap::from([("p".into(), NEW.into())]),
        );
    }
    let asks = plan(&stock(), &many);
    let by_pod = &asks
        .iter()
        .find(|(a, _)| *a == Ask::ByPod(Query::Requests))
        .expect("by pod")
        .1;
    assert_eq!(by_pod.matches('|').count(), MAX_MIXED_NAMESPACES - 1);
    let mut got = BTreeMap::new();
    got.insert(
        Ask::ByNamespace(Query::Requests),
        vector_of(&[(&[("namespace", "shop")], 10.0)]),
    );
    got.insert(
        Ask::ByPod(Query::Requests),
        Err(Failure::Fetch("no answer within 4 s".into())),
    );
    let (answers, notes) = answers(&stock(), &many, got);
    assert!(matches!(&answers[&Query::Requests], Err(Failure::Fetch(_))));
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].starts_with("4 namespaces with sidecars of two revisions"),
        "{notes:?}"
    );
}
