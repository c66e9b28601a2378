//! The Prometheus source against a real Prometheus scraping the simulator (numbers that follow
//! the mesh and its faults, then a Prometheus that is gone), and against a small server that
//! answers garbage, errors or nothing at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use istio_cockpit::app::event::Event;
use istio_cockpit::cluster::prometheus_source::{self, Poller, PrometheusAuth, PrometheusTarget};
use istio_cockpit::metrics::cross_cluster;
use istio_cockpit::metrics::promql::{QueryError, QueryResult};
use istio_cockpit::metrics::queries::Failure;
use istio_cockpit::metrics::reading::Reading;
use reqwest::Url;
use tokio::sync::{Mutex, mpsc};

use crate::common;
use crate::common::cluster::json;
use crate::common::eventually;
use crate::common::prometheus::{Prometheus, injected_by_version};

const WAIT: Duration = Duration::from_secs(60);
const OLD: &str = "1-24-0";
const NEW: &str = "1-25-0";

fn runtime() -> tokio::runtime::Runtime {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The highest p99 over the namespaces served by `rev`.
fn worst_p99(r: &Reading, rev: &str) -> Option<f64> {
    r.data_plane
        .values()
        .filter_map(|by_rev| by_rev.get(rev)?.p99_ms)
        .reduce(f64::max)
}

#[test]
fn readings_follow_the_mesh_its_faults_and_a_prometheus_that_goes_away() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    let sim = common::Sim::start(&["--prometheus-config-out", config.to_str().unwrap()]);
    let expected = injected_by_version(&sim);
    let prom = Prometheus::start(&config);
    let url = Url::parse(&prom.url()).unwrap();
    let poller = Poller::http(url.clone(), PrometheusAuth::None).expect("poller");
    assert_eq!(poller.source(), format!("Prometheus at {url}"));

    // Once Prometheus holds two scrapes of everything, a round has the whole mesh.
    let mut last = None;
    let settled = eventually(WAIT, || {
        let r = rt.block_on(poller.read());
        let served = prom.by(
            "namespace",
            "count by (namespace) (istio_requests_total{reporter=\"destination\"})",
        );
        let ready = r.errors.is_empty()
            && served.len() > 1
            && r.data_plane.keys().eq(served.keys())
            && r.control_plane
                .get(OLD)
                .is_some_and(|c| c.proxies == expected)
            && r.control_plane.contains_key(NEW)
            && r.data_plane
                .values()
                .flat_map(|by_rev| by_rev.values())
                .all(|t| t.p99_ms.is_some());
        last = Some(r.clone());
        ready.then_some(r)
    });
    let r =
        settled.unwrap_or_else(|| panic!("no complete reading: {last:#?}\n{}", prom.log_tail()));
    assert!(!r.is_down());
    let new = &r.control_plane[NEW];
    assert_eq!(new.proxies.values().sum::<f64>(), 0.0, "{new:?}");
    for (rev, c) in &r.control_plane {
        assert_eq!(c.rejects_per_s, 0.0, "{rev}: rejects without a fault");
    }
    assert!(
        r.control_plane[OLD]
            .pushes_per_s
            .values()
            .all(|p| p.is_finite() && *p >= 0.0),
        "{:?}",
        r.control_plane[OLD]
    );
    let injected_namespaces = injected_namespaces(&sim);
    for (ns, by_rev) in &r.data_plane {
        assert!(
            injected_namespaces.contains(ns),
            "{ns} has no injected pods"
        );
        assert_eq!(by_rev.keys().collect::<Vec<_>>(), [OLD], "{ns}: {by_rev:?}");
        let t = &by_rev[OLD];
        assert!(t.requests_per_s > 0.0, "{ns}: {t:?}");
        assert!(
            t.error_ratio.is_some_and(|e| (0.0..=1.0).contains(&e)),
            "{ns}: {t:?}"
        );
        assert!(
            t.p99_ms.is_some_and(|p| p > 0.0 && p.is_finite()),
            "{ns}: {t:?}"
        );
        assert_eq!(t.mtls_failures_per_s, 0.0, "{ns}: {t:?}");
        assert_eq!(t.sampled_pods, None);
    }
    // One cluster: its series name the same cluster on both sides (`Kubernetes`, as Istio
    // calls a cluster without a name), so nothing is known of cross-cluster traffic. The
    // queries that ask are valid PromQL for a real Prometheus.
    assert_eq!(r.cross_cluster, None);
    for promql in [
        cross_cluster::requests_promql(),
        cross_cluster::errors_promql(),
    ] {
        match rt.block_on(poller.query(&promql)) {
            Ok(QueryResult::Vector(series)) => {
                for (labels, _, _) in series {
                    assert_eq!(labels["source_cluster"], labels["destination_cluster"]);
                }
            }
            Err(Failure::Query(QueryError::Empty(_))) => {}
            other => panic!("{promql}: {other:?}"),
        }
    }

    // Latency, 5xx and mTLS faults on the old revision show in its numbers.
    let before = worst_p99(&r, OLD).unwrap();
    sim.set_faults(
        r#"{"data":{"latency.1-24-0":"400","errors.1-24-0":"0.3","mtls.1-24-0":"0.5"}}"#,
    );
    let mut last = None;
    let faulty = eventually(WAIT, || {
        let r = rt.block_on(poller.read());
        let old: Vec<_> = r.data_plane.values().filter_map(|m| m.get(OLD)).collect();
        let shows = worst_p99(&r, OLD).is_some_and(|p| p > before + 200.0)
            && old.iter().any(|t| t.error_ratio.is_some_and(|e| e > 0.1))
            && old.iter().any(|t| t.mtls_failures_per_s > 0.0);
        last = Some(r);
        shows.then_some(())
    });
    assert!(
        faulty.is_some(),
        "faults on {OLD} did not show (p99 before {before} ms): {last:#?}"
    );

    // Prometheus gone: a round without numbers that says so, soon.
    drop(prom);
    let started = Instant::now();
    let r = rt.block_on(poller.read());
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(r.is_down(), "{r:#?}");
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(
        r.errors[0].starts_with(&format!("no usable answer from Prometheus at {url}: ")),
        "{:?}",
        r.errors
    );
}

