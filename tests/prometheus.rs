//! A real Prometheus (the Debian package, 2.42) scrapes the simulator with the configuration
//! `--prometheus-config-out` writes, and sees the mesh the Kubernetes API shows.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Sim, eventually};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

fn prometheus_binary() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("prometheus"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "prometheus is not on PATH: this test needs a real Prometheus; install it with `apt-get install -y prometheus`"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A plain HTTP/1.0 GET (Prometheus answers it with the whole body, then closes).
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// Prometheus on a free loopback port with its data in a temporary directory; killed on drop,
/// also when the test panics.
struct Prometheus {
    child: Child,
    port: u16,
    log: PathBuf,
    _data: tempfile::TempDir,
}

impl Prometheus {
    fn start(config: &Path) -> Prometheus {
        let binary = prometheus_binary();
        for _ in 0..3 {
            let data = tempfile::tempdir().expect("temp dir");
            let port = free_port();
            let log = data.path().join("prometheus.log");
            let child = Command::new(&binary)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    data.path().join("tsdb").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--log.level=debug")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("log file"))
                .spawn()
                .expect("start prometheus");
            let mut prom = Prometheus {
                child,
                port,
                log,
                _data: data,
            };
            let ready = eventually(Duration::from_secs(20), || {
                if let Ok(Some(_)) = prom.child.try_wait() {
                    return Some(false);
                }
                http_get(port, "/-/ready")
                    .filter(|(s, _)| *s == 200)
                    .map(|_| true)
            });
            if ready == Some(true) {
                return prom;
            }
            eprintln!(
                "prometheus did not start on port {port}:\n{}",
                prom.log_tail()
            );
        }
        panic!("prometheus did not become ready (three attempts)");
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// An instant query: each series' labels and value.
    fn query(&self, promql: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let q: String = form_urlencoded::byte_serialize(promql.as_bytes()).collect();
        let Some((200, body)) = http_get(self.port, &format!("/api/v1/query?query={q}")) else {
            return Vec::new();
        };
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        v["data"]["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let labels = r["metric"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect();
                let value = r["value"][1]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(f64::NAN);
                (labels, value)
            })
            .collect()
    }

    /// `sum by (label) (...)` as a map.
    fn by(&self, label: &str, promql: &str) -> BTreeMap<String, f64> {
        self.query(promql)
            .into_iter()
            .map(|(l, v)| (l.get(label).cloned().unwrap_or_default(), v))
            .collect()
    }

    fn scalar(&self, promql: &str) -> Option<f64> {
        self.query(promql).first().map(|r| r.1)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Running injected pods by proxy version, as the API shows them.
fn injected_by_version(sim: &Sim) -> BTreeMap<String, f64> {
    let pods: Value =
        serde_json::from_str(&sim.kubectl(&["get", "pods", "-A", "-o", "json"])).expect("pod list");
    let mut counts = BTreeMap::new();
    for pod in pods["items"].as_array().expect("items") {
        if pod["metadata"]["annotations"]["sidecar.istio.io/status"].is_null()
            || pod["status"]["phase"] != "Running"
        {
            continue;
        }
        let image = ["containers", "initContainers"]
            .iter()
            .filter_map(|f| pod["spec"][*f].as_array())
            .flatten()
            .find(|c| c["name"] == "istio-proxy")
            .and_then(|c| c["image"].as_str())
            .expect("istio-proxy image");
        let tag = image.rsplit_once(':').expect("image tag").1;
        let version = tag.split('-').next().unwrap().to_string();
        *counts.entry(version).or_insert(0.0) += 1.0;
    }
    counts
}

#[test]
fn prometheus_scrapes_istiod_and_sidecars_through_the_generated_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    let sim = Sim::start(&["--prometheus-config-out", config.to_str().unwrap()]);
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
