//! A real Prometheus (the Debian package) for tests: started on a free loopback port with
//! the configuration `sim --prometheus-config-out` writes, queried over plain HTTP, killed on
//! drop.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{Sim, eventually};

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

/// The simulator started with `extra`, and a real Prometheus scraping it through the
/// configuration the simulator writes into `dir`.
pub fn scraped_sim(dir: &Path, extra: &[&str]) -> (Sim, Prometheus) {
    let config = dir.join("prometheus.yml");
    let path = config.to_str().expect("a UTF-8 path");
    let mut args = vec!["--prometheus-config-out", path];
    args.extend_from_slice(extra);
    let sim = Sim::start(&args);
    let prom = Prometheus::start(&config);
    (sim, prom)
}

/// Prometheus on a free loopback port with its data in a temporary directory; killed on drop,
/// also when the test panics.
pub struct Prometheus {
    pub port: u16,
    child: Child,
    log: PathBuf,
    _data: tempfile::TempDir,
}

impl Prometheus {
    pub fn start(config: &Path) -> Prometheus {
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

    /// The base URL of its HTTP API.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// An instant query: each series' labels and value.
    pub fn query(&self, promql: &str) -> Vec<(BTreeMap<String, String>, f64)> {
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
    pub fn by(&self, label: &str, promql: &str) -> BTreeMap<String, f64> {
        self.query(promql)
            .into_iter()
            .map(|(l, v)| (l.get(label).cloned().unwrap_or_default(), v))
            .collect()
    }

    pub fn scalar(&self, promql: &str) -> Option<f64> {
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
pub fn injected_by_version(sim: &Sim) -> BTreeMap<String, f64> {
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
