//! The simulated API server's service proxy in front of a real HTTP server on loopback,
//! through kubectl, a plain HTTPS client and kube-rs.

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::IntoResponse;
use kube::Client;
use serde_json::{Value, json};

use crate::common;

const QUERY_PATH: &str =
    "/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query";

/// Answers every request with what it received; `/teapot` answers 418.
async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: String) -> impl IntoResponse {
    let header_of = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let seen = json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
        "authorization": headers.contains_key(header::AUTHORIZATION),
        "content_type": header_of(header::CONTENT_TYPE),
        "body": body,
    });
    let status = if uri.path() == "/teapot" {
        StatusCode::IM_A_TEAPOT
    } else {
        StatusCode::OK
    };
    (status, axum::Json(seen))
}

/// Starts the echo server on 127.0.0.1 in its own thread and returns its port.
fn start_echo() -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("address").port())
                .expect("send port");
            let _ = axum::serve(listener, Router::new().fallback(echo)).await;
        });
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("echo server port")
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// A Service in `monitoring` with one port named `web`, and Endpoints at `ip:port`.
fn service(name: &str, endpoint: Option<(&str, u16)>) -> Vec<Value> {
    let mut objects = vec![json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "monitoring"},
        "spec": {"ports": [{"name": "web", "port": 9090, "protocol": "TCP"}]},
    })];
    if let Some((ip, port)) = endpoint {
        objects.push(json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": "monitoring"},
            "subsets": [{
                "addresses": [{"ip": ip}],
                "ports": [{"name": "web", "port": port, "protocol": "TCP"}],
            }],
        }));
    }
    objects
}

fn apply(sim: &common::Sim, objects: Vec<Value>) {
    let mut items = vec![json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"},
    })];
    items.extend(objects);
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    let out = sim.kubectl_stdin(
        "sim-admin",
        // kubectl validates a `kind: List` on the client against the protobuf OpenAPI v2
        // document, which the simulator does not serve.
        &["apply", "--validate=false", "-f", "-"],
        list.to_string().as_bytes(),
    );
    assert!(
        out.status.success(),
        "kubectl apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The query the echo server saw, less the `timeout` parameter kubectl adds for its
/// `--request-timeout`.
fn query_seen(seen: &Value) -> String {
    let query = seen["query"].as_str().unwrap_or_default();
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with("timeout="))
        .collect();
    kept.join("&")
}

