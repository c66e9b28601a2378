use super::*;
use crate::metrics::data_plane::{LastScrapes, PodIncrease};
use crate::metrics::labels;
use crate::metrics::promql::decode;
use crate::metrics::sidecar_snapshot::SidecarSnapshot;

fn pair(source: &str, destination: &str) -> Route {
    Route {
        source: source.into(),
        destination: destination.into(),
    }
}

/// A Prometheus answer: one series per `(source_cluster, destination_cluster, value)`.
fn answer(series: &[(&str, &str, &str)]) -> Answer {
    let result: Vec<String> = series
        .iter()
        .map(|(s, d, v)| {
            format!(
                "{{\"metric\":{{\"source_cluster\":\"{s}\",\"destination_cluster\":\"{d}\"}},\
                 \"value\":[1730000000.5,\"{v}\"]}}"
            )
        })
        .collect();
    let body = format!(
        "{{\"status\":\"success\",\"data\":{{\"resultType\":\"vector\",\"result\":[{}]}}}}",
        result.join(",")
    );
    decode(body.as_bytes()).map_err(Failure::from)
}

#[test]
fn a_route_is_an_outbound_series_between_two_named_clusters() {
    let series = |pairs: &[(&str, &str)]| route(&labels(pairs));
    assert_eq!(
        series(&[
            ("reporter", "source"),
            ("source_cluster", "remote-1"),
            ("destination_cluster", "primary"),
        ]),
        Some(pair("remote-1", "primary"))
    );
    assert_eq!(
        pair("remote-1", "primary").to_string(),
        "remote-1 -> primary"
    );
    for pairs in [
        // The serving side's count of the same requests.
        vec![
            ("reporter", "destination"),
            ("source_cluster", "remote-1"),
            ("destination_cluster", "primary"),
        ],
        // Within one cluster.
        vec![
            ("reporter", "source"),
            ("source_cluster", "primary"),
            ("destination_cluster", "primary"),
        ],
        // No upstream was found: no cluster is named.
        vec![
            ("reporter", "source"),
            ("source_cluster", "primary"),
            ("destination_cluster", "unknown"),
        ],
        vec![("reporter", "source"), ("source_cluster", "primary")],
        vec![("reporter", "source"), ("response_code", "200")],
    ] {
        assert_eq!(series(&pairs), None, "{pairs:?}");
    }
}

#[test]
fn prometheus_answers_give_rates_and_5xx_shares_per_route() {
    let requests = answer(&[
        ("remote-1", "primary", "4"),
        ("primary", "remote-1", "6"),
        // Same-cluster traffic is not counted.
        ("primary", "primary", "100"),
    ]);
    let errors = answer(&[("remote-1", "primary", "4"), ("primary", "primary", "50")]);
    let cross = from_prometheus(requests, errors).unwrap();
    assert_eq!(cross.requests_per_s, 10.0);
    assert_eq!(cross.error_ratio, Some(0.4));
    assert_eq!(
        cross.routes,
        BTreeMap::from([
            (
                pair("primary", "remote-1"),
                CrossTraffic {
                    requests_per_s: 6.0,
                    error_ratio: Some(0.0),
                }
            ),
            (
                pair("remote-1", "primary"),
                CrossTraffic {
                    requests_per_s: 4.0,
                    error_ratio: Some(1.0),
                }
            ),
        ])
    );
}

#[test]
fn without_cross_cluster_series_nothing_is_known() {
    let empty = || answer(&[]);
    assert_eq!(from_prometheus(empty(), empty()), None);
    // One cluster that labels its series: every pair is the same cluster.
    let same = answer(&[("primary", "primary", "12")]);
    assert_eq!(from_prometheus(same, empty()), None);
    let refused = || Err(Failure::Fetch("connection refused".into()));
    assert_eq!(from_prometheus(refused(), empty()), None);
}

