//! kubectl as people type it, with no flags to work around the simulator: `apply -f` validated
//! through the OpenAPI document, and the typed `create` generators that post protobuf.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::common::cluster::json;
use crate::common::{Sim, eventually};

const NAMESPACE: &str = "legacy-batch";

fn manifest(sim: &Sim, replicas_field: &str, replicas: u32) -> PathBuf {
    let path = sim.dir.path().join("deployment.yaml");
    let text = format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  namespace: {NAMESPACE}
spec:
  {replicas_field}: {replicas}
  selector:
    matchLabels:
      app: hello
  template:
    metadata:
      labels:
        app: hello
    spec:
      containers:
      - name: hello
        image: shop/hello:1.0
        ports:
        - containerPort: 8080
"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Waits for `want` running pods of the Deployment, as the simulator's controllers make them.
fn wait_for_running(sim: &Sim, want: usize) {
    let seen = eventually(Duration::from_secs(30), || {
        let pods = json(
            sim,
            &[
                "get",
                "pods",
                "-n",
                NAMESPACE,
                "-l",
                "app=hello",
                "-o",
                "json",
            ],
        );
        let running = pods["items"]
            .as_array()?
            .iter()
            .filter(|p| {
                p["status"]["phase"] == "Running" && p["metadata"]["deletionTimestamp"].is_null()
            })
            .count();
        (running == want).then_some(())
    });
    assert!(seen.is_some(), "never {want} running pods of hello");
}

#[test]
fn apply_validates_through_the_openapi_document_creates_and_updates() {
    let sim = Sim::start_logging(&[]);
    let file = manifest(&sim, "replicas", 2);
    let out = sim.kubectl(&["apply", "-f", file.to_str().unwrap()]);
    assert_eq!(out.trim(), "deployment.apps/hello created");
    wait_for_running(&sim, 2);

    // The patch is computed from the v3 schemas without complaint (kubectl warns on stderr
    // and falls back to its built-in types when it cannot).
    let file = manifest(&sim, "replicas", 3);
    let out = sim.kubectl_output(&["apply", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "deployment.apps/hello configured"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let deploy = json(
        &sim,
        &["get", "deploy", "hello", "-n", NAMESPACE, "-o", "json"],
    );
    assert_eq!(deploy["spec"]["replicas"], 3);
    wait_for_running(&sim, 3);

    // kubectl read the v3 index and the apps/v1 document, found the server validates fields,
    // and left the check to it: every write says fieldValidation=Strict.
    // (kubectl adds `timeout=` from --request-timeout to every request.)
    let requests = sim.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("get GET /openapi/v3?")),
        "{requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("get GET /openapi/v3/apis/apps/v1?hash=")),
        "{requests:#?}"
    );
    let writes = sim.writes();
    assert!(
        writes.iter().any(|w| w
            .starts_with("create POST /apis/apps/v1/namespaces/legacy-batch/deployments?")
            && w.contains("fieldValidation=Strict")),
        "{writes:#?}"
    );
    assert!(
        writes.iter().any(|w| w
            .starts_with("patch PATCH /apis/apps/v1/namespaces/legacy-batch/deployments/hello?")
            && w.contains("fieldValidation=Strict")),
        "{writes:#?}"
    );

    // A misspelt field is refused by the server, as strict validation does.
    let file = manifest(&sim, "replica", 4);
    let out = sim.kubectl_output(&["apply", "-f", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(r#"strict decoding error: unknown field "spec.replica""#),
        "{err}"
    );
    let deploy = json(
        &sim,
        &["get", "deploy", "hello", "-n", NAMESPACE, "-o", "json"],
    );
    assert_eq!(deploy["spec"]["replicas"], 3);
}

#[test]
fn typed_create_commands_post_protobuf_and_read_back_as_json() {
    let sim = Sim::start(&[]);
    assert_eq!(
        sim.kubectl(&["create", "namespace", "habits"]).trim(),
        "namespace/habits created"
    );
    assert_eq!(
        sim.kubectl(&[
            "create",
            "configmap",
            "settings",
            "-n",
            "habits",
            "--from-literal=a=b"
        ])
        .trim(),
        "configmap/settings created"
    );
    assert_eq!(
        sim.kubectl(&[
            "create",
            "secret",
            "generic",
            "token",
            "-n",
            "habits",
            "--from-literal=a=b"
        ])
        .trim(),
        "secret/token created"
    );
    let ns: Value = json(&sim, &["get", "namespace", "habits", "-o", "json"]);
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(ns["spec"]["finalizers"], serde_json::json!(["kubernetes"]));
    let cm: Value = json(
        &sim,
        &["get", "configmap", "settings", "-n", "habits", "-o", "json"],
    );
    assert_eq!(cm["data"], serde_json::json!({"a": "b"}));
    let secret: Value = json(
        &sim,
        &["get", "secret", "token", "-n", "habits", "-o", "json"],
    );
    assert_eq!(secret["data"], serde_json::json!({"a": "Yg=="}));
    assert_eq!(secret["type"], "Opaque");
}

#[test]
fn explain_reads_the_generated_schemas() {
    let sim = Sim::start(&[]);
    let out = sim.kubectl(&["explain", "deployment.spec.replicas"]);
    assert!(out.contains("KIND:       Deployment"), "{out}");
    assert!(out.contains("FIELD: replicas <integer>"), "{out}");
}

/// The documents over raw HTTP: gzip'd only when asked, JSON only, behind the token; and the
/// `fieldValidation` directives on a write.
#[tokio::test]
async fn documents_and_field_validation_over_http() {
    use crate::common::clients::Http;
    let sim = Sim::start(&[]);
    let http = Http::new(&sim);
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut request = http
            .client
            .get(format!("{}{path}", http.base))
            .bearer_auth(&http.token);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send()
    };

    let plain = get("/openapi/v3", &[]).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let index: Value = plain.json().await.unwrap();
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
    let packed = get(&url, &[("accept-encoding", "gzip")]).await.unwrap();
    assert_eq!(packed.headers()["content-encoding"], "gzip");
    let bytes = packed.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    let (code, v2) = http.get("/openapi/v2").await;
    assert_eq!(code, 200);
    assert_eq!(v2["swagger"], "2.0");
    let protobuf = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
    let refused = get("/openapi/v2", &[("accept", protobuf)]).await.unwrap();
    assert_eq!(refused.status().as_u16(), 406);
    let (code, _) = http.anonymous("/openapi/v3").await;
    assert_eq!(code, 401);

    let cm = |name: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "b"}, "colour": "red"})
            .to_string()
    };
    let post = |query: &str, body: String| {
        http.client
            .post(format!(
                "{}/api/v1/namespaces/checkout/configmaps{query}",
                http.base
            ))
            .bearer_auth(&http.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let warned = post("?fieldValidation=Warn", cm("warned")).await.unwrap();
    assert_eq!(warned.status().as_u16(), 201);
    assert_eq!(
        warned.headers()["warning"],
        r#"299 - "unknown field \"colour\"""#
    );
    let strict = post("?fieldValidation=Strict", cm("strict")).await.unwrap();
    assert_eq!(strict.status().as_u16(), 400);
    let lenient = post("", cm("lenient")).await.unwrap();
    assert_eq!(lenient.status().as_u16(), 201);
    assert!(lenient.headers().get("warning").is_none());
    let bogus = post("?fieldValidation=Loud", cm("bogus")).await.unwrap();
    assert_eq!(bogus.status().as_u16(), 400);
}

#[test]
fn a_started_pods_events_read_as_kubectl_shows_them() {
    let sim = Sim::start(&["--namespaces", "3"]);
    sim.kubectl(&["rollout", "restart", "deployment", "-n", "staging-web"]);
    let pod = eventually(Duration::from_secs(30), || {
        let events = sim.kubectl(&["get", "events", "-n", "staging-web"]);
        let line = events
            .lines()
            .find(|l| l.contains("Started container istio-proxy"))?
            .to_string();
        Some((events, line))
    });
    let (events, line) = pod.expect("no Started event for a restarted pod's istio-proxy");
    let header: Vec<&str> = events.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    let object = line
        .split_whitespace()
        .find(|w| w.starts_with("pod/"))
        .expect("the object column");
    let name = object.trim_start_matches("pod/");
    // The events of one pod, as the cockpit's triage asks for them.
    let selector = format!("involvedObject.kind=Pod,involvedObject.name={name}");
    let mine = sim.kubectl(&[
        "get",
        "events",
        "-n",
        "staging-web",
        "--field-selector",
        &selector,
        "-o",
        "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}",
    ]);
    let reasons: Vec<&str> = mine.lines().collect();
    for reason in ["Scheduled", "Pulled", "Created", "Started"] {
        assert!(reasons.contains(&reason), "{reason} missing: {reasons:?}");
    }
    assert!(
        sim.kubectl(&["get", "events", "-n", "staging-web", "-o", "json"])
            .contains(&format!("\"name\": \"{name}\"")),
        "the JSON names the pod too"
    );
}
