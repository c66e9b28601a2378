//! A real Prometheus scraping the simulator through the `stock` configuration (series with
//! `namespace` and `pod`, no `istio_io_rev`), read by the cockpit's real sources: the pod
//! watch gives each pod its revision and the Prometheus source sums per revision. A
//! namespace with pods of both revisions gets the right numbers for each. Also a Prometheus
//! shared by a fleet, filtered to one cluster by its `cluster` label.

use std::collections::BTreeMap;
use std::time::Duration;

use istio_cockpit::app::state::{Mode, State};
use istio_cockpit::cluster::prometheus_source::{Poller, PrometheusAuth, PrometheusTarget};
use istio_cockpit::cockpit::MetricsChoice;
use istio_cockpit::cockpit::headless::Headless;
use istio_cockpit::metrics::mapped_queries::PodRevisions;
use istio_cockpit::metrics::reading::{Reading, Traffic};
use reqwest::Url;

use crate::common::cluster::{injected_by, is_ready, label_for, pods_json};
use crate::common::prometheus::scraped_sim;
use crate::common::{Sim, eventually};

const NS: &str = "staging-api";
const CALM: &str = "staging-web";
const OLD: &str = "1-24-0";
const NEW: &str = "1-25-0";
const WAIT: Duration = Duration::from_secs(90);

/// Moves one pod of `NS` to the new revision: the namespace labelled for it, one pod
/// deleted and replaced. Returns the pods' revisions once all are ready.
fn one_pod_on_the_new_revision(sim: &Sim) -> BTreeMap<String, String> {
    let before = pods_json(sim, NS);
    let victim = before[0]["metadata"]["name"].as_str().unwrap().to_string();
    label_for(sim, NS, NEW);
    sim.kubectl(&["delete", "pod", &victim, "-n", NS, "--wait=false"]);
    let settled = eventually(WAIT, || {
        let pods = pods_json(sim, NS);
        let revisions: BTreeMap<String, String> = pods
            .iter()
            .filter_map(|p| {
                let name = p["metadata"]["name"].as_str()?.to_string();
                Some((name, injected_by(p)?))
            })
            .collect();
        let done = pods.len() == before.len()
            && pods.iter().all(is_ready)
            && !revisions.contains_key(&victim)
            && revisions.values().filter(|r| *r == NEW).count() == 1;
        done.then_some(revisions)
    });
    settled.expect("one pod of the namespace never ran the new revision")
}

