//! Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(s: Option<&str>) -> IncludeObject {
        match s {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// True when the Accept header asks for a Table (kubectl get does, with a JSON fallback).
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

fn column(name: &str, ty: &str, priority: u8, description: &str) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": ty, "format": format, "description": description, "priority": priority})
}

pub fn columns(resource: &str) -> Vec<Value> {
    let name = column("Name", "string", 0, "Name of the object");
    let age = column("Age", "string", 0, "Time since creation");
    match resource {
        "pods" => vec![
            name,
            column("Ready", "string", 0, "Ready containers / all containers"),
            column(
                "Status",
                "string",
                0,
                "Phase or the reason the pod is in this state",
            ),
            column("Restarts", "string", 0, "Container restarts"),
            age,
            column("IP", "string", 1, "Pod IP"),
            column("Node", "string", 1, "Node the pod runs on"),
        ],
        "namespaces" => vec![name, column("Status", "string", 0, "Namespace phase"), age],
        "events" => vec![
            column(
                "Last Seen",
                "string",
                0,
                "Time since the event was last seen",
            ),
            column("Type", "string", 0, "Normal or Warning"),
            column("Reason", "string", 0, "Why the event happened, in one word"),
            column("Object", "string", 0, "The object it is about"),
            column("Message", "string", 0, "What happened"),
            column("Name", "string", 1, "Name of the object"),
        ],
        "deployments" => vec![
            name,
            column("Ready", "string", 0, "Ready replicas / desired replicas"),
            column(
                "Up-to-date",
                "integer",
                0,
                "Replicas on the current template",
            ),
            column("Available", "integer", 0, "Available replicas"),
            age,
            column("Containers", "string", 1, "Container names"),
            column("Images", "string", 1, "Container images"),
        ],
        "replicasets" => vec![
            name,
            column("Desired", "integer", 0, "Desired replicas"),
            column("Current", "integer", 0, "Current replicas"),
            column("Ready", "integer", 0, "Ready replicas"),
            age,
        ],
        "daemonsets" => vec![
            name,
            column("Desired", "integer", 0, "Desired pods"),
            column("Current", "integer", 0, "Current pods"),
            column("Ready", "integer", 0, "Ready pods"),
            column("Up-to-date", "integer", 0, "Pods on the current template"),
            column("Available", "integer", 0, "Available pods"),
            age,
        ],
        "mutatingwebhookconfigurations" | "validatingwebhookconfigurations" => {
            vec![
                name,
                column("Webhooks", "integer", 0, "Number of webhooks"),
                age,
            ]
        }
        "nodes" => vec![
            name,
            column("Status", "string", 0, "Node condition"),
            column("Roles", "string", 0, "Node roles"),
            age,
            column("Version", "string", 0, "Kubelet version"),
        ],
        "services" => vec![
            name,
            column("Type", "string", 0, "Service type"),
            column("Cluster-IP", "string", 0, "Cluster IP"),
            column("Ports", "string", 0, "Ports"),
            age,
        ],
        "configmaps" => vec![name, column("Data", "integer", 0, "Number of keys"), age],
        "secrets" => vec![
            name,
            column("Type", "string", 0, "The secret's type"),
            column("Data", "integer", 0, "Number of keys"),
            age,
        ],
        "leases" => vec![name, column("Holder", "string", 0, "Holder identity"), age],
        "resourcequotas" => vec![
            name,
            age,
            column("Request", "string", 0, "Used and hard requests"),
            column("Limit", "string", 0, "Used and hard limits"),
        ],
        "customresourcedefinitions" => vec![
            name,
            column("Created At", "date", 0, "When the definition was created"),
        ],
        _ => vec![name, age],
    }
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

pub fn cells(resource: &str, obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let name = json!(obj["metadata"]["name"].as_str().unwrap_or_default());
    let age = json!(age(&obj["metadata"]["creationTimestamp"], now));
    let status = &obj["status"];
    match resource {
        "pods" => {
            let (ready, total, restarts) = pod_counts(obj);
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(pod_status(obj)),
                json!(restarts.to_string()),
                age,
                json!(status["podIP"].as_str().unwrap_or("<none>")),
                json!(obj["spec"]["nodeName"].as_str().unwrap_or("<none>")),
            ]
        }
        "namespaces" => vec![
            name,
            json!(status["phase"].as_str().unwrap_or("Active")),
            age,
        ],
        "events" => {
            let involved = &obj["involvedObject"];
            let kind = involved["kind"].as_str().unwrap_or_default().to_lowercase();
            let object = format!("{kind}/{}", involved["name"].as_str().unwrap_or_default());
            vec![
                json!(self::age(&obj["lastTimestamp"], now)),
                json!(obj["type"].as_str().unwrap_or("Normal")),
                json!(obj["reason"].as_str().unwrap_or_default()),
                json!(object),
                json!(obj["message"].as_str().unwrap_or_default()),
                name,
            ]
        }
        "deployments" => {
            let containers = obj["spec"]["template"]["spec"]["containers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let join = |field: &str| {
                containers
                    .iter()
                    .filter_map(|c| c[field].as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(&status["readyReplicas"]),
                    int(&obj["spec"]["replicas"])
                )),
                json!(int(&status["updatedReplicas"])),
                json!(int(&status["availableReplicas"])),
                age,
                json!(join("name")),
                json!(join("image")),
            ]
        }
        "replicasets" => vec![
            name,
            json!(int(&obj["spec"]["replicas"])),
            json!(int(&status["replicas"])),
            json!(int(&status["readyReplicas"])),
            age,
        ],
        "daemonsets" => vec![
            name,
            json!(int(&status["desiredNumberScheduled"])),
            json!(int(&status["currentNumberScheduled"])),
            json!(int(&status["numberReady"])),
            json!(int(&status["updatedNumberScheduled"])),
            json!(int(&status["numberAvailable"])),
            age,
        ],
        "mutatingwebhookconfigurations" | "validatingwebhookconfigurations" => {
            vec![
                name,
                json!(obj["webhooks"].as_array().map_or(0, Vec::len)),
                age,
            ]
        }
        "nodes" => vec![
            name,
            json!("Ready"),
            json!("<none>"),
            age,
            json!(
                status["nodeInfo"]["kubeletVersion"]
                    .as_str()
                    .unwrap_or("<unknown>")
            ),
        ],
        "services" => {
            let ports = obj["spec"]["ports"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            format!(
                                "{}/{}",
                                int(&p["port"]),
                                p["protocol"].as_str().unwrap_or("TCP")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            vec![
                name,
                json!(obj["spec"]["type"].as_str().unwrap_or("ClusterIP")),
                json!(obj["spec"]["clusterIP"].as_str().unwrap_or("<none>")),
                json!(if ports.is_empty() {
                    "<none>".to_string()
                } else {
                    ports
                }),
                age,
            ]
        }
        "configmaps" => vec![
            name,
            json!(obj["data"].as_object().map_or(0, serde_json::Map::len)),
            age,
        ],
        "secrets" => vec![
            name,
            json!(obj["type"].as_str().unwrap_or("Opaque")),
            json!(obj["data"].as_object().map_or(0, serde_json::Map::len)),
            age,
        ],
        "leases" => vec![
            name,
            json!(obj["spec"]["holderIdentity"].as_str().unwrap_or("")),
            age,
        ],
        "resourcequotas" => vec![
            name,
            age,
            json!(quota_usage(status, |k| !k.starts_with("limits."))),
            json!(quota_usage(status, |k| k.starts_with("limits."))),
        ],
        "customresourcedefinitions" => vec![name, obj["metadata"]["creationTimestamp"].clone()],
        _ => vec![name, age],
    }
}

/// `requests.cpu: 3600m/4, requests.memory: 12Gi/13Gi`, as kubectl prints a quota's columns.
fn quota_usage(status: &Value, pick: impl Fn(&str) -> bool) -> String {
    status["hard"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| pick(k))
        .map(|(k, hard)| {
            let used = status["used"][k].as_str().unwrap_or("0");
            format!("{k}: {used}/{}", hard.as_str().unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Ready containers, all containers (native sidecars included) and total restarts.
pub fn pod_counts(pod: &Value) -> (usize, usize, i64) {
    let statuses = pod["status"]["containerStatuses"].as_array();
    let sidecar_names: Vec<&str> = pod["spec"]["initContainers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter(|c| c["restartPolicy"] == "Always")
                .filter_map(|c| c["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let sidecars = sidecar_names.len();
    let total = pod["spec"]["containers"].as_array().map_or(0, Vec::len) + sidecars;
    let mut ready = statuses.map_or(0, |s| s.iter().filter(|c| c["ready"] == true).count());
    let mut restarts = statuses.map_or(0, |s| s.iter().map(|c| int(&c["restartCount"])).sum());
    if let Some(init) = pod["status"]["initContainerStatuses"].as_array() {
        let is_sidecar = |c: &&Value| {
            c["name"]
                .as_str()
                .is_some_and(|n| sidecar_names.contains(&n))
        };
        for c in init.iter().filter(is_sidecar) {
            if c["ready"] == true {
                ready += 1;
            }
            restarts += int(&c["restartCount"]);
        }
    }
    (ready, total, restarts)
}

pub fn pod_status(pod: &Value) -> String {
    if !pod["metadata"]["deletionTimestamp"].is_null() {
        return "Terminating".into();
    }
    let waiting = pod["status"]["containerStatuses"]
        .as_array()
        .and_then(|cs| {
            cs.iter()
                .find_map(|c| c["state"]["waiting"]["reason"].as_str())
        });
    if let Some(reason) = waiting {
        return reason.to_string();
    }
    pod["status"]["reason"]
        .as_str()
        .or(pod["status"]["phase"].as_str())
        .unwrap_or("Pending")
        .to_string()
}

/// kubectl's compact age: `42s`, `3m12s`, `47m`, `5h3m`, `20h`, `3d4h`, `41d`.
pub fn age(created: &Value, now: DateTime<Utc>) -> String {
    let Some(t) = created
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    else {
        return "<unknown>".into();
    };
    let secs = (now - t.with_timezone(&Utc)).num_seconds().max(0);
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{m}m{}s", s % 60),
        s if s < 3 * 3600 => format!("{m}m"),
        s if s < 8 * 3600 => format!("{h}h{}m", m % 60),
        s if s < 2 * 86400 => format!("{h}h"),
        s if s < 8 * 86400 => format!("{d}d{}h", h % 24),
        _ => format!("{d}d"),
    }
}

pub fn row(resource: &str, obj: &Value, include: IncludeObject, now: DateTime<Utc>) -> Value {
    let mut row = json!({"cells": cells(resource, obj, now)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Object => row["object"] = obj.clone(),
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            });
        }
    }
    row
}

pub fn table(resource: &str, rows: Vec<Value>, metadata: Value) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns(resource),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let now = DateTime::parse_from_rfc3339("2026-01-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |s: &str| age(&json!(s), now);
        assert_eq!(at("2026-01-01T23:59:15Z"), "45s");
        assert_eq!(at("2026-01-01T23:56:48Z"), "3m12s");
        assert_eq!(at("2026-01-01T23:13:00Z"), "47m");
        assert_eq!(at("2026-01-01T18:57:00Z"), "5h3m");
        assert_eq!(at("2025-12-29T20:00:00Z"), "3d4h");
        assert_eq!(age(&Value::Null, now), "<unknown>");
    }

    #[test]
    fn pod_counts_include_native_sidecars() {
        let pod = json!({
            "spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "istio-proxy", "restartPolicy": "Always"}]},
            "status": {
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 1}],
                "initContainerStatuses": [{"name": "istio-proxy", "ready": true, "started": true, "restartCount": 2}]
            }
        });
        assert_eq!(pod_counts(&pod), (2, 2, 3));
    }

    #[test]
    fn table_is_chosen_only_when_asked_first() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
        assert!(!wants_table(
            "application/json, application/json;as=Table;v=v1;g=meta.k8s.io"
        ));
    }
}