fn raw_get(sim: &common::Sim, context: &str, path: &str) -> Value {
    let out = sim.kubectl_as(context, &["get", "--raw", path]);
    assert!(
        out.status.success(),
        "get --raw {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("echo answers JSON")
}

fn raw_post(sim: &common::Sim, context: &str, path: &str, body: &str) -> std::process::Output {
    sim.kubectl_stdin(
        context,
        &["create", "--raw", path, "-f", "-"],
        body.as_bytes(),
    )
}

#[test]
fn kubectl_reaches_a_real_server_through_the_service() {
    let sim = common::Sim::start_logging(&[]);
    let port = start_echo();
    apply(&sim, service("prometheus", Some(("127.0.0.1", port))));

    let seen = raw_get(&sim, "sim-admin", &format!("{QUERY_PATH}?query=up"));
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["path"], "/api/v1/query");
    assert_eq!(query_seen(&seen), "query=up");
    assert_eq!(seen["authorization"], false, "the caller's token went on");

    // The port goes by name, or is left out. (kubectl re-encodes and sorts the query itself;
    // the raw client in the next test checks it passes through byte for byte.)
    let query = "query=up&time=1700000000";
    for name in ["prometheus:web", "http:prometheus:web", "prometheus"] {
        let path =
            format!("/api/v1/namespaces/monitoring/services/{name}/proxy/api/v1/query?{query}");
        let seen = raw_get(&sim, "sim-admin", &path);
        assert_eq!(seen["path"], "/api/v1/query", "{name}");
        assert_eq!(query_seen(&seen), query, "{name}");
    }

    let viewer = raw_get(&sim, "sim-viewer", &format!("{QUERY_PATH}?query=up"));
    assert_eq!(viewer["authorization"], false);

    let snapshot =
        "/api/v1/namespaces/monitoring/services/prometheus:web/proxy/api/v1/admin/tsdb/snapshot";
    let out = raw_post(&sim, "sim-admin", snapshot, r#"{"skip_head":true}"#);
    assert!(
        out.status.success(),
        "admin POST: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("echo answers JSON");
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/api/v1/admin/tsdb/snapshot");
    assert_eq!(seen["body"], r#"{"skip_head":true}"#);
    assert_eq!(seen["authorization"], false);

    let refused = raw_post(&sim, "sim-viewer", snapshot, "{}");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("forbidden"), "{stderr}");

    let logged = sim.requests();
    let lines = [
        "get GET /api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query?query=up",
        "create POST /api/v1/namespaces/monitoring/services/prometheus:web/proxy/api/v1/admin/tsdb/snapshot",
    ];
    for line in lines {
        assert!(
            logged.iter().any(|l| l.starts_with(line)),
            "{line:?} not in {logged:#?}"
        );
    }
}

async fn get_status(client: &reqwest::Client, sim: &common::Sim, path: &str) -> (u16, Value) {
    let resp = client
        .get(format!("{}{path}", sim.api))
        .bearer_auth(sim.admin_token())
        .send()
        .await
        .expect("request");
    let code = resp.status().as_u16();
    (code, resp.json().await.expect("JSON answer"))
}

#[tokio::test]
async fn failures_are_statuses_and_the_sim_keeps_serving() {
    let sim = common::Sim::start(&[]);
    let mut objects = service("prometheus", Some(("127.0.0.1", start_echo())));
    objects.extend(service("no-endpoints", None));
    objects.extend(service("remote", Some(("10.1.2.3", 9090))));
    objects.extend(service("closed", Some(("127.0.0.1", closed_port()))));
    apply(&sim, objects);
    let client = sim.http_client();
    let base = "/api/v1/namespaces/monitoring/services";

    let (code, body) = get_status(&client, &sim, &format!("{base}/prometheus/proxy/teapot")).await;
    assert_eq!((code, body["path"].as_str()), (418, Some("/teapot")));

    let started = Instant::now();
    let cases = [
        (
            "no-endpoints",
            503,
            "no endpoints available for service \"no-endpoints\"",
        ),
        ("remote", 503, "loopback"),
        ("closed", 503, "127.0.0.1:"),
        ("missing", 404, "services \"missing\" not found"),
        ("prometheus:grpc", 503, "no service port"),
        ("https:prometheus:web", 400, "plain HTTP"),
    ];
    for (name, want, message) in cases {
        let (code, status) = get_status(&client, &sim, &format!("{base}/{name}/proxy/")).await;
        assert_eq!(code, want, "{name}: {status}");
        assert_eq!(status["kind"], "Status", "{name}");
        let text = status["message"].as_str().unwrap_or_default();
        assert!(text.contains(message), "{name}: {text}");
    }
    // Nothing above dialled anywhere that could hang.
    assert!(started.elapsed() < Duration::from_secs(10));

    let out = sim.kubectl_output(&["get", "--raw", &format!("{base}/remote:web/proxy/")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ServiceUnavailable"), "{stderr}");

    let query = "query=sum(rate(x%5B5m%5D))&time=1700000000&b=%20&a=+";
    let path = format!("{base}/prometheus/proxy/api/v1/query?{query}");
    let (code, seen) = get_status(&client, &sim, &path).await;
    assert_eq!((code, seen["query"].as_str()), (200, Some(query)));
    assert_eq!(seen["authorization"], false);
    sim.kubectl(&["get", "ns", "monitoring"]);
}

async fn kube_client(sim: &common::Sim) -> Client {
    let mut config = sim.kube_config("sim-admin").await;
    // By default kube-rs retries 503 with a backoff that adds up to minutes.
    config.default_retry = false;
    Client::try_from(config).expect("client")
}

#[tokio::test]
async fn kube_rs_requests_go_through_the_proxy() {
    let sim = common::Sim::start(&[]);
    let mut objects = service("prometheus", Some(("127.0.0.1", start_echo())));
    objects.extend(service("no-endpoints", None));
    apply(&sim, objects);
    let client = kube_client(&sim).await;

    let request = axum::http::Request::get(format!("{QUERY_PATH}?query=up"))
        .body(vec![])
        .expect("request");
    let text = tokio::time::timeout(Duration::from_secs(20), client.request_text(request))
        .await
        .expect("in time")
        .expect("answer");
    let seen: Value = serde_json::from_str(&text).expect("echo answers JSON");
    assert_eq!(seen["path"], "/api/v1/query");
    assert_eq!(seen["query"], "query=up");
    assert_eq!(seen["authorization"], false);

    let request = axum::http::Request::get(
        "/api/v1/namespaces/monitoring/services/no-endpoints/proxy/api/v1/query",
    )
    .body(vec![])
    .expect("request");
    let answer = tokio::time::timeout(Duration::from_secs(20), client.request_text(request))
        .await
        .expect("in time");
    match answer {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 503, "{status:?}"),
        other => panic!("expected a 503 Status, got {other:?}"),
    }
}
