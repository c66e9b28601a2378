//! What the mesh needs to know about a pod, read once from its JSON: is it an istiod or an
//! injected workload, which revision and version, its IP and whether it runs.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::sim::injection::image_tag;

#[derive(Deserialize, Default)]
#[serde(default)]
struct PodJson {
    metadata: Meta,
    spec: Spec,
    status: Status,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Meta {
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    deletion_timestamp: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    containers: Vec<Container>,
    init_containers: Vec<Container>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Container {
    name: String,
    image: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Status {
    phase: String,
    #[serde(rename = "podIP")]
    pod_ip: String,
    conditions: Vec<Condition>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Condition {
    #[serde(rename = "type")]
    kind: String,
    status: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// An istiod of `revision` running `version`.
    Istiod { revision: String, version: String },
    /// A pod with a sidecar injected by `revision`, whose proxy runs `version`.
    Sidecar { revision: String, version: String },
    /// Anything else: not part of the mesh's traffic.
    Other,
}

#[derive(Debug, Clone)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub role: Role,
    /// The pod label `app`, or empty.
    pub app: String,
    /// The workload the pod belongs to (canonical service name, `app` label or pod name).
    pub workload: String,
    /// The `version` label, or `unknown`, as Istio's telemetry reports it.
    pub app_version: String,
    pub ip: Option<std::net::Ipv4Addr>,
    pub running: bool,
    /// Running, Ready and not being deleted.
    pub serving: bool,
}

fn image_of<'a>(spec: &'a Spec, name: &str) -> Option<&'a str> {
    spec.containers
        .iter()
        .chain(&spec.init_containers)
        .find(|c| c.name == name)
        .map(|c| c.image.as_str())
}

/// The sidecar's revision, from the injector's status annotation (then the `istio.io/rev`
/// annotation).
fn sidecar_revision(annotations: &BTreeMap<String, String>) -> Option<String> {
    let status = annotations.get("sidecar.istio.io/status")?;
    let from_status = serde_json::from_str::<serde_json::Value>(status)
        .ok()
        .and_then(|v| v["revision"].as_str().map(str::to_string))
        .filter(|r| !r.is_empty());
    from_status.or_else(|| annotations.get("istio.io/rev").cloned())
}

pub fn parse(raw: &[u8]) -> Option<PodInfo> {
    let pod: PodJson = serde_json::from_slice(raw).ok()?;
    let meta = &pod.metadata;
    let role = if meta.labels.get("app").map(String::as_str) == Some("istiod") {
        match (
            meta.labels.get("istio.io/rev"),
            image_of(&pod.spec, "discovery").and_then(image_tag),
        ) {
            (Some(rev), Some(version)) => Role::Istiod {
                revision: rev.clone(),
                version,
            },
            _ => Role::Other,
        }
    } else {
        match (
            sidecar_revision(&meta.annotations),
            image_of(&pod.spec, "istio-proxy").and_then(image_tag),
        ) {
            (Some(revision), Some(version)) => Role::Sidecar { revision, version },
            _ => Role::Other,
        }
    };
    let app = meta.labels.get("app").cloned().unwrap_or_default();
    let workload = meta
        .labels
        .get("service.istio.io/canonical-name")
        .or(meta.labels.get("app"))
        .cloned()
        .unwrap_or_else(|| meta.name.clone());
    let running = pod.status.phase == "Running";
    let ready = pod
        .status
        .conditions
        .iter()
        .any(|c| c.kind == "Ready" && c.status == "True");
    Some(PodInfo {
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        role,
        app,
        workload,
        app_version: meta
            .labels
            .get("version")
            .cloned()
            .unwrap_or_else(|| "unknown".into()),
        ip: pod.status.pod_ip.parse().ok(),
        running,
        serving: running && ready && meta.deletion_timestamp.is_none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sidecars_and_istiods_are_recognised() {
        let mut pod = json!({"metadata": {"name": "cart-1", "namespace": "checkout", "labels": {"app": "cart", "version": "v1"}},
                             "spec": {"containers": [{"name": "cart", "image": "shop/cart:1"}]},
                             "status": {"phase": "Running", "podIP": "10.244.0.7", "conditions": [{"type": "Ready", "status": "True"}]}});
        crate::sim::injection::inject(&mut pod, "1-24-0", "1.24.0");
        let info = parse(pod.to_string().as_bytes()).unwrap();
        assert_eq!(
            info.role,
            Role::Sidecar {
                revision: "1-24-0".into(),
                version: "1.24.0".into()
            }
        );
        assert_eq!(info.workload, "cart");
        assert_eq!(info.app_version, "v1");
        assert_eq!(info.ip, Some("10.244.0.7".parse().unwrap()));
        assert!(info.running && info.serving);

        let istiod = json!({"metadata": {"name": "istiod-1-25-0-x", "namespace": "istio-system", "deletionTimestamp": "2026-01-01T00:00:00Z",
                                         "labels": {"app": "istiod", "istio.io/rev": "1-25-0"}},
                            "spec": {"containers": [{"name": "discovery", "image": "istio/pilot:1.25.0-distroless"}]},
                            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        let info = parse(istiod.to_string().as_bytes()).unwrap();
        assert_eq!(
            info.role,
            Role::Istiod {
                revision: "1-25-0".into(),
                version: "1.25.0".into()
            }
        );
        assert!(info.running && !info.serving);

        let plain = json!({"metadata": {"name": "job", "namespace": "legacy-batch"}, "status": {"phase": "Pending"}});
        assert_eq!(
            parse(plain.to_string().as_bytes()).unwrap().role,
            Role::Other
        );
    }
}
