//! The metrics core against the simulator's own pages: istiod's `/metrics` and the sidecars'
//! `/stats/prometheus`, rendered in-process (no server), parsed by `metrics::exposition`, and
//! turned into the numbers the panes and gates use.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use istio_cockpit::metrics::Labels;
use istio_cockpit::metrics::exposition::{self, MetricType};
use istio_cockpit::metrics::maths::{self, Histogram};
use istio_cockpit::sim::faults::{FaultSet, Faults};
use istio_cockpit::sim::logs::LogHub;
use istio_cockpit::sim::mesh::Mesh;
use istio_cockpit::sim::store::Store;
use istio_cockpit::sim::{injection, scenario};
use serde_json::json;

fn mesh(faults: FaultSet) -> (Arc<Store>, Arc<Mesh>) {
    let store = Arc::new(Store::default());
    store.set_admission(Box::new(|view, resource, obj| {
        if resource == "pods" {
            injection::admit_pod(view, obj);
        }
    }));
    scenario::load(&store, &scenario::Options::default()).expect("scenario");
    let hub = Arc::new(LogHub::new(100));
    let switches = Arc::new(Faults::default());
    switches.set(faults);
    let mesh = Mesh::new(store.clone(), hub, switches, 7);
    (store, mesh)
}

/// istiod pods as (name, revision).
fn istiods(store: &Store) -> Vec<(String, String)> {
    store
        .values("pods", Some("istio-system"))
        .iter()
        .filter(|p| p["metadata"]["labels"]["app"] == "istiod")
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["metadata"]["labels"]["istio.io/rev"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn istiod_pages_parse_into_istio_families() {
    let (store, mesh) = mesh(FaultSet::default());
    let pods = istiods(&store);
    assert!(pods.len() >= 2, "{pods:?}");
    let mut connected: BTreeMap<String, f64> = BTreeMap::new();
    for (pod, rev) in &pods {
        let page = mesh
            .pod_metrics("istio-system", pod, 15014)
            .expect("istiod page");
        let scrape = exposition::parse(&page).unwrap_or_else(|e| panic!("{pod}: {e}"));
        let proxies = scrape.families.types.get("pilot_xds");
        assert!(proxies.is_none_or(|t| *t == MetricType::Gauge), "{pod}");
        assert_eq!(
            scrape.families.types["pilot_xds_pushes"],
            MetricType::Counter
        );
        assert_eq!(
            scrape.families.types["pilot_proxy_convergence_time"],
            MetricType::Histogram
        );
        let build = scrape.named("istio_build").next().expect("istio_build");
        assert_eq!(build.labels["component"], "pilot");
        assert_eq!(build.labels["tag"], rev.replace('-', "."));
        for s in scrape.named("pilot_xds") {
            *connected.entry(s.labels["version"].clone()).or_default() += s.value;
        }
        // One convergence series, istiod's 8 bounds plus +Inf, +Inf equal to _count.
        let convergence = scrape.histograms("pilot_proxy_convergence_time");
        let h = &convergence[&Labels::new()];
        assert_eq!(h.buckets.len(), 9);
        assert_eq!(h.buckets[8].0, f64::INFINITY);
        assert_eq!(h.buckets[8].1, h.count);
        // Push time comes per xDS type.
        let push = scrape.histograms("pilot_xds_push_time");
        assert!(push.keys().all(|l| l.contains_key("type")), "{push:?}");
        assert!(push.len() >= 4);
    }
    // The scenario starts with every proxy on the old revision, one of them skewed.
    assert_eq!(connected.get("1.22.4"), Some(&1.0), "{connected:?}");
    assert!(connected.values().sum::<f64>() > 10.0);
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Every request-duration series of the combined page, merged, for one `reporter`.
fn durations(scrape: &exposition::Scrape, reporter: &str) -> Histogram {
    let mut total = Histogram {
        buckets: Vec::new(),
        count: f64::NAN,
        sum: f64::NAN,
    };
    for (labels, h) in scrape.histograms("istio_request_duration_milliseconds") {
        if labels["reporter"] == reporter {
            total.merge(&h);
        }
    }
    total
}

#[tokio::test]
async fn two_scrapes_give_the_rate_the_5xx_ratio_and_the_latency_of_a_faulty_revision() {
    let (faults, unknown) =
        FaultSet::from_data(&json!({"errors.1-24-0": "0.25", "latency.1-24-0": "400"}));
    assert!(unknown.is_empty(), "{unknown:?}");
    let (_, mesh) = mesh(faults);
    mesh.clone().spawn();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let first_at = unix_now();
    let first = exposition::parse(&mesh.all_metrics().expect("small mesh")).expect("first page");
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let second_at = unix_now();
    let second = exposition::parse(&mesh.all_metrics().expect("small mesh")).expect("second page");

    // Every sample of the combined page names its target, as Prometheus' relabelling would.
    assert!(
        second
            .samples
            .iter()
            .all(|s| s.labels.contains_key("istio_io_rev"))
    );
    let increases =
        maths::counter_increases(&first.samples, &second.samples, "istio_requests_total");
    assert!(!increases.is_empty());
    let served: f64 = increases
        .iter()
        .filter(|(l, _)| l["reporter"] == "destination")
        .map(|(_, n)| n)
        .sum();
    let per_second = served / (second_at - first_at);
    assert!(per_second > 1.0, "{per_second} requests/s");

    let ratio = maths::five_xx_ratio(&increases, |l| l["reporter"] == "destination")
        .expect("traffic between the scrapes");
    assert!((0.15..0.35).contains(&ratio), "5xx ratio {ratio}");

    // Latency +400 ms on every request: the median of the interval is around 400 ms.
    let before = durations(&first, "destination");
    let after = durations(&second, "destination");
    let p50 = after.quantile_since(&before, 0.5).expect("observations");
    assert!((300.0..1000.0).contains(&p50), "p50 {p50} ms");
    // The p99 is not checked: the simulator floors `count * cdf(bound)` per bucket, so a
    // series with few requests reports its last one in a far bucket (30 to 300 s), and the
    // p99 of a few seconds of traffic lands there. The maths follow the page faithfully.
    assert!(after.quantile_since(&before, 0.99).unwrap() >= p50);

    // Fed to a gate: 5xx over 1% for 0 s is a breach at once.
    let mut gate = maths::Trigger::new(0.01, Duration::ZERO, Duration::from_secs(30));
    gate.feed(second_at, ratio);
    assert!(gate.state(second_at).is_breached());
}