fn latest(state: &State) -> Option<&Reading> {
    state.metrics.readings.back()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_with_pods_of_both_revisions_gets_each_revisions_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sim, prom) = scraped_sim(dir.path(), &["--prometheus-style", "stock"]);
    sim.set_faults(r#"{"data":{"latency.1-25-0":"400"}}"#);
    let revisions = one_pod_on_the_new_revision(&sim);

    let conn = sim.connect("sim-admin").await;
    let metrics = MetricsChoice {
        prometheus: Some(PrometheusTarget::Url {
            url: Url::parse(&prom.url()).unwrap(),
            auth: PrometheusAuth::None,
        }),
        plan_service: None,
        cluster: "primary".into(),
    };
    let mut cockpit = Headless::start_with(
        &conn,
        Mode::ReadOnly("test".into()),
        1000,
        (160, 50),
        metrics,
    );
    // Both revisions of the namespace have numbers, the new one slowed by the fault.
    let both = cockpit
        .pump_until(WAIT, |s| {
            latest(s).is_some_and(|r| {
                let p99 = |rev| r.traffic(NS, rev).and_then(|t| t.p99_ms);
                r.traffic(CALM, OLD).is_some()
                    && r.control_plane.contains_key(NEW)
                    && p99(OLD).is_some()
                    && p99(NEW).is_some_and(|p| p > 300.0)
            })
        })
        .await;
    let reading = latest(&cockpit.state).cloned();
    assert!(both, "no numbers for both revisions of {NS}: {reading:#?}");
    let r = reading.expect("a reading");
    assert!(
        r.source
            .ends_with(" · revisions: pods by namespace/pod via the pod watch"),
        "{}",
        r.source
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let (old, new) = (&r.data_plane[NS][OLD], &r.data_plane[NS][NEW]);
    assert!(
        old.p99_ms.is_some_and(|p| p < 300.0),
        "the old revision's pods are not slowed: {old:?}"
    );
    // A namespace all on one revision is given to that revision whole.
    assert_eq!(r.data_plane[CALM].keys().collect::<Vec<_>>(), [OLD]);
    // istiod of both revisions, mapped by pod.
    assert!(r.control_plane.contains_key(OLD), "{:?}", r.control_plane);

    // Each revision's requests are its pods' requests, as Prometheus counts them per pod.
    let per_pod = prom.by(
        "pod",
        &format!(
            "sum by (pod) (rate(istio_requests_total{{reporter=\"destination\",namespace=\"{NS}\"}}[1m]))"
        ),
    );
    let mut expected: BTreeMap<&str, f64> = BTreeMap::new();
    for (pod, rate) in &per_pod {
        if let Some(rev) = revisions.get(pod) {
            *expected.entry(rev.as_str()).or_default() += rate;
        }
    }
    for (rev, got) in [(OLD, old.requests_per_s), (NEW, new.requests_per_s)] {
        let want = expected.get(rev).copied().unwrap_or_default();
        assert!(
            want > 0.0 && (got - want).abs() <= want * 0.25,
            "{rev}: {got} req/s from the cockpit, {want} from Prometheus per pod ({per_pod:?})"
        );
    }
    // The old revision has three pods to the new one's one.
    assert!(
        old.requests_per_s > new.requests_per_s,
        "{old:?} vs {new:?}"
    );
}

/// A Prometheus shared by a fleet labels every series with its `cluster`: the cockpit asks
/// for its own cluster's series only.
#[test]
fn a_prometheus_shared_by_a_fleet_is_filtered_to_the_cluster() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, prom) = scraped_sim(dir.path(), &["--clusters", "2", "--namespaces", "3"]);
    let poller =
        Poller::http(Url::parse(&prom.url()).unwrap(), PrometheusAuth::None).expect("poller");
    let by_namespace = |filter: &str| {
        prom.by(
            "namespace",
            &format!(
                "sum by (namespace) (rate(istio_requests_total{{reporter=\"destination\"{filter}}}[1m]))"
            ),
        )
    };
    let mut last = None;
    let matched = eventually(WAIT, || {
        let r = rt.block_on(poller.read_mapped("primary", &PodRevisions::default()));
        let ours = by_namespace(",cluster=\"primary\"");
        let all = by_namespace("");
        let close = |got: f64, want: f64| want > 0.0 && (got - want).abs() <= want * 0.25;
        let total = |by_rev: &BTreeMap<String, Traffic>| -> f64 {
            by_rev.values().map(|t| t.requests_per_s).sum()
        };
        // The first rounds run while the layout is still being probed, unfiltered.
        let filtered = r
            .source
            .ends_with(" · only series with cluster=\"primary\"");
        let ok = r.errors.is_empty()
            && filtered
            && !ours.is_empty()
            && r.data_plane.keys().eq(ours.keys())
            && r.data_plane.iter().all(|(ns, by_rev)| close(total(by_rev), ours[ns]))
            // The other cluster serves some of the same namespaces: summed, they would differ.
            && r.data_plane.iter().any(|(ns, by_rev)| !close(total(by_rev), all[ns]));
        last = Some((r.clone(), ours, all));
        ok.then_some(r)
    });
    let r = matched.unwrap_or_else(|| panic!("not primary's numbers alone: {last:#?}"));
    // Its istiod's numbers too (the remote runs none).
    assert!(
        r.control_plane.contains_key("1-24-0") && r.control_plane.contains_key("1-25-0"),
        "{:?}",
        r.control_plane
    );
    assert!(
        r.source
            .ends_with(" · only series with cluster=\"primary\""),
        "{}",
        r.source
    );
}
