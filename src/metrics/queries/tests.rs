use super::*;
use crate::metrics::promql::decode;

fn answer(body: &str) -> Answer {
    decode(body.as_bytes()).map_err(Failure::from)
}

/// An instant-vector answer with one series per `(labels, value)`.
fn vector(series: &[(&[(&str, &str)], &str)]) -> Answer {
    let result: Vec<String> = series
        .iter()
        .map(|(labels, value)| {
            let metric: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("\"{k}\":\"{v}\""))
                .collect();
            format!(
                "{{\"metric\":{{{}}},\"value\":[1730000000.5,\"{value}\"]}}",
                metric.join(",")
            )
        })
        .collect();
    answer(&format!(
        "{{\"status\":\"success\",\"data\":{{\"resultType\":\"vector\",\"result\":[{}]}}}}",
        result.join(",")
    ))
}

fn empty() -> Answer {
    answer(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
}

const OLD: &str = "1-24-0";
const NEW: &str = "1-25-0";

fn healthy_round() -> BTreeMap<Query, Answer> {
    BTreeMap::from([
        (
            Query::Pushes,
            vector(&[
                (&[("istio_io_rev", OLD), ("type", "eds")], "12.5"),
                (&[("istio_io_rev", OLD), ("type", "cds")], "0.5"),
                (&[("istio_io_rev", NEW), ("type", "eds")], "0"),
            ]),
        ),
        (
            Query::Rejects,
            vector(&[
                (&[("istio_io_rev", OLD)], "0"),
                (&[("istio_io_rev", NEW)], "0.2"),
            ]),
        ),
        (
            Query::Convergence,
            vector(&[
                (&[("istio_io_rev", OLD)], "0.35"),
                (&[("istio_io_rev", NEW)], "NaN"),
            ]),
        ),
        (
            Query::Proxies,
            vector(&[
                (&[("istio_io_rev", OLD), ("version", "1.24.0")], "40"),
                (&[("istio_io_rev", OLD), ("version", "1.22.4")], "1"),
            ]),
        ),
        (
            Query::Requests,
            vector(&[
                (&[("namespace", "checkout"), ("istio_io_rev", OLD)], "20"),
                (&[("namespace", "checkout"), ("istio_io_rev", NEW)], "5"),
                (&[("namespace", "payments"), ("istio_io_rev", OLD)], "0"),
            ]),
        ),
        (
            Query::ServerErrors,
            vector(&[(&[("namespace", "checkout"), ("istio_io_rev", NEW)], "0.5")]),
        ),
        (
            Query::Latency,
            vector(&[
                (&[("namespace", "checkout"), ("istio_io_rev", OLD)], "48.2"),
                (&[("namespace", "checkout"), ("istio_io_rev", NEW)], "310"),
                (&[("namespace", "payments"), ("istio_io_rev", OLD)], "NaN"),
            ]),
        ),
        (
            Query::MtlsFailures,
            vector(&[(&[("namespace", "frontend"), ("istio_io_rev", NEW)], "1.5")]),
        ),
    ])
}

fn read(answers: BTreeMap<Query, Answer>) -> Reading {
    reading(
        answers,
        "Prometheus at http://prom:9090/".into(),
        Utc::now(),
    )
}

#[test]
fn several_revisions_land_in_their_places() {
    let r = read(healthy_round());
    assert_eq!(r.errors, Vec::<String>::new());
    assert!(!r.is_down());
    let old = &r.control_plane[OLD];
    assert_eq!(
        old.pushes_per_s,
        BTreeMap::from([("cds".into(), 0.5), ("eds".into(), 12.5)])
    );
    assert_eq!(old.rejects_per_s, 0.0);
    assert_eq!(old.convergence_p99, Some(0.35));
    assert_eq!(old.proxies.values().sum::<f64>(), 41.0);
    let new = &r.control_plane[NEW];
    assert_eq!(new.rejects_per_s, 0.2);
    // No pushes in the window: histogram_quantile answers NaN, which is unknown.
    assert_eq!(new.convergence_p99, None);
    assert!(new.proxies.is_empty());

    let old = r.traffic("checkout", OLD).unwrap();
    assert_eq!(old.requests_per_s, 20.0);
    // No 5xx series while requests were counted: no errors, not unknown.
    assert_eq!(old.error_ratio, Some(0.0));
    assert_eq!(old.p99_ms, Some(48.2));
    assert_eq!(old.mtls_failures_per_s, 0.0);
    assert_eq!(old.sampled_pods, None);
    assert_eq!(r.traffic("checkout", NEW).unwrap().error_ratio, Some(0.1));
    // Series exist but nothing was served in the window: no ratio, no latency.
    let idle = r.traffic("payments", OLD).unwrap();
    assert_eq!((idle.error_ratio, idle.p99_ms), (None, None));
    // A namespace that only calls out still shows its failed connections.
    let caller = r.traffic("frontend", NEW).unwrap();
    assert_eq!(caller.mtls_failures_per_s, 1.5);
    assert_eq!((caller.requests_per_s, caller.error_ratio), (0.0, None));
}

#[test]
fn a_failed_query_leaves_its_numbers_unknown_and_names_itself() {
    let mut answers = healthy_round();
    answers.insert(
        Query::Latency,
        answer(r#"{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}"#),
    );
    answers.insert(
        Query::ServerErrors,
        Err(Failure::Fetch("timed out after 4 s".into())),
    );
    answers.insert(Query::MtlsFailures, answer("<html>bad gateway</html>"));
    answers.insert(
        Query::Rejects,
        Err(Failure::Fetch("connection reset".into())),
    );
    let r = read(answers);
    assert_eq!(r.errors.len(), 4, "{:?}", r.errors);
    assert!(
        r.errors
            .iter()
            .any(|e| e.starts_with("data plane p99: Prometheus refused the query (timeout)"))
    );
    assert!(
        r.errors
            .contains(&"data plane 5xx: timed out after 4 s".to_string())
    );
    assert!(
        r.errors
            .iter()
            .any(|e| e.starts_with("data plane mTLS failures: not a Prometheus answer"))
    );
    assert!(
        r.errors
            .contains(&"control plane rejects: connection reset".to_string())
    );
    let t = r.traffic("checkout", OLD).unwrap();
    assert_eq!(t.requests_per_s, 20.0);
    assert_eq!((t.error_ratio, t.p99_ms), (None, None));
    assert!(t.mtls_failures_per_s.is_nan());
    // The revisions still come from the other answers; their rejects are unknown.
    assert_eq!(r.control_plane.len(), 2);
    assert!(r.control_plane.values().all(|c| c.rejects_per_s.is_nan()));
    assert!(!r.is_down());
}

#[test]
fn absent_requests_never_become_healthy_numbers() {
    let mut answers = healthy_round();
    answers.insert(
        Query::Requests,
        Err(Failure::Fetch("timed out after 4 s".into())),
    );
    let r = read(answers);
    // 5xx, latency and mTLS answers alone do not make a namespace look served and healthy.
    assert!(r.data_plane.is_empty());
    assert_eq!(
        r.errors,
        vec!["data plane requests: timed out after 4 s".to_string()]
    );

    // No inbound requests anywhere and no failures: nothing to show, nothing wrong.
    let mut answers = healthy_round();
    for q in [
        Query::Requests,
        Query::ServerErrors,
        Query::Latency,
        Query::MtlsFailures,
    ] {
        answers.insert(q, empty());
    }
    let r = read(answers);
    assert!(r.data_plane.is_empty() && r.errors.is_empty());
}

#[test]
fn rejects_list_the_revisions_up_now() {
    let mut answers = healthy_round();
    // 1-23-0's istiod went away 20 s ago: its rates linger, its build info does not.
    answers.insert(
        Query::Pushes,
        vector(&[
            (&[("istio_io_rev", OLD), ("type", "eds")], "1"),
            (&[("istio_io_rev", "1-23-0"), ("type", "eds")], "3"),
        ]),
    );
    let r = read(answers);
    assert_eq!(r.control_plane.keys().collect::<Vec<_>>(), [OLD, NEW]);
    assert!(r.control_plane[NEW].pushes_per_s.is_empty());
}

#[test]
fn unplaceable_series_and_wrong_shapes_are_errors() {
    let mut answers = healthy_round();
    answers.insert(
        Query::Requests,
        vector(&[
            (&[("namespace", "checkout"), ("istio_io_rev", OLD)], "20"),
            (&[("namespace", "checkout")], "7"),
        ]),
    );
    answers.insert(
        Query::Proxies,
        answer(r#"{"status":"success","data":{"resultType":"scalar","result":[1730000000,"3"]}}"#),
    );
    let r = read(answers);
    assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
    assert!(r.errors[0].starts_with("control plane proxies: expected an instant vector"));
    assert!(
        r.errors[1].starts_with(
            "data plane requests: 1 series without the labels namespace, istio_io_rev"
        )
    );
    assert_eq!(r.traffic("checkout", OLD).unwrap().requests_per_s, 20.0);
    assert!(r.control_plane[OLD].proxies.is_empty());
}

#[test]
fn nothing_answered_is_one_error_and_no_numbers() {
    let answers = Query::ALL
        .iter()
        .map(|q| (*q, Err(Failure::Fetch("connection refused".into()))))
        .collect();
    let r = read(answers);
    assert!(r.is_down());
    assert_eq!(
        r.errors,
        vec![
            "no usable answer from Prometheus at http://prom:9090/: connection refused".to_string()
        ]
    );
    // A Prometheus that answers but holds no istiod series says so.
    let answers = Query::ALL.iter().map(|q| (*q, empty())).collect();
    let r = read(answers);
    assert_eq!(r.errors.len(), 1);
    assert!(r.errors[0].contains("no istiod series"), "{:?}", r.errors);
}

#[test]
fn the_queries_use_the_window_and_the_right_reporter() {
    for q in Query::ALL {
        let text = q.promql();
        assert!(text.contains("istio_io_rev"), "{text}");
        if !matches!(q, Query::Proxies | Query::Memory) {
            assert!(text.contains(&format!("[{WINDOW}]")), "{text}");
        }
    }
    assert!(
        Query::Requests
            .promql()
            .contains(r#"reporter="destination""#)
    );
    assert!(
        Query::MtlsFailures
            .promql()
            .contains(r#"reporter="source""#)
    );
    assert!(Query::Rejects.promql().contains(" or "));
}

#[test]
fn without_a_cluster_filter_the_queries_read_as_they_always_did() {
    let expected = [
        (
            Query::Pushes,
            "sum by (istio_io_rev, type) (rate(pilot_xds_pushes[1m]))",
        ),
        (
            Query::Rejects,
            "sum by (istio_io_rev) (rate(pilot_total_xds_rejects[1m])) or (sum by (istio_io_rev) (istio_build{component=\"pilot\"}) * 0)",
        ),
        (
            Query::Convergence,
            "histogram_quantile(0.99, sum by (istio_io_rev, le) (rate(pilot_proxy_convergence_time_bucket[1m])))",
        ),
        (Query::Proxies, "sum by (istio_io_rev, version) (pilot_xds)"),
        (
            Query::Requests,
            "sum by (namespace, istio_io_rev) (rate(istio_requests_total{reporter=\"destination\"}[1m]))",
        ),
        (
            Query::ServerErrors,
            "sum by (namespace, istio_io_rev) (rate(istio_requests_total{reporter=\"destination\",response_code=~\"5..\"}[1m]))",
        ),
        (
            Query::Latency,
            "histogram_quantile(0.99, sum by (namespace, istio_io_rev, le) (rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\"}[1m])))",
        ),
        (
            Query::MtlsFailures,
            "sum by (namespace, istio_io_rev) (rate(istio_requests_total{reporter=\"source\",response_code=\"503\",response_flags=~\"UF|UF,URX\"}[1m]))",
        ),
        (
            Query::Cpu,
            "sum by (istio_io_rev) (rate(process_cpu_seconds_total{app=\"istiod\"}[1m]))",
        ),
        (
            Query::Memory,
            "sum by (istio_io_rev) (process_resident_memory_bytes{app=\"istiod\"})",
        ),
    ];
    for (q, text) in expected {
        assert_eq!(q.promql(), text, "{q:?}");
        assert_eq!(q.promql_in(None), text, "{q:?}");
    }
}

#[test]
fn a_cluster_filter_reaches_every_selector() {
    let matcher = crate::metrics::label_mapping::cluster_matcher("eu-1");
    assert_eq!(
        Query::Pushes.promql_in(Some(&matcher)),
        "sum by (istio_io_rev, type) (rate(pilot_xds_pushes{cluster=\"eu-1\"}[1m]))"
    );
    assert_eq!(
        Query::Rejects.promql_in(Some(&matcher)),
        "sum by (istio_io_rev) (rate(pilot_total_xds_rejects{cluster=\"eu-1\"}[1m])) or (sum by (istio_io_rev) (istio_build{component=\"pilot\",cluster=\"eu-1\"}) * 0)"
    );
    assert_eq!(
        Query::Requests.promql_in(Some(&matcher)),
        "sum by (namespace, istio_io_rev) (rate(istio_requests_total{reporter=\"destination\",cluster=\"eu-1\"}[1m]))"
    );
    for q in Query::ALL {
        let text = q.promql_in(Some(&matcher));
        // One cluster matcher per metric selector.
        assert_eq!(
            text.matches("cluster=\"eu-1\"").count(),
            if q == Query::Rejects { 2 } else { 1 },
            "{q:?}: {text}"
        );
    }
}
