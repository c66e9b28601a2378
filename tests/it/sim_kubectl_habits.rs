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
    assert_eq!(ns["metadata"]["name"], "habits");
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
