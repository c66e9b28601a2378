//! `eastwest.down`: the cluster's east-west gateway pods report not ready (so its Deployment
//! has no ready replicas) until the fault is switched off.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::k8s::selector::{FieldSelector, LabelSelector};
use crate::sim::scenario::eastwest::{NAME, NAMESPACE};
use crate::sim::store::{Store, now_rfc3339};
use crate::sim::workloads;

/// Whether a pod (its namespace and labels) belongs to the east-west gateway.
pub fn is_gateway_pod(namespace: &str, labels: &BTreeMap<String, String>) -> bool {
    namespace == NAMESPACE && labels.get("app").is_some_and(|app| app == NAME)
}

/// Sets every running gateway pod's readiness to `ready`.
pub fn set_all(store: &Store, ready: bool) {
    let Ok(selector) = LabelSelector::parse(&format!("app={NAME}")) else {
        return;
    };
    let pods = store.list(
        "pods",
        Some(NAMESPACE),
        &selector,
        &FieldSelector::default(),
        None,
        None,
    );
    for ((_, name), _) in pods.items {
        set_one(store, &name, ready);
    }
}

/// Sets one gateway pod's readiness, when it runs and differs.
pub fn set_one(store: &Store, name: &str, ready: bool) {
    let _ = store.modify("pods", NAMESPACE, name, |pod| {
        let mut pod = pod.clone();
        if pod["status"]["phase"] == "Running" && workloads::is_ready(&pod) != ready {
            mark(&mut pod, ready);
        }
        Ok(pod)
    });
}

fn mark(pod: &mut Value, ready: bool) {
    let status = if ready { "True" } else { "False" };
    let now = now_rfc3339();
    for condition in pod["status"]["conditions"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        if matches!(
            condition["type"].as_str(),
            Some("Ready" | "ContainersReady")
        ) {
            condition["status"] = json!(status);
            condition["lastTransitionTime"] = json!(now);
            if ready {
                if let Some(c) = condition.as_object_mut() {
                    c.remove("reason");
                }
            } else {
                condition["reason"] = json!("ContainersNotReady");
            }
        }
    }
    for container in pod["status"]["containerStatuses"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        container["ready"] = json!(ready);
    }
}
