use super::*;
use crate::metrics::labels;
use crate::metrics::promql::{QueryError, ResultType};
use crate::metrics::queries::Failure;

fn one(pairs: &[(&str, &str)]) -> Answer {
    Ok(QueryResult::Vector(vec![(labels(pairs), 0.0, 1.0)]))
}

fn empty() -> Answer {
    Err(Failure::Query(QueryError::Empty(ResultType::Vector)))
}

fn clusters(values: &[&str]) -> Answer {
    Ok(QueryResult::Vector(
        values
            .iter()
            .map(|v| (labels(&[("cluster", v)]), 0.0, 3.0))
            .collect(),
    ))
}

#[test]
fn the_revision_label_wins_when_present() {
    let series = labels(&[("namespace", "a"), ("pod", "p"), ("istio_io_rev", "1-25-0")]);
    assert_eq!(Revisions::of(&series), Some(Revisions::Label));
}

#[test]
fn each_known_pod_pair_is_recognised() {
    let cases = [
        (&[("namespace", "a"), ("pod", "p")][..], POD_LABELS[0]),
        (
            &[("kubernetes_namespace", "a"), ("kubernetes_pod_name", "p")][..],
            POD_LABELS[1],
        ),
        (&[("namespace", "a"), ("pod_name", "p")][..], POD_LABELS[2]),
    ];
    for (pairs, expected) in cases {
        let mut series = labels(pairs);
        series.insert("job".into(), "envoy-stats".into());
        assert_eq!(
            Revisions::of(&series),
            Some(Revisions::Pods(expected)),
            "{pairs:?}"
        );
    }
    // An empty revision label is no label; a namespace alone names no pod.
    let series = labels(&[("istio_io_rev", ""), ("namespace", "a"), ("pod", "p")]);
    assert_eq!(Revisions::of(&series), Some(Revisions::Pods(POD_LABELS[0])));
    assert_eq!(Revisions::of(&labels(&[("namespace", "a")])), None);
}

#[test]
fn the_probe_decides_each_family_on_its_own() {
    let (layout, told) = decide(
        &one(&[("namespace", "a"), ("pod", "web-1")]),
        &one(&[
            ("namespace", "istio-system"),
            ("pod", "istiod-x"),
            ("istio_io_rev", "1-24-0"),
        ]),
        &empty(),
        "prod",
    );
    assert!(told);
    assert_eq!(layout.sidecars, Revisions::Pods(POD_LABELS[0]));
    assert_eq!(layout.istiod, Revisions::Label);
    assert_eq!(layout.cluster, None);
    assert!(layout.maps_pods());
    assert_eq!(
        layout.describe(),
        "revisions: sidecars from pods by namespace/pod via the pod watch, istiod from the istio_io_rev label"
    );
}

#[test]
fn a_probe_without_answers_keeps_the_revision_label_and_asks_again() {
    let down = Err(Failure::Fetch("connection refused".into()));
    let (layout, told) = decide(&down, &down, &down, "prod");
    assert_eq!(layout, Layout::default());
    assert!(!told);
    assert_eq!(layout.describe(), "revisions: the istio_io_rev label");
    assert!(!layout.maps_pods());
    let (layout, told) = decide(
        &empty(),
        &one(&[("namespace", "x"), ("pod", "y")]),
        &empty(),
        "p",
    );
    assert!(!told, "no sidecar series yet");
    assert_eq!(layout.sidecars, Revisions::Label);
    assert_eq!(layout.istiod, Revisions::Pods(POD_LABELS[0]));
}

#[test]
fn the_stock_layout_says_so() {
    let pods = one(&[("kubernetes_namespace", "a"), ("kubernetes_pod_name", "p")]);
    let (layout, _) = decide(&pods, &pods, &empty(), "prod");
    assert_eq!(
        layout.describe(),
        "revisions: pods by kubernetes_namespace/kubernetes_pod_name via the pod watch"
    );
}

#[test]
fn a_cluster_label_filters_when_it_names_this_cluster() {
    let rev = one(&[("istio_io_rev", "1-24-0")]);
    let (layout, _) = decide(&rev, &rev, &clusters(&["primary", "remote-1"]), "remote-1");
    assert_eq!(layout.cluster.as_deref(), Some("remote-1"));
    assert_eq!(layout.warning, None);
    assert_eq!(
        layout.describe(),
        "revisions: the istio_io_rev label · only series with cluster=\"remote-1\""
    );
    // One cluster under another name: that Prometheus holds only it, no filter needed.
    let (layout, _) = decide(&rev, &rev, &clusters(&["eks-prod-eu"]), "prod-eu");
    assert_eq!((layout.cluster, layout.warning), (None, None));
    // No cluster label at all.
    let (layout, _) = decide(&rev, &rev, &one(&[]), "prod-eu");
    assert_eq!((layout.cluster, layout.warning), (None, None));
}

#[test]
fn several_clusters_none_of_them_ours_is_a_warning() {
    let rev = one(&[("istio_io_rev", "1-24-0")]);
    let (layout, _) = decide(&rev, &rev, &clusters(&["a", "b"]), "c");
    assert_eq!(layout.cluster, None);
    let warning = layout.warning.expect("a warning");
    assert!(warning.contains("the clusters a, b"), "{warning}");
    assert!(warning.contains("none is named \"c\""), "{warning}");
}

#[test]
fn cluster_values_are_escaped() {
    assert_eq!(cluster_matcher("a\"b\\c"), r#"cluster="a\"b\\c""#);
}