/// Namespaces with at least one running injected pod.
fn injected_namespaces(sim: &common::Sim) -> Vec<String> {
    let pods: serde_json::Value = json(sim, &["get", "pods", "-A", "-o", "json"]);
    let mut out: Vec<String> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["metadata"]["annotations"]["sidecar.istio.io/status"].is_null())
        .filter_map(|p| p["metadata"]["namespace"].as_str().map(str::to_string))
        .collect();
    out.dedup();
    out
}

/// How the stand-in server answers.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Mode {
    Html = 0,
    Failing = 1,
    Slow = 2,
    Good = 3,
}

/// What the stand-in server was asked: method and Authorization header.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A local HTTP server that pretends to be Prometheus, well or badly.
async fn stand_in(mode: Arc<AtomicU8>, seen: Seen) -> Url {
    use axum::http::{HeaderMap, Method, StatusCode};
    use axum::response::IntoResponse;

    let app = axum::Router::new().fallback(move |method: Method, headers: HeaderMap| {
        let (mode, seen) = (mode.clone(), seen.clone());
        async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            seen.lock().await.push((method.to_string(), auth));
            let good = r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"istio_io_rev":"1-25-0","namespace":"demo","type":"eds","version":"1.25.0"},
                 "value":[1730000000,"2"]}]}}"#;
            match mode.load(Ordering::SeqCst) {
                0 => (StatusCode::OK, "<html><body>Sign in</body></html>").into_response(),
                1 => (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response(),
                2 => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    (StatusCode::OK, good).into_response()
                }
                _ => (StatusCode::OK, good).into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

async fn next(rx: &mut mpsc::Receiver<Event>) -> Reading {
    match tokio::time::timeout(Duration::from_secs(12), rx.recv()).await {
        Ok(Some(Event::Metrics(r))) => r,
        other => panic!("no reading: {other:?}"),
    }
}

#[test]
fn garbage_errors_and_silence_give_down_readings_and_the_source_recovers() {
    let rt = runtime();
    rt.block_on(async {
        let mode = Arc::new(AtomicU8::new(Mode::Html as u8));
        let seen = Seen::default();
        let url = stand_in(mode.clone(), seen.clone()).await;
        // A URL target never uses the cluster client; this one points nowhere.
        let client =
            kube::Client::try_from(kube::Config::new("http://127.0.0.1:9".parse().unwrap()))
                .expect("client");
        let target = PrometheusTarget::Url {
            url: url.clone(),
            auth: PrometheusAuth::Bearer("t0k".into()),
        };
        let (tx, mut rx) = mpsc::channel(4);
        let task = prometheus_source::spawn(client, target, tx);
        let set = |m: Mode| mode.store(m as u8, Ordering::SeqCst);

        let r = next(&mut rx).await;
        assert!(r.is_down(), "{r:#?}");
        assert!(
            r.errors[0].contains("HTTP 200, not a Prometheus answer: \"<html><body>Sign in"),
            "{:?}",
            r.errors
        );

        set(Mode::Failing);
        let r = next(&mut rx).await;
        assert!(r.is_down());
        assert!(
            r.errors[0].contains("HTTP 500, not a Prometheus answer: \"upstream exploded\""),
            "{:?}",
            r.errors
        );

        set(Mode::Good);
        let r = next(&mut rx).await;
        assert!(!r.is_down() && r.errors.is_empty(), "{r:#?}");
        assert_eq!(
            r.source,
            format!("Prometheus at {url} · revisions: the istio_io_rev label")
        );
        assert_eq!(r.traffic("demo", NEW).unwrap().requests_per_s, 2.0);
        assert_eq!(r.control_plane[NEW].rejects_per_s, 2.0);

        // A Prometheus that stops answering: no numbers, not the previous ones.
        set(Mode::Slow);
        let started = Instant::now();
        let r = next(&mut rx).await;
        assert!(r.is_down(), "{r:#?}");
        assert!(
            r.errors[0].ends_with("no answer within 4 s"),
            "{:?}",
            r.errors
        );
        // At most the 5 s to the next round and the 4 s timeout, not the server's 30 s.
        assert!(
            started.elapsed() < Duration::from_secs(11),
            "{:?}",
            started.elapsed()
        );

        set(Mode::Good);
        let r = next(&mut rx).await;
        assert!(!r.is_down() && r.errors.is_empty(), "{r:#?}");
        assert!(r.traffic("demo", NEW).is_some());
        assert!(!task.is_finished());

        // Only GETs, each with the token.
        let seen = seen.lock().await.clone();
        assert!(seen.len() >= 5 * 8, "{}", seen.len());
        assert!(
            seen.iter().all(|(m, a)| m == "GET" && a == "Bearer t0k"),
            "{seen:?}"
        );

        // The task ends once nobody listens.
        drop(rx);
        let ended = tokio::time::timeout(Duration::from_secs(12), task).await;
        assert!(ended.is_ok(), "the task outlived its receiver");
    });
}

#[test]
fn discovery_probes_prometheus_services_through_the_api_server_with_gets_only() {
    let rt = runtime();
    let sim = common::Sim::start_logging(&[]);
    let manifest = sim.dir.path().join("services.json");
    let service = |name: &str, port: u16, port_name: &str| {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"namespace": "monitoring", "name": name},
            "spec": {"ports": [{"name": port_name, "port": port}]}
        })
    };
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}},
        service("prometheus", 9090, "http"),
        service("prometheus-node-exporter", 9100, "metrics"),
        service("grafana", 3000, "http"),
    ]});
    std::fs::write(&manifest, list.to_string()).unwrap();
    sim.kubectl(&[
        "create",
        "--validate=false",
        "-f",
        manifest.to_str().unwrap(),
    ]);
    let before = sim.requests().len();

    let found = rt.block_on(async {
        let client = sim.connect("sim-viewer").await.client;
        prometheus_source::discover(&client, Some("monitoring/prometheus")).await
    });
    // None of the Services has endpoints: every probe is refused, once each, and nothing is
    // found (the end-to-end rollback test finds a real Prometheus this way).
    assert!(found.is_none(), "{found:?}");

    let asked: Vec<String> = sim.requests().split_off(before);
    assert!(
        asked
            .iter()
            .all(|l| l.starts_with("get GET ") || l.starts_with("list GET ")),
        "{asked:#?}"
    );
    let probe = |svc: &str| {
        format!(
            "get GET /api/v1/namespaces/monitoring/services/{svc}/proxy/api/v1/query?query=vector%281%29"
        )
    };
    for wanted in [
        "get GET /api/v1/namespaces/monitoring/services/prometheus".to_string(),
        "list GET /api/v1/namespaces/istio-system/services?".to_string(),
        "list GET /api/v1/namespaces/monitoring/services?".to_string(),
        probe("prometheus:9090"),
        probe("prometheus-node-exporter:9100"),
    ] {
        // Each once: the plan's Service is not probed again in the search.
        let times = asked.iter().filter(|l| **l == wanted).count();
        assert_eq!(times, 1, "{wanted} asked {times} times: {asked:#?}");
    }
    let everything = sim.requests();
    assert!(
        !everything.iter().any(|l| l.contains("services/grafana")),
        "{everything:#?}"
    );
}
