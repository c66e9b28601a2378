//! Builders for the workload objects the simulator creates: Deployments, their ReplicaSets,
//! pods from a template, and the status a running pod reports.

use serde_json::{Value, json};

use super::names;

pub struct DeploymentSpec<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub replicas: u32,
    pub image: String,
    pub labels: Value,
    pub pod_annotations: Value,
    pub cpu: &'a str,
    pub memory: &'a str,
}

pub fn deployment(spec: &DeploymentSpec<'_>, created: &str) -> Value {
    let mut pod_labels = spec.labels.clone();
    if pod_labels["app"].is_null() {
        pod_labels["app"] = json!(spec.name);
    }
    let container = spec.name.rsplit('-').next().unwrap_or(spec.name);
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": spec.name,
            "namespace": spec.namespace,
            "labels": {"app": spec.name},
            "creationTimestamp": created,
        },
        "spec": {
            "replicas": spec.replicas,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": spec.name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": pod_labels, "annotations": spec.pod_annotations},
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "containers": [{
                        "name": container,
                        "image": spec.image,
                        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
                        "resources": {"requests": {"cpu": spec.cpu, "memory": spec.memory}},
                    }],
                },
            },
        },
    })
}

/// The ReplicaSet a Deployment owns for its current template.
pub fn replicaset(deploy: &Value, hash: &str, replicas: u32, created: &str) -> Value {
    let name = deploy["metadata"]["name"].as_str().unwrap_or_default();
    let mut template = deploy["spec"]["template"].clone();
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = deploy["spec"]["selector"].clone();
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut labels = template["metadata"]["labels"].clone();
    labels["pod-template-hash"] = json!(hash);
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": deploy["metadata"]["namespace"],
            "labels": labels,
            "creationTimestamp": created,
            "annotations": {"deployment.kubernetes.io/desired-replicas": deploy["spec"]["replicas"].as_u64().unwrap_or(1).to_string()},
            "ownerReferences": [owner(deploy)],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template},
    })
}

pub fn owner(obj: &Value) -> Value {
    json!({
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

pub fn template_hash_of(deploy: &Value) -> String {
    names::template_hash(&deploy["spec"]["template"])
}

/// A new pod from a ReplicaSet (or DaemonSet) template; `name` empty means generateName.
pub fn pod_from_template(owner_obj: &Value, name: &str, node: &str, created: &str) -> Value {
    let template = if owner_obj["spec"]["template"].is_object() {
        owner_obj["spec"]["template"].clone()
    } else {
        json!({})
    };
    let owner_name = owner_obj["metadata"]["name"].as_str().unwrap_or_default();
    let mut metadata = template["metadata"].clone();
    if !metadata.is_object() {
        metadata = json!({});
    }
    metadata["namespace"] = owner_obj["metadata"]["namespace"].clone();
    metadata["ownerReferences"] = json!([owner(owner_obj)]);
    metadata["creationTimestamp"] = json!(created);
    if name.is_empty() {
        metadata["generateName"] = json!(format!("{owner_name}-"));
    } else {
        metadata["name"] = json!(name);
    }
    let mut spec = template["spec"].clone();
    spec["nodeName"] = json!(node);
    spec["schedulerName"] = json!("default-scheduler");
    spec["restartPolicy"] = json!("Always");
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    })
}

fn container_names(pod: &Value, field: &str) -> Vec<(String, String)> {
    pod["spec"][field]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                c["image"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Status of a scheduled pod whose containers are being created.
pub fn creating_status(pod: &Value, ip: &str, host_ip: &str, at: &str) -> Value {
    let statuses: Vec<Value> = container_names(pod, "containers")
        .into_iter()
        .map(|(name, image)| {
            json!({"name": name, "image": image, "imageID": "", "ready": false, "started": false, "restartCount": 0,
                   "state": {"waiting": {"reason": "ContainerCreating"}}})
        })
        .collect();
    json!({
        "phase": "Pending",
        "qosClass": "Burstable",
        "hostIP": host_ip,
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": at,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": at},
            {"type": "Initialized", "status": "True", "lastTransitionTime": at},
            {"type": "ContainersReady", "status": "False", "lastTransitionTime": at, "reason": "ContainersNotReady"},
            {"type": "Ready", "status": "False", "lastTransitionTime": at, "reason": "ContainersNotReady"},
        ],
        "containerStatuses": statuses,
    })
}

/// Status of a pod whose containers all run and pass readiness.
pub fn running_status(pod: &Value, ip: &str, host_ip: &str, started: &str) -> Value {
    let running = |(name, image): (String, String)| {
        json!({"name": name, "image": image, "imageID": format!("{image}@sha256:{}", "0".repeat(64)),
               "containerID": format!("containerd://{}", names::template_hash(&json!([name, ip]))),
               "ready": true, "started": true, "restartCount": 0,
               "state": {"running": {"startedAt": started}}})
    };
    let init: Vec<Value> = container_names(pod, "initContainers")
        .into_iter()
        .map(|(name, image)| {
            json!({"name": name, "image": image, "imageID": "", "ready": true, "started": false, "restartCount": 0,
                   "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": started}}})
        })
        .collect();
    let mut status = json!({
        "phase": "Running",
        "qosClass": "Burstable",
        "hostIP": host_ip,
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": started,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
            {"type": "Initialized", "status": "True", "lastTransitionTime": started},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": started},
            {"type": "Ready", "status": "True", "lastTransitionTime": started},
        ],
        "containerStatuses": container_names(pod, "containers").into_iter().map(running).collect::<Vec<_>>(),
    });
    if !init.is_empty() {
        status["initContainerStatuses"] = json!(init);
    }
    status
}

pub fn is_ready(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && pod["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// Pod IPs in 10.244.0.0/16 and beyond, one per sequence number.
pub fn pod_ip(seq: u64) -> String {
    let n = seq + 2;
    format!("10.{}.{}.{}", 244 + (n >> 16) % 12, (n >> 8) & 255, n & 255)
}