#[test]
fn a_route_gone_quiet_is_zero_and_uncounted_5xx_are_unknown() {
    let requests = || answer(&[("remote-1", "primary", "0"), ("remote-1", "remote-2", "2")]);
    let cross = from_prometheus(requests(), answer(&[])).unwrap();
    assert_eq!(cross.requests_per_s, 2.0);
    assert_eq!(cross.error_ratio, Some(0.0));
    let quiet = &cross.routes[&pair("remote-1", "primary")];
    assert_eq!((quiet.requests_per_s, quiet.error_ratio), (0.0, None));
    let refused = Err(Failure::Fetch("timed out".into()));
    let cross = from_prometheus(requests(), refused).unwrap();
    assert_eq!(cross.requests_per_s, 2.0);
    assert_eq!(cross.error_ratio, None);
    assert!(cross.routes.values().all(|t| t.error_ratio.is_none()));
}

/// A sidecar page of `primary`'s pod with outbound counters: `(destination cluster, code,
/// count)`, and one inbound series that must not count.
fn page(outbound: &[(&str, &str, u64)], clusters: bool) -> SidecarSnapshot {
    let mut text = String::from("# TYPE istio_requests_total counter\n");
    for (destination, code, n) in outbound {
        let where_to = if clusters {
            format!(",source_cluster=\"primary\",destination_cluster=\"{destination}\"")
        } else {
            String::new()
        };
        text += &format!(
            "istio_requests_total{{reporter=\"source\",response_code=\"{code}\",\
             response_flags=\"-\"{where_to}}} {n}\n"
        );
    }
    text += "istio_requests_total{reporter=\"destination\",response_code=\"503\",\
             source_cluster=\"remote-1\",destination_cluster=\"primary\"} 1000\n";
    SidecarSnapshot::read(&text).unwrap()
}

fn increase(
    before: &[(&str, &str, u64)],
    after: &[(&str, &str, u64)],
    clusters: bool,
) -> PodIncrease {
    let mut last = LastScrapes::default();
    assert!(
        last.record("shop", "cart-1", 0.0, page(before, clusters))
            .is_none()
    );
    last.record("shop", "cart-1", 5.0, page(after, clusters))
        .expect("an increase from the second scrape")
}

#[test]
fn sampled_pages_give_rates_per_route_over_each_pods_interval() {
    let a = increase(
        &[
            ("remote-1", "200", 10),
            ("remote-1", "503", 0),
            ("primary", "200", 50),
        ],
        &[
            ("remote-1", "200", 30),
            ("remote-1", "503", 20),
            ("primary", "200", 90),
        ],
        true,
    );
    // 40 requests to remote-1 over 5 s, half of them 503; local calls and inbound not counted.
    let to_remote = &a.cross_cluster[&pair("primary", "remote-1")];
    assert_eq!((to_remote.requests, to_remote.errors), (40.0, 20.0));
    assert_eq!(a.cross_cluster.len(), 1);
    let b = increase(&[("remote-2", "200", 0)], &[("remote-2", "200", 0)], true);
    let cross = from_pods([(a.seconds, &a.cross_cluster), (10.0, &b.cross_cluster)]).unwrap();
    assert_eq!(cross.requests_per_s, 8.0);
    assert_eq!(cross.error_ratio, Some(0.5));
    // A route whose counters did not move: known, and quiet.
    let quiet = &cross.routes[&pair("primary", "remote-2")];
    assert_eq!((quiet.requests_per_s, quiet.error_ratio), (0.0, None));
}

#[test]
fn pages_without_cluster_labels_know_nothing_of_other_clusters() {
    let inc = increase(
        &[("remote-1", "200", 10)],
        &[("remote-1", "503", 30)],
        false,
    );
    assert!(inc.cross_cluster.is_empty());
    assert_eq!(from_pods([(inc.seconds, &inc.cross_cluster)]), None);
    assert_eq!(from_pods(std::iter::empty()), None);
}

#[test]
fn the_queries_ask_the_callers_count_over_the_window() {
    for q in [requests_promql(), errors_promql()] {
        assert!(q.contains(r#"reporter="source""#), "{q}");
        assert!(
            q.contains("by (source_cluster, destination_cluster)"),
            "{q}"
        );
        assert!(q.contains(&format!("[{WINDOW}]")), "{q}");
    }
    assert!(errors_promql().contains(r#"response_code=~"5..""#));
}
