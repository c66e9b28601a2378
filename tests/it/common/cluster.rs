//! What a user would check in the cluster, read with kubectl as `sim-admin`: namespaces, pods,
//! tags. Shared by the end-to-end tests.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::common::{Sim, eventually};

/// How long the cluster may take to show a change.
const SETTLE: Duration = Duration::from_secs(60);

/// kubectl's JSON output.
pub fn json(sim: &Sim, args: &[&str]) -> Value {
    serde_json::from_str(&sim.kubectl(args)).expect("kubectl printed JSON")
}

/// Labels `ns` for `revision` by hand, as a migration does: `istio.io/rev` set and
/// `istio-injection` removed.
pub fn label_for(sim: &Sim, ns: &str, revision: &str) {
    sim.kubectl(&[
        "label",
        "ns",
        ns,
        &format!("istio.io/rev={revision}"),
        "istio-injection-",
        "--overwrite",
    ]);
}

/// A namespace's labels exactly as kubectl prints them.
pub fn labels_text(sim: &Sim, ns: &str) -> String {
    sim.kubectl(&["get", "ns", ns, "-o", "jsonpath={.metadata.labels}"])
}

/// A namespace's labels as JSON.
pub fn namespace_labels(sim: &Sim, ns: &str) -> Value {
    json(sim, &["get", "namespace", ns, "-o", "json"])["metadata"]["labels"].clone()
}

/// The pods of `ns` as the API returns them.
pub fn pods_json(sim: &Sim, ns: &str) -> Vec<Value> {
    let mut list = json(sim, &["get", "pods", "-n", ns, "-o", "json"]);
    match list["items"].take() {
        Value::Array(items) => items,
        other => panic!("no pod list: {other}"),
    }
}

/// Whether a pod's Ready condition is True.
pub fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// The revision that injected a pod, from its `sidecar.istio.io/status` annotation.
pub fn injected_by(pod: &Value) -> Option<String> {
    let status = pod["metadata"]["annotations"]["sidecar.istio.io/status"].as_str()?;
    let status: Value = serde_json::from_str(status).ok()?;
    status["revision"].as_str().map(str::to_string)
}

/// Every pod not on its way out (and there is one) was injected by `revision` and is Ready.
pub fn all_ready_on(pods: &[Value], revision: &str) -> bool {
    let live: Vec<&Value> = pods
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    !live.is_empty()
        && live
            .iter()
            .all(|p| p["metadata"]["annotations"]["istio.io/rev"] == revision && is_ready(p))
}

pub fn tag_webhook(sim: &Sim, tag: &str) -> Value {
    json(
        sim,
        &[
            "get",
            "mutatingwebhookconfiguration",
            &format!("istio-revision-tag-{tag}"),
            "-o",
            "json",
        ],
    )
}

/// The tag's `istio.io/rev` label and the istiod services its webhooks call.
pub fn tag_target(sim: &Sim, tag: &str) -> (String, Vec<String>) {
    let hook = tag_webhook(sim, tag);
    let label = hook["metadata"]["labels"]["istio.io/rev"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let services = hook["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["clientConfig"]["service"]["name"].as_str())
        .map(str::to_string)
        .collect();
    (label, services)
}

/// Waits until the tag's label and every one of its webhooks name `revision`.
pub fn wait_tag_on(sim: &Sim, tag: &str, revision: &str) {
    let service = format!("istiod-{revision}");
    let mut last = (String::new(), Vec::new());
    let done = eventually(SETTLE, || {
        last = tag_target(sim, tag);
        (last.0 == revision && !last.1.is_empty() && last.1.iter().all(|s| *s == service))
            .then_some(())
    });
    assert!(
        done.is_some(),
        "tag {tag} is not on {revision}: label and webhook services {last:?}"
    );
}

/// Labels or annotations.
pub type Strings = BTreeMap<String, String>;

pub fn string_map(v: &Value) -> Strings {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn ns_labels(sim: &Sim, ns: &str) -> BTreeMap<String, String> {
    string_map(&json(sim, &["get", "ns", ns, "-o", "json"])["metadata"]["labels"])
}

pub fn ns_annotations(sim: &Sim, ns: &str) -> BTreeMap<String, String> {
    string_map(&json(sim, &["get", "ns", ns, "-o", "json"])["metadata"]["annotations"])
}

/// Every namespace with its labels and annotations.
pub fn all_namespaces(sim: &Sim) -> BTreeMap<String, (Strings, Strings)> {
    json(sim, &["get", "ns", "-o", "json"])["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| {
            (
                n["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                (
                    string_map(&n["metadata"]["labels"]),
                    string_map(&n["metadata"]["annotations"]),
                ),
            )
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    pub name: String,
    /// From the `sidecar.istio.io/status` annotation, as Istio records it.
    pub revision: Option<String>,
    pub proxy_image: Option<String>,
    pub ready: bool,
    pub terminating: bool,
}

pub fn pods(sim: &Sim, ns: &str) -> Vec<Pod> {
    pods_json(sim, ns)
        .iter()
        .map(|p| Pod {
            name: p["metadata"]["name"].as_str().unwrap_or_default().into(),
            revision: injected_by(p),
            proxy_image: p["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["name"] == "istio-proxy")
                .and_then(|c| c["image"].as_str())
                .map(str::to_string),
            ready: is_ready(p),
            terminating: !p["metadata"]["deletionTimestamp"].is_null(),
        })
        .collect()
}

/// Waits until the namespace has exactly `count` pods, every one injected by `revision` with
/// the proxy `image`, ready, and none terminating.
pub fn wait_all_pods_on(sim: &Sim, ns: &str, count: usize, revision: &str, image: &str) {
    let mut last = Vec::new();
    let done = eventually(SETTLE, || {
        last = pods(sim, ns);
        let settled = last.len() == count
            && last.iter().all(|p| {
                p.revision.as_deref() == Some(revision)
                    && p.proxy_image.as_deref() == Some(image)
                    && p.ready
                    && !p.terminating
            });
        settled.then_some(())
    });
    assert!(
        done.is_some(),
        "{ns}: not every pod came to run on {revision} ({image}), ready:\n{last:#?}"
    );
}

/// Every tag webhook: its labels and the services its webhooks call.
pub fn all_tags(sim: &Sim) -> Vec<(String, BTreeMap<String, String>, Vec<String>)> {
    json(sim, &["get", "mutatingwebhookconfigurations", "-o", "json"])["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| {
            (
                h["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                string_map(&h["metadata"]["labels"]),
                h["webhooks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|w| w["clientConfig"]["service"]["name"].to_string())
                    .collect(),
            )
        })
        .collect()
}

pub fn exists(sim: &Sim, args: &[&str]) -> bool {
    let out = sim.kubectl_output(args);
    if out.status.success() {
        return true;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("NotFound") || err.contains("not found"),
        "kubectl {args:?}: {err}"
    );
    false
}
