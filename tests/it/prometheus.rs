//! A real Prometheus (the Debian package, 2.42) scrapes the simulator with the configuration
//! `--prometheus-config-out` writes, and sees the mesh the Kubernetes API shows.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use crate::common;
use crate::common::eventually;
use crate::common::prometheus::{Prometheus, injected_by_version};

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn prometheus_scrapes_istiod_and_sidecars_through_the_generated_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    let sim = common::Sim::start(&["--prometheus-config-out", config.to_str().unwrap()]);
    assert!(config.is_file(), "the simulator wrote no Prometheus config");
    let check = Command::new("promtool")
        .arg("check")
        .arg("config")
        .arg(&config)
        .output();
    if let Ok(out) = check {
        assert!(
            out.status.success(),
            "promtool rejects the config: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let expected = injected_by_version(&sim);
    assert_eq!(
        expected.get("1.22.4"),
        Some(&1.0),
        "the default scenario has one skewed proxy: {expected:?}"
    );
    let total: f64 = expected.values().sum();
    let prom = Prometheus::start(&config);

    // Connected proxies per version, summed over every istiod, equal the injected pods.
    let mut last = BTreeMap::new();
    let matched = eventually(WAIT, || {
        last = prom.by("version", "sum by (version) (pilot_xds)");
        (last == expected).then_some(())
    });
    assert!(
        matched.is_some(),
        "sum by (version) (pilot_xds) = {last:?}, the API shows {expected:?}\n{}",
        prom.log_tail()
    );
    let by_rev = prom.by("istio_io_rev", "sum by (istio_io_rev) (pilot_xds)");
    assert_eq!(by_rev.get("1-24-0"), Some(&total), "{by_rev:?}");
    assert_eq!(
        by_rev.get("1-25-0").copied().unwrap_or(0.0),
        0.0,
        "nothing runs on the new revision yet"
    );

    // Every istiod and every injected pod is a healthy target.
    let istiods = sim.kubectl(&[
        "get",
        "pods",
        "-n",
        "istio-system",
        "-l",
        "app=istiod",
        "-o",
        "name",
    ]);
    let want_up = BTreeMap::from([
        ("envoy-stats".to_string(), total),
        ("istiod".to_string(), istiods.lines().count() as f64),
    ]);
    let mut up = BTreeMap::new();
    let all_up = eventually(WAIT, || {
        up = prom.by("job", "sum by (job) (up)");
        (up == want_up).then_some(())
    });
    assert!(all_up.is_some(), "targets up: {up:?}, want {want_up:?}");
    assert_eq!(prom.scalar("count(up == 0)"), None, "some targets are down");
    let builds = prom.by("tag", "count by (tag) (istio_build{component=\"pilot\"})");
    assert_eq!(builds.get("1.25.0"), Some(&2.0), "{builds:?}");

    // Request series carry the target labels, and rates are visible.
    let series = prom.query("count by (namespace, istio_io_rev) (istio_requests_total)");
    assert!(!series.is_empty(), "no istio_requests_total series");
    for (labels, _) in &series {
        assert!(
            labels.get("namespace").is_some_and(|v| !v.is_empty()),
            "{labels:?}"
        );
        assert_eq!(
            labels.get("istio_io_rev").map(String::as_str),
            Some("1-24-0"),
            "{labels:?}"
        );
    }
    let rate = eventually(WAIT, || {
        prom.scalar("sum(rate(istio_requests_total[10s]))")
            .filter(|r| *r > 0.0)
    });
    assert!(rate.is_some(), "no request rate visible");
    let before = prom
        .scalar("sum(istio_requests_total)")
        .expect("a request total");
    let grew = eventually(WAIT, || {
        prom.scalar("sum(istio_requests_total)")
            .filter(|now| *now > before)
    });
    assert!(grew.is_some(), "istio_requests_total does not grow");

    // A fault switched on through the API shows as 5xx of the revision it names.
    let errors = "sum by (istio_io_rev) (rate(istio_requests_total{reporter=\"destination\",response_code=~\"5..\"}[10s]))";
    assert!(
        prom.by("istio_io_rev", errors).values().all(|v| *v == 0.0),
        "5xx before any fault"
    );
    sim.set_faults(r#"{"data":{"errors.1-24-0":"0.3"}}"#);
    let failing = eventually(WAIT, || {
        prom.by("istio_io_rev", errors)
            .get("1-24-0")
            .copied()
            .filter(|v| *v > 0.0)
    });
    assert!(
        failing.is_some(),
        "errors.1-24-0 did not show as 5xx on revision 1-24-0"
    );
    let p99 = prom.scalar(
        "histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\"}[10s])))",
    );
    assert!(
        p99.is_some_and(|v| v > 0.0 && v.is_finite()),
        "no p99 latency: {p99:?}"
    );
}
