//! A Pod decoded into what the cockpit keeps of it: the injecting revision from the
//! annotations, the proxy version from the `istio-proxy` image, requests, owner and readiness.

use crate::k8s::quantity::{cpu_millis, memory_mib};
use crate::mesh::fleet::EASTWEST_APP;
use crate::mesh::pod::{Owner, PodInfo};
use crate::mesh::version::Version;

use super::jiff_to_chrono;
use super::pod_fields::{PodFields, ROLLOUT_HASH, Spec};

impl PodInfo {
    pub fn from_pod(pod: &PodFields) -> PodInfo {
        let meta = &pod.metadata;
        let annotations = meta.annotations.as_ref();
        let labels = meta.labels.as_ref();
        let spec = pod.spec.as_ref();
        let status_annotation = annotations.and_then(|a| a.get("sidecar.istio.io/status"));
        // ztunnel's container is named istio-proxy too: a sidecar is injected (status
        // annotation) or runs the proxyv2 image.
        let sidecar_image = spec
            .and_then(|s| {
                s.containers
                    .iter()
                    .chain(&s.init_containers)
                    .find(|c| c.name == "istio-proxy")
                    .and_then(|c| c.image.clone())
            })
            .filter(|image| status_annotation.is_some() || image.contains("proxyv2"));
        let proxy = sidecar_image.as_deref().and_then(Version::from_image);
        // Only injected pods have an injecting revision; ztunnel's pods carry the
        // `istio.io/rev` annotation too, but no sidecar.
        let revision = status_annotation
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .and_then(|v| v["revision"].as_str().map(str::to_string))
            .filter(|r| !r.is_empty())
            .or_else(|| {
                (status_annotation.is_some() || sidecar_image.is_some())
                    .then(|| annotations.and_then(|a| a.get("istio.io/rev")).cloned())
                    .flatten()
            });
        let is_istiod = labels
            .and_then(|l| l.get("app"))
            .is_some_and(|a| a == "istiod");
        let istiod = is_istiod.then(|| {
            let rev = labels
                .and_then(|l| l.get("istio.io/rev"))
                .cloned()
                .unwrap_or_else(|| "default".into());
            let version = spec
                .and_then(|s| s.containers.iter().find(|c| c.name == "discovery"))
                .and_then(|c| c.image.as_deref())
                .and_then(Version::from_image);
            (rev, version)
        });
        let rollout = labels.is_some_and(|l| l.contains_key(ROLLOUT_HASH));
        let owner = match meta.owner_references.as_deref().and_then(|o| o.first()) {
            _ if rollout => Owner::ArgoRollout,
            None => Owner::Bare,
            Some(o) if matches!(o.kind.as_str(), "ReplicaSet" | "StatefulSet" | "DaemonSet") => {
                Owner::Workload
            }
            Some(o) if o.kind == "Rollout" => Owner::ArgoRollout,
            Some(o) => Owner::Other(o.kind.clone()),
        };
        let status = pod.status.as_ref();
        let native_sidecars: Vec<&str> = spec
            .map(|s| {
                s.init_containers
                    .iter()
                    .filter(|c| c.restart_policy.as_deref() == Some("Always"))
                    .map(|c| c.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let statuses = status
            .into_iter()
            .flat_map(|s| &s.container_statuses)
            .chain(
                status
                    .into_iter()
                    .flat_map(|s| &s.init_container_statuses)
                    .filter(|c| native_sidecars.contains(&c.name.as_str())),
            );
        let (mut ready, mut restarts) = (0u16, 0u32);
        for s in statuses {
            ready += u16::from(s.ready);
            restarts += s.restart_count.max(0) as u32;
        }
        let containers = spec.map_or(0, |s| s.containers.len()) + native_sidecars.len();
        let (cpu_millis, memory_mib) = spec.map_or((0, 0), requests);
        PodInfo {
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            phase: status
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Pending".into()),
            ready,
            containers: containers as u16,
            restarts,
            created: meta
                .creation_timestamp
                .as_ref()
                .and_then(|t| jiff_to_chrono(&t.0)),
            terminating: meta.deletion_timestamp.is_some(),
            revision,
            proxy,
            istiod,
            app: labels.and_then(|l| {
                // An east-west gateway labelled only `istio=eastwestgateway` is one all the same.
                l.get("app").cloned().or_else(|| {
                    (l.get("istio").map(String::as_str) == Some("eastwestgateway"))
                        .then(|| EASTWEST_APP.to_string())
                })
            }),
            cpu_millis,
            memory_mib,
            owner,
        }
    }
}

fn requests(spec: &Spec) -> (u32, u32) {
    let mut cpu = 0;
    let mut mem = 0;
    for c in &spec.containers {
        let Some(req) = c.resources.as_ref().and_then(|r| r.requests.as_ref()) else {
            continue;
        };
        cpu += req.cpu.as_deref().map_or(0, cpu_millis);
        mem += req.memory.as_deref().map_or(0, memory_mib);
    }
    (cpu, mem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> PodFields {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn revision_comes_from_annotations_and_version_from_the_proxy_image() {
        let p = pod(json!({
            "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web", "istio.io/rev": "wrong"},
                         "annotations": {"sidecar.istio.io/status": "{\"revision\":\"1-25-0\"}", "istio.io/rev": "stable"},
                         "creationTimestamp": "2026-11-24T10:00:00Z"},
            "spec": {"containers": [
                {"name": "web", "image": "shop/web:1", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
                {"name": "istio-proxy", "image": "istio/proxyv2:1.25.0-distroless", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "web", "ready": true, "restartCount": 2, "image": "", "imageID": ""},
                {"name": "istio-proxy", "ready": false, "restartCount": 1, "image": "", "imageID": ""}]}
        }));
        let info = PodInfo::from_pod(&p);
        assert_eq!(info.revision.as_deref(), Some("1-25-0"));
        assert_eq!(info.proxy, Version::parse("1.25.0"));
        assert_eq!((info.ready, info.containers, info.restarts), (1, 2, 3));
        assert!(!info.is_ready());
        assert_eq!((info.cpu_millis, info.memory_mib), (350, 384));
        assert_eq!(
            info.created.unwrap().to_rfc3339(),
            "2026-11-24T10:00:00+00:00"
        );
        assert!(info.istiod.is_none());
    }

    #[test]
    fn native_sidecars_and_istiod_pods_are_recognised() {
        let native = pod(json!({
            "metadata": {"name": "a", "namespace": "n", "annotations": {"istio.io/rev": "1-24-0"}},
            "spec": {"containers": [{"name": "app", "image": "x:1"}],
                     "initContainers": [{"name": "istio-proxy", "image": "istio/proxyv2:1.24.0", "restartPolicy": "Always"}]},
            "status": {"initContainerStatuses": [{"name": "istio-proxy", "ready": true, "restartCount": 0, "image": "", "imageID": ""}],
                       "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "image": "", "imageID": ""}]}
        }));
        let info = PodInfo::from_pod(&native);
        assert_eq!(info.revision.as_deref(), Some("1-24-0"));
        assert_eq!(info.proxy, Version::parse("1.24.0"));
        assert_eq!((info.ready, info.containers), (2, 2));
        let istiod = pod(json!({
            "metadata": {"name": "istiod-x", "namespace": "istio-system", "labels": {"app": "istiod", "istio.io/rev": "1-25-0"}},
            "spec": {"containers": [{"name": "discovery", "image": "istio/pilot:1.25.0"}]}
        }));
        let info = PodInfo::from_pod(&istiod);
        assert_eq!(
            info.istiod,
            Some(("1-25-0".into(), Version::parse("1.25.0")))
        );
        assert!(!info.is_injected());
    }

    #[test]
    fn a_revision_annotation_without_a_sidecar_is_not_an_injection() {
        let ztunnel = pod(json!({
            "metadata": {"name": "ztunnel-x", "namespace": "istio-system", "annotations": {"istio.io/rev": "1-24-0"}},
            "spec": {"containers": [{"name": "istio-proxy", "image": "istio/ztunnel:1.24.0"}]}
        }));
        // ztunnel's container is named istio-proxy too; its image tells it apart.
        let info = PodInfo::from_pod(&ztunnel);
        assert_eq!((info.proxy, info.revision), (None, None));
        let bare = pod(json!({
            "metadata": {"name": "cni-x", "namespace": "istio-system", "annotations": {"istio.io/rev": "1-24-0"}},
            "spec": {"containers": [{"name": "install-cni", "image": "istio/install-cni:1.24.0"}]}
        }));
        assert_eq!(PodInfo::from_pod(&bare).revision, None);
    }

    #[test]
    fn the_owner_says_whether_a_rollout_restart_moves_the_pod() {
        let owned = |owners: serde_json::Value, labels: serde_json::Value| {
            PodInfo::from_pod(&pod(json!({
                "metadata": {"name": "p", "namespace": "n", "ownerReferences": owners, "labels": labels}
            })))
            .owner
        };
        let one = |kind: &str| json!([{"kind": kind, "name": "x", "uid": "u", "apiVersion": "v1"}]);
        for kind in ["ReplicaSet", "StatefulSet", "DaemonSet"] {
            assert_eq!(owned(one(kind), json!({})), Owner::Workload, "{kind}");
        }
        assert_eq!(owned(json!(null), json!({})), Owner::Bare);
        assert_eq!(owned(one("Job"), json!({})), Owner::Other("Job".into()));
        assert_eq!(owned(one("Rollout"), json!({})), Owner::ArgoRollout);
        // Argo's pods are owned by a ReplicaSet of the Rollout: its label tells them apart.
        let argo = owned(
            one("ReplicaSet"),
            json!({"rollouts-pod-template-hash": "abc"}),
        );
        assert_eq!(argo, Owner::ArgoRollout);
        assert_eq!(
            owned(one("Job"), json!({})).manual_restart().as_deref(),
            Some("Job")
        );
        assert_eq!(Owner::Workload.manual_restart(), None);
    }
}
